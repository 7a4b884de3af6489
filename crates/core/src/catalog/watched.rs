//! Calls that blind tagwarden: stopping or narrowing a trail, and changes
//! to tagwarden's own rules, queue and function. They create and tag
//! nothing; each is alerted as it arrives, naming the caller, because after
//! it the evidence may stop coming.

use crate::record::Record;

#[derive(Debug)]
pub struct Watched {
    pub source: &'static str,
    pub name: &'static str,
    /// Path (in `requestParameters`) to the name or ARN of what changed.
    pub target: &'static str,
    /// Only when the target names tagwarden's own resource (its names all
    /// hold `tagwarden-`); `false`: any target (every trail is evidence).
    pub ours_only: bool,
    /// What the call does to tagwarden, for the alert.
    pub why: &'static str,
}

const fn row(
    source: &'static str,
    name: &'static str,
    target: &'static str,
    ours_only: bool,
    why: &'static str,
) -> Watched {
    Watched {
        source,
        name,
        target,
        ours_only,
        why,
    }
}

const TRAIL: &str = "CloudTrail stops or narrows the evidence";
const RULE: &str = "tagwarden's EventBridge rules change";
const QUEUE: &str = "tagwarden's event queue changes";
const FUNCTION: &str = "tagwarden's function changes";

/// Sorted by (source, name), as the other tables.
#[rustfmt::skip]
pub static WATCHED: &[Watched] = &[
    row("cloudtrail.amazonaws.com", "DeleteTrail", "name", false, TRAIL),
    row("cloudtrail.amazonaws.com", "PutAdvancedEventSelectors", "trailName", false, TRAIL),
    row("cloudtrail.amazonaws.com", "PutEventSelectors", "trailName", false, TRAIL),
    row("cloudtrail.amazonaws.com", "StopLogging", "name", false, TRAIL),
    row("cloudtrail.amazonaws.com", "UpdateTrail", "name", false, TRAIL),
    row("events.amazonaws.com", "DeleteRule", "name", true, RULE),
    row("events.amazonaws.com", "DisableRule", "name", true, RULE),
    row("events.amazonaws.com", "PutRule", "name", true, RULE),
    row("events.amazonaws.com", "PutTargets", "rule", true, RULE),
    row("events.amazonaws.com", "RemoveTargets", "rule", true, RULE),
    row("lambda.amazonaws.com", "AddPermission20150331v2", "functionName", true, FUNCTION),
    row("lambda.amazonaws.com", "DeleteFunction20150331", "functionName", true, FUNCTION),
    row("lambda.amazonaws.com", "RemovePermission20150331v2", "functionName", true, FUNCTION),
    row("lambda.amazonaws.com", "UpdateFunctionCode20150331v2", "functionName", true, FUNCTION),
    row("lambda.amazonaws.com", "UpdateFunctionConfiguration20150331v2", "functionName", true, FUNCTION),
    row("sqs.amazonaws.com", "DeleteQueue", "queueUrl", true, QUEUE),
    row("sqs.amazonaws.com", "SetQueueAttributes", "queueUrl", true, QUEUE),
];

pub fn lookup(source: &[u8], name: &[u8]) -> Option<&'static Watched> {
    WATCHED
        .binary_search_by(|w| (w.source.as_bytes(), w.name.as_bytes()).cmp(&(source, name)))
        .ok()
        .map(|i| &WATCHED[i])
}

impl Watched {
    /// What the call changed, when it is one to alert: any trail, or a
    /// resource of tagwarden's own.
    pub fn target(&self, record: &Record<'_>) -> Option<String> {
        let params = record.request_parameters.as_ref()?;
        let target = params.get(self.target)?.as_str()?.to_string();
        (!self.ours_only || target.contains("tagwarden-")).then_some(target)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_table_is_sorted_and_each_row_is_found() {
        for pair in WATCHED.windows(2) {
            assert!(
                (pair[0].source, pair[0].name) < (pair[1].source, pair[1].name),
                "{} {} is out of order",
                pair[1].source,
                pair[1].name
            );
        }
        for w in WATCHED {
            assert!(lookup(w.source.as_bytes(), w.name.as_bytes()).is_some());
        }
        assert!(lookup(b"cloudtrail.amazonaws.com", b"StartLogging").is_none());
    }

    #[test]
    fn any_trail_and_only_tagwardens_own_other_resources() {
        let stop = lookup(b"cloudtrail.amazonaws.com", b"StopLogging").unwrap();
        let rec = Record::parse(br#"{"requestParameters":{"name":"org-trail"}}"#).unwrap();
        assert_eq!(stop.target(&rec).as_deref(), Some("org-trail"));
        let rule = lookup(b"events.amazonaws.com", b"DisableRule").unwrap();
        let ours =
            Record::parse(br#"{"requestParameters":{"name":"tagwarden-api-calls-prod"}}"#).unwrap();
        let theirs = Record::parse(br#"{"requestParameters":{"name":"nightly-build"}}"#).unwrap();
        assert!(rule.target(&ours).is_some());
        assert!(rule.target(&theirs).is_none());
    }
}
