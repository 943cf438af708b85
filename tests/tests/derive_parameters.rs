//! `parameters()` of structs using every feature of `#[derive(Config)]`.

use std::collections::{BTreeMap, HashMap};
use std::path::PathBuf;
use std::time::Duration;

use conduit_connector::{Config, ConfigValue, ParameterType, Parameters, Validation};

/// Output formats.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, ConfigValue)]
pub enum Format {
    #[default]
    Raw,
    Json,
    #[param(name = "debezium/json")]
    Debezium,
    HTTPRequest,
}

#[derive(Debug, PartialEq, ConfigValue)]
#[config(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum Level {
    InfoLevel,
    DebugLevel,
}

#[derive(Debug, PartialEq, Config)]
pub struct Auth {
    /// The user name.
    #[param(required)]
    pub user: String,
    /// The password.
    pub password: Option<String>,
}

#[derive(Debug, PartialEq, Config)]
pub struct Middleware {
    /// Records per batch.
    #[param(name = "sdk.batch.size", default = 0, gt = -1)]
    pub batch_size: usize,
    /// Longest wait for a batch.
    #[param(name = "sdk.batch.delay", default = "0")]
    pub batch_delay: Duration,
}

#[derive(Debug, PartialEq, Config)]
pub struct Endpoint {
    /// Where to send.
    #[param(required)]
    pub url: String,
    #[param(default = 3)]
    pub retries: u8,
}

type Millis = u64;

/// A config using every feature.
#[derive(Debug, Config)]
pub struct Everything {
    /// Directory the files are written to.
    #[param(required)]
    pub directory: String,
    /// Records per write.
    #[param(default = 100, gt = 0, lt = 10_000)]
    pub batch_size: u32,
    #[param(default = "1s")]
    pub flush_interval: Duration,
    #[param(default = "raw", inclusion = ["raw", "json"])]
    pub format_name: String,
    #[param(name = "my-name", regex = "^[a-z]+$")]
    pub prefix: Option<String>,
    pub auth: Auth,
    #[param(flatten)]
    pub sdk: Middleware,
    /// Extra headers.
    pub headers: HashMap<String, String>,
    pub endpoints: BTreeMap<String, Endpoint>,
    #[param(skip)]
    pub cache: Vec<u8>,
    /// A list.
    pub tags: Vec<String>,
    pub format: Format,
    pub level: Option<Level>,
    #[param(file)]
    pub cert: PathBuf,
    /**
        Block comment.
          Indented line.
    */
    pub ratio: f64,
    #[param(description = "Overrides the doc.")]
    /// Ignored doc.
    pub enabled: bool,
    #[param(lt = 100)]
    #[param(gt = 1, required)]
    pub ordered: i64,
    pub r#type: String,
    pub timeout: Millis,
    #[param(default = -5, exclusion = ["7"])]
    pub offset: i32,
    #[param(default = 1.5)]
    pub factor: f32,
    #[param(default = true)]
    pub verbose: bool,
}

#[derive(Debug, Config)]
#[config(rename_all = "kebab-case")]
pub struct Kebab {
    pub batch_size: u32,
    #[param(name = "explicitName")]
    pub other_field: u32,
}

fn names(params: &Parameters) -> Vec<&str> {
    params.iter().map(|(n, _)| n).collect()
}

#[test]
fn every_feature_produces_the_expected_keys() {
    let params = Everything::parameters();
    assert_eq!(
        names(&params),
        [
            "auth.password",
            "auth.user",
            "batchSize",
            "cert",
            "directory",
            "enabled",
            "endpoints.*.retries",
            "endpoints.*.url",
            "factor",
            "flushInterval",
            "format",
            "formatName",
            "headers.*",
            "level",
            "my-name",
            "offset",
            "ordered",
            "ratio",
            "sdk.batch.delay",
            "sdk.batch.size",
            "tags",
            "timeout",
            "type",
            "verbose",
        ]
    );
}

