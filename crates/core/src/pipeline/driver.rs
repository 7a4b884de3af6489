//! The driver: reads documents record by record, unwraps envelopes,
//! applies the skip rules, looks each call up in the catalog, drops
//! duplicates and what lies outside the window, and counts it all.

use super::envelope::{self, Defaults};
use super::extract::{creation, session, tag_change, watched_call};
use super::output::{Found, InputError, SkipReason, Stats, Window};
use super::skip;
use crate::catalog::sessions::{self, SessionEvent};
use crate::catalog::tag_events::{self, TagEvent};
use crate::catalog::watched::{self, Watched};
use crate::catalog::{self, Entry};
use crate::ingest::scan::HeadKey;
use crate::ingest::{self, Decoded, Item, RawRecord, RecordReader};
use crate::record::{FieldError, Record};
use crate::trust::Accounts;
use std::collections::hash_map::DefaultHasher;
use std::collections::HashSet;
use std::fmt;
use std::hash::{Hash, Hasher};
use std::io::{self, Read};

/// `userIdentity.type` of a call an AWS service made for itself.
const SERVICE_IDENTITY: &[u8] = br#""type":"AWSService""#;
/// `userIdentity.invokedBy` of IAM Roles Anywhere's own sessions, which
/// name a certificate: read, where other services' are skipped. Only a
/// hint: the parsed identity decides ([`sessions::SessionEvent::issued`]).
const ROLES_ANYWHERE_CALLER: &[u8] = br#""invokedBy":"rolesanywhere.amazonaws.com""#;

