//! The `tagwarden` binary: a thin shell that turns arguments into the core
//! pipeline's sources and its output into tables or JSON.

mod access;
mod apply;
mod audit;
mod backfill;
mod cli;
mod render;
mod scan;
mod sources;
mod verify;

use access::{Aws, LazyAws};
use anyhow::{Context, Result};
use clap::Parser;
use cli::{Cli, Command, InputArgs, PlanArgs, PlanFormat};
use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};
use sources::Input;
use std::io::{self, IsTerminal, Write};
use std::process::ExitCode;
use tagwarden_aws::directory::Directory;
use tagwarden_aws::s3_source::{self, DateRange};
use tagwarden_core::launches::Launches;
use tagwarden_core::pipeline::{Stats, TagChange, WatchedCall, Window};
use tagwarden_core::plan::Plan;
use tagwarden_core::policy::Policy;
use tagwarden_flow::read::{log_objects, logs_named, name_users, plan_with_store, Reading};
use tagwarden_store::StoreError;

/// Exit codes (contract): 0 done, 1 findings or failures, 2 bad usage,
/// configuration or input.
pub const EXIT_BAD_INPUT: u8 = 2;

fn main() -> ExitCode {
    let cli = Cli::parse();
    let result = match &cli.command {
        Command::Plan(args) => plan(&cli, args),
        Command::Apply(args) => apply::run(&cli, args),
        Command::Scan(args) => scan::run(&cli, args),
        Command::History(args) => audit::history(&cli, args),
        Command::Explain(args) => audit::explain(&cli, args),
        Command::Export(args) => audit::export(&cli, args),
        Command::Verify(args) => verify::run(&cli, args),
        Command::Backfill(args) => backfill::run(&cli, args),
        Command::Store(cli::StoreCommand::Init) => audit::init(&cli),
        Command::Store(cli::StoreCommand::Import { file }) => audit::import(&cli, file),
        Command::Policy(cli::PolicyCommand::Check { file }) => policy_check(&cli, file),
        Command::Policy(cli::PolicyCommand::ImportOrg { file, require }) => {
            policy_import(file, require)
        }
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
            // The SDK's whole account of an AWS failure, on request.
            let detail = e.chain().find_map(|c| {
                c.downcast_ref::<access::Explained>()
                    .and_then(|x| x.detail.as_ref())
                    .or_else(|| c.downcast_ref::<StoreError>()?.detail.as_ref())
            });
            if let (true, Some(detail)) = (cli.verbose > 0, detail) {
                eprintln!("detail: {detail}");
            }
            ExitCode::from(EXIT_BAD_INPUT)
        }
    }
}

pub use tagwarden_core::report::one_line;

/// `policy check FILE`: a summary when valid; else `FILE:LINE: field:
/// message` and exit 2.
fn policy_check(cli: &Cli, path: &std::path::Path) -> Result<u8> {
    let text = std::fs::read_to_string(path).with_context(|| format!("{}", path.display()))?;
    match Policy::from_yaml(&text) {
        Ok(p) => {
            if !cli.quiet {
                let keys = |m: &dyn Fn() -> Vec<String>| match m() {
                    v if v.is_empty() => "none".to_string(),
                    v => v.join(", "),
                };
                let c = &p.compliance;
                println!("{}: valid", path.display());
                println!(
                    "  attribution: {} (overwrite: {})",
                    keys(&|| p
                        .attribution
                        .tags
                        .keys()
                        .map(|k| k.as_str().to_string())
                        .collect()),
                    p.attribution.overwrite
                );
                println!("  scope:       {}", c.resource_types.join(", "));
                println!(
                    "  required:    {}",
                    keys(&|| c.required.keys().map(|k| k.as_str().to_string()).collect())
                );
                println!(
                    "  optional:    {}",
                    keys(&|| c.optional.keys().map(|k| k.as_str().to_string()).collect())
                );
                println!("  prohibited:  {}", keys(&|| c.prohibited.clone()));
                println!(
                    "  remediation: {}",
                    keys(&|| c
                        .remediation
                        .keys()
                        .map(|k| k.as_str().to_string())
                        .collect())
                );
            }
            Ok(0)
        }
        Err(e) => {
            // The YAML reader places its own errors ("at line N"); the
            // compiler's are placed by their field.
            let place = match e.line_in(&text) {
                Some(line) if !e.message.contains(" line ") => format!(":{line}"),
                _ => String::new(),
            };
            eprintln!(
                "error: {}{place}: {}",
                path.display(),
                one_line(&e.to_string())
            );
            Ok(EXIT_BAD_INPUT)
        }
    }
}

