//! Attribution in the function: payload (and the CloudTrail objects an S3
//! notification names, streamed) → records → catalog → attribution → plan
//! → apply → record → the report's counts and verdicts.

use crate::report::Report;
use crate::state::{Failure, Shared};
use std::io::{self, Read};
use std::sync::Arc;
use tagwarden_aws::adapters::AwsTagger;
use tagwarden_aws::apply::{apply, Options, Outcome, Status};
use tagwarden_aws::error::ErrorKind;
use tagwarden_aws::inventory::Found as Resource;
use tagwarden_aws::record;
use tagwarden_aws::s3_source::{self, DateRange, Object, Prefetch};
use tagwarden_core::compliance::in_scope;
use tagwarden_core::pipeline::{Creation, Found, ObjectRef, Pipeline, TagChange, Window};
use tagwarden_core::plan::{Plan, Planner};
use tagwarden_core::policy::Policy;
use tagwarden_core::report::Attributed;
use tagwarden_store::AuditStore;

/// Objects downloading ahead of the one being read.
const FETCH_AHEAD: usize = 2;

/// What the documents held: creations are kept (small), records are not.
#[derive(Default)]
struct Reading {
    pipeline: Pipeline,
    creations: Vec<Creation>,
    changes: Vec<TagChange>,
    fetches: Vec<ObjectRef>,
    bad_input: u64,
}

impl Reading {
    fn read(&mut self, origin: &str, src: impl Read) {
        let (creations, changes, fetches, bad) = (
            &mut self.creations,
            &mut self.changes,
            &mut self.fetches,
            &mut self.bad_input,
        );
        self.pipeline.read(origin, src, &mut |found| match found {
            Found::Creation(c) => creations.push(*c),
            Found::TagChange(c) => changes.push(*c),
            Found::Fetch(o) => fetches.push(o),
            Found::Error(e) => {
                *bad += 1;
                tracing::error!(origin = %e.origin, place = %e.place, error = %e.message, "bad input");
            }
        });
    }
}

/// A reader that remembers why it stopped early: a log that could not be
/// fetched whole is delivered again, not taken as read.
struct Tracked<R> {
    inner: R,
    failed: Option<String>,
}

impl<R: Read> Read for Tracked<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        self.inner.read(buf).inspect_err(|e| {
            self.failed.get_or_insert_with(|| e.to_string());
        })
    }
}

/// Attributes what `payload` (an S3 notification, an EventBridge API-call
/// event, CloudTrail records) created.
pub async fn attribute(
    shared: &Shared,
    origin: &str,
    payload: &[u8],
    report: &mut Report,
) -> Result<(), Failure> {
    let policy = shared.policy().await?;
    let mut reading = Reading {
        pipeline: Pipeline::new(Window::default()),
        ..Reading::default()
    };
    reading.read(origin, payload);
    let named = std::mem::take(&mut reading.fetches);
    // Notifications are accepted for the trail's bucket only, before
    // anything is read.
    if let Some(trail) = &shared.config.trail_bucket {
        if let Some(o) = named.iter().find(|o| &o.bucket != trail) {
            return Err(Failure::new(format!(
                "{origin}: an S3 notification for {o}, not the trail bucket {trail}: refused"
            )));
        }
    }
    let mut objects = Vec::new();
    for o in named {
        if !s3_source::wanted(&o.key, &DateRange::default()) {
            tracing::info!(object = %o, "not a CloudTrail log (digest, insight or folder): skipped");
            continue;
        }
        let client = shared.bucket_client(&o.bucket).await;
        objects.push((
            client,
            Object {
                bucket: o.bucket,
                key: o.key,
                size: 0,
            },
        ));
    }
    let mut unread = Vec::new();
    if !objects.is_empty() {
        let handle = tokio::runtime::Handle::current();
        // The pipeline reads synchronously; the object streams in on the
        // runtime meanwhile, never held whole.
        (reading, unread) = tokio::task::spawn_blocking(move || {
            let mut unread = Vec::new();
            for (object, body) in Prefetch::new(handle, objects, FETCH_AHEAD) {
                let mut body = Tracked {
                    inner: body,
                    failed: None,
                };
                reading.read(&object.url(), &mut body);
                if let Some(e) = body.failed {
                    unread.push(format!("{}: {e}", object.url()));
                }
            }
            (reading, unread)
        })
        .await
        .map_err(|e| Failure::new(format!("{origin}: reading the logs stopped: {e}")))?;
        for o in &reading.fetches {
            tracing::warn!(object = %o, "named by a notification inside an S3 object: not followed");
        }
    }
    let stats = reading.pipeline.stats();
    tracing::info!(
        origin,
        documents = stats.documents,
        records = stats.records,
        creations = stats.creations,
        bad_input = reading.bad_input,
        "read"
    );
    let mut planner = Planner::new(&policy);
    for c in &reading.creations {
        planner.add(c);
    }
    let plan = planner.finish();
    // What was read is applied even when a log broke off: the rest comes
    // with the delivery again, and what is done is not done twice.
    settle(shared, &policy, &plan, &reading.changes, report).await?;
    if !unread.is_empty() {
        return Err(Failure::new(format!(
            "could not be read whole: {}",
            unread.join("; ")
        )));
    }
    Ok(())
}

