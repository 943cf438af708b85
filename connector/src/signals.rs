//! Process-wide signal dispositions that [`serve`](crate::serve) sets before anything else.

use std::io;

/// Stops `SIGXFSZ` from killing the process, so that a write past the file-size limit
/// (`RLIMIT_FSIZE`, e.g. `ulimit -f` or systemd's `LimitFSIZE=`) fails with `EFBIG` and that
/// record is nacked like any other failed write.
///
/// The default action of `SIGXFSZ` terminates the process (with a core dump). This installs a
/// process-wide handler that only sets a flag (signal-hook's safe `flag::register`): it needs
/// no file descriptor and no runtime, so it also works when the open-file limit is exhausted,
/// and it stays installed for the life of the process.
///
/// # Errors
/// When the handler cannot be installed; the process then keeps the default action.
#[cfg(unix)]
pub(crate) fn survive_file_size_limit() -> io::Result<()> {
    use std::sync::Arc;
    use std::sync::atomic::AtomicBool;

    signal_hook::flag::register(signal_hook::consts::SIGXFSZ, Arc::new(AtomicBool::new(false))).map(drop)
}

/// There is no `SIGXFSZ` off Unix.
#[cfg(not(unix))]
pub(crate) fn survive_file_size_limit() -> io::Result<()> {
    Ok(())
}

#[cfg(all(test, unix))]
mod tests {
    use std::process::Command;

    use super::*;

    #[test]
    fn the_process_survives_sigxfsz() {
        survive_file_size_limit().unwrap();
        // Without the handler the default action would kill this test process here.
        let status = Command::new("kill")
            .arg(format!("-{}", signal_hook::consts::SIGXFSZ))
            .arg(std::process::id().to_string())
            .status()
            .unwrap();
        assert!(status.success());
        // The signal is delivered before `kill` returns to the shell; give the kernel a moment
        // to run the handler on one of our threads anyway.
        std::thread::sleep(std::time::Duration::from_millis(50));
    }
}
