//! A small `tracing` subscriber writing to stderr: plain text for the
//! command line, hclog-style JSON lines (`@level`, `@message`, other fields
//! as keys) in plugin mode, where Conduit parses the plugin's stderr.
//!
//! Text that comes from a record (a position, a key, an error naming them) can
//! hold anything: newlines that forge log lines, escape sequences that drive a
//! terminal, bidi overrides that reorder what a reader sees. [`escape`] makes
//! such text safe to print; both log formats apply it to every message and
//! field, and the command line applies it to its summary.

use std::borrow::Cow;
use std::fmt::{self, Write as _};
use std::io::Write;
use std::sync::Mutex;
use std::sync::atomic::{AtomicU64, Ordering};

use tracing::field::{Field, Visit};
use tracing::span::{Attributes, Id, Record as SpanRecord};
use tracing::{Event, Level, Metadata, Subscriber};

/// How log lines are written.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LogFormat {
    /// `LEVEL message key=value` lines.
    Text,
    /// hclog JSON lines: `{"@level":"info","@message":"…","key":"value"}`.
    Json,
}

/// The subscriber.
#[derive(Debug)]
pub struct StderrLogger {
    format: LogFormat,
    max: Level,
    next_span: AtomicU64,
}

impl StderrLogger {
    /// A logger with the given format and most verbose level.
    pub fn new(format: LogFormat, max: Level) -> Self {
        StderrLogger { format, max, next_span: AtomicU64::new(1) }
    }

    /// Installs it as the global default (ignored if one is already set).
    pub fn install(self) {
        let _ = tracing::subscriber::set_global_default(self);
    }
}

/// The progress bar `run` draws on stderr while it runs, if any.
static PROGRESS_BAR: Mutex<Option<indicatif::ProgressBar>> = Mutex::new(None);

/// Sets (or, with `None`, forgets) the progress bar that [`write_stderr`] writes above.
pub(crate) fn set_progress_bar(bar: Option<indicatif::ProgressBar>) {
    *PROGRESS_BAR.lock().unwrap_or_else(std::sync::PoisonError::into_inner) = bar;
}

/// The progress bar [`write_stderr`] writes above, if one is drawn.
pub(crate) fn progress_bar() -> Option<indicatif::ProgressBar> {
    PROGRESS_BAR.lock().unwrap_or_else(std::sync::PoisonError::into_inner).clone()
}

/// Writes `text` (whole lines) to stderr: log lines and the command line's messages. While
/// `run` draws its progress bar, the bar is cleared for the write and redrawn below the text,
/// so neither garbles the other. A closed or broken stderr is ignored (there is nowhere left
/// to report it).
pub(crate) fn write_stderr(text: &[u8]) {
    let write = || {
        let _ = std::io::stderr().lock().write_all(text);
    };
    match progress_bar() {
        Some(bar) => bar.suspend(write),
        None => write(),
    }
}

/// Parses Conduit's `CONDUIT_CONNECTOR_LOG_LEVEL` (trace, debug, info, warn,
/// error; default trace as the Go SDK).
pub fn level_from_env(value: Option<&str>) -> Level {
    match value.map(|v| v.trim().to_ascii_lowercase()).as_deref() {
        Some("debug") => Level::DEBUG,
        Some("info") => Level::INFO,
        Some("warn") | Some("warning") => Level::WARN,
        Some("error") | Some("fatal") | Some("panic") => Level::ERROR,
        _ => Level::TRACE,
    }
}

fn level_name(level: &Level) -> &'static str {
    match *level {
        Level::TRACE => "trace",
        Level::DEBUG => "debug",
        Level::INFO => "info",
        Level::WARN => "warn",
        _ => "error",
    }
}

#[derive(Default)]
struct Fields {
    message: String,
    pairs: Vec<(&'static str, String)>,
}

impl Visit for Fields {
    fn record_str(&mut self, field: &Field, value: &str) {
        if field.name() == "message" {
            self.message.push_str(value);
        } else {
            self.pairs.push((field.name(), value.to_owned()));
        }
    }

