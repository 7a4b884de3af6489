//! A direct invocation → the plan for its one resource: `user` as the
//! creator, attribution keys (and the policy's other keys, when asked for)
//! only, in the resource's own region.

use tagwarden_aws::clients::Clients;
use tagwarden_core::catalog::Scope;
use tagwarden_core::pipeline::partition_of_region;
use tagwarden_core::plan::{Plan, Planner};
use tagwarden_core::policy::Policy;
use tagwarden_core::tags::{is_reserved, TagKey, TagValue};
use tagwarden_core::trigger::Direct;

/// The plan a direct invocation asks for. `event_id` and `time` are the
/// invocation's, which a retry keeps: a retried request is one event.
pub async fn plan(
    clients: &Clients,
    policy: &Policy,
    d: &Direct,
    event_id: &str,
    time: &str,
) -> Result<Plan, String> {
    let account = clients
        .own_account()
        .await
        .map_err(|e| format!("who am I: {e}"))?;
    let region = clients.default_region().unwrap_or("us-east-1").to_string();
    let home = Scope {
        partition: partition_of_region(&region),
        region: &region,
        account: &account,
    };
    let creation = d.creation(&home, event_id, time)?;
    let mut planner = Planner::new(policy);
    planner.add(&creation);
    let mut plan = planner.finish();
    // The extra tags asked for join the policy's, which win. Only keys the
    // policy names may be asked for: the role may write no others.
    let known = |k: &TagKey| {
        policy.attribution.tags.contains_key(k)
            || policy.compliance.required.contains_key(k)
            || policy.compliance.optional.contains_key(k)
            || policy.compliance.remediation.contains_key(k)
    };
    for (k, v) in &d.tags {
        let key = TagKey::new(k)
            .ok()
            .filter(|key| !is_reserved(k) && known(key))
            .ok_or_else(|| {
                format!("direct invocation: tag key `{k}` is not one the policy names: refused")
            })?;
        if plan.items.is_empty() {
            plan.items.append(&mut plan.untouched);
        }
        for item in &mut plan.items {
            item.tags
                .entry(key.clone())
                .or_insert_with(|| TagValue::clean(v));
        }
    }
    // A bucket's ARN names no region: the bucket's own is where it is tagged.
    if creation.resource_type == "s3:bucket" {
        let bucket = creation.resources[0]
            .arn
            .rsplit(':')
            .next()
            .unwrap_or_default();
        let region = tagwarden_aws::s3_source::bucket_region(&clients.own_s3(None), bucket)
            .await
            .ok_or_else(|| {
                format!("direct invocation: bucket `{bucket}`: its region cannot be read")
            })?;
        for item in &mut plan.items {
            item.region = region.clone();
        }
    }
    Ok(plan)
}
