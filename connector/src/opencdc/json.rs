//! The OpenCDC JSON codec, byte-identical to the Go SDK (`encoding/json` / goccy rules).
//!
//! Writing: field order `position, operation, metadata, key, payload{before, after}`, no field
//! is omitted, map keys sorted, HTML-safe string escaping, standard padded base64 for bytes and
//! Go's `float64` number formatting. Reading is serde_json with the Go SDK's rules (see
//! `serde_impls.rs`).

use std::fmt;
use std::io::{BufRead, ErrorKind, Read};

use serde_json::{Number, Value};

use super::base64;
use super::{Data, Metadata, ParseOperationError, Record, StructuredData};

/// Nesting limit for arrays and objects when reading (deeper input is a syntax error): the
/// record object and its `payload` object plus 256 levels of structured data, so every record
/// the plugin protocol accepts (structured data up to 256 levels deep) reads back from its JSON.
pub const MAX_DEPTH: usize = 258;

/// Where in the input a syntax error was found.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct JsonPosition {
    /// Byte offset from the start of the input (0-based).
    pub offset: usize,
    /// Line (1-based).
    pub line: usize,
    /// Column in bytes (1-based).
    pub column: usize,
}

impl fmt::Display for JsonPosition {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.line == 1 {
            write!(f, "column {}", self.column)
        } else {
            write!(f, "line {}, column {}", self.line, self.column)
        }
    }
}

/// An error reading an OpenCDC record from JSON.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum RecordError {
    /// The input is not valid JSON.
    #[error("invalid JSON at {position}: {message}")]
    Syntax {
        /// Where the error is.
        position: JsonPosition,
        /// What is wrong.
        message: String,
    },
    /// A field holds a JSON value of the wrong type.
    #[error("invalid field {field}: expected {expected}, found {found}")]
    InvalidType {
        /// The field, e.g. `key`, `payload.before`, `metadata["x"]`.
        field: String,
        /// What the field accepts.
        expected: &'static str,
        /// The JSON type found.
        found: &'static str,
    },
    /// A base64 field (position, raw data) is not valid padded standard base64.
    #[error("invalid field {field}: {message}")]
    InvalidBase64 {
        /// The field.
        field: String,
        /// What is wrong, e.g. `illegal base64 data at input byte 3`.
        message: String,
    },
    /// A number in structured data does not fit a 64-bit float.
    #[error("invalid field {field}: number {number} is out of range of a 64-bit float")]
    NumberOutOfRange {
        /// The field holding the number.
        field: String,
        /// The number as written.
        number: String,
    },
    /// The `operation` field is not a known operation.
    #[error("invalid field operation: {0}")]
    InvalidOperation(#[from] ParseOperationError),
    /// An error on a given line of a JSON-lines input ([`JsonLines`]).
    #[error("line {line}: {source}")]
    Line {
        /// The line number (1-based).
        line: usize,
        /// The error.
        source: Box<RecordError>,
    },
    /// A JSON-lines input has a line longer than the limit
    /// ([`JsonLines::max_line_bytes`]); the line was skipped without being
    /// held in memory.
    #[error("the line is longer than the limit of {limit} bytes")]
    LineTooLong {
        /// The limit in bytes (without the line's `\n`).
        limit: usize,
    },
    /// Reading a JSON-lines input failed.
    #[error("line {line}: failed to read input: {source}")]
    Io {
        /// The line being read (1-based).
        line: usize,
        /// The I/O error.
        source: std::io::Error,
    },
}

// ---------------------------------------------------------------------------------------------
// Writing
// ---------------------------------------------------------------------------------------------

const HEX: &[u8; 16] = b"0123456789abcdef";

