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
