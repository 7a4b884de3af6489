//! One invocation: payload → [`trigger::classify`] → the job for its row →
//! the response Lambda expects. An SQS batch runs each message as its own
//! trigger and answers with the failed ones (`batchItemFailures`), so only
//! those are delivered again; anything else that fails is returned as an
//! error, so that Lambda retries it and then sends it to the DLQ. A
//! delivery whose resources are still being created goes back to the event
//! queue, delayed ([`tagwarden_aws::requeue`]), and counts as done.

use crate::attribute::{attribute, attribute_together, settle, Asserted};
use crate::check::{check, confirm, scan};
use crate::job::{Done, Job};
use crate::report::flush;
use crate::state::{Failure, Shared};
use aws_lambda_events::event::sqs::{BatchItemFailure, SqsBatchResponse};
use serde_json::{json, Value};
use std::time::Instant;
use tagwarden_aws::dead_letter::{park, Refused};
use tagwarden_aws::requeue::{requeue, Waiting};
use tagwarden_core::trigger::{self, classify, classify_message, Direct, Message, Trigger};
use tagwarden_flow::report::Report;
use tagwarden_flow::sinks::{seconds, Run};

/// The batch's session hops, kept before any of its messages is run: a
/// creation may come before the session that explains it. A failure is
/// logged only: each message keeps its own hops again when it is run.
async fn keep_sessions(shared: &Shared, messages: &[tagwarden_core::trigger::Message]) {
    let Ok(accounts) = shared.accounts().await else {
        return;
    };
    let bodies = messages.iter().map(|m| m.body.as_bytes());
    let store = shared.store().await;
    let kept =
        tagwarden_flow::read::keep_batch_sessions(store, bodies, shared.gate(), accounts).await;
    if let Err(e) = kept {
        tracing::warn!(error = %e, "the batch's sessions were not kept ahead");
    }
}

/// Runs one invocation; `request_id` names it in logs and in the events it
/// stands for, `deadline` is Lambda's for it.
pub async fn handle(
    shared: &Shared,
    request_id: &str,
    deadline: Option<Instant>,
    payload: &[u8],
) -> Result<Value, Failure> {
    let trigger = classify(payload, shared.gate()).map_err(|why| {
        tracing::error!(request_id, why = %why, "event refused: nothing was done");
        Failure::new(format!("event refused: {why}"))
    })?;
    tracing::info!(request_id, trigger = kind(&trigger), "invocation");
    let at = trigger::event_time(payload).unwrap_or_else(now);
    let mut report = Report::default();
    let result = match trigger {
        Trigger::SqsBatch(messages) => {
            keep_sessions(shared, &messages).await;
            let mut again = Vec::new();
            let mut refusals = Vec::new();
            let mut waiting = Vec::new();
            let (together, alone) = trigger::together(messages, shared.gate());
            if !together.is_empty() {
                let origins: Vec<String> = together
                    .iter()
                    .map(|m| format!("sqs message {}", m.id))
                    .collect();
                let payloads: Vec<(&str, &[u8])> = origins
                    .iter()
                    .zip(&together)
                    .map(|(o, m)| (o.as_str(), m.body.as_bytes()))
                    .collect();
                match attribute_together(shared, 0, &payloads, &mut report).await {
                    Ok(Done::Finished) => {}
                    Ok(Done::Waiting) => waiting.extend(together.into_iter().map(|m| {
                        let origin = first_delivery(&m);
                        Waiting {
                            id: m.id,
                            body: m.body,
                            attempt: m.attempt,
                            origin,
                        }
                    })),
                    Err(e) => {
                        for m in together {
                            tracing::error!(request_id, message_id = %m.id, error = %e, "message failed: delivered again");
                            again.push(m.id);
                        }
                    }
                }
            }
            for m in alone {
                let origin = format!("sqs message {}", m.id);
                let refused = |why: String| Left::Refused(format!("event refused: {why}"));
                let done = match classify_message(m.body.as_bytes(), shared.gate()) {
                    Ok(t) => {
                        let (id, at) = first_delivery(&m);
                        let job = Job {
                            origin: &origin,
                            id: &id,
                            at: &at,
                            attempt: m.attempt,
                        };
                        run(shared, &job, t, m.body.as_bytes(), &mut report)
                            .await
                            .map(|done| (done, (id.clone(), at.clone())))
                            .map_err(Left::Failed)
                    }
                    Err(why) => Err(refused(why)),
                };
                match done {
                    Ok((Done::Finished, _)) => {}
                    Ok((Done::Waiting, origin)) => waiting.push(Waiting {
                        id: m.id,
                        body: m.body,
                        attempt: m.attempt,
                        origin,
                    }),
                    Err(Left::Failed(e)) => {
                        tracing::error!(request_id, message_id = %m.id, error = %e, "message failed: delivered again");
                        again.push(m.id);
                    }
                    Err(Left::Refused(why)) => refusals.push(Refused {
                        id: m.id,
                        body: m.body,
                        why,
                    }),
                }
            }
            let queue = shared.config.dead_letter_queue.as_deref();
            again.extend(park(shared.clients().await, queue, refusals).await);
            again.extend(wait(shared, request_id, waiting).await);
            let mut response = SqsBatchResponse::default();
            for id in again {
                let mut failure = BatchItemFailure::default();
                failure.item_identifier = id;
                response.batch_item_failures.push(failure);
            }
            serde_json::to_value(response).map_err(|e| Failure::new(e.to_string()))
        }
        t => {
            let origin = format!("invocation {request_id}");
            let job = Job {
                origin: &origin,
                id: request_id,
                at: &at,
                attempt: 0,
            };
            match run(shared, &job, t, payload, &mut report).await {
                Ok(Done::Waiting) => {
                    let body = String::from_utf8_lossy(payload).into_owned();
                    let w = Waiting {
                        id: request_id.to_string(),
                        body,
                        attempt: 0,
                        origin: (request_id.to_string(), at.clone()),
                    };
                    match wait(shared, request_id, vec![w]).await.is_empty() {
                        true => Ok(summary(&report)),
                        false => Err(Failure::new(
                            "resources being created, and the event queue refused the delivery",
                        )),
                    }
                }
                done => done.map(|_| summary(&report)),
            }
        }
    };
    // Named after the event's own time and the request id, which a retry
    // keeps: a retried scan writes the same scan log object again.
    let stamp = at
        .parse::<jiff::Timestamp>()
        .unwrap_or_else(|_| jiff::Timestamp::now());
    let id = format!("{}-{request_id}", stamp.strftime("%Y%m%dT%H%M%SZ"));
    flush(report, shared, &Run::new(id, stamp), deadline).await;
    if let Err(e) = &result {
        tracing::error!(request_id, error = %e, "invocation failed: delivered again");
    }
    result
}

