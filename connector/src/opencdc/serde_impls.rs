//! serde for records: `Serialize` and `Deserialize` of [`Record`] and its parts with the
//! OpenCDC JSON form, and the reader behind [`Record::from_json`] (serde_json).
//!
//! Reading follows Go's `encoding/json` into the Go SDK's record: field names match
//! case-insensitively, unknown fields are ignored, missing fields keep their defaults, `null`
//! position or metadata is empty, a key/before/after string is padded base64 raw data, an
//! object is structured data with every number an `f64` (Go's `float64`). A field holding the
//! wrong JSON type does not stop the parse: the error is kept and reported only if the rest of
//! the input is valid JSON (Go validates the whole input first), so a syntax error later in the
//! input wins. Nesting is limited to [`MAX_DEPTH`] without relying on serde_json's recursion
//! limit, so deep input is an error, never a stack overflow.
//!
//! Writing through serde gives the same structure (field order, base64 with padding, `null`s);
//! the Go-identical bytes (HTML-safe escaping, Go's float format) come from
//! [`Record::to_json`].

use std::borrow::Cow;
use std::fmt;

use serde::de::{self, DeserializeSeed, Deserializer, IgnoredAny, MapAccess, SeqAccess, Visitor};
use serde::ser::{SerializeMap, SerializeStruct, Serializer};
use serde::{Deserialize, Serialize};
use serde_json::{Number, Value};

use super::base64;
use super::json::{JsonPosition, MAX_DEPTH, RecordError};
use super::{Change, Data, Metadata, Operation, Position, Record, StructuredData};

// ---------------------------------------------------------------------------------------------
// Serialize
// ---------------------------------------------------------------------------------------------

fn base64_string(bytes: &[u8]) -> String {
    let mut out = Vec::with_capacity(base64::encoded_len(bytes.len()));
    base64::encode_into(bytes, &mut out);
    // Base64 is ASCII.
    String::from_utf8(out).unwrap_or_default()
}

/// A padded base64 string; empty is `null` (Go's nil slice).
impl Serialize for Position {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        if self.0.is_empty() { serializer.serialize_none() } else { serializer.serialize_str(&base64_string(&self.0)) }
    }
}

/// `create`, `update`, `delete` or `snapshot`.
impl Serialize for Operation {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(self.as_str())
    }
}

/// An object of strings; empty is `null` (Go's nil map).
impl Serialize for Metadata {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        if self.0.is_empty() {
            return serializer.serialize_none();
        }
        let mut map = serializer.serialize_map(Some(self.0.len()))?;
        for (k, v) in &self.0 {
            map.serialize_entry(k, v)?;
        }
        map.end()
    }
}

/// Raw data as a padded base64 string, structured data as an object.
impl Serialize for Data {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        match self {
            Data::Raw(bytes) => serializer.serialize_str(&base64_string(bytes)),
            Data::Structured(map) => map.serialize(serializer),
        }
    }
}

/// `{"before": …, "after": …}`, `null` for a missing side.
impl Serialize for Change {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let mut s = serializer.serialize_struct("Change", 2)?;
        s.serialize_field("before", &self.before)?;
        s.serialize_field("after", &self.after)?;
        s.end()
    }
}

/// The OpenCDC JSON form: `position, operation, metadata, key, payload`, no field omitted.
impl Serialize for Record {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let mut s = serializer.serialize_struct("Record", 5)?;
        s.serialize_field("position", &self.position)?;
        s.serialize_field("operation", &self.operation)?;
        s.serialize_field("metadata", &self.metadata)?;
        s.serialize_field("key", &self.key)?;
        s.serialize_field("payload", &self.payload)?;
        s.end()
    }
}

// ---------------------------------------------------------------------------------------------
// Deserialize
// ---------------------------------------------------------------------------------------------

/// The state of one parse: the first deferred (non-syntax) error, the nesting depth and the
/// field being read (named in syntax errors).
#[derive(Default)]
struct Cx {
    deferred: Option<RecordError>,
    depth: usize,
    field: Option<&'static str>,
}

impl Cx {
    fn defer(&mut self, error: RecordError) {
        if self.deferred.is_none() {
            self.deferred = Some(error);
        }
    }

    fn type_error(&mut self, field: impl Into<String>, expected: &'static str, found: &'static str) {
        self.defer(RecordError::InvalidType { field: field.into(), expected, found });
    }

