//! Schemas: Conduit's schema service, and decoding data written with the
//! schemas it keeps.
//!
//! Go sources encode structured keys and payloads as Avro, register the
//! schema with Conduit's schema service, and put its subject and version into
//! the record metadata (`opencdc.key.schema.subject`/`.version`,
//! `opencdc.payload.schema.*`). [`avro`] turns such a datum back into
//! [`StructuredData`](crate::opencdc::StructuredData) with the value mapping
//! of the Go SDK; the destination runner does that before the connector sees
//! a record (see [`SchemaExtraction`](crate::middleware::SchemaExtraction)),
//! fetching each schema from the [`SchemaService`] once.

pub mod avro;
mod memory;
mod service;

pub use memory::InMemorySchemaService;

pub use service::{
    BoxFuture, CALL_TIMEOUT, CONNECT_TIMEOUT, CachedSchemaService, ENV_CONNECTOR_TOKEN, ENV_UTILITIES_TARGET, Schema,
    SchemaClient, SchemaError, SchemaService, SchemaType, TOKEN_METADATA_KEY, target_uri,
};
