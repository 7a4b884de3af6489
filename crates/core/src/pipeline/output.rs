//! What reading hands on: creations, tag changes, log objects to fetch and
//! input errors, with the counters of a run and its time window.

use crate::attribution::Creator;
use crate::catalog::tag_events::{TagOp, Tagged};
use crate::catalog::watched::Watched;
use crate::catalog::{Resource, TaggingApi};
use serde::Serialize;
use std::collections::BTreeMap;
use std::fmt;

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
    /// A Step Functions Distributed Map batch (a backfill): it names log
    /// objects too.
    MapBatch,
    /// Settled by an earlier delivery of the same log object (its
    /// checkpoint): passed over, not read again.
    Settled,
    /// Credentials an AWS service asked for, for a role of its own (most of
    /// a trail's `AssumeRole`): no person's session chain begins there, and
    /// the function's rule leaves them out too.
    ServiceSession,
    /// A credential-issuing record that began no one's session: a console
    /// role switch that failed (it carries no `errorCode`).
    NoSession,
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
            Self::MapBatch => "map-batch",
            Self::Settled => "settled",
            Self::ServiceSession => "service-session",
            Self::NoSession => "no-session",
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
    /// The key the call was signed with, which leads back through the
    /// run's session chains ([`crate::chains`]).
    pub access_key: Option<String>,
    /// `userIdentity.sessionContext.sourceIdentity`.
    pub source_identity: Option<String>,
    /// Made from the console (`sessionCredentialFromConsole`): a console
    /// role switch may explain its session ([`crate::chains::Call`]).
    pub console: bool,
    /// When the call's session was created
    /// (`sessionContext.attributes.creationDate`, Unix seconds): which of
    /// the sessions sharing a name it is.
    pub session_created: Option<i64>,
    /// The Identity Center user the call was made for
    /// (`userIdentity.onBehalfOf`).
    pub center_user: Option<crate::chains::CenterUser>,
    /// Resources the call created beside `resources`, with no event of
    /// their own (an instance's network interfaces).
    pub children: Vec<crate::catalog::children::Made>,
    /// Children the response does not name (an instance's volumes), which
    /// the apply stage reads.
    pub unread: Option<crate::catalog::children::Unread>,
}

/// A record that issued credentials: a hop of a session chain
/// ([`crate::chains`]).
#[derive(Debug, Clone)]
pub struct Session {
    pub event: EventInfo,
    pub issued: crate::catalog::sessions::Issued,
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

/// A call that blinds tagwarden ([`crate::catalog::watched`]).
#[derive(Debug, Clone)]
pub struct WatchedCall {
    pub event: EventInfo,
    /// Who made the call.
    pub actor: Creator,
    pub row: &'static Watched,
    /// The trail, rule, queue or function it changed.
    pub target: String,
}

impl WatchedCall {
    /// The alert's line, naming the caller.
    pub fn line(&self) -> String {
        format!(
            "{}: {} {} `{}` by {} (event {}, {}, {} {})",
            self.row.why,
            self.event.source.trim_end_matches(".amazonaws.com"),
            self.event.name,
            self.target,
            self.actor.id,
            self.event.id,
            self.event.time,
            self.event.account,
            self.event.region
        )
    }
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
    /// A call that blinds tagwarden: alerted.
    Watched(Box<WatchedCall>),
    /// Credentials issued: a hop of a session chain.
    Session(Box<Session>),
    Fetch(ObjectRef),
    Error(InputError),
    /// This many records of the document are read: a place a reader that
    /// works in parts may stop at (only with [`super::Pipeline::with_marks`]).
    Mark(u64),
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
    /// Calls that blind tagwarden (trail stopped, its rules changed…).
    pub watched: u64,
    /// Records that issued credentials (session chains).
    pub sessions: u64,
    pub errors: u64,
    pub skipped: BTreeMap<SkipReason, u64>,
}

/// Inclusive bounds on `eventTime`, as `YYYY-MM-DDTHH:MM:SSZ` strings
/// (CloudTrail's own format, which sorts as text).
#[derive(Debug, Clone, Default)]
pub struct Window {
    pub since: Option<String>,
    pub until: Option<String>,
    /// Records dated later are refused as bad input, not skipped: a forged
    /// far-future time would otherwise win every later merge of a
    /// resource's store item. The faces give [`Window::latest`] of now.
    pub not_after: Option<String>,
}

/// How far ahead of the reader's clock an event may be dated (clock skew).
pub const FUTURE_SLACK: jiff::SignedDuration = jiff::SignedDuration::from_mins(15);

/// `eventTime` as the store keeps it: RFC 3339, in UTC, to the second, so
/// that text order is time order whatever offset the record was written in.
pub fn canonical_time(s: &str) -> Option<String> {
    let t: jiff::Timestamp = s.parse().ok()?;
    Some(t.strftime("%Y-%m-%dT%H:%M:%SZ").to_string())
}

impl Window {
    /// The latest event time to accept when the clock says `now`.
    pub fn latest(now: jiff::Timestamp) -> String {
        let t = now.checked_add(FUTURE_SLACK).unwrap_or(now);
        t.strftime("%Y-%m-%dT%H:%M:%SZ").to_string()
    }

    pub(super) fn contains(&self, time: &str) -> bool {
        self.since.as_deref().is_none_or(|s| time >= s)
            && self.until.as_deref().is_none_or(|u| time <= u)
    }
}
