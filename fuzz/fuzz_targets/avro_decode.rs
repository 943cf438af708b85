//! Avro → structured data (destination schema extraction): never panics. The first byte picks
//! the mode: even → the rest is a datum of a fixed 10-field schema shaped like Go's extractor
//! output (an accepted datum has its 10 fields, decodes the same twice and encodes to JSON);
//! odd → the rest is schema text (an accepted schema decodes a few short datums without panic).
#![no_main]

use std::sync::OnceLock;

use conduit_connector::opencdc::write_json_object;
use conduit_connector::schema::avro::{AvroSchema, decode};
use libfuzzer_sys::fuzz_target;

/// The schema of `connector/tests/avro_decode.rs`.
const SCHEMA: &str = r#"{"type":"record","name":"record","fields":[
    {"name":"active","type":"boolean"},
    {"name":"blob","type":"bytes"},
    {"name":"count","type":"int"},
    {"name":"created","type":{"type":"long","logicalType":"timestamp-micros"}},
    {"name":"id","type":"long"},
    {"name":"name","type":"string"},
    {"name":"owner","type":["null",{"type":"record","name":"record.owner","fields":[
        {"name":"name","type":"string"},{"name":"zip","type":["null","long"]}]}]},
    {"name":"price","type":"double"},
    {"name":"ratio","type":"float"},
    {"name":"tags","type":{"type":"array","items":["null","long","string"]}}]}"#;

static PARSED: OnceLock<AvroSchema> = OnceLock::new();

fuzz_target!(|data: &[u8]| {
    let Some((&mode, rest)) = data.split_first() else { return };
    if mode % 2 == 0 {
        let schema = PARSED.get_or_init(|| AvroSchema::parse(SCHEMA.as_bytes()).expect("the fixed schema parses"));
        match decode(schema, rest) {
            Ok(decoded) => {
                assert_eq!(decoded.len(), 10, "{decoded:?}");
                assert_eq!(decode(schema, rest).ok(), Some(decoded.clone()), "decoding is not deterministic");
                let mut out = Vec::new();
                write_json_object(&decoded, &mut out);
                assert!(serde_json::from_slice::<serde_json::Value>(&out).is_ok(), "invalid JSON");
            }
            Err(e) => assert!(e.to_string().starts_with("cannot decode Avro data: "), "{e}"),
        }
    } else if let Ok(schema) = AvroSchema::parse(rest) {
        for datum in [&[][..], &[0], &[2, 2, 0, 0], &[1; 16]] {
            if let Err(e) = decode(&schema, datum) {
                assert!(!e.to_string().is_empty());
            }
        }
    }
});
