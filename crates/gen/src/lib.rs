//! Synthetic organization-trail CloudTrail logs for tests and benchmarks.
//!
//! [`Generator`] makes one record at a time: a small share are create
//! records rewritten from the catalog fixtures (see [`fixture`]), every
//! resource fresh and every field consistent; the rest is the noise a real
//! trail is made of ([`noise`]). [`write_file`] and [`write_tree`] stream
//! records through a gzip encoder, never holding a whole file.

pub mod fixture;
pub mod identity;
pub mod noise;
pub mod rng;
pub mod time;

use anyhow::{bail, Context, Result};
use fixture::{Piece, Slot, Template};
use flate2::write::GzEncoder;
use flate2::Compression;
use identity::{Account, Kind};
use noise::Ctx;
use rng::Rng;
use std::fs::File;
use std::io::{self, BufWriter, Write};
use std::path::{Path, PathBuf};
use time::Utc;

/// The organization id in the layout.
pub const ORG_ID: &str = "o-exampleorgid";
/// The trail's bucket, as digests name it.
pub const BUCKET: &str = "org-cloudtrail-logs-example";
const TRAIL: &str = "org-trail";

/// The catalog fixtures shipped with `tagwarden-core`.
pub fn default_fixtures_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../core/tests/fixtures/catalog")
}

/// What to generate.
#[derive(Debug, Clone)]
pub struct Options {
    pub records: u64,
    pub create_share: f64,
    pub accounts: Vec<String>,
    pub regions: Vec<String>,
    pub seed: u64,
    /// Unix milliseconds of the first record.
    pub start_ms: i64,
}

impl Options {
    /// Defaults, with `accounts` empty meaning three generated from the seed.
    pub fn new(records: u64, seed: u64) -> Self {
        Self {
            records,
            create_share: 0.02,
            accounts: vec![],
            regions: vec!["us-east-1".into(), "eu-west-1".into()],
            seed,
            start_ms: 1_768_435_200_000, // 2026-01-15T00:00:00Z
        }
    }
}

/// Counts of what was written.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct Summary {
    pub records: u64,
    /// Create records (each yields exactly one creation).
    pub creations: u64,
    /// Resources those creations create.
    pub resources: u64,
    /// Bytes of JSON written before compression.
    pub bytes: u64,
    pub files: u64,
    pub digests: u64,
}

/// Makes records one at a time.
pub struct Generator {
    rng: Rng,
    share: f64,
    pub accounts: Vec<Account>,
    pub regions: Vec<String>,
    templates: Vec<Template>,
    buf: String,
    pub summary: Summary,
}

impl Generator {
    pub fn new(opts: &Options, templates: Vec<Template>) -> Result<Self> {
        if templates.is_empty() {
            bail!("no fixtures to make create records from");
        }
        if opts.regions.is_empty() {
            bail!("no regions");
        }
        if !(0.0..=1.0).contains(&opts.create_share) {
            bail!("--create-share must be within 0..=1");
        }
        if jiff::Timestamp::from_millisecond(opts.start_ms).is_err() {
            bail!("start time {} ms is out of range", opts.start_ms);
        }
        let mut rng = Rng::new(opts.seed);
        let ids = if opts.accounts.is_empty() {
            (0..3)
                .map(|_| format!("{}{}", rng.range(1, 9), rng.digits(11)))
                .collect()
        } else {
            opts.accounts.clone()
        };
        for id in &ids {
            if id.len() != 12 || !id.bytes().all(|b| b.is_ascii_digit()) {
                bail!("account {id:?} is not 12 digits");
            }
        }
        let accounts = ids.iter().map(|id| Account::new(id, &mut rng)).collect();
        Ok(Self {
            rng: rng.fork(),
            share: opts.create_share,
            accounts,
            regions: opts.regions.clone(),
            templates,
            buf: String::with_capacity(16 << 10),
            summary: Summary::default(),
        })
    }

    /// Writes one record (account and region by index) and returns its JSON.
    pub fn record(&mut self, account: usize, region: usize, time_ms: i64) -> &str {
        self.buf.clear();
        self.summary.records += 1;
        let ctx = Ctx {
            acct: &self.accounts[account],
            region: &self.regions[region],
            time_ms,
        };
        if self.rng.chance(self.share) {
            let t = &self.templates[self.rng.index(self.templates.len())];
            self.summary.creations += 1;
            self.summary.resources += t.resources as u64;
            create(t, &ctx, &mut self.rng, &mut self.buf);
        } else {
            let kind = *self.rng.weighted(noise::MIX);
            noise::write(kind, &ctx, &mut self.rng, &mut self.buf);
        }
        self.summary.bytes += self.buf.len() as u64;
        &self.buf
    }

