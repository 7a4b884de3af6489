//! The subjects reader of event-driven compliance checks: any event is
//! subjects or errors naming where, never a panic.
#![no_main]

use libfuzzer_sys::fuzz_target;
use tagwarden_core::subjects::subjects;

fuzz_target!(|data: &[u8]| {
    let _ = subjects("fuzz.json", data);
});
