//! The README's catalog table is generated from the catalog itself, so the
//! two cannot drift: run with `TAGWARDEN_BLESS=1` to rewrite it.

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
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../README.md");
    let readme = std::fs::read_to_string(&path).unwrap();
    let (Some(a), Some(b)) = (readme.find(START), readme.find(END)) else {
        panic!("README.md lacks the catalog markers");
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
        "README catalog table is stale: rerun with TAGWARDEN_BLESS=1"
    );
}
