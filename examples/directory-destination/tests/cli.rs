//! The `directory-destination` binary's command line: `run` over OpenCDC JSON
//! lines (file and stdin) and generated records, `check`, `spec` and
//! `version`.

use std::collections::BTreeSet;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Output, Stdio};

use conduit_connector::opencdc::{Change, Data, Operation, Position, Record, StructuredData};

mod cli_common;
use cli_common::{command, run, text};

fn record(position: &str, operation: Operation, key: Option<Data>, after: Option<Data>) -> Record {
    Record {
        position: Position::from(position),
        operation,
        key,
        payload: Change { before: None, after },
        ..Record::default()
    }
}

fn raw(bytes: &[u8]) -> Option<Data> {
    Some(Data::Raw(bytes.to_vec()))
}

/// `{"a":1,"b":"x"}` (keys inserted out of order).
fn doc() -> StructuredData {
    let mut map = StructuredData::new();
    map.insert("b".to_owned(), "x".into());
    map.insert("a".to_owned(), 1.into());
    map
}

/// `{"id":7}`.
fn id_key() -> StructuredData {
    let mut map = StructuredData::new();
    map.insert("id".to_owned(), 7.into());
    map
}

/// `{"path":"a/b"}`: not a single file name.
fn slash_key() -> StructuredData {
    let mut map = StructuredData::new();
    map.insert("path".to_owned(), "a/b".into());
    map
}

/// The input: good records, an update, a delete, a structured payload, bad
/// keys of every kind and one malformed line.
fn input_lines() -> Vec<u8> {
    let long_key = vec![b'k'; 300];
    let lines: Vec<Vec<u8>> = vec![
        record("p1", Operation::Create, raw(b"one"), raw(b"first")).to_json(),
        record("p2", Operation::Create, raw(b"two"), raw(b"2\n")).to_json(),
        record("p3", Operation::Update, raw(b"one"), raw(b"updated")).to_json(),
        record("p4", Operation::Create, raw(b"gone"), raw(b"soon deleted")).to_json(),
        record("p5", Operation::Delete, raw(b"gone"), None).to_json(),
        record("p6", Operation::Snapshot, raw(b"doc.json"), Some(Data::Structured(doc()))).to_json(),
        record("p7", Operation::Create, raw(b"a/b"), raw(b"escape")).to_json(),
        record("p8", Operation::Create, raw(b".."), raw(b"escape")).to_json(),
        record("p9", Operation::Create, raw(b""), raw(b"empty")).to_json(),
        record("p10", Operation::Create, Some(Data::Structured(id_key())), raw(b"s")).to_json(),
        record("p11", Operation::Create, Some(Data::Raw(long_key)), raw(b"long")).to_json(),
        b"{\"position\": \"not base64!\", this is not json".to_vec(),
        record("p13", Operation::Create, raw(b".hidden"), raw(b"h")).to_json(),
        record("p14", Operation::Create, Some(Data::Structured(slash_key())), raw(b"escape")).to_json(),
    ];
    let mut out = Vec::new();
    for line in lines {
        out.extend_from_slice(&line);
        out.push(b'\n');
    }
    out
}

/// Every path under `root`, relative, sorted (directories end with `/`).
fn tree(root: &Path) -> BTreeSet<String> {
    fn walk(root: &Path, dir: &Path, out: &mut BTreeSet<String>) {
        for entry in std::fs::read_dir(dir).unwrap() {
            let entry = entry.unwrap();
            let path = entry.path();
            let rel = path.strip_prefix(root).unwrap().to_string_lossy().into_owned();
            if entry.file_type().unwrap().is_dir() {
                out.insert(format!("{rel}/"));
                walk(root, &path, out);
            } else {
                out.insert(rel);
            }
        }
    }
    let mut out = BTreeSet::new();
    walk(root, root, &mut out);
    out
}

