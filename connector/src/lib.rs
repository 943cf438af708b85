//! # conduit-connector
//!
//! Write [Conduit](https://conduit.io) connectors in Rust.
#![deny(missing_docs)]
#![cfg_attr(docsrs, feature(doc_cfg))]

pub mod config;
pub mod opencdc;
pub mod plugin;
pub mod spec;

#[cfg(feature = "derive")]
pub use conduit_connector_derive::{Config, ConfigValue};

pub use config::{Config, ConfigError, ConfigErrors, ConfigValue, Parameter, ParameterType, Parameters, Validation};
pub use spec::Specification;

#[doc(hidden)]
pub mod __private;