    fn record_debug(&mut self, field: &Field, value: &dyn fmt::Debug) {
        if field.name() == "message" {
            let _ = write!(self.message, "{value:?}");
        } else {
            self.pairs.push((field.name(), format!("{value:?}")));
        }
    }
}

/// Whether `c` must not reach a log or a terminal as is: a control character
/// (C0, DEL, C1 U+0080–U+009F), a format character (general category Cf: bidi
/// embeddings, overrides and isolates U+202A–U+202E and U+2066–U+2069, zero-width
/// characters, the BOM, tag characters, …) or a line or paragraph separator
/// (U+2028, U+2029).
pub fn is_unsafe_char(c: char) -> bool {
    if c.is_ascii() {
        return c.is_ascii_control();
    }
    if c.is_control() {
        return true;
    }
    crate::unicode::is_format_or_separator(c)
}

/// Makes text from a record safe to print in a log line, a summary or on a
/// terminal: every character for which [`is_unsafe_char`] holds is replaced by
/// a visible escape — `\n`, `\r`, `\t`, `\xNN` for the other ASCII controls,
/// `\u{NNNN}` for the rest (C1 controls, bidi overrides and isolates, other
/// format characters, U+2028/U+2029). Everything else, backslashes and quotes
/// included, is left as is, so text that is already quoted or escaped stays
/// readable and escaping twice changes nothing. The result is one line that
/// cannot move the cursor, change colours or reorder the text around it.
///
/// Returns the input borrowed when nothing needs escaping.
///
/// ```
/// use conduit_connector::log::escape;
/// assert_eq!(escape("p1"), "p1");
/// assert_eq!(escape("a\nFORGED \x1b[31m"), "a\\nFORGED \\x1b[31m");
/// assert_eq!(escape("\u{202e}gnp.exe \u{85}"), "\\u{202e}gnp.exe \\u{85}");
/// ```
pub fn escape(s: &str) -> Cow<'_, str> {
    if s.bytes().all(|b| (0x20..0x7f).contains(&b)) || !s.chars().any(is_unsafe_char) {
        return Cow::Borrowed(s);
    }
    let mut out = String::with_capacity(s.len() + 16);
    for c in s.chars() {
        if !is_unsafe_char(c) {
            out.push(c);
            continue;
        }
        match c {
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            c if c.is_ascii() => {
                let _ = write!(out, "\\x{:02x}", c as u32);
            }
            c => {
                let _ = write!(out, "\\u{{{:x}}}", c as u32);
            }
        }
    }
    Cow::Owned(out)
}

/// Appends `s` as a JSON string: `"` and `\` escaped, `\n` `\r` `\t` short,
/// every other character for which [`is_unsafe_char`] holds (C0 and C1
/// controls, DEL, bidi and other format characters, U+2028/U+2029) as
/// `\uXXXX` (UTF-16, surrogate pairs above U+FFFF), so a log line stays one
/// line and carries nothing that a terminal or a viewer would act on.
fn json_string(out: &mut String, s: &str) {
    out.push('"');
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            c if is_unsafe_char(c) => {
                let mut units = [0u16; 2];
                for unit in c.encode_utf16(&mut units) {
                    let _ = write!(out, "\\u{unit:04x}");
                }
            }
            c => out.push(c),
        }
    }
    out.push('"');
}

/// One log line, newline included. Every message and field value is escaped
/// ([`escape`] for text, [`json_string`] for JSON): one event is one line.
fn render(format: LogFormat, level: &Level, target: &str, fields: &Fields) -> String {
    let level = level_name(level);
    let mut line = String::with_capacity(64 + fields.message.len());
    match format {
        LogFormat::Json => {
            line.push_str("{\"@level\":");
            json_string(&mut line, level);
            line.push_str(",\"@message\":");
            json_string(&mut line, &fields.message);
            line.push_str(",\"@module\":");
            json_string(&mut line, target);
            for (k, v) in &fields.pairs {
                line.push(',');
                json_string(&mut line, k);
                line.push(':');
                json_string(&mut line, v);
            }
            line.push('}');
        }
        LogFormat::Text => {
            let _ = write!(line, "{:<5} {}", level.to_ascii_uppercase(), escape(&fields.message));
            for (k, v) in &fields.pairs {
                let _ = write!(line, " {k}={}", escape(v));
            }
        }
    }
    line.push('\n');
    line
}

impl Subscriber for StderrLogger {
    fn enabled(&self, metadata: &Metadata<'_>) -> bool {
        *metadata.level() <= self.max
    }

