//! The connector: config, specification and the [`Destination`] implementation on top of
//! [`fs::DirWriter`](crate::fs::DirWriter).

use std::borrow::Cow;
use std::path::PathBuf;
use std::sync::Mutex;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering as AtomicOrdering};

use conduit_connector::destination::{Batch, BoxError, Destination, WriteResult};
use conduit_connector::opencdc::{Data, Operation, Record};
use conduit_connector::{Config, ConfigValue, Specification};

use crate::fs::{DirWriter, Staged, SyncMode, WriteOptions, escape_key, validate_key};

/// When written files are synced to stable storage before their records are acknowledged.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, ConfigValue)]
pub enum Sync {
    /// Never sync: the operating system writes data back when it likes (fastest).
    #[default]
    None,
    /// Sync each file, and the directory after each file: every ack means "on disk". (A batch
    /// written by two threads syncs the directory once, before its acks.)
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
    /// CPUs). With 2 and atomic writes, batches of at least 128 records or 512 KiB of payload
    /// are staged by both threads (temporary files written, and synced when the sync mode asks,
    /// in parallel) and then published by renames in record order, so acknowledgements keep the
    /// written-prefix semantics exactly: the records before the first failing record are
    /// written, and nothing of the failing record or of the records behind it is (their
    /// temporary files are removed unseen). Records with one key are applied in batch order.
    /// In-place writes (`atomic=false`) always use one thread: each write is its own commit
    /// point and cannot be staged. Values above 2 are treated as 2. Takes effect immediately,
    /// or at [`open`](Destination::open).
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

/// Writes `records` with two writers so that acknowledgements always match the files:
///
/// - **Stage** (both threads): each thread takes the next record not yet taken and writes its
///   payload to a temporary file ([`DirWriter::stage`], synced when the sync mode asks); after
///   a record fails, records behind it are no longer taken.
/// - **Publish** (this thread, in record order, while the helper goes on staging): each staged
///   file is renamed onto its key and each delete applied. These are the commit points. While
///   the next record to publish is still being staged by the helper, this thread stages a later
///   one (or waits when none is left).
///
/// At the first record that failed to stage or to publish, the temporary files of every record
/// behind it are removed unseen and the batch stops there. So the records before the failure
/// are written (and, with a sync mode, durable once the final directory sync returns: one per
/// batch here, for `sync=file` too, as acknowledgements leave only after it), the failed one and
/// those behind it changed nothing, and records with one key are applied in batch order
/// whichever thread staged them.
fn write_records_parallel(
    (writer, buf): (&mut DirWriter, &mut Vec<u8>),
    (helper, helper_buf): (&mut DirWriter, &mut Vec<u8>),
    records: &[Record],
) -> WriteResult {
    let next = AtomicUsize::new(0);
    let stop = AtomicUsize::new(usize::MAX);
    let helper_done = AtomicBool::new(false);
    let slots: Vec<Mutex<Option<Prepared<'_>>>> =
        std::iter::repeat_with(|| Mutex::new(None)).take(records.len()).collect();
    let publisher = std::thread::current();
    // Takes the next record and stages it into its slot; false when none is left to take.
    let stage_next = |writer: &mut DirWriter, buf: &mut Vec<u8>| -> bool {
        let i = next.fetch_add(1, AtomicOrdering::Relaxed);
        let (Some(record), Some(slot)) = (records.get(i), slots.get(i)) else { return false };
        if i > stop.load(AtomicOrdering::Relaxed) {
            return false;
        }
        let prepared = prepare(writer, buf, record);
        if matches!(prepared, Prepared::Failed(_)) {
            stop.fetch_min(i, AtomicOrdering::Relaxed);
        }
        *lock(slot) = Some(prepared);
        true
    };
    let failure = std::thread::scope(|scope| {
        let stager = scope.spawn(|| {
            // Set when the helper is done staging, even if it panics, so the publisher never
            // waits for a slot nobody will fill.
            let _done = Done { flag: &helper_done, publisher: &publisher };
            while stage_next(helper, helper_buf) {
                publisher.unpark();
            }
        });
        let mut failure = None;
        for (i, slot) in slots.iter().enumerate() {
            let prepared = loop {
                // Read before looking at the slot: once the helper is done, an empty slot stays empty.
                let done = helper_done.load(AtomicOrdering::Acquire);
                if let Some(prepared) = lock(slot).take() {
                    break Ok(prepared);
                }
                if stage_next(writer, buf) {
                    continue;
                }
                if done {
                    // Every record before a failure is taken and staged; only a panic in the
                    // helper leaves one empty.
                    break Err(BoxError::from("internal error: the record was not staged"));
                }
                std::thread::park_timeout(std::time::Duration::from_millis(100));
            };
            if let Err(e) = prepared.and_then(|prepared| publish(writer, prepared)) {
                stop.fetch_min(i, AtomicOrdering::Relaxed);
                failure = Some((i, e));
                break;
            }
        }
        if let Err(panic) = stager.join() {
            std::panic::resume_unwind(panic);
        }
        failure
    });
    // Removes the temporary files of the records behind a failure, unseen.
    drop(slots);
    // Make what was published durable before reporting where the batch stopped.
    if let Err(e) = writer.commit() {
        return WriteResult::stopped(0, e);
    }
    match failure {
        None => WriteResult::All,
        Some((i, e)) => WriteResult::stopped(i, e),
    }
}

/// Marks the staging helper done when dropped (also on a panic) and wakes the publisher.
struct Done<'a> {
    flag: &'a AtomicBool,
    publisher: &'a std::thread::Thread,
}

