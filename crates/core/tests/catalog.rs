//! Every catalog row against a realistic record: the fixture
//! `fixtures/catalog/<service>.<EventName>.json` holds `{"expect": {"arns",
//! "preset_tags"}, "record"}`; `<service>` is the eventSource before
//! `.amazonaws.com`.

use serde::Deserialize;
use std::collections::BTreeMap;
use tagwarden_core::catalog::table::ENTRIES;
use tagwarden_core::catalog::{arn_partition, generated, layers, lookup, Entry, Scope};
use tagwarden_core::pipeline::{read_all, Found};
use tagwarden_core::record::Record;

#[derive(Deserialize)]
struct Fixture {
    expect: Expect,
    record: serde_json::Value,
}

#[derive(Deserialize)]
struct Expect {
    arns: Vec<String>,
    #[serde(default)]
    preset_tags: BTreeMap<String, String>,
}

fn fixture_path(source: &str, name: &str) -> std::path::PathBuf {
    let service = source.trim_end_matches(".amazonaws.com");
    std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures/catalog")
        .join(format!("{service}.{name}.json"))
}

#[test]
fn every_catalog_row_extracts_its_resources_from_a_realistic_record() {
    let mut failures = vec![];
    for e in ENTRIES {
        let path = fixture_path(e.source, e.name);
        let row = format!("{}/{}", e.source, e.name);
        let text = match std::fs::read_to_string(&path) {
            Ok(t) => t,
            Err(err) => {
                failures.push(format!("{row}: no fixture at {}: {err}", path.display()));
                continue;
            }
        };
        let fx: Fixture = match serde_json::from_str(&text) {
            Ok(f) => f,
            Err(err) => {
                failures.push(format!("{row}: bad fixture: {err}"));
                continue;
            }
        };
        failures.extend(check(&row, &path, &fx, e.resource_type));
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

#[test]
fn catalog_covers_at_least_60_events_across_20_services() {
    let services: std::collections::BTreeSet<_> = ENTRIES.iter().map(|e| e.source).collect();
    assert!(ENTRIES.len() >= 60, "{} events", ENTRIES.len());
    assert!(services.len() >= 20, "{} services", services.len());
}

#[test]
fn every_fixture_belongs_to_a_row() {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/catalog");
    for f in std::fs::read_dir(&dir).unwrap() {
        let name = f.unwrap().file_name().into_string().unwrap();
        let stem = name.trim_end_matches(".json");
        let (service, event) = stem.rsplit_once('.').unwrap();
        assert!(
            ENTRIES
                .iter()
                .any(|e| e.source.trim_end_matches(".amazonaws.com") == service && e.name == event),
            "{name} has no catalog row"
        );
    }
}

/// What a fixture's record plans to against what it expects, as failures.
fn check(row: &str, path: &std::path::Path, fx: &Fixture, resource_type: &str) -> Vec<String> {
    let mut failures = Vec::new();
    let bytes = serde_json::to_vec(&fx.record).unwrap();
    let (found, _) = read_all(&path.display().to_string(), &bytes);
    let got: Vec<_> = found
        .iter()
        .map(|f| match f {
            Found::Creation(c) => Ok(c),
            Found::Error(e) => Err(e.to_string()),
            Found::Fetch(o) => Err(format!("unexpected fetch {o}")),
            Found::TagChange(t) => Err(format!("unexpected tag change {}", t.event.name)),
            Found::Watched(w) => Err(format!("unexpected watched call {}", w.event.name)),
            Found::Mark(n) => Err(format!("unexpected mark {n}")),
            Found::Session(s) => Err(format!("unexpected session {}", s.event.name)),
        })
        .collect();
    match got.as_slice() {
        [Ok(c)] => {
            let arns: Vec<_> = c.resources.iter().map(|r| r.arn.clone()).collect();
            if arns != fx.expect.arns {
                failures.push(format!("{row}: arns {arns:?} != {:?}", fx.expect.arns));
            }
            if c.resource_type != resource_type {
                failures.push(format!("{row}: type {}", c.resource_type));
            }
            if c.preset_tags != fx.expect.preset_tags {
                failures.push(format!(
                    "{row}: preset tags {:?} != {:?}",
                    c.preset_tags, fx.expect.preset_tags
                ));
            }
        }
        other => failures.push(format!("{row}: expected one creation, got {other:?}")),
    }
    failures
}

/// Real records kept beside the catalog's fixtures, each naming its source
/// and licence: older shapes of an event a hand row already has a fixture
/// for (`<service>.<EventName>.<why>.json`), and records of generated rows'
/// events, which make those rows' evidence real rather than the model's.
#[test]
fn every_real_record_is_planned_as_its_row_says() {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/real");
    let mut failures = vec![];
    let mut read = 0;
    for f in std::fs::read_dir(&dir).unwrap() {
        let path = f.unwrap().path();
        let name = path.file_name().unwrap().to_string_lossy().to_string();
        let fx: Fixture = serde_json::from_str(&std::fs::read_to_string(&path).unwrap())
            .unwrap_or_else(|e| panic!("{name}: {e}"));
        let (source, event) = (
            fx.record["eventSource"].as_str().unwrap_or_default(),
            fx.record["eventName"].as_str().unwrap_or_default(),
        );
        read += 1;
        let Some(e) = lookup(source.as_bytes(), event.as_bytes()) else {
            failures.push(format!("{name}: no row for {source}/{event}"));
            continue;
        };
        failures.extend(check(&name, &path, &fx, e.resource_type));
    }
    assert!(read > 0, "no real record read from {}", dir.display());
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

/// One line of `fixtures/generated.jsonl`: a record built from the API
/// model by `tools/catalog/generate.py`, and what its row must plan.
#[derive(Deserialize)]
struct ModelFixture {
    source: String,
    name: String,
    expect: Expect,
    record: serde_json::Value,
}

/// Where the generator places its sample records.
const MODEL_SCOPE: Scope<'static> = Scope {
    partition: "aws",
    region: "eu-west-1",
    account: "111122223333",
};

fn generated_row(source: &str, name: &str) -> Option<&'static Entry> {
    layers::find(generated::ENTRIES, source.as_bytes(), name.as_bytes())
}

/// The ARNs and preset tags a row plans for a record, or why it plans none.
fn planned(
    e: &'static Entry,
    record: &serde_json::Value,
    scope: &Scope<'_>,
) -> Result<(Vec<String>, BTreeMap<String, String>), String> {
    let bytes = serde_json::to_vec(record).unwrap();
    let record = Record::parse(&bytes).map_err(|e| e.to_string())?;
    let arns = e
        .resources(&record, scope)
        .map_err(|err| format!("{err} ({})", err.field()))?;
    Ok((
        arns.into_iter().map(|r| r.arn).collect(),
        e.preset_tags(&record),
    ))
}

/// Each generated row plans the record the generator built for it. That
/// record holds the id where the row's own path says and the tags in the
/// model's shape, so this checks that every path and template compiles,
/// reads the model's tag shapes and fills in: not that the path names the
/// created resource. That is judged by the generator's rules
/// (`tools/catalog/generated.md`), by real records (`fixtures/real/`) and by
/// `generated_rows_plan_the_hand_rows_records_alike`.
#[test]
fn every_generated_row_plans_the_record_its_api_model_gives() {
    let path =
        std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/generated.jsonl");
    let text = std::fs::read_to_string(&path).unwrap();
    let mut failures = vec![];
    let mut seen = std::collections::BTreeSet::new();
    for (n, line) in text.lines().enumerate() {
        let at = format!("generated.jsonl:{}", n + 1);
        let fx: ModelFixture = serde_json::from_str(line).unwrap_or_else(|e| panic!("{at}: {e}"));
        let Some(e) = generated_row(&fx.source, &fx.name) else {
            failures.push(format!(
                "{at}: no generated row for {}/{}",
                fx.source, fx.name
            ));
            continue;
        };
        seen.insert((e.source, e.name));
        match planned(e, &fx.record, &MODEL_SCOPE) {
            Ok((arns, tags)) => {
                if arns != fx.expect.arns || tags != fx.expect.preset_tags {
                    failures.push(format!(
                        "{at} {}/{}: planned {arns:?} {tags:?}, expected {:?} {:?}",
                        e.source, e.name, fx.expect.arns, fx.expect.preset_tags
                    ));
                }
            }
            Err(why) => failures.push(format!("{at} {}/{}: {why}", e.source, e.name)),
        }
    }
    for e in generated::ENTRIES {
        if !seen.contains(&(e.source, e.name)) {
            failures.push(format!("{}/{}: no model record", e.source, e.name));
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

/// Where a hand-written row and a generated one describe the same event, the
/// generated row plans the hand row's record (a realistic or real one) to
/// the same ARNs: a check of the generator's rules against records that were
/// not built from the model. The exceptions are the generator's known blind
/// spots, each with its reason; the hand row wins there.
#[test]
fn generated_rows_plan_the_hand_rows_records_alike() {
    let mut agree = 0;
    let mut differ = vec![];
    for e in ENTRIES {
        let Some(g) = generated_row(e.source, e.name) else {
            continue;
        };
        let path = fixture_path(e.source, e.name);
        let fx: Fixture = serde_json::from_str(&std::fs::read_to_string(&path).unwrap()).unwrap();
        let r = &fx.record;
        let text = |k: &str| r[k].as_str().unwrap_or_default().to_string();
        let (region, account) = (text("awsRegion"), text("recipientAccountId"));
        let partition = fx.expect.arns.first().and_then(|a| arn_partition(a));
        let scope = Scope {
            partition: partition.unwrap_or("aws"),
            region: &region,
            account: &account,
        };
        match planned(g, r, &scope) {
            Ok((arns, _)) if arns == fx.expect.arns => agree += 1,
            got => differ.push(format!("{}/{}: {got:?}", e.source, e.name)),
        }
    }
    assert!(differ.is_empty(), "{}", differ.join("\n"));
    // The check means something only while the two tables overlap.
    assert!(
        agree >= 15,
        "only {agree} events have both a hand and a generated row"
    );
}

/// One line of `fixtures/generated-tag-events.jsonl`: a tag or untag call
/// built from the API model, the ARNs it names and the tags it sets (or the
/// keys it removes, with empty values).
#[derive(Deserialize)]
struct TagCallFixture {
    source: String,
    name: String,
    expect: TagCallExpect,
    record: serde_json::Value,
}

#[derive(Deserialize)]
struct TagCallExpect {
    arns: Vec<String>,
    tags: BTreeMap<String, String>,
}

#[test]
fn every_generated_tag_call_reads_the_record_its_api_model_gives() {
    use tagwarden_core::catalog::tag_events;
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures/generated-tag-events.jsonl");
    let text = std::fs::read_to_string(&path).unwrap();
    let mut failures = vec![];
    let mut read = 0;
    for (n, line) in text.lines().enumerate() {
        let at = format!("generated-tag-events.jsonl:{}", n + 1);
        let fx: TagCallFixture = serde_json::from_str(line).unwrap_or_else(|e| panic!("{at}: {e}"));
        let Some(e) = generated::TAG_EVENTS
            .iter()
            .find(|e| e.source == fx.source && e.name == fx.name)
        else {
            failures.push(format!(
                "{at}: no generated row for {}/{}",
                fx.source, fx.name
            ));
            continue;
        };
        read += 1;
        let bytes = serde_json::to_vec(&fx.record).unwrap();
        let record = Record::parse(&bytes).unwrap();
        let arns: Result<Vec<String>, _> = e
            .resources(&record, &MODEL_SCOPE)
            .map(|t| t.into_iter().map(|t| t.resource.arn).collect());
        let tags = e.tags(&record);
        if arns.as_ref() != Ok(&fx.expect.arns) || tags != fx.expect.tags {
            failures.push(format!("{at} {}/{}: {arns:?} {tags:?}", e.source, e.name));
        }
        // The hand-written row, where there is one, is the one the pipeline
        // reads; else this one.
        let found = tag_events::lookup(e.source.as_bytes(), e.name.as_bytes()).unwrap();
        let hand = tag_events::TAG_EVENTS
            .iter()
            .find(|h| h.source == e.source && h.name == e.name);
        assert!(
            std::ptr::eq(found, hand.unwrap_or(e)),
            "{}/{}",
            e.source,
            e.name
        );
    }
    assert_eq!(
        read,
        generated::TAG_EVENTS.len(),
        "a row without its record"
    );
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}
