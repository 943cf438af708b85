//! OpenCDC records: Conduit's record model and its JSON form.
//!
//! The JSON codec ([`Record::to_json`], [`Record::from_json`], [`JsonLines`]) is
//! byte-identical to the Go SDK's; [`to_debezium_json`] writes the `debezium/json` record
//! format. [`Record`] and its parts implement serde's `Serialize` and `Deserialize` with the
//! same JSON form, so records work with the serde ecosystem (the Go-identical bytes —
//! HTML-safe escaping, Go's float format — come from [`Record::to_json`]).
//!
//! ```
//! use conduit_connector::opencdc::{Data, Operation, Position, Record};
//!
//! let mut record = Record {
//!     position: Position::from("pos-1"),
//!     operation: Operation::Snapshot,
//!     key: Some(Data::from("key-1")),
//!     ..Record::default()
//! };
//! record.payload.after = Some(Data::Structured(serde_json::json!({"id": 1}).as_object().unwrap().clone()));
//! let json = record.to_json_string();
//! assert_eq!(
//!     json,
//!     r#"{"position":"cG9zLTE=","operation":"snapshot","metadata":null,"key":"a2V5LTE=","payload":{"before":null,"after":{"id":1}}}"#
//! );
//! assert_eq!(Record::from_json(json.as_bytes()).unwrap().key, record.key);
//! ```

use std::borrow::Cow;
use std::collections::BTreeMap;
use std::fmt;
use std::str::FromStr;

pub(crate) mod base64;
pub mod debezium;
mod json;
mod metadata;
mod serde_impls;

pub use debezium::{DEFAULT_RAW_DATA_KEY, to_debezium_json};
pub use json::{
    JsonLines, JsonPosition, MAX_DEPTH, RecordError, write_json_f64, write_json_object, write_json_string,
    write_json_value,
};
pub use metadata::MetadataError;

/// Structured data: a JSON object with sorted keys.
pub type StructuredData = serde_json::Map<String, serde_json::Value>;

/// Where a record came from in its source; opaque bytes.
#[derive(Debug, Clone, Default, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Position(pub Vec<u8>);

/// What happened to the data.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub enum Operation {
    /// A new record (`create`).
    #[default]
    Create,
    /// A changed record (`update`).
    Update,
    /// A removed record (`delete`).
    Delete,
    /// A record read during a snapshot (`snapshot`).
    Snapshot,
}

/// A record's metadata: string keys and values, sorted by key.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Metadata(pub BTreeMap<String, String>);

/// A key or payload value: raw bytes or structured data.
#[derive(Debug, Clone, PartialEq)]
pub enum Data {
    /// Raw bytes (base64 in JSON).
    Raw(Vec<u8>),
    /// A JSON object.
    Structured(StructuredData),
}

/// The payload of a change: the data before and after it.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Change {
    /// The data before the change (`None` when unknown).
    pub before: Option<Data>,
    /// The data after the change (`None` for deletes).
    pub after: Option<Data>,
}

/// An OpenCDC record.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Record {
    /// Where the record came from.
    pub position: Position,
    /// What happened.
    pub operation: Operation,
    /// Metadata (`opencdc.*`, `conduit.*` and connector-specific keys).
    pub metadata: Metadata,
    /// The record's key (`None` when it has none).
    pub key: Option<Data>,
    /// The change.
    pub payload: Change,
}

impl Position {
    /// The position's bytes.
    pub fn as_bytes(&self) -> &[u8] {
        &self.0
    }

    /// Whether the position is empty.
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
}

impl From<Vec<u8>> for Position {
    fn from(bytes: Vec<u8>) -> Self {
        Self(bytes)
    }
}

impl From<&[u8]> for Position {
    fn from(bytes: &[u8]) -> Self {
        Self(bytes.to_vec())
    }
}

impl From<&str> for Position {
    fn from(s: &str) -> Self {
        Self(s.as_bytes().to_vec())
    }
}

impl From<String> for Position {
    fn from(s: String) -> Self {
        Self(s.into_bytes())
    }
}

impl AsRef<[u8]> for Position {
    fn as_ref(&self) -> &[u8] {
        &self.0
    }
}

