//! Schema extraction in the destination runner (Go's
//! `DestinationWithSchemaExtraction`) with an in-process schema service:
//! Avro keys and payloads decoded before the destination sees them, Go's
//! warning and error texts, per-record nacks in record order.

mod common;
use common::Warnings;
use std::sync::Arc;

use apache_avro::types::Value;
use conduit_connector::Config;
use conduit_connector::destination::{Ack, Batch, BoxError, Destination, DestinationRunner, WriteResult};
use conduit_connector::middleware::{NO_KEY_SCHEMA_WARNING, NO_PAYLOAD_SCHEMA_WARNING};
use conduit_connector::opencdc::{Change, Data, Metadata, Operation, Position, Record, StructuredData};
use conduit_connector::schema::{InMemorySchemaService, SchemaType};
use serde_json::json;

#[derive(Debug, Config)]
#[allow(dead_code)]
struct SinkConfig {
    /// Unused.
    #[param(default = "x")]
    name: String,
}

/// Keeps every record it is given.
#[derive(Debug, Default)]
struct Sink {
    got: Vec<Record>,
}

impl Destination for Sink {
    type Config = SinkConfig;
    async fn configure(_: SinkConfig) -> Result<Self, BoxError> {
        Ok(Sink::default())
    }
    async fn write(&mut self, batch: Batch<'_>) -> WriteResult {
        self.got.extend(batch.iter().cloned());
        WriteResult::All
    }
}

const KEY_SCHEMA: &str = r#"{"type":"record","name":"record","fields":[{"name":"id","type":"long"}]}"#;
const PAYLOAD_SCHEMA: &str = r#"{"type":"record","name":"record","fields":[
    {"name":"address","type":{"type":"record","name":"record.address","fields":[
        {"name":"city","type":"string"},{"name":"zip","type":["null","string"]}]}},
    {"name":"id","type":"long"},
    {"name":"name","type":["null","string"]},
    {"name":"score","type":"double"},
    {"name":"tags","type":{"type":"array","items":"string"}}]}"#;

fn avro(schema: &str, value: Value) -> Vec<u8> {
    let schema = apache_avro::Schema::parse_str(schema).unwrap();
    apache_avro::writer::datum::GenericDatumWriter::builder(&schema).build().unwrap().write_value_to_vec(value).unwrap()
}

fn key_bytes(id: i64) -> Vec<u8> {
    avro(KEY_SCHEMA, Value::Record(vec![("id".into(), Value::Long(id))]))
}

fn payload_bytes(id: i64, name: Option<&str>) -> Vec<u8> {
    let name = match name {
        Some(n) => Value::Union(1, Box::new(Value::String(n.into()))),
        None => Value::Union(0, Box::new(Value::Null)),
    };
    avro(
        PAYLOAD_SCHEMA,
        Value::Record(vec![
            (
                "address".into(),
                Value::Record(vec![
                    ("city".into(), Value::String("Berlin".into())),
                    ("zip".into(), Value::Union(0, Box::new(Value::Null))),
                ]),
            ),
            ("id".into(), Value::Long(id)),
            ("name".into(), name),
            ("score".into(), Value::Double(1.5)),
            ("tags".into(), Value::Array(vec![Value::String("a".into()), Value::String("b".into())])),
        ]),
    )
}

fn payload_json(id: i64, name: Option<&str>) -> StructuredData {
    let v =
        json!({"address": {"city": "Berlin", "zip": null}, "id": id, "name": name, "score": 1.5, "tags": ["a", "b"]});
    v.as_object().unwrap().clone()
}

fn raw(i: usize) -> Record {
    Record {
        position: Position::from(format!("p{i}")),
        operation: Operation::Create,
        metadata: Metadata::default(),
        key: Some(Data::Raw(format!("k{i}").into_bytes())),
        payload: Change { before: None, after: Some(Data::Raw(format!("v{i}").into_bytes())) },
    }
}

/// A record as a Go source sends it: Avro key and payload (before and
/// after), subjects and versions in the metadata.
fn encoded(i: usize) -> Record {
    let mut r = raw(i);
    r.operation = Operation::Update;
    r.metadata.set_key_schema_subject("orders.key");
    r.metadata.set_key_schema_version(1);
    r.metadata.set_payload_schema_subject("orders.payload");
    r.metadata.set_payload_schema_version(1);
    r.key = Some(Data::Raw(key_bytes(i as i64)));
    r.payload.before = Some(Data::Raw(payload_bytes(i as i64, None)));
    r.payload.after = Some(Data::Raw(payload_bytes(i as i64, Some("ada"))));
    r
}

fn registry() -> Arc<InMemorySchemaService> {
    let registry = Arc::new(InMemorySchemaService::new());
    registry.register("orders.key", SchemaType::Avro, KEY_SCHEMA);
    registry.register("orders.payload", SchemaType::Avro, PAYLOAD_SCHEMA);
    registry
}

async fn start(extra: &[(&str, &str)], service: Option<Arc<InMemorySchemaService>>) -> DestinationRunner<Sink> {
    let mut runner = DestinationRunner::<Sink>::configure(extra.to_vec()).await.unwrap();
    if let Some(service) = service {
        runner = runner.with_schema_service(service);
    }
    runner.open().await.unwrap();
    runner
}

