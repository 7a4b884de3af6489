//! `tagwarden scan`: inventory → compliance → report, and with
//! `--remediate`: → plan → apply → record.

use crate::access::{Aws, LazyAws};
use crate::apply::{confirm, progress};
use crate::audit::{self, Audit};
use crate::cli::{Cli, ScanArgs, ScanFormat};
use crate::{load_policy, render, EXIT_BAD_INPUT};
use anyhow::{Context, Result};
use indicatif::ProgressBar;
use std::io::{self, IsTerminal, Read, Write};
use std::sync::Arc;
use tagwarden_aws::adapters::AwsTagger;
use tagwarden_aws::apply::{Options, Status};
use tagwarden_aws::inventory;
use tagwarden_aws::s3_source;
use tagwarden_aws::sinks::put_metrics;
use tagwarden_core::compliance::{in_scope, Finding};
use tagwarden_core::policy::Policy;
use tagwarden_core::report::html;
use tagwarden_flow as flow;
use tagwarden_flow::attribute::Tagging;
use tagwarden_flow::check::{check, judge, listable, scan, Checked};
use tagwarden_flow::remediate::{remedies, stand_in, still_bad, Remedies};
use tagwarden_flow::report::Report;
use tagwarden_flow::sinks::{deliver, Destinations, Run};
use tagwarden_store::sqlite::Open;

/// Violations found (and, with `--remediate`, left).
const EXIT_VIOLATIONS: u8 = 1;

/// One run of `scan`: its id names the scan log and the remediation event.
fn this_run() -> Run {
    let now = jiff::Timestamp::now();
    let id = format!(
        "{}-{:06x}",
        now.strftime("%Y%m%dT%H%M%SZ"),
        now.subsec_nanosecond() as u32 & 0xff_ffff
    );
    Run::new(id, now)
}

