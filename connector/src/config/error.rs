use std::fmt;

use super::go::{format_float_f, quote};

/// What kind of problem a [`ConfigError`] reports.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum ErrorKind {
    /// The key matches no parameter (`unrecognized parameter`).
    Unrecognized,
    /// The value does not parse as the parameter's type (`invalid parameter type`).
    InvalidType,
    /// A value is not usable for a validation, e.g. a non-number for
    /// `greater-than` (`invalid parameter value`), or a key given twice.
    InvalidValue,
    /// A required parameter is missing or empty.
    Required,
    /// A `greater-than` validation failed.
    GreaterThan,
    /// A `less-than` validation failed.
    LessThan,
    /// An `inclusion` validation failed.
    Inclusion,
    /// An `exclusion` validation failed.
    Exclusion,
    /// A `regex` validation failed.
    Regex,
    /// A check of the config type's own `validate` hook failed.
    Custom,
}

impl ErrorKind {
    /// The sentinel text Conduit appends to errors of this kind, if any.
    pub fn sentinel(self) -> Option<&'static str> {
        Some(match self {
            ErrorKind::Unrecognized => "unrecognized parameter",
            ErrorKind::InvalidType => "invalid parameter type",
            ErrorKind::InvalidValue => "invalid parameter value",
            ErrorKind::Required => "required parameter is not provided",
            ErrorKind::GreaterThan => "greater-than validation failed",
            ErrorKind::LessThan => "less-than validation failed",
            ErrorKind::Inclusion => "inclusion validation failed",
            ErrorKind::Exclusion => "exclusion validation failed",
            ErrorKind::Regex => "regex validation failed",
            ErrorKind::Custom => return None,
        })
    }
}

/// What exactly is wrong, with the data the message is rendered from: the
/// offending value, the bound, the allowed values, the pattern, the
/// suggestion.
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub enum Problem {
    /// The key matches no parameter; `suggestion` is the most similar parameter name.
    Unrecognized {
        /// The parameter the key was probably meant to be.
        suggestion: Option<String>,
    },
    /// The value does not parse as the parameter's type.
    InvalidType {
        /// The value.
        value: String,
        /// Why, completing the sentence `"<value>" …`, e.g. `value is not an integer`.
        reason: String,
    },
    /// A `greater-than` or `less-than` validation got a value that is not a number.
    NotANumber {
        /// The value.
        value: String,
    },
    /// Several raw keys are the same key after trimming.
    DuplicateKey,
    /// A required parameter is missing or empty.
    Required,
    /// The value is not greater than `bound`.
    GreaterThan {
        /// The value.
        value: String,
        /// The exclusive lower bound.
        bound: f64,
    },
    /// The value is not less than `bound`.
    LessThan {
        /// The value.
        value: String,
        /// The exclusive upper bound.
        bound: f64,
    },
    /// The value is not one of `allowed`.
    Inclusion {
        /// The value.
        value: String,
        /// The values the parameter accepts.
        allowed: Vec<String>,
    },
    /// The value is one of `excluded`.
    Exclusion {
        /// The value.
        value: String,
        /// The values the parameter rejects.
        excluded: Vec<String>,
    },
    /// The value does not match `pattern` (or the pattern does not compile).
    Regex {
        /// The value.
        value: String,
        /// The regex, as written.
        pattern: String,
        /// Why the pattern itself is invalid (so no value can be checked), if it is.
        invalid_pattern: Option<String>,
    },
    /// A check of the config type's own `validate` hook failed.
    Custom {
        /// The hook's message.
        message: String,
    },
}

impl Problem {
    /// The kind of this problem.
    pub fn kind(&self) -> ErrorKind {
        match self {
            Problem::Unrecognized { .. } => ErrorKind::Unrecognized,
            Problem::InvalidType { .. } => ErrorKind::InvalidType,
            Problem::NotANumber { .. } | Problem::DuplicateKey => ErrorKind::InvalidValue,
            Problem::Required => ErrorKind::Required,
            Problem::GreaterThan { .. } => ErrorKind::GreaterThan,
            Problem::LessThan { .. } => ErrorKind::LessThan,
            Problem::Inclusion { .. } => ErrorKind::Inclusion,
            Problem::Exclusion { .. } => ErrorKind::Exclusion,
            Problem::Regex { .. } => ErrorKind::Regex,
            Problem::Custom { .. } => ErrorKind::Custom,
        }
    }
}

/// One problem with one config key.
///
/// `Display` keeps Go's wording, e.g.
/// `error validating "batchSize": "0" should be greater than 0: greater-than validation failed`;
/// [`problem`](ConfigError::problem) gives the data it is rendered from.
#[derive(Debug, Clone, PartialEq)]
pub struct ConfigError {
    key: String,
    problem: Problem,
}

impl ConfigError {
    /// An error about `key`.
    pub fn new(key: impl Into<String>, problem: Problem) -> Self {
        ConfigError { key: key.into(), problem }
    }

    /// A failure of a config type's own cross-field check, reported as
    /// `error validating "<key>": <message>` with kind [`ErrorKind::Custom`].
    ///
    /// `key` is relative to the config type that reports it; a nested config's
    /// keys get the nesting prefix added automatically.
    pub fn custom(key: impl Into<String>, message: impl fmt::Display) -> Self {
        ConfigError::new(key, Problem::Custom { message: message.to_string() })
    }

    /// The full dotted key this error is about.
    pub fn key(&self) -> &str {
        &self.key
    }

