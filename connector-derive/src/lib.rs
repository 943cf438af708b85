//! Derive macros for `conduit-connector`; use them through that crate.
//!
//! The pipeline, one file per stage: `parse` (syn: attributes and
//! `#[param(...)]` items, in the order written) → `model` (names, doc
//! comments, validations, structural errors) → `check` (what can be proved
//! without types: regexes, defaults against their own validations, ranges,
//! duplicate keys) → `emit` (the impls, plus type-dependent checks as
//! `const` items). On errors, `dummy` impls keep the user's build quiet
//! apart from the real mistakes.

use proc_macro::TokenStream;
use proc_macro2::TokenStream as TokenStream2;
use syn::{DeriveInput, parse_macro_input};

mod case;
mod check;
mod docs;
mod dummy;
mod emit;
mod errors;
mod model;
mod parse;

/// Derives `conduit_connector::Config` for a struct with named fields: the
/// parameter list (`parameters()`) and a validating parser from Conduit's
/// flat config map (`from_config(..)`).
///
/// ```
/// use std::collections::HashMap;
/// use std::time::Duration;
///
/// use conduit_connector::Config;
///
/// #[derive(Debug, Config)]
/// pub struct DestinationConfig {
///     /// Directory the files are written to.
///     #[param(required)]
///     pub directory: String,
///     /// Records per write.
///     #[param(default = 100, gt = 0, lt = 10_000)]
///     pub batch_size: u32,
///     #[param(default = "1s")]
///     pub flush_interval: Duration,
///     #[param(default = "raw", inclusion = ["raw", "json"])]
///     pub format: String,
///     pub headers: HashMap<String, String>,
/// }
///
/// let params = DestinationConfig::parameters();
/// assert_eq!(params.get("batchSize").unwrap().default, "100");
/// assert!(params.get("headers.*").is_some());
///
/// let cfg = DestinationConfig::from_config([("directory", "/tmp/out"), ("batchSize", "5")]).unwrap();
/// assert_eq!(cfg.batch_size, 5);
/// assert_eq!(cfg.flush_interval, Duration::from_secs(1));
/// ```
///
/// # Field attribute `#[param(...)]`
///
/// Items in any order; several `#[param]` attributes merge, and validations
/// keep the order written.
///
/// | Item | Meaning |
/// |---|---|
/// | `name = "…"` | the key segment (default: camelCase of the field, `batch_size` → `batchSize`); dots allowed |
/// | `description = "…"` | overrides the doc comment |
/// | `default = "1s" \| 100 \| -1.5 \| true` | the default, checked at compile time against the type and the validations |
/// | `required`, `required = bool` | the value must be present and non-empty |
/// | `gt = n`, `lt = n` | numeric bounds (integer and float fields only) |
/// | `inclusion = ["a", …]`, `exclusion = [...]` | allowed / forbidden values |
/// | `regex = "…"` | the value must contain a match (the regex is compiled at compile time, by regex-lite: Go's RE2 syntax with ASCII `\d` `\w` `\s` `\b`, no `\p{..}` classes, ASCII-only `(?i)`) |
/// | `file` | parameter type `file` (String or PathBuf fields) |
/// | `flatten` | a nested config whose keys get no prefix (alone) |
/// | `skip` | not a parameter; `Default::default()` (alone) |
///
/// Field types: `String`, `PathBuf`, integers, `f32`, `f64`, `bool`,
/// `std::time::Duration`, `Option<T>` and `Vec<T>` (comma-separated) of
/// those, enums deriving `ConfigValue`, structs deriving `Config` (keys
/// `name.sub`), and `HashMap`/`BTreeMap<String, T>` (keys `name.*`).
///
/// # Container attribute `#[config(...)]`
///
/// - `rename_all = "…"`: serde's casing names (`lowercase`, `UPPERCASE`,
///   `PascalCase`, `camelCase`, `snake_case`, `SCREAMING_SNAKE_CASE`,
///   `kebab-case`, `SCREAMING-KEBAB-CASE`).
/// - `validate = path`: a `fn(&Self) -> Result<(), ConfigErrors>` run after
///   decoding; its errors' keys are relative to this struct.
///
/// ```
/// use conduit_connector::{Config, ConfigError, ConfigErrors};
///
/// #[derive(Debug, Config)]
/// #[config(rename_all = "snake_case", validate = Self::check)]
/// pub struct Range {
///     pub min_value: u32,
///     pub max_value: u32,
/// }
///
/// impl Range {
///     fn check(&self) -> Result<(), ConfigErrors> {
///         let mut errors = ConfigErrors::new();
///         if self.min_value > self.max_value {
///             errors.push(ConfigError::custom("min_value", "must not exceed max_value"));
///         }
///         errors.into_result()
///     }
/// }
///
/// let errors = Range::from_config([("min_value", "5"), ("max_value", "1")]).unwrap_err();
/// assert_eq!(errors.to_string(), "error validating \"min_value\": must not exceed max_value");
/// ```
///
/// Mistakes the macro can prove are compile errors pointing at your token:
/// unknown items (with a suggestion), invalid regexes, a default that does
/// not parse as the field type or fails its own validations, `gt >= lt`,
/// `gt`/`lt` on a non-numeric field, overlapping inclusion/exclusion,
/// duplicate keys, `skip`/`flatten` combined with other items, unsupported
/// field types and non-struct input.
#[proc_macro_derive(Config, attributes(param, config))]
pub fn derive_config(input: TokenStream) -> TokenStream {
    let input = parse_macro_input!(input as DeriveInput);
    expand_config(&input).into()
}

