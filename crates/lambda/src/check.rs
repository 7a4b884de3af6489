//! Compliance in the function: an EC2 state change checks its instance;
//! the schedule scans the account (and, in org mode, the member accounts)
//! and checks what was acted on against the digests ([`confirm`]).
//! [`tagwarden_flow::check`] → the report, and with `TAGWARDEN_REMEDIATE`
//! [`tagwarden_flow::remediate`].

use crate::job::Job;
use crate::state::{Failure, Shared};
use std::sync::Arc;
use tagwarden_aws::adapters::AwsTagger;
use tagwarden_aws::apply::Options;
use tagwarden_core::compliance::{in_scope, Finding};
use tagwarden_core::policy::Policy;
use tagwarden_flow::attribute::Tagging;
use tagwarden_flow::check::{judge, listable};
use tagwarden_flow::confirm::Keys;
use tagwarden_flow::remediate::{remediate, remedies, stand_in};
use tagwarden_flow::report::Report;

/// The event-driven check of what a state-change notification names.
pub async fn check(
    shared: &Shared,
    job: &Job<'_>,
    payload: &[u8],
    report: &mut Report,
) -> Result<(), Failure> {
    let origin = job.origin;
    let policy = shared.policy().await?;
    let clients = shared.clients().await;
    let wanted = |t: &str| in_scope(&policy.compliance, t);
    let checked =
        tagwarden_flow::check::check(clients, &[(origin.to_string(), payload.to_vec())], &wanted)
            .await
            .map_err(|e| Failure::new(format!("{origin}: {e}")))?;
    for e in &checked.errors {
        tracing::error!(origin = %e.origin, place = %e.place, error = %e.message, "bad input");
    }
    for arn in &checked.gone {
        tracing::info!(arn = %arn, "not found or terminated: nothing to check");
    }
    for (_, arn, state) in &checked.leaving {
        tracing::info!(arn = %arn, state = %state, "on its way out: nothing to check");
    }
    if !checked.failed.is_empty() {
        for (arn, e) in &checked.failed {
            report
                .failures
                .push(format!("{arn}: {e} ({})", e.kind.as_str()));
        }
        return Err(Failure::new(format!(
            "{origin}: {} resources could not be read",
            checked.failed.len()
        )));
    }
    let findings = judge(checked.found, &policy.compliance);
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
    let types = listable(&policy.compliance);
    let mut accounts = shared.config.accounts.clone();
    if !accounts.is_empty() && !accounts.contains(&own) {
        accounts.push(own);
    }
    let regions = [region.to_string()];
    let scanned =
        tagwarden_flow::check::scan(clients, &accounts, &regions, &types, &policy.compliance);
    let mut findings = match scanned.await {
        Ok(findings) => findings,
        Err(e) => {
            let why = format!("scan of {region}: {e} ({})", e.kind.as_str());
            report.failures.push(why.clone());
            return Err(Failure::new(why));
        }
    };
    tracing::info!(
        resources = findings.len(),
        types = types.len(),
        region,
        "scanned"
    );
    report.scanned = true;
    tagwarden_flow::check::attribution(shared.store().await, &policy.attribution, &mut findings)
        .await
        .map_err(|e| Failure::new(format!("audit store: {e}")))?;
    fill_missing(shared, &policy, job, &findings, report).await?;
    report.findings.extend(findings);
    Ok(())
}

/// The schedule's check of what the function acted on against
/// CloudTrail's signed digests ([`tagwarden_flow::confirm`]): what they do
/// not vouch for is alerted. Needs the trail bucket.
pub async fn confirm(shared: &Shared, report: &mut Report) -> Result<(), Failure> {
    let Some(bucket) = &shared.config.trail_bucket else {
        return Ok(());
    };
    let keys = Keys::of(shared.config.public_keys.as_deref()).map_err(Failure::new)?;
    let clients = Arc::clone(shared.clients().await);
    let store = shared.store().await;
    let out = tagwarden_flow::confirm::recent(clients, store, keys, bucket, jiff::Timestamp::now())
        .await
        .map_err(|e| Failure::new(format!("confirming what was acted on: {e}")))?;
    for line in &out.alerts {
        tracing::warn!(evidence = %line, "not vouched for by CloudTrail's digests");
    }
    tracing::info!(
        settled = out.rows.len(),
        waiting = out.waiting,
        unverified = out.alerts.len(),
        "evidence checked against the digests"
    );
    report.unverified.extend(out.alerts);
    Ok(())
}

/// With `TAGWARDEN_REMEDIATE`: fills what the findings lack, as `scan
/// --remediate` does, recorded under one event named after the
/// invocation, so a retry is recorded once.
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
    let id = format!("tagwarden-remediate-{}", job.id);
    let agent = format!("tagwarden-lambda/{}", env!("CARGO_PKG_VERSION"));
    let (event, actor) = stand_in(clients, id, job.at, agent)
        .await
        .map_err(|e| Failure::new(format!("who is remediating: {e}")))?;
    let remedies = remedies(&policy.compliance, findings, &event, &actor);
    if remedies.items.is_empty() {
        return Ok(());
    }
    let tagger = AwsTagger::new(Arc::clone(clients));
    let tagging = Tagging::live(&tagger, Options::default());
    let done = remediate(tagging, shared.store().await, &remedies.items).await;
    report.remediation(&done.outcomes);
    let retry = done.to_retry();
    done.recorded
        .map_err(|e| Failure::new(format!("audit store: {e}")))?;
    tracing::info!(
        remediated = report.remediated,
        skipped = remedies.skipped,
        "remediated"
    );
    match retry {
        0 => Ok(()),
        _ => Err(Failure::new("remediation could not finish yet")),
    }
}
