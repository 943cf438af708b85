//! The file-system core: writes each record's bytes to a file named by its key, inside one
//! directory, safely.
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
//! let outcome = writer.write_batch(&[
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
//! see partial content). With a [`SyncMode`] other than `None`, a file's data is synced
//! (`fdatasync`) before it is renamed onto its key, so a power loss never leaves a partial file
//! under a key in atomic mode. What is durable when a call returns `Ok`:
//!
//! | mode   | [`write`](DirWriter::write) / [`delete`](DirWriter::delete) | [`write_batch`](DirWriter::write_batch) |
//! |--------|------------------------------------|------------------------------------------|
//! | `None` | nothing is guaranteed              | nothing is guaranteed                    |
//! | `File` | that change (the directory is synced after it) | each written change, in order: the directory is synced after each one |
//! | `Batch`| only after [`commit`](DirWriter::commit) | every written change (one directory sync at the end) |
//!
//! A crash in atomic mode can leave temporary files behind, and in batches written by several
//! threads hidden staging directories of them (named with [`TEMP_PREFIX`] too);
//! [`DirWriter::open`] removes both. A write that fails (a full disk, the file-size limit)
//! leaves the key as it was in atomic mode; in non-atomic mode it removes the empty or partial
//! file, so the key is absent. `close` errors are not reported (they carry no durable
//! information on local file systems); use a sync mode when an acknowledgement must mean "on
//! disk".
//!
//! # One writer per directory
//!
//! [`DirWriter::open`] takes an exclusive `flock` on the directory and holds it for as long as
//! the writer (or any [`try_clone`](DirWriter::try_clone) of it) is alive; a second `open` of
//! the same directory, from another process or from this one, fails with
//! [`FsError::Locked`] and touches nothing. Stale temporary files are removed only under the
//! lock, so one writer can never delete another's live temporary files. (On a file system
//! without `flock` support the lock is skipped and one writer per directory is up to you.)

mod batch;
mod error;
mod key;
mod stale;

use std::ffi::{CStr, CString};
use std::fs::File;
use std::io::Write as _;
use std::os::fd::{AsFd, BorrowedFd, OwnedFd};
use std::os::unix::fs::DirBuilderExt;
use std::path::Path;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use rustix::fs::{AtFlags, FileType, Mode, OFlags};
use rustix::io::Errno;

pub use crate::SyncMode;
pub use batch::{BatchOutcome, Change};
pub use error::{EntryCause, FsError, Op};
pub use key::{KeyError, KeyErrorReason, MAX_KEY_LEN, TEMP_PREFIX, escape_key, validate_key};

/// Mode of created directories (before the umask).
const DIR_MODE: u32 = 0o755;
/// Mode of created files (before the umask).
const FILE_MODE: u32 = 0o644;
/// How many temporary names are tried before giving up when they already exist.
const TEMP_ATTEMPTS: u32 = 8;
/// What follows [`TEMP_PREFIX`] in the name of a [`StagingDir`].
const STAGING: &str = "stage-";
/// Mode of staging directories (before the umask).
const STAGING_MODE: u32 = 0o700;

/// Distinguishes the temporary names of writers (and clones) in one process.
static NEXT_WRITER_ID: AtomicU64 = AtomicU64::new(0);

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

/// Writes files named by record keys into one directory, through a directory handle opened
/// once (see the [module docs](self)). It is [`Send`] and [`Sync`].
#[derive(Debug)]
pub struct DirWriter {
    dir: Arc<OwnedFd>,
    path: Arc<Path>,
    options: WriteOptions,
    /// Part of every temporary name: the process id and a number unique per writer in this
    /// process, in hexadecimal (made once: no `getpid` per file).
    tag: String,
    /// The next temporary name's number (shared by the threads of a batch).
    next_temp: AtomicU64,
    /// Changes were made since the last directory sync (only tracked for `SyncMode::Batch`).
    uncommitted: bool,
    stale_removed: usize,
    threads: usize,
}