    fn enter<E: de::Error>(&mut self) -> Result<(), E> {
        self.depth += 1;
        if self.depth > MAX_DEPTH {
            return Err(E::custom(format_args!("exceeded max depth of {MAX_DEPTH}")));
        }
        Ok(())
    }

    fn leave(&mut self) {
        self.depth -= 1;
    }

    fn base64(&mut self, field: &str, text: &str) -> Vec<u8> {
        match base64::decode(text.as_bytes()) {
            Ok(bytes) => bytes,
            Err(e) => {
                self.defer(RecordError::InvalidBase64 { field: field.to_owned(), message: e.to_string() });
                Vec::new()
            }
        }
    }
}

/// What a JSON value of an unexpected type was, for "expected …, found …" errors. Consumes
/// the value (counting its depth).
#[derive(Clone, Copy)]
enum Found {
    Null,
    Bool,
    Number,
    String,
    Array,
    Object,
}

impl Found {
    fn name(self) -> &'static str {
        match self {
            Found::Null => "null",
            Found::Bool => "bool",
            Found::Number => "number",
            Found::String => "string",
            Found::Array => "array",
            Found::Object => "object",
        }
    }
}

/// Skips any value, validating it and bounding its depth, and says what it was.
struct Skip<'c>(&'c mut Cx);

impl<'de> DeserializeSeed<'de> for Skip<'_> {
    type Value = Found;
    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<Found, D::Error> {
        d.deserialize_any(self)
    }
}

/// Implements the scalar `visit_*` methods of a visitor whose other types are all handled by
/// `self.other(found)`.
macro_rules! scalars_to_other {
    ($($method:ident($ty:ty) => $found:ident),* $(,)?) => {
        $(fn $method<E: de::Error>(self, _: $ty) -> Result<Self::Value, E> {
            Ok(self.other(Found::$found))
        })*
    };
}

/// Skips the remaining elements of a sequence or entries of a map the visitor was given.
fn drain_seq<'de, A: SeqAccess<'de>>(cx: &mut Cx, mut seq: A) -> Result<(), A::Error> {
    cx.enter()?;
    while seq.next_element_seed(Skip(cx))?.is_some() {}
    cx.leave();
    Ok(())
}

fn drain_map<'de, A: MapAccess<'de>>(cx: &mut Cx, mut map: A) -> Result<(), A::Error> {
    cx.enter()?;
    while map.next_key::<IgnoredAny>()?.is_some() {
        map.next_value_seed(Skip(cx))?;
    }
    cx.leave();
    Ok(())
}

impl<'de> Visitor<'de> for Skip<'_> {
    type Value = Found;
    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("any JSON value")
    }
    fn visit_bool<E: de::Error>(self, _: bool) -> Result<Found, E> {
        Ok(Found::Bool)
    }
    fn visit_i64<E: de::Error>(self, _: i64) -> Result<Found, E> {
        Ok(Found::Number)
    }
    fn visit_u64<E: de::Error>(self, _: u64) -> Result<Found, E> {
        Ok(Found::Number)
    }
    fn visit_f64<E: de::Error>(self, _: f64) -> Result<Found, E> {
        Ok(Found::Number)
    }
    fn visit_str<E: de::Error>(self, _: &str) -> Result<Found, E> {
        Ok(Found::String)
    }
    fn visit_unit<E: de::Error>(self) -> Result<Found, E> {
        Ok(Found::Null)
    }
    fn visit_none<E: de::Error>(self) -> Result<Found, E> {
        Ok(Found::Null)
    }
    fn visit_seq<A: SeqAccess<'de>>(self, seq: A) -> Result<Found, A::Error> {
        drain_seq(self.0, seq).map(|()| Found::Array)
    }
    fn visit_map<A: MapAccess<'de>>(self, map: A) -> Result<Found, A::Error> {
        drain_map(self.0, map).map(|()| Found::Object)
    }
}

/// A structured value: every number an `f64`, objects and arrays depth-counted.
struct ValueSeed<'c>(&'c mut Cx);

impl<'de> DeserializeSeed<'de> for ValueSeed<'_> {
    type Value = Value;
    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<Value, D::Error> {
        d.deserialize_any(self)
    }
}

