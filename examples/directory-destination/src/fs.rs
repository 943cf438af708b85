//! The file-system core: writes each record's bytes to a file named by its key, inside one
//! directory, safely and with as few system calls as possible.
//!
//! A [`DirWriter`] opens the configured directory once and does everything else with `*at`
//! system calls relative to that handle, so the path is never resolved again (replacing the
//! directory by a symlink after open cannot redirect writes). Keys are checked by
//! [`validate_key`] to be single file names, so nothing is ever written outside the directory.
//!
//! ```
//! use directory_destination::fs::{Change, DirWriter, WriteOptions};
//!
//! # let tmp = tempfile::tempdir().unwrap();
//! # let dir = tmp.path().join("out");
//! let mut writer = DirWriter::open(&dir, WriteOptions::default())?;
//! writer.write(b"greeting.txt", b"hello")?;
//! let outcome = writer.write_batch([
//!     Change::Write { key: b"a", data: b"1" },
//!     Change::Delete { key: b"greeting.txt" },
//! ]);
//! assert_eq!(outcome.written, 2);
//! assert!(outcome.error.is_none());
//! assert_eq!(std::fs::read(dir.join("a"))?, b"1");
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```
//!
//! # Safety against planted entries
//!
//! Whatever already has a key's name inside the directory:
//! - a **symlink**: atomic mode renames over the link itself (the target is untouched);
//!   non-atomic mode refuses (`O_NOFOLLOW`); delete removes the link itself;
//! - a **FIFO, socket or device**: atomic mode replaces it; non-atomic mode refuses without
//!   blocking (`O_NONBLOCK`, then a file-type check) and writes nothing;
//! - a **directory**: writes and deletes fail, the directory is never replaced or removed;
//! - a **regular file with other hard links**: atomic mode replaces the name (the other links
//!   keep the old content); non-atomic mode refuses, since the links may lead outside.
//!
//! # Durability
//!
//! Atomic mode (the default) writes a hidden temporary file (named with [`TEMP_PREFIX`]) and
//! renames it onto the key, so readers on a running system see either the old or the complete
//! new file, never a partial one. Non-atomic mode writes the key's file in place (readers may
//! see partial content). What survives a power loss or kernel crash depends on [`SyncMode`]:
//!
//! | mode                 | when `write`/`delete` returns `Ok`        | after a crash, before that point |
//! |----------------------|-------------------------------------------|----------------------------------|
//! | atomic, `None`       | nothing is guaranteed durable             | old or new content; some file systems may leave a new file empty or missing |
//! | atomic, `File`       | the new content under the key is durable  | old or complete new content      |
//! | atomic, `Batch`      | durable only once [`DirWriter::commit`] (or the end of [`DirWriter::write_batch`]) returns `Ok` | old or complete new content (data is synced before the rename) |
//! | non-atomic, `None`   | nothing is guaranteed durable             | any content, possibly partial    |
//! | non-atomic, `File`   | the content is durable                    | any content, possibly partial    |
//! | non-atomic, `Batch`  | durable once `commit` returns `Ok`        | any content, possibly partial    |
//!
//! A crash in atomic mode can leave a temporary file behind; [`DirWriter::open`] removes them.
//! A write that fails (a full disk, the file-size limit) leaves the key as it was in atomic
//! mode; in non-atomic mode it removes the empty or partial file, so the key is absent.
//! [`DirWriter::stage`] and [`DirWriter::publish`] split an atomic write in two, so several
//! threads can write temporary files while the renames happen in an order of your choosing.
//! `close` errors are not reported (they carry no durable information on local file systems);
//! use a sync mode when an acknowledgement must mean "on disk".
//!
//! # One writer per directory
//!
//! [`DirWriter::open`] takes an exclusive `flock` on the directory and holds it for as long as
//! the writer (or any [`try_clone`](DirWriter::try_clone) of it) is alive; a second `open` of
//! the same directory, from another process or from this one, fails with
//! [`FsError::Locked`] and touches nothing. Stale temporary files are removed only under the
//! lock, so one writer can never delete another's live temporary files. (On a file system
//! without `flock` support the lock is skipped and one writer per directory is up to you.)
//! Within a writer, [`DirWriter::try_clone`] gives another writer on the same directory handle
//! (its own temporary names) for another thread.

mod error;
mod key;

use std::ffi::CStr;
use std::fmt;
use std::fs::DirBuilder;
use std::io;
use std::os::fd::{AsFd, BorrowedFd, OwnedFd};
use std::os::unix::fs::DirBuilderExt;
use std::path::Path;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use rustix::fs::{AtFlags, FileType, Mode, OFlags};
use rustix::io::Errno;

pub use error::{EntryCause, FsError, Op, Step};
pub use key::{EscapedKey, KeyError, KeyErrorReason, MAX_KEY_LEN, TEMP_PREFIX, escape_key, validate_key};

/// Mode of created directories (before the umask).
const DIR_MODE: u32 = 0o755;
/// Mode of created files (before the umask).
const FILE_MODE: u32 = 0o644;
/// How many temporary names are tried before giving up when they already exist.
const TEMP_ATTEMPTS: u32 = 8;

/// Distinguishes the temporary names of writers (and clones) in one process.
static NEXT_WRITER_ID: AtomicU64 = AtomicU64::new(0);

/// When data is synced to stable storage; see the [module docs](self#durability) for what
/// survives a power loss in each mode.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash)]
pub enum SyncMode {
    /// Never sync: fastest; the operating system writes data back when it likes.
    #[default]
    None,
    /// Every [`write`](DirWriter::write) and [`delete`](DirWriter::delete) is durable when it
    /// returns: the file's data is synced (`fdatasync`) and then the directory (`fsync`).
    File,
    /// Each file's data is synced (`fdatasync`) before it is renamed into place, and the
    /// directory is synced once per [`commit`](DirWriter::commit) (which
    /// [`write_batch`](DirWriter::write_batch) calls at its end): changes are durable when the
    /// commit returns.
    Batch,
}

/// How a [`DirWriter`] writes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct WriteOptions {
    /// Write a temporary file and rename it onto the key (default `true`): readers never see a
    /// partial file. When `false`, the key's file is truncated and written in place.
    pub atomic: bool,
    /// When data is synced to stable storage (default [`SyncMode::None`]).
    pub sync: SyncMode,
}

impl Default for WriteOptions {
    fn default() -> Self {
        WriteOptions { atomic: true, sync: SyncMode::None }
    }
}

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
    /// (then `written` is 0: nothing is known to be durable).
    pub error: Option<FsError>,
}

/// Writes files named by record keys into one directory, through a directory handle opened
/// once.
///
/// `DirWriter` is [`Send`]; [`try_clone`](DirWriter::try_clone) makes another writer on the
/// same handle for another thread. Each writer reuses its name buffer, so a write allocates
/// nothing and makes the minimum of system calls: atomic mode `openat`, `write`, `close`,
/// `renameat`; non-atomic mode `openat`, `fstat`, `write`, `close` (plus `ftruncate` when an
/// existing file is overwritten), and the syncs that [`SyncMode`] asks for.
pub struct DirWriter {
    dir: Arc<OwnedFd>,
    path: Arc<Path>,
    options: WriteOptions,
    /// `TEMP_PREFIX` + pid + `-` + writer id + `-`; the counter and NUL are appended per write.
    temp_name: Vec<u8>,
    temp_base_len: usize,
    temp_counter: u64,
    /// Changes were made since the last directory sync (only tracked for `SyncMode::Batch`).
    uncommitted: bool,
    stale_removed: usize,
}

impl fmt::Debug for DirWriter {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("DirWriter")
            .field("path", &self.path)
            .field("fd", &self.dir)
            .field("options", &self.options)
            .field("uncommitted", &self.uncommitted)
            .finish_non_exhaustive()
    }
}

impl DirWriter {
    /// Opens (creating it and its parents with mode 0755, less the umask, if missing) the
    /// directory at `path`, locks it for this writer (see
    /// [one writer per directory](self#one-writer-per-directory)), and removes temporary files
    /// a crash left in it (see [`stale_removed`](DirWriter::stale_removed)).
    ///
    /// The directory is opened `O_DIRECTORY|O_RDONLY|O_CLOEXEC` once; every later operation is
    /// relative to that handle. A symlink *at* `path` itself is followed (it is configuration).
    ///
    /// # Errors
    /// [`FsError::EmptyPath`], [`FsError::CreateDir`], [`FsError::NotADirectory`] (the path or
    /// a parent is not a directory), [`FsError::OpenDir`], [`FsError::Locked`] (another writer
    /// has the directory open), and [`FsError::ListDir`] or
    /// [`FsError::RemoveStale`] when cleaning fails.
    pub fn open(path: &Path, options: WriteOptions) -> Result<DirWriter, FsError> {
        if path.as_os_str().is_empty() {
            return Err(FsError::EmptyPath);
        }
        let flags = OFlags::DIRECTORY | OFlags::RDONLY | OFlags::CLOEXEC;
        let open_error = |errno: Errno| match errno {
            Errno::NOTDIR => FsError::NotADirectory { path: path.to_path_buf() },
            _ => FsError::OpenDir { path: path.to_path_buf(), error: errno.into() },
        };
        let dir = match rustix::fs::open(path, flags, Mode::empty()) {
            Ok(fd) => fd,
            Err(Errno::NOENT) => {
                DirBuilder::new()
                    .recursive(true)
                    .mode(DIR_MODE)
                    .create(path)
                    .map_err(|error| FsError::CreateDir { path: path.to_path_buf(), error })?;
                rustix::fs::open(path, flags, Mode::empty()).map_err(open_error)?
            }
            Err(errno) => return Err(open_error(errno)),
        };
        lock(dir.as_fd(), path)?;
        // Only under the lock: no other writer's temporary files can be live now.
        let stale_removed = remove_stale_temp_files(dir.as_fd(), path)?;
        Ok(DirWriter::with_handle(Arc::new(dir), Arc::from(path), options, stale_removed))
    }

    fn with_handle(dir: Arc<OwnedFd>, path: Arc<Path>, options: WriteOptions, stale_removed: usize) -> DirWriter {
        let id = NEXT_WRITER_ID.fetch_add(1, Ordering::Relaxed);
        let mut temp_name = Vec::with_capacity(TEMP_PREFIX.len() + 3 * 16 + 3);
        temp_name.extend_from_slice(TEMP_PREFIX.as_bytes());
        push_hex(&mut temp_name, u64::from(std::process::id()));
        temp_name.push(b'-');
        push_hex(&mut temp_name, id);
        temp_name.push(b'-');
        let temp_base_len = temp_name.len();
        DirWriter { dir, path, options, temp_name, temp_base_len, temp_counter: 0, uncommitted: false, stale_removed }
    }

    /// Another writer on the same directory handle (no system call), with the same options and
    /// its own temporary names, for writing disjoint keys from another thread. It starts with
    /// nothing uncommitted: each writer commits its own changes.
    pub fn try_clone(&self) -> DirWriter {
        DirWriter::with_handle(Arc::clone(&self.dir), Arc::clone(&self.path), self.options, 0)
    }

    /// The directory path as configured (for messages; never used to reach files).
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// The options this writer was opened with.
    pub fn options(&self) -> WriteOptions {
        self.options
    }

    /// How many stale temporary files [`open`](DirWriter::open) removed.
    pub fn stale_removed(&self) -> usize {
        self.stale_removed
    }

    /// Whether changes were made since the last [`commit`](DirWriter::commit) that it would
    /// sync (only ever `true` with [`SyncMode::Batch`], or after
    /// [`publish_deferred`](DirWriter::publish_deferred) with a sync mode).
    pub fn has_uncommitted(&self) -> bool {
        self.uncommitted
    }

    /// Makes `data` the whole content of the file named `key` (validated by [`validate_key`]),
    /// replacing any existing file; see the [module docs](self) for atomicity, durability and
    /// what happens to planted symlinks, FIFOs and directories.
    ///
    /// # Errors
    /// [`FsError::InvalidKey`] (nothing touched) or [`FsError::Entry`]. In atomic mode a failed
    /// write leaves the key as it was and removes its temporary file. In non-atomic mode a write
    /// that fails after the file was truncated or created (writing or syncing the data) removes
    /// the file, so the key is absent, never partial; a failure before that (opening,
    /// inspecting, truncating) leaves the key as it was.
    pub fn write(&mut self, key: &[u8], data: &[u8]) -> Result<(), FsError> {
        validate_key(key)?;
        let result = if self.options.atomic { self.write_atomic(key, data) } else { self.write_in_place(key, data) };
        result.map_err(|cause| self.entry_error(Op::Write, key, cause))?;
        self.after_change(Op::Write, key)
    }

    /// Removes the file named `key`; a missing file is fine. A symlink with that name is
    /// removed itself; a directory with that name is an error (never removed).
    ///
    /// # Errors
    /// [`FsError::InvalidKey`] or [`FsError::Entry`].
    pub fn delete(&mut self, key: &[u8]) -> Result<(), FsError> {
        validate_key(key)?;
        match rustix::fs::unlinkat(self.dir.as_fd(), key, AtFlags::empty()) {
            Ok(()) => {}
            Err(Errno::NOENT) => return Ok(()),
            Err(errno) => {
                return Err(self.entry_error(Op::Delete, key, classify(errno, Step::Remove)));
            }
        }
        self.after_change(Op::Delete, key)
    }

    /// Applies `changes` in order, stopping at the first error, then [`commit`](Self::commit)s.
    ///
    /// Returns how many changes from the front were applied and the error that stopped the
    /// batch. If the final commit fails, `written` is 0 and the error is the sync error: with
    /// [`SyncMode::Batch`] none of the batch is known to be durable.
    pub fn write_batch<'a, I>(&mut self, changes: I) -> BatchOutcome
    where
        I: IntoIterator<Item = Change<'a>>,
    {
        let mut written = 0;
        let mut error = None;
        for change in changes {
            let result = match change {
                Change::Write { key, data } => self.write(key, data),
                Change::Delete { key } => self.delete(key),
            };
            match result {
                Ok(()) => written += 1,
                Err(e) => {
                    error = Some(e);
                    break;
                }
            }
        }
        match self.commit() {
            Ok(()) => BatchOutcome { written, error },
            Err(e) => BatchOutcome { written: 0, error: Some(e) },
        }
    }

    /// With [`SyncMode::Batch`] (or after [`publish_deferred`](Self::publish_deferred) with a
    /// sync mode), syncs the directory if anything changed since the last commit, making those
    /// writes and deletes durable. Otherwise does nothing.
    ///
    /// # Errors
    /// [`FsError::SyncDir`]; the changes stay uncommitted and the next commit retries.
    pub fn commit(&mut self) -> Result<(), FsError> {
        if self.uncommitted {
            rustix::fs::fsync(self.dir.as_fd())
                .map_err(|errno| FsError::SyncDir { path: Arc::clone(&self.path), error: errno.into() })?;
            self.uncommitted = false;
        }
        Ok(())
    }

    /// Directory bookkeeping after a successful change.
    fn after_change(&mut self, op: Op, key: &[u8]) -> Result<(), FsError> {
        match self.options.sync {
            SyncMode::None => Ok(()),
            SyncMode::File => rustix::fs::fsync(self.dir.as_fd()).map_err(|errno| {
                self.entry_error(op, key, EntryCause::Io { step: Step::SyncDir, error: errno.into() })
            }),
            SyncMode::Batch => {
                self.uncommitted = true;
                Ok(())
            }
        }
    }

    fn entry_error(&self, op: Op, key: &[u8], cause: EntryCause) -> FsError {
        FsError::Entry { op, key: key.into(), dir: Arc::clone(&self.path), cause }
    }

    fn sync_file(&self, file: BorrowedFd<'_>) -> Result<(), EntryCause> {
        if self.options.sync == SyncMode::None {
            return Ok(());
        }
        rustix::fs::fdatasync(file).map_err(|errno| io_cause(Step::SyncFile, errno))
    }

    /// Temp file, write, sync, close, rename. On failure the temporary file is removed.
    fn write_atomic(&mut self, key: &[u8], data: &[u8]) -> Result<(), EntryCause> {
        self.fill_temp(data)?;
        let result = rustix::fs::renameat(self.dir.as_fd(), self.temp_cstr(), self.dir.as_fd(), key)
            .map_err(|errno| classify(errno, Step::Rename));
        if result.is_err() {
            self.remove_temp();
        }
        result
    }

    /// A new temporary file (its name left in `self.temp_name`) holding `data`, synced as the
    /// sync mode asks and closed. On failure the temporary file is removed.
    fn fill_temp(&mut self, data: &[u8]) -> Result<(), EntryCause> {
        let file = self.create_temp()?;
        let result = write_all(file.as_fd(), data).and_then(|()| self.sync_file(file.as_fd()));
        drop(file);
        if result.is_err() {
            self.remove_temp();
        }
        result
    }

    /// Removes the temporary file named in `self.temp_name`. Best effort: a leftover is
    /// removed by the next `open`.
    fn remove_temp(&self) {
        let _ = rustix::fs::unlinkat(self.dir.as_fd(), self.temp_cstr(), AtFlags::empty());
    }

    /// Writes `data` to a new hidden temporary file for `key` (validated by [`validate_key`]),
    /// synced as the [`SyncMode`] asks, without making it visible under the key: the first half
    /// of an atomic write. [`publish`](Self::publish) renames it onto the key; dropping the
    /// [`Staged`] file removes it. Works in either mode (the staged file is always a temporary
    /// file).
    ///
    /// Staging is what lets several threads write files in parallel while the commit points
    /// (the renames) happen in one chosen order.
    ///
    /// ```
    /// use directory_destination::fs::{DirWriter, WriteOptions};
    ///
    /// # let tmp = tempfile::tempdir().unwrap();
    /// let mut writer = DirWriter::open(tmp.path(), WriteOptions::default())?;
    /// let staged = writer.stage(b"a", b"1")?;
    /// assert!(!tmp.path().join("a").exists());
    /// writer.publish(staged, b"a")?;
    /// assert_eq!(std::fs::read(tmp.path().join("a"))?, b"1");
    /// drop(writer.stage(b"b", b"2")?); // never published: removed
    /// assert_eq!(std::fs::read_dir(tmp.path())?.count(), 1);
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    ///
    /// # Errors
    /// [`FsError::InvalidKey`] (nothing touched) or [`FsError::Entry`] (the temporary file is
    /// removed).
    pub fn stage(&mut self, key: &[u8], data: &[u8]) -> Result<Staged, FsError> {
        validate_key(key)?;
        self.fill_temp(data).map_err(|cause| self.entry_error(Op::Write, key, cause))?;
        Ok(Staged { dir: Arc::clone(&self.dir), name: self.temp_name.clone() })
    }

    /// Renames a file [`stage`](Self::stage)d by this writer or a
    /// [`try_clone`](Self::try_clone) of it onto `key`, replacing any existing file (the second
    /// half of an atomic write), then syncs the directory as [`write`](Self::write) does.
    ///
    /// # Errors
    /// [`FsError::InvalidKey`] or [`FsError::Entry`]; on a failed rename the staged file is
    /// removed and the key left as it was.
    pub fn publish(&mut self, staged: Staged, key: &[u8]) -> Result<(), FsError> {
        self.rename_staged(staged, key)?;
        self.after_change(Op::Write, key)
    }

    /// [`publish`](Self::publish), but with [`SyncMode::File`] as with [`SyncMode::Batch`]: the
    /// directory sync is left to the next [`commit`](Self::commit), so that publishing many
    /// files costs one directory sync. (The staged data was synced already.)
    ///
    /// # Errors
    /// As [`publish`](Self::publish).
    pub fn publish_deferred(&mut self, staged: Staged, key: &[u8]) -> Result<(), FsError> {
        self.rename_staged(staged, key)?;
        if self.options.sync != SyncMode::None {
            self.uncommitted = true;
        }
        Ok(())
    }

    fn rename_staged(&mut self, mut staged: Staged, key: &[u8]) -> Result<(), FsError> {
        validate_key(key)?;
        rustix::fs::renameat(staged.dir.as_fd(), staged.cstr(), self.dir.as_fd(), key)
            .map_err(|errno| self.entry_error(Op::Write, key, classify(errno, Step::Rename)))?;
        staged.name.clear();
        Ok(())
    }

    /// Creates a new temporary file with a fresh name left in `self.temp_name`.
    fn create_temp(&mut self) -> Result<OwnedFd, EntryCause> {
        let flags = OFlags::CREATE | OFlags::EXCL | OFlags::WRONLY | OFlags::CLOEXEC | OFlags::NOFOLLOW;
        let mut attempt = 0;
        loop {
            self.temp_name.truncate(self.temp_base_len);
            push_hex(&mut self.temp_name, self.temp_counter);
            self.temp_name.push(0);
            self.temp_counter = self.temp_counter.wrapping_add(1);
            match rustix::fs::openat(self.dir.as_fd(), self.temp_cstr(), flags, Mode::from_raw_mode(FILE_MODE)) {
                Ok(fd) => return Ok(fd),
                Err(Errno::EXIST) if attempt + 1 < TEMP_ATTEMPTS => attempt += 1,
                Err(Errno::INTR) => {}
                Err(errno) => return Err(io_cause(Step::CreateTemp, errno)),
            }
        }
    }

    fn temp_cstr(&self) -> &CStr {
        // `temp_name` is the prefix, hex digits and `-`, then one NUL: always a valid C string.
        CStr::from_bytes_until_nul(&self.temp_name).unwrap_or(c"")
    }

    /// Open without following links or blocking, check it is a lone regular file, truncate if
    /// needed, write, sync.
    fn write_in_place(&self, key: &[u8], data: &[u8]) -> Result<(), EntryCause> {
        let flags = OFlags::WRONLY | OFlags::CREATE | OFlags::NOFOLLOW | OFlags::CLOEXEC | OFlags::NONBLOCK;
        let file = loop {
            match rustix::fs::openat(self.dir.as_fd(), key, flags, Mode::from_raw_mode(FILE_MODE)) {
                Ok(fd) => break fd,
                Err(Errno::INTR) => {}
                // A FIFO without a reader (or a socket) cannot be opened for writing.
                Err(Errno::NXIO) => return Err(EntryCause::NotRegularFile { kind: "FIFO or socket" }),
                Err(errno) => return Err(classify(errno, Step::Open)),
            }
        };
        let stat = rustix::fs::fstat(&file).map_err(|errno| io_cause(Step::Inspect, errno))?;
        let file_type = FileType::from_raw_mode(stat.st_mode);
        if file_type != FileType::RegularFile {
            return Err(EntryCause::NotRegularFile { kind: describe(file_type) });
        }
        // The kernel's `nlink_t` is at most 64 bits on every target.
        #[allow(clippy::useless_conversion, clippy::unnecessary_fallible_conversions)]
        let links = u64::try_from(stat.st_nlink).unwrap_or(u64::MAX);
        if links > 1 {
            return Err(EntryCause::HardLinked { links });
        }
        if stat.st_size != 0 {
            // A failed truncate changed nothing: the old content stays.
            rustix::fs::ftruncate(&file, 0).map_err(|errno| io_cause(Step::Truncate, errno))?;
        }
        let result = write_all(file.as_fd(), data).and_then(|()| self.sync_file(file.as_fd()));
        if result.is_err() {
            // The file is empty or partial (or complete but not durable): remove it, so a failed
            // write never leaves part of a record under the key. The old content is gone already
            // (truncated), so an overwrite that fails leaves the key absent.
            drop(file);
            let _ = rustix::fs::unlinkat(self.dir.as_fd(), key, AtFlags::empty());
        }
        result
    }
}

