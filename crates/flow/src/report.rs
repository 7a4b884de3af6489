//! One run's results, whatever ran: how attribution ended per resource,
//! the verdicts, the failures, what remediation did. They leave once per
//! run (an SQS batch of ten gives one alert, not ten) as EMF metric lines
//! and one alert holding every violation and failure; see [`crate::sinks`].

use crate::tamper::{Tamper, Undone};
use tagwarden_aws::inventory::LiveResource;
use tagwarden_core::compliance::{in_scope, Finding};
use tagwarden_core::outcome::{Outcome, Status};
use tagwarden_core::pipeline::WatchedCall;
use tagwarden_core::plan::{Plan, PlanItem};
use tagwarden_core::policy::Policy;
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
    /// `attribution-mismatch` findings: a creator preset a protected key to
    /// someone else's value.
    pub mismatches: Vec<String>,
    /// Protected keys someone removed or changed, undone (`TamperEvents`).
    pub tampers: Vec<String>,
    /// Calls that blind tagwarden: a trail stopped, its rules changed…
    pub blinding: Vec<String>,
    /// Logs and events acted on that CloudTrail's signed digests do not
    /// vouch for ([`crate::confirm`]; `UnverifiedEvidence`).
    pub unverified: Vec<String>,
    /// A scheduled scan ran: its findings go to the scan log.
    pub scanned: bool,
    /// Resources remediation added tags to.
    pub remediated: usize,
}

impl Report {
    /// The EMF lines: attribution counts when anything was attributed,
    /// compliance counts when anything was judged.
    pub fn emf(&self, namespace: &str, at_ms: i64) -> Vec<String> {
        let mut lines = Vec::new();
        if !self.attributed.is_empty() || !self.failures.is_empty() || !self.tampers.is_empty() {
            let mut metrics = report::attribution_metrics(self.attributed.iter().copied());
            metrics.push(report::Metric {
                name: "TamperEvents",
                resource_type: None,
                value: self.tampers.len() as u64,
            });
            lines.extend(report::emf_lines(&metrics, namespace, at_ms));
        }
        if !self.unverified.is_empty() {
            let metric = report::Metric {
                name: "UnverifiedEvidence",
                resource_type: None,
                value: self.unverified.len() as u64,
            };
            lines.extend(report::emf_lines(&[metric], namespace, at_ms));
        }
        // The compliance gauges are the scan's, as in the CLI: a check of
        // a few new resources must not read as the estate's state (the
        // alarm watches them). Its violations are in the alert.
        if self.scanned {
            lines.extend(report::emf(&self.findings, namespace, at_ms));
        }
        lines
    }

    /// The one alert: violations as the scan reports them, then
    /// attribution mismatches, then failures; the subject names the
    /// environment when there is one.
    pub fn alert(&self, environment: Option<&str>) -> Option<(String, String)> {
        let extra = [
            (
                &self.unverified,
                "unverified evidence",
                "logs or events acted on",
                "are not vouched for by CloudTrail's signed digests",
            ),
            (
                &self.blinding,
                "calls that blind tagwarden",
                "resources",
                "were touched by calls that can stop the evidence reaching tagwarden",
            ),
            (
                &self.tampers,
                "tamper events",
                "resources",
                "had a protected key removed or changed by someone else; tagwarden wrote it back",
            ),
            (
                &self.mismatches,
                "attribution mismatches",
                "resources",
                "preset a protected key to another value than the event's",
            ),
            (
                &self.failures,
                "resources could not be tagged",
                "resources",
                "could not be tagged or read",
            ),
        ];
        let any_extra = extra.iter().any(|(lines, ..)| !lines.is_empty());
        // The other sections get half the room when there are any.
        let room = match any_extra {
            false => report::ALERT_MAX_BYTES,
            true => report::ALERT_MAX_BYTES / 2,
        };
        let violations = report::alert(&self.findings, room);
        if violations.is_none() && !any_extra {
            return None;
        }
        let (mut subject, mut body) = violations.unwrap_or_default();
        let max = report::ALERT_MAX_BYTES - 512;
        for (lines, what, noun, said) in extra.into_iter().filter(|(l, ..)| !l.is_empty()) {
            if subject.is_empty() {
                subject = format!("tagwarden: {} {what}", lines.len());
            }
            body.push_str(&format!("{} {noun} {said}:\n\n", lines.len()));
            for (n, line) in lines.iter().enumerate() {
                if body.len() + line.len() + 1 > max {
                    body.push_str(&format!(
                        "… and {} more (see the logs and the audit store).\n",
                        lines.len() - n
                    ));
                    break;
                }
                body.push_str(line);
                body.push('\n');
            }
            body.push('\n');
        }
        let mut subject = match environment {
            Some(env) => format!("[{env}] {subject}"),
            None => subject,
        };
        if let Some((i, _)) = subject.char_indices().nth(SUBJECT_MAX) {
            subject.truncate(i);
        }
        Some((subject, body))
    }

    fn mismatches_of(&mut self, item: &PlanItem) {
        self.mismatches.extend(item.mismatch_lines());
    }

