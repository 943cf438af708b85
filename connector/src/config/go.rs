//! Go-compatible parsing and formatting: `strconv.Atoi`, `ParseBool`,
//! `ParseFloat`, `time.ParseDuration`, `%q`, `FormatFloat(v, 'f', -1, 64)`
//! and `%g`. The parsers used by compile-time checks are `const fn`.
//!
//! Conduit type-checks config values with Go's parsers, so a value is valid
//! here exactly when it is valid in Conduit; the functions below follow the
//! Go standard library's behaviour, edge cases included.

use std::fmt::Write as _;

/// Go's `strconv.Quote` (`%q`): double-quoted, with `\a \b \f \n \r \t \v
/// \\ \"` escapes, other control characters as `\xNN`, and non-printable
/// characters (anything outside Unicode's letters, marks, numbers,
/// punctuation and symbols, except the ASCII space) as `\uNNNN` or
/// `\UNNNNNNNN`. Printable Unicode is kept as is.
///
/// ```
/// use conduit_connector::config::go::quote;
/// assert_eq!(quote("a\"b\n"), r#""a\"b\n""#);
/// assert_eq!(quote("é\u{a0}"), r#""é\u00a0""#);
/// ```
pub fn quote(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 2);
    out.push('"');
    for c in s.chars() {
        match c {
            '"' | '\\' => {
                out.push('\\');
                out.push(c);
            }
            ' '..='~' => out.push(c),
            '\u{7}' => out.push_str("\\a"),
            '\u{8}' => out.push_str("\\b"),
            '\u{c}' => out.push_str("\\f"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            '\u{b}' => out.push_str("\\v"),
            '\0'..='\u{1f}' | '\u{7f}' => {
                let _ = write!(out, "\\x{:02x}", c as u32);
            }
            _ if is_print(c) => out.push(c),
            _ if (c as u32) < 0x10000 => {
                let _ = write!(out, "\\u{:04x}", c as u32);
            }
            _ => {
                let _ = write!(out, "\\U{:08x}", c as u32);
            }
        }
    }
    out.push('"');
    out
}

/// Go's `strconv.IsPrint` for a non-ASCII character: general category L, M,
/// N, P or S.
fn is_print(c: char) -> bool {
    crate::unicode::is_graphic(c)
}

/// The shortest decimal digits of a finite, non-negative `v` that round-trip,
/// and the decimal exponent of the first digit (`v = d.ddd × 10^exp`).
fn shortest_digits(v: f64) -> (String, i32) {
    let sci = format!("{v:e}");
    let (mantissa, exp) = sci.split_once('e').unwrap_or((sci.as_str(), "0"));
    let digits: String = mantissa.chars().filter(char::is_ascii_digit).collect();
    (digits, exp.parse().unwrap_or(0))
}

/// Lays out `digits` (first digit at decimal exponent `exp`) without an
/// exponent, as Go's `%f` with the shortest precision.
fn push_fixed(out: &mut String, digits: &str, exp: i32) {
    let dp = exp + 1;
    let nd = digits.len() as i32;
    if dp <= 0 {
        out.push_str("0.");
        out.extend(std::iter::repeat_n('0', (-dp) as usize));
        out.push_str(digits);
    } else if dp >= nd {
        out.push_str(digits);
        out.extend(std::iter::repeat_n('0', (dp - nd) as usize));
    } else {
        out.push_str(&digits[..dp as usize]);
        out.push('.');
        out.push_str(&digits[dp as usize..]);
    }
}

/// The sign and Go spelling of non-finite values, or `None` for finite ones.
fn non_finite(v: f64) -> Option<&'static str> {
    if v.is_nan() {
        Some("NaN")
    } else if v == f64::INFINITY {
        Some("+Inf")
    } else if v == f64::NEG_INFINITY {
        Some("-Inf")
    } else {
        None
    }
}

