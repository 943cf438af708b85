//! The command line under hostile conditions, with the real binary: records whose positions and
//! keys try to forge log lines or drive the terminal, signals during `run`, a closed stdout, a
//! tiny open-file limit, overlong input lines, absurd `--payload-size` and rate values, and input
//! that trickles in.

use std::io::Write;
use std::path::Path;
use std::process::{Child, Command, Output, Stdio};
use std::time::{Duration, Instant};

use conduit_connector::opencdc::{Change, Data, Operation, Position, Record, StructuredData};

mod cli_common;
use cli_common::{BIN, command, run, text};

/// Every wait in these tests gives up after this long (generous: 2 shared cores).
const PATIENCE: Duration = Duration::from_secs(60);

fn describe(output: &Output) -> String {
    format!("status {:?}\nstdout:\n{}\nstderr:\n{}", output.status, text(&output.stdout), text(&output.stderr))
}

fn record(position: &[u8], key: Option<Data>, after: &[u8]) -> Record {
    Record {
        position: Position(position.to_vec()),
        operation: Operation::Create,
        key,
        payload: Change { before: None, after: Some(Data::Raw(after.to_vec())) },
        ..Record::default()
    }
}

fn lines(records: &[Record]) -> Vec<u8> {
    let mut out = Vec::new();
    for r in records {
        out.extend_from_slice(&r.to_json());
        out.push(b'\n');
    }
    out
}

/// Waits for `child` at most [`PATIENCE`], killing it if it does not exit, and collects its output.
fn wait_bounded(mut child: Child) -> Output {
    let start = Instant::now();
    loop {
        match child.try_wait().expect("try_wait") {
            Some(_) => break,
            None if start.elapsed() > PATIENCE => {
                let _ = child.kill();
                break;
            }
            None => std::thread::sleep(Duration::from_millis(20)),
        }
    }
    child.wait_with_output().expect("collect the output")
}

/// Characters that must never reach a log or a terminal raw.
fn is_hostile(c: char) -> bool {
    (c.is_control() && c != '\n')
        || matches!(c, '\u{200b}'..='\u{200f}' | '\u{2028}'..='\u{202e}' | '\u{2066}'..='\u{2069}' | '\u{feff}')
}

// ---------------------------------------------------------------------------------------------
// 12: log injection
// ---------------------------------------------------------------------------------------------

#[test]
fn hostile_positions_keys_and_fields_are_escaped_in_the_log_and_the_summary() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("out");
    let forged = b"p1\nERROR forged line\x1b[2J\x1b]0;title\x07\xc2\x85\xe2\x80\xae\xe2\x81\xa6";
    let mut structured = StructuredData::new();
    // A `/` keeps the structured key invalid, so its name reaches the summary and the log.
    structured.insert("id".to_owned(), "\u{202e}gnp/exe\u{9b}31m\n".into());
    let mut input = lines(&[
        record(forged, Some(Data::Raw(b"a/\x1b[31mb\xc2\x9b".to_vec())), b"x"),
        record(b"p2\r\x1b[1A", Some(Data::Structured(structured)), b"y"),
        record(b"p3", Some(Data::Raw(b"fine".to_vec())), b"z"),
    ]);
    // A malformed line whose error names a hostile metadata key.
    input.extend_from_slice(b"{\"position\":\"cDQ=\",\"metadata\":{\"\\u001b[2J\\u202e\\u0085\":5}}\n");
    let path = tmp.path().join("in.jsonl");
    std::fs::write(&path, input).unwrap();
    let output = run(&["run", "--config", &format!("directory={}", dir.display()), "--input", path.to_str().unwrap()]);
    let (stdout, stderr) = (text(&output.stdout), text(&output.stderr));
    assert_eq!(output.status.code(), Some(1), "{}", describe(&output));
    assert!(stdout.starts_with("written: 1  failed: 3  "), "{}", describe(&output));
    for (name, s) in [("stdout", &stdout), ("stderr", &stderr)] {
        let bad: Vec<char> = s.chars().filter(|&c| is_hostile(c)).collect();
        assert!(bad.is_empty(), "raw {bad:?} in {name}:\n{}", describe(&output));
    }
    assert!(!stderr.lines().any(|l| l.starts_with("ERROR forged")), "a forged log line:\n{stderr}");
    assert!(!stdout.lines().any(|l| l.starts_with("ERROR forged")), "a forged summary line:\n{stdout}");
    assert_eq!(stdout.lines().count(), 4, "one summary line and one line per failure:\n{stdout}");
    assert!(stdout.contains(r"p1\nERROR forged line\x1b[2J"), "the position is shown escaped:\n{stdout}");
    for line in stderr.lines() {
        assert!(line.starts_with("ERROR ") || line.starts_with("WARN "), "every stderr line is a log line: {line:?}");
    }
}

