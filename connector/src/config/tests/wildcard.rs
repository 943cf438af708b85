//! Wildcard expansion (§1.4a), sanitizing (§1.3) and ApplyDefaults (§1.5).

use super::{map, param, params, plain};
use crate::config::{ConfigMap, ErrorKind, ParameterType, expand_keys};

/// The 14 config keys of Go's `TestConfig_getValuesForParameter`.
fn golden_config() -> ConfigMap {
    [
        "ignore",
        "ignore.foo.this",
        "test.foo.val",
        "test.foo.format.baz.type",
        "test.foo.format.baz.options",
        "test.foo.format.qux.type",
        "test.foo.format.qux.options",
        "test.bar.val",
        "test.bar.format.baz.type",
        "test.bar.format.baz.options",
        "test.bar.format.qux.type",
        "test.bar.format.qux.options",
        "test.include.me",
        "test.ignore",
    ]
    .into_iter()
    .map(|k| (k, "x"))
    .collect()
}

fn sorted(keys: &[&str]) -> Vec<String> {
    let mut v: Vec<String> = keys.iter().map(|s| (*s).to_owned()).collect();
    v.sort();
    v
}

#[test]
fn expand_keys_matches_gos_golden_table() {
    let config = golden_config();
    assert_eq!(config.len(), 14);
    let all: Vec<&str> = config.iter().map(|(k, _)| k).collect();
    let test_keys: Vec<&str> = all.iter().copied().filter(|k| k.starts_with("test.")).collect();
    assert_eq!(test_keys.len(), 12);
    let format_keys: Vec<&str> = all.iter().copied().filter(|k| k.contains(".format.")).collect();
    let type_keys: Vec<&str> = format_keys.iter().copied().filter(|k| k.ends_with(".type")).collect();
    let options_keys: Vec<&str> = format_keys.iter().copied().filter(|k| k.ends_with(".options")).collect();
    let foo_keys: Vec<&str> =
        all.iter().copied().filter(|k| *k == "ignore.foo.this" || k.starts_with("test.foo.")).collect();

    let table: Vec<(&str, Vec<String>)> = vec![
        ("test.foo.val", sorted(&["test.foo.val"])),
        ("blah", sorted(&["blah"])),
        ("test.*.blah", sorted(&["test.foo.blah", "test.bar.blah", "test.include.blah"])),
        ("test.*", sorted(&test_keys)),
        ("test.*.val", sorted(&["test.foo.val", "test.bar.val", "test.include.val"])),
        ("test.*.format.*", sorted(&format_keys)),
        ("test.*.format.*.type", sorted(&type_keys)),
        ("test.*.format.*.options", sorted(&options_keys)),
        ("*", sorted(&all)),
        ("*.foo.*", sorted(&foo_keys)),
    ];
    assert_eq!(format_keys.len(), 8);
    assert_eq!(type_keys.len(), 4);
    assert_eq!(options_keys.len(), 4);
    assert_eq!(foo_keys.len(), 6);
    for (pattern, want) in table {
        assert_eq!(expand_keys(pattern, &config), want, "expand_keys({pattern:?})");
    }
}

#[test]
fn expand_keys_needs_a_nested_segment_for_a_non_empty_last_token() {
    let config = map([("collection.foo", "1"), ("collection.bar.x", "2")]);
    assert_eq!(expand_keys("collection.*.format", &config), ["collection.bar.format"]);
}

#[test]
fn expand_keys_of_an_empty_map_is_empty_for_wildcards() {
    assert!(expand_keys("a.*", &ConfigMap::new()).is_empty());
    assert_eq!(expand_keys("a", &ConfigMap::new()), ["a"]);
}

#[test]
fn sanitize_trims_keys_and_values() {
    let (config, errors) = ConfigMap::sanitized([("   key   ", "   value   ")]);
    assert!(errors.is_empty());
    assert_eq!(config, map([("key", "value")]));

    let (empty, errors) = ConfigMap::sanitized(Vec::<(&str, &str)>::new());
    assert!(empty.is_empty() && errors.is_empty());
}

#[test]
fn sanitize_trims_unicode_white_space_like_go_trim_space() {
    let (config, _) = ConfigMap::sanitized([
        ("\u{a0}a\u{3000}", "\u{85}\t1\u{2028}"),
        ("\u{200b}b", "\u{feff}2"),
        ("\u{1680}c\u{205f}", "\u{2000}\u{200a}3\u{202f}"),
    ]);
    assert_eq!(config.get("a"), Some("1"));
    // Zero-width space and BOM are not White_Space, in Go or Rust.
    assert_eq!(config.get("\u{200b}b"), Some("\u{feff}2"));
    assert_eq!(config.get("c"), Some("3"));
}

