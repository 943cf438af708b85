//! Reading connector.yaml: the Go SDK's golden, errors, and the round trip.

use conduit_connector::spec::{SpecError, Specification};
use conduit_connector::{Parameter, ParameterType, Parameters, Validation};
use proptest::prelude::*;

/// The shape of the Go SDK's `TestYAMLSpecification` input.
const GO_GOLDEN: &str = r#"version: "1.0"
specification:
  name: foo
  summary: describe foo
  description: a foo connector
  version: v0.6.0
  author: foo bar
  source:
    parameters:
      - name: sunny
        description: sunny description
        type: string
        default: ""
        validations:
          - type: required
            value: ""
  destination:
    parameters:
      - name: rainy
        description: rainy description
        type: string
        default: ""
        validations:
          - type: required
            value: ""
"#;

fn required(description: &str) -> Parameter {
    Parameter {
        description: description.into(),
        ty: ParameterType::String,
        validations: vec![Validation::Required],
        ..Parameter::default()
    }
}

#[test]
fn go_sdk_yaml_specification_golden_reads_back() {
    let spec = Specification::from_yaml(GO_GOLDEN).unwrap();
    let expected = Specification {
        name: "foo".into(),
        summary: "describe foo".into(),
        description: "a foo connector".into(),
        version: "v0.6.0".into(),
        author: "foo bar".into(),
        source_params: [("sunny", required("sunny description"))].into_iter().collect(),
        destination_params: [("rainy", required("rainy description"))].into_iter().collect(),
    };
    assert_eq!(spec, expected);
    assert_eq!(spec.to_yaml(), GO_GOLDEN);
}

#[test]
fn missing_version_is_read_as_1_0() {
    let text = GO_GOLDEN.strip_prefix("version: \"1.0\"\n").unwrap();
    assert_eq!(Specification::from_yaml(text).unwrap().name, "foo");
}

#[test]
fn any_1_x_version_is_accepted() {
    for v in ["1.0", "1", "1.1", "1.0.0", "v1.2", "1.0.0+build"] {
        let text = GO_GOLDEN.replace("version: \"1.0\"", &format!("version: {v}"));
        assert!(Specification::from_yaml(&text).is_ok(), "{v}");
    }
}

#[test]
fn version_outside_caret_1_is_unsupported() {
    for v in ["2.0", "0.9", "1.0.0-beta", "abc", "\"\""] {
        let text = GO_GOLDEN.replace("version: \"1.0\"", &format!("version: {v}"));
        let err = Specification::from_yaml(&text).unwrap_err();
        assert!(matches!(err, SpecError::UnsupportedVersion(_)), "{v}: {err}");
        assert!(err.to_string().starts_with("unsupported version "), "{err}");
    }
    let err = Specification::from_yaml(&GO_GOLDEN.replace("\"1.0\"", "\"2.0\"")).unwrap_err();
    assert_eq!(err.to_string(), "unsupported version 2.0");
}

#[test]
fn unknown_fields_are_ignored() {
    let text = GO_GOLDEN
        .replace("  name: foo\n", "  name: foo\n  homepage: https://example.com\n  tags: [a, b]\n")
        .replace("        type: string\n", "        type: string\n        deprecated: true\n")
        + "extra:\n  nested: 1\n";
    assert_eq!(Specification::from_yaml(&text).unwrap(), Specification::from_yaml(GO_GOLDEN).unwrap());
}

#[test]
fn no_document_is_an_error() {
    for text in ["", "# only a comment\n", "---\n", "~\n"] {
        let err = Specification::from_yaml(text).unwrap_err();
        assert_eq!(err, SpecError::NoSpecification, "{text:?}");
        assert_eq!(err.to_string(), "no specification found in YAML");
    }
}

#[test]
fn only_the_first_document_is_read() {
    let text = format!("{GO_GOLDEN}---\nversion: \"9.0\"\n");
    assert_eq!(Specification::from_yaml(&text).unwrap().name, "foo");
}

#[test]
fn malformed_yaml_is_a_syntax_error() {
    let err = Specification::from_yaml("specification: [unclosed\n").unwrap_err();
    assert!(matches!(err, SpecError::Syntax(_)), "{err}");
}

#[test]
fn wrong_shapes_are_decoding_errors_naming_the_path() {
    let err = Specification::from_yaml("specification:\n  source:\n    parameters: 3\n").unwrap_err();
    assert_eq!(err.to_string(), "decoding error: specification.source.parameters: expected a sequence, found a scalar");
    let err = Specification::from_yaml("specification:\n  name: [a]\n").unwrap_err();
    assert_eq!(err.to_string(), "decoding error: specification.name: expected a string, found a sequence");
    let err = Specification::from_yaml("- a\n").unwrap_err();
    assert!(err.to_string().starts_with("decoding error: document"), "{err}");
}

#[test]
fn unknown_parameter_type_is_an_error() {
    let err = Specification::from_yaml(&GO_GOLDEN.replacen("type: string", "type: boolean", 1)).unwrap_err();
    assert_eq!(err, SpecError::UnknownParameterType("boolean".into()));
    assert_eq!(err.to_string(), "unknown parameter type: boolean");
}

#[test]
fn unknown_validation_type_is_an_error() {
    let err = Specification::from_yaml(&GO_GOLDEN.replacen("type: required", "type: mandatory", 1)).unwrap_err();
    assert_eq!(err.to_string(), "unknown validation type: mandatory");
}