/// 0 = copy as is; b'u' = `\u00XX`; other = two-byte escape `\X`; 1 = check for U+2028/2029.
const ESCAPE: [u8; 256] = {
    let mut t = [0u8; 256];
    let mut i = 0;
    while i < 0x20 {
        t[i] = b'u';
        i += 1;
    }
    t[b'\n' as usize] = b'n';
    t[b'\r' as usize] = b'r';
    t[b'\t' as usize] = b't';
    t[b'"' as usize] = b'"';
    t[b'\\' as usize] = b'\\';
    t[b'<' as usize] = b'u';
    t[b'>' as usize] = b'u';
    t[b'&' as usize] = b'u';
    t[0xE2] = 1;
    t
};

/// Appends `s` as a JSON string, escaped exactly as Go's `encoding/json` with HTML escaping:
/// `"` and `\` with a backslash, `\n` `\r` `\t` short, other controls and `<` `>` `&` as
/// `\u00XX`, U+2028 and U+2029 as `\u2028` and `\u2029`.
pub fn write_json_string(s: &str, out: &mut Vec<u8>) {
    let bytes = s.as_bytes();
    out.reserve(bytes.len() + 2);
    out.push(b'"');
    let mut start = 0;
    let mut i = 0;
    while i < bytes.len() {
        let b = bytes[i];
        let esc = ESCAPE[b as usize];
        if esc == 0 {
            i += 1;
            continue;
        }
        if esc == 1 {
            // U+2028 = E2 80 A8, U+2029 = E2 80 A9.
            if bytes.get(i + 1) == Some(&0x80) && matches!(bytes.get(i + 2), Some(0xA8 | 0xA9)) {
                out.extend_from_slice(&bytes[start..i]);
                out.extend_from_slice(if bytes[i + 2] == 0xA8 { b"\\u2028" } else { b"\\u2029" });
                i += 3;
                start = i;
            } else {
                i += 1;
            }
            continue;
        }
        out.extend_from_slice(&bytes[start..i]);
        if esc == b'u' {
            out.extend_from_slice(&[b'\\', b'u', b'0', b'0', HEX[(b >> 4) as usize], HEX[(b & 15) as usize]]);
        } else {
            out.extend_from_slice(&[b'\\', esc]);
        }
        i += 1;
        start = i;
    }
    out.extend_from_slice(&bytes[start..]);
    out.push(b'"');
}

/// Appends `bytes` as a JSON string holding their padded standard base64.
pub(crate) fn write_base64_string(bytes: &[u8], out: &mut Vec<u8>) {
    out.reserve(base64::encoded_len(bytes.len()) + 2);
    out.push(b'"');
    base64::encode_into(bytes, out);
    out.push(b'"');
}

fn write_u64(mut n: u64, out: &mut Vec<u8>) {
    let mut buf = [0u8; 20];
    let mut i = buf.len();
    loop {
        i -= 1;
        buf[i] = b'0' + (n % 10) as u8;
        n /= 10;
        if n == 0 {
            break;
        }
    }
    out.extend_from_slice(&buf[i..]);
}

fn write_i64(n: i64, out: &mut Vec<u8>) {
    if n < 0 {
        out.push(b'-');
    }
    write_u64(n.unsigned_abs(), out);
}

/// Appends `v` formatted as Go's `encoding/json` formats a `float64`: the shortest decimal
/// that round-trips, plain notation for `1e-6 <= |v| < 1e21` (integral values without `.0`,
/// negative zero as `-0`), otherwise exponent notation like `1e+21` or `1.5e-7`.
///
/// JSON cannot hold NaN or infinities (Go's encoder fails on them); they are written as
/// `null` so that encoding stays infallible.
pub fn write_json_f64(v: f64, out: &mut Vec<u8>) {
    use std::io::Write as _;
    if !v.is_finite() {
        out.extend_from_slice(b"null");
        return;
    }
    let abs = v.abs();
    if v.fract() == 0.0 && abs < 1e15 {
        if v == 0.0 && v.is_sign_negative() {
            out.extend_from_slice(b"-0");
        } else {
            // Exact: |v| < 1e15 < 2^63.
            write_i64(v as i64, out);
        }
        return;
    }
    if abs != 0.0 && !(1e-6..1e21).contains(&abs) {
        let start = out.len();
        // Writing to a Vec cannot fail.
        let _ = write!(out, "{v:e}");
        if let Some(e) = out[start..].iter().position(|&b| b == b'e') {
            let at = start + e + 1;
            if out.get(at) != Some(&b'-') {
                out.insert(at, b'+');
            }
        }
    } else {
        let _ = write!(out, "{v}");
    }
}

