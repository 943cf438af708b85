//! The machinery behind `#[derive(Config)]`: each field's one [`Parameter`]
//! describes it (the spec) and drives its decoding (`from_config`: per key,
//! default, Go's type check, validations, parse; keys no field takes are
//! unrecognized). Hidden from the docs; generated code uses it through
//! `conduit_connector::__private`.

use std::collections::{BTreeMap, HashMap};
use std::hash::BuildHasher;

use super::{
    ConfigError, ConfigErrors, ConfigMap, ConfigValue, Parameter, ParameterType, Parameters, Pattern, Problem,
    Validation,
};

/// What a value type accepts, for compile-time checks of defaults.
#[derive(Debug, Clone, Copy)]
pub struct ValueCheck {
    /// The parameter type.
    pub ty: ParameterType,
    /// Smallest integer the field accepts (ints only): the Rust type's
    /// minimum, at least `i64::MIN`.
    pub int_min: i128,
    /// Largest integer the field accepts (ints only): the Rust type's
    /// maximum, at most `u64::MAX`.
    pub int_max: i128,
    /// Whether negative durations are rejected (std `Duration`).
    pub nonnegative: bool,
    /// Whether the value is `f32` (range checked as float32).
    pub float32: bool,
    /// Allowed values (enums); empty = any.
    pub variants: &'static [&'static str],
    /// For comma-separated lists: what each element accepts.
    pub element: Option<&'static ValueCheck>,
}

impl ValueCheck {
    /// The check for a plain value of type `ty`.
    pub const fn of(ty: ParameterType) -> Self {
        ValueCheck {
            ty,
            int_min: i64::MIN as i128,
            int_max: i64::MAX as i128,
            nonnegative: false,
            float32: false,
            variants: &[],
            element: None,
        }
    }
}

/// How a field type maps to parameters.
#[derive(Debug, Clone, Copy)]
pub enum FieldKind {
    /// One parameter holding a value.
    Value(ValueCheck),
    /// A struct deriving `Config`: its parameters under `name.`.
    Nested,
    /// A string-keyed map: parameters under `name.*`.
    Map,
}

/// A validation as written in `#[param(...)]`, const-constructible.
#[derive(Debug, Clone, Copy)]
pub enum ValidationSpec {
    /// `required`
    Required,
    /// `gt = n`
    GreaterThan(f64),
    /// `lt = n`
    LessThan(f64),
    /// `inclusion = [...]`
    Inclusion(&'static [&'static str]),
    /// `exclusion = [...]`
    Exclusion(&'static [&'static str]),
    /// `regex = "..."`
    Regex(&'static str),
}

impl ValidationSpec {
    fn to_validation(self) -> Validation {
        match self {
            ValidationSpec::Required => Validation::Required,
            ValidationSpec::GreaterThan(v) => Validation::GreaterThan(v),
            ValidationSpec::LessThan(v) => Validation::LessThan(v),
            ValidationSpec::Inclusion(l) => Validation::Inclusion(l.iter().map(|s| (*s).to_owned()).collect()),
            ValidationSpec::Exclusion(l) => Validation::Exclusion(l.iter().map(|s| (*s).to_owned()).collect()),
            ValidationSpec::Regex(r) => Validation::Regex(Pattern::new(r)),
        }
    }
}

/// A field's `#[param(...)]` attributes, const-constructible.
#[derive(Debug, Clone, Copy)]
pub struct FieldSpec {
    /// The description (doc comment or `description = "..."`).
    pub description: &'static str,
    /// The default, rendered as a Conduit string (`""` = none).
    pub default: &'static str,
    /// The validations, in the order written.
    pub validations: &'static [ValidationSpec],
    /// `#[param(file)]`: the parameter type is `file`.
    pub file: bool,
}