    /// Counts how attribution ended for every planned resource; what
    /// tagwarden just tagged is judged too (a replay tags nothing, so it
    /// alerts nothing).
    pub fn attribution(&mut self, policy: &Policy, plan: &Plan, outcomes: &[Outcome]) {
        for o in outcomes {
            let how = match &o.status {
                Status::Tagged => {
                    if in_scope(&policy.compliance, o.resource_type) {
                        let now = LiveResource {
                            arn: o.arn.clone(),
                            resource_type: o.resource_type,
                            account: o.account.clone(),
                            region: o.region.clone(),
                            tags: o.after(None),
                        };
                        self.findings.push(now.judge(&policy.compliance));
                    }
                    Attributed::Tagged
                }
                Status::WouldTag | Status::AlreadyTagged | Status::Full => Attributed::Skipped,
                Status::Failed { error } => {
                    self.failures
                        .push(format!("{}: {} ({})", o.arn, error, error.kind.as_str()));
                    Attributed::Failed
                }
                // Not a failure yet: alerted only if the wait runs out.
                Status::Waiting { .. } => Attributed::Pending,
            };
            self.attributed.push((o.resource_type, how));
            // A replay finds the tags there: its mismatches were told.
            if !matches!(o.status, Status::AlreadyTagged | Status::Full) {
                if let Some(item) = plan.items.get(o.item) {
                    self.mismatches_of(item);
                }
            }
        }
        for u in &plan.untouched {
            self.attributed.push((u.resource_type, Attributed::Skipped));
            self.mismatches_of(u);
        }
    }

    /// Tampering undone: a line per call naming resource and actor; the
    /// restores that failed join the failures.
    pub fn tampering(&mut self, undone: &Undone) {
        self.tampers.extend(undone.tampers.iter().map(Tamper::line));
        self.failures.extend(undone.failures());
    }

    /// Calls that blind tagwarden, newly recorded: a line each, naming
    /// the caller.
    pub fn blinding(&mut self, calls: &[&WatchedCall]) {
        self.blinding
            .extend(calls.iter().map(|c| report::one_line(&c.line())));
    }

    /// Counts what remediation did.
    pub fn remediation(&mut self, outcomes: &[Outcome]) {
        for o in outcomes {
            match &o.status {
                Status::Tagged => self.remediated += 1,
                Status::Failed { error } => self.failures.push(format!(
                    "{}: remediation: {error} ({})",
                    o.arn,
                    error.kind.as_str()
                )),
                _ => {}
            }
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
            verdict: evaluate(&Policy::default_policy().compliance, "ec2:instance", &tags),
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
        assert_eq!(r.alert(Some("dev")), None);
        r.findings.push(finding("arn:a", &[]));
        r.findings.push(finding("arn:b", &[]));
        r.failures.push("arn:c: AccessDenied (permission)".into());
        let (subject, body) = r.alert(Some("dev")).unwrap();
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
        let (subject, body) = only_failed.alert(Some("prod")).unwrap();
        assert_eq!(
            subject,
            "[prod] tagwarden: 1000 resources could not be tagged"
        );
        assert!(body.len() <= report::ALERT_MAX_BYTES, "{}", body.len());
        assert!(body.contains("more (see the logs and the audit store)"));
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

    #[test]
    fn without_failures_or_an_environment_the_alert_is_the_scan_s() {
        let r = Report {
            findings: vec![finding("arn:a", &[]), finding("arn:b", &[("Owner", "x")])],
            ..Report::default()
        };
        assert_eq!(
            r.alert(None),
            report::alert(&r.findings, report::ALERT_MAX_BYTES)
        );
    }

    #[test]
    fn attribution_is_counted_and_what_was_tagged_is_judged() {
        use tagwarden_core::outcome::{CallError, Outcome, Status};
        let policy = Policy::default_policy();
        let items: Vec<_> = (0..3)
            .map(|n| tagwarden_store::suite::item("r", n, "e", "2026-01-15T10:30:00Z"))
            .collect();
        let before = [("Environment".to_string(), "dev".to_string())].into();
        let outcomes = [
            Outcome::new(
                0,
                &items[0],
                Status::Tagged,
                items[0].tags.clone(),
                Some(&before),
            ),
            Outcome::new(
                1,
                &items[1],
                Status::AlreadyTagged,
                Default::default(),
                None,
            ),
            Outcome::new(
                2,
                &items[2],
                Status::Failed {
                    error: CallError::new("AccessDenied", "no"),
                },
                Default::default(),
                None,
            ),
        ];
        let plan = Plan {
            untouched: vec![items[1].clone()],
            ..Plan::default()
        };
        let mut r = Report::default();
        r.attribution(&policy, &plan, &outcomes);
        let how: Vec<_> = r.attributed.iter().map(|(_, h)| *h).collect();
        use Attributed::*;
        assert_eq!(how, [Tagged, Skipped, Failed, Skipped]);
        assert_eq!(r.findings.len(), 1, "only what was just tagged is judged");
        assert_eq!(r.findings[0].tags["Environment"], "dev", "read before");
        assert_eq!(r.findings[0].tags["ManagedBy"], "tagwarden", "written");
        assert_eq!(r.failures.len(), 1);
        assert!(r.failures[0].contains("AccessDenied"), "{:?}", r.failures);
    }
}