fn write_number(n: &Number, out: &mut Vec<u8>) {
    if let Some(u) = n.as_u64() {
        write_u64(u, out);
    } else if let Some(i) = n.as_i64() {
        write_i64(i, out);
    } else if let Some(f) = n.as_f64() {
        write_json_f64(f, out);
    } else {
        out.extend_from_slice(b"null");
    }
}

/// Appends `value` as JSON with Go's rules (sorted object keys, HTML-safe escaping, Go number
/// formatting; see [`write_json_f64`]).
pub fn write_json_value(value: &Value, out: &mut Vec<u8>) {
    match value {
        Value::Null => out.extend_from_slice(b"null"),
        Value::Bool(true) => out.extend_from_slice(b"true"),
        Value::Bool(false) => out.extend_from_slice(b"false"),
        Value::Number(n) => write_number(n, out),
        Value::String(s) => write_json_string(s, out),
        Value::Array(items) => {
            out.push(b'[');
            for (i, item) in items.iter().enumerate() {
                if i > 0 {
                    out.push(b',');
                }
                write_json_value(item, out);
            }
            out.push(b']');
        }
        Value::Object(map) => write_json_object(map, out),
    }
}

/// Appends `map` as a JSON object with keys in byte order (as Go sorts map keys), whatever
/// the iteration order of the map.
pub fn write_json_object(map: &StructuredData, out: &mut Vec<u8>) {
    out.push(b'{');
    let sorted = map.keys().zip(map.keys().skip(1)).all(|(a, b)| a < b);
    if sorted {
        for (i, (k, v)) in map.iter().enumerate() {
            write_member(i, k, v, out);
        }
    } else {
        let mut entries: Vec<(&String, &Value)> = map.iter().collect();
        entries.sort_by(|a, b| a.0.cmp(b.0));
        for (i, (k, v)) in entries.into_iter().enumerate() {
            write_member(i, k, v, out);
        }
    }
    out.push(b'}');
}

fn write_member(i: usize, k: &str, v: &Value, out: &mut Vec<u8>) {
    if i > 0 {
        out.push(b',');
    }
    write_json_string(k, out);
    out.push(b':');
    write_json_value(v, out);
}

/// Appends metadata as a JSON object; empty metadata is `null` (as a nil Go map).
pub(crate) fn write_metadata(metadata: &Metadata, out: &mut Vec<u8>) {
    if metadata.0.is_empty() {
        out.extend_from_slice(b"null");
        return;
    }
    out.push(b'{');
    for (i, (k, v)) in metadata.0.iter().enumerate() {
        if i > 0 {
            out.push(b',');
        }
        write_json_string(k, out);
        out.push(b':');
        write_json_string(v, out);
    }
    out.push(b'}');
}

fn write_data(data: Option<&Data>, out: &mut Vec<u8>) {
    match data {
        None => out.extend_from_slice(b"null"),
        Some(Data::Raw(bytes)) => write_base64_string(bytes, out),
        Some(Data::Structured(map)) => write_json_object(map, out),
    }
}

fn estimate_data(data: Option<&Data>) -> usize {
    match data {
        Some(Data::Raw(b)) => base64::encoded_len(b.len()) + 2,
        Some(Data::Structured(m)) => 2 + m.len() * 16,
        None => 4,
    }
}

impl Record {
    /// The record's OpenCDC JSON, byte-identical to the Go SDK's `Record.Bytes()`.
    ///
    /// Empty position and empty metadata are written as `null` (as Go's nil values), a
    /// missing key/before/after as `null`. Non-finite numbers in structured data (which JSON
    /// cannot hold) are written as `null`.
    pub fn to_json(&self) -> Vec<u8> {
        let mut out = Vec::new();
        self.write_json(&mut out);
        out
    }

