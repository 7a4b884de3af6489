//! What the store holds: one item per resource, its tag history, and the
//! principals' actions. Both back ends keep exactly these shapes.

use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

pub type PlainTags = BTreeMap<String, String>;

/// The CloudTrail event an entry comes from.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
pub struct EventRef {
    /// `eventTime` verbatim (ISO-8601 UTC, so it sorts as text).
    pub time: String,
    pub id: String,
    pub source: String,
    pub name: String,
}

impl EventRef {
    /// Events order by time, then id: the order every merge agrees on.
    fn order(&self) -> (&str, &str) {
        (&self.time, &self.id)
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Creator {
    pub arn: String,
    #[serde(rename = "type")]
    pub kind: String,
    pub invoked_by: Option<String>,
    /// Who began the session chain behind `arn`, when someone else did.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub origin: Option<tagwarden_core::chains::Origin>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub source_identity: Option<String>,
    /// The group or stack a service launched the resource for: what a
    /// later run's launches by this resource are credited through.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub launched_by: Option<tagwarden_core::launches::LaunchedBy>,
}

impl From<Creator> for tagwarden_core::plan::CreatorSummary {
    /// The creator as a plan shows it, chain and parent included, so that
    /// a retry records the creator it was first recorded with.
    fn from(c: Creator) -> Self {
        let kind = tagwarden_core::attribution::IdentityType::parse(&c.kind);
        Self {
            origin: c.origin,
            source_identity: c.source_identity,
            launched_by: c.launched_by,
            ..Self::of(c.arn, kind, c.invoked_by)
        }
    }
}

impl Creator {
    /// Who answers for the resource: its parent's creator for a service's
    /// launch (`None` while unknown), else `arn`.
    pub fn responsible(&self) -> Option<&str> {
        match &self.launched_by {
            Some(l) => l.creator.as_deref(),
            None => Some(&self.arn),
        }
    }
}

/// How tagwarden last left a resource. Later states of the same event win:
/// a replay that finds the tags in place does not undo "tagged".
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum State {
    /// A dry run planned tags; nothing was written.
    Planned,
    /// The resource refuses tags while it is being created: tried again
    /// later, then `tagged` or `failed`; `pending` holds what to write.
    Pending,
    /// The write failed; `pending` holds what is still to write.
    Failed,
    /// AWS's 50-tag limit left no room.
    Full,
    /// Every planned tag was already there.
    AlreadyTagged,
    /// tagwarden wrote the tags.
    Tagged,
}

impl State {
    /// Tried and not done: the later of two tries of one event says more
    /// (a throttled try, then one that waits; a wait, then its last try).
    pub fn unsettled(self) -> bool {
        matches!(self, State::Pending | State::Failed)
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Self::Planned => "planned",
            Self::Pending => "pending",
            Self::Failed => "failed",
            Self::Full => "full",
            Self::AlreadyTagged => "already_tagged",
            Self::Tagged => "tagged",
        }
    }
}

/// Why a write failed, as the apply stage classified it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct WriteError {
    /// `not_found`, `throttled`, `permission`, … (the apply stage's kinds).
    pub kind: String,
    pub message: String,
}

/// TagsMetadata: one item per resource ARN.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Metadata {
    pub arn: String,
    pub resource_type: String,
    pub account: String,
    pub region: String,
    /// Current tags as far as tagwarden knows; `None` until it read them.
    pub tags: Option<PlainTags>,
    pub creator: Option<Creator>,
    /// The creation event.
    pub created: Option<EventRef>,
    /// The latest event tagwarden handled for this resource.
    pub last_event: EventRef,
    pub state: State,
    /// Tags planned but not yet written (planned or failed); what
    /// `apply --retry-failed` writes.
    #[serde(default)]
    pub pending: PlainTags,
    pub error: Option<WriteError>,
    /// Protected keys whose current value tagwarden wrote (design.md: "Who
    /// owns a tag value"): another writer's change to one is undone.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub owned: BTreeMap<String, Owned>,
    /// When this item last changed (RFC 3339).
    pub updated_at: String,
}

/// A protected key's value tagwarden wrote, and the event time since which
/// it holds: a tag change no newer than that is history, not tampering.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Owned {
    pub value: String,
    pub since: String,
    /// Written on a direct invocation's word, not CloudTrail's: a later
    /// CloudTrail creation replaces it.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub asserted: bool,
}

