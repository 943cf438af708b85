//! A YAML scalar emitter that picks the style `gopkg.in/yaml.v3` (v3.0.1)
//! picks when it encodes a Go `string` in block context, so that the
//! generated connector.yaml is byte-for-byte what Go's specgen prints.
//!
//! The style is chosen in two steps, as yaml.v3 does:
//! 1. the encoder asks for a literal block (the string contains `\n`), plain
//!    (the string would read back as a string), or double-quoted (it would
//!    resolve to null, a bool, a number or a timestamp, or it is a YAML 1.1
//!    bool such as `yes`, or a base-60 float such as `1:30`);
//! 2. the emitter analyses the characters and falls back from plain to
//!    single-quoted (indicators, `": "`, `" #"`, leading or trailing space)
//!    and from single-quoted or literal to double-quoted (tabs, control
//!    characters, spaces next to line breaks).
//!
//! One deliberate difference: yaml.v3 writes U+2028 and U+2029 raw inside
//! single-quoted and literal scalars, where YAML 1.2 parsers read them as
//! content but YAML 1.1 parsers read them as line breaks. Here they count as
//! special characters, so such strings are double-quoted with `\L`/`\P`.

use crate::config::go;

/// How a scalar is written.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Style {
    /// `value`
    Plain,
    /// `'value'`
    SingleQuoted,
    /// `"value"`
    DoubleQuoted,
    /// `|-` block
    Literal,
}

/// What is written after `key:` — the scalar on the same line, or a block
/// header and indented lines. `indent` is the column of the block's content.
/// Returns `true` when the scalar leaves the document "open ended" (a `|+`
/// block), which yaml.v3 closes with `...` if nothing follows.
pub(crate) fn write_value(out: &mut String, value: &str, indent: usize) -> bool {
    match select_style(value) {
        Style::Plain => {
            out.push(' ');
            out.push_str(value);
            out.push('\n');
            false
        }
        Style::SingleQuoted => {
            out.push_str(" '");
            out.push_str(&value.replace('\'', "''"));
            out.push_str("'\n");
            false
        }
        Style::DoubleQuoted => {
            out.push(' ');
            write_double_quoted(out, value);
            out.push('\n');
            false
        }
        Style::Literal => write_literal(out, value, indent),
    }
}

/// The style yaml.v3 uses for `value` as a block-context mapping value.
pub(crate) fn select_style(value: &str) -> Style {
    let can_use_plain = !resolves_to_other_type(value) && !is_base60_float(value) && !is_old_bool(value);
    let analysis = analyze(value);
    if value.contains('\n') {
        if analysis.block_allowed { Style::Literal } else { Style::DoubleQuoted }
    } else if can_use_plain {
        if analysis.block_plain_allowed {
            Style::Plain
        } else if analysis.single_quoted_allowed {
            Style::SingleQuoted
        } else {
            Style::DoubleQuoted
        }
    } else {
        Style::DoubleQuoted
    }
}

// ---------------------------------------------------------------------------
// Character analysis (yaml_emitter_analyze_scalar)

#[derive(Debug)]
struct Analysis {
    block_plain_allowed: bool,
    single_quoted_allowed: bool,
    block_allowed: bool,
}

fn is_break(c: char) -> bool {
    matches!(c, '\r' | '\n' | '\u{85}' | '\u{2028}' | '\u{2029}')
}

fn is_blank(c: char) -> bool {
    c == ' ' || c == '\t'
}

/// yaml.v3's `is_printable` (for valid UTF-8), with U+2028/U+2029 treated as
/// unprintable (see the module docs).
fn is_printable(c: char) -> bool {
    matches!(c, '\n' | '\u{20}'..='\u{7E}' | '\u{A0}'..='\u{2027}' | '\u{202A}'..='\u{D7FF}')
        || (('\u{E000}'..='\u{FFFD}').contains(&c) && c != '\u{FEFF}')
}

