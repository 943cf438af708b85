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
//! fetching each schema from the [`SchemaService`] once. In plugin mode the
//! service is Conduit's, reached with the gRPC `SchemaClient` (feature
//! `plugin`).

pub mod avro;
#[cfg(feature = "plugin")]
mod client;
mod memory;
mod service;

pub use memory::InMemorySchemaService;

#[cfg(feature = "plugin")]
pub use client::{
    CALL_TIMEOUT, CONNECT_TIMEOUT, ENV_CONNECTOR_TOKEN, ENV_UTILITIES_TARGET, SchemaClient, TOKEN_METADATA_KEY,
    target_uri,
};
pub use service::{BoxFuture, CachedSchemaService, Schema, SchemaError, SchemaService, SchemaType};
