//! Markdown tables and readmegen tag replacement.

use conduit_connector::spec::{SpecError, Specification};
use conduit_connector::{Parameter, ParameterType, Validation};

fn spec() -> Specification {
    let p = |ty, default: &str, description: &str, validations| Parameter {
        default: default.into(),
        description: description.into(),
        ty,
        validations,
    };
    Specification {
        name: "test-connector".into(),
        summary: "test summary".into(),
        description: "Test description\nshould be able to handle new lines as well!\n".into(),
        version: "v0.1.0".into(),
        author: "test author".into(),
        source_params: [
            ("param1", p(ParameterType::String, "foo", "string param1 description", vec![Validation::Required])),
            ("param2", p(ParameterType::Int, "", "int param2 description", vec![])),
        ]
        .into_iter()
        .collect(),
        destination_params: [
            ("sdk.batch.size", p(ParameterType::Int, "0", "Batch size.", vec![])),
            ("format", p(ParameterType::String, "a|b", "Line one.\nPipe | here.", vec![])),
            ("enabled", p(ParameterType::Bool, "", "", vec![])),
            ("dir", p(ParameterType::String, "", "Target directory.", vec![Validation::Required])),
        ]
        .into_iter()
        .collect(),
    }
}

#[test]
fn table_lists_parameters_in_yaml_order_with_escaping() {
    assert_eq!(
        spec().destination_params_table(),
        "| Name | Type | Required | Default | Description |\n\
         |---|---|---|---|---|\n\
         | `dir` | string | ✔ |  | Target directory. |\n\
         | `enabled` | bool |  | `false` |  |\n\
         | `format` | string |  | `a\\|b` | Line one.<br/>Pipe \\| here. |\n\
         | `sdk.batch.size` | int |  | `0` | Batch size. |\n"
    );
    assert_eq!(Specification::markdown_table(&spec().source_params), spec().source_params_table());
}

#[test]
fn readme_tags_are_replaced_like_readmegen() {
    let readme = "# Title\n\
        Name: <!-- readmegen:name -->old<!-- /readmegen:name -->\n\
        Summary: <!-- readmegen:summary -->old<!-- /readmegen:summary -->\n\
        Description: <!-- readmegen:description -->old<!-- /readmegen:description -->\n\
        Version: <!-- readmegen:version --><!-- /readmegen:version -->\n\
        Author: <!-- readmegen:author  -->x<!-- /readmegen:author -->\n\
        <!-- readmegen:source.parameters.yaml -->\nold\n<!-- /readmegen:source.parameters.yaml -->\n\
        <!-- readmegen:source.parameters.table -->\nold\n<!-- /readmegen:source.parameters.table -->\n\
        <!-- readmegen:destination.parameters.yaml -->\nold\n<!-- /readmegen:destination.parameters.yaml -->\n\
        tail\n";
    let updated = spec().update_readme(readme).unwrap();
    let expected = "# Title\n\
        Name: <!-- readmegen:name -->Test-Connector<!-- /readmegen:name -->\n\
        Summary: <!-- readmegen:summary -->test summary<!-- /readmegen:summary -->\n\
        Description: <!-- readmegen:description -->\nTest description\nshould be able to handle new lines as well!\n<!-- /readmegen:description -->\n\
        Version: <!-- readmegen:version -->v0.1.0<!-- /readmegen:version -->\n\
        Author: <!-- readmegen:author  -->test author<!-- /readmegen:author -->\n\
        <!-- readmegen:source.parameters.yaml -->\n```yaml\nversion: 2.2\npipelines:\n  - id: example\n    status: running\n    connectors:\n      - id: example\n        plugin: \"test-connector\"\n        type: source\n        settings:\n\
        \x20         # string param1 description\n          # Type: string\n          # Required: yes\n          param1: \"foo\"\n\
        \x20         # int param2 description\n          # Type: int\n          # Required: no\n          param2: \"0\"\n```\n\
        <!-- /readmegen:source.parameters.yaml -->\n\
        <!-- readmegen:source.parameters.table -->\n\
        | Name | Type | Required | Default | Description |\n|---|---|---|---|---|\n\
        | `param1` | string | ✔ | `foo` | string param1 description |\n\
        | `param2` | int |  | `0` | int param2 description |\n\n\
        <!-- /readmegen:source.parameters.table -->\n\
        <!-- readmegen:destination.parameters.yaml -->\n```yaml\nversion: 2.2\npipelines:\n  - id: example\n    status: running\n    connectors:\n      - id: example\n        plugin: \"test-connector\"\n        type: destination\n        settings:\n\
        \x20         # Target directory.\n          # Type: string\n          # Required: yes\n          dir: \"\"\n\
        \x20         # \n          # Type: bool\n          # Required: no\n          enabled: \"false\"\n\
        \x20         # Line one. Pipe | here.\n          # Type: string\n          # Required: no\n          format: \"a|b\"\n\
        \x20         # Batch size.\n          # Type: int\n          # Required: no\n          sdk.batch.size: \"0\"\n```\n\
        <!-- /readmegen:destination.parameters.yaml -->\n\
        tail\n";
    assert_eq!(updated, expected);
    // Idempotent: updating again changes nothing.
    assert_eq!(spec().update_readme(&updated).unwrap(), updated);
}

