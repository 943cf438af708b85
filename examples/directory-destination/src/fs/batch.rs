//! Writing a batch of changes: committed in order, prepared in parallel where that pays.
//!
//! An atomic write is a temporary file (written, and synced when the sync mode asks) and a
//! rename onto the key, the commit point. Several threads write temporary files at once (each
//! in its own staging directory) while this thread renames them in batch order and applies deletes in between, so a batch that
//! stops at change `i` has committed exactly the changes before `i`: the temporary files of
//! the changes behind it, written ahead by other threads, are removed unseen. Syncs are I/O
//! waits, not CPU work, so with a sync mode more threads than CPUs keep more of them in flight
//! (the file system commits concurrent syncs together).

use std::os::fd::AsFd;
use std::sync::OnceLock;

use conduit_connector::destination::commit_in_order;

use super::{DirWriter, FsError, Op, Staged, StagingDir, SyncMode, io_cause, validate_key};

/// Threads writing and syncing temporary files with a sync mode.
const SYNC_THREADS: usize = 8;
/// Without a sync mode a batch is split across threads from this many changes, or
/// [`PARALLEL_MIN_BYTES`] of data: below both, starting threads costs more than it saves.
/// From 64 (not 128), batches of 100 — a common `sdk.batch.size` — are split: the plugin's
/// Run stream then reached 0.90–1.01 × `run --input` instead of 0.85–0.96 × (1 KiB records,
/// two quiet runs), for 2–5 µs more CPU per record.
const PARALLEL_MIN_CHANGES: usize = 64;
/// See [`PARALLEL_MIN_CHANGES`].
const PARALLEL_MIN_BYTES: usize = 512 * 1024;

/// One change of a [`DirWriter::write_batch`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Change<'a> {
    /// Write `data` as the whole content of the file named `key`.
    Write {
        /// The record key (file name).
        key: &'a [u8],
        /// The file's new content.
        data: &'a [u8],
    },
    /// Delete the file named `key` (a missing file is fine).
    Delete {
        /// The record key (file name).
        key: &'a [u8],
    },
}

/// The result of [`DirWriter::write_batch`]: the changes applied from the front of the batch,
/// and the error that stopped it.
#[derive(Debug)]
#[must_use = "the batch may have stopped early with an error"]
pub struct BatchOutcome {
    /// How many changes, from the front of the batch, were applied (and, with
    /// [`SyncMode::File`] or [`SyncMode::Batch`], made durable).
    pub written: usize,
    /// The error that stopped the batch at change number `written`, or a failed directory sync
    /// at its end (then `written` is 0: nothing is known to be durable).
    pub error: Option<FsError>,
}

impl DirWriter {
    /// How many threads [`write_batch`](Self::write_batch) may use: 1 (the default) writes
    /// everything on the calling thread; 2 or more (values above 2 count as 2) splits atomic
    /// batches of at least 64 changes or 512 KiB across 2 threads, and with a [`SyncMode`]
    /// writes and syncs the files of any atomic batch on up to 8 threads. Renames and deletes
    /// always happen on the calling thread, in batch order. In-place writes (`atomic: false`)
    /// are their own commit points and always use one thread.
    pub fn set_threads(&mut self, threads: usize) {
        self.threads = threads.clamp(1, 2);
    }

    /// See [`set_threads`](Self::set_threads).
    pub fn threads(&self) -> usize {
        self.threads
    }

