//! The audit store from the command line: opening it from `--store`,
//! recording what `apply` did, and `history`, `export`, `store init`.

use crate::access::LazyAws;
use crate::cli::{Cli, ExportArgs, ExportFormat, HistoryArgs, PlanFormat};
use crate::render;
use anyhow::{Context, Result};
use std::future::Future;
use std::io::{self, Write};
use std::path::PathBuf;
use std::time::Duration;
use tagwarden_flow::explain::Explanation;
use tagwarden_store::model::{HistoryEntry, Rows};
use tagwarden_store::sqlite::Open;
use tagwarden_store::{AuditStore, DynamoStore, SqliteStore, Store, StoreError, StoreUrl};

/// How long a writer waits for another process's lock on the SQLite file.
const BUSY: Duration = Duration::from_secs(5);

/// An open store and the runtime its calls run on.
pub struct Audit {
    pub store: Store,
    exec: Exec,
}

enum Exec {
    /// SQLite needs no AWS: a small runtime of its own.
    Own(tokio::runtime::Runtime),
    /// DynamoDB runs where the AWS clients live.
    Aws(tokio::runtime::Handle),
}

impl Audit {
    /// Opens the store `--store` names; readers need it to exist.
    pub fn open(cli: &Cli, aws: &LazyAws<'_>, open: Open) -> Result<Self> {
        let url = StoreUrl::parse(&cli.store.url, |k| std::env::var(k).ok())?;
        Ok(match url {
            StoreUrl::Sqlite(path) => Self {
                store: Store::Sqlite(SqliteStore::open(&path, open, BUSY)?),
                exec: Exec::Own(
                    tokio::runtime::Builder::new_current_thread()
                        .enable_all()
                        .build()
                        .context("starting the async runtime")?,
                ),
            },
            StoreUrl::Dynamo(tables) => {
                let aws = aws.get()?;
                Self {
                    store: Store::Dynamo(DynamoStore::new(aws.clients.own_dynamodb(), tables)),
                    exec: Exec::Aws(aws.runtime.handle().clone()),
                }
            }
        })
    }

    pub fn run<F: Future>(&self, f: F) -> F::Output {
        match &self.exec {
            Exec::Own(rt) => rt.block_on(f),
            Exec::Aws(h) => h.block_on(f),
        }
    }

    pub fn describe(&self) -> String {
        self.store.describe()
    }

    /// What a run recorded, in one line.
    pub fn recorded(&self, r: &tagwarden_store::model::Recorded) -> String {
        format!(
            "Recorded in {}: {} history entries, {} user actions, {} resources updated.",
            self.describe(),
            r.history,
            r.actions,
            r.metadata
        )
    }
}

pub fn init(cli: &Cli) -> Result<u8> {
    let aws = LazyAws::new(cli);
    let audit = Audit::open(cli, &aws, Open::Create)?;
    audit.run(audit.store.init())?;
    if !cli.quiet {
        eprintln!("Audit store ready: {}", audit.describe());
    }
    Ok(0)
}

/// Keeps a batch the store refused, so nothing is lost; returns the file.
pub fn spill(batch: &Rows) -> Result<PathBuf> {
    let stamp = jiff::Timestamp::now()
        .strftime("%Y%m%dT%H%M%S%.6fZ")
        .to_string();
    let path = PathBuf::from(format!("tagwarden-unrecorded-{stamp}.json"));
    let file =
        std::fs::File::create_new(&path).with_context(|| format!("creating {}", path.display()))?;
    let mut out = io::BufWriter::new(file);
    serde_json::to_writer(&mut out, batch)?;
    out.flush()?;
    Ok(path)
}

/// `store import FILE`: records a spilled batch (idempotent, like any).
pub fn import(cli: &Cli, file: &std::path::Path) -> Result<u8> {
    let text =
        std::fs::read_to_string(file).with_context(|| format!("reading {}", file.display()))?;
    let batch: Rows = serde_json::from_str(&text)
        .with_context(|| format!("{}: not a batch tagwarden saved", file.display()))?;
    let aws = LazyAws::new(cli);
    let audit = Audit::open(cli, &aws, Open::Create)?;
    let r = audit.run(audit.store.record(&batch))?;
    if !cli.quiet {
        eprintln!("{}", audit.recorded(&r));
    }
    Ok(0)
}