/// Go's `strconv.FormatFloat(v, 'f', -1, 64)`: the shortest decimal that
/// round-trips, never an exponent (`1e21` → `1000000000000000000000`).
///
/// ```
/// use conduit_connector::config::go::format_float_f;
/// assert_eq!(format_float_f(1.2), "1.2");
/// assert_eq!(format_float_f(1e-7), "0.0000001");
/// assert_eq!(format_float_f(f64::INFINITY), "+Inf");
/// ```
pub fn format_float_f(v: f64) -> String {
    if let Some(s) = non_finite(v) {
        return s.to_owned();
    }
    let mut out = String::new();
    if v.is_sign_negative() {
        out.push('-');
    }
    let (digits, exp) = shortest_digits(v.abs());
    push_fixed(&mut out, &digits, exp);
    out
}

/// Go's `%g` for a float64 (`1e+21`, `1e-05`, `1.5`, `100`): the shortest
/// digits, in exponent form when the decimal exponent is below -4 or at
/// least 6 (Go's rule for the shortest precision). The exponent has a sign
/// and at least two digits.
///
/// ```
/// use conduit_connector::config::go::format_float_g;
/// assert_eq!(format_float_g(123456.0), "123456");
/// assert_eq!(format_float_g(1234567.0), "1.234567e+06");
/// assert_eq!(format_float_g(0.00001), "1e-05");
/// ```
pub fn format_float_g(v: f64) -> String {
    if let Some(s) = non_finite(v) {
        return s.to_owned();
    }
    let mut out = String::new();
    if v.is_sign_negative() {
        out.push('-');
    }
    let (digits, exp) = shortest_digits(v.abs());
    if !(-4..6).contains(&exp) {
        out.push_str(&digits[..1]);
        if digits.len() > 1 {
            out.push('.');
            out.push_str(&digits[1..]);
        }
        out.push('e');
        out.push(if exp < 0 { '-' } else { '+' });
        let _ = write!(out, "{:02}", exp.unsigned_abs());
    } else {
        push_fixed(&mut out, &digits, exp);
    }
    out
}

/// An integer in the syntax of Go's `strconv.Atoi` (an optional `+` or `-`, then base-10
/// digits only: no `_`, no base prefix) but without its `i64` range, for integer fields
/// whose Rust type is wider than Go's `int`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum WideInt {
    /// The value, when it fits `i128`.
    Value(i128),
    /// Digits and sign are fine, the magnitude exceeds `i128`.
    TooLarge,
    /// Not Go integer syntax (`Atoi` would fail with a syntax error).
    NotAnInteger,
}

/// Reads a [`WideInt`]: a syntactically valid integer is never reported as "not an
/// integer", whatever its size.
pub(crate) const fn parse_wide_int(s: &str) -> WideInt {
    let b = s.as_bytes();
    let mut i = 0;
    let mut neg = false;
    if !b.is_empty() && (b[0] == b'+' || b[0] == b'-') {
        neg = b[0] == b'-';
        i = 1;
    }
    if i == b.len() {
        return WideInt::NotAnInteger;
    }
    // Accumulate negatively so that i128::MIN is reachable; once the value
    // overflows, keep scanning for the syntax.
    let mut n: i128 = 0;
    let mut overflow = false;
    while i < b.len() {
        let c = b[i];
        if !c.is_ascii_digit() {
            return WideInt::NotAnInteger;
        }
        if !overflow {
            match n.checked_mul(10) {
                Some(m) => match m.checked_sub((c - b'0') as i128) {
                    Some(m) => n = m,
                    None => overflow = true,
                },
                None => overflow = true,
            }
        }
        i += 1;
    }
    if overflow {
        return WideInt::TooLarge;
    }
    if neg {
        WideInt::Value(n)
    } else {
        match n.checked_neg() {
            Some(n) => WideInt::Value(n),
            None => WideInt::TooLarge,
        }
    }
}

