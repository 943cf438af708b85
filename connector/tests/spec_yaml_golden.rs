//! connector.yaml golden files: exact text, read back by a YAML 1.2 parser to
//! the same values, and read back by `from_yaml` to the same specification.

use std::path::PathBuf;

use conduit_connector::config::go::format_float_g;
use conduit_connector::spec::{Specification, assert_spec_current, ordered_parameters};
use conduit_connector::{Parameter, ParameterType, Parameters, Validation};
use yaml_rust2::{Yaml, YamlLoader};

fn param(ty: ParameterType, default: &str, description: &str, validations: Vec<Validation>) -> Parameter {
    Parameter { default: default.into(), description: description.into(), ty, validations }
}

fn string(description: &str) -> Parameter {
    param(ParameterType::String, "", description, vec![])
}

fn params<const N: usize>(list: [(&str, Parameter); N]) -> Parameters {
    list.into_iter().collect()
}

fn golden(name: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/golden").join(name)
}

fn expect_str<'a>(y: &'a Yaml, what: &str) -> &'a str {
    match y {
        Yaml::String(s) => s,
        other => panic!("{what}: expected a string scalar, got {other:?}"),
    }
}

/// Every scalar of the parameter list reads back (YAML 1.2 core schema) as
/// the string the specification holds.
fn check_params_parse_back(section: &Yaml, params: &Parameters, what: &str) {
    if params.is_empty() {
        assert!(section.is_badvalue(), "{what}: section should be omitted");
        return;
    }
    let list = section["parameters"].as_vec().unwrap_or_else(|| panic!("{what}.parameters is not a list"));
    let ordered = ordered_parameters(params);
    assert_eq!(list.len(), ordered.len(), "{what}: parameter count");
    for (item, (name, p)) in list.iter().zip(ordered) {
        assert_eq!(expect_str(&item["name"], "name"), name);
        assert_eq!(expect_str(&item["description"], name), p.description, "{name}.description");
        assert_eq!(expect_str(&item["type"], name), p.ty.as_str(), "{name}.type");
        assert_eq!(expect_str(&item["default"], name), p.default, "{name}.default");
        let validations = item["validations"].as_vec().unwrap_or_else(|| panic!("{name}.validations"));
        assert_eq!(validations.len(), p.validations.len(), "{name}: validation count");
        for (y, v) in validations.iter().zip(&p.validations) {
            assert_eq!(expect_str(&y["type"], name), v.type_name());
            let value = match v {
                Validation::GreaterThan(n) | Validation::LessThan(n) => format_float_g(*n),
                other => other.value(),
            };
            assert_eq!(expect_str(&y["value"], name), value, "{name}: {} value", v.type_name());
        }
    }
}

/// The exact text (with a diff on mismatch), the values as a YAML parser
/// sees them, and `from_yaml` back to the specification.
fn check_golden(file: &str, spec: &Specification) {
    let path = golden(file);
    assert_spec_current(&path, spec);

    let text = std::fs::read_to_string(&path).unwrap();
    let docs = YamlLoader::load_from_str(&text).unwrap();
    assert_eq!(docs.len(), 1);
    let doc = &docs[0];
    assert_eq!(expect_str(&doc["version"], "version"), "1.0");
    let s = &doc["specification"];
    let description: Vec<&str> = spec.description.split('\n').map(|l| l.trim_end_matches(' ')).collect();
    assert_eq!(expect_str(&s["name"], "name"), spec.name);
    assert_eq!(expect_str(&s["summary"], "summary"), spec.summary);
    assert_eq!(expect_str(&s["description"], "description"), description.join("\n"));
    assert_eq!(expect_str(&s["version"], "version"), spec.version);
    assert_eq!(expect_str(&s["author"], "author"), spec.author);
    check_params_parse_back(&s["source"], &spec.source_params, "source");
    check_params_parse_back(&s["destination"], &spec.destination_params, "destination");

    let parsed = Specification::from_yaml(&text).unwrap();
    let expected = Specification { description: description.join("\n"), ..spec.clone() };
    assert_eq!(parsed, expected);
}

fn spec(name: &str, summary: &str, description: &str, version: &str, author: &str) -> Specification {
    Specification {
        name: name.into(),
        summary: summary.into(),
        description: description.into(),
        version: version.into(),
        author: author.into(),
        ..Specification::default()
    }
}

