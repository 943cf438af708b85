//! `from_config` of derived configs: decoding, defaults, nesting, maps,
//! skipped fields, enums and the `validate` hook.

use std::collections::{BTreeMap, HashMap};
use std::time::Duration;

use conduit_connector::{Config, ConfigError, ConfigErrors, ConfigValue};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, ConfigValue)]
pub enum Format {
    #[default]
    Raw,
    Json,
}

#[derive(Debug, PartialEq, Eq, ConfigValue)]
pub enum Mode {
    Fast,
    Safe,
}

#[derive(Debug, PartialEq, Config)]
pub struct Auth {
    #[param(required)]
    pub user: String,
    pub password: Option<String>,
}

#[derive(Debug, PartialEq, Config)]
pub struct Middleware {
    #[param(name = "sdk.batch.size", default = 0)]
    pub batch_size: usize,
}

#[derive(Debug, PartialEq, Config)]
pub struct Endpoint {
    #[param(required)]
    pub url: String,
    #[param(default = 3)]
    pub retries: u8,
}

#[derive(Debug, PartialEq, Config)]
#[config(validate = Self::check)]
pub struct Destination {
    #[param(required)]
    pub directory: String,
    #[param(default = 100, gt = 0, lt = 10_000)]
    pub batch_size: u32,
    #[param(default = "1s")]
    pub flush_interval: Duration,
    pub auth: Auth,
    #[param(flatten)]
    pub sdk: Middleware,
    pub headers: HashMap<String, String>,
    pub endpoints: BTreeMap<String, Endpoint>,
    #[param(skip)]
    pub cache: Vec<u8>,
    pub tags: Vec<String>,
    pub format: Format,
    pub mode: Option<Mode>,
    pub r#type: String,
}

impl Destination {
    fn check(&self) -> Result<(), ConfigErrors> {
        if self.directory == "/forbidden" {
            let mut errors = ConfigErrors::new();
            errors.push(ConfigError::custom("directory", "this directory is forbidden"));
            return Err(errors);
        }
        Ok(())
    }
}

fn minimal() -> Vec<(&'static str, &'static str)> {
    vec![("directory", "/tmp/out"), ("auth.user", "alice")]
}

