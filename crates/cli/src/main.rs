//! The `tagwarden` binary: a thin shell that turns arguments into the core
//! pipeline's sources and its output into tables or JSON.

mod access;
mod apply;
mod audit;
mod backfill;
mod cli;
mod reading;
mod render;
mod scan;
mod sources;
mod verify;

use access::LazyAws;
use anyhow::{Context, Result};
use clap::Parser;
use cli::{Cli, Command, PlanArgs, PlanFormat};
use std::io::{self, IsTerminal, Write};
use std::process::ExitCode;
use tagwarden_core::policy::Policy;
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

fn plan(cli: &Cli, args: &PlanArgs) -> Result<u8> {
    let aws = LazyAws::new(cli);
    // A store, when there is one, is only read: for parents' creators.
    let audit = audit::Audit::open(cli, &aws, tagwarden_store::sqlite::Open::Existing).ok();
    let store = audit.as_ref().map(|a| (a, false));
    let (planned, counts) = reading::read_plan(cli, &args.sources, &args.input, &aws, store)?;
    let terminal = io::stdout().is_terminal();
    let mut out = io::BufWriter::new(io::stdout().lock());
    match args.format {
        PlanFormat::Table => render::plan_for(&planned.plan, terminal, &mut out)?,
        PlanFormat::Json => render::plan_json(&planned.plan, &mut out)?,
    }
    out.flush()?;
    if !cli.quiet {
        eprintln!(
            "{}",
            render::summary(
                &tagwarden_core::overview::Overview::of(&planned.plan, 0),
                &counts.stats
            )
        );
    }
    Ok(if counts.had_errors() {
        EXIT_BAD_INPUT
    } else {
        0
    })
}
