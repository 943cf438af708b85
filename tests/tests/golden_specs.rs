//! Golden connector.yaml files for structs using `#[derive(Config)]`: the
//! exact text of the specification (compared with `tests/golden/*.yaml`,
//! rewritten with `CONDUIT_UPDATE_GOLDEN=1`), the same YAML parsed back with
//! yaml-rust2 to check names, types, defaults and validations, and the file
//! connector's destination parameters reproduced from a derived struct.

use std::collections::{BTreeMap, HashMap};
use std::path::{Path, PathBuf};
use std::time::Duration;

use conduit_connector::config::ErrorKind;
use conduit_connector::middleware::DefaultDestinationMiddleware;
use conduit_connector::spec::{Specification, ordered_parameters};
use conduit_connector::{Config, ConfigValue, Parameters};
use yaml_rust2::{Yaml, YamlLoader};

// ------------------------------------------------------------------ structs

/// Credentials.
#[derive(Debug, Config)]
pub struct Auth {
    /// The user name.
    #[param(required)]
    pub user: String,
    /// The password; empty means none.
    pub password: Option<String>,
}

/// Transport security.
#[derive(Debug, Config)]
pub struct Tls {
    /// Whether to use TLS.
    #[param(default = false)]
    pub enabled: bool,
    /// The CA certificate.
    #[param(file)]
    pub ca_cert: PathBuf,
}

/// A connection: nested structs two levels deep.
#[derive(Debug, Config)]
pub struct Connection {
    /// The server's URL.
    #[param(required, regex = "^https?://")]
    pub url: String,
    /// Credentials for the server.
    pub auth: Auth,
    /// Transport security settings.
    pub tls: Tls,
}

/// Case 1: Nested structs (keys `auth.user`, `connection.tls.caCert`, …).
#[derive(Debug, Config)]
pub struct NestedConfig {
    /// Name of the target table.
    #[param(required)]
    pub table: String,
    pub connection: Connection,
    pub auth: Auth,
}

/// Case 2: Flattened SDK middleware next to the connector's own parameters.
#[derive(Debug, Config)]
pub struct FlattenConfig {
    #[param(flatten)]
    pub sdk: DefaultDestinationMiddleware,
    /// Topic to publish to.
    #[param(required)]
    pub topic: String,
    /// Client identifier.
    #[param(default = "conduit")]
    pub client_id: String,
    #[param(flatten)]
    pub tls: Tls,
}

/// An endpoint of the maps config.
#[derive(Debug, Config)]
pub struct Endpoint {
    /// Where to send.
    #[param(required)]
    pub url: String,
    /// How often to retry.
    #[param(default = 3, lt = 10)]
    pub retries: u8,
}

/// Case 3: Maps of values and of structs (`headers.*`, `endpoints.*.url`).
#[derive(Debug, Config)]
pub struct MapsConfig {
    /// Extra HTTP headers.
    pub headers: HashMap<String, String>,
    /// Per-table record limits.
    #[param(default = 100, gt = 0)]
    pub limits: BTreeMap<String, u32>,
    /// Named endpoints.
    pub endpoints: BTreeMap<String, Endpoint>,
    /// The base path.
    #[param(default = "/")]
    pub base: String,
}

/// Compression algorithms.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, ConfigValue)]
pub enum Compression {
    #[default]
    None,
    Gzip,
    #[param(name = "zstd")]
    ZStandard,
    SnappyFramed,
}

