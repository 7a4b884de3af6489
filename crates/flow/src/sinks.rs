//! A run's report → where it is kept and who is told: the scan log in S3
//! (for scans) and one SNS alert. Each sink is tried whatever the others
//! did; what each did comes back for the face to show or log (what they
//! report is already recorded, so a failed sink fails nothing else).

use crate::report::Report;
use tagwarden_aws::clients::Clients;
use tagwarden_aws::sinks;
use tagwarden_core::report as text;

/// Where one run's report goes.
#[derive(Debug, Default, Clone, Copy)]
pub struct Destinations<'a> {
    /// (bucket, prefix) for the scan log; written for scans only.
    pub scan_log: Option<(&'a str, &'a str)>,
    pub alert_topic: Option<&'a str>,
    /// Names the environment in the alert's subject.
    pub environment: Option<&'a str>,
}

/// The run a report belongs to: `id` names its scan log, `at` (ISO-8601
/// UTC, seconds, as `at_ms`) dates it; both are kept by a retry of the same
/// run.
#[derive(Debug, Clone)]
pub struct Run {
    pub id: String,
    pub at: String,
    pub at_ms: i64,
}

impl Run {
    pub fn new(id: String, at: jiff::Timestamp) -> Self {
        Self {
            id,
            at: seconds(at),
            at_ms: at.as_millisecond(),
        }
    }
}

/// A time as events and scan logs write it (ISO-8601 UTC, seconds).
pub fn seconds(t: jiff::Timestamp) -> String {
    t.strftime("%Y-%m-%dT%H:%M:%SZ").to_string()
}

/// What each sink did; `None` where it had nothing to do.
#[derive(Debug, Default)]
pub struct Delivered {
    /// The scan log's `s3://` URL, or why it was not written.
    pub scan_log: Option<Result<String, String>>,
    /// The alert (subject, body) when there is one to send.
    pub alert: Option<(String, String)>,
    /// Whether SNS took it.
    pub published: Option<Result<(), String>>,
}

pub async fn deliver(
    clients: &Clients,
    report: &Report,
    run: &Run,
    to: Destinations<'_>,
) -> Delivered {
    let mut out = Delivered::default();
    if let (true, Some((bucket, prefix))) = (report.scanned, to.scan_log) {
        let key = text::scan_log_key(prefix, &run.at, &run.id);
        let body = text::scan_log(&report.findings, &run.id, &run.at);
        out.scan_log = Some(
            sinks::put_scan_log(clients, bucket, &key, body)
                .await
                .map(|()| format!("s3://{bucket}/{key}"))
                .map_err(|e| format!("scan log s3://{bucket}/{key}: {e} ({})", e.kind.as_str())),
        );
    }
    out.alert = report.alert(to.environment);
    if let (Some(topic), Some((subject, body))) = (to.alert_topic, &out.alert) {
        out.published = Some(
            sinks::publish_alert(clients, topic, subject, body)
                .await
                .map_err(|e| format!("alert to {topic}: {e} ({})", e.kind.as_str())),
        );
    }
    out
}
