//! # conduit-connector
//!
//! Write [Conduit](https://conduit.io) connectors in Rust: a config derive that
//! produces Conduit's parameter specification and a validating parser at
//! compile time, OpenCDC records, the destination lifecycle with Conduit's
//! default middleware, `connector.yaml` and Markdown docs, a command line, and
//! the standalone plugin protocol that lets an unmodified Conduit load the
//! binary.
//!
//! ```
//! use conduit_connector::{Config, Specification};
//! use conduit_connector::destination::{Batch, BoxError, Destination, WriteResult};
//!
//! /// The connector's parameters: documented and validated from this struct alone.
//! #[derive(Debug, Config)]
//! pub struct LogConfig {
//!     /// Prefix of every line.
//!     #[param(default = "record", regex = "^[a-z]+$")]
//!     pub prefix: String,
//! }
//!
//! pub struct LogDestination(LogConfig);
//!
//! impl Destination for LogDestination {
//!     type Config = LogConfig;
//!     async fn configure(config: LogConfig) -> Result<Self, BoxError> {
//!         Ok(LogDestination(config))
//!     }
//!     async fn write(&mut self, batch: Batch<'_>) -> WriteResult {
//!         for record in batch.records() {
//!             eprintln!("{}: {:?}", self.0.prefix, record.key);
//!         }
//!         WriteResult::All
//!     }
//! }
//!
//! // In `main`: conduit_connector::serve::<LogDestination>(Specification { .. })
//! let spec = Specification { name: "log".into(), ..Default::default() }.with_destination::<LogDestination>();
//! assert!(spec.destination_params.get("prefix").is_some());
//! assert!(spec.destination_params.get("sdk.batch.size").is_some());
//! ```
//!
//! # The config derive
//!
//! `#[derive(Config)]` reads a struct with named fields and implements
//! [`Config`]: [`Config::parameters`] (name, description from the doc
//! comment, type, default, validations) and [`Config::from_config`], which
//! runs Conduit's pipeline — trim, defaults, unrecognized keys, Go-syntax type
//! checks, validations with Go's error texts — and decodes straight into the
//! typed fields, reporting every problem at once, sorted by key.
//!
//! ```
//! use std::collections::HashMap;
//! use std::time::Duration;
//! use conduit_connector::{Config, ConfigValue};
//!
//! #[derive(Debug, Clone, Copy, PartialEq, ConfigValue)]
//! pub enum Format {
//!     Raw,
//!     Json,
//! }
//!
//! #[derive(Debug, Config)]
//! pub struct Auth {
//!     /// User name.
//!     #[param(required)]
//!     pub user: String,
//! }
//!
//! #[derive(Debug, Config)]
//! #[config(rename_all = "camelCase")]
//! pub struct DestinationConfig {
//!     /// Directory the files are written to.
//!     #[param(required)]
//!     pub directory: String,
//!     /// Records per write.
//!     #[param(default = 100, gt = 0, lt = 10_000)]
//!     pub batch_size: u32,
//!     /// How long to wait before flushing.
//!     #[param(default = "1s")]
//!     pub flush_interval: Duration,
//!     /// Output format (an automatic inclusion list: raw, json).
//!     #[param(default = "raw")]
//!     pub format: Format,
//!     /// A prefix for file names.
//!     #[param(name = "my-name", regex = "^[a-z]+$")]
//!     pub prefix: Option<String>,
//!     /// Credentials: keys `auth.user`.
//!     pub auth: Auth,
//!     /// Extra headers: keys `headers.*`.
//!     pub headers: HashMap<String, String>,
//!     /// Not a parameter.
//!     #[param(skip)]
//!     pub cache: Vec<u8>,
//! }
//!
//! let params = DestinationConfig::parameters();
//! let names: Vec<&str> = params.names().collect();
//! assert_eq!(
//!     names,
//!     ["auth.user", "batchSize", "directory", "flushInterval", "format", "headers.*", "my-name"]
//! );
//!
//! let config = DestinationConfig::from_config([
//!     ("directory", "/tmp/out"),
//!     ("auth.user", "me"),
//!     ("headers.X-Trace", "1"),
//!     ("format", "json"),
//! ])
//! .unwrap();
//! assert_eq!(config.batch_size, 100);
//! assert_eq!(config.flush_interval, Duration::from_secs(1));
//! assert_eq!(config.format, Format::Json);
//! assert_eq!(config.headers["X-Trace"], "1");
//!
//! let errors = DestinationConfig::from_config([("batchSize", "0"), ("fromat", "json")]).unwrap_err();
//! assert_eq!(
//!     errors.to_string(),
//!     "error validating \"auth.user\": required parameter is not provided\n\
//!      error validating \"batchSize\": \"0\" should be greater than 0: greater-than validation failed\n\
//!      error validating \"directory\": required parameter is not provided\n\
//!      \"fromat\": unrecognized parameter (did you mean \"format\"?)"
//! );
//! ```
//!
//! ## Field attributes: `#[param(...)]`
//!
//! Items in any order; several `#[param]` attributes on one field are merged,
//! and validations keep the order written.
//!
//! | Item | Meaning |
//! |---|---|
//! | `name = "…"` | This field's key segment (default: the field name in camelCase). |
//! | `description = "…"` | Overrides the doc comment. |
//! | `default = <literal>` | A string, integer, float or bool literal; must parse as the field's type and pass its own validations (checked at compile time). |
//! | `required`, `required = <bool>` | The key must be present and non-empty. |
//! | `gt = <number>`, `lt = <number>` | Strict bounds, for integer and float fields; `gt >= lt` is a compile error. |
//! | `inclusion = ["a", …]`, `exclusion = ["a", …]` | Allowed / forbidden values (case-sensitive); overlapping lists are a compile error. |
//! | `regex = "…"` | The value must contain a match (unanchored); the regex is compiled at compile time (regex-lite: Go's RE2 syntax with ASCII `\d` `\w` `\s` `\b`, no `\p{..}` classes, ASCII-only `(?i)`; see the README). |
//! | `file` | Parameter type `file` (for a `String` or `PathBuf`). |
//! | `flatten` | A nested config whose parameters join this level without a prefix. |
//! | `skip` | Not a parameter; the field gets `Default::default()`. |
//!
//! ## Container attributes: `#[config(...)]`
//!
//! - `rename_all = "…"`: serde's casing names (`camelCase` is the default,
//!   as Conduit and Go's paramgen use).
//! - `validate = path`: a `fn(&Self) -> Result<(), ConfigErrors>` for
//!   cross-field checks, run after decoding; report with
//!   [`ConfigError::custom`].
//!
//! ```
//! use conduit_connector::{Config, ConfigError, ConfigErrors};
//!
//! #[derive(Debug, Config)]
//! #[config(validate = Range::check)]
//! pub struct Range {
//!     #[param(default = 0)]
//!     pub min: i64,
//!     #[param(default = 10)]
//!     pub max: i64,
//! }
//!
//! impl Range {
//!     fn check(&self) -> Result<(), ConfigErrors> {
//!         if self.min > self.max {
//!             return Err(ConfigError::custom("min", "must not be greater than max").into());
//!         }
//!         Ok(())
//!     }
//! }
//!
//! let errors = Range::from_config([("min", "20")]).unwrap_err();
//! assert_eq!(errors.to_string(), "error validating \"min\": must not be greater than max");
//! ```
//!
//! ## Your own value types
//!
//! A type implementing [`ConfigValue`] — the parameter type it has in the
//! spec and a `parse` whose error completes the sentence `"<value>" …` — is
//! a field type like the built-in ones, in `Option`, maps and (with
//! [`config::ListElement`]) `Vec`. A value without an empty form
//! ([`ConfigValue::empty`] returns `None`, the default) and without a
//! default is `required` in the spec, as the parser requires it; `Option`
//! makes it optional.
//!
//! ```
//! use conduit_connector::{Config, ConfigValue, ParameterType};
//!
//! /// An http(s) URL.
//! #[derive(Debug, Clone, PartialEq)]
//! pub struct Url(pub String);
//!
//! impl ConfigValue for Url {
//!     const TYPE: ParameterType = ParameterType::String;
//!     fn parse(value: &str) -> Result<Self, String> {
//!         match value.starts_with("http://") || value.starts_with("https://") {
//!             true => Ok(Url(value.to_owned())),
//!             false => Err("value is not an http(s) URL".to_owned()),
//!         }
//!     }
//! }
//!
//! #[derive(Debug, Config)]
//! pub struct Endpoints {
//!     /// Where records go.
//!     pub primary: Url,
//!     /// Where they go when the primary fails.
//!     pub fallback: Option<Url>,
//! }
//!
//! let params = Endpoints::parameters();
//! assert!(params.get("primary").unwrap().is_required());
//! assert!(!params.get("fallback").unwrap().is_required());
//!
//! let ok = Endpoints::from_config([("primary", "https://example.com")]).unwrap();
//! assert_eq!((ok.primary, ok.fallback), (Url("https://example.com".into()), None));
//!
//! let errors = Endpoints::from_config([("primary", "ftp://x")]).unwrap_err();
//! assert_eq!(
//!     errors.to_string(),
//!     r#"error validating "primary": "ftp://x" value is not an http(s) URL: invalid parameter type"#
//! );
//! ```
//!
//! Mistakes the macro can prove are compile errors pointing at your token:
//!
//! ```compile_fail
//! #[derive(conduit_connector::Config)]
//! struct Bad {
//!     #[param(default = 0, gt = 0)] // the default fails its own validation
//!     size: u32,
//! }
//! ```
//!
//! # Cargo features
//!
//! - `derive` (default): `#[derive(Config)]` and `#[derive(ConfigValue)]`.
//! - `runtime` (default): the destination trait and runner, middleware, schema extraction,
//!   the command line and the acceptance harness ([`testing`]); tokio, clap, apache-avro.
//! - `plugin` (default, implies `runtime`): the standalone gRPC plugin protocol and
//!   [`serve`]; tonic, prost and the protobuf build tooling.
//!
//! With `default-features = false, features = ["derive"]` a crate gets the config model, the
//! derive, [`Specification`] (YAML, Markdown) and [`opencdc`] records, and compiles none of
//! the runtime's dependencies: the way to validate configs and generate parameter docs in unit
//! tests cheaply.
//!
//! # Modules
//!
//! - [`config`]: parameters, validations, the raw config map and its pipeline.
//! - [`spec`]: [`Specification`], `connector.yaml` and Markdown tables.
//! - [`opencdc`]: records and their JSON form.
//! - [`destination`]: the [`destination::Destination`] trait and the runner.
//! - [`middleware`]: the `sdk.*` parameters (batching, rate limit, record format, schema extraction).
//! - [`cli`] and [`plugin`]: what [`serve`] runs.
//! - [`schema`]: Conduit's schema service, and Avro-encoded keys and payloads from Go sources,
//!   decoded as the Go SDK does.
//! - [`testing`]: acceptance tests and config assertions for your own tests.
#![deny(missing_docs)]
#![cfg_attr(docsrs, feature(doc_cfg))]