impl Drop for Done<'_> {
    fn drop(&mut self) {
        self.flag.store(true, AtomicOrdering::Release);
        self.publisher.unpark();
    }
}

/// Locks a slot; a poisoned lock (a panic while holding it) still holds a usable value.
fn lock<'a, T>(mutex: &'a Mutex<T>) -> std::sync::MutexGuard<'a, T> {
    mutex.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
}

/// A record after the staging phase of a parallel write.
enum Prepared<'a> {
    /// The payload is in a temporary file, to be renamed onto the key.
    Write { key: Cow<'a, [u8]>, staged: Staged, bytes: usize },
    /// The file is to be removed.
    Delete { key: Cow<'a, [u8]> },
    /// The record failed: an invalid key or a failed write.
    Failed(BoxError),
}

fn prepare<'a>(writer: &mut DirWriter, buf: &mut Vec<u8>, record: &'a Record) -> Prepared<'a> {
    let key = match key_bytes(record) {
        Ok(key) => key,
        Err(e) => return Prepared::Failed(e),
    };
    match record.operation {
        Operation::Delete => match validate_key(&key) {
            Ok(_) => Prepared::Delete { key },
            Err(e) => Prepared::Failed(e.into()),
        },
        Operation::Create | Operation::Update | Operation::Snapshot => {
            let data = payload_bytes(buf, record);
            match writer.stage(&key, data) {
                Ok(staged) => Prepared::Write { bytes: data.len(), key, staged },
                Err(e) => Prepared::Failed(e.into()),
            }
        }
    }
}

fn publish(writer: &mut DirWriter, prepared: Prepared<'_>) -> Result<(), BoxError> {
    match prepared {
        Prepared::Write { key, staged, bytes } => {
            writer.publish_deferred(staged, &key)?;
            tracing::debug!(key = %escape_key(&key), bytes, "wrote file");
        }
        Prepared::Delete { key } => {
            writer.delete(&key)?;
            tracing::debug!(key = %escape_key(&key), "deleted file");
        }
        Prepared::Failed(e) => return Err(e),
    }
    Ok(())
}

/// The bytes written for a create/update/snapshot: raw `payload.after` as is, structured as
/// its JSON (built in `buf`), nothing when there is no payload.
fn payload_bytes<'a>(buf: &'a mut Vec<u8>, record: &'a Record) -> &'a [u8] {
    match &record.payload.after {
        Some(Data::Raw(bytes)) => bytes,
        Some(after @ Data::Structured(_)) => {
            buf.clear();
            after.write_bytes(buf);
            buf
        }
        None => &[],
    }
}

/// The file name of a record: its key's bytes as Go's `record.Key.Bytes()` gives them (raw
/// data as is, structured data as its compact JSON with sorted keys, e.g. `{"id":1}`), checked
/// by the writer like any raw key.
fn key_bytes(record: &Record) -> Result<Cow<'_, [u8]>, BoxError> {
    match &record.key {
        Some(key) => Ok(key.bytes()),
        None => Err("invalid key: the record has no key".into()),
    }
}