/// Go's `strconv.ParseBool`: exactly `1 t T TRUE true True` and
/// `0 f F FALSE false False`.
///
/// ```
/// use conduit_connector::config::go::parse_bool;
/// assert_eq!(parse_bool("True"), Some(true));
/// assert_eq!(parse_bool("yes"), None);
/// ```
pub const fn parse_bool(s: &str) -> Option<bool> {
    match s.as_bytes() {
        b"1" | b"t" | b"T" | b"TRUE" | b"true" | b"True" => Some(true),
        b"0" | b"f" | b"F" | b"FALSE" | b"false" | b"False" => Some(false),
        _ => None,
    }
}

/// What Go's `readFloat` found in a syntactically valid float.
#[derive(Clone, Copy)]
struct FloatScan {
    /// `inf`/`infinity`/`nan` (any case); `special_nan` says which.
    special: bool,
    special_nan: bool,
    neg: bool,
    hex: bool,
    underscores: bool,
    /// Hex only: up to 16 significant hex digits.
    mantissa: u64,
    /// Hex only: binary exponent, `value = mantissa × 2^exp`.
    exp: i64,
    /// Hex only: non-zero digits were dropped from the mantissa.
    trunc: bool,
}

const fn lower(c: u8) -> u8 {
    c | (b'x' - b'X')
}

/// Length of the common prefix of `s` (case-insensitive) and the lower-case
/// `prefix`.
const fn common_prefix_len_ignore_case(s: &[u8], start: usize, prefix: &[u8]) -> usize {
    let mut n = 0;
    while n < prefix.len() && start + n < s.len() {
        if s[start + n].to_ascii_lowercase() != prefix[n] {
            return n;
        }
        n += 1;
    }
    n
}

/// Go's `special`: whether the whole of `b` is `[+-]?(inf|infinity)` or
/// `nan` (case-insensitive, no sign on `nan`). Returns `(matched, nan, neg)`.
const fn scan_special(b: &[u8]) -> (bool, bool, bool) {
    if b.is_empty() {
        return (false, false, false);
    }
    let mut start = 0;
    let mut neg = false;
    if b[0] == b'+' || b[0] == b'-' {
        neg = b[0] == b'-';
        start = 1;
    }
    if start == 1 || b[0] == b'i' || b[0] == b'I' {
        let mut n = common_prefix_len_ignore_case(b, start, b"infinity");
        if 3 < n && n < 8 {
            n = 3;
        }
        if (n == 3 || n == 8) && start + n == b.len() {
            return (true, false, neg);
        }
        return (false, false, false);
    }
    if (b[0] == b'n' || b[0] == b'N') && b.len() == 3 && common_prefix_len_ignore_case(b, 0, b"nan") == 3 {
        return (true, true, false);
    }
    (false, false, false)
}

/// Go's `underscoreOK`: underscores only between digits, or between a base
/// prefix and a digit.
const fn underscore_ok(b: &[u8]) -> bool {
    // '^' start, '0' digit or base prefix, '_' underscore, '!' other.
    let mut saw = b'^';
    let mut i = 0;
    if !b.is_empty() && (b[0] == b'-' || b[0] == b'+') {
        i = 1;
    }
    let mut hex = false;
    if b.len() >= i + 2 && b[i] == b'0' {
        let p = lower(b[i + 1]);
        if p == b'b' || p == b'o' || p == b'x' {
            i += 2;
            saw = b'0';
            hex = p == b'x';
        }
    }
    while i < b.len() {
        let c = b[i];
        if c.is_ascii_digit() || (hex && lower(c) >= b'a' && lower(c) <= b'f') {
            saw = b'0';
        } else if c == b'_' {
            if saw != b'0' {
                return false;
            }
            saw = b'_';
        } else {
            if saw == b'_' {
                return false;
            }
            saw = b'!';
        }
        i += 1;
    }
    saw != b'_'
}

