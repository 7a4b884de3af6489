//! `tagwarden apply`: plan, show the plan, read current tags, write what is
//! missing, report every resource's outcome and the API calls made.

use crate::access::LazyAws;
use crate::audit::{self, Audit};
use crate::cli::{ApplyArgs, Cli, PlanFormat};
use crate::{load_policy, read_plan, render, Planned, EXIT_BAD_INPUT};
use anyhow::Result;
use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};
use std::io::{self, BufRead, IsTerminal, Write};
use std::sync::Arc;
use std::time::Duration;
use std::time::Instant;
use tagwarden_aws::adapters::AwsTagger;
use tagwarden_aws::apply::{Backoff, Options, Status};
use tagwarden_aws::calls::CallCounts;
use tagwarden_core::pipeline::TagChange;
use tagwarden_core::plan::Plan;
use tagwarden_core::waiting;
use tagwarden_flow::attribute::{settle, settle_while_created, Tagging};
use tagwarden_flow::children::{has_children, with_children};
use tagwarden_store::sqlite::Open;
use tagwarden_store::AuditStore;

/// `apply` left resources failed.
const EXIT_FAILED: u8 = 1;

pub fn run(cli: &Cli, args: &ApplyArgs) -> Result<u8> {
    let mut aws = LazyAws::new(cli);
    // The store is opened first: a locked or broken store stops the run
    // before anything changes.
    let audit = Audit::open(cli, &mut aws, Open::Create)?;
    let mut planned = if args.retry_failed {
        retry_plan(cli, args, &audit)?
    } else {
        read_plan(
            cli,
            &args.sources,
            &args.input,
            &mut aws,
            Some((&audit, true)),
        )?
    };
    // An instance's volumes are read before the plan is shown (not offline:
    // that makes no AWS call).
    let mut child_errors = Vec::new();
    let plan = &planned.plan;
    if !args.offline && has_children(plan) {
        let aws = aws.get()?;
        let tagger = AwsTagger::new(Arc::clone(&aws.clients));
        let plan = std::mem::take(&mut planned.plan);
        let backoff = Backoff {
            retries: args.retries,
            base: Duration::from_millis(args.retry_base_ms),
            ..Backoff::default()
        };
        let (with, errors) = aws.runtime.block_on(with_children(&tagger, plan, backoff));
        planned.plan = with;
        child_errors = errors;
    }
    for e in &child_errors {
        eprintln!("error: {}", crate::one_line(e));
    }
    let plan = &planned.plan;
    let dry_run = args.dry_run || args.offline;
    // Tampering with keys tagwarden owns, undone below: shown first too.
    let (tampered, _) = audit.run(tagwarden_flow::tamper::find(
        &audit.store,
        &planned.tag_changes,
    ))?;
    // Changes are shown before they are made.
    if args.format == PlanFormat::Table && !cli.quiet {
        let terminal = io::stdout().is_terminal();
        let mut out = io::stdout().lock();
        render::plan_for(plan, terminal, &mut out)?;
        writeln!(out, "{}", render::summary(plan, &planned.stats))?;
    }
    if !cli.quiet {
        for t in &tampered {
            eprintln!("warning: tampering: {}; to be restored", t.line());
        }
    }
    let changing = plan.items.len() + tampered.len();
    if !dry_run && !args.yes && changing > 0 && !confirm(&format!("Tag {changing} resources?"))? {
        eprintln!("Nothing changed.");
        return Ok(0);
    }
    // plan → apply → record.
    let changes = &planned.tag_changes;
    let (settled, calls) = if args.offline {
        let offline = Tagging::<AwsTagger>::Offline;
        let settled = audit.run(settle(offline, &audit.store, plan, changes));
        (settled, CallCounts::default())
    } else {
        let aws = aws.get()?;
        let opts = Options {
            overwrite: planned.policy.attribution.overwrite,
            dry_run,
            backoff: Backoff {
                retries: args.retries,
                base: Duration::from_millis(args.retry_base_ms),
                ..Backoff::default()
            },
            concurrency: args.concurrency,
            may_wait: false,
        };
        let tagger = AwsTagger::new(Arc::clone(&aws.clients));
        let deadline = Instant::now() + args.wait;
        let pause = |attempt| {
            waiting::delay(attempt)
                .map(|d| Duration::from_millis(d.as_secs().saturating_mul(args.wait_unit_ms)))
        };
        let (store, tagger) = (&audit.store, &tagger);
        let settled = aws.runtime.block_on(async {
            let round = async |plan: &Plan, changes: &[TagChange], attempt: u32| {
                // Another round only if its pause ends before the deadline:
                // on the last one, what is still being created has failed.
                let may_wait =
                    pause(attempt).is_some_and(|pause| Instant::now() + pause <= deadline);
                let opts = Options {
                    may_wait,
                    ..opts.clone()
                };
                let bar = progress(cli, plan.items.len() as u64);
                let tagging = Tagging::Live {
                    tagger,
                    opts,
                    progress: &|n| bar.inc(n),
                };
                let settled = settle(tagging, store, plan, changes).await;
                bar.finish_and_clear();
                settled
            };
            let told = |n: usize, pause: Duration| {
                if !cli.quiet {
                    eprintln!(
                        "{n} resources are still being created: trying again in {pause:.0?}."
                    );
                }
            };
            settle_while_created(plan, changes, pause, told, round).await
        });
        (settled, aws.clients.counter().snapshot())
    };
    let outcomes = &settled.outcomes;
    let recorded = settled
        .recorded
        .as_ref()
        .map_err(|e| (e, audit::spill(&settled.rows)));
    let mut out = io::BufWriter::new(io::stdout().lock());
    match args.format {
        PlanFormat::Table => render::apply_table(outcomes, &calls, &mut out)?,
        PlanFormat::Json => render::apply_json(outcomes, &calls, &mut out)?,
    }
    out.flush()?;
    let failed: Vec<_> = outcomes
        .iter()
        .chain(&settled.undone.outcomes)
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
        eprintln!("{}", render::apply_summary(outcomes, &calls, dry_run));
        if args.offline {
            eprintln!("Offline: no AWS call was made; the plan is recorded as planned only.");
        }
    }
    // Blinding calls are recorded as their callers' actions (warned above).
    if !dry_run {
        let now = tagwarden_store::rows::now();
        if let Err(e) = audit.run(tagwarden_flow::watch::record(
            &audit.store,
            &planned.watched,
            &now,
        )) {
            eprintln!(
                "error: audit store: the blinding calls are not recorded: {}",
                crate::one_line(&format!("{e:#}"))
            );
        }
    }
    if !cli.quiet && !settled.undone.tampers.is_empty() {
        eprintln!(
            "Restored {} protected keys someone else removed or changed (history: `restored`).",
            settled.undone.tampers.len()
        );
    }
    if let Some(Err(e)) = &settled.undone.recorded {
        eprintln!(
            "error: audit store: the restores are not recorded: {}",
            crate::one_line(&e.to_string())
        );
    }
    match &recorded {
        Ok(r) if !cli.quiet => eprintln!(
            "Recorded in {}: {} history entries, {} user actions, {} resources updated.",
            audit.describe(),
            r.history,
            r.actions,
            r.metadata
        ),
        Ok(_) => {}
        Err((e, spilled)) => {
            eprintln!(
                "error: audit store: {}; these outcomes are not recorded",
                crate::one_line(&e.to_string())
            );
            match spilled {
                Ok(path) => eprintln!(
                    "They are kept in {}: `tagwarden store import {}` records them.",
                    path.display(),
                    path.display()
                ),
                Err(e) => eprintln!("error: keeping them failed too: {e:#}"),
            }
        }
    }
    Ok(if planned.had_errors() {
        EXIT_BAD_INPUT
    } else if !failed.is_empty()
        || !child_errors.is_empty()
        || recorded.is_err()
        || matches!(settled.undone.recorded, Some(Err(_)))
    {
        EXIT_FAILED
    } else {
        0
    })
}