#[cfg(feature = "runtime")]
pub mod cli;
pub mod config;
#[cfg(feature = "runtime")]
pub mod destination;
#[cfg(feature = "runtime")]
pub mod log;
#[cfg(feature = "runtime")]
pub mod middleware;
pub mod opencdc;
#[cfg(feature = "plugin")]
pub mod plugin;
#[cfg(feature = "runtime")]
pub mod schema;
#[cfg(feature = "plugin")]
mod signals;
pub mod spec;
#[cfg(feature = "runtime")]
pub mod testing;
mod unicode;

#[cfg(feature = "derive")]
pub use conduit_connector_derive::{Config, ConfigValue};

pub use config::{Config, ConfigError, ConfigErrors, ConfigValue, Parameter, ParameterType, Parameters, Validation};
pub use spec::Specification;

#[doc(hidden)]
pub mod __private;

// The runtime derives its own configs (`sdk.*`): generated code names `::conduit_connector`.
#[cfg(feature = "runtime")]
extern crate self as conduit_connector;

// The README's examples run as doc tests.
#[cfg(all(doctest, feature = "plugin"))]
#[doc = include_str!("../../README.md")]
struct ReadmeDoctests;

#[cfg(feature = "plugin")]
use std::io::Write as _;
#[cfg(feature = "plugin")]
use std::process::ExitCode;

