//! `ingest-bench FILE.json.gz [--python PY]`: tagwarden's ingest against the
//! physical floor (inflate alone), GNU gzip and the Python seed baseline,
//! single-threaded and with inflate on a second thread, each in its own child process so that each peak RSS is
//! its own. Prints a markdown table.

use anyhow::{bail, Context, Result};
use clap::Parser;
use flate2::read::MultiGzDecoder;
use std::io::Read;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::Instant;
use tagwarden_core::catalog::table::ENTRIES;
use tagwarden_core::pipeline::{Found, Pipeline};
use tagwarden_core::plan::Planner;
use tagwarden_core::policy::Policy;

#[derive(Parser, Debug)]
#[command(
    about = "Measures tagwarden's ingest against inflate alone, gzip -dc and the Python baseline."
)]
struct Args {
    /// A gzipped CloudTrail log file.
    file: PathBuf,
    /// Python interpreter for the seed baseline.
    #[arg(long, default_value = "python3")]
    python: String,
    /// Skip the Python baseline.
    #[arg(long)]
    no_python: bool,
    /// Runs of each measurement; the fastest is reported.
    #[arg(long, default_value_t = 3)]
    repeat: u32,
    /// Internal: run one measurement in this process (`inflate`, `ingest`,
    /// `ingest-beside` or `pipeline`).
    #[arg(long, hide = true, num_args = 1)]
    one: Option<String>,
}

/// What one child reports.
#[derive(Debug, Clone, Default)]
struct Run {
    secs: f64,
    bytes: u64,
    records: u64,
    creations: u64,
    resources: u64,
    errors: u64,
    rss_kib: u64,
}

fn one(mode: &str, file: &Path) -> Result<()> {
    let f = std::fs::File::open(file).with_context(|| format!("cannot open {}", file.display()))?;
    let t0 = Instant::now();
    let mut r = Run::default();
    match mode {
        "inflate" => {
            let mut d = MultiGzDecoder::new(f);
            let mut buf = vec![0u8; tagwarden_core::ingest::CHUNK];
            loop {
                let n = d.read(&mut buf)?;
                if n == 0 {
                    break;
                }
                r.bytes += n as u64;
            }
        }
        "pipeline" => {
            let mut pipeline = Pipeline::default();
            let mut errors = 0u64;
            pipeline.read(&file.display().to_string(), f, &mut |found| {
                // Tag calls on existing resources are findings, not errors.
                if matches!(found, Found::Error(_) | Found::Fetch(_)) {
                    errors += 1;
                }
            });
            let s = pipeline.stats();
            r.bytes = s.bytes;
            r.records = s.records;
            r.creations = s.creations;
            r.resources = s.resources;
            r.errors = errors;
        }
        "ingest" | "ingest-beside" => {
            let policy = Policy::default_policy();
            let mut planner = Planner::new(&policy);
            let mut pipeline = Pipeline::default();
            if mode == "ingest-beside" {
                pipeline = pipeline.with_inflate_thread();
            }
            let mut errors = 0u64;
            pipeline.read(&file.display().to_string(), f, &mut |found| match found {
                Found::Creation(c) => planner.add(&c),
                Found::TagChange(c) => {
                    std::hint::black_box(c);
                }
                Found::Watched(c) => {
                    std::hint::black_box(c);
                }
                Found::Error(_) | Found::Fetch(_) => errors += 1,
                Found::Session(c) => {
                    std::hint::black_box(c);
                }
                Found::Mark(_) => {}
            });
            let plan = planner.finish();
            std::hint::black_box(&plan);
            let s = pipeline.stats();
            r.bytes = s.bytes;
            r.records = s.records;
            r.creations = s.creations;
            r.resources = (plan.items.len() as u64) + plan.already_tagged;
            r.errors = errors;
        }
        other => bail!("unknown mode {other}"),
    }
    r.secs = t0.elapsed().as_secs_f64();
    println!(
        "secs={} bytes={} records={} creations={} resources={} errors={}",
        r.secs, r.bytes, r.records, r.creations, r.resources, r.errors
    );
    Ok(())
}

