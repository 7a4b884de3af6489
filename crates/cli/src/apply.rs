//! `tagwarden apply`: plan, show the plan, read current tags, write what is
//! missing, report every resource's outcome and the API calls made.

use crate::access::LazyAws;
use crate::audit::{self, Audit};
use crate::cli::{ApplyArgs, Cli, PlanFormat};
use crate::reading::{first_pass, read_in_parts, Counts, FirstPass, Planned, Rereader};
use crate::sources::Sources;
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
use tagwarden_core::plan::{Plan, PlanItem};
use tagwarden_core::policy::Policy;
use tagwarden_core::waiting;
use tagwarden_flow::attribute::{settle, settle_while_created, Settled, Tagging, Waits};
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
    let policy = load_policy(args.input.policy.as_deref())?;
    if args.retry_failed {
        let (planned, counts) = retry_plan(cli, &audit)?;
        return whole(cli, args, &aws, &audit, &policy, planned, counts);
    }
    let sources = Sources::list(&args.sources, &args.input, &aws, true)?;
    let store = (&audit, true);
    let read = first_pass(
        cli,
        &sources,
        &args.input,
        &aws,
        store,
        &policy,
        args.part_size,
    )?;
    match read {
        FirstPass::Whole(planned, counts) => {
            whole(cli, args, &aws, &audit, &policy, planned, counts)
        }
        FirstPass::Counted(overview, counts) => {
            let reader = Rereader {
                cli,
                sources: &sources,
                args: &args.input,
                aws: &aws,
                audit: &audit,
                policy: &policy,
                part: args.part_size,
            };
            in_parts(args, &reader, overview, counts)
        }
    }
}

/// A plan held whole: shown, asked about, then settled at once.
fn whole(
    cli: &Cli,
    args: &ApplyArgs,
    aws: &LazyAws,
    audit: &Audit,
    policy: &Policy,
    mut planned: Planned,
    counts: Counts,
) -> Result<u8> {
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
        writeln!(out, "{}", render::summary(&overview, &counts.stats))?;
    }
    warn_tampering(cli, &tampered);
    if !go_ahead(args, plan.items.len() + tampered.len())? {
        eprintln!("Nothing changed.");
        return Ok(0);
    }
    let mut report = Report::start(cli, args, plan.items.len() as u64, false)?;
    report.child_errors += child_errors;
    let settled = settle_planned(cli, args, aws, audit, policy, &planned, &mut report);
    report.finish(aws, audit, counts.had_errors(), settled)
}

