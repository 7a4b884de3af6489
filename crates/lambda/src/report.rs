//! One invocation's report → its sinks, once per invocation: EMF metric
//! lines on stdout, then [`tagwarden_flow::sinks`] (the scan log, the SNS
//! alert), then the webhook with what time is left.

use crate::state::Shared;
use std::time::{Duration, Instant};
use tagwarden_aws::webhook::{self, Tries};
use tagwarden_flow::report::Report;
use tagwarden_flow::sinks::{deliver, Destinations, Run};

/// Kept back from the deadline to answer Lambda.
const ANSWER_MARGIN: Duration = Duration::from_secs(2);

/// Sends everything; a sink that fails is logged and does not fail the
/// invocation (what it reports is already recorded). The webhook gets what
/// is left before `deadline`.
pub async fn flush(report: Report, shared: &Shared, run: &Run, deadline: Option<Instant>) {
    let config = &shared.config;
    for line in report.emf(&config.namespace, run.at_ms) {
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
    let done = deliver(shared.clients().await, &report, run, to).await;
    match done.scan_log {
        Some(Ok(url)) => tracing::info!(scan_log = %url, "scan log written"),
        Some(Err(e)) => tracing::error!(error = %e, "scan log not written"),
        None => {}
    }
    match (done.published, &done.alert) {
        (Some(Ok(())), Some((subject, _))) => {
            let topic = config.alert_topic.as_deref().unwrap_or_default();
            tracing::info!(topic, subject = %subject, "alert sent")
        }
        (Some(Err(e)), _) => tracing::error!(error = %e, "alert not sent"),
        _ => {}
    }
    let (Some(hook), Some((subject, message))) = (&shared.webhook, &done.alert) else {
        return;
    };
    let budget = deadline
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
