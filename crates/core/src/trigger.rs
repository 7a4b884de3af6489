//! Lambda payload → what the function does with it: the design's dispatch
//! table, decided on the payload's shape and its claimed source. Pure, so
//! the handler stays a thin shell and every shape is tested here. A payload
//! that fits no row is refused with why, before anything is read or written.

use crate::attribution::{Creator, IdentityType};
use crate::catalog::{self, tag_events, Resource as Created, Scope};
use crate::pipeline::{Creation, EventInfo};
use crate::trust::Accounts;
use serde_json::Value;
use std::collections::BTreeMap;

/// What one invocation (or one SQS message) asks for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Trigger {
    /// CloudTrail to attribute: S3 `ObjectCreated` notifications for the
    /// trail bucket's log keys, the backfill's Distributed Map batches of
    /// them, or EventBridge `AWS API Call via CloudTrail` events from the
    /// event queue. The pipeline reads the payload as it is.
    Attribute,
    /// An EC2 instance state change: check that instance
    /// ([`crate::subjects`]).
    Check,
    /// A scheduled event: scan the account and region it fired in.
    Scan { account: String, region: String },
    /// An SQS batch: each body is a trigger of its own, and failures are
    /// reported per message (`batchItemFailures`).
    SqsBatch(Vec<Message>),
    /// Direct invocation: tag one resource on a user's behalf.
    Direct(Direct),
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Message {
    pub id: String,
    pub body: String,
    /// `attributes.SentTimestamp` (ms since the epoch): the same on every
    /// redelivery, so what the message stands for keeps one time.
    pub sent_ms: Option<i64>,
    /// How many times the function sent this delivery back to wait for
    /// resources being created ([`crate::waiting::ATTEMPT_ATTRIBUTE`]); 0
    /// for the first delivery.
    pub attempt: u32,
    /// The first delivery's (id, time), on a delivery that came back.
    pub origin: Option<(String, String)>,
}

/// `{"resource_arn", "user"}` and nothing else: an invoker may assert who
/// created a resource, never choose other tags or values.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Direct {
    pub resource_arn: String,
    /// Who the resource is attributed to: an IAM or STS ARN
    /// ([`crate::trust::principal`]).
    pub user: String,
}

/// The event name a direct invocation is recorded under.
pub const DIRECT_EVENT: &str = "TagResourceOnRequest";

impl Direct {
    /// The creation this invocation stands for: `user` as the creator and
    /// the invocation as the event. `event_id` should come from the payload
    /// itself, so that a replay is the same event and is recorded once;
    /// `home` fills what an ARN leaves empty. Both the user and the
    /// resource must be of accounts in scope.
    pub fn creation(
        &self,
        home: &Scope<'_>,
        accounts: &Accounts,
        event_id: &str,
        time: &str,
    ) -> Result<Creation, String> {
        crate::trust::principal(&self.user, accounts)
            .map_err(|e| format!("direct invocation: {e}"))?;
        let arn = self.resource_arn.clone();
        let resource_type = tag_events::type_of_arn(&arn);
        let (resource_type, api) = catalog::resource_type(&resource_type).ok_or_else(|| {
            format!(
                "direct invocation: {arn}: resource type `{resource_type}` is not in the catalog"
            )
        })?;
        let fields: Vec<&str> = arn.splitn(6, ':').collect();
        let field = |n: usize, or: &str| match fields.get(n) {
            Some(f) if !f.is_empty() => f.to_string(),
            _ => or.to_string(),
        };
        let (partition, region, account) = (
            field(1, home.partition),
            field(3, home.region),
            field(4, home.account),
        );
        if let Some(why) = accounts.refusal(&account) {
            return Err(format!("direct invocation: {arn}: {why}"));
        }
        let kind = IdentityType::of_arn(&self.user);
        Ok(Creation {
            event: EventInfo {
                id: event_id.to_string(),
                source: "tagwarden".into(),
                name: DIRECT_EVENT.into(),
                time: time.to_string(),
                region: region.clone(),
                account: account.clone(),
                partition,
                source_ip: None,
                user_agent: None,
            },
            creator: Creator {
                id: self.user.clone(),
                kind,
                invoked_by: None,
                role: None,
                session: None,
                account: None,
            },
            resource_type,
            api,
            resources: vec![Created {
                arn,
                account,
                region,
            }],
            preset_tags: BTreeMap::new(),
            // An invoker's word: no session to trace.
            access_key: None,
            source_identity: None,
            console: false,
            session_created: None,
            center_user: None,
            children: Vec::new(),
            unread: None,
        })
    }
}

