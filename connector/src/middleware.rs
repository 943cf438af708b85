//! The default destination middleware and its `sdk.*` parameters: batching,
//! rate limiting, record format and schema extraction.

use std::sync::OnceLock;
use std::time::Duration;

use crate::config::field::{FieldKey, join_key};
use crate::config::{
    Config, ConfigError, ConfigErrors, ConfigField, ConfigMap, DecodeCx, FieldKind, FieldSpec, IntoConfigMap,
    Parameters, ValidationSpec,
};
use crate::opencdc::{Metadata, Record};

/// The `sdk.*` parameters every destination gets, with Conduit's names,
/// defaults, validations and descriptions.
///
/// The SDK adds them to every destination's parameters; a connector's own
/// config type does not include them.
#[derive(Debug, Clone, PartialEq)]
pub struct DefaultDestinationMiddleware {
    /// `sdk.batch.delay`: maximum delay before an incomplete batch is written.
    pub batch_delay: Duration,
    /// `sdk.batch.size`: maximum size of a batch before it is written.
    pub batch_size: usize,
    /// `sdk.rate.burst`: bursts of at most this many records (0 = `ceil(rate)`).
    pub rate_burst: usize,
    /// `sdk.rate.perSecond`: records written per second (0 = no limit).
    pub rate_per_second: f64,
    /// `sdk.record.format`: the output record format.
    pub record_format: String,
    /// `sdk.record.format.options`: options of the output record format.
    pub record_format_options: String,
    /// `sdk.schema.extract.key.enabled`.
    pub schema_extract_key: bool,
    /// `sdk.schema.extract.payload.enabled`.
    pub schema_extract_payload: bool,
}

/// The middleware's fields, written out by hand (the runtime crate does not
/// use its own derive, so it builds without `syn`): field, type, key,
/// default, validations, description.
macro_rules! middleware_fields {
    ($($field:ident: $ty:ty = $key:literal, $default:literal, [$($v:expr),*], $desc:literal;)*) => {
        impl ConfigField for DefaultDestinationMiddleware {
            const KIND: FieldKind = FieldKind::Nested;

            fn describe(prefix: &str, _spec: &FieldSpec, out: &mut Parameters) {
                $({
                    const SPEC: FieldSpec =
                        FieldSpec { description: $desc, default: $default, validations: &[$($v),*], file: false };
                    <$ty as ConfigField>::describe(&join_key(prefix, $key), &SPEC, out);
                })*
            }

            fn decode(prefix: &FieldKey<'_>, cx: &mut DecodeCx<'_>) -> Option<Self> {
                $(let $field = <$ty as ConfigField>::decode(&prefix.join($key), cx);)*
                let value = DefaultDestinationMiddleware { $($field: $field?),* };
                if let Err(errors) = value.check() {
                    cx.hook_errors(prefix, errors);
                    return None;
                }
                Some(value)
            }
        }
    };
}

middleware_fields! {
    batch_delay: Duration = "sdk.batch.delay", "0", [],
        "Maximum delay before an incomplete batch is written to the destination.";
    batch_size: usize = "sdk.batch.size", "0", [ValidationSpec::GreaterThan(-1.0)],
        "Maximum size of batch before it gets written to the destination.";
    rate_burst: usize = "sdk.rate.burst", "0", [ValidationSpec::GreaterThan(-1.0)],
        "Allow bursts of at most X records (0 or less means that bursts are not\n\
         limited). Only takes effect if a rate limit per second is set. Note that\n\
         if `sdk.batch.size` is bigger than `sdk.rate.burst`, the effective batch\n\
         size will be equal to `sdk.rate.burst`.";
    rate_per_second: f64 = "sdk.rate.perSecond", "0", [ValidationSpec::GreaterThan(-1.0)],
        "Maximum number of records written per second (0 means no rate limit).";
    record_format: String = "sdk.record.format", "opencdc/json", [],
        "The format of the output record. See the Conduit documentation for a full\n\
         list of supported formats (https://conduitdata.io/docs/using/connectors/configuration-parameters/output-format).";
    record_format_options: String = "sdk.record.format.options", "", [],
        "Options to configure the chosen output record format. Options are normally\n\
         key=value pairs separated with comma (e.g. opt1=val2,opt2=val2), except\n\
         for the `template` record format, where options are a Go template.";
    schema_extract_key: bool = "sdk.schema.extract.key.enabled", "true", [],
        "Whether to extract and decode the record key with a schema.";
    schema_extract_payload: bool = "sdk.schema.extract.payload.enabled", "true", [],
        "Whether to extract and decode the record payload with a schema.";
}