/// Runs `cmd`, returning its stdout, wall seconds and peak RSS (KiB) from wait4(2).
fn measure(cmd: &mut Command) -> Result<(String, f64, u64)> {
    let t0 = Instant::now();
    let child = cmd
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .spawn()
        .with_context(|| format!("cannot run {cmd:?}"))?;
    let pid = child.id() as libc::pid_t;
    let mut stdout = child.stdout.context("no stdout")?;
    let mut out = String::new();
    stdout.read_to_string(&mut out)?;
    let mut status = 0;
    // SAFETY: plain syscall on our own child, with valid pointers to locals.
    let mut usage: libc::rusage = unsafe { std::mem::zeroed() };
    let rc = unsafe { libc::wait4(pid, &mut status, 0, &mut usage) };
    let secs = t0.elapsed().as_secs_f64();
    if rc != pid {
        bail!("wait4 failed: {}", std::io::Error::last_os_error());
    }
    if !libc::WIFEXITED(status) || libc::WEXITSTATUS(status) != 0 {
        bail!("{cmd:?} failed (status {status})");
    }
    Ok((out, secs, usage.ru_maxrss as u64))
}

fn parse(out: &str) -> Run {
    let mut r = Run::default();
    for kv in out.split_whitespace() {
        let Some((k, v)) = kv.split_once('=') else {
            continue;
        };
        match k {
            "secs" => r.secs = v.parse().unwrap_or(0.0),
            "bytes" => r.bytes = v.parse().unwrap_or(0),
            "records" => r.records = v.parse().unwrap_or(0),
            "creations" | "count" => r.creations = v.parse().unwrap_or(0),
            "resources" => r.resources = v.parse().unwrap_or(0),
            "errors" => r.errors = v.parse().unwrap_or(0),
            _ => {}
        }
    }
    r
}

/// The fastest run, with the largest peak RSS seen.
fn best(runs: Vec<Run>) -> Option<Run> {
    let rss = runs.iter().map(|r| r.rss_kib).max()?;
    let mut b = runs.into_iter().min_by(|x, y| x.secs.total_cmp(&y.secs))?;
    b.rss_kib = rss;
    Some(b)
}

fn python_script() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../benches/baseline_seed.py")
}

