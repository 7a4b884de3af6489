//! plan + the tags a resource carries now → the tags to write.
//!
//! The plan knows the tags the creator set in the create call; the read
//! before writing also sees the tags added since. Only keys the resource
//! lacks are written (or, with `overwrite`, keys whose value differs, and
//! protected keys the policy enforces), so a second run over the same
//! events writes nothing.

use crate::plan::PlanItem;
use crate::tags::{is_reserved, TagKey, TagValue, MAX_TAGS};
use std::collections::BTreeMap;

/// A resource's tags as read from AWS.
pub type Current = BTreeMap<String, String>;

/// What to do with one planned resource once its tags are known.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Decision {
    /// Write exactly these tags.
    Write(BTreeMap<TagKey, TagValue>),
    /// Every planned tag is already there: nothing to write.
    AlreadyTagged,
    /// The resource is at AWS's 50-tag limit: no room for any planned tag.
    Full,
}

/// Decides what to write on `item` given its `current` tags.
pub fn decide(item: &PlanItem, current: &Current, overwrite: bool) -> Decision {
    let mut write: BTreeMap<TagKey, TagValue> = item
        .tags
        .iter()
        .filter(|(k, v)| match current.get(k.as_str()) {
            None => true,
            Some(now) => now != v.as_str() && item.replaces(k, overwrite),
        })
        .map(|(k, v)| (k.clone(), v.clone()))
        .collect();
    if write.is_empty() {
        return Decision::AlreadyTagged;
    }
    // Replacing a value costs no room; a new key does. `aws:` tags do not
    // count toward the limit.
    let used = current.keys().filter(|k| !is_reserved(k)).count();
    let mut new_keys = write
        .keys()
        .filter(|k| !current.contains_key(k.as_str()))
        .count();
    while used + new_keys > MAX_TAGS {
        let Some(last) = write
            .keys()
            .rev()
            .find(|k| !current.contains_key(k.as_str()))
            .cloned()
        else {
            break;
        };
        write.remove(&last);
        new_keys -= 1;
    }
    if write.is_empty() {
        Decision::Full
    } else {
        Decision::Write(write)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::attribution::IdentityType;
    use crate::catalog::TaggingApi;
    use crate::pipeline::EventInfo;
    use crate::plan::CreatorSummary;
    use std::collections::BTreeSet;
    use std::sync::Arc;

    fn item(tags: &[(&str, &str)]) -> PlanItem {
        PlanItem {
            arn: "arn:aws:ec2:us-east-1:1:instance/i-1".into(),
            resource_type: "ec2:instance",
            account: "1".into(),
            region: "us-east-1".into(),
            event: Arc::new(EventInfo {
                id: "e".into(),
                source: "ec2.amazonaws.com".into(),
                name: "RunInstances".into(),
                time: "t".into(),
                region: "us-east-1".into(),
                account: "1".into(),
                partition: "aws".into(),
                source_ip: None,
                user_agent: None,
            }),
            creator: Arc::new(CreatorSummary::of("u".into(), IdentityType::IAMUser, None)),
            tags: tags
                .iter()
                .map(|(k, v)| (TagKey::new(k).unwrap(), TagValue::clean(v)))
                .collect(),
            api: TaggingApi::Ec2,
            kept: BTreeSet::new(),
            dropped: vec![],
            mismatches: Vec::new(),
            replace: Default::default(),
            children: None,
        }
    }

    fn current(tags: &[(&str, &str)]) -> Current {
        tags.iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect()
    }

    fn keys(d: &Decision) -> Vec<&str> {
        match d {
            Decision::Write(w) => w.keys().map(|k| k.as_str()).collect(),
            _ => vec![],
        }
    }

    #[test]
    fn only_missing_keys_are_written_and_others_values_survive() {
        let i = item(&[("CreatedBy", "me"), ("Owner", "me")]);
        let d = decide(&i, &current(&[("Owner", "someone-else")]), false);
        assert_eq!(keys(&d), ["CreatedBy"]);
        assert_eq!(
            decide(&i, &current(&[("Owner", "x"), ("CreatedBy", "y")]), false),
            Decision::AlreadyTagged
        );
    }

    #[test]
    fn overwrite_rewrites_only_values_that_differ() {
        let i = item(&[("CreatedBy", "me"), ("Owner", "me")]);
        let d = decide(
            &i,
            &current(&[("Owner", "other"), ("CreatedBy", "me")]),
            true,
        );
        assert_eq!(keys(&d), ["Owner"]);
        assert_eq!(
            decide(&i, &current(&[("Owner", "me"), ("CreatedBy", "me")]), true),
            Decision::AlreadyTagged
        );
    }

    /// An enforced protected key replaces the creator's value without
    /// `overwrite`; the other keys keep theirs.
    #[test]
    fn an_enforced_protected_key_replaces_the_creators_value() {
        let mut i = item(&[("CreatedBy", "me"), ("Owner", "me")]);
        let now = current(&[("CreatedBy", "bob"), ("Owner", "bob")]);
        assert_eq!(decide(&i, &now, false), Decision::AlreadyTagged);
        i.mismatches.push(crate::plan::Mismatch {
            key: TagKey::new("CreatedBy").unwrap(),
            preset: "bob".into(),
            expected: TagValue::clean("me"),
            corrected: true,
        });
        assert_eq!(keys(&decide(&i, &now, false)), ["CreatedBy"]);
    }

    #[test]
    fn the_fifty_tag_limit_counts_current_user_tags_only() {
        let i = item(&[("A", "1"), ("B", "1")]);
        let mut now: Current = (0..49).map(|n| (format!("k{n}"), "v".into())).collect();
        now.insert("aws:cloudformation:stack-name".into(), "s".into());
        // 49 user tags: room for one more, the first in key order.
        assert_eq!(keys(&decide(&i, &now, false)), ["A"]);
        now.insert("k49".into(), "v".into());
        assert_eq!(decide(&i, &now, false), Decision::Full);
        // Overwriting an existing key needs no room.
        now.insert("A".into(), "0".into());
        assert_eq!(keys(&decide(&i, &now, true)), ["A"]);
    }
}
