//! A direct invocation → the plan for its one resource: `user` (a
//! principal of an account in scope) as the creator, the policy's
//! attribution keys only, in the resource's own region.

use tagwarden_aws::clients::Clients;
use tagwarden_core::catalog::Scope;
use tagwarden_core::pipeline::partition_of_region;
use tagwarden_core::plan::{Plan, Planner};
use tagwarden_core::policy::Policy;
use tagwarden_core::trigger::Direct;
use tagwarden_core::trust::Accounts;

/// The plan a direct invocation asks for. `event_id` and `time` are the
/// invocation's, which a retry keeps: a retried request is one event.
pub async fn plan(
    clients: &Clients,
    policy: &Policy,
    accounts: &Accounts,
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
    let creation = d.creation(&home, accounts, event_id, time)?;
    let mut planner = Planner::new(policy);
    planner.add(&creation);
    let mut plan = planner.finish();
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