fn analyze(value: &str) -> Analysis {
    if value.is_empty() {
        return Analysis { block_plain_allowed: true, single_quoted_allowed: true, block_allowed: false };
    }
    let mut block_indicators = value.starts_with("---") || value.starts_with("...");
    let mut line_breaks = false;
    let mut special_characters = false;
    let mut tab_characters = false;
    let mut leading_space = false;
    let mut leading_break = false;
    let mut trailing_space = false;
    let mut trailing_break = false;
    let mut break_space = false;
    let mut space_break = false;
    let mut preceded_by_whitespace = true;
    let mut previous_space = false;
    let mut previous_break = false;

    let mut chars = value.chars().peekable();
    let mut first = true;
    while let Some(c) = chars.next() {
        let next = chars.peek().copied();
        let followed_by_whitespace = next.is_none_or(is_blank);
        let last = next.is_none();
        if first {
            match c {
                '#' | ',' | '[' | ']' | '{' | '}' | '&' | '*' | '!' | '|' | '>' | '\'' | '"' | '%' | '@' | '`' => {
                    block_indicators = true;
                }
                '?' | ':' | '-' if followed_by_whitespace => block_indicators = true,
                _ => {}
            }
        } else {
            match c {
                ':' if followed_by_whitespace => block_indicators = true,
                '#' if preceded_by_whitespace => block_indicators = true,
                _ => {}
            }
        }
        if c == '\t' {
            tab_characters = true;
        } else if !is_printable(c) {
            special_characters = true;
        }
        if c == ' ' {
            leading_space |= first;
            trailing_space |= last;
            break_space |= previous_break;
            previous_space = true;
            previous_break = false;
        } else if is_break(c) {
            line_breaks = true;
            leading_break |= first;
            trailing_break |= last;
            space_break |= previous_space;
            previous_space = false;
            previous_break = true;
        } else {
            previous_space = false;
            previous_break = false;
        }
        preceded_by_whitespace = is_blank(c) || is_break(c) || c == '\0';
        first = false;
    }

    let mut a = Analysis { block_plain_allowed: true, single_quoted_allowed: true, block_allowed: true };
    if leading_space || leading_break || trailing_space || trailing_break {
        a.block_plain_allowed = false;
    }
    if trailing_space {
        a.block_allowed = false;
    }
    if break_space {
        a.block_plain_allowed = false;
        a.single_quoted_allowed = false;
    }
    if space_break || tab_characters || special_characters {
        a.block_plain_allowed = false;
        a.single_quoted_allowed = false;
    }
    if space_break || special_characters {
        a.block_allowed = false;
    }
    if line_breaks || block_indicators {
        a.block_plain_allowed = false;
    }
    a
}

// ---------------------------------------------------------------------------
// Writers

fn write_double_quoted(out: &mut String, value: &str) {
    out.push('"');
    for c in value.chars() {
        if is_printable(c) && !is_break(c) && c != '"' && c != '\\' {
            out.push(c);
            continue;
        }
        out.push('\\');
        match c {
            '\0' => out.push('0'),
            '\u{07}' => out.push('a'),
            '\u{08}' => out.push('b'),
            '\t' => out.push('t'),
            '\n' => out.push('n'),
            '\u{0B}' => out.push('v'),
            '\u{0C}' => out.push('f'),
            '\r' => out.push('r'),
            '\u{1B}' => out.push('e'),
            '"' => out.push('"'),
            '\\' => out.push('\\'),
            '\u{85}' => out.push('N'),
            '\u{A0}' => out.push('_'),
            '\u{2028}' => out.push('L'),
            '\u{2029}' => out.push('P'),
            _ => {
                let v = u32::from(c);
                let s = if v <= 0xFF {
                    format!("x{v:02X}")
                } else if v <= 0xFFFF {
                    format!("u{v:04X}")
                } else {
                    format!("U{v:08X}")
                };
                out.push_str(&s);
            }
        }
    }
    out.push('"');
}

