//! Tests of the config pipeline (reference §1) and of the Go-compatible
//! parsers and formatters.
// The test configs exist for their parameters and errors; most fields are never read.
#![allow(dead_code)]

mod duration;
mod go_format;
mod go_parse;
mod pipeline;
mod proptests;
mod validation;
mod wildcard;

use super::{Config, ConfigErrors};

/// The error texts of `C::from_config(entries)`, in order (empty when valid).
fn messages<C: Config>(entries: &[(&str, &str)]) -> Vec<String> {
    match C::from_config(entries) {
        Ok(_) => Vec::new(),
        Err(errors) => errors.iter().map(ToString::to_string).collect(),
    }
}

/// The errors of `C::from_config(entries)`, which must fail.
fn errors<C: Config>(entries: &[(&str, &str)]) -> ConfigErrors {
    match C::from_config(entries) {
        Ok(_) => panic!("the config {entries:?} was accepted"),
        Err(errors) => errors,
    }
}
