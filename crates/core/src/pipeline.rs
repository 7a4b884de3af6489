//! records → creations: the stage that decides, record by record, whether
//! it created something, and for whom.
//!
//! Cheap checks run on the record's head (a few top-level fields found by
//! the scanner); only records the catalog knows are parsed in full.

use crate::attribution::Creator;
use crate::catalog::tag_events::{self, TagEvent, TagOp, Tagged};
use crate::catalog::{self, Entry, Resource, Scope, TaggingApi};
use crate::ingest::scan::HeadKey;
use crate::ingest::{Item, RawRecord, RecordReader};
use crate::record::{FieldError, Record};
use serde::{Deserialize, Serialize};
use serde_json::value::RawValue;
use std::borrow::Cow;
use std::collections::hash_map::DefaultHasher;
use std::collections::{BTreeMap, HashSet};
use std::fmt;
use std::hash::{Hash, Hasher};
use std::io::Read;

/// Why a record produced no creation. Each is counted.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum SkipReason {
    /// The call failed (`errorCode`): nothing was created.
    ErrorCode,
    ReadOnly,
    /// Data events and other non-management records.
    NotManagement,
    /// Console sign-ins, service events and other non-API records.
    NotApiCall,
    Insight,
    Digest,
    /// An API call the catalog does not know creates a resource.
    NotInCatalog,
    /// An `eventID` already seen in this run.
    Duplicate,
    /// Outside `--since` / `--until`.
    OutsideWindow,
    /// An EventBridge event that is not a CloudTrail API call.
    OtherEvent,
    /// An S3 notification: it names log objects rather than holding records.
    S3Notification,
}

impl SkipReason {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::ErrorCode => "error-code",
            Self::ReadOnly => "read-only",
            Self::NotManagement => "not-management",
            Self::NotApiCall => "not-api-call",
            Self::Insight => "insight",
            Self::Digest => "digest",
            Self::NotInCatalog => "not-in-catalog",
            Self::Duplicate => "duplicate",
            Self::OutsideWindow => "outside-window",
            Self::OtherEvent => "other-event",
            Self::S3Notification => "s3-notification",
        }
    }
}

/// An input problem, placed by file, record and field.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{origin}: {place}: {message}")]
pub struct InputError {
    /// The file, `s3://` object or `-`.
    pub origin: String,
    /// `Records[17].userIdentity.type`, `[3]`, `$`, or `document`.
    pub place: String,
    pub message: String,
}

/// The event a creation came from.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct EventInfo {
    pub id: String,
    pub source: String,
    pub name: String,
    /// `eventTime` verbatim (ISO-8601 UTC).
    pub time: String,
    #[serde(skip)]
    pub region: String,
    #[serde(skip)]
    pub account: String,
    #[serde(skip)]
    pub partition: String,
    #[serde(skip)]
    pub source_ip: Option<String>,
    #[serde(skip)]
    pub user_agent: Option<String>,
}

/// One record that created one or more resources.
#[derive(Debug, Clone)]
pub struct Creation {
    pub event: EventInfo,
    pub creator: Creator,
    pub resource_type: &'static str,
    pub api: TaggingApi,
    pub resources: Vec<Resource>,
    /// Tags set in the create call itself: known without a read.
    pub preset_tags: BTreeMap<String, String>,
}

/// Which table knows a record's call.
enum Row {
    Creates(&'static Entry),
    Tags(&'static TagEvent),
}

/// One record that set or removed tags on existing resources.
#[derive(Debug, Clone)]
pub struct TagChange {
    pub event: EventInfo,
    /// Who made the call.
    pub actor: Creator,
    pub op: TagOp,
    pub resources: Vec<Tagged>,
    /// The tags set (`Set`, `Replace`), or the keys removed with empty
    /// values (`Remove`).
    pub tags: BTreeMap<String, String>,
}

/// A CloudTrail object an S3 notification points at.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ObjectRef {
    pub bucket: String,
    /// URL-decoded, as S3 notifications encode keys.
    pub key: String,
}

impl fmt::Display for ObjectRef {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "s3://{}/{}", self.bucket, self.key)
    }
}

/// What the pipeline hands on.
#[derive(Debug)]
pub enum Found {
    Creation(Box<Creation>),
    /// Tags set or removed on resources that already exist.
    TagChange(Box<TagChange>),
    Fetch(ObjectRef),
    Error(InputError),
}

