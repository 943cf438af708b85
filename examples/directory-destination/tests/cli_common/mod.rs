//! Runs the `directory-destination` binary as a user would from a shell (no plugin
//! variables), for the command-line tests.

#![allow(dead_code)]

use std::process::{Command, Output, Stdio};

pub const BIN: &str = env!("CARGO_BIN_EXE_directory-destination");

/// The binary without Conduit's plugin variables (so it is a command line) and without a log
/// level from the environment.
pub fn command() -> Command {
    let mut cmd = Command::new(BIN);
    cmd.env_remove("CONDUIT_PLUGIN_MAGIC_COOKIE").env_remove("CONDUIT_CONNECTOR_LOG_LEVEL");
    cmd
}

/// Runs the binary with `args` and no standard input.
pub fn run(args: &[&str]) -> Output {
    command().args(args).stdin(Stdio::null()).output().expect("run the binary")
}

/// Output bytes as text (lossy).
pub fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}
