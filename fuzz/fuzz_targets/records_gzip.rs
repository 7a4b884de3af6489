//! The record reader on gzip: inputs that start like gzip are read as they
//! are (damaged streams, members, bombs); the rest are compressed first, so
//! that the JSON inside is explored too. Inflating on a second thread must
//! find exactly what inflating inline does.
#![no_main]

use flate2::write::GzEncoder;
use libfuzzer_sys::fuzz_target;
use std::io::Write;
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
    assert_eq!(inline, beside);
});
