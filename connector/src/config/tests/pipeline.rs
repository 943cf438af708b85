//! `from_config`: trim, then one pass over the fields (default, type check,
//! validations, parse), then unrecognized keys.

use std::time::Duration;

use super::messages;
use crate::config::field::FieldKey;
use crate::config::field_support::from_config;
use crate::config::{ConfigError, ConfigField, DecodeCx, ErrorKind, FieldKind, Parameter, ParameterType, Parameters};

#[derive(Debug, PartialEq, crate::Config)]
struct Simple {
    #[param(default = 10, gt = 0)]
    limit: u8,
    #[param(required)]
    name: String,
    #[param(default = "1s")]
    every: Duration,
}

fn simple_params() -> Parameters {
    <Simple as crate::Config>::parameters()
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
    fn describe(_key: &str, _param: &Parameter, _out: &mut Parameters) {}
    fn decode(_key: &FieldKey<'_>, _param: &Parameter, _cx: &mut DecodeCx<'_>) -> Option<Self> {
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
    fn describe(_key: &str, _param: &Parameter, _out: &mut Parameters) {}
    fn decode(key: &FieldKey<'_>, _param: &Parameter, cx: &mut DecodeCx<'_>) -> Option<Self> {
        cx.hook_errors(key, ConfigError::custom("x", "bad").into());
        Some(Hooked)
    }
}

#[test]
fn errors_reported_during_decoding_fail_the_pipeline() {
    let errors = from_config::<Hooked>(Vec::<(&str, &str)>::new(), &Parameters::new()).unwrap_err();
    assert_eq!(errors.to_string(), r#"error validating "x": bad"#);
}

#[test]
fn one_parameter_per_field_drives_spec_and_parse() {
    // The parameter the parse uses is the one the spec shows.
    let params = simple_params();
    let limit = params.get("limit").unwrap();
    assert_eq!(limit.default, "10");
    assert_eq!(limit.ty, ParameterType::Int);
    assert!(params.get("name").unwrap().is_required());
    let got: Simple = from_config([("name", "x")], &params).unwrap();
    assert_eq!(got.limit, 10);
}

#[derive(Debug, crate::Config)]
struct Free {
    free: String,
    n: i64,
}

#[test]
fn a_parameter_without_validations_accepts_anything() {
    assert_eq!(messages::<Free>(&[("free", "∀x"), ("n", "")]), Vec::<String>::new());
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
    let map: crate::config::ConfigMap =
        [(full.as_str(), "v"), ("outer.a.b", "w"), ("outerx", "z")].into_iter().collect();
    let mut errors = crate::config::ConfigErrors::new();
    let cx = DecodeCx::new(&map, &mut errors);
    assert_eq!(cx.value(&inner), Some("v"));
    assert_eq!(cx.value(&outer.join("a").join("b")), Some("w"));
    assert_eq!(cx.value(&outer.join("a")), None);
    assert_eq!(cx.keys_under(&outer), ["outer.a.b", full.as_str()]);
    assert_eq!(cx.keys_under(&root).len(), 3);
}

#[test]
fn parameter_type_names_round_trip() {
    use ParameterType::*;
    let names: Vec<&str> = [String, Int, Float, Bool, File, Duration].iter().map(|t| t.as_str()).collect();
    assert_eq!(names, ["string", "int", "float", "bool", "file", "duration"]);
    for ty in [String, Int, Float, Bool, File, Duration] {
        assert_eq!(ParameterType::from_name(ty.as_str()), Some(ty));
    }
    assert_eq!(ParameterType::from_name("integer"), None);
}
