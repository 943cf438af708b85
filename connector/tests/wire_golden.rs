//! Wire compatibility of the plugin protocol's messages with Conduit's own
//! encoding, proved with the golden files in `tests/wire/` (copied from
//! `shared/reference/wire/`).
//!
//! Each golden is decoded with the generated types, shown as JSON with proto
//! field names (bytes as base64, enums by name, default values left out, as
//! protobuf's JSON mapping does) and compared with `index.json`; encoding the
//! decoded message again must give the same bytes.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use conduit_connector::config::{Parameter, ParameterType, Parameters, Validation};
use conduit_connector::opencdc::{Data, Operation, Record};
use conduit_connector::plugin::convert::{parameters_from_proto, parameters_to_proto};
use conduit_connector::plugin::proto::config::v1 as pbconfig;
use conduit_connector::plugin::proto::connector::v2 as pbconn;
use conduit_connector::plugin::proto::opencdc::v1 as pbcdc;
use conduit_connector::spec::Specification;
use prost::Message;
use serde_json::{Map, Value, json};

// ---------------------------------------------------------------------------
// Golden files
// ---------------------------------------------------------------------------

fn golden_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests").join("wire")
}

fn index() -> Value {
    let path = golden_dir().join("index.json");
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("reading {}: {e}", path.display()));
    serde_json::from_str(&text).unwrap_or_else(|e| panic!("parsing {}: {e}", path.display()))
}

fn golden_bytes(name: &str) -> Vec<u8> {
    let path = golden_dir().join(format!("{name}.bin"));
    std::fs::read(&path).unwrap_or_else(|e| panic!("reading {}: {e}", path.display()))
}

/// The goldens this file checks, with the message type `index.json` must name.
const GOLDENS: &[(&str, &str)] = &[
    ("destination_configure_request", "connector.v2.Destination.Configure.Request"),
    ("destination_lifecycle_on_updated_request", "connector.v2.Destination.Lifecycle.OnUpdated.Request"),
    ("destination_run_request", "connector.v2.Destination.Run.Request"),
    ("destination_run_response", "connector.v2.Destination.Run.Response"),
    ("destination_stop_request", "connector.v2.Destination.Stop.Request"),
    ("specifier_specify_response", "connector.v2.Specifier.Specify.Response"),
];

/// Decodes golden `name` as `M`, compares its JSON form with `index.json` and
/// its re-encoding with the file, byte for byte; returns the decoded message.
fn check_golden<M: Message + Default>(name: &str, to_json: fn(&M) -> Value) -> M {
    let index = index();
    let entry = &index[name];
    let bytes = golden_bytes(name);
    let expected_type = GOLDENS.iter().find(|(n, _)| *n == name).map(|(_, t)| *t);
    assert_eq!(entry["message"].as_str(), expected_type, "{name}: message type in index.json");
    assert_eq!(entry["bytes"].as_u64(), Some(bytes.len() as u64), "{name}: size in index.json");

    let message = M::decode(bytes.as_slice()).unwrap_or_else(|e| panic!("decoding {name}: {e}"));
    assert_eq!(to_json(&message), entry["json"], "{name}: decoded content");
    assert_eq!(message.encode_to_vec(), bytes, "{name}: re-encoded bytes");
    message
}

#[test]
fn every_golden_in_the_index_is_checked() {
    let index = index();
    let names: Vec<&str> = index.as_object().expect("index.json is an object").keys().map(String::as_str).collect();
    let checked: Vec<&str> = GOLDENS.iter().map(|(n, _)| *n).collect();
    assert_eq!(names, checked);
}

#[test]
fn repo_goldens_match_the_shared_reference() {
    let shared = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../shared/reference/wire");
    if !shared.is_dir() {
        return; // a clean clone without shared/: the repo copy is the reference
    }
    for entry in std::fs::read_dir(&shared).expect("listing shared goldens") {
        let path = entry.expect("shared golden entry").path();
        let name = path.file_name().expect("file name");
        let ours = std::fs::read(golden_dir().join(name)).unwrap_or_else(|e| panic!("{name:?} in tests/wire: {e}"));
        assert!(ours == std::fs::read(&path).expect("reading shared golden"), "tests/wire/{name:?} is out of date");
    }
}

#[test]
fn destination_configure_request_matches_golden() {
    check_golden("destination_configure_request", |m: &pbconn::destination::configure::Request| {
        obj([("config", string_map(&m.config))])
    });
}

#[test]
fn destination_lifecycle_on_updated_request_matches_golden() {
    check_golden(
        "destination_lifecycle_on_updated_request",
        |m: &pbconn::destination::lifecycle::on_updated::Request| {
            obj([("config_before", string_map(&m.config_before)), ("config_after", string_map(&m.config_after))])
        },
    );
}

