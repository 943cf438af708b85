//! The standalone plugin protocol (go-plugin handshake + gRPC services).
//!
//! [`serve`] is what a connector binary does when Conduit starts it: it
//! negotiates the protocol version, listens (on Unix a socket inside a fresh
//! 0700 directory, as go-plugin's Go servers do; `127.0.0.1` TCP elsewhere),
//! prints go-plugin's handshake line (the only thing ever written to stdout),
//! and serves health,
//! `plugin.GRPCController/Shutdown`, `connector.v2.SpecifierPlugin` and
//! `connector.v2.DestinationPlugin` (`SourcePlugin` answers Unimplemented)
//! until Conduit calls `Shutdown`. Logs go to stderr as hclog JSON lines.
//! Schema-encoded records are decoded with schemas from Conduit's schema
//! service at `CONDUIT_CONNECTOR_UTILITIES_GRPC_TARGET` (one
//! `SchemaClient` per process).
//!
//! The generated protobuf types, the conversions, the codec and the test
//! host that plays Conduit's side of the handshake are not public API: this
//! workspace's own tests reach them through the hidden `__test-support`
//! feature (every `.proto` change would otherwise be a semver break).

// Public only for the workspace's tests (hidden feature `__test-support`).
#[cfg(feature = "__test-support")]
#[doc(hidden)]
pub mod codec;
#[cfg(not(feature = "__test-support"))]
#[allow(dead_code)]
pub(crate) mod codec;
#[cfg(feature = "__test-support")]
#[doc(hidden)]
pub mod convert;
#[cfg(not(feature = "__test-support"))]
#[allow(dead_code)]
pub(crate) mod convert;
#[cfg(feature = "__test-support")]
#[doc(hidden)]
pub mod host;
#[cfg(feature = "__test-support")]
#[doc(hidden)]
pub mod proto;
#[cfg(not(feature = "__test-support"))]
#[allow(dead_code, unused_imports)]
pub(crate) mod proto;
mod server;
#[cfg(unix)]
mod socket;

use std::fmt;
use std::net::{Ipv4Addr, SocketAddr};
use std::ops::RangeInclusive;
#[cfg(unix)]
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::time::Duration;

use tracing::span::{Attributes, Id, Record as SpanRecord};
use tracing::{Event, Level, Metadata, Subscriber};

use crate::destination::Destination;
use crate::log::{LogFormat, StderrLogger};
use crate::schema::{CachedSchemaService, SchemaClient, SchemaService};
use crate::spec::Specification;

/// The environment variable go-plugin's client sets to the magic cookie.
pub const MAGIC_COOKIE_KEY: &str = "CONDUIT_PLUGIN_MAGIC_COOKIE";
/// Conduit's magic cookie value.
pub const MAGIC_COOKIE_VALUE: &str = "204e8e812c3a1bb73b838928c575b42a105dd2e9aa449be481bc4590486df53f";

/// What go-plugin servers print (to stderr, exit 1) when started without
/// the right cookie.
pub const NOT_A_PLUGIN_MESSAGE: &str = "This binary is a plugin. These are not meant to be executed directly.\n\
Please execute the program that consumes these plugins, which will\n\
load any plugins automatically\n";

/// go-plugin's core protocol version (the first handshake field).
pub const CORE_PROTOCOL_VERSION: u32 = 1;

/// The only application protocol version served: 2 (`connector.v2`).
pub const APP_PROTOCOL_VERSION: u32 = 2;

/// The gRPC receive limit when `CONDUIT_CONNECTOR_MAX_RECEIVE_RECORD_SIZE` is
/// not set: 4 MiB, as Conduit's default.
pub const DEFAULT_MAX_RECEIVE_SIZE: usize = 4 * 1024 * 1024;

/// How long `Stop` waits for the record at its `last_position` to arrive on
/// the Run stream (the Go SDK's `stopTimeout`).
pub const STOP_TIMEOUT: Duration = Duration::from_secs(60);

