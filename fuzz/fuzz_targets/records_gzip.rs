//! The record reader on gzip: inputs that start like gzip are read as they
//! are (damaged streams, members, bombs); the rest are compressed first, so
//! that the JSON inside is explored too. Inflating on a second thread must
//! find exactly what inflating inline does, and on a damaged stream the
//! same up to the first error.
#![no_main]

use flate2::read::MultiGzDecoder;
use flate2::write::GzEncoder;
use libfuzzer_sys::fuzz_target;
use std::io::{Read, Write};
use tagwarden_core::pipeline::Pipeline;
use tagwarden_fuzz::findings;

fuzz_target!(|data: &[u8]| {
    let doc = if data.starts_with(&[0x1f]) {
        data.to_vec()
    } else {
        let mut gz = GzEncoder::new(Vec::new(), flate2::Compression::fast());
        gz.write_all(data).expect("writing to a Vec");
        gz.finish().expect("writing to a Vec")
    };
    let inline = findings(Pipeline::default(), &doc);
    let beside = findings(Pipeline::default().with_inflate_thread(), &doc);
    if inline == beside {
        return;
    }
    // A damaged stream: each inflater may decode some of the damage before
    // it fails, so they need only agree up to the first error, and both
    // must report one.
    let mut whole = Vec::new();
    let damaged = MultiGzDecoder::new(&doc[..])
        .read_to_end(&mut whole)
        .is_err();
    assert!(
        damaged,
        "an intact stream read two ways: {inline:?} {beside:?}"
    );
    let until_error = |found: &[String]| {
        let first = found.iter().position(|f| f.starts_with("Error"));
        first.map(|n| found[..n].to_vec())
    };
    let (a, b) = (until_error(&inline), until_error(&beside));
    assert!(a.is_some() && a == b, "{inline:?} {beside:?}");
});