#[test]
fn nested_and_wildcard_names_golden() {
    let mut s = spec(
        "nested",
        "Nested and wildcard parameter names.",
        "A connector whose config has nested structs and maps.",
        "v0.1.0",
        "Conduit Rust SDK",
    );
    s.destination_params = params([
        ("headers.*", string("Headers added to every request.")),
        ("auth.password", string("Password of the user.")),
        ("auth.user", param(ParameterType::String, "", "User to authenticate as.", vec![Validation::Required])),
        (
            "collections.*.format",
            param(
                ParameterType::String,
                "raw",
                "Format of this collection's records.",
                vec![Validation::Inclusion(vec!["raw".into(), "json".into()])],
            ),
        ),
        (
            "collections.*.batchSize",
            param(
                ParameterType::Int,
                "100",
                "Records per batch for this collection.",
                vec![Validation::GreaterThan(0.0), Validation::LessThan(10_000.0)],
            ),
        ),
    ]);
    check_golden("nested.yaml", &s);
}

#[test]
fn every_parameter_type_golden() {
    let mut s = spec("types", "Every parameter type.", "", "v1.2.3", "");
    s.source_params = params([
        ("aString", param(ParameterType::String, "hello world", "A string.", vec![])),
        ("anInt", param(ParameterType::Int, "-7", "An int.", vec![])),
        ("aFloat", param(ParameterType::Float, "1.5", "A float.", vec![])),
        ("aBool", param(ParameterType::Bool, "true", "A bool.", vec![])),
        ("aFile", param(ParameterType::File, "/etc/hosts", "A file.", vec![])),
        ("aDuration", param(ParameterType::Duration, "1m30s", "A duration.", vec![])),
    ]);
    check_golden("types.yaml", &s);
}

#[test]
fn ordering_puts_sdk_last_required_first_then_bytes_golden() {
    let mut s = spec(
        "ordering",
        "Parameter order.",
        "Non-sdk first, then required first, then byte order.",
        "v0.0.1",
        "Conduit Rust SDK",
    );
    let required = || param(ParameterType::String, "", "", vec![Validation::Required]);
    s.destination_params = params([
        ("zeta", string("")),
        ("alpha", required()),
        ("Beta", string("")),
        ("sdk.batch.size", string("")),
        ("sdk.a", required()),
        ("a-b", string("")),
        ("a.b", string("")),
        ("a_b", string("")),
        ("sdkx", string("")),
        ("sdk", string("")),
        ("mu", required()),
    ]);
    check_golden("ordering.yaml", &s);
}

#[test]
fn multiline_descriptions_golden() {
    let mut s = spec(
        "multiline",
        "This summary is deliberately much longer than eighty characters so that a folding emitter would wrap it.",
        "First line.   \nSecond line had trailing spaces  \n\n  Indented fourth line.",
        "v0.1.0",
        "Conduit Rust SDK",
    );
    s.destination_params = params([
        ("block", string("Line one.\nLine two.")),
        ("newline", string("Ends with a newline.\n")),
        ("keep", string("Ends with two newlines.\n\n")),
        ("leading", string(" starts with a space\nsecond line")),
        ("leadingNewline", string("\nafter a blank line")),
        ("spaces", string("trailing spaces  \nnext line")),
        ("tab", string("a\tb\nc")),
    ]);
    check_golden("multiline.yaml", &s);
}

#[test]
fn quoting_sensitive_defaults_golden() {
    let mut s = spec(
        "quoting",
        "Defaults that need quotes: or not.",
        "Defaults yaml.v3 quotes because they would read back as another type.",
        "1",
        "@conduit",
    );
    s.source_params = params([
        ("zero", param(ParameterType::Int, "0", "An int.", vec![])),
        ("bool", param(ParameterType::Bool, "true", "A YAML bool.", vec![])),
        ("duration", param(ParameterType::Duration, "1s", "Not a number.", vec![])),
        ("format", param(ParameterType::String, "opencdc/json", "A slash is fine.", vec![])),
        ("asterisk", param(ParameterType::String, "*", "A lone asterisk is an alias indicator.", vec![])),
        ("yes", param(ParameterType::String, "yes", "YAML 1.1 bool.", vec![])),
        ("n", param(ParameterType::String, "n", "YAML 1.1 bool as a name.", vec![])),
    ]);
    check_golden("quoting.yaml", &s);
}

#[test]
fn every_validation_kind_with_go_g_numbers_golden() {
    let mut s = spec("validations", "Every validation kind.", "", "v0.1.0", "");
    s.destination_params = params([
        (
            "count",
            param(
                ParameterType::Int,
                "0",
                "Negative and fractional bounds.",
                vec![Validation::GreaterThan(-1.0), Validation::LessThan(1.5)],
            ),
        ),
        (
            "huge",
            param(
                ParameterType::Float,
                "1e-3",
                "Exponent forms of %g.",
                vec![Validation::GreaterThan(1e-5), Validation::LessThan(1e21)],
            ),
        ),
        (
            "bounded",
            param(
                ParameterType::Int,
                "50",
                "Between 0 and 100.",
                vec![Validation::GreaterThan(0.0), Validation::LessThan(100.0)],
            ),
        ),
        (
            "mode",
            param(
                ParameterType::String,
                "a",
                "Required, with an inclusion list.",
                vec![Validation::Required, Validation::Inclusion(vec!["a".into(), "b c".into(), "yes".into()])],
            ),
        ),
        (
            "name",
            param(
                ParameterType::String,
                "",
                "Not a reserved name.",
                vec![Validation::Exclusion(vec!["admin".into(), "root".into()])],
            ),
        ),
        (
            "pattern",
            param(ParameterType::String, "abc", "Lower-case letters.", vec![Validation::Regex("^[a-z]+$".into())]),
        ),
        ("hex", param(ParameterType::String, "#ffffff", "A colour.", vec![Validation::Regex("^#[0-9a-f]{6}$".into())])),
        (
            "regexColon",
            param(
                ParameterType::String,
                "a: b",
                "A pattern that needs quotes.",
                vec![Validation::Regex("a: b".into())],
            ),
        ),
    ]);
    check_golden("validations.yaml", &s);
}

