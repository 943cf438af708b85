//! `Validate` (§1.6): unrecognized keys, type checks, value validations.

use super::{list, map, messages, param, params, plain, regex};
use crate::config::{ErrorKind, ParameterType, Parameters, Validation};

#[test]
fn every_key_is_unrecognized_without_parameters() {
    let config = map([("foo", "1"), ("bar.baz", "2")]);
    assert_eq!(
        messages(&config, &Parameters::new()),
        ["\"bar.baz\": unrecognized parameter", "\"foo\": unrecognized parameter"]
    );
    let errors = config.validate(&Parameters::new()).unwrap_err();
    assert!(errors.iter().all(|e| e.kind() == ErrorKind::Unrecognized));
}

#[test]
fn unknown_key_suggests_nearest_parameter() {
    let params = params([("foo", plain()), ("batchSize", plain())]);
    assert_eq!(messages(&map([("fooo", "1")]), &params), ["\"fooo\": unrecognized parameter (did you mean \"foo\"?)"]);
    assert_eq!(
        messages(&map([("batchsize", "1")]), &params),
        ["\"batchsize\": unrecognized parameter (did you mean \"batchSize\"?)"]
    );
}

#[test]
fn unknown_key_without_similar_parameter_gets_no_hint() {
    let params = params([("foo", plain())]);
    assert_eq!(messages(&map([("zzzzzz", "1")]), &params), ["\"zzzzzz\": unrecognized parameter"]);
}

