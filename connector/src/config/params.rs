use std::collections::{BTreeMap, BTreeSet};
use std::fmt;
use std::sync::{Arc, OnceLock};

/// The type of a parameter's value, as Conduit names it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Default)]
pub enum ParameterType {
    /// Any string (`string`).
    #[default]
    String,
    /// A base-10 64-bit integer (`int`).
    Int,
    /// A floating-point number in Go's `ParseFloat` syntax (`float`).
    Float,
    /// A boolean in Go's `ParseBool` spellings (`bool`).
    Bool,
    /// A path to a file (`file`).
    File,
    /// A Go duration such as `1h2m3.5s` (`duration`).
    Duration,
}

impl ParameterType {
    /// Every type with Conduit's text form.
    const NAMES: [(ParameterType, &'static str); 6] = [
        (ParameterType::String, "string"),
        (ParameterType::Int, "int"),
        (ParameterType::Float, "float"),
        (ParameterType::Bool, "bool"),
        (ParameterType::File, "file"),
        (ParameterType::Duration, "duration"),
    ];

    /// Conduit's text form: `string`, `int`, `float`, `bool`, `file`, `duration`.
    pub const fn as_str(self) -> &'static str {
        ParameterType::NAMES[self as usize].1
    }

    /// Parses Conduit's text form.
    pub fn from_name(name: &str) -> Option<Self> {
        ParameterType::NAMES.iter().find(|(_, n)| *n == name).map(|(ty, _)| *ty)
    }
}

impl fmt::Display for ParameterType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A regular expression of a `regex` validation: the pattern as written, and
/// the compiled form (built on first use).
///
/// Matching is unanchored, as Go's `MatchString`. Patterns are compiled by
/// `regex-lite` (the dialect, and where it differs from Go's, is in the
/// README); its engine runs in time linear in the input, so no pattern can be
/// catastrophic. A pattern it rejects (a Unicode class such as `\p{L}`) fails
/// every value with a config error saying the regex is invalid.
#[derive(Clone)]
pub struct Pattern {
    source: String,
    compiled: OnceLock<Result<regex_lite::Regex, String>>,
}

impl Pattern {
    /// A pattern from its source text (compiled lazily).
    pub fn new(source: impl Into<String>) -> Self {
        Pattern { source: source.into(), compiled: OnceLock::new() }
    }

    /// The pattern as written.
    pub fn as_str(&self) -> &str {
        &self.source
    }

    /// The compiled regex (compiled once), or the compile error's text.
    pub(crate) fn regex(&self) -> Result<&regex_lite::Regex, &str> {
        self.compiled
            .get_or_init(|| regex_lite::Regex::new(&self.source).map_err(|e| e.to_string()))
            .as_ref()
            .map_err(String::as_str)
    }

    /// Whether `value` contains a match (an invalid pattern matches nothing).
    pub fn is_match(&self, value: &str) -> bool {
        self.regex().map(|r| r.is_match(value)).unwrap_or(false)
    }
}

impl fmt::Debug for Pattern {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(&self.source, f)
    }
}

impl PartialEq for Pattern {
    fn eq(&self, other: &Self) -> bool {
        self.source == other.source
    }
}

impl From<&str> for Pattern {
    fn from(s: &str) -> Self {
        Pattern::new(s)
    }
}

/// One validation of a parameter's value.
#[derive(Debug, Clone, PartialEq)]
pub enum Validation {
    /// The value must be present and non-empty.
    Required,
    /// The value, parsed as a float, must be strictly greater.
    GreaterThan(f64),
    /// The value, parsed as a float, must be strictly less.
    LessThan(f64),
    /// The value must be one of these strings (case-sensitive).
    Inclusion(Vec<String>),
    /// The value must be none of these strings (case-sensitive).
    Exclusion(Vec<String>),
    /// The value must contain a match of this regex (unanchored).
    Regex(Pattern),
}