    fn new_span(&self, _span: &Attributes<'_>) -> Id {
        Id::from_u64(self.next_span.fetch_add(1, Ordering::Relaxed))
    }

    fn record(&self, _span: &Id, _values: &SpanRecord<'_>) {}

    fn record_follows_from(&self, _span: &Id, _follows: &Id) {}

    fn event(&self, event: &Event<'_>) {
        let mut fields = Fields::default();
        event.record(&mut fields);
        let line = render(self.format, event.metadata().level(), event.metadata().target(), &fields);
        write_stderr(line.as_bytes());
    }

    fn enter(&self, _span: &Id) {}

    fn exit(&self, _span: &Id) {}
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Every character a hostile record could use to forge lines or drive a terminal.
    const HOSTILE: &[char] = &[
        '\n',
        '\r',
        '\t',
        '\0',
        '\x1b',
        '\x07',
        '\x7f',
        '\u{80}',
        '\u{85}',
        '\u{9b}',
        '\u{9f}',
        '\u{ad}',
        '\u{61c}',
        '\u{200b}',
        '\u{200e}',
        '\u{200f}',
        '\u{2028}',
        '\u{2029}',
        '\u{202a}',
        '\u{202b}',
        '\u{202c}',
        '\u{202d}',
        '\u{202e}',
        '\u{2066}',
        '\u{2067}',
        '\u{2068}',
        '\u{2069}',
        '\u{feff}',
        '\u{e0001}',
        '\u{e0041}',
    ];

    #[test]
    fn escape_leaves_no_control_format_or_bidi_character() {
        for &c in HOSTILE {
            let s = format!("a{c}b");
            let escaped = escape(&s);
            assert!(escaped.chars().all(|c| !c.is_control() && !HOSTILE.contains(&c)), "{c:?} -> {escaped:?}");
            assert!(escaped.starts_with('a') && escaped.ends_with('b') && escaped.len() > 3, "{c:?} -> {escaped:?}");
        }
        assert_eq!(escape("pos\n\x1b[2J\u{202e}\u{85}"), "pos\\n\\x1b[2J\\u{202e}\\u{85}");
    }

    #[test]
    fn escape_keeps_printable_text_and_is_idempotent() {
        for s in ["p1", "a\\b \"q\"", "é ü 日本 🦀 \u{a0}", r#"{"id":7}"#] {
            assert!(matches!(escape(s), Cow::Borrowed(_)), "{s:?}");
        }
        let once = escape("x\u{202e}\n\u{9b}y").into_owned();
        assert_eq!(escape(&once), once);
    }

    fn fields(message: &str, value: &str) -> Fields {
        Fields { message: message.to_owned(), pairs: vec![("position", value.to_owned())] }
    }

    #[test]
    fn text_lines_escape_messages_and_fields() {
        let hostile: String = HOSTILE.iter().collect();
        let line = render(LogFormat::Text, &Level::ERROR, "t", &fields(&format!("m{hostile}"), &hostile));
        assert_eq!(line.matches('\n').count(), 1, "{line:?}");
        assert!(line.ends_with('\n'));
        assert!(line.trim_end().chars().all(|c| !c.is_control() && !HOSTILE.contains(&c)), "{line:?}");
        assert!(line.starts_with("ERROR m\\n\\r\\t\\x00\\x1b"), "{line:?}");
    }

    #[test]
    fn json_lines_escape_c1_bidi_and_format_characters_as_unicode_escapes() {
        let hostile: String = HOSTILE.iter().collect();
        let line = render(LogFormat::Json, &Level::ERROR, "t", &fields("m", &hostile));
        assert_eq!(line.matches('\n').count(), 1, "{line:?}");
        assert!(line.trim_end().chars().all(|c| !c.is_control() && !HOSTILE.contains(&c)), "{line:?}");
        for escaped in ["\\u0085", "\\u009b", "\\u202e", "\\u2066", "\\u2028", "\\ufeff", "\\udb40\\udc01"] {
            assert!(line.contains(escaped), "{escaped} in {line}");
        }
        let value: serde_json::Value = serde_json::from_str(line.trim_end()).expect("valid JSON");
        assert_eq!(value["position"].as_str(), Some(hostile.as_str()), "the JSON decodes to the original text");
    }
}
