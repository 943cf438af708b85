//! The default destination middleware and its `sdk.*` parameters: batching,
//! rate limiting, record format and schema extraction.

use std::collections::HashMap;
use std::fmt;
use std::sync::Arc;
use std::time::Duration;

use crate::Config;
// The derive by its crate name: it is there with `runtime` even without the `derive` feature.
use crate::config::{ConfigError, ConfigErrors, ConfigMap, IntoConfigMap, Parameters};
use crate::opencdc::{DEFAULT_RAW_DATA_KEY, Data, Metadata, MetadataError, Record};
use crate::schema::avro::AvroSchema;
use crate::schema::{SchemaError, SchemaService, SchemaType};
use conduit_connector_derive::Config as DeriveConfig;

/// The `sdk.*` parameters every destination gets, with Conduit's names,
/// defaults, validations and descriptions.
///
/// The SDK adds them to every destination's parameters; a connector's own
/// config type does not include them. Derived like any user config (the
/// descriptions are Go's, word for word).
#[derive(Debug, Clone, PartialEq, DeriveConfig)]
#[config(validate = Self::check)]
pub struct DefaultDestinationMiddleware {
    /// `sdk.batch.delay`: maximum delay before an incomplete batch is written.
    #[param(
        name = "sdk.batch.delay",
        default = "0",
        description = "Maximum delay before an incomplete batch is written to the destination."
    )]
    pub batch_delay: Duration,
    /// `sdk.batch.size`: maximum size of a batch before it is written.
    #[param(
        name = "sdk.batch.size",
        default = 0,
        gt = -1,
        description = "Maximum size of batch before it gets written to the destination."
    )]
    pub batch_size: usize,
    /// `sdk.rate.burst`: bursts of at most this many records (0 = `ceil(rate)`).
    #[param(
        name = "sdk.rate.burst",
        default = 0,
        gt = -1,
        description = "Allow bursts of at most X records (0 or less means that bursts are not\n\
                       limited). Only takes effect if a rate limit per second is set. Note that\n\
                       if `sdk.batch.size` is bigger than `sdk.rate.burst`, the effective batch\n\
                       size will be equal to `sdk.rate.burst`."
    )]
    pub rate_burst: usize,
    /// `sdk.rate.perSecond`: records written per second (0 = no limit).
    #[param(
        name = "sdk.rate.perSecond",
        default = 0,
        gt = -1,
        description = "Maximum number of records written per second (0 means no rate limit)."
    )]
    pub rate_per_second: f64,
    /// `sdk.record.format`: the output record format.
    #[param(
        name = "sdk.record.format",
        default = "opencdc/json",
        description = "The format of the output record. See the Conduit documentation for a full\n\
                       list of supported formats \
                       (https://conduitdata.io/docs/using/connectors/configuration-parameters/output-format)."
    )]
    pub record_format: String,
    /// `sdk.record.format.options`: options of the output record format.
    #[param(
        name = "sdk.record.format.options",
        description = "Options to configure the chosen output record format. Options are normally\n\
                       key=value pairs separated with comma (e.g. opt1=val2,opt2=val2), except\n\
                       for the `template` record format, where options are a Go template."
    )]
    pub record_format_options: String,
    /// `sdk.schema.extract.key.enabled`.
    #[param(
        name = "sdk.schema.extract.key.enabled",
        default = true,
        description = "Whether to extract and decode the record key with a schema."
    )]
    pub schema_extract_key: bool,
    /// `sdk.schema.extract.payload.enabled`.
    #[param(
        name = "sdk.schema.extract.payload.enabled",
        default = true,
        description = "Whether to extract and decode the record payload with a schema."
    )]
    pub schema_extract_payload: bool,
}

impl Default for DefaultDestinationMiddleware {
    fn default() -> Self {
        DefaultDestinationMiddleware {
            batch_delay: Duration::ZERO,
            batch_size: 0,
            rate_burst: 0,
            rate_per_second: 0.0,
            record_format: "opencdc/json".to_owned(),
            record_format_options: String::new(),
            schema_extract_key: true,
            schema_extract_payload: true,
        }
    }
}

impl DefaultDestinationMiddleware {
    fn check(&self) -> Result<(), ConfigErrors> {
        // Only the errors: the warning about ignored options comes from
        // `record_format()`, once, when the runner is configured.
        RecordFormat::parse_quiet(&self.record_format, &self.record_format_options).map(|_| ())
    }