#[test]
fn non_numeric_bound_names_the_parameter() {
    let text = GO_GOLDEN.replacen(
        "- type: required\n            value: \"\"",
        "- type: greater-than\n            value: ten",
        1,
    );
    let err = Specification::from_yaml(&text).unwrap_err();
    assert_eq!(
        err,
        SpecError::InvalidNumber { parameter: "sunny".into(), validation: "greater-than".into(), value: "ten".into() }
    );
    assert!(err.to_string().contains("\"sunny\""), "{err}");
}

#[test]
fn values_are_read_by_their_text_like_yaml_v3_strings() {
    let text = r#"
specification:
  name: n
  version: 1.10
  source:
    parameters:
      - name: count
        type: int
        default: 0x10
        validations:
          - type: greater-than
            value: 1e+21
          - type: less-than
            value: -1
          - type: inclusion
            value: " a , b,c "
          - type: exclusion
            value: x
          - type: regex
            value: "["
      - name: flag
        type: bool
        default: True
        validations: ~
      - name: nothing
        type: string
        default: ~
"#;
    let spec = Specification::from_yaml(text).unwrap();
    assert_eq!(spec.version, "1.10");
    let count = spec.source_params.get("count").unwrap();
    assert_eq!(count.default, "0x10");
    assert_eq!(
        count.validations,
        vec![
            Validation::GreaterThan(1e21),
            Validation::LessThan(-1.0),
            Validation::Inclusion(vec!["a".into(), "b".into(), "c".into()]),
            Validation::Exclusion(vec!["x".into()]),
            // An invalid regex is kept (Go keeps a nil regex, no error).
            Validation::Regex("[".into()),
        ]
    );
    assert_eq!(spec.source_params.get("flag").unwrap().default, "True");
    assert!(spec.source_params.get("flag").unwrap().validations.is_empty());
    assert_eq!(spec.source_params.get("nothing").unwrap().default, "");
    assert!(spec.destination_params.is_empty());
}

// ---------------------------------------------------------------------------
// Round trip

fn text() -> impl Strategy<Value = String> {
    prop_oneof![
        4 => any::<String>(),
        4 => "[ a-zA-Z0-9:#'\"\\-\\n\\t*&!|>%@`,\\[\\]{}?.~éß日😀]{0,24}",
        1 => prop::sample::select(vec![
            "", "0", "true", "yes", "n", "~", "null", "1:30", "0x10", "2006-01-02", "1e999", " lead", "trail ",
            "\n", "\n\n", "a\n", " a\nb", "a \nb", "- a", "---", "...", "1_000", "+.inf", ".5",
        ])
        .prop_map(str::to_owned),
    ]
}

fn list_item() -> impl Strategy<Value = String> {
    text().prop_filter("inclusion items are split on ',' and trimmed", |s| !s.contains(',') && s.trim() == s)
}

fn validation() -> impl Strategy<Value = Validation> {
    prop_oneof![
        Just(Validation::Required),
        any::<f64>().prop_filter("NaN != NaN", |v| !v.is_nan()).prop_map(Validation::GreaterThan),
        (-1e6f64..1e6).prop_map(Validation::LessThan),
        prop::collection::vec(list_item(), 1..4).prop_map(Validation::Inclusion),
        prop::collection::vec(list_item(), 1..4).prop_map(Validation::Exclusion),
        text().prop_map(|s| Validation::Regex(s.as_str().into())),
    ]
}

fn parameter_type() -> impl Strategy<Value = ParameterType> {
    prop::sample::select(vec![
        ParameterType::String,
        ParameterType::Int,
        ParameterType::Float,
        ParameterType::Bool,
        ParameterType::File,
        ParameterType::Duration,
    ])
}

fn parameters() -> impl Strategy<Value = Parameters> {
    prop::collection::vec((text(), text(), text(), parameter_type(), prop::collection::vec(validation(), 0..4)), 0..5)
        .prop_map(|list| {
            list.into_iter()
                .map(|(name, default, description, ty, validations)| {
                    (name, Parameter { default, description, ty, validations })
                })
                .collect()
        })
}

fn specification() -> impl Strategy<Value = Specification> {
    (text(), text(), text(), text(), text(), parameters(), parameters()).prop_map(
        |(name, summary, description, version, author, source_params, destination_params)| Specification {
            name,
            summary,
            description,
            version,
            author,
            source_params,
            destination_params,
        },
    )
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 512, ..ProptestConfig::default() })]

    /// Everything survives the round trip except what specgen changes on
    /// purpose: trailing spaces on the lines of the connector description.
    #[test]
    fn from_yaml_reads_back_what_to_yaml_writes(spec in specification()) {
        let yaml = spec.to_yaml();
        let parsed = Specification::from_yaml(&yaml)
            .map_err(|e| TestCaseError::fail(format!("{e}\n{yaml}")))?;
        let description: Vec<&str> = spec.description.split('\n').map(|l| l.trim_end_matches(' ')).collect();
        let expected = Specification { description: description.join("\n"), ..spec };
        prop_assert_eq!(parsed, expected, "{}", yaml);
    }

    /// The output is stable: writing what was read gives the same text.
    #[test]
    fn to_yaml_is_a_fixed_point(spec in specification()) {
        let yaml = spec.to_yaml();
        let again = Specification::from_yaml(&yaml).unwrap().to_yaml();
        prop_assert_eq!(yaml, again);
    }
}