#[test]
fn defaults_and_zero_values_fill_missing_keys() {
    let cfg = Destination::from_config(minimal()).unwrap();
    assert_eq!(cfg.directory, "/tmp/out");
    assert_eq!(cfg.batch_size, 100);
    assert_eq!(cfg.flush_interval, Duration::from_secs(1));
    assert_eq!(cfg.auth, Auth { user: "alice".into(), password: None });
    assert_eq!(cfg.sdk, Middleware { batch_size: 0 });
    assert!(cfg.headers.is_empty());
    assert!(cfg.endpoints.is_empty());
    assert!(cfg.cache.is_empty());
    assert!(cfg.tags.is_empty());
    assert_eq!(cfg.format, Format::Raw);
    assert_eq!(cfg.mode, None);
    assert_eq!(cfg.r#type, "");
}

#[test]
fn every_field_kind_decodes() {
    let mut raw = minimal();
    raw.extend([
        ("batchSize", "250"),
        ("flushInterval", "1m30s"),
        ("auth.password", "secret"),
        ("sdk.batch.size", "7"),
        ("headers.x-one", "1"),
        ("headers.x-two", "2"),
        ("endpoints.a.url", "http://a"),
        ("endpoints.b.url", "http://b"),
        ("endpoints.b.retries", "9"),
        ("tags", "a, b,c"),
        ("format", "json"),
        ("mode", "safe"),
        ("type", "kind"),
    ]);
    let cfg = Destination::from_config(raw).unwrap();
    assert_eq!(cfg.batch_size, 250);
    assert_eq!(cfg.flush_interval, Duration::from_secs(90));
    assert_eq!(cfg.auth.password.as_deref(), Some("secret"));
    assert_eq!(cfg.sdk.batch_size, 7);
    assert_eq!(cfg.headers.len(), 2);
    assert_eq!(cfg.headers["x-two"], "2");
    assert_eq!(cfg.endpoints["a"], Endpoint { url: "http://a".into(), retries: 3 });
    assert_eq!(cfg.endpoints["b"], Endpoint { url: "http://b".into(), retries: 9 });
    assert_eq!(cfg.tags, ["a", "b", "c"]);
    assert_eq!(cfg.format, Format::Json);
    assert_eq!(cfg.mode, Some(Mode::Safe));
    assert_eq!(cfg.r#type, "kind");
}

#[test]
fn from_config_accepts_maps_and_pairs() {
    let hash: HashMap<String, String> = minimal().into_iter().map(|(k, v)| (k.into(), v.into())).collect();
    let tree: BTreeMap<String, String> = hash.clone().into_iter().collect();
    let a = Destination::from_config(&hash).unwrap();
    let b = Destination::from_config(hash).unwrap();
    let c = Destination::from_config(tree).unwrap();
    let d = Destination::from_config([("directory", "/tmp/out"), ("auth.user", "alice")]).unwrap();
    assert_eq!(a, b);
    assert_eq!(b, c);
    assert_eq!(c, d);
}

#[test]
fn every_problem_is_reported() {
    let raw = [("batchSize", "0"), ("format", "xml"), ("endpoints.a.retries", "1")];
    let errors = Destination::from_config(raw).unwrap_err();
    let keys: Vec<&str> = errors.iter().map(ConfigError::key).collect();
    assert!(keys.contains(&"directory"), "{errors}");
    assert!(keys.contains(&"auth.user"), "{errors}");
    assert!(keys.contains(&"batchSize"), "{errors}");
    assert!(keys.contains(&"format"), "{errors}");
    assert!(keys.contains(&"endpoints.a.url"), "{errors}");
}

#[test]
fn validate_hook_runs_after_decoding() {
    let errors = Destination::from_config([("directory", "/forbidden"), ("auth.user", "a")]).unwrap_err();
    assert_eq!(errors.len(), 1);
    let error = errors.iter().next().unwrap();
    assert_eq!(error.key(), "directory");
    assert_eq!(error.to_string(), "error validating \"directory\": this directory is forbidden");
}

#[derive(Debug, Config)]
#[config(validate = Inner::check)]
pub struct Inner {
    pub a: u32,
    pub b: u32,
}

impl Inner {
    fn check(&self) -> Result<(), ConfigErrors> {
        let mut errors = ConfigErrors::new();
        if self.a >= self.b {
            errors.push(ConfigError::custom("a", "must be less than b"));
        }
        errors.into_result()
    }
}

#[derive(Debug, Config)]
pub struct Outer {
    pub inner: Inner,
}

#[test]
fn nested_validate_hook_errors_get_the_prefix() {
    let errors = Outer::from_config([("inner.a", "5"), ("inner.b", "1")]).unwrap_err();
    let error = errors.iter().next().unwrap();
    assert_eq!(error.key(), "inner.a");
    assert_eq!(error.to_string(), "error validating \"inner.a\": must be less than b");
}

#[test]
fn enum_value_parses_its_names_only() {
    assert_eq!(Format::parse("json"), Ok(Format::Json));
    assert_eq!(Format::parse("Json"), Err("value must be one of [raw,json]".to_owned()));
    assert_eq!(Format::empty(), Some(Format::Raw));
    assert_eq!(Mode::empty(), None);
    assert_eq!(Format::VARIANTS, ["raw", "json"]);
}

type Count = u16;

#[derive(Debug, Config)]
pub struct Aliased {
    #[param(default = 5, lt = 10)]
    pub count: Count,
}

#[test]
fn type_alias_fields_decode_like_the_aliased_type() {
    assert_eq!(Aliased::from_config([("count", "")]).unwrap().count, 5);
    assert_eq!(Aliased::from_config([("count", "7")]).unwrap().count, 7);
    assert!(Aliased::from_config([("count", "70000")]).is_err());
}

#[derive(Debug, PartialEq, Config)]
pub struct Wide {
    pub unsigned: u64,
    pub size: usize,
    pub signed: i64,
    pub small: u8,
    pub list: Vec<u64>,
    pub map: HashMap<String, u64>,
    #[param(default = 18446744073709551615)]
    pub top: u64,
    #[param(default = "18446744073709551615")]
    pub top_text: u64,
    #[param(lt = 1000)]
    pub bounded: u32,
}

fn wide_errors(pairs: &[(&str, &str)]) -> Vec<String> {
    Wide::from_config(pairs).unwrap_err().iter().map(ToString::to_string).collect()
}

#[test]
fn unsigned_64_bit_fields_accept_their_whole_range() {
    let max = "18446744073709551615";
    let cfg = Wide::from_config([
        ("unsigned", max),
        ("size", max),
        ("list", "0, 18446744073709551615"),
        ("map.a", max),
        ("signed", "-9223372036854775808"),
    ])
    .unwrap();
    assert_eq!(cfg.unsigned, u64::MAX);
    assert_eq!(cfg.size as u64, u64::MAX);
    assert_eq!(cfg.list, [0, u64::MAX]);
    assert_eq!(cfg.map["a"], u64::MAX);
    assert_eq!(cfg.signed, i64::MIN);
    assert_eq!((cfg.top, cfg.top_text), (u64::MAX, u64::MAX));
    assert_eq!(Wide::parameters().get("top").unwrap().default, max);
}

#[test]
fn integers_beyond_the_field_type_are_range_errors_naming_the_type() {
    assert_eq!(
        wide_errors(&[("unsigned", "18446744073709551616"), ("map.b", "-1")]),
        [
            r#"error validating "map.b": "-1" value is out of range for u64 (0 to 18446744073709551615): invalid parameter type"#,
            r#"error validating "unsigned": "18446744073709551616" value is out of range for u64 (0 to 18446744073709551615): invalid parameter type"#,
        ]
    );
    // i64's bounds are unchanged: one past either end is a range error.
    for value in ["9223372036854775808", "-9223372036854775809"] {
        assert_eq!(
            wide_errors(&[("signed", value)]),
            [format!(
                r#"error validating "signed": "{value}" value is out of range for i64 (-9223372036854775808 to 9223372036854775807): invalid parameter type"#
            )]
        );
    }
    assert_eq!(
        wide_errors(&[("small", "256")]),
        [r#"error validating "small": "256" value is out of range for u8 (0 to 255): invalid parameter type"#]
    );
    // Within 64 bits, validations run first (as for u8 = 300); beyond 64 bits
    // the value is a type error for every field, so they are skipped, as Go
    // skips them after a type error.
    assert_eq!(
        wide_errors(&[("bounded", "18446744073709551615")]),
        [r#"error validating "bounded": "18446744073709551615" should be less than 1000: less-than validation failed"#]
    );
    assert_eq!(
        wide_errors(&[("bounded", "18446744073709551616")]),
        [
            r#"error validating "bounded": "18446744073709551616" value is out of range for u32 (0 to 4294967295): invalid parameter type"#
        ]
    );
    // Far beyond any integer type: still a range error, not "not an integer".
    let huge = "1".repeat(60);
    assert_eq!(
        wide_errors(&[("size", &huge)]),
        [format!(
            r#"error validating "size": "{huge}" value is out of range for usize (0 to 18446744073709551615): invalid parameter type"#
        )]
    );
}

#[test]
fn non_integers_keep_gos_wording() {
    for value in ["1.5", "0x10", "1_000", "+", "-", "١٢", "18446744073709551615x"] {
        assert_eq!(
            wide_errors(&[("unsigned", value)]),
            [format!(
                r#"error validating "unsigned": {} value is not an integer: invalid parameter type"#,
                conduit_connector::config::go::quote(value)
            )],
            "{value:?}"
        );
    }
}

#[derive(Debug, PartialEq, Config)]
pub struct Optionals {
    /// An optional group: `None` unless one of its keys has a value.
    pub auth: Option<Auth>,
    /// An optional number: no default in the spec, `None` when absent.
    pub port: Option<u16>,
    /// An enum without a default: required in the spec and in the parser.
    pub mode: Mode,
    /// An optional enum: neither.
    pub fallback: Option<Mode>,
}

#[test]
fn optional_nested_config_is_none_when_no_key_under_its_prefix_is_set() {
    let got = Optionals::from_config([("mode", "fast")]).unwrap();
    assert_eq!(got, Optionals { auth: None, port: None, mode: Mode::Fast, fallback: None });
    // Empty keys under the prefix count as unset.
    let got = Optionals::from_config([("mode", "fast"), ("auth.password", " ")]).unwrap();
    assert_eq!(got.auth, None);
}

#[test]
fn optional_nested_config_with_a_key_set_is_decoded_and_validated() {
    let got = Optionals::from_config([("mode", "safe"), ("auth.user", "me")]).unwrap();
    assert_eq!(got.auth, Some(Auth { user: "me".into(), password: None }));
    let errors = Optionals::from_config([("mode", "safe"), ("auth.password", "pw")]).unwrap_err();
    assert_eq!(errors.to_string(), r#"error validating "auth.user": required parameter is not provided"#);
}

#[test]
fn option_of_a_value_has_no_default_in_the_spec_and_an_enum_without_default_is_required_in_both() {
    let params = Optionals::parameters();
    let port = params.get("port").unwrap();
    assert_eq!((port.default.as_str(), port.is_required()), ("", false));
    assert!(params.get("mode").unwrap().is_required());
    assert!(!params.get("fallback").unwrap().is_required());
    // As Conduit validates a required parameter with the spec: every validation of the empty value.
    let errors = Optionals::from_config([("port", "8080")]).unwrap_err();
    assert_eq!(
        errors.to_string(),
        "error validating \"mode\": required parameter is not provided\n\
         error validating \"mode\": \"\" value must be included in the list [fast,safe]: inclusion validation failed"
    );
    assert_eq!(Optionals::from_config([("mode", "fast"), ("port", "8080")]).unwrap().port, Some(8080));
}

#[test]
fn errors_expose_their_data() {
    use conduit_connector::config::Problem;
    let errors = Optionals::from_config([("mode", "slow"), ("mdoe", "x")]).unwrap_err();
    let problems: Vec<(&str, &Problem)> = errors.iter().map(|e| (e.key(), e.problem())).collect();
    assert_eq!(
        problems,
        [
            ("mdoe", &Problem::Unrecognized { suggestion: Some("mode".into()) }),
            ("mode", &Problem::Inclusion { value: "slow".into(), allowed: vec!["fast".into(), "safe".into()] }),
        ]
    );
}
