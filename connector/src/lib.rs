//! # conduit-connector
//!
//! Write [Conduit](https://conduit.io) connectors in Rust.
#![deny(missing_docs)]
#![cfg_attr(docsrs, feature(doc_cfg))]

// The derive's generated code names `::conduit_connector`; let it resolve here too.
extern crate self as conduit_connector;

pub mod config;
pub mod cli;
pub mod destination;
pub mod log;
pub mod middleware;
pub mod testing;
pub mod opencdc;
pub mod plugin;
pub mod spec;

#[cfg(feature = "derive")]
pub use conduit_connector_derive::{Config, ConfigValue};

pub use config::{Config, ConfigError, ConfigErrors, ConfigValue, Parameter, ParameterType, Parameters, Validation};
pub use spec::Specification;

#[doc(hidden)]
pub mod __private;

use std::process::ExitCode;

use destination::Destination;

/// Runs a destination connector: the whole `main` of a connector binary.
///
/// Started by Conduit (the plugin environment is set), it serves the
/// standalone plugin protocol; started by a person, it gives the command
/// line of [`cli`]: `spec`, `version`, `check` and `run`. The
/// specification's destination parameters are filled in from `D` (the
/// connector's config plus the SDK's `sdk.*` middleware parameters).
///
/// ```no_run
/// # use conduit_connector::{Config, Specification};
/// # use conduit_connector::destination::{Batch, BoxError, Destination, WriteResult};
/// # #[derive(Debug, Config)] struct MyConfig { #[param(required)] path: String }
/// # struct MyDestination;
/// # impl Destination for MyDestination {
/// #     type Config = MyConfig;
/// #     async fn configure(_: MyConfig) -> Result<Self, BoxError> { Ok(MyDestination) }
/// #     async fn write(&mut self, _: Batch<'_>) -> WriteResult { WriteResult::All }
/// # }
/// fn main() -> std::process::ExitCode {
///     conduit_connector::serve::<MyDestination>(Specification {
///         name: "my-destination".into(),
///         version: "v0.1.0".into(),
///         ..Specification::default()
///     })
/// }
/// ```
pub fn serve<D: Destination>(spec: Specification) -> ExitCode {
    let spec = spec.with_destination::<D>();
    match plugin::launch_mode() {
        plugin::Launch::Plugin => plugin::serve::<D>(spec),
        plugin::Launch::WrongCookie => {
            eprint!("{}", plugin::NOT_A_PLUGIN_MESSAGE);
            ExitCode::from(1)
        }
        plugin::Launch::Cli => {
            let level = log::level_from_env(std::env::var("CONDUIT_CONNECTOR_LOG_LEVEL").ok().as_deref());
            let level = if std::env::var_os("CONDUIT_CONNECTOR_LOG_LEVEL").is_some() { level } else { tracing::Level::INFO };
            log::StderrLogger::new(log::LogFormat::Text, level).install();
            let args: Vec<String> = std::env::args().skip(1).collect();
            cli::main::<D>(&spec, args)
        }
    }
}
