//! The standalone plugin protocol (go-plugin handshake + gRPC services).

pub mod convert;
pub mod proto;

use std::process::ExitCode;

use crate::destination::Destination;
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

/// Serves the plugin protocol for destination `D` until Conduit shuts it
/// down.
pub fn serve<D: Destination>(spec: Specification) -> ExitCode {
    let _ = spec;
    eprintln!("plugin mode is not available in this build");
    ExitCode::from(1)
}