    /// The record format these settings select.
    pub fn record_format(&self) -> Result<RecordFormat, ConfigErrors> {
        RecordFormat::parse(&self.record_format, &self.record_format_options)
    }

    /// Parses only the `sdk.*` keys of `config` (other keys are ignored).
    pub fn from_sdk_keys(config: impl IntoConfigMap) -> Result<Self, ConfigErrors> {
        let mut only_sdk = ConfigMap::new();
        config.for_each_entry(&mut |k, v| {
            if k.trim().starts_with("sdk.") {
                only_sdk.insert(k, v);
            }
        });
        Self::from_config(only_sdk)
    }

    /// The parameters of the middleware (`sdk.*`).
    pub fn sdk_parameters() -> Parameters {
        <Self as Config>::parameters()
    }
}

/// The output format chosen with `sdk.record.format`: what
/// [`Batch::encode`](crate::destination::Batch::encode) produces.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub enum RecordFormat {
    /// `opencdc/json`: the record's OpenCDC JSON (the default).
    #[default]
    OpenCdcJson,
    /// `debezium/json`: a Kafka Connect envelope with the Debezium payload.
    DebeziumJson {
        /// `debezium.schema.name` (empty = none).
        schema_name: Option<String>,
        /// `debezium.rawData.key` (default `opencdc.rawData`).
        raw_data_key: String,
    },
}

impl RecordFormat {
    const KNOWN: &'static str = "[debezium/json opencdc/json template]";

    /// Parses `sdk.record.format` and `sdk.record.format.options`.
    ///
    /// Options the format does not know are ignored, as the Go SDK's
    /// converters ignore them, and named in one warning (a `tracing` event
    /// at WARN), so a misspelled option does not go unnoticed. An empty
    /// `debezium.rawData.key` means the default, as in Go.
    ///
    /// `template` (Go templates) is not available in the Rust SDK and is
    /// rejected with a clear error instead of being silently ignored.
    pub fn parse(format: &str, options: &str) -> Result<RecordFormat, ConfigErrors> {
        let opts = parse_options(options);
        let parsed = Self::from_options(format, &opts)?;
        let ignored: Vec<String> = opts
            .iter()
            // An empty item (`a=1,,b=2`, a trailing comma) names no option.
            .filter(|&&(k, v)| !k.is_empty() || !v.is_empty())
            .filter(|(k, _)| !parsed.uses(k))
            .map(|(k, _)| quote(k))
            .collect();
        if !ignored.is_empty() {
            tracing::warn!(
                "ignoring unknown sdk.record.format.options for {}: {} (known options: {})",
                quote(format),
                ignored.join(", "),
                parsed.known_options(),
            );
        }
        Ok(parsed)
    }

    /// [`parse`](Self::parse) without the warning.
    fn parse_quiet(format: &str, options: &str) -> Result<RecordFormat, ConfigErrors> {
        Self::from_options(format, &parse_options(options))
    }

    fn from_options(format: &str, opts: &[(&str, &str)]) -> Result<RecordFormat, ConfigErrors> {
        match format {
            "opencdc/json" => Ok(RecordFormat::OpenCdcJson),
            "debezium/json" => {
                let mut schema_name = None;
                let mut raw_data_key = DEFAULT_RAW_DATA_KEY;
                // Later items win, as in Go's option map.
                for &(k, v) in opts {
                    match k {
                        "debezium.schema.name" => schema_name = Some(v).filter(|s| !s.is_empty()),
                        "debezium.rawData.key" => raw_data_key = if v.is_empty() { DEFAULT_RAW_DATA_KEY } else { v },
                        _ => {}
                    }
                }
                Ok(RecordFormat::DebeziumJson {
                    schema_name: schema_name.map(str::to_owned),
                    raw_data_key: raw_data_key.to_owned(),
                })
            }
            "template" => Err(ConfigError::custom(
                "sdk.record.format",
                "the \"template\" record format (Go text/template) is not supported by the Rust SDK; \
                 use \"opencdc/json\" or \"debezium/json\"",
            )
            .into()),
            other => Err(ConfigError::custom(
                "sdk.record.format",
                format!("invalid sdk.record.format: {} not found in {}", quote(other), Self::KNOWN),
            )
            .into()),
        }
    }

    /// Whether this format reads the option `name`.
    fn uses(&self, name: &str) -> bool {
        match self {
            RecordFormat::OpenCdcJson => false,
            RecordFormat::DebeziumJson { .. } => matches!(name, "debezium.schema.name" | "debezium.rawData.key"),
        }
    }