/// A complete file under a hidden temporary name, waiting to be renamed onto its key by
/// [`DirWriter::publish`]; see [`DirWriter::stage`]. Dropping it removes the temporary file.
pub struct Staged {
    dir: Arc<OwnedFd>,
    /// The NUL-terminated temporary name; empty once published.
    name: Vec<u8>,
}

impl Staged {
    fn cstr(&self) -> &CStr {
        // Copied from a writer's `temp_name`: always NUL-terminated.
        CStr::from_bytes_until_nul(&self.name).unwrap_or(c"")
    }
}

impl fmt::Debug for Staged {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Staged").field("name", &escape_key(self.cstr().to_bytes())).finish_non_exhaustive()
    }
}

impl Drop for Staged {
    fn drop(&mut self) {
        if !self.name.is_empty() {
            // Best effort: a leftover is removed by the next `open`.
            let _ = rustix::fs::unlinkat(self.dir.as_fd(), self.cstr(), AtFlags::empty());
        }
    }
}

impl AsFd for DirWriter {
    /// The directory handle every operation is relative to.
    fn as_fd(&self) -> BorrowedFd<'_> {
        self.dir.as_fd()
    }
}

/// Takes the exclusive, non-blocking `flock` on the directory handle that makes a writer the
/// directory's only one. The lock belongs to this open handle: it is released when the handle
/// (shared by every [`DirWriter::try_clone`]) is closed, or by the kernel when the process dies.
/// A file system without `flock` support is written without the lock.
fn lock(dir: BorrowedFd<'_>, path: &Path) -> Result<(), FsError> {
    use rustix::fs::FlockOperation;
    loop {
        return match rustix::fs::flock(dir, FlockOperation::NonBlockingLockExclusive) {
            Ok(()) => Ok(()),
            Err(Errno::INTR) => continue,
            Err(Errno::WOULDBLOCK) => Err(FsError::Locked { path: path.to_path_buf() }),
            // Not supported here (some network and FUSE file systems): nothing to enforce with.
            Err(Errno::NOLCK | Errno::OPNOTSUPP | Errno::INVAL) => Ok(()),
            Err(errno) => Err(FsError::OpenDir { path: path.to_path_buf(), error: errno.into() }),
        };
    }
}

