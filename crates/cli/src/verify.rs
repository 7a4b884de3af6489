//! `tagwarden verify`: s3:// sources → digest chains → verdicts → a table
//! or JSON, exit 1 when any file is missing, altered or unsigned.

use crate::access::LazyAws;
use crate::cli::{Cli, PlanFormat, VerifyArgs};
use anyhow::{bail, Context, Result};
use std::io::{self, Write};
use tagwarden_aws::digests::PublicKeys;
use tagwarden_core::digest::{Kind, Verdict};

/// Some file failed.
const EXIT_INVALID: u8 = 1;

pub fn run(cli: &Cli, args: &VerifyArgs) -> Result<u8> {
    let mut sources = Vec::new();
    for s in &args.sources {
        match tagwarden_aws::s3_source::parse_url(s) {
            Some((bucket, prefix)) => sources.push((bucket.to_string(), prefix.to_string())),
            None => bail!(
                "{s}: verify reads s3://BUCKET/PREFIX: a digest's signature is in its S3 metadata"
            ),
        }
    }
    let Some(path) = &args.public_keys else {
        bail!(
            "--public-keys is required: save `aws cloudtrail list-public-keys --start-time T` \
             as JSON and give its path"
        );
    };
    let keys = PublicKeys::from_file(path).map_err(anyhow::Error::msg)?;
    let since = args.since.clone().unwrap_or_default();
    let aws = LazyAws::new(cli);
    let aws = aws.get()?;
    let mut verdicts: Vec<Verdict> = Vec::new();
    for (bucket, prefix) in &sources {
        let found = tagwarden_flow::verify::prefix(
            aws.runtime.handle(),
            &aws.clients,
            &keys,
            bucket,
            prefix,
            &since,
        )
        .map_err(|e| aws.explain(e))
        .with_context(|| format!("verifying s3://{bucket}/{prefix}"))?;
        if found.is_empty() && !cli.quiet {
            eprintln!(
                "warning: s3://{bucket}/{prefix}: no digest files (is log file validation on?)"
            );
        }
        verdicts.extend(found);
    }
    let mut out = io::BufWriter::new(io::stdout().lock());
    match args.format {
        PlanFormat::Json => {
            let rows: Vec<serde_json::Value> = verdicts
                .iter()
                .map(|v| {
                    serde_json::json!({
                        "kind": kind(v.kind),
                        "url": v.url(),
                        "valid": v.problem.is_none(),
                        "problem": v.problem.as_ref().map(|p| p.to_string()),
                    })
                })
                .collect();
            serde_json::to_writer_pretty(&mut out, &rows)?;
            writeln!(out)?;
        }
        PlanFormat::Table => crate::render::verify_table(&verdicts, &mut out)?,
    }
    out.flush()?;
    let bad = verdicts.iter().filter(|v| v.problem.is_some()).count();
    if !cli.quiet {
        let count = |k| verdicts.iter().filter(|v| v.kind == k).count();
        eprintln!(
            "{} digest files and {} log files checked; {bad} invalid.",
            count(Kind::Digest),
            count(Kind::Log)
        );
    }
    Ok(if bad > 0 { EXIT_INVALID } else { 0 })
}

pub fn kind(k: Kind) -> &'static str {
    match k {
        Kind::Digest => "digest",
        Kind::Log => "log",
    }
}
