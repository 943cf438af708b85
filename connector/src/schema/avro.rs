//! Avro → OpenCDC structured data, with the values the Go SDK produces.
//!
//! Go destinations decode Avro-encoded keys and payloads with conduit-commons'
//! `schema/avro` package: hamba/avro's generic decode into `map[string]any`, then
//! conduit-commons' union resolver, and the result reaches the connector (and JSON) through
//! Go's `encoding/json`. [`decode`] produces the same values, so that
//! [`write_json_value`](crate::opencdc::write_json_value) prints the bytes Go prints.
//! The binary decoding itself is apache-avro's.
//!
//! ```
//! use conduit_connector::schema::avro::{AvroSchema, decode};
//!
//! let schema = AvroSchema::parse(br#"{"type":"record","name":"record","fields":[
//!     {"name":"id","type":"long"},
//!     {"name":"name","type":["null","string"]}]}"#)?;
//! // id = 1 (zig-zag 2), name = union branch 1 (zig-zag 2), "ab"
//! let data = decode(&schema, &[2, 2, 4, b'a', b'b'])?;
//! assert_eq!(serde_json::Value::Object(data).to_string(), r#"{"id":1,"name":"ab"}"#);
//! # Ok::<(), conduit_connector::schema::avro::AvroError>(())
//! ```
//!
//! # Value mapping
//!
//! | Avro type | Go value (hamba/avro generic decode) | JSON (`encoding/json`) |
//! |---|---|---|
//! | `null` | `nil` | `null` |
//! | `boolean` | `bool` | `true` / `false` |
//! | `int`, `long` | `int`, `int64` | integer |
//! | `float` | `float32` | shortest `float32` form: `1.1`, `1e-7`, `3.4028235e+38` |
//! | `double` | `float64` | shortest `float64` form |
//! | `string` | `string` | string; invalid UTF-8 bytes become U+FFFD, one per byte |
//! | `bytes` | `[]byte` | standard padded base64 string |
//! | `fixed` (size N) | `[N]byte` (an array, not a slice) | array of N numbers: `[1,2,3]` |
//! | `enum` | `string` | the symbol |
//! | `array` | `[]any` | array |
//! | `map` | `map[string]any` | object, keys sorted |
//! | `record` | `map[string]any` | object, keys sorted |
//! | `int` `date` | `time.Time` (UTC) | `"2024-01-02T00:00:00Z"` |
//! | `long` `timestamp-millis` / `-micros` | `time.Time` (UTC) | RFC 3339 with the fraction's trailing zeros cut: `"2024-01-02T03:04:05.123Z"` |
//! | `long` `local-timestamp-millis` / `-micros` | `time.Time` (Local) | as above with `Z` (see below) |
//! | `int` `time-millis`, `long` `time-micros` | `time.Duration` | integer nanoseconds |
//! | `bytes` / `fixed` `decimal` | `*big.Rat` | string: `"617/50"` (reduced fraction), `"12"` when whole |
//! | `fixed` `duration` (size 12) | `avro.LogicalDuration` | `{"Days":2,"Milliseconds":3,"Months":1}` |
//! | `string` `uuid` | `string` | string |
//! | other logical types (`timestamp-nanos`, `big-decimal`, …) | the underlying type | as the underlying type |
//!
//! ## Unions
//!
//! hamba/avro decodes a union to its plain value when every branch is a primitive (`null`,
//! `boolean`, `int`, `long`, `float`, `double`, `string`, `bytes`) or one of the logical types
//! `int.date`, `int.time-millis`, `long.time-micros`, `long.timestamp-millis`,
//! `long.timestamp-micros`, `bytes.decimal`, `string.uuid`. Otherwise (a record, enum, fixed,
//! array, map or local timestamp among the branches) the value is wrapped as
//! `{"<type name>": value}`, the name being the full name of a named type, `array`, `map`,
//! or the primitive name with its logical type (`long.local-timestamp-micros`). `null` is
//! always plain `null`. conduit-commons then unwraps:
//!
//! - every value of a map, and every item of an array, whose union has an `array` or `map`
//!   branch;
//! - a union of exactly two branches, one `null` (`["null", T]`), that is a record field or a
//!   map's values (not an array's items).
//!
//! Other wrapped values stay wrapped, as in Go: `["null","string","R"]` in a record field gives
//! `{"string":"x"}` or `{"ns.R":{…}}`, and an array of `["null","R"]` keeps `{"R":{…}}`.
//!
//! conduit-commons finds those unions by walking the decoded value along the schema, and its
//! walk passes a record field's wrapped union without unwrapping it, so it never reaches what
//! lies inside: a nullable record inside a nullable record keeps its wrapper
//! (`{"a":{"b":{"R2":{…}}}}`). This module reproduces that.
//!
//! ## The top level
//!
//! Structured data is an object, so the schema must be a `record` or a `map` (anything else is
//! [`AvroError::NotStructured`], Go's "unsupported" error), or a union of those: its non-null
//! value is wrapped as `{"<type name>": value}` (Go's decoding into `StructuredData`), except
//! a `["null", record-or-map]` union, which gives the record or map itself (Go panics in
//! the union resolver there). A `null` top-level value is an error (Go gives a nil map).
//!
//! ## Where the output differs from Go, and why
//!
//! - `local-timestamp-*`: Go prints the wall-clock time with the offset of the process's
//!   local zone; we print it with `Z`, which is what Go prints under `TZ=UTC` (as in
//!   Conduit's container images).
//! - `duration`: Go prints the struct's fields in declaration order (`Months`, `Days`,
//!   `Milliseconds`); structured data sorts its keys.
//! - A string with invalid UTF-8: Go's `encoding/json` writes each replaced byte as the escape
//!   `\ufffd`, our JSON writer writes the character U+FFFD itself (the same JSON value). Map
//!   keys with invalid UTF-8 are a decode error (apache-avro reads keys as strings).
//! - NaN and ±infinity (`float`, `double`) are `null`; Go's `encoding/json` cannot encode them
//!   and the Go SDK panics when the data is marshalled.
//! - Times outside the years 0–9999 are an error; Go's `time.Time` JSON encoding fails (and the
//!   SDK panics) for them.
//! - Where conduit-commons' union resolver fails on valid data (it can, for a map or array of
//!   unions reached through another union, depending on the number of entries) we decode the
//!   data with the rules above instead of failing.
//! - Go does not limit a schema's depth and overflows its stack on a recursive schema; we
//!   refuse recursive schemas and schemas nested deeper than 128 levels when parsing (as
//!   [`AvroError::UnsupportedSchema`]), a `decimal` scale above 1000, and arrays whose items
//!   take no bytes (`null`, `fixed` of size 0, records of only those), where a datum of a few
//!   bytes could claim billions of items, and `fixed` sizes above 16 MiB. A `decimal` value
//!   longer than 4 KiB (about 9,800 digits) is a decode error.
//! - hamba/avro's default configuration (the one conduit-commons uses) rejects `string` and
//!   `bytes` values longer than 1 MiB; we accept them (up to apache-avro's limit, below).
//!
//! Bytes after the datum are ignored, as hamba/avro's `Unmarshal` does. A datum that ends
//! early is an error. Lengths are bounded by apache-avro's allocation limit (512 MiB unless the
//! process set another with `apache_avro::util::max_allocation_bytes`): a datum claiming a
//! longer string or array fails without allocating it. A shorter claim is allocated (zeroed,
//! which the OS provides lazily) before the read finds the input too short.