/// Removes files whose names start with [`TEMP_PREFIX`]; directories with such names are left
/// alone (this writer never creates them).
fn remove_stale_temp_files(dir: BorrowedFd<'_>, path: &Path) -> Result<usize, FsError> {
    let list_error = |errno: Errno| FsError::ListDir { path: path.to_path_buf(), error: errno.into() };
    let mut removed = 0;
    for entry in rustix::fs::Dir::read_from(dir).map_err(list_error)? {
        let entry = entry.map_err(list_error)?;
        let name = entry.file_name();
        if !name.to_bytes().starts_with(TEMP_PREFIX.as_bytes()) || entry.file_type() == FileType::Directory {
            continue;
        }
        match rustix::fs::unlinkat(dir, name, AtFlags::empty()) {
            Ok(()) => removed += 1,
            // Gone already, or a directory on a file system that does not report types.
            Err(Errno::NOENT | Errno::ISDIR | Errno::PERM) if entry.file_type() == FileType::Unknown => {}
            Err(Errno::NOENT) => {}
            Err(errno) => {
                return Err(FsError::RemoveStale {
                    path: path.to_path_buf(),
                    name: name.to_bytes().into(),
                    error: errno.into(),
                });
            }
        }
    }
    Ok(removed)
}

/// Writes all of `data`, looping on short writes; an empty `data` makes no system call.
fn write_all(file: BorrowedFd<'_>, mut data: &[u8]) -> Result<(), EntryCause> {
    while !data.is_empty() {
        match rustix::io::write(file, data) {
            Ok(0) => {
                return Err(EntryCause::Io { step: Step::WriteData, error: io::ErrorKind::WriteZero.into() });
            }
            Ok(n) => data = data.get(n..).unwrap_or_default(),
            Err(Errno::INTR) => {}
            Err(errno) => return Err(io_cause(Step::WriteData, errno)),
        }
    }
    Ok(())
}