#[cfg(feature = "plugin")]
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
#[cfg(feature = "plugin")]
pub fn serve<D: Destination>(spec: Specification) -> ExitCode {
    let spec = spec.with_destination::<D>();
    // Before any write: past the file-size limit a write fails (EFBIG) instead of the signal
    // killing the process. If that cannot be set up the default stays; say so once.
    if let Err(e) = signals::survive_file_size_limit() {
        let _ = writeln!(
            std::io::stderr(),
            "warning: cannot handle SIGXFSZ ({e}); exceeding the file-size limit will end the process"
        );
    }
    match plugin::launch_mode() {
        plugin::Launch::Plugin => plugin::serve::<D>(spec),
        plugin::Launch::WrongCookie => {
            let _ = write!(std::io::stderr(), "{}", plugin::NOT_A_PLUGIN_MESSAGE);
            ExitCode::from(1)
        }
        plugin::Launch::Cli => {
            let level = log::level_from_env(std::env::var("CONDUIT_CONNECTOR_LOG_LEVEL").ok().as_deref());
            let level =
                if std::env::var_os("CONDUIT_CONNECTOR_LOG_LEVEL").is_some() { level } else { tracing::Level::INFO };
            log::StderrLogger::new(log::LogFormat::Text, level).install();
            let args: Vec<String> = std::env::args().skip(1).collect();
            cli::main::<D>(&spec, args)
        }
    }
}
