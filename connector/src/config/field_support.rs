//! Compile-time checks used by the generated code of `#[derive(Config)]`.
//!
//! Each check is a `const fn` over the field type's [`ConfigField::KIND`]
//! returning `None` when fine or `Some(message)`; the generated code panics
//! with the message inside a `const` item spanned on the user's attribute,
//! so the mistake is a compile error that points at the user's token. This
//! works for type aliases too, since it reads the type's trait constants
//! rather than its spelling.

pub use super::field::join_key;
use super::field::{FieldKind, ValueCheck};
pub use super::validate::from_config;
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

/// `None` if `T` is a value type (validations and defaults apply).
pub const fn expect_value<T: ConfigField>() -> Option<&'static str> {
    match T::KIND {
        FieldKind::Value(_) => None,
        FieldKind::Nested => Some("defaults and validations apply to value fields; this field is a nested config"),
        FieldKind::Map => Some("defaults and validations apply to value fields; this field is a map"),
    }
}

/// `None` if `T` is numeric (`gt`/`lt` apply).
pub const fn expect_numeric<T: ConfigField>() -> Option<&'static str> {
    match T::KIND {
        FieldKind::Value(ValueCheck { ty: ParameterType::Int | ParameterType::Float, element: None, .. }) => None,
        _ => Some("`gt` and `lt` compare numbers: they need an integer or float field"),
    }
}

/// `None` if `T` holds a string or path (`file` applies).
pub const fn expect_string<T: ConfigField>() -> Option<&'static str> {
    match T::KIND {
        FieldKind::Value(ValueCheck { ty: ParameterType::String, element: None, variants: &[], .. }) => None,
        _ => Some("`file` needs a String or PathBuf field"),
    }
}

/// `None` if `T` derives `Config` (`flatten` applies).
pub const fn expect_nested<T: ConfigField>() -> Option<&'static str> {
    match T::KIND {
        FieldKind::Nested => None,
        _ => Some("`flatten` needs a field whose type derives `Config`"),
    }
}

/// `None` if `default` parses as a value of `T`.
pub const fn check_default<T: ConfigField>(default: &str) -> Option<&'static str> {
    match T::KIND {
        FieldKind::Value(check) => match check.element {
            Some(element) => check_list(element, default.as_bytes()),
            None => check_value(&check, default.as_bytes()),
        },
        _ => expect_value::<T>(),
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
            if !item.is_empty() {
                if let Some(msg) = check_value(element, item) {
                    return Some(match msg {
                        _ => "an element of the default list does not parse as the list's element type",
                    });
                }
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
        ParameterType::Int => match go::parse_int(s) {
            None => Some("the default is not an integer"),
            Some(n) => {
                if (n as i128) < check.int_min || (n as i128) > check.int_max {
                    Some("the default is out of range for the field's integer type")
                } else {
                    None
                }
            }
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