/// How long `Stop` waits, after the last position arrived, for the pending
/// batch to be written.
pub const FLUSH_TIMEOUT: Duration = Duration::from_secs(60);

/// How long the `Teardown` RPC waits for the destination; after it, the RPC
/// fails (e.g. when a `write` never returns) instead of hanging.
pub const TEARDOWN_TIMEOUT: Duration = Duration::from_secs(5);

/// How long `Shutdown` lets the destination tear down before the process
/// exits (Conduit kills the process 2 s after `Shutdown`).
pub const SHUTDOWN_TEARDOWN_TIMEOUT: Duration = Duration::from_secs(1);

/// How long the plugin keeps serving after SIGTERM, waiting for Conduit's
/// Teardown and Shutdown (Conduit drains its pipelines on SIGTERM and still
/// drives its plugins); after it the destination is torn down and the
/// process exits with status 143.
pub const SIGTERM_GRACE: Duration = Duration::from_secs(30);

/// How often the plugin checks that its parent (Conduit) is still alive. On
/// Linux the parent's death is also signalled at once (`PR_SET_PDEATHSIG`).
pub const PARENT_CHECK_INTERVAL: Duration = Duration::from_secs(1);

/// The environment variable that chooses the network: `unix` (the default
/// on Unix) or `tcp` (`127.0.0.1`, the only choice elsewhere).
pub const NETWORK_KEY: &str = "CONDUIT_CONNECTOR_PLUGIN_NETWORK";

/// go-plugin's variable for the directory that holds the unix socket's
/// directory (the temp dir when unset).
pub const UNIX_SOCKET_DIR_KEY: &str = "PLUGIN_UNIX_SOCKET_DIR";

/// How the binary was started.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Launch {
    /// By Conduit, with the right cookie: serve the plugin protocol.
    Plugin,
    /// With plugin environment but a wrong or missing cookie.
    WrongCookie,
    /// By a person: the command line.
    Cli,
}

/// Decides the launch mode from the environment: plugin mode when the
/// cookie variable is set; a wrong cookie value, or go-plugin's other
/// variables without the cookie, is the go-plugin error.
pub fn launch_mode() -> Launch {
    launch_mode_from(|k| std::env::var(k).ok())
}

/// [`launch_mode`] over any environment lookup (for tests).
pub fn launch_mode_from(env: impl Fn(&str) -> Option<String>) -> Launch {
    match env(MAGIC_COOKIE_KEY) {
        Some(v) if v == MAGIC_COOKIE_VALUE => Launch::Plugin,
        Some(_) => Launch::WrongCookie,
        None if env("PLUGIN_PROTOCOL_VERSIONS").is_some() => Launch::WrongCookie,
        None => Launch::Cli,
    }
}

/// Why plugin mode could not start.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum StartError {
    /// `PLUGIN_PROTOCOL_VERSIONS` does not offer version 2.
    #[error(
        "unsupported plugin protocol: Conduit offered PLUGIN_PROTOCOL_VERSIONS={offered:?}, but this connector \
         speaks only version 2 (connector.v2); upgrade Conduit to v0.11 or later"
    )]
    UnsupportedProtocol {
        /// The variable's value.
        offered: String,
    },
    /// `PLUGIN_MIN_PORT` or `PLUGIN_MAX_PORT` is not a port number.
    #[error("invalid {var}={value:?}: not a port number (0-65535)")]
    InvalidPort {
        /// The variable.
        var: &'static str,
        /// Its value.
        value: String,
    },
    /// `PLUGIN_MIN_PORT` is above `PLUGIN_MAX_PORT`.
    #[error("invalid port range: PLUGIN_MIN_PORT={min} is above PLUGIN_MAX_PORT={max}")]
    EmptyPortRange {
        /// The minimum.
        min: u16,
        /// The maximum.
        max: u16,
    },
    /// No port of the range could be bound.
    #[error("could not listen on 127.0.0.1 at any port in {min}..={max}: {last_error}")]
    NoFreePort {
        /// The minimum.
        min: u16,
        /// The maximum.
        max: u16,
        /// The error of the last attempt.
        last_error: String,
    },
    /// `CONDUIT_CONNECTOR_PLUGIN_NETWORK` is neither `unix` nor `tcp`.
    #[error("invalid CONDUIT_CONNECTOR_PLUGIN_NETWORK={value:?}: expected \"unix\" or \"tcp\"")]
    InvalidNetwork {
        /// Its value.
        value: String,
    },
    /// `CONDUIT_CONNECTOR_MAX_RECEIVE_RECORD_SIZE` is not a positive integer.
    #[error("invalid CONDUIT_CONNECTOR_MAX_RECEIVE_RECORD_SIZE={value:?}: not a positive integer")]
    InvalidMaxReceiveSize {
        /// Its value.
        value: String,
    },
    /// Any other start-up failure (runtime, socket).
    #[error("{0}")]
    Other(String),
}

