//! Compile-time checks used by the generated code of `#[derive(Config)]`.
//!
//! Each check is a `const fn` over the field type's [`ConfigField::KIND`]
//! returning `None` when fine or `Some(message)`; the generated code panics
//! with the message inside a `const` item spanned on the user's attribute,
//! so the mistake is a compile error that points at the user's token. This
//! works for type aliases too, since it reads the type's trait constants
//! rather than its spelling.

pub use super::field::from_config;
pub use super::field::join_key;
use super::field::{FieldKind, ValueCheck};
use super::{ConfigField, ParameterType, go};

const fn str_eq(a: &[u8], b: &[u8]) -> bool {
    if a.len() != b.len() {
        return false;
    }
    let mut i = 0;
    while i < a.len() {
        if a[i] != b[i] {
            return false;
        }
        i += 1;
    }
    true
}

/// A field type's trait constants, as the generated checks pass them
/// (`<T as ConfigField>::KIND` and `::ENTRY`; naming the type the same way
/// as the impls do means an unsupported type is reported once).
#[derive(Debug, Clone, Copy)]
pub struct FieldType {
    /// `T::KIND`
    pub kind: FieldKind,
    /// `T::ENTRY`
    pub entry: Option<ValueCheck>,
}

impl FieldType {
    /// The constants of `T`.
    pub const fn of<T: ConfigField>() -> Self {
        FieldType { kind: T::KIND, entry: T::ENTRY }
    }

    /// What one value accepts: the value itself, or each entry of a map of
    /// values. `None` for nested configs and maps of them.
    const fn value_check(self) -> Option<ValueCheck> {
        match self.kind {
            FieldKind::Value(check) => Some(check),
            FieldKind::Map => self.entry,
            FieldKind::Nested => None,
        }
    }
}

/// `None` if `t` is a value type or a map of values (defaults and validations apply).
pub const fn value_error(t: FieldType) -> Option<&'static str> {
    match (t.kind, t.value_check()) {
        (_, Some(_)) => None,
        (FieldKind::Map, None) => {
            Some("defaults and validations apply to value fields; this field is a map of nested configs")
        }
        _ => Some("defaults and validations apply to value fields; this field is a nested config"),
    }
}

/// `None` if `t` is numeric (`gt`/`lt` apply).
pub const fn numeric_error(t: FieldType) -> Option<&'static str> {
    match t.value_check() {
        Some(ValueCheck { ty: ParameterType::Int | ParameterType::Float, element: None, .. }) => None,
        _ => Some("`gt` and `lt` compare numbers: they need an integer or float field"),
    }
}

/// `None` if a `gt` (`greater`) or `lt` bound suits `t`: a numeric field, and for an
/// integer field a bound inside the type's range (at most one step outside it, as the
/// usual `gt = -1` on an unsigned field), so that the check can both pass and fail.
pub const fn bound_error(t: FieldType, bound: f64, greater: bool) -> Option<&'static str> {
    if let Some(message) = numeric_error(t) {
        return Some(message);
    }
    let Some(ValueCheck { ty: ParameterType::Int, int_min, int_max, .. }) = t.value_check() else { return None };
    let (min, max) = (int_min as f64, int_max as f64);
    match greater {
        true if bound < min - 1.0 => {
            Some("this `gt` bound is below the range of the field's integer type: every value passes it")
        }
        true if bound >= max => {
            Some("this `gt` bound is at or above the largest value of the field's integer type: no value passes it")
        }
        false if bound > max + 1.0 => {
            Some("this `lt` bound is above the range of the field's integer type: every value passes it")
        }
        false if bound <= min => {
            Some("this `lt` bound is at or below the smallest value of the field's integer type: no value passes it")
        }
        _ => None,
    }
}

/// Whether an integer literal suffix whose type holds `min..=max` (clipped as
/// [`ValueCheck`] clips) names the type of field `t`.
pub const fn int_suffix_matches(t: FieldType, min: i128, max: i128) -> bool {
    match scalar_check(t) {
        Ok(ValueCheck { ty: ParameterType::Int, int_min, int_max, .. }) => int_min == min && int_max == max,
        _ => false,
    }
}

/// Whether a float literal suffix (`f32` when `float32`) names the type of field `t`.
pub const fn float_suffix_matches(t: FieldType, float32: bool) -> bool {
    match scalar_check(t) {
        Ok(ValueCheck { ty: ParameterType::Float, float32: f, .. }) => f == float32,
        _ => false,
    }
}