/// Counters for one run.
#[derive(Debug, Default, Clone, Serialize)]
pub struct Stats {
    pub documents: u64,
    /// Bytes after decompression.
    pub bytes: u64,
    pub records: u64,
    pub creations: u64,
    pub resources: u64,
    /// Calls that set or removed tags on existing resources.
    pub tag_changes: u64,
    pub errors: u64,
    pub skipped: BTreeMap<SkipReason, u64>,
}

/// Inclusive bounds on `eventTime`, as `YYYY-MM-DDTHH:MM:SSZ` strings
/// (CloudTrail's own format, which sorts as text).
#[derive(Debug, Clone, Default)]
pub struct Window {
    pub since: Option<String>,
    pub until: Option<String>,
}

impl Window {
    fn contains(&self, time: &str) -> bool {
        self.since.as_deref().is_none_or(|s| time >= s)
            && self.until.as_deref().is_none_or(|u| time <= u)
    }
}

/// Where a record sits, formatted only when an error needs it:
/// `Records[3]`, `Records[0].body/[2]`, `$.detail`.
#[derive(Debug, Clone, Copy)]
struct Place<'a> {
    /// Non-empty inside an SQS message body: `Records[0].body/`.
    prefix: &'a str,
    position: crate::ingest::Position,
    /// Inside an EventBridge envelope's `detail`.
    detail: bool,
}

impl fmt::Display for Place<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}{}", self.prefix, self.position)?;
        if self.detail {
            f.write_str(".detail")?;
        }
        Ok(())
    }
}

/// Account and region an EventBridge envelope supplies when the record lacks them.
#[derive(Debug, Clone, Default)]
struct Defaults {
    account: Option<String>,
    region: Option<String>,
}

#[derive(Deserialize)]
struct Envelope<'a> {
    #[serde(rename = "detail-type", borrow)]
    detail_type: Cow<'a, str>,
    #[serde(default, borrow)]
    account: Option<Cow<'a, str>>,
    #[serde(default, borrow)]
    region: Option<Cow<'a, str>>,
    #[serde(borrow)]
    detail: Option<&'a RawValue>,
}

#[derive(Deserialize)]
struct S3Notice {
    #[serde(rename = "eventName", default)]
    event_name: String,
    s3: S3Entity,
}
#[derive(Deserialize)]
struct S3Entity {
    bucket: S3Name,
    object: S3Key,
}
#[derive(Deserialize)]
struct S3Name {
    name: String,
}
#[derive(Deserialize)]
struct S3Key {
    key: String,
}

#[derive(Deserialize)]
struct SqsMessage<'a> {
    #[serde(borrow)]
    body: Cow<'a, str>,
}

const API_CALL: &str = "AWS API Call via CloudTrail";

/// The AWS partition for a region, for records without an ARN to read it from.
pub fn partition_of_region(region: &str) -> &'static str {
    const PREFIXES: &[(&str, &str)] = &[
        ("cn-", "aws-cn"),
        ("us-gov-", "aws-us-gov"),
        ("us-isob-", "aws-iso-b"),
        ("us-isof-", "aws-iso-f"),
        ("eu-isoe-", "aws-iso-e"),
        ("us-iso-", "aws-iso"),
    ];
    PREFIXES
        .iter()
        .find(|(p, _)| region.starts_with(p))
        .map_or("aws", |(_, part)| part)
}

/// Runs records through skip rules, the catalog and attribution.
#[derive(Debug, Default)]
pub struct Pipeline {
    window: Window,
    /// Hashes of eventIDs of catalogued records seen so far: only those,
    /// so memory grows with creations, not with log size.
    seen: HashSet<u64>,
    stats: Stats,
}

impl Pipeline {
    pub fn new(window: Window) -> Self {
        Self {
            window,
            ..Self::default()
        }
    }

    pub fn stats(&self) -> &Stats {
        &self.stats
    }

    /// Reads one document (any shape, plain or gzip) and reports what it found.
    pub fn read<R: Read>(&mut self, origin: &str, src: R, out: &mut dyn FnMut(Found)) {
        self.stats.documents += 1;
        let mut reader = match RecordReader::new(src) {
            Ok(r) => r,
            Err(e) => {
                self.error(out, origin, "document", format!("cannot read: {e}"));
                return;
            }
        };
        self.drain(origin, &mut reader, &Defaults::default(), "", out);
        self.stats.bytes += reader.bytes_read();
    }