const API_CALL: &str = "AWS API Call via CloudTrail";
/// A console role switch's delivery: read as a session hop.
pub const CONSOLE_SIGN_IN: &str = "AWS Console Sign In via CloudTrail";
const SCHEDULED: &str = "Scheduled Event";

fn text<'v>(v: &'v Value, key: &str) -> Option<&'v str> {
    v.get(key).and_then(Value::as_str)
}

/// An EventBridge event's own `time`: the same on every redelivery.
pub fn event_time(payload: &[u8]) -> Option<String> {
    let v: Value = serde_json::from_slice(payload).ok()?;
    text(&v, "time").map(str::to_string)
}

/// What the function trusts beside a payload's shape.
#[derive(Debug, Clone, Copy, Default)]
pub struct Gate<'a> {
    /// The bucket CloudTrail writes to: a notification for any other is
    /// refused, as only the trail's bucket (whose policy lets no one else
    /// write) speaks for CloudTrail. Unset, every bucket is read.
    pub trail_bucket: Option<&'a str>,
}

/// Decides what an invocation's `payload` asks for; `Err` says why it fits
/// no row. CloudTrail records themselves, bare or in an EventBridge
/// envelope, are refused here: anyone allowed to invoke the function could
/// write them, while the template's rules deliver them through the event
/// queue, whose policy admits no one else.
pub fn classify(payload: &[u8], gate: Gate<'_>) -> Result<Trigger, String> {
    let v = object(payload)?;
    if let Some(records) = v.get("Records").and_then(Value::as_array) {
        return match records_source(records)? {
            "aws:sqs" => messages(records).map(Trigger::SqsBatch),
            "aws:s3" => s3_notification(records, gate),
            s if s.ends_with(".amazonaws.com") => Err(format!(
                "CloudTrail records (`{s}`) are taken only from the trail bucket's logs and the event queue"
            )),
            s => Err(format!(
                "Records[0].eventSource `{s}` is not a trigger of this function"
            )),
        };
    }
    if let Some(kind) = text(&v, "detail-type") {
        if kind == API_CALL {
            return Err(format!(
                "`{API_CALL}` events are taken only from the event queue, where the template's rules deliver them"
            ));
        }
        return eventbridge(&v, kind);
    }
    if v.get("eventVersion").is_some() && v.get("eventSource").is_some() {
        return Err(
            "a CloudTrail record is taken only from the trail bucket's logs and the event queue"
                .into(),
        );
    }
    if v.get("Items").is_some() && v.get("BatchInput").is_some() {
        return map_batch(&v, gate);
    }
    if v.get("resource_arn").is_some() || v.get("user").is_some() {
        return direct(&v).map(Trigger::Direct);
    }
    Err("neither an S3, SQS or EventBridge event nor a direct invocation".into())
}

/// The batch's messages to attribute together, and the rest, each run
/// alone: EventBridge `AWS API Call via CloudTrail` events the gate takes,
/// on their first delivery. A delivery that came back runs alone, narrowed
/// to what still waits; so do notifications, whose logs are read in parts
/// of their own, and anything refused.
pub fn together(messages: Vec<Message>, gate: Gate<'_>) -> (Vec<Message>, Vec<Message>) {
    messages.into_iter().partition(|m| {
        let body = m.body.as_bytes();
        m.attempt == 0
            && matches!(classify_message(body, gate), Ok(Trigger::Attribute))
            && serde_json::from_slice::<Value>(body)
                .is_ok_and(|v| text(&v, "detail-type") == Some(API_CALL))
    })
}

/// Decides what one SQS message asks for: only an EventBridge event from an
/// `aws.*` source, or an S3 notification for the trail bucket, which is
/// what the template's rules and the function itself put on the queue.
/// Anything else is refused, whoever managed to send it.
pub fn classify_message(body: &[u8], gate: Gate<'_>) -> Result<Trigger, String> {
    let only = "only EventBridge events from `aws.*` sources and S3 notifications for the trail bucket are taken from the queue";
    let v = object(body)?;
    if let Some(records) = v.get("Records").and_then(Value::as_array) {
        return match records_source(records)? {
            "aws:s3" => s3_notification(records, gate),
            "aws:sqs" => Err("an SQS batch inside an SQS message".into()),
            s => Err(format!("Records[0].eventSource `{s}`: {only}")),
        };
    }
    match text(&v, "detail-type") {
        Some(kind) if text(&v, "source").is_some_and(|s| s.starts_with("aws.")) => match kind {
            API_CALL => Ok(Trigger::Attribute),
            CONSOLE_SIGN_IN if text(&v, "source") == Some("aws.signin") => Ok(Trigger::Attribute),
            _ => eventbridge(&v, kind),
        },
        Some(_) => Err(format!(
            "source `{}`: {only}",
            text(&v, "source").unwrap_or_default()
        )),
        None => Err(only.into()),
    }
}