/// Derives `conduit_connector::ConfigValue` for a fieldless enum: a string
/// parameter whose values are the variant names (camelCase by default), with
/// an automatic inclusion validation. The `#[default]` variant (if any) is the
/// value when the key is absent or empty; without one the field must be set.
///
/// ```
/// use conduit_connector::{Config, ConfigValue, Validation};
///
/// #[derive(Debug, Default, PartialEq, ConfigValue)]
/// pub enum Format {
///     #[default]
///     Raw,
///     Json,
///     #[param(name = "debezium/json")]
///     Debezium,
/// }
///
/// #[derive(Debug, Config)]
/// pub struct Cfg {
///     pub format: Format,
///     pub formats: Vec<Format>,
/// }
///
/// let params = Cfg::parameters();
/// let inclusion = vec!["raw".to_owned(), "json".into(), "debezium/json".into()];
/// assert_eq!(params.get("format").unwrap().validations, [Validation::Inclusion(inclusion)]);
///
/// let cfg = Cfg::from_config([("formats", "json,debezium/json")]).unwrap();
/// assert_eq!(cfg.format, Format::Raw);
/// assert_eq!(cfg.formats, [Format::Json, Format::Debezium]);
/// ```
///
/// `#[config(rename_all = "…")]` on the enum and `#[param(name = "…")]` on a
/// variant choose the names.
#[proc_macro_derive(ConfigValue, attributes(param, config))]
pub fn derive_config_value(input: TokenStream) -> TokenStream {
    let input = parse_macro_input!(input as DeriveInput);
    expand_config_value(&input).into()
}

fn expand_config(input: &DeriveInput) -> TokenStream2 {
    let mut errors = errors::Errors::default();
    let raw = parse::container(input, &mut errors);
    let model = model::struct_model(&raw, &mut errors);
    if let Some(model) = &model {
        check::check_struct(model, &mut errors);
    }
    match (errors.into_compile_errors(), model) {
        (None, Some(model)) => emit::config(&model),
        (compile_errors, _) => {
            let mut out = compile_errors.unwrap_or_default();
            out.extend(dummy::config(input));
            out
        }
    }
}

fn expand_config_value(input: &DeriveInput) -> TokenStream2 {
    let mut errors = errors::Errors::default();
    let raw = parse::container(input, &mut errors);
    let model = model::enum_model(&raw, &mut errors);
    if let Some(model) = &model {
        check::check_enum(model, &mut errors);
    }
    match (errors.into_compile_errors(), model) {
        (None, Some(model)) => emit::config_value(&model),
        (compile_errors, _) => {
            let mut out = compile_errors.unwrap_or_default();
            out.extend(dummy::config_value(input));
            out
        }
    }
}
