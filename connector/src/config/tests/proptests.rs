//! Property tests: the pipeline and the Go parsers never panic, and agree
//! with their specifications where Rust has an equivalent.

use proptest::prelude::*;

use super::{param, params};
use crate::config::go::{format_float_f, format_float_g, is_float, parse_duration, parse_float, parse_int, quote};
use crate::config::{ConfigMap, ParameterType, Parameters, Validation, expand_keys};

fn wildcard_params() -> Parameters {
    params([
        ("limit", param(ParameterType::Int, "1", vec![Validation::GreaterThan(0.0), Validation::Required])),
        ("foo.*.param1", param(ParameterType::Duration, "1s", vec![Validation::Required])),
        ("foo.*.param2", param(ParameterType::Float, "", vec![Validation::LessThan(1e3)])),
        ("m.*", param(ParameterType::Bool, "true", vec![])),
        ("*.x.*", param(ParameterType::String, "", vec![Validation::Inclusion(vec!["a".into()])])),
        ("*", param(ParameterType::String, "", vec![super::regex("^[^*]*$")])),
    ])
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
        let params = wildcard_params();
        let (mut config, _) = ConfigMap::sanitized(&entries);
        config.apply_defaults(&params);
        let _ = config.validate(&params);
        for (name, _) in params.iter() {
            let keys = expand_keys(name, &config);
            prop_assert!(keys.windows(2).all(|w| w[0] < w[1]));
        }
    }

    #[test]
    fn go_parsers_never_panic(s in any::<String>()) {
        let _ = parse_duration(&s);
        let _ = parse_int(&s);
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
        let _ = parse_int(&s);
    }

    #[test]
    fn parse_int_agrees_with_rust_i64_parsing(s in "[-+]?[0-9]{0,21}|.{0,4}") {
        prop_assert_eq!(parse_int(&s), s.parse::<i64>().ok());
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
