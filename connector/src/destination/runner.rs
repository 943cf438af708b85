use std::any::TypeId;
use std::fmt;
use std::sync::{Arc, Mutex, PoisonError};

use tokio::time::Instant;

use super::{Batch, BoxError, Destination, WriteResult};
use crate::config::validate::unrecognized;
use crate::config::{Config, ConfigError, ConfigErrors, ConfigMap, IntoConfigMap, Parameters, Problem};
use crate::middleware::{DefaultDestinationMiddleware, RateLimiter, RecordFormat, SchemaExtraction};
use crate::opencdc::{Position, Record};
use crate::schema::SchemaService;

/// The acknowledgment of one record: its position and, for a nack, why.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Ack {
    /// The record's position.
    pub position: Position,
    /// `None` when the record was written; the error text otherwise.
    pub error: Option<String>,
}

/// Why Configure failed.
#[derive(Debug)]
pub enum ConfigureError {
    /// The config did not validate; every problem, sorted by key.
    Invalid(ConfigErrors),
    /// The destination's own `configure` rejected it.
    Destination(BoxError),
}

impl fmt::Display for ConfigureError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ConfigureError::Invalid(errors) => write!(f, "config invalid: {errors}"),
            ConfigureError::Destination(e) => write!(f, "{e}"),
        }
    }
}

impl std::error::Error for ConfigureError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            ConfigureError::Invalid(errors) => Some(errors),
            ConfigureError::Destination(e) => Some(&**e),
        }
    }
}

/// The parameters of a destination with config `C`: its own and the `sdk.*` ones, built
/// once per config type (Configure must not rebuild them per call).
fn combined_parameters<C: Config + 'static>() -> Parameters {
    static CACHE: Mutex<Vec<(TypeId, Parameters)>> = Mutex::new(Vec::new());
    let id = TypeId::of::<C>();
    let mut cache = CACHE.lock().unwrap_or_else(PoisonError::into_inner);
    if let Some((_, params)) = cache.iter().find(|(t, _)| *t == id) {
        return params.clone();
    }
    let mut params = C::parameters();
    params.extend(DefaultDestinationMiddleware::parameters());
    cache.push((id, params.clone()));
    params
}

/// Parses the connector's config and the middleware's from one map: `sdk.*` keys (after
/// trimming) go to the middleware, the others to the connector's config; the errors of
/// both are reported together, sorted by key.
fn parse_combined<C: Config>(config: impl IntoConfigMap) -> Result<(DefaultDestinationMiddleware, C), ConfigErrors> {
    let (all, mut errors) = ConfigMap::sanitized(config);
    // A connector config that flattens the middleware's parameters in gets the `sdk.*` keys too.
    let connector_keys = match C::parameters().names().any(|name| name.starts_with("sdk.")) {
        true => Keys::All,
        false => Keys::NotSdk,
    };
    let middleware = DefaultDestinationMiddleware::from_config(Part { map: &all, keys: Keys::Sdk });
    let connector = C::from_config(Part { map: &all, keys: connector_keys });
    match (middleware, connector) {
        (Ok(middleware), Ok(connector)) if errors.is_empty() => Ok((middleware, connector)),
        (middleware, connector) => {
            errors.extend(middleware.err().into_iter().flatten());
            // A key the connector's config does not know may be a misspelt `sdk.*` parameter
            // (`batchsize`): suggest from the middleware's names when the connector's gave none.
            errors.extend(connector.err().into_iter().flatten().map(|error| match error.problem() {
                Problem::Unrecognized { suggestion: None } => {
                    let other = unrecognized(error.key(), &DefaultDestinationMiddleware::parameters());
                    if matches!(other.problem(), Problem::Unrecognized { suggestion: Some(_) }) { other } else { error }
                }
                _ => error,
            }));
            let unexplained = || ConfigError::custom("", "failed to decode the configuration").into();
            Err(errors.into_result().err().unwrap_or_else(unexplained))
        }
    }
}

/// Some keys of a trimmed map.
struct Part<'a> {
    map: &'a ConfigMap,
    keys: Keys,
}

/// Which keys a [`Part`] holds.
#[derive(Clone, Copy, PartialEq)]
enum Keys {
    Sdk,
    NotSdk,
    All,
}

impl IntoConfigMap for Part<'_> {
    fn for_each_entry(self, f: &mut dyn FnMut(&str, &str)) {
        for (key, value) in self.map.iter() {
            let sdk = key.starts_with("sdk.");
            if self.keys == Keys::All || sdk == (self.keys == Keys::Sdk) {
                f(key, value);
            }
        }
    }
    fn entry_count_hint(&self) -> usize {
        self.map.len()
    }
}