#[test]
fn destination_run_request_matches_golden() {
    let request = check_golden("destination_run_request", |m: &pbconn::destination::run::Request| {
        obj([("records", list(m.records.iter().map(record_json)))])
    });
    // The golden's writer (Go) put this struct's entries in map order, not key
    // order; decoding keeps that order, so the bytes above match.
    let after = request.records[1].payload.as_ref().and_then(|p| p.after.as_ref()).and_then(|d| d.data.as_ref());
    let Some(pbcdc::data::Data::StructuredData(after)) = after else { panic!("records[1].payload.after: {after:?}") };
    let keys: Vec<&str> = after.fields.iter().map(|f| f.key.as_str()).collect();
    assert_eq!(keys, ["name", "nested", "n", "ok"]);
}

#[test]
fn destination_run_response_matches_golden() {
    check_golden("destination_run_response", |m: &pbconn::destination::run::Response| {
        let acks = m.acks.iter().map(|a| obj([("position", bytes(&a.position)), ("error", string(&a.error))]));
        obj([("acks", list(acks))])
    });
}

#[test]
fn destination_stop_request_matches_golden() {
    check_golden("destination_stop_request", |m: &pbconn::destination::stop::Request| {
        obj([("last_position", bytes(&m.last_position))])
    });
}

#[test]
fn specifier_specify_response_matches_golden() {
    check_golden("specifier_specify_response", |m: &pbconn::specifier::specify::Response| {
        obj([("specification", m.specification.as_ref().map_or(Value::Null, specification_json))])
    });
}

// ---------------------------------------------------------------------------
// Conversions to and from the SDK's types
// ---------------------------------------------------------------------------

fn golden_run_request() -> pbconn::destination::run::Request {
    let bytes = golden_bytes("destination_run_request");
    pbconn::destination::run::Request::decode(bytes.as_slice()).expect("decoding destination_run_request")
}

fn golden_specify_response() -> pbconn::specifier::specify::Response {
    let bytes = golden_bytes("specifier_specify_response");
    pbconn::specifier::specify::Response::decode(bytes.as_slice()).expect("decoding specifier_specify_response")
}

#[test]
fn run_request_records_round_trip_through_sdk_records() {
    let request = golden_run_request();
    let records: Vec<Record> =
        request.records.iter().cloned().map(Record::try_from).collect::<Result<_, _>>().expect("converting records");
    let back = pbconn::destination::run::Request { records: records.into_iter().map(pbcdc::Record::from).collect() };
    // The SDK's structured data is a key-ordered map, so its structs come back
    // with their entries in key order; everything else is unchanged.
    let mut expected = request;
    for record in &mut expected.records {
        let payload = record.payload.iter_mut().flat_map(|p| [&mut p.before, &mut p.after]);
        for data in record.key.iter_mut().chain(payload.flatten()) {
            if let Some(pbcdc::data::Data::StructuredData(s)) = &mut data.data {
                sort_struct(s);
            }
        }
    }
    assert_eq!(back, expected);
    let again: Vec<Record> =
        back.records.iter().cloned().map(Record::try_from).collect::<Result<_, _>>().expect("converting back");
    let again = pbconn::destination::run::Request { records: again.into_iter().map(pbcdc::Record::from).collect() };
    assert_eq!(again.encode_to_vec(), back.encode_to_vec());
}

/// Sorts a struct's entries, and those of the structs inside it, by key.
fn sort_struct(s: &mut pbcdc::Struct) {
    s.fields.sort_by(|a, b| a.key.cmp(&b.key));
    for value in s.fields.iter_mut().filter_map(|f| f.value.as_mut()) {
        sort_value(value);
    }
}

fn sort_value(v: &mut pbcdc::Value) {
    match &mut v.kind {
        Some(pbcdc::value::Kind::StructValue(s)) => sort_struct(s),
        Some(pbcdc::value::Kind::ListValue(l)) => l.values.iter_mut().for_each(sort_value),
        _ => {}
    }
}

#[test]
fn run_request_records_convert_to_the_expected_sdk_records() {
    let records: Vec<Record> = golden_run_request().records.into_iter().map(|r| Record::try_from(r).unwrap()).collect();
    let ops: Vec<Operation> = records.iter().map(|r| r.operation).collect();
    assert_eq!(ops, [Operation::Create, Operation::Update, Operation::Delete, Operation::Snapshot]);

    let create = &records[0];
    assert_eq!(create.position.0, b"pos-1");
    assert_eq!(create.metadata.0.get("opencdc.readAt").map(String::as_str), Some("1700000000000000000"));
    assert_eq!(create.key, Some(Data::Raw(b"key-1".to_vec())));
    assert_eq!(create.payload.before, None);
    assert_eq!(create.payload.after, Some(Data::Raw(b"hello\n".to_vec())));

    let update = &records[1];
    assert_eq!(update.key, Some(structured(json!({"id": 7.0}))));
    assert_eq!(update.payload.before, Some(Data::Raw(b"old".to_vec())));
    let after = json!({"n": 1.5, "name": "x", "nested": {"a": [1.0, "b", null]}, "ok": true});
    assert_eq!(update.payload.after, Some(structured(after)));

    assert_eq!(records[2].payload.after, None);
    assert_eq!(records[3].payload, Default::default());
    assert!(records[3].metadata.0.is_empty());
}

