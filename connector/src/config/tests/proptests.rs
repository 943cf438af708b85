//! Property tests: the pipeline and the Go parsers never panic, and agree
//! with their specifications where Rust has an equivalent.

use proptest::prelude::*;

use std::collections::HashMap;
use std::time::Duration;

use crate::config::Config;
use crate::config::go::{format_float_f, format_float_g, is_float, parse_duration, parse_float, quote};

#[derive(Debug, crate::Config)]
struct Entry {
    #[param(default = "1s")]
    param1: Duration,
    #[param(lt = 1e3)]
    param2: Option<f64>,
}

#[derive(Debug, crate::Config)]
struct Wild {
    #[param(default = 1, gt = 0)]
    limit: i64,
    foo: HashMap<String, Entry>,
    #[param(default = true)]
    m: HashMap<String, bool>,
    #[param(inclusion = ["a"])]
    x: HashMap<String, String>,
}

/// Keys built from characters that matter to wildcard matching.
fn key() -> impl Strategy<Value = String> {
    prop_oneof!["[a-z.*0-9 ]{0,12}", "(foo|m|limit|x)?(\\.[0-9a-z*]{0,3}){0,3}", any::<String>(),]
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 256, ..ProptestConfig::default() })]

    #[test]
    fn pipeline_never_panics_on_arbitrary_maps(
        entries in proptest::collection::vec((key(), any::<String>()), 0..8),
    ) {
        let (config, _) = crate::config::ConfigMap::sanitized(&entries);
        prop_assert!(config.iter().zip(config.iter().skip(1)).all(|(a, b)| a.0 < b.0));
        if let Err(errors) = Wild::from_config(&entries) {
            let keys: Vec<&str> = errors.iter().map(|e| e.key()).collect();
            prop_assert!(!keys.is_empty() && keys.is_sorted());
        }
    }

    #[test]
    fn go_parsers_never_panic(s in any::<String>()) {
        let _ = parse_duration(&s);
        let _ = quote(&s);
        if parse_float(&s).is_some() {
            prop_assert!(is_float(&s));
        }
    }

    #[test]
    fn go_parsers_never_panic_on_number_like_strings(s in "[-+]?[0-9._xXpPeEiInNfF]{0,24}(ns|us|µs|ms|s|m|h)?") {
        let _ = parse_duration(&s);
        let _ = parse_float(&s);
        let _ = is_float(&s);
    }

    #[test]
    fn parse_wide_int_agrees_with_rust_i128_parsing(s in "[-+]?[0-9]{0,21}|.{0,4}") {
        let got = match crate::config::go::parse_wide_int(&s) {
            crate::config::go::WideInt::Value(v) => Some(v),
            _ => None,
        };
        prop_assert_eq!(got, s.parse::<i128>().ok());
    }

    #[test]
    fn float_formats_round_trip_through_parse_float(bits in any::<u64>()) {
        let v = f64::from_bits(bits);
        prop_assume!(v.is_finite());
        prop_assert_eq!(parse_float(&format_float_f(v)).map(f64::to_bits), Some(bits));
        prop_assert_eq!(parse_float(&format_float_g(v)).map(f64::to_bits), Some(bits));
    }

    #[test]
    fn durations_of_whole_units_parse_exactly(n in 0i64..1_000_000, unit in 0usize..6) {
        let (suffix, scale) = [("ns", 1), ("us", 1_000), ("ms", 1_000_000), ("s", 1_000_000_000),
            ("m", 60_000_000_000), ("h", 3_600_000_000_000)][unit];
        prop_assert_eq!(parse_duration(&format!("{n}{suffix}")), Ok(n * scale));
        prop_assert_eq!(parse_duration(&format!("-{n}{suffix}")), Ok(-n * scale));
    }
}