/// Drives a [`Destination`] through Conduit's lifecycle: the adapter of the
/// Go SDK plus the default middleware.
///
/// Records go in with [`write`](DestinationRunner::write) (one record at a
/// time or whole batches); they are batched by `sdk.batch.size` and
/// `sdk.batch.delay`, rate limited by `sdk.rate.*`, written, and answered
/// with one [`Ack`] per record, in record order. With a batch delay the
/// caller flushes when [`deadline`](DestinationRunner::deadline) passes.
pub struct DestinationRunner<D: Destination> {
    destination: D,
    settings: DefaultDestinationMiddleware,
    format: RecordFormat,
    limiter: Option<RateLimiter>,
    schema: SchemaExtraction,
    pending: Vec<Record>,
    deadline: Option<Instant>,
    last_position: Option<Position>,
    opened: bool,
    torn_down: bool,
}

impl<D: Destination> fmt::Debug for DestinationRunner<D> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("DestinationRunner")
            .field("settings", &self.settings)
            .field("pending", &self.pending.len())
            .field("opened", &self.opened)
            .finish_non_exhaustive()
    }
}

impl<D: Destination> DestinationRunner<D> {
    /// Every parameter of the destination: the connector's own plus the
    /// SDK's `sdk.*` middleware parameters.
    pub fn parameters() -> Parameters {
        combined_parameters::<D::Config>()
    }

    /// Parses the config (connector and middleware parameters together,
    /// every problem reported), then calls [`Destination::configure`].
    pub async fn configure(config: impl IntoConfigMap) -> Result<Self, ConfigureError> {
        let (settings, connector) = parse_combined::<D::Config>(config).map_err(ConfigureError::Invalid)?;
        let format = settings.record_format().map_err(ConfigureError::Invalid)?;
        let destination = D::configure(connector).await.map_err(ConfigureError::Destination)?;
        Ok(DestinationRunner {
            destination,
            format,
            limiter: None,
            schema: SchemaExtraction::new(settings.schema_extract_key, settings.schema_extract_payload),
            settings,
            pending: Vec::new(),
            deadline: None,
            last_position: None,
            opened: false,
            torn_down: false,
        })
    }

    /// Calls a lifecycle hook: created.
    pub async fn on_created(&mut self, config: &ConfigMap) -> Result<(), BoxError> {
        self.destination.on_created(config).await
    }

    /// Calls a lifecycle hook: updated.
    pub async fn on_updated(&mut self, before: &ConfigMap, after: &ConfigMap) -> Result<(), BoxError> {
        self.destination.on_updated(before, after).await
    }

    /// Opens the destination and the middleware.
    pub async fn open(&mut self) -> Result<(), BoxError> {
        self.destination.open().await?;
        self.limiter = RateLimiter::new(self.settings.rate_per_second, self.settings.rate_burst);
        self.opened = true;
        Ok(())
    }

    /// Gives the runner Conduit's schema service, used to decode
    /// schema-encoded keys and payloads (`sdk.schema.extract.*`). Without one
    /// (the `run` command) such records fail with
    /// [`SchemaError::NoService`](crate::schema::SchemaError::NoService)'s
    /// text. Plugin mode passes a process-wide [`SchemaClient`] behind a
    /// [`CachedSchemaService`].
    ///
    /// [`SchemaClient`]: crate::schema::SchemaClient
    /// [`CachedSchemaService`]: crate::schema::CachedSchemaService
    pub fn with_schema_service(mut self, service: Arc<dyn SchemaService>) -> Self {
        self.schema.set_service(Some(service));
        self
    }

    /// Replaces (or removes) the schema service; see
    /// [`with_schema_service`](Self::with_schema_service).
    pub fn set_schema_service(&mut self, service: Option<Arc<dyn SchemaService>>) {
        self.schema.set_service(service);
    }

    /// The middleware settings in force.
    pub fn settings(&self) -> &DefaultDestinationMiddleware {
        &self.settings
    }

    /// The destination.
    pub fn destination(&self) -> &D {
        &self.destination
    }

    /// The destination, mutably.
    pub fn destination_mut(&mut self) -> &mut D {
        &mut self.destination
    }

    /// When the pending batch must be flushed (`sdk.batch.delay`), if any.
    pub fn deadline(&self) -> Option<Instant> {
        self.deadline
    }

    /// How many records wait in the pending batch.
    pub fn pending(&self) -> usize {
        self.pending.len()
    }

    /// The position of the last record handed to [`write`](Self::write).
    pub fn last_position(&self) -> Option<&Position> {
        self.last_position.as_ref()
    }

    fn batching(&self) -> bool {
        self.settings.batch_size > 1 || !self.settings.batch_delay.is_zero()
    }

    /// Takes records in, and returns the acks of every record written by this
    /// call (possibly none, when the records wait for their batch).
    ///
    /// Schema-encoded keys and payloads are decoded first (see
    /// [`SchemaExtraction`]); a record that cannot be decoded is nacked and
    /// not written. Warnings and errors go to `tracing`.
    pub async fn write(&mut self, records: Vec<Record>) -> Vec<Ack> {
        if records.is_empty() {
            return Vec::new();
        }
        if let Some(last) = records.last() {
            self.last_position = Some(last.position.clone());
        }
        if !self.batching() {
            return self.write_now(records).await;
        }
        if self.pending.is_empty() && !self.settings.batch_delay.is_zero() {
            // A delay too long to represent as an instant means "no deadline" (it never
            // passes), not a panic.
            self.deadline = Instant::now().checked_add(self.settings.batch_delay);
        }
        if self.pending.is_empty() {
            self.pending = records;
        } else {
            self.pending.extend(records);
        }
        let size = self.settings.batch_size;
        if size > 0 && self.pending.len() >= size {
            return self.flush().await;
        }
        Vec::new()
    }