/// An operation name that is not one of `create`, `update`, `delete`, `snapshot`
/// (or `Operation(N)` / `N` for N in 1..=4).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("operation {text:?}: unknown operation")]
pub struct ParseOperationError {
    /// The text that was parsed.
    pub text: String,
}

impl Operation {
    /// All operations, in protocol order (1..=4).
    pub const ALL: [Operation; 4] = [Operation::Create, Operation::Update, Operation::Delete, Operation::Snapshot];

    /// The operation's text form: `create`, `update`, `delete` or `snapshot`.
    pub const fn as_str(self) -> &'static str {
        match self {
            Operation::Create => "create",
            Operation::Update => "update",
            Operation::Delete => "delete",
            Operation::Snapshot => "snapshot",
        }
    }

    /// The protocol number: create=1, update=2, delete=3, snapshot=4.
    pub const fn number(self) -> i32 {
        match self {
            Operation::Create => 1,
            Operation::Update => 2,
            Operation::Delete => 3,
            Operation::Snapshot => 4,
        }
    }

    /// The operation with protocol number `n` (1..=4).
    pub const fn from_number(n: i64) -> Option<Operation> {
        match n {
            1 => Some(Operation::Create),
            2 => Some(Operation::Update),
            3 => Some(Operation::Delete),
            4 => Some(Operation::Snapshot),
            _ => None,
        }
    }
}

impl fmt::Display for Operation {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for Operation {
    type Err = ParseOperationError;

    /// Parses the text form, or `Operation(N)` / `N` with N in 1..=4 (as Go's `UnmarshalText`).
    fn from_str(text: &str) -> Result<Self, Self::Err> {
        match text {
            "create" => return Ok(Operation::Create),
            "update" => return Ok(Operation::Update),
            "delete" => return Ok(Operation::Delete),
            "snapshot" => return Ok(Operation::Snapshot),
            _ => {}
        }
        let number = text.strip_prefix("Operation(").and_then(|t| t.strip_suffix(')')).unwrap_or(text);
        number
            .parse::<i64>()
            .ok()
            .and_then(Operation::from_number)
            .ok_or_else(|| ParseOperationError { text: text.to_owned() })
    }
}

impl Data {
    /// The data as bytes: raw data as is, structured data as its JSON (Go rules, see
    /// [`write_json_object`]).
    pub fn bytes(&self) -> Cow<'_, [u8]> {
        match self {
            Data::Raw(bytes) => Cow::Borrowed(bytes),
            Data::Structured(map) => {
                let mut out = Vec::new();
                write_json_object(map, &mut out);
                Cow::Owned(out)
            }
        }
    }

    /// Appends [`Data::bytes`] to `out`.
    pub fn write_bytes(&self, out: &mut Vec<u8>) {
        match self {
            Data::Raw(bytes) => out.extend_from_slice(bytes),
            Data::Structured(map) => write_json_object(map, out),
        }
    }

    /// The raw bytes, if this is raw data.
    pub fn as_raw(&self) -> Option<&[u8]> {
        match self {
            Data::Raw(bytes) => Some(bytes),
            Data::Structured(_) => None,
        }
    }

    /// The map, if this is structured data.
    pub fn as_structured(&self) -> Option<&StructuredData> {
        match self {
            Data::Raw(_) => None,
            Data::Structured(map) => Some(map),
        }
    }

    /// Whether this is raw data.
    pub fn is_raw(&self) -> bool {
        matches!(self, Data::Raw(_))
    }

    /// Whether this is structured data.
    pub fn is_structured(&self) -> bool {
        matches!(self, Data::Structured(_))
    }
}

impl From<Vec<u8>> for Data {
    fn from(bytes: Vec<u8>) -> Self {
        Data::Raw(bytes)
    }
}

impl From<&[u8]> for Data {
    fn from(bytes: &[u8]) -> Self {
        Data::Raw(bytes.to_vec())
    }
}

impl From<&str> for Data {
    fn from(s: &str) -> Self {
        Data::Raw(s.as_bytes().to_vec())
    }
}

impl From<String> for Data {
    fn from(s: String) -> Self {
        Data::Raw(s.into_bytes())
    }
}

impl From<StructuredData> for Data {
    fn from(map: StructuredData) -> Self {
        Data::Structured(map)
    }
}