// ---------------------------------------------------------------------------------------------
// 13: a tiny open-file limit, a closed stdout
// ---------------------------------------------------------------------------------------------

/// Runs the binary with `ulimit -n limit` (set by a shell that then `exec`s it).
fn run_with_fd_limit(limit: u32, args: &[&str]) -> Output {
    let mut script = format!("ulimit -n {limit} && exec \"$0\"");
    for i in 1..=args.len() {
        script.push_str(&format!(" \"${i}\""));
    }
    Command::new("sh")
        .arg("-c")
        .arg(script)
        .arg(BIN)
        .args(args)
        .env_remove("CONDUIT_PLUGIN_MAGIC_COOKIE")
        .stdin(Stdio::null())
        .output()
        .expect("run sh")
}

#[test]
fn a_tiny_open_file_limit_is_a_clear_error_not_a_panic() {
    let tmp = tempfile::tempdir().unwrap();
    let directory = format!("directory={}", tmp.path().join("out").display());
    for limit in [5, 6, 7, 8, 9, 10] {
        for args in [&["run", "--config", &directory, "--generate", "10"][..], &["check", "--config", &directory]] {
            let output = run_with_fd_limit(limit, args);
            let stderr = text(&output.stderr);
            assert!(!stderr.contains("panicked"), "ulimit -n {limit}, {args:?}: {}", describe(&output));
            match output.status.code() {
                Some(0) => {}
                Some(1) => assert!(stderr.contains("Too many open files"), "ulimit -n {limit}, {args:?}: {stderr}"),
                _ => panic!("ulimit -n {limit}, {args:?}: exit 0 or 1 expected: {}", describe(&output)),
            }
            if limit <= 8 {
                assert_eq!(output.status.code(), Some(1), "ulimit -n {limit}, {args:?}: {}", describe(&output));
                assert!(stderr.contains("open-file limit"), "ulimit -n {limit}: the error names the cause: {stderr}");
            }
        }
    }
}

/// Runs the binary with stdout the write end of a pipe whose read end is already closed.
fn run_with_closed_stdout(args: &[&str]) -> Output {
    let (reader, writer) = std::io::pipe().expect("a pipe");
    drop(reader);
    let child = command().args(args).stdin(Stdio::null()).stdout(writer).stderr(Stdio::piped()).spawn().unwrap();
    wait_bounded(child)
}

#[test]
fn a_closed_stdout_is_a_clear_error_and_exit_1_not_a_panic() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("out");
    let directory = format!("directory={}", dir.display());
    for args in [&["spec"][..], &["version"], &["check", "--config", &directory]] {
        let output = run_with_closed_stdout(args);
        let stderr = text(&output.stderr);
        assert_eq!(output.status.code(), Some(1), "{args:?}: {}", describe(&output));
        assert!(!stderr.contains("panicked"), "{args:?}: {stderr}");
        assert!(stderr.contains("cannot write to stdout") && stderr.contains("Broken pipe"), "{args:?}: {stderr}");
    }
    // `run` writes every record, then cannot print its summary: that is an error too.
    let output = run_with_closed_stdout(&["run", "--config", &directory, "--generate", "5"]);
    let stderr = text(&output.stderr);
    assert_eq!(output.status.code(), Some(1), "{}", describe(&output));
    assert!(!stderr.contains("panicked") && stderr.contains("cannot write the summary"), "{stderr}");
    assert_eq!(std::fs::read_dir(&dir).unwrap().count(), 5, "the records were written");
}