fn golden_specification() -> Specification {
    let destination_params: Parameters = [
        (
            "directory",
            Parameter {
                description: "Directory the files are written to.".into(),
                ty: ParameterType::String,
                validations: vec![Validation::Required],
                ..Parameter::default()
            },
        ),
        ("flushInterval", Parameter { default: "1s".into(), ty: ParameterType::Duration, ..Parameter::default() }),
        (
            "format",
            Parameter {
                default: "raw".into(),
                ty: ParameterType::String,
                validations: vec![
                    Validation::Inclusion(vec!["raw".into(), "json".into()]),
                    Validation::Regex("^[a-z]+$".into()),
                ],
                ..Parameter::default()
            },
        ),
        (
            "sdk.batch.size",
            Parameter {
                default: "0".into(),
                description: "Maximum size of batch before it gets written to the destination.".into(),
                ty: ParameterType::Int,
                validations: vec![Validation::GreaterThan(-1.0)],
            },
        ),
    ]
    .into_iter()
    .collect();
    Specification {
        name: "directory".into(),
        summary: "Writes each record to a file.".into(),
        description: "Longer text.\nSecond line.".into(),
        version: "v0.1.0".into(),
        author: "Example Author".into(),
        source_params: Parameters::new(),
        destination_params,
    }
}

#[test]
fn specification_converts_to_the_golden_specify_response() {
    let response = pbconn::specifier::specify::Response::from(&golden_specification());
    assert_eq!(response, golden_specify_response());
    assert_eq!(response.encode_to_vec(), golden_bytes("specifier_specify_response"));
}

#[test]
fn golden_specify_response_converts_to_the_sdk_specification() {
    let proto = golden_specify_response().specification.expect("specification is set");
    let spec = Specification::try_from(proto).expect("converting specification");
    assert_eq!(spec, golden_specification());
}