/// The plan `--retry-failed` runs: what the store holds as failed.
fn retry_plan(cli: &Cli, args: &ApplyArgs, audit: &Audit) -> Result<Planned> {
    let failed = audit.run(audit.store.failed())?;
    let (items, errors) = tagwarden_flow::retry::items(failed, jiff::Timestamp::now());
    for e in &errors {
        eprintln!("error: {}", crate::one_line(e));
    }
    if !cli.quiet {
        eprintln!(
            "Retrying {} failed resources from {}.",
            items.len(),
            audit.describe()
        );
    }
    Ok(Planned {
        policy: load_policy(args.input.policy.as_deref())?,
        plan: Plan {
            items,
            ..Plan::default()
        },
        stats: Default::default(),
        tag_changes: Vec::new(),
        watched: Vec::new(),
        open_errors: errors.len() as u64,
    })
}

/// On a terminal, asks before changing anything; elsewhere, `--yes` is
/// implied by the caller having scripted the command.
pub(crate) fn confirm(question: &str) -> Result<bool> {
    if !io::stdin().is_terminal() || !io::stderr().is_terminal() {
        return Ok(true);
    }
    eprint!("{question} [y/N] ");
    io::stderr().flush()?;
    let mut answer = String::new();
    io::stdin().lock().read_line(&mut answer)?;
    Ok(matches!(answer.trim(), "y" | "Y" | "yes"))
}

pub(crate) fn progress(cli: &Cli, total: u64) -> ProgressBar {
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