fn ok(i: usize) -> Ack {
    Ack { position: Position::from(format!("p{i}")), error: None }
}

fn nack_text(ack: &Ack) -> &str {
    ack.error.as_deref().unwrap_or_else(|| panic!("{ack:?} is not a nack"))
}

fn positions(records: &[Record]) -> Vec<String> {
    records.iter().map(|r| String::from_utf8_lossy(&r.position.0).into_owned()).collect()
}

#[tokio::test]
async fn avro_keys_and_payloads_are_decoded_before_the_destination_sees_them() {
    let registry = registry();
    let mut runner = start(&[], Some(registry.clone())).await;
    let acks = runner.write((0..3).map(encoded).collect()).await;
    assert_eq!(acks, vec![ok(0), ok(1), ok(2)]);
    let got = &runner.destination().got;
    for (i, r) in got.iter().enumerate() {
        let id = i as i64;
        assert_eq!(r.key, Some(Data::Structured(json!({"id": id}).as_object().unwrap().clone())));
        assert_eq!(r.payload.before, Some(Data::Structured(payload_json(id, None))));
        assert_eq!(r.payload.after, Some(Data::Structured(payload_json(id, Some("ada")))));
        assert_eq!(r.metadata.key_schema_subject(), Ok("orders.key"), "metadata is kept");
    }
    assert_eq!(String::from_utf8(got[1].key.as_ref().unwrap().bytes().into_owned()).unwrap(), r#"{"id":1}"#);
    assert_eq!(registry.get_calls(), 2, "one fetch per subject and version");
}

#[tokio::test]
async fn structured_data_is_left_alone_and_needs_no_schema() {
    let registry = registry();
    let mut runner = start(&[], Some(registry.clone())).await;
    let mut r = encoded(0);
    let key = json!({"id": 9}).as_object().unwrap().clone();
    r.key = Some(Data::Structured(key.clone()));
    r.payload.before = None;
    r.payload.after = Some(Data::Structured(payload_json(9, None)));
    assert_eq!(runner.write(vec![r]).await, vec![ok(0)]);
    let got = &runner.destination().got[0];
    assert_eq!(got.key, Some(Data::Structured(key)));
    assert_eq!(got.payload.after, Some(Data::Structured(payload_json(9, None))));
    assert_eq!(registry.get_calls(), 0);
}

#[tokio::test]
async fn a_record_that_cannot_be_decoded_is_nacked_alone_and_the_rest_are_written_in_order() {
    let registry = registry();
    for extra in [&[][..], &[("sdk.batch.size", "4")][..]] {
        let mut runner = start(extra, Some(registry.clone())).await;
        let mut records: Vec<Record> = (0..6).map(encoded).collect();
        records[1].metadata.set_payload_schema_subject("nope");
        records[3].metadata.set(Metadata::KEY_SCHEMA_VERSION, "x");
        records[4].payload.after = Some(Data::Raw(vec![0xff, 0xff, 0xff]));
        let mut acks = runner.write(records).await;
        acks.extend(runner.flush().await);
        let order: Vec<String> = acks.iter().map(|a| String::from_utf8_lossy(&a.position.0).into_owned()).collect();
        assert_eq!(order, ["p0", "p1", "p2", "p3", "p4", "p5"], "{extra:?}");
        assert_eq!(acks[0], ok(0));
        assert_eq!(
            nack_text(&acks[1]),
            "failed to decode payload.before: failed to get schema for nope:1: schema subject not found"
        );
        assert_eq!(acks[2], ok(2));
        assert_eq!(
            nack_text(&acks[3]),
            "failed to get key schema version from metadata: invalid version \"x\": strconv.Atoi: parsing \"x\": \
             invalid syntax"
        );
        assert!(
            nack_text(&acks[4]).starts_with(
                "failed to decode payload.after: failed to unmarshal bytes with schema: failed to unmarshal data with \
                 schema orders.payload:1 (id: 2): "
            ),
            "{}",
            nack_text(&acks[4])
        );
        assert_eq!(acks[5], ok(5));
        assert_eq!(positions(&runner.destination().got), ["p0", "p2", "p5"], "failed records are not written");
    }
}

#[tokio::test]
async fn unknown_versions_foreign_schema_types_and_huge_versions_name_subject_and_version() {
    let registry = registry();
    registry.register("proto", SchemaType::Other(2), "syntax = \"proto3\";");
    registry.register("broken", SchemaType::Avro, "{not avro");
    let mut runner = start(&[("sdk.schema.extract.key.enabled", "false")], Some(registry)).await;
    let cases = [
        ("orders.payload", "2", "failed to get schema for orders.payload:2: schema version not found"),
        ("proto", "1", "failed to get serde for schema proto:1 of type Type(2): unsupported type"),
        ("broken", "1", "failed to parse schema broken:1 of type avro: "),
        ("orders.payload", "4294967296", "failed to get schema for orders.payload:4294967296: version out of range"),
    ];
    for (i, (subject, version, want)) in cases.into_iter().enumerate() {
        let mut r = encoded(i);
        r.metadata.set_payload_schema_subject(subject);
        r.metadata.set(Metadata::PAYLOAD_SCHEMA_VERSION, version);
        let acks = runner.write(vec![r]).await;
        assert!(nack_text(&acks[0]).contains(want), "{} does not contain {want}", nack_text(&acks[0]));
        assert!(nack_text(&acks[0]).starts_with("failed to decode payload.before: "), "{}", nack_text(&acks[0]));
    }
    assert!(runner.destination().got.is_empty());
}

#[tokio::test]
async fn without_a_schema_service_a_record_that_needs_decoding_fails_with_a_clear_error() {
    let mut runner = start(&[], None).await;
    let acks = runner.write(vec![raw(0), encoded(1), raw(2)]).await;
    assert_eq!(acks[0], ok(0));
    assert_eq!(acks[2], ok(2));
    let text = nack_text(&acks[1]);
    assert!(text.starts_with("failed to decode key: failed to get schema for orders.key:1: "), "{text}");
    assert!(text.contains("decoding needs Conduit's schema service"), "{text}");
    assert!(text.contains("sdk.schema.extract.key.enabled") && text.contains("sdk.schema.extract.payload.enabled"));
    assert_eq!(positions(&runner.destination().got), ["p0", "p2"], "never written as Avro bytes");
}

#[tokio::test]
async fn disabled_extraction_decodes_nothing_and_never_asks_the_service() {
    let registry = registry();
    let both_off = [("sdk.schema.extract.key.enabled", "false"), ("sdk.schema.extract.payload.enabled", "false")];
    let mut runner = start(&both_off, Some(registry.clone())).await;
    assert_eq!(runner.write(vec![encoded(0)]).await, vec![ok(0)]);
    assert_eq!(runner.destination().got[0], encoded(0));
    assert_eq!(registry.get_calls(), 0);

    let mut runner = start(&[("sdk.schema.extract.key.enabled", "false")], Some(registry.clone())).await;
    assert_eq!(runner.write(vec![encoded(0)]).await, vec![ok(0)]);
    let got = &runner.destination().got[0];
    assert_eq!(got.key, encoded(0).key, "key left raw");
    assert_eq!(got.payload.after, Some(Data::Structured(payload_json(0, Some("ada")))));
    assert_eq!(registry.get_calls(), 1);
}

// ------------------------------------------------------------------ warnings

fn warnings_of(extra: &'static [(&'static str, &'static str)], records: fn() -> Vec<Record>) -> Vec<String> {
    warnings_with(Some(registry()), extra, records)
}

fn warnings_with(
    service: Option<Arc<InMemorySchemaService>>,
    extra: &'static [(&'static str, &'static str)],
    records: fn() -> Vec<Record>,
) -> Vec<String> {
    let warnings = Warnings::default();
    let seen = warnings.0.clone();
    let rt = tokio::runtime::Builder::new_current_thread().enable_time().build().unwrap();
    tracing::subscriber::with_default(warnings, || {
        rt.block_on(async {
            let mut runner = start(extra, service).await;
            for record in records() {
                assert!(runner.write(vec![record]).await[0].error.is_none());
            }
        });
    });
    seen.lock().unwrap().clone()
}

#[test]
fn records_without_schema_metadata_pass_unchanged_with_one_warning_per_part_in_gos_words() {
    assert_eq!(warnings_of(&[], || (0..4).map(raw).collect()), [NO_KEY_SCHEMA_WARNING, NO_PAYLOAD_SCHEMA_WARNING]);
    assert_eq!(
        NO_KEY_SCHEMA_WARNING,
        "record does not have an attached schema for the key, consider disabling the destination schema key \
         decoding using \"sdk.schema.extract.key.enabled: false\""
    );
    assert_eq!(
        NO_PAYLOAD_SCHEMA_WARNING,
        "record does not have an attached schema for the payload, consider disabling the destination schema \
         payload decoding using \"sdk.schema.extract.payload.enabled: false\""
    );
    // A record with a payload schema but no key schema warns about the key only.
    assert_eq!(
        warnings_of(&[], || {
            let mut r = encoded(0);
            r.metadata.remove(Metadata::KEY_SCHEMA_SUBJECT);
            r.key = Some(Data::Raw(b"k".to_vec()));
            vec![r.clone(), r]
        }),
        [NO_KEY_SCHEMA_WARNING]
    );
    let off: &[(&str, &str)] =
        &[("sdk.schema.extract.key.enabled", "false"), ("sdk.schema.extract.payload.enabled", "false")];
    assert!(warnings_of(Box::leak(off.to_vec().into_boxed_slice()), || vec![raw(0)]).is_empty());
}

#[test]
fn without_a_schema_service_records_without_schema_metadata_do_not_warn() {
    // `run` and a plugin without Conduit's utilities target: nothing could be
    // decoded, so Go's advice to turn decoding off would only be noise.
    assert!(warnings_with(None, &[], || (0..4).map(raw).collect()).is_empty());
}