    fn drain(
        &mut self,
        origin: &str,
        reader: &mut RecordReader<'_>,
        defaults: &Defaults,
        prefix: &str,
        out: &mut dyn FnMut(Found),
    ) {
        while let Some(item) = reader.next_item() {
            match item {
                Item::Record(rec) => {
                    let place = Place {
                        prefix,
                        position: rec.position,
                        detail: false,
                    };
                    self.record(origin, place, &rec, defaults, out)
                }
                Item::Error(e) => {
                    let place = match (prefix, e.position) {
                        (p, None) if !p.is_empty() => p.trim_end_matches('/').to_string(),
                        _ => format!("{prefix}{}", e.place()),
                    };
                    self.error(out, origin, &place, e.kind.to_string());
                }
            }
        }
    }

    fn error(&mut self, out: &mut dyn FnMut(Found), origin: &str, place: &str, message: String) {
        self.stats.errors += 1;
        out(Found::Error(InputError {
            origin: origin.to_string(),
            place: place.to_string(),
            message,
        }));
    }

    fn skip(&mut self, why: SkipReason) {
        *self.stats.skipped.entry(why).or_default() += 1;
    }

    fn record(
        &mut self,
        origin: &str,
        place: Place<'_>,
        rec: &RawRecord<'_>,
        defaults: &Defaults,
        out: &mut dyn FnMut(Found),
    ) {
        self.stats.records += 1;
        match self.classify(origin, place, rec, defaults, out) {
            Ok(None) => {}
            Ok(Some(Found::Creation(creation))) => {
                self.stats.creations += 1;
                self.stats.resources += creation.resources.len() as u64;
                out(Found::Creation(creation));
            }
            Ok(Some(found)) => {
                if matches!(found, Found::TagChange(_)) {
                    self.stats.tag_changes += 1;
                }
                out(found);
            }
            Err(e) => {
                // Places are formatted only here: every record has one,
                // few records need it.
                let place = match e.field.as_str() {
                    "record" => place.to_string(),
                    field => format!("{place}.{field}"),
                };
                self.error(out, origin, &place, e.message);
            }
        }
    }

