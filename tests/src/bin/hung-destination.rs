//! `hung-destination`: a test connector whose `write` never returns, for the
//! plugin-mode test that Teardown and Shutdown stay bounded.

use std::process::ExitCode;

use conduit_connector::destination::{Batch, BoxError, Destination, WriteResult};
use conduit_connector::{Config, Specification};

/// No parameters.
#[derive(Debug, Config)]
struct HungConfig {}

/// A destination stuck in its first write.
#[derive(Debug)]
struct HungDestination;

impl Destination for HungDestination {
    type Config = HungConfig;

    async fn configure(_config: HungConfig) -> Result<Self, BoxError> {
        Ok(HungDestination)
    }

    async fn write(&mut self, _batch: Batch<'_>) -> WriteResult {
        std::future::pending::<()>().await;
        WriteResult::All
    }
}

fn main() -> ExitCode {
    conduit_connector::serve::<HungDestination>(Specification {
        name: "hung".to_owned(),
        summary: "A destination whose write never returns (tests only).".to_owned(),
        version: "v0.0.0-test".to_owned(),
        ..Specification::default()
    })
}
