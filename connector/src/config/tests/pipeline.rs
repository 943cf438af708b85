//! `from_config`: sanitize → defaults → validate → decode, with hand-written
//! `ConfigField` impls standing in for derived ones.

use std::time::{Duration, Instant};

use super::{param, plain};
use crate::config::field::{FieldKey, join_key};
use crate::config::field_support::from_config;
use crate::config::{
    ConfigError, ConfigField, DecodeCx, ErrorKind, FieldKind, FieldSpec, ParameterType, Parameters, ValidationSpec,
};

#[derive(Debug, PartialEq)]
struct Simple {
    limit: u8,
    name: String,
    every: Duration,
}

impl ConfigField for Simple {
    const KIND: FieldKind = FieldKind::Nested;

    fn describe(key: &str, _spec: &FieldSpec, out: &mut Parameters) {
        const LIMIT: FieldSpec =
            FieldSpec { default: "10", validations: &[ValidationSpec::GreaterThan(0.0)], ..FieldSpec::EMPTY };
        const NAME: FieldSpec = FieldSpec { validations: &[ValidationSpec::Required], ..FieldSpec::EMPTY };
        const EVERY: FieldSpec = FieldSpec { default: "1s", ..FieldSpec::EMPTY };
        u8::describe(&join_key(key, "limit"), &LIMIT, out);
        String::describe(&join_key(key, "name"), &NAME, out);
        Duration::describe(&join_key(key, "every"), &EVERY, out);
    }

    fn decode(key: &FieldKey<'_>, cx: &mut DecodeCx<'_>) -> Option<Self> {
        let limit = u8::decode(&key.join("limit"), cx);
        let name = String::decode(&key.join("name"), cx);
        let every = Duration::decode(&key.join("every"), cx);
        Some(Simple { limit: limit?, name: name?, every: every? })
    }
}

fn simple_params() -> Parameters {
    let mut out = Parameters::new();
    Simple::describe("", &FieldSpec::EMPTY, &mut out);
    out
}

#[test]
fn from_config_trims_defaults_validates_and_decodes() {
    let got: Simple = from_config([(" name ", " x "), ("every", "")], &simple_params()).unwrap();
    assert_eq!(got, Simple { limit: 10, name: "x".into(), every: Duration::from_secs(1) });
}

#[test]
fn from_config_reports_every_problem_sorted_by_key() {
    let errors =
        from_config::<Simple>([("limit", "0"), ("every", "soon"), ("nme", "x")], &simple_params()).unwrap_err();
    let texts: Vec<String> = errors.iter().map(ToString::to_string).collect();
    assert_eq!(
        texts,
        [
            r#"error validating "every": "soon" value is not a duration: invalid parameter type"#,
            r#"error validating "limit": "0" should be greater than 0: greater-than validation failed"#,
            r#"error validating "name": required parameter is not provided"#,
            r#""nme": unrecognized parameter (did you mean "name"?)"#,
        ]
    );
}

#[test]
fn from_config_reports_a_bad_value_once() {
    // "every" fails the type check; decoding it fails too but is not reported again.
    let errors = from_config::<Simple>([("name", "x"), ("every", "soon")], &simple_params()).unwrap_err();
    assert_eq!(errors.len(), 1);
    let error = errors.iter().next().unwrap();
    assert_eq!(error.key(), "every");
    assert_eq!(error.kind(), ErrorKind::InvalidType);
}

#[test]
fn from_config_reports_decode_only_problems() {
    // 300 is a valid Go int but does not fit u8; -1s is a valid Go duration
    // but not a std Duration.
    let errors =
        from_config::<Simple>([("name", "x"), ("limit", "300"), ("every", "-1s")], &simple_params()).unwrap_err();
    let keys: Vec<&str> = errors.iter().map(|e| e.key()).collect();
    assert_eq!(keys, ["every", "limit"]);
}

#[test]
fn from_config_reports_duplicate_keys_after_trimming() {
    let errors = from_config::<Simple>([("name", "x"), (" name", "y")], &simple_params()).unwrap_err();
    assert_eq!(errors.len(), 1);
    assert_eq!(errors.iter().next().unwrap().kind(), ErrorKind::InvalidValue);
}

#[derive(Debug)]
struct Silent;

impl ConfigField for Silent {
    const KIND: FieldKind = FieldKind::Nested;
    fn describe(_key: &str, _spec: &FieldSpec, _out: &mut Parameters) {}
    fn decode(_key: &FieldKey<'_>, _cx: &mut DecodeCx<'_>) -> Option<Self> {
        None
    }
}

#[test]
fn decode_failure_without_an_error_becomes_a_custom_error() {
    let errors = from_config::<Silent>(Vec::<(&str, &str)>::new(), &Parameters::new()).unwrap_err();
    assert_eq!(errors.len(), 1);
    let error = errors.iter().next().unwrap();
    assert_eq!(error.kind(), ErrorKind::Custom);
    assert!(error.to_string().contains("failed to decode"));
}

#[derive(Debug)]
struct Hooked;

impl ConfigField for Hooked {
    const KIND: FieldKind = FieldKind::Nested;
    fn describe(_key: &str, _spec: &FieldSpec, _out: &mut Parameters) {}
    fn decode(key: &FieldKey<'_>, cx: &mut DecodeCx<'_>) -> Option<Self> {
        cx.hook_errors(key, ConfigError::custom("x", "bad").into());
        Some(Hooked)
    }
}

