//! Compliance in the function: an EC2 state change checks its instance;
//! the schedule scans the account (and, in org mode, the member accounts).
//! inventory → verdicts → the report.

use crate::dispatch::Job;
use crate::report::Report;
use crate::state::{Failure, Shared};
use std::sync::Arc;
use tagwarden_aws::adapters::AwsTagger;
use tagwarden_aws::apply::{apply, Options, Status};
use tagwarden_aws::{inventory, record};
use tagwarden_core::compliance::{in_scope, Finding};
use tagwarden_core::policy::Policy;
use tagwarden_core::remediate;
use tagwarden_core::subjects::{subjects, Subjects};
use tagwarden_store::AuditStore;

/// The event-driven check of what a state-change notification names.
pub async fn check(
    shared: &Shared,
    job: &Job<'_>,
    payload: &[u8],
    report: &mut Report,
) -> Result<(), Failure> {
    let origin = job.origin;
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
    let findings: Vec<Finding> = found
        .into_iter()
        .map(|f| f.judge(&policy.compliance))
        .collect();
    fill_missing(shared, &policy, job, &findings, report).await?;
    report.findings.extend(findings);
    Ok(())
}

/// The scheduled scan: every listable type in the policy's scope, in the
/// region the schedule fired in, for this account and the configured ones.
pub async fn scan(
    shared: &Shared,
    job: &Job<'_>,
    account: &str,
    region: &str,
    report: &mut Report,
) -> Result<(), Failure> {
    let policy = shared.policy().await?;
    let clients = shared.clients().await;
    let (own, _) = shared.home().await?;
    // Only the schedule of this account starts a scan.
    if account != own {
        return Err(Failure::new(format!(
            "a scheduled event of account {account}, not this function's {own}: refused"
        )));
    }
    let types: Vec<&'static str> = inventory::types()
        .filter(|t| in_scope(&policy.compliance, t))
        .collect();
    let mut accounts = shared.config.accounts.clone();
    if !accounts.is_empty() && !accounts.contains(&own) {
        accounts.push(own);
    }
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
    let findings: Vec<Finding> = found
        .into_iter()
        .map(|f| f.judge(&policy.compliance))
        .collect();
    report.scanned = true;
    fill_missing(shared, &policy, job, &findings, report).await?;
    report.findings.extend(findings);
    Ok(())
}

/// With `TAGWARDEN_REMEDIATE`: fills what the findings lack, as `scan
/// --remediate` does (missing keys only, never overwriting), recorded under
/// one event named after the invocation, so a retry is recorded once.
async fn fill_missing(
    shared: &Shared,
    policy: &Policy,
    job: &Job<'_>,
    findings: &[Finding],
    report: &mut Report,
) -> Result<(), Failure> {
    if !shared.config.remediate || findings.iter().all(|f| f.verdict.compliant) {
        return Ok(());
    }
    let clients = shared.clients().await;
    let actor = clients
        .own_arn()
        .await
        .map_err(|e| Failure::new(format!("who is remediating: {e}")))?;
    let (account, home) = shared.home().await?;
    let (event, actor) = remediate::stand_in(
        format!("tagwarden-remediate-{}", job.id),
        job.at,
        &home,
        account,
        actor,
        format!("tagwarden-lambda/{}", env!("CARGO_PKG_VERSION")),
    );
    let remedies = remediate::remedies(&policy.compliance, findings, &event, &actor);
    if remedies.items.is_empty() {
        return Ok(());
    }
    let tagger = AwsTagger::new(Arc::clone(clients));
    let outcomes = apply(&tagger, &remedies.items, &Options::default(), &|_| {}).await;
    let handled: Vec<_> = outcomes
        .iter()
        .map(|o| record::handled(&remedies.items[o.item], o))
        .collect();
    let rows = tagwarden_store::record::remediation(&handled, &record::now());
    let mut retry = false;
    for o in &outcomes {
        match &o.status {
            Status::Tagged => report.remediated += 1,
            Status::Failed { error } => {
                retry |= crate::attribute::worth_retrying(error.kind);
                report.failures.push(format!(
                    "{}: remediation: {error} ({})",
                    o.arn,
                    error.kind.as_str()
                ));
            }
            _ => {}
        }
    }
    shared
        .store()
        .await
        .record(&rows)
        .await
        .map_err(|e| Failure::new(format!("audit store: {e}")))?;
    tracing::info!(
        remediated = report.remediated,
        skipped = remedies.skipped,
        "remediated"
    );
    if retry {
        return Err(Failure::new("remediation could not finish yet"));
    }
    Ok(())
}
