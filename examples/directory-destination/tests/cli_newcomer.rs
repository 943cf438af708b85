//! What a new user of the command line trips over: `--version`, the binary's name in usage,
//! the README's input line and the base64 hint, `run` at a terminal, the progress bar.

use std::io::{Read, Write};
use std::path::Path;
use std::process::Stdio;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

mod cli_common;
use cli_common::{BIN, command, run, text};

#[test]
fn version_flags_print_what_the_version_command_prints() {
    let expected = run(&["version"]);
    assert_eq!(expected.status.code(), Some(0));
    for flag in ["--version", "-V"] {
        let output = run(&[flag]);
        assert_eq!(output.status.code(), Some(0), "{flag}: {}", text(&output.stderr));
        assert_eq!(text(&output.stdout), text(&expected.stdout), "{flag}");
    }
}

#[test]
fn no_command_is_a_usage_error_that_names_the_choices() {
    let output = run(&[]);
    assert_eq!(output.status.code(), Some(2));
    let stderr = text(&output.stderr);
    assert!(stderr.contains("a command is required (or --version, --help)"), "{stderr}");
}

#[test]
fn usage_and_help_show_the_name_the_binary_was_started_as() {
    let tmp = tempfile::tempdir().unwrap();
    let renamed = tmp.path().join("my-dest");
    std::os::unix::fs::symlink(BIN, &renamed).unwrap();
    let start = |args: &[&str]| {
        let mut cmd = std::process::Command::new(&renamed);
        cmd.env_remove("CONDUIT_PLUGIN_MAGIC_COOKIE").env_remove("CONDUIT_CONNECTOR_LOG_LEVEL");
        cmd.args(args).stdin(Stdio::null()).output().unwrap()
    };
    let help = text(&start(&["--help"]).stdout);
    assert!(help.contains("Usage: my-dest <COMMAND>"), "{help}");
    assert!(help.contains("my-dest --version"), "{help}");
    let run_help = text(&start(&["run", "--help"]).stdout);
    assert!(run_help.contains("Usage: my-dest run [OPTIONS]"), "{run_help}");
    let error = start(&["frobnicate"]);
    assert_eq!(error.status.code(), Some(2));
    let stderr = text(&error.stderr);
    assert!(stderr.contains("Usage: my-dest"), "{stderr}");
    // The connector's name (`directory`) is not the command to type.
    for out in [&help, &run_help, &stderr] {
        assert!(!out.contains("Usage: directory "), "{out}");
    }
}

/// The line the README shows under `<!-- run-input-example -->`.
fn readme_input_line() -> String {
    let readme = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/../../README.md")).unwrap();
    let after = readme.split_once("<!-- run-input-example -->").expect("the README marks its input line").1;
    let block = after.split_once("```json\n").expect("a json block follows the marker").1;
    block.lines().next().unwrap().to_owned()
}

#[test]
fn the_readme_input_line_writes_what_the_readme_says() {
    let tmp = tempfile::tempdir().unwrap();
    let input = tmp.path().join("in.jsonl");
    std::fs::write(&input, format!("{}\n", readme_input_line())).unwrap();
    let dir = tmp.path().join("out");
    let output = run(&["run", "--config", &format!("directory={}", dir.display()), "--input", input.to_str().unwrap()]);
    assert_eq!(output.status.code(), Some(0), "{}{}", text(&output.stdout), text(&output.stderr));
    assert_eq!(std::fs::read(dir.join("key-1")).unwrap(), b"hello world");
}