#[test]
fn readme_without_tags_is_unchanged() {
    assert_eq!(spec().update_readme("# Nothing here\n").unwrap(), "# Nothing here\n");
}

#[test]
fn unknown_readmegen_tag_is_an_error() {
    let err = spec().update_readme("<!-- readmegen:license -->x<!-- /readmegen:license -->").unwrap_err();
    assert_eq!(err, SpecError::UnknownReadmegenTag("license".into()));
    assert_eq!(err.to_string(), "unknown readmegen tag: license");
}

#[test]
fn malformed_readmegen_markers_are_errors() {
    let cases = [
        ("<!-- readmegen:name x", "readmegen open tag not closed"),
        ("<!-- readmegen:name -->x", "readmegen close tag not found"),
        ("<!-- readmegen:name -->x<!-- /readmegen:name", "readmegen close tag not closed"),
        ("<!-- readmegen:name -->x<!-- /readmegen:names -->", "readmegen close tag not found"),
    ];
    for (readme, message) in cases {
        assert_eq!(spec().update_readme(readme).unwrap_err().to_string(), message, "{readme:?}");
    }
}

/// An `Option` field is `None` when absent: the docs show no default for it, where a plain
/// field without a default shows the zero value it parses to.
#[test]
fn option_fields_without_default_document_no_zero_value() {
    use conduit_connector::Config;

    #[derive(Debug, Config)]
    struct Ports {
        /// Optional port.
        port: Option<u16>,
        /// Plain count.
        count: u16,
        /// Optional with a default.
        #[param(default = 5)]
        retries: Option<u8>,
        /// Optional flag.
        verbose: Option<bool>,
    }

    let params = Ports::parameters();
    assert_eq!(
        Specification::markdown_table(&params),
        "| Name | Type | Required | Default | Description |\n\
         |---|---|---|---|---|\n\
         | `count` | int |  | `0` | Plain count. |\n\
         | `port` | int |  |  | Optional port. |\n\
         | `retries` | int |  | `5` | Optional with a default. |\n\
         | `verbose` | bool |  |  | Optional flag. |\n"
    );
    let spec = Specification { name: "ports".into(), destination_params: params, ..Specification::default() };
    let readme = spec
        .update_readme(
            "<!-- readmegen:destination.parameters.yaml -->\n<!-- /readmegen:destination.parameters.yaml -->",
        )
        .unwrap();
    assert!(readme.contains("count: \"0\"") && readme.contains("retries: \"5\""), "{readme}");
    assert!(readme.contains("port: \"\"") && readme.contains("verbose: \"\""), "{readme}");
    // What the docs say is what the parser does.
    let parsed = Ports::from_config(Vec::<(&str, &str)>::new()).unwrap();
    assert_eq!((parsed.port, parsed.count, parsed.retries, parsed.verbose), (None, 0, Some(5), None));
    // The spec itself (connector.yaml) is unchanged: no default either way, as Go's paramgen.
    assert_eq!(Ports::parameters().get("port").unwrap().default, "");
}
