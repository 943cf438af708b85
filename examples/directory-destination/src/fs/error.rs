//! The errors of the directory writer.

use std::fmt;
use std::io;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use super::key::{KeyError, escape_key};

/// An error from [`DirWriter`](super::DirWriter): what failed, where (the directory, and the
/// key for per-record failures) and why.
///
/// Messages include the underlying cause, e.g.
/// `writing "a.txt" in /tmp/out: No space left on device (os error 28)`; the I/O error is
/// therefore not also returned by [`source`](std::error::Error::source) (so chains printed by
/// error reporters do not repeat it) but is available from [`FsError::io_error`].
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum FsError {
    /// The record key is not a safe file name; nothing was touched.
    #[error(transparent)]
    InvalidKey(#[from] KeyError),
    /// The configured directory path is empty.
    #[error("the directory path is empty")]
    EmptyPath,
    /// A system call on the directory failed: creating it (or one of its parents), opening it, or
    /// syncing it (committing renames, creations and deletions; changes since the last
    /// successful commit may then not survive a power loss).
    #[error("{step} directory {}: {error}", path.display())]
    Dir {
        /// What was being done: `"creating"`, `"opening"` or `"syncing"`.
        step: &'static str,
        /// The directory.
        path: PathBuf,
        /// The cause.
        error: io::Error,
    },
    /// The configured path, or one of its parents, exists and is not a directory.
    #[error("opening directory {}: it or one of its parents exists and is not a directory", path.display())]
    NotADirectory {
        /// The configured directory.
        path: PathBuf,
    },
    /// Another writer (another process, or another open destination in this one) has the
    /// directory open and holds its lock: one writer per directory.
    #[error(
        "directory {} is locked: another writer holds it (another process, or another open destination \
         in this one, is writing to it; only one writer per directory is allowed)",
        path.display()
    )]
    Locked {
        /// The configured directory.
        path: PathBuf,
    },
    /// Listing the directory for stale temporary files failed.
    #[error("listing directory {} to remove stale temporary files: {error}", path.display())]
    ListDir {
        /// The configured directory.
        path: PathBuf,
        /// The cause.
        error: io::Error,
    },
    /// A stale temporary file could not be removed.
    #[error("removing stale temporary file {} in {}: {error}", escape_key(name), path.display())]
    RemoveStale {
        /// The configured directory.
        path: PathBuf,
        /// The temporary file's name.
        name: Box<[u8]>,
        /// The cause.
        error: io::Error,
    },
    /// Writing or deleting the file of one record failed.
    #[error("{op} {} in {}: {cause}", escape_key(key), dir.display())]
    Entry {
        /// What was being done.
        op: Op,
        /// The record key (the file name).
        key: Box<[u8]>,
        /// The directory.
        dir: Arc<Path>,
        /// Why it failed.
        cause: EntryCause,
    },
}

impl FsError {
    /// The operating-system error behind this error, if there is one.
    pub fn io_error(&self) -> Option<&io::Error> {
        match self {
            FsError::Dir { error, .. }
            | FsError::ListDir { error, .. }
            | FsError::RemoveStale { error, .. }
            | FsError::Entry { cause: EntryCause::Io { error, .. }, .. } => Some(error),
            _ => None,
        }
    }

    /// The record key this error is about, for per-record errors.
    pub fn key(&self) -> Option<&[u8]> {
        match self {
            FsError::Entry { key, .. } => Some(key),
            _ => None,
        }
    }
}

/// The per-record operation that failed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Op {
    /// Writing a record's file.
    Write,
    /// Deleting a record's file.
    Delete,
}

impl fmt::Display for Op {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(if *self == Op::Write { "writing" } else { "deleting" })
    }
}

/// Why writing or deleting one record's file failed.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum EntryCause {
    /// A system call failed.
    #[error("{step}{}{error}", if step.is_empty() { "" } else { ": " })]
    Io {
        /// The step that failed, e.g. `"renaming the temporary file onto it"`; empty for the
        /// operation itself (writing the data, removing the file).
        step: &'static str,
        /// The cause.
        error: io::Error,
    },
    /// A directory has the key's name; it is never replaced or removed.
    #[error("a directory has that name (it is never replaced or removed)")]
    IsDirectory,
    /// A symbolic link has the key's name and non-atomic mode refuses to follow it.
    #[error("a symbolic link has that name (refusing to follow it)")]
    Symlink,
    /// Something other than a regular file (a FIFO, socket or device) has the key's name and
    /// non-atomic mode refuses to write into it.
    #[error("a {kind} has that name, not a regular file (refusing to write into it)")]
    NotRegularFile {
        /// What it is, e.g. `FIFO`.
        kind: &'static str,
    },
    /// The existing file has other hard links, which non-atomic mode refuses to write through
    /// (they may lead outside the directory).
    #[error("the existing file has {links} hard links (refusing to write through them)")]
    HardLinked {
        /// The file's link count.
        links: u64,
    },
}