#[test]
fn parameters_round_trip_through_proto() {
    let params: Parameters = [
        ("a", Parameter { ty: ParameterType::Bool, validations: vec![Validation::Required], ..Parameter::default() }),
        (
            "b",
            Parameter {
                default: "2.5".into(),
                description: "A float.".into(),
                ty: ParameterType::Float,
                validations: vec![Validation::GreaterThan(-1.5), Validation::LessThan(100.0)],
            },
        ),
        (
            "c.*.d",
            Parameter {
                ty: ParameterType::String,
                validations: vec![
                    Validation::Exclusion(vec!["x".into(), " y".into()]),
                    Validation::Regex("^a.*$".into()),
                ],
                ..Parameter::default()
            },
        ),
        ("e", Parameter { ty: ParameterType::File, ..Parameter::default() }),
    ]
    .into_iter()
    .collect();
    let proto = parameters_to_proto(&params);
    let le = &proto["b"].validations[1];
    assert_eq!((le.r#type, le.value.as_str()), (pbconfig::validation::Type::LessThan as i32, "100"));
    assert_eq!(parameters_from_proto(proto).expect("converting back"), params);
}

// ---------------------------------------------------------------------------
// JSON forms of the generated messages (protobuf JSON mapping, proto names)
// ---------------------------------------------------------------------------

fn structured(value: Value) -> Data {
    match value {
        Value::Object(map) => Data::Structured(map),
        other => panic!("not an object: {other}"),
    }
}

/// An object of the non-default fields (`Value::Null` marks a default).
fn obj<const N: usize>(fields: [(&str, Value); N]) -> Value {
    Value::Object(fields.into_iter().filter(|(_, v)| !v.is_null()).map(|(k, v)| (k.to_owned(), v)).collect())
}

fn string(s: &str) -> Value {
    if s.is_empty() { Value::Null } else { Value::String(s.to_owned()) }
}

fn bytes(b: &[u8]) -> Value {
    if b.is_empty() { Value::Null } else { Value::String(base64(b)) }
}

fn list(items: impl Iterator<Item = Value>) -> Value {
    let items: Vec<Value> = items.collect();
    if items.is_empty() { Value::Null } else { Value::Array(items) }
}

fn map_of<T>(map: &BTreeMap<String, T>, f: impl Fn(&T) -> Value) -> Value {
    if map.is_empty() { Value::Null } else { Value::Object(map.iter().map(|(k, v)| (k.clone(), f(v))).collect()) }
}

fn string_map(map: &BTreeMap<String, String>) -> Value {
    map_of(map, |v| Value::String(v.clone()))
}

fn enum_name(name: Option<&str>, value: i32) -> Value {
    match (value, name) {
        (0, _) => Value::Null,
        (_, Some(name)) => Value::String(name.to_owned()),
        (_, None) => Value::from(value),
    }
}

fn record_json(r: &pbcdc::Record) -> Value {
    let op = pbcdc::Operation::try_from(r.operation).ok().map(|o| o.as_str_name());
    obj([
        ("position", bytes(&r.position)),
        ("operation", enum_name(op, r.operation)),
        ("metadata", string_map(&r.metadata)),
        ("key", r.key.as_ref().map_or(Value::Null, data_json)),
        (
            "payload",
            r.payload.as_ref().map_or(Value::Null, |p| {
                obj([
                    ("before", p.before.as_ref().map_or(Value::Null, data_json)),
                    ("after", p.after.as_ref().map_or(Value::Null, data_json)),
                ])
            }),
        ),
    ])
}

fn data_json(d: &pbcdc::Data) -> Value {
    match &d.data {
        None => json!({}),
        // a set oneof field is shown even when it holds the default
        Some(pbcdc::data::Data::RawData(b)) => json!({ "raw_data": base64(b) }),
        Some(pbcdc::data::Data::StructuredData(s)) => json!({ "structured_data": struct_json(s) }),
    }
}

/// A struct as a JSON object; a repeated key takes its last entry, as for a
/// protobuf map.
fn struct_json(s: &pbcdc::Struct) -> Value {
    let entries = s.fields.iter().map(|f| (f.key.clone(), f.value.as_ref().map_or(Value::Null, value_json)));
    Value::Object(entries.collect::<Map<_, _>>())
}

fn value_json(v: &pbcdc::Value) -> Value {
    use pbcdc::value::Kind;
    match &v.kind {
        None | Some(Kind::NullValue(_)) => Value::Null,
        Some(Kind::NumberValue(n)) => serde_json::Number::from_f64(*n).map_or(Value::Null, Value::Number),
        Some(Kind::StringValue(s)) => Value::String(s.clone()),
        Some(Kind::BoolValue(b)) => Value::Bool(*b),
        Some(Kind::StructValue(s)) => struct_json(s),
        Some(Kind::ListValue(l)) => Value::Array(l.values.iter().map(value_json).collect()),
    }
}

fn specification_json(s: &pbconn::Specification) -> Value {
    obj([
        ("name", string(&s.name)),
        ("summary", string(&s.summary)),
        ("description", string(&s.description)),
        ("version", string(&s.version)),
        ("author", string(&s.author)),
        ("destination_params", map_of(&s.destination_params, parameter_json)),
        ("source_params", map_of(&s.source_params, parameter_json)),
    ])
}

fn parameter_json(p: &pbconfig::Parameter) -> Value {
    let ty = pbconfig::parameter::Type::try_from(p.r#type).ok().map(|t| t.as_str_name());
    let validations = p.validations.iter().map(|v| {
        let ty = pbconfig::validation::Type::try_from(v.r#type).ok().map(|t| t.as_str_name());
        obj([("type", enum_name(ty, v.r#type)), ("value", string(&v.value))])
    });
    obj([
        ("default", string(&p.default)),
        ("description", string(&p.description)),
        ("type", enum_name(ty, p.r#type)),
        ("validations", list(validations)),
    ])
}

/// Standard base64 with padding (protobuf's JSON form of bytes).
fn base64(input: &[u8]) -> String {
    const ALPHABET: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut out = String::with_capacity(input.len().div_ceil(3) * 4);
    for chunk in input.chunks(3) {
        let b = [chunk[0], chunk.get(1).copied().unwrap_or(0), chunk.get(2).copied().unwrap_or(0)];
        let n = (u32::from(b[0]) << 16) | (u32::from(b[1]) << 8) | u32::from(b[2]);
        for i in 0..4 {
            if i <= chunk.len() {
                out.push(char::from(ALPHABET[(n >> (18 - 6 * i)) as usize & 63]));
            } else {
                out.push('=');
            }
        }
    }
    out
}

#[test]
fn base64_helper_pads_like_the_standard_encoding() {
    assert_eq!(base64(b""), "");
    assert_eq!(base64(b"f"), "Zg==");
    assert_eq!(base64(b"fo"), "Zm8=");
    assert_eq!(base64(b"foo"), "Zm9v");
    assert_eq!(base64(b"pos-1"), "cG9zLTE=");
}