use std::collections::HashMap;
use std::fmt::Write as _;
use std::io::{self, Read};
use std::sync::Arc;

use apache_avro::Schema;
use apache_avro::error::Details;
use apache_avro::reader::datum::GenericDatumReader;
use apache_avro::schema::{DecimalSchema, InnerDecimalSchema, NamesRef, NamespaceRef, ResolvedSchema, UuidSchema};
use apache_avro::types::Value as AvroValue;
use num_bigint::{BigUint, Sign};
use serde_json::{Map, Number, Value};

use crate::opencdc::StructuredData;

/// The deepest schema accepted (records, arrays, maps and unions along one path).
const MAX_DEPTH: usize = 128;

/// The largest `decimal` scale accepted (the denominator is 10^scale).
const MAX_DECIMAL_SCALE: usize = 1000;

/// The longest `decimal` value accepted, in bytes of its unscaled value (about 9,800 digits;
/// printing it costs quadratic time in its length).
const MAX_DECIMAL_BYTES: usize = 4096;

/// The largest `fixed` size accepted (apache-avro allocates a fixed's size before reading it,
/// without its allocation limit).
const MAX_FIXED_SIZE: usize = 16 << 20;

/// What can go wrong parsing a schema or decoding a datum.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum AvroError {
    /// The schema text is not a valid Avro schema.
    #[error("invalid Avro schema: {0}")]
    InvalidSchema(String),
    /// The schema is valid Avro but beyond what this decoder accepts (recursive, too deep).
    #[error("unsupported Avro schema: {0}")]
    UnsupportedSchema(String),
    /// The schema's top-level type cannot become structured data.
    #[error("cannot decode Avro {0} into structured data: the schema's top-level type must be a record or a map")]
    NotStructured(String),
    /// The datum is not a valid encoding of a value of the schema.
    #[error("cannot decode Avro data: {0}")]
    Decode(String),
    /// The datum ends before the value does.
    #[error("cannot decode Avro data: unexpected end of input (the datum's {0} bytes end inside the value)")]
    Truncated(usize),
}