/// Case 4: Every primitive type.
#[derive(Debug, Config)]
pub struct PrimitivesConfig {
    /// A string.
    #[param(default = "text")]
    pub string: String,
    /// A path.
    pub path: PathBuf,
    /// A file.
    #[param(file)]
    pub file: String,
    /// i8.
    #[param(default = -8)]
    pub int8: i8,
    /// i16.
    pub int16: i16,
    /// i32.
    pub int32: i32,
    /// i64.
    #[param(default = -9_000_000_000i64)]
    pub int64: i64,
    /// isize.
    pub isize_value: isize,
    /// u8.
    #[param(default = 255)]
    pub uint8: u8,
    /// u16.
    pub uint16: u16,
    /// u32.
    pub uint32: u32,
    /// u64.
    #[param(default = 9_223_372_036_854_775_807)]
    pub uint64: u64,
    /// usize.
    pub usize_value: usize,
    /// f32.
    #[param(default = 0.5)]
    pub float32: f32,
    /// f64.
    #[param(default = 1e-7, gt = 0, lt = 1e21)]
    pub float64: f64,
    /// A flag.
    #[param(default = true)]
    pub flag: bool,
    /// A duration.
    #[param(default = "1m30s")]
    pub timeout: Duration,
    /// Comma-separated names.
    #[param(default = "a,b")]
    pub names: Vec<String>,
    /// Comma-separated ports.
    pub ports: Vec<u16>,
    /// An optional string.
    pub maybe_string: Option<String>,
    /// An optional number.
    #[param(default = 7)]
    pub maybe_number: Option<i64>,
    /// An optional duration.
    pub maybe_duration: Option<Duration>,
    /// The compression.
    #[param(default = "gzip")]
    pub compression: Compression,
    /// An optional compression.
    pub maybe_compression: Option<Compression>,
}

/// Case 5: Ordering: non-`sdk.` first, then required first, then by name (byte
/// order: upper case before lower case), validations in the order written.
#[derive(Debug, Config)]
pub struct SortingConfig {
    /// Last alphabetically but required.
    #[param(required)]
    pub zeta: String,
    /// First alphabetically, optional.
    pub alpha: String,
    /// Required, in the middle.
    #[param(required, inclusion = ["x", "y"])]
    pub mid: String,
    /// An upper-case name sorts before lower case.
    #[param(name = "Upper")]
    pub upper: String,
    /// An SDK-style parameter: listed last even though required.
    #[param(name = "sdk.custom", required)]
    pub sdk_custom: String,
    /// Another SDK-style parameter.
    #[param(name = "sdk.aaa", default = 1)]
    pub sdk_aaa: u32,
    /// Validations in the order written.
    #[param(lt = 100)]
    #[param(gt = 1, exclusion = ["13", "42"])]
    pub ordered: i64,
    #[param(name = "bbb")]
    pub no_doc: String,
}

/// Case 6: Descriptions: multi-line doc comments, block comments, overrides and
/// text that YAML must quote.
#[derive(Debug, Config)]
pub struct DocsConfig {
    /// First line of a long description.
    /// Second line, with `code`.
    ///
    /// A paragraph after a blank line.
    pub multi: String,
    /**
        A block comment.
          Indented continuation.
    */
    pub block: String,
    /// Ignored.
    #[param(description = "Overridden description.")]
    pub overridden: String,
    /// key: value looks like a mapping
    pub colon: String,
    /// - looks like a list item
    pub dash: String,
    /// # looks like a comment
    pub hash: String,
    /// Trailing spaces are trimmed.   
    ///    Leading spaces stay.
    pub spaces: String,
    /// "Quoted" text and 'single quotes'.
    #[param(default = "yes")]
    pub quotes: String,
    /// Default that yaml would read as a number.
    #[param(default = "0755")]
    pub mode: String,
    /// Default that yaml would read as null.
    #[param(default = "~")]
    pub tilde: String,
}

/// Case 7: A Rust rename_all other than the default camelCase.
#[derive(Debug, Config)]
#[config(rename_all = "snake_case")]
pub struct SnakeConfig {
    /// Kept in snake case.
    #[param(required)]
    pub batch_size: u32,
    /// Explicit names win.
    #[param(name = "explicitName")]
    pub other_field: String,
    pub nested_auth: Auth,
}

// ------------------------------------------------------------------ helpers

fn golden_path(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/golden").join(format!("{name}.yaml"))
}

fn spec_of(name: &str, params: Parameters) -> Specification {
    Specification {
        name: name.to_owned(),
        summary: format!("Golden specification for {name}."),
        version: "v0.0.0".to_owned(),
        destination_params: params,
        ..Specification::default()
    }
}

