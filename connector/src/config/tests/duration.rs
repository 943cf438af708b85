//! `time.ParseDuration` cases, most from Go's `time` package tests.

use crate::config::go::{DurationError, parse_duration};

const NS: i64 = 1;
const US: i64 = 1_000;
const MS: i64 = 1_000_000;
const S: i64 = 1_000_000_000;
const M: i64 = 60 * S;
const H: i64 = 60 * M;

#[test]
fn valid_durations_parse_to_gos_nanoseconds() {
    let cases: &[(&str, i64)] = &[
        // simple
        ("0", 0),
        ("5s", 5 * S),
        ("30s", 30 * S),
        ("1478s", 1478 * S),
        // sign
        ("-5s", -5 * S),
        ("+5s", 5 * S),
        ("-0", 0),
        ("+0", 0),
        ("-0s", 0),
        ("00s", 0),
        ("0.0s", 0),
        // decimal
        ("5.0s", 5 * S),
        ("5.6s", 5 * S + 600 * MS),
        ("5.s", 5 * S),
        ("1.s", S),
        (".5s", 500 * MS),
        ("1.0s", S),
        ("1.00s", S),
        ("1.004s", S + 4 * MS),
        ("1.0040s", S + 4 * MS),
        ("100.00100s", 100 * S + MS),
        ("1.5h", 90 * M),
        ("-1.5h", -90 * M),
        // units
        ("10ns", 10 * NS),
        ("100ns", 100 * NS),
        ("11us", 11 * US),
        ("12µs", 12 * US),
        ("12μs", 12 * US),
        ("3µs", 3 * US),
        ("3μs", 3 * US),
        ("13ms", 13 * MS),
        ("14s", 14 * S),
        ("15m", 15 * M),
        ("16h", 16 * H),
        // composite
        ("3h30m", 3 * H + 30 * M),
        ("10.5s4m", 4 * M + 10 * S + 500 * MS),
        ("-2m3.4s", -(2 * M + 3 * S + 400 * MS)),
        ("1h2m3s4ms5us6ns", H + 2 * M + 3 * S + 4 * MS + 5 * US + 6 * NS),
        ("39h9m14.425s", 39 * H + 9 * M + 14 * S + 425 * MS),
        ("1h2m3.5s", H + 2 * M + 3 * S + 500 * MS),
        ("1s1s", 2 * S),
        // large values
        ("52763797000ns", 52_763_797_000),
        ("9007199254740993ns", (1 << 53) + 1),
        ("2562047h", 2_562_047 * H),
        ("9223372036854775807ns", i64::MAX),
        ("9223372036854775.807us", i64::MAX),
        ("9223372036s854ms775us807ns", i64::MAX),
        ("-9223372036854775808ns", i64::MIN),
        ("-9223372036854775.808us", i64::MIN),
        ("-9223372036s854ms775us808ns", i64::MIN),
        ("-2562047h47m16.854775808s", i64::MIN),
        // fractions with more digits than nanoseconds (Go scales with float64)
        ("0.3333333333333333333h", 20 * M),
        ("0.100000000000000000000h", 6 * M),
        ("0.830103483285477580700h", 49 * M + 48 * S + 372_539_827 * NS),
        // Go adds segments in uint64 with wraparound: 2^63 + 2^63 wraps to 0.
        ("9223372036854775808ns9223372036854775808ns", 0),
    ];
    for &(input, want) in cases {
        assert_eq!(parse_duration(input), Ok(want), "parse_duration({input:?})");
    }
}

#[test]
fn invalid_durations_are_rejected_like_go() {
    use DurationError::{Invalid, Overflow, Unit};
    let cases: &[(&str, DurationError)] = &[
        ("", Invalid),
        ("-", Invalid),
        ("+", Invalid),
        ("s", Invalid),
        (".", Invalid),
        ("-.", Invalid),
        (".s", Invalid),
        ("+.s", Invalid),
        ("µs", Invalid),
        ("\u{FFFD}", Invalid),
        ("\u{FFFD} hello \u{FFFD} world", Invalid),
        ("--5s", Invalid),
        (" 1s", Invalid),
        ("3", Unit),
        ("5", Unit),
        ("1s2", Unit),
        ("1.5.5s", Unit),
        ("1d", Unit),
        ("1w", Unit),
        ("1S", Unit),
        ("1H", Unit),
        ("1h ", Unit),
        ("1s-1s", Unit), // the unit is "s-"
        ("1 s", Unit),
        ("1sec", Unit),
        ("9223372036854775810ns", Overflow),
        ("9223372036854775808ns", Overflow),
        ("-9223372036854775809ns", Overflow),
        ("9223372036854776us", Overflow),
        ("3000000h", Overflow),
        ("2562048h", Overflow),
        ("9223372036854775.808us", Overflow),
        ("9223372036854ms775us808ns", Overflow),
        ("99999999999999999999s", Overflow),
    ];
    for &(input, want) in cases {
        assert_eq!(parse_duration(input), Err(want), "parse_duration({input:?})");
    }
}

#[test]
fn parse_duration_works_in_const_context() {
    const D: Result<i64, DurationError> = parse_duration("1h30m");
    assert_eq!(D, Ok(90 * M));
}