#[test]
fn unrecognized_key_is_quoted_with_go_escapes() {
    assert_eq!(messages(&map([("a\tb", "1")]), &Parameters::new()), [r#""a\tb": unrecognized parameter"#]);
}

#[test]
fn wildcard_recognition_is_exact_unlike_gos_prefix_match() {
    let params = params([("foo.*.param2", plain())]);
    let config = map([("foo.0.param2", "a"), ("foo.0.param2xyz", "b"), ("foo.0.param2.extra", "c"), ("foo", "d")]);
    let errors = config.validate(&params).unwrap_err();
    let keys: Vec<&str> = errors.iter().map(|e| e.key()).collect();
    assert_eq!(keys, ["foo", "foo.0.param2.extra", "foo.0.param2xyz"]);
    assert!(errors.iter().all(|e| e.kind() == ErrorKind::Unrecognized));
}

#[test]
fn type_errors_use_gos_texts() {
    let params = params([
        ("i", param(ParameterType::Int, "", vec![])),
        ("f", param(ParameterType::Float, "", vec![])),
        ("d", param(ParameterType::Duration, "", vec![])),
        ("b", param(ParameterType::Bool, "", vec![])),
    ]);
    let config = map([("i", "1.5"), ("f", "abc"), ("d", "5"), ("b", "yes")]);
    assert_eq!(
        messages(&config, &params),
        [
            r#"error validating "b": "yes" value is not a boolean: invalid parameter type"#,
            r#"error validating "d": "5" value is not a duration: invalid parameter type"#,
            r#"error validating "f": "abc" value is not a float: invalid parameter type"#,
            r#"error validating "i": "1.5" value is not an integer: invalid parameter type"#,
        ]
    );
    let errors = config.validate(&params).unwrap_err();
    assert!(errors.iter().all(|e| e.kind() == ErrorKind::InvalidType));
}

#[test]
fn type_checks_accept_go_syntax() {
    let params = params([
        ("i", param(ParameterType::Int, "", vec![])),
        ("f", param(ParameterType::Float, "", vec![])),
        ("d", param(ParameterType::Duration, "", vec![])),
        ("b", param(ParameterType::Bool, "", vec![])),
    ]);
    let config = map([("i", "-42"), ("f", "0x1p-2"), ("d", "1h2m3.5s"), ("b", "T")]);
    assert_eq!(messages(&config, &params), Vec::<String>::new());
}

#[test]
fn int_type_check_rejects_base_prefixes() {
    let params = params([("i", param(ParameterType::Int, "", vec![]))]);
    assert_eq!(
        messages(&map([("i", "0x10")]), &params),
        [r#"error validating "i": "0x10" value is not an integer: invalid parameter type"#]
    );
}

#[test]
fn int_type_check_keeps_gos_int64_range_for_untyped_parameters() {
    // `ConfigMap::validate` is conduit-commons' `Validate`: no Rust type,
    // so `Atoi`'s range. (Typed fields accept their own range, u64 included.)
    let params = params([("i", param(ParameterType::Int, "", vec![]))]);
    assert_eq!(
        messages(&map([("i", "18446744073709551615")]), &params),
        [r#"error validating "i": "18446744073709551615" value is not an integer: invalid parameter type"#]
    );
}

#[test]
fn empty_values_pass_type_checks_and_strings_are_never_checked() {
    let params = params([
        ("i", param(ParameterType::Int, "", vec![])),
        ("s", param(ParameterType::String, "", vec![])),
        ("p", param(ParameterType::File, "", vec![])),
    ]);
    let config = map([("i", ""), ("s", "\u{0}anything"), ("p", "not a number")]);
    assert_eq!(messages(&config, &params), Vec::<String>::new());
}

#[test]
fn type_failure_skips_the_parameters_validations() {
    let params =
        params([("limit", param(ParameterType::Int, "", vec![Validation::GreaterThan(0.0), Validation::Required]))]);
    assert_eq!(
        messages(&map([("limit", "abc")]), &params),
        [r#"error validating "limit": "abc" value is not an integer: invalid parameter type"#]
    );
}

#[test]
fn required_and_empty_reports_every_failure() {
    let params = params([(
        "mode",
        param(ParameterType::String, "", vec![Validation::Required, Validation::Inclusion(list(&["a", "b"]))]),
    )]);
    let errors = map([("mode", "")]).validate(&params).unwrap_err();
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
    assert_eq!(messages(&map([]), &params), texts);
}

#[test]
fn optional_and_empty_reports_nothing() {
    let params = params([(
        "n",
        param(
            ParameterType::Int,
            "",
            vec![
                Validation::GreaterThan(0.0),
                Validation::Inclusion(list(&["1"])),
                Validation::Exclusion(list(&[""])),
                regex("^[0-9]+$"),
            ],
        ),
    )]);
    assert_eq!(messages(&map([("n", "")]), &params), Vec::<String>::new());
    assert_eq!(messages(&map([]), &params), Vec::<String>::new());
}

#[test]
fn wildcard_required_applies_to_expanded_keys_only() {
    let params = params([
        ("foo.*.param1", param(ParameterType::String, "", vec![Validation::Required])),
        ("foo.*.other", plain()),
    ]);
    assert_eq!(
        messages(&map([("foo.0.other", "a")]), &params),
        [r#"error validating "foo.0.param1": required parameter is not provided"#]
    );
    assert_eq!(messages(&map([]), &params), Vec::<String>::new());
}

#[test]
fn multi_error_golden_gives_five_errors_sorted_by_key() {
    let params = params([
        ("limit", param(ParameterType::Int, "", vec![Validation::GreaterThan(0.0), regex("^[0-9]")])),
        (
            "option",
            param(
                ParameterType::String,
                "",
                vec![
                    Validation::Inclusion(list(&["one", "two", "three"])),
                    Validation::Exclusion(list(&["one", "five"])),
                ],
            ),
        ),
        ("name", param(ParameterType::String, "", vec![Validation::Required])),
    ]);
    let errors = map([("limit", "-1"), ("option", "five")]).validate(&params).unwrap_err();
    let texts: Vec<String> = errors.iter().map(ToString::to_string).collect();
    assert_eq!(
        texts,
        [
            r#"error validating "limit": "-1" should be greater than 0: greater-than validation failed"#,
            r#"error validating "limit": "-1" should match the regex "^[0-9]": regex validation failed"#,
            r#"error validating "name": required parameter is not provided"#,
            r#"error validating "option": "five" value must be included in the list [one,two,three]: inclusion validation failed"#,
            r#"error validating "option": "five" value must be excluded from the list [one,five]: exclusion validation failed"#,
        ]
    );
    let kinds: Vec<ErrorKind> = errors.iter().map(|e| e.kind()).collect();
    assert_eq!(
        kinds,
        [ErrorKind::GreaterThan, ErrorKind::Regex, ErrorKind::Required, ErrorKind::Inclusion, ErrorKind::Exclusion]
    );
    assert_eq!(errors.to_string(), texts.join("\n"));
}

#[test]
fn inclusion_and_exclusion_are_case_sensitive() {
    let params = params([
        ("in", param(ParameterType::String, "", vec![Validation::Inclusion(list(&["one"]))])),
        ("ex", param(ParameterType::String, "", vec![Validation::Exclusion(list(&["one"]))])),
    ]);
    assert_eq!(
        messages(&map([("in", "One"), ("ex", "ONE")]), &params),
        [r#"error validating "in": "One" value must be included in the list [one]: inclusion validation failed"#]
    );
}

#[test]
fn greater_and_less_than_parse_values_as_go_floats() {
    let params = params([
        ("gt", param(ParameterType::String, "", vec![Validation::GreaterThan(100.0)])),
        ("lt", param(ParameterType::String, "", vec![Validation::LessThan(100.0)])),
        ("inf", param(ParameterType::Float, "", vec![Validation::GreaterThan(0.0)])),
        ("ninf", param(ParameterType::Float, "", vec![Validation::LessThan(0.0)])),
    ]);
    let config = map([("gt", "1e3"), ("lt", "1e3"), ("inf", "Inf"), ("ninf", "-inf")]);
    assert_eq!(
        messages(&config, &params),
        [r#"error validating "lt": "1e3" should be less than 100: less-than validation failed"#]
    );
}

#[test]
fn greater_and_less_than_are_strict_and_fail_on_nan() {
    let params = params([
        ("gt", param(ParameterType::Float, "", vec![Validation::GreaterThan(1.5)])),
        ("lt", param(ParameterType::Float, "", vec![Validation::LessThan(-1.0)])),
    ]);
    assert_eq!(
        messages(&map([("gt", "1.5"), ("lt", "NaN")]), &params),
        [
            r#"error validating "gt": "1.5" should be greater than 1.5: greater-than validation failed"#,
            r#"error validating "lt": "NaN" should be less than -1: less-than validation failed"#,
        ]
    );
}

#[test]
fn bounds_in_messages_use_go_f_formatting() {
    let params = params([("n", param(ParameterType::Float, "", vec![Validation::GreaterThan(1e21)]))]);
    assert_eq!(
        messages(&map([("n", "5")]), &params),
        [r#"error validating "n": "5" should be greater than 1000000000000000000000: greater-than validation failed"#]
    );
}

#[test]
fn comparison_of_a_non_number_is_an_invalid_value() {
    let params = params([("s", param(ParameterType::String, "", vec![Validation::LessThan(3.0)]))]);
    let errors = map([("s", "abc")]).validate(&params).unwrap_err();
    let error = errors.iter().next().unwrap();
    assert_eq!(error.kind(), ErrorKind::InvalidValue);
    assert_eq!(error.to_string(), r#"error validating "s": "abc" value should be a number: invalid parameter value"#);
}

#[test]
fn regex_matches_unanchored() {
    let params = params([("r", param(ParameterType::String, "", vec![regex("[0-9]")]))]);
    assert_eq!(messages(&map([("r", "a1b")]), &params), Vec::<String>::new());
    assert_eq!(
        messages(&map([("r", "ab\n")]), &params),
        [r#"error validating "r": "ab\n" should match the regex "[0-9]": regex validation failed"#]
    );
}

#[test]
fn invalid_regex_reports_that_the_pattern_is_invalid() {
    let params = params([("r", param(ParameterType::String, "", vec![regex("(")]))]);
    let errors = map([("r", "x")]).validate(&params).unwrap_err();
    let error = errors.iter().next().unwrap();
    assert_eq!(error.kind(), ErrorKind::Regex);
    assert_eq!(
        error.to_string(),
        r#"error validating "r": "x" cannot be checked: the regex "(" is invalid: regex validation failed"#
    );
}

#[test]
fn wildcard_type_failure_skips_validations_of_all_its_keys() {
    let params = params([("m.*", param(ParameterType::Int, "", vec![Validation::GreaterThan(5.0)]))]);
    assert_eq!(
        messages(&map([("m.a", "x"), ("m.b", "1")]), &params),
        [r#"error validating "m.a": "x" value is not an integer: invalid parameter type"#]
    );
    assert_eq!(
        messages(&map([("m.a", "9"), ("m.b", "1")]), &params),
        [r#"error validating "m.b": "1" should be greater than 5: greater-than validation failed"#]
    );
}

#[test]
fn errors_are_sorted_by_key_with_unrecognized_keys_among_them() {
    let params = params([("b", param(ParameterType::Int, "", vec![])), ("d", plain())]);
    let errors = map([("a", "1"), ("b", "x"), ("c", "1")]).validate(&params).unwrap_err();
    let keys: Vec<&str> = errors.iter().map(|e| e.key()).collect();
    assert_eq!(keys, ["a", "b", "c"]);
}

#[test]
fn errors_carry_the_data_their_text_is_rendered_from() {
    use crate::config::Problem;
    let params = params([
        ("batchSize", param(ParameterType::Int, "", vec![Validation::GreaterThan(0.0)])),
        ("format", param(ParameterType::String, "", vec![Validation::Inclusion(list(&["raw", "json"]))])),
        ("name", param(ParameterType::String, "", vec![regex("^[a-z]+$")])),
    ]);
    let errors =
        map([("batchSize", "0"), ("format", "xml"), ("name", "A"), ("formt", "x")]).validate(&params).unwrap_err();
    let problems: Vec<(&str, &Problem)> = errors.iter().map(|e| (e.key(), e.problem())).collect();
    assert_eq!(
        problems,
        [
            ("batchSize", &Problem::GreaterThan { value: "0".into(), bound: 0.0 }),
            ("format", &Problem::Inclusion { value: "xml".into(), allowed: list(&["raw", "json"]) }),
            ("formt", &Problem::Unrecognized { suggestion: Some("format".into()) }),
            ("name", &Problem::Regex { value: "A".into(), pattern: "^[a-z]+$".into(), invalid_pattern: false }),
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
