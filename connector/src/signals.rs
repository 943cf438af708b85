//! Process-wide signal dispositions that [`serve`](crate::serve) sets before anything else.

use std::io;

use tokio::signal::unix::{SignalKind, signal};

/// Stops `SIGXFSZ` from killing the process, so that a write past the file-size limit
/// (`RLIMIT_FSIZE`, e.g. `ulimit -f` or systemd's `LimitFSIZE=`) fails with `EFBIG` and that
/// record is nacked like any other failed write.
///
/// The default action of `SIGXFSZ` terminates the process (with a core dump). Registering a
/// tokio listener installs a process-wide handler that only records the signal; it stays
/// installed for the life of the process, so the small runtime used to register it can be
/// dropped right away. No `unsafe` and no `sigaction` of our own.
///
/// # Errors
/// When the runtime or the handler cannot be set up (e.g. no file descriptors left); the
/// process then keeps the default action.
pub(crate) fn survive_file_size_limit() -> io::Result<()> {
    let runtime = tokio::runtime::Builder::new_current_thread().enable_io().build()?;
    let _context = runtime.enter();
    // Dropping the listener keeps the handler: tokio never uninstalls a signal handler.
    signal(SignalKind::from_raw(libc::SIGXFSZ)).map(drop)
}

#[cfg(test)]
mod tests {
    use std::process::Command;

    use super::*;

    #[test]
    fn the_process_survives_sigxfsz() {
        survive_file_size_limit().unwrap();
        // Without the handler the default action would kill this test process here.
        let status = Command::new("kill")
            .arg(format!("-{}", libc::SIGXFSZ))
            .arg(std::process::id().to_string())
            .status()
            .unwrap();
        assert!(status.success());
        // The signal is delivered before `kill` returns to the shell; give the kernel a moment
        // to run the handler on one of our threads anyway.
        std::thread::sleep(std::time::Duration::from_millis(50));
    }
}
