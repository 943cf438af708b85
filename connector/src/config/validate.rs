//! conduit-commons' pipeline over a [`Parameters`] table (a spec read from
//! YAML, a hand-written `Config`): wildcard expansion, `ApplyDefaults`,
//! `Validate`; and the one check of a value shared with `from_config`: Go's
//! type check and each validation ([`Validation::failure`]).
//!
//! Deliberate differences from Go (DESIGN.md §3): errors are sorted by key;
//! keys that collide after trimming are reported instead of one silently
//! winning; an unrecognized key gets a did-you-mean hint; a config key is
//! recognized by a wildcard parameter only if the wildcard expansion (§1.4a)
//! yields exactly that key (Go matches by prefix); defaults are applied in a
//! fixed order (concrete parameters first, then wildcard ones by name).

use std::borrow::Cow;
use std::cmp::Ordering;

use super::error::{ConfigError, Problem};
use super::map::trim;
use super::{ConfigErrors, ConfigMap, Parameter, ParameterType, Parameters, Validation, go};

/// Jaro similarity above which an unrecognized key gets a did-you-mean hint.
const SUGGESTION_THRESHOLD: f64 = 0.7;

impl ConfigMap {
    /// Go's `ApplyDefaults`: for every parameter with a non-empty default and
    /// every key it applies to (wildcards expanded as [`expand_keys`]
    /// does, so defaults are created for wildcard instances that exist only
    /// through sibling keys), writes the default where the value is missing
    /// or blank.
    ///
    /// Parameters without `*` are applied first, then wildcard parameters in
    /// name order (Go's order is random).
    ///
    /// ```
    /// use conduit_connector::config::{ConfigMap, Parameter, Parameters};
    /// let params: Parameters = [
    ///     ("limit", Parameter { default: "1".into(), ..Parameter::default() }),
    ///     ("foo.*.param1", Parameter { default: "foo".into(), ..Parameter::default() }),
    /// ]
    /// .into_iter()
    /// .collect();
    /// let mut map: ConfigMap = [("foo.0.param2", "bar")].into_iter().collect();
    /// map.apply_defaults(&params);
    /// assert_eq!(map.get("limit"), Some("1"));
    /// assert_eq!(map.get("foo.0.param1"), Some("foo"));
    /// ```
    pub fn apply_defaults(&mut self, params: &Parameters) {
        // Concrete parameters first: wildcard expansions see the keys they add.
        let with_default = || params.iter().filter(|(_, p)| !p.default.is_empty());
        let concrete = with_default().filter(|(name, _)| !is_wildcard(name));
        for (name, param) in concrete.chain(with_default().filter(|(name, _)| is_wildcard(name))) {
            for key in expand_keys(name, self) {
                match self.find(&key) {
                    Ok(index) if trim(self.entry(index).1).is_empty() => self.set_value(index, &param.default),
                    Ok(_) => {}
                    Err(index) => {
                        self.clear_index();
                        let slot = self.push_text(&key, &param.default);
                        self.slots.insert(index, slot);
                    }
                }
            }
        }
    }

    /// Go's `Validate`, with errors sorted by key (within one key, in the
    /// order of the parameter's validations).
    ///
    /// Reports unrecognized keys (with a did-you-mean hint), values that do
    /// not parse as the parameter's type (Go's parsers; empty values always
    /// pass, and a parameter with a type error skips its validations), and
    /// failed validations with Go's texts. An empty value of an optional
    /// parameter passes; an empty required one reports every failure.
    ///
    /// ```
    /// use conduit_connector::config::{ConfigMap, Parameter, Parameters};
    /// let params: Parameters = [("foo", Parameter::default())].into_iter().collect();
    /// let map: ConfigMap = [("fooo", "1")].into_iter().collect();
    /// let errors = map.validate(&params).unwrap_err();
    /// assert_eq!(errors.to_string(), r#""fooo": unrecognized parameter (did you mean "foo"?)"#);
    /// ```
    pub fn validate(&self, params: &Parameters) -> Result<(), ConfigErrors> {
        let mut errors = ConfigErrors::new();
        validate_into(self, params, &mut errors);
        errors.into_result()
    }
}

/// Whether a parameter name contains a wildcard.
fn is_wildcard(name: &str) -> bool {
    // A plain loop: names are short, and this runs for every parameter several times.
    name.bytes().any(|b| b == b'*')
}

/// The config keys a parameter applies to (conduit-commons
/// `getKeysForParameter`), sorted and deduplicated.
///
/// A name without `*` gives itself (present in the map or not). Otherwise
/// the name is split on `*` into tokens and every config key is matched: the
/// first token must be a prefix; each `*` then drops the key's text up to
/// (not including) the next `.`, or all of it; each following token must be
/// a prefix again. For the last token: if the key is used up and the token is
/// not empty, the key does not match; a non-empty last token replaces the
/// rest of the key (so keys that do not exist yet can be produced, which is
/// how defaults reach wildcard instances); an empty last token (the name ends
/// with `*`) gives the whole key.
///
/// ```
/// use conduit_connector::config::{expand_keys, ConfigMap};
/// let map: ConfigMap = [("test.foo.val", "1"), ("test.bar.format.x", "2"), ("test.ignore", "3")]
///     .into_iter()
///     .collect();
/// assert_eq!(expand_keys("test.*.val", &map), ["test.bar.val", "test.foo.val"]);
/// ```
pub fn expand_keys(pattern: &str, map: &ConfigMap) -> Vec<String> {
    expand_keys_in(pattern, map).into_iter().map(Cow::into_owned).collect()
}