pub fn history(cli: &Cli, args: &HistoryArgs) -> Result<u8> {
    let aws = LazyAws::new(cli);
    let audit = Audit::open(cli, &aws, Open::Existing)?;
    let h = audit.run(audit.store.history(&args.arn))?;
    let mut out = io::BufWriter::new(io::stdout().lock());
    match args.format {
        PlanFormat::Json => {
            serde_json::to_writer_pretty(&mut out, &h)?;
            writeln!(out)?;
        }
        PlanFormat::Table => render::history_table(&args.arn, &h, &mut out)?,
    }
    out.flush()?;
    if h.metadata.is_none() && h.history.is_empty() {
        eprintln!("{}: not in the audit store {}", args.arn, audit.describe());
        return Ok(1);
    }
    Ok(0)
}

/// `tagwarden explain ARN`: exit 1 when the store knows nothing of it.
pub fn explain(cli: &Cli, args: &crate::cli::ExplainArgs) -> Result<u8> {
    let policy = crate::load_policy(args.policy.as_deref())?;
    let aws = LazyAws::new(cli);
    let audit = Audit::open(cli, &aws, Open::Existing)?;
    let e = audit.run(tagwarden_flow::explain::explain(
        &audit.store,
        &policy,
        &args.arn,
    ))?;
    let mut out = io::BufWriter::new(io::stdout().lock());
    match args.format {
        PlanFormat::Json => {
            serde_json::to_writer_pretty(&mut out, &e)?;
            writeln!(out)?;
        }
        PlanFormat::Table => render::explain_table(&e, &mut out)?,
    }
    out.flush()?;
    Ok(match e {
        Explanation::Known(_) => 0,
        Explanation::Unknown { .. } => {
            eprintln!("{}: not in the audit store {}", args.arn, audit.describe());
            1
        }
    })
}

/// Stable columns of `export --format csv` (documented in docs/audit-store.md).
pub const EXPORT_COLUMNS: [&str; 15] = [
    "event_time",
    "arn",
    "resource_type",
    "account",
    "region",
    "change",
    "actor",
    "event_name",
    "event_source",
    "event_id",
    "added",
    "changed",
    "removed",
    "error",
    "recorded_at",
];

fn export_row(e: &HistoryEntry) -> [String; 15] {
    [
        e.event.time.clone(),
        e.arn.clone(),
        e.resource_type.clone(),
        e.account.clone(),
        e.region.clone(),
        e.change.as_str().to_string(),
        e.actor.clone(),
        e.event.name.clone(),
        e.event.source.clone(),
        e.event.id.clone(),
        render::json_cell(&e.added),
        render::json_cell(&e.changed),
        render::json_cell(&e.removed),
        e.error
            .as_ref()
            .map(|f| format!("{}: {}", f.kind, f.message))
            .unwrap_or_default(),
        e.recorded_at.clone(),
    ]
}

pub fn export(cli: &Cli, args: &ExportArgs) -> Result<u8> {
    let aws = LazyAws::new(cli);
    let audit = Audit::open(cli, &aws, Open::Existing)?;
    let sink: Box<dyn Write + Send> = match &args.output {
        Some(p) => {
            Box::new(std::fs::File::create(p).with_context(|| format!("creating {}", p.display()))?)
        }
        None => Box::new(io::stdout()),
    };
    let mut out = io::BufWriter::new(sink);
    let since = args.since.as_deref();
    // An output error stops the export and is returned as itself, so a
    // closed pipe stays a closed pipe.
    let mut failed: Option<io::Error> = None;
    let mut stop = |e: io::Error| {
        let err = StoreError::new("export output", e.to_string());
        failed = Some(e);
        err
    };
    let result = match args.format {
        ExportFormat::Csv => {
            let mut w = csv::Writer::from_writer(&mut out);
            w.write_record(EXPORT_COLUMNS)?;
            let n = audit.run(audit.store.export(since, &mut |e| {
                w.write_record(export_row(&e).map(render::inert_cell))
                    .map_err(|e| stop(e.into()))
            }));
            w.flush()?;
            n
        }
        ExportFormat::Json => {
            out.write_all(b"[")?;
            let mut first = true;
            let n = audit.run(audit.store.export(since, &mut |e| {
                let sep: &[u8] = if first { b"\n" } else { b",\n" };
                first = false;
                out.write_all(sep)
                    .and_then(|_| serde_json::to_writer(&mut out, &e).map_err(io::Error::from))
                    .map_err(&mut stop)
            }));
            if n.is_ok() {
                out.write_all(b"\n]\n")?;
            }
            n
        }
    };
    if let Some(e) = failed {
        return Err(e.into());
    }
    let n = result?;
    out.flush()?;
    if !cli.quiet {
        eprintln!("Exported {n} history entries from {}.", audit.describe());
    }
    Ok(0)
}
