//! The `debezium/json` record format: a Kafka Connect envelope with a schema.
//!
//! Output (compact, one line):
//!
//! ```text
//! {"schema":{"type":"struct","name":<schema name, omitted when empty>,"fields":[
//!    <before>, <after>, <source>,
//!    {"type":"string","field":"op"},
//!    {"type":"int64","optional":true,"field":"ts_ms"},
//!    {"type":"struct","optional":true,"fields":[
//!       {"type":"string","field":"id"},
//!       {"type":"int64","field":"total_order"},
//!       {"type":"int64","field":"data_collection_order"}],"field":"transaction"}]},
//!  "payload":{"before":…,"after":…,"source":…,"op":"c|u|d|r","ts_ms":…,"transaction":null}}
//! ```
//!
//! As the Go SDK's `DebeziumConverter` + `kafkaconnect.Reflect`:
//! - `before`/`after` are the payload's data as objects: structured data as is; raw data parsed
//!   as a JSON object if it is one (numbers become `f64`), otherwise `{<raw_data_key>: base64}`;
//!   empty raw data, raw `null` and missing data are `null`.
//! - The `before` schema describes `before` (or `after` when `before` is `null`), the `after`
//!   schema the other way round; both `null` gives an empty optional struct.
//! - A struct schema lists one field per key: objects are optional structs, arrays optional
//!   arrays whose `items` describe the first element (an optional string when empty or null),
//!   strings `string`, booleans `boolean`, integers `int64`, other numbers `double`, `null`
//!   an optional `string`, raw-data fallback fields optional `bytes`.
//! - `source` is the metadata (an optional struct of `string` fields; `null` when empty),
//!   `ts_ms` is `opencdc.readAt` in milliseconds, omitted when absent, invalid or 0.
//!
//! Members with Go's zero value are omitted, as `encoding/json`'s `omitempty` on Go's
//! `kafkaconnect.Schema` does: a schema that is not optional has no `"optional"` member (never
//! `"optional":false`), and one without a name or fields has no `"name"` or `"fields"`.
//!
//! Deliberate difference: Go lists struct fields in map-iteration (random) order; this
//! writer sorts them by name, so the output is deterministic.

use serde_json::Value;

use super::json::{write_base64_string, write_json_object, write_json_string, write_metadata};
use super::serde_impls::parse_structured_object;
use super::{Data, Operation, Record, StructuredData};

/// The default `debezium.rawData.key`: the field that carries raw data that is not JSON.
pub const DEFAULT_RAW_DATA_KEY: &str = "opencdc.rawData";

/// A before/after value after conversion.
enum Side<'a> {
    Null,
    Map(&'a StructuredData),
    Owned(StructuredData),
    Raw(&'a [u8]),
}

fn convert(data: Option<&Data>) -> Side<'_> {
    match data {
        None => Side::Null,
        Some(Data::Structured(map)) => Side::Map(map),
        Some(Data::Raw(bytes)) if bytes.is_empty() => Side::Null,
        Some(Data::Raw(bytes)) => match parse_structured_object(bytes) {
            Some(Some(map)) => Side::Owned(map),
            Some(None) => Side::Null,
            None => Side::Raw(bytes),
        },
    }
}

impl Side<'_> {
    fn map(&self) -> Option<&StructuredData> {
        match self {
            Side::Map(m) => Some(m),
            Side::Owned(m) => Some(m),
            _ => None,
        }
    }

    fn is_null(&self) -> bool {
        matches!(self, Side::Null)
    }

    fn write_value(&self, raw_data_key: &str, out: &mut Vec<u8>) {
        match self {
            Side::Null => out.extend_from_slice(b"null"),
            Side::Raw(bytes) => {
                out.push(b'{');
                write_json_string(raw_data_key, out);
                out.push(b':');
                write_base64_string(bytes, out);
                out.push(b'}');
            }
            _ => {
                if let Some(m) = self.map() {
                    write_json_object(m, out);
                }
            }
        }
    }

    fn write_schema(&self, field: &str, raw_data_key: &str, out: &mut Vec<u8>) {
        match self {
            Side::Null => out.extend_from_slice(b"{\"type\":\"struct\",\"optional\":true"),
            Side::Raw(_) => {
                out.extend_from_slice(b"{\"type\":\"struct\",\"optional\":true,\"fields\":[{\"type\":\"bytes\",\"optional\":true,\"field\":");
                write_json_string(raw_data_key, out);
                out.extend_from_slice(b"}]");
            }
            _ => {
                if let Some(m) = self.map() {
                    write_struct_schema_body(m, out);
                }
            }
        }
        out.extend_from_slice(b",\"field\":");
        write_json_string(field, out);
        out.push(b'}');
    }
}

