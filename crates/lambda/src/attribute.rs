//! Attribution in the function: the payload (and the CloudTrail objects an
//! S3 notification names, streamed) → [`tagwarden_flow::read`] → plan →
//! [`tagwarden_flow::attribute`] → the report; then what to answer Lambda.

use crate::job::{Done, Job};
use crate::state::{Failure, Shared};
use std::sync::Arc;
use tagwarden_aws::adapters::AwsTagger;
use tagwarden_aws::apply::{Backoff, Options};
use tagwarden_core::pipeline::TagChange;
use tagwarden_core::plan::Plan;
use tagwarden_core::policy::Policy;
use tagwarden_core::waiting;
use tagwarden_flow::attribute::Tagging;
use tagwarden_flow::children::{has_children, with_children};
use tagwarden_flow::parts::{Failed, Part};
use tagwarden_flow::read;
use tagwarden_flow::report::Report;

/// Objects downloading ahead of the one being read.
const FETCH_AHEAD: usize = 2;

/// Attributes what `payload` (an S3 notification, an EventBridge API-call
/// event) created, part by part ([`tagwarden_flow::parts`]): each part is
/// settled before the next is read, and moves its log's checkpoint on.
pub async fn attribute(
    shared: &Shared,
    job: &Job<'_>,
    payload: &[u8],
    report: &mut Report,
) -> Result<Done, Failure> {
    attribute_together(shared, job.attempt, &[(job.origin, payload)], report).await
}

/// [`attribute`] for several payloads (origin, bytes) delivered `attempt`
/// times before, as one: an SQS batch's events make one plan, one write
/// per batch of resources and one record, where each alone would make its
/// own. They share one result.
pub async fn attribute_together(
    shared: &Shared,
    attempt: u32,
    payloads: &[(&str, &[u8])],
    report: &mut Report,
) -> Result<Done, Failure> {
    let origin = match payloads {
        [(one, _)] => one.to_string(),
        many => format!("{} messages", many.len()),
    };
    let origin = origin.as_str();
    let policy = shared.policy().await?;
    let trail = shared.config.trail_bucket.as_deref();
    let accounts = shared.accounts().await?;
    let clients = shared.clients().await;
    let store = shared.store().await;
    let parts = tagwarden_flow::parts::read(
        clients,
        store,
        payloads,
        trail,
        accounts,
        FETCH_AHEAD,
        shared.config.part_creations,
    )
    .await
    .map_err(|e| Failure::new(format!("{origin}: {e}")))?;
    for o in &parts.skipped {
        tracing::info!(object = %o, "not a CloudTrail log (digest, insight or folder): skipped");
    }
    for o in &parts.settled {
        tracing::info!(object = %o, "read whole by an earlier delivery: not read again");
    }
    let from = Asserted::CloudTrail { attempt };
    let delivered = parts
        .settle_each(store, async |part: &Part| {
            let done = settle_part(shared, &policy, part, from, report).await?;
            Ok::<_, Failure>(done == Done::Waiting)
        })
        .await;
    let stats = match delivered.stats {
        Ok(stats) => {
            tracing::info!(
                origin,
                documents = stats.documents,
                records = stats.records,
                creations = stats.creations,
                sessions = stats.sessions,
                bad_input = stats.errors,
                "read"
            );
            Ok(())
        }
        Err(e) => Err(Failure::new(e)),
    };
    if !delivered.unread.is_empty() {
        return Err(Failure::new(format!(
            "could not be read whole: {}",
            delivered.unread.join("; ")
        )));
    }
    match delivered.failure {
        Some(Failed::Settle(e)) => return Err(e),
        Some(Failed::Store(e)) => return Err(Failure::new(format!("audit store: {e}"))),
        None => stats?,
    }
    Ok(match delivered.waiting {
        true => Done::Waiting,
        false => Done::Finished,
    })
}

/// One part: its input errors logged, its blinding calls recorded and
/// alerted (first: they are alerted even when the rest fails), then
/// [`settle`]d.
async fn settle_part(
    shared: &Shared,
    policy: &Policy,
    part: &Part,
    from: Asserted,
    report: &mut Report,
) -> Result<Done, Failure> {
    for o in &part.named {
        tracing::warn!(object = %o, "named by a notification inside an S3 object: not followed");
    }
    for e in &part.found.errors {
        tracing::error!(origin = %e.origin, place = %e.place, error = %e.message, "bad input");
    }
    let now = tagwarden_store::rows::now();
    let watched = tagwarden_flow::watch::record(shared.store().await, &part.found.watched, &now)
        .await
        .map_err(|e| Failure::new(format!("audit store: {e}")))?;
    for c in &watched {
        tracing::warn!(actor = %c.actor.id, call = %c.event.name, target = %c.target, "a call that blinds tagwarden");
    }
    report.blinding(&watched);
    // This part's sessions are kept first, so that a later part finds them.
    let f = &part.found;
    let directory = shared.directory().await;
    let store = Some(shared.store().await);
    let planned = read::plan_part(
        directory,
        store,
        policy,
        &f.creations,
        f.chains.clone(),
        true,
        None,
    )
    .await;
    for e in planned.unnamed {
        tracing::error!(error = %e, "an Identity Center user is named by id");
        report.failures.push(e);
    }
    planned
        .store
        .map_err(|e| Failure::new(format!("audit store: {e}")))?;
    let plan = planned.plan;
    settle(shared, policy, &plan, &part.found.changes, from, report).await
}

