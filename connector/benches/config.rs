//! Config benchmarks: `from_config` and `parameters()` of a 30-parameter struct.
//!
//! `cargo bench -p conduit-connector --bench config`

use std::collections::HashMap;
use std::future::Future;
use std::hint::black_box;
use std::pin::pin;
use std::task::{Context, Poll, Waker};

use conduit_connector::Config;
use conduit_connector::destination::{Batch, BoxError, Destination, DestinationRunner, WriteResult};

mod thirty;

use thirty::{Thirty, thirty_config};

fn main() {
    thirty::check(&thirty_config());
    divan::main();
}

/// The whole pipeline: trim, defaults, validate, decode (parameters cached, as the derive does).
#[divan::bench]
fn from_config_30(bencher: divan::Bencher<'_, '_>) {
    let config: HashMap<String, String> = thirty_config();
    bencher.bench_local(|| Thirty::from_config(black_box(&config)).is_ok());
}

/// Building the parameter list (what `spec` and Configure's validation start from).
#[divan::bench]
fn parameters_30() -> usize {
    Thirty::parameters().len()
}

/// A destination that keeps its config: what `DestinationRunner::configure` costs beyond
/// the connector's own `configure` (connector and `sdk.*` parameters parsed together).
struct Keep(#[allow(dead_code)] Thirty);

impl Destination for Keep {
    type Config = Thirty;
    async fn configure(config: Thirty) -> Result<Self, BoxError> {
        Ok(Keep(config))
    }
    async fn write(&mut self, _batch: Batch<'_>) -> WriteResult {
        WriteResult::All
    }
}

/// Polls a future that completes without waiting (no executor needed).
fn ready<F: Future>(future: F) -> F::Output {
    let mut future = pin!(future);
    match future.as_mut().poll(&mut Context::from_waker(Waker::noop())) {
        Poll::Ready(out) => out,
        Poll::Pending => panic!("configure waited"),
    }
}

/// The production path: `DestinationRunner::configure` of the 30-parameter config (what
/// the plugin's Configure and the CLI call).
#[divan::bench]
fn runner_configure_30(bencher: divan::Bencher<'_, '_>) {
    let config: HashMap<String, String> = thirty_config();
    assert!(ready(DestinationRunner::<Keep>::configure(&config)).is_ok());
    bencher.bench_local(|| ready(DestinationRunner::<Keep>::configure(black_box(&config))).is_ok());
}
