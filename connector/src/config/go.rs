//! Go-compatible parsing and formatting: `strconv.Atoi`, `ParseBool`,
//! `ParseFloat`, `time.ParseDuration`, `%q`, `FormatFloat(v, 'f', -1, 64)`
//! and `%g`. The parsers used by compile-time checks are `const fn`.
//!
//! TEMPORARY: placeholder bodies; replaced by the Go-compatible versions.

/// Go's `strconv.Quote` (`%q`): double-quoted with Go escapes.
pub fn quote(s: &str) -> String {
    format!("{s:?}")
}

/// Go's `strconv.FormatFloat(v, 'f', -1, 64)`: the shortest decimal that
/// round-trips, never an exponent (`1e21` → `1000000000000000000000`).
pub fn format_float_f(v: f64) -> String {
    format!("{v}")
}

/// Go's `%g` for a float64 (`1e+21`, `1e-05`, `1.5`, `100`).
pub fn format_float_g(v: f64) -> String {
    format!("{v}")
}

/// Go's `strconv.Atoi`: base 10, optional sign, 64-bit range.
pub const fn parse_int(s: &str) -> Option<i64> {
    let _ = s;
    None
}

/// Go's `strconv.ParseBool`: `1 t T TRUE true True 0 f F FALSE false False`.
pub const fn parse_bool(s: &str) -> Option<bool> {
    let _ = s;
    None
}

/// Go's `strconv.ParseFloat(s, 64)`; `None` for a syntax error or a value
/// out of range.
pub fn parse_float(s: &str) -> Option<f64> {
    s.parse().ok()
}

/// Whether `s` is valid `ParseFloat` syntax (for compile-time checks).
pub const fn is_float(s: &str) -> bool {
    let _ = s;
    false
}

/// Why a duration did not parse.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DurationError {
    /// Not Go duration syntax.
    Invalid,
    /// A unit is missing or unknown.
    Unit,
    /// More than `i64` nanoseconds.
    Overflow,
}

/// Go's `time.ParseDuration`, in nanoseconds.
pub const fn parse_duration(s: &str) -> Result<i64, DurationError> {
    let _ = s;
    Err(DurationError::Invalid)
}