fn object(payload: &[u8]) -> Result<Value, String> {
    let v: Value = serde_json::from_slice(payload).map_err(|e| format!("not a JSON event: {e}"))?;
    match v.is_object() {
        true => Ok(v),
        false => Err("not a JSON object".into()),
    }
}

/// EventBridge events other than API calls: state changes and schedules.
fn eventbridge(v: &Value, kind: &str) -> Result<Trigger, String> {
    let source = text(v, "source").unwrap_or_default();
    match (kind, source) {
        (crate::subjects::STATE_CHANGE, "aws.ec2") => Ok(Trigger::Check),
        (SCHEDULED, "aws.events") => match (text(v, "account"), text(v, "region")) {
            (Some(a), Some(r)) => Ok(Trigger::Scan {
                account: a.into(),
                region: r.into(),
            }),
            _ => Err("scheduled event without account or region".into()),
        },
        _ => Err(format!(
            "detail-type `{kind}` from source `{source}` is not a trigger of this function"
        )),
    }
}

/// The one `eventSource` all of `records` share.
fn records_source(records: &[Value]) -> Result<&str, String> {
    fn source(r: &Value) -> &str {
        text(r, "eventSource").unwrap_or_default()
    }
    let first = records
        .first()
        .map(source)
        .ok_or_else(|| "`Records` is empty".to_string())?;
    if let Some((n, other)) = records
        .iter()
        .map(source)
        .enumerate()
        .find(|(_, s)| *s != first)
    {
        return Err(format!(
            "Records[{n}].eventSource `{other}` differs from Records[0]'s `{first}`"
        ));
    }
    Ok(first)
}

/// S3 notifications are taken for the trail bucket only, decided here so
/// that a foreign one is refused for good rather than retried.
fn s3_notification(records: &[Value], gate: Gate<'_>) -> Result<Trigger, String> {
    let Some(trail) = gate.trail_bucket else {
        return Ok(Trigger::Attribute);
    };
    for (n, r) in records.iter().enumerate() {
        let bucket = r
            .get("s3")
            .and_then(|s| s.get("bucket"))
            .and_then(|b| text(b, "name"))
            .ok_or_else(|| format!("Records[{n}].s3.bucket.name is missing"))?;
        if bucket != trail {
            return Err(format!(
                "Records[{n}]: an S3 notification for bucket `{bucket}`, not the trail bucket `{trail}`"
            ));
        }
    }
    Ok(Trigger::Attribute)
}

/// A Distributed Map batch of log objects: read as S3 notifications are,
/// and only from the trail bucket.
fn map_batch(v: &Value, gate: Gate<'_>) -> Result<Trigger, String> {
    let bucket = v
        .get("BatchInput")
        .and_then(|b| text(b, "Bucket"))
        .ok_or("BatchInput.Bucket is missing")?;
    match gate.trail_bucket {
        Some(trail) if trail != bucket => Err(format!(
            "a Map batch for bucket `{bucket}`, not the trail bucket `{trail}`"
        )),
        _ => Ok(Trigger::Attribute),
    }
}

fn messages(records: &[Value]) -> Result<Vec<Message>, String> {
    records
        .iter()
        .enumerate()
        .map(|(n, r)| {
            Ok(Message {
                id: text(r, "messageId")
                    .ok_or_else(|| format!("Records[{n}].messageId is missing"))?
                    .into(),
                body: text(r, "body")
                    .ok_or_else(|| format!("Records[{n}].body is missing"))?
                    .into(),
                sent_ms: r
                    .get("attributes")
                    .and_then(|a| text(a, "SentTimestamp"))
                    .and_then(|t| t.parse().ok()),
                attempt: attribute(r, crate::waiting::ATTEMPT_ATTRIBUTE)
                    .and_then(|t| t.parse().ok())
                    .unwrap_or(0),
                origin: attribute(r, crate::waiting::ORIGIN_ID_ATTRIBUTE)
                    .zip(attribute(r, crate::waiting::ORIGIN_TIME_ATTRIBUTE))
                    .map(|(id, at)| (id.to_string(), at.to_string())),
            })
        })
        .collect()
}

