//! `history ARN` on a store holding a million history rows (SQLite).
//!
//! The store is generated once under `target/bench-data/` and reused: 100k
//! resources from 50k events, ten entries each (created, tagged, then eight
//! later tag changes), recorded in batches the way `apply` records them.

use criterion::{criterion_group, criterion_main, Criterion};
use std::path::PathBuf;
use std::time::{Duration, Instant};
use tagwarden_store::model::{Change, HistoryEntry, Rows, State};
use tagwarden_store::sqlite::{Open, SqliteStore};
use tagwarden_store::{suite, AuditStore};

const RESOURCES: usize = 100_000;
const ROWS: usize = 1_000_000;

fn block<F: std::future::Future>(f: F) -> F::Output {
    tokio::runtime::Builder::new_current_thread()
        .build()
        .unwrap()
        .block_on(f)
}

fn arn(n: usize) -> String {
    suite::item("bench", n, "e", "t").arn
}

fn store() -> SqliteStore {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../target/bench-data");
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join("history-1m.db");
    let ready = dir.join("history-1m.ready");
    if !ready.exists() {
        let _ = std::fs::remove_file(&path);
        let store = SqliteStore::open(&path, Open::Create, Duration::from_secs(5)).unwrap();
        let started = Instant::now();
        for chunk in (0..RESOURCES).collect::<Vec<_>>().chunks(5_000) {
            let items: Vec<_> = chunk
                .iter()
                .map(|&n| {
                    let day = 1 + n % 28;
                    suite::item(
                        "bench",
                        n,
                        &format!("ev-{}", n / 2),
                        &format!("2026-01-{day:02}T10:00:00Z"),
                    )
                })
                .collect();
            let mut rows: Rows = suite::rows_of(&items, State::Tagged, "2026-02-01T00:00:00Z");
            // Eight later changes per resource, as principals' tag edits.
            let later: Vec<HistoryEntry> = rows
                .history
                .iter()
                .filter(|h| h.change == Change::Tagged)
                .flat_map(|h| {
                    (0..8).map(move |k| {
                        let mut e = h.clone();
                        e.event.id = format!("{}-edit{k}", h.event.id);
                        e.event.time = format!("2026-03-{:02}T00:00:00Z", 1 + k);
                        e.actor = suite::CREATOR.to_string();
                        e
                    })
                })
                .collect();
            rows.history.extend(later);
            block(store.record(&rows)).unwrap();
        }
        eprintln!("generated {ROWS} history rows in {:.1?}", started.elapsed());
        std::fs::write(&ready, "").unwrap();
    }
    SqliteStore::open(&path, Open::Existing, Duration::from_secs(5)).unwrap()
}

fn bench(c: &mut Criterion) {
    let store = store();
    let mut n = 0usize;
    let rt = tokio::runtime::Builder::new_current_thread()
        .build()
        .unwrap();
    c.bench_function("history of one ARN among 1M rows (sqlite)", |b| {
        b.iter(|| {
            n = (n + 7_919) % RESOURCES;
            let h = rt.block_on(store.history(&arn(n))).unwrap();
            assert_eq!(h.history.len(), 10);
        })
    });
    c.bench_function("open the store + history (cold process path)", |b| {
        b.iter(|| {
            n = (n + 7_919) % RESOURCES;
            let path = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
                .join("../../target/bench-data/history-1m.db");
            let s = SqliteStore::open(&path, Open::Existing, Duration::from_secs(5)).unwrap();
            let h = rt.block_on(s.history(&arn(n))).unwrap();
            assert_eq!(h.history.len(), 10);
        })
    });
}

criterion_group! {
    name = benches;
    config = Criterion::default().sample_size(50).measurement_time(Duration::from_secs(5));
    targets = bench
}
criterion_main!(benches);
