//! A small `tracing` subscriber writing to stderr: plain text for the
//! command line, hclog-style JSON lines (`@level`, `@message`, other fields
//! as keys) in plugin mode, where Conduit parses the plugin's stderr.

use std::fmt::{self, Write as _};
use std::io::Write;
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

fn json_string(out: &mut String, s: &str) {
    out.push('"');
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            c if (c as u32) < 0x20 => {
                let _ = write!(out, "\\u{:04x}", c as u32);
            }
            c => out.push(c),
        }
    }
    out.push('"');
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
        let level = level_name(event.metadata().level());
        let mut line = String::with_capacity(64 + fields.message.len());
        match self.format {
            LogFormat::Json => {
                line.push_str("{\"@level\":");
                json_string(&mut line, level);
                line.push_str(",\"@message\":");
                json_string(&mut line, &fields.message);
                line.push_str(",\"@module\":");
                json_string(&mut line, event.metadata().target());
                for (k, v) in &fields.pairs {
                    line.push(',');
                    json_string(&mut line, k);
                    line.push(':');
                    json_string(&mut line, v);
                }
                line.push('}');
            }
            LogFormat::Text => {
                let _ = write!(line, "{:<5} {}", level.to_ascii_uppercase(), fields.message);
                for (k, v) in &fields.pairs {
                    let _ = write!(line, " {k}={v}");
                }
            }
        }
        line.push('\n');
        let _ = std::io::stderr().lock().write_all(line.as_bytes());
    }

    fn enter(&self, _span: &Id) {}

    fn exit(&self, _span: &Id) {}
}