/// `policy import-org FILE`: the converted policy on stdout.
fn policy_import(path: &std::path::Path, require: &[String]) -> Result<u8> {
    let text = std::fs::read_to_string(path).with_context(|| format!("{}", path.display()))?;
    match tagwarden_core::policy::org::import(&text, require) {
        Ok(yaml) => {
            io::stdout().lock().write_all(yaml.as_bytes())?;
            Ok(0)
        }
        Err(e) => {
            eprintln!("error: {}: {}", path.display(), one_line(&e.to_string()));
            Ok(EXIT_BAD_INPUT)
        }
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
    pub tag_changes: Vec<TagChange>,
    /// Calls that blind tagwarden: warned, and recorded by `apply`.
    pub watched: Vec<WatchedCall>,
    pub stats: Stats,
    pub open_errors: u64,
}

impl Planned {
    /// Some input was bad: the exit code says so even when the rest went well.
    pub fn had_errors(&self) -> bool {
        self.stats.errors + self.open_errors > 0
    }
}

/// Prints the input errors `reading` met since last asked, and with `-v`
/// what one document held.
fn show(bar: &ProgressBar, name: &str, reading: &mut Reading, before: Option<Stats>) {
    for e in reading.errors.drain(..) {
        bar.suspend(|| eprintln!("error: {}", one_line(&e.to_string())));
    }
    if let Some(before) = before {
        let now = reading.stats();
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

/// Streams S3 objects through `reading`, a few downloading ahead. An object
/// that breaks off is reported by the reader as an input error, placed.
fn read_objects(
    cli: &Cli,
    bar: &ProgressBar,
    reading: &mut Reading,
    aws: &Aws,
    objects: Vec<(s3_source::S3Client, s3_source::Object)>,
) {
    let handle = aws.runtime.handle().clone();
    let wrap = |o: &s3_source::Object, body| {
        bar.set_message(o.url());
        bar.wrap_read(body)
    };
    let verbose = cli.verbose > 0;
    let done = |o: &s3_source::Object, reading: &mut Reading, before| {
        show(bar, &o.url(), reading, verbose.then_some(before))
    };
    reading.read_objects(handle, objects, cli.aws.fetch_ahead, wrap, done);
}

/// sources → records → catalog → attribution → plan. The store, when
/// there is one, names the creators of parents created in earlier runs.
fn read_plan<'c>(
    cli: &'c Cli,
    sources: &[String],
    args: &InputArgs,
    aws: &mut LazyAws<'c>,
    audit: Option<(&audit::Audit, bool)>,
) -> Result<Planned> {
    let policy = load_policy(args.policy.as_deref())?;
    let inputs = sources::expand(sources)?;
    // S3 prefixes are listed first, pruned by the dates in their keys.
    let dates = DateRange::around(args.since.as_deref(), args.until.as_deref());
    let mut objects = Vec::new();
    for input in &inputs {
        if let Input::S3 { bucket, prefix } = input {
            let aws = aws.get()?;
            let client = aws.bucket_client(bucket);
            let listed = aws
                .runtime
                .block_on(s3_source::list(&client, bucket, prefix, &dates))
                .map_err(|e| aws.explain(e))
                .with_context(|| format!("listing {}", input.name()))?;
            objects.extend(listed.into_iter().map(|o| (client.clone(), o)));
        }
    }
    let total = inputs.iter().map(|i| i.size()).sum::<u64>()
        + objects.iter().map(|(_, o)| o.size).sum::<u64>();
    let bar = progress(cli, total);
    let mut reading = Reading::new(
        Window {
            since: args.since.clone(),
            until: args.until.clone(),
            not_after: Some(Window::latest(jiff::Timestamp::now())),
        },
        args.accounts(),
    )
    .inflating_beside();
    let mut open_errors = 0;
    for input in inputs.iter().filter(|i| !matches!(i, Input::S3 { .. })) {
        let name = input.name();
        bar.set_message(name.clone());
        match input.open() {
            Ok(r) => {
                let before = (cli.verbose > 0).then(|| reading.stats().clone());
                reading.read(&name, bar.wrap_read(r));
                show(&bar, &name, &mut reading, before);
            }
            Err(e) => {
                open_errors += 1;
                bar.suspend(|| {
                    eprintln!("error: {}", one_line(&format!("{name}: cannot open: {e}")))
                });
            }
        }
    }
    if !objects.is_empty() {
        read_objects(cli, &bar, &mut reading, aws.get()?, objects);
    }
    // Objects named by notifications: read once; what they name in turn is
    // only reported.
    let (logs, skipped) =
        logs_named(std::mem::take(&mut reading.named), None).map_err(anyhow::Error::msg)?;
    if !cli.quiet {
        for o in skipped {
            bar.suspend(|| {
                eprintln!(
                    "note: an S3 notification names {o}, which is not a CloudTrail log: skipped"
                )
            });
        }
    }
    if !logs.is_empty() {
        let aws = aws.get()?;
        let objects = aws.runtime.block_on(log_objects(&aws.clients, logs));
        read_objects(cli, &bar, &mut reading, aws, objects);
        for o in std::mem::take(&mut reading.named) {
            eprintln!("note: {o} was named by a notification inside an S3 object: not followed");
        }
    }
    bar.finish_and_clear();
    if let Some(region) = args.identity_store_region.as_deref() {
        let aws = aws.get()?;
        let directory = Directory::new(&aws.clients, region);
        let (chains, creations) = (&mut reading.chains, &reading.creations);
        for e in aws
            .runtime
            .block_on(name_users(&directory, creations, chains))
        {
            eprintln!("warning: {}: named by id", one_line(&e));
        }
    }
    // Sessions and parents from earlier runs: the store is written only by
    // a run that records (`apply`). A store that cannot answer leaves them
    // to these sources alone (said); its failure to record is `apply`'s to
    // report, after the writes, with nothing lost.
    let from_store = audit.map(|(a, keep)| {
        let (chains, creations) = (&mut reading.chains, &reading.creations);
        a.run(plan_with_store(&a.store, &policy, creations, chains, keep))
    });
    let plan = match from_store {
        Some(Ok(plan)) => plan,
        Some(Err(e)) => {
            eprintln!(
                "warning: {}: session hops and parents' creators come from these sources only",
                one_line(&e.to_string())
            );
            reading.plan(&policy, &Launches::of(&reading.creations))
        }
        None => reading.plan(&policy, &Launches::of(&reading.creations)),
    };
    if !cli.quiet {
        for line in plan
            .items
            .iter()
            .chain(&plan.untouched)
            .flat_map(|i| i.mismatch_lines())
        {
            eprintln!("warning: attribution-mismatch: {}", one_line(&line));
        }
    }
    Ok(Planned {
        plan,
        tag_changes: std::mem::take(&mut reading.changes),
        watched: std::mem::take(&mut reading.watched),
        stats: reading.stats().clone(),
        open_errors,
        policy,
    })
}

fn plan(cli: &Cli, args: &PlanArgs) -> Result<u8> {
    let mut aws = LazyAws::new(cli);
    // A store, when there is one, is only read: for parents' creators.
    let audit = audit::Audit::open(cli, &mut aws, tagwarden_store::sqlite::Open::Existing).ok();
    let store = audit.as_ref().map(|a| (a, false));
    let planned = read_plan(cli, &args.sources, &args.input, &mut aws, store)?;
    let terminal = io::stdout().is_terminal();
    let mut out = io::BufWriter::new(io::stdout().lock());
    match args.format {
        PlanFormat::Table => render::plan_for(&planned.plan, terminal, &mut out)?,
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
