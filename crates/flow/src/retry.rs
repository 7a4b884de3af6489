//! What the store holds as failed → a plan to write it again (`apply
//! --retry-failed`): the pending tags, under the event they came from.

use std::collections::BTreeMap;
use std::sync::Arc;
use tagwarden_core::attribution::IdentityType;
use tagwarden_core::catalog;
use tagwarden_core::pipeline::EventInfo;
use tagwarden_core::plan::{CreatorSummary, PlanItem};
use tagwarden_core::tags::{TagKey, TagValue};
use tagwarden_store::model::Metadata;

/// The failed resources the store holds, as plan items to write again;
/// items the store cannot turn back into a plan are returned as errors.
pub fn items(failed: Vec<Metadata>) -> (Vec<PlanItem>, Vec<String>) {
    let mut items = Vec::new();
    let mut errors = Vec::new();
    for m in failed {
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
        let creator = m.creator.clone();
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
            creator: Arc::new(CreatorSummary {
                arn: creator.as_ref().map(|c| c.arn.clone()).unwrap_or_default(),
                kind: creator
                    .as_ref()
                    .map(|c| IdentityType::parse(&c.kind))
                    .unwrap_or(IdentityType::Unknown),
                invoked_by: creator.and_then(|c| c.invoked_by),
            }),
            arn: m.arn,
            resource_type,
            account: m.account,
            region: m.region,
            tags,
            api,
            kept: Default::default(),
            dropped: Vec::new(),
        });
    }
    (items, errors)
}
