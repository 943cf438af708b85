//! `Validate` (§1.6) as `from_config` runs it per field: unrecognized keys,
//! type checks, value validations, with Go's texts.

use std::collections::HashMap;
use std::path::PathBuf;
use std::time::Duration;

use super::{errors, messages};
use crate::config::{ErrorKind, Pattern, Problem, Validation};

#[derive(Debug, crate::Config)]
struct Empty {}

#[derive(Debug, crate::Config)]
struct Named {
    foo: String,
    batch_size: String,
}

#[test]
fn every_key_is_unrecognized_without_parameters() {
    let config = [("foo", "1"), ("bar.baz", "2")];
    assert_eq!(messages::<Empty>(&config), ["\"bar.baz\": unrecognized parameter", "\"foo\": unrecognized parameter"]);
    assert!(errors::<Empty>(&config).iter().all(|e| e.kind() == ErrorKind::Unrecognized));
}

#[test]
fn unknown_key_suggests_nearest_parameter() {
    assert_eq!(messages::<Named>(&[("fooo", "1")]), ["\"fooo\": unrecognized parameter (did you mean \"foo\"?)"]);
    assert_eq!(
        messages::<Named>(&[("batchsize", "1")]),
        ["\"batchsize\": unrecognized parameter (did you mean \"batchSize\"?)"]
    );
}

#[test]
fn unknown_key_without_similar_parameter_gets_no_hint() {
    assert_eq!(messages::<Named>(&[("zzzzzz", "1")]), ["\"zzzzzz\": unrecognized parameter"]);
}