/// Which table knows a record's call.
enum Row {
    Creates(&'static Entry),
    Tags(&'static TagEvent),
    Watched(&'static Watched),
    Session(&'static SessionEvent),
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

/// Runs records through skip rules, the catalog and attribution.
#[derive(Debug, Default)]
pub struct Pipeline {
    window: Window,
    accounts: Accounts,
    /// The account the document being read was written for (a log object's
    /// key): its records must all be that account's.
    vouched: Option<String>,
    /// Hashes of eventIDs of catalogued records seen so far: only those,
    /// so memory grows with creations, not with log size.
    seen: HashSet<u64>,
    stats: Stats,
    /// `stats.records` when the current document began.
    document_start: u64,
    /// Records of the current document settled before: passed over.
    resume_after: u64,
    /// Every this many records of a document, a [`Found::Mark`] (0: never).
    mark_every: u64,
    /// Gzip is inflated on a second thread ([`crate::ingest::decoded_beside`]).
    inflate_beside: bool,
}

impl Pipeline {
    pub fn new(window: Window) -> Self {
        Self {
            window,
            ..Self::default()
        }
    }

    /// Records of accounts outside `accounts` are refused.
    pub fn with_accounts(mut self, accounts: Accounts) -> Self {
        self.accounts = accounts;
        self
    }

    /// Marks every `every` records of a document ([`Found::Mark`]): where
    /// a reader that settles in parts may cut.
    pub fn with_marks(mut self, every: u64) -> Self {
        self.mark_every = every;
        self
    }

    /// Inflates gzip on a thread of its own while this one parses: for a
    /// machine with a core to spare (the CLI), not for a function at 128 MB,
    /// whose share of a core a second thread would only divide.
    pub fn with_inflate_thread(mut self) -> Self {
        self.inflate_beside = true;
        self
    }

    pub fn stats(&self) -> &Stats {
        &self.stats
    }

    /// Records the last document held (those passed over included).
    pub fn document_records(&self) -> u64 {
        self.stats.records - self.document_start
    }

    /// [`Self::read_for`], passing over the first `after` records of the
    /// document: an earlier delivery settled them (its checkpoint). They
    /// are counted as [`SkipReason::Settled`], never classified.
    pub fn read_resuming<R: Read + Send>(
        &mut self,
        origin: &str,
        account: Option<&str>,
        after: u64,
        src: R,
        out: &mut dyn FnMut(Found),
    ) {
        self.resume_after = after;
        self.read_for(origin, account, src, out);
        self.resume_after = 0;
    }

    /// Reads one document (any shape, plain or gzip) and reports what it found.
    pub fn read<R: Read + Send>(&mut self, origin: &str, src: R, out: &mut dyn FnMut(Found)) {
        self.read_for(origin, None, src, out);
    }

    /// [`Self::read`] for a document written for one account (a CloudTrail
    /// object whose key names it, [`crate::trust::log_key_account`]): a
    /// record of any other account in it is refused.
    pub fn read_for<R: Read + Send>(
        &mut self,
        origin: &str,
        account: Option<&str>,
        src: R,
        out: &mut dyn FnMut(Found),
    ) {
        self.vouched = account.map(str::to_string);
        self.read_document(origin, src, out);
        self.vouched = None;
    }

    fn read_document<R: Read + Send>(&mut self, origin: &str, src: R, out: &mut dyn FnMut(Found)) {
        self.stats.documents += 1;
        self.document_start = self.stats.records;
        if self.inflate_beside {
            ingest::decoded_beside(src, |decoded| self.read_decoded(origin, decoded, out))
        } else {
            self.read_decoded(origin, ingest::decoded(src).map(Decoded::Stream), out)
        }
    }

    fn read_decoded(
        &mut self,
        origin: &str,
        decoded: io::Result<Decoded<'_>>,
        out: &mut dyn FnMut(Found),
    ) {
        let mut reader = match decoded {
            Ok(src) => RecordReader::from_decoded(src),
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
        let n = self.document_records();
        if n <= self.resume_after {
            self.skip(SkipReason::Settled);
            return;
        }
        match self.classify(origin, place, rec, defaults, out) {
            Ok(None) => {}
            Ok(Some(Found::Creation(creation))) => {
                self.stats.creations += 1;
                self.stats.resources += creation.resources.len() as u64;
                out(Found::Creation(creation));
            }
            Ok(Some(found)) => {
                match found {
                    Found::TagChange(_) => self.stats.tag_changes += 1,
                    Found::Watched(_) => self.stats.watched += 1,
                    Found::Session(_) => self.stats.sessions += 1,
                    _ => {}
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
        // An envelope's records do not count as the document's own.
        if self.mark_every > 0 && n.is_multiple_of(self.mark_every) && n == self.document_records()
        {
            out(Found::Mark(n));
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
        match rec.raw(HeadKey::EventSource) {
            Some(b"aws:s3") if place.detail => {
                return Err(FieldError::new(
                    "eventSource",
                    "an S3 notification inside an EventBridge event",
                ))
            }
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
        if let Some(why) = skip::reason(rec) {
            self.skip(why);
            return Ok(None);
        }
        if !rec.has(HeadKey::EventSource) && !rec.has(HeadKey::EventName) {
            if !place.detail && place.prefix.is_empty() {
                if let Some(objects) = envelope::map_batch(rec)? {
                    self.skip(SkipReason::MapBatch);
                    for o in objects {
                        out(Found::Fetch(o));
                    }
                    return Ok(None);
                }
            }
            return Err(FieldError::new(
                "record",
                "not CloudTrail: no eventSource or eventName, and not an EventBridge, S3, SQS or Step Functions Map event",
            ));
        }
        // Bytes, not strings: most records stop at the lookup, and catalog
        // keys are ASCII, so a match needs no UTF-8 check.
        let bytes = |k, field| rec.bytes_of(k).ok_or_else(|| FieldError::missing(field));
        let source = bytes(HeadKey::EventSource, "eventSource")?;
        let name = bytes(HeadKey::EventName, "eventName")?;
        let row = match catalog::lookup(&source, &name) {
            Some(entry) => Row::Creates(entry),
            None => match (
                tag_events::lookup(&source, &name),
                watched::lookup(&source, &name),
                sessions::lookup(&source, &name),
            ) {
                (Some(t), ..) => Row::Tags(t),
                (None, Some(w), _) => Row::Watched(w),
                (None, None, Some(s)) => Row::Session(s),
                // A read-only call of a service that issues credentials.
                (None, None, None) if rec.flag(HeadKey::ReadOnly) == Some(true) => {
                    self.skip(SkipReason::ReadOnly);
                    return Ok(None);
                }
                (None, None, None) => {
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
        let record = match row {
            // Found before any parse: CloudTrail writes records compactly,
            // and only a service's own identity has this type.
            Row::Session(_)
                if memchr::memmem::find(rec.bytes, SERVICE_IDENTITY).is_some()
                    && memchr::memmem::find(rec.bytes, ROLES_ANYWHERE_CALLER).is_none() =>
            {
                self.skip(SkipReason::ServiceSession);
                return Ok(None);
            }
            // Rare, and what it says is outside the narrow view.
            Row::Session(s) if s.asker == sessions::Asker::ConsoleSwitch => {
                Record::parse(rec.bytes)?
            }
            Row::Session(_) => Record::parse_session(rec.bytes)?,
            _ => Record::parse(rec.bytes)?,
        };
        let (found, event) = match row {
            Row::Creates(entry) => {
                let c = creation(entry, &record, defaults)?;
                let event = c.event.clone();
                (Found::Creation(Box::new(c)), event)
            }
            Row::Tags(t) => {
                let c = tag_change(t, &record, defaults)?;
                let event = c.event.clone();
                (Found::TagChange(Box::new(c)), event)
            }
            Row::Session(s) => match session(s, &record, defaults)? {
                Some(s) => {
                    let event = s.event.clone();
                    (Found::Session(Box::new(s)), event)
                }
                None => {
                    let service = record
                        .user_identity
                        .as_ref()
                        .is_some_and(|u| u.kind.as_deref() == Some("AWSService"));
                    self.skip(match service {
                        true => SkipReason::ServiceSession,
                        false => SkipReason::NoSession,
                    });
                    return Ok(None);
                }
            },
            Row::Watched(w) => match watched_call(w, &record, defaults)? {
                Some(c) => {
                    let event = c.event.clone();
                    (Found::Watched(Box::new(c)), event)
                }
                None => {
                    self.skip(SkipReason::NotInCatalog);
                    return Ok(None);
                }
            },
        };
        self.speaks_for(&event.account)?;
        let time = event.time;
        if let Some(limit) = self.window.not_after.as_deref() {
            if time.as_str() > limit {
                return Err(FieldError::new(
                    "eventTime",
                    format!("{time} is more than 15 minutes in the future"),
                ));
            }
        }
        // Only a copy that produced something counts as seen: a damaged
        // first copy must not hide a good second one.
        self.seen.insert(id_hash);
        // A session begun before the window may explain a creation in it.
        if !self.window.contains(&time) && !matches!(found, Found::Session(_)) {
            self.skip(SkipReason::OutsideWindow);
            return Ok(None);
        }
        Ok(Some(found))
    }

    /// Whether a record of `account` may be taken from this document.
    fn speaks_for(&self, account: &str) -> Result<(), FieldError> {
        let field = "recipientAccountId";
        if let Some(key) = self.vouched.as_deref().filter(|k| *k != account) {
            return Err(FieldError::new(
                field,
                format!("`{account}` in a log object written for account {key}: refused"),
            ));
        }
        match self.accounts.refusal(account) {
            Some(why) => Err(FieldError::new(field, why)),
            None => Ok(()),
        }
    }

    fn envelope(
        &mut self,
        origin: &str,
        place: Place<'_>,
        rec: &RawRecord<'_>,
        out: &mut dyn FnMut(Found),
    ) -> Result<(), FieldError> {
        match envelope::eventbridge(rec)? {
            None => {
                self.stats.records += 1;
                self.skip(SkipReason::OtherEvent);
            }
            Some((inner, defaults)) => {
                let place = Place {
                    detail: true,
                    ..place
                };
                self.record(origin, place, &inner, &defaults, out);
            }
        }
        Ok(())
    }

    fn s3_notice(
        &mut self,
        rec: &RawRecord<'_>,
        out: &mut dyn FnMut(Found),
    ) -> Result<(), FieldError> {
        let notice = envelope::s3_notice(rec)?;
        self.skip(SkipReason::S3Notification);
        if let Some(o) = envelope::notified_object(notice)? {
            out(Found::Fetch(o));
        }
        Ok(())
    }

    fn sqs_message(
        &mut self,
        origin: &str,
        place: Place<'_>,
        rec: &RawRecord<'_>,
        out: &mut dyn FnMut(Found),
    ) -> Result<(), FieldError> {
        let body = envelope::sqs_body(rec)?;
        let mut reader =
            RecordReader::new(body.as_bytes()).map_err(|e| FieldError::new("body", e))?;
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

/// Convenience for tests and small inputs: everything found in one document.
pub fn read_all(origin: &str, bytes: &[u8]) -> (Vec<Found>, Stats) {
    let mut p = Pipeline::default();
    let mut found = vec![];
    p.read(origin, bytes, &mut |f| found.push(f));
    (found, p.stats().clone())
}
