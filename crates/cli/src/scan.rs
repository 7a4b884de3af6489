//! `tagwarden scan`: inventory → compliance → report.

use crate::access::LazyAws;
use crate::cli::{Cli, ScanArgs, ScanFormat};
use crate::{load_policy, render, EXIT_BAD_INPUT};
use anyhow::{Context, Result};
use std::io::{self, Write};
use tagwarden_aws::inventory::{self, TYPES};
use tagwarden_core::compliance::{evaluate, in_scope, Finding};

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
    let bad = findings.iter().filter(|f| !f.verdict.compliant).count();
    if !cli.quiet {
        eprintln!(
            "scan: {} resources in {} regions, {} compliant, {bad} not",
            findings.len(),
            regions.len(),
            findings.len() - bad
        );
    }
    Ok(if bad > 0 { EXIT_VIOLATIONS } else { 0 })
}