impl Config for DefaultDestinationMiddleware {
    fn parameters() -> Parameters {
        let mut out = Parameters::new();
        <Self as ConfigField>::describe("", &FieldSpec::EMPTY, &mut out);
        out
    }

    fn from_config<C: IntoConfigMap>(config: C) -> Result<Self, ConfigErrors> {
        static PARAMS: OnceLock<Parameters> = OnceLock::new();
        crate::config::field_support::from_config::<Self>(config, PARAMS.get_or_init(Self::parameters))
    }
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
        RecordFormat::parse(&self.record_format, &self.record_format_options).map(|_| ())
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
    /// `template` (Go templates) is not available in the Rust SDK and is
    /// rejected with a clear error instead of being silently ignored.
    pub fn parse(format: &str, options: &str) -> Result<RecordFormat, ConfigErrors> {
        let opts = parse_options(options);
        let bad_option = |name: &str| {
            ConfigError::custom(
                "sdk.record.format.options",
                format!("invalid sdk.record.format.options for {}: unknown option {}", quote(format), quote(name)),
            )
        };
        match format {
            "opencdc/json" => match opts.first() {
                Some((k, _)) => Err(bad_option(k).into()),
                None => Ok(RecordFormat::OpenCdcJson),
            },
            "debezium/json" => {
                let mut schema_name = None;
                let mut raw_data_key = "opencdc.rawData".to_owned();
                for (k, v) in opts {
                    match k {
                        "debezium.schema.name" => schema_name = Some(v.to_owned()).filter(|s| !s.is_empty()),
                        "debezium.rawData.key" => raw_data_key = v.to_owned(),
                        other => return Err(bad_option(other).into()),
                    }
                }
                Ok(RecordFormat::DebeziumJson { schema_name, raw_data_key })
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

/// Generic `<converter>/<encoder>` options: trimmed, split on `,`, each item
/// split on the first `=` (a missing value is `""`).
fn parse_options(options: &str) -> Vec<(&str, &str)> {
    let options = options.trim();
    if options.is_empty() {
        return Vec::new();
    }
    options.split(',').map(|item| item.split_once('=').unwrap_or((item, ""))).collect()
}

/// Whether a record carries schema metadata for its key or payload (which
/// the Rust SDK cannot decode yet; see [`SchemaExtraction`]).
pub fn has_schema_metadata(record: &Record, key: bool, payload: bool) -> bool {
    let md = &record.metadata.0;
    let set = |k: &str| md.get(k).is_some_and(|v| !v.is_empty());
    (key && (set(Metadata::KEY_SCHEMA_SUBJECT) || set(Metadata::KEY_SCHEMA_VERSION)))
        || (payload && (set(Metadata::PAYLOAD_SCHEMA_SUBJECT) || set(Metadata::PAYLOAD_SCHEMA_VERSION)))
}

/// Schema extraction (`sdk.schema.extract.*.enabled`).
///
/// Decoding a record with a schema needs Conduit's schema service (the
/// connector-utilities gRPC API), which the Rust SDK does not speak yet.
/// Until then the parameters are accepted (so existing pipeline configs stay
/// valid) and a record carrying schema metadata passes through undecoded;
/// the runner logs one warning per run the first time it sees one.
#[derive(Debug, Clone, Copy, Default)]
pub struct SchemaExtraction {
    /// Whether the key would be decoded.
    pub key: bool,
    /// Whether the payload would be decoded.
    pub payload: bool,
    warned: bool,
}

impl SchemaExtraction {
    /// Settings from the middleware config.
    pub fn new(key: bool, payload: bool) -> Self {
        SchemaExtraction { key, payload, warned: false }
    }

    /// Checks a batch; returns a warning text the first time a record with
    /// schema metadata is seen.
    pub fn check(&mut self, records: &[Record]) -> Option<String> {
        if self.warned || !(self.key || self.payload) {
            return None;
        }
        let record = records.iter().find(|r| has_schema_metadata(r, self.key, self.payload))?;
        self.warned = true;
        Some(format!(
            "record at position {:?} carries schema metadata, but the Rust SDK cannot decode schemas yet \
             (Conduit's schema service is not supported); records pass through undecoded. Set \
             sdk.schema.extract.key.enabled and sdk.schema.extract.payload.enabled to false to silence this warning",
            String::from_utf8_lossy(&record.position.0)
        ))
    }
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