#[test]
fn empty_destination_is_omitted_golden() {
    let mut s = spec("source-only", "A source without a destination.", "", "v0.1.0", "");
    s.source_params =
        params([("url", param(ParameterType::String, "", "Where to read from.", vec![Validation::Required]))]);
    check_golden("source_only.yaml", &s);
}

#[test]
fn default_specification_prints_empty_strings_and_no_sections_golden() {
    check_golden("empty.yaml", &Specification::default());
}

/// The file connector's destination (reference §3.3 middleware + `path`).
fn file_connector() -> Specification {
    let mut s = spec(
        "file",
        "A file source and destination plugin for Conduit.",
        "The file source allows you to listen to a local file and\n\
         detect any changes happening to it. Each change will create a new record. The\n\
         destination allows you to write record payloads to a destination file, each new\n\
         record payload is appended to the file in a new line.",
        "v0.9.0",
        "Meroxa, Inc.",
    );
    let gt = || vec![Validation::GreaterThan(-1.0)];
    s.destination_params = params([
        (
            "path",
            param(
                ParameterType::String,
                "",
                "Path is the file path used by the connector to read/write records.",
                vec![Validation::Required],
            ),
        ),
        (
            "sdk.batch.delay",
            param(
                ParameterType::Duration,
                "0",
                "Maximum delay before an incomplete batch is written to the destination.",
                vec![],
            ),
        ),
        (
            "sdk.batch.size",
            param(ParameterType::Int, "0", "Maximum size of batch before it gets written to the destination.", gt()),
        ),
        (
            "sdk.rate.burst",
            param(
                ParameterType::Int,
                "0",
                "Allow bursts of at most X records (0 or less means that bursts are not\n\
                 limited). Only takes effect if a rate limit per second is set. Note that\n\
                 if `sdk.batch.size` is bigger than `sdk.rate.burst`, the effective batch\n\
                 size will be equal to `sdk.rate.burst`.",
                gt(),
            ),
        ),
        (
            "sdk.rate.perSecond",
            param(
                ParameterType::Float,
                "0",
                "Maximum number of records written per second (0 means no rate limit).",
                gt(),
            ),
        ),
        (
            "sdk.record.format",
            param(
                ParameterType::String,
                "opencdc/json",
                "The format of the output record. See the Conduit documentation for a full\n\
                 list of supported formats (https://conduitdata.io/docs/using/connectors/configuration-parameters/output-format).",
                vec![],
            ),
        ),
        (
            "sdk.record.format.options",
            param(
                ParameterType::String,
                "",
                "Options to configure the chosen output record format. Options are normally\n\
                 key=value pairs separated with comma (e.g. opt1=val2,opt2=val2), except\n\
                 for the `template` record format, where options are a Go template.",
                vec![],
            ),
        ),
        (
            "sdk.schema.extract.key.enabled",
            param(ParameterType::Bool, "true", "Whether to extract and decode the record key with a schema.", vec![]),
        ),
        (
            "sdk.schema.extract.payload.enabled",
            param(
                ParameterType::Bool,
                "true",
                "Whether to extract and decode the record payload with a schema.",
                vec![],
            ),
        ),
    ]);
    s
}

#[test]
fn file_connector_destination_matches_its_connector_yaml() {
    check_golden("file_destination.yaml", &file_connector());
}

#[test]
fn out_of_date_file_panics_with_line_diff_and_hint() {
    let mut s = file_connector();
    s.version = "v0.10.0".into();
    let err = std::panic::catch_unwind(|| assert_spec_current(golden("file_destination.yaml"), &s)).unwrap_err();
    let message = err.downcast_ref::<String>().unwrap();
    assert!(message.contains("-  version: v0.9.0\n+  version: v0.10.0\n"), "{message}");
    assert!(message.contains("@@ line "), "{message}");
    assert!(message.contains("CONDUIT_UPDATE_SPEC=1"), "{message}");
}
