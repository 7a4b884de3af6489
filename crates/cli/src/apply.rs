//! `tagwarden apply`: plan, show the plan, read current tags, write what is
//! missing, report every resource's outcome and the API calls made.

use crate::access::LazyAws;
use crate::audit::{self, Audit};
use crate::cli::{ApplyArgs, Cli, PlanFormat};
use crate::reading::{first_pass, read_in_parts, Counted, FirstPass, Planned, Sources};
use crate::{load_policy, render, EXIT_BAD_INPUT};
use anyhow::Result;
use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};
use std::io::{self, BufRead, IsTerminal, Write};
use std::sync::Arc;
use std::time::Duration;
use std::time::Instant;
use tagwarden_aws::adapters::AwsTagger;
use tagwarden_aws::apply::{Backoff, Options, Status};
use tagwarden_aws::calls::CallCounts;
use tagwarden_core::overview::Overview;
use tagwarden_core::pipeline::TagChange;
use tagwarden_core::plan::Plan;
use tagwarden_core::waiting;
use tagwarden_flow::attribute::{settle, settle_while_created, Settled, Tagging};
use tagwarden_flow::children::{has_children, with_children};
use tagwarden_store::model::Recorded;
use tagwarden_store::sqlite::Open;
use tagwarden_store::AuditStore;

/// `apply` left resources failed.
const EXIT_FAILED: u8 = 1;

pub fn run(cli: &Cli, args: &ApplyArgs) -> Result<u8> {
    let aws = LazyAws::new(cli);
    // The store is opened first: a locked or broken store stops the run
    // before anything changes.
    let audit = Audit::open(cli, &aws, Open::Create)?;
    if args.retry_failed {
        let planned = retry_plan(cli, args, &audit)?;
        return whole(cli, args, &aws, &audit, planned);
    }
    let policy = load_policy(args.input.policy.as_deref())?;
    let sources = Sources::list(&args.sources, &args.input, &aws, true)?;
    let part = args.part_size.max(1);
    let store = Some((&audit, true));
    match first_pass(cli, &sources, &args.input, &aws, store, policy, Some(part))? {
        FirstPass::Whole(planned) => whole(cli, args, &aws, &audit, planned),
        FirstPass::Counted(counted) => in_parts(cli, args, &aws, &audit, &sources, counted),
    }
}

/// A plan held whole: shown, asked about, then settled at once.
fn whole(
    cli: &Cli,
    args: &ApplyArgs,
    aws: &LazyAws,
    audit: &Audit,
    planned: Planned,
) -> Result<u8> {
    let mut planned = planned;
    // An instance's volumes are read before the plan is shown.
    let child_errors = children(args, aws, &mut planned.plan)?;
    // Tampering with keys tagwarden owns, undone below: shown first too.
    let (tampered, _) = audit.run(tagwarden_flow::tamper::find(
        &audit.store,
        &planned.tag_changes,
    ))?;
    let plan = &planned.plan;
    // Changes are shown before they are made.
    if args.format == PlanFormat::Table && !cli.quiet {
        let terminal = io::stdout().is_terminal();
        let mut out = io::stdout().lock();
        render::plan_for(plan, terminal, &mut out)?;
        let overview = Overview::of(plan, 0);
        writeln!(out, "{}", render::summary(&overview, &planned.stats))?;
    }
    warn_tampering(cli, &tampered);
    let changing = plan.items.len() + tampered.len();
    if !go_ahead(args, changing)? {
        eprintln!("Nothing changed.");
        return Ok(0);
    }
    let mut report = Report::start(cli, args, plan.items.len() as u64)?;
    report.child_errors += child_errors;
    settle_planned(cli, args, aws, audit, &planned, &mut report)?;
    report.finish(aws, audit, planned.had_errors())
}

