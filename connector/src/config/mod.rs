//! Conduit's configuration model: parameters, validations, the raw config map
//! and the [`Config`] trait that `#[derive(Config)]` implements.
//!
//! The semantics follow Conduit (conduit-commons `config`): keys and values are
//! trimmed, defaults are applied (wildcards included), unknown keys are
//! rejected, values are type-checked with Go's syntax, validations run with
//! Go's error texts, and every problem is reported at once, sorted by key.

mod error;
#[doc(hidden)]
pub mod field;
#[doc(hidden)]
pub mod field_support;
pub mod go;
mod map;
mod params;
#[cfg(test)]
mod tests;
mod validate;
mod value;

pub use error::{ConfigError, ConfigErrors, ErrorKind, Problem};
#[doc(hidden)]
pub use field::{ConfigField, DecodeCx, FieldKey, FieldKind, FieldSpec, ValidationSpec};
pub use map::{ConfigMap, IntoConfigMap};
pub use params::{Parameter, ParameterType, Parameters, Pattern, Validation};
pub use validate::expand_keys;
pub use value::{ConfigValue, ListElement};

/// A configuration type: its parameters and a validating parser from
/// Conduit's flat string map.
///
/// Implement it with `#[derive(Config)]`; see the crate documentation for the
/// attribute grammar.
pub trait Config: Sized + ConfigField {
    /// Every parameter of this config, with name, description, type, default
    /// and validations, ordered by name.
    fn parameters() -> Parameters;

    /// Parses a raw config map (Conduit's `map[string]string`) into `Self`.
    ///
    /// The pipeline is Conduit's: trim keys and values, apply defaults,
    /// validate (unrecognized keys, types, validations), decode, then run the
    /// type's own `validate` hook if it has one. Every problem is reported,
    /// sorted by key.
    fn from_config<C: IntoConfigMap>(config: C) -> Result<Self, ConfigErrors>;
}