pub fn run(cli: &Cli, args: &ScanArgs) -> Result<u8> {
    let policy = load_policy(args.policy.as_deref())?;
    let types = if args.events.is_empty() {
        match types(args, &policy) {
            Some(t) => t,
            None => return Ok(EXIT_BAD_INPUT),
        }
    } else {
        Vec::new()
    };
    let mut accounts = args.accounts.clone();
    accounts.sort();
    accounts.dedup();
    if let Some(bad) = accounts
        .iter()
        .find(|a| !tagwarden_core::catalog::is_account_id(a))
    {
        eprintln!("error: --accounts: `{bad}` is not a 12-digit account id");
        return Ok(EXIT_BAD_INPUT);
    }
    if args.events.iter().filter(|p| p.as_os_str() == "-").count() > 1 {
        eprintln!("error: --event -: standard input can be read once");
        return Ok(EXIT_BAD_INPUT);
    }
    let lazy = LazyAws::new(cli);
    // Remediation is recorded: a broken store stops the run before any change.
    // Otherwise the store is only read, when there is one, for what it says
    // about protected keys.
    let audit = match args.remediate {
        true => Some(Audit::open(cli, &lazy, Open::Create)?),
        false => Audit::open(cli, &lazy, Open::Existing).ok(),
    };
    let aws = lazy.get()?;
    let mut bad_input = false;
    let (mut findings, regions) = if args.events.is_empty() {
        let regions = if args.regions.iter().any(|r| r == "all") {
            aws.runtime
                .block_on(inventory::enabled_regions(&aws.clients))
                .map_err(|e| aws.explain(e))
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
        let bar = spinner(
            cli,
            &format!("listing {} types in {} regions", types.len(), regions.len()),
        );
        let found = aws
            .runtime
            .block_on(scan(
                &aws.clients,
                &accounts,
                &regions,
                &types,
                &policy.compliance,
            ))
            .map_err(|e| aws.explain(e))
            .context("listing resources")?;
        bar.finish_and_clear();
        (found, regions)
    } else {
        let checked = from_events(cli, args, aws, &policy)?;
        // An event could not be read, or named nothing to check; the
        // others were still checked.
        bad_input = !checked.errors.is_empty() || !checked.named_nothing.is_empty();
        (judge(checked.found, &policy.compliance), checked.regions)
    };
    if let Some(audit) = &audit {
        let checked = audit.run(flow::check::attribution(
            &audit.store,
            &policy.attribution,
            &mut findings,
        ));
        if let Err(e) = checked {
            eprintln!("warning: audit store: {e}: protected attribution keys not checked");
        }
    }
    let report = Report {
        findings,
        scanned: true,
        ..Report::default()
    };
    let findings = &report.findings;
    let run = this_run();
    let mut out = io::BufWriter::new(io::stdout().lock());
    match args.format {
        ScanFormat::Json => {
            serde_json::to_writer_pretty(&mut out, findings)?;
            writeln!(out)?;
        }
        ScanFormat::Table => render::scan_table(findings, &mut out)?,
        ScanFormat::Csv => render::scan_csv(findings, &mut out)?,
        ScanFormat::Sarif => {
            serde_json::to_writer_pretty(&mut out, &render::scan_sarif(findings))?;
            writeln!(out)?;
        }
        ScanFormat::Html => out.write_all(
            html::html(
                findings,
                &html::Meta {
                    scan_id: &run.id,
                    scanned_at: &run.at,
                    regions: &regions,
                },
            )
            .as_bytes(),
        )?,
    }
    out.flush()?;
    drop(out);
    let sunk = sinks(args, aws, &report, &run);
    let bad = findings.iter().filter(|f| !f.verdict.compliant).count();
    if !cli.quiet {
        eprintln!(
            "scan: {} resources in {} regions, {} compliant, {bad} not",
            findings.len(),
            regions.len(),
            findings.len() - bad
        );
    }
    let left = match &audit {
        Some(audit) => remediate(cli, args, aws, audit, &policy, findings, &run)?,
        None => bad,
    };
    sunk?;
    Ok(if bad_input {
        EXIT_BAD_INPUT
    } else if left > 0 {
        EXIT_VIOLATIONS
    } else {
        0
    })
}

/// The event-driven check: the resources `--event` files name, read
/// directly (no listing), of any type the catalog knows and the policy (or
/// `--types`) covers.
fn from_events(cli: &Cli, args: &ScanArgs, aws: &Aws, policy: &Policy) -> Result<Checked> {
    let wanted = |t: &str| match args.types.is_empty() {
        true => in_scope(&policy.compliance, t),
        false => args.types.iter().any(|k| k == t),
    };
    let mut events = Vec::new();
    for path in &args.events {
        let origin = path.display().to_string();
        let bytes = if origin == "-" {
            let mut b = Vec::new();
            io::stdin().lock().read_to_end(&mut b)?;
            b
        } else {
            std::fs::read(path).with_context(|| format!("--event {origin}"))?
        };
        events.push((origin, bytes));
    }
    let checked = aws
        .runtime
        .block_on(check(&aws.clients, &events, &wanted))
        .map_err(anyhow::Error::msg)?;
    for e in &checked.errors {
        eprintln!("error: {}", crate::one_line(&e.to_string()));
    }
    for origin in &checked.named_nothing {
        eprintln!(
            "error: {origin}: names no resource to check (neither a state-change \
             notification nor an event that creates a catalogued resource)"
        );
    }
    if !cli.quiet {
        for (origin, arn, state) in &checked.leaving {
            eprintln!("{origin}: {arn} is {state}: nothing to check");
        }
        for arn in &checked.gone {
            eprintln!("{arn}: not found or terminated: nothing to check");
        }
    }
    for (arn, e) in &checked.failed {
        let kind = e.kind.as_str();
        let e = aws.explain(e.clone());
        eprintln!("error: {arn}: {} ({kind})", crate::one_line(&e.line));
    }
    if !checked.failed.is_empty() {
        anyhow::bail!(
            "{} resources named by the events could not be read",
            checked.failed.len()
        );
    }
    Ok(checked)
}

/// A spinner on a terminal while the inventory is listed (its size is
/// unknown until it is done).
fn spinner(cli: &Cli, message: &str) -> ProgressBar {
    if cli.quiet || !io::stderr().is_terminal() {
        return ProgressBar::hidden();
    }
    let bar = ProgressBar::new_spinner();
    bar.set_message(message.to_string());
    bar.enable_steady_tick(std::time::Duration::from_millis(120));
    bar
}

/// The listable types asked for, or in the policy's scope; `None` after
/// saying which one cannot be listed.
fn types(args: &ScanArgs, policy: &Policy) -> Option<Vec<&'static str>> {
    if args.types.is_empty() {
        return Some(listable(&policy.compliance));
    }
    let mut out = Vec::new();
    for t in &args.types {
        match inventory::types().find(|k| k == t) {
            Some(k) => out.push(k),
            None => {
                eprintln!(
                    "error: --types: `{t}` cannot be listed yet; these can: {}",
                    inventory::types().collect::<Vec<_>>().join(", ")
                );
                return None;
            }
        }
    }
    Some(out)
}