fn io_cause(step: Step, errno: Errno) -> EntryCause {
    EntryCause::Io { step, error: errno.into() }
}

/// Maps the errors that mean "something unsafe has that name" to their own causes.
fn classify(errno: Errno, step: Step) -> EntryCause {
    match errno {
        Errno::ISDIR => EntryCause::IsDirectory,
        Errno::LOOP => EntryCause::Symlink,
        _ => io_cause(step, errno),
    }
}

fn describe(file_type: FileType) -> &'static str {
    match file_type {
        FileType::RegularFile => "regular file",
        FileType::Directory => "directory",
        FileType::Symlink => "symbolic link",
        FileType::Fifo => "FIFO",
        FileType::Socket => "socket",
        FileType::CharacterDevice => "character device",
        FileType::BlockDevice => "block device",
        FileType::Unknown => "special file",
    }
}

/// Appends `value` in lowercase hexadecimal, without leading zeros.
fn push_hex(buf: &mut Vec<u8>, mut value: u64) {
    const DIGITS: &[u8; 16] = b"0123456789abcdef";
    let start = buf.len();
    loop {
        buf.push(DIGITS[(value & 0xf) as usize]);
        value >>= 4;
        if value == 0 {
            break;
        }
    }
    buf[start..].reverse();
}

#[cfg(test)]
mod tests {
    use std::os::unix::ffi::OsStrExt;

