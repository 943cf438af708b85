//! Go's `time.ParseDuration` and the other Go parsers: never panic; accepted durations are
//! consistent with the sign and with the `Duration` config value.
#![no_main]

use conduit_connector::ConfigValue;
use conduit_connector::config::go::{is_float, parse_duration, parse_float, quote};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(s) = std::str::from_utf8(data) else { return };
    let parsed = parse_duration(s);
    if let Ok(n) = parsed {
        // A value without a leading '-' is never negative (Go rejects overflow to negative).
        if !s.starts_with('-') {
            assert!(n >= 0, "{s:?} parsed to {n}");
        }
    }
    // The config value type agrees with the parser for the non-negative durations it accepts.
    match (<std::time::Duration as ConfigValue>::parse(s), parsed) {
        (Ok(d), Ok(n)) => assert_eq!(d.as_nanos(), u128::try_from(n).expect("negative accepted")),
        (Ok(d), Err(e)) => panic!("{s:?}: config value accepted {d:?}, parser said {e:?}"),
        _ => {}
    }
    if parse_float(s).is_some() {
        assert!(is_float(s));
    }
    let _ = quote(s);
});
