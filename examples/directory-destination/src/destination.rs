//! The connector: config, specification and the [`Destination`] implementation on top of
//! [`fs::DirWriter`](crate::fs::DirWriter).

use std::path::PathBuf;

use conduit_connector::destination::{Batch, BoxError, Destination, WriteResult};
use conduit_connector::opencdc::{Data, Operation, Record};
use conduit_connector::{Config, ConfigValue, Specification};

use crate::fs::{DirWriter, SyncMode, WriteOptions, escape_key};

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
    /// Directory the files are written to. It is created (mode 0755) if it does not exist.
    #[param(required)]
    pub directory: PathBuf,
    /// Write each file atomically: to a hidden temporary file first, renamed into place when
    /// complete, so readers never see a partial file. When false, files are written in place.
    #[param(default = true)]
    pub atomic: bool,
    /// When files are synced to stable storage before their records are acknowledged: `none`
    /// (leave it to the operating system), `file` (sync each file and the directory after it) or
    /// `batch` (sync each file's data and the directory once per batch).
    #[param(default = "none")]
    pub sync: Sync,
}

/// The connector's specification (its destination parameters are added by the SDK).
pub fn specification() -> Specification {
    Specification {
        name: "directory".to_owned(),
        summary: "Writes each record to a file named by its key, inside one directory.".to_owned(),
        description: "A destination that writes the payload of each record (payload.after; structured \
                      payloads as JSON) to a file named by the record key inside the configured \
                      directory. Deletes remove the file. Writes are atomic by default, keys are \
                      validated to be single safe file names, and nothing is ever written outside \
                      the directory or through a symlink planted in it."
            .to_owned(),
        version: concat!("v", env!("CARGO_PKG_VERSION")).to_owned(),
        author: "The Conduit Rust SDK authors".to_owned(),
        ..Specification::default()
    }
}

/// The destination: one [`DirWriter`] on the configured directory.
#[derive(Debug)]
pub struct DirectoryDestination {
    config: DirectoryConfig,
    writer: Option<DirWriter>,
    buf: Vec<u8>,
}

impl DirectoryDestination {
    fn write_records(writer: &mut DirWriter, buf: &mut Vec<u8>, records: &[Record]) -> WriteResult {
        for (i, record) in records.iter().enumerate() {
            if let Err(e) = write_record(writer, buf, record) {
                // Make what was written durable before reporting where the batch stopped.
                if let Err(sync) = writer.commit() {
                    return WriteResult::stopped(0, sync);
                }
                return WriteResult::stopped(i, e);
            }
        }
        match writer.commit() {
            Ok(()) => WriteResult::All,
            Err(e) => WriteResult::stopped(0, e),
        }
    }
}

fn key_bytes(record: &Record) -> Result<&[u8], BoxError> {
    match &record.key {
        Some(Data::Raw(bytes)) => Ok(bytes),
        Some(key @ Data::Structured(_)) => {
            let json = key.bytes();
            let shown = String::from_utf8_lossy(&json);
            let shown: String = shown.chars().take(64).collect();
            let more = if shown.len() < json.len() { "…" } else { "" };
            Err(format!("invalid key {shown}{more}: the record key is structured data; a file name needs a raw key")
                .into())
        }
        None => Err("invalid key: the record has no key".into()),
    }
}

fn write_record(writer: &mut DirWriter, buf: &mut Vec<u8>, record: &Record) -> Result<(), BoxError> {
    let key = key_bytes(record)?;
    match record.operation {
        Operation::Delete => {
            writer.delete(key)?;
            tracing::debug!(key = %escape_key(key), "deleted file");
        }
        Operation::Create | Operation::Update | Operation::Snapshot => {
            let data: &[u8] = match &record.payload.after {
                Some(Data::Raw(bytes)) => bytes,
                Some(Data::Structured(_)) | None => {
                    buf.clear();
                    if let Some(after) = &record.payload.after {
                        buf.extend_from_slice(&after.bytes());
                    }
                    buf
                }
            };
            writer.write(key, data)?;
            tracing::debug!(key = %escape_key(key), bytes = data.len(), "wrote file");
        }
    }
    Ok(())
}

impl Destination for DirectoryDestination {
    type Config = DirectoryConfig;

    async fn configure(config: DirectoryConfig) -> Result<Self, BoxError> {
        Ok(DirectoryDestination { config, writer: None, buf: Vec::new() })
    }

    async fn open(&mut self) -> Result<(), BoxError> {
        let sync = match self.config.sync {
            Sync::None => SyncMode::None,
            Sync::File => SyncMode::File,
            Sync::Batch => SyncMode::Batch,
        };
        let writer = DirWriter::open(&self.config.directory, WriteOptions { atomic: self.config.atomic, sync })?;
        if writer.stale_removed() > 0 {
            tracing::info!(removed = writer.stale_removed(), "removed temporary files left by an earlier crash");
        }
        self.writer = Some(writer);
        Ok(())
    }

    async fn write(&mut self, batch: Batch<'_>) -> WriteResult {
        let Some(writer) = self.writer.as_mut() else {
            return WriteResult::stopped(0, "write called before open");
        };
        Self::write_records(writer, &mut self.buf, batch.records())
    }

    async fn teardown(&mut self) -> Result<(), BoxError> {
        if let Some(mut writer) = self.writer.take() {
            writer.commit()?;
        }
        Ok(())
    }
}
