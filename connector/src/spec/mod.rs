//! The connector specification and its documentation forms.
//!
//! A [`Specification`] renders as Conduit's `connector.yaml` (v1), exactly
//! as the Go SDK's `specgen` prints it, and reads one back; it also renders
//! Markdown tables and fills the `<!-- readmegen:TAG -->` sections of a
//! README, as the Go SDK's `readmegen` does.
//!
//! ```
//! use conduit_connector::spec::Specification;
//! use conduit_connector::{Parameter, ParameterType, Parameters, Validation};
//!
//! let mut params = Parameters::new();
//! params.insert(
//!     "directory",
//!     Parameter {
//!         description: "Directory the files are written to.".into(),
//!         ty: ParameterType::String,
//!         validations: vec![Validation::Required],
//!         ..Parameter::default()
//!     },
//! );
//! let spec = Specification {
//!     name: "directory".into(),
//!     version: "v0.1.0".into(),
//!     destination_params: params,
//!     ..Specification::default()
//! };
//! let yaml = spec.to_yaml();
//! assert!(yaml.starts_with("version: \"1.0\"\nspecification:\n  name: directory\n"));
//! assert_eq!(Specification::from_yaml(&yaml).unwrap(), spec);
//! ```

mod diff;
mod markdown;
mod scalar;
mod yaml;

use std::path::Path;

use crate::config::{Parameter, Parameters};

/// What a connector is: name, summary, description, version, author and the
/// parameters of its source and destination.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Specification {
    /// The connector's name (`directory`).
    pub name: String,
    /// One line about it.
    pub summary: String,
    /// A longer description.
    pub description: String,
    /// Its version (`v0.1.0`).
    pub version: String,
    /// Who wrote it.
    pub author: String,
    /// Parameters of the source (empty when there is none).
    pub source_params: Parameters,
    /// Parameters of the destination (empty when there is none).
    pub destination_params: Parameters,
}

/// Why a connector.yaml could not be read or a README not updated.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[non_exhaustive]
pub enum SpecError {
    /// The text is not YAML.
    #[error("invalid YAML: {0}")]
    Syntax(String),
    /// The YAML holds no document (or only an empty one).
    #[error("no specification found in YAML")]
    NoSpecification,
    /// The top-level `version` is not a 1.x version.
    #[error("unsupported version {0}")]
    UnsupportedVersion(String),
    /// A value has the wrong shape (a mapping where a string belongs, …).
    #[error("decoding error: {0}")]
    Decoding(String),
    /// A parameter's `type` is not one of Conduit's types.
    #[error("unknown parameter type: {0}")]
    UnknownParameterType(String),
    /// A validation's `type` is not one of Conduit's validations.
    #[error("unknown validation type: {0}")]
    UnknownValidationType(String),
    /// A greater-than or less-than value is not a number.
    #[error("parameter {parameter:?}: {validation} value {value:?} is not a number")]
    InvalidNumber {
        /// The parameter's name.
        parameter: String,
        /// `greater-than` or `less-than`.
        validation: String,
        /// The value as written.
        value: String,
    },
    /// A README names a `<!-- readmegen:TAG -->` this crate does not know.
    #[error("unknown readmegen tag: {0}")]
    UnknownReadmegenTag(String),
    /// A README's readmegen markers are malformed (`readmegen open tag not
    /// closed`, `readmegen close tag not found`, `readmegen close tag not
    /// closed`).
    #[error("{0}")]
    MalformedReadmegenTag(&'static str),
}

impl Specification {
    /// connector.yaml (format v1), byte for byte as the Go SDK's `specgen`
    /// prints it with yaml.v3 and indent 2.
    ///
    /// `version: "1.0"`, then `specification:` with `name`, `summary`,
    /// `description` (trailing spaces removed from every line, as specgen
    /// does), `version`, `author`, and `source`/`destination` (omitted when
    /// they have no parameters). Parameters are listed non-`sdk.` first, then
    /// required first, then by name (byte order); greater-than/less-than
    /// values print with Go's `%g`. Scalars are quoted exactly where yaml.v3
    /// quotes them.
    pub fn to_yaml(&self) -> String {
        yaml::to_yaml(self)
    }

    /// Reads a connector.yaml (format v1), as the Go SDK's
    /// `ParseYAMLSpecification` does: a missing `version` means 1.0, a
    /// version outside `^1` is an error, unknown fields are ignored, only the
    /// first YAML document is read, inclusion/exclusion lists are split on
    /// `,` and trimmed.
    ///
    /// Scalars are read by their text, as yaml.v3 decodes them into Go
    /// strings (`default: 0` is `"0"`).
    pub fn from_yaml(text: &str) -> Result<Specification, SpecError> {
        yaml::from_yaml(text)
    }

    /// A Markdown table of `params`, one row per parameter in connector.yaml
    /// order: name, type, required, default (the type's zero value when
    /// there is none), description.
    pub fn markdown_table(params: &Parameters) -> String {
        markdown::table(params)
    }

