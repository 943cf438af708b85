//! The directory destination: a Conduit connector that writes each record's payload to a file
//! named by the record key, inside one configured directory.
//!
//! This file is the whole connector, top to bottom: its config, its specification and its
//! [`Destination`] implementation. The file-system safety (key rules, atomic writes, planted
//! entries, durability, one writer per directory) lives in [`fs`].

#![deny(missing_docs)]

pub mod fs;

use std::borrow::Cow;
use std::path::PathBuf;

use conduit_connector::destination::{Batch, BoxError, Destination, WriteResult};
use conduit_connector::opencdc::{Data, Operation, Record};
use conduit_connector::{Config, ConfigValue, Specification};
use tokio::runtime::{Handle, RuntimeFlavor};

use crate::fs::{BatchOutcome, Change, DirWriter, WriteOptions, escape_key};

// ---------------------------------------------------------------------------------------------
// Config

/// When written files are synced to stable storage before their records are acknowledged; see
/// the [`fs` module's durability table](fs#durability).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash, ConfigValue)]
pub enum SyncMode {
    /// Never sync: the operating system writes data back when it likes (fastest).
    #[default]
    None,
    /// Sync each file's data before its rename, and the directory after each change.
    File,
    /// Sync each file's data before its rename, and the directory once per batch.
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
    pub sync: SyncMode,
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

/// The destination: a [`DirWriter`] on the configured directory.
#[derive(Debug)]
pub struct DirectoryDestination {
    config: DirectoryConfig,
    threads: usize,
    /// The open writer; `None` before `open` and while a write holds it (a `write` future
    /// dropped before it finishes leaves it `None`: writes then fail until `open` again).
    writer: Option<DirWriter>,
}

impl DirectoryDestination {
    /// How many threads write a batch: 1, or 2 (the default on two or more CPUs), as
    /// [`DirWriter::set_threads`] describes; acknowledgements mean the same either way. Takes
    /// effect immediately, or at [`open`](Destination::open).
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
        // Read once per process: `available_parallelism` reads cgroup files (tens of µs).
        static CPUS: std::sync::OnceLock<usize> = std::sync::OnceLock::new();
        let threads = *CPUS.get_or_init(|| std::thread::available_parallelism().map_or(1, |n| n.get().min(2)));
        Ok(DirectoryDestination { config, threads, writer: None })
    }

    async fn open(&mut self) -> Result<(), BoxError> {
        self.writer = None; // Opened again: let go of the directory (and its lock) first.
        let options = WriteOptions { atomic: self.config.atomic, sync: self.config.sync };
        let directory = self.config.directory.clone();
        let mut writer = tokio::task::spawn_blocking(move || DirWriter::open(&directory, options)).await??;
        if writer.stale_removed() > 0 {
            tracing::info!(removed = writer.stale_removed(), "removed temporary files left by an earlier crash");
        }
        writer.set_threads(self.threads);
        self.writer = Some(writer);
        Ok(())
    }

    /// Writes the records with [`DirWriter::write_batch`] off the async executor: in
    /// `block_in_place` on a multi-threaded runtime (as the SDK runs connectors), from the
    /// records' own memory; on a current-thread runtime, which cannot lend its thread, from a
    /// copy of them on the blocking pool.
    async fn write(&mut self, batch: Batch<'_>) -> WriteResult {
        let all = batch.records();
        let (records, without_key) = all.split_at(all.iter().position(|r| r.key.is_none()).unwrap_or(all.len()));
        let Some(mut writer) = self.writer.take() else {
            return WriteResult::stopped(0, "the destination is not open");
        };
        let outcome = if Handle::try_current().is_ok_and(|rt| rt.runtime_flavor() == RuntimeFlavor::MultiThread) {
            tokio::task::block_in_place(|| write_records(&mut writer, records))
        } else {
            let (records, span) = (records.to_vec(), tracing::Span::current());
            let task = move || (span.in_scope(|| write_records(&mut writer, &records)), writer);
            match tokio::task::spawn_blocking(task).await {
                Ok((outcome, returned)) => {
                    writer = returned;
                    outcome
                }
                Err(e) => return WriteResult::stopped(0, format!("writing the batch failed: {e}")),
            }
        };
        self.writer = Some(writer);
        match outcome.error {
            Some(e) => WriteResult::stopped(outcome.written, e),
            None if !without_key.is_empty() => {
                WriteResult::stopped(records.len(), "invalid key: the record has no key")
            }
            None => WriteResult::All,
        }
    }

    async fn teardown(&mut self) -> Result<(), BoxError> {
        if let Some(mut writer) = self.writer.take() {
            tokio::task::spawn_blocking(move || writer.commit()).await??;
        }
        Ok(())
    }
}

/// Writes each record's payload to the file named by its key (a delete removes it) with
/// [`DirWriter::write_batch`], and logs the changes applied.
fn write_records(writer: &mut DirWriter, records: &[Record]) -> BatchOutcome {
    let bytes: Vec<_> = records
        .iter()
        .map(|record| {
            (bytes(&record.key), (record.operation != Operation::Delete).then(|| bytes(&record.payload.after)))
        })
        .collect();
    let changes: Vec<Change<'_>> = bytes
        .iter()
        .map(|(key, data)| match data {
            Some(data) => Change::Write { key, data },
            None => Change::Delete { key },
        })
        .collect();
    let outcome = writer.write_batch(&changes);
    for change in changes.iter().take(outcome.written) {
        match change {
            Change::Write { key, data } => tracing::debug!(key = %escape_key(key), bytes = data.len(), "wrote file"),
            Change::Delete { key } => tracing::debug!(key = %escape_key(key), "deleted file"),
        }
    }
    outcome
}

/// The bytes of a key or payload as Go's `Data.Bytes()` gives them: raw data as is (borrowed),
/// structured data as its JSON (e.g. `{"id":1}`); none (no `payload.after`) is an empty file.
fn bytes(data: &Option<Data>) -> Cow<'_, [u8]> {
    data.as_ref().map_or(Cow::Borrowed(&[]), Data::bytes)
}
