//! Ingest on the bundled sample logs, next to the floor it cannot beat
//! (inflate alone). The 200k-record and 1 GB figures come from the
//! `ingest-bench` binary in `crates/gen`; see docs/benchmarks.md.

use criterion::{criterion_group, criterion_main, Criterion, Throughput};
use flate2::read::MultiGzDecoder;
use std::hint::black_box;
use std::io::{self, Read};
use std::path::Path;
use tagwarden_core::ingest::{Item, RecordReader};
use tagwarden_core::pipeline::{Found, Pipeline};
use tagwarden_core::plan::Planner;
use tagwarden_core::policy::Policy;

fn sample_logs() -> Vec<Vec<u8>> {
    fn walk(dir: &Path, out: &mut Vec<Vec<u8>>) {
        let mut entries: Vec<_> = std::fs::read_dir(dir)
            .unwrap()
            .map(|e| e.unwrap().path())
            .collect();
        entries.sort();
        for p in entries {
            if p.is_dir() {
                walk(&p, out);
            } else if p.to_string_lossy().ends_with(".json.gz") {
                out.push(std::fs::read(&p).unwrap());
            }
        }
    }
    let mut out = vec![];
    walk(
        &Path::new(env!("CARGO_MANIFEST_DIR")).join("../../examples/cloudtrail"),
        &mut out,
    );
    assert!(!out.is_empty(), "examples/cloudtrail holds the sample logs");
    out
}

fn inflate(gz: &[u8]) -> Vec<u8> {
    let mut v = vec![];
    MultiGzDecoder::new(gz).read_to_end(&mut v).unwrap();
    v
}

fn ingest(c: &mut Criterion) {
    let files = sample_logs();
    let plain: Vec<Vec<u8>> = files.iter().map(|f| inflate(f)).collect();
    let inflated: u64 = plain.iter().map(|p| p.len() as u64).sum();
    let policy = Policy::default_policy();

    let mut g = c.benchmark_group("ingest");
    g.throughput(Throughput::Bytes(inflated));
    g.bench_function("inflate alone", |b| {
        b.iter(|| {
            for f in &files {
                io::copy(&mut MultiGzDecoder::new(&f[..]), &mut io::sink()).unwrap();
            }
        })
    });
    g.bench_function("plan (inflate + scan + catalog + plan)", |b| {
        b.iter(|| {
            let mut pipeline = Pipeline::default();
            let mut planner = Planner::new(&policy);
            for f in &files {
                pipeline.read("bench", &f[..], &mut |found| {
                    if let Found::Creation(c) = found {
                        planner.add(&c)
                    }
                });
            }
            black_box(planner.finish())
        })
    });
    g.bench_function("scan alone (inflated input)", |b| {
        b.iter(|| {
            let mut n = 0usize;
            for p in &plain {
                let mut r = RecordReader::new(&p[..]).unwrap();
                while let Some(item) = r.next_item() {
                    if let Item::Record(rec) = item {
                        n += rec.bytes.len();
                    }
                }
            }
            black_box(n)
        })
    });
    g.finish();
}

criterion_group!(benches, ingest);
criterion_main!(benches);