/// A plan too large to hold: its overview shown and asked about, then the
/// sources read again and each part planned, settled and recorded in turn
/// (a later part's plan sees what the earlier ones recorded: the latest
/// creation of an ARN wins across parts as within one).
fn in_parts(
    cli: &Cli,
    args: &ApplyArgs,
    aws: &LazyAws,
    audit: &Audit,
    sources: &Sources,
    counted: Counted,
) -> Result<u8> {
    if !cli.quiet {
        let mut out = io::stdout().lock();
        if args.format == PlanFormat::Table {
            render::overview(&counted.overview, &mut out)?;
        }
        eprintln!("{}", render::summary(&counted.overview, &counted.stats));
        eprintln!(
            "This plan is too large to hold: it is applied in parts of about {} creations, \
             each planned again with what the earlier parts recorded.",
            args.part_size
        );
    }
    if !go_ahead(args, counted.overview.resources as usize)? {
        eprintln!("Nothing changed.");
        return Ok(0);
    }
    let mut report = Report::start(cli, args, counted.overview.resources)?;
    let mut failed = Ok(());
    let mut settle = |mut planned: Planned| {
        if failed.is_err() {
            return;
        }
        let step = children(args, aws, &mut planned.plan).and_then(|errors| {
            report.child_errors += errors;
            let (tampered, _) = audit.run(tagwarden_flow::tamper::find(
                &audit.store,
                &planned.tag_changes,
            ))?;
            warn_tampering(cli, &tampered);
            settle_planned(cli, args, aws, audit, &planned, &mut report)
        });
        if let Err(e) = step {
            failed = Err(e);
        }
    };
    let policy = &counted.policy;
    let part = args.part_size.max(1);
    let read = read_in_parts(
        cli,
        sources,
        &args.input,
        aws,
        audit,
        policy,
        part,
        &mut settle,
    );
    read.and(failed)?;
    report.finish(aws, audit, counted.had_errors())
}

/// Reads the children of the plan's instances (not offline: that makes
/// no AWS call); returns how many could not be read, each said.
fn children(args: &ApplyArgs, aws: &LazyAws, plan: &mut Plan) -> Result<u64> {
    if args.offline || !has_children(plan) {
        return Ok(0);
    }
    let aws = aws.get()?;
    let tagger = AwsTagger::new(Arc::clone(&aws.clients));
    let (with, errors) =
        aws.runtime
            .block_on(with_children(&tagger, std::mem::take(plan), backoff(args)));
    *plan = with;
    for e in &errors {
        eprintln!("error: {}", crate::one_line(e));
    }
    Ok(errors.len() as u64)
}

fn backoff(args: &ApplyArgs) -> Backoff {
    Backoff {
        retries: args.retries,
        base: Duration::from_millis(args.retry_base_ms),
        ..Backoff::default()
    }
}

fn warn_tampering(cli: &Cli, tampered: &[tagwarden_flow::tamper::Tamper]) {
    if !cli.quiet {
        for t in tampered {
            eprintln!("warning: tampering: {}; to be restored", t.line());
        }
    }
}

/// Asked on a terminal unless `--yes` or nothing would change (a dry run
/// changes nothing).
fn go_ahead(args: &ApplyArgs, changing: usize) -> Result<bool> {
    let dry_run = args.dry_run || args.offline;
    if dry_run || args.yes || changing == 0 {
        return Ok(true);
    }
    confirm(&format!("Tag {changing} resources?"))
}

/// plan → apply → record for one plan (the whole, or one part), its
/// outcomes handed to `report`.
fn settle_planned(
    cli: &Cli,
    args: &ApplyArgs,
    aws: &LazyAws,
    audit: &Audit,
    planned: &Planned,
    report: &mut Report,
) -> Result<()> {
    let (plan, changes) = (&planned.plan, &planned.tag_changes);
    let dry_run = args.dry_run || args.offline;
    let settled = if args.offline {
        let offline = Tagging::<AwsTagger>::Offline;
        audit.run(settle(offline, &audit.store, plan, changes))
    } else {
        let aws = aws.get()?;
        let opts = Options {
            overwrite: planned.policy.attribution.overwrite,
            dry_run,
            backoff: backoff(args),
            concurrency: args.concurrency,
            may_wait: false,
        };
        let tagger = AwsTagger::new(Arc::clone(&aws.clients));
        let deadline = report.deadline;
        let pause = |attempt| {
            waiting::delay(attempt)
                .map(|d| Duration::from_millis(d.as_secs().saturating_mul(args.wait_unit_ms)))
        };
        let (store, tagger, bar) = (&audit.store, &tagger, &report.bar);
        aws.runtime.block_on(async {
            let round = async |plan: &Plan, changes: &[TagChange], attempt: u32| {
                // Another round only if its pause ends before the deadline:
                // on the last one, what is still being created has failed.
                let may_wait =
                    pause(attempt).is_some_and(|pause| Instant::now() + pause <= deadline);
                let opts = Options {
                    may_wait,
                    ..opts.clone()
                };
                // Waiting rounds go over resources already counted.
                let counted = |n| bar.inc(n);
                let tagging = Tagging::Live {
                    tagger,
                    opts,
                    progress: match attempt {
                        0 => &counted,
                        _ => &|_| {},
                    },
                };
                settle(tagging, store, plan, changes).await
            };
            let told = |n: usize, pause: Duration| {
                if !cli.quiet {
                    bar.suspend(|| {
                        eprintln!(
                            "{n} resources are still being created: trying again in {pause:.0?}."
                        )
                    });
                }
            };
            settle_while_created(plan, changes, pause, told, round).await
        })
    };
    report.settled(&settled)?;
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
            report.unrecorded = true;
        }
    }
    Ok(())
}