    /// [`Record::to_json`] as a `String`.
    pub fn to_json_string(&self) -> String {
        // The encoder only writes ASCII punctuation, base64 and escaped UTF-8 strings.
        String::from_utf8(self.to_json()).unwrap_or_default()
    }

    /// Appends the record's JSON (see [`Record::to_json`]) to `out`, reusing its capacity.
    pub fn write_json(&self, out: &mut Vec<u8>) {
        let meta: usize = self.metadata.0.iter().map(|(k, v)| k.len() + v.len() + 6).sum();
        out.reserve(
            96 + base64::encoded_len(self.position.0.len())
                + meta
                + estimate_data(self.key.as_ref())
                + estimate_data(self.payload.before.as_ref())
                + estimate_data(self.payload.after.as_ref()),
        );
        out.extend_from_slice(b"{\"position\":");
        if self.position.0.is_empty() {
            out.extend_from_slice(b"null");
        } else {
            write_base64_string(&self.position.0, out);
        }
        out.extend_from_slice(b",\"operation\":\"");
        out.extend_from_slice(self.operation.as_str().as_bytes());
        out.extend_from_slice(b"\",\"metadata\":");
        write_metadata(&self.metadata, out);
        out.extend_from_slice(b",\"key\":");
        write_data(self.key.as_ref(), out);
        out.extend_from_slice(b",\"payload\":{\"before\":");
        write_data(self.payload.before.as_ref(), out);
        out.extend_from_slice(b",\"after\":");
        write_data(self.payload.after.as_ref(), out);
        out.extend_from_slice(b"}}");
    }

    /// Parses a record from its OpenCDC JSON (serde_json, with the rules of the Go SDK's
    /// reader; see [`Record`]'s `Deserialize`).
    ///
    /// Accepts what the Go SDK writes and reads: field names match case-insensitively (as
    /// Go's), unknown fields are ignored, missing fields keep their defaults, `null` position
    /// or metadata is empty, a key/before/after string is base64 raw data, an object is
    /// structured data (numbers become `f64`, as Go's `float64`), `null` is `None`. Strings
    /// must be valid UTF-8 without lone surrogate escapes (Go replaces those with U+FFFD).
    ///
    /// # Errors
    /// [`RecordError::Syntax`] for malformed JSON (with its line and column, and the field
    /// being read), otherwise the first [`RecordError::InvalidType`],
    /// [`RecordError::InvalidBase64`] or [`RecordError::InvalidOperation`] found.
    pub fn from_json(input: &[u8]) -> Result<Record, RecordError> {
        super::serde_impls::record_from_json(input)
    }
}

// ---------------------------------------------------------------------------------------------
// JSON lines
// ---------------------------------------------------------------------------------------------

/// Line buffers larger than this are released after use, so one huge line does not pin memory.
const MAX_RETAINED_LINE: usize = 1 << 20;

/// Reads OpenCDC records from JSON lines (one record per line), reusing one line buffer.
///
/// Blank lines (only spaces, tabs, `\r`) are skipped. Errors carry the 1-based line number
/// ([`RecordError::Line`], [`RecordError::Io`]); after an I/O error the iterator ends. With
/// [`max_line_bytes`](JsonLines::max_line_bytes) a longer line is an error for that line
/// ([`RecordError::LineTooLong`]) and reading goes on with the next one; memory stays bounded
/// by the limit whatever the input.
///
/// ```
/// use conduit_connector::opencdc::JsonLines;
/// let input = b"{\"position\":\"cG9zLTE=\",\"operation\":\"create\"}\n\n{\"operation\":\"delete\"}\n";
/// let records: Vec<_> = JsonLines::new(&input[..]).collect::<Result<_, _>>().unwrap();
/// assert_eq!(records.len(), 2);
/// ```
#[derive(Debug)]
pub struct JsonLines<R: BufRead> {
    reader: R,
    line: Vec<u8>,
    line_number: usize,
    max_line: usize,
    last_len: usize,
    done: bool,
}

