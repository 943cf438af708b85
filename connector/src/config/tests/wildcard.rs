//! Wildcard parameters (§1.4a) as map fields, sanitizing (§1.3) and defaults
//! (§1.5, wildcards included).

use std::collections::{BTreeMap, HashMap};

use super::{errors, messages};
use crate::config::{Config, ConfigMap, ErrorKind};

#[derive(Debug, PartialEq, crate::Config)]
struct Format {
    r#type: String,
    options: String,
}

#[derive(Debug, PartialEq, crate::Config)]
struct Collection {
    val: String,
    format: BTreeMap<String, Format>,
}

#[derive(Debug, crate::Config)]
struct Golden {
    test: BTreeMap<String, Collection>,
}

/// The 14 config keys of Go's `TestConfig_getValuesForParameter`.
const GOLDEN_KEYS: [&str; 14] = [
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
];

#[test]
fn wildcard_parameters_take_the_keys_of_gos_golden_table() {
    // `test.*.val` and `test.*.format.*.type|options` take their keys; the others are
    // unrecognized (Go's prefix match would take `test.include.me` for `test.*`).
    let config: Vec<(&str, &str)> = GOLDEN_KEYS.iter().map(|k| (*k, "x")).collect();
    let errors = errors::<Golden>(&config);
    let keys: Vec<&str> = errors.iter().map(|e| e.key()).collect();
    assert_eq!(keys, ["ignore", "ignore.foo.this", "test.ignore", "test.include.me"]);
    assert!(errors.iter().all(|e| e.kind() == ErrorKind::Unrecognized));
    let taken: Vec<(&str, &str)> = config.iter().copied().filter(|(k, _)| !keys.contains(k)).collect();
    let golden = Golden::from_config(&taken).unwrap();
    let format = |t: &str| Format { r#type: t.into(), options: t.into() };
    let formats: BTreeMap<String, Format> = [("baz".into(), format("x")), ("qux".into(), format("x"))].into();
    assert_eq!(golden.test.keys().collect::<Vec<_>>(), ["bar", "foo"]);
    assert!(golden.test.values().all(|c| c.val == "x" && c.format == formats));
}

#[test]
fn a_map_of_configs_needs_a_nested_segment() {
    assert_eq!(
        messages::<Golden>(&[("test.bar.val", "1"), ("test.bar", "2")]),
        [r#""test.bar": unrecognized parameter (did you mean "test.*.val"?)"#]
    );
}

#[test]
fn sanitize_trims_keys_and_values() {
    let (config, errors) = ConfigMap::sanitized([("   key   ", "   value   ")]);
    assert!(errors.is_empty());
    assert_eq!(config, [("key", "value")].into_iter().collect());

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

#[derive(Debug, PartialEq, crate::Config)]
struct FooEntry {
    #[param(default = "foo")]
    param1: String,
    param2: String,
}

#[derive(Debug, PartialEq, crate::Config)]
struct Defaults {
    #[param(default = 1)]
    limit: i64,
    foo: BTreeMap<String, FooEntry>,
}

fn entry(param1: &str, param2: &str) -> FooEntry {
    FooEntry { param1: param1.into(), param2: param2.into() }
}

#[test]
fn defaults_match_gos_apply_defaults_golden_table() {
    let table: Vec<(Vec<(&str, &str)>, Defaults)> = vec![
        (vec![], Defaults { limit: 1, foo: BTreeMap::new() }),
        (vec![("foo.0.param2", "bar")], Defaults { limit: 1, foo: [("0".into(), entry("foo", "bar"))].into() }),
        (
            vec![("limit", "-1"), ("foo.0.param1", "custom")],
            Defaults { limit: -1, foo: [("0".into(), entry("custom", ""))].into() },
        ),
        (
            vec![("limit", "-1"), ("foo.0.param1", "parameter"), ("foo.1.param2", "custom")],
            Defaults {
                limit: -1,
                foo: [("0".into(), entry("parameter", "")), ("1".into(), entry("foo", "custom"))].into(),
            },
        ),
    ];
    for (input, want) in table {
        assert_eq!(Defaults::from_config(&input).unwrap(), want, "{input:?}");
    }
}

#[test]
fn defaults_replace_blank_values() {
    let got = Defaults::from_config([("limit", "  "), ("foo.0.param1", "")]).unwrap();
    assert_eq!(got, Defaults { limit: 1, foo: [("0".into(), entry("foo", ""))].into() });
}

#[derive(Debug, PartialEq, crate::Config)]
struct Trailing {
    #[param(default = "d")]
    m: HashMap<String, String>,
}

#[test]
fn a_wildcard_default_fills_only_existing_empty_keys() {
    let got = Trailing::from_config([("m.a", ""), ("m.b", "x")]).unwrap();
    assert_eq!(got.m, [("a".into(), "d".into()), ("b".into(), "x".into())].into());
    assert!(Trailing::from_config(ConfigMap::new()).unwrap().m.is_empty());
}

#[test]
fn config_map_inserts_replaces_and_removes_in_key_order() {
    let mut map = ConfigMap::new();
    for round in 0..50 {
        for key in ["b", "a.long.key.beyond.8", "c", "a"] {
            assert_eq!(map.insert(key, round.to_string()), (round > 0).then(|| (round - 1).to_string()));
        }
    }
    assert_eq!(map.iter().collect::<Vec<_>>(), [("a", "49"), ("a.long.key.beyond.8", "49"), ("b", "49"), ("c", "49")]);
    assert_eq!(map.remove("b"), Some("49".into()));
    assert_eq!(map.remove("b"), None);
    assert!(map.contains_key("a.long.key.beyond.8") && !map.contains_key("a.long"));
    assert_eq!(map, [("c", "49"), ("a", "49"), ("a.long.key.beyond.8", "49")].into_iter().collect());
    // A later entry of the same key wins, as a map's `collect`.
    let collected: ConfigMap = [("k", "1"), ("k", "2")].into_iter().collect();
    assert_eq!(collected.get("k"), Some("2"));
}