#[test]
fn unrecognized_key_is_quoted_with_go_escapes() {
    assert_eq!(messages::<Empty>(&[("a\tb", "1")]), [r#""a\tb": unrecognized parameter"#]);
}

#[derive(Debug, crate::Config)]
struct Param2 {
    param2: String,
}

#[derive(Debug, crate::Config)]
struct Foos {
    foo: HashMap<String, Param2>,
}

#[test]
fn wildcard_recognition_is_exact_unlike_gos_prefix_match() {
    let config = [("foo.0.param2", "a"), ("foo.0.param2xyz", "b"), ("foo.0.param2.extra", "c"), ("foo", "d")];
    let errors = errors::<Foos>(&config);
    let keys: Vec<&str> = errors.iter().map(|e| e.key()).collect();
    assert_eq!(keys, ["foo", "foo.0.param2.extra", "foo.0.param2xyz"]);
    assert!(errors.iter().all(|e| e.kind() == ErrorKind::Unrecognized));
}

#[derive(Debug, crate::Config)]
struct Typed {
    i: i64,
    f: f64,
    d: Duration,
    b: bool,
}

#[test]
fn type_errors_use_gos_texts() {
    let config = [("i", "1.5"), ("f", "abc"), ("d", "5"), ("b", "yes")];
    assert_eq!(
        messages::<Typed>(&config),
        [
            r#"error validating "b": "yes" value is not a boolean: invalid parameter type"#,
            r#"error validating "d": "5" value is not a duration: invalid parameter type"#,
            r#"error validating "f": "abc" value is not a float: invalid parameter type"#,
            r#"error validating "i": "1.5" value is not an integer: invalid parameter type"#,
        ]
    );
    assert!(errors::<Typed>(&config).iter().all(|e| e.kind() == ErrorKind::InvalidType));
}

#[test]
fn type_checks_accept_go_syntax() {
    assert_eq!(
        messages::<Typed>(&[("i", "-42"), ("f", "0x1p-2"), ("d", "1h2m3.5s"), ("b", "T")]),
        Vec::<String>::new()
    );
}

#[test]
fn int_type_check_rejects_base_prefixes() {
    assert_eq!(
        messages::<Typed>(&[("i", "0x10")]),
        [r#"error validating "i": "0x10" value is not an integer: invalid parameter type"#]
    );
}

#[derive(Debug, crate::Config)]
struct Untyped {
    i: i64,
    s: String,
    #[param(file)]
    p: PathBuf,
}

#[test]
fn empty_values_pass_type_checks_and_strings_are_never_checked() {
    assert_eq!(messages::<Untyped>(&[("i", ""), ("s", "\u{0}anything"), ("p", "not a number")]), Vec::<String>::new());
}

#[derive(Debug, crate::Config)]
struct Limit {
    #[param(gt = 0, required)]
    limit: i64,
}

#[test]
fn type_failure_skips_the_parameters_validations() {
    assert_eq!(
        messages::<Limit>(&[("limit", "abc")]),
        [r#"error validating "limit": "abc" value is not an integer: invalid parameter type"#]
    );
}

#[derive(Debug, crate::Config)]
struct Mode {
    #[param(required, inclusion = ["a", "b"])]
    mode: String,
}

#[test]
fn required_and_empty_reports_every_failure() {
    let errors = errors::<Mode>(&[("mode", "")]);
    let texts: Vec<String> = errors.iter().map(ToString::to_string).collect();
    assert_eq!(
        texts,
        [
            r#"error validating "mode": required parameter is not provided"#,
            r#"error validating "mode": "" value must be included in the list [a,b]: inclusion validation failed"#,
        ]
    );
    let kinds: Vec<ErrorKind> = errors.iter().map(|e| e.kind()).collect();
    assert_eq!(kinds, [ErrorKind::Required, ErrorKind::Inclusion]);
    // An absent key is empty too.
    assert_eq!(messages::<Mode>(&[]), texts);
}

#[derive(Debug, crate::Config)]
struct Optional {
    #[param(gt = 0, inclusion = ["1"], exclusion = [""], regex = "^[0-9]+$")]
    n: i64,
}

#[test]
fn optional_and_empty_reports_nothing() {
    assert_eq!(messages::<Optional>(&[("n", "")]), Vec::<String>::new());
    assert_eq!(messages::<Optional>(&[]), Vec::<String>::new());
}

#[derive(Debug, crate::Config)]
struct Entry {
    #[param(required)]
    param1: String,
    other: String,
}

#[derive(Debug, crate::Config)]
struct Entries {
    foo: HashMap<String, Entry>,
}

#[test]
fn wildcard_required_applies_to_expanded_keys_only() {
    assert_eq!(
        messages::<Entries>(&[("foo.0.other", "a")]),
        [r#"error validating "foo.0.param1": required parameter is not provided"#]
    );
    assert_eq!(messages::<Entries>(&[]), Vec::<String>::new());
}

#[derive(Debug, crate::Config)]
struct MultiError {
    #[param(gt = 0, regex = "^[0-9]")]
    limit: i64,
    // Go's golden excludes `one`, which is also included: a compile error here.
    #[param(inclusion = ["one", "two", "three"], exclusion = ["five", "six"])]
    option: String,
    #[param(required)]
    name: String,
}

#[test]
fn multi_error_golden_gives_five_errors_sorted_by_key() {
    let errors = errors::<MultiError>(&[("limit", "-1"), ("option", "five")]);
    let texts: Vec<String> = errors.iter().map(ToString::to_string).collect();
    assert_eq!(
        texts,
        [
            r#"error validating "limit": "-1" should be greater than 0: greater-than validation failed"#,
            r#"error validating "limit": "-1" should match the regex "^[0-9]": regex validation failed"#,
            r#"error validating "name": required parameter is not provided"#,
            r#"error validating "option": "five" value must be included in the list [one,two,three]: inclusion validation failed"#,
            r#"error validating "option": "five" value must be excluded from the list [five,six]: exclusion validation failed"#,
        ]
    );
    let kinds: Vec<ErrorKind> = errors.iter().map(|e| e.kind()).collect();
    assert_eq!(
        kinds,
        [ErrorKind::GreaterThan, ErrorKind::Regex, ErrorKind::Required, ErrorKind::Inclusion, ErrorKind::Exclusion]
    );
    assert_eq!(errors.to_string(), texts.join("\n"));
}

#[derive(Debug, crate::Config)]
struct InEx {
    #[param(name = "in", inclusion = ["one"])]
    included: String,
    #[param(name = "ex", exclusion = ["one"])]
    excluded: String,
}

#[test]
fn inclusion_and_exclusion_are_case_sensitive() {
    assert_eq!(
        messages::<InEx>(&[("in", "One"), ("ex", "ONE")]),
        [r#"error validating "in": "One" value must be included in the list [one]: inclusion validation failed"#]
    );
}

#[derive(Debug, crate::Config)]
struct Bounds {
    #[param(gt = 100)]
    gt: f64,
    #[param(lt = 100)]
    lt: f64,
    #[param(gt = 0)]
    inf: f64,
    #[param(lt = 0)]
    ninf: f64,
}

#[test]
fn greater_and_less_than_parse_values_as_go_floats() {
    assert_eq!(
        messages::<Bounds>(&[("gt", "1e3"), ("lt", "1e3"), ("inf", "Inf"), ("ninf", "-inf")]),
        [r#"error validating "lt": "1e3" should be less than 100: less-than validation failed"#]
    );
}

#[derive(Debug, crate::Config)]
struct Strict {
    #[param(gt = 1.5)]
    gt: f64,
    #[param(lt = -1)]
    lt: f64,
}

#[test]
fn greater_and_less_than_are_strict_and_fail_on_nan() {
    assert_eq!(
        messages::<Strict>(&[("gt", "1.5"), ("lt", "NaN")]),
        [
            r#"error validating "gt": "1.5" should be greater than 1.5: greater-than validation failed"#,
            r#"error validating "lt": "NaN" should be less than -1: less-than validation failed"#,
        ]
    );
}

#[derive(Debug, crate::Config)]
struct Huge {
    #[param(gt = 1e21)]
    n: f64,
}

#[test]
fn bounds_in_messages_use_go_f_formatting() {
    assert_eq!(
        messages::<Huge>(&[("n", "5")]),
        [r#"error validating "n": "5" should be greater than 1000000000000000000000: greater-than validation failed"#]
    );
}

#[test]
fn comparison_of_a_non_number_is_an_invalid_value() {
    // A field's type check runs first and `gt`/`lt` need a numeric field, so only a
    // hand-made validation meets a non-number.
    let problem = Validation::LessThan(3.0).failure("abc", &mut None).unwrap();
    assert_eq!(problem, Problem::NotANumber { value: "abc".into() });
    assert_eq!(problem.kind(), ErrorKind::InvalidValue);
    let error = crate::config::ConfigError::new("s", problem);
    assert_eq!(error.to_string(), r#"error validating "s": "abc" value should be a number: invalid parameter value"#);
}

#[derive(Debug, crate::Config)]
struct Digit {
    #[param(regex = "[0-9]")]
    r: String,
}

#[test]
fn regex_matches_unanchored() {
    assert_eq!(messages::<Digit>(&[("r", "a1b")]), Vec::<String>::new());
    assert_eq!(
        messages::<Digit>(&[("r", "a\u{1}b")]),
        [r#"error validating "r": "a\x01b" should match the regex "[0-9]": regex validation failed"#]
    );
}

#[test]
fn invalid_regex_reports_that_the_pattern_is_invalid() {
    // The derive rejects an invalid regex at compile time; a hand-made parameter can hold one.
    let problem = Validation::Regex(Pattern::new("(")).failure("x", &mut None).unwrap();
    assert_eq!(problem.kind(), ErrorKind::Regex);
    assert_eq!(
        crate::config::ConfigError::new("r", problem).to_string(),
        r#"error validating "r": "x" cannot be checked: the regex "(" is invalid (found open group without closing ')'): regex validation failed"#
    );
}

#[derive(Debug, crate::Config)]
struct Wild {
    #[param(gt = 5)]
    m: HashMap<String, i64>,
}

#[test]
fn each_wildcard_key_is_checked_on_its_own() {
    // Go skips the validations of every key of a wildcard parameter once one key has a type
    // error; each entry of a map field is checked on its own, so every problem is reported.
    assert_eq!(
        messages::<Wild>(&[("m.a", "x"), ("m.b", "1")]),
        [
            r#"error validating "m.a": "x" value is not an integer: invalid parameter type"#,
            r#"error validating "m.b": "1" should be greater than 5: greater-than validation failed"#,
        ]
    );
    assert_eq!(
        messages::<Wild>(&[("m.a", "9"), ("m.b", "1")]),
        [r#"error validating "m.b": "1" should be greater than 5: greater-than validation failed"#]
    );
}

#[derive(Debug, crate::Config)]
struct Sorted {
    b: i64,
    d: String,
}

#[test]
fn errors_are_sorted_by_key_with_unrecognized_keys_among_them() {
    let errors = errors::<Sorted>(&[("a", "1"), ("b", "x"), ("c", "1")]);
    let keys: Vec<&str> = errors.iter().map(|e| e.key()).collect();
    assert_eq!(keys, ["a", "b", "c"]);
}

#[derive(Debug, crate::Config)]
struct WithData {
    #[param(gt = 0)]
    batch_size: i64,
    #[param(inclusion = ["raw", "json"])]
    format: String,
    #[param(regex = "^[a-z]+$")]
    name: String,
}

#[test]
fn errors_carry_the_data_their_text_is_rendered_from() {
    let errors = errors::<WithData>(&[("batchSize", "0"), ("format", "xml"), ("name", "A"), ("formt", "x")]);
    let problems: Vec<(&str, &Problem)> = errors.iter().map(|e| (e.key(), e.problem())).collect();
    let list = |items: &[&str]| items.iter().map(|s| (*s).to_owned()).collect::<Vec<_>>();
    assert_eq!(
        problems,
        [
            ("batchSize", &Problem::GreaterThan { value: "0".into(), bound: 0.0 }),
            ("format", &Problem::Inclusion { value: "xml".into(), allowed: list(&["raw", "json"]) }),
            ("formt", &Problem::Unrecognized { suggestion: Some("format".into()) }),
            ("name", &Problem::Regex { value: "A".into(), pattern: "^[a-z]+$".into(), invalid_pattern: None }),
        ]
    );
    assert_eq!(errors.iter().next().unwrap().kind(), ErrorKind::GreaterThan);
    assert_eq!(
        errors.iter().map(ToString::to_string).collect::<Vec<_>>(),
        [
            r#"error validating "batchSize": "0" should be greater than 0: greater-than validation failed"#,
            r#"error validating "format": "xml" value must be included in the list [raw,json]: inclusion validation failed"#,
            r#""formt": unrecognized parameter (did you mean "format"?)"#,
            r#"error validating "name": "A" should match the regex "^[a-z]+$": regex validation failed"#,
        ]
    );
}