/// Who vouches for a plan, which bounds what it may do.
#[derive(Debug, Clone, Copy)]
pub enum Asserted {
    /// CloudTrail: the policy's `overwrite` holds, and a delivery whose
    /// resources are being created may wait in the event queue (`attempt`
    /// times so far).
    CloudTrail { attempt: u32 },
    /// A direct invocation, which anyone allowed to invoke could send:
    /// it never replaces a tag, and it does not wait in the event queue,
    /// which takes only what AWS sends (the invoker is told to retry).
    Direct,
}

/// plan → apply → record → report; fails (to be delivered again) when the
/// store refused the rows or resources are throttled or unavailable.
/// Resources still being created wait ([`Done::Waiting`]) while the
/// delivery has attempts left and the event queue can take it back.
/// Denied resources are recorded as failed and alerted, not retried: an
/// operator must act, and `tagwarden apply --retry-failed` retries them.
pub async fn settle(
    shared: &Shared,
    policy: &Policy,
    plan: &Plan,
    changes: &[TagChange],
    from: Asserted,
    report: &mut Report,
) -> Result<Done, Failure> {
    let (attempt, overwrite, queue) = match from {
        Asserted::CloudTrail { attempt } => (
            attempt,
            policy.attribution.overwrite,
            shared.config.event_queue.is_some(),
        ),
        Asserted::Direct => (0, false, false),
    };
    // A delivery that came back: only what still waits, and the tag calls
    // beside it were recorded the first time.
    let narrowed;
    let (plan, changes) = if attempt > 0 {
        narrowed = tagwarden_flow::attribute::still_waiting(shared.store().await, plan)
            .await
            .map_err(|e| Failure::new(format!("audit store: {e}")))?;
        (&narrowed, &[][..])
    } else {
        (plan, changes)
    };
    let tagger = AwsTagger::new(Arc::clone(shared.clients().await));
    // An instance's volumes, read once before the first try.
    let expanded;
    let plan = if attempt == 0 && has_children(plan) {
        let (with, errors) = with_children(&tagger, plan.clone(), Backoff::default()).await;
        for e in errors {
            tracing::error!(error = %e, "children not read: left untagged");
            report.failures.push(e);
        }
        expanded = with;
        &expanded
    } else {
        plan
    };
    let opts = Options {
        overwrite,
        may_wait: queue && waiting::may_wait(attempt),
        ..Options::default()
    };
    let tagging = Tagging::live(&tagger, opts);
    let settled =
        tagwarden_flow::attribute::settle(tagging, shared.store().await, plan, changes).await;
    report.attribution(policy, plan, &settled.outcomes);
    report.tampering(&settled.undone);
    for t in &settled.undone.tampers {
        tracing::warn!(arn = %t.arn, actor = %t.actor, event = %t.event.id, "protected key removed or changed: restored");
    }
    if let Some(Err(e)) = &settled.undone.recorded {
        tracing::error!(error = %e, "audit store: the tampering could not be recorded");
        return Err(Failure::new(format!("audit store: {e}")));
    }
    for (o, e) in settled
        .outcomes
        .iter()
        .filter_map(|o| Some((o, o.error()?)))
    {
        let detail = e.detail.as_deref().unwrap_or_default();
        tracing::error!(arn = %o.arn, kind = e.kind.as_str(), error = %e, detail, "not tagged");
    }
    match &settled.recorded {
        Ok(r) => tracing::info!(
            history = r.history,
            actions = r.actions,
            metadata = r.metadata,
            "recorded"
        ),
        Err(e) => {
            // Kept in the log, whole: `tagwarden store import` records it.
            tracing::error!(
                error = %e,
                detail = e.detail.as_deref().unwrap_or_default(),
                unrecorded = %serde_json::to_string(&settled.rows).unwrap_or_default(),
                "audit store refused the batch"
            );
            return Err(Failure::new(format!("audit store: {e}")));
        }
    }
    match settled.to_retry() {
        0 if settled.waiting() > 0 => Ok(Done::Waiting),
        0 => Ok(Done::Finished),
        n => Err(Failure::new(format!(
            "{n} resources could not be tagged yet (throttled, not visible or unavailable)"
        ))),
    }
}
