//! `tagwarden apply`: plan, show the plan, read current tags, write what is
//! missing, report every resource's outcome and the API calls made.

use crate::access::LazyAws;
use crate::cli::{ApplyArgs, Cli, PlanFormat};
use crate::{read_plan, render, EXIT_BAD_INPUT};
use anyhow::Result;
use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};
use std::io::{self, BufRead, IsTerminal, Write};
use std::sync::Arc;
use std::time::Duration;
use tagwarden_aws::adapters::AwsTagger;
use tagwarden_aws::apply::{apply, Backoff, Options, Status};

/// `apply` left resources failed.
const EXIT_FAILED: u8 = 1;

pub fn run(cli: &Cli, args: &ApplyArgs) -> Result<u8> {
    let mut aws = LazyAws::new(cli);
    let planned = read_plan(cli, &args.input, &mut aws)?;
    let plan = &planned.plan;
    // Changes are shown before they are made.
    if args.format == PlanFormat::Table && !cli.quiet {
        let mut out = io::stdout().lock();
        render::plan_table(plan, &mut out)?;
        writeln!(out, "{}", render::summary(plan, &planned.stats))?;
    }
    if !args.dry_run && !args.yes && !plan.items.is_empty() && !confirm(plan.items.len())? {
        eprintln!("Nothing changed.");
        return Ok(0);
    }
    let aws = aws.get()?;
    let opts = Options {
        overwrite: planned.policy.attribution.overwrite,
        dry_run: args.dry_run,
        backoff: Backoff {
            retries: args.retries,
            base: Duration::from_millis(args.retry_base_ms),
            ..Backoff::default()
        },
        concurrency: args.concurrency,
    };
    let bar = progress(cli, plan.items.len() as u64);
    let tagger = AwsTagger::new(Arc::clone(&aws.clients));
    let outcomes = aws
        .runtime
        .block_on(apply(&tagger, &plan.items, &opts, &|n| bar.inc(n)));
    let calls = aws.clients.counter().snapshot();
    bar.finish_and_clear();
    let mut out = io::BufWriter::new(io::stdout().lock());
    match args.format {
        PlanFormat::Table => render::apply_table(&outcomes, &calls, &mut out)?,
        PlanFormat::Json => render::apply_json(&outcomes, &calls, &mut out)?,
    }
    out.flush()?;
    let failed: Vec<_> = outcomes
        .iter()
        .filter_map(|o| match &o.status {
            Status::Failed { error } => Some((o, error)),
            _ => None,
        })
        .collect();
    for (o, error) in &failed {
        eprintln!(
            "error: {}: {} ({})",
            o.arn,
            crate::one_line(&error.to_string()),
            error.kind.as_str()
        );
    }
    if !cli.quiet {
        eprintln!("{}", render::apply_summary(&outcomes, &calls, args.dry_run));
    }
    Ok(if planned.had_errors() {
        EXIT_BAD_INPUT
    } else if !failed.is_empty() {
        EXIT_FAILED
    } else {
        0
    })
}

/// On a terminal, asks before changing anything; elsewhere, `--yes` is
/// implied by the caller having scripted the command.
fn confirm(n: usize) -> Result<bool> {
    if !io::stdin().is_terminal() || !io::stderr().is_terminal() {
        return Ok(true);
    }
    eprint!("Tag {n} resources? [y/N] ");
    io::stderr().flush()?;
    let mut answer = String::new();
    io::stdin().lock().read_line(&mut answer)?;
    Ok(matches!(answer.trim(), "y" | "Y" | "yes"))
}

fn progress(cli: &Cli, total: u64) -> ProgressBar {
    if cli.quiet || !io::stderr().is_terminal() || total < 200 {
        return ProgressBar::hidden();
    }
    let bar = ProgressBar::with_draw_target(Some(total), ProgressDrawTarget::stderr());
    bar.set_style(
        ProgressStyle::with_template("{bar:40} {pos}/{len} resources {per_sec} eta {eta}")
            .unwrap_or_else(|_| ProgressStyle::default_bar()),
    );
    bar
}