impl Metadata {
    /// The item after `incoming` is applied to `self`, or `None` when
    /// nothing would change: a replayed or older event changes no item.
    pub fn merge(&self, incoming: &Metadata) -> Option<Metadata> {
        let ours = self.last_event.order();
        let theirs = incoming.last_event.order();
        let mut next = if theirs < ours {
            return None;
        } else if theirs == ours
            && incoming.state <= self.state
            && !(incoming.state.unsettled() && self.state.unsettled())
        {
            // The same event again, with no progress: keep our state and
            // learn only fresher tags. Between two unsettled tries, the
            // later one holds.
            Metadata {
                tags: incoming.tags.clone().or_else(|| self.tags.clone()),
                ..self.clone()
            }
        } else {
            incoming.clone()
        };
        next.tags = next.tags.or_else(|| self.tags.clone());
        next.creator = next.creator.or_else(|| self.creator.clone());
        next.created = next.created.or_else(|| self.created.clone());
        next.updated_at = self.updated_at.clone();
        if next == *self {
            return None;
        }
        next.updated_at = incoming.updated_at.clone();
        Some(next)
    }
}

/// What a TagHistory entry records.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Change {
    /// The resource was created (the actor is its creator).
    Created,
    /// tagwarden wrote tags.
    Tagged,
    /// A dry run: tags tagwarden would write. Nothing was written.
    Planned,
    /// tagwarden tried to write tags and failed.
    Failed,
    /// The resource refused tags while being created; tried again later.
    Pending,
    /// A principal set tags (`added`: the values set; CloudTrail does not
    /// log the values before).
    TagsSet,
    /// A principal removed tags (`removed`: the keys).
    TagsRemoved,
    /// A principal replaced the whole set (`added`: the new set).
    TagsReplaced,
    /// The creator preset a protected key to another value than the event
    /// supports (`changed`: the key, from the preset value to tagwarden's);
    /// the actor is the creator. Named as the design's finding is.
    #[serde(rename = "attribution-mismatch")]
    AttributionMismatch,
    /// tagwarden wrote back a protected key it owns that a principal (the
    /// actor) removed or changed (`changed`: from their value, empty when
    /// removed, to the owned one; `removed`: the keys they removed).
    Restored,
}

impl Change {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Created => "created",
            Self::Tagged => "tagged",
            Self::Planned => "planned",
            Self::Failed => "failed",
            Self::Pending => "pending",
            Self::TagsSet => "tags_set",
            Self::TagsRemoved => "tags_removed",
            Self::TagsReplaced => "tags_replaced",
            Self::AttributionMismatch => "attribution-mismatch",
            Self::Restored => "restored",
        }
    }
}

/// A value before and after a change.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ValueChange {
    pub before: String,
    pub after: String,
}

/// TagHistory: append-only, keyed by (ARN, event time, event id, change).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct HistoryEntry {
    pub arn: String,
    /// The source event; its time and id are part of the key.
    pub event: EventRef,
    pub change: Change,
    /// Who: the creator's ARN for `created`, `tagwarden` for its writes.
    pub actor: String,
    pub resource_type: String,
    pub account: String,
    pub region: String,
    #[serde(default)]
    pub added: PlainTags,
    #[serde(default)]
    pub changed: BTreeMap<String, ValueChange>,
    #[serde(default)]
    pub removed: Vec<String>,
    pub error: Option<WriteError>,
    /// AWS's id of tagwarden's write: CloudTrail's `requestID` of it, in
    /// the account written to (its session names the deployment and the
    /// execution environment). Through the Tagging API it is the
    /// `TagResources` call's, not the service's own write's. None when a
    /// redelivery recorded a write an earlier delivery made.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub request_id: Option<String>,
    /// When tagwarden recorded it (RFC 3339).
    pub recorded_at: String,
}

impl HistoryEntry {
    /// The sort key within one ARN: time, event id, change.
    pub fn sort_key(&self) -> String {
        sort_key(&self.event.time, &self.event.id, self.change.as_str())
    }
}

/// `time#id#rest`: sorts by time, and is unique per event and change.
pub(crate) fn sort_key(time: &str, id: &str, rest: &str) -> String {
    format!("{time}#{id}#{rest}")
}