/// Chooses the application protocol version from `PLUGIN_PROTOCOL_VERSIONS`
/// (comma-separated integers, whitespace tolerated, entries that are not
/// integers skipped as go-plugin does): 2 when offered or when the variable is
/// missing or blank; an error when it offers only other versions.
pub fn negotiate_protocol(value: Option<&str>) -> Result<u32, StartError> {
    let Some(value) = value.filter(|v| !v.trim().is_empty()) else {
        return Ok(APP_PROTOCOL_VERSION);
    };
    let offered = value.split(',').filter_map(|v| v.trim().parse::<u32>().ok());
    for version in offered {
        if version == APP_PROTOCOL_VERSION {
            return Ok(APP_PROTOCOL_VERSION);
        }
    }
    Err(StartError::UnsupportedProtocol { offered: value.to_owned() })
}

/// The ports to try from `PLUGIN_MIN_PORT` and `PLUGIN_MAX_PORT`: `None` (any
/// free port) unless both are set.
pub fn port_range(min: Option<&str>, max: Option<&str>) -> Result<Option<RangeInclusive<u16>>, StartError> {
    let (Some(min), Some(max)) = (min, max) else {
        return Ok(None);
    };
    let parse = |var: &'static str, value: &str| {
        value.trim().parse::<u16>().map_err(|_| StartError::InvalidPort { var, value: value.to_owned() })
    };
    let (min, max) = (parse("PLUGIN_MIN_PORT", min)?, parse("PLUGIN_MAX_PORT", max)?);
    if min > max {
        return Err(StartError::EmptyPortRange { min, max });
    }
    Ok(Some(min..=max))
}

/// The gRPC receive limit from `CONDUIT_CONNECTOR_MAX_RECEIVE_RECORD_SIZE`
/// ([`DEFAULT_MAX_RECEIVE_SIZE`] when missing or empty).
pub fn max_receive_size(value: Option<&str>) -> Result<usize, StartError> {
    match value {
        None | Some("") => Ok(DEFAULT_MAX_RECEIVE_SIZE),
        Some(v) => match v.parse::<usize>() {
            Ok(n) if n > 0 => Ok(n),
            _ => Err(StartError::InvalidMaxReceiveSize { value: v.to_owned() }),
        },
    }
}

/// The go-plugin handshake line for a TCP gRPC server at `addr`, with the
/// trailing newline: `1|2|tcp|127.0.0.1:PORT|grpc|\n`.
pub fn handshake_line(addr: SocketAddr) -> String {
    format!("{CORE_PROTOCOL_VERSION}|{APP_PROTOCOL_VERSION}|tcp|{addr}|grpc|\n")
}

/// The go-plugin handshake line for a gRPC server on the unix socket at
/// `path`, with the trailing newline: `1|2|unix|PATH|grpc|\n`.
#[cfg(unix)]
pub fn handshake_line_unix(path: &Path) -> String {
    format!("{CORE_PROTOCOL_VERSION}|{APP_PROTOCOL_VERSION}|unix|{}|grpc|\n", path.display())
}