/// findings → plan → (confirm) → apply → record → report, on stderr so
/// that stdout stays the scan's report. Returns how many resources are
/// still non-compliant.
fn remediate(
    cli: &Cli,
    args: &ScanArgs,
    aws: &Aws,
    audit: &Audit,
    policy: &Policy,
    findings: &[Finding],
    run: &Run,
) -> Result<usize> {
    // The run stands in for the event: replaying it is recorded once.
    let (event, creator) = aws
        .runtime
        .block_on(stand_in(
            &aws.clients,
            format!("tagwarden-scan-{}", run.id),
            &run.at,
            format!("tagwarden/{}", env!("CARGO_PKG_VERSION")),
        ))
        .map_err(|e| aws.explain(e))
        .context("who is remediating")?;
    let Remedies {
        items,
        fixing,
        skipped,
    } = remedies(&policy.compliance, findings, &event, &creator);
    let mut err = io::stderr().lock();
    render::remediation_table(&items, &mut err)?;
    if skipped > 0 {
        writeln!(
            err,
            "{skipped} non-compliant resources need a fix remediation cannot make \
             (a wrong value, a wrong key case, or no template): see the report."
        )?;
    }
    drop(err);
    if !args.dry_run
        && !args.yes
        && !items.is_empty()
        && !confirm(&format!("Tag {} resources?", items.len()))?
    {
        eprintln!("Nothing changed.");
        return Ok(findings.iter().filter(|f| !f.verdict.compliant).count());
    }
    let opts = Options {
        dry_run: args.dry_run,
        ..Options::default()
    };
    let tagger = AwsTagger::new(Arc::clone(&aws.clients));
    let bar = progress(cli, items.len() as u64);
    let tagging = Tagging::Live {
        tagger: &tagger,
        opts,
        progress: &|n| bar.inc(n),
    };
    let done = aws
        .runtime
        .block_on(flow::remediate::remediate(tagging, &audit.store, &items));
    bar.finish_and_clear();
    let outcomes = &done.outcomes;
    let calls = aws.clients.counter().snapshot();
    let mut err = io::stderr().lock();
    let mut tally = render::Tally::default();
    tally.add(outcomes);
    render::apply_table(&tally, &calls, &mut err)?;
    for o in outcomes {
        if let Status::Failed { error } = &o.status {
            writeln!(
                err,
                "error: {}: {} ({})",
                o.arn,
                crate::one_line(&error.to_string()),
                error.kind.as_str()
            )?;
        }
    }
    writeln!(
        err,
        "{}",
        render::apply_summary(&tally, &calls, args.dry_run)
    )?;
    match &done.recorded {
        Ok(r) => writeln!(
            err,
            "Recorded in {}: {} history entries, {} user actions.",
            audit.describe(),
            r.history,
            r.actions
        )?,
        Err(e) => {
            let path = audit::spill(&done.rows)?;
            writeln!(
                err,
                "error: audit store: {}; the remediation is kept in {} \
                 (`tagwarden store import` records it)",
                crate::one_line(&e.to_string()),
                path.display()
            )?;
        }
    }
    Ok(still_bad(policy, findings, &fixing, outcomes))
}

/// Metrics, scan log and alert; every sink is tried, the first failure is
/// returned.
fn sinks(args: &ScanArgs, aws: &Aws, report: &Report, run: &Run) -> Result<()> {
    let mut first: Option<anyhow::Error> = None;
    let mut keep = |r: Result<()>| {
        if let Err(e) = r {
            eprintln!("error: {}", crate::one_line(&format!("{e:#}")));
            first.get_or_insert(e);
        }
    };
    if let Some(path) = &args.emf {
        let lines = report.emf(&args.namespace, run.at_ms);
        let text: String = lines.iter().map(|l| format!("{l}\n")).collect();
        keep(if path.as_os_str() == "-" {
            io::stderr().write_all(text.as_bytes()).map_err(Into::into)
        } else {
            std::fs::write(path, text).with_context(|| format!("--emf {}", path.display()))
        });
    }
    if args.put_metrics {
        let metrics = tagwarden_core::report::metrics(&report.findings);
        keep(
            aws.runtime
                .block_on(put_metrics(
                    &aws.clients,
                    &args.namespace,
                    &metrics,
                    run.at_ms,
                ))
                .map(|calls| {
                    eprintln!(
                        "Metrics: {} values in {calls} PutMetricData calls to {}",
                        metrics.len(),
                        args.namespace
                    )
                })
                .map_err(|e| anyhow::Error::new(aws.explain(e)).context("--put-metrics")),
        );
    }
    let scan_log = args.scan_log.as_deref().and_then(|url| {
        let parsed = s3_source::parse_url(url);
        if parsed.is_none() {
            keep(Err(anyhow::anyhow!(
                "--scan-log `{url}`: use s3://bucket/prefix"
            )));
        }
        parsed
    });
    let to = Destinations {
        scan_log,
        alert_topic: args.alert_topic.as_deref(),
        environment: None,
    };
    let done = aws.runtime.block_on(deliver(&aws.clients, report, run, to));
    match done.scan_log {
        Some(Ok(url)) => eprintln!("Scan log: {url}"),
        Some(Err(e)) => keep(Err(anyhow::anyhow!(e))),
        None => {}
    }
    if let Some(Err(e)) = done.published {
        keep(Err(anyhow::anyhow!(e)));
    }
    match first {
        Some(e) => Err(e),
        None => Ok(()),
    }
}