    /// Decides what one record is (a creation or a tag change); `Ok(None)`
    /// means skipped (and counted).
    fn classify(
        &mut self,
        origin: &str,
        place: Place<'_>,
        rec: &RawRecord<'_>,
        defaults: &Defaults,
        out: &mut dyn FnMut(Found),
    ) -> Result<Option<Found>, FieldError> {
        if rec.has(HeadKey::DetailType) {
            // An envelope inside an envelope is never real, and unbounded
            // nesting would exhaust the stack.
            if place.detail {
                return Err(FieldError::new(
                    "detail-type",
                    "an EventBridge event inside an EventBridge event",
                ));
            }
            self.stats.records -= 1;
            return self.envelope(origin, place, rec, out).map(|()| None);
        }
        if rec.has(HeadKey::DigestStartTime) {
            self.skip(SkipReason::Digest);
            return Ok(None);
        }
        match rec.raw(HeadKey::EventSource) {
            Some(b"aws:s3") => return self.s3_notice(rec, out).map(|()| None),
            Some(b"aws:sqs") => {
                if !place.prefix.is_empty() || place.detail {
                    return Err(FieldError::new(
                        "eventSource",
                        "an SQS message inside another event",
                    ));
                }
                self.stats.records -= 1;
                return self.sqs_message(origin, place, rec, out).map(|()| None);
            }
            _ => {}
        }
        if let Some(t) = rec.raw(HeadKey::EventType) {
            if t == b"AwsCloudTrailInsight" {
                self.skip(SkipReason::Insight);
                return Ok(None);
            }
            if t != b"AwsApiCall" {
                self.skip(SkipReason::NotApiCall);
                return Ok(None);
            }
        }
        if rec
            .raw(HeadKey::ErrorCode)
            .is_some_and(|v| v != b"null" && !v.is_empty())
        {
            self.skip(SkipReason::ErrorCode);
            return Ok(None);
        }
        if rec.flag(HeadKey::ReadOnly) == Some(true) {
            self.skip(SkipReason::ReadOnly);
            return Ok(None);
        }
        if rec.flag(HeadKey::ManagementEvent) == Some(false)
            || rec
                .raw(HeadKey::EventCategory)
                .is_some_and(|c| c != b"Management")
        {
            self.skip(SkipReason::NotManagement);
            return Ok(None);
        }
        if !rec.has(HeadKey::EventSource) && !rec.has(HeadKey::EventName) {
            return Err(FieldError::new(
                "record",
                "not CloudTrail: no eventSource or eventName, and not an EventBridge, S3 or SQS event",
            ));
        }
        // Bytes, not strings: most records stop at the lookup, and catalog
        // keys are ASCII, so a match needs no UTF-8 check.
        let bytes = |k, field| rec.bytes_of(k).ok_or_else(|| FieldError::missing(field));
        let source = bytes(HeadKey::EventSource, "eventSource")?;
        let name = bytes(HeadKey::EventName, "eventName")?;
        let row = match catalog::lookup(&source, &name) {
            Some(entry) => Row::Creates(entry),
            None => match tag_events::lookup(&source, &name) {
                Some(t) => Row::Tags(t),
                None => {
                    self.skip(SkipReason::NotInCatalog);
                    return Ok(None);
                }
            },
        };
        let id = bytes(HeadKey::EventId, "eventID")?;
        if id.is_empty() {
            return Err(FieldError::missing("eventID"));
        }
        let mut h = DefaultHasher::new();
        id.hash(&mut h);
        let id_hash = h.finish();
        if self.seen.contains(&id_hash) {
            self.skip(SkipReason::Duplicate);
            return Ok(None);
        }
        let record = Record::parse(rec.bytes)?;
        let (found, time) = match row {
            Row::Creates(entry) => {
                let c = creation(entry, &record, defaults)?;
                let time = c.event.time.clone();
                (Found::Creation(Box::new(c)), time)
            }
            Row::Tags(t) => {
                let c = tag_change(t, &record, defaults)?;
                let time = c.event.time.clone();
                (Found::TagChange(Box::new(c)), time)
            }
        };
        // Only a copy that produced something counts as seen: a damaged
        // first copy must not hide a good second one.
        self.seen.insert(id_hash);
        if !self.window.contains(&time) {
            self.skip(SkipReason::OutsideWindow);
            return Ok(None);
        }
        Ok(Some(found))
    }

    fn envelope(
        &mut self,
        origin: &str,
        place: Place<'_>,
        rec: &RawRecord<'_>,
        out: &mut dyn FnMut(Found),
    ) -> Result<(), FieldError> {
        let env: Envelope<'_> = serde_json::from_slice(rec.bytes)
            .map_err(|e| FieldError::new("detail", format!("not an EventBridge event: {e}")))?;
        if env.detail_type != API_CALL {
            self.stats.records += 1;
            self.skip(SkipReason::OtherEvent);
            return Ok(());
        }
        let detail = env.detail.ok_or_else(|| FieldError::missing("detail"))?;
        let inner = RawRecord::from_object(rec.position, detail.get().as_bytes())
            .ok_or_else(|| FieldError::new("detail", "not a JSON object"))?;
        let defaults = Defaults {
            account: env.account.map(Cow::into_owned),
            region: env.region.map(Cow::into_owned),
        };
        let place = Place {
            detail: true,
            ..place
        };
        self.record(origin, place, &inner, &defaults, out);
        Ok(())
    }

    fn s3_notice(
        &mut self,
        rec: &RawRecord<'_>,
        out: &mut dyn FnMut(Found),
    ) -> Result<(), FieldError> {
        let n: S3Notice =
            serde_json::from_slice(rec.bytes).map_err(|e| FieldError::new("s3", e))?;
        self.skip(SkipReason::S3Notification);
        // Only new objects are logs to read; removals and the like are not.
        if !n.event_name.starts_with("ObjectCreated:") {
            return Ok(());
        }
        // Notification keys are form-encoded: `+` is a space.
        let plus = n.s3.object.key.replace('+', " ");
        let key = percent_encoding::percent_decode_str(&plus)
            .decode_utf8()
            .map_err(|e| FieldError::new("s3.object.key", format!("not UTF-8 once decoded: {e}")))?
            .into_owned();
        out(Found::Fetch(ObjectRef {
            bucket: n.s3.bucket.name,
            key,
        }));
        Ok(())
    }