/// An SQS record's string message attribute.
fn attribute<'v>(record: &'v Value, name: &str) -> Option<&'v str> {
    text(record.get("messageAttributes")?.get(name)?, "stringValue")
}

fn direct(v: &Value) -> Result<Direct, String> {
    let fields = v.as_object().map(|o| o.keys()).into_iter().flatten();
    if let Some(other) = fields
        .into_iter()
        .find(|k| !matches!(k.as_str(), "resource_arn" | "user"))
    {
        return Err(format!(
            "direct invocation: `{other}` is not taken: give `resource_arn` and `user` only"
        ));
    }
    let user = text(v, "user")
        .filter(|u| !u.is_empty())
        .ok_or("direct invocation: `user` is missing")?
        .to_string();
    let resource_arn = text(v, "resource_arn")
        .filter(|a| a.starts_with("arn:"))
        .ok_or("direct invocation: `resource_arn` must be an ARN")?
        .to_string();
    Ok(Direct { resource_arn, user })
}

#[cfg(test)]
mod tests {

    #[test]
    fn a_batch_attributes_its_first_api_call_events_together() {
        let message = |id: &str, attempt: u32, body: serde_json::Value| Message {
            id: id.into(),
            body: body.to_string(),
            sent_ms: None,
            attempt,
            origin: None,
        };
        let event = serde_json::json!({"version": "0", "id": "e", "detail-type": API_CALL,
            "source": "aws.ec2", "account": "111122223333", "region": "us-east-1",
            "time": "2026-01-15T10:30:00Z", "resources": [], "detail": {}});
        let notification = serde_json::json!({"Records": [{"eventSource": "aws:s3",
            "eventName": "ObjectCreated:Put", "s3": {"bucket": {"name": "trail"},
            "object": {"key": "AWSLogs/1/CloudTrail/us-east-1/2026/01/15/a.json.gz"}}}]});
        let forged = serde_json::json!({"resource_arn": "arn:aws:s3:::b", "user": "x"});
        let batch = vec![
            message("first", 0, event.clone()),
            message("again", 1, event.clone()),
            message("log", 0, notification),
            message("forged", 0, forged),
            message("second", 0, event),
        ];
        let gate = Gate {
            trail_bucket: Some("trail"),
        };
        let (together, alone) = together(batch, gate);
        let ids = |m: &[Message]| m.iter().map(|m| m.id.clone()).collect::<Vec<_>>();
        assert_eq!(ids(&together), ["first", "second"]);
        assert_eq!(ids(&alone), ["again", "log", "forged"]);
    }
    use super::*;
    use std::path::PathBuf;

    fn fixture(name: &str) -> Vec<u8> {
        let p = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
            .join("../../../shared/fixtures/lambda-events")
            .join(name);
        std::fs::read(&p).unwrap_or_else(|e| panic!("{}: {e}", p.display()))
    }

    const ANY: Gate<'static> = Gate { trail_bucket: None };

    #[test]
    fn the_public_samples_land_on_their_rows() {
        assert_eq!(
            classify(&fixture("example-s3-event.json"), ANY),
            Ok(Trigger::Attribute)
        );
        // A bare CloudTrail record, as CloudWatch Logs holds it: anyone
        // could have written it, so it enters neither way.
        let bare = fixture("example-cloudwatch-cloudtrail-assumed-role.json");
        assert!(classify(&bare, ANY).is_err());
        assert!(classify_message(&bare, ANY).is_err());
        assert_eq!(
            classify(&fixture("example-eventbridge-schedule.json"), ANY),
            Ok(Trigger::Scan {
                account: "123456789012".into(),
                region: "us-east-1".into()
            })
        );
        let Ok(Trigger::SqsBatch(messages)) = classify(&fixture("example-sqs-event.json"), ANY)
        else {
            panic!("an SQS batch")
        };
        assert_eq!(messages[0].id, "MessageID_1");
        assert_eq!(messages[0].body, "Message Body");
        assert_eq!(messages[0].sent_ms, Some(1520621625029));
        assert_eq!(messages[0].attempt, 0);
        assert_eq!(messages[0].origin, None);
        let waited = br#"{"Records":[{"eventSource":"aws:sqs","messageId":"m","body":"{}","messageAttributes":{"tagwarden-attempt":{"stringValue":"3","dataType":"Number"},"tagwarden-origin-id":{"stringValue":"req-1","dataType":"String"},"tagwarden-origin-time":{"stringValue":"2026-11-20T10:00:00Z","dataType":"String"}}}]}"#;
        let Ok(Trigger::SqsBatch(messages)) = classify(waited, ANY) else {
            panic!("an SQS batch")
        };
        assert_eq!(messages[0].attempt, 3);
        assert_eq!(
            messages[0].origin,
            Some(("req-1".into(), "2026-11-20T10:00:00Z".into()))
        );
    }

