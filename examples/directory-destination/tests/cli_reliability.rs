//! The command line under hostile conditions, with the real binary: records whose positions and
//! keys try to forge log lines or drive the terminal, signals during `run`, a closed stdout, a
//! tiny open-file limit, overlong input lines, absurd `--payload-size` and rate values, and input
//! that trickles in.

use std::io::{Read, Write};
use std::path::Path;
use std::process::{Child, Command, Output, Stdio};
use std::time::{Duration, Instant};

use conduit_connector::opencdc::{Change, Data, Operation, Position, Record, StructuredData};

const BIN: &str = env!("CARGO_BIN_EXE_directory-destination");

/// Every wait in these tests gives up after this long (generous: 2 shared cores).
const PATIENCE: Duration = Duration::from_secs(60);

fn command() -> Command {
    let mut cmd = Command::new(BIN);
    cmd.env_remove("CONDUIT_PLUGIN_MAGIC_COOKIE").env_remove("CONDUIT_CONNECTOR_LOG_LEVEL");
    cmd
}

fn run(args: &[&str]) -> Output {
    command().args(args).stdin(Stdio::null()).output().expect("run the binary")
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

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
    structured.insert("id".to_owned(), "\u{202e}gnp.exe\u{9b}31m\n".into());
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
