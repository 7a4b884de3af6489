//! One invocation's results → its sinks, once per invocation (an SQS batch
//! of ten gives one alert, not ten): EMF metric lines on stdout, the scan
//! log in S3 for scheduled scans, and one alert for every violation and
//! failure together, to SNS and to the webhook.

use crate::state::Shared;
use crate::webhook;
use std::time::{Duration, Instant};
use tagwarden_aws::sinks;
use tagwarden_core::compliance::Finding;
use tagwarden_core::report::{self, Attributed};

/// SNS subjects stop at 100 characters.
const SUBJECT_MAX: usize = 100;

#[derive(Debug, Default)]
pub struct Report {
    /// How attribution ended, per resource (type, result).
    pub attributed: Vec<(&'static str, Attributed)>,
    /// Compliance verdicts of what was checked or tagged.
    pub findings: Vec<Finding>,
    /// Resources tagwarden could not tag, or read, and why.
    pub failures: Vec<String>,
    /// A scheduled scan ran: its findings go to the scan log.
    pub scanned: bool,
    /// Resources remediation added tags to.
    pub remediated: usize,
}

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

impl Report {
    /// The EMF lines: attribution counts when anything was attributed,
    /// compliance counts when anything was judged.
    pub fn emf(&self, namespace: &str, at_ms: i64) -> Vec<String> {
        let mut lines = Vec::new();
        if !self.attributed.is_empty() || !self.failures.is_empty() {
            let metrics = report::attribution_metrics(self.attributed.iter().copied());
            lines.extend(report::emf_lines(&metrics, namespace, at_ms));
        }
        // The compliance gauges are the scan's, as in the CLI: a check of
        // a few new resources must not read as the estate's state (the
        // alarm watches them). Its violations are in the alert.
        if self.scanned {
            lines.extend(report::emf(&self.findings, namespace, at_ms));
        }
        lines
    }

    /// The one alert: violations as the scan reports them, then failures.
    pub fn alert(&self, environment: &str) -> Option<(String, String)> {
        // Failures get half the room when there are any.
        let room = match self.failures.is_empty() {
            true => report::ALERT_MAX_BYTES,
            false => report::ALERT_MAX_BYTES / 2,
        };
        let violations = report::alert(&self.findings, room);
        if violations.is_none() && self.failures.is_empty() {
            return None;
        }
        let (mut subject, mut body) = violations.unwrap_or_default();
        if !self.failures.is_empty() {
            if subject.is_empty() {
                subject = format!(
                    "tagwarden: {} resources could not be tagged",
                    self.failures.len()
                );
            }
            body.push_str(&format!(
                "{} resources could not be tagged or read:\n\n",
                self.failures.len()
            ));
            let max = report::ALERT_MAX_BYTES - 512;
            for (n, f) in self.failures.iter().enumerate() {
                if body.len() + f.len() + 1 > max {
                    body.push_str(&format!(
                        "… and {} more (see the function's log and the audit store).\n",
                        self.failures.len() - n
                    ));
                    break;
                }
                body.push_str(f);
                body.push('\n');
            }
        }
        let mut subject = format!("[{environment}] {subject}");
        if let Some((i, _)) = subject.char_indices().nth(SUBJECT_MAX) {
            subject.truncate(i);
        }
        Some((subject, body))
    }

