//! findings → what the sinks send: CloudWatch metrics as Embedded Metric
//! Format lines (no API call), the scan log as JSON Lines, and one
//! readable alert per run. Pure, so the CLI and the Lambda send the same.

pub mod html;

use crate::compliance::Finding;
use serde::Serialize;
use serde_json::{json, Value};
use std::collections::BTreeMap;

/// SNS refuses messages over 256 KB; leave room for the envelope.
pub const ALERT_MAX_BYTES: usize = 250 * 1024;
/// SNS subjects stop at 100 characters.
const SUBJECT_MAX: usize = 100;

#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
struct Counts {
    ok: u64,
    bad: u64,
}

fn counts<'f>(findings: impl Iterator<Item = &'f Finding>) -> Counts {
    findings.fold(Counts::default(), |mut c, f| {
        if f.verdict.compliant {
            c.ok += 1;
        } else {
            c.bad += 1;
        }
        c
    })
}

/// One metric value of a run, with its dimensions (none, or `ResourceType`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Metric {
    pub name: &'static str,
    pub resource_type: Option<String>,
    pub value: u64,
}

/// The run's metrics: without dimensions, the seed's `CompliantInstances` /
/// `NonCompliantInstances` (EC2 instances) and `CompliantResources` /
/// `NonCompliantResources` (all); then the latter two per resource type.
pub fn metrics(findings: &[Finding]) -> Vec<Metric> {
    let metric = |name, resource_type: Option<&str>, value| Metric {
        name,
        resource_type: resource_type.map(str::to_string),
        value,
    };
    let instances = counts(
        findings
            .iter()
            .filter(|f| f.resource_type == "ec2:instance"),
    );
    let all = counts(findings.iter());
    let mut out = vec![
        metric("CompliantInstances", None, instances.ok),
        metric("NonCompliantInstances", None, instances.bad),
        metric("CompliantResources", None, all.ok),
        metric("NonCompliantResources", None, all.bad),
    ];
    let mut by_type: BTreeMap<&str, Counts> = BTreeMap::new();
    for f in findings {
        let c = by_type.entry(&f.resource_type).or_default();
        if f.verdict.compliant {
            c.ok += 1;
        } else {
            c.bad += 1;
        }
    }
    for (ty, c) in by_type {
        out.push(metric("CompliantResources", Some(ty), c.ok));
        out.push(metric("NonCompliantResources", Some(ty), c.bad));
    }
    out
}

/// The metrics as EMF lines: one line per dimension set (CloudWatch turns
/// them into metrics with no API call).
pub fn emf(findings: &[Finding], namespace: &str, timestamp_ms: i64) -> Vec<String> {
    emf_lines(&metrics(findings), namespace, timestamp_ms)
}

/// Any metrics as EMF lines, one per dimension set.
pub fn emf_lines(metrics: &[Metric], namespace: &str, timestamp_ms: i64) -> Vec<String> {
    let mut lines: BTreeMap<Option<String>, serde_json::Map<String, Value>> = BTreeMap::new();
    for m in metrics {
        let line = lines.entry(m.resource_type.clone()).or_default();
        line.insert(m.name.to_string(), json!(m.value));
    }
    lines
        .into_iter()
        .map(|(ty, mut values)| {
            let names: Vec<Value> = values
                .keys()
                .map(|n| json!({"Name": n, "Unit": "Count"}))
                .collect();
            let dimensions = match &ty {
                Some(_) => json!([["ResourceType"]]),
                None => json!([[]]),
            };
            values.insert(
                "_aws".into(),
                json!({"Timestamp": timestamp_ms, "CloudWatchMetrics": [{
                    "Namespace": namespace,
                    "Dimensions": dimensions,
                    "Metrics": names,
                }]}),
            );
            if let Some(ty) = ty {
                values.insert("ResourceType".into(), json!(ty));
            }
            Value::Object(values).to_string()
        })
        .collect()
}

/// How attribution ended for one resource, as the metrics count it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Attributed {
    Tagged,
    Failed,
    /// Nothing to write: already tagged, at the tag limit, or preset.
    Skipped,
    /// Being created: tried again later.
    Pending,
}

/// `Tagged`, `Failed`, `Skipped` and `Pending` in all and per resource type
/// (the dashboard's "Tagged and failed").
pub fn attribution_metrics<'a>(
    outcomes: impl IntoIterator<Item = (&'a str, Attributed)>,
) -> Vec<Metric> {
    let mut by_type: BTreeMap<Option<&str>, [u64; 4]> = BTreeMap::new();
    by_type.insert(None, [0; 4]);
    for (ty, how) in outcomes {
        let slot = how as usize;
        for key in [None, Some(ty)] {
            by_type.entry(key).or_default()[slot] += 1;
        }
    }
    let mut out = Vec::new();
    for (ty, counts) in by_type {
        for (name, value) in ["Tagged", "Failed", "Skipped", "Pending"]
            .into_iter()
            .zip(counts)
        {
            out.push(Metric {
                name,
                resource_type: ty.map(str::to_string),
                value,
            });
        }
    }
    out
}

