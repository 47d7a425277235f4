//! Bounce parsing: any bytes as a returned message. `bounce::parse` must never panic.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let report = bulletin::bounce::parse(data);
    for b in &report.bounces {
        // Every reported recipient is a non-empty single line.
        assert!(!b.recipient.is_empty());
        assert!(!b.recipient.contains(['\r', '\n']));
    }
});
