//! `directory-destination`: run it with `spec`, `version`, `check` or `run`, or let Conduit
//! start it as a standalone plugin.

use std::process::ExitCode;

use directory_destination::{DirectoryDestination, specification};

fn main() -> ExitCode {
    conduit_connector::serve::<DirectoryDestination>(specification())
}