fn number(v: f64) -> Value {
    // Integers and parsed floats are finite.
    Number::from_f64(v).map_or(Value::Null, Value::Number)
}

impl<'de> Visitor<'de> for ValueSeed<'_> {
    type Value = Value;
    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("any JSON value")
    }
    fn visit_bool<E: de::Error>(self, v: bool) -> Result<Value, E> {
        Ok(Value::Bool(v))
    }
    fn visit_i64<E: de::Error>(self, v: i64) -> Result<Value, E> {
        Ok(number(v as f64))
    }
    fn visit_u64<E: de::Error>(self, v: u64) -> Result<Value, E> {
        Ok(number(v as f64))
    }
    fn visit_f64<E: de::Error>(self, v: f64) -> Result<Value, E> {
        Ok(number(v))
    }
    fn visit_str<E: de::Error>(self, v: &str) -> Result<Value, E> {
        Ok(Value::String(v.to_owned()))
    }
    fn visit_string<E: de::Error>(self, v: String) -> Result<Value, E> {
        Ok(Value::String(v))
    }
    fn visit_unit<E: de::Error>(self) -> Result<Value, E> {
        Ok(Value::Null)
    }
    fn visit_none<E: de::Error>(self) -> Result<Value, E> {
        Ok(Value::Null)
    }
    fn visit_some<D: Deserializer<'de>>(self, d: D) -> Result<Value, D::Error> {
        d.deserialize_any(self)
    }
    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Value, A::Error> {
        let cx = self.0;
        cx.enter()?;
        let mut items = Vec::with_capacity(seq.size_hint().unwrap_or(0).min(64));
        while let Some(item) = seq.next_element_seed(ValueSeed(cx))? {
            items.push(item);
        }
        cx.leave();
        Ok(Value::Array(items))
    }
    fn visit_map<A: MapAccess<'de>>(self, map: A) -> Result<Value, A::Error> {
        object(self.0, map).map(Value::Object)
    }
}

/// An object key, borrowed from the input when it has no escapes.
struct Key<'de>(Cow<'de, str>);

impl<'de> Deserialize<'de> for Key<'de> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        d.deserialize_str(KeyVisitor)
    }
}

struct KeyVisitor;

impl<'de> Visitor<'de> for KeyVisitor {
    type Value = Key<'de>;
    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("an object key")
    }
    fn visit_borrowed_str<E: de::Error>(self, v: &'de str) -> Result<Key<'de>, E> {
        Ok(Key(Cow::Borrowed(v)))
    }
    fn visit_str<E: de::Error>(self, v: &str) -> Result<Key<'de>, E> {
        Ok(Key(Cow::Owned(v.to_owned())))
    }
    fn visit_string<E: de::Error>(self, v: String) -> Result<Key<'de>, E> {
        Ok(Key(Cow::Owned(v)))
    }
}

/// A structured object (the map of a `{`), depth-counted; a repeated key keeps its last value.
fn object<'de, A: MapAccess<'de>>(cx: &mut Cx, mut map: A) -> Result<StructuredData, A::Error> {
    cx.enter()?;
    let mut out = StructuredData::new();
    while let Some(Key(key)) = map.next_key::<Key<'de>>()? {
        let value = map.next_value_seed(ValueSeed(cx))?;
        out.insert(key.into_owned(), value);
    }
    cx.leave();
    Ok(out)
}

/// A key, a payload side: base64 string → raw, object → structured, `null` → `None`.
struct DataSeed<'c> {
    cx: &'c mut Cx,
    field: &'static str,
}

impl<'de> DeserializeSeed<'de> for DataSeed<'_> {
    type Value = Option<Data>;
    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<Option<Data>, D::Error> {
        d.deserialize_any(self)
    }
}

impl DataSeed<'_> {
    fn other(self, found: Found) -> Option<Data> {
        self.cx.type_error(self.field, "a base64 string, an object or null", found.name());
        None
    }
}

