//! The record reader and the pipeline behind it, on plain bytes: any
//! document, however damaged, is read to its end without a panic.
#![no_main]

use libfuzzer_sys::fuzz_target;
use tagwarden_core::pipeline::Pipeline;

fuzz_target!(|data: &[u8]| {
    tagwarden_fuzz::findings(Pipeline::default(), data);
});