    /// What kind of problem this is.
    pub fn kind(&self) -> ErrorKind {
        self.problem.kind()
    }

    /// The problem, with its data.
    pub fn problem(&self) -> &Problem {
        &self.problem
    }

    /// Adds a key prefix (`prefix.key`), for errors raised by nested configs.
    pub(crate) fn prefixed(mut self, prefix: &str) -> Self {
        if !prefix.is_empty() {
            self.key = if self.key.is_empty() { prefix.to_owned() } else { format!("{prefix}.{}", self.key) };
        }
        self
    }
}

impl fmt::Display for ConfigError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let key = quote(&self.key);
        let list = |l: &[String]| l.join(",");
        match &self.problem {
            Problem::Unrecognized { suggestion: None } => return write!(f, "{key}: unrecognized parameter"),
            Problem::Unrecognized { suggestion: Some(s) } => {
                return write!(f, "{key}: unrecognized parameter (did you mean {}?)", quote(s));
            }
            Problem::Required => return write!(f, "error validating {key}: required parameter is not provided"),
            Problem::Custom { message } => return write!(f, "error validating {key}: {message}"),
            _ => write!(f, "error validating {key}: ")?,
        }
        match &self.problem {
            Problem::InvalidType { value, reason } => write!(f, "{} {reason}", quote(value)),
            Problem::NotANumber { value } => write!(f, "{} value should be a number", quote(value)),
            Problem::DuplicateKey => {
                f.write_str("the key is given more than once (keys differ only in surrounding whitespace)")
            }
            Problem::GreaterThan { value, bound } => {
                write!(f, "{} should be greater than {}", quote(value), format_float_f(*bound))
            }
            Problem::LessThan { value, bound } => {
                write!(f, "{} should be less than {}", quote(value), format_float_f(*bound))
            }
            Problem::Inclusion { value, allowed } => {
                write!(f, "{} value must be included in the list [{}]", quote(value), list(allowed))
            }
            Problem::Exclusion { value, excluded } => {
                write!(f, "{} value must be excluded from the list [{}]", quote(value), list(excluded))
            }
            Problem::Regex { value, pattern, invalid_pattern: None } => {
                write!(f, "{} should match the regex {}", quote(value), quote(pattern))
            }
            Problem::Regex { value, pattern, invalid_pattern: Some(reason) } => {
                write!(f, "{} cannot be checked: the regex {} is invalid ({reason})", quote(value), quote(pattern))
            }
            Problem::Unrecognized { .. } | Problem::Required | Problem::Custom { .. } => Ok(()),
        }?;
        // Go's sentinel error, wrapped last.
        write!(f, ": {}", self.kind().sentinel().unwrap_or_default())
    }
}

impl std::error::Error for ConfigError {}

/// Every problem found in one config, sorted by key (stable: the problems of
/// one key keep the order of the parameter's validations).
///
/// `Display` joins the errors with `\n`, as Go's `errors.Join` does.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct ConfigErrors {
    errors: Vec<ConfigError>,
}

impl ConfigErrors {
    /// No errors yet.
    pub fn new() -> Self {
        ConfigErrors::default()
    }

    /// Adds one error.
    pub fn push(&mut self, error: ConfigError) {
        self.errors.push(error);
    }

    /// Whether there are no errors.
    pub fn is_empty(&self) -> bool {
        self.errors.is_empty()
    }

    /// How many errors there are.
    pub fn len(&self) -> usize {
        self.errors.len()
    }

    /// The errors, in order.
    pub fn iter(&self) -> std::slice::Iter<'_, ConfigError> {
        self.errors.iter()
    }

    /// Whether some error is about `key`.
    pub fn has_key(&self, key: &str) -> bool {
        self.errors.iter().any(|e| e.key == key)
    }

    /// Sorts the errors by key, keeping the order within one key.
    pub(crate) fn sort(&mut self) {
        self.errors.sort_by(|a, b| a.key.cmp(&b.key));
    }

    /// `Ok(())` when empty, otherwise the sorted errors.
    pub fn into_result(mut self) -> Result<(), ConfigErrors> {
        if self.errors.is_empty() {
            Ok(())
        } else {
            self.sort();
            Err(self)
        }
    }
}

impl From<ConfigError> for ConfigErrors {
    fn from(error: ConfigError) -> Self {
        ConfigErrors { errors: vec![error] }
    }
}

impl FromIterator<ConfigError> for ConfigErrors {
    fn from_iter<I: IntoIterator<Item = ConfigError>>(iter: I) -> Self {
        ConfigErrors { errors: iter.into_iter().collect() }
    }
}

impl Extend<ConfigError> for ConfigErrors {
    fn extend<I: IntoIterator<Item = ConfigError>>(&mut self, iter: I) {
        self.errors.extend(iter);
    }
}

impl IntoIterator for ConfigErrors {
    type Item = ConfigError;
    type IntoIter = std::vec::IntoIter<ConfigError>;
    fn into_iter(self) -> Self::IntoIter {
        self.errors.into_iter()
    }
}

impl<'a> IntoIterator for &'a ConfigErrors {
    type Item = &'a ConfigError;
    type IntoIter = std::slice::Iter<'a, ConfigError>;
    fn into_iter(self) -> Self::IntoIter {
        self.errors.iter()
    }
}

impl fmt::Display for ConfigErrors {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, e) in self.errors.iter().enumerate() {
            if i > 0 {
                f.write_str("\n")?;
            }
            fmt::Display::fmt(e, f)?;
        }
        Ok(())
    }
}

impl std::error::Error for ConfigErrors {}