impl<'de> Visitor<'de> for DataSeed<'_> {
    type Value = Option<Data>;
    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a base64 string, an object or null")
    }
    scalars_to_other!(visit_bool(bool) => Bool, visit_i64(i64) => Number, visit_u64(u64) => Number, visit_f64(f64) => Number);
    fn visit_str<E: de::Error>(self, v: &str) -> Result<Self::Value, E> {
        Ok(Some(Data::Raw(self.cx.base64(self.field, v))))
    }
    fn visit_unit<E: de::Error>(self) -> Result<Self::Value, E> {
        Ok(None)
    }
    fn visit_none<E: de::Error>(self) -> Result<Self::Value, E> {
        Ok(None)
    }
    fn visit_some<D: Deserializer<'de>>(self, d: D) -> Result<Self::Value, D::Error> {
        d.deserialize_any(self)
    }
    fn visit_seq<A: SeqAccess<'de>>(self, seq: A) -> Result<Self::Value, A::Error> {
        drain_seq(self.cx, seq)?;
        Ok(self.other(Found::Array))
    }
    fn visit_map<A: MapAccess<'de>>(self, map: A) -> Result<Self::Value, A::Error> {
        object(self.cx, map).map(|m| Some(Data::Structured(m)))
    }
}

/// Implements `visit_seq`/`visit_map` as "skip, then `self.other`" and `visit_some` as a
/// transparent wrapper.
macro_rules! containers_to_other {
    () => {
        fn visit_some<D: Deserializer<'de>>(self, d: D) -> Result<Self::Value, D::Error> {
            d.deserialize_any(self)
        }
        fn visit_seq<A: SeqAccess<'de>>(self, seq: A) -> Result<Self::Value, A::Error> {
            drain_seq(self.cx, seq)?;
            Ok(self.other(Found::Array))
        }
    };
}

/// The record's position: base64 string or `null`.
struct PositionSeed<'c> {
    cx: &'c mut Cx,
}

impl<'de> DeserializeSeed<'de> for PositionSeed<'_> {
    type Value = Option<Position>;
    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<Self::Value, D::Error> {
        d.deserialize_any(self)
    }
}

impl PositionSeed<'_> {
    /// `None`: keep the current value (after a type error).
    fn other(self, found: Found) -> Option<Position> {
        self.cx.type_error("position", "a base64 string or null", found.name());
        None
    }
}

impl<'de> Visitor<'de> for PositionSeed<'_> {
    type Value = Option<Position>;
    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a base64 string or null")
    }
    scalars_to_other!(visit_bool(bool) => Bool, visit_i64(i64) => Number, visit_u64(u64) => Number, visit_f64(f64) => Number);
    containers_to_other!();
    fn visit_str<E: de::Error>(self, v: &str) -> Result<Self::Value, E> {
        Ok(Some(Position(self.cx.base64("position", v))))
    }
    fn visit_unit<E: de::Error>(self) -> Result<Self::Value, E> {
        Ok(Some(Position::default()))
    }
    fn visit_none<E: de::Error>(self) -> Result<Self::Value, E> {
        Ok(Some(Position::default()))
    }
    fn visit_map<A: MapAccess<'de>>(self, map: A) -> Result<Self::Value, A::Error> {
        drain_map(self.cx, map)?;
        Ok(self.other(Found::Object))
    }
}

/// The operation: a string (`""` and `null` leave it unchanged, as Go's `UnmarshalText`).
struct OperationSeed<'c> {
    cx: &'c mut Cx,
}

impl<'de> DeserializeSeed<'de> for OperationSeed<'_> {
    type Value = Option<Operation>;
    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<Self::Value, D::Error> {
        d.deserialize_any(self)
    }
}

impl OperationSeed<'_> {
    fn other(self, found: Found) -> Option<Operation> {
        self.cx.type_error("operation", "a string", found.name());
        None
    }
}

impl<'de> Visitor<'de> for OperationSeed<'_> {
    type Value = Option<Operation>;
    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("an operation name")
    }
    scalars_to_other!(visit_bool(bool) => Bool, visit_i64(i64) => Number, visit_u64(u64) => Number, visit_f64(f64) => Number);
    containers_to_other!();
    fn visit_str<E: de::Error>(self, v: &str) -> Result<Self::Value, E> {
        if v.is_empty() {
            return Ok(None);
        }
        match v.parse::<Operation>() {
            Ok(op) => Ok(Some(op)),
            Err(e) => {
                self.cx.defer(RecordError::InvalidOperation(e));
                Ok(None)
            }
        }
    }
    fn visit_unit<E: de::Error>(self) -> Result<Self::Value, E> {
        Ok(None)
    }
    fn visit_none<E: de::Error>(self) -> Result<Self::Value, E> {
        Ok(None)
    }
    fn visit_map<A: MapAccess<'de>>(self, map: A) -> Result<Self::Value, A::Error> {
        drain_map(self.cx, map)?;
        Ok(self.other(Found::Object))
    }
}