/// A type that can be a field of a `#[derive(Config)]` struct: a value
/// ([`ConfigValue`]), a nested config, an `Option` of those, or a
/// string-keyed map of those.
///
/// Each field's [`Parameter`] is built once (by [`parameter`](ConfigField::parameter),
/// from the attributes) and drives both the specification
/// ([`describe`](ConfigField::describe)) and the parse ([`decode`](ConfigField::decode)),
/// so the two cannot disagree.
#[diagnostic::on_unimplemented(
    message = "`{Self}` cannot be a config field",
    label = "`{Self}` is not a supported config field type",
    note = "supported: String, PathBuf, integers, f32, f64, bool, std::time::Duration, Option<T> and Vec<T> of those, \
            HashMap/BTreeMap<String, T>, structs deriving `Config`, and enums deriving `ConfigValue`",
    note = "or skip the field with `#[param(skip)]`"
)]
pub trait ConfigField: Sized {
    /// How this type maps to parameters.
    const KIND: FieldKind;

    /// For a map of values: what each entry accepts (defaults and validations
    /// of a map field apply to its `name.*` entries).
    #[doc(hidden)]
    const ENTRY: Option<ValueCheck> = None;

    /// The parameter a field of this type with these attributes has (for a
    /// map, each entry's; unused for nested configs).
    fn parameter(spec: &FieldSpec) -> Parameter {
        spec.parameter(ParameterType::String)
    }

    /// Adds this field's parameters, named `key` (or under `key.`), to `out`.
    fn describe(key: &str, param: &Parameter, out: &mut Parameters);

    /// Decodes the field named `key` (or the fields under `key.`) from the
    /// trimmed config: default, type check, validations, parse. Problems are
    /// reported to `cx`; `None` means one was.
    fn decode(key: &FieldKey<'_>, param: &Parameter, cx: &mut DecodeCx<'_>) -> Option<Self>;
}

impl FieldSpec {
    /// The parameter these attributes describe, for a value of type `ty`.
    pub fn parameter(&self, ty: ParameterType) -> Parameter {
        Parameter {
            default: self.default.to_owned(),
            description: self.description.to_owned(),
            ty: if self.file { ParameterType::File } else { ty },
            validations: self.validations.iter().map(|v| v.to_validation()).collect(),
        }
    }
}

/// A parameter without attributes (what nested and flattened fields get).
pub static NO_PARAMETER: Parameter = Parameter {
    default: String::new(),
    description: String::new(),
    ty: ParameterType::String,
    validations: Vec::new(),
};

/// The longest joined key [`FieldKey`] builds on the stack.
const INLINE_KEY: usize = 80;

/// A dotted key as a chain of borrowed segments: a nested field's key is its
/// name joined to its parent's key by `.`, without building the string (the
/// map is searched with the key's bytes; a `String` is made only for errors).
#[derive(Debug, Clone, Copy)]
pub struct FieldKey<'a> {
    parent: Option<&'a FieldKey<'a>>,
    name: &'a str,
}

impl<'a> FieldKey<'a> {
    /// A whole key (`""` is the key of a config's root).
    pub const fn new(key: &'a str) -> Self {
        FieldKey { parent: None, name: key }
    }

    /// `self.name`, or `name` when this key is empty.
    pub fn join<'b>(&'b self, name: &'b str) -> FieldKey<'b>
    where
        'a: 'b,
    {
        if self.is_empty() { FieldKey::new(name) } else { FieldKey { parent: Some(self), name } }
    }

    /// Whether the key is empty (a config's root).
    pub fn is_empty(&self) -> bool {
        self.parent.is_none() && self.name.is_empty()
    }

    /// The key's length in bytes.
    pub fn len(&self) -> usize {
        match self.parent {
            Some(parent) => parent.len() + 1 + self.name.len(),
            None => self.name.len(),
        }
    }

    /// Copies the key into `out`, which is exactly [`len`](FieldKey::len) bytes long.
    fn copy_into(&self, out: &mut [u8]) {
        let split = out.len() - self.name.len();
        out[split..].copy_from_slice(self.name.as_bytes());
        if let Some(parent) = self.parent {
            out[split - 1] = b'.';
            parent.copy_into(&mut out[..split - 1]);
        }
    }