#[test]
fn errors_reported_during_decoding_fail_the_pipeline() {
    let errors = from_config::<Hooked>(Vec::<(&str, &str)>::new(), &Parameters::new()).unwrap_err();
    assert_eq!(errors.to_string(), r#"error validating "x": bad"#);
}

/// Thirty parameters: strings, ints with bounds, durations, a regex.
struct Wide;

impl ConfigField for Wide {
    const KIND: FieldKind = FieldKind::Nested;
    fn describe(key: &str, _spec: &FieldSpec, out: &mut Parameters) {
        const INT: FieldSpec = FieldSpec {
            default: "5",
            validations: &[ValidationSpec::GreaterThan(0.0), ValidationSpec::LessThan(100.0)],
            ..FieldSpec::EMPTY
        };
        const STR: FieldSpec = FieldSpec {
            validations: &[ValidationSpec::Inclusion(&["a", "b", "c"]), ValidationSpec::Regex("^[a-c]$")],
            default: "a",
            ..FieldSpec::EMPTY
        };
        const DUR: FieldSpec = FieldSpec { default: "1s", ..FieldSpec::EMPTY };
        for i in 0..10 {
            i32::describe(&join_key(key, &format!("int{i}")), &INT, out);
            String::describe(&join_key(key, &format!("str{i}")), &STR, out);
            Duration::describe(&join_key(key, &format!("dur{i}")), &DUR, out);
        }
    }
    fn decode(key: &FieldKey<'_>, cx: &mut DecodeCx<'_>) -> Option<Self> {
        let mut ok = true;
        for i in 0..10 {
            ok &= i32::decode(&key.join(&format!("int{i}")), cx).is_some();
            ok &= String::decode(&key.join(&format!("str{i}")), cx).is_some();
            ok &= Duration::decode(&key.join(&format!("dur{i}")), cx).is_some();
        }
        ok.then_some(Wide)
    }
}

/// Rough timing of the pipeline for a 30-parameter config; run with
/// `cargo test --release -- --ignored --nocapture from_config_timing`.
#[test]
#[ignore = "timing, not a correctness check"]
fn from_config_timing_for_thirty_parameters() {
    let mut params = Parameters::new();
    Wide::describe("", &FieldSpec::EMPTY, &mut params);
    assert_eq!(params.len(), 30);
    let config: Vec<(String, String)> = (0..10)
        .flat_map(|i| {
            [
                (format!("int{i}"), "7".to_owned()),
                (format!("str{i}"), "b".to_owned()),
                (format!("dur{i}"), "2s".to_owned()),
            ]
        })
        .collect();
    // The minimum over many small batches, so other load on the machine
    // does not count.
    fn min_per_call(mut f: impl FnMut()) -> Duration {
        (0..300)
            .map(|_| {
                let start = Instant::now();
                for _ in 0..100 {
                    f();
                }
                start.elapsed() / 100
            })
            .min()
            .unwrap_or_default()
    }
    let total = min_per_call(|| {
        let _ = std::hint::black_box(from_config::<Wide>(&config, &params)).map_err(|e| panic!("{e}"));
    });
    println!("from_config, 30 parameters: {total:?} per call");
    let sanitize = min_per_call(|| {
        std::hint::black_box(crate::config::ConfigMap::sanitized(&config));
    });
    let (map, _) = crate::config::ConfigMap::sanitized(&config);
    let clone = min_per_call(|| {
        std::hint::black_box(map.clone());
    });
    let defaults = min_per_call(|| {
        let mut m = map.clone();
        m.apply_defaults(&params);
        std::hint::black_box(m);
    });
    let validate = min_per_call(|| {
        let _ = std::hint::black_box(map.validate(&params));
    });
    let decode = min_per_call(|| {
        let mut errors = crate::config::ConfigErrors::new();
        let mut cx = DecodeCx::new(&map, &mut errors);
        std::hint::black_box(Wide::decode(&FieldKey::new(""), &mut cx));
    });
    println!(
        "  sanitize {sanitize:?}, clone {clone:?}, clone+defaults {defaults:?}, validate {validate:?}, decode {decode:?}"
    );
}

#[test]
fn a_parameter_without_validations_accepts_anything() {
    let params: Parameters = [("free", plain()), ("n", param(ParameterType::Int, "", vec![]))].into_iter().collect();
    let config: crate::config::ConfigMap = [("free", "∀x"), ("n", "")].into_iter().collect();
    assert!(config.validate(&params).is_ok());
}

#[test]
fn field_keys_join_by_dots_and_find_nested_keys_longer_than_the_stack_buffer() {
    let root = FieldKey::new("");
    assert!(root.is_empty());
    let outer = root.join("outer");
    assert_eq!(outer.to_string(), "outer");
    let long = "x".repeat(100);
    let inner = outer.join(&long);
    let full = format!("outer.{long}");
    assert_eq!(inner.len(), full.len());
    assert_eq!(inner.to_string(), full);
    assert_eq!(String::from(&inner), full);
    let mut map: crate::config::ConfigMap =
        [(full.as_str(), "v"), ("outer.a.b", "w"), ("outerx", "z")].into_iter().collect();
    for indexed in [false, true] {
        if indexed {
            map.build_index();
        }
        let mut errors = crate::config::ConfigErrors::new();
        let cx = DecodeCx::new(&map, &mut errors);
        assert_eq!(cx.value(&inner), Some("v"));
        assert_eq!(cx.value(&outer.join("a").join("b")), Some("w"));
        assert_eq!(cx.value(&outer.join("a")), None);
        assert_eq!(cx.keys_under(&outer), ["outer.a.b", full.as_str()]);
        assert_eq!(cx.keys_under(&root).len(), 3);
    }
}