impl DirWriter {
    /// Opens (creating it and its parents with mode 0755, less the umask, if missing) the
    /// directory at `path`, locks it for this writer (see
    /// [one writer per directory](self#one-writer-per-directory)), and removes temporary files
    /// a crash left in it (see [`stale_removed`](DirWriter::stale_removed)).
    ///
    /// The directory is opened (`O_DIRECTORY|O_RDONLY|O_CLOEXEC`) once; a symlink *at* `path`
    /// itself is followed (it is configuration).
    ///
    /// # Errors
    /// [`FsError::EmptyPath`], [`FsError::Dir`] (creating or opening it), [`FsError::NotADirectory`]
    /// (the path or a parent is not a directory), [`FsError::Locked`] (another writer
    /// has the directory open), and [`FsError::ListDir`] or [`FsError::RemoveStale`] when
    /// cleaning fails.
    pub fn open(path: &Path, options: WriteOptions) -> Result<DirWriter, FsError> {
        if path.as_os_str().is_empty() {
            return Err(FsError::EmptyPath);
        }
        let flags = OFlags::DIRECTORY | OFlags::RDONLY | OFlags::CLOEXEC;
        let open_error = |errno: Errno| match errno {
            Errno::NOTDIR => FsError::NotADirectory { path: path.to_path_buf() },
            _ => FsError::Dir { step: "opening", path: path.to_path_buf(), error: errno.into() },
        };
        let dir = match rustix::fs::open(path, flags, Mode::empty()) {
            Ok(fd) => fd,
            Err(Errno::NOENT) => {
                std::fs::DirBuilder::new()
                    .recursive(true)
                    .mode(DIR_MODE)
                    .create(path)
                    .map_err(|error| FsError::Dir { step: "creating", path: path.to_path_buf(), error })?;
                rustix::fs::open(path, flags, Mode::empty()).map_err(open_error)?
            }
            Err(errno) => return Err(open_error(errno)),
        };
        lock(dir.as_fd(), path)?;
        // Only under the lock: no other writer's temporary files can be live now.
        let stale_removed = stale::remove(dir.as_fd(), path)?;
        Ok(DirWriter { stale_removed, ..DirWriter::with_handle(Arc::new(dir), Arc::from(path), options, 1) })
    }

    fn with_handle(dir: Arc<OwnedFd>, path: Arc<Path>, options: WriteOptions, threads: usize) -> DirWriter {
        let tag = format!("{:x}-{:x}", std::process::id(), NEXT_WRITER_ID.fetch_add(1, Ordering::Relaxed));
        let next_temp = AtomicU64::new(0);
        DirWriter { dir, path, options, tag, next_temp, uncommitted: false, stale_removed: 0, threads }
    }

    /// Another writer on the same directory handle (no system call), with the same options and
    /// threads and its own temporary names, e.g. for another thread. It starts with nothing
    /// uncommitted: each writer commits its own changes.
    pub fn try_clone(&self) -> DirWriter {
        DirWriter::with_handle(Arc::clone(&self.dir), Arc::clone(&self.path), self.options, self.threads)
    }

    /// The directory path as configured (for messages; never used to reach files).
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// How many stale temporary files and staging directories [`open`](DirWriter::open)
    /// removed.
    pub fn stale_removed(&self) -> usize {
        self.stale_removed
    }

    /// Whether changes were made since the last [`commit`](DirWriter::commit) that it would
    /// sync (only ever `true` with [`SyncMode::Batch`]).
    pub fn has_uncommitted(&self) -> bool {
        self.uncommitted
    }

    /// With [`SyncMode::Batch`], syncs the directory if anything changed since the last
    /// commit, making those writes and deletes durable. Otherwise does nothing.
    ///
    /// # Errors
    /// [`FsError::Dir`] (syncing); the changes stay uncommitted and the next commit retries.
    pub fn commit(&mut self) -> Result<(), FsError> {
        if self.uncommitted {
            rustix::fs::fsync(self.dir.as_fd()).map_err(|errno| FsError::Dir {
                step: "syncing",
                path: self.path.to_path_buf(),
                error: errno.into(),
            })?;
            self.uncommitted = false;
        }
        Ok(())
    }

    fn entry_error(&self, op: Op, key: &[u8], cause: EntryCause) -> FsError {
        FsError::Entry { op, key: key.into(), dir: Arc::clone(&self.path), cause }
    }