    use super::*;

    #[test]
    fn push_hex_writes_lowercase_without_leading_zeros() {
        for (value, expected) in [(0, "0"), (1, "1"), (0xabc, "abc"), (u64::MAX, "ffffffffffffffff")] {
            let mut buf = b"x".to_vec();
            push_hex(&mut buf, value);
            assert_eq!(buf, format!("x{expected}").as_bytes());
        }
    }

    #[test]
    fn dir_writer_is_send_and_sync() {
        fn assert_send_sync<T: Send + Sync>() {}
        assert_send_sync::<DirWriter>();
        assert_send_sync::<FsError>();
    }

    #[test]
    fn temporary_names_are_unique_per_writer_and_write() {
        let tmp = tempfile::tempdir().unwrap();
        let mut a = DirWriter::open(tmp.path(), WriteOptions::default()).unwrap();
        let mut b = a.try_clone();
        let mut names = std::collections::HashSet::new();
        for _ in 0..3 {
            for w in [&mut a, &mut b] {
                drop(w.create_temp().unwrap());
                let name = w.temp_cstr().to_bytes().to_vec();
                assert!(name.starts_with(TEMP_PREFIX.as_bytes()));
                assert!(validate_key(&name).is_err(), "a temporary name must never be a valid key");
                assert!(names.insert(name));
            }
        }
    }