    fn sqs_message(
        &mut self,
        origin: &str,
        place: Place<'_>,
        rec: &RawRecord<'_>,
        out: &mut dyn FnMut(Found),
    ) -> Result<(), FieldError> {
        let msg: SqsMessage<'_> =
            serde_json::from_slice(rec.bytes).map_err(|e| FieldError::new("body", e))?;
        let mut reader =
            RecordReader::new(msg.body.as_bytes()).map_err(|e| FieldError::new("body", e))?;
        self.drain(
            origin,
            &mut reader,
            &Defaults::default(),
            &format!("{place}.body/"),
            out,
        );
        Ok(())
    }
}

/// A field's value, unless it is absent or empty.
fn given(s: Option<&str>) -> Option<&str> {
    s.filter(|s| !s.is_empty())
}

/// Where and by whom a fully parsed record's call was made.
fn context<'r>(
    record: &'r Record<'_>,
    defaults: &'r Defaults,
    source: &str,
    name: &str,
) -> Result<(EventInfo, Creator), FieldError> {
    let time = Record::required(&record.event_time, "eventTime")?;
    let region = given(record.aws_region.as_deref())
        .or(given(defaults.region.as_deref()))
        .ok_or_else(|| FieldError::missing("awsRegion"))?;
    let identity = record.user_identity.as_ref();
    let account = given(record.recipient_account_id.as_deref())
        .or(given(defaults.account.as_deref()))
        .or(given(identity.and_then(|i| i.account_id.as_deref())))
        .ok_or_else(|| FieldError::missing("recipientAccountId"))?;
    let partition = identity
        .and_then(|i| i.arn.as_deref())
        .and_then(catalog::arn_partition)
        .unwrap_or_else(|| partition_of_region(region));
    let creator = Creator::from_identity(identity, partition, account);
    let event = EventInfo {
        id: record.event_id.as_deref().unwrap_or_default().to_string(),
        source: source.to_string(),
        name: name.to_string(),
        time: time.to_string(),
        region: region.to_string(),
        account: account.to_string(),
        partition: partition.to_string(),
        source_ip: record.source_ip_address.as_deref().map(str::to_string),
        user_agent: record.user_agent.as_deref().map(str::to_string),
    };
    Ok((event, creator))
}

fn scope(event: &EventInfo) -> Scope<'_> {
    Scope {
        partition: &event.partition,
        region: &event.region,
        account: &event.account,
    }
}

/// Builds the creation from a fully parsed, catalogued record.
fn creation(
    entry: &'static Entry,
    record: &Record<'_>,
    defaults: &Defaults,
) -> Result<Creation, FieldError> {
    let (event, creator) = context(record, defaults, entry.source, entry.name)?;
    let resources = entry
        .resources(record, &scope(&event))
        .map_err(|e| FieldError::new(e.field(), &e))?;
    Ok(Creation {
        event,
        creator,
        resource_type: entry.resource_type,
        api: entry.api,
        resources,
        preset_tags: entry.preset_tags(record),
    })
}

/// Builds the tag change from a fully parsed record of a tag call.
fn tag_change(
    row: &'static TagEvent,
    record: &Record<'_>,
    defaults: &Defaults,
) -> Result<TagChange, FieldError> {
    let (event, actor) = context(record, defaults, row.source, row.name)?;
    let resources = row
        .resources(record, &scope(&event))
        .map_err(|e| FieldError::new(e.field(), &e))?;
    Ok(TagChange {
        event,
        actor,
        op: row.op,
        resources,
        tags: row.tags(record),
    })
}

