//! OpenCDC records: Conduit's record model and its JSON form.

use std::collections::BTreeMap;

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