// ---------------------------------------------------------------------------------------------
// 14: overlong lines, absurd --payload-size
// ---------------------------------------------------------------------------------------------

fn good_line(i: usize) -> Vec<u8> {
    lines(&[record(format!("p{i}").as_bytes(), Some(Data::Raw(format!("k{i}").into_bytes())), b"v")])
}

#[test]
fn a_line_over_max_line_bytes_fails_alone_with_its_line_number() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("out");
    let mut input = good_line(1);
    input.extend(lines(&[record(b"p2", Some(Data::Raw(b"k2".to_vec())), &vec![b'x'; 2 << 20])]));
    input.extend(good_line(3));
    let path = tmp.path().join("in.jsonl");
    std::fs::write(&path, input).unwrap();
    let output = run(&[
        "run",
        "--config",
        &format!("directory={}", dir.display()),
        "--input",
        path.to_str().unwrap(),
        "--max-line-bytes",
        "1048576",
    ]);
    let stdout = text(&output.stdout);
    assert_eq!(output.status.code(), Some(1), "{}", describe(&output));
    assert!(stdout.starts_with("written: 2  failed: 1  "), "{}", describe(&output));
    let failure = stdout.lines().nth(1).unwrap_or_default();
    assert!(
        failure.contains("line 2: the line is longer than the limit of 1048576 bytes (--max-line-bytes)"),
        "{failure}"
    );
    assert!(dir.join("k1").exists() && dir.join("k3").exists() && !dir.join("k2").exists());
}

/// A 512 MiB line on stdin under a 256 MiB data limit: the default limit (64 MiB) reads past
/// it without storing it; the old reader grew its buffer until allocation failed and aborted.
#[test]
fn a_line_larger_than_memory_is_skipped_not_an_abort() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("out");
    let mut child = Command::new("prlimit")
        .arg(format!("--data={}", 256 << 20))
        .arg(BIN)
        .args(["run", "--config", &format!("directory={}", dir.display()), "--input", "-"])
        .env_remove("CONDUIT_PLUGIN_MAGIC_COOKIE")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("prlimit");
    let mut stdin = child.stdin.take().unwrap();
    let feeder = std::thread::spawn(move || -> std::io::Result<()> {
        stdin.write_all(&good_line(1))?;
        let block = vec![b'a'; 1 << 20];
        for _ in 0..512 {
            stdin.write_all(&block)?;
        }
        stdin.write_all(b"\n")?;
        stdin.write_all(&good_line(3))
    });
    let output = wait_bounded(child);
    let _ = feeder.join();
    let stdout = text(&output.stdout);
    assert_eq!(output.status.code(), Some(1), "{}", describe(&output));
    assert!(stdout.starts_with("written: 2  failed: 1  "), "{}", describe(&output));
    assert!(stdout.contains("line 2: the line is longer than the limit of 67108864 bytes"), "{stdout}");
}

#[test]
fn an_absurd_payload_size_is_a_usage_error() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("out");
    for size in ["100000000000", "67108865", "-1", "lots"] {
        let flag = format!("--payload-size={size}");
        let output = run(&["run", "--config", &format!("directory={}", dir.display()), "--generate", "1", &flag]);
        let stderr = text(&output.stderr);
        assert_eq!(output.status.code(), Some(2), "--payload-size {size}: {}", describe(&output));
        assert!(stderr.contains("--payload-size"), "{stderr}");
        assert!(!dir.exists(), "nothing is opened on a usage error");
    }
    let output = run(&[
        "run",
        "--config",
        &format!("directory={}", dir.display()),
        "--generate",
        "1",
        "--payload-size",
        "67108864",
        "--quiet",
    ]);
    assert_eq!(output.status.code(), Some(0), "the largest payload size works: {}", describe(&output));
    assert_eq!(std::fs::metadata(dir.join("record-000000001")).unwrap().len(), 64 << 20);
}