    /// The options this format reads, for the warning about the others.
    fn known_options(&self) -> &'static str {
        match self {
            RecordFormat::OpenCdcJson => "none",
            RecordFormat::DebeziumJson { .. } => "debezium.schema.name, debezium.rawData.key",
        }
    }

    /// Appends `record` in this format to `out`.
    pub fn encode(&self, record: &Record, out: &mut Vec<u8>) {
        match self {
            RecordFormat::OpenCdcJson => record.write_json(out),
            RecordFormat::DebeziumJson { schema_name, raw_data_key } => {
                crate::opencdc::to_debezium_json(record, schema_name.as_deref(), raw_data_key, out)
            }
        }
    }
}

fn quote(s: &str) -> String {
    crate::config::go::quote(s)
}

/// Generic `<converter>/<encoder>` options, as Go's `parseFormatOptions`:
/// trimmed, split on `,`, each item split on the first `=` (a missing value
/// is `""`); the items themselves are not trimmed.
fn parse_options(options: &str) -> Vec<(&str, &str)> {
    let options = options.trim();
    if options.is_empty() {
        return Vec::new();
    }
    options.split(',').map(|item| item.split_once('=').unwrap_or((item, ""))).collect()
}

/// Whether a record names a schema for its key or payload in its metadata
/// (subject or version set), considering only the enabled parts.
pub fn has_schema_metadata(record: &Record, key: bool, payload: bool) -> bool {
    let md = &record.metadata.0;
    let set = |k: &str| md.get(k).is_some_and(|v| !v.is_empty());
    (key && (set(Metadata::KEY_SCHEMA_SUBJECT) || set(Metadata::KEY_SCHEMA_VERSION)))
        || (payload && (set(Metadata::PAYLOAD_SCHEMA_SUBJECT) || set(Metadata::PAYLOAD_SCHEMA_VERSION)))
}

/// Go's warning for a record without a key schema (logged once per runner).
pub const NO_KEY_SCHEMA_WARNING: &str = "record does not have an attached schema for the key, consider disabling the \
     destination schema key decoding using \"sdk.schema.extract.key.enabled: false\"";
/// Go's warning for a record without a payload schema (logged once per runner).
pub const NO_PAYLOAD_SCHEMA_WARNING: &str = "record does not have an attached schema for the payload, consider \
     disabling the destination schema payload decoding using \"sdk.schema.extract.payload.enabled: false\"";

/// Schema extraction (`sdk.schema.extract.key.enabled`,
/// `sdk.schema.extract.payload.enabled`), as the Go SDK's
/// `DestinationWithSchemaExtraction`.
///
/// For the key, and for the payload (`before` and `after`), when enabled: if
/// the metadata names a schema subject and version
/// (`opencdc.key.schema.*`, `opencdc.payload.schema.*`) and the data is raw,
/// the schema is fetched from the [`SchemaService`] and the Avro bytes are
/// decoded into structured data. Structured data is left alone. Without the
/// metadata the data is left alone and one warning (Go's text) is logged per
/// runner. A malformed version, a schema that cannot be fetched or parsed,
/// bytes that do not decode, or no schema service at all fail the record
/// with an error naming `subject:version` and what failed.
///
/// The parsed schemas are kept per subject and version, so each is fetched
/// and parsed once per runner (and the service's own cache makes it once per
/// process).
pub struct SchemaExtraction {
    /// Whether keys are decoded.
    pub key: bool,
    /// Whether payloads are decoded.
    pub payload: bool,
    service: Option<Arc<dyn SchemaService>>,
    parsed: HashMap<(String, i32), Arc<ParsedSchema>>,
    warned_key: bool,
    warned_payload: bool,
}

impl fmt::Debug for SchemaExtraction {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SchemaExtraction")
            .field("key", &self.key)
            .field("payload", &self.payload)
            .field("service", &self.service)
            .field("schemas", &self.parsed.len())
            .finish()
    }
}

/// Which part of a record is decoded (for error texts).
#[derive(Clone, Copy)]
enum Part {
    Key,
    Payload,
}

impl Part {
    fn name(self) -> &'static str {
        match self {
            Part::Key => "key",
            Part::Payload => "payload",
        }
    }
}

impl SchemaExtraction {
    /// Settings from the middleware config, without a schema service (a
    /// record that needs decoding fails with [`SchemaError::NoService`]).
    pub fn new(key: bool, payload: bool) -> Self {
        SchemaExtraction {
            key,
            payload,
            service: None,
            parsed: HashMap::new(),
            warned_key: false,
            warned_payload: false,
        }
    }