    /// Writes whatever is pending now (the delay expired, or Stop).
    pub async fn flush(&mut self) -> Vec<Ack> {
        self.deadline = None;
        let pending = std::mem::take(&mut self.pending);
        self.write_now(pending).await
    }

    async fn write_now(&mut self, mut records: Vec<Record>) -> Vec<Ack> {
        let mut acks = Vec::with_capacity(records.len());
        if records.is_empty() {
            return acks;
        }
        // Schema extraction first: a record that cannot be decoded is nacked
        // in its place and never reaches the destination; the records around
        // it are written as usual, and acks stay in record order.
        let mut failed: Vec<(usize, String)> = Vec::new();
        if self.schema.enabled() {
            for (i, record) in records.iter_mut().enumerate() {
                if let Err(error) = self.schema.decode(record).await {
                    failed.push((i, error));
                }
            }
        }
        if failed.is_empty() {
            self.write_records(records, &mut acks).await;
            return acks;
        }
        let mut failed = failed.into_iter().peekable();
        let mut segment = Vec::with_capacity(records.len());
        for (i, record) in records.into_iter().enumerate() {
            match failed.next_if(|(at, _)| *at == i) {
                Some((_, error)) => {
                    self.write_records(std::mem::take(&mut segment), &mut acks).await;
                    tracing::error!(
                        position = %crate::config::go::quote(&String::from_utf8_lossy(&record.position.0)),
                        error = %error,
                        "failed to decode record"
                    );
                    acks.push(Ack { position: record.position, error: Some(error) });
                }
                None => segment.push(record),
            }
        }
        self.write_records(segment, &mut acks).await;
        acks
    }

    /// Writes `records` in chunks (`sdk.batch.size`, the rate limit's burst),
    /// appending one ack per record.
    async fn write_records(&mut self, records: Vec<Record>, acks: &mut Vec<Ack>) {
        if records.is_empty() {
            return;
        }
        let mut chunk_size = records.len();
        if self.settings.batch_size > 0 {
            chunk_size = chunk_size.min(self.settings.batch_size);
        }
        if let Some(limiter) = &self.limiter {
            chunk_size = chunk_size.min(limiter.burst());
        }
        if chunk_size >= records.len() {
            // One chunk (the common case): written from the records as they are.
            self.write_chunk(records, acks).await;
            return;
        }
        let mut records = records.into_iter();
        loop {
            let chunk: Vec<Record> = records.by_ref().take(chunk_size).collect();
            if chunk.is_empty() {
                return;
            }
            self.write_chunk(chunk, acks).await;
        }
    }

    /// Writes one chunk (waiting for the rate limiter first); after a record
    /// fails, the records behind it are handed to the destination again, so
    /// each record gets its own ack. The records are consumed: their positions
    /// move into the acks.
    async fn write_chunk(&mut self, mut chunk: Vec<Record>, acks: &mut Vec<Ack>) {
        if let Some(limiter) = &mut self.limiter {
            limiter.wait(chunk.len()).await;
        }
        acks.reserve(chunk.len());
        let ok = |r: &mut Record| Ack { position: std::mem::take(&mut r.position), error: None };
        let mut start = 0;
        while start < chunk.len() {
            let rest = &mut chunk[start..];
            let result = self.destination.write(Batch::new(rest, &self.format)).await;
            match result {
                WriteResult::All => {
                    acks.extend(rest.iter_mut().map(ok));
                    return;
                }
                WriteResult::Stopped { written, error } if written < rest.len() => {
                    acks.extend(rest[..written].iter_mut().map(ok));
                    let failed = &mut rest[written];
                    let text = error.to_string();
                    tracing::error!(
                        position = %crate::log::escape(&String::from_utf8_lossy(&failed.position.0)),
                        error = %crate::log::escape(&text),
                        "failed to write record"
                    );
                    acks.push(Ack { position: std::mem::take(&mut failed.position), error: Some(text) });
                    start += written + 1;
                }
                WriteResult::Stopped { written, error } => {
                    let text = format!(
                        "connector reported a successful write of all {} records in the batch ({written} written) and \
                         simultaneously returned an error, this is probably a bug in the connector. Original error: \
                         {error}",
                        rest.len()
                    );
                    tracing::error!(error = %crate::log::escape(&text), "connector bug");
                    acks.extend(
                        rest.iter_mut()
                            .map(|r| Ack { position: std::mem::take(&mut r.position), error: Some(text.clone()) }),
                    );
                    return;
                }
            }
        }
    }

    /// Tears the destination down (once). Pending records are not written:
    /// flush first (Stop does).
    pub async fn teardown(&mut self) -> Result<(), BoxError> {
        if self.torn_down {
            return Ok(());
        }
        self.torn_down = true;
        self.destination.teardown().await
    }
}