/// A delivery's event id and time: a delivery that came back keeps its
/// first id and time.
fn first_delivery(m: &Message) -> (String, String) {
    m.origin.clone().unwrap_or_else(|| {
        let at = trigger::event_time(m.body.as_bytes())
            .or_else(|| m.sent_ms.and_then(rfc3339))
            .unwrap_or_else(now);
        (m.id.clone(), at)
    })
}

/// Sends deliveries that wait back to the event queue; returns the ids of
/// those it could not send, to be delivered again by their own retry.
async fn wait(shared: &Shared, request_id: &str, waiting: Vec<Waiting>) -> Vec<String> {
    if waiting.is_empty() {
        return Vec::new();
    }
    let queue = shared.config.event_queue.as_deref();
    let r = requeue(shared.clients().await, queue, waiting).await;
    for id in &r.sent {
        tracing::info!(request_id, delivery = %id, "resources being created: delivery sent back to wait");
    }
    // A delivery past its last attempt ran with waiting off: its resources
    // are recorded as failed already, so none is left here.
    for id in &r.over {
        tracing::error!(request_id, delivery = %id, "resources still being created after the last attempt");
    }
    r.not_sent
        .into_iter()
        .map(|(id, why)| {
            tracing::error!(request_id, delivery = %id, error = %why, "could not send the delivery back to wait: delivered again");
            id
        })
        .collect()
}

/// Why an SQS message was not done: a failure may pass when delivered
/// again; a refusal never will.
enum Left {
    Failed(Failure),
    Refused(String),
}

fn kind(t: &Trigger) -> &'static str {
    match t {
        Trigger::Attribute => "attribute",
        Trigger::Check => "check",
        Trigger::Scan { .. } => "scan",
        Trigger::SqsBatch(_) => "sqs-batch",
        Trigger::Direct(_) => "direct",
    }
}