    /// Sets the schema service schemas are fetched from.
    pub fn set_service(&mut self, service: Option<Arc<dyn SchemaService>>) {
        self.service = service;
    }

    /// Whether the extraction does anything at all.
    pub fn enabled(&self) -> bool {
        self.key || self.payload
    }

    /// Decodes `record`'s key and payload in place. On error the record is
    /// left partly decoded and must not be written.
    pub async fn decode(&mut self, record: &mut Record) -> Result<(), String> {
        if self.key {
            self.decode_key(record).await?;
        }
        if self.payload {
            self.decode_payload(record).await?;
        }
        Ok(())
    }

    /// The subject and version of a part, `None` (after the warning) when
    /// the metadata does not name them.
    fn schema_of(&mut self, record: &Record, part: Part) -> Result<Option<(String, i64)>, String> {
        let md = &record.metadata;
        let version_key = match part {
            Part::Key => Metadata::KEY_SCHEMA_VERSION,
            Part::Payload => Metadata::PAYLOAD_SCHEMA_VERSION,
        };
        // The common case (no schema named) without building the getters' errors: a missing
        // version is a warning whatever the subject holds.
        let version_missing = md.get(version_key).is_none_or(str::is_empty);
        let (subject, version) = match part {
            _ if version_missing => (Ok(""), Err(None)),
            Part::Key => (md.key_schema_subject(), md.key_schema_version().map_err(Some)),
            Part::Payload => (md.payload_schema_subject(), md.payload_schema_version().map_err(Some)),
        };
        // Go's order: a malformed value is an error even when the other one
        // is missing; a missing one is a warning.
        let (subject, version) = match (subject, version) {
            (_, Err(Some(e @ MetadataError::InvalidVersion { .. }))) => {
                return Err(format!("failed to get {} schema version from metadata: {e}", part.name()));
            }
            (Ok(subject), Ok(version)) => (subject, version),
            _ => {
                let (warned, text) = match part {
                    Part::Key => (&mut self.warned_key, NO_KEY_SCHEMA_WARNING),
                    Part::Payload => (&mut self.warned_payload, NO_PAYLOAD_SCHEMA_WARNING),
                };
                // Go's advice to turn decoding off is only news where a
                // schema service could decode: without one (`run`, a plugin
                // started without the utilities target) it stays at debug.
                if !*warned {
                    *warned = true;
                    if self.service.is_some() {
                        tracing::warn!("{text}");
                    } else {
                        tracing::debug!("{text}");
                    }
                }
                return Ok(None);
            }
        };
        Ok(Some((subject.to_owned(), version)))
    }

    async fn decode_key(&mut self, record: &mut Record) -> Result<(), String> {
        let Some((subject, version)) = self.schema_of(record, Part::Key)? else { return Ok(()) };
        if let Some(key) = record.key.take() {
            let decoded = self.decode_data(key, &subject, version).await;
            record.key = Some(decoded.map_err(|e| format!("failed to decode key: {e}"))?);
        }
        Ok(())
    }

    async fn decode_payload(&mut self, record: &mut Record) -> Result<(), String> {
        let Some((subject, version)) = self.schema_of(record, Part::Payload)? else { return Ok(()) };
        if let Some(before) = record.payload.before.take() {
            let decoded = self.decode_data(before, &subject, version).await;
            record.payload.before = Some(decoded.map_err(|e| format!("failed to decode payload.before: {e}"))?);
        }
        if let Some(after) = record.payload.after.take() {
            let decoded = self.decode_data(after, &subject, version).await;
            record.payload.after = Some(decoded.map_err(|e| format!("failed to decode payload.after: {e}"))?);
        }
        Ok(())
    }

    async fn decode_data(&mut self, data: Data, subject: &str, version: i64) -> Result<Data, String> {
        let bytes = match data {
            Data::Structured(_) => return Ok(data), // already decoded
            Data::Raw(bytes) => bytes,
        };
        let schema = self.schema(subject, version).await?;
        match crate::schema::avro::decode(&schema.avro, &bytes) {
            Ok(structured) => Ok(Data::Structured(structured)),
            Err(e) => Err(format!(
                "failed to unmarshal bytes with schema: failed to unmarshal data with schema {subject}:{version} (id: \
                 {}): {e}",
                schema.id
            )),
        }
    }

