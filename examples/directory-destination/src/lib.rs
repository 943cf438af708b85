//! The directory destination: a Conduit connector that writes each record's payload to a file
//! named by the record key, inside one configured directory.
//!
//! This file is the whole connector, top to bottom: its config, its specification and its
//! [`Destination`] implementation. The file-system safety (key rules, atomic writes, planted
//! entries, durability, one writer per directory) lives in [`fs`].

#![deny(missing_docs)]

pub mod fs;

use std::ops::Range;
use std::path::PathBuf;

use conduit_connector::destination::{Batch, BoxError, Destination, WriteResult};
use conduit_connector::opencdc::{Operation, Record};
use conduit_connector::{Config, ConfigValue, Specification};

use crate::fs::{Change, DirWriter, SyncMode, WriteOptions, escape_key};

// ---------------------------------------------------------------------------------------------
// Config

/// When written files are synced to stable storage before their records are acknowledged.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, ConfigValue)]
pub enum Sync {
    /// Never sync: the operating system writes data back when it likes (fastest).
    #[default]
    None,
    /// Sync each file, and the directory after each file: every ack means "on disk".
    File,
    /// Sync each file's data, and the directory once per batch: acks mean "on disk", with one
    /// directory sync per batch.
    Batch,
}

/// The directory destination's parameters.
#[derive(Debug, Clone, Config)]
pub struct DirectoryConfig {
    /// Directory the files are written to. It is created (mode 0755) if it does not exist. One
    /// writer per directory: it is locked while the destination is open, and a second writer
    /// is refused.
    #[param(required)]
    pub directory: PathBuf,
    /// Write each file atomically: to a hidden temporary file first, renamed into place when
    /// complete, so readers never see a partial file. When false, files are written in place
    /// (a write that fails removes the file, so its key is then absent, never partial).
    #[param(default = true)]
    pub atomic: bool,
    /// When files are synced to stable storage before their records are acknowledged: `none`
    /// (leave it to the operating system), `file` (sync each file and the directory after it) or
    /// `batch` (sync each file's data and the directory once per batch).
    #[param(default = "none")]
    pub sync: Sync,
}

// ---------------------------------------------------------------------------------------------
// Specification

/// The connector's specification (its destination parameters are added by the SDK).
pub fn specification() -> Specification {
    Specification {
        name: "directory".to_owned(),
        summary: "Writes each record to a file named by its key, inside one directory.".to_owned(),
        description: "A destination that writes the payload of each record (payload.after; structured \
                      payloads as JSON) to a file named by the record key (structured keys as their \
                      JSON, e.g. {\"id\":1}) inside the configured directory. Deletes remove the \
                      file. Writes are atomic by default, keys are validated to be single safe file \
                      names, nothing is ever written outside the directory or through a symlink \
                      planted in it, and one writer at a time holds the directory."
            .to_owned(),
        version: concat!("v", env!("CARGO_PKG_VERSION")).to_owned(),
        author: "The Conduit Rust SDK authors".to_owned(),
        ..Specification::default()
    }
}

// ---------------------------------------------------------------------------------------------
// Destination

/// The destination: a [`DirWriter`] on the configured directory, driven from a blocking task.
#[derive(Debug)]
pub struct DirectoryDestination {
    config: DirectoryConfig,
    threads: usize,
    /// The open writer; `None` before `open` and while a write holds it (a `write` future
    /// dropped before it finishes leaves it `None`: writes then fail until `open` again).
    writer: Option<DirWriter>,
    /// The last batch's buffers, reused by the next.
    owned: OwnedBatch,
}

impl DirectoryDestination {
    /// How many threads write a batch: 1, or 2 (the default when the machine has at least two
    /// CPUs), as [`DirWriter::set_threads`] describes: with 2, large atomic batches are written
    /// by two threads, and with a sync mode files are written and synced by up to 8 threads
    /// (syncs wait for the disk, not for a CPU). Renames happen in record order on one thread,
    /// so acknowledgements mean exactly what they mean with one thread. Takes effect
    /// immediately, or at [`open`](Destination::open).
    pub fn set_write_threads(&mut self, threads: usize) {
        self.threads = threads.clamp(1, 2);
        if let Some(writer) = &mut self.writer {
            writer.set_threads(self.threads);
        }
    }

    /// How many threads write a batch (see [`set_write_threads`](Self::set_write_threads)).
    pub fn write_threads(&self) -> usize {
        self.threads
    }
}