    pub fn rng(&mut self) -> &mut Rng {
        &mut self.rng
    }
}

/// Fills a fixture template for one fresh create record.
fn create(t: &Template, ctx: &Ctx<'_>, rng: &mut Rng, out: &mut String) {
    let kind = identity::pick_create_kind(rng);
    let who = identity::render(ctx.acct, kind, ctx.time_ms, rng);
    let ids: Vec<String> = t.ids.iter().map(|s| s.fresh(rng, &ctx.acct.id)).collect();
    let event_id = rng.uuid();
    let request_id = rng.uuid();
    let when = time::iso(ctx.time_ms);
    for p in &t.pieces {
        match p {
            Piece::Lit(s) => out.push_str(s),
            Piece::Slot(s) => out.push_str(match s {
                Slot::Account => &ctx.acct.id,
                Slot::Region => ctx.region,
                Slot::Id(i) => &ids[*i],
                Slot::EventId => &event_id,
                Slot::RequestId => &request_id,
                Slot::EventTime => &when,
                Slot::Identity => &who.json,
                Slot::SourceIp => &who.ip,
                Slot::UserAgent => &who.agent,
            }),
        }
    }
    debug_assert!(kind != Kind::Service || who.arn.is_empty());
}

/// Writes `n` records as one `{"Records":[...]}` document. `pick` chooses
/// each record's (account, region) index pair; times start at `start_ms`
/// and grow by `step_ms` on average.
pub fn write_records<W: Write>(
    g: &mut Generator,
    mut w: W,
    n: u64,
    start_ms: i64,
    step_ms: f64,
    mut pick: impl FnMut(&mut Rng) -> (usize, usize),
) -> io::Result<W> {
    w.write_all(b"{\"Records\":[")?;
    let mut t = start_ms as f64;
    for i in 0..n {
        if i > 0 {
            w.write_all(b",")?;
        }
        let (a, r) = pick(g.rng());
        let rec = g.record(a, r, t as i64);
        w.write_all(rec.as_bytes())?;
        t += step_ms * 2.0 * g.rng().f64();
    }
    w.write_all(b"]}")?;
    g.summary.bytes += 14 + n.saturating_sub(1);
    Ok(w)
}

fn create_file(path: &Path) -> Result<BufWriter<File>> {
    if let Some(dir) = path.parent() {
        std::fs::create_dir_all(dir).with_context(|| format!("cannot create {}", dir.display()))?;
    }
    let f = File::create(path).with_context(|| format!("cannot create {}", path.display()))?;
    Ok(BufWriter::with_capacity(1 << 20, f))
}

/// One log file at `path`, gzipped if it ends in `.gz`; accounts and regions mixed.
pub fn write_file(opts: &Options, templates: Vec<Template>, path: &Path) -> Result<Summary> {
    let mut g = Generator::new(opts, templates)?;
    let (na, nr) = (g.accounts.len(), g.regions.len());
    let pick = move |r: &mut Rng| (r.index(na), r.index(nr));
    let out = create_file(path)?;
    // About one record every 20 ms: a busy organization.
    if path.extension().is_some_and(|e| e == "gz") {
        let gz = write_records(
            &mut g,
            GzEncoder::new(out, Compression::default()),
            opts.records,
            opts.start_ms,
            20.0,
            pick,
        )?;
        gz.finish()?.flush()?;
    } else {
        write_records(&mut g, out, opts.records, opts.start_ms, 20.0, pick)?.flush()?;
    }
    g.summary.files = 1;
    Ok(g.summary)
}

/// A delivered log file, as a digest lists it.
struct Delivered {
    key: String,
    oldest: i64,
    newest: i64,
}

const WINDOW_MS: i64 = 5 * 60 * 1000;
const DIGEST_EVERY: u64 = 12; // windows: one digest per hour, as CloudTrail does