    /// Applies `changes` in order, stopping at the first error, then [`commit`](Self::commit)s.
    ///
    /// Returns how many changes from the front were applied and the error that stopped the
    /// batch; nothing of the failed change or of the changes behind it is applied (with several
    /// threads, their temporary files are removed unseen). If the final commit fails, `written`
    /// is 0 and the error is the sync error: with [`SyncMode::Batch`] none of the batch is
    /// known to be durable.
    pub fn write_batch(&mut self, changes: &[Change<'_>]) -> BatchOutcome {
        let threads = self.threads_for(changes);
        let (written, error) = if threads > 1 {
            let (written, error) = self.write_parallel(changes, threads);
            self.uncommitted |= written > 0 && self.options.sync == SyncMode::Batch;
            (written, error)
        } else {
            self.write_sequential(changes)
        };
        match self.commit() {
            Ok(()) => BatchOutcome { written, error },
            Err(e) => BatchOutcome { written: 0, error: Some(e) },
        }
    }

    fn threads_for(&self, changes: &[Change<'_>]) -> usize {
        if self.threads < 2 || !self.options.atomic || changes.len() < 2 {
            return 1;
        }
        if self.options.sync != SyncMode::None {
            return SYNC_THREADS.min(changes.len());
        }
        let mut bytes = 0;
        let large = changes.len() >= PARALLEL_MIN_CHANGES
            || changes.iter().any(|change| {
                bytes += if let Change::Write { data, .. } = change { data.len() } else { 0 };
                bytes >= PARALLEL_MIN_BYTES
            });
        if large { self.threads } else { 1 }
    }

    fn write_sequential(&mut self, changes: &[Change<'_>]) -> (usize, Option<FsError>) {
        for (i, change) in changes.iter().enumerate() {
            let result = match *change {
                Change::Write { key, data } => self.write(key, data),
                Change::Delete { key } => self.delete(key),
            };
            if let Err(e) = result {
                return (i, Some(e));
            }
        }
        (changes.len(), None)
    }

    /// Atomic writes staged by `threads` threads and committed here in order: renames, deletes
    /// and, with [`SyncMode::File`], a directory sync after each (so that after a crash the
    /// durable changes are a prefix of the batch). Each thread stages its files in its own
    /// [`StagingDir`], removed again before this returns.
    fn write_parallel(&self, changes: &[Change<'_>], threads: usize) -> (usize, Option<FsError>) {
        let staging: Vec<OnceLock<Result<StagingDir<'_>, rustix::io::Errno>>> =
            (0..threads).map(|_| OnceLock::new()).collect();
        let stage = |thread: usize, i: usize| match changes[i] {
            Change::Write { key, data } => {
                let at = match staging.get(thread).map(|slot| slot.get_or_init(|| self.staging_dir())) {
                    None => self.dir.as_fd(), // Not reached: `thread` is below `threads`.
                    Some(Ok(staging)) => staging.fd.as_fd(),
                    Some(Err(errno)) => {
                        return Err(self.entry_error(Op::Write, key, io_cause("creating the temporary file", *errno)));
                    }
                };
                self.stage_in(at, key, data).map(Some)
            }
            Change::Delete { key } => validate_key(key).map(|_| None).map_err(FsError::from),
        };
        let commit = |i: usize, staged: Option<Staged<'_>>| {
            let (op, key) = match changes[i] {
                Change::Write { key, .. } => (Op::Write, key),
                Change::Delete { key } => (Op::Delete, key),
            };
            match staged {
                Some(staged) => self.publish(staged, key)?,
                None => _ = self.unlink(key)?,
            }
            match self.options.sync {
                SyncMode::File => self.sync_dir(op, key),
                SyncMode::None | SyncMode::Batch => Ok(()),
            }
        };
        // The staged files behind a failure are removed inside, before the staging directories.
        let failure = commit_in_order(changes.len(), threads, stage, commit);
        let staged = staging.iter().any(|slot| slot.get().is_some_and(Result::is_ok));
        drop(staging);
        if staged && self.options.sync == SyncMode::File {
            // Every change is durable already; this makes the staging directories' removal
            // durable too, so that after a power loss none of them names a file a key names.
            let _ = rustix::fs::fsync(&*self.dir);
        }
        match failure {
            Ok(()) => (changes.len(), None),
            Err((i, e)) => (i, Some(e)),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::fs::WriteOptions;

    #[test]
    fn batch_sync_on_threads_applies_the_front_and_leaves_no_temporary_file() {
        let tmp = tempfile::tempdir().unwrap();
        let mut w = DirWriter::open(tmp.path(), WriteOptions { atomic: true, sync: SyncMode::Batch }).unwrap();
        w.set_threads(2);
        let keys: Vec<String> = (0..300).map(|i| format!("k{i}")).collect();
        let mut changes: Vec<Change<'_>> =
            keys.iter().map(|k| Change::Write { key: k.as_bytes(), data: k.as_bytes() }).collect();
        changes[3] = Change::Delete { key: b"k0" };
        changes[200] = Change::Write { key: b"bad/key", data: b"x" };
        let outcome = w.write_batch(&changes);
        assert_eq!(outcome.written, 200);
        assert!(matches!(outcome.error, Some(FsError::InvalidKey(_))), "{:?}", outcome.error);
        let mut names: Vec<String> =
            std::fs::read_dir(tmp.path()).unwrap().map(|e| e.unwrap().file_name().into_string().unwrap()).collect();
        names.sort();
        let mut expected: Vec<String> = keys[1..200].iter().filter(|k| *k != "k3").cloned().collect();
        expected.sort();
        assert_eq!(names, expected, "k0 deleted, k3 never written, nothing from 200 on, no temporary file");
        assert_eq!(std::fs::read(tmp.path().join("k199")).unwrap(), b"k199");
    }

    #[test]
    fn a_staging_directory_that_cannot_be_made_fails_the_batch_at_its_first_change() {
        let tmp = tempfile::tempdir().unwrap();
        let mut w = DirWriter::open(tmp.path(), WriteOptions { atomic: true, sync: SyncMode::Batch }).unwrap();
        w.set_threads(2);
        // Every name the writer's staging directories could take is taken.
        let planted: Vec<_> = (0..64)
            .map(|n| {
                let name = super::super::TempName::new(super::super::STAGING, w.id, n);
                let path = tmp.path().join(std::str::from_utf8(name.as_cstr().to_bytes()).unwrap());
                std::fs::write(&path, b"x").unwrap();
                path
            })
            .collect();
        let changes = [Change::Write { key: b"a", data: b"1" }, Change::Write { key: b"b", data: b"2" }];
        let outcome = w.write_batch(&changes);
        assert_eq!(outcome.written, 0);
        let error = outcome.error.unwrap().to_string();
        assert!(error.starts_with("writing \"a\" in "), "{error}");
        assert!(error.ends_with("creating the temporary file: File exists (os error 17)"), "{error}");
        let left = std::fs::read_dir(tmp.path()).unwrap().count();
        assert_eq!(left, planted.len(), "nothing but the planted names");
    }

    #[test]
    fn batches_use_threads_when_they_pay() {
        let tmp = tempfile::tempdir().unwrap();
        let big = vec![b'x'; 256 * 1024];
        let keys: Vec<String> = (0..128).map(|i| format!("k{i}")).collect();
        let small: Vec<Change<'_>> = keys.iter().map(|k| Change::Write { key: k.as_bytes(), data: b"v" }).collect();
        let two_large = [Change::Write { key: b"a", data: &big }, Change::Write { key: b"b", data: &big }];
        let mut w = DirWriter::open(tmp.path(), WriteOptions::default()).unwrap();
        assert_eq!(w.threads_for(&small), 1, "one thread unless set_threads allows more");
        w.set_threads(5);
        assert_eq!(w.threads(), 2);
        assert_eq!(w.threads_for(&small[..63]), 1);
        assert_eq!(w.threads_for(&small[..64]), 2);
        assert_eq!(w.threads_for(&small), 2);
        assert_eq!(w.threads_for(&two_large[..1]), 1, "one change is never split");
        assert_eq!(w.threads_for(&two_large), 2);
        drop(w);
        for (atomic, sync, expected) in
            [(true, SyncMode::File, 8), (true, SyncMode::Batch, 8), (false, SyncMode::File, 1)]
        {
            let mut w = DirWriter::open(tmp.path(), WriteOptions { atomic, sync }).unwrap();
            w.set_threads(2);
            assert_eq!(w.threads_for(&small), expected, "{sync:?}");
            assert_eq!(w.threads_for(&small[..3]), if atomic { 3 } else { 1 }, "{sync:?}");
        }
    }
}
