//! The OpenCDC JSON decoder: never panics; an accepted record re-encodes to JSON that decodes
//! to the same record; JSON lines over the same bytes never panic.
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
});