// ---------------------------------------------------------------------------------------------
// 11: SIGINT and SIGTERM during `run`
// ---------------------------------------------------------------------------------------------

fn kill(child: &Child, signal: &str) {
    let status = Command::new("kill").arg(format!("-{signal}")).arg(child.id().to_string()).status().expect("kill");
    assert!(status.success());
}

/// Waits (bounded) until `dir` holds at least `n` entries.
fn wait_for_files(dir: &Path, n: usize) -> bool {
    let start = Instant::now();
    while start.elapsed() < PATIENCE {
        if std::fs::read_dir(dir).map(|d| d.count()).unwrap_or(0) >= n {
            return true;
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    false
}

fn files(dir: &Path) -> Vec<String> {
    let mut names: Vec<String> =
        std::fs::read_dir(dir).unwrap().map(|e| e.unwrap().file_name().to_string_lossy().into_owned()).collect();
    names.sort();
    names
}

/// The `written: N` of the summary.
fn written(stdout: &str) -> usize {
    stdout.strip_prefix("written: ").and_then(|s| s.split_whitespace().next()).and_then(|n| n.parse().ok()).unwrap_or(0)
}

/// SIGINT while `run` waits on an open pipe: what was read is written, the summary is printed,
/// exit 130.
#[test]
fn sigint_while_waiting_for_input_prints_the_summary_and_exits_130() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("out");
    let mut child = command()
        .args(["run", "--config", &format!("directory={}", dir.display()), "--config", "sdk.batch.size=100"])
        .args(["--input", "-"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut stdin = child.stdin.take().unwrap();
    for i in 0..3 {
        stdin.write_all(&good_line(i)).unwrap();
    }
    stdin.flush().unwrap();
    assert!(wait_for_files(&dir, 3), "the three records are written while stdin stays open");
    kill(&child, "INT");
    let output = wait_bounded(child);
    drop(stdin);
    let stdout = text(&output.stdout);
    assert_eq!(output.status.code(), Some(130), "{}", describe(&output));
    assert!(stdout.starts_with("written: 3  failed: 0  "), "{}", describe(&output));
    assert!(text(&output.stderr).contains("SIGINT: stopped reading input"), "{}", describe(&output));
}

/// SIGTERM in the middle of a long rate-limited run: it stops reading, writes the batch that was
/// pending and what was queued, prints the summary (its count matches the files) and exits 143.
#[test]
fn sigterm_mid_run_writes_what_was_read_and_exits_143() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("out");
    let child = command()
        .args(["run", "--config", &format!("directory={}", dir.display())])
        .args(["--config", "sdk.batch.size=300", "--config", "sdk.batch.delay=1h"])
        .args(["--config", "sdk.rate.perSecond=2000", "--config", "sdk.rate.burst=100"])
        .args(["--generate", "1000000000", "--payload-size", "8"])
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    assert!(wait_for_files(&dir, 1), "the run starts writing");
    std::thread::sleep(Duration::from_millis(300));
    kill(&child, "TERM");
    let output = wait_bounded(child);
    let stdout = text(&output.stdout);
    assert_eq!(output.status.code(), Some(143), "{}", describe(&output));
    assert!(text(&output.stderr).contains("SIGTERM: stopped reading input"), "{}", describe(&output));
    let names = files(&dir);
    assert!(names.iter().all(|n| n.starts_with("record-")), "no temporary file is left: {names:?}");
    assert_eq!(written(&stdout), names.len(), "the summary counts exactly the files written:\n{stdout}");
    assert!(names.len() < 1_000_000, "reading stopped");
}

/// SIGTERM while a producer keeps the pipe full: every record handed to the writer is written
/// and counted (the summary's count equals the files), nothing is half-written, exit 143.
#[test]
fn sigterm_over_a_busy_pipe_writes_what_was_read_and_exits_143() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("out");
    let mut child = command()
        .args(["run", "--config", &format!("directory={}", dir.display()), "--config", "sdk.batch.size=50"])
        .args(["--input", "-"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut stdin = child.stdin.take().unwrap();
    let feeder = std::thread::spawn(move || {
        // Until the pipe breaks (the run exited) or a bound.
        for i in 0..2_000_000 {
            if stdin.write_all(&good_line(i)).is_err() {
                return;
            }
        }
    });
    assert!(wait_for_files(&dir, 100), "the run writes");
    kill(&child, "TERM");
    let output = wait_bounded(child);
    let _ = feeder.join();
    let stdout = text(&output.stdout);
    assert_eq!(output.status.code(), Some(143), "{}", describe(&output));
    let names = files(&dir);
    assert!(names.iter().all(|n| n.starts_with('k')), "no temporary file is left: {names:?}");
    assert_eq!(written(&stdout), names.len(), "the summary counts exactly the files written:\n{stdout}");
}

/// A write stuck in a rate limit wait (1e-20 records/s) cannot finish; a second SIGTERM exits at
/// once with 143.
#[test]
fn a_second_signal_exits_at_once() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("out");
    let child = command()
        .args(["run", "--config", &format!("directory={}", dir.display())])
        .args(["--config", "sdk.rate.perSecond=1e-20", "--config", "sdk.rate.burst=1", "--generate", "5"])
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    assert!(wait_for_files(&dir, 1), "the first record is written at once");
    kill(&child, "TERM");
    std::thread::sleep(Duration::from_millis(300));
    kill(&child, "TERM");
    let output = wait_bounded(child);
    assert_eq!(output.status.code(), Some(143), "{}", describe(&output));
    assert!(text(&output.stderr).contains("SIGTERM again: exiting at once"), "{}", describe(&output));
    assert!(!text(&output.stderr).contains("panicked"), "{}", describe(&output));
}

/// 60 lines of 4 MiB on stdin, written slowly (a rate limit): at most 64 MiB of read input waits
/// for the writer, so the run fits a 128 MiB data limit (the old reader queued up to 64 lines
/// from stdin, 4,096 from a file).
#[test]
fn input_waiting_for_a_slow_writer_is_bounded_in_bytes() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("out");
    let mut child = Command::new("prlimit")
        .arg(format!("--data={}", 128 << 20))
        .arg(BIN)
        .args(["run", "--config", &format!("directory={}", dir.display()), "--input", "-", "--quiet"])
        .args(["--config", "sdk.rate.perSecond=20", "--config", "sdk.rate.burst=1"])
        .env_remove("CONDUIT_PLUGIN_MAGIC_COOKIE")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("prlimit");
    let mut stdin = child.stdin.take().unwrap();
    let feeder = std::thread::spawn(move || -> std::io::Result<()> {
        // The bulk in a metadata string (cheap to parse in a debug build); an invalid key, so
        // nothing lands on disk while each record still waits for the rate limit.
        let mut r = record(b"p", Some(Data::Raw(b"a/b".to_vec())), b"x");
        r.metadata.0.insert("bulk".to_owned(), "x".repeat(4 << 20));
        let line = lines(&[r]);
        for _ in 0..60 {
            stdin.write_all(&line)?;
        }
        Ok(())
    });
    let output = wait_bounded(child);
    let _ = feeder.join();
    assert_eq!(output.status.code(), Some(1), "{}", describe(&output));
    assert!(text(&output.stdout).starts_with("written: 0  failed: 60  "), "{}", describe(&output));
}
