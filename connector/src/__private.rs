//! Items the derive macros' generated code names by absolute path. Not a
//! public API: it changes without notice.

pub use std::borrow::ToOwned;
pub use std::clone::Clone;
pub use std::default::Default;
pub use std::option::Option::{self, None, Some};
pub use std::panic;
pub use std::primitive::{bool, str};
pub use std::result::Result::{self, Err, Ok};
pub use std::string::String;
pub use std::sync::{LazyLock, OnceLock};

pub use crate::config::field::NO_PARAMETER;
pub use crate::config::field_support::*;
pub use crate::config::{
    Config, ConfigError, ConfigErrors, ConfigField, ConfigValue, DecodeCx, FieldKey, FieldKind, FieldSpec,
    IntoConfigMap, ListElement, Parameter, ParameterType, Parameters, ValidationSpec,
};
