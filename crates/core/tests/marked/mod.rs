//! Parts of the repository's files that tests write: each between a start
//! marker and an end marker, checked against what it should hold, or, with
//! `TAGWARDEN_BLESS` set, rewritten.

/// One marked part. Its text runs from just after `start` to the start of
/// the line holding `end`, so an indented end marker keeps its indent.
pub struct Part {
    pub start: String,
    pub end: String,
    pub want: String,
}

/// Checks every part of `file` (a path from the repository's root), or
/// writes the stale ones when blessed.
pub fn blessed(file: &str, parts: &[Part]) {
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../..")
        .join(file);
    let mut text = std::fs::read_to_string(&path).unwrap();
    let mut stale = vec![];
    for part in parts {
        // The end marker starts its own line: a part ending mid-line would
        // be stale again after each bless.
        assert!(
            part.want.is_empty() || part.want.ends_with('\n'),
            "{file}: a part must end its line"
        );
        let a = text
            .find(&part.start)
            .unwrap_or_else(|| panic!("{file} lacks the marker {:?}", part.start));
        let body = a + part.start.len();
        let b = body
            + text[body..]
                .find(&part.end)
                .unwrap_or_else(|| panic!("{file} lacks the marker {:?}", part.end));
        let line = text[..b].rfind('\n').map_or(0, |i| i + 1).max(body);
        if text[body..line] != part.want {
            stale.push(part.start.trim().to_string());
            text = format!("{}{}{}", &text[..body], part.want, &text[line..]);
        }
    }
    if stale.is_empty() {
        return;
    }
    if std::env::var_os("TAGWARDEN_BLESS").is_some() {
        std::fs::write(&path, text).unwrap();
        return;
    }
    panic!("{file}: stale after {stale:?}: rerun with TAGWARDEN_BLESS=1");
}