/// Binds `127.0.0.1`: the first free port of `range` in order, or any free
/// port when `range` is `None`.
pub fn bind_listener(range: Option<RangeInclusive<u16>>) -> Result<std::net::TcpListener, StartError> {
    let Some(range) = range else {
        return std::net::TcpListener::bind((Ipv4Addr::LOCALHOST, 0))
            .map_err(|e| StartError::Other(format!("could not listen on 127.0.0.1: {e}")));
    };
    let (min, max) = (*range.start(), *range.end());
    let mut last_error = String::from("no port tried");
    for port in range {
        match std::net::TcpListener::bind((Ipv4Addr::LOCALHOST, port)) {
            Ok(listener) => return Ok(listener),
            Err(e) => last_error = e.to_string(),
        }
    }
    Err(StartError::NoFreePort { min, max, last_error })
}

/// The plugin's settings, read from the environment Conduit gives it.
#[derive(Debug, Clone)]
struct Settings {
    listen: server::Listen,
    max_receive_size: usize,
    log_level: Level,
}

impl Settings {
    fn from_env(env: impl Fn(&str) -> Option<String>) -> Result<Self, StartError> {
        negotiate_protocol(env("PLUGIN_PROTOCOL_VERSIONS").as_deref())?;
        let ports = port_range(env("PLUGIN_MIN_PORT").as_deref(), env("PLUGIN_MAX_PORT").as_deref())?;
        let listen = match env(NETWORK_KEY).as_deref().map(str::trim) {
            None | Some("") => default_listen(ports, env(UNIX_SOCKET_DIR_KEY)),
            Some("tcp") => server::Listen::Tcp(ports),
            #[cfg(unix)]
            Some("unix") => default_listen(ports, env(UNIX_SOCKET_DIR_KEY)),
            Some(other) => return Err(StartError::InvalidNetwork { value: other.to_owned() }),
        };
        let max_receive_size = max_receive_size(env("CONDUIT_CONNECTOR_MAX_RECEIVE_RECORD_SIZE").as_deref())?;
        let log_level = crate::log::level_from_env(env("CONDUIT_CONNECTOR_LOG_LEVEL").as_deref());
        Ok(Settings { listen, max_receive_size, log_level })
    }
}

/// A unix socket on Unix (under `PLUGIN_UNIX_SOCKET_DIR` when set and not
/// empty); TCP elsewhere.
#[cfg(unix)]
fn default_listen(_ports: Option<RangeInclusive<u16>>, socket_dir: Option<String>) -> server::Listen {
    server::Listen::Unix(socket_dir.filter(|d| !d.is_empty()).map(PathBuf::from))
}

#[cfg(not(unix))]
fn default_listen(ports: Option<RangeInclusive<u16>>, _socket_dir: Option<String>) -> server::Listen {
    server::Listen::Tcp(ports)
}

/// Exits the process with `code`, removing the unix socket and its
/// directory first.
pub(crate) fn exit_process(code: i32) -> ! {
    #[cfg(unix)]
    socket::remove();
    std::process::exit(code)
}

/// Serves the plugin protocol for destination `D` until Conduit shuts it
/// down.
///
/// Start-up problems (a protocol version other than 2 offered, a bad port
/// range or receive limit, no free port) are printed to stderr and exit 1.
/// After the handshake line nothing is written to stdout; the process exits
/// (0) shortly after Conduit's `Shutdown` call, within
/// [`SHUTDOWN_TEARDOWN_TIMEOUT`] plus a few milliseconds.
pub fn serve<D: Destination>(spec: Specification) -> ExitCode {
    let settings = match Settings::from_env(|k| std::env::var(k).ok()) {
        Ok(s) => s,
        Err(e) => {
            eprintln!("error running plugin: {e}");
            return ExitCode::from(1);
        }
    };
    PluginLogger { inner: StderrLogger::new(LogFormat::Json, settings.log_level) }.install();
    install_panic_hook();
    let runtime = match tokio::runtime::Builder::new_multi_thread().enable_all().build() {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("error running plugin: could not start the tokio runtime: {e}");
            return ExitCode::from(1);
        }
    };
    install_schema_service(&runtime, |k| std::env::var(k).ok());
    let result = runtime.block_on(server::run::<D>(spec, settings.listen, settings.max_receive_size));
    #[cfg(unix)]
    socket::remove();
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            tracing::error!(error = %e, "plugin server failed");
            eprintln!("error running plugin: {e}");
            ExitCode::from(1)
        }
    }
}