#[test]
fn plain_text_where_base64_belongs_fails_the_line_with_a_hint() {
    let tmp = tempfile::tempdir().unwrap();
    let input = tmp.path().join("in.jsonl");
    let good = readme_input_line();
    let plain_key = good.replace("\"key\":\"a2V5LTE=\"", "\"key\":\"key-2\"");
    let plain_payload = good.replace("\"after\":\"aGVsbG8gd29ybGQ=\"", "\"after\":\"hello world\"");
    let not_json = "{\"key\": oops}".to_owned();
    std::fs::write(&input, [plain_key, plain_payload, not_json, good].join("\n")).unwrap();
    let dir = tmp.path().join("out");
    let output = run(&["run", "--config", &format!("directory={}", dir.display()), "--input", input.to_str().unwrap()]);
    assert_eq!(output.status.code(), Some(1));
    let stdout = text(&output.stdout);
    assert!(stdout.starts_with("written: 1  failed: 3"), "{stdout}");
    let line = |n: usize| stdout.lines().find(|l| l.starts_with(&format!("  failed: line {n}:"))).unwrap_or_default();
    for n in [1, 2] {
        assert!(line(n).contains("illegal base64 data"), "{stdout}");
        assert!(line(n).contains("raw keys and payloads are base64"), "line {n} has the hint: {stdout}");
    }
    assert!(line(1).contains("invalid field key"), "{stdout}");
    assert!(line(2).contains("invalid field payload.after"), "{stdout}");
    assert!(!line(3).is_empty() && !line(3).contains("base64"), "no hint for other mistakes: {stdout}");
}

/// A pseudo-terminal: the master's output is collected by a thread; the slave is what the
/// child gets as its terminal.
struct Pty {
    master: std::fs::File,
    slave: std::fs::File,
    seen: Arc<Mutex<Vec<u8>>>,
}

impl Pty {
    fn open() -> Pty {
        use rustix::pty::{OpenptFlags, grantpt, openpt, ptsname, unlockpt};
        let master = openpt(OpenptFlags::RDWR | OpenptFlags::NOCTTY | OpenptFlags::CLOEXEC).unwrap();
        grantpt(&master).unwrap();
        unlockpt(&master).unwrap();
        let name = ptsname(&master, Vec::new()).unwrap();
        let slave = std::fs::OpenOptions::new().read(true).write(true).open(name.to_str().unwrap()).unwrap();
        let master = std::fs::File::from(master);
        let seen = Arc::new(Mutex::new(Vec::new()));
        let (mut reader, sink) = (master.try_clone().unwrap(), Arc::clone(&seen));
        std::thread::spawn(move || {
            let mut buf = [0u8; 4096];
            // Ends with EIO once every slave descriptor is closed.
            while let Ok(n @ 1..) = reader.read(&mut buf) {
                sink.lock().unwrap().extend_from_slice(&buf[..n]);
            }
        });
        Pty { master, slave, seen }
    }

    fn seen(&self) -> String {
        String::from_utf8_lossy(&self.seen.lock().unwrap()).into_owned()
    }

    /// Waits (bounded) until the terminal shows `needle`.
    fn wait_for(&self, needle: &str) -> bool {
        let start = Instant::now();
        while start.elapsed() < Duration::from_secs(20) {
            if self.seen().contains(needle) {
                return true;
            }
            std::thread::sleep(Duration::from_millis(10));
        }
        false
    }
}

#[test]
fn run_at_a_terminal_without_input_says_it_reads_the_terminal() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("out");
    let mut pty = Pty::open();
    let child = command()
        .args(["run", "--config", &format!("directory={}", dir.display())])
        .stdin(pty.slave.try_clone().unwrap())
        .stderr(pty.slave.try_clone().unwrap())
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    let hint = "reading OpenCDC JSON lines from the terminal (one record per line; Ctrl-D ends the input)";
    let shown = pty.wait_for(hint);
    // A line typed at the terminal, then Ctrl-D: the run writes it and ends.
    pty.master.write_all(format!("{}\n\x04", readme_input_line()).as_bytes()).unwrap();
    let output = child.wait_with_output().unwrap();
    assert!(shown, "the hint is on the terminal: {:?}", pty.seen());
    assert!(pty.seen().contains("--input FILE") && pty.seen().contains("--generate N"), "{:?}", pty.seen());
    assert_eq!(output.status.code(), Some(0), "{}", text(&output.stdout));
    assert!(text(&output.stdout).starts_with("written: 1  failed: 0"), "{}", text(&output.stdout));
    assert_eq!(std::fs::read(dir.join("key-1")).unwrap(), b"hello world");
}