/// Compares `yaml` with the golden file `name` (rewrites it when
/// `CONDUIT_UPDATE_GOLDEN=1`).
#[track_caller]
fn assert_golden(name: &str, yaml: &str) {
    let path = golden_path(name);
    if std::env::var("CONDUIT_UPDATE_GOLDEN").is_ok_and(|v| v == "1") {
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(&path, yaml).unwrap();
        return;
    }
    let golden = std::fs::read_to_string(&path).unwrap_or_else(|e| {
        panic!(
            "cannot read {}: {e}\nCreate it with CONDUIT_UPDATE_GOLDEN=1 cargo test --test golden_specs",
            path.display()
        )
    });
    if golden != yaml {
        let diff: Vec<String> = golden
            .lines()
            .zip(yaml.lines())
            .enumerate()
            .filter(|(_, (a, b))| a != b)
            .take(5)
            .map(|(i, (a, b))| format!("line {}:\n- {a}\n+ {b}", i + 1))
            .collect();
        panic!(
            "{} differs from the generated YAML ({} vs {} lines):\n{}\n--- generated:\n{yaml}",
            path.display(),
            golden.lines().count(),
            yaml.lines().count(),
            diff.join("\n")
        );
    }
}

fn scalar(y: &Yaml) -> String {
    match y {
        Yaml::String(s) | Yaml::Real(s) => s.clone(),
        Yaml::Integer(i) => i.to_string(),
        Yaml::Boolean(b) => b.to_string(),
        other => panic!("not a scalar: {other:?}"),
    }
}

/// One parameter as read back from YAML.
#[derive(Debug, PartialEq)]
struct YamlParam {
    name: String,
    description: String,
    ty: String,
    default: String,
    validations: Vec<(String, String)>,
}

fn parse_destination(yaml: &str) -> Vec<YamlParam> {
    let docs = YamlLoader::load_from_str(yaml).expect("the YAML parses");
    assert_eq!(docs.len(), 1);
    let doc = &docs[0];
    assert_eq!(doc["version"].as_str(), Some("1.0"));
    let params = doc["specification"]["destination"]["parameters"].as_vec().expect("destination parameters");
    params
        .iter()
        .map(|p| YamlParam {
            name: scalar(&p["name"]),
            description: scalar(&p["description"]),
            ty: scalar(&p["type"]),
            default: scalar(&p["default"]),
            validations: p["validations"]
                .as_vec()
                .expect("validations is a list")
                .iter()
                .map(|v| normalize(scalar(&v["type"]), scalar(&v["value"])))
                .collect(),
        })
        .collect()
}

/// Numeric validation values compared as numbers (connector.yaml prints
/// them with Go's `%g`, `Validation::value` as Go's `FormatFloat(v, 'f')`).
fn normalize(ty: String, value: String) -> (String, String) {
    if ty == "greater-than" || ty == "less-than" {
        let n: f64 = value.parse().unwrap_or_else(|_| panic!("{ty} value {value:?} is not a number"));
        return (ty, format!("{n:e}"));
    }
    (ty, value)
}

/// The parameters as connector.yaml lists them, from the Rust values.
fn expected(params: &Parameters) -> Vec<YamlParam> {
    ordered_parameters(params)
        .into_iter()
        .map(|(name, p)| YamlParam {
            name: name.to_owned(),
            description: p.description.clone(),
            ty: p.ty.to_string(),
            default: p.default.clone(),
            validations: p.validations.iter().map(|v| normalize(v.type_name().to_owned(), v.value())).collect(),
        })
        .collect()
}

/// Golden text, YAML round trip through yaml-rust2 and `from_yaml`; returns
/// the parsed parameters for spot checks.
#[track_caller]
fn check<T: Config>(name: &str) -> Vec<YamlParam> {
    let spec = spec_of(name, T::parameters());
    let yaml = spec.to_yaml();
    assert_golden(name, &yaml);
    let parsed = parse_destination(&yaml);
    assert_eq!(parsed, expected(&spec.destination_params));
    assert_eq!(Specification::from_yaml(&yaml).unwrap(), spec, "from_yaml reads the same specification back");
    parsed
}

