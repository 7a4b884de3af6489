//! `bootstrap`: tagwarden's AWS Lambda function. One binary for every
//! trigger (S3 log notifications, EventBridge API calls and EC2 state
//! changes, the schedule, SQS batches, direct invocations), running the
//! same pipeline as the CLI: the handler only turns the event into sources
//! and the results into sinks.
//!
//! event → [`dispatch`] → [`attribute`] | [`check`] → [`report`]

mod attribute;
mod check;
mod config;
mod dispatch;
mod job;
mod report;
mod state;

use lambda_runtime::{service_fn, LambdaEvent};
use serde_json::Value;
use std::sync::Arc;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), lambda_runtime::Error> {
    // JSON lines with the request id when the function's log format is
    // JSON (AWS_LAMBDA_LOG_FORMAT), as the template sets it.
    lambda_runtime::tracing::init_default_subscriber();
    let config = config::Config::from_env(|k| std::env::var(k).ok()).inspect_err(|e| {
        tracing::error!(variable = e.var, error = %e, "invalid configuration: not started");
    })?;
    let shared = Arc::new(state::Shared::new(config));
    lambda_runtime::run(service_fn(move |event: LambdaEvent<Value>| {
        let shared = Arc::clone(&shared);
        async move {
            let payload = serde_json::to_vec(&event.payload)?;
            let deadline = deadline(event.context.deadline);
            dispatch::handle(&shared, &event.context.request_id, deadline, &payload)
                .await
                .map_err(lambda_runtime::Error::from)
        }
    }))
    .await
}

/// Lambda's deadline (milliseconds since the epoch) as an instant; none
/// when it is not given.
fn deadline(epoch_ms: u64) -> Option<Instant> {
    let now = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .ok()?
        .as_millis() as u64;
    (epoch_ms > 0).then(|| Instant::now() + Duration::from_millis(epoch_ms.saturating_sub(now)))
}