/// A literal block: `|` with an indentation indicator when the text starts
/// with a space or a line break, and a chomping indicator (`-` without a
/// final line break, none with one, `+` with more).
fn write_literal(out: &mut String, value: &str, indent: usize) -> bool {
    out.push_str(" |");
    if value.starts_with([' ', '\n']) {
        out.push('2');
    }
    let keep = value == "\n" || value.ends_with("\n\n");
    if !value.ends_with('\n') {
        out.push('-');
    } else if keep {
        out.push('+');
    }
    out.push('\n');
    let mut line_start = true;
    for c in value.chars() {
        if c == '\n' {
            out.push('\n');
            line_start = true;
        } else {
            if line_start {
                out.extend(std::iter::repeat_n(' ', indent));
                line_start = false;
            }
            out.push(c);
        }
    }
    if !value.ends_with('\n') {
        out.push('\n');
    }
    keep
}

// ---------------------------------------------------------------------------
// Resolution of plain scalars (yaml.v3 resolve.go)

/// Whether yaml.v3 would read `s`, written plain, as something other than a
/// string: null, bool, int, float or timestamp.
fn resolves_to_other_type(s: &str) -> bool {
    let Some(&first) = s.as_bytes().first() else {
        return true; // "" is null
    };
    enum Hint {
        Sign,
        Map,
        Dot,
    }
    let hint = match first {
        b'+' | b'-' | b'0'..=b'9' => Hint::Sign,
        b'y' | b'Y' | b'n' | b'N' | b't' | b'T' | b'f' | b'F' | b'o' | b'O' | b'~' => Hint::Map,
        b'.' => Hint::Dot,
        _ => return false,
    };
    if matches!(
        s,
        "true"
            | "True"
            | "TRUE"
            | "false"
            | "False"
            | "FALSE"
            | "~"
            | "null"
            | "Null"
            | "NULL"
            | ".nan"
            | ".NaN"
            | ".NAN"
            | ".inf"
            | ".Inf"
            | ".INF"
            | "+.inf"
            | "+.Inf"
            | "+.INF"
            | "-.inf"
            | "-.Inf"
            | "-.INF"
    ) {
        return true;
    }
    match hint {
        Hint::Map => false,
        Hint::Dot => go::parse_float(s).is_some(),
        Hint::Sign => {
            if is_timestamp(s) {
                return true;
            }
            let plain = s.replace('_', "");
            if go_int_ok(&plain, 0) || is_yaml_style_float(&plain) && go::parse_float(&plain).is_some() {
                return true;
            }
            for prefix in ["0b", "0o"] {
                let base = if prefix == "0b" { 2 } else { 8 };
                if let Some(rest) = plain.strip_prefix(prefix) {
                    return go_int_ok(rest, base);
                }
                if let Some(rest) = plain.strip_prefix(&format!("-{prefix}")) {
                    return go_int_ok(&format!("-{rest}"), base);
                }
            }
            false
        }
    }
}

/// Whether Go's `strconv.ParseInt(s, base, 64)` or `ParseUint(s, base, 64)`
/// accepts `s` (`base` 0 means: detect `0x`, `0o`, `0b`, `0` prefixes).
/// Underscores must already be removed.
fn go_int_ok(s: &str, base: u32) -> bool {
    let (sign, digits) = match s.as_bytes().first() {
        Some(b'+') => (Some(false), &s[1..]),
        Some(b'-') => (Some(true), &s[1..]),
        _ => (None, s),
    };
    let (base, digits) = if base == 0 {
        let lower = digits.get(..2).map(str::to_ascii_lowercase);
        match lower.as_deref() {
            Some("0x") => (16, &digits[2..]),
            Some("0o") => (8, &digits[2..]),
            Some("0b") => (2, &digits[2..]),
            _ if digits.len() > 1 && digits.starts_with('0') => (8, &digits[1..]),
            _ => (10, digits),
        }
    } else {
        (base, digits)
    };
    if digits.is_empty() {
        return false;
    }
    let mut magnitude: u128 = 0;
    for c in digits.chars() {
        let Some(d) = c.to_digit(base) else {
            return false;
        };
        magnitude = (magnitude * u128::from(base) + u128::from(d)).min(u128::from(u64::MAX) + 1);
    }
    match sign {
        None => magnitude <= u128::from(u64::MAX),
        Some(false) => magnitude <= i64::MAX as u128,
        Some(true) => magnitude <= i64::MAX as u128 + 1,
    }
}

