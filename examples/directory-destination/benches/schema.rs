//! Schema extraction cost per record next to the cost of writing that record's file, in one
//! run: a 10-field Avro payload decoded into structured data, alone (`avro_decode`) and
//! through the runner's extraction step (`extract_record`: metadata lookup, cached schema,
//! decode, with a current-thread tokio `block_on` around it), and the directory destination
//! writing the decoded payload's JSON to a new file, atomically (`write_decoded_file`) — on
//! tmpfs (`/dev/shm`, or `BENCH_DIR`), as the `write` bench.
//!
//! `cargo bench -p directory-destination --bench schema`

use std::hint::black_box;
use std::sync::Arc;

use apache_avro::types::Value;
use conduit_connector::middleware::SchemaExtraction;
use conduit_connector::opencdc::{Change, Data, Operation, Record};
use conduit_connector::schema::avro::{AvroSchema, decode};
use conduit_connector::schema::{InMemorySchemaService, SchemaType};
use directory_destination::fs::{DirWriter, WriteOptions};

const SCHEMA: &str = r#"{"name":"record","type":"record","fields":[
  {"name":"active","type":"boolean"},
  {"name":"address","type":{"name":"record.address","type":"record","fields":[
    {"name":"city","type":"string"},{"name":"zip","type":["string","null"]}]}},
  {"name":"amount","type":"double"},
  {"name":"created","type":"long"},
  {"name":"email","type":["string","null"]},
  {"name":"id","type":"long"},
  {"name":"name","type":"string"},
  {"name":"photo","type":"bytes"},
  {"name":"quantity","type":"long"},
  {"name":"tags","type":{"type":"array","items":["null","string"]}}]}"#;

fn payload() -> Vec<u8> {
    let s = |v: &str| Value::String(v.into());
    let value = Value::Record(vec![
        ("active".into(), Value::Boolean(true)),
        (
            "address".into(),
            Value::Record(vec![("city".into(), s("Berlin")), ("zip".into(), Value::Union(0, Box::new(s("10115"))))]),
        ),
        ("amount".into(), Value::Double(1234.5)),
        ("created".into(), Value::Long(1_732_000_000_000)),
        ("email".into(), Value::Union(0, Box::new(s("ada@example.com")))),
        ("id".into(), Value::Long(42)),
        ("name".into(), s("Ada Lovelace")),
        ("photo".into(), Value::Bytes(vec![7; 32])),
        ("quantity".into(), Value::Long(3)),
        ("tags".into(), Value::Array(vec![Value::Union(1, Box::new(s("new"))), Value::Union(1, Box::new(s("vip")))])),
    ]);
    let schema = apache_avro::Schema::parse_str(SCHEMA).expect("schema");
    apache_avro::writer::datum::GenericDatumWriter::builder(&schema)
        .build()
        .expect("writer")
        .write_value_to_vec(value)
        .expect("encodes")
}

fn main() {
    divan::main();
}

/// `schema::avro::decode` of the 10-field payload.
#[divan::bench]
fn avro_decode(bencher: divan::Bencher<'_, '_>) {
    let schema = AvroSchema::parse(SCHEMA.as_bytes()).expect("schema");
    let bytes = payload();
    bencher.bench_local(|| decode(&schema, black_box(&bytes)).map(|m| m.len()).unwrap_or(0));
}

/// One record through the runner's extraction step (schema cached).
#[divan::bench]
fn extract_record(bencher: divan::Bencher<'_, '_>) {
    let rt = tokio::runtime::Builder::new_current_thread().build().expect("runtime");
    let mut extraction = SchemaExtraction::new(false, true);
    let registry = InMemorySchemaService::new();
    registry.register("orders.payload", SchemaType::Avro, SCHEMA);
    extraction.set_service(Some(Arc::new(registry)));
    let mut record = Record {
        position: "p".into(),
        operation: Operation::Create,
        payload: Change { before: None, after: Some(Data::Raw(payload())) },
        ..Record::default()
    };
    record.metadata.set_payload_schema_subject("orders.payload");
    record.metadata.set_payload_schema_version(1);
    bencher.with_inputs(|| record.clone()).bench_local_values(|mut r| {
        rt.block_on(extraction.decode(&mut r)).map(|()| r).map(|r| r.payload.after.is_some()).unwrap_or(false)
    });
}

/// The directory destination writing the decoded payload's JSON to a new file (atomic, no
/// sync): what the record costs after decoding.
#[divan::bench]
fn write_decoded_file(bencher: divan::Bencher<'_, '_>) {
    let schema = AvroSchema::parse(SCHEMA.as_bytes()).expect("schema");
    let json = Data::Structured(decode(&schema, &payload()).expect("decodes")).bytes().into_owned();
    let base = std::env::var_os("BENCH_DIR").map_or_else(|| std::path::PathBuf::from("/dev/shm"), Into::into);
    let tmp = tempfile::Builder::new().prefix("schema-bench").tempdir_in(base).expect("scratch directory");
    let mut writer = DirWriter::open(tmp.path(), WriteOptions::default()).expect("opens");
    let mut i = 0u64;
    bencher.bench_local(|| {
        i += 1;
        writer.write(format!("record-{i:010}").as_bytes(), black_box(&json)).expect("writes")
    });
}