fn find<'a>(params: &'a [YamlParam], name: &str) -> &'a YamlParam {
    params.iter().find(|p| p.name == name).unwrap_or_else(|| panic!("no parameter {name:?}"))
}

fn names(params: &[YamlParam]) -> Vec<&str> {
    params.iter().map(|p| p.name.as_str()).collect()
}

fn v(ty: &str, value: &str) -> (String, String) {
    (ty.to_owned(), value.to_owned())
}

// -------------------------------------------------------------------- tests

#[test]
fn golden_nested_structs() {
    let p = check::<NestedConfig>("derive_nested");
    assert_eq!(
        names(&p),
        [
            "auth.user",
            "connection.auth.user",
            "connection.url",
            "table",
            "auth.password",
            "connection.auth.password",
            "connection.tls.caCert",
            "connection.tls.enabled",
        ]
    );
    let url = find(&p, "connection.url");
    assert_eq!(url.validations, [v("required", ""), v("regex", "^https?://")]);
    assert_eq!(find(&p, "connection.tls.caCert").ty, "file");
    assert_eq!(find(&p, "connection.tls.enabled").default, "false");
}

#[test]
fn golden_flattened_middleware() {
    let p = check::<FlattenConfig>("derive_flatten");
    assert_eq!(
        names(&p),
        [
            "topic",
            "caCert",
            "clientId",
            "enabled",
            "sdk.batch.delay",
            "sdk.batch.size",
            "sdk.rate.burst",
            "sdk.rate.perSecond",
            "sdk.record.format",
            "sdk.record.format.options",
            "sdk.schema.extract.key.enabled",
            "sdk.schema.extract.payload.enabled",
        ]
    );
    assert_eq!(find(&p, "clientId").default, "conduit");
    assert_eq!(find(&p, "sdk.batch.size").validations, [v("greater-than", "-1e0")]);
    assert_eq!(find(&p, "sdk.rate.perSecond").ty, "float");
    assert_eq!(find(&p, "sdk.record.format").default, "opencdc/json");
}

#[test]
fn golden_maps_of_values_and_structs() {
    let p = check::<MapsConfig>("derive_maps");
    assert_eq!(names(&p), ["endpoints.*.url", "base", "endpoints.*.retries", "headers.*", "limits.*"]);
    assert_eq!(find(&p, "limits.*").ty, "int");
    assert_eq!(find(&p, "limits.*").default, "100");
    assert_eq!(find(&p, "limits.*").validations, [v("greater-than", "0e0")]);
    assert_eq!(find(&p, "endpoints.*.retries").validations, [v("less-than", "1e1")]);
    assert_eq!(find(&p, "headers.*").ty, "string");
    assert_eq!(find(&p, "base").default, "/");
}

#[test]
fn golden_every_primitive_type() {
    let p = check::<PrimitivesConfig>("derive_primitives");
    let ty = |name: &str| find(&p, name).ty.clone();
    for name in ["int8", "int16", "int32", "int64", "isizeValue", "uint8", "uint16", "uint32", "uint64", "usizeValue"] {
        assert_eq!(ty(name), "int", "{name}");
    }
    for name in ["string", "path", "names", "ports", "maybeString", "compression", "maybeCompression"] {
        assert_eq!(ty(name), "string", "{name}");
    }
    assert_eq!(ty("file"), "file");
    assert_eq!(ty("float32"), "float");
    assert_eq!(ty("float64"), "float");
    assert_eq!(ty("flag"), "bool");
    assert_eq!(ty("timeout"), "duration");
    assert_eq!(ty("maybeDuration"), "duration");
    assert_eq!(ty("maybeNumber"), "int");
    let default = |name: &str| find(&p, name).default.clone();
    assert_eq!(default("int8"), "-8");
    assert_eq!(default("int64"), "-9000000000");
    assert_eq!(default("uint8"), "255");
    assert_eq!(default("uint64"), "9223372036854775807");
    assert_eq!(default("float32"), "0.5");
    assert_eq!(default("float64"), "0.0000001");
    assert_eq!(default("flag"), "true");
    assert_eq!(default("timeout"), "1m30s");
    assert_eq!(default("names"), "a,b");
    assert_eq!(default("maybeNumber"), "7");
    assert_eq!(default("compression"), "gzip");
    assert_eq!(default("int16"), "");
    assert_eq!(find(&p, "float64").validations, [v("greater-than", "0e0"), v("less-than", "1e21")]);
    let inclusion = v("inclusion", "none,gzip,zstd,snappyFramed");
    assert_eq!(find(&p, "compression").validations, std::slice::from_ref(&inclusion));
    assert_eq!(find(&p, "maybeCompression").validations, [inclusion]);
}