impl Validation {
    /// Conduit's text form of the validation type: `required`, `greater-than`,
    /// `less-than`, `inclusion`, `exclusion`, `regex`.
    pub fn type_name(&self) -> &'static str {
        match self {
            Validation::Required => "required",
            Validation::GreaterThan(_) => "greater-than",
            Validation::LessThan(_) => "less-than",
            Validation::Inclusion(_) => "inclusion",
            Validation::Exclusion(_) => "exclusion",
            Validation::Regex(_) => "regex",
        }
    }

    /// The value as Conduit puts it on the wire (`Value()` in Go): numbers in
    /// `strconv.FormatFloat(v, 'f', -1, 64)` form, lists joined with `,`,
    /// the regex pattern, `""` for required.
    pub fn value(&self) -> String {
        match self {
            Validation::Required => String::new(),
            Validation::GreaterThan(v) | Validation::LessThan(v) => super::go::format_float_f(*v),
            Validation::Inclusion(l) | Validation::Exclusion(l) => l.join(","),
            Validation::Regex(p) => p.as_str().to_owned(),
        }
    }
}

/// One parameter: what it means, its type, its default and its validations.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Parameter {
    /// The default value, as a Conduit string (`""` when there is none).
    pub default: String,
    /// What the parameter is for (from the field's doc comment).
    pub description: String,
    /// The value's type.
    pub ty: ParameterType,
    /// The validations, in the order they were written.
    pub validations: Vec<Validation>,
}

impl Parameter {
    /// Whether the parameter has a [`Validation::Required`].
    pub fn is_required(&self) -> bool {
        self.validations.iter().any(|v| matches!(v, Validation::Required))
    }
}

/// A set of parameters, ordered by name.
///
/// Names are dotted keys (`auth.user`); a `*` matches one segment
/// (`headers.*`, `collections.*.format`).
///
/// Cloning is cheap (the set is shared until one copy changes), so a config
/// type builds its parameters once and [`Config::parameters`](super::Config::parameters)
/// hands out copies of that value.
#[derive(Clone, Default)]
pub struct Parameters {
    inner: Arc<Inner>,
}

#[derive(Clone, Default)]
struct Inner {
    map: BTreeMap<String, Parameter>,
    /// Parameters without a default that are unset (`None`) when absent instead of taking
    /// their type's zero value (an `Option` field): the docs show no default for them. Not
    /// part of the spec (connector.yaml has no such notion), nor of equality.
    unset_when_absent: BTreeSet<String>,
}

impl fmt::Debug for Parameters {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Parameters").field("map", &self.inner.map).finish()
    }
}

impl PartialEq for Parameters {
    fn eq(&self, other: &Self) -> bool {
        Arc::ptr_eq(&self.inner, &other.inner) || self.inner.map == other.inner.map
    }
}

impl Parameters {
    /// No parameters.
    pub fn new() -> Self {
        Parameters::default()
    }

    /// Adds a parameter, returning the one it replaced.
    pub fn insert(&mut self, name: impl Into<String>, parameter: Parameter) -> Option<Parameter> {
        let name = name.into();
        let inner = Arc::make_mut(&mut self.inner);
        inner.unset_when_absent.remove(&name);
        inner.map.insert(name, parameter)
    }

    /// Marks a parameter as unset when absent (no zero value to document).
    pub(crate) fn mark_unset_when_absent(&mut self, name: &str) {
        Arc::make_mut(&mut self.inner).unset_when_absent.insert(name.to_owned());
    }