/// A parsed Avro schema, ready to decode data (cheap to clone: an `Arc` inside).
#[derive(Clone)]
pub struct AvroSchema {
    inner: Arc<Inner>,
}

struct Inner {
    /// Go's view of the schema: what each value becomes.
    root: Arc<Node>,
    /// The schema apache-avro decodes with: logical types removed, so that the conversion
    /// below sees the raw values Go's decoder sees.
    plain: Schema,
    /// The same with strings read as bytes, for data with invalid UTF-8 (when there are strings).
    lenient: Option<Schema>,
}

impl std::fmt::Debug for AvroSchema {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AvroSchema").field("root", &self.inner.root.kind()).finish_non_exhaustive()
    }
}

impl AvroSchema {
    /// Parses Avro schema JSON text (what Conduit's schema service returns in `Schema.bytes`).
    pub fn parse(text: &[u8]) -> Result<AvroSchema, AvroError> {
        let json: serde_json::Value =
            serde_json::from_slice(text).map_err(|e| AvroError::InvalidSchema(e.to_string()))?;
        let schema = Schema::parse(&json).map_err(|e| AvroError::InvalidSchema(e.to_string()))?;
        let resolved = ResolvedSchema::try_from(&schema).map_err(|e| AvroError::InvalidSchema(e.to_string()))?;
        let mut compiler =
            Compiler { names: resolved.get_names(), done: HashMap::new(), active: Vec::new(), strings: false };
        let root = compiler.compile(&schema, None)?.node;
        let parse = |lenient| {
            let text = Plain { lenient, strings: 0 }.schema(&json);
            Schema::parse(&text).map_err(|e| AvroError::InvalidSchema(e.to_string()))
        };
        let plain = parse(false)?;
        let lenient = if compiler.strings { Some(parse(true)?) } else { None };
        Ok(AvroSchema { inner: Arc::new(Inner { root, plain, lenient }) })
    }
}

/// Decodes one Avro binary datum written with `schema` into OpenCDC structured data, with the
/// value mapping the Go SDK produces (hamba/avro generic decode + conduit-commons union
/// resolver; see the [module docs](self)).
pub fn decode(schema: &AvroSchema, bytes: &[u8]) -> Result<StructuredData, AvroError> {
    let root = &*schema.inner.root;
    match root {
        Node::Record(_) | Node::Map(_) => {}
        Node::Union(_) => {}
        other => return Err(AvroError::NotStructured(other.kind().to_owned())),
    }
    let value = match read(&schema.inner.plain, bytes) {
        Ok(value) => value,
        Err(Failure::Utf8(error)) => match &schema.inner.lenient {
            Some(lenient) => read(lenient, bytes).map_err(Failure::into_error)?,
            None => return Err(error),
        },
        Err(failure) => return Err(failure.into_error()),
    };
    let json = match (root, value) {
        (Node::Union(u), AvroValue::Union(index, inner)) => {
            let variant = u.variant(index)?;
            if variant.null {
                return Err(AvroError::Decode("the value is null, structured data needs a record or a map".into()));
            }
            let value = convert(&variant.node, *inner, Parent::Top, false)?;
            if u.null_pair && matches!(value, Value::Object(_)) {
                value
            } else {
                let mut wrapper = Map::new();
                wrapper.insert(variant.name.to_string(), value);
                Value::Object(wrapper)
            }
        }
        (node, value) => convert(node, value, Parent::Top, true)?,
    };
    match json {
        Value::Object(map) => Ok(map),
        _ => Err(AvroError::NotStructured(root.kind().to_owned())),
    }
}

enum Failure {
    Utf8(AvroError),
    Other(AvroError),
}

impl Failure {
    fn into_error(self) -> AvroError {
        match self {
            Failure::Utf8(e) | Failure::Other(e) => e,
        }
    }
}

/// apache-avro's decoding of one datum; input ending early is always [`AvroError::Truncated`].
fn read(schema: &Schema, bytes: &[u8]) -> Result<AvroValue, Failure> {
    let mut input = Input { rest: bytes, eof: false };
    let decoded = GenericDatumReader::builder(schema).build().and_then(|reader| reader.read_value(&mut input));
    if input.eof {
        return Err(Failure::Other(AvroError::Truncated(bytes.len())));
    }
    decoded.map_err(|e| {
        let utf8 = matches!(e.details(), Details::ConvertToUtf8(_) | Details::ConvertToUtf8Error(_));
        let error = AvroError::Decode(e.to_string());
        if utf8 { Failure::Utf8(error) } else { Failure::Other(error) }
    })
}

/// Go's view of one schema node.
enum Node {
    Null,
    Boolean,
    Int,
    Long,
    Float,
    Double,
    String,
    Bytes,
    /// `fixed` of a size: a Go byte array.
    Fixed(usize),
    Enum,
    Array(Arc<Node>),
    Map(Arc<Node>),
    Record(Box<[(String, Arc<Node>)]>),
    Union(Box<Union>),
    Date,
    /// `time-millis` / `time-micros`: nanoseconds per unit.
    Time(i64),
    /// `timestamp-*` and `local-timestamp-*`: units per second.
    Timestamp(i64),
    Decimal(usize),
    Duration,
}

