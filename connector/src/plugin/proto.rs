//! The plugin protocol's protobuf messages and gRPC services, generated at
//! build time from the `.proto` files in `connector/proto/`.
//!
//! Module paths follow the protobuf packages:
//!
//! | package | module |
//! | --- | --- |
//! | `opencdc.v1` | [`opencdc::v1`] (records) |
//! | `config.v1` | [`config::v1`] (parameters, validations) |
//! | `connector.v2` | [`connector::v2`] (specifier, source and destination services) |
//! | `plugin` | [`plugin`] (go-plugin's `GRPCController`) |
//! | `schema.v1` | [`schema::v1`] (a schema of Conduit's schema registry) |
//! | `connutils.v1` | [`connutils::v1`] (Conduit's schema service, a connector utility) |
//! | `grpc.health.v1` | [`health`] (re-exported from `tonic-health`) |
//!
//! Maps are [`BTreeMap`](std::collections::BTreeMap)s, so encoding writes
//! entries in key order and is deterministic. Structured data is
//! [`opencdc::v1::Struct`] (with `Value`, `ListValue` and `NullValue`): the
//! same wire format as `google.protobuf.Struct`, but its entries are a list
//! ([`opencdc::v1::StructField`]) in wire order, so a struct written in any
//! order (Go writes maps in random order) re-encodes to the same bytes.

/// OpenCDC messages.
pub mod opencdc {
    /// Package `opencdc.v1`: `Record`, `Operation`, `Data`, `Change`, and
    /// `Struct`, `StructField`, `Value`, `ListValue`, `NullValue` (wire-identical
    /// to `google.protobuf.Struct` and friends).
    #[allow(missing_docs, missing_debug_implementations, clippy::all)]
    pub mod v1 {
        tonic::include_proto!("opencdc.v1");
    }
}

/// Configuration messages.
pub mod config {
    /// Package `config.v1`: `Parameter`, `Validation`.
    #[allow(missing_docs, missing_debug_implementations, clippy::all)]
    pub mod v1 {
        tonic::include_proto!("config.v1");
    }
}

/// Connector services.
pub mod connector {
    /// Package `connector.v2`: the `SpecifierPlugin`, `SourcePlugin` and
    /// `DestinationPlugin` services and their messages.
    #[allow(missing_docs, missing_debug_implementations, clippy::all)]
    pub mod v2 {
        tonic::include_proto!("connector.v2");
    }
}

/// Package `plugin`: go-plugin's `GRPCController` service (`Shutdown`).
#[allow(missing_docs, missing_debug_implementations, clippy::all)]
pub mod plugin {
    tonic::include_proto!("plugin");
}

/// Schema registry messages.
pub mod schema {
    /// Package `schema.v1`: `Schema` and its `Type`.
    #[allow(missing_docs, missing_debug_implementations, clippy::all)]
    pub mod v1 {
        tonic::include_proto!("schema.v1");
    }
}

/// Connector utilities that Conduit serves to its plugins.
pub mod connutils {
    /// Package `connutils.v1`: the `SchemaService` (`CreateSchema`,
    /// `GetSchema`) and its messages. The SDK's client is
    /// [`crate::schema::SchemaClient`].
    #[allow(missing_docs, missing_debug_implementations, clippy::all)]
    pub mod v1 {
        tonic::include_proto!("connutils.v1");
    }
}

/// Package `grpc.health.v1`: the standard gRPC health service (from
/// `tonic-health`).
pub mod health {
    pub use tonic_health::pb::{
        HealthCheckRequest, HealthCheckResponse, health_check_response::ServingStatus, health_client, health_server,
    };
    pub use tonic_health::server::{HealthReporter, HealthService, health_reporter};
}