/// Error lines stay one line, and short, whatever the input held.
pub fn one_line(s: &str) -> String {
    const MAX: usize = 400;
    let flat: String = s
        .chars()
        .map(|c| if c.is_control() { ' ' } else { c })
        .collect();
    match flat.char_indices().nth(MAX) {
        Some((i, _)) => format!("{}…", &flat[..i]),
        None => flat,
    }
}

/// One scan-log line: the finding with the scan it belongs to.
#[derive(Serialize)]
struct LogLine<'f> {
    scan_id: &'f str,
    scanned_at: &'f str,
    #[serde(flatten)]
    finding: &'f Finding,
}

/// The scan log as JSON Lines (one object per resource, Athena-readable).
pub fn scan_log(findings: &[Finding], scan_id: &str, scanned_at: &str) -> String {
    let mut out = String::new();
    for finding in findings {
        let line = LogLine {
            scan_id,
            scanned_at,
            finding,
        };
        // Our own types serialise without fail.
        out.push_str(&serde_json::to_string(&line).unwrap_or_default());
        out.push('\n');
    }
    out
}

/// `scans/dt=YYYY-MM-DD/<scan id>.jsonl` under `prefix`: partitioned by day
/// for Athena.
pub fn scan_log_key(prefix: &str, scanned_at: &str, scan_id: &str) -> String {
    let day = scanned_at.get(..10).unwrap_or("unknown");
    let prefix = prefix.trim_matches('/');
    let sep = if prefix.is_empty() { "" } else { "/" };
    format!("{prefix}{sep}scans/dt={day}/{scan_id}.jsonl")
}