#[test]
fn golden_sorting_required_first_and_sdk_last() {
    let p = check::<SortingConfig>("derive_sorting");
    assert_eq!(names(&p), ["mid", "zeta", "Upper", "alpha", "bbb", "ordered", "sdk.custom", "sdk.aaa"]);
    assert_eq!(find(&p, "mid").validations, [v("required", ""), v("inclusion", "x,y")]);
    assert_eq!(
        find(&p, "ordered").validations,
        [v("less-than", "1e2"), v("greater-than", "1e0"), v("exclusion", "13,42")]
    );
    assert_eq!(find(&p, "bbb").description, "");
}

#[test]
fn golden_multi_line_and_quoted_descriptions() {
    let p = check::<DocsConfig>("derive_docs");
    assert_eq!(
        find(&p, "multi").description,
        "First line of a long description.\nSecond line, with `code`.\n\nA paragraph after a blank line."
    );
    assert_eq!(find(&p, "block").description, "A block comment.\n  Indented continuation.");
    assert_eq!(find(&p, "overridden").description, "Overridden description.");
    assert_eq!(find(&p, "colon").description, "key: value looks like a mapping");
    assert_eq!(find(&p, "dash").description, "- looks like a list item");
    assert_eq!(find(&p, "hash").description, "# looks like a comment");
    assert_eq!(find(&p, "spaces").description, "Trailing spaces are trimmed.\n   Leading spaces stay.");
    assert_eq!(find(&p, "quotes").description, "\"Quoted\" text and 'single quotes'.");
    assert_eq!(find(&p, "quotes").default, "yes");
    assert_eq!(find(&p, "mode").default, "0755");
    assert_eq!(find(&p, "tilde").default, "~");
}

#[test]
fn golden_snake_case_rename() {
    let p = check::<SnakeConfig>("derive_snake_case");
    assert_eq!(names(&p), ["batch_size", "nested_auth.user", "explicitName", "nested_auth.password"]);
}

// ----------------------------------------------------- file connector parity

/// The Go file connector's destination config, derived.
#[derive(Debug, Config)]
pub struct FileDestinationConfig {
    #[param(flatten)]
    pub sdk: DefaultDestinationMiddleware,
    /// Path is the file path used by the connector to read/write records.
    #[param(required)]
    pub path: String,
}

/// The text of the `destination:` section of a connector.yaml.
fn destination_section(yaml: &str) -> &str {
    let start = yaml.find("  destination:\n").expect("a destination section");
    let rest = &yaml[start..];
    let end = rest[1..].find("\n  source:").map_or(rest.len(), |i| i + 2);
    &rest[..end]
}

#[test]
fn file_connector_destination_parameters_match_the_go_connector_yaml() {
    let golden_path = Path::new(env!("CARGO_MANIFEST_DIR")).join("../connector/tests/golden/file_destination.yaml");
    let golden = std::fs::read_to_string(&golden_path).unwrap();
    let go = Specification::from_yaml(&golden).unwrap();
    let ours = Specification { destination_params: FileDestinationConfig::parameters(), ..go.clone() };
    let yaml = ours.to_yaml();
    assert_eq!(destination_section(&yaml), destination_section(&golden));
    assert_eq!(yaml, golden, "the whole file matches too");
    assert_eq!(ours.destination_params, go.destination_params);
}