    /// Sends everything; a sink that fails is logged and does not fail
    /// the invocation (what it reports is already recorded).
    pub async fn flush(self, shared: &Shared, run: &Run<'_>) {
        let config = &shared.config;
        for line in self.emf(&config.namespace, run.at.as_millisecond()) {
            println!("{line}");
        }
        if self.scanned {
            if let Some((bucket, prefix)) = &config.scan_log {
                let at = seconds(run.at);
                let key = report::scan_log_key(prefix, &at, run.id);
                let body = report::scan_log(&self.findings, run.id, &at);
                let clients = shared.clients().await;
                match sinks::put_scan_log(clients, bucket, &key, body).await {
                    Ok(()) => {
                        tracing::info!(scan_log = %format!("s3://{bucket}/{key}"), "scan log written")
                    }
                    Err(e) => {
                        tracing::error!(error = %e, kind = e.kind.as_str(), "scan log not written")
                    }
                }
            }
        }
        let Some((subject, message)) = self.alert(&config.environment) else {
            return;
        };
        if let Some(topic) = &config.alert_topic {
            let clients = shared.clients().await;
            match sinks::publish_alert(clients, topic, &subject, &message).await {
                Ok(()) => tracing::info!(topic = %topic, subject = %subject, "alert sent"),
                Err(e) => tracing::error!(error = %e, kind = e.kind.as_str(), "alert not sent"),
            }
        }
        if let Some(secret) = &config.alert_webhook {
            let budget = run
                .deadline
                .map(|d| {
                    d.saturating_duration_since(Instant::now())
                        .saturating_sub(ANSWER_MARGIN)
                })
                .unwrap_or(Duration::MAX)
                .min(webhook::Tries::default().budget);
            if budget < Duration::from_secs(1) {
                tracing::error!("webhook alert not sent: the invocation's time is up");
                return;
            }
            let payload = webhook::payload(&config.environment, &subject, &message);
            webhook::deliver(shared, secret, &payload, budget).await;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::BTreeMap;
    use tagwarden_core::compliance::evaluate;
    use tagwarden_core::policy::Policy;

    fn finding(arn: &str, tags: &[(&str, &str)]) -> Finding {
        let tags: BTreeMap<String, String> = tags
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        Finding {
            verdict: evaluate(&Policy::default_policy().compliance, &tags),
            arn: arn.into(),
            resource_type: "ec2:instance".into(),
            account: "1".into(),
            region: "r".into(),
            tags,
        }
    }

    #[test]
    fn one_alert_holds_every_violation_and_failure() {
        let mut r = Report::default();
        assert_eq!(r.alert("dev"), None);
        r.findings.push(finding("arn:a", &[]));
        r.findings.push(finding("arn:b", &[]));
        r.failures.push("arn:c: AccessDenied (permission)".into());
        let (subject, body) = r.alert("dev").unwrap();
        assert!(
            subject.starts_with("[dev] Tag compliance: 2 of 2"),
            "{subject}"
        );
        assert!(body.contains("Resource: arn:a") && body.contains("Resource: arn:b"));
        assert!(body.contains("1 resources could not be tagged or read"));
        assert!(body.contains("arn:c: AccessDenied"));

        let only_failed = Report {
            failures: vec!["x".repeat(1000); 1000],
            ..Report::default()
        };
        let (subject, body) = only_failed.alert("prod").unwrap();
        assert_eq!(
            subject,
            "[prod] tagwarden: 1000 resources could not be tagged"
        );
        assert!(body.len() <= report::ALERT_MAX_BYTES, "{}", body.len());
        assert!(body.contains("more (see the function's log"));
    }

    #[test]
    fn metrics_are_the_ones_the_run_has() {
        let mut r = Report::default();
        assert!(r.emf("NS", 0).is_empty());
        r.attributed.push(("ec2:instance", Attributed::Tagged));
        let lines = r.emf("NS", 0);
        assert_eq!(lines.len(), 2, "all, and the one type");
        assert!(
            lines.iter().all(|l| l.contains(r#""Tagged":1"#)),
            "{lines:?}"
        );
        r.findings.push(finding("arn:a", &[]));
        let lines = r.emf("NS", 0);
        assert!(
            !lines.iter().any(|l| l.contains("NonCompliant")),
            "{lines:?}"
        );
        r.scanned = true;
        let lines = r.emf("NS", 0);
        assert!(
            lines
                .iter()
                .any(|l| l.contains(r#""NonCompliantResources":1"#)),
            "{lines:?}"
        );
    }
}