/// Metadata: an object of strings (a `null` value is `""`) or `null`, merged into `target`.
struct MetadataSeed<'c> {
    cx: &'c mut Cx,
    target: &'c mut Metadata,
}

impl<'de> DeserializeSeed<'de> for MetadataSeed<'_> {
    type Value = ();
    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<(), D::Error> {
        d.deserialize_any(self)
    }
}

impl MetadataSeed<'_> {
    fn other(self, found: Found) {
        self.cx.type_error("metadata", "an object of strings or null", found.name());
    }
}

impl<'de> Visitor<'de> for MetadataSeed<'_> {
    type Value = ();
    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("an object of strings or null")
    }
    scalars_to_other!(
        visit_bool(bool) => Bool, visit_i64(i64) => Number, visit_u64(u64) => Number,
        visit_f64(f64) => Number, visit_str(&str) => String,
    );
    containers_to_other!();
    fn visit_unit<E: de::Error>(self) -> Result<(), E> {
        self.target.0.clear();
        Ok(())
    }
    fn visit_none<E: de::Error>(self) -> Result<(), E> {
        self.visit_unit()
    }
    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<(), A::Error> {
        let cx = self.cx;
        cx.enter()?;
        while let Some(Key(key)) = map.next_key::<Key<'de>>()? {
            if let Some(value) = map.next_value_seed(MetadataValueSeed { cx: &mut *cx, key: &key })? {
                self.target.0.insert(key.into_owned(), value);
            }
        }
        cx.leave();
        Ok(())
    }
}

/// One metadata value: a string, or `null` as `""`.
struct MetadataValueSeed<'c, 'k> {
    cx: &'c mut Cx,
    key: &'k str,
}

impl<'de> DeserializeSeed<'de> for MetadataValueSeed<'_, '_> {
    type Value = Option<String>;
    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<Self::Value, D::Error> {
        d.deserialize_any(self)
    }
}

impl MetadataValueSeed<'_, '_> {
    fn other(self, found: Found) -> Option<String> {
        self.cx.type_error(format!("metadata[{:?}]", self.key), "a string", found.name());
        None
    }
}

impl<'de> Visitor<'de> for MetadataValueSeed<'_, '_> {
    type Value = Option<String>;
    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a string")
    }
    scalars_to_other!(visit_bool(bool) => Bool, visit_i64(i64) => Number, visit_u64(u64) => Number, visit_f64(f64) => Number);
    containers_to_other!();
    fn visit_str<E: de::Error>(self, v: &str) -> Result<Self::Value, E> {
        Ok(Some(v.to_owned()))
    }
    fn visit_string<E: de::Error>(self, v: String) -> Result<Self::Value, E> {
        Ok(Some(v))
    }
    fn visit_unit<E: de::Error>(self) -> Result<Self::Value, E> {
        Ok(Some(String::new()))
    }
    fn visit_none<E: de::Error>(self) -> Result<Self::Value, E> {
        Ok(Some(String::new()))
    }
    fn visit_map<A: MapAccess<'de>>(self, map: A) -> Result<Self::Value, A::Error> {
        drain_map(self.cx, map)?;
        Ok(self.other(Found::Object))
    }
}

/// The payload: an object with `before` and `after` (case-insensitive), or `null`.
struct ChangeSeed<'c> {
    cx: &'c mut Cx,
    target: &'c mut Change,
}

impl<'de> DeserializeSeed<'de> for ChangeSeed<'_> {
    type Value = ();
    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<(), D::Error> {
        d.deserialize_any(self)
    }
}

impl ChangeSeed<'_> {
    fn other(self, found: Found) {
        self.cx.type_error("payload", "an object or null", found.name());
    }
}

