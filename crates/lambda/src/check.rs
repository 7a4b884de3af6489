//! Compliance in the function: an EC2 state change checks its instance;
//! the schedule scans the account (and, in org mode, the member accounts).
//! inventory → verdicts → the report.

use crate::report::Report;
use crate::state::{Failure, Shared};
use tagwarden_aws::inventory;
use tagwarden_core::compliance::in_scope;
use tagwarden_core::subjects::{subjects, Subjects};

/// The event-driven check of what a state-change notification names.
pub async fn check(
    shared: &Shared,
    origin: &str,
    payload: &[u8],
    report: &mut Report,
) -> Result<(), Failure> {
    let policy = shared.policy().await?;
    let (named, errors) = subjects(origin, payload);
    for e in &errors {
        tracing::error!(origin = %e.origin, place = %e.place, error = %e.message, "bad input");
    }
    let clients = shared.clients().await;
    let found = match named {
        Subjects::These(these) => {
            let these: Vec<_> = these
                .into_iter()
                .filter(|s| in_scope(&policy.compliance, s.resource_type))
                .collect();
            let read = inventory::these(clients, &these).await;
            for arn in &read.gone {
                tracing::info!(arn = %arn, "not found or terminated: nothing to check");
            }
            if !read.failed.is_empty() {
                for (arn, e) in &read.failed {
                    report
                        .failures
                        .push(format!("{arn}: {e} ({})", e.kind.as_str()));
                }
                return Err(Failure::new(format!(
                    "{origin}: {} resources could not be read",
                    read.failed.len()
                )));
            }
            read.found
        }
        Subjects::Region { account, region } => {
            if !in_scope(&policy.compliance, "ec2:instance") {
                return Ok(());
            }
            inventory::list(clients, &[account], &[region], &["ec2:instance"])
                .await
                .map_err(|e| Failure::new(format!("{origin}: listing instances: {e}")))?
        }
        Subjects::Gone { arn, state } => {
            tracing::info!(arn = %arn, state = %state, "on its way out: nothing to check");
            Vec::new()
        }
    };
    report
        .findings
        .extend(found.into_iter().map(|f| f.judge(&policy.compliance)));
    Ok(())
}

/// The scheduled scan: every listable type in the policy's scope, in the
/// region the schedule fired in, for this account and the configured ones.
pub async fn scan(
    shared: &Shared,
    account: &str,
    region: &str,
    report: &mut Report,
) -> Result<(), Failure> {
    let policy = shared.policy().await?;
    let types: Vec<&'static str> = inventory::types()
        .filter(|t| in_scope(&policy.compliance, t))
        .collect();
    let mut accounts = shared.config.accounts.clone();
    if !accounts.is_empty() && !accounts.iter().any(|a| a == account) {
        accounts.push(account.to_string());
    }
    let clients = shared.clients().await;
    let found = match inventory::list(clients, &accounts, &[region.to_string()], &types).await {
        Ok(found) => found,
        Err(e) => {
            let why = format!("scan of {region}: {e} ({})", e.kind.as_str());
            report.failures.push(why.clone());
            return Err(Failure::new(why));
        }
    };
    tracing::info!(
        resources = found.len(),
        types = types.len(),
        region,
        "scanned"
    );
    report
        .findings
        .extend(found.into_iter().map(|f| f.judge(&policy.compliance)));
    report.scanned = true;
    Ok(())
}