impl Node {
    fn kind(&self) -> &'static str {
        match self {
            Node::Null => "null",
            Node::Boolean => "boolean",
            Node::Int | Node::Date | Node::Time(1_000_000) => "int",
            Node::Long | Node::Time(_) | Node::Timestamp(_) => "long",
            Node::Float => "float",
            Node::Double => "double",
            Node::String => "string",
            Node::Bytes | Node::Decimal(_) => "bytes",
            Node::Fixed(_) | Node::Duration => "fixed",
            Node::Enum => "enum",
            Node::Array(_) => "array",
            Node::Map(_) => "map",
            Node::Record(_) => "record",
            Node::Union(_) => "union",
        }
    }
}

struct Union {
    variants: Box<[Variant]>,
    /// Every branch has a type hamba/avro's default type resolver knows: plain values.
    resolvable: bool,
    /// Exactly two branches, one of them `null`.
    null_pair: bool,
    /// An `array` or `map` branch.
    has_container: bool,
}

impl Union {
    fn variant(&self, index: u32) -> Result<&Variant, AvroError> {
        usize::try_from(index)
            .ok()
            .and_then(|i| self.variants.get(i))
            .ok_or_else(|| AvroError::Decode(format!("union branch {index} out of range")))
    }
}

struct Variant {
    /// hamba/avro's type name: the key of a wrapped value.
    name: Arc<str>,
    node: Arc<Node>,
    null: bool,
}

/// Turns apache-avro's schema into [`Node`]s, resolving references (a named type is compiled
/// once and shared) and refusing recursion, excessive depth and arrays of items that take no
/// bytes (a few bytes of input could claim billions of them).
struct Compiler<'a> {
    names: &'a NamesRef<'a>,
    /// Compiled named types.
    done: HashMap<String, Compiled>,
    /// Named types being compiled (a reference to one of them is recursion).
    active: Vec<String>,
    /// The schema has a `string` somewhere.
    strings: bool,
}

#[derive(Clone)]
struct Compiled {
    node: Arc<Node>,
    /// hamba/avro's name of the type (the key of a wrapped union value).
    name: Arc<str>,
    /// Levels of nesting, 1 for a leaf.
    height: usize,
    /// A value can take zero bytes (`null`, `fixed` of size 0, records of only those).
    empty: bool,
}

impl Compiled {
    fn leaf(node: Node, name: &str) -> Compiled {
        let empty = matches!(node, Node::Null | Node::Fixed(0));
        Compiled { node: Arc::new(node), name: Arc::from(name), height: 1, empty }
    }
}