/// A plan too large to hold: its overview shown and asked about, then the
/// sources read again and each part planned, settled and recorded in turn
/// (a later part's plan sees what the earlier ones recorded). Resources
/// still being created are settled last, so that no part holds the reading
/// up while it waits for them.
fn in_parts(args: &ApplyArgs, reader: &Rereader, overview: Overview, first: Counts) -> Result<u8> {
    let Rereader {
        cli,
        aws,
        audit,
        policy,
        ..
    } = *reader;
    if !cli.quiet {
        if args.format == PlanFormat::Table {
            let mut out = io::stdout().lock();
            render::overview(&overview, render::WHOLE_PLAN_AGAIN, &mut out)?;
            writeln!(out, "{}", render::summary(&overview, &first.stats))?;
        }
        eprintln!(
            "This run is too large to hold: it is applied in parts of about {} creations, \
             each planned again with what the earlier parts recorded.",
            args.part_size
        );
    }
    if !go_ahead(args, overview.resources as usize)? {
        eprintln!("Nothing changed.");
        return Ok(0);
    }
    let mut report = Report::start(cli, args, overview.resources, true)?;
    let read = read_in_parts(reader, &first, &mut |mut planned: Planned| {
        report.child_errors += children(args, aws, &mut planned.plan)?;
        let (tampered, _) = audit.run(tagwarden_flow::tamper::find(
            &audit.store,
            &planned.tag_changes,
        ))?;
        warn_tampering(cli, &tampered);
        settle_planned(cli, args, aws, audit, policy, &planned, &mut report)
    });
    // What waited for its creation, settled now with the waits it needs.
    let settled = read.and_then(|again| {
        let waiting = std::mem::take(&mut report.deferred).unwrap_or_default();
        if !waiting.is_empty() {
            report.deadline = Instant::now() + args.wait;
            let planned = Planned {
                plan: Plan {
                    items: waiting,
                    ..Plan::default()
                },
                tag_changes: Vec::new(),
                watched: Vec::new(),
            };
            settle_planned(cli, args, aws, audit, policy, &planned, &mut report)?;
        }
        Ok(again)
    });
    let had_errors = first.had_errors() || settled.as_ref().is_ok_and(Counts::had_errors);
    report.finish(aws, audit, had_errors, settled.map(|_| ()))
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

/// Asked on a terminal unless `--yes`, a dry run, or nothing would change.
fn go_ahead(args: &ApplyArgs, changing: usize) -> Result<bool> {
    if args.dry_run() || args.yes || changing == 0 {
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
    policy: &Policy,
    planned: &Planned,
    report: &mut Report,
) -> Result<()> {
    let (plan, changes) = (&planned.plan, &planned.tag_changes);
    let settled = if args.offline {
        let offline = Tagging::<AwsTagger>::Offline;
        audit.run(settle(offline, &audit.store, plan, changes))
    } else {
        let aws = aws.get()?;
        let opts = Options {
            overwrite: policy.attribution.overwrite,
            dry_run: args.dry_run(),
            backoff: backoff(args),
            concurrency: args.concurrency,
            may_wait: false,
        };
        let tagger = AwsTagger::new(Arc::clone(&aws.clients));
        let waits = match report.deferred {
            Some(_) => Waits::Later,
            None => Waits::Rounds {
                pause: |attempt| {
                    waiting::delay(attempt).map(|d| {
                        Duration::from_millis(d.as_secs().saturating_mul(args.wait_unit_ms))
                    })
                },
                deadline: report.deadline,
            },
        };
        let (store, tagger, bar) = (&audit.store, &tagger, &report.bar);
        aws.runtime.block_on(async {
            let round = async |plan: &Plan, changes: &[TagChange], attempt, may_wait| {
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
            settle_while_created(plan, changes, waits, told, round).await
        })
    };
    report.settled(plan, &settled)?;
    // Blinding calls are recorded as their callers' actions (warned above).
    if !args.dry_run() {
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
    Ok(())
}

/// What `apply` tells, gathered part by part: outcomes stream out as JSON
/// or are counted for the table; failures are said as they come.
struct Report {
    dry_run: bool,
    offline: bool,
    quiet: bool,
    out: io::BufWriter<io::Stdout>,
    output: Output,
    tally: render::Tally,
    bar: ProgressBar,
    /// When waiting for resources being created stops.
    deadline: Instant,
    /// In parts: the resources still being created, settled after the
    /// rest (their outcomes are told then).
    deferred: Option<Vec<PlanItem>>,
    failed: u64,
    child_errors: u64,
    recorded: Recorded,
    /// Some outcomes did not reach the store (kept in a file, said).
    unrecorded: bool,
    restored: usize,
}

enum Output {
    Table,
    Json(render::ApplyJson),
}

impl Report {
    fn start(cli: &Cli, args: &ApplyArgs, resources: u64, deferring: bool) -> Result<Self> {
        let mut out = io::BufWriter::new(io::stdout());
        let output = match args.format {
            PlanFormat::Json => Output::Json(render::ApplyJson::begin(&mut out)?),
            PlanFormat::Table => Output::Table,
        };
        Ok(Self {
            dry_run: args.dry_run(),
            offline: args.offline,
            quiet: cli.quiet,
            out,
            output,
            tally: render::Tally::default(),
            bar: progress(cli, resources),
            deadline: Instant::now() + args.wait,
            deferred: deferring.then(Vec::new),
            failed: 0,
            child_errors: 0,
            recorded: Recorded::default(),
            unrecorded: false,
            restored: 0,
        })
    }

    fn settled(&mut self, plan: &Plan, settled: &Settled) -> Result<()> {
        let mut told = Vec::with_capacity(settled.outcomes.len());
        for o in &settled.outcomes {
            match (&mut self.deferred, &o.status) {
                (Some(later), Status::Waiting { .. }) => later.push(plan.items[o.item].clone()),
                _ => told.push(o.clone()),
            }
        }
        self.tally.add(&told);
        if let Output::Json(json) = &mut self.output {
            json.add(&told, &mut self.out)?;
        }
        for o in told.iter().chain(&settled.undone.outcomes) {
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

    /// The totals and calls (the JSON document closed even when the run
    /// stopped with `ended`'s error), the closing lines, and the exit code.
    fn finish(
        mut self,
        aws: &LazyAws,
        audit: &Audit,
        had_errors: bool,
        ended: Result<()>,
    ) -> Result<u8> {
        self.bar.finish_and_clear();
        let calls = match (self.offline, aws.connected()) {
            (false, Some(aws)) => aws.clients.counter().snapshot(),
            _ => CallCounts::default(),
        };
        match self.output {
            Output::Json(json) => json.end(&self.tally, &calls, &mut self.out)?,
            Output::Table => render::apply_table(&self.tally, &calls, &mut self.out)?,
        }
        self.out.flush()?;
        ended?;
        if !self.quiet {
            eprintln!(
                "{}",
                render::apply_summary(&self.tally, &calls, self.dry_run)
            );
            if self.offline {
                eprintln!("Offline: no AWS call was made; the plan is recorded as planned only.");
            }
        }
        if !self.quiet && self.restored > 0 {
            eprintln!(
                "Restored {} protected keys someone else removed or changed (history: `restored`).",
                self.restored
            );
        }
        if !self.quiet && !self.unrecorded {
            eprintln!("{}", audit.recorded(&self.recorded));
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
fn retry_plan(cli: &Cli, audit: &Audit) -> Result<(Planned, Counts)> {
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
    let planned = Planned {
        plan: Plan {
            items,
            ..Plan::default()
        },
        tag_changes: Vec::new(),
        watched: Vec::new(),
    };
    let counts = Counts {
        unopened: errors,
        ..Counts::default()
    };
    Ok((planned, counts))
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