#[test]
fn sanitize_reports_keys_that_collide_after_trimming_once() {
    let (config, errors) = ConfigMap::sanitized([(" a", "1"), ("a ", "2"), ("  a  ", "3"), ("b", "4")]);
    assert_eq!(errors.len(), 1);
    let error = errors.iter().next().unwrap();
    assert_eq!(error.key(), "a");
    assert_eq!(error.kind(), ErrorKind::InvalidValue);
    assert_eq!(
        error.to_string(),
        "error validating \"a\": the key is given more than once (keys differ only in surrounding whitespace): \
         invalid parameter value"
    );
    // Neither raw key was trimmed: the smallest raw key wins, whatever the order.
    assert_eq!(config.get("a"), Some("3"));
    let (reordered, _) = ConfigMap::sanitized([("a ", "2"), ("  a  ", "3"), (" a", "1")]);
    assert_eq!(reordered.get("a"), Some("3"));
}

#[test]
fn sanitize_keeps_the_value_of_the_already_trimmed_key() {
    for entries in [[("a", "exact"), (" a", "x"), ("a  ", "y")], [(" a", "x"), ("a", "exact"), ("a  ", "y")]] {
        let (config, errors) = ConfigMap::sanitized(entries);
        assert_eq!(config.get("a"), Some("exact"));
        assert_eq!(errors.len(), 1);
    }
}

fn defaults_params() -> crate::config::Parameters {
    params([
        ("limit", param(ParameterType::Int, "1", vec![])),
        ("foo.*.param1", param(ParameterType::String, "foo", vec![])),
        ("foo.*.param2", plain()),
    ])
}

#[test]
fn apply_defaults_matches_gos_golden_table() {
    let table: Vec<(ConfigMap, ConfigMap)> = vec![
        (ConfigMap::new(), map([("limit", "1")])),
        (map([("foo.0.param2", "bar")]), map([("limit", "1"), ("foo.0.param1", "foo"), ("foo.0.param2", "bar")])),
        (map([("limit", "-1"), ("foo.0.param1", "custom")]), map([("limit", "-1"), ("foo.0.param1", "custom")])),
        (
            map([
                ("limit", "-1"),
                ("foo.0.param1", "parameter"),
                ("foo.1.param2", "custom"),
                ("foo.2.does-not-exist", "x"),
            ]),
            map([
                ("limit", "-1"),
                ("foo.0.param1", "parameter"),
                ("foo.1.param1", "foo"),
                ("foo.1.param2", "custom"),
                ("foo.2.param1", "foo"),
                ("foo.2.does-not-exist", "x"),
            ]),
        ),
    ];
    let params = defaults_params();
    for (mut input, want) in table {
        input.apply_defaults(&params);
        assert_eq!(input, want);
    }
}

#[test]
fn apply_defaults_replaces_blank_values() {
    let mut config = map([("limit", "  "), ("foo.0.param1", "")]);
    config.apply_defaults(&defaults_params());
    assert_eq!(config, map([("limit", "1"), ("foo.0.param1", "foo")]));
}

#[test]
fn apply_defaults_of_a_trailing_wildcard_fills_only_existing_empty_keys() {
    let params = params([("m.*", param(ParameterType::String, "d", vec![]))]);
    let mut config = map([("m.a", ""), ("m.b", "x"), ("other", "")]);
    config.apply_defaults(&params);
    assert_eq!(config, map([("m.a", "d"), ("m.b", "x"), ("other", "")]));

    let mut empty = ConfigMap::new();
    empty.apply_defaults(&params);
    assert!(empty.is_empty());
}

#[test]
fn apply_defaults_of_star_fills_every_empty_key() {
    let params = params([("*", param(ParameterType::String, "z", vec![]))]);
    let mut config = map([("a", ""), ("b", "x"), ("c.d", " ")]);
    config.apply_defaults(&params);
    assert_eq!(config, map([("a", "z"), ("b", "x"), ("c.d", "z")]));
}

#[test]
fn apply_defaults_lets_wildcards_see_keys_created_by_concrete_defaults() {
    let params = params([
        ("foo.0.b", param(ParameterType::String, "y", vec![])),
        ("foo.*.a", param(ParameterType::String, "x", vec![])),
    ]);
    let mut config = ConfigMap::new();
    config.apply_defaults(&params);
    assert_eq!(config, map([("foo.0.a", "x"), ("foo.0.b", "y")]));
}
