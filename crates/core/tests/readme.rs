//! The catalog table in docs/architecture.md is generated from the catalog
//! itself, so the two cannot drift: run with `TAGWARDEN_BLESS=1` to rewrite it.

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

#[test]
fn readme_lists_every_catalog_row() {
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../docs/architecture.md");
    let readme = std::fs::read_to_string(&path).unwrap();
    let (Some(a), Some(b)) = (readme.find(START), readme.find(END)) else {
        panic!("docs/architecture.md lacks the catalog markers");
    };
    let current = &readme[a + START.len()..b];
    let want = table();
    if current != want && std::env::var_os("TAGWARDEN_BLESS").is_some() {
        let updated = format!("{}{want}{}", &readme[..a + START.len()], &readme[b..]);
        std::fs::write(&path, updated).unwrap();
        return;
    }
    assert_eq!(
        current, want,
        "docs/architecture.md catalog table is stale: rerun with TAGWARDEN_BLESS=1"
    );
}

#[test]
fn the_catalog_doc_has_one_line_per_row() {
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../docs/catalog.md");
    let doc = std::fs::read_to_string(&path).unwrap();
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
                && line.contains(&format!("`{}`", e.ids)),
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