    /// [`markdown_table`](Self::markdown_table) of the source parameters.
    pub fn source_params_table(&self) -> String {
        markdown::table(&self.source_params)
    }

    /// [`markdown_table`](Self::markdown_table) of the destination parameters.
    pub fn destination_params_table(&self) -> String {
        markdown::table(&self.destination_params)
    }

    /// Replaces what stands between `<!-- readmegen:TAG -->` and
    /// `<!-- /readmegen:TAG -->` in a README, as the Go SDK's `readmegen`
    /// does, for the tags `name` (title-cased), `summary`, `description`,
    /// `version`, `author`, `source.parameters.table`,
    /// `source.parameters.yaml`, `destination.parameters.table` and
    /// `destination.parameters.yaml`.
    ///
    /// The `*.yaml` tags give readmegen's example pipeline configuration (one
    /// connector with `type: source` or `type: destination`); the
    /// `*.table` tags give [`markdown_table`](Self::markdown_table) (a
    /// Markdown table instead of readmegen's HTML table).
    pub fn update_readme(&self, readme: &str) -> Result<String, SpecError> {
        markdown::update_readme(self, readme)
    }
}

/// Parameters in connector.yaml order: names not starting with `sdk.` first,
/// then within each group required parameters first, then by name in byte
/// order.
pub fn ordered_parameters(params: &Parameters) -> Vec<(&str, &Parameter)> {
    let mut list: Vec<_> = params.iter().collect();
    list.sort_by(|(a, pa), (b, pb)| {
        (a.starts_with("sdk."), !pa.is_required(), a.as_bytes()).cmp(&(
            b.starts_with("sdk."),
            !pb.is_required(),
            b.as_bytes(),
        ))
    });
    list
}

/// The environment variable that makes [`assert_spec_current`] rewrite the
/// file instead of failing.
pub const UPDATE_SPEC_ENV: &str = "CONDUIT_UPDATE_SPEC";

/// Asserts that the committed connector.yaml at `path` is exactly what
/// `spec.to_yaml()` generates; for a test of the connector's own crate:
///
/// ```no_run
/// # fn connector_spec() -> conduit_connector::Specification { Default::default() }
/// conduit_connector::spec::assert_spec_current("connector.yaml", &connector_spec());
/// ```
///
/// With `CONDUIT_UPDATE_SPEC=1` in the environment the file is (re)written
/// instead.
///
/// # Panics
///
/// When the file differs (with a line diff, `-` committed, `+` generated,
/// and the command that regenerates it), cannot be read, or cannot be
/// written in update mode.
#[track_caller]
pub fn assert_spec_current(path: impl AsRef<Path>, spec: &Specification) {
    let update = std::env::var(UPDATE_SPEC_ENV).is_ok_and(|v| v == "1");
    if let Err(message) = check_spec_file(path.as_ref(), spec, update) {
        panic!("{message}");
    }
}

/// The body of [`assert_spec_current`]: `Err` with the message to panic with.
fn check_spec_file(path: &Path, spec: &Specification, update: bool) -> Result<(), String> {
    let generated = spec.to_yaml();
    let committed = std::fs::read_to_string(path);
    if update {
        if committed.as_deref().ok() != Some(generated.as_str()) {
            std::fs::write(path, &generated).map_err(|err| format!("could not write {}: {err}", path.display()))?;
        }
        return Ok(());
    }
    let committed = committed.map_err(|err| {
        format!("could not read {}: {err}\nCreate it with: {UPDATE_SPEC_ENV}=1 cargo test", path.display())
    })?;
    if committed == generated {
        return Ok(());
    }
    Err(format!(
        "{path} is not what the connector's specification generates.\n\
         --- {path} (committed)\n+++ generated\n{diff}\
         Regenerate it with: {UPDATE_SPEC_ENV}=1 cargo test",
        path = path.display(),
        diff = diff::line_diff(&committed, &generated),
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn temp_file(name: &str) -> std::path::PathBuf {
        std::env::temp_dir().join(format!("conduit-spec-{}-{name}", std::process::id()))
    }

    fn spec() -> Specification {
        Specification { name: "demo".into(), version: "v1".into(), ..Specification::default() }
    }

    #[test]
    fn update_mode_writes_missing_or_stale_file() {
        let path = temp_file("update.yaml");
        let _ = std::fs::remove_file(&path);
        check_spec_file(&path, &spec(), true).unwrap();
        assert_eq!(std::fs::read_to_string(&path).unwrap(), spec().to_yaml());
        std::fs::write(&path, "stale").unwrap();
        check_spec_file(&path, &spec(), true).unwrap();
        assert_eq!(std::fs::read_to_string(&path).unwrap(), spec().to_yaml());
        check_spec_file(&path, &spec(), false).unwrap();
        std::fs::remove_file(&path).unwrap();
    }

    #[test]
    fn missing_file_error_names_path_and_hint() {
        let path = temp_file("missing.yaml");
        let err = check_spec_file(&path, &spec(), false).unwrap_err();
        assert!(err.contains("could not read") && err.contains("CONDUIT_UPDATE_SPEC=1"), "{err}");
    }
}
