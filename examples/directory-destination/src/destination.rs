//! The connector: config, specification and the [`Destination`] implementation on top of
//! [`fs::DirWriter`](crate::fs::DirWriter).

use std::path::PathBuf;
use std::sync::atomic::{AtomicUsize, Ordering as AtomicOrdering};

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

/// Batches with at least this many records, or [`PARALLEL_MIN_BYTES`] of payload, are split
/// across two threads when [`DirectoryDestination::set_write_threads`] allows it (below
/// both, starting a thread costs more than it saves).
const PARALLEL_MIN_BATCH: usize = 128;
/// See [`PARALLEL_MIN_BATCH`].
const PARALLEL_MIN_BYTES: usize = 512 * 1024;

/// 2 write threads when the machine has at least two CPUs, else 1 (asked once: the answer
/// reads cgroup files).
fn default_threads() -> usize {
    static THREADS: std::sync::OnceLock<usize> = std::sync::OnceLock::new();
    *THREADS.get_or_init(|| std::thread::available_parallelism().map_or(1, |n| n.get().min(2)))
}

/// Whether a batch is worth splitting across two threads.
fn worth_splitting(records: &[Record]) -> bool {
    if records.len() >= PARALLEL_MIN_BATCH {
        return true;
    }
    if records.len() < 2 {
        return false;
    }
    let mut bytes = 0usize;
    for record in records {
        if let Some(Data::Raw(after)) = &record.payload.after {
            bytes += after.len();
            if bytes >= PARALLEL_MIN_BYTES {
                return true;
            }
        }
    }
    false
}

/// The destination: one [`DirWriter`] on the configured directory (and a clone of it for a
/// second thread when writes are parallel).
#[derive(Debug)]
pub struct DirectoryDestination {
    config: DirectoryConfig,
    writer: Option<DirWriter>,
    buf: Vec<u8>,
    threads: usize,
    /// The second thread's writer and buffer (only with 2 write threads, after open).
    helper: Option<(DirWriter, Vec<u8>)>,
}

impl DirectoryDestination {
    /// How many threads write a batch: 1 or 2 (the default when the machine has at least two
    /// CPUs). With 2, batches of at least 128 records or 512 KiB of payload are split by a
    /// hash of the key, so all records with one key are written by one thread, in order;
    /// acknowledgements keep the written-prefix semantics (the first failing record in batch
    /// order stops the batch; records behind it that the other thread already wrote are
    /// written again when they are handed back). Values above 2 are treated as 2. Takes
    /// effect immediately, or at [`open`](Destination::open).
    pub fn set_write_threads(&mut self, threads: usize) {
        self.threads = threads.clamp(1, 2);
        self.helper = match (&self.writer, self.threads) {
            (Some(writer), 2) => Some((writer.try_clone(), Vec::new())),
            _ => None,
        };
    }