    #[test]
    fn state_changes_api_calls_and_direct_invocations() {
        let change = br#"{"detail-type":"EC2 Instance State-change Notification","source":"aws.ec2","account":"1","region":"r","detail":{"instance-id":"i-1","state":"running"}}"#;
        assert_eq!(classify(change, ANY), Ok(Trigger::Check));
        assert_eq!(classify_message(change, ANY), Ok(Trigger::Check));
        let call =
            br#"{"detail-type":"AWS API Call via CloudTrail","source":"aws.ec2","detail":{}}"#;
        assert_eq!(classify_message(call, ANY), Ok(Trigger::Attribute));
        let d = classify(
            br#"{"resource_arn":"arn:aws:s3:::b","user":"arn:aws:iam::111122223333:user/alice"}"#,
            ANY,
        );
        assert_eq!(
            d,
            Ok(Trigger::Direct(Direct {
                resource_arn: "arn:aws:s3:::b".into(),
                user: "arn:aws:iam::111122223333:user/alice".into(),
            }))
        );
    }

    /// Who may speak: CloudTrail itself never invokes the function, and the
    /// queue carries only what the template's rules and S3 put there.
    #[test]
    fn forged_records_and_strangers_are_refused_where_they_enter() {
        let record = br#"{"eventVersion":"1.08","eventSource":"ec2.amazonaws.com","eventName":"RunInstances","eventID":"x"}"#;
        let log = br#"{"Records":[{"eventVersion":"1.08","eventSource":"ec2.amazonaws.com"}]}"#;
        let call =
            br#"{"detail-type":"AWS API Call via CloudTrail","source":"aws.ec2","detail":{}}"#;
        let direct =
            br#"{"resource_arn":"arn:aws:s3:::b","user":"arn:aws:iam::111122223333:user/a"}"#;
        let forged_source =
            br#"{"detail-type":"AWS API Call via CloudTrail","source":"my.app","detail":{}}"#;
        for (payload, why) in [
            (&record[..], "taken only from the trail bucket"),
            (log, "taken only from the trail bucket"),
            (call, "taken only from the event queue"),
        ] {
            let e = classify(payload, ANY).unwrap_err();
            assert!(e.contains(why), "{e} should say {why}");
        }
        for (body, why) in [
            (&record[..], "only EventBridge events"),
            (log, "`ec2.amazonaws.com`: only EventBridge events"),
            (direct, "only EventBridge events"),
            (forged_source, "source `my.app`: only EventBridge events"),
        ] {
            let e = classify_message(body, ANY).unwrap_err();
            assert!(e.contains(why), "{e} should say {why}");
        }
    }

    #[test]
    fn only_the_trail_buckets_notifications_are_taken() {
        let notice = |bucket: &str| {
            format!(
                r#"{{"Records":[{{"eventSource":"aws:s3","s3":{{"bucket":{{"name":"trail"}},"object":{{"key":"k"}}}}}},{{"eventSource":"aws:s3","s3":{{"bucket":{{"name":"{bucket}"}},"object":{{"key":"k"}}}}}}]}}"#
            )
        };
        let gate = Gate {
            trail_bucket: Some("trail"),
        };
        for classify in [classify, classify_message] {
            assert_eq!(
                classify(notice("trail").as_bytes(), gate),
                Ok(Trigger::Attribute)
            );
            let e = classify(notice("elsewhere").as_bytes(), gate).unwrap_err();
            assert!(
                e.contains("Records[1]") && e.contains("`elsewhere`, not the trail bucket"),
                "{e}"
            );
            assert_eq!(
                classify(notice("elsewhere").as_bytes(), ANY),
                Ok(Trigger::Attribute)
            );
        }
    }