impl Compiler<'_> {
    fn compile(&mut self, schema: &Schema, ns: NamespaceRef<'_>) -> Result<Compiled, AvroError> {
        let leaf = |node, name| Ok(Compiled::leaf(node, name));
        match schema {
            Schema::Null => leaf(Node::Null, "null"),
            Schema::Boolean => leaf(Node::Boolean, "boolean"),
            Schema::Int => leaf(Node::Int, "int"),
            Schema::Long | Schema::TimestampNanos | Schema::LocalTimestampNanos => leaf(Node::Long, "long"),
            Schema::Float => leaf(Node::Float, "float"),
            Schema::Double => leaf(Node::Double, "double"),
            Schema::String => {
                self.strings = true;
                leaf(Node::String, "string")
            }
            Schema::Uuid(UuidSchema::String) => {
                self.strings = true;
                leaf(Node::String, "string.uuid")
            }
            Schema::Bytes | Schema::BigDecimal | Schema::Uuid(UuidSchema::Bytes) => leaf(Node::Bytes, "bytes"),
            Schema::Date => leaf(Node::Date, "int.date"),
            Schema::TimeMillis => leaf(Node::Time(1_000_000), "int.time-millis"),
            Schema::TimeMicros => leaf(Node::Time(1_000), "long.time-micros"),
            Schema::TimestampMillis => leaf(Node::Timestamp(1_000), "long.timestamp-millis"),
            Schema::TimestampMicros => leaf(Node::Timestamp(1_000_000), "long.timestamp-micros"),
            Schema::LocalTimestampMillis => leaf(Node::Timestamp(1_000), "long.local-timestamp-millis"),
            Schema::LocalTimestampMicros => leaf(Node::Timestamp(1_000_000), "long.local-timestamp-micros"),
            Schema::Decimal(decimal) => self.decimal(decimal, ns),
            Schema::Array(array) => {
                let items = self.compile(&array.items, ns)?;
                if items.empty {
                    return Err(AvroError::UnsupportedSchema(format!(
                        "an array of {} (items that take no bytes, so that a few bytes could claim billions of them)",
                        items.name
                    )));
                }
                nested(Node::Array(items.node), "array", items.height, false)
            }
            Schema::Map(map) => {
                let values = self.compile(&map.types, ns)?;
                nested(Node::Map(values.node), "map", values.height, false)
            }
            Schema::Union(union) => {
                let mut variants = Vec::with_capacity(union.variants().len());
                let mut height = 0;
                for variant in union.variants() {
                    let compiled = self.compile(variant, ns)?;
                    height = height.max(compiled.height);
                    let null = matches!(*compiled.node, Node::Null);
                    variants.push(Variant { null, name: compiled.name, node: compiled.node });
                }
                let resolvable = variants.iter().all(|v| RESOLVABLE.contains(&&*v.name));
                let null_pair = variants.len() == 2 && variants.iter().any(|v| v.null);
                let has_container = variants.iter().any(|v| matches!(*v.node, Node::Array(_) | Node::Map(_)));
                let union = Union { variants: variants.into_boxed_slice(), resolvable, null_pair, has_container };
                nested(Node::Union(Box::new(union)), "union", height, false)
            }
            Schema::Record(record) => self.named(record.name.fullname(ns), |this, fullname| {
                let inner_ns = namespace_of(fullname);
                let mut fields = Vec::with_capacity(record.fields.len());
                let (mut height, mut empty) = (0, true);
                for field in &record.fields {
                    let compiled = this.compile(&field.schema, inner_ns)?;
                    height = height.max(compiled.height);
                    empty &= compiled.empty;
                    fields.push((field.name.clone(), compiled.node));
                }
                Ok((Node::Record(fields.into_boxed_slice()), height + 1, empty))
            }),
            Schema::Enum(e) => self.named(e.name.fullname(ns), |_, _| Ok((Node::Enum, 1, false))),
            Schema::Fixed(f) | Schema::Uuid(UuidSchema::Fixed(f)) => {
                check_fixed_size(f.size)?;
                self.named(f.name.fullname(ns), |_, _| Ok((Node::Fixed(f.size), 1, f.size == 0)))
            }
            Schema::Duration(f) => {
                check_fixed_size(f.size)?;
                let node = if f.size == 12 { Node::Duration } else { Node::Fixed(f.size) };
                self.named(f.name.fullname(ns), |_, _| Ok((node, 1, f.size == 0)))
            }
            Schema::Ref { name } => {
                let fq = name.fully_qualified_name(ns);
                let key = fq.fullname(None);
                if let Some(done) = self.done.get(&key) {
                    return Ok(done.clone());
                }
                if self.active.contains(&key) {
                    return Err(recursive(&key));
                }
                let target =
                    *self.names.get(&*fq).ok_or_else(|| AvroError::InvalidSchema(format!("unknown type {key:?}")))?;
                self.compile(target, fq.namespace())
            }
        }
    }

    /// Compiles a named type once; later references share the node.
    fn named(
        &mut self,
        fullname: String,
        build: impl FnOnce(&mut Self, &str) -> Result<(Node, usize, bool), AvroError>,
    ) -> Result<Compiled, AvroError> {
        if let Some(done) = self.done.get(&fullname) {
            return Ok(done.clone());
        }
        if self.active.contains(&fullname) {
            return Err(recursive(&fullname));
        }
        self.active.push(fullname.clone());
        let built = build(self, &fullname);
        self.active.pop();
        let (node, height, empty) = built?;
        if height > MAX_DEPTH {
            return Err(too_deep());
        }
        let compiled = Compiled { node: Arc::new(node), name: Arc::from(fullname.as_str()), height, empty };
        self.done.insert(fullname, compiled.clone());
        Ok(compiled)
    }

    /// `decimal` as hamba/avro reads it: a logical type only with 0 < precision, scale <= precision
    /// and (for `fixed`) a precision the size can hold; otherwise the underlying type.
    fn decimal(&mut self, decimal: &DecimalSchema, ns: NamespaceRef<'_>) -> Result<Compiled, AvroError> {
        let DecimalSchema { precision, scale, inner } = decimal;
        let fits = match inner {
            InnerDecimalSchema::Bytes => true,
            // floor(log10(2^(8 size) - 1)): the decimal digits every value of the size holds.
            // hamba/avro computes 2^(8 size) as a float64, which is infinite from 128 bytes on,
            // and the precision check then fails.
            InnerDecimalSchema::Fixed(f) => {
                f.size < 128 && (*precision as f64) <= (8.0 * f.size as f64 * std::f64::consts::LOG10_2).floor()
            }
        };
        let logical = *precision > 0 && scale <= precision && fits;
        if logical && *scale > MAX_DECIMAL_SCALE {
            return Err(AvroError::UnsupportedSchema(format!(
                "decimal scale {scale} is larger than {MAX_DECIMAL_SCALE}"
            )));
        }
        match inner {
            InnerDecimalSchema::Bytes if logical => Ok(Compiled::leaf(Node::Decimal(*scale), "bytes.decimal")),
            InnerDecimalSchema::Bytes => Ok(Compiled::leaf(Node::Bytes, "bytes")),
            InnerDecimalSchema::Fixed(f) => {
                check_fixed_size(f.size)?;
                let node = if logical { Node::Decimal(*scale) } else { Node::Fixed(f.size) };
                self.named(f.name.fullname(ns), |_, _| Ok((node, 1, f.size == 0)))
            }
        }
    }
}

