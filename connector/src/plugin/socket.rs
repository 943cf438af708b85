//! The unix socket's directory: created fresh with mode 0700 (so only the
//! user Conduit runs as can reach the socket), removed with the socket when
//! the process exits.

use std::os::unix::fs::{DirBuilderExt, PermissionsExt};
use std::path::{Path, PathBuf};
use std::sync::Mutex;
use std::time::{SystemTime, UNIX_EPOCH};

use super::StartError;

/// The socket's file name inside its directory.
pub(super) const SOCKET_NAME: &str = "plugin.sock";

/// The directory to remove on exit.
static DIR: Mutex<Option<PathBuf>> = Mutex::new(None);

/// Creates a fresh directory (mode 0700) inside `parent` (the temp dir when
/// `None`) and remembers it for [`remove`].
pub(super) fn create_dir(parent: Option<&Path>) -> Result<PathBuf, StartError> {
    let parent = parent.map_or_else(std::env::temp_dir, Path::to_path_buf);
    let pid = std::process::id();
    let mut last_error = None;
    for attempt in 0u32..64 {
        let nanos = SystemTime::now().duration_since(UNIX_EPOCH).map_or(0, |d| d.subsec_nanos());
        let dir = parent.join(format!("conduit-plugin-{pid}-{nanos:08x}{attempt}"));
        match std::fs::DirBuilder::new().mode(0o700).create(&dir) {
            Ok(()) => {
                if let Ok(mut slot) = DIR.lock() {
                    *slot = Some(dir.clone());
                }
                // The umask may have taken bits away; make it exactly 0700.
                std::fs::set_permissions(&dir, std::fs::Permissions::from_mode(0o700)).map_err(|e| {
                    remove();
                    StartError::Other(format!("could not set the mode of {}: {e}", dir.display()))
                })?;
                return Ok(dir);
            }
            Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => last_error = Some(e),
            Err(e) => {
                return Err(StartError::Other(format!(
                    "could not create the unix socket's directory in {} (set PLUGIN_UNIX_SOCKET_DIR to another \
                     directory): {e}",
                    parent.display()
                )));
            }
        }
    }
    Err(StartError::Other(format!(
        "could not create a fresh directory for the unix socket in {}: {}",
        parent.display(),
        last_error.map_or_else(|| "no attempt".to_owned(), |e| e.to_string())
    )))
}

/// Removes the socket and its directory (once; later calls do nothing).
pub(crate) fn remove() {
    let dir = DIR.lock().ok().and_then(|mut slot| slot.take());
    if let Some(dir) = dir {
        let _ = std::fs::remove_file(dir.join(SOCKET_NAME));
        let _ = std::fs::remove_dir(&dir);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_directory_is_fresh_and_private_and_removed() {
        let parent = std::env::temp_dir().join(format!("socket-dir-test-{}", std::process::id()));
        std::fs::create_dir_all(&parent).unwrap();
        let dir = create_dir(Some(&parent)).unwrap();
        assert!(dir.starts_with(&parent));
        let mode = std::fs::metadata(&dir).unwrap().permissions().mode() & 0o7777;
        assert_eq!(mode, 0o700);
        std::fs::write(dir.join(SOCKET_NAME), b"").unwrap();
        remove();
        assert!(!dir.exists());
        std::fs::remove_dir(&parent).unwrap();
    }
}
