//! Writing changes, one at a time or as a batch: committed in order, staged in parallel where
//! that pays.
//!
//! An atomic write is a temporary file (written, and synced when the sync mode asks) and a
//! rename onto the key, its commit point; an in-place write or a delete is its own commit
//! point. Several threads can write temporary files ahead (each in its own [`StagingDir`])
//! while the calling thread commits in batch order, so a batch that stops at change `i` has
//! committed exactly the changes before `i`; the files written ahead behind it are removed
//! unseen. Syncs are I/O waits, not CPU work, so with a sync mode more threads than CPUs keep
//! more of them in flight (the file system commits concurrent syncs together).

use std::os::fd::AsFd;
use std::sync::OnceLock;

use conduit_connector::destination::commit_in_order;

use super::{DirWriter, FsError, Op, Staged, StagingDir, SyncMode, io_cause, validate_key};

/// Threads writing and syncing temporary files with a sync mode.
const SYNC_THREADS: usize = 8;
/// Without a sync mode a batch is split across threads from this many changes, or
/// [`PARALLEL_MIN_BYTES`] of data: below both, starting threads costs more than it saves.
/// From 64 (not 128), batches of 100 (a common `sdk.batch.size`) are split: the plugin's Run
/// stream then reached 0.90–1.01 × `run --input` instead of 0.85–0.96 × (1 KiB records).
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
    /// Makes `data` the whole content of the file named `key` (validated by [`validate_key`]),
    /// replacing any existing file; see the [module docs](super) for atomicity, durability and
    /// what happens to planted symlinks, FIFOs and directories.
    ///
    /// # Errors
    /// [`FsError::InvalidKey`] (nothing touched) or [`FsError::Entry`]. A failed atomic write
    /// leaves the key as it was (its temporary file is removed); a failed in-place write leaves
    /// it as it was when opening, inspecting or truncating failed, and absent (never partial)
    /// when writing or syncing the data failed.
    pub fn write(&mut self, key: &[u8], data: &[u8]) -> Result<(), FsError> {
        self.apply(&[Change::Write { key, data }], 1).map_err(|(_, e)| e)
    }

    /// Removes the file named `key`; a missing file is fine. A symlink with that name is
    /// removed itself; a directory with that name is an error (never removed).
    ///
    /// # Errors
    /// [`FsError::InvalidKey`] or [`FsError::Entry`].
    pub fn delete(&mut self, key: &[u8]) -> Result<(), FsError> {
        self.apply(&[Change::Delete { key }], 1).map_err(|(_, e)| e)
    }

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
    /// batch; nothing of the failed change or of the changes behind it is applied. If the final
    /// commit fails, `written` is 0 and the error is the sync error: with [`SyncMode::Batch`]
    /// none of the batch is known to be durable.
    pub fn write_batch(&mut self, changes: &[Change<'_>]) -> BatchOutcome {
        let (written, error) = match self.apply(changes, self.threads_for(changes)) {
            Ok(()) => (changes.len(), None),
            Err((i, e)) => (i, Some(e)),
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

    /// Applies `changes` in order until one fails (`Err((i, error))`: exactly `i` applied),
    /// staging atomic writes on `threads` threads; with [`SyncMode::File`] the directory is
    /// synced after each change, so after a crash the durable changes are a prefix.
    fn apply(&mut self, changes: &[Change<'_>], threads: usize) -> Result<(), (usize, FsError)> {
        // With several threads, a staging directory each (made when first needed); with one,
        // none: its temporary files go in the directory itself.
        let slots = if threads > 1 { threads } else { 0 };
        let staging: Vec<OnceLock<Result<StagingDir<'_>, rustix::io::Errno>>> =
            (0..slots).map(|_| OnceLock::new()).collect();
        let stage = |thread: usize, i: usize| match changes[i] {
            Change::Write { key, data } if self.options.atomic => {
                let at = match staging.get(thread).map(|slot| slot.get_or_init(|| self.staging_dir())) {
                    None => self.dir.as_fd(), // One thread: in the directory itself.
                    Some(Ok(staging)) => staging.fd.as_fd(),
                    Some(Err(errno)) => {
                        return Err(self.entry_error(Op::Write, key, io_cause("creating the temporary file", *errno)));
                    }
                };
                self.stage(at, key, data).map(Some)
            }
            Change::Write { key, .. } | Change::Delete { key } => {
                validate_key(key).map(|_| None).map_err(FsError::from)
            }
        };
        let mut changed = false;
        let commit = |i: usize, staged: Option<Staged<'_>>| {
            let (op, key) = match changes[i] {
                Change::Write { key, .. } => (Op::Write, key),
                Change::Delete { key } => (Op::Delete, key),
            };
            let applied = match (changes[i], staged) {
                (_, Some(staged)) => self.publish(staged, key).map(|()| true)?,
                (Change::Write { data, .. }, None) => {
                    self.write_in_place(key, data).map_err(|cause| self.entry_error(op, key, cause))?;
                    true
                }
                (Change::Delete { .. }, None) => self.unlink(key)?,
            };
            changed |= applied;
            if applied && self.options.sync == SyncMode::File { self.sync_dir(op, key) } else { Ok(()) }
        };
        let result = if threads > 1 {
            // The staged files behind a failure are removed inside, before the staging directories.
            commit_in_order(changes.len(), threads, stage, commit)
        } else {
            let mut commit = commit;
            (0..changes.len()).try_for_each(|i| stage(0, i).and_then(|staged| commit(i, staged)).map_err(|e| (i, e)))
        };
        let staged = staging.iter().any(|slot| slot.get().is_some_and(Result::is_ok));
        drop(staging);
        if staged && self.options.sync == SyncMode::File {
            // Every change is durable already; this makes the staging directories' removal
            // durable too, so that after a power loss none of them names a file a key names.
            let _ = rustix::fs::fsync(&*self.dir);
        }
        self.uncommitted |= changed && self.options.sync == SyncMode::Batch;
        result
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::fs::WriteOptions;

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