fn nested(node: Node, name: &str, inner_height: usize, empty: bool) -> Result<Compiled, AvroError> {
    let height = inner_height + 1;
    if height > MAX_DEPTH {
        return Err(too_deep());
    }
    Ok(Compiled { node: Arc::new(node), name: Arc::from(name), height, empty })
}

fn check_fixed_size(size: usize) -> Result<(), AvroError> {
    if size > MAX_FIXED_SIZE {
        return Err(AvroError::UnsupportedSchema(format!("fixed size {size} is larger than {MAX_FIXED_SIZE} bytes")));
    }
    Ok(())
}

fn too_deep() -> AvroError {
    AvroError::UnsupportedSchema(format!("nested deeper than {MAX_DEPTH} levels"))
}

fn recursive(name: &str) -> AvroError {
    AvroError::UnsupportedSchema(format!("recursive type {name:?} (a type that contains itself)"))
}

/// Union branch types hamba/avro's default `TypeResolver` registers (a union of only these
/// decodes to plain values).
const RESOLVABLE: [&str; 15] = [
    "null",
    "boolean",
    "int",
    "long",
    "float",
    "double",
    "string",
    "bytes",
    "int.date",
    "int.time-millis",
    "long.time-micros",
    "long.timestamp-millis",
    "long.timestamp-micros",
    "bytes.decimal",
    "string.uuid",
];

fn namespace_of(fullname: &str) -> NamespaceRef<'_> {
    fullname.rfind('.').map(|i| &fullname[..i])
}

/// Rewrites schema JSON for apache-avro: without `logicalType` (the conversion below reads the
/// underlying values, as Go's decoder does) and without field defaults (unused for decoding).
/// In `lenient` mode each `string` becomes a record holding one `bytes` field (the same
/// encoding), so that strings with invalid UTF-8, which Go keeps, decode too.
struct Plain {
    lenient: bool,
    strings: usize,
}

impl Plain {
    fn string(&mut self) -> serde_json::Value {
        self.strings += 1;
        serde_json::json!({
            "type": "record",
            "name": format!("conduit.sdk.avro.string{}", self.strings),
            "fields": [{"name": "b", "type": "bytes"}],
        })
    }

    fn schema(&mut self, json: &serde_json::Value) -> serde_json::Value {
        match json {
            Value::String(s) if self.lenient && s == "string" => self.string(),
            Value::Array(branches) => Value::Array(branches.iter().map(|b| self.schema(b)).collect()),
            Value::Object(object) => {
                let kind = object.get("type").and_then(Value::as_str);
                if self.lenient && kind == Some("string") {
                    return self.string();
                }
                let mut out = Map::new();
                for (key, value) in object {
                    let value = match key.as_str() {
                        "logicalType" => continue,
                        "type" | "items" | "values" => self.schema(value),
                        "fields" if matches!(kind, Some("record" | "error")) => match value {
                            Value::Array(fields) => Value::Array(fields.iter().map(|f| self.field(f)).collect()),
                            other => other.clone(),
                        },
                        _ => value.clone(),
                    };
                    out.insert(key.clone(), value);
                }
                Value::Object(out)
            }
            other => other.clone(),
        }
    }

    fn field(&mut self, field: &serde_json::Value) -> serde_json::Value {
        match field {
            Value::Object(object) => {
                let mut out = Map::new();
                for (key, value) in object {
                    match key.as_str() {
                        "default" => {}
                        "type" => {
                            out.insert(key.clone(), self.schema(value));
                        }
                        _ => {
                            out.insert(key.clone(), value.clone());
                        }
                    }
                }
                Value::Object(out)
            }
            other => other.clone(),
        }
    }
}

/// The input, remembering whether the decoder asked for bytes past its end (apache-avro reads
/// some truncated values as `null` instead of failing).
struct Input<'a> {
    rest: &'a [u8],
    eof: bool,
}

impl Read for Input<'_> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        if buf.is_empty() {
            return Ok(0);
        }
        if self.rest.is_empty() {
            self.eof = true;
            return Ok(0);
        }
        let n = buf.len().min(self.rest.len());
        let (head, tail) = self.rest.split_at(n);
        buf[..n].copy_from_slice(head);
        self.rest = tail;
        Ok(n)
    }
}

