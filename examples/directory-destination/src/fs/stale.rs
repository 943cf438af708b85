//! Crash cleanup at open: what a crash left in the directory (temporary files, and staging
//! directories of them) is removed, and nothing else.

use std::collections::HashSet;
use std::os::fd::{AsFd, BorrowedFd};
use std::path::Path;

use rustix::fs::{AtFlags, FileType};
use rustix::io::Errno;

use super::{FsError, STAGING, TEMP_PREFIX, open_subdir};

/// Removes what a crash left in the directory: files whose names start with [`TEMP_PREFIX`],
/// and [staging directories](super::StagingDir) (named [`TEMP_PREFIX`] + [`STAGING`]) with the temporary files in them.
/// Other directories with the prefix are left alone (a writer never creates them), and so is a
/// staging directory that holds anything else. Returns how many entries it removed.
pub(super) fn remove(dir: BorrowedFd<'_>, path: &Path) -> Result<usize, FsError> {
    let mut staging = Vec::new();
    let mut removed = remove_temp_files(dir, path, &[], |name, file_type| {
        let ours = name.get(TEMP_PREFIX.len()..).is_some_and(|rest| rest.starts_with(STAGING.as_bytes()));
        let found = ours
            && match file_type {
                // A file system without entry types: ask for the type.
                FileType::Unknown => rustix::fs::statat(dir, name, AtFlags::SYMLINK_NOFOLLOW)
                    .is_ok_and(|stat| FileType::from_raw_mode(stat.st_mode) == FileType::Directory),
                known => known == FileType::Directory,
            };
        if found {
            staging.push(name.to_vec());
        }
        found
    })?;
    if staging.is_empty() {
        return Ok(removed);
    }
    // A power loss on a file system without a journal, after a rename out of a staging
    // directory but before that directory was synced again, can leave a file named both by a
    // key and by its old temporary name with a link count of 1 (until `fsck` repairs it).
    // Unlinking that temporary name would free the key's file, so it is left alone. To know,
    // the directory is listed once more, keeping only the inodes the staging directories hold.
    let list_error = list_error(path);
    let (mut subs, mut held) = (Vec::new(), HashSet::new());
    for name in staging {
        let Ok(sub) = open_subdir(dir, name.as_slice()) else {
            continue; // Not a directory any more: nothing of ours.
        };
        for entry in rustix::fs::Dir::read_from(&sub).map_err(list_error)? {
            held.insert(entry.map_err(list_error)?.ino());
        }
        subs.push((name, sub));
    }
    let mut named = HashSet::new();
    for entry in rustix::fs::Dir::read_from(dir).map_err(list_error)? {
        let ino = entry.map_err(list_error)?.ino();
        if held.contains(&ino) {
            named.insert(ino);
        }
    }
    for (name, sub) in subs {
        removed += remove_temp_files(sub.as_fd(), path, &name, |temp, _| {
            rustix::fs::statat(&sub, temp, AtFlags::SYMLINK_NOFOLLOW)
                .map_or(true, |stat| stat.st_nlink < 2 && named.contains(&stat.st_ino))
        })?;
        if rustix::fs::unlinkat(dir, name.as_slice(), AtFlags::REMOVEDIR).is_ok() {
            removed += 1;
        }
    }
    Ok(removed)
}

/// Removes the entries of `dir` (the directory, or the staging directory `within` it) whose
/// names start with [`TEMP_PREFIX`], except those `keep` keeps (it sees each of them) and
/// directories.
fn remove_temp_files(
    dir: BorrowedFd<'_>,
    path: &Path,
    within: &[u8],
    mut keep: impl FnMut(&[u8], FileType) -> bool,
) -> Result<usize, FsError> {
    let list_error = list_error(path);
    let mut removed = 0;
    for entry in rustix::fs::Dir::read_from(dir).map_err(list_error)? {
        let entry = entry.map_err(list_error)?;
        let (name, file_type) = (entry.file_name(), entry.file_type());
        let bytes = name.to_bytes();
        if !bytes.starts_with(TEMP_PREFIX.as_bytes()) || keep(bytes, file_type) || file_type == FileType::Directory {
            continue;
        }
        match rustix::fs::unlinkat(dir, name, AtFlags::empty()) {
            Ok(()) => removed += 1,
            Err(Errno::NOENT) => {}
            // A directory on a file system that does not report types.
            Err(Errno::ISDIR | Errno::PERM) if file_type == FileType::Unknown => {}
            Err(errno) => {
                let name = if within.is_empty() { bytes.into() } else { [within, b"/", bytes].concat().into() };
                return Err(FsError::RemoveStale { path: path.to_path_buf(), name, error: errno.into() });
            }
        }
    }
    Ok(removed)
}

/// The error of listing the directory at `path` (or a staging directory in it).
fn list_error(path: &Path) -> impl Fn(Errno) -> FsError + Copy + '_ {
    |errno| FsError::ListDir { path: path.to_path_buf(), error: errno.into() }
}