    /// Syncs the directory, making the change of `key` durable.
    fn sync_dir(&self, op: Op, key: &[u8]) -> Result<(), FsError> {
        rustix::fs::fsync(self.dir.as_fd())
            .map_err(|errno| self.entry_error(op, key, io_cause("syncing the directory", errno)))
    }

    /// Writes all of `data` to `file` (an empty `data` makes no system call), then syncs the
    /// file's data when the sync mode asks.
    fn fill(&self, file: OwnedFd, data: &[u8]) -> Result<(), EntryCause> {
        let mut file = File::from(file);
        file.write_all(data).map_err(|error| EntryCause::Io { step: "", error })?;
        if self.options.sync != SyncMode::None {
            file.sync_data().map_err(|error| EntryCause::Io { step: "syncing the file", error })?;
        }
        Ok(())
    }

    /// The first half of an atomic write: `data` in a new temporary file for `key` (validated)
    /// in `at` (the directory or a [`StagingDir`] of it), its data synced when the sync mode
    /// asks, not yet visible under the key. Takes `&self`, so several threads can stage at once.
    fn stage<'a>(&'a self, at: BorrowedFd<'a>, key: &[u8], data: &[u8]) -> Result<Staged<'a>, FsError> {
        validate_key(key)?;
        let flags = OFlags::CREATE | OFlags::EXCL | OFlags::WRONLY | OFlags::CLOEXEC | OFlags::NOFOLLOW;
        let (file, name) = self
            .fresh_name("", |name| rustix::fs::openat(at, name, flags, Mode::from_raw_mode(FILE_MODE)))
            .map_err(|errno| self.entry_error(Op::Write, key, io_cause("creating the temporary file", errno)))?;
        let staged = Staged { dir: at, name, renamed: false };
        // On failure `staged` is dropped, which removes the temporary file.
        self.fill(file, data).map_err(|cause| self.entry_error(Op::Write, key, cause))?;
        Ok(staged)
    }

    /// The second half: renames a staged file onto `key` (the commit point). On failure the
    /// staged file is removed and the key left as it was.
    fn publish(&self, mut staged: Staged<'_>, key: &[u8]) -> Result<(), FsError> {
        let renamed = rustix::fs::renameat(staged.dir, &staged.name, self.dir.as_fd(), key);
        staged.renamed = renamed.is_ok();
        renamed
            .map_err(|errno| self.entry_error(Op::Write, key, classify(errno, "renaming the temporary file onto it")))
    }

    /// Creates a new, empty [`StagingDir`] in the directory.
    fn staging_dir(&self) -> Result<StagingDir<'_>, Errno> {
        let (fd, name) = self.fresh_name(STAGING, |name| {
            rustix::fs::mkdirat(&*self.dir, name, Mode::from_raw_mode(STAGING_MODE))?;
            open_subdir(self.dir.as_fd(), name)
                .inspect_err(|_| _ = rustix::fs::unlinkat(&*self.dir, name, AtFlags::REMOVEDIR))
        })?;
        Ok(StagingDir { parent: self.dir.as_fd(), fd, name })
    }

    /// Calls `create` with fresh names of temporary files (`kind` "") or staging directories
    /// ([`STAGING`]) until one is free: [`TEMP_PREFIX`], `kind`, then the process id, the writer
    /// id and a counter in hexadecimal. Gives up after [`TEMP_ATTEMPTS`] names that exist.
    fn fresh_name<T>(
        &self,
        kind: &str,
        mut create: impl FnMut(&CStr) -> Result<T, Errno>,
    ) -> Result<(T, CString), Errno> {
        let mut attempt = 0;
        loop {
            let counter = self.next_temp.fetch_add(1, Ordering::Relaxed);
            let name = format!("{TEMP_PREFIX}{kind}{}-{counter:x}", self.tag);
            let name = CString::new(name).unwrap_or_default(); // Never fails: no NUL in it.
            match create(&name) {
                Ok(made) => return Ok((made, name)),
                Err(Errno::EXIST) if attempt + 1 < TEMP_ATTEMPTS => attempt += 1,
                Err(Errno::INTR) => {}
                Err(errno) => return Err(errno),
            }
        }
    }

    /// A non-atomic write: open without following links or blocking, check it is a lone
    /// regular file, truncate if needed, write, sync.
    fn write_in_place(&self, key: &[u8], data: &[u8]) -> Result<(), EntryCause> {
        let flags = OFlags::WRONLY | OFlags::CREATE | OFlags::NOFOLLOW | OFlags::CLOEXEC | OFlags::NONBLOCK;
        let file = loop {
            match rustix::fs::openat(self.dir.as_fd(), key, flags, Mode::from_raw_mode(FILE_MODE)) {
                Ok(fd) => break fd,
                Err(Errno::INTR) => {}
                // A FIFO without a reader (or a socket) cannot be opened for writing.
                Err(Errno::NXIO) => return Err(EntryCause::NotRegularFile { kind: "FIFO or socket" }),
                Err(errno) => return Err(classify(errno, "opening")),
            }
        };
        let stat = rustix::fs::fstat(&file).map_err(|errno| io_cause("inspecting", errno))?;
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
            rustix::fs::ftruncate(&file, 0).map_err(|errno| io_cause("truncating", errno))?;
        }
        let result = self.fill(file, data);
        if result.is_err() {
            // The file is empty or partial (or complete but not durable): remove it, so a failed
            // write never leaves part of a record under the key. The old content is gone already
            // (truncated), so an overwrite that fails leaves the key absent.
            let _ = rustix::fs::unlinkat(self.dir.as_fd(), key, AtFlags::empty());
        }
        result
    }

    /// Removes the file named `key` (validated); `false` when there was none.
    fn unlink(&self, key: &[u8]) -> Result<bool, FsError> {
        validate_key(key)?;
        match rustix::fs::unlinkat(self.dir.as_fd(), key, AtFlags::empty()) {
            Ok(()) => Ok(true),
            Err(Errno::NOENT) => Ok(false),
            Err(errno) => Err(self.entry_error(Op::Delete, key, classify(errno, ""))),
        }
    }
}