#[test]
fn file_connector_config_parses_like_go() {
    let config = FileDestinationConfig::from_config([("path", "/tmp/out.txt"), ("sdk.batch.size", "10")]).unwrap();
    assert_eq!(config.path, "/tmp/out.txt");
    assert_eq!(config.sdk.batch_size, 10);
    assert_eq!(config.sdk.record_format, "opencdc/json");
    let errors = FileDestinationConfig::from_config([("sdk.record.format", "template")]).unwrap_err();
    let keys: Vec<&str> = errors.iter().map(|e| e.key()).collect();
    assert_eq!(keys, ["path", "sdk.record.format"], "{errors}");
}

// ------------------------------------------------- the spec and the parser agree

/// A value `param` accepts: its default, else the first allowed value, else one of its type
/// inside its bounds.
fn sample(param: &conduit_connector::Parameter) -> String {
    use conduit_connector::{ParameterType, Validation};
    if !param.default.is_empty() {
        return param.default.clone();
    }
    if let Some(Validation::Inclusion(list)) = param.validations.iter().find(|v| matches!(v, Validation::Inclusion(_)))
    {
        return list[0].clone();
    }
    let gt = param.validations.iter().find_map(|v| if let Validation::GreaterThan(n) = v { Some(*n) } else { None });
    match param.ty {
        ParameterType::Int => format!("{}", gt.map_or(1.0, |g| g.floor() + 1.0)),
        ParameterType::Float => format!("{}", gt.map_or(1.5, |g| g + 0.5)),
        ParameterType::Bool => "true".to_owned(),
        ParameterType::Duration => "1s".to_owned(),
        ParameterType::String | ParameterType::File => ["abc", "https://example.com", "a1", "A", "1"]
            .into_iter()
            .find(|c| param.validations.iter().all(|v| !matches!(v, Validation::Regex(p) if !p.is_match(c))))
            .unwrap_or("abc")
            .to_owned(),
    }
}

/// For one config type: the config of only the spec's required parameters parses (the
/// parser requires nothing more); leaving out any one of them is a "required" error for
/// that key (the parser requires all of them); and writing any spec default explicitly
/// gives the value the parser uses when the key is absent.
fn spec_and_parser_agree<T: Config + std::fmt::Debug>() {
    let params = T::parameters();
    let concrete = || params.iter().filter(|(name, _)| !name.contains('*'));
    let required: Vec<(String, String)> =
        concrete().filter(|(_, p)| p.is_required()).map(|(name, p)| (name.to_owned(), sample(p))).collect();
    let minimal =
        T::from_config(&required).unwrap_or_else(|e| panic!("{}: spec-required keys only: {e}", type_name::<T>()));
    for (left_out, _) in &required {
        let rest: Vec<&(String, String)> = required.iter().filter(|(k, _)| k != left_out).collect();
        let pairs: Vec<(&str, &str)> = rest.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
        let errors = T::from_config(pairs).expect_err(left_out);
        assert!(
            errors.iter().any(|e| e.key() == left_out && e.kind() == ErrorKind::Required),
            "{}: {left_out} is required in the spec but the parser says: {errors}",
            type_name::<T>()
        );
    }
    for (name, param) in concrete().filter(|(_, p)| !p.default.is_empty()) {
        let mut with_default = required.clone();
        with_default.push((name.to_owned(), param.default.clone()));
        let explicit = T::from_config(&with_default).unwrap_or_else(|e| {
            panic!("{}: the spec default {name}={:?} does not parse: {e}", type_name::<T>(), param.default)
        });
        assert_eq!(format!("{explicit:?}"), format!("{minimal:?}"), "{}: default of {name}", type_name::<T>());
    }
}

fn type_name<T>() -> &'static str {
    std::any::type_name::<T>()
}

#[test]
fn every_golden_struct_has_a_spec_that_agrees_with_its_parser() {
    spec_and_parser_agree::<NestedConfig>();
    spec_and_parser_agree::<FlattenConfig>();
    spec_and_parser_agree::<MapsConfig>();
    spec_and_parser_agree::<PrimitivesConfig>();
    spec_and_parser_agree::<SortingConfig>();
    spec_and_parser_agree::<DocsConfig>();
    spec_and_parser_agree::<SnakeConfig>();
    spec_and_parser_agree::<FileDestinationConfig>();
    spec_and_parser_agree::<conduit_connector::middleware::DefaultDestinationMiddleware>();
}