/// `None` if `t` holds a string or path (`file` applies).
pub const fn string_error(t: FieldType) -> Option<&'static str> {
    match t.value_check() {
        Some(ValueCheck { ty: ParameterType::String, element: None, variants: &[], .. }) => None,
        _ => Some("`file` needs a String or PathBuf field"),
    }
}

/// `None` if `t` derives `Config` (`flatten` applies).
pub const fn nested_error(t: FieldType) -> Option<&'static str> {
    match t.kind {
        FieldKind::Nested => None,
        _ => Some("`flatten` needs a field whose type derives `Config`"),
    }
}

/// The check a default is held to: the value's, or a list element's when the
/// default is a single literal for a list field.
const fn scalar_check(t: FieldType) -> Result<ValueCheck, &'static str> {
    match t.value_check() {
        Some(ValueCheck { element: Some(element), .. }) => Ok(*element),
        Some(check) => Ok(check),
        None => match value_error(t) {
            Some(m) => Err(m),
            None => Err("defaults apply to value fields"),
        },
    }
}

const NUMBER_ON_ENUM: &str = "the default is a number, but the field is an enum: use one of its values as a string";
const BOOL_ON_ENUM: &str = "the default is a bool, but the field is an enum: use one of its values as a string";

/// The value check a non-string literal default is compared with: [`scalar_check`], with
/// `on_enum` as the error when the field is an enum (enum defaults are written as strings).
const fn literal_check(t: FieldType, on_enum: &'static str) -> Result<ValueCheck, &'static str> {
    match scalar_check(t) {
        Ok(check) if !check.variants.is_empty() => Err(on_enum),
        other => other,
    }
}

/// `None` if the string `default` parses as a value of `t` (for a list, each
/// comma-separated element as the element type).
pub const fn default_error(t: FieldType, default: &str) -> Option<&'static str> {
    match t.value_check() {
        Some(check) => match check.element {
            Some(element) => check_list(element, default.as_bytes()),
            None => check_value(&check, default.as_bytes()),
        },
        None => value_error(t),
    }
}

/// `None` if the integer literal `default` fits `t`.
pub const fn int_default_error(t: FieldType, default: i128) -> Option<&'static str> {
    let check = match literal_check(t, NUMBER_ON_ENUM) {
        Ok(c) => c,
        Err(m) => return Some(m),
    };
    match check.ty {
        ParameterType::Int => {
            if default < check.int_min || default > check.int_max {
                Some("the default is out of range for the field's integer type")
            } else {
                None
            }
        }
        ParameterType::Float | ParameterType::String | ParameterType::File => None,
        ParameterType::Bool => Some("the default is a number, but the field is a bool: use `true` or `false`"),
        ParameterType::Duration => {
            if default == 0 {
                None
            } else {
                Some("the default is a number, but a duration needs a unit: write it as a string such as \"5s\"")
            }
        }
    }
}

/// `None` if a float literal default suits `t`.
pub const fn float_default_error(t: FieldType, default: f64) -> Option<&'static str> {
    let check = match literal_check(t, NUMBER_ON_ENUM) {
        Ok(c) => c,
        Err(m) => return Some(m),
    };
    match check.ty {
        ParameterType::Float => {
            if check.float32 && (default > f32::MAX as f64 || default < f32::MIN as f64) {
                Some("the default is out of range for f32")
            } else {
                None
            }
        }
        ParameterType::String | ParameterType::File => None,
        ParameterType::Int => Some("the default is a float, but the field is an integer"),
        ParameterType::Bool => Some("the default is a number, but the field is a bool: use `true` or `false`"),
        ParameterType::Duration => {
            Some("the default is a number, but a duration needs a unit: write it as a string such as \"1.5s\"")
        }
    }
}

/// `None` if a bool literal default suits `t`.
pub const fn bool_default_error(t: FieldType) -> Option<&'static str> {
    let check = match literal_check(t, BOOL_ON_ENUM) {
        Ok(c) => c,
        Err(m) => return Some(m),
    };
    match check.ty {
        ParameterType::Bool | ParameterType::String | ParameterType::File => None,
        ParameterType::Int => Some("the default is a bool, but the field is an integer"),
        ParameterType::Float => Some("the default is a bool, but the field is a float"),
        ParameterType::Duration => Some("the default is a bool, but the field is a duration"),
    }
}

const fn check_list(element: &ValueCheck, s: &[u8]) -> Option<&'static str> {
    let mut start = 0;
    let mut i = 0;
    while i <= s.len() {
        if i == s.len() || s[i] == b',' {
            let (_, rest) = s.split_at(start);
            let (item, _) = rest.split_at(i - start);
            let item = item.trim_ascii();
            if !item.is_empty() && check_value(element, item).is_some() {
                return Some("an element of the default list does not parse as the list's element type");
            }
            start = i + 1;
        }
        i += 1;
    }
    None
}

