//! Record keys as file names: validation and escaped display.

use std::ffi::OsStr;
use std::fmt;
use std::os::unix::ffi::OsStrExt;

/// The name prefix reserved for temporary files: they are hidden (leading `.`), keys with this
/// prefix are rejected by [`validate_key`], and leftover files with it are removed when a
/// [`DirWriter`](super::DirWriter) opens the directory. Other names starting with `.` are keys.
pub const TEMP_PREFIX: &str = ".conduit-tmp-";

/// The longest key accepted, in bytes (Linux `NAME_MAX`).
pub const MAX_KEY_LEN: usize = 255;

/// How many bytes of a rejected key a [`KeyError`] keeps for its message.
const SHOWN_KEY_BYTES: usize = 64;

/// Checks that `key` is a single safe file name and returns it as a file name.
///
/// File names on Linux are bytes, so keys are too: any bytes are accepted, including non-UTF-8
/// sequences (the returned [`OsStr`] holds them unchanged), `\`, spaces and names starting with
/// `.`, except an empty key, one longer than [`MAX_KEY_LEN`] (255) bytes, one containing a NUL
/// byte or `/`, exactly `.` or `..`, and one starting with the reserved [`TEMP_PREFIX`].
///
/// The file system may still refuse a valid key (for example a shorter name limit or a
/// case-folding or UTF-8-only file system); that surfaces as an error from the write.
///
/// ```
/// use directory_destination::fs::validate_key;
///
/// assert!(validate_key(b"report.txt").is_ok());
/// assert!(validate_key(b".hidden").is_ok());
/// let err = validate_key(b"../etc/passwd").unwrap_err();
/// assert_eq!(err.to_string(), r#"invalid key "../etc/passwd": it contains '/' (a key must be a single file name)"#);
/// ```
pub fn validate_key(key: &[u8]) -> Result<&OsStr, KeyError> {
    let reason = if key.is_empty() {
        KeyErrorReason::Empty
    } else if key.len() > MAX_KEY_LEN {
        KeyErrorReason::TooLong { len: key.len() }
    } else if key.contains(&0) {
        KeyErrorReason::ContainsNul
    } else if key.contains(&b'/') {
        KeyErrorReason::ContainsSlash
    } else if key == b"." || key == b".." {
        KeyErrorReason::DotName
    } else if key.starts_with(TEMP_PREFIX.as_bytes()) {
        KeyErrorReason::ReservedPrefix
    } else {
        return Ok(OsStr::from_bytes(key));
    };
    Err(KeyError::new(key, reason))
}

/// A record key that cannot be used as a file name; see [`validate_key`].
///
/// Its message names the key (escaped as by [`escape_key`], shortened when very long) and the
/// reason, e.g. `invalid key "a/b": it contains '/' (a key must be a single file name)`.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("invalid key {shown}: {reason}")]
pub struct KeyError {
    /// The escaped key, shortened to its first [`SHOWN_KEY_BYTES`] bytes and its length.
    shown: String,
    reason: KeyErrorReason,
}

impl KeyError {
    fn new(key: &[u8], reason: KeyErrorReason) -> Self {
        let shown = key.get(..truncation_point(key, SHOWN_KEY_BYTES)).unwrap_or(key);
        let mut text = escape_key(shown).to_string();
        if shown.len() < key.len() {
            text += &format!("… ({} bytes)", key.len());
        }
        KeyError { shown: text, reason }
    }

    /// Why the key was rejected.
    pub fn reason(&self) -> &KeyErrorReason {
        &self.reason
    }
}

/// Why a key is not a safe file name.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum KeyErrorReason {
    /// The key is empty.
    #[error("it is empty (a key must be a non-empty file name)")]
    Empty,
    /// The key is longer than [`MAX_KEY_LEN`] bytes.
    #[error("it is {len} bytes long (a file name has at most {MAX_KEY_LEN} bytes)")]
    TooLong {
        /// The key's length in bytes.
        len: usize,
    },
    /// The key contains a NUL byte.
    #[error("it contains a NUL byte (not allowed in file names)")]
    ContainsNul,
    /// The key contains `/`.
    #[error("it contains '/' (a key must be a single file name)")]
    ContainsSlash,
    /// The key is `.` or `..`.
    #[error("\".\" and \"..\" name directories, not files")]
    DotName,
    /// The key starts with [`TEMP_PREFIX`].
    #[error("it starts with {TEMP_PREFIX:?}, the prefix reserved for temporary files")]
    ReservedPrefix,
}

/// Displays key bytes as a quoted, escaped string: UTF-8 text as Rust's `{:?}` of a `str`
/// (so `"`, `\` and control characters are escaped) and each byte that is not valid UTF-8 as
/// `\xNN`. The result is unambiguous: a literal backslash shows as `\\`.
///
/// ```
/// use directory_destination::fs::escape_key;
///
/// assert_eq!(escape_key(b"a.txt").to_string(), r#""a.txt""#);
/// assert_eq!(escape_key(b"caf\xc3\xa9\xff\n").to_string(), r#""café\xff\n""#);
/// ```
pub fn escape_key(key: &[u8]) -> impl fmt::Display + fmt::Debug + '_ {
    fmt::from_fn(move |f| {
        use fmt::Write as _;
        f.write_char('"')?;
        for chunk in key.utf8_chunks() {
            for c in chunk.valid().chars() {
                // `escape_debug` escapes `"` too, which is right inside our quotes.
                write!(f, "{}", c.escape_debug())?;
            }
            for b in chunk.invalid() {
                write!(f, "\\x{b:02x}")?;
            }
        }
        f.write_char('"')
    })
}

/// The largest length `<= max` that does not split a UTF-8 character in `key`, backing off over
/// at most 3 continuation bytes (`0b10xx_xxxx`; when `key` is not UTF-8 there, a split is
/// harmless: the bytes are shown escaped).
fn truncation_point(key: &[u8], max: usize) -> usize {
    let continues = |end: usize| key.get(end).is_some_and(|b| b & 0xC0 == 0x80);
    if key.len() <= max {
        return key.len();
    }
    (max.saturating_sub(2)..=max).rev().find(|&end| !continues(end)).unwrap_or(max.saturating_sub(3))
}