/// plan → apply → record → report; fails (to be delivered again) when the
/// store refused the rows or resources are not taggable yet. Denied
/// resources are recorded as failed and alerted, not retried: an operator
/// must act, and `tagwarden apply --retry-failed` retries them.
pub async fn settle(
    shared: &Shared,
    policy: &Policy,
    plan: &Plan,
    changes: &[TagChange],
    report: &mut Report,
) -> Result<(), Failure> {
    let clients = shared.clients().await;
    let outcomes = match plan.items.is_empty() {
        true => Vec::new(),
        false => {
            let opts = Options {
                overwrite: policy.attribution.overwrite,
                ..Options::default()
            };
            let tagger = AwsTagger::new(Arc::clone(clients));
            apply(&tagger, &plan.items, &opts, &|_| {}).await
        }
    };
    let rows = record::rows(plan, changes, &outcomes, &record::now());
    let recorded = match rows.history.is_empty() && rows.actions.is_empty() {
        true => Ok(Default::default()),
        false => shared.store().await.record(&rows).await,
    };
    let mut retry = 0;
    for o in &outcomes {
        retry += usize::from(count(policy, o, report));
    }
    for u in &plan.untouched {
        report
            .attributed
            .push((u.resource_type, Attributed::Skipped));
    }
    match recorded {
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
                unrecorded = %serde_json::to_string(&rows).unwrap_or_default(),
                "audit store refused the batch"
            );
            return Err(Failure::new(format!("audit store: {e}")));
        }
    }
    if retry > 0 {
        return Err(Failure::new(format!(
            "{retry} resources could not be tagged yet (throttled, not visible or unavailable)"
        )));
    }
    Ok(())
}

/// Counts one outcome; a resource tagwarden just tagged is judged too (a
/// replay tags nothing, so it alerts nothing). True when worth retrying.
fn count(policy: &Policy, o: &Outcome, report: &mut Report) -> bool {
    match &o.status {
        Status::Tagged => {
            report
                .attributed
                .push((o.resource_type, Attributed::Tagged));
            if in_scope(&policy.compliance, o.resource_type) {
                let mut tags = o.before.clone().unwrap_or_default();
                for (k, v) in &o.written {
                    tags.insert(k.as_str().to_string(), v.as_str().to_string());
                }
                let now = Resource {
                    arn: o.arn.clone(),
                    resource_type: o.resource_type,
                    account: o.account.clone(),
                    region: o.region.clone(),
                    tags,
                };
                report.findings.push(now.judge(&policy.compliance));
            }
            false
        }
        Status::WouldTag | Status::AlreadyTagged | Status::Full => {
            report
                .attributed
                .push((o.resource_type, Attributed::Skipped));
            false
        }
        Status::Failed { error } => {
            report
                .attributed
                .push((o.resource_type, Attributed::Failed));
            tracing::error!(arn = %o.arn, kind = error.kind.as_str(), error = %error, "not tagged");
            report
                .failures
                .push(format!("{}: {} ({})", o.arn, error, error.kind.as_str()));
            worth_retrying(error.kind)
        }
    }
}

/// Throttling and outages pass; a resource still not found after apply's
/// backoff is most often gone (CloudTrail logs arrive minutes late), so it
/// stays recorded as failed instead of sending the whole delivery round
/// again and into the DLQ.
pub fn worth_retrying(kind: ErrorKind) -> bool {
    matches!(kind, ErrorKind::Throttled | ErrorKind::Transient)
}