fn write_record(writer: &mut DirWriter, buf: &mut Vec<u8>, record: &Record) -> Result<(), BoxError> {
    let key = key_bytes(record)?;
    match record.operation {
        Operation::Delete => {
            writer.delete(&key)?;
            tracing::debug!(key = %escape_key(&key), "deleted file");
        }
        Operation::Create | Operation::Update | Operation::Snapshot => {
            let data = payload_bytes(buf, record);
            writer.write(&key, data)?;
            tracing::debug!(key = %escape_key(&key), bytes = data.len(), "wrote file");
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
        // Opened again: let go of the directory (and its lock) first.
        self.helper = None;
        self.writer = None;
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
            // In-place writes are their own commit points and cannot be staged: one thread.
            Some((helper, helper_buf)) if self.config.atomic && worth_splitting(batch.records()) => {
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

    /// The names in `dir`, sorted.
    fn names(dir: &std::path::Path) -> Vec<String> {
        let mut names: Vec<String> =
            std::fs::read_dir(dir).unwrap().map(|e| e.unwrap().file_name().into_string().unwrap()).collect();
        names.sort();
        names
    }

    #[test]
    fn two_write_threads_write_every_record_of_a_large_batch() {
        let tmp = tempfile::tempdir().unwrap();
        let mut d = destination(tmp.path(), 2);
        assert_eq!(d.write_threads(), 2);
        let records: Vec<Record> = (0..300).map(|i| record(&format!("k{i}"), &format!("v{i}"))).collect();
        assert!(worth_splitting(&records));
        assert!(write(&mut d, &records).is_all());
        for i in 0..300 {
            assert_eq!(std::fs::read_to_string(tmp.path().join(format!("k{i}"))).unwrap(), format!("v{i}"));
        }
        assert_eq!(names(tmp.path()).len(), 300, "no temporary file is left");
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
        // A delete between writes of one key is applied in order too.
        let mut records: Vec<Record> = (0..300).map(|i| record(&format!("k{i}"), "y")).collect();
        records[10] = record("same", "before delete");
        records[200] = Record { operation: Operation::Delete, ..record("same", "") };
        records[250] = record("same", "after delete");
        assert!(write(&mut d, &records).is_all());
        assert_eq!(std::fs::read_to_string(tmp.path().join("same")).unwrap(), "after delete");
    }

    /// The acknowledgement matches the files: the written prefix is on disk, and nothing of the
    /// failed record or of any record behind it is (the other thread staged some of them).
    fn assert_prefix_only(dir: &std::path::Path, written: usize, total: usize) {
        let expected: std::collections::BTreeSet<String> = (0..written).map(|i| format!("k{i:03}")).collect();
        let present: std::collections::BTreeSet<String> = names(dir).into_iter().collect();
        assert_eq!(present, expected, "files present differ from the written prefix of {total} records");
    }

    #[test]
    fn two_write_threads_write_nothing_behind_the_first_failing_record() {
        for (first, second) in [(150, 200), (150, 151), (0, 299), (298, 299)] {
            let tmp = tempfile::tempdir().unwrap();
            let mut d = destination(tmp.path(), 2);
            let mut records: Vec<Record> = (0..300).map(|i| record(&format!("k{i:03}"), "v")).collect();
            records[first] = record("bad/1", "v");
            records[second] = record("bad/2", "v");
            match write(&mut d, &records) {
                WriteResult::Stopped { written, error } => {
                    assert_eq!(written, first, "failures at {first} and {second}");
                    assert!(error.to_string().contains("bad/1"), "{error}");
                }
                WriteResult::All => panic!("a record with an invalid key was acknowledged"),
            }
            assert_prefix_only(tmp.path(), first, 300);
        }
    }

    #[test]
    fn two_write_threads_stop_at_a_rename_that_fails_and_publish_nothing_behind_it() {
        let tmp = tempfile::tempdir().unwrap();
        let mut d = destination(tmp.path(), 2);
        // A directory has the name of record 100: staging succeeds, publishing (the rename) fails.
        std::fs::create_dir(tmp.path().join("k100")).unwrap();
        std::fs::write(tmp.path().join("k100").join("inner"), "x").unwrap();
        let records: Vec<Record> = (0..300).map(|i| record(&format!("k{i:03}"), "v")).collect();
        let records: Vec<Record> =
            records.into_iter().enumerate().map(|(i, r)| if i == 100 { record("k100", "v") } else { r }).collect();
        match write(&mut d, &records) {
            WriteResult::Stopped { written, error } => {
                assert_eq!(written, 100);
                assert!(error.to_string().contains("\"k100\""), "{error}");
            }
            WriteResult::All => panic!("a record whose name is a directory was acknowledged"),
        }
        let mut expected: Vec<String> = (0..100).map(|i| format!("k{i:03}")).collect();
        expected.push("k100".to_owned());
        expected.sort();
        assert_eq!(names(tmp.path()), expected, "only the written prefix (and the planted directory)");
        assert!(tmp.path().join("k100").join("inner").is_file());
    }

    #[test]
    fn in_place_writes_use_one_thread_and_write_nothing_behind_a_failure() {
        let tmp = tempfile::tempdir().unwrap();
        let config = DirectoryConfig { directory: tmp.path().to_path_buf(), atomic: false, sync: Sync::None };
        let mut d = block_on(DirectoryDestination::configure(config)).unwrap();
        d.set_write_threads(2);
        block_on(d.open()).unwrap();
        let mut records: Vec<Record> = (0..300).map(|i| record(&format!("k{i:03}"), "v")).collect();
        records[150] = record("bad/1", "v");
        assert!(matches!(write(&mut d, &records), WriteResult::Stopped { written: 150, .. }));
        assert_prefix_only(tmp.path(), 150, 300);
    }

    #[test]
    fn opening_again_releases_the_directory_first() {
        let tmp = tempfile::tempdir().unwrap();
        let mut d = destination(tmp.path(), 2);
        block_on(d.open()).unwrap();
        assert!(write(&mut d, &[record("k", "v")]).is_all());
        assert_eq!(std::fs::read_to_string(tmp.path().join("k")).unwrap(), "v");
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