fn set(items: &[&str]) -> BTreeSet<String> {
    items.iter().map(|s| (*s).to_owned()).collect()
}

/// Checks the outcome of `run` over [`input_lines`] into `root/out`.
#[track_caller]
fn assert_outcome(root: &Path, output: &Output, extra_files: &[&str]) {
    let stdout = text(&output.stdout);
    let stderr = text(&output.stderr);
    assert_eq!(output.status.code(), Some(1), "a run with failures exits 1\nstdout:\n{stdout}\nstderr:\n{stderr}");

    let out = root.join("out");
    let mut expected = set(&["out/", "out/one", "out/two", "out/doc.json", "out/.hidden", r#"out/{"id":7}"#]);
    expected.extend(extra_files.iter().map(|s| (*s).to_owned()));
    assert_eq!(tree(root), expected, "exactly one file per valid record, nothing outside the directory");
    assert_eq!(std::fs::read(out.join("one")).unwrap(), b"updated");
    assert_eq!(std::fs::read(out.join("two")).unwrap(), b"2\n");
    assert_eq!(std::fs::read(out.join(".hidden")).unwrap(), b"h");
    // A structured key names the file by its JSON, as Go's `record.Key.Bytes()`.
    assert_eq!(std::fs::read(out.join(r#"{"id":7}"#)).unwrap(), b"s");
    let doc = Data::Structured(doc());
    assert_eq!(std::fs::read(out.join("doc.json")).unwrap(), doc.bytes().into_owned());
    assert_eq!(std::fs::read_to_string(out.join("doc.json")).unwrap(), r#"{"a":1,"b":"x"}"#);

    let summary = stdout.lines().next().unwrap_or_default();
    assert!(summary.starts_with("written: 8  failed: 6  elapsed: "), "summary: {stdout}");
    assert!(summary.contains("records/s: "), "summary: {stdout}");
    let failure = |position: &str, needle: &str| {
        let prefix = format!("  failed: position \"{position}\": ");
        let line = stdout.lines().find(|l| l.starts_with(&prefix)).unwrap_or_else(|| {
            panic!("no failure line for position {position:?} in\n{stdout}");
        });
        assert!(line.contains(needle), "failure of {position:?} should mention {needle:?}: {line}");
    };
    failure("p7", r#"invalid key "a/b""#);
    failure("p8", r#"invalid key "..""#);
    failure("p9", r#"invalid key """#);
    failure("p14", r#"invalid key "{\"path\":\"a/b\"}": it contains '/'"#);
    failure("p11", "300 bytes");
    failure("p11", "kkkkkkkk");
    assert!(
        stdout.lines().any(|l| l.starts_with("  failed: ") && l.contains("line 12")),
        "the malformed line is reported with its line number:\n{stdout}"
    );
}

#[test]
fn run_over_a_file_writes_one_file_per_valid_record_and_reports_the_bad_ones() {
    let tmp = tempfile::tempdir().unwrap();
    let input = tmp.path().join("in.jsonl");
    std::fs::write(&input, input_lines()).unwrap();
    let dir = tmp.path().join("out");
    let output = run(&[
        "run",
        "--config",
        &format!("directory={}", dir.display()),
        "--input",
        input.to_str().unwrap(),
        "--quiet",
    ]);
    assert_outcome(tmp.path(), &output, &["in.jsonl"]);
}

#[test]
fn run_over_stdin_gives_the_same_outcome() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("out");
    let mut child = command()
        .args(["run", "--config", &format!("directory={}", dir.display()), "--input", "-"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    child.stdin.take().unwrap().write_all(&input_lines()).unwrap();
    let output = child.wait_with_output().unwrap();
    assert_outcome(tmp.path(), &output, &[]);
}

#[test]
fn run_with_generate_writes_that_many_files_and_exits_0() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("gen");
    let output = run(&["run", "--config", &format!("directory={}", dir.display()), "--generate", "100"]);
    let stdout = text(&output.stdout);
    assert_eq!(output.status.code(), Some(0), "stdout:\n{stdout}\nstderr:\n{}", text(&output.stderr));
    let files = tree(&dir);
    assert_eq!(files.len(), 100, "{files:?}");
    assert!(files.iter().all(|f| f.starts_with("record-")), "{files:?}");
    let summary = stdout.lines().next().unwrap_or_default();
    assert!(summary.starts_with("written: 100  failed: 0  elapsed: "), "{stdout}");
    assert!(summary.contains("records/s: "), "{stdout}");
    assert_eq!(stdout.lines().count(), 1, "no failure lines: {stdout}");
}

#[test]
fn run_with_batching_and_sync_options_writes_every_record() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("gen");
    let output = run(&[
        "run",
        "--config",
        &format!("directory={}", dir.display()),
        "--config",
        "sdk.batch.size=7",
        "--config",
        "sdk.batch.delay=10ms",
        "--config",
        "sync=batch",
        "--generate",
        "20",
        "--payload-size",
        "10",
    ]);
    assert_eq!(output.status.code(), Some(0), "{}{}", text(&output.stdout), text(&output.stderr));
    assert_eq!(tree(&dir).len(), 20);
    assert_eq!(std::fs::read(dir.join("record-000000001")).unwrap(), b"record 1: ");
}

#[test]
fn run_with_an_invalid_config_exits_2_without_writing() {
    let tmp = tempfile::tempdir().unwrap();
    let output = run(&["run", "--config", "directory=", "--config", "atomic=maybe", "--generate", "1"]);
    assert_eq!(output.status.code(), Some(2), "{}", text(&output.stderr));
    assert!(text(&output.stderr).contains("\"atomic\""), "{}", text(&output.stderr));
    assert!(tree(tmp.path()).is_empty());
}

#[test]
fn check_prints_every_problem_and_exits_2() {
    let output = run(&["check", "--config", "direcotry=/tmp/x", "--config", "sdk.batch.size=-5"]);
    let stderr = text(&output.stderr);
    assert_eq!(output.status.code(), Some(2), "{stderr}");
    assert!(stderr.contains("config invalid (3 problems)"), "{stderr}");
    let problems: Vec<&str> = stderr.lines().filter(|l| l.starts_with("  ")).map(str::trim).collect();
    assert_eq!(problems.len(), 3, "{stderr}");
    assert!(problems[0].contains("\"direcotry\"") && problems[0].contains("did you mean \"directory\""), "{stderr}");
    assert!(problems[1].contains("\"directory\"") && problems[1].contains("required"), "{stderr}");
    assert!(problems[2].contains("\"sdk.batch.size\"") && problems[2].contains("greater than -1"), "{stderr}");
}

#[test]
fn check_accepts_a_valid_config_and_creates_nothing() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("not-yet");
    let output = run(&["check", "--config", &format!("directory={}", dir.display()), "--config", "sync=file"]);
    assert_eq!(output.status.code(), Some(0), "{}", text(&output.stderr));
    assert!(text(&output.stdout).contains("config is valid"));
    assert!(!dir.exists(), "check does not open the destination");
}

fn committed_spec() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("connector.yaml")
}

#[test]
fn spec_prints_the_committed_connector_yaml() {
    let output = run(&["spec"]);
    assert_eq!(output.status.code(), Some(0));
    let committed = std::fs::read_to_string(committed_spec()).unwrap();
    assert_eq!(text(&output.stdout), committed);
}

#[test]
fn version_prints_the_package_version() {
    let output = run(&["version"]);
    assert_eq!(output.status.code(), Some(0));
    assert_eq!(text(&output.stdout), "v0.1.0\n");
}

#[test]
fn an_unknown_subcommand_is_a_usage_error() {
    let output = run(&["frobnicate"]);
    assert_eq!(output.status.code(), Some(2));
    assert!(text(&output.stderr).contains("frobnicate"));
}
