//! The `tagwarden` binary: a thin shell that turns arguments into the core
//! pipeline's sources and its output into tables or JSON.

mod apply;
mod cli;
mod render;
mod sources;

use anyhow::{Context, Result};
use clap::Parser;
use cli::{Cli, Command, InputArgs, PlanArgs, PlanFormat};
use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};
use std::io::{self, IsTerminal, Write};
use std::process::ExitCode;
use tagwarden_core::pipeline::Stats;
use tagwarden_core::pipeline::{Found, Pipeline, Window};
use tagwarden_core::plan::{Plan, Planner};
use tagwarden_core::policy::Policy;

/// Exit codes (contract): 0 done, 1 findings or failures, 2 bad usage,
/// configuration or input.
pub const EXIT_BAD_INPUT: u8 = 2;

fn main() -> ExitCode {
    let cli = Cli::parse();
    let result = match &cli.command {
        Command::Plan(args) => plan(&cli, args),
        Command::Apply(args) => apply::run(&cli, args),
    };
    match result {
        Ok(code) => ExitCode::from(code),
        Err(e) => {
            // A closed pipe (`| head`) is the reader's choice, not a failure.
            if e.downcast_ref::<io::Error>()
                .is_some_and(|e| e.kind() == io::ErrorKind::BrokenPipe)
            {
                return ExitCode::SUCCESS;
            }
            eprintln!("error: {}", one_line(&format!("{e:#}")));
            ExitCode::from(EXIT_BAD_INPUT)
        }
    }
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

fn load_policy(path: Option<&std::path::Path>) -> Result<Policy> {
    match path {
        None => Ok(Policy::default_policy()),
        Some(p) => {
            let text = std::fs::read_to_string(p).with_context(|| format!("{}", p.display()))?;
            Policy::from_yaml(&text).with_context(|| format!("{}", p.display()))
        }
    }
}

fn progress(cli: &Cli, total: u64) -> ProgressBar {
    if cli.quiet || !io::stderr().is_terminal() || total < 32 << 20 {
        return ProgressBar::hidden();
    }
    let bar = ProgressBar::with_draw_target(Some(total), ProgressDrawTarget::stderr());
    bar.set_style(
        ProgressStyle::with_template(
            "{bar:40} {binary_bytes}/{binary_total_bytes} {binary_bytes_per_sec} {msg}",
        )
        .unwrap_or_else(|_| ProgressStyle::default_bar()),
    );
    bar
}

/// What reading the sources gave: the plan, the reader's counts, and how
/// many inputs could not be opened at all.
pub struct Planned {
    pub policy: Policy,
    pub plan: Plan,
    pub stats: Stats,
    pub open_errors: u64,
}

impl Planned {
    /// Some input was bad: the exit code says so even when the rest went well.
    pub fn had_errors(&self) -> bool {
        self.stats.errors + self.open_errors > 0
    }
}

/// sources → records → catalog → attribution → plan.
fn read_plan(cli: &Cli, args: &InputArgs) -> Result<Planned> {
    let policy = load_policy(args.policy.as_deref())?;
    let inputs = sources::expand(&args.sources)?;
    let bar = progress(cli, inputs.iter().map(|i| i.size()).sum());
    let mut pipeline = Pipeline::new(Window {
        since: args.since.clone(),
        until: args.until.clone(),
    });
    let mut planner = Planner::new(&policy);
    let mut open_errors = 0u64;
    for input in &inputs {
        let name = input.name();
        bar.set_message(name.clone());
        let reader = match input.open() {
            Ok(r) => r,
            Err(e) => {
                open_errors += 1;
                bar.suspend(|| {
                    eprintln!("error: {}", one_line(&format!("{name}: cannot open: {e}")))
                });
                continue;
            }
        };
        let before = (cli.verbose > 0).then(|| pipeline.stats().clone());
        pipeline.read(&name, bar.wrap_read(reader), &mut |found| match found {
            Found::Creation(c) => planner.add(&c),
            Found::Fetch(object) => {
                if !cli.quiet {
                    bar.suspend(|| {
                        eprintln!("note: {name}: an S3 notification naming {object}; pass that object as a source to read it")
                    })
                }
            }
            Found::Error(e) => bar.suspend(|| eprintln!("error: {}", one_line(&e.to_string()))),
        });
        if let Some(before) = before {
            let now = pipeline.stats();
            bar.suspend(|| {
                eprintln!(
                    "read {name}: {} bytes, {} records, {} creations, {} errors",
                    now.bytes - before.bytes,
                    now.records - before.records,
                    now.creations - before.creations,
                    now.errors - before.errors
                )
            });
        }
    }
    bar.finish_and_clear();
    let plan = planner.finish();
    Ok(Planned {
        plan,
        stats: pipeline.stats().clone(),
        open_errors,
        policy,
    })
}

fn plan(cli: &Cli, args: &PlanArgs) -> Result<u8> {
    let planned = read_plan(cli, &args.input)?;
    let mut out = io::BufWriter::new(io::stdout().lock());
    match args.format {
        PlanFormat::Table => render::plan_table(&planned.plan, &mut out)?,
        PlanFormat::Json => render::plan_json(&planned.plan, &mut out)?,
    }
    out.flush()?;
    if !cli.quiet {
        eprintln!("{}", render::summary(&planned.plan, &planned.stats));
    }
    Ok(if planned.had_errors() {
        EXIT_BAD_INPUT
    } else {
        0
    })
}

#[cfg(test)]
mod tests {
    use super::one_line;

    #[test]
    fn error_lines_are_single_and_bounded() {
        let long = format!("a\nb{}", "x".repeat(10_000));
        let l = one_line(&long);
        assert!(!l.contains('\n'));
        assert!(l.chars().count() <= 401);
    }
}
