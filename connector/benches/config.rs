//! Config benchmarks: `from_config` and `parameters()` of a 30-parameter struct.
//!
//! `cargo bench -p conduit-connector --bench config`

use std::collections::HashMap;
use std::hint::black_box;

use conduit_connector::Config;

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
