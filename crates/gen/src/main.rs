//! `tagwarden-gen`: writes realistic organization-trail CloudTrail logs.

use anyhow::{bail, Result};
use clap::Parser;
use std::path::PathBuf;
use std::time::Instant;
use tagwarden_gen::{default_fixtures_dir, fixture, write_file, write_tree, Options};

#[derive(Parser, Debug)]
#[command(
    version,
    about = "Writes synthetic organization-trail CloudTrail logs."
)]
struct Args {
    /// Total records to write.
    #[arg(long, default_value_t = 10_000)]
    records: u64,
    /// Share of records that create a resource (from the catalog fixtures).
    #[arg(long, default_value_t = 0.02)]
    create_share: f64,
    /// Comma-separated 12-digit account ids (default: 3 generated from the seed).
    #[arg(long, value_delimiter = ',')]
    accounts: Vec<String>,
    /// Comma-separated regions.
    #[arg(long, value_delimiter = ',', default_value = "us-east-1,eu-west-1")]
    regions: Vec<String>,
    /// Same seed, same bytes.
    #[arg(long, default_value_t = 1)]
    seed: u64,
    /// Time of the first record (RFC 3339), default 2026-01-15T00:00:00Z.
    #[arg(long)]
    start: Option<String>,
    /// One `{"Records":[...]}` file; gzipped if it ends in `.gz`.
    #[arg(long, conflicts_with = "out_dir", required_unless_present = "out_dir")]
    out: Option<PathBuf>,
    /// Root of an organization-trail layout (`AWSLogs/o-.../...`).
    #[arg(long)]
    out_dir: Option<PathBuf>,
    /// Log files to split the records across (with --out-dir; default one per account and region).
    #[arg(long, requires = "out_dir")]
    files: Option<u64>,
    /// Catalog fixtures to make create records from.
    #[arg(long)]
    fixtures: Option<PathBuf>,
}

fn main() -> Result<()> {
    let a = Args::parse();
    let mut opts = Options::new(a.records, a.seed);
    opts.create_share = a.create_share;
    opts.accounts = a.accounts;
    opts.regions = a.regions;
    if let Some(s) = &a.start {
        let ts: jiff::Timestamp = s
            .parse()
            .map_err(|e| anyhow::anyhow!("--start {s:?}: {e}"))?;
        opts.start_ms = ts.as_millisecond();
    }
    let dir = a.fixtures.unwrap_or_else(default_fixtures_dir);
    let templates = fixture::load_dir(&dir)?;
    let n_templates = templates.len();
    let t0 = Instant::now();
    let sum = match (&a.out, &a.out_dir) {
        (Some(p), _) => write_file(&opts, templates, p)?,
        (None, Some(d)) => {
            let pairs = (opts
                .accounts
                .len()
                .max(if opts.accounts.is_empty() { 3 } else { 1 })
                * opts.regions.len()) as u64;
            write_tree(&opts, templates, d, a.files.unwrap_or(pairs))?
        }
        (None, None) => bail!("give --out FILE or --out-dir DIR"),
    };
    let secs = t0.elapsed().as_secs_f64();
    eprintln!(
        "{} records ({} create records, {} resources, from {n_templates} fixtures), {:.1} MB of JSON ({:.0} B/record), {} log files, {} digests, in {secs:.1} s",
        sum.records,
        sum.creations,
        sum.resources,
        sum.bytes as f64 / 1e6,
        sum.bytes as f64 / sum.records.max(1) as f64,
        sum.files,
        sum.digests
    );
    Ok(())
}
