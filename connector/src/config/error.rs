use std::fmt;

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

/// One problem with one config key.
///
/// `Display` keeps Go's wording, e.g.
/// `error validating "batchSize": "0" should be greater than 0: greater-than validation failed`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConfigError {
    key: String,
    kind: ErrorKind,
    message: String,
}

impl ConfigError {
    /// An error whose full text is `message` (used for unrecognized keys, whose
    /// text does not start with `error validating`).
    pub(crate) fn raw(key: impl Into<String>, kind: ErrorKind, message: impl Into<String>) -> Self {
        ConfigError { key: key.into(), kind, message: message.into() }
    }

    /// An error rendered as `error validating "<key>": <detail>`.
    pub(crate) fn validating(key: impl Into<String>, kind: ErrorKind, detail: impl fmt::Display) -> Self {
        let key = key.into();
        let message = format!("error validating {}: {detail}", super::go::quote(&key));
        ConfigError { key, kind, message }
    }

    /// A failure of a config type's own cross-field check, reported as
    /// `error validating "<key>": <message>` with kind [`ErrorKind::Custom`].
    ///
    /// `key` is relative to the config type that reports it; a nested config's
    /// keys get the nesting prefix added automatically.
    pub fn custom(key: impl Into<String>, message: impl fmt::Display) -> Self {
        ConfigError::validating(key, ErrorKind::Custom, message)
    }

    /// The full dotted key this error is about.
    pub fn key(&self) -> &str {
        &self.key
    }

    /// What kind of problem this is.
    pub fn kind(&self) -> ErrorKind {
        self.kind
    }

    /// Adds a key prefix (`prefix.key`), for errors raised by nested configs.
    pub(crate) fn prefixed(mut self, prefix: &str) -> Self {
        if prefix.is_empty() {
            return self;
        }
        let old = std::mem::take(&mut self.key);
        let new = if old.is_empty() { prefix.to_owned() } else { format!("{prefix}.{old}") };
        let old_quoted = super::go::quote(&old);
        if let Some(rest) = self.message.strip_prefix(&format!("error validating {old_quoted}")) {
            self.message = format!("error validating {}{rest}", super::go::quote(&new));
        }
        self.key = new;
        self
    }
}

impl fmt::Display for ConfigError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)
    }
}

impl std::error::Error for ConfigError {}

/// Every problem found in one config, sorted by key (stable: the problems of
/// one key keep the order of the parameter's validations).
///
/// `Display` joins the errors with `\n`, as Go's `errors.Join` does.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
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