    #[test]
    fn a_second_writer_on_the_same_directory_is_refused_until_the_first_is_gone() {
        let tmp = tempfile::tempdir().unwrap();
        let mut first = DirWriter::open(tmp.path(), WriteOptions::default()).unwrap();
        let clone = first.try_clone();
        // A live temporary file of the first writer, as during a write.
        drop(first.create_temp().unwrap());
        let live = tmp.path().join(std::ffi::OsStr::from_bytes(first.temp_cstr().to_bytes()));
        let error = DirWriter::open(tmp.path(), WriteOptions::default()).unwrap_err();
        assert!(matches!(error, FsError::Locked { .. }), "{error:?}");
        let message = error.to_string();
        assert!(message.contains(&tmp.path().display().to_string()), "{message}");
        assert!(message.contains("another writer holds it"), "{message}");
        assert!(live.exists(), "the refused writer removed a live temporary file");
        // The lock lives as long as any clone of the writer.
        drop(first);
        assert!(matches!(DirWriter::open(tmp.path(), WriteOptions::default()), Err(FsError::Locked { .. })));
        drop(clone);
        let again = DirWriter::open(tmp.path(), WriteOptions::default()).unwrap();
        assert_eq!(again.stale_removed(), 1, "the next writer cleans what the first left");
        assert!(!live.exists());
    }

    #[test]
    fn temp_creation_skips_names_that_already_exist() {
        let tmp = tempfile::tempdir().unwrap();
        let mut w = DirWriter::open(tmp.path(), WriteOptions::default()).unwrap();
        // Plant the next two names this writer would use.
        for n in 0..2 {
            let mut name = w.temp_name[..w.temp_base_len].to_vec();
            push_hex(&mut name, n);
            std::fs::write(tmp.path().join(<std::ffi::OsStr as std::os::unix::ffi::OsStrExt>::from_bytes(&name)), b"x")
                .unwrap();
        }
        w.write(b"k", b"data").unwrap();
        assert_eq!(std::fs::read(tmp.path().join("k")).unwrap(), b"data");
        assert_eq!(w.temp_counter, 3);
    }
}