    #[test]
    fn a_map_batch_is_taken_for_the_trail_bucket_only_and_never_from_the_queue() {
        let batch = |bucket: &str| {
            format!(
                r#"{{"Items":[{{"Key":"AWSLogs/1/CloudTrail/r/2026/01/15/a.json.gz","Size":1}}],"BatchInput":{{"Bucket":"{bucket}"}}}}"#
            )
        };
        let gate = Gate {
            trail_bucket: Some("trail"),
        };
        assert_eq!(
            classify(batch("trail").as_bytes(), gate),
            Ok(Trigger::Attribute)
        );
        let e = classify(batch("elsewhere").as_bytes(), gate).unwrap_err();
        assert!(e.contains("`elsewhere`, not the trail bucket"), "{e}");
        assert!(classify(br#"{"Items":[],"BatchInput":{}}"#, gate).is_err());
        assert!(classify_message(batch("trail").as_bytes(), gate).is_err());
    }

    const HOME: Scope<'static> = Scope {
        partition: "aws",
        region: "eu-west-1",
        account: "111122223333",
    };

    #[test]
    fn a_direct_invocation_is_a_creation_by_its_user() {
        let scope = Accounts::only(["111122223333"]);
        let d = |arn: &str, user: &str| Direct {
            resource_arn: arn.into(),
            user: user.into(),
        };
        let alice = "arn:aws:iam::111122223333:user/alice";
        let c = d("arn:aws:ec2:eu-west-1:111122223333:instance/i-0abc", alice)
            .creation(&HOME, &scope, "direct-1", "2026-12-01T10:00:00Z")
            .unwrap();
        assert_eq!(c.resource_type, "ec2:instance");
        assert_eq!(c.creator.id, alice);
        assert_eq!(c.creator.kind, IdentityType::IAMUser);
        assert_eq!(
            (c.event.id.as_str(), c.event.name.as_str()),
            ("direct-1", DIRECT_EVENT)
        );

        let c = d("arn:aws-cn:s3:::bucket-1", alice)
            .creation(&HOME, &scope, "direct-2", "t")
            .unwrap();
        assert_eq!(c.resource_type, "s3:bucket");
        // What the ARN leaves empty comes from the function's home; the
        // partition from the ARN.
        assert_eq!(
            (c.event.partition.as_str(), c.resources[0].region.as_str()),
            ("aws-cn", "eu-west-1")
        );

        for (arn, user, why) in [
            (
                "arn:aws:example:eu-west-1:111122223333:widget/x",
                alice,
                "not in the catalog",
            ),
            ("arn:aws:s3:::b", "bob", "`user` `bob`: not an ARN"),
            (
                "arn:aws:s3:::b",
                "arn:aws:iam::999988887777:user/m",
                "outside the accounts in scope",
            ),
            (
                "arn:aws:ec2:eu-west-1:999988887777:instance/i-1",
                alice,
                "instance/i-1: account `999988887777` is outside",
            ),
        ] {
            let e = d(arn, user).creation(&HOME, &scope, "x", "t").unwrap_err();
            assert!(e.contains(why), "{e} should say {why}");
        }
    }

    #[test]
    fn what_fits_no_row_is_refused_with_why() {
        for (payload, why) in [
            (&br#"{"detail-type":"Scheduled Event","source":"my.app","account":"1","region":"r"}"#[..], "source `my.app`"),
            (br#"{"detail-type":"EC2 Instance State-change Notification","source":"evil"}"#, "source `evil`"),
            (br#"{"Records":[{"eventSource":"aws:s3"},{"eventSource":"aws:sqs"}]}"#, "Records[1].eventSource"),
            (br#"{"Records":[{"eventSource":"aws:sns"}]}"#, "aws:sns"),
            (br#"{"resource_arn":"arn:aws:s3:::b"}"#, "`user`"),
            (br#"{"resource_arn":"b","user":"u"}"#, "must be an ARN"),
            (br#"{"resource_arn":"arn:aws:s3:::b","user":"u","tags":{"Owner":"x"}}"#, "`tags` is not taken"),
            (br#"{"resource_id":"i-1","user":"u"}"#, "`resource_id` is not taken"),
            (br#"{"hello":1}"#, "neither"),
            (b"[1]", "not a JSON object"),
            (b"{", "not a JSON event"),
        ] {
            let e = classify(payload, ANY).unwrap_err();
            assert!(e.contains(why), "{e} should say {why}");
        }
    }
}