fn main() -> Result<()> {
    let a = Args::parse();
    if let Some(mode) = &a.one {
        return one(mode, &a.file);
    }
    let exe = std::env::current_exe()?;
    let gz_bytes = std::fs::metadata(&a.file)?.len();
    let child = |mode: &str| -> Result<Run> {
        let (out, _, rss) = measure(Command::new(&exe).arg("--one").arg(mode).arg(&a.file))?;
        let mut r = parse(&out);
        r.rss_kib = rss;
        Ok(r)
    };
    let have_gzip = Command::new("gzip")
        .arg("--version")
        .stdout(Stdio::null())
        .status()
        .is_ok_and(|s| s.success());
    // Rounds interleave the measurements, so that load from other processes
    // on a shared machine falls on all of them alike; the fastest run of each
    // is reported, with the largest peak RSS seen.
    let mut runs: [Vec<Run>; 5] = Default::default();
    let rounds = a.repeat.max(1);
    for round in 0..rounds {
        eprintln!("round {} of {rounds} ...", round + 1);
        let inflate = child("inflate")?;
        let total = inflate.bytes;
        runs[0].push(inflate);
        if have_gzip {
            let (_, secs, rss) = measure(
                Command::new("sh")
                    .arg("-c")
                    .arg("gzip -dc \"$1\" > /dev/null")
                    .arg("sh")
                    .arg(&a.file),
            )?;
            runs[1].push(Run {
                secs,
                bytes: total,
                rss_kib: rss,
                ..Run::default()
            });
        }
        runs[2].push(child("ingest")?);
        runs[3].push(child("pipeline")?);
        runs[4].push(child("ingest-beside")?);
    }
    let [inflate, gzip, ingest, pipeline, beside] = runs.map(best);
    let (Some(inflate), Some(ingest), Some(pipeline), Some(beside)) =
        (inflate, ingest, pipeline, beside)
    else {
        bail!("no runs");
    };
    let total = inflate.bytes;
    let python = if a.no_python {
        None
    } else {
        eprintln!("python baseline (once) ...");
        // The creation event names, straight from the catalog table.
        let names_file =
            std::env::temp_dir().join(format!("tagwarden-bench-names-{}.txt", std::process::id()));
        let mut names: Vec<&str> = ENTRIES.iter().map(|e| e.name).collect();
        names.sort_unstable();
        names.dedup();
        std::fs::write(&names_file, names.join("\n"))?;
        let r = measure(
            Command::new(&a.python)
                .arg(python_script())
                .arg(&a.file)
                .arg(&names_file),
        );
        let _ = std::fs::remove_file(&names_file);
        let (out, secs, rss) = r?;
        let mut r = parse(&out);
        r.secs = secs;
        r.bytes = total;
        r.rss_kib = rss;
        Some(r)
    };

    let mbs = |r: &Run| total as f64 / 1e6 / r.secs;
    let mib = |r: &Run| r.rss_kib as f64 / 1024.0;
    let met = |ok: bool| if ok { "met" } else { "NOT met" };
    println!(
        "File `{}`: {:.1} MB gzipped, {:.1} MB decompressed, {} records, {} creations ({} resources), {} input errors; best of {rounds} interleaved runs.\n",
        a.file.display(),
        gz_bytes as f64 / 1e6,
        total as f64 / 1e6,
        ingest.records,
        ingest.creations,
        ingest.resources,
        ingest.errors
    );
    println!("| what | MB/s (decompressed) | seconds | peak RSS MiB | notes |");
    println!("| --- | ---: | ---: | ---: | --- |");
    let row = |what: &str, r: &Run, note: String| {
        println!(
            "| {what} | {:.0} | {:.3} | {:.1} | {note} |",
            mbs(r),
            r.secs,
            mib(r)
        );
    };
    row(
        "(a) flate2 (zlib-rs) inflate alone, same buffer size as ingest",
        &inflate,
        "physical floor".into(),
    );
    if let Some(g) = &gzip {
        row(
            "(b) GNU `gzip -dc > /dev/null`",
            g,
            "wall time incl. process start".into(),
        );
    }
    // Each target: the share of inflate alone, ≥ 10× Python, ≤ 64 MiB.
    let verdicts = |r: &Run, target: f64| {
        let vs_inflate = mbs(r) / mbs(&inflate);
        let mut note = format!(
            "**{vs_inflate:.2}× inflate** (target ≥ {target}×: {})",
            met(vs_inflate >= target)
        );
        if let Some(p) = &python {
            let x = mbs(r) / mbs(p);
            note.push_str(&format!(
                "; **{x:.1}× Python** (target ≥ 10×: {})",
                met(x >= 10.0)
            ));
        }
        note.push_str(&format!("; RSS target ≤ 64 MiB: {}", met(mib(r) <= 64.0)));
        note
    };
    row(
        "(c) tagwarden ingest (`Pipeline::read` + `Planner`)",
        &ingest,
        format!(
            "{:.0} records/s; {}",
            ingest.records as f64 / ingest.secs,
            verdicts(&ingest, 0.6)
        ),
    );
    row(
        "(c′) `Pipeline::read` alone, no `Planner`",
        &pipeline,
        format!("{:.2}× inflate", mbs(&pipeline) / mbs(&inflate)),
    );
    row(
        "(c″) (c) with inflate on a second thread (`tagwarden plan`'s way)",
        &beside,
        verdicts(&beside, 0.9),
    );
    if let Some(p) = &python {
        row(
            "(d) Python seed baseline (`json.load` + loop)",
            p,
            format!(
                "{} records kept by eventName; wall time incl. interpreter start",
                p.creations
            ),
        );
    }
    Ok(())
}
