//! Schemas attached to records by Conduit's schema service, and decoding data written with them.
//!
//! Go sources encode structured keys and payloads as Avro and put the schema's subject and
//! version into the record metadata; [`avro`] turns such a datum back into
//! [`StructuredData`](crate::opencdc::StructuredData) with the value mapping of the Go SDK.

pub mod avro;