/// Go's `readFloat` plus the requirement that the whole string is consumed:
/// `None` for a syntax error.
const fn scan_float(b: &[u8]) -> Option<FloatScan> {
    let (special, special_nan, neg) = scan_special(b);
    let mut scan =
        FloatScan { special, special_nan, neg, hex: false, underscores: false, mantissa: 0, exp: 0, trunc: false };
    if special {
        return Some(scan);
    }
    let mut i = 0;
    if i >= b.len() {
        return None;
    }
    if b[i] == b'+' {
        i += 1;
    } else if b[i] == b'-' {
        scan.neg = true;
        i += 1;
    }
    let mut base: u64 = 10;
    let mut max_mant_digits = 19;
    let mut exp_char = b'e';
    if i + 2 < b.len() && b[i] == b'0' && lower(b[i + 1]) == b'x' {
        base = 16;
        max_mant_digits = 16;
        i += 2;
        exp_char = b'p';
        scan.hex = true;
    }
    let mut saw_dot = false;
    let mut saw_digits = false;
    let mut nd: i64 = 0;
    let mut nd_mant: i64 = 0;
    let mut dp: i64 = 0;
    while i < b.len() {
        let c = b[i];
        if c == b'_' {
            scan.underscores = true;
        } else if c == b'.' {
            if saw_dot {
                break;
            }
            saw_dot = true;
            dp = nd;
        } else if c.is_ascii_digit() {
            saw_digits = true;
            if c == b'0' && nd == 0 {
                dp -= 1;
            } else {
                nd += 1;
                if nd_mant < max_mant_digits {
                    scan.mantissa = scan.mantissa.wrapping_mul(base).wrapping_add((c - b'0') as u64);
                    nd_mant += 1;
                } else if c != b'0' {
                    scan.trunc = true;
                }
            }
        } else if base == 16 && lower(c) >= b'a' && lower(c) <= b'f' {
            saw_digits = true;
            nd += 1;
            if nd_mant < max_mant_digits {
                scan.mantissa = scan.mantissa.wrapping_mul(16).wrapping_add((lower(c) - b'a' + 10) as u64);
                nd_mant += 1;
            } else {
                scan.trunc = true;
            }
        } else {
            break;
        }
        i += 1;
    }
    if !saw_digits {
        return None;
    }
    if !saw_dot {
        dp = nd;
    }
    if base == 16 {
        dp *= 4;
        nd_mant *= 4;
    }
    if i < b.len() && lower(b[i]) == exp_char {
        i += 1;
        if i >= b.len() {
            return None;
        }
        let mut esign: i64 = 1;
        if b[i] == b'+' {
            i += 1;
        } else if b[i] == b'-' {
            i += 1;
            esign = -1;
        }
        if i >= b.len() || !b[i].is_ascii_digit() {
            return None;
        }
        let mut e: i64 = 0;
        while i < b.len() && (b[i].is_ascii_digit() || b[i] == b'_') {
            if b[i] == b'_' {
                scan.underscores = true;
            } else if e < 10000 {
                e = e * 10 + (b[i] - b'0') as i64;
            }
            i += 1;
        }
        dp += e * esign;
    } else if base == 16 {
        // A hex float must have a `p` exponent.
        return None;
    }
    if scan.mantissa != 0 {
        scan.exp = dp - nd_mant;
    }
    if scan.underscores && !underscore_ok(b.split_at(i).0) {
        return None;
    }
    if i != b.len() {
        return None;
    }
    Some(scan)
}

/// Rounds `mantissa × 2^exp` (plus a sticky bit `trunc` below the mantissa)
/// to the nearest f64, ties to even; `None` when it overflows.
fn hex_to_f64(mantissa: u64, exp: i64, trunc: bool) -> Option<f64> {
    if mantissa == 0 {
        return Some(0.0);
    }
    let lz = mantissa.leading_zeros();
    let m = mantissa << lz;
    // Exponent of the leading bit: value ∈ [2^top, 2^(top+1)).
    let top = exp - i64::from(lz) + 63;
    if top > 1023 {
        return None;
    }
    // Significant bits the result keeps (fewer for subnormals).
    let keep = if top >= -1022 { 53 } else { top + 1075 };
    if keep < 0 {
        return Some(0.0);
    }
    let wide = u128::from(m) << 64;
    let shift = (128 - keep) as u32;
    let (mut q, rem) = if shift >= 128 { (0u128, wide) } else { (wide >> shift, wide & ((1u128 << shift) - 1)) };
    let half = 1u128 << (shift - 1);
    let round_up = rem > half || (rem == half && (trunc || q & 1 == 1));
    if round_up {
        q += 1;
    }
    let q = q as u64;
    if keep == 53 {
        let (q, top) = if q == 1 << 53 { (q >> 1, top + 1) } else { (q, top) };
        if top > 1023 {
            return None;
        }
        let bits = (((top + 1023) as u64) << 52) | (q & ((1 << 52) - 1));
        Some(f64::from_bits(bits))
    } else {
        // Subnormal: the bits are the mantissa (a carry into bit 52 gives
        // the smallest normal number, which is what those bits encode).
        Some(f64::from_bits(q))
    }
}

