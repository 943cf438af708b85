//! The checks of one value shared by every field: Go's type check, each
//! validation with Go's semantics ([`Validation::failure`]), and the
//! did-you-mean hint of an unrecognized key.

use std::cmp::Ordering;

use super::error::{ConfigError, Problem};
use super::{ParameterType, Parameters, Validation, go};

/// Jaro similarity above which an unrecognized key gets a did-you-mean hint.
const SUGGESTION_THRESHOLD: f64 = 0.7;

/// `"<key>": unrecognized parameter`, with a did-you-mean hint when a
/// parameter name is similar enough.
pub(crate) fn unrecognized(key: &str, params: &Parameters) -> ConfigError {
    let mut best: Option<(f64, &str)> = None;
    for name in params.names() {
        let score = strsim::jaro(key, name);
        if score > SUGGESTION_THRESHOLD && best.is_none_or(|(b, _)| score > b) {
            best = Some((score, name));
        }
    }
    ConfigError::new(key, Problem::Unrecognized { suggestion: best.map(|(_, name)| name.to_owned()) })
}

/// Go's type check of a non-empty value: why it is not a `ty`, if it is not. Integers
/// beyond Go's `int` pass (the field's Rust type checks its own range, up to `u64::MAX`).
pub(crate) fn type_error(value: &str, ty: ParameterType) -> Option<String> {
    let what = match ty {
        ParameterType::Int if matches!(go::parse_wide_int(value), go::WideInt::NotAnInteger) => "an integer",
        ParameterType::Float if go::parse_float(value).is_none() => "a float",
        ParameterType::Duration if go::parse_duration(value).is_err() => "a duration",
        ParameterType::Bool if go::parse_bool(value).is_none() => "a boolean",
        _ => return None,
    };
    Some(format!("value is not {what}"))
}

impl Validation {
    /// The problem with `value` under this validation, if any (Go's semantics).
    ///
    /// `number` caches `value` parsed as a float (`None` until first needed).
    pub(crate) fn failure(&self, value: &str, number: &mut Option<Option<f64>>) -> Option<Problem> {
        let owned = || value.to_owned();
        match self {
            Validation::Required => value.is_empty().then_some(Problem::Required),
            Validation::GreaterThan(bound) | Validation::LessThan(bound) => {
                let Some(v) = *number.get_or_insert_with(|| go::parse_float(value)) else {
                    return Some(Problem::NotANumber { value: owned() });
                };
                let ordering = v.partial_cmp(bound);
                match self {
                    Validation::GreaterThan(_) if ordering != Some(Ordering::Greater) => {
                        Some(Problem::GreaterThan { value: owned(), bound: *bound })
                    }
                    Validation::LessThan(_) if ordering != Some(Ordering::Less) => {
                        Some(Problem::LessThan { value: owned(), bound: *bound })
                    }
                    _ => None,
                }
            }
            Validation::Inclusion(list) => (!list.iter().any(|item| item == value))
                .then(|| Problem::Inclusion { value: owned(), allowed: list.clone() }),
            Validation::Exclusion(list) => list
                .iter()
                .any(|item| item == value)
                .then(|| Problem::Exclusion { value: owned(), excluded: list.clone() }),
            Validation::Regex(pattern) => {
                let invalid_pattern = match pattern.regex() {
                    Ok(re) if re.is_match(value) => return None,
                    Ok(_) => None,
                    Err(reason) => Some(reason.to_owned()),
                };
                Some(Problem::Regex { value: owned(), pattern: pattern.as_str().to_owned(), invalid_pattern })
            }
        }
    }
}