/// Convenience for tests and small inputs: everything found in one document.
pub fn read_all(origin: &str, bytes: &[u8]) -> (Vec<Found>, Stats) {
    let mut p = Pipeline::default();
    let mut found = vec![];
    p.read(origin, bytes, &mut |f| found.push(f));
    (found, p.stats().clone())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn record(extra: &str) -> String {
        format!(
            r#"{{"eventVersion":"1.08","userIdentity":{{"type":"IAMUser","arn":"arn:aws:iam::111122223333:user/alice","accountId":"111122223333"}},"eventTime":"2026-01-15T10:30:00Z","eventSource":"s3.amazonaws.com","eventName":"CreateBucket","awsRegion":"us-east-1","sourceIPAddress":"203.0.113.9","requestParameters":{{"bucketName":"logs-1"}},"responseElements":null,"eventID":"e1","readOnly":false,"eventType":"AwsApiCall","managementEvent":true,"recipientAccountId":"111122223333","eventCategory":"Management"{extra}}}"#
        )
    }

    fn creations(found: &[Found]) -> Vec<&Creation> {
        found
            .iter()
            .filter_map(|f| match f {
                Found::Creation(c) => Some(&**c),
                _ => None,
            })
            .collect()
    }

    #[test]
    fn a_create_record_becomes_a_creation() {
        let (found, stats) = read_all("t.json", record("").as_bytes());
        let c = creations(&found);
        assert_eq!(c.len(), 1, "{found:?}");
        assert_eq!(c[0].resources[0].arn, "arn:aws:s3:::logs-1");
        assert_eq!(c[0].creator.id, "arn:aws:iam::111122223333:user/alice");
        assert_eq!(stats.resources, 1);
    }

    #[test]
    fn a_tag_call_becomes_a_tag_change_by_its_caller() {
        let put = record("")
            .replace("CreateBucket", "PutBucketTagging")
            .replace(
                r#""requestParameters":{"bucketName":"logs-1"}"#,
                r#""requestParameters":{"bucketName":"logs-1","Tagging":{"TagSet":{"Tag":[{"Key":"Owner","Value":"bob"}]}}}"#,
            );
        let doc = format!("[{put},{put}]");
        let (found, stats) = read_all("t.json", doc.as_bytes());
        let changes: Vec<&TagChange> = found
            .iter()
            .filter_map(|f| match f {
                Found::TagChange(c) => Some(&**c),
                _ => None,
            })
            .collect();
        assert_eq!(
            changes.len(),
            1,
            "the replayed copy is a duplicate: {found:?}"
        );
        assert_eq!(stats.tag_changes, 1);
        assert_eq!(stats.creations, 0);
        let c = changes[0];
        assert_eq!(c.op, TagOp::Replace);
        assert_eq!(c.actor.id, "arn:aws:iam::111122223333:user/alice");
        assert_eq!(c.resources[0].resource.arn, "arn:aws:s3:::logs-1");
        assert_eq!(c.tags.get("Owner").map(String::as_str), Some("bob"));
    }

    #[test]
    fn skips_are_counted_by_reason() {
        let doc = format!(
            "[{},{},{},{}]",
            record(r#","errorCode":"AccessDenied""#).replace("\"e1\"", "\"e2\""),
            record("")
                .replace("CreateBucket", "GetBucketAcl")
                .replace("\"e1\"", "\"e3\""),
            record(""),
            record(""),
        );
        let (found, stats) = read_all("t.json", doc.as_bytes());
        assert_eq!(creations(&found).len(), 1);
        assert_eq!(stats.skipped[&SkipReason::ErrorCode], 1);
        assert_eq!(stats.skipped[&SkipReason::NotInCatalog], 1);
        assert_eq!(stats.skipped[&SkipReason::Duplicate], 1);
    }

    #[test]
    fn eventbridge_envelope_fills_account_and_region() {
        let inner = record("")
            .replace(r#""awsRegion":"us-east-1","#, "")
            .replace(r#""recipientAccountId":"111122223333","#, "");
        let doc = format!(
            r#"{{"version":"0","id":"x","detail-type":"AWS API Call via CloudTrail","source":"aws.s3","account":"444455556666","region":"eu-west-1","detail":{inner}}}"#
        );
        let (found, _) = read_all("eb.json", doc.as_bytes());
        let c = creations(&found);
        assert_eq!(c.len(), 1, "{found:?}");
        assert_eq!(c[0].event.region, "eu-west-1");
        assert_eq!(c[0].event.account, "444455556666");
    }

    #[test]
    fn errors_name_file_record_and_field() {
        let bad = record("").replace(r#""eventTime":"2026-01-15T10:30:00Z","#, "");
        let doc = format!(
            r#"{{"Records":[{},{}]}}"#,
            record(""),
            bad.replace("\"e1\"", "\"e9\"")
        );
        let (found, _) = read_all("f.json", doc.as_bytes());
        let errs: Vec<String> = found
            .iter()
            .filter_map(|f| match f {
                Found::Error(e) => Some(e.to_string()),
                _ => None,
            })
            .collect();
        assert_eq!(errs, ["f.json: Records[1].eventTime: missing or empty"]);
    }

    #[test]
    fn s3_notifications_name_objects_to_fetch() {
        let doc = r#"{"Records":[{"eventVersion":"2.1","eventSource":"aws:s3","eventName":"ObjectCreated:Put","s3":{"bucket":{"name":"trail"},"object":{"key":"AWSLogs/1/CloudTrail/us-east-1/2026/01/15/a+b%3Dc.json.gz"}}}]}"#;
        let (found, stats) = read_all("n.json", doc.as_bytes());
        match &found[..] {
            [Found::Fetch(o)] => assert_eq!(
                o.to_string(),
                "s3://trail/AWSLogs/1/CloudTrail/us-east-1/2026/01/15/a b=c.json.gz"
            ),
            other => panic!("{other:?}"),
        }
        assert_eq!(stats.skipped[&SkipReason::S3Notification], 1);
    }

    #[test]
    fn nested_envelopes_are_refused_not_recursed() {
        let mut doc = record("");
        for _ in 0..2000 {
            doc = format!(r#"{{"detail-type":"AWS API Call via CloudTrail","detail":{doc}}}"#);
        }
        let (found, stats) = read_all("deep.json", doc.as_bytes());
        assert_eq!(stats.errors, 1, "{found:?}");
        assert_eq!(creations(&found).len(), 0);
    }

    #[test]
    fn a_damaged_copy_does_not_hide_the_good_one() {
        let bad = record("").replace(r#""eventTime":"2026-01-15T10:30:00Z","#, "");
        let doc = format!("[{bad},{}]", record(""));
        let (found, stats) = read_all("t.json", doc.as_bytes());
        assert_eq!(creations(&found).len(), 1, "{found:?}");
        assert_eq!(stats.errors, 1);
        assert!(!stats.skipped.contains_key(&SkipReason::Duplicate));
    }

    #[test]
    fn empty_region_and_account_fall_back_to_the_envelope() {
        let inner = record("")
            .replace(r#""awsRegion":"us-east-1""#, r#""awsRegion":"""#)
            .replace(
                r#""recipientAccountId":"111122223333""#,
                r#""recipientAccountId":"""#,
            );
        let doc = format!(
            r#"{{"detail-type":"AWS API Call via CloudTrail","account":"444455556666","region":"eu-west-1","detail":{inner}}}"#
        );
        let (found, _) = read_all("eb.json", doc.as_bytes());
        let c = creations(&found);
        assert_eq!(c.len(), 1, "{found:?}");
        assert_eq!(
            (c[0].event.region.as_str(), c[0].event.account.as_str()),
            ("eu-west-1", "444455556666")
        );
    }

    #[test]
    fn only_created_objects_are_fetched() {
        let doc = r#"{"Records":[{"eventSource":"aws:s3","eventName":"ObjectRemoved:Delete","s3":{"bucket":{"name":"t"},"object":{"key":"a.json.gz"}}},
            {"eventSource":"aws:s3","eventName":"ObjectCreated:Put","s3":{"bucket":{"name":"t"},"object":{"key":"bad%E2%82.json.gz"}}}]}"#;
        let (found, stats) = read_all("n.json", doc.as_bytes());
        assert!(
            found.iter().all(|f| !matches!(f, Found::Fetch(_))),
            "{found:?}"
        );
        assert_eq!(
            stats.errors, 1,
            "an undecodable key is an error, not a guess"
        );
    }

    #[test]
    fn partitions_come_from_regions_when_no_arn_says() {
        assert_eq!(partition_of_region("cn-north-1"), "aws-cn");
        assert_eq!(partition_of_region("us-gov-west-1"), "aws-us-gov");
        assert_eq!(partition_of_region("us-isob-east-1"), "aws-iso-b");
        assert_eq!(partition_of_region("us-iso-east-1"), "aws-iso");
        assert_eq!(partition_of_region("eu-west-1"), "aws");
    }
}
