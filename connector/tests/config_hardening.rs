//! Config hardening: hostile configs (10,000 keys, 1 MB values, unicode keys, many wildcard
//! entries) give the right errors and return — the tests assert completion and the errors,
//! not timings (no timing assertions in CI; the criterion is "it returns").
//!
//! Regex validations cannot be catastrophic: patterns are compiled by `regex-lite`, whose
//! matching is guaranteed linear in the input (a Pike VM, no backtracking), so a 1 MB value
//! against a pattern that backtracking engines blow up on (`^(a+)+$`) is matched in one pass.

use std::collections::BTreeMap;
use std::time::Duration;

use conduit_connector::config::ErrorKind;
use conduit_connector::{Config, ConfigValue};

#[derive(Debug, Clone, Copy, PartialEq, Eq, ConfigValue)]
pub enum Level {
    Low,
    High,
}

#[derive(Debug, Config)]
pub struct Hardened {
    /// A name matched by a pattern that is catastrophic for backtracking engines.
    #[param(regex = "^(a+)+$")]
    pub name: Option<String>,
    /// A nested-quantifier pattern with alternation.
    #[param(regex = "^(a|aa)*b$")]
    pub other: Option<String>,
    /// Size.
    #[param(default = 10, gt = 0, lt = 1000)]
    pub size: u32,
    /// Interval.
    #[param(default = "1s")]
    pub interval: Duration,
    /// Level.
    pub level: Option<Level>,
    /// Colors.
    #[param(inclusion = ["red", "green"])]
    pub color: Option<String>,
    /// Tags.
    pub tags: Vec<String>,
    /// Labels.
    pub labels: BTreeMap<String, String>,
    /// Required path.
    #[param(required)]
    pub path: String,
}

fn base() -> Vec<(String, String)> {
    vec![("path".to_owned(), "/p".to_owned())]
}

#[test]
fn ten_thousand_unknown_keys_each_get_one_unrecognized_error() {
    let mut config = base();
    config.extend((0..10_000).map(|i| (format!("unknown{i:05}"), "x".to_owned())));
    let errors = Hardened::from_config(config).unwrap_err();
    assert_eq!(errors.len(), 10_000);
    assert!(errors.iter().all(|e| e.kind() == ErrorKind::Unrecognized));
    assert_eq!(errors.iter().next().unwrap().key(), "unknown00000");
    assert_eq!(errors.iter().last().unwrap().key(), "unknown09999");
}

#[test]
fn ten_thousand_wildcard_keys_are_accepted() {
    let mut config = base();
    config.extend((0..10_000).map(|i| (format!("labels.k{i}"), format!("v{i}"))));
    let parsed = Hardened::from_config(config).unwrap();
    assert_eq!(parsed.labels.len(), 10_000);
    assert_eq!(parsed.labels["k9999"], "v9999");
}

#[test]
fn ten_thousand_near_miss_keys_get_suggestions() {
    let mut config = base();
    config.extend((0..10_000).map(|i| (format!("size{i}"), i.to_string())));
    let errors = Hardened::from_config(config).unwrap_err();
    assert_eq!(errors.len(), 10_000);
    assert!(errors.iter().all(|e| e.kind() == ErrorKind::Unrecognized), "{errors}");
    let first = errors.iter().next().unwrap();
    assert_eq!(first.key(), "size0");
    assert!(first.to_string().contains("did you mean \"size\"?"), "{first}");
}

#[test]
fn ten_thousand_copies_of_a_key_differing_in_whitespace_are_one_error() {
    let mut config = base();
    config.extend((0..10_000).map(|i| ("size".to_owned(), (i % 500 + 1).to_string())));
    config.extend((0..10_000).map(|i| (format!(" size{} ", " ".repeat(i % 3)), "1".to_owned())));
    let errors = Hardened::from_config(config).unwrap_err();
    // Exact repeats keep the last value (as a Go map would); keys that collide only after
    // trimming are one error for that key, not 10,000.
    assert_eq!(errors.len(), 1, "{errors}");
    let error = errors.iter().next().unwrap();
    assert_eq!((error.key(), error.kind()), ("size", ErrorKind::InvalidValue));
    assert!(error.to_string().contains("given more than once"), "{error}");
}

#[test]
fn one_megabyte_values_are_rejected_with_the_right_errors() {
    let huge_a = "a".repeat(1 << 20);
    let mut almost = huge_a.clone();
    almost.push('!');
    let digits = "9".repeat(1 << 20);
    let duration = format!("{}s", "1".repeat(1 << 20));
    let config = vec![
        ("path".to_owned(), huge_a.clone()),
        // Catastrophic for a backtracking engine: a long run of `a` then a mismatch.
        ("name".to_owned(), almost),
        ("other".to_owned(), huge_a.clone()),
        ("size".to_owned(), digits),
        ("interval".to_owned(), duration),
        ("level".to_owned(), huge_a.clone()),
        ("color".to_owned(), huge_a.clone()),
        ("tags".to_owned(), "t,".repeat(1 << 19)),
    ];
    let errors = Hardened::from_config(config).unwrap_err();
    let kinds: Vec<(&str, ErrorKind)> = errors.iter().map(|e| (e.key(), e.kind())).collect();
    assert_eq!(
        kinds,
        [
            ("color", ErrorKind::Inclusion),
            ("interval", ErrorKind::InvalidType),
            ("level", ErrorKind::Inclusion),
            ("name", ErrorKind::Regex),
            ("other", ErrorKind::Regex),
            ("size", ErrorKind::InvalidType),
        ],
        "{errors}"
    );
}

#[test]
fn one_megabyte_value_matching_the_regex_is_accepted() {
    let huge_a = "a".repeat(1 << 20);
    let mut config = base();
    config.push(("name".to_owned(), huge_a.clone()));
    config.push(("other".to_owned(), format!("{huge_a}b")));
    let parsed = Hardened::from_config(config).unwrap();
    assert_eq!(parsed.name.as_deref().map(str::len), Some(1 << 20));
}

#[test]
fn one_megabyte_key_is_unrecognized() {
    let mut config = base();
    config.push(("k".repeat(1 << 20), "v".to_owned()));
    let errors = Hardened::from_config(config).unwrap_err();
    assert_eq!(errors.len(), 1);
    assert_eq!(errors.iter().next().unwrap().kind(), ErrorKind::Unrecognized);
}

#[test]
fn unicode_keys_and_values_get_errors_naming_them() {
    let mut config = base();
    config.extend(
        ["sïze", "ΣΙΖΕ", "名前", "size\u{0}", "\u{202e}size", "🦀.*", "labels", "labels.", "labels.ключ"]
            .iter()
            .map(|k| (k.to_string(), "ü".to_owned())),
    );
    config.push(("size".to_owned(), "１０".to_owned())); // full-width digits are not Go integers
    config.push(("level".to_owned(), "ＨＩＧＨ".to_owned()));
    let errors = Hardened::from_config(config).unwrap_err();
    let keys: Vec<&str> = errors.iter().map(|e| e.key()).collect();
    for k in ["sïze", "ΣΙΖΕ", "名前", "size\u{0}", "\u{202e}size", "🦀.*", "size", "level"] {
        assert!(keys.contains(&k), "no error for {k:?} in {keys:?}");
    }
    assert!(!keys.contains(&"labels.ключ"), "a unicode wildcard key is a valid label: {errors}");
    assert!(keys.windows(2).all(|w| w[0] <= w[1]), "errors not sorted: {keys:?}");
}