/// `files` log files in the organization-trail layout under `dir`: one per
/// (account, region) and five-minute window, as CloudTrail delivers them,
/// plus an hourly digest file per (account, region).
pub fn write_tree(
    opts: &Options,
    templates: Vec<Template>,
    dir: &Path,
    files: u64,
) -> Result<Summary> {
    let mut g = Generator::new(opts, templates)?;
    let pairs: Vec<(usize, usize)> = (0..g.accounts.len())
        .flat_map(|a| (0..g.regions.len()).map(move |r| (a, r)))
        .collect();
    let files = files.max(1);
    let mut delivered: Vec<Vec<Delivered>> = pairs.iter().map(|_| vec![]).collect();
    let mut last_digest: Vec<Option<(String, String)>> = pairs.iter().map(|_| None).collect();
    let mut written = 0u64;
    let windows = files.div_ceil(pairs.len() as u64);
    for w in 0..windows {
        let window_start = opts.start_ms + w as i64 * WINDOW_MS;
        for (p, &(a, r)) in pairs.iter().enumerate() {
            let f = w * pairs.len() as u64 + p as u64;
            if f >= files {
                break;
            }
            let n = opts.records / files + u64::from(f < opts.records % files);
            let account = g.accounts[a].id.clone();
            let region = g.regions[r].clone();
            let delivery =
                Utc::from_ms(window_start + WINDOW_MS + g.rng().range(0, 120_000) as i64);
            let key = format!(
                "AWSLogs/{ORG_ID}/{account}/CloudTrail/{region}/{}/{account}_CloudTrail_{region}_{}_{}.json.gz",
                delivery.path(),
                delivery.compact_minutes(),
                g.rng().alnum(16)
            );
            let out = create_file(&dir.join(&key))?;
            let start = window_start + g.rng().range(0, 5_000) as i64;
            let step = (WINDOW_MS - 10_000) as f64 / n.max(1) as f64;
            let gz = write_records(
                &mut g,
                GzEncoder::new(out, Compression::default()),
                n,
                start,
                step / 2.0,
                |_| (a, r),
            )?;
            gz.finish()?.flush()?;
            written += 1;
            delivered[p].push(Delivered {
                key,
                oldest: start,
                newest: start + (n as f64 * step / 2.0) as i64,
            });
        }
        let last = w + 1 == windows;
        if (w + 1) % DIGEST_EVERY == 0 || last {
            let end = window_start + WINDOW_MS + 600_000;
            for (p, &(a, r)) in pairs.iter().enumerate() {
                let files = std::mem::take(&mut delivered[p]);
                let account = g.accounts[a].id.clone();
                let region = g.regions[r].clone();
                let prev = last_digest[p].clone();
                let (key, body) = digest(
                    &mut g,
                    &account,
                    &region,
                    end - 3_600_000,
                    end,
                    &files,
                    prev.as_ref(),
                );
                let mut gz = GzEncoder::new(create_file(&dir.join(&key))?, Compression::default());
                gz.write_all(body.as_bytes())?;
                gz.finish()?.flush()?;
                last_digest[p] = Some((key, g.rng().hex(64)));
                g.summary.digests += 1;
            }
        }
    }
    g.summary.files = written;
    Ok(g.summary)
}

/// A digest file's key and body.
fn digest(
    g: &mut Generator,
    account: &str,
    region: &str,
    start_ms: i64,
    end_ms: i64,
    files: &[Delivered],
    prev: Option<&(String, String)>,
) -> (String, String) {
    let end = Utc::from_ms(end_ms);
    let key = format!(
        "AWSLogs/{ORG_ID}/{account}/CloudTrail-Digest/{region}/{}/{account}_CloudTrail-Digest_{region}_{TRAIL}_{region}_{}.json.gz",
        end.path(),
        end.compact_seconds()
    );
    let rng = g.rng();
    let mut logs = vec![];
    for f in files {
        logs.push(format!(
            r#"{{"s3Bucket":"{BUCKET}","s3Object":"{}","hashValue":"{}","hashAlgorithm":"SHA-256","newestEventTime":"{}","oldestEventTime":"{}"}}"#,
            f.key,
            rng.hex(64),
            time::iso(f.newest),
            time::iso(f.oldest)
        ));
    }
    let (newest, oldest) = match (
        files.iter().map(|f| f.newest).max(),
        files.iter().map(|f| f.oldest).min(),
    ) {
        (Some(n), Some(o)) => (
            format!("\"{}\"", time::iso(n)),
            format!("\"{}\"", time::iso(o)),
        ),
        _ => ("null".into(), "null".into()),
    };
    let (pb, po, ph, ps) = match prev {
        Some((k, h)) => (
            format!("\"{BUCKET}\""),
            format!("\"{k}\""),
            format!("\"{h}\""),
            format!("\"{}\"", rng.hex(512)),
        ),
        None => ("null".into(), "null".into(), "null".into(), "null".into()),
    };
    let body = format!(
        r#"{{"awsAccountId":"{account}","digestStartTime":"{}","digestEndTime":"{}","digestS3Bucket":"{BUCKET}","digestS3Object":"{key}","digestPublicKeyFingerprint":"{}","digestSignatureAlgorithm":"SHA256withRSA","newestEventTime":{newest},"oldestEventTime":{oldest},"previousDigestS3Bucket":{pb},"previousDigestS3Object":{po},"previousDigestHashValue":{ph},"previousDigestHashAlgorithm":"SHA-256","previousDigestSignature":{ps},"logFiles":[{}]}}"#,
        time::iso(start_ms),
        time::iso(end_ms),
        rng.hex(32),
        logs.join(",")
    );
    (key, body)
}

#[cfg(test)]
mod tests;