    /// How many threads write a batch (see [`set_write_threads`](Self::set_write_threads)).
    pub fn write_threads(&self) -> usize {
        self.threads
    }

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

/// Writes `records` with two writers: record `i` goes to the thread given by its key's hash,
/// each thread writes its records in batch order and stops at its first failure, and both
/// stop at records behind the earliest failure seen so far. Every record before the earliest
/// failure was written (each thread wrote all of its records before its own first failure),
/// so that index is the written prefix. Records behind it that were written anyway are
/// written again when the runner hands them back, still in key order.
fn write_records_parallel(
    (writer, buf): (&mut DirWriter, &mut Vec<u8>),
    (helper, helper_buf): (&mut DirWriter, &mut Vec<u8>),
    records: &[Record],
) -> WriteResult {
    let stop = AtomicUsize::new(usize::MAX);
    let run_lane = |lane: bool, writer: &mut DirWriter, buf: &mut Vec<u8>| -> Option<(usize, BoxError)> {
        for (i, record) in records.iter().enumerate() {
            if lane_of(record) != lane {
                continue;
            }
            if i > stop.load(AtomicOrdering::Relaxed) {
                break;
            }
            if let Err(e) = write_record(writer, buf, record) {
                stop.fetch_min(i, AtomicOrdering::Relaxed);
                return Some((i, e));
            }
        }
        None
    };
    let (first, second) = std::thread::scope(|scope| {
        let other = scope.spawn(|| run_lane(true, helper, helper_buf));
        let first = run_lane(false, writer, buf);
        let second = other.join().unwrap_or_else(|panic| std::panic::resume_unwind(panic));
        (first, second)
    });
    // Make what was written durable before reporting where the batch stopped; both writers
    // are committed even when one fails.
    let committed = writer.commit();
    let helper_committed = helper.commit();
    if let Err(e) = committed.and(helper_committed) {
        return WriteResult::stopped(0, e);
    }
    match (first, second) {
        (None, None) => WriteResult::All,
        (Some((i, e)), None) | (None, Some((i, e))) => WriteResult::stopped(i, e),
        (Some((i, e)), Some((j, f))) => {
            if i < j {
                WriteResult::stopped(i, e)
            } else {
                WriteResult::stopped(j, f)
            }
        }
    }
}

/// The thread of a record in a parallel write: a hash of its key (FNV-1a), so every record
/// with one key goes to the same thread. Records without a raw key fail either way.
fn lane_of(record: &Record) -> bool {
    let Some(Data::Raw(key)) = &record.key else { return false };
    let hash = key.iter().fold(0xcbf2_9ce4_8422_2325_u64, |h, &b| (h ^ u64::from(b)).wrapping_mul(0x0100_0000_01b3));
    // Fold the high bits in: the low bit of FNV-1a alone depends only on the key's bytes' low bits.
    (hash ^ (hash >> 32)) & 1 == 1
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
        Ok(DirectoryDestination { config, writer: None, buf: Vec::new(), threads: default_threads(), helper: None })
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
        self.helper = (self.threads == 2).then(|| (writer.try_clone(), Vec::new()));
        self.writer = Some(writer);
        Ok(())
    }

    async fn write(&mut self, batch: Batch<'_>) -> WriteResult {
        let Some(writer) = self.writer.as_mut() else {
            return WriteResult::stopped(0, "write called before open");
        };
        match &mut self.helper {
            Some((helper, helper_buf)) if worth_splitting(batch.records()) => {
                write_records_parallel((writer, &mut self.buf), (helper, helper_buf), batch.records())
            }
            _ => Self::write_records(writer, &mut self.buf, batch.records()),
        }
    }

