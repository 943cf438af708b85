//! The SDK's acceptance tests with schema-encoded records: payloads
//! Avro-encoded as a Go source sends them, decoded through an in-process
//! schema service, read back from the directory as JSON files.

use std::path::Path;
use std::sync::Arc;

use apache_avro::types::Value;
use conduit_connector::opencdc::{Change, Data, Operation, Record};
use conduit_connector::schema::{InMemorySchemaService, SchemaType};
use conduit_connector::testing::{DestinationAcceptance, Rng};
use directory_destination::{DirectoryDestination, specification};

const SUBJECT: &str = "acceptance.payload";
const SCHEMA: &str = r#"{"name":"record","type":"record","fields":[
  {"name":"id","type":"long"},
  {"name":"name","type":["string","null"]},
  {"name":"photo","type":"bytes"},
  {"name":"score","type":"double"},
  {"name":"tags","type":{"type":"array","items":["null","string"]}}]}"#;

/// The registry with the one schema the generated records name (version 1).
fn one_schema() -> Arc<InMemorySchemaService> {
    let registry = InMemorySchemaService::new();
    registry.register(SUBJECT, SchemaType::Avro, SCHEMA);
    Arc::new(registry)
}

/// A record with a raw file-name key and an Avro payload named by its
/// metadata.
fn encoded_record(rng: &mut Rng, i: usize, operation: Operation) -> Record {
    let schema = apache_avro::Schema::parse_str(SCHEMA).unwrap();
    let name = if i.is_multiple_of(3) {
        Value::Union(1, Box::new(Value::Null))
    } else {
        Value::Union(0, Box::new(Value::String(rng.string(12))))
    };
    let value = Value::Record(vec![
        ("id".into(), Value::Long(i as i64)),
        ("name".into(), name),
        ("photo".into(), Value::Bytes(rng.string(5).into_bytes())),
        ("score".into(), Value::Double(i as f64 / 4.0)),
        ("tags".into(), Value::Array(vec![Value::Union(1, Box::new(Value::String(rng.string(3))))])),
    ]);
    let bytes = apache_avro::writer::datum::GenericDatumWriter::builder(&schema)
        .build()
        .unwrap()
        .write_value_to_vec(value)
        .unwrap();
    let mut record = Record {
        position: rng.string(32).into_bytes().into(),
        operation,
        key: Some(Data::Raw(rng.string(32).into_bytes())),
        payload: Change { before: None, after: Some(Data::Raw(bytes)) },
        ..Record::default()
    };
    record.metadata.set_payload_schema_subject(SUBJECT);
    record.metadata.set_payload_schema_version(1);
    record
}

fn read_dir(dir: &Path) -> Result<Vec<Record>, String> {
    use std::os::unix::ffi::OsStrExt;
    let mut records = Vec::new();
    for entry in std::fs::read_dir(dir).map_err(|e| e.to_string())? {
        let entry = entry.map_err(|e| e.to_string())?;
        let contents = std::fs::read(entry.path()).map_err(|e| e.to_string())?;
        records.push(Record {
            operation: Operation::Create,
            key: Some(Data::Raw(entry.file_name().as_bytes().to_vec())),
            payload: Change { before: None, after: Some(Data::Raw(contents)) },
            ..Record::default()
        });
    }
    Ok(records)
}

#[tokio::test]
async fn the_acceptance_tests_pass_with_avro_encoded_payloads() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("out");
    let service = one_schema();
    let read_from = dir.clone();
    let report = DestinationAcceptance::<DirectoryDestination>::new(specification())
        .config([("directory", dir.to_str().unwrap())])
        .generate(encoded_record)
        .schema_service(service.clone())
        .read_back(move |_| read_dir(&read_from))
        .run()
        .await;
    report.assert_passed();
    // The files hold the decoded JSON, not Avro.
    let first = std::fs::read_dir(&dir).unwrap().next().unwrap().unwrap();
    let text = std::fs::read_to_string(first.path()).unwrap();
    assert!(text.starts_with("{\"id\":"), "{text}");
    // Fetched by the runner once, and once more to compute what to expect.
    assert_eq!(service.get_calls(), 2);
}

#[tokio::test]
async fn the_acceptance_tests_fail_when_records_need_a_schema_service_that_is_missing() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("out");
    let report = DestinationAcceptance::<DirectoryDestination>::new(specification())
        .config([("directory", dir.to_str().unwrap())])
        .generate(encoded_record)
        .run()
        .await;
    let failures = report.failures_of("TestDestination_Write_Success").unwrap();
    assert!(failures.iter().any(|f| f.contains("decoding needs Conduit's schema service")), "{failures:#?}");
}
