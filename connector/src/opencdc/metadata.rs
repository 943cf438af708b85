//! Well-known metadata keys and typed accessors for [`Metadata`].

use std::collections::BTreeMap;
use std::collections::btree_map;
use std::num::IntErrorKind;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use super::Metadata;

/// An error reading a typed value from [`Metadata`].
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum MetadataError {
    /// The key is missing or its value is empty.
    #[error("failed to get value for {key:?}: metadata field not found")]
    NotFound {
        /// The metadata key.
        key: String,
    },
    /// A timestamp value is not a decimal integer (unix nanoseconds).
    #[error("failed to parse value for {key:?}: strconv.ParseInt: parsing {value:?}: {reason}")]
    InvalidTimestamp {
        /// The metadata key.
        key: String,
        /// The value found.
        value: String,
        /// `invalid syntax` or `value out of range`.
        reason: &'static str,
    },
    /// A schema version is not a decimal integer.
    #[error("invalid version {value:?}: strconv.Atoi: parsing {value:?}: {reason}")]
    InvalidVersion {
        /// The metadata key.
        key: String,
        /// The value found.
        value: String,
        /// `invalid syntax` or `value out of range`.
        reason: &'static str,
    },
}

fn parse_i64(value: &str) -> Result<i64, &'static str> {
    value.parse::<i64>().map_err(|e| match e.kind() {
        IntErrorKind::PosOverflow | IntErrorKind::NegOverflow => "value out of range",
        _ => "invalid syntax",
    })
}

/// Converts unix nanoseconds to a [`SystemTime`] (negative values are before the epoch).
pub(crate) fn time_from_nanos(nanos: i64) -> SystemTime {
    let magnitude = Duration::from_nanos(nanos.unsigned_abs());
    if nanos >= 0 { UNIX_EPOCH + magnitude } else { UNIX_EPOCH - magnitude }
}

/// Converts a [`SystemTime`] to unix nanoseconds, saturating outside the `i64` range
/// (years 1677..=2262), where Go's `UnixNano` is undefined.
pub(crate) fn nanos_from_time(time: SystemTime) -> i64 {
    match time.duration_since(UNIX_EPOCH) {
        Ok(d) => i64::try_from(d.as_nanos()).unwrap_or(i64::MAX),
        Err(e) => i64::try_from(e.duration().as_nanos()).map_or(i64::MIN, |n| -n),
    }
}

