//! What the fuzz targets share: reading a document the way both faces do,
//! and a comparable account of what was found.

use tagwarden_core::pipeline::{Found, Pipeline};

/// Every finding and the counts, as text: two readings of one document
/// must give the same.
pub fn findings(pipeline: Pipeline, doc: &[u8]) -> Vec<String> {
    let mut pipeline = pipeline.with_marks(7);
    let mut found = Vec::new();
    pipeline.read("fuzz.json", doc, &mut |f: Found| {
        found.push(format!("{f:?}"))
    });
    // Bytes inflated count what was read when reading stopped, and an
    // inflater working ahead has read more of a log that ends in damage:
    // a count of work, not a finding.
    let mut stats = pipeline.stats().clone();
    stats.bytes = 0;
    found.push(format!("{stats:?}"));
    found
}