impl Destination for DirectoryDestination {
    type Config = DirectoryConfig;

    async fn configure(config: DirectoryConfig) -> Result<Self, BoxError> {
        let threads = std::thread::available_parallelism().map_or(1, |n| n.get().min(2));
        Ok(DirectoryDestination { config, threads, writer: None, owned: OwnedBatch::default() })
    }

    async fn open(&mut self) -> Result<(), BoxError> {
        let sync = match self.config.sync {
            Sync::None => SyncMode::None,
            Sync::File => SyncMode::File,
            Sync::Batch => SyncMode::Batch,
        };
        self.writer = None; // Opened again: let go of the directory (and its lock) first.
        let options = WriteOptions { atomic: self.config.atomic, sync };
        let directory = self.config.directory.clone();
        let mut writer = tokio::task::spawn_blocking(move || DirWriter::open(&directory, options)).await??;
        if writer.stale_removed() > 0 {
            tracing::info!(removed = writer.stale_removed(), "removed temporary files left by an earlier crash");
        }
        writer.set_threads(self.threads);
        self.writer = Some(writer);
        Ok(())
    }

    /// Copies the batch's keys and payloads into owned buffers and writes them on a blocking
    /// thread ([`DirWriter::write_batch`]), so the async runtime never waits for the disk.
    async fn write(&mut self, batch: Batch<'_>) -> WriteResult {
        let Some(mut writer) = self.writer.take() else {
            return WriteResult::stopped(0, "the destination is not open");
        };
        let mut owned = std::mem::take(&mut self.owned);
        let invalid = owned.fill(batch.records());
        let task = tokio::task::spawn_blocking(move || {
            let outcome = writer.write_batch(&owned.changes());
            (writer, owned, outcome)
        });
        let (writer, owned, outcome) = match task.await {
            Ok(done) => done,
            Err(e) => return WriteResult::stopped(0, format!("writing the batch failed: {e}")),
        };
        for change in owned.changes().iter().take(outcome.written) {
            match change {
                Change::Write { key, data } => {
                    tracing::debug!(key = %escape_key(key), bytes = data.len(), "wrote file")
                }
                Change::Delete { key } => tracing::debug!(key = %escape_key(key), "deleted file"),
            }
        }
        self.writer = Some(writer);
        self.owned = owned;
        match (outcome.error, invalid) {
            (Some(e), _) => WriteResult::stopped(outcome.written, e),
            (None, Some(e)) => WriteResult::stopped(outcome.written, e),
            (None, None) => WriteResult::All,
        }
    }

    async fn teardown(&mut self) -> Result<(), BoxError> {
        if let Some(mut writer) = self.writer.take() {
            tokio::task::spawn_blocking(move || writer.commit()).await??;
        }
        Ok(())
    }
}

/// A batch's keys and payloads copied into one buffer, for a blocking task to own.
#[derive(Debug, Default)]
struct OwnedBatch {
    bytes: Vec<u8>,
    /// Per record: delete or write, and the key's and the payload's ranges in `bytes`.
    records: Vec<(Operation, Range<usize>, Range<usize>)>,
}

impl OwnedBatch {
    /// Copies `records` up to the first one without a key, and returns the error for that one.
    /// The key is the file name as Go's `record.Key.Bytes()` gives it: raw data as is,
    /// structured data as its compact JSON (e.g. `{"id":1}`); the payload is `payload.after`
    /// the same way (nothing when there is none).
    fn fill(&mut self, records: &[Record]) -> Option<BoxError> {
        self.bytes.clear();
        self.records.clear();
        for record in records {
            let Some(key) = &record.key else {
                return Some("invalid key: the record has no key".into());
            };
            let start = self.bytes.len();
            key.write_bytes(&mut self.bytes);
            let key_end = self.bytes.len();
            if record.operation != Operation::Delete
                && let Some(after) = &record.payload.after
            {
                after.write_bytes(&mut self.bytes);
            }
            self.records.push((record.operation, start..key_end, key_end..self.bytes.len()));
        }
        None
    }

    fn changes(&self) -> Vec<Change<'_>> {
        let bytes = |range: &Range<usize>| self.bytes.get(range.clone()).unwrap_or_default();
        self.records
            .iter()
            .map(|(operation, key, data)| match operation {
                Operation::Delete => Change::Delete { key: bytes(key) },
                Operation::Create | Operation::Update | Operation::Snapshot => {
                    Change::Write { key: bytes(key), data: bytes(data) }
                }
            })
            .collect()
    }
}
