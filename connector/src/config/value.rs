//! [`ConfigValue`]: types that one parameter's string value parses into.

use std::path::PathBuf;
use std::time::Duration;

use super::field::ValueCheck;
use super::{ParameterType, go};

/// A type one parameter's value parses into: strings, paths, integers,
/// floats, bools, durations, `Vec<T>` of those, fieldless enums with
/// `#[derive(ConfigValue)]`, and your own types (`Option<T>` of any of them
/// is a field type too).
///
/// Parsing follows Go's syntax (`strconv` and `time.ParseDuration`), so values
/// that Conduit's own type check accepts decode the same way.
#[diagnostic::on_unimplemented(
    message = "`{Self}` is not a config value type",
    note = "config values are String, PathBuf, integers, f32, f64, bool, std::time::Duration, Vec<T>, \
            and enums deriving `ConfigValue`"
)]
pub trait ConfigValue: Sized {
    /// The parameter type this value has in the specification.
    const TYPE: ParameterType;

    /// The accepted values, for enums: added to the parameter as an
    /// inclusion validation. Empty means any value of the type.
    const VARIANTS: &'static [&'static str] = &[];

    #[doc(hidden)]
    const CHECK: ValueCheck = ValueCheck { variants: Self::VARIANTS, ..ValueCheck::of(Self::TYPE) };

    /// Parses a non-empty, trimmed value. The error completes the sentence
    /// `"<value>" …`, e.g. `value is not an integer`.
    fn parse(value: &str) -> Result<Self, String>;

    /// The value when the key is absent or empty and has no default: Go's
    /// zero value (`""`, `0`, `false`, `0s`, empty list, `None`). `None`
    /// means the field cannot be empty (an enum without a `#[default]`
    /// variant); decoding then reports a missing value.
    fn empty() -> Option<Self> {
        None
    }
}

/// Value types that may be elements of a comma-separated `Vec<T>` list.
#[diagnostic::on_unimplemented(
    message = "`{Self}` cannot be an element of a config list",
    label = "`Vec<{Self}>` is not a supported config field type",
    note = "a `Vec<T>` parameter is one comma-separated string; its elements are String, PathBuf, integers, f32, \
            f64, bool, std::time::Duration, or enums deriving `ConfigValue`",
    note = "or skip the field with `#[param(skip)]`"
)]
pub trait ListElement: ConfigValue {}

impl ConfigValue for String {
    const TYPE: ParameterType = ParameterType::String;
    fn parse(value: &str) -> Result<Self, String> {
        Ok(value.to_owned())
    }
    fn empty() -> Option<Self> {
        Some(String::new())
    }
}
impl ListElement for String {}

impl ConfigValue for PathBuf {
    const TYPE: ParameterType = ParameterType::String;
    fn parse(value: &str) -> Result<Self, String> {
        Ok(PathBuf::from(value))
    }
    fn empty() -> Option<Self> {
        Some(PathBuf::new())
    }
}
impl ListElement for PathBuf {}

macro_rules! int_value {
    ($($t:ty),*) => {$(
        impl ConfigValue for $t {
            const TYPE: ParameterType = ParameterType::Int;
            #[doc(hidden)]
            // The Rust type's range within 64 bits, signed or unsigned: Go's
            // `int` range, and up to `u64::MAX` for unsigned 64-bit fields.
            const CHECK: ValueCheck = ValueCheck {
                int_min: if (<$t>::MIN as i128) < (i64::MIN as i128) { i64::MIN as i128 } else { <$t>::MIN as i128 },
                int_max: if (<$t>::MAX as u128) > (u64::MAX as u128) { u64::MAX as i128 } else { <$t>::MAX as i128 },
                ..ValueCheck::of(ParameterType::Int)
            };
            fn parse(value: &str) -> Result<Self, String> {
                let out_of_range = || {
                    format!(
                        "value is out of range for {} ({} to {})",
                        stringify!($t),
                        Self::CHECK.int_min,
                        Self::CHECK.int_max
                    )
                };
                match go::parse_wide_int(value) {
                    go::WideInt::Value(n) if (Self::CHECK.int_min..=Self::CHECK.int_max).contains(&n) => {
                        <$t>::try_from(n).map_err(|_| out_of_range())
                    }
                    go::WideInt::NotAnInteger => Err("value is not an integer".to_owned()),
                    _ => Err(out_of_range()),
                }
            }
            fn empty() -> Option<Self> {
                Some(0)
            }
        }
        impl ListElement for $t {}
    )*};
}
int_value!(i8, i16, i32, i64, i128, isize, u8, u16, u32, u64, u128, usize);

impl ConfigValue for f64 {
    const TYPE: ParameterType = ParameterType::Float;
    fn parse(value: &str) -> Result<Self, String> {
        go::parse_float(value).ok_or_else(|| "value is not a float".to_owned())
    }
    fn empty() -> Option<Self> {
        Some(0.0)
    }
}
impl ListElement for f64 {}

impl ConfigValue for f32 {
    const TYPE: ParameterType = ParameterType::Float;
    #[doc(hidden)]
    const CHECK: ValueCheck = ValueCheck { float32: true, ..ValueCheck::of(ParameterType::Float) };
    fn parse(value: &str) -> Result<Self, String> {
        let v = go::parse_float(value).ok_or_else(|| "value is not a float".to_owned())?;
        let narrow = v as f32;
        if narrow.is_infinite() && v.is_finite() {
            return Err("value is out of range for f32".to_owned());
        }
        Ok(narrow)
    }
    fn empty() -> Option<Self> {
        Some(0.0)
    }
}
impl ListElement for f32 {}

impl ConfigValue for bool {
    const TYPE: ParameterType = ParameterType::Bool;
    fn parse(value: &str) -> Result<Self, String> {
        go::parse_bool(value).ok_or_else(|| "value is not a boolean".to_owned())
    }
    fn empty() -> Option<Self> {
        Some(false)
    }
}
impl ListElement for bool {}

impl ConfigValue for Duration {
    const TYPE: ParameterType = ParameterType::Duration;
    #[doc(hidden)]
    const CHECK: ValueCheck = ValueCheck { nonnegative: true, ..ValueCheck::of(ParameterType::Duration) };
    fn parse(value: &str) -> Result<Self, String> {
        let nanos = go::parse_duration(value).map_err(|_| "value is not a duration".to_owned())?;
        if nanos < 0 {
            return Err("value is a negative duration, which std::time::Duration cannot hold".to_owned());
        }
        Ok(Duration::from_nanos(nanos as u64))
    }
    fn empty() -> Option<Self> {
        Some(Duration::ZERO)
    }
}
impl ListElement for Duration {}

/// A comma-separated list. Unlike Go, each element is trimmed, so `a, b`
/// gives `["a", "b"]`; empty elements are kept (`a,,b` has three).
impl<T: ListElement> ConfigValue for Vec<T> {
    const TYPE: ParameterType = ParameterType::String;
    #[doc(hidden)]
    const CHECK: ValueCheck = ValueCheck { element: Some(&T::CHECK), ..ValueCheck::of(ParameterType::String) };
    fn parse(value: &str) -> Result<Self, String> {
        value
            .split(',')
            .enumerate()
            .map(|(i, item)| {
                let item = item.trim();
                if item.is_empty() {
                    return T::empty().ok_or_else(|| format!("value has an empty element at position {}", i + 1));
                }
                T::parse(item).map_err(|reason| {
                    format!("value has an invalid element at position {}: {} {reason}", i + 1, go::quote(item))
                })
            })
            .collect()
    }
    fn empty() -> Option<Self> {
        Some(Vec::new())
    }
}