    /// Calls `f` with the key's bytes (a whole key as is, a joined one copied to the stack,
    /// or to the heap when longer than [`INLINE_KEY`] bytes).
    #[inline]
    fn with_bytes<R>(&self, f: impl FnOnce(&[u8]) -> R) -> R {
        if self.parent.is_none() {
            return f(self.name.as_bytes());
        }
        let len = self.len();
        if len <= INLINE_KEY {
            let mut buf = [0u8; INLINE_KEY];
            self.copy_into(&mut buf[..len]);
            f(&buf[..len])
        } else {
            let mut buf = vec![0u8; len];
            self.copy_into(&mut buf);
            f(&buf)
        }
    }
}

impl std::fmt::Display for FieldKey<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        if let Some(parent) = self.parent {
            std::fmt::Display::fmt(parent, f)?;
            f.write_str(".")?;
        }
        f.write_str(self.name)
    }
}

/// Decoding state: the config map, which of its keys a field took, and the
/// errors found so far.
#[derive(Debug)]
pub struct DecodeCx<'a> {
    map: &'a ConfigMap,
    errors: &'a mut ConfigErrors,
    /// One flag per map entry: whether a field took it (the rest are unrecognized).
    used: Vec<bool>,
}

impl<'a> DecodeCx<'a> {
    /// A context over `map`, collecting into `errors`.
    pub fn new(map: &'a ConfigMap, errors: &'a mut ConfigErrors) -> Self {
        DecodeCx { map, errors, used: vec![false; map.len()] }
    }

