//! Avro → structured data (destination schema extraction): decode one ~1 KiB datum of a
//! 10-field record (strings, ints, a double, a bool, bytes, a nullable union, a nested record),
//! and the same followed by its JSON encoding (what a destination writing the payload pays).
//!
//! `cargo bench -p conduit-connector --bench avro`

use std::hint::black_box;

use apache_avro::types::Value as A;
use apache_avro::writer::datum::GenericDatumWriter;
use conduit_connector::opencdc::write_json_object;
use conduit_connector::schema::avro::{AvroSchema, decode};

const SCHEMA: &str = r#"{"type":"record","name":"record","fields":[
    {"name":"active","type":"boolean"},
    {"name":"address","type":{"type":"record","name":"record.address","fields":[
        {"name":"city","type":"string"},{"name":"street","type":"string"},{"name":"zip","type":["null","long"]}]}},
    {"name":"blob","type":"bytes"},
    {"name":"count","type":"int"},
    {"name":"description","type":"string"},
    {"name":"id","type":"long"},
    {"name":"name","type":"string"},
    {"name":"note","type":["null","string"]},
    {"name":"price","type":"double"},
    {"name":"score","type":"long"}]}"#;

fn datum() -> Vec<u8> {
    let schema = apache_avro::Schema::parse_str(SCHEMA).expect("schema");
    let s = |t: &str| A::String(t.to_owned());
    let value = A::Record(vec![
        ("active".into(), A::Boolean(true)),
        (
            "address".into(),
            A::Record(vec![
                ("city".into(), s("Amsterdam")),
                ("street".into(), s("Keizersgracht 123")),
                ("zip".into(), A::Union(1, Box::new(A::Long(1015)))),
            ]),
        ),
        ("blob".into(), A::Bytes((0..=255u8).cycle().take(400).collect())),
        ("count".into(), A::Int(42)),
        ("description".into(), s(&"lorem ipsum dolor sit amet ".repeat(16))),
        ("id".into(), A::Long(1_234_567_890_123)),
        ("name".into(), s("Ada Lovelace, Countess of Lovelace")),
        ("note".into(), A::Union(1, Box::new(s("first customer")))),
        ("price".into(), A::Double(12.99)),
        ("score".into(), A::Long(-17)),
    ]);
    GenericDatumWriter::builder(&schema).build().expect("writer").write_value_to_vec(value).expect("datum")
}

fn main() {
    divan::main();
}

/// `decode` of one ~1 KiB datum.
#[divan::bench]
fn decode_10_fields_1kib(bencher: divan::Bencher<'_, '_>) {
    let schema = AvroSchema::parse(SCHEMA.as_bytes()).expect("schema");
    let bytes = datum();
    bencher
        .counter(divan::counter::BytesCount::new(bytes.len()))
        .bench_local(|| decode(&schema, black_box(&bytes)).map(|d| d.len()).unwrap_or(0));
}

/// `decode`, then the JSON of the structured data into a reused buffer.
#[divan::bench]
fn decode_and_json_10_fields_1kib(bencher: divan::Bencher<'_, '_>) {
    let schema = AvroSchema::parse(SCHEMA.as_bytes()).expect("schema");
    let bytes = datum();
    let mut out = Vec::new();
    bencher.counter(divan::counter::BytesCount::new(bytes.len())).bench_local(|| {
        out.clear();
        if let Ok(data) = decode(&schema, black_box(&bytes)) {
            write_json_object(&data, &mut out);
        }
        out.len()
    });
}

/// `AvroSchema::parse` of the 10-field schema (once per subject and version).
#[divan::bench]
fn parse_schema(bencher: divan::Bencher<'_, '_>) {
    bencher.bench_local(|| AvroSchema::parse(black_box(SCHEMA.as_bytes())).is_ok());
}