    /// What an absent parameter without a default means in the docs: its type's zero value
    /// (readmegen's), or nothing for one that is unset when absent (an `Option` field).
    pub(crate) fn zero_value(&self, name: &str, ty: ParameterType) -> &'static str {
        match ty {
            _ if self.inner.unset_when_absent.contains(name) => "",
            ParameterType::String | ParameterType::File => "",
            ParameterType::Int => "0",
            ParameterType::Float => "0.0",
            ParameterType::Bool => "false",
            ParameterType::Duration => "0s",
        }
    }

    /// The parameter with this exact name.
    pub fn get(&self, name: &str) -> Option<&Parameter> {
        self.inner.map.get(name)
    }

    /// Removes the parameter with this exact name.
    pub fn remove(&mut self, name: &str) -> Option<Parameter> {
        let inner = Arc::make_mut(&mut self.inner);
        inner.unset_when_absent.remove(name);
        inner.map.remove(name)
    }

    /// Whether there is a parameter with this exact name.
    pub fn contains(&self, name: &str) -> bool {
        self.inner.map.contains_key(name)
    }

    /// The number of parameters.
    pub fn len(&self) -> usize {
        self.inner.map.len()
    }

    /// Whether there are none.
    pub fn is_empty(&self) -> bool {
        self.inner.map.is_empty()
    }

    /// `(name, parameter)` pairs, ordered by name.
    pub fn iter(&self) -> impl ExactSizeIterator<Item = (&str, &Parameter)> + DoubleEndedIterator + '_ {
        self.inner.map.iter().map(|(k, v)| (k.as_str(), v))
    }

    /// The names, in order.
    pub fn names(&self) -> impl ExactSizeIterator<Item = &str> + DoubleEndedIterator + '_ {
        self.inner.map.keys().map(String::as_str)
    }

    /// Adds every parameter of `other`, replacing ones of the same name.
    pub fn extend(&mut self, other: Parameters) {
        let other = Arc::unwrap_or_clone(other.inner);
        let inner = Arc::make_mut(&mut self.inner);
        for name in other.map.keys() {
            inner.unset_when_absent.remove(name);
        }
        inner.map.extend(other.map);
        inner.unset_when_absent.extend(other.unset_when_absent);
    }
}

impl<K: Into<String>> FromIterator<(K, Parameter)> for Parameters {
    fn from_iter<I: IntoIterator<Item = (K, Parameter)>>(iter: I) -> Self {
        let map = iter.into_iter().map(|(k, v)| (k.into(), v)).collect();
        Parameters { inner: Arc::new(Inner { map, unset_when_absent: BTreeSet::new() }) }
    }
}

impl IntoIterator for Parameters {
    type Item = (String, Parameter);
    type IntoIter = std::collections::btree_map::IntoIter<String, Parameter>;
    fn into_iter(self) -> Self::IntoIter {
        Arc::unwrap_or_clone(self.inner).map.into_iter()
    }
}

impl<'a> IntoIterator for &'a Parameters {
    type Item = (&'a String, &'a Parameter);
    type IntoIter = std::collections::btree_map::Iter<'a, String, Parameter>;
    fn into_iter(self) -> Self::IntoIter {
        self.inner.map.iter()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::ErrorKind;

    #[test]
    fn pattern_matches_unanchored_and_compiles_once() {
        let pattern = Pattern::new("[0-9]+");
        assert!(pattern.is_match("abc123def"));
        assert!(!pattern.is_match("abc"));
        let (first, second) = (pattern.regex().unwrap(), pattern.regex().unwrap());
        assert!(std::ptr::eq(first, second));
    }

    #[test]
    fn perl_classes_are_ascii_only_as_in_go() {
        // U+0663 ARABIC-INDIC DIGIT THREE is a decimal digit (Nd) to Unicode, not to Go's `\d`.
        assert!(Pattern::new(r"^\d$").is_match("3"));
        assert!(!Pattern::new(r"\d").is_match("\u{0663}"));
        assert!(!Pattern::new(r"\w").is_match("é"));
        assert!(!Pattern::new(r"\s").is_match("\u{a0}"));
        assert!(!Pattern::new(r"\bé").is_match("é"));
        // Case folding is ASCII-only (Go folds Unicode): the documented difference.
        assert!(Pattern::new("(?i)^abc$").is_match("ABC"));
        assert!(!Pattern::new("(?i)é").is_match("É"));
    }

    #[test]
    fn unicode_class_is_an_invalid_pattern_and_a_config_error_for_the_key() {
        let pattern = Pattern::new(r"^\p{L}+$");
        assert_eq!(pattern.regex().unwrap_err(), "Unicode character classes are not supported");
        assert!(!pattern.is_match("abc"));

        let problem = Validation::Regex(pattern).failure("abc", &mut None).expect("an invalid pattern fails");
        let error = crate::config::ConfigError::new("name", problem);
        assert_eq!(error.kind(), ErrorKind::Regex);
        assert_eq!(
            error.to_string(),
            r#"error validating "name": "abc" cannot be checked: the regex "^\\p{L}+$" is invalid (Unicode character classes are not supported): regex validation failed"#
        );
    }
}