/// The name tagwarden's own writes are recorded under.
pub const TAGWARDEN: &str = "tagwarden";

/// UserActions: one principal's action, keyed by (principal, time, event id).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct UserAction {
    pub principal: String,
    pub event: EventRef,
    pub account: String,
    pub region: String,
    /// The resources the action touched.
    pub resources: Vec<String>,
    pub source_ip: Option<String>,
    pub user_agent: Option<String>,
    /// `success`, or the event's error code.
    pub outcome: String,
    pub recorded_at: String,
}

impl UserAction {
    pub fn sort_key(&self) -> String {
        sort_key(&self.event.time, &self.event.id, "")
    }
}

/// Everything one run (or one Lambda invocation) records. It serialises,
/// so a batch the store refused can be kept and recorded later.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Rows {
    pub metadata: Vec<Metadata>,
    pub history: Vec<HistoryEntry>,
    pub actions: Vec<UserAction>,
}

impl Rows {
    /// `other`'s rows after these.
    pub fn extend(&mut self, other: Rows) {
        self.metadata.extend(other.metadata);
        self.history.extend(other.history);
        self.actions.extend(other.actions);
    }
}

/// What a `record` changed: rows added and items changed. A replay gives
/// all zeros.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct Recorded {
    pub metadata: usize,
    pub history: usize,
    pub actions: usize,
}

impl Recorded {
    /// What two records changed together.
    pub fn plus(self, other: Recorded) -> Recorded {
        Recorded {
            metadata: self.metadata + other.metadata,
            history: self.history + other.history,
            actions: self.actions + other.actions,
        }
    }
}

/// Evidence: what tagwarden acted on, how far it got, and what later
/// vouched for it. A CloudTrail record reaches the function unsigned (a log
/// object before its digest exists, an EventBridge event never signed), so
/// the schedule checks afterwards that CloudTrail's signed digests hold
/// each one; these rows say what is left to check and what was found.
/// Append-only, like history: a replay adds nothing.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Evidence {
    pub source: Source,
    pub entry: Entry,
    /// The UTC day (`YYYY-MM-DD`) the source was first acted on. The
    /// `acted` row and the schedule's verdicts carry it (not progress and
    /// `read`), so that one read of a day gives the schedule what was acted
    /// on and what it already settled.
    pub day: Option<String>,
    /// When the row was written (RFC 3339).
    pub at: String,
    /// Verified: the digest's URL; failed: the problem; confirmed: the
    /// log's URL; acted on from EventBridge: `ACCOUNT/REGION/EVENT_TIME`.
    #[serde(default)]
    pub detail: String,
}

/// What evidence is about: a log object or an EventBridge event.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(into = "String", try_from = "String")]
pub enum Source {
    /// `s3://BUCKET/KEY`.
    Log { bucket: String, key: String },
    /// An event delivered by EventBridge, by its `eventID`.
    Event(String),
}

impl Source {
    pub fn log(bucket: &str, key: &str) -> Self {
        Self::Log {
            bucket: bucket.to_string(),
            key: key.to_string(),
        }
    }
}

impl std::fmt::Display for Source {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::Log { bucket, key } => write!(f, "s3://{bucket}/{key}"),
            Self::Event(id) => write!(f, "event:{id}"),
        }
    }
}

impl From<Source> for String {
    fn from(s: Source) -> String {
        s.to_string()
    }
}

impl TryFrom<String> for Source {
    type Error = String;
    fn try_from(s: String) -> Result<Self, String> {
        if let Some(id) = s.strip_prefix("event:") {
            return Ok(Self::Event(id.to_string()));
        }
        s.strip_prefix("s3://")
            .and_then(|rest| rest.split_once('/'))
            .map(|(bucket, key)| Self::log(bucket, key))
            .ok_or_else(|| format!("`{s}` is neither s3://BUCKET/KEY nor event:ID"))
    }
}

/// One fact about a source. Each is written once: the entry is part of
/// the key.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(into = "String", try_from = "String")]
pub enum Entry {
    /// The function acted on it.
    Acted,
    /// A log object's records up to this count are settled: a retried
    /// delivery resumes after them.
    Progress(u64),
    /// A log object read and settled to its end.
    Read,
    /// A log object whose digest verified it (`detail`: the digest).
    Verified,
    /// A log object that failed verification (`detail`: why); alerted.
    Failed,
    /// An event found in a verified log (`detail`: the log).
    Confirmed,
    /// An event no verified log held in time; alerted.
    Unconfirmed,
}