#[test]
fn value_parameters_carry_type_default_and_validations() {
    let params = Everything::parameters();
    let batch = params.get("batchSize").unwrap();
    assert_eq!(batch.ty, ParameterType::Int);
    assert_eq!(batch.default, "100");
    assert_eq!(batch.description, "Records per write.");
    assert_eq!(batch.validations, [Validation::GreaterThan(0.0), Validation::LessThan(10000.0)]);

    let dir = params.get("directory").unwrap();
    assert_eq!(dir.ty, ParameterType::String);
    assert_eq!(dir.default, "");
    assert_eq!(dir.validations, [Validation::Required]);

    assert_eq!(params.get("flushInterval").unwrap().ty, ParameterType::Duration);
    assert_eq!(params.get("flushInterval").unwrap().default, "1s");
    assert_eq!(params.get("ratio").unwrap().ty, ParameterType::Float);
    assert_eq!(params.get("enabled").unwrap().ty, ParameterType::Bool);
    assert_eq!(params.get("tags").unwrap().ty, ParameterType::String);
    assert_eq!(params.get("cert").unwrap().ty, ParameterType::File);
    assert_eq!(params.get("offset").unwrap().default, "-5");
    assert_eq!(params.get("offset").unwrap().validations, [Validation::Exclusion(vec!["7".into()])]);
    assert_eq!(params.get("factor").unwrap().default, "1.5");
    assert_eq!(params.get("verbose").unwrap().default, "true");
    assert_eq!(
        params.get("formatName").unwrap().validations,
        [Validation::Inclusion(vec!["raw".into(), "json".into()])]
    );
    assert_eq!(params.get("my-name").unwrap().validations, [Validation::Regex("^[a-z]+$".into())]);
}

#[test]
fn validations_keep_the_order_written_across_attributes() {
    let params = Everything::parameters();
    assert_eq!(
        params.get("ordered").unwrap().validations,
        [Validation::LessThan(100.0), Validation::GreaterThan(1.0), Validation::Required]
    );
}

#[test]
fn enums_get_an_automatic_inclusion_list() {
    let params = Everything::parameters();
    let format = params.get("format").unwrap();
    assert_eq!(format.ty, ParameterType::String);
    assert_eq!(
        format.validations,
        [Validation::Inclusion(vec!["raw".into(), "json".into(), "debezium/json".into(), "httpRequest".into()])]
    );
    let level = params.get("level").unwrap();
    assert_eq!(level.validations, [Validation::Inclusion(vec!["INFO_LEVEL".into(), "DEBUG_LEVEL".into()])]);
}

#[test]
fn descriptions_follow_rustdoc() {
    let params = Everything::parameters();
    assert_eq!(params.get("ratio").unwrap().description, "Block comment.\n  Indented line.");
    assert_eq!(params.get("enabled").unwrap().description, "Overrides the doc.");
    assert_eq!(params.get("headers.*").unwrap().description, "Extra headers.");
    assert_eq!(params.get("endpoints.*.url").unwrap().description, "Where to send.");
    assert_eq!(params.get("sdk.batch.size").unwrap().description, "Records per batch.");
}

#[test]
fn type_alias_fields_behave_like_the_aliased_type() {
    let params = Everything::parameters();
    assert_eq!(params.get("timeout").unwrap().ty, ParameterType::Int);
}

#[test]
fn rename_all_applies_and_name_overrides_it() {
    assert_eq!(names(&Kebab::parameters()), ["batch-size", "explicitName"]);
}

/// Doc blocks whose text starts on the opening line, as people write them.
#[derive(Debug, Config)]
pub struct OpeningLineDocs {
    /** Directory the files are written to.
    It is created if it does not exist. */
    pub directory: String,
    /** Records per write.
     *  At most 10,000.
     */
    pub batch_size: u32,
    /** First.

            Indented under the second paragraph.
        Second paragraph.
    */
    pub notes: String,
}

#[test]
fn block_docs_with_text_on_the_opening_line_lose_the_source_indentation() {
    let params = OpeningLineDocs::parameters();
    assert_eq!(
        params.get("directory").unwrap().description,
        "Directory the files are written to.\nIt is created if it does not exist."
    );
    assert_eq!(params.get("batchSize").unwrap().description, "Records per write.\nAt most 10,000.");
    assert_eq!(
        params.get("notes").unwrap().description,
        "First.\n\n    Indented under the second paragraph.\nSecond paragraph."
    );
}