/// Go's `strconv.ParseFloat(s, 64)`; `None` for a syntax error or a value
/// out of range (a finite literal beyond the largest float64).
///
/// Accepts decimal (`1e3`, `.5`, `5.`), hexadecimal with a mandatory `p`
/// exponent (`0x1p-2`), `inf`/`infinity` with an optional sign and `nan`
/// without one (any case), and `_` between digits as Go does.
///
/// ```
/// use conduit_connector::config::go::parse_float;
/// assert_eq!(parse_float("1e3"), Some(1000.0));
/// assert_eq!(parse_float("0x1p-2"), Some(0.25));
/// assert_eq!(parse_float("1e400"), None);
/// ```
pub fn parse_float(s: &str) -> Option<f64> {
    if let Some(v) = simple_decimal(s) {
        return Some(v);
    }
    let scan = scan_float(s.as_bytes())?;
    let sign = if scan.neg { -1.0 } else { 1.0 };
    if scan.special {
        return Some(if scan.special_nan { f64::NAN } else { sign * f64::INFINITY });
    }
    if scan.hex {
        return hex_to_f64(scan.mantissa, scan.exp, scan.trunc).map(|v| sign * v);
    }
    let v: f64 = if scan.underscores {
        s.chars().filter(|&c| c != '_').collect::<String>().parse().ok()?
    } else {
        s.parse().ok()?
    };
    v.is_finite().then_some(v)
}

/// A plain decimal of at most 15 digits (`123`, `0.75`: digits, optionally one `.` between
/// digits) as a float, without the general parser. The digits as an integer and the power
/// of ten are exact in an `f64`, so their quotient is the correctly rounded value, which is
/// what `ParseFloat` (and `str::parse`) gives.
fn simple_decimal(s: &str) -> Option<f64> {
    const POW10: [f64; 16] = [1e0, 1e1, 1e2, 1e3, 1e4, 1e5, 1e6, 1e7, 1e8, 1e9, 1e10, 1e11, 1e12, 1e13, 1e14, 1e15];
    let bytes = s.as_bytes();
    if bytes.is_empty() || bytes.len() > 16 {
        return None;
    }
    let (mut mantissa, mut digits, mut point) = (0u64, 0usize, None);
    for (i, &b) in bytes.iter().enumerate() {
        if b.is_ascii_digit() {
            mantissa = mantissa * 10 + u64::from(b - b'0');
            digits += 1;
        } else if b == b'.' && point.is_none() && i > 0 && i + 1 < bytes.len() {
            point = Some(bytes.len() - i - 1);
        } else {
            return None;
        }
    }
    if digits > 15 {
        return None;
    }
    let scale = POW10.get(point.unwrap_or(0)).copied()?;
    Some(mantissa as f64 / scale)
}

