//! Conduit's configuration model: parameters, validations, the raw config map
//! and the [`Config`] trait that `#[derive(Config)]` implements.
//!
//! The semantics follow Conduit (conduit-commons `config`): keys and values are
//! trimmed, defaults are applied (wildcards included), unknown keys are
//! rejected, values are type-checked with Go's syntax, validations run with
//! Go's error texts, and every problem is reported at once, sorted by key.
//! A derived config does it in one pass over its fields, each described once
//! (the same description is its parameter in the spec).

mod error;
#[doc(hidden)]
pub mod field;
#[doc(hidden)]
pub mod field_support;
// Go's parsers: public only for the workspace's tests (hidden feature `__test-support`).
#[cfg(feature = "__test-support")]
#[doc(hidden)]
pub mod go;
#[cfg(not(feature = "__test-support"))]
pub(crate) mod go;
mod map;
mod params;
#[cfg(test)]
mod tests;
pub(crate) mod validate;
mod value;

pub use error::{ConfigError, ConfigErrors, ErrorKind, Problem};
#[doc(hidden)]
pub use field::{ConfigField, DecodeCx, FieldKey, FieldKind, FieldSpec, ValidationSpec};
pub use map::{ConfigMap, IntoConfigMap};
pub use params::{Parameter, ParameterType, Parameters, Pattern, Validation};
pub use value::{ConfigValue, ListElement};

/// A configuration type: its parameters and a validating parser from
/// Conduit's flat string map.
///
/// Derive it with `#[derive(Config)]` (see the crate documentation for the
/// attribute grammar), or implement the two methods by hand: a hand-written
/// config works as a destination's config; to nest a config in another one,
/// derive it.
///
/// ```
/// use conduit_connector::config::{ConfigError, ConfigErrors, ConfigMap, IntoConfigMap, Problem};
/// use conduit_connector::{Config, Parameter, ParameterType, Parameters, Validation};
///
/// #[derive(Debug)]
/// struct Token(String);
///
/// impl Config for Token {
///     fn parameters() -> Parameters {
///         let token = Parameter {
///             description: "The API token.".into(),
///             ty: ParameterType::String,
///             validations: vec![Validation::Required],
///             ..Parameter::default()
///         };
///         [("token", token)].into_iter().collect()
///     }
///
///     fn from_config<C: IntoConfigMap>(config: C) -> Result<Self, ConfigErrors> {
///         // Trimmed keys and values (and an error for keys given twice).
///         let (map, mut errors) = ConfigMap::sanitized(config);
///         let token = map.get("token").unwrap_or_default();
///         if token.is_empty() {
///             errors.push(ConfigError::new("token", Problem::Required));
///         }
///         for (key, _) in map.iter().filter(|(key, _)| *key != "token") {
///             errors.push(ConfigError::new(key, Problem::Unrecognized { suggestion: None }));
///         }
///         errors.into_result()?;
///         Ok(Token(token.to_owned()))
///     }
/// }
///
/// assert_eq!(Token::from_config([("token", "abc")]).unwrap().0, "abc");
/// let errors = Token::from_config([("tokn", "abc")]).unwrap_err();
/// assert_eq!(errors.iter().map(ConfigError::key).collect::<Vec<_>>(), ["token", "tokn"]);
/// ```
pub trait Config: Sized {
    /// Every parameter of this config, with name, description, type, default
    /// and validations, ordered by name. The derive builds them once and
    /// returns a shared copy.
    fn parameters() -> Parameters;

    /// Parses a raw config map (Conduit's `map[string]string`) into `Self`.
    ///
    /// Conduit's semantics in one pass (derived): trim keys and values; then
    /// per field, from its one parameter description, the default, Go's type
    /// check, the validations (Go's texts) and the parse into the field; keys
    /// no field takes are unrecognized (with a did-you-mean hint); then the
    /// type's own `validate` hook if it has one. Every problem is reported,
    /// sorted by key.
    fn from_config<C: IntoConfigMap>(config: C) -> Result<Self, ConfigErrors>;
}
