//! The record-format middleware (`sdk.record.format`,
//! `sdk.record.format.options`): selection at configure, what
//! `Batch::encode` produces, and clear errors for unsupported formats.

mod common;
use common::Warnings;

use conduit_connector::Config;
use conduit_connector::destination::{Batch, BoxError, ConfigureError, Destination, DestinationRunner, WriteResult};
use conduit_connector::middleware::RecordFormat;
use conduit_connector::opencdc::{Change, Data, Operation, Position, Record, to_debezium_json};

/// No parameters of its own.
#[derive(Debug, Config)]
struct NoConfig {}

/// Keeps the format it was given and the encoded records.
#[derive(Debug, Default)]
struct Encoder {
    format: Option<RecordFormat>,
    encoded: Vec<Vec<u8>>,
}

impl Destination for Encoder {
    type Config = NoConfig;

    async fn configure(_: NoConfig) -> Result<Self, BoxError> {
        Ok(Encoder::default())
    }

    async fn write(&mut self, batch: Batch<'_>) -> WriteResult {
        self.format = Some(batch.format().clone());
        for record in batch.records() {
            let mut out = Vec::new();
            batch.encode(record, &mut out);
            self.encoded.push(out);
        }
        WriteResult::All
    }
}

fn record() -> Record {
    let mut r = Record {
        position: Position::from("pos-1"),
        operation: Operation::Update,
        key: Some(Data::Raw(b"id-1".to_vec())),
        payload: Change { before: None, after: Some(Data::Raw(br#"{"x":1}"#.to_vec())) },
        ..Record::default()
    };
    r.metadata.0.insert("conduit.source.plugin.name".into(), "example".into());
    r
}

async fn encode_with(config: &[(&str, &str)]) -> (RecordFormat, Vec<u8>) {
    let mut runner = DestinationRunner::<Encoder>::configure(config).await.expect("configure");
    runner.open().await.unwrap();
    let acks = runner.write(vec![record()]).await;
    assert_eq!(acks.len(), 1);
    assert_eq!(acks[0].error, None);
    let d = runner.destination();
    (d.format.clone().unwrap(), d.encoded[0].clone())
}

async fn config_errors(config: &[(&str, &str)]) -> Vec<(String, String)> {
    match DestinationRunner::<Encoder>::configure(config).await {
        Ok(_) => panic!("expected {config:?} to be rejected"),
        Err(ConfigureError::Invalid(errors)) => errors.iter().map(|e| (e.key().to_owned(), e.to_string())).collect(),
        Err(e) => panic!("expected config errors, got {e}"),
    }
}

#[tokio::test]
async fn default_format_is_opencdc_json() {
    let (format, bytes) = encode_with(&[]).await;
    assert_eq!(format, RecordFormat::OpenCdcJson);
    assert_eq!(bytes, record().to_json());
}

#[tokio::test]
async fn explicit_opencdc_json_is_the_records_json() {
    let (format, bytes) = encode_with(&[("sdk.record.format", "opencdc/json")]).await;
    assert_eq!(format, RecordFormat::OpenCdcJson);
    assert_eq!(bytes, record().to_json());
}

#[tokio::test]
async fn debezium_json_defaults_its_raw_data_key() {
    let (format, bytes) = encode_with(&[("sdk.record.format", "debezium/json")]).await;
    assert_eq!(format, RecordFormat::DebeziumJson { schema_name: None, raw_data_key: "opencdc.rawData".to_owned() });
    let mut want = Vec::new();
    to_debezium_json(&record(), None, "opencdc.rawData", &mut want);
    assert_eq!(bytes, want);
    let text = String::from_utf8(bytes).unwrap();
    assert!(text.contains(r#""op":"u""#), "{text}");
}

#[tokio::test]
async fn debezium_json_options_set_schema_name_and_raw_data_key() {
    let (format, bytes) = encode_with(&[
        ("sdk.record.format", "debezium/json"),
        ("sdk.record.format.options", " debezium.schema.name=orders,debezium.rawData.key=raw "),
    ])
    .await;
    assert_eq!(
        format,
        RecordFormat::DebeziumJson { schema_name: Some("orders".to_owned()), raw_data_key: "raw".to_owned() }
    );
    let mut want = Vec::new();
    to_debezium_json(&record(), Some("orders"), "raw", &mut want);
    assert_eq!(bytes, want);
}

#[tokio::test]
async fn an_unknown_format_is_rejected_at_configure_naming_sdk_record_format() {
    let errors = config_errors(&[("sdk.record.format", "avro/binary")]).await;
    assert_eq!(errors.len(), 1, "{errors:#?}");
    assert_eq!(errors[0].0, "sdk.record.format");
    assert!(
        errors[0]
            .1
            .contains(r#"invalid sdk.record.format: "avro/binary" not found in [debezium/json opencdc/json template]"#),
        "{}",
        errors[0].1
    );
}

#[tokio::test]
async fn the_template_format_is_rejected_as_unsupported() {
    let errors = config_errors(&[("sdk.record.format", "template"), ("sdk.record.format.options", "{{ . }}")]).await;
    assert_eq!(errors.len(), 1, "{errors:#?}");
    assert_eq!(errors[0].0, "sdk.record.format");
    assert!(errors[0].1.contains(r#"the "template" record format"#), "{}", errors[0].1);
    assert!(errors[0].1.contains("not supported by the Rust SDK"), "{}", errors[0].1);
}

/// Configures and writes one record with `config`, collecting the warnings
/// logged on the way (the test runtime is single-threaded, so a thread-local
/// subscriber sees them all).
async fn encode_collecting_warnings(config: &[(&str, &str)]) -> (RecordFormat, Vec<u8>, Vec<String>) {
    let warnings = Warnings::containing("sdk.record.format");
    let _guard = tracing::subscriber::set_default(warnings.clone());
    let (format, bytes) = encode_with(config).await;
    let messages = warnings.0.lock().unwrap().clone();
    (format, bytes, messages)
}

#[tokio::test]
async fn unknown_format_options_are_ignored_like_go_with_one_warning() {
    let (format, bytes, warnings) = encode_collecting_warnings(&[
        ("sdk.record.format", "debezium/json"),
        ("sdk.record.format.options", "colour=red,debezium.schema.name=orders,size"),
    ])
    .await;
    assert_eq!(
        format,
        RecordFormat::DebeziumJson {
            schema_name: Some("orders".to_owned()),
            raw_data_key: "opencdc.rawData".to_owned()
        }
    );
    let mut want = Vec::new();
    to_debezium_json(&record(), Some("orders"), "opencdc.rawData", &mut want);
    assert_eq!(bytes, want);
    assert_eq!(
        warnings,
        vec![
            r#"ignoring unknown sdk.record.format.options for "debezium/json": "colour", "size" (known options: debezium.schema.name, debezium.rawData.key)"#
        ]
    );

    let (format, bytes, warnings) = encode_collecting_warnings(&[("sdk.record.format.options", "pretty=true")]).await;
    assert_eq!(format, RecordFormat::OpenCdcJson);
    assert_eq!(bytes, record().to_json());
    assert_eq!(
        warnings,
        vec![r#"ignoring unknown sdk.record.format.options for "opencdc/json": "pretty" (known options: none)"#]
    );
}

#[tokio::test]
async fn known_and_empty_format_options_give_no_warning() {
    for options in ["", "  ", "debezium.schema.name=orders,", "debezium.rawData.key=raw,,debezium.schema.name="] {
        let (_, _, warnings) = encode_collecting_warnings(&[
            ("sdk.record.format", "debezium/json"),
            ("sdk.record.format.options", options),
        ])
        .await;
        assert_eq!(warnings, Vec::<String>::new(), "{options:?}");
    }
}

#[test]
fn format_options_are_parsed_as_go_parses_them() {
    let debezium = |options| RecordFormat::parse("debezium/json", options).unwrap();
    let format = |name: Option<&str>, key: &str| RecordFormat::DebeziumJson {
        schema_name: name.map(str::to_owned),
        raw_data_key: key.to_owned(),
    };
    // An empty raw data key means the default (Go: `if c.RawDataKey == ""`).
    assert_eq!(debezium("debezium.rawData.key="), format(None, "opencdc.rawData"));
    // Items are not trimmed: " debezium.schema.name" is another (unknown) option.
    assert_eq!(debezium("debezium.rawData.key=k, debezium.schema.name=x"), format(None, "k"));
    // The later of two equal keys wins, as in Go's option map.
    assert_eq!(debezium("debezium.schema.name=a,debezium.schema.name=b"), format(Some("b"), "opencdc.rawData"));
    // Values keep everything after the first `=`.
    assert_eq!(debezium("debezium.schema.name=a=b"), format(Some("a=b"), "opencdc.rawData"));
}

#[tokio::test]
async fn a_bad_format_is_reported_together_with_other_problems() {
    let errors = config_errors(&[("sdk.record.format", "xml"), ("bogus", "1")]).await;
    let keys: Vec<&str> = errors.iter().map(|(k, _)| k.as_str()).collect();
    assert_eq!(keys, vec!["bogus", "sdk.record.format"], "{errors:#?}");
}

#[tokio::test]
async fn the_format_is_checked_only_once_the_other_sdk_parameters_decode() {
    // The format check is the middleware's validate hook, which needs a
    // decoded middleware config: a bad sdk.batch.size hides it.
    let errors = config_errors(&[("sdk.record.format", "xml"), ("sdk.batch.size", "x")]).await;
    let keys: Vec<&str> = errors.iter().map(|(k, _)| k.as_str()).collect();
    assert_eq!(keys, vec!["sdk.batch.size"], "{errors:#?}");
}

#[test]
fn record_format_parse_accepts_the_two_supported_formats_only() {
    assert_eq!(RecordFormat::parse("opencdc/json", "").unwrap(), RecordFormat::OpenCdcJson);
    assert_eq!(RecordFormat::parse("opencdc/json", "   ").unwrap(), RecordFormat::OpenCdcJson);
    assert!(matches!(RecordFormat::parse("debezium/json", "").unwrap(), RecordFormat::DebeziumJson { .. }));
    for bad in ["", "OPENCDC/JSON", "opencdc", "template", "debezium/avro"] {
        assert!(RecordFormat::parse(bad, "").is_err(), "{bad:?} must be rejected");
    }
}