/// Where a value sits: decides whether conduit-commons unwraps a union there.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Parent {
    Top,
    Field,
    MapValue,
    ArrayItem,
}

fn mismatch(node: &Node, value: &AvroValue) -> AvroError {
    AvroError::Decode(format!("expected {}, decoded {value:?}", node.kind()))
}

/// Converts one decoded value. `tracked`: conduit-commons' walk along the schema reaches this
/// value (it does not past a record field's wrapped union).
fn convert(node: &Node, value: AvroValue, parent: Parent, tracked: bool) -> Result<Value, AvroError> {
    Ok(match (node, value) {
        (Node::Null, AvroValue::Null) => Value::Null,
        (Node::Boolean, AvroValue::Boolean(b)) => Value::Bool(b),
        (Node::Int, AvroValue::Int(i)) => Value::from(i),
        (Node::Long, AvroValue::Long(i)) => Value::from(i),
        (Node::Float, AvroValue::Float(f)) => float32(f),
        (Node::Double, AvroValue::Double(f)) => Number::from_f64(f).map_or(Value::Null, Value::Number),
        (Node::String, AvroValue::String(s)) => Value::String(s),
        // The lenient schema's string: a record of one `bytes` field.
        (Node::String, AvroValue::Record(mut fields)) if matches!(fields.as_slice(), [(_, AvroValue::Bytes(_))]) => {
            match fields.pop() {
                Some((_, AvroValue::Bytes(b))) => Value::String(go_string(b)),
                _ => Value::Null,
            }
        }
        (Node::Bytes, AvroValue::Bytes(b)) => Value::String(base64(&b)),
        (Node::Fixed(_), AvroValue::Fixed(_, b)) => Value::Array(b.into_iter().map(Value::from).collect()),
        (Node::Enum, AvroValue::Enum(_, symbol)) => Value::String(symbol),
        (Node::Date, AvroValue::Int(days)) => time(i64::from(days) * 86_400, 0)?,
        (Node::Time(nanos_per_unit), AvroValue::Int(i)) => Value::from(i64::from(i).wrapping_mul(*nanos_per_unit)),
        (Node::Time(nanos_per_unit), AvroValue::Long(i)) => Value::from(i.wrapping_mul(*nanos_per_unit)),
        (Node::Timestamp(per_second), AvroValue::Long(i)) => {
            let nanos = i.rem_euclid(*per_second) * (1_000_000_000 / per_second);
            time(i.div_euclid(*per_second), nanos as u32)?
        }
        (Node::Decimal(_), AvroValue::Bytes(b) | AvroValue::Fixed(_, b)) if b.len() > MAX_DECIMAL_BYTES => {
            return Err(AvroError::Decode(format!(
                "decimal value of {} bytes is longer than {MAX_DECIMAL_BYTES} bytes",
                b.len()
            )));
        }
        (Node::Decimal(scale), AvroValue::Bytes(b) | AvroValue::Fixed(_, b)) => Value::String(rat(&b, *scale)),
        (Node::Duration, AvroValue::Fixed(_, b)) if b.len() == 12 => {
            let part = |i: usize| u32::from_le_bytes([b[i], b[i + 1], b[i + 2], b[i + 3]]);
            let mut map = Map::new();
            map.insert("Days".into(), Value::from(part(4)));
            map.insert("Milliseconds".into(), Value::from(part(8)));
            map.insert("Months".into(), Value::from(part(0)));
            Value::Object(map)
        }
        (Node::Array(items), AvroValue::Array(values)) => Value::Array(
            values.into_iter().map(|v| convert(items, v, Parent::ArrayItem, tracked)).collect::<Result<_, _>>()?,
        ),
        (Node::Map(values), AvroValue::Map(entries)) => Value::Object(
            entries
                .into_iter()
                .map(|(k, v)| Ok((k, convert(values, v, Parent::MapValue, tracked)?)))
                .collect::<Result<_, AvroError>>()?,
        ),
        (Node::Record(fields), AvroValue::Record(values)) if fields.len() == values.len() => Value::Object(
            fields
                .iter()
                .zip(values)
                // apache-avro's field names are the schema's: reuse them rather than clone ours.
                .map(|((_, node), (name, v))| Ok((name, convert(node, v, Parent::Field, tracked)?)))
                .collect::<Result<_, AvroError>>()?,
        ),
        (Node::Union(union), AvroValue::Union(index, inner)) => {
            let variant = union.variant(index)?;
            if variant.null {
                return Ok(Value::Null);
            }
            // The walk unwraps a union under a map or array, and passes a record field's union
            // as is (the wrapper then stands where the branch's value is expected).
            let inner_tracked = tracked && matches!(parent, Parent::MapValue | Parent::ArrayItem);
            let value = convert(&variant.node, *inner, parent, inner_tracked)?;
            let unwrap = union.resolvable
                || (tracked
                    && ((union.has_container && matches!(parent, Parent::MapValue | Parent::ArrayItem))
                        || (union.null_pair && matches!(parent, Parent::Field | Parent::MapValue))));
            if unwrap {
                value
            } else {
                let mut wrapper = Map::new();
                wrapper.insert(variant.name.to_string(), value);
                Value::Object(wrapper)
            }
        }
        (node, value) => return Err(mismatch(node, &value)),
    })
}