const fn check_value(check: &ValueCheck, s: &[u8]) -> Option<&'static str> {
    if s.is_empty() {
        return None;
    }
    if !check.variants.is_empty() {
        let mut i = 0;
        while i < check.variants.len() {
            if str_eq(check.variants[i].as_bytes(), s) {
                return None;
            }
            i += 1;
        }
        return Some("the default is not one of the enum's values");
    }
    let Ok(s) = std::str::from_utf8(s) else { return Some("the default is not valid UTF-8") };
    match check.ty {
        ParameterType::String | ParameterType::File => None,
        ParameterType::Int => match go::parse_wide_int(s) {
            go::WideInt::NotAnInteger => Some("the default is not an integer"),
            go::WideInt::Value(n) if n >= check.int_min && n <= check.int_max => None,
            _ => Some("the default is out of range for the field's integer type"),
        },
        ParameterType::Float => {
            if go::is_float(s) {
                None
            } else {
                Some("the default is not a float")
            }
        }
        ParameterType::Bool => match go::parse_bool(s) {
            Some(_) => None,
            None => {
                Some("the default is not a bool (Go's ParseBool accepts 1 t T TRUE true True 0 f F FALSE false False)")
            }
        },
        ParameterType::Duration => match go::parse_duration(s) {
            Err(_) => Some("the default is not a Go duration (such as 300ms, 1.5h or 2h45m)"),
            Ok(n) => {
                if n < 0 && check.nonnegative {
                    Some("the default is a negative duration, which std::time::Duration cannot hold")
                } else {
                    None
                }
            }
        },
    }
}

#[cfg(test)]
mod tests {
    use std::collections::HashMap;
    use std::path::PathBuf;
    use std::time::Duration;

    use super::*;

    fn of<T: ConfigField>() -> FieldType {
        FieldType::of::<T>()
    }

    #[test]
    fn string_defaults_parse_as_the_field_type() {
        assert_eq!(default_error(of::<u32>(), "100"), None);
        assert!(default_error(of::<u32>(), "ten").is_some());
        assert!(default_error(of::<u8>(), "300").is_some());
        assert_eq!(default_error(of::<bool>(), "T"), None);
        assert!(default_error(of::<bool>(), "yes").is_some());
        assert_eq!(default_error(of::<Duration>(), "1m30s"), None);
        assert!(default_error(of::<Duration>(), "-1s").is_some());
        assert_eq!(default_error(of::<f32>(), "1.5"), None);
        assert_eq!(default_error(of::<Option<u16>>(), "7"), None);
        assert_eq!(default_error(of::<Vec<u32>>(), "1, 2,3"), None);
        assert!(default_error(of::<Vec<u32>>(), "1,x").is_some());
        assert_eq!(default_error(of::<HashMap<String, u32>>(), "5"), None);
        assert!(default_error(of::<HashMap<String, u32>>(), "five").is_some());
    }

    #[test]
    fn literal_defaults_match_the_field_kind() {
        assert_eq!(int_default_error(of::<u8>(), 255), None);
        assert!(int_default_error(of::<u8>(), 256).is_some());
        assert!(int_default_error(of::<i8>(), -129).is_some());
        assert_eq!(int_default_error(of::<f64>(), 3), None);
        assert_eq!(int_default_error(of::<String>(), 3), None);
        assert!(int_default_error(of::<Duration>(), 5).is_some());
        assert!(int_default_error(of::<bool>(), 1).is_some());
        assert!(float_default_error(of::<u32>(), 1.5).is_some());
        assert!(float_default_error(of::<f32>(), 1e300).is_some());
        assert_eq!(bool_default_error(of::<bool>()), None);
        assert!(bool_default_error(of::<u32>()).is_some());
    }

    #[test]
    fn attribute_kind_checks() {
        assert_eq!(numeric_error(of::<Option<u64>>()), None);
        assert_eq!(numeric_error(of::<HashMap<String, f64>>()), None);
        assert!(numeric_error(of::<String>()).is_some());
        assert!(numeric_error(of::<Vec<u32>>()).is_some());
        assert_eq!(string_error(of::<PathBuf>()), None);
        assert!(string_error(of::<u32>()).is_some());
        assert!(nested_error(of::<u32>()).is_some());
        assert_eq!(value_error(of::<HashMap<String, String>>()), None);
    }
}