    /// The parsed schema for `subject:version`, fetched and parsed on first use.
    async fn schema(&mut self, subject: &str, version: i64) -> Result<Arc<ParsedSchema>, String> {
        let fetch_error = |e: &dyn fmt::Display| format!("failed to get schema for {subject}:{version}: {e}");
        let Ok(version32) = i32::try_from(version) else {
            return Err(fetch_error(&"version out of range (the schema service takes a 32-bit version)"));
        };
        let cache_key = (subject.to_owned(), version32);
        if let Some(parsed) = self.parsed.get(&cache_key) {
            return Ok(parsed.clone());
        }
        let Some(service) = &self.service else {
            return Err(fetch_error(&SchemaError::NoService));
        };
        let schema = service.get_schema(subject, version32).await.map_err(|e| fetch_error(&e))?;
        let unmarshal_error = |e: &dyn fmt::Display| format!("failed to unmarshal bytes with schema: {e}");
        if schema.ty != SchemaType::Avro {
            return Err(unmarshal_error(&format_args!(
                "failed to get serde for schema {subject}:{version} of type {}: unsupported type",
                schema.ty
            )));
        }
        let avro = AvroSchema::parse(&schema.bytes).map_err(|e| {
            unmarshal_error(&format_args!("failed to parse schema {subject}:{version} of type avro: {e}"))
        })?;
        let parsed = Arc::new(ParsedSchema { avro, id: schema.id });
        self.parsed.insert(cache_key, parsed.clone());
        Ok(parsed)
    }
}

/// A fetched and parsed schema.
struct ParsedSchema {
    avro: AvroSchema,
    id: i32,
}

/// A token bucket (golang.org/x/time/rate semantics for `WaitN`): `rate`
/// tokens per second, at most `burst` stored; a reservation may go negative
/// and the caller sleeps until it is covered. Uses tokio's clock, so tests
/// can pause time.
#[derive(Debug)]
pub struct RateLimiter {
    rate: f64,
    burst: usize,
    tokens: f64,
    last: tokio::time::Instant,
}

impl RateLimiter {
    /// A limiter with `rate` per second and `burst` (≤ 0 means `ceil(rate)`),
    /// or `None` when `rate` is 0 (no limit) or infinite (no limit either, as
    /// Go's `rate.Inf`).
    ///
    /// Any positive rate is accepted, however small: a wait longer than
    /// [`Duration::MAX`] (e.g. `1e-20` per second) is clamped to it, which tokio
    /// treats as "far in the future" — the writer waits, it never panics.
    pub fn new(rate: f64, burst: usize) -> Option<Self> {
        if rate.is_nan() || rate <= 0.0 || rate.is_infinite() {
            return None;
        }
        let burst = if burst == 0 { rate.ceil().max(1.0) as usize } else { burst };
        Some(RateLimiter { rate, burst, tokens: burst as f64, last: tokio::time::Instant::now() })
    }

    /// The bucket size: writes are split into chunks of at most this many.
    pub fn burst(&self) -> usize {
        self.burst
    }

    /// Waits until `n` (≤ burst) tokens are available and takes them.
    pub async fn wait(&mut self, n: usize) {
        let now = tokio::time::Instant::now();
        let elapsed = now.saturating_duration_since(self.last).as_secs_f64();
        self.tokens = (self.tokens + elapsed * self.rate).min(self.burst as f64);
        self.last = now;
        self.tokens -= n as f64;
        if self.tokens < 0.0 {
            tokio::time::sleep(wait_for(-self.tokens, self.rate)).await;
        }
    }
}

/// How long `tokens` take to accumulate at `rate` per second, clamped to
/// [`Duration::MAX`] when that is not representable (a tiny rate, or a result
/// that is not finite): `Duration::from_secs_f64` would panic there.
fn wait_for(tokens: f64, rate: f64) -> Duration {
    Duration::try_from_secs_f64(tokens / rate).unwrap_or(Duration::MAX)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn waits_too_long_for_a_duration_are_clamped_instead_of_panicking() {
        assert_eq!(wait_for(1.0, 1e-20), Duration::MAX);
        assert_eq!(wait_for(1.0, f64::MIN_POSITIVE), Duration::MAX);
        assert_eq!(wait_for(f64::INFINITY, 1.0), Duration::MAX);
        assert_eq!(wait_for(1.0, 4.0), Duration::from_millis(250));
    }

    #[test]
    fn an_infinite_rate_is_no_limit() {
        assert!(RateLimiter::new(f64::INFINITY, 0).is_none());
    }
}