/// Writes `{"type":"struct","optional":true[,"fields":[…]]` (without the closing brace).
fn write_struct_schema_body(map: &StructuredData, out: &mut Vec<u8>) {
    out.extend_from_slice(b"{\"type\":\"struct\",\"optional\":true");
    if map.is_empty() {
        return;
    }
    out.extend_from_slice(b",\"fields\":[");
    let mut keys: Vec<&String> = map.keys().collect();
    keys.sort();
    for (i, key) in keys.into_iter().enumerate() {
        if i > 0 {
            out.push(b',');
        }
        if let Some(value) = map.get(key) {
            write_value_schema(value, Some(key), out);
        }
    }
    out.push(b']');
}

/// Writes the schema of `value`, as a struct field named `field` when given.
fn write_value_schema(value: &Value, field: Option<&str>, out: &mut Vec<u8>) {
    match value {
        Value::Null => out.extend_from_slice(b"{\"type\":\"string\",\"optional\":true"),
        Value::Bool(_) => out.extend_from_slice(b"{\"type\":\"boolean\""),
        Value::Number(n) if n.is_i64() || n.is_u64() => out.extend_from_slice(b"{\"type\":\"int64\""),
        Value::Number(_) => out.extend_from_slice(b"{\"type\":\"double\""),
        Value::String(_) => out.extend_from_slice(b"{\"type\":\"string\""),
        Value::Array(items) => {
            out.extend_from_slice(b"{\"type\":\"array\",\"optional\":true,\"items\":");
            match items.first() {
                Some(first) if !first.is_null() => write_value_schema(first, None, out),
                _ => out.extend_from_slice(b"{\"type\":\"string\",\"optional\":true}"),
            }
        }
        Value::Object(map) => write_struct_schema_body(map, out),
    }
    if let Some(field) = field {
        out.extend_from_slice(b",\"field\":");
        write_json_string(field, out);
    }
    out.push(b'}');
}

fn debezium_op(op: Operation) -> &'static str {
    match op {
        Operation::Create => "c",
        Operation::Update => "u",
        Operation::Delete => "d",
        Operation::Snapshot => "r",
    }
}

/// Appends `record` in the `debezium/json` format (see the [module docs](crate::opencdc::debezium)) to `out`.
///
/// `schema_name` is `debezium.schema.name` (omitted when `None` or empty), `raw_data_key` is
/// `debezium.rawData.key` ([`DEFAULT_RAW_DATA_KEY`] by default).
pub fn to_debezium_json(record: &Record, schema_name: Option<&str>, raw_data_key: &str, out: &mut Vec<u8>) {
    let before = convert(record.payload.before.as_ref());
    let after = convert(record.payload.after.as_ref());
    let before_schema = if before.is_null() { &after } else { &before };
    let after_schema = if after.is_null() { &before } else { &after };

    out.extend_from_slice(b"{\"schema\":{\"type\":\"struct\"");
    if let Some(name) = schema_name.filter(|n| !n.is_empty()) {
        out.extend_from_slice(b",\"name\":");
        write_json_string(name, out);
    }
    out.extend_from_slice(b",\"fields\":[");
    before_schema.write_schema("before", raw_data_key, out);
    out.push(b',');
    after_schema.write_schema("after", raw_data_key, out);
    out.push(b',');
    out.extend_from_slice(b"{\"type\":\"struct\",\"optional\":true");
    if !record.metadata.is_empty() {
        out.extend_from_slice(b",\"fields\":[");
        for (i, key) in record.metadata.0.keys().enumerate() {
            if i > 0 {
                out.push(b',');
            }
            out.extend_from_slice(b"{\"type\":\"string\",\"field\":");
            write_json_string(key, out);
            out.push(b'}');
        }
        out.push(b']');
    }
    out.extend_from_slice(
        b",\"field\":\"source\"},\
{\"type\":\"string\",\"field\":\"op\"},\
{\"type\":\"int64\",\"optional\":true,\"field\":\"ts_ms\"},\
{\"type\":\"struct\",\"optional\":true,\"fields\":[\
{\"type\":\"string\",\"field\":\"id\"},\
{\"type\":\"int64\",\"field\":\"total_order\"},\
{\"type\":\"int64\",\"field\":\"data_collection_order\"}],\"field\":\"transaction\"}]},",
    );

    out.extend_from_slice(b"\"payload\":{\"before\":");
    before.write_value(raw_data_key, out);
    out.extend_from_slice(b",\"after\":");
    after.write_value(raw_data_key, out);
    out.extend_from_slice(b",\"source\":");
    write_metadata(&record.metadata, out);
    out.extend_from_slice(b",\"op\":\"");
    out.extend_from_slice(debezium_op(record.operation).as_bytes());
    out.push(b'"');
    let ts_ms = record.metadata.read_at_nanos().map_or(0, |n| n.div_euclid(1_000_000));
    if ts_ms != 0 {
        out.extend_from_slice(b",\"ts_ms\":");
        out.extend_from_slice(ts_ms.to_string().as_bytes());
    }
    out.extend_from_slice(b",\"transaction\":null}}");
}
