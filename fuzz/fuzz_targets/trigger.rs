//! The function's trigger classifier: whatever an invoker sends, as the
//! payload or as an SQS message's body, is classified or refused, never a
//! panic.
#![no_main]

use libfuzzer_sys::fuzz_target;
use tagwarden_core::trigger::{classify, classify_message, event_time, Gate};

fuzz_target!(|data: &[u8]| {
    for gate in [
        Gate::default(),
        Gate {
            trail_bucket: Some("trail"),
        },
    ] {
        let _ = classify(data, gate);
        let _ = classify_message(data, gate);
    }
    let _ = event_time(data);
});