/// Whether `s` is valid `ParseFloat` syntax (for compile-time checks; the
/// range is not checked).
pub const fn is_float(s: &str) -> bool {
    scan_float(s.as_bytes()).is_some()
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

/// Nanoseconds per unit, for Go's duration units.
const fn duration_unit(u: &[u8]) -> Option<u64> {
    match u {
        b"ns" => Some(1),
        b"us" | b"\xc2\xb5s" | b"\xce\xbcs" => Some(1_000),
        b"ms" => Some(1_000_000),
        b"s" => Some(1_000_000_000),
        b"m" => Some(60_000_000_000),
        b"h" => Some(3_600_000_000_000),
        _ => None,
    }
}

/// Go's `time.ParseDuration`, in nanoseconds.
///
/// A sequence of `[-+]?` then `<decimal><unit>` pairs such as `1h2m3.5s`,
/// `.5s` or `1.s`; units `ns`, `us`, `µs`, `μs`, `ms`, `s`, `m`, `h`; the
/// bare `0` (also `+0`, `-0`) is allowed. The arithmetic is Go's, including
/// the float64 scaling of fractions and the overflow checks.
///
/// ```
/// use conduit_connector::config::go::{parse_duration, DurationError};
/// assert_eq!(parse_duration("1h2m3.5s"), Ok(3_723_500_000_000));
/// assert_eq!(parse_duration("5"), Err(DurationError::Unit));
/// ```
pub const fn parse_duration(s: &str) -> Result<i64, DurationError> {
    const LIMIT: u64 = 1 << 63;
    let b = s.as_bytes();
    let mut i = 0;
    let mut neg = false;
    if !b.is_empty() && (b[0] == b'-' || b[0] == b'+') {
        neg = b[0] == b'-';
        i = 1;
    }
    if b.len() == i + 1 && b[i] == b'0' {
        return Ok(0);
    }
    if i == b.len() {
        return Err(DurationError::Invalid);
    }
    let mut d: u64 = 0;
    while i < b.len() {
        if !(b[i] == b'.' || b[i].is_ascii_digit()) {
            return Err(DurationError::Invalid);
        }
        // [0-9]*
        let start = i;
        let mut v: u64 = 0;
        while i < b.len() && b[i].is_ascii_digit() {
            if v > LIMIT / 10 {
                return Err(DurationError::Overflow);
            }
            v = v * 10 + (b[i] - b'0') as u64;
            if v > LIMIT {
                return Err(DurationError::Overflow);
            }
            i += 1;
        }
        let pre = i != start;
        // (\.[0-9]*)?
        let mut f: u64 = 0;
        let mut scale: f64 = 1.0;
        let mut post = false;
        if i < b.len() && b[i] == b'.' {
            i += 1;
            let fstart = i;
            let mut overflow = false;
            while i < b.len() && b[i].is_ascii_digit() {
                if !overflow {
                    if f > (LIMIT - 1) / 10 {
                        overflow = true;
                    } else {
                        let y = f * 10 + (b[i] - b'0') as u64;
                        if y > LIMIT {
                            overflow = true;
                        } else {
                            f = y;
                            scale *= 10.0;
                        }
                    }
                }
                i += 1;
            }
            post = i != fstart;
        }
        if !pre && !post {
            return Err(DurationError::Invalid);
        }
        // Unit: everything up to the next digit or '.'.
        let ustart = i;
        while i < b.len() && !(b[i] == b'.' || b[i].is_ascii_digit()) {
            i += 1;
        }
        if i == ustart {
            return Err(DurationError::Unit);
        }
        let (_, rest) = b.split_at(ustart);
        let (unit, _) = rest.split_at(i - ustart);
        let Some(unit) = duration_unit(unit) else { return Err(DurationError::Unit) };
        if v > LIMIT / unit {
            return Err(DurationError::Overflow);
        }
        v *= unit;
        if f > 0 {
            v += (f as f64 * (unit as f64 / scale)) as u64;
            if v > LIMIT {
                return Err(DurationError::Overflow);
            }
        }
        // Go adds in uint64 with wraparound (only reachable as 2^63 + 2^63).
        d = d.wrapping_add(v);
        if d > LIMIT {
            return Err(DurationError::Overflow);
        }
    }
    if neg {
        return Ok((d as i64).wrapping_neg());
    }
    if d > LIMIT - 1 {
        return Err(DurationError::Overflow);
    }
    Ok(d as i64)
}