#[test]
fn run_from_a_pipe_or_a_file_gives_no_terminal_hint() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("out");
    let output = run(&["run", "--config", &format!("directory={}", dir.display())]);
    assert_eq!(output.status.code(), Some(0));
    assert!(!text(&output.stderr).contains("from the terminal"), "{}", text(&output.stderr));
}

/// Runs `args` with stderr on a terminal; returns what the terminal showed and stdout.
fn run_with_terminal_stderr(args: &[&str]) -> (String, String) {
    let pty = Pty::open();
    let output = command()
        .args(args)
        .stdin(Stdio::null())
        .stderr(pty.slave.try_clone().unwrap())
        .stdout(Stdio::piped())
        .output()
        .unwrap();
    let stdout = text(&output.stdout);
    assert_eq!(output.status.code(), Some(0), "{stdout}");
    // The child has exited; let the reader thread take what is left in the terminal.
    std::thread::sleep(Duration::from_millis(100));
    (pty.seen(), stdout)
}

#[test]
fn on_a_terminal_run_draws_a_progress_bar_with_total_rate_and_eta() {
    let tmp = tempfile::tempdir().unwrap();
    // A rate limit makes the run last about a second, so the bar is drawn several times.
    let directory = format!("directory={}", tmp.path().join("gen").display());
    let slow = ["--config", "sdk.rate.perSecond=3000", "--config", "sdk.rate.burst=50"];
    let mut args = vec!["run", "--config", &directory, "--generate", "3000"];
    args.extend(slow);
    let (terminal, stdout) = run_with_terminal_stderr(&args);
    assert!(stdout.starts_with("written: 3000  failed: 0"), "{stdout}");
    assert!(terminal.contains("/3,000 records"), "the total: {terminal:?}");
    assert!(terminal.contains("/s, ETA "), "rate and ETA: {terminal:?}");
    assert!(terminal.contains("[="), "a bar: {terminal:?}");

    // A regular file: measured in bytes read, out of its size.
    let input = tmp.path().join("in.jsonl");
    let line = readme_input_line();
    std::fs::write(&input, (0..3000).map(|_| format!("{line}\n")).collect::<String>()).unwrap();
    let directory = format!("directory={}", tmp.path().join("file").display());
    let mut args = vec!["run", "--config", &directory, "--input", input.to_str().unwrap()];
    args.extend(slow);
    let (terminal, stdout) = run_with_terminal_stderr(&args);
    assert!(stdout.starts_with("written: 3000  failed: 0"), "{stdout}");
    let size = std::fs::metadata(&input).unwrap().len() as f64 / 1024.0;
    assert!(terminal.contains(&format!("/{size:.2} KiB")), "the file's size ({size:.2} KiB): {terminal:?}");
    assert!(terminal.contains("KiB/s, ETA "), "rate and ETA: {terminal:?}");

    // `--quiet`: nothing on the terminal.
    let mut args = vec!["run", "--quiet", "--config", &directory, "--generate", "10"];
    args.extend(slow);
    let (terminal, _) = run_with_terminal_stderr(&args);
    assert!(terminal.is_empty(), "{terminal:?}");
}

#[test]
fn without_a_terminal_there_is_no_progress_bar() {
    let tmp = tempfile::tempdir().unwrap();
    let directory = format!("directory={}", Path::new(tmp.path()).join("gen").display());
    let output = run(&["run", "--config", &directory, "--generate", "100"]);
    assert_eq!(output.status.code(), Some(0));
    assert!(text(&output.stderr).is_empty(), "{:?}", text(&output.stderr));
}