impl<'de> Visitor<'de> for ChangeSeed<'_> {
    type Value = ();
    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("an object or null")
    }
    scalars_to_other!(
        visit_bool(bool) => Bool, visit_i64(i64) => Number, visit_u64(u64) => Number,
        visit_f64(f64) => Number, visit_str(&str) => String,
    );
    containers_to_other!();
    fn visit_unit<E: de::Error>(self) -> Result<(), E> {
        *self.target = Change::default();
        Ok(())
    }
    fn visit_none<E: de::Error>(self) -> Result<(), E> {
        self.visit_unit()
    }
    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<(), A::Error> {
        let cx = self.cx;
        cx.enter()?;
        while let Some(Key(key)) = map.next_key::<Key<'de>>()? {
            let (slot, field) = if key.eq_ignore_ascii_case("before") {
                (&mut self.target.before, "payload.before")
            } else if key.eq_ignore_ascii_case("after") {
                (&mut self.target.after, "payload.after")
            } else {
                map.next_value_seed(Skip(&mut *cx))?;
                continue;
            };
            cx.field = Some(field);
            *slot = map.next_value_seed(DataSeed { cx: &mut *cx, field })?;
        }
        cx.field = Some("payload");
        cx.leave();
        Ok(())
    }
}

/// A whole record (an object; anything else is a type error for `record`), read into
/// `target` in place.
struct RecordSeed<'c> {
    cx: &'c mut Cx,
    target: &'c mut Record,
}

impl<'de> DeserializeSeed<'de> for RecordSeed<'_> {
    type Value = ();
    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<(), D::Error> {
        d.deserialize_any(self)
    }
}

impl RecordSeed<'_> {
    fn other(self, found: Found) {
        self.cx.type_error("record", "an object", found.name());
    }
}

impl<'de> Visitor<'de> for RecordSeed<'_> {
    type Value = ();
    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("an OpenCDC record object")
    }
    scalars_to_other!(
        visit_bool(bool) => Bool, visit_i64(i64) => Number, visit_u64(u64) => Number,
        visit_f64(f64) => Number, visit_str(&str) => String,
    );
    containers_to_other!();
    fn visit_unit<E: de::Error>(self) -> Result<(), E> {
        self.other(Found::Null);
        Ok(())
    }
    fn visit_none<E: de::Error>(self) -> Result<(), E> {
        self.visit_unit()
    }
    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<(), A::Error> {
        let cx = self.cx;
        let record = self.target;
        cx.enter()?;
        while let Some(Key(key)) = map.next_key::<Key<'de>>()? {
            let key: &str = &key;
            if key.eq_ignore_ascii_case("position") {
                cx.field = Some("position");
                if let Some(position) = map.next_value_seed(PositionSeed { cx: &mut *cx })? {
                    record.position = position;
                }
            } else if key.eq_ignore_ascii_case("operation") {
                cx.field = Some("operation");
                if let Some(operation) = map.next_value_seed(OperationSeed { cx: &mut *cx })? {
                    record.operation = operation;
                }
            } else if key.eq_ignore_ascii_case("metadata") {
                cx.field = Some("metadata");
                map.next_value_seed(MetadataSeed { cx: &mut *cx, target: &mut record.metadata })?;
            } else if key.eq_ignore_ascii_case("key") {
                cx.field = Some("key");
                record.key = map.next_value_seed(DataSeed { cx: &mut *cx, field: "key" })?;
            } else if key.eq_ignore_ascii_case("payload") {
                cx.field = Some("payload");
                map.next_value_seed(ChangeSeed { cx: &mut *cx, target: &mut record.payload })?;
            } else {
                cx.field = None;
                map.next_value_seed(Skip(&mut *cx))?;
            }
            cx.field = None;
        }
        cx.leave();
        Ok(())
    }
}

/// Runs `seed` on its own (for the plain `Deserialize` impls): a deferred error becomes the
/// deserializer's error.
fn standalone<'de, D: Deserializer<'de>, T>(
    d: D,
    seed: impl FnOnce(&mut Cx, D) -> Result<T, D::Error>,
) -> Result<T, D::Error> {
    let mut cx = Cx::default();
    let value = seed(&mut cx, d)?;
    match cx.deferred {
        Some(e) => Err(de::Error::custom(e)),
        None => Ok(value),
    }
}

/// The OpenCDC JSON form, read as [`Record::from_json`] reads it (case-insensitive field
/// names, `null`s as defaults); a value of the wrong type is an error. Needs a self-describing
/// format (JSON, YAML, …).
impl<'de> Deserialize<'de> for Record {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let mut record = Record::default();
        standalone(d, |cx, d| RecordSeed { cx, target: &mut record }.deserialize(d))?;
        Ok(record)
    }
}