    /// The (trimmed) value of `key`, which is taken: it is not unrecognized.
    pub fn take(&mut self, key: &FieldKey<'_>) -> Option<&'a str> {
        let map: &'a ConfigMap = self.map;
        let index = key.with_bytes(|key| map.find(key)).ok()?;
        if let Some(flag) = self.used.get_mut(index) {
            *flag = true;
        }
        Some(map.entry(index).1)
    }

    /// The (trimmed) value of `key`, without taking it.
    pub fn value(&self, key: &FieldKey<'_>) -> Option<&'a str> {
        let map: &'a ConfigMap = self.map;
        key.with_bytes(|key| map.find(key).ok().map(|index| map.entry(index).1))
    }

    /// The index range of the keys that start with `prefix.` (all keys for the empty prefix).
    fn range_under(&self, prefix: &FieldKey<'_>) -> std::ops::Range<usize> {
        let map: &'a ConfigMap = self.map;
        prefix.join("").with_bytes(|dotted| map.range_with_prefix(dotted))
    }

    /// Keys that start with `prefix.`, in order.
    pub fn keys_under(&self, prefix: &FieldKey<'_>) -> Vec<&'a str> {
        let map: &'a ConfigMap = self.map;
        self.range_under(prefix).map(|i| map.entry(i).0).collect()
    }

    /// Whether some key under `prefix.` has a non-empty value.
    pub fn is_set_under(&self, prefix: &FieldKey<'_>) -> bool {
        self.range_under(prefix).any(|i| !self.map.entry(i).1.is_empty())
    }

    /// Takes every key under `prefix.` (an absent optional group's empty keys).
    pub fn take_under(&mut self, prefix: &FieldKey<'_>) {
        for i in self.range_under(prefix) {
            if let Some(flag) = self.used.get_mut(i) {
                *flag = true;
            }
        }
    }

    /// Whether a problem with `key` was reported already (a key given twice).
    fn has_error(&self, key: &FieldKey<'_>) -> bool {
        !self.errors.is_empty() && self.errors.has_key(&key.to_string())
    }

    /// Reports the errors of a config type's `validate` hook, prefixed with
    /// the config's key.
    pub fn hook_errors(&mut self, prefix: &FieldKey<'_>, errors: ConfigErrors) {
        if errors.is_empty() {
            return;
        }
        let prefix = prefix.to_string();
        for e in errors {
            self.errors.push(e.prefixed(&prefix));
        }
    }

    /// The keys no field took, in order.
    pub fn unused_keys(&self) -> impl Iterator<Item = &'a str> + '_ {
        let map: &'a ConfigMap = self.map;
        self.used.iter().enumerate().filter(|(_, used)| !**used).map(move |(i, _)| map.entry(i).0)
    }

    /// Adds an error.
    pub(crate) fn push(&mut self, error: ConfigError) {
        self.errors.push(error);
    }
}

/// `prefix.name`, or `name` when the prefix is empty (for describing: it runs once per type).
pub fn join_key(prefix: &str, name: &str) -> String {
    if prefix.is_empty() { name.to_owned() } else { format!("{prefix}.{name}") }
}

impl<T: ConfigValue> ConfigField for T {
    const KIND: FieldKind = FieldKind::Value(T::CHECK);

    /// The attributes, the type's parameter type and, for enums, the inclusion of the
    /// variants. A value that has no empty form (an enum without `#[default]`) and no
    /// default is required: the specification says what the parser does.
    fn parameter(spec: &FieldSpec) -> Parameter {
        let mut param = spec.parameter(T::TYPE);
        if !T::VARIANTS.is_empty() && !param.validations.iter().any(|v| matches!(v, Validation::Inclusion(_))) {
            param.validations.push(Validation::Inclusion(T::VARIANTS.iter().map(|s| (*s).to_owned()).collect()));
        }
        if param.default.is_empty() && T::empty().is_none() && !param.is_required() {
            param.validations.insert(0, Validation::Required);
        }
        param
    }

    fn describe(key: &str, param: &Parameter, out: &mut Parameters) {
        if out.insert(key, param.clone()).is_some() {
            panic!("conduit-connector: parameter {key:?} is defined twice (check the #[param(flatten)] fields)");
        }
    }

    fn decode(key: &FieldKey<'_>, param: &Parameter, cx: &mut DecodeCx<'_>) -> Option<Self> {
        let raw = cx.take(key).unwrap_or("");
        if cx.has_error(key) {
            return None;
        }
        let value = if raw.is_empty() { param.default.as_str() } else { raw };
        if value.is_empty() {
            if !param.is_required() {
                return T::empty().or_else(|| {
                    cx.push(ConfigError::new(key.to_string(), Problem::Required));
                    None
                });
            }
            // Go runs every validation of an empty required value.
            validate(key, "", param, cx);
            return None;
        }
        // Go's type check; a value of the wrong type skips the validations.
        if let Some(reason) = super::validate::type_error(value, param.ty) {
            cx.push(ConfigError::new(key.to_string(), Problem::InvalidType { value: value.to_owned(), reason }));
            return None;
        }
        // An integer beyond 64 bits fits no field: the parse reports the range, unvalidated.
        let beyond_64_bits = param.ty == ParameterType::Int
            && !matches!(super::go::parse_wide_int(value),
                super::go::WideInt::Value(n) if (i128::from(i64::MIN)..=i128::from(u64::MAX)).contains(&n));
        if !beyond_64_bits && !validate(key, value, param, cx) {
            return None;
        }
        // The field's own parse: the Rust type's range, list elements, enum variants.
        match T::parse(value) {
            Ok(v) => Some(v),
            Err(reason) => {
                cx.push(ConfigError::new(key.to_string(), Problem::InvalidType { value: value.to_owned(), reason }));
                None
            }
        }
    }
}

/// Runs the validations of `param` on `value`, reporting each failure; `true` when all pass.
fn validate(key: &FieldKey<'_>, value: &str, param: &Parameter, cx: &mut DecodeCx<'_>) -> bool {
    let mut ok = true;
    let mut number = None;
    for validation in &param.validations {
        if let Some(problem) = validation.failure(value, &mut number) {
            cx.push(ConfigError::new(key.to_string(), problem));
            ok = false;
        }
    }
    ok
}

/// `Option<T>`: `None` when the value is absent or empty (for a nested config: when no key
/// under its prefix has a value), and no default unless one is written.
impl<T: ConfigField> ConfigField for Option<T> {
    const KIND: FieldKind = T::KIND;
    const ENTRY: Option<ValueCheck> = T::ENTRY;

    fn parameter(spec: &FieldSpec) -> Parameter {
        let mut param = T::parameter(spec);
        if !spec.validations.iter().any(|v| matches!(v, ValidationSpec::Required)) {
            param.validations.retain(|v| !matches!(v, Validation::Required));
        }
        param
    }

    fn describe(key: &str, param: &Parameter, out: &mut Parameters) {
        T::describe(key, param, out);
        if matches!(T::KIND, FieldKind::Value(_)) && param.default.is_empty() {
            out.mark_unset_when_absent(key);
        }
    }

    fn decode(key: &FieldKey<'_>, param: &Parameter, cx: &mut DecodeCx<'_>) -> Option<Self> {
        let present = match T::KIND {
            FieldKind::Value(_) => {
                !cx.value(key).unwrap_or("").is_empty() || !param.default.is_empty() || param.is_required()
            }
            FieldKind::Nested | FieldKind::Map => cx.is_set_under(key),
        };
        if !present {
            match T::KIND {
                FieldKind::Value(_) => {
                    cx.take(key);
                }
                _ => cx.take_under(key),
            }
            return Some(None);
        }
        T::decode(key, param, cx).map(Some)
    }
}

fn decode_map_entries<T: ConfigField>(
    key: &FieldKey<'_>,
    param: &Parameter,
    cx: &mut DecodeCx<'_>,
    mut insert: impl FnMut(String, T),
) -> bool {
    let keys = cx.keys_under(key);
    let skip = if key.is_empty() { 0 } else { key.len() + 1 };
    let mut ok = true;
    if matches!(T::KIND, FieldKind::Value(_)) {
        for full in keys {
            match T::decode(&FieldKey::new(full), param, cx) {
                Some(v) => insert(full[skip..].to_owned(), v),
                None => ok = false,
            }
        }
    } else {
        let mut last: Option<&str> = None;
        for full in keys {
            let rest = &full[skip..];
            let entry = rest.split('.').next().unwrap_or(rest);
            if last == Some(entry) {
                continue;
            }
            last = Some(entry);
            match T::decode(&key.join(entry), param, cx) {
                Some(v) => insert(entry.to_owned(), v),
                None => ok = false,
            }
        }
    }
    ok
}

const fn entry_check(kind: FieldKind) -> Option<ValueCheck> {
    match kind {
        FieldKind::Value(check) => Some(check),
        _ => None,
    }
}

/// `HashMap`/`BTreeMap<String, T>`: parameters under `name.*` (each entry's default and
/// validations are the field's).
macro_rules! map_field {
    ($([$($generics:tt)*] $ty:ty;)*) => {$(
        impl<$($generics)*> ConfigField for $ty {
            const KIND: FieldKind = FieldKind::Map;
            const ENTRY: Option<ValueCheck> = entry_check(T::KIND);

            fn parameter(spec: &FieldSpec) -> Parameter {
                T::parameter(spec)
            }

            fn describe(key: &str, param: &Parameter, out: &mut Parameters) {
                T::describe(&join_key(key, "*"), param, out);
            }

            fn decode(key: &FieldKey<'_>, param: &Parameter, cx: &mut DecodeCx<'_>) -> Option<Self> {
                let mut map = Self::default();
                decode_map_entries::<T>(key, param, cx, |k, v| {
                    map.insert(k, v);
                })
                .then_some(map)
            }
        }
    )*};
}

map_field! {
    [T: ConfigField, S: BuildHasher + Default] HashMap<String, T, S>;
    [T: ConfigField] BTreeMap<String, T>;
}

/// The whole `from_config` pipeline for a config type: trim keys and values,
/// then one pass over the fields, each taking its key (default, type check,
/// validations, parse, all from the field's one [`Parameter`]); keys no field
/// took are unrecognized. Every problem is reported, sorted by key.
///
/// `params` (the type's cached parameters) only name the did-you-mean hints.
pub fn from_config<T: ConfigField>(config: impl super::IntoConfigMap, params: &Parameters) -> Result<T, ConfigErrors> {
    let (map, mut errors) = ConfigMap::sanitized(config);
    let value = {
        let mut cx = DecodeCx::new(&map, &mut errors);
        let value = T::decode(&FieldKey::new(""), &NO_PARAMETER, &mut cx);
        let unused: Vec<&str> = cx.unused_keys().collect();
        for key in unused {
            cx.push(super::validate::unrecognized(key, params));
        }
        value
    };
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
