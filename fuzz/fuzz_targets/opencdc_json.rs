//! The OpenCDC JSON decoder: never panics; an accepted record re-encodes to JSON that decodes
//! to the same record; JSON lines over the same bytes never panic, with or without a line limit.
#![no_main]

use conduit_connector::opencdc::{JsonLines, Record};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Ok(record) = Record::from_json(data) {
        let json = record.to_json();
        let again = Record::from_json(&json)
            .unwrap_or_else(|e| panic!("re-encoded record does not decode: {e}\n{}", String::from_utf8_lossy(&json)));
        assert_eq!(record, again, "round trip changed the record\n{}", String::from_utf8_lossy(&json));
        assert_eq!(json, again.to_json(), "encoding is not stable");
    }
    for item in JsonLines::new(data) {
        if let Err(e) = item {
            let _ = e.to_string();
        }
    }
    // With a line limit: never panics, and never accepts more than without one.
    let unbounded = JsonLines::new(data).filter(Result::is_ok).count();
    for limit in [0, 8, 64] {
        let mut accepted = 0;
        for item in JsonLines::new(data).max_line_bytes(limit) {
            match item {
                Ok(_) => accepted += 1,
                Err(e) => {
                    let _ = e.to_string();
                }
            }
        }
        assert!(accepted <= unbounded, "limit {limit}: {accepted} > {unbounded}");
    }
});