impl std::fmt::Display for Entry {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            // Zero-padded, so the latest sorts last.
            Self::Progress(n) => write!(f, "progress#{n:020}"),
            Self::Acted => f.write_str("acted"),
            Self::Read => f.write_str("read"),
            Self::Verified => f.write_str("verified"),
            Self::Failed => f.write_str("failed"),
            Self::Confirmed => f.write_str("confirmed"),
            Self::Unconfirmed => f.write_str("unconfirmed"),
        }
    }
}

impl From<Entry> for String {
    fn from(e: Entry) -> String {
        e.to_string()
    }
}

impl TryFrom<String> for Entry {
    type Error = String;
    fn try_from(s: String) -> Result<Self, String> {
        Ok(match s.as_str() {
            "acted" => Self::Acted,
            "read" => Self::Read,
            "verified" => Self::Verified,
            "failed" => Self::Failed,
            "confirmed" => Self::Confirmed,
            "unconfirmed" => Self::Unconfirmed,
            other => match other.strip_prefix("progress#").map(str::parse) {
                Some(Ok(n)) => Self::Progress(n),
                _ => return Err(format!("`{s}` is not an evidence entry")),
            },
        })
    }
}

/// How long a session hop is kept past its credentials' expiry: a log
/// holding a call made with them may be delivered, or read again, that
/// much later.
pub const SESSION_GRACE_SECONDS: i64 = 24 * 3600;

/// Credentials' longest life (`GetFederationToken`, `GetSessionToken`):
/// the expiry assumed when a record does not give one.
pub const SESSION_LONGEST_SECONDS: i64 = 36 * 3600;

/// When the store may forget `issued` (Unix seconds), `at` being when it
/// was read: its credentials' expiry plus the grace, and never before a
/// grace has passed since the read, so that a backfill of old logs still
/// finds the hops it read a moment ago.
pub fn session_expires(issued: &tagwarden_core::catalog::sessions::Issued, at: i64) -> i64 {
    let expiry = issued.expires.unwrap_or(at + SESSION_LONGEST_SECONDS);
    expiry.max(at) + SESSION_GRACE_SECONDS
}

/// How far a log object was settled, from its evidence rows: `None` when
/// it was read to its end, else the records to skip.
pub fn resume_after(rows: &[Evidence]) -> Option<u64> {
    if rows.iter().any(|r| r.entry == Entry::Read) {
        return None;
    }
    Some(
        rows.iter()
            .filter_map(|r| match r.entry {
                Entry::Progress(n) => Some(n),
                _ => None,
            })
            .max()
            .unwrap_or(0),
    )
}

/// A resource's creator and its whole history, for `tagwarden history`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ResourceHistory {
    pub metadata: Option<Metadata>,
    /// Ordered by event time, event id, change.
    pub history: Vec<HistoryEntry>,
}

#[cfg(test)]
mod tests {
    use super::*;

    fn event(time: &str, id: &str) -> EventRef {
        EventRef {
            time: time.into(),
            id: id.into(),
            source: "ec2.amazonaws.com".into(),
            name: "RunInstances".into(),
        }
    }

    fn item(time: &str, id: &str, state: State, tags: Option<&[(&str, &str)]>) -> Metadata {
        Metadata {
            arn: "arn:aws:ec2:us-east-1:111122223333:instance/i-1".into(),
            resource_type: "ec2:instance".into(),
            account: "111122223333".into(),
            region: "us-east-1".into(),
            tags: tags.map(|t| {
                t.iter()
                    .map(|(k, v)| (k.to_string(), v.to_string()))
                    .collect()
            }),
            creator: None,
            created: Some(event(time, id)),
            last_event: event(time, id),
            state,
            pending: PlainTags::new(),
            error: None,
            owned: BTreeMap::new(),
            updated_at: format!("{time}-recorded"),
        }
    }