    async fn teardown(&mut self) -> Result<(), BoxError> {
        let helper = self.helper.take().map(|(mut helper, _)| helper.commit());
        if let Some(mut writer) = self.writer.take() {
            writer.commit()?;
        }
        if let Some(result) = helper {
            result?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use conduit_connector::middleware::RecordFormat;
    use conduit_connector::opencdc::Change;

    use super::*;

    fn record(key: &str, value: &str) -> Record {
        Record {
            key: Some(Data::Raw(key.as_bytes().to_vec())),
            payload: Change { before: None, after: Some(Data::Raw(value.as_bytes().to_vec())) },
            ..Record::default()
        }
    }

    fn block_on<T>(f: impl std::future::Future<Output = T>) -> T {
        tokio::runtime::Builder::new_current_thread().build().unwrap().block_on(f)
    }

    /// An open destination writing into a fresh directory with `threads` write threads.
    fn destination(dir: &std::path::Path, threads: usize) -> DirectoryDestination {
        let config = DirectoryConfig { directory: dir.to_path_buf(), atomic: true, sync: Sync::None };
        let mut d = block_on(DirectoryDestination::configure(config)).unwrap();
        d.set_write_threads(threads);
        block_on(d.open()).unwrap();
        d
    }

    fn write(d: &mut DirectoryDestination, records: &[Record]) -> WriteResult {
        block_on(d.write(Batch::new(records, &RecordFormat::default())))
    }

    /// An invalid key (it fails its record) that the parallel write gives to thread `lane`.
    fn bad_key(lane: bool) -> String {
        (0..).map(|i| format!("bad/{i}")).find(|k| lane_of(&record(k, "")) == lane).unwrap()
    }

    #[test]
    fn two_write_threads_write_every_record_of_a_large_batch() {
        let tmp = tempfile::tempdir().unwrap();
        let mut d = destination(tmp.path(), 2);
        assert_eq!(d.write_threads(), 2);
        let records: Vec<Record> = (0..300).map(|i| record(&format!("k{i}"), &format!("v{i}"))).collect();
        assert!(write(&mut d, &records).is_all());
        for i in 0..300 {
            assert_eq!(std::fs::read_to_string(tmp.path().join(format!("k{i}"))).unwrap(), format!("v{i}"));
        }
        assert!(lanes_used(&records).0 > 0 && lanes_used(&records).1 > 0, "both threads had records");
    }

    fn lanes_used(records: &[Record]) -> (usize, usize) {
        let second = records.iter().filter(|r| lane_of(r)).count();
        (records.len() - second, second)
    }

    #[test]
    fn two_write_threads_keep_the_order_of_records_with_the_same_key() {
        let tmp = tempfile::tempdir().unwrap();
        let mut d = destination(tmp.path(), 2);
        let records: Vec<Record> = (0..400)
            .map(|i| if i % 2 == 0 { record("same", &format!("v{i}")) } else { record(&format!("k{i}"), "x") })
            .collect();
        assert!(write(&mut d, &records).is_all());
        assert_eq!(std::fs::read_to_string(tmp.path().join("same")).unwrap(), "v398");
    }

    #[test]
    fn two_write_threads_report_the_first_failing_record_in_batch_order() {
        for (first_lane, second_lane) in [(false, true), (true, false), (true, true)] {
            let tmp = tempfile::tempdir().unwrap();
            let mut d = destination(tmp.path(), 2);
            let mut records: Vec<Record> = (0..300).map(|i| record(&format!("k{i}"), "v")).collect();
            records[150] = record(&bad_key(first_lane), "v");
            records[200] = record(&bad_key(second_lane), "v");
            match write(&mut d, &records) {
                WriteResult::Stopped { written, error } => {
                    assert_eq!(written, 150, "lanes {first_lane}/{second_lane}");
                    assert!(error.to_string().contains("bad/"), "{error}");
                }
                WriteResult::All => panic!("a record with an invalid key was acknowledged"),
            }
            // The written prefix is on disk.
            for i in 0..150 {
                assert!(tmp.path().join(format!("k{i}")).is_file(), "k{i} of the written prefix is missing");
            }
        }
    }

    #[test]
    fn two_write_threads_are_the_default_on_a_machine_with_two_cpus() {
        let tmp = tempfile::tempdir().unwrap();
        let config = DirectoryConfig { directory: tmp.path().to_path_buf(), atomic: true, sync: Sync::None };
        let d = block_on(DirectoryDestination::configure(config)).unwrap();
        let cpus = std::thread::available_parallelism().map_or(1, |n| n.get());
        assert_eq!(d.write_threads(), cpus.min(2));
    }

    #[test]
    fn batches_are_split_from_128_records_or_512_kib_of_payload() {
        let small: Vec<Record> = (0..127).map(|i| record(&format!("k{i}"), "v")).collect();
        assert!(!worth_splitting(&small));
        let many: Vec<Record> = (0..128).map(|i| record(&format!("k{i}"), "v")).collect();
        assert!(worth_splitting(&many));
        let big = "x".repeat(256 * 1024);
        assert!(!worth_splitting(&[record("a", &big)]), "one record is never split");
        assert!(worth_splitting(&[record("a", &big), record("b", &big)]));
    }

    #[test]
    fn small_batches_and_one_thread_write_sequentially() {
        let tmp = tempfile::tempdir().unwrap();
        let mut d = destination(tmp.path(), 1);
        assert_eq!(d.write_threads(), 1);
        let mut records: Vec<Record> = (0..300).map(|i| record(&format!("k{i}"), "v")).collect();
        records[10] = record("bad/1", "v");
        assert!(matches!(write(&mut d, &records), WriteResult::Stopped { written: 10, .. }));
        // Everything after the failure was left alone.
        assert!(!tmp.path().join("k11").exists());
    }
}