/// What a (non-SQS) invocation answers: counts, for whoever invoked it.
fn summary(report: &Report) -> Value {
    let n = |how| report.attributed.iter().filter(|(_, h)| *h == how).count();
    use tagwarden_core::report::Attributed::*;
    json!({
        "tagged": n(Tagged),
        "skipped": n(Skipped),
        "failed": n(Failed),
        "pending": n(Pending),
        "checked": report.findings.len(),
        "remediated": report.remediated,
        "non_compliant": report.findings.iter().filter(|f| !f.verdict.compliant).count(),
    })
}

fn now() -> String {
    seconds(jiff::Timestamp::now())
}

fn rfc3339(ms: i64) -> Option<String> {
    jiff::Timestamp::from_millisecond(ms).ok().map(seconds)
}

async fn run(
    shared: &Shared,
    job: &Job<'_>,
    trigger: Trigger,
    payload: &[u8],
    report: &mut Report,
) -> Result<Done, Failure> {
    let finished = |r: Result<(), Failure>| r.map(|()| Done::Finished);
    match trigger {
        Trigger::Attribute => attribute(shared, job, payload, report).await,
        Trigger::Check => finished(check(shared, job, payload, report).await),
        Trigger::Scan { account, region } => {
            let scanned = scan(shared, job, &account, &region, report).await;
            // Only this account's schedule (the scan refuses any other).
            let confirmed = match shared.home().await {
                Ok((own, _)) if own == account => confirm(shared, report).await,
                _ => Ok(()),
            };
            finished(scanned.and(confirmed))
        }
        Trigger::Direct(d) => direct(shared, job, &d, report).await,
        Trigger::SqsBatch(_) => Err(Failure::new("nested batch")),
    }
}

/// Tags one resource on `user`'s behalf. The event id is the invocation's,
/// which a retry keeps: a retried request is one event. Lambda does not
/// say who invoked, so the store records it as a direct invocation with
/// that request id, never as CloudTrail's word.
async fn direct(
    shared: &Shared,
    job: &Job<'_>,
    d: &Direct,
    report: &mut Report,
) -> Result<Done, Failure> {
    let policy = shared.policy().await?;
    let accounts = shared.accounts().await?;
    let clients = shared.clients().await;
    let event_id = format!("tagwarden-direct-{}", job.id);
    let plan = tagwarden_flow::direct::plan(clients, &policy, &accounts, d, &event_id, job.at)
        .await
        .map_err(Failure::new)?;
    let mut arns = plan.items.iter().chain(&plan.untouched).map(|i| &i.arn);
    let resource = arns.next().map(String::as_str).unwrap_or_default();
    tracing::info!(resource, user = %d.user, event = trigger::DIRECT_EVENT, "direct invocation");
    settle(shared, &policy, &plan, &[], Asserted::Direct, report).await
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::Config;

    fn shared() -> Shared {
        let env = |k: &str| match k {
            "TAGWARDEN_ENVIRONMENT" => Some("t".to_string()),
            "TAGWARDEN_TABLE_SUFFIX" => Some("t".to_string()),
            _ => None,
        };
        Shared::new(Config::from_env(env).unwrap())
    }

    fn block_on<F: std::future::Future>(f: F) -> F::Output {
        tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap()
            .block_on(f)
    }

    #[test]
    fn a_stranger_is_refused_before_any_work() {
        let e = block_on(handle(&shared(), "r-1", None, br#"{"hello":1}"#)).unwrap_err();
        assert!(e.0.starts_with("event refused: neither"), "{e}");
    }

    #[test]
    fn refused_messages_are_handed_back_one_by_one() {
        let sqs =
            |id: &str, body: &str| json!({"messageId": id, "body": body, "eventSource": "aws:sqs"});
        let batch = json!({"Records": [
            sqs("m-1", r#"{"hello":1}"#),
            sqs("m-2", "not json"),
            sqs("m-3", &json!({"Records": [{"eventSource": "aws:sqs", "messageId": "x", "body": "{}"}]}).to_string()),
        ]});
        let out = block_on(handle(&shared(), "r-2", None, batch.to_string().as_bytes())).unwrap();
        assert_eq!(
            out,
            json!({"batchItemFailures": [
                {"itemIdentifier": "m-1"}, {"itemIdentifier": "m-2"}, {"itemIdentifier": "m-3"}
            ]})
        );
    }
}