/// What `apply` tells, gathered part by part: outcomes stream out as JSON
/// or are counted for the table; failures are said as they come.
struct Report {
    format: PlanFormat,
    dry_run: bool,
    offline: bool,
    quiet: bool,
    out: io::BufWriter<io::Stdout>,
    json: Option<render::ApplyJson>,
    tally: render::Tally,
    bar: ProgressBar,
    /// When waiting for resources being created stops.
    deadline: Instant,
    failed: u64,
    child_errors: u64,
    recorded: Recorded,
    /// Some rows did not reach the store (kept elsewhere, said).
    unrecorded: bool,
    restored: usize,
}

impl Report {
    fn start(cli: &Cli, args: &ApplyArgs, resources: u64) -> Result<Self> {
        let mut out = io::BufWriter::new(io::stdout());
        let json = match args.format {
            PlanFormat::Json => Some(render::ApplyJson::begin(&mut out)?),
            PlanFormat::Table => None,
        };
        Ok(Self {
            format: args.format,
            dry_run: args.dry_run || args.offline,
            offline: args.offline,
            quiet: cli.quiet,
            out,
            json,
            tally: render::Tally::default(),
            bar: progress(cli, resources),
            deadline: Instant::now() + args.wait,
            failed: 0,
            child_errors: 0,
            recorded: Recorded::default(),
            unrecorded: false,
            restored: 0,
        })
    }

    fn settled(&mut self, settled: &Settled) -> Result<()> {
        let outcomes = &settled.outcomes;
        self.tally.add(outcomes);
        if let Some(json) = &mut self.json {
            json.add(outcomes, &mut self.out)?;
        }
        for o in outcomes.iter().chain(&settled.undone.outcomes) {
            if let Status::Failed { error } = &o.status {
                self.failed += 1;
                self.bar.suspend(|| {
                    eprintln!(
                        "error: {}: {} ({})",
                        o.arn,
                        crate::one_line(&error.to_string()),
                        error.kind.as_str()
                    )
                });
            }
        }
        self.restored += settled.undone.tampers.len();
        if let Some(Err(e)) = &settled.undone.recorded {
            self.unrecorded = true;
            eprintln!(
                "error: audit store: the restores are not recorded: {}",
                crate::one_line(&e.to_string())
            );
        }
        match &settled.recorded {
            Ok(r) => self.recorded = self.recorded.plus(*r),
            Err(e) => {
                self.unrecorded = true;
                eprintln!(
                    "error: audit store: {}; these outcomes are not recorded",
                    crate::one_line(&e.to_string())
                );
                match audit::spill(&settled.rows) {
                    Ok(path) => eprintln!(
                        "They are kept in {}: `tagwarden store import {}` records them.",
                        path.display(),
                        path.display()
                    ),
                    Err(e) => eprintln!("error: keeping them failed too: {e:#}"),
                }
            }
        }
        Ok(())
    }

    /// The totals and calls, the closing lines, and the exit code.
    fn finish(mut self, aws: &LazyAws, audit: &Audit, had_errors: bool) -> Result<u8> {
        self.bar.finish_and_clear();
        let calls = match (self.offline, aws.connected()) {
            (false, Some(aws)) => aws.clients.counter().snapshot(),
            _ => CallCounts::default(),
        };
        match self.json.take() {
            Some(json) => json.end(&self.tally, &calls, &mut self.out)?,
            None if self.format == PlanFormat::Table => {
                render::apply_table(&self.tally, &calls, &mut self.out)?
            }
            None => {}
        }
        self.out.flush()?;
        if !self.quiet {
            eprintln!(
                "{}",
                render::apply_summary(&self.tally, &calls, self.dry_run)
            );
            if self.offline {
                eprintln!("Offline: no AWS call was made; the plan is recorded as planned only.");
            }
            if self.restored > 0 {
                eprintln!(
                    "Restored {} protected keys someone else removed or changed (history: `restored`).",
                    self.restored
                );
            }
            let r = &self.recorded;
            eprintln!(
                "Recorded in {}: {} history entries, {} user actions, {} resources updated.",
                audit.describe(),
                r.history,
                r.actions,
                r.metadata
            );
        }
        Ok(if had_errors {
            EXIT_BAD_INPUT
        } else if self.failed > 0 || self.child_errors > 0 || self.unrecorded {
            EXIT_FAILED
        } else {
            0
        })
    }
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
