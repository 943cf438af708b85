//! Schemas: Conduit's schema service and decoding of schema-encoded data.
//!
//! Go sources encode structured keys and payloads as Avro, register the
//! schema with Conduit's schema service, and name it in the record metadata
//! (`opencdc.key.schema.subject`/`.version`, `opencdc.payload.schema.*`).
//! The destination runner decodes such data back into structured data
//! before the connector sees it (see
//! [`SchemaExtraction`](crate::middleware::SchemaExtraction)), fetching each
//! schema from the service once.

pub mod avro;
mod service;

pub use service::{
    BoxFuture, CALL_TIMEOUT, CONNECT_TIMEOUT, CachedSchemaService, ENV_CONNECTOR_TOKEN, ENV_UTILITIES_TARGET, Schema,
    SchemaClient, SchemaError, SchemaService, SchemaType, TOKEN_METADATA_KEY, target_uri,
};
