//! Tests of the config pipeline (reference §1) and of the Go-compatible
//! parsers and formatters.

mod duration;
mod go_format;
mod go_parse;
mod pipeline;
mod proptests;
mod validation;
mod wildcard;

use super::{ConfigMap, Parameter, ParameterType, Parameters, Pattern, Validation};

/// A parameter of type `ty` with `default` and `validations`.
fn param(ty: ParameterType, default: &str, validations: Vec<Validation>) -> Parameter {
    Parameter { default: default.to_owned(), description: String::new(), ty, validations }
}

/// A string parameter without default or validations.
fn plain() -> Parameter {
    Parameter::default()
}

fn params<const N: usize>(entries: [(&str, Parameter); N]) -> Parameters {
    entries.into_iter().collect()
}

fn map<const N: usize>(entries: [(&str, &str); N]) -> ConfigMap {
    entries.into_iter().collect()
}

fn regex(p: &str) -> Validation {
    Validation::Regex(Pattern::new(p))
}

fn list(items: &[&str]) -> Vec<String> {
    items.iter().map(|s| (*s).to_owned()).collect()
}

/// The error texts of a validation, in order (empty when valid).
fn messages(config: &ConfigMap, params: &Parameters) -> Vec<String> {
    match config.validate(params) {
        Ok(()) => Vec::new(),
        Err(errors) => errors.iter().map(ToString::to_string).collect(),
    }
}
