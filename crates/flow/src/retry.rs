//! What the store holds as failed → a plan to write it again (`apply
//! --retry-failed`): the pending tags, under the event they came from.

use std::collections::BTreeMap;
use std::sync::Arc;
use tagwarden_core::attribution::IdentityType;
use tagwarden_core::catalog;
use tagwarden_core::pipeline::EventInfo;
use tagwarden_core::plan::{CreatorSummary, PlanItem};
use tagwarden_core::tags::{TagKey, TagValue};
use tagwarden_core::waiting;
use tagwarden_store::model::{Metadata, State};

/// The failed resources the store holds, and those whose wait was
/// abandoned ([`waiting::ABANDONED_AFTER`] before `now`), as plan items to
/// write again; items the store cannot turn back into a plan are returned
/// as errors.
pub fn items(failed: Vec<Metadata>, now: jiff::Timestamp) -> (Vec<PlanItem>, Vec<String>) {
    let mut items = Vec::new();
    let mut errors = Vec::new();
    let abandoned = |m: &Metadata| {
        m.updated_at
            .parse::<jiff::Timestamp>()
            .map_or(true, |t| t + waiting::ABANDONED_AFTER <= now)
    };
    for m in failed {
        if m.state == State::Pending && !abandoned(&m) {
            continue;
        }
        let Some((resource_type, api)) = catalog::resource_type(&m.resource_type) else {
            errors.push(format!(
                "{}: resource type `{}` is not in this tagwarden's catalog",
                m.arn, m.resource_type
            ));
            continue;
        };
        let mut tags = BTreeMap::new();
        for (k, v) in &m.pending {
            match TagKey::new(k) {
                Ok(key) => {
                    tags.insert(key, TagValue::clean(v));
                }
                Err(e) => errors.push(format!("{}: stored tag key `{k}`: {e}", m.arn)),
            }
        }
        let partition = catalog::arn_partition(&m.arn).unwrap_or("aws").to_string();
        items.push(PlanItem {
            event: Arc::new(EventInfo {
                id: m.last_event.id.clone(),
                source: m.last_event.source.clone(),
                name: m.last_event.name.clone(),
                time: m.last_event.time.clone(),
                region: m.region.clone(),
                account: m.account.clone(),
                partition,
                source_ip: None,
                user_agent: None,
            }),
            creator: Arc::new(match m.creator {
                Some(c) => c.into(),
                None => CreatorSummary::of(String::new(), IdentityType::Unknown, None),
            }),
            arn: m.arn,
            resource_type,
            account: m.account,
            region: m.region,
            tags,
            api,
            kept: Default::default(),
            dropped: Vec::new(),
            mismatches: Vec::new(),
            replace: Default::default(),
            children: None,
        });
    }
    (items, errors)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn stored(arn: &str, state: &str, updated_at: &str) -> Metadata {
        serde_json::from_value(serde_json::json!({
            "arn": arn, "resource_type": "ec2:instance", "account": "111122223333",
            "region": "us-east-1", "tags": null, "creator": null, "created": null,
            "last_event": {"time": "2026-01-01T00:00:00Z", "id": "e1",
                           "source": "ec2.amazonaws.com", "name": "RunInstances"},
            "state": state, "pending": {"CreatedBy": "alice"}, "error": null,
            "updated_at": updated_at,
        }))
        .unwrap()
    }

    #[test]
    fn a_wait_is_retried_only_once_no_one_waits_any_more() {
        let arn = |n: u32| format!("arn:aws:ec2:us-east-1:111122223333:instance/i-{n}");
        let now: jiff::Timestamp = "2026-01-01T12:00:00Z".parse().unwrap();
        let (items, errors) = items(
            vec![
                stored(&arn(1), "failed", "2026-01-01T11:59:00Z"),
                stored(&arn(2), "pending", "2026-01-01T11:50:00Z"),
                stored(&arn(3), "pending", "2026-01-01T10:00:00Z"),
            ],
            now,
        );
        assert!(errors.is_empty(), "{errors:?}");
        let arns: Vec<&str> = items.iter().map(|i| i.arn.as_str()).collect();
        assert_eq!(arns, [arn(1), arn(3)]);
    }
}