/// The process's schema service client (plugin mode only), shared by every
/// runner the plugin configures so each schema is fetched once per process.
static SCHEMA_SERVICE: std::sync::OnceLock<std::sync::Arc<dyn SchemaService>> = std::sync::OnceLock::new();

/// Creates the schema service client from Conduit's environment. Without
/// `CONDUIT_CONNECTOR_UTILITIES_GRPC_TARGET` (or with an invalid one) there
/// is none: records that need decoding are then nacked with an error saying
/// so.
fn install_schema_service(runtime: &tokio::runtime::Runtime, env: impl Fn(&str) -> Option<String>) {
    // The client's channel is created lazily, but inside the runtime.
    let _guard = runtime.enter();
    match SchemaClient::from_env(env) {
        Ok(Some(client)) => {
            let _ = SCHEMA_SERVICE.set(std::sync::Arc::new(CachedSchemaService::new(client)));
        }
        Ok(None) => tracing::warn!(
            "CONDUIT_CONNECTOR_UTILITIES_GRPC_TARGET is not set (Conduit older than v0.11?): records with schema \
             metadata cannot be decoded and will be nacked"
        ),
        Err(e) => tracing::error!(
            error = %e,
            "no schema service: records with schema metadata cannot be decoded and will be nacked"
        ),
    }
}

/// The schema service of plugin mode, if [`serve`] created one.
pub(crate) fn schema_service() -> Option<std::sync::Arc<dyn SchemaService>> {
    SCHEMA_SERVICE.get().cloned()
}

/// Logs panics as JSON lines (Conduit shows non-JSON stderr lines at debug
/// level only).
fn install_panic_hook() {
    std::panic::set_hook(Box::new(|info| {
        let location = info.location().map(|l| format!("{}:{}", l.file(), l.line())).unwrap_or_default();
        let message = info
            .payload()
            .downcast_ref::<&str>()
            .map(|s| (*s).to_owned())
            .or_else(|| info.payload().downcast_ref::<String>().cloned())
            .unwrap_or_else(|| "unknown panic payload".to_owned());
        tracing::error!(panic = %message, location = %location, "the connector panicked");
    }));
}

/// Crates whose own debug and trace events are noise in Conduit's log: they
/// are shown at info and above only.
const QUIET_TARGETS: &[&str] = &["h2", "hyper", "hyper_util", "tower", "tonic", "tokio", "mio", "axum"];

fn is_quiet(target: &str) -> bool {
    QUIET_TARGETS.iter().any(|t| target.strip_prefix(t).is_some_and(|rest| rest.is_empty() || rest.starts_with("::")))
}

/// The JSON stderr logger, without the transport crates' debug chatter.
struct PluginLogger {
    inner: StderrLogger,
}

impl fmt::Debug for PluginLogger {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("PluginLogger").finish_non_exhaustive()
    }
}

impl PluginLogger {
    fn install(self) {
        let _ = tracing::subscriber::set_global_default(self);
    }
}

impl Subscriber for PluginLogger {
    fn enabled(&self, metadata: &Metadata<'_>) -> bool {
        if is_quiet(metadata.target()) && *metadata.level() > Level::INFO {
            return false;
        }
        self.inner.enabled(metadata)
    }

    fn new_span(&self, span: &Attributes<'_>) -> Id {
        self.inner.new_span(span)
    }