/// A padded base64 string or `null` (empty).
impl<'de> Deserialize<'de> for Position {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        standalone(d, |cx, d| PositionSeed { cx }.deserialize(d)).map(Option::unwrap_or_default)
    }
}

/// `create`, `update`, `delete`, `snapshot` (or `Operation(N)` / `N`); `""` or `null` is the
/// default, `create`.
impl<'de> Deserialize<'de> for Operation {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        standalone(d, |cx, d| OperationSeed { cx }.deserialize(d)).map(Option::unwrap_or_default)
    }
}

/// An object of strings (`null` values as `""`) or `null` (empty).
impl<'de> Deserialize<'de> for Metadata {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let mut metadata = Metadata::default();
        standalone(d, |cx, d| MetadataSeed { cx, target: &mut metadata }.deserialize(d))?;
        Ok(metadata)
    }
}

/// A padded base64 string (raw) or an object (structured, numbers as `f64`). As
/// `Option<Data>`, `null` is `None`.
impl<'de> Deserialize<'de> for Data {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        match standalone(d, |cx, d| DataSeed { cx, field: "data" }.deserialize(d))? {
            Some(data) => Ok(data),
            None => Err(de::Error::invalid_type(de::Unexpected::Unit, &"a base64 string or an object")),
        }
    }
}

/// `{"before": …, "after": …}` (case-insensitive) or `null`.
impl<'de> Deserialize<'de> for Change {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let mut change = Change::default();
        standalone(d, |cx, d| ChangeSeed { cx, target: &mut change }.deserialize(d))?;
        Ok(change)
    }
}

// ---------------------------------------------------------------------------------------------
// Reading JSON text
// ---------------------------------------------------------------------------------------------

/// A serde_json error as [`RecordError::Syntax`]: its line and column, the byte offset, and
/// the field being read when it happened.
fn syntax(input: &[u8], error: &serde_json::Error, field: Option<&str>) -> RecordError {
    let line = error.line().max(1);
    // serde_json counts columns from 0 at the start of a line (an error on the first byte of
    // a line is column 1, at the end of empty input column 0).
    let column = error.column().max(1);
    let line_start = if line == 1 {
        0
    } else {
        input.iter().enumerate().filter(|&(_, &b)| b == b'\n').nth(line - 2).map_or(input.len(), |(i, _)| i + 1)
    };
    let offset = (line_start + column - 1).min(input.len());
    let text = error.to_string();
    // serde_json's Display appends " at line L column C"; the position is ours to print.
    let message = match text.rfind(" at line ") {
        Some(at) if error.line() > 0 => &text[..at],
        _ => &text[..],
    };
    let message = match field {
        Some(field) => format!("{message} (in field {field})"),
        None => message.to_owned(),
    };
    RecordError::Syntax { position: JsonPosition { offset, line, column }, message }
}

/// [`Record::from_json`].
pub(super) fn record_from_json(input: &[u8]) -> Result<Record, RecordError> {
    let mut de = serde_json::Deserializer::from_slice(input);
    // The seeds bound the depth themselves (MAX_DEPTH, above serde_json's 128).
    de.disable_recursion_limit();
    let mut cx = Cx::default();
    let mut record = Record::default();
    let result = RecordSeed { cx: &mut cx, target: &mut record }.deserialize(&mut de).and_then(|()| de.end());
    match result {
        Ok(()) => match cx.deferred {
            Some(e) => Err(e),
            None => Ok(record),
        },
        Err(e) => Err(syntax(input, &e, cx.field)),
    }
}

/// Parses JSON text holding an object (`Some(Some(map))`) or `null` (`Some(None)`) with the
/// codec's rules; `None` for anything else or malformed JSON. Used by the Debezium formatter
/// to read raw data that carries JSON.
pub(crate) fn parse_structured_object(input: &[u8]) -> Option<Option<StructuredData>> {
    let mut de = serde_json::Deserializer::from_slice(input);
    de.disable_recursion_limit();
    let mut cx = Cx::default();
    let value = ValueSeed(&mut cx).deserialize(&mut de).ok()?;
    de.end().ok()?;
    match value {
        Value::Object(map) => Some(Some(map)),
        Value::Null => Some(None),
        _ => None,
    }
}
