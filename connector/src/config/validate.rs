//! The config pipeline of conduit-commons: sanitize, apply defaults,
//! validate; and `from_config` on top of it.
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
use super::field::NO_PARAMETER;
use super::map::Slot;
use super::{
    ConfigErrors, ConfigField, ConfigMap, DecodeCx, FieldKey, IntoConfigMap, Parameter, ParameterType, Parameters,
    Validation, go,
};

/// Jaro similarity above which an unrecognized key gets a did-you-mean hint.
const SUGGESTION_THRESHOLD: f64 = 0.7;

impl ConfigMap {
    /// Builds a map from raw entries, trimming keys and values with Go's
    /// `strings.TrimSpace` (Unicode `White_Space`, the set [`str::trim`]
    /// uses), as Go's `Sanitize`.
    ///
    /// Unlike Go, which keeps a random one, keys that are equal after
    /// trimming give one [`ErrorKind::InvalidValue`] error for that key. The
    /// value kept is that of the raw key that was already trimmed, if any,
    /// else that of the smallest raw key, so the result is deterministic.
    ///
    /// ```
    /// use conduit_connector::config::ConfigMap;
    /// let (map, errors) = ConfigMap::sanitized([("   key   ", "   value   ")]);
    /// assert_eq!(map.get("key"), Some("value"));
    /// assert!(errors.is_empty());
    /// ```
    pub fn sanitized(config: impl IntoConfigMap) -> (ConfigMap, ConfigErrors) {
        let hint = config.entry_count_hint();
        let mut map = ConfigMap::with_capacity(hint, hint * 24);
        // Raw spellings of the keys that were not already trimmed (rare), by the start of
        // their text, to resolve collisions deterministically.
        let mut untrimmed: Vec<(usize, String)> = Vec::new();
        config.for_each_entry(&mut |raw_key, raw_value| {
            let key = trim(raw_key);
            let slot = map.push_text(key, trim(raw_value));
            if key.len() != raw_key.len() {
                untrimmed.push((map.slots.len(), raw_key.to_owned()));
            }
            map.slots.push(slot);
        });
        if untrimmed.is_empty() {
            // Sorted by the keys' first 8 bytes (one integer comparison each), then each run
            // of keys sharing them by the whole key: the order of a stable sort by key, equal
            // keys in arrival order (the order of their text). Only such runs can hold
            // equal keys.
            map.slots.sort_unstable_by_key(|slot| slot.prefix);
            let text = map.text.as_str();
            let mut duplicates = false;
            for run in map.slots.chunk_by_mut(|a, b| a.prefix == b.prefix) {
                if run.len() > 1 {
                    run.sort_unstable_by(|a, b| a.cmp(b, text).then(a.key_start.cmp(&b.key_start)));
                    duplicates |= run.windows(2).any(|w| w[0].cmp(&w[1], text) == Ordering::Equal);
                }
            }
            if !duplicates {
                return (map, ConfigErrors::new());
            }
        }
        resolve_duplicates(map, &untrimmed)
    }

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
        // Concrete parameters: one ordered walk over parameters and keys (both sorted),
        // adding the missing keys afterwards.
        self.clear_index();
        let plan = params.plan();
        if plan.concrete_defaults {
            let mut missing = false;
            let mut index = 0;
            let known = self.slots.len();
            for entry in &plan.entries {
                if !entry.has_default || entry.wildcard {
                    continue;
                }
                let (name, param) = (entry.name.as_str(), &entry.param);
                while index < known && self.cmp_at(index, name, entry.prefix) == Ordering::Less {
                    index += 1;
                }
                if index < known && self.cmp_at(index, name, entry.prefix) == Ordering::Equal {
                    if trim(self.entry(index).1).is_empty() {
                        self.set_value(index, &param.default);
                    }
                    index += 1;
                } else {
                    let slot = self.push_text(name, &param.default);
                    self.slots.push(slot);
                    missing = true;
                }
            }
            if missing {
                self.sort_unique();
            }
        }
        if !plan.wildcard_defaults {
            return;
        }
        for entry in &plan.entries {
            if entry.has_default && entry.wildcard {
                let param = &entry.param;
                for key in expand_keys(&entry.name, self) {
                    match self.find(&key) {
                        Ok(index) if trim(self.entry(index).1).is_empty() => self.set_value(index, &param.default),
                        Ok(_) => {}
                        Err(index) => {
                            let slot = self.push_text(&key, &param.default);
                            self.slots.insert(index, slot);
                        }
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

/// The rare part of [`ConfigMap::sanitized`], for keys that were not trimmed or that
/// occur more than once: sorts the slots (given in arrival order, or already stably sorted
/// when no key was untrimmed), keeps one entry of each run of equal keys and reports each
/// such key once.
///
/// The entry kept is the first whose raw key was already trimmed, else the first with the
/// smallest raw key. `untrimmed` holds the arrival index and raw spelling of every key
/// that was not already trimmed.
#[cold]
fn resolve_duplicates(mut map: ConfigMap, untrimmed: &[(usize, String)]) -> (ConfigMap, ConfigErrors) {
    let mut tagged: Vec<(Slot, Option<&str>)> = map.slots.iter().map(|slot| (*slot, None)).collect();
    for (arrival, raw) in untrimmed {
        if let Some(entry) = tagged.get_mut(*arrival) {
            entry.1 = Some(raw.as_str());
        }
    }
    let text = map.text.as_str();
    let key = |slot: &Slot| text.get(slot.key_start..slot.key_end).unwrap_or_default();
    tagged.sort_by(|a, b| a.0.cmp(&b.0, text));
    let mut errors = ConfigErrors::new();
    let mut kept: Vec<Slot> = Vec::with_capacity(tagged.len());
    let mut dropped = 0;
    for run in tagged.chunk_by(|a, b| key(&a.0) == key(&b.0)) {
        if run.len() > 1 {
            errors.push(ConfigError::new(key(&run[0].0), Problem::DuplicateKey));
        }
        // An already-trimmed raw key wins; otherwise the smallest raw key (the first one
        // among equal raw keys).
        let winner = match run.iter().position(|(_, raw)| raw.is_none()) {
            Some(exact) => exact,
            None => {
                let mut best = 0;
                for (i, (_, raw)) in run.iter().enumerate().skip(1) {
                    if raw < &run[best].1 {
                        best = i;
                    }
                }
                best
            }
        };
        for (i, (slot, _)) in run.iter().enumerate() {
            if i == winner {
                kept.push(*slot);
            } else {
                dropped += slot.value_end - slot.key_start;
            }
        }
    }
    map.slots = kept;
    map.add_garbage(dropped);
    (map, errors)
}

/// [`str::trim`], without the Unicode scan when both ends are printable ASCII (the common
/// case: nothing to trim).
fn trim(s: &str) -> &str {
    let solid = |b: &u8| *b > b' ' && *b < 0x80;
    match (s.as_bytes().first(), s.as_bytes().last()) {
        (Some(first), Some(last)) if solid(first) && solid(last) => s,
        (None, _) => s,
        _ => s.trim(),
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
    let plan = params.plan();
    // The expansions of wildcard parameters whose name does not end with `*` (index-aligned
    // with `plan.wildcards`; empty for the others). A name ending with `*` expands to
    // exactly the keys it matches, which are checked in place instead.
    let expanded: Vec<Vec<Cow<'_, str>>> = if plan.rewriting_wildcards {
        plan.wildcards.iter().map(|w| if w.trailing { Vec::new() } else { expand_keys_in(&w.name, map) }).collect()
    } else {
        Vec::new()
    };
    // Whether a key of the map is one a wildcard parameter applies to.
    let wildcard_key = |key: &str| {
        plan.wildcards.iter().enumerate().any(|(i, w)| {
            if w.simple {
                key.as_bytes().starts_with(w.name.as_bytes().get(..w.first_len).unwrap_or_default())
            } else if w.trailing {
                match_key(key, &w.name).is_some()
            } else {
                expanded.get(i).is_some_and(|keys| keys.binary_search_by(|k| k.as_ref().cmp(key)).is_ok())
            }
        })
    };

    // Parameters and keys are both sorted: one ordered walk finds each
    // concrete parameter's value and the keys that name no parameter.
    let mut index = 0;
    for entry in &plan.entries {
        let (name, param) = (entry.name.as_str(), &entry.param);
        while map.cmp_at(index, name, entry.prefix) == Ordering::Less {
            let key = map.entry(index).0;
            if !wildcard_key(key) {
                errors.push(unrecognized(key, params));
            }
            index += 1;
        }
        let value = if map.cmp_at(index, name, entry.prefix) == Ordering::Equal {
            index += 1;
            map.entry(index - 1).1
        } else {
            ""
        };
        if !entry.wildcard && entry.checked && !check_type(name, value, param.ty, errors) {
            check_validations(name, value, param, entry.required, errors);
        }
    }
    for (key, _) in map.iter().skip(index) {
        if !wildcard_key(key) {
            errors.push(unrecognized(key, params));
        }
    }

    for (i, w) in plan.wildcards.iter().enumerate() {
        if !w.checked {
            // Every value passes: a string or file type and no validations.
            continue;
        }
        let Some(param) = plan.entries.get(w.entry).map(|e| &e.param) else { continue };
        let required = w.required;
        let mut type_error = false;
        if w.trailing {
            let first = w.name.get(..w.first_len).unwrap_or_default();
            let entries = || {
                map.slots[map.lower_bound(first)..]
                    .iter()
                    .map(|slot| (map.key_of(slot), map.value_of(slot)))
                    .take_while(|(k, _)| k.starts_with(first))
                    .filter(|(k, _)| w.simple || match_key(k, &w.name).is_some())
            };
            for (key, value) in entries() {
                type_error |= check_type(key, value, param.ty, errors);
            }
            // Go skips the value validations of a parameter with a type error.
            if !type_error {
                for (key, value) in entries() {
                    check_validations(key, value, param, required, errors);
                }
            }
        } else {
            let keys = expanded.get(i).map(Vec::as_slice).unwrap_or_default();
            for key in keys {
                type_error |= check_type(key, map.get(key).unwrap_or(""), param.ty, errors);
            }
            if !type_error {
                for key in keys {
                    check_validations(key, map.get(key).unwrap_or(""), param, required, errors);
                }
            }
        }
    }
}

/// `"<key>": unrecognized parameter`, with a did-you-mean hint when a
/// parameter name is similar enough.
fn unrecognized(key: &str, params: &Parameters) -> ConfigError {
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

/// The whole `from_config` pipeline for a config type: trim keys and values,
/// then one pass over the fields, each taking its key (default, type check,
/// validations, parse, all from the field's one [`Parameter`]); keys no field
/// took are unrecognized. Every problem is reported, sorted by key.
///
/// `params` (the type's cached parameters) only name the did-you-mean hints.
pub fn from_config<T: ConfigField>(config: impl IntoConfigMap, params: &Parameters) -> Result<T, ConfigErrors> {
    let (mut map, mut errors) = ConfigMap::sanitized(config);
    map.build_index();
    let value = {
        let mut cx = DecodeCx::new(&map, &mut errors);
        let value = T::decode(&FieldKey::new(""), &NO_PARAMETER, &mut cx);
        let unused: Vec<&str> = cx.unused_keys().collect();
        for key in unused {
            cx.push(unrecognized(key, params));
        }
        value
    };
    map.recycle();
    match value {
        Some(v) if errors.is_empty() => Ok(v),
        _ => {
            if errors.is_empty() {
                errors.push(ConfigError::custom("", "failed to decode the configuration (a field reported no error)"));
            }
            errors.sort();
            Err(errors)
        }
    }
}