    fn record(&self, span: &Id, values: &SpanRecord<'_>) {
        self.inner.record(span, values);
    }

    fn record_follows_from(&self, span: &Id, follows: &Id) {
        self.inner.record_follows_from(span, follows);
    }

    fn event(&self, event: &Event<'_>) {
        self.inner.event(event);
    }

    fn enter(&self, span: &Id) {
        self.inner.enter(span);
    }

    fn exit(&self, span: &Id) {
        self.inner.exit(span);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn negotiation_chooses_2_when_offered_in_any_order_with_whitespace() {
        for offered in ["1,2", "2,1", " 1 , 2 ", "2", "x,2"] {
            assert_eq!(negotiate_protocol(Some(offered)), Ok(2), "{offered:?}");
        }
    }

    #[test]
    fn negotiation_defaults_to_2_when_missing_or_blank() {
        assert_eq!(negotiate_protocol(None), Ok(2));
        assert_eq!(negotiate_protocol(Some("  ")), Ok(2));
    }

    #[test]
    fn negotiation_fails_clearly_without_version_2() {
        let err = negotiate_protocol(Some("1")).unwrap_err();
        assert_eq!(err, StartError::UnsupportedProtocol { offered: "1".into() });
        assert!(err.to_string().contains("speaks only version 2"), "{err}");
        assert!(negotiate_protocol(Some("1,3")).is_err());
    }

    #[test]
    fn port_range_needs_both_bounds_and_valid_numbers() {
        assert_eq!(port_range(None, None), Ok(None));
        assert_eq!(port_range(Some("10000"), None), Ok(None));
        assert_eq!(port_range(Some("10000"), Some("25000")), Ok(Some(10000..=25000)));
        assert!(matches!(
            port_range(Some("x"), Some("1")),
            Err(StartError::InvalidPort { var: "PLUGIN_MIN_PORT", .. })
        ));
        assert!(matches!(
            port_range(Some("1"), Some("70000")),
            Err(StartError::InvalidPort { var: "PLUGIN_MAX_PORT", .. })
        ));
        assert_eq!(port_range(Some("9"), Some("8")), Err(StartError::EmptyPortRange { min: 9, max: 8 }));
    }

    #[test]
    fn bind_listener_skips_ports_in_use() {
        let taken = std::net::TcpListener::bind((Ipv4Addr::LOCALHOST, 0)).unwrap();
        let port = taken.local_addr().unwrap().port();
        let next = port.checked_add(1).unwrap_or(port);
        match bind_listener(Some(port..=next)) {
            Ok(l) => assert_eq!(l.local_addr().unwrap().port(), next),
            Err(e) => assert!(matches!(e, StartError::NoFreePort { .. }), "{e}"),
        }
        let err = bind_listener(Some(port..=port)).unwrap_err();
        assert!(err.to_string().contains(&format!("{port}..={port}")), "{err}");
    }

    #[test]
    fn max_receive_size_is_atoi_with_a_4_mib_default() {
        assert_eq!(max_receive_size(None), Ok(4_194_304));
        assert_eq!(max_receive_size(Some("")), Ok(4_194_304));
        assert_eq!(max_receive_size(Some("1048576")), Ok(1_048_576));
        assert!(max_receive_size(Some("4MB")).is_err());
        assert!(max_receive_size(Some("0")).is_err());
        assert!(max_receive_size(Some("-1")).is_err());
    }

    #[test]
    fn handshake_line_is_go_plugins_format() {
        let addr: SocketAddr = "127.0.0.1:12345".parse().unwrap();
        assert_eq!(handshake_line(addr), "1|2|tcp|127.0.0.1:12345|grpc|\n");
    }

    #[test]
    fn transport_crates_are_quiet_below_info() {
        assert!(is_quiet("h2"));
        assert!(is_quiet("h2::codec"));
        assert!(is_quiet("hyper_util::client"));
        assert!(!is_quiet("h2o"));
        assert!(!is_quiet("directory_destination"));
    }
}
