//! One invocation: payload → [`trigger::classify`] → the job for its row →
//! the response Lambda expects. An SQS batch runs each message as its own
//! trigger and answers with the failed ones (`batchItemFailures`), so only
//! those are delivered again; anything else that fails is returned as an
//! error, so that Lambda retries it and then sends it to the DLQ.

use crate::attribute::{attribute, settle};
use crate::check::{check, scan};
use crate::report::{Report, Run};
use crate::state::{Failure, Shared};
use aws_lambda_events::event::sqs::{BatchItemFailure, SqsBatchResponse};
use serde_json::{json, Value};
use tagwarden_core::catalog::Scope;
use tagwarden_core::pipeline::partition_of_region;
use tagwarden_core::plan::Planner;
use tagwarden_core::tags::{is_reserved, TagKey, TagValue};
use tagwarden_core::trigger::{self, classify, Direct, Trigger};

/// Runs one invocation; `request_id` names it in logs and in the events it
/// stands for.
pub async fn handle(shared: &Shared, request_id: &str, payload: &[u8]) -> Result<Value, Failure> {
    let trigger = classify(payload).map_err(|why| {
        tracing::error!(request_id, why = %why, "event refused: nothing was done");
        Failure::new(format!("event refused: {why}"))
    })?;
    tracing::info!(request_id, trigger = kind(&trigger), "invocation");
    let mut report = Report::default();
    let result = match trigger {
        Trigger::Batch(messages) => {
            let mut response = SqsBatchResponse::default();
            for m in messages {
                let origin = format!("sqs message {}", m.id);
                let done = match classify(m.body.as_bytes()) {
                    Ok(Trigger::Batch(_)) => {
                        Err(Failure::new("an SQS batch inside an SQS message: refused"))
                    }
                    Ok(t) => run(shared, &origin, &m.id, t, m.body.as_bytes(), &mut report).await,
                    Err(why) => Err(Failure::new(format!("event refused: {why}"))),
                };
                if let Err(e) = done {
                    tracing::error!(request_id, message_id = %m.id, error = %e, "message failed: delivered again");
                    let mut failure = BatchItemFailure::default();
                    failure.item_identifier = m.id;
                    response.batch_item_failures.push(failure);
                }
            }
            serde_json::to_value(response).map_err(|e| Failure::new(e.to_string()))
        }
        t => {
            let origin = format!("invocation {request_id}");
            run(shared, &origin, request_id, t, payload, &mut report)
                .await
                .map(|()| summary(&report))
        }
    };
    let at = jiff::Timestamp::now();
    let id = format!("{}-{request_id}", at.strftime("%Y%m%dT%H%M%SZ"));
    report.flush(shared, &Run { id: &id, at }).await;
    if let Err(e) = &result {
        tracing::error!(request_id, error = %e, "invocation failed: delivered again");
    }
    result
}

fn kind(t: &Trigger) -> &'static str {
    match t {
        Trigger::Attribute => "attribute",
        Trigger::Check => "check",
        Trigger::Scan { .. } => "scan",
        Trigger::Batch(_) => "sqs-batch",
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
        "checked": report.findings.len(),
        "remediated": report.remediated,
        "non_compliant": report.findings.iter().filter(|f| !f.verdict.compliant).count(),
    })
}

async fn run(
    shared: &Shared,
    origin: &str,
    id: &str,
    trigger: Trigger,
    payload: &[u8],
    report: &mut Report,
) -> Result<(), Failure> {
    match trigger {
        Trigger::Attribute => attribute(shared, origin, payload, report).await,
        Trigger::Check => check(shared, origin, id, payload, report).await,
        Trigger::Scan { account, region } => scan(shared, id, &account, &region, report).await,
        Trigger::Direct(d) => direct(shared, id, &d, report).await,
        Trigger::Batch(_) => Err(Failure::new("nested batch")),
    }
}

/// Tags one resource on `user`'s behalf. The event id is the invocation's
/// (or SQS message's), which a retry keeps: a retried request is one event.
async fn direct(shared: &Shared, id: &str, d: &Direct, report: &mut Report) -> Result<(), Failure> {
    let policy = shared.policy().await?;
    let clients = shared.clients().await;
    let account = clients
        .own_account()
        .await
        .map_err(|e| Failure::new(format!("who am I: {e}")))?;
    let region = clients.default_region().unwrap_or("us-east-1").to_string();
    let home = Scope {
        partition: partition_of_region(&region),
        region: &region,
        account: &account,
    };
    let time = jiff::Timestamp::now()
        .strftime("%Y-%m-%dT%H:%M:%SZ")
        .to_string();
    let creation = d
        .creation(&home, &format!("tagwarden-direct-{id}"), &time)
        .map_err(Failure::new)?;
    let mut planner = Planner::new(&policy);
    planner.add(&creation);
    let mut plan = planner.finish();
    // The extra tags asked for join the policy's, which win; reserved or
    // invalid keys are refused before anything is written.
    for (k, v) in &d.tags {
        let key = TagKey::new(k)
            .ok()
            .filter(|_| !is_reserved(k))
            .ok_or_else(|| {
                Failure::new(format!(
                    "direct invocation: tag key `{k}` cannot be written"
                ))
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
    tracing::info!(resource = %creation.resources[0].arn, user = %d.user, event = trigger::DIRECT_EVENT, "direct invocation");
    settle(shared, &policy, &plan, &[], report).await
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
        let e = block_on(handle(&shared(), "r-1", br#"{"hello":1}"#)).unwrap_err();
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
        let out = block_on(handle(&shared(), "r-2", batch.to_string().as_bytes())).unwrap();
        assert_eq!(
            out,
            json!({"batchItemFailures": [
                {"itemIdentifier": "m-1"}, {"itemIdentifier": "m-2"}, {"itemIdentifier": "m-3"}
            ]})
        );
    }
}