macro_rules! string_accessors {
    ($($(#[$doc:meta])* $get:ident, $set:ident => $key:ident;)*) => {
        $(
            $(#[$doc])*
            ///
            /// # Errors
            /// [`MetadataError::NotFound`] when the key is missing or its value is empty.
            pub fn $get(&self) -> Result<&str, MetadataError> {
                self.required(Self::$key)
            }

            #[doc = concat!("Sets the value read by [`Metadata::", stringify!($get), "`].")]
            pub fn $set(&mut self, value: impl Into<String>) {
                self.set(Self::$key, value);
            }
        )*
    };
}

impl Metadata {
    /// `opencdc.version`: the OpenCDC format version (see [`Metadata::VERSION_V1`]).
    pub const VERSION: &'static str = "opencdc.version";
    /// The current OpenCDC version, `v1`.
    pub const VERSION_V1: &'static str = "v1";
    /// `opencdc.createdAt`: when the record was created in the source, unix nanoseconds.
    pub const CREATED_AT: &'static str = "opencdc.createdAt";
    /// `opencdc.readAt`: when the record was read by the source connector, unix nanoseconds.
    pub const READ_AT: &'static str = "opencdc.readAt";
    /// `opencdc.collection`: the collection (table, topic, …) the record belongs to.
    pub const COLLECTION: &'static str = "opencdc.collection";
    /// `opencdc.key.schema.subject`: the subject of the key's schema.
    pub const KEY_SCHEMA_SUBJECT: &'static str = "opencdc.key.schema.subject";
    /// `opencdc.key.schema.version`: the version of the key's schema (an integer).
    pub const KEY_SCHEMA_VERSION: &'static str = "opencdc.key.schema.version";
    /// `opencdc.payload.schema.subject`: the subject of the payload's schema.
    pub const PAYLOAD_SCHEMA_SUBJECT: &'static str = "opencdc.payload.schema.subject";
    /// `opencdc.payload.schema.version`: the version of the payload's schema (an integer).
    pub const PAYLOAD_SCHEMA_VERSION: &'static str = "opencdc.payload.schema.version";
    /// `opencdc.file.name`: the name of the file the record carries.
    pub const FILE_NAME: &'static str = "opencdc.file.name";
    /// `opencdc.file.size`: the size of the whole file, in bytes.
    pub const FILE_SIZE: &'static str = "opencdc.file.size";
    /// `opencdc.file.hash`: the hash of the whole file.
    pub const FILE_HASH: &'static str = "opencdc.file.hash";
    /// `opencdc.file.chunked`: whether the file is split over several records.
    pub const FILE_CHUNKED: &'static str = "opencdc.file.chunked";
    /// `opencdc.file.chunk.index`: the index of this chunk.
    pub const FILE_CHUNK_INDEX: &'static str = "opencdc.file.chunk.index";
    /// `opencdc.file.chunk.count`: the number of chunks.
    pub const FILE_CHUNK_COUNT: &'static str = "opencdc.file.chunk.count";
    /// `conduit.source.plugin.name`: the source plugin that produced the record.
    pub const CONDUIT_SOURCE_PLUGIN_NAME: &'static str = "conduit.source.plugin.name";
    /// `conduit.source.plugin.version`: the version of the source plugin.
    pub const CONDUIT_SOURCE_PLUGIN_VERSION: &'static str = "conduit.source.plugin.version";
    /// `conduit.destination.plugin.name`: the destination plugin writing the record.
    pub const CONDUIT_DESTINATION_PLUGIN_NAME: &'static str = "conduit.destination.plugin.name";
    /// `conduit.destination.plugin.version`: the version of the destination plugin.
    pub const CONDUIT_DESTINATION_PLUGIN_VERSION: &'static str = "conduit.destination.plugin.version";
    /// `conduit.source.connector.id`: the ID of the source connector.
    pub const CONDUIT_SOURCE_CONNECTOR_ID: &'static str = "conduit.source.connector.id";
    /// `conduit.dlq.nack.error`: why the record was nacked (dead-letter queue records).
    pub const CONDUIT_DLQ_NACK_ERROR: &'static str = "conduit.dlq.nack.error";
    /// `conduit.dlq.nack.node.id`: the pipeline node that nacked the record.
    pub const CONDUIT_DLQ_NACK_NODE_ID: &'static str = "conduit.dlq.nack.node.id";

    /// Empty metadata.
    pub fn new() -> Self {
        Self::default()
    }

    /// The value of `key`, if present (it may be empty).
    pub fn get(&self, key: &str) -> Option<&str> {
        self.0.get(key).map(String::as_str)
    }

    /// Sets `key` to `value`, returning the previous value.
    pub fn set(&mut self, key: impl Into<String>, value: impl Into<String>) -> Option<String> {
        self.0.insert(key.into(), value.into())
    }

    /// Removes `key`, returning its value.
    pub fn remove(&mut self, key: &str) -> Option<String> {
        self.0.remove(key)
    }

    /// Whether `key` is present.
    pub fn contains_key(&self, key: &str) -> bool {
        self.0.contains_key(key)
    }

    /// The number of entries.
    pub fn len(&self) -> usize {
        self.0.len()
    }

    /// Whether there are no entries.
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// The entries, sorted by key.
    pub fn iter(&self) -> btree_map::Iter<'_, String, String> {
        self.0.iter()
    }

    /// The value of `key`, which must be present and non-empty (as Go's getters).
    ///
    /// # Errors
    /// [`MetadataError::NotFound`] when the key is missing or its value is empty.
    pub fn required(&self, key: &str) -> Result<&str, MetadataError> {
        match self.0.get(key) {
            Some(v) if !v.is_empty() => Ok(v),
            _ => Err(MetadataError::NotFound { key: key.to_owned() }),
        }
    }

    fn timestamp_nanos(&self, key: &str) -> Result<i64, MetadataError> {
        let raw = self.required(key)?;
        parse_i64(raw).map_err(|reason| MetadataError::InvalidTimestamp {
            key: key.to_owned(),
            value: raw.to_owned(),
            reason,
        })
    }

    fn version_number(&self, key: &str) -> Result<i64, MetadataError> {
        let raw = self.required(key)?;
        parse_i64(raw).map_err(|reason| MetadataError::InvalidVersion {
            key: key.to_owned(),
            value: raw.to_owned(),
            reason,
        })
    }

    /// `opencdc.createdAt` as unix nanoseconds.
    ///
    /// # Errors
    /// [`MetadataError::NotFound`] when missing or empty; [`MetadataError::InvalidTimestamp`]
    /// when not a decimal `i64`.
    pub fn created_at_nanos(&self) -> Result<i64, MetadataError> {
        self.timestamp_nanos(Self::CREATED_AT)
    }

    /// `opencdc.createdAt` as a time.
    ///
    /// # Errors
    /// As [`Metadata::created_at_nanos`].
    pub fn created_at(&self) -> Result<SystemTime, MetadataError> {
        self.created_at_nanos().map(time_from_nanos)
    }

    /// Sets `opencdc.createdAt` (unix nanoseconds, saturating outside years 1677..=2262).
    pub fn set_created_at(&mut self, time: SystemTime) {
        self.set_created_at_nanos(nanos_from_time(time));
    }

    /// Sets `opencdc.createdAt` to `nanos` unix nanoseconds.
    pub fn set_created_at_nanos(&mut self, nanos: i64) {
        self.set(Self::CREATED_AT, nanos.to_string());
    }

    /// `opencdc.readAt` as unix nanoseconds.
    ///
    /// # Errors
    /// [`MetadataError::NotFound`] when missing or empty; [`MetadataError::InvalidTimestamp`]
    /// when not a decimal `i64`.
    pub fn read_at_nanos(&self) -> Result<i64, MetadataError> {
        self.timestamp_nanos(Self::READ_AT)
    }

    /// `opencdc.readAt` as a time.
    ///
    /// # Errors
    /// As [`Metadata::read_at_nanos`].
    pub fn read_at(&self) -> Result<SystemTime, MetadataError> {
        self.read_at_nanos().map(time_from_nanos)
    }

    /// Sets `opencdc.readAt` (unix nanoseconds, saturating outside years 1677..=2262).
    pub fn set_read_at(&mut self, time: SystemTime) {
        self.set_read_at_nanos(nanos_from_time(time));
    }

    /// Sets `opencdc.readAt` to `nanos` unix nanoseconds.
    pub fn set_read_at_nanos(&mut self, nanos: i64) {
        self.set(Self::READ_AT, nanos.to_string());
    }

    /// Sets `opencdc.version` to the current version, `v1`.
    pub fn set_version_v1(&mut self) {
        self.set(Self::VERSION, Self::VERSION_V1);
    }

    /// `opencdc.key.schema.version`.
    ///
    /// # Errors
    /// [`MetadataError::NotFound`] when missing or empty; [`MetadataError::InvalidVersion`]
    /// when not a decimal integer.
    pub fn key_schema_version(&self) -> Result<i64, MetadataError> {
        self.version_number(Self::KEY_SCHEMA_VERSION)
    }

    /// Sets `opencdc.key.schema.version`.
    pub fn set_key_schema_version(&mut self, version: i64) {
        self.set(Self::KEY_SCHEMA_VERSION, version.to_string());
    }

    /// `opencdc.payload.schema.version`.
    ///
    /// # Errors
    /// [`MetadataError::NotFound`] when missing or empty; [`MetadataError::InvalidVersion`]
    /// when not a decimal integer.
    pub fn payload_schema_version(&self) -> Result<i64, MetadataError> {
        self.version_number(Self::PAYLOAD_SCHEMA_VERSION)
    }

    /// Sets `opencdc.payload.schema.version`.
    pub fn set_payload_schema_version(&mut self, version: i64) {
        self.set(Self::PAYLOAD_SCHEMA_VERSION, version.to_string());
    }

    string_accessors! {
        /// `opencdc.version`.
        version, set_version => VERSION;
        /// `opencdc.collection`.
        collection, set_collection => COLLECTION;
        /// `opencdc.key.schema.subject`.
        key_schema_subject, set_key_schema_subject => KEY_SCHEMA_SUBJECT;
        /// `opencdc.payload.schema.subject`.
        payload_schema_subject, set_payload_schema_subject => PAYLOAD_SCHEMA_SUBJECT;
        /// `conduit.source.plugin.name`.
        conduit_source_plugin_name, set_conduit_source_plugin_name => CONDUIT_SOURCE_PLUGIN_NAME;
        /// `conduit.source.plugin.version`.
        conduit_source_plugin_version, set_conduit_source_plugin_version => CONDUIT_SOURCE_PLUGIN_VERSION;
        /// `conduit.destination.plugin.name`.
        conduit_destination_plugin_name, set_conduit_destination_plugin_name => CONDUIT_DESTINATION_PLUGIN_NAME;
        /// `conduit.destination.plugin.version`.
        conduit_destination_plugin_version, set_conduit_destination_plugin_version => CONDUIT_DESTINATION_PLUGIN_VERSION;
        /// `conduit.source.connector.id`.
        conduit_source_connector_id, set_conduit_source_connector_id => CONDUIT_SOURCE_CONNECTOR_ID;
        /// `conduit.dlq.nack.error`.
        conduit_dlq_nack_error, set_conduit_dlq_nack_error => CONDUIT_DLQ_NACK_ERROR;
        /// `conduit.dlq.nack.node.id`.
        conduit_dlq_nack_node_id, set_conduit_dlq_nack_node_id => CONDUIT_DLQ_NACK_NODE_ID;
    }
}

impl From<BTreeMap<String, String>> for Metadata {
    fn from(map: BTreeMap<String, String>) -> Self {
        Self(map)
    }
}

impl<K: Into<String>, V: Into<String>> FromIterator<(K, V)> for Metadata {
    fn from_iter<I: IntoIterator<Item = (K, V)>>(iter: I) -> Self {
        Self(iter.into_iter().map(|(k, v)| (k.into(), v.into())).collect())
    }
}

impl<K: Into<String>, V: Into<String>> Extend<(K, V)> for Metadata {
    fn extend<I: IntoIterator<Item = (K, V)>>(&mut self, iter: I) {
        self.0.extend(iter.into_iter().map(|(k, v)| (k.into(), v.into())));
    }
}

impl<'a> IntoIterator for &'a Metadata {
    type Item = (&'a String, &'a String);
    type IntoIter = btree_map::Iter<'a, String, String>;
    fn into_iter(self) -> Self::IntoIter {
        self.0.iter()
    }
}

impl IntoIterator for Metadata {
    type Item = (String, String);
    type IntoIter = btree_map::IntoIter<String, String>;
    fn into_iter(self) -> Self::IntoIter {
        self.0.into_iter()
    }
}
