//! One invocation's report → its sinks, once per invocation: EMF metric
//! lines on stdout, then [`tagwarden_flow::sinks`] (the scan log, the SNS
//! alert), then the webhook with what time is left.

use crate::state::Shared;
use std::time::{Duration, Instant};
use tagwarden_aws::webhook::{self, Tries};
use tagwarden_flow::report::Report;
use tagwarden_flow::sinks::{deliver, Destinations};

/// A time as events and scan logs write it (ISO-8601 UTC, seconds).
pub fn seconds(t: jiff::Timestamp) -> String {
    t.strftime("%Y-%m-%dT%H:%M:%SZ").to_string()
}

/// What one invocation ends with: the id names its scan log; the
/// webhook gets what is left before the deadline.
pub struct Run<'a> {
    pub id: &'a str,
    pub at: jiff::Timestamp,
    pub deadline: Option<Instant>,
}

/// Kept back from the deadline to answer Lambda.
const ANSWER_MARGIN: Duration = Duration::from_secs(2);

/// Sends everything; a sink that fails is logged and does not fail the
/// invocation (what it reports is already recorded).
pub async fn flush(report: Report, shared: &Shared, run: &Run<'_>) {
    let config = &shared.config;
    for line in report.emf(&config.namespace, run.at.as_millisecond()) {
        println!("{line}");
    }
    let to = Destinations {
        scan_log: config
            .scan_log
            .as_ref()
            .map(|(b, p)| (b.as_str(), p.as_str())),
        alert_topic: config.alert_topic.as_deref(),
        environment: Some(&config.environment),
    };
    let flow_run = tagwarden_flow::sinks::Run {
        id: run.id.to_string(),
        at: seconds(run.at),
    };
    let done = deliver(shared.clients().await, &report, &flow_run, to).await;
    match done.scan_log {
        Some(Ok(url)) => tracing::info!(scan_log = %url, "scan log written"),
        Some(Err(e)) => tracing::error!(error = %e, "scan log not written"),
        None => {}
    }
    match (done.published, &done.alert) {
        (Some(Ok(())), Some((subject, _))) => {
            tracing::info!(topic = ?config.alert_topic, subject = %subject, "alert sent")
        }
        (Some(Err(e)), _) => tracing::error!(error = %e, "alert not sent"),
        _ => {}
    }
    let (Some(hook), Some((subject, message))) = (&shared.webhook, &done.alert) else {
        return;
    };
    let budget = run
        .deadline
        .map(|d| {
            d.saturating_duration_since(Instant::now())
                .saturating_sub(ANSWER_MARGIN)
        })
        .unwrap_or(Duration::MAX)
        .min(Tries::default().budget);
    if budget < Duration::from_secs(1) {
        tracing::error!("webhook alert not sent: the invocation's time is up");
        return;
    }
    let payload = webhook::payload(&config.environment, subject, message);
    hook.deliver(shared.clients().await, &payload, budget).await;
}