/// [`expand_keys`], borrowing the keys that exist in the map (the common case) instead of
/// copying them.
fn expand_keys_in<'m>(pattern: &'m str, map: &'m ConfigMap) -> Vec<Cow<'m, str>> {
    if !is_wildcard(pattern) {
        return vec![Cow::Borrowed(pattern)];
    }
    let first = pattern.split('*').next().unwrap_or_default();
    let mut keys: Vec<Cow<'m, str>> = map.slots[map.lower_bound(first)..]
        .iter()
        .map(|slot| map.key_of(slot))
        .take_while(|k| k.starts_with(first))
        .filter_map(|k| match_key(k, pattern))
        .collect();
    // Keys come sorted from the map; only rewritten ones (a non-empty last token) can be out
    // of order or repeated.
    if !keys.is_sorted_by(|a, b| a < b) {
        keys.sort_unstable();
        keys.dedup();
    }
    keys
}

/// Runs the §1.4(a) matching of one config key against the pattern's `*`-separated tokens.
fn match_key<'m>(key: &'m str, pattern: &str) -> Option<Cow<'m, str>> {
    let (middle, last) = pattern.rsplit_once('*')?;
    let mut rest = key;
    for token in middle.split('*') {
        rest = rest.strip_prefix(token)?;
        rest = match rest.find('.') {
            Some(dot) => &rest[dot..],
            None => "",
        };
    }
    if last.is_empty() {
        return Some(Cow::Borrowed(key));
    }
    if rest.is_empty() {
        return None;
    }
    let stem = &key[..key.len() - rest.len()];
    let mut out = String::with_capacity(stem.len() + last.len());
    out.push_str(stem);
    out.push_str(last);
    Some(Cow::Owned(out))
}

fn validate_into(map: &ConfigMap, params: &Parameters, errors: &mut ConfigErrors) {
    // Whether some parameter applies to each key of the map; the others are unrecognized.
    let mut recognized = vec![false; map.len()];
    for (name, param) in params.iter() {
        let keys = expand_keys_in(name, map);
        let values: Vec<(&str, &str)> = keys
            .iter()
            .map(|key| match map.find(key) {
                Ok(index) => {
                    recognized[index] = true;
                    map.entry(index)
                }
                Err(_) => (key.as_ref(), ""),
            })
            .collect();
        // Go skips the value validations of a parameter with a type error.
        let mut type_error = false;
        for (key, value) in &values {
            type_error |= check_type(key, value, param.ty, errors);
        }
        if !type_error {
            for (key, value) in &values {
                check_validations(key, value, param, param.is_required(), errors);
            }
        }
    }
    for (index, (key, _)) in map.iter().enumerate() {
        if !recognized[index] {
            errors.push(unrecognized(key, params));
        }
    }
}

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

/// Go's type check of one value (empty values always pass); `true` when the
/// value failed it, so that its value validations are skipped (as Go skips
/// them).
fn check_type(key: &str, value: &str, ty: ParameterType, errors: &mut ConfigErrors) -> bool {
    if value.is_empty() {
        return false;
    }
    match type_error(value, ty, false) {
        Some(reason) => {
            errors.push(ConfigError::new(key, Problem::InvalidType { value: value.to_owned(), reason }));
            true
        }
        None => false,
    }
}

/// Go's type check of a non-empty value: why it is not a `ty`, if it is not. With `wide`,
/// integers up to `u64::MAX` pass (the field's Rust type checks its own range).
pub(crate) fn type_error(value: &str, ty: ParameterType, wide: bool) -> Option<String> {
    let what = match ty {
        ParameterType::Int if wide => match go::parse_wide_int(value) {
            go::WideInt::NotAnInteger => "an integer",
            _ => return None,
        },
        ParameterType::Int if go::parse_int(value).is_none() => "an integer",
        ParameterType::Float if go::parse_float(value).is_none() => "a float",
        ParameterType::Duration if go::parse_duration(value).is_err() => "a duration",
        ParameterType::Bool if go::parse_bool(value).is_none() => "a boolean",
        _ => return None,
    };
    Some(format!("value is not {what}"))
}

/// Runs every validation of `param` on one value, in order. Failures of an
/// empty value are dropped unless the parameter is required (`required`, which is
/// `param.is_required()`).
fn check_validations(key: &str, value: &str, param: &Parameter, required: bool, errors: &mut ConfigErrors) {
    if value.is_empty() && !required {
        return;
    }
    // The value as a number, parsed at most once (for the greater-than and less-than checks).
    let mut number = None;
    for validation in &param.validations {
        if let Some(problem) = validation.failure(value, &mut number) {
            errors.push(ConfigError::new(key, problem));
        }
    }
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
                    Ok(_) => false,
                    Err(_) => true,
                };
                Some(Problem::Regex { value: owned(), pattern: pattern.as_str().to_owned(), invalid_pattern })
            }
        }
    }
}