/// A `float32` as Go's `encoding/json` prints it: its shortest decimal form (`1.1`, not
/// `1.100000023841858`), held as the `f64` of that decimal.
fn float32(f: f32) -> Value {
    if !f.is_finite() {
        return Value::Null;
    }
    let shortest = f.to_string().parse::<f64>().unwrap_or(f64::from(f));
    Number::from_f64(shortest).map_or(Value::Null, Value::Number)
}

/// Bytes as a Go string reaches JSON: each byte of an invalid UTF-8 sequence becomes U+FFFD
/// (Go's `encoding/json` decodes rune by rune; an invalid rune has size 1).
fn go_string(bytes: Vec<u8>) -> String {
    match String::from_utf8(bytes) {
        Ok(s) => s,
        Err(e) => {
            let bytes = e.into_bytes();
            let mut out = String::with_capacity(bytes.len() + 8);
            let mut rest = &bytes[..];
            while !rest.is_empty() {
                match std::str::from_utf8(rest) {
                    Ok(s) => {
                        out.push_str(s);
                        break;
                    }
                    Err(e) => {
                        let (valid, after) = rest.split_at(e.valid_up_to());
                        // `valid` is valid UTF-8 by construction.
                        out.push_str(std::str::from_utf8(valid).unwrap_or_default());
                        out.push('\u{FFFD}');
                        rest = after.get(1..).unwrap_or_default();
                    }
                }
            }
            out
        }
    }
}

fn base64(bytes: &[u8]) -> String {
    let mut out = Vec::new();
    crate::opencdc::base64::encode_into(bytes, &mut out);
    // The alphabet is ASCII.
    String::from_utf8(out).unwrap_or_default()
}

/// A `time.Time` in UTC as Go's `encoding/json` prints it (RFC 3339, fraction without
/// trailing zeros); Go cannot print years outside 0–9999.
fn time(secs: i64, nanos: u32) -> Result<Value, AvroError> {
    let days = secs.div_euclid(86_400);
    let second_of_day = secs.rem_euclid(86_400);
    let (year, month, day) = civil_from_days(days);
    if !(0..=9999).contains(&year) {
        return Err(AvroError::Decode(format!(
            "time {secs}s after 1970 is in the year {year}, outside the years 0 to 9999 that JSON can hold"
        )));
    }
    let mut out = String::with_capacity(32);
    let _ = write!(
        out,
        "{year:04}-{month:02}-{day:02}T{:02}:{:02}:{:02}",
        second_of_day / 3600,
        second_of_day / 60 % 60,
        second_of_day % 60
    );
    if nanos != 0 {
        let fraction = format!("{nanos:09}");
        out.push('.');
        out.push_str(fraction.trim_end_matches('0'));
    }
    out.push('Z');
    Ok(Value::String(out))
}

/// Days since 1970-01-01 → (year, month, day) in the proleptic Gregorian calendar
/// (H. Hinnant's `civil_from_days`).
fn civil_from_days(days: i64) -> (i64, u32, u32) {
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let month = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    let year = yoe + era * 400 + i64::from(month <= 2);
    (year, month, day)
}

/// A decimal's two's-complement big-endian unscaled value over 10^scale, as Go's `*big.Rat`
/// prints as text: the reduced fraction `num/den`, or `num` when whole.
fn rat(bytes: &[u8], scale: usize) -> String {
    let (sign, mut num) = num_bigint::BigInt::from_signed_bytes_be(bytes).into_parts();
    if num == BigUint::ZERO {
        return "0".into();
    }
    // gcd(num, 2^scale 5^scale) = 2^twos 5^fives.
    let twos = num.trailing_zeros().map_or(0, |t| t.min(scale as u64));
    num >>= twos;
    let mut fives = 0;
    while fives < scale && (&num % 5u32) == BigUint::ZERO {
        num /= 5u32;
        fives += 1;
    }
    let mut out = String::new();
    if sign == Sign::Minus {
        out.push('-');
    }
    let _ = write!(out, "{num}");
    let den = BigUint::from(5u32).pow((scale - fives) as u32) << (scale as u64 - twos);
    if den != BigUint::from(1u32) {
        let _ = write!(out, "/{den}");
    }
    out
}

#[cfg(test)]
mod tests;