impl<R: BufRead> JsonLines<R> {
    /// Reads records from `reader`; lines of any length (see
    /// [`max_line_bytes`](Self::max_line_bytes)).
    pub fn new(reader: R) -> Self {
        Self { reader, line: Vec::new(), line_number: 0, max_line: usize::MAX, last_len: 0, done: false }
    }

    /// Limits a line to `max` bytes (not counting its `\n`): a longer line is
    /// read past without being stored and reported as
    /// [`RecordError::LineTooLong`] (inside [`RecordError::Line`]).
    ///
    /// ```
    /// use conduit_connector::opencdc::{JsonLines, RecordError};
    /// let input = b"{\"operation\":\"create\"}\n{\"operation\":\"create\",\"key\":\"bG9uZyBrZXk=\"}\n{}\n";
    /// let items: Vec<_> = JsonLines::new(&input[..]).max_line_bytes(30).collect();
    /// assert!(items[0].is_ok() && items[2].is_ok());
    /// assert_eq!(items[1].as_ref().unwrap_err().to_string(), "line 2: the line is longer than the limit of 30 bytes");
    /// ```
    pub fn max_line_bytes(mut self, max: usize) -> Self {
        self.max_line = max;
        self
    }

    /// The length in bytes of the last line read, its `\n` included (for an
    /// overlong line: the bytes read past).
    pub fn last_line_len(&self) -> usize {
        self.last_len
    }

    /// The number of the last line read (1-based; 0 before the first).
    pub fn line_number(&self) -> usize {
        self.line_number
    }

    /// The underlying reader.
    pub fn into_inner(self) -> R {
        self.reader
    }
}

impl<R: BufRead> JsonLines<R> {
    /// Reads one line into `self.line`, at most `max_line` bytes plus its
    /// `\n`; the rest of a longer line is skipped without being stored.
    /// Returns the bytes consumed and whether the line was too long.
    fn read_line(&mut self) -> std::io::Result<(usize, bool)> {
        let room = u64::try_from(self.max_line).unwrap_or(u64::MAX).saturating_add(1);
        let read = retry(|| (&mut self.reader).take(room).read_until(b'\n', &mut self.line))?;
        let ends_line = self.line.last() == Some(&b'\n');
        if ends_line || (read as u64) < room {
            return Ok((read, false));
        }
        let skipped = retry(|| self.reader.skip_until(b'\n'))?;
        Ok((read + skipped, true))
    }
}

/// Repeats `op` while it is interrupted (`EINTR`).
fn retry<T>(mut op: impl FnMut() -> std::io::Result<T>) -> std::io::Result<T> {
    loop {
        match op() {
            Err(e) if e.kind() == ErrorKind::Interrupted => continue,
            other => return other,
        }
    }
}

impl<R: BufRead> Iterator for JsonLines<R> {
    type Item = Result<Record, RecordError>;

    fn next(&mut self) -> Option<Self::Item> {
        while !self.done {
            if self.line.capacity() > MAX_RETAINED_LINE {
                self.line = Vec::new();
            }
            self.line.clear();
            let read = self.read_line();
            match read {
                Ok((0, _)) => {
                    self.done = true;
                    return None;
                }
                Ok((len, too_long)) => {
                    self.last_len = len;
                    if too_long {
                        self.line_number += 1;
                        self.line = Vec::new();
                        let source = Box::new(RecordError::LineTooLong { limit: self.max_line });
                        return Some(Err(RecordError::Line { line: self.line_number, source }));
                    }
                }
                Err(source) => {
                    self.done = true;
                    return Some(Err(RecordError::Io { line: self.line_number + 1, source }));
                }
            }
            self.line_number += 1;
            let text = &self.line[..];
            if text.iter().all(|b| matches!(b, b' ' | b'\t' | b'\r' | b'\n')) {
                continue;
            }
            return Some(
                Record::from_json(text).map_err(|e| RecordError::Line { line: self.line_number, source: Box::new(e) }),
            );
        }
        None
    }
}