/// `^[-+]?(\.[0-9]+|[0-9]+(\.[0-9]*)?)([eE][-+]?[0-9]+)?$`
fn is_yaml_style_float(s: &str) -> bool {
    let b = s.as_bytes();
    let mut i = 0;
    let digits = |i: &mut usize| {
        let start = *i;
        while *i < b.len() && b[*i].is_ascii_digit() {
            *i += 1;
        }
        *i - start
    };
    if i < b.len() && (b[i] == b'+' || b[i] == b'-') {
        i += 1;
    }
    if i < b.len() && b[i] == b'.' {
        i += 1;
        if digits(&mut i) == 0 {
            return false;
        }
    } else {
        if digits(&mut i) == 0 {
            return false;
        }
        if i < b.len() && b[i] == b'.' {
            i += 1;
            digits(&mut i);
        }
    }
    if i < b.len() && (b[i] == b'e' || b[i] == b'E') {
        i += 1;
        if i < b.len() && (b[i] == b'+' || b[i] == b'-') {
            i += 1;
        }
        if digits(&mut i) == 0 {
            return false;
        }
    }
    i == b.len()
}

/// YAML 1.1 booleans yaml.v3 still quotes on output.
fn is_old_bool(s: &str) -> bool {
    matches!(
        s,
        "y" | "Y" | "yes" | "Yes" | "YES" | "on" | "On" | "ON" | "n" | "N" | "no" | "No" | "NO" | "off" | "Off" | "OFF"
    )
}

/// `^[-+]?[0-9][0-9_]*(?::[0-5]?[0-9])+(?:\.[0-9_]*)?$`
fn is_base60_float(s: &str) -> bool {
    let b = s.as_bytes();
    let mut i = 0;
    if i < b.len() && (b[i] == b'+' || b[i] == b'-') {
        i += 1;
    }
    if i >= b.len() || !b[i].is_ascii_digit() {
        return false;
    }
    while i < b.len() && (b[i].is_ascii_digit() || b[i] == b'_') {
        i += 1;
    }
    let mut groups = 0;
    while i < b.len() && b[i] == b':' {
        i += 1;
        let start = i;
        while i < b.len() && b[i].is_ascii_digit() && i - start < 2 {
            i += 1;
        }
        match i - start {
            1 => {}
            2 if b[start] <= b'5' => {}
            _ => return false,
        }
        groups += 1;
    }
    if groups == 0 {
        return false;
    }
    if i < b.len() && b[i] == b'.' {
        i += 1;
        while i < b.len() && (b[i].is_ascii_digit() || b[i] == b'_') {
            i += 1;
        }
    }
    i == b.len()
}

// ---------------------------------------------------------------------------
// Timestamps: Go's time.Parse with the layouts yaml.v3 tries.

/// Whether yaml.v3 reads `s` as a timestamp: `time.Parse` succeeds with one of
/// `2006-1-2T15:4:5.999999999Z07:00`, the same with `t`,
/// `2006-1-2 15:4:5.999999999` or `2006-1-2`.
fn is_timestamp(s: &str) -> bool {
    let b = s.as_bytes();
    let lead = b.iter().take_while(|c| c.is_ascii_digit()).count();
    if lead != 4 || lead == b.len() || b[lead] != b'-' {
        return false;
    }
    let mut cur = Cursor { b, i: 0 };
    let year = cur.fixed(4).unwrap_or(0);
    let Some(month) = cur.lit(b'-').then(|| cur.num()).flatten() else {
        return false;
    };
    let Some(day) = cur.lit(b'-').then(|| cur.num()).flatten() else {
        return false;
    };
    if !(1..=12).contains(&month) || day < 1 || day > days_in(month, year) {
        return false;
    }
    if cur.at_end() {
        return true; // 2006-1-2
    }
    let rest = cur.i;
    // 2006-1-2T15:4:5.999999999Z07:00 and 2006-1-2t15:4:5.999999999Z07:00
    for t in [b'T', b't'] {
        cur.i = rest;
        if cur.lit(t) && cur.clock() && cur.zone() && cur.at_end() {
            return true;
        }
    }
    // 2006-1-2 15:4:5.999999999
    cur.i = rest;
    if cur.lit(b' ') {
        while cur.peek() == Some(b' ') {
            cur.i += 1;
        }
        return cur.clock() && cur.at_end();
    }
    false
}