/// A complete temporary file waiting to be renamed onto its key by [`DirWriter::publish`].
/// Dropping it unrenamed removes the file.
struct Staged<'a> {
    dir: BorrowedFd<'a>,
    name: CString,
    renamed: bool,
}

impl Drop for Staged<'_> {
    fn drop(&mut self) {
        if !self.renamed {
            // Best effort: a leftover is removed by the next `open`.
            let _ = rustix::fs::unlinkat(self.dir, &self.name, AtFlags::empty());
        }
    }
}

/// A directory for one thread's temporary files during a batch written by several threads,
/// made in the directory and removed (when empty) on drop; a crash's leftover is removed by
/// [`DirWriter::open`].
///
/// Creating a file takes its directory's lock, so threads creating temporary files in the
/// directory itself wait for each other and for the renames (1.7 % of the plugin's samples at
/// batches of 100 spun on that lock); and without a journal, the first sync of a new file also
/// writes its parent directory. In its own staging directory each thread locks and syncs only
/// that small directory; the batch's one sync of the directory makes the renames durable.
struct StagingDir<'a> {
    parent: BorrowedFd<'a>,
    fd: OwnedFd,
    name: CString,
}

impl Drop for StagingDir<'_> {
    fn drop(&mut self) {
        // Best effort: a leftover is removed by the next `open`.
        let _ = rustix::fs::unlinkat(self.parent, &self.name, AtFlags::REMOVEDIR);
    }
}

/// Opens the directory `name` in `dir`, not following a symlink.
fn open_subdir(dir: BorrowedFd<'_>, name: impl rustix::path::Arg + Copy) -> Result<OwnedFd, Errno> {
    let flags = OFlags::DIRECTORY | OFlags::RDONLY | OFlags::CLOEXEC | OFlags::NOFOLLOW;
    loop {
        match rustix::fs::openat(dir, name, flags, Mode::empty()) {
            Err(Errno::INTR) => {}
            result => return result,
        }
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
            Err(errno) => Err(FsError::Dir { step: "opening", path: path.to_path_buf(), error: errno.into() }),
        };
    }
}

fn io_cause(step: &'static str, errno: Errno) -> EntryCause {
    EntryCause::Io { step, error: errno.into() }
}

/// Maps the errors that mean "something unsafe has that name" to their own causes.
fn classify(errno: Errno, step: &'static str) -> EntryCause {
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