    #[test]
    fn a_replay_that_finds_the_tags_changes_nothing() {
        let done = item(
            "2026-01-01T00:00:00Z",
            "e1",
            State::Tagged,
            Some(&[("A", "1")]),
        );
        let mut again = item(
            "2026-01-01T00:00:00Z",
            "e1",
            State::AlreadyTagged,
            Some(&[("A", "1")]),
        );
        again.updated_at = "later".into();
        assert_eq!(done.merge(&again), None);
    }

    #[test]
    fn a_dry_run_does_not_undo_a_real_run() {
        let done = item(
            "2026-01-01T00:00:00Z",
            "e1",
            State::Tagged,
            Some(&[("A", "1")]),
        );
        let planned = item("2026-01-01T00:00:00Z", "e1", State::Planned, None);
        assert_eq!(done.merge(&planned), None);
    }

    #[test]
    fn a_retry_that_succeeds_replaces_the_failure() {
        let mut failed = item("2026-01-01T00:00:00Z", "e1", State::Failed, Some(&[]));
        failed.error = Some(WriteError {
            kind: "throttled".into(),
            message: "slow down".into(),
        });
        failed.pending = PlainTags::from([("A".into(), "1".into())]);
        let done = item(
            "2026-01-01T00:00:00Z",
            "e1",
            State::Tagged,
            Some(&[("A", "1")]),
        );
        let merged = failed.merge(&done).expect("changes");
        assert_eq!(merged.state, State::Tagged);
        assert!(merged.pending.is_empty() && merged.error.is_none());
        assert_eq!(merged.updated_at, done.updated_at);
    }

    #[test]
    fn between_unsettled_tries_of_one_event_the_later_holds() {
        let at = "2026-01-01T00:00:00Z";
        let with = |state, kind: &str| {
            let mut m = item(at, "e1", state, Some(&[]));
            m.error = Some(WriteError {
                kind: kind.into(),
                message: kind.into(),
            });
            m
        };
        // Throttled, then waiting for the creation: waiting.
        let waits = with(State::Failed, "throttled").merge(&with(State::Pending, "not_ready"));
        assert_eq!(waits.map(|m| m.state), Some(State::Pending));
        // Waiting, then the last try's failure, with its own error.
        let last = with(State::Pending, "not_ready").merge(&with(State::Failed, "other"));
        assert_eq!(last.and_then(|m| m.error).unwrap().kind, "other");
        // A tagged resource stays tagged.
        let tagged = item(at, "e1", State::Tagged, Some(&[("A", "1")]));
        let after = tagged.merge(&with(State::Pending, "not_ready"));
        assert_eq!(after.map_or(State::Tagged, |m| m.state), State::Tagged);
    }

    #[test]
    fn an_older_event_changes_nothing_and_a_newer_one_wins() {
        let now = item(
            "2026-02-01T00:00:00Z",
            "e2",
            State::Tagged,
            Some(&[("A", "2")]),
        );
        let old = item(
            "2026-01-01T00:00:00Z",
            "e1",
            State::Tagged,
            Some(&[("A", "1")]),
        );
        assert_eq!(now.merge(&old), None);
        assert_eq!(old.merge(&now).map(|m| m.last_event.id), Some("e2".into()));
    }

    #[test]
    fn fresher_tags_of_the_same_event_are_learned() {
        let done = item(
            "2026-01-01T00:00:00Z",
            "e1",
            State::Tagged,
            Some(&[("A", "1")]),
        );
        let seen = item(
            "2026-01-01T00:00:00Z",
            "e1",
            State::AlreadyTagged,
            Some(&[("A", "1"), ("Owner", "x")]),
        );
        let merged = done.merge(&seen).expect("learns the new tag");
        assert_eq!(merged.state, State::Tagged);
        assert_eq!(merged.tags.unwrap().len(), 2);
    }

    /// Columns and exports use `as_str`, documents use serde: one name.
    #[test]
    fn states_and_changes_have_one_name_each() {
        for s in [
            State::Planned,
            State::Failed,
            State::Full,
            State::AlreadyTagged,
            State::Tagged,
        ] {
            assert_eq!(serde_json::to_value(s).unwrap(), s.as_str());
        }
        for c in [
            Change::Created,
            Change::Tagged,
            Change::Planned,
            Change::Failed,
            Change::TagsSet,
            Change::TagsRemoved,
            Change::TagsReplaced,
        ] {
            assert_eq!(serde_json::to_value(c).unwrap(), c.as_str());
        }
    }
}