/// The run's one alert (subject, message), or `None` when all is well.
/// The message lists each non-compliant resource and what is wrong, and is
/// cut, at a line, to stay under `max_bytes`, saying how many were left out.
pub fn alert(findings: &[Finding], max_bytes: usize) -> Option<(String, String)> {
    let bad: Vec<&Finding> = findings.iter().filter(|f| !f.verdict.compliant).collect();
    if bad.is_empty() {
        return None;
    }
    let mut subject = format!(
        "Tag compliance: {} of {} resources non-compliant",
        bad.len(),
        findings.len()
    );
    subject.truncate(SUBJECT_MAX);
    let head = format!(
        "{} of {} resources scanned do not meet the tag policy.\n\n",
        bad.len(),
        findings.len()
    );
    let mut body = head;
    for (n, f) in bad.iter().enumerate() {
        let v = &f.verdict;
        let mut entry = format!(
            "Resource: {}\n  Type: {} ({} / {})\n",
            f.arn, f.resource_type, f.account, f.region
        );
        if !v.missing.is_empty() {
            entry.push_str(&format!("  Missing tags: {}\n", v.missing.join(", ")));
        }
        for (k, val) in &v.invalid {
            entry.push_str(&format!("  Invalid value: {k}={val}\n"));
        }
        for (found, want) in &v.wrong_case {
            entry.push_str(&format!("  Wrong key case: {found} (should be {want})\n"));
        }
        if !v.prohibited.is_empty() {
            entry.push_str(&format!("  Prohibited tags: {}\n", v.prohibited.join(", ")));
        }
        for (k, m) in &v.attribution_mismatch {
            entry.push_str(&format!(
                "  Attribution mismatch: {k}={} where tagwarden's record says `{}` (created by {})\n",
                m.found.as_deref().unwrap_or("(removed)"),
                m.expected,
                m.creator
            ));
        }
        entry.push('\n');
        let left = bad.len() - n;
        let tail = format!("… and {left} more non-compliant resources (see the scan log).\n");
        if body.len() + entry.len() + tail.len() > max_bytes {
            body.push_str(&tail);
            break;
        }
        body.push_str(&entry);
    }
    Some((subject, body))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::compliance::Verdict;

    #[test]
    fn error_lines_are_single_and_bounded() {
        let long = format!("a\nb{}", "x".repeat(10_000));
        let l = one_line(&long);
        assert!(!l.contains('\n'));
        assert_eq!(l.chars().count(), 401);
    }

    #[test]
    fn attribution_is_counted_in_all_and_per_type() {
        let m = attribution_metrics([
            ("ec2:instance", Attributed::Tagged),
            ("ec2:instance", Attributed::Tagged),
            ("s3:bucket", Attributed::Failed),
            ("s3:bucket", Attributed::Skipped),
            ("elasticache:replicationgroup", Attributed::Pending),
        ]);
        let get = |name: &str, ty: Option<&str>| {
            m.iter()
                .find(|x| x.name == name && x.resource_type.as_deref() == ty)
                .map(|x| x.value)
        };
        assert_eq!(get("Tagged", None), Some(2));
        assert_eq!(get("Failed", None), Some(1));
        assert_eq!(get("Skipped", None), Some(1));
        assert_eq!(get("Tagged", Some("ec2:instance")), Some(2));
        assert_eq!(get("Failed", Some("ec2:instance")), Some(0));
        assert_eq!(get("Skipped", Some("s3:bucket")), Some(1));
        assert_eq!(get("Pending", None), Some(1));
        assert_eq!(
            get("Pending", Some("elasticache:replicationgroup")),
            Some(1)
        );
        // A run with nothing still says so: zeros, so the dashboard shows it.
        let none = attribution_metrics([]);
        assert_eq!(none.len(), 4);
        assert!(none
            .iter()
            .all(|x| x.value == 0 && x.resource_type.is_none()));
        let lines = emf_lines(&m, "NS", 1);
        assert_eq!(lines.len(), 4, "in all and per type");
        assert!(lines[0].contains(r#""Namespace":"NS""#), "{}", lines[0]);
    }

    fn finding(n: usize, ty: &str, ok: bool) -> Finding {
        Finding {
            arn: format!("arn:aws:ec2:us-east-1:1:thing/{n:05}"),
            resource_type: ty.into(),
            account: "1".into(),
            region: "us-east-1".into(),
            verdict: Verdict {
                compliant: ok,
                missing: if ok { vec![] } else { vec!["Owner".into()] },
                ..Verdict::default()
            },
            tags: Default::default(),
        }
    }

    #[test]
    fn emf_counts_instances_all_resources_and_each_type() {
        let f = [
            finding(1, "ec2:instance", true),
            finding(2, "ec2:instance", false),
            finding(3, "s3:bucket", false),
        ];
        let lines: Vec<Value> = emf(&f, "TagCompliance", 1)
            .iter()
            .map(|l| serde_json::from_str(l).unwrap())
            .collect();
        assert_eq!(lines.len(), 3);
        assert_eq!(lines[0]["CompliantInstances"], 1);
        assert_eq!(lines[0]["NonCompliantInstances"], 1);
        assert_eq!(lines[0]["NonCompliantResources"], 2);
        assert_eq!(
            lines[0]["_aws"]["CloudWatchMetrics"][0]["Namespace"],
            "TagCompliance"
        );
        assert_eq!(lines[2]["ResourceType"], "s3:bucket");
        assert_eq!(lines[2]["NonCompliantResources"], 1);
        assert_eq!(
            lines[2]["_aws"]["CloudWatchMetrics"][0]["Dimensions"][0][0],
            "ResourceType"
        );
    }

    #[test]
    fn one_alert_per_run_cut_under_the_limit_with_the_count_left_out() {
        assert!(alert(&[finding(1, "ec2:instance", true)], ALERT_MAX_BYTES).is_none());
        let many: Vec<_> = (0..5000)
            .map(|n| finding(n, "ec2:instance", n % 2 == 0))
            .collect();
        let (subject, body) = alert(&many, 10_000).unwrap();
        assert_eq!(
            subject,
            "Tag compliance: 2500 of 5000 resources non-compliant"
        );
        assert!(body.len() <= 10_000, "{}", body.len());
        assert!(body.contains("Missing tags: Owner"));
        let listed = body.matches("Resource: ").count();
        assert!(
            body.contains(&format!("… and {} more", 2500 - listed)),
            "{body}"
        );
        let (_, all) = alert(&many[..10], ALERT_MAX_BYTES).unwrap();
        assert_eq!(all.matches("Resource: ").count(), 5);
        assert!(!all.contains("more non-compliant"));
    }

    #[test]
    fn the_scan_log_is_one_json_object_per_line_under_a_day_partition() {
        let f = [
            finding(1, "ec2:instance", true),
            finding(2, "s3:bucket", false),
        ];
        let log = scan_log(&f, "s1", "2026-11-24T10:00:00Z");
        let lines: Vec<Value> = log
            .lines()
            .map(|l| serde_json::from_str(l).unwrap())
            .collect();
        assert_eq!(lines.len(), 2);
        assert_eq!(lines[1]["scan_id"], "s1");
        assert_eq!(lines[1]["compliant"], false);
        assert_eq!(lines[1]["missing"][0], "Owner");
        assert_eq!(
            scan_log_key("/logs/", "2026-11-24T10:00:00Z", "s1"),
            "logs/scans/dt=2026-11-24/s1.jsonl"
        );
        assert_eq!(
            scan_log_key("", "2026-11-24T10:00:00Z", "s1"),
            "scans/dt=2026-11-24/s1.jsonl"
        );
    }
}
