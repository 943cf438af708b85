//! The destination side of a connector: the [`Destination`] trait a connector
//! implements, the [`WriteResult`] of a write, and the [`DestinationRunner`]
//! that drives a destination through Conduit's lifecycle with the default
//! middleware (batching, rate limit, record format, schema extraction) and
//! turns write results into per-record acks; [`commit_in_order`] for a
//! destination that prepares records in parallel and commits them in order.

mod in_order;
mod runner;

use std::future::Future;

pub use in_order::commit_in_order;
pub use runner::{Ack, ConfigureError, DestinationRunner};

use crate::config::{Config, ConfigMap};
use crate::middleware::RecordFormat;
use crate::opencdc::Record;

/// A boxed error, the error type of the lifecycle methods.
pub type BoxError = Box<dyn std::error::Error + Send + Sync + 'static>;

/// The outcome of [`Destination::write`]: either every record was written, or
/// the records before `written` were and the record at index `written`
/// failed with `error`.
///
/// There is no way to say "some were written" without an error (Go's
/// `n < len, err == nil` connector bug cannot be written), and success is
/// never implied by omission.
#[must_use = "a write result decides which records are acknowledged"]
#[derive(Debug)]
pub enum WriteResult {
    /// Every record of the batch was written.
    All,
    /// `records[..written]` were written; `records[written]` failed with
    /// `error`; later records were not attempted.
    Stopped {
        /// How many records from the front of the batch were written.
        written: usize,
        /// Why the record at index `written` failed.
        error: BoxError,
    },
}

impl WriteResult {
    /// A write that stopped at record `written` with `error`.
    pub fn stopped(written: usize, error: impl Into<BoxError>) -> Self {
        WriteResult::Stopped { written, error: error.into() }
    }

    /// Whether every record was written.
    pub fn is_all(&self) -> bool {
        matches!(self, WriteResult::All)
    }
}

/// The records of one write, plus the record format chosen with
/// `sdk.record.format` (used by [`Batch::encode`]).
#[derive(Debug, Clone, Copy)]
pub struct Batch<'a> {
    records: &'a [Record],
    format: &'a RecordFormat,
}

impl<'a> Batch<'a> {
    /// A batch over `records` with the given output format.
    pub fn new(records: &'a [Record], format: &'a RecordFormat) -> Self {
        Batch { records, format }
    }

    /// The records, in order.
    pub fn records(&self) -> &'a [Record] {
        self.records
    }

    /// The configured output format.
    pub fn format(&self) -> &'a RecordFormat {
        self.format
    }

    /// Appends `record` in the configured output format (`sdk.record.format`)
    /// to `out`: what Go's `Record.Bytes()` gives a Go connector.
    pub fn encode(&self, record: &Record, out: &mut Vec<u8>) {
        self.format.encode(record, out);
    }
}

impl std::ops::Deref for Batch<'_> {
    type Target = [Record];
    fn deref(&self) -> &[Record] {
        self.records
    }
}

/// A Conduit destination: receives records and writes them somewhere.
///
/// The SDK calls, in order: [`configure`](Destination::configure) with the
/// parsed config (after Conduit's parameter validation and the config type's
/// own `validate` hook), optionally a lifecycle hook, [`open`](Destination::open),
/// [`write`](Destination::write) any number of times, and
/// [`teardown`](Destination::teardown). Teardown may follow configure
/// directly (Conduit validates configs that way).
///
/// Middleware parameters (`sdk.batch.*`, `sdk.rate.*`, `sdk.record.format*`,
/// `sdk.schema.extract.*`) are added by the SDK; the config type holds only
/// the connector's own parameters.
pub trait Destination: Sized + Send + 'static {
    /// The connector's configuration (derive [`Config`]).
    type Config: Config + Send + 'static;

    /// Builds the destination from its parsed configuration. Return an error
    /// for problems the parameters cannot express (it fails Configure).
    fn configure(config: Self::Config) -> impl Future<Output = Result<Self, BoxError>> + Send;

    /// Opens connections, files and the like.
    fn open(&mut self) -> impl Future<Output = Result<(), BoxError>> + Send {
        async { Ok(()) }
    }

    /// Writes a batch of records, in order. Return [`WriteResult::All`] when
    /// every record was written, or [`WriteResult::Stopped`] with the index of
    /// the record that failed. The SDK acknowledges the written ones, nacks
    /// the failed one with its error, and hands the rest to `write` again.
    fn write(&mut self, batch: Batch<'_>) -> impl Future<Output = WriteResult> + Send;

    /// Releases resources. Called once, also when `open` was never called.
    fn teardown(&mut self) -> impl Future<Output = Result<(), BoxError>> + Send {
        async { Ok(()) }
    }

    /// Called after configure when the connector was just created in the
    /// pipeline (Conduit's `LifecycleOnCreated`).
    fn on_created(&mut self, config: &ConfigMap) -> impl Future<Output = Result<(), BoxError>> + Send {
        let _ = config;
        async { Ok(()) }
    }

    /// Called after configure when the connector's config changed since it
    /// last ran (Conduit's `LifecycleOnUpdated`).
    fn on_updated(
        &mut self,
        before: &ConfigMap,
        after: &ConfigMap,
    ) -> impl Future<Output = Result<(), BoxError>> + Send {
        let _ = (before, after);
        async { Ok(()) }
    }

    /// Called (without configure) when the connector is deleted from the
    /// pipeline, with its last active config (Conduit's `LifecycleOnDeleted`).
    fn on_deleted(config: &ConfigMap) -> impl Future<Output = Result<(), BoxError>> + Send {
        let _ = config;
        async { Ok(()) }
    }
}

impl crate::spec::Specification {
    /// This specification with its destination parameters taken from `D`
    /// (the connector's own plus the SDK's `sdk.*` middleware parameters).
    pub fn with_destination<D: Destination>(mut self) -> Self {
        self.destination_params = DestinationRunner::<D>::parameters();
        self
    }
}