struct Cursor<'a> {
    b: &'a [u8],
    i: usize,
}

impl Cursor<'_> {
    fn peek(&self) -> Option<u8> {
        self.b.get(self.i).copied()
    }

    fn at_end(&self) -> bool {
        self.i == self.b.len()
    }

    fn lit(&mut self, c: u8) -> bool {
        if self.peek() == Some(c) {
            self.i += 1;
            true
        } else {
            false
        }
    }

    fn digit(&self, at: usize) -> Option<u32> {
        self.b.get(at).filter(|c| c.is_ascii_digit()).map(|c| u32::from(c - b'0'))
    }

    /// Go's `getnum(value, false)`: one or two digits.
    fn num(&mut self) -> Option<u32> {
        let first = self.digit(self.i)?;
        self.i += 1;
        match self.digit(self.i) {
            Some(second) => {
                self.i += 1;
                Some(first * 10 + second)
            }
            None => Some(first),
        }
    }

    fn fixed(&mut self, n: usize) -> Option<u32> {
        let mut v = 0;
        for k in 0..n {
            v = v * 10 + self.digit(self.i + k)?;
        }
        self.i += n;
        Some(v)
    }

    /// `15:4:5.999999999`
    fn clock(&mut self) -> bool {
        let Some(hour) = self.num() else { return false };
        let Some(min) = self.lit(b':').then(|| self.num()).flatten() else {
            return false;
        };
        let Some(sec) = self.lit(b':').then(|| self.num()).flatten() else {
            return false;
        };
        if hour >= 24 || min >= 60 || sec >= 60 {
            return false;
        }
        if matches!(self.peek(), Some(b'.' | b',')) && self.digit(self.i + 1).is_some() {
            self.i += 1;
            while self.digit(self.i).is_some() {
                self.i += 1;
            }
        }
        true
    }

    /// `Z07:00`: `Z` or `±hh:mm`.
    fn zone(&mut self) -> bool {
        if self.lit(b'Z') {
            return true;
        }
        let b = &self.b[self.i..];
        if b.len() < 6 || b[3] != b':' || !matches!(b[0], b'+' | b'-') {
            return false;
        }
        let start = self.i;
        self.i += 1;
        let Some(hh) = self.fixed(2) else { return false };
        self.i = start + 4;
        let Some(mm) = self.fixed(2) else { return false };
        hh <= 24 && mm <= 60
    }
}

fn days_in(month: u32, year: u32) -> u32 {
    match month {
        2 if year.is_multiple_of(4) && (!year.is_multiple_of(100) || year.is_multiple_of(400)) => 29,
        2 => 28,
        4 | 6 | 9 | 11 => 30,
        _ => 31,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn timestamps_follow_go_time_parse() {
        for s in ["2006-01-02", "2006-1-2", "2001-12-14t21:59:43.10Z", "2001-12-14 21:59:43.10", "2024-02-29"] {
            assert!(is_timestamp(s), "{s}");
        }
        for s in ["2006-13-02", "2023-02-29", "2006-01-02x", "20060-01-02", "2006-01-02T10:00:00", "2006-1-2 "] {
            assert!(!is_timestamp(s), "{s}");
        }
    }

    #[test]
    fn base60_floats_are_detected() {
        for s in ["1:30", "-1:30:59", "190:20:30.15", "1_0:5"] {
            assert!(is_base60_float(s), "{s}");
        }
        for s in ["1:60", "a:1", "1:", "1::2", "1:123"] {
            assert!(!is_base60_float(s), "{s}");
        }
    }

    #[test]
    fn go_integers_cover_prefixes_and_ranges() {
        for s in ["0x10", "0X1f", "0o7", "0b101", "01", "+1", "-9223372036854775808", "18446744073709551615"] {
            assert!(go_int_ok(s, 0), "{s}");
        }
        for s in ["08", "0x", "18446744073709551616", "-9223372036854775809", "+18446744073709551615", "1e3"] {
            assert!(!go_int_ok(s, 0), "{s}");
        }
    }
}
