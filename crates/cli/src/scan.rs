//! `tagwarden scan`: inventory → compliance → report.

use crate::access::Aws;
use crate::access::LazyAws;
use crate::cli::{Cli, ScanArgs, ScanFormat};
use crate::{load_policy, render, EXIT_BAD_INPUT};
use anyhow::{Context, Result};
use std::io::{self, Write};
use tagwarden_aws::inventory::{self, TYPES};
use tagwarden_aws::{s3_source, sinks};
use tagwarden_core::compliance::{evaluate, in_scope, Finding};
use tagwarden_core::report;

/// Violations found.
const EXIT_VIOLATIONS: u8 = 1;

pub fn run(cli: &Cli, args: &ScanArgs) -> Result<u8> {
    let policy = load_policy(args.policy.as_deref())?;
    let types: Vec<&'static str> = if args.types.is_empty() {
        TYPES
            .iter()
            .copied()
            .filter(|t| in_scope(&policy.compliance, t))
            .collect()
    } else {
        let mut out = Vec::new();
        for t in &args.types {
            match TYPES.iter().find(|k| *k == t) {
                Some(k) => out.push(*k),
                None => {
                    eprintln!(
                        "error: --types: `{t}` cannot be listed yet; these can: {}",
                        TYPES.join(", ")
                    );
                    return Ok(EXIT_BAD_INPUT);
                }
            }
        }
        out
    };
    let mut aws = LazyAws::new(cli);
    let aws = aws.get()?;
    let regions = if args.regions.iter().any(|r| r == "all") {
        aws.runtime
            .block_on(inventory::enabled_regions(&aws.clients))
            .context("listing the account's regions")?
    } else if args.regions.is_empty() {
        vec![aws
            .clients
            .default_region()
            .unwrap_or("us-east-1")
            .to_string()]
    } else {
        args.regions.clone()
    };
    let found = aws
        .runtime
        .block_on(inventory::list(&aws.clients, &regions, &types))
        .map_err(|e| anyhow::anyhow!("{e}"))
        .context("listing resources")?;
    let findings: Vec<Finding> = found
        .into_iter()
        .map(|f| Finding {
            verdict: evaluate(&policy.compliance, &f.tags),
            arn: f.arn,
            resource_type: f.resource_type.to_string(),
            account: f.account,
            region: f.region,
            tags: f.tags,
        })
        .collect();
    let mut out = io::BufWriter::new(io::stdout().lock());
    match args.format {
        ScanFormat::Json => {
            serde_json::to_writer_pretty(&mut out, &findings)?;
            writeln!(out)?;
        }
        ScanFormat::Table => render::scan_table(&findings, &mut out)?,
        ScanFormat::Csv => render::scan_csv(&findings, &mut out)?,
        ScanFormat::Sarif => {
            serde_json::to_writer_pretty(&mut out, &render::scan_sarif(&findings))?;
            writeln!(out)?;
        }
    }
    out.flush()?;
    let sunk = sinks(args, aws, &findings);
    let bad = findings.iter().filter(|f| !f.verdict.compliant).count();
    if !cli.quiet {
        eprintln!(
            "scan: {} resources in {} regions, {} compliant, {bad} not",
            findings.len(),
            regions.len(),
            findings.len() - bad
        );
    }
    sunk?;
    Ok(if bad > 0 { EXIT_VIOLATIONS } else { 0 })
}

/// Metrics, scan log and alert; every sink is tried, the first failure is
/// returned.
fn sinks(args: &ScanArgs, aws: &Aws, findings: &[Finding]) -> Result<()> {
    let now = jiff::Timestamp::now();
    let scanned_at = now.strftime("%Y-%m-%dT%H:%M:%SZ").to_string();
    let scan_id = format!(
        "{}-{:06x}",
        now.strftime("%Y%m%dT%H%M%SZ"),
        now.subsec_nanosecond() as u32 & 0xff_ffff
    );
    let mut first: Option<anyhow::Error> = None;
    let mut keep = |r: Result<()>| {
        if let Err(e) = r {
            eprintln!("error: {}", crate::one_line(&format!("{e:#}")));
            first.get_or_insert(e);
        }
    };
    if let Some(path) = &args.emf {
        let lines = report::emf(findings, &args.namespace, now.as_millisecond());
        let text: String = lines.iter().map(|l| format!("{l}\n")).collect();
        keep(if path.as_os_str() == "-" {
            io::stderr().write_all(text.as_bytes()).map_err(Into::into)
        } else {
            std::fs::write(path, text).with_context(|| format!("--emf {}", path.display()))
        });
    }
    if let Some(url) = &args.scan_log {
        keep((|| {
            let (bucket, prefix) = s3_source::parse_url(url)
                .ok_or_else(|| anyhow::anyhow!("--scan-log `{url}`: use s3://bucket/prefix"))?;
            let key = report::scan_log_key(prefix, &scanned_at, &scan_id);
            let body = report::scan_log(findings, &scan_id, &scanned_at);
            aws.runtime
                .block_on(sinks::put_scan_log(&aws.clients, bucket, &key, body))
                .map_err(|e| anyhow::anyhow!("--scan-log s3://{bucket}/{key}: {e}"))?;
            eprintln!("Scan log: s3://{bucket}/{key}");
            Ok(())
        })());
    }
    if let (Some(topic), Some((subject, message))) = (
        &args.alert_topic,
        report::alert(findings, report::ALERT_MAX_BYTES),
    ) {
        keep(
            aws.runtime
                .block_on(sinks::publish_alert(
                    &aws.clients,
                    topic,
                    &subject,
                    &message,
                ))
                .map_err(|e| anyhow::anyhow!("--alert-topic {topic}: {e}")),
        );
    }
    match first {
        Some(e) => Err(e),
        None => Ok(()),
    }
}
