//! The catalog table in docs/architecture.md is generated from the catalog
//! itself, so the two cannot drift: run with `TAGWARDEN_BLESS=1` to rewrite it.

mod marked;

use marked::{blessed, Part};
use tagwarden_core::catalog::generated;
use tagwarden_core::catalog::table::ENTRIES;
use tagwarden_core::catalog::TaggingApi;

const START: &str = "<!-- catalog:start -->\n";
const END: &str = "<!-- catalog:end -->";

fn api_name(api: TaggingApi) -> String {
    serde_json::to_value(api)
        .unwrap()
        .as_str()
        .unwrap()
        .to_string()
}

fn table() -> String {
    let mut out = String::from(
        "| event | service | resource type | tagging API | ids from |\n|---|---|---|---|---|\n",
    );
    for e in ENTRIES {
        out.push_str(&format!(
            "| `{}` | {} | `{}` | {} | `{}` |\n",
            e.name,
            e.source.trim_end_matches(".amazonaws.com"),
            e.resource_type,
            api_name(e.api),
            e.ids
        ));
    }
    out
}

/// The docs' parts sit between HTML comments, whole lines each.
fn part(start: &str, end: &str, want: String) -> Part {
    Part {
        start: start.to_string(),
        end: end.to_string(),
        want,
    }
}

#[test]
fn readme_lists_every_catalog_row() {
    blessed("docs/architecture.md", &[part(START, END, table())]);
}

#[test]
fn the_catalog_doc_has_one_line_per_row() {
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../docs/catalog.md");
    let doc = std::fs::read_to_string(&path).unwrap();
    // The hand-written rows' table; the generated rows' follows the marker.
    let doc = &doc[..doc
        .find(GENERATED_START)
        .expect("the generated rows' marker")];
    for e in ENTRIES {
        let cell = format!(
            "| `{}` / `{}` |",
            e.source.trim_end_matches(".amazonaws.com"),
            e.name
        );
        let lines = doc.lines().filter(|l| l.starts_with(&cell)).count();
        assert_eq!(lines, 1, "docs/catalog.md: {cell} appears {lines} times");
        let line = doc.lines().find(|l| l.starts_with(&cell)).unwrap();
        assert!(
            line.contains(&format!("`{}`", e.resource_type))
                && line.contains(&format!("`{}`", e.ids))
                && line.ends_with(&format!(" {} |", hand_evidence(e.source, e.name))),
            "docs/catalog.md is stale for {cell}"
        );
    }
    let rows = doc.lines().filter(|l| l.starts_with("| `")).count();
    assert_eq!(
        rows,
        ENTRIES.len(),
        "docs/catalog.md has rows the catalog lacks"
    );
}

fn fixtures(dir: &str) -> std::path::PathBuf {
    std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures")
        .join(dir)
}

/// A hand row's fixture was captured (it names its source) or written.
fn hand_evidence(source: &str, name: &str) -> &'static str {
    let service = source.trim_end_matches(".amazonaws.com");
    let path = fixtures("catalog").join(format!("{service}.{name}.json"));
    let fx: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&path).unwrap()).unwrap();
    if fx.get("source").is_some() {
        "real"
    } else {
        "written"
    }
}

const GENERATED_START: &str = "<!-- generated:start -->\n";
const GENERATED_END: &str = "<!-- generated:end -->";

/// The generated rows, with `real` where a captured record of the event
/// sits in `fixtures/real/`.
fn generated_table() -> String {
    let mut real = std::collections::BTreeSet::new();
    for f in std::fs::read_dir(fixtures("real")).unwrap() {
        let fx: serde_json::Value =
            serde_json::from_str(&std::fs::read_to_string(f.unwrap().path()).unwrap()).unwrap();
        let text = |k: &str| fx["record"][k].as_str().unwrap_or_default().to_string();
        real.insert((text("eventSource"), text("eventName")));
    }
    let rows = generated::ENTRIES;
    let sources: std::collections::BTreeSet<_> = rows.iter().map(|e| e.source).collect();
    let mut out = format!(
        "{} rows across {} event sources.\n\n\
         | Event (source / name) | Resource type | Id | ARN | Evidence |\n|---|---|---|---|---|\n",
        rows.len(),
        sources.len()
    );
    for e in rows {
        let arn = if e.arn == "{id}" {
            "= id".to_string()
        } else {
            format!("`{}`", e.arn)
        };
        let key = (e.source.to_string(), e.name.to_string());
        out.push_str(&format!(
            "| `{}` / `{}` | `{}` | `{}` | {arn} | {} |\n",
            e.source.trim_end_matches(".amazonaws.com"),
            e.name,
            e.resource_type,
            e.ids,
            if real.contains(&key) { "real" } else { "model" }
        ));
    }
    out
}

#[test]
fn the_catalog_doc_lists_every_generated_row() {
    blessed(
        "docs/catalog.md",
        &[part(GENERATED_START, GENERATED_END, generated_table())],
    );
}
