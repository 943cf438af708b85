//! `cli::run_with` in process, with a destination that records its write batches: over live
//! input (a FIFO) a partial batch is written as soon as the reader waits for more, with the
//! batch size and delay as upper bounds only; over a file or generated records batches fill up.

use std::collections::HashMap;
use std::io::Write;
use std::path::Path;
use std::process::ExitCode;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use conduit_connector::Config;
use conduit_connector::cli::{Input, run as run_cli};
use conduit_connector::config::ConfigMap;
use conduit_connector::destination::{Batch, BoxError, Destination, WriteResult};
use conduit_connector::opencdc::{Change, Data, Operation, Position, Record};

/// Batch sizes written, by test tag (tests run in parallel in one process).
static BATCHES: Mutex<Option<HashMap<String, Vec<usize>>>> = Mutex::new(None);

fn batches(tag: &str) -> Vec<usize> {
    BATCHES.lock().unwrap().as_ref().and_then(|m| m.get(tag).cloned()).unwrap_or_default()
}

#[derive(Debug, Config)]
struct RecorderConfig {
    /// The test's tag.
    #[param(required)]
    tag: String,
}

struct Recorder(String);

impl Destination for Recorder {
    type Config = RecorderConfig;

    async fn configure(config: RecorderConfig) -> Result<Self, BoxError> {
        Ok(Recorder(config.tag))
    }

    async fn write(&mut self, batch: Batch<'_>) -> WriteResult {
        let mut all = BATCHES.lock().unwrap();
        all.get_or_insert_with(HashMap::new).entry(self.0.clone()).or_default().push(batch.len());
        WriteResult::All
    }
}

fn line(i: usize) -> Vec<u8> {
    let record = Record {
        position: Position::from(format!("p{i}")),
        operation: Operation::Create,
        key: Some(Data::Raw(format!("k{i}").into_bytes())),
        payload: Change { before: None, after: Some(Data::Raw(vec![b'v'; 100])) },
        ..Record::default()
    };
    let mut line = record.to_json();
    line.push(b'\n');
    line
}

fn config(pairs: &[(&str, &str)]) -> ConfigMap {
    let mut map = ConfigMap::new();
    for (k, v) in pairs {
        map.insert(*k, *v);
    }
    map
}

fn run(config: ConfigMap, input: Input) -> (ExitCode, String) {
    let rt = tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build().unwrap();
    let mut out = Vec::new();
    let code = rt.block_on(run_cli::<Recorder>(config, input, false, &mut out));
    (code, String::from_utf8_lossy(&out).into_owned())
}

#[test]
fn over_a_file_batches_fill_up_to_the_size() {
    let tmp = tempfile::tempdir().unwrap();
    let path = tmp.path().join("in.jsonl");
    let input: Vec<u8> = (0..1000).flat_map(line).collect();
    std::fs::write(&path, input).unwrap();
    let (code, out) = run(config(&[("tag", "file"), ("sdk.batch.size", "100")]), Input::File(path));
    assert_eq!(code, ExitCode::SUCCESS, "{out}");
    assert_eq!(batches("file"), vec![100; 10], "{out}");
}

#[test]
fn over_generated_records_batches_fill_up_to_the_size() {
    let input = Input::Generate { count: 1000, payload_size: 16 };
    let (code, out) = run(config(&[("tag", "gen"), ("sdk.batch.size", "250")]), input);
    assert_eq!(code, ExitCode::SUCCESS, "{out}");
    assert_eq!(batches("gen"), vec![250; 4], "{out}");
}

#[test]
fn without_batching_each_record_is_written_alone() {
    let tmp = tempfile::tempdir().unwrap();
    let path = tmp.path().join("in.jsonl");
    std::fs::write(&path, (0..150).flat_map(line).collect::<Vec<u8>>()).unwrap();
    let (code, out) = run(config(&[("tag", "unbatched")]), Input::File(path));
    assert_eq!(code, ExitCode::SUCCESS, "{out}");
    assert_eq!(batches("unbatched"), vec![1; 150], "{out}");
}

#[test]
fn a_bad_line_between_records_fails_alone_and_batches_still_fill() {
    let tmp = tempfile::tempdir().unwrap();
    let path = tmp.path().join("in.jsonl");
    let mut input: Vec<u8> = (0..70).flat_map(line).collect();
    input.extend_from_slice(b"{not json\n");
    input.extend((70..300).flat_map(line));
    std::fs::write(&path, input).unwrap();
    let (code, out) = run(config(&[("tag", "bad-line"), ("sdk.batch.size", "100")]), Input::File(path));
    assert_eq!(code, ExitCode::FAILURE, "{out}");
    assert!(out.starts_with("written: 300  failed: 1"), "{out}");
    assert!(out.contains("line 71"), "{out}");
    assert_eq!(batches("bad-line"), vec![100; 3], "{out}");
}

#[test]
fn with_only_a_batch_delay_a_file_is_written_when_it_ends() {
    let tmp = tempfile::tempdir().unwrap();
    let path = tmp.path().join("in.jsonl");
    std::fs::write(&path, (0..500).flat_map(line).collect::<Vec<u8>>()).unwrap();
    let (code, out) = run(config(&[("tag", "delay-only"), ("sdk.batch.delay", "1h")]), Input::File(path));
    assert_eq!(code, ExitCode::SUCCESS, "{out}");
    assert_eq!(batches("delay-only").iter().sum::<usize>(), 500, "{out}");
    assert_eq!(batches("delay-only"), vec![500], "one batch at the end of the input: {out}");
}

/// Writes `first` lines into the FIFO, then waits (bounded) until `tag` saw them written
/// before writing the rest and closing it. Returns whether the first lines were written while
/// the input was still open.
fn feed_fifo(fifo: &Path, tag: &'static str, first: usize, rest: usize) -> std::thread::JoinHandle<bool> {
    let fifo = fifo.to_path_buf();
    std::thread::spawn(move || {
        let mut w = std::fs::OpenOptions::new().write(true).open(&fifo).unwrap();
        // One write (under PIPE_BUF, so atomic): the reader sees the lines together.
        let group: Vec<u8> = (0..first).flat_map(line).collect();
        assert!(group.len() < 4096);
        w.write_all(&group).unwrap();
        w.flush().unwrap();
        let start = Instant::now();
        let mut seen = false;
        while start.elapsed() < Duration::from_secs(20) {
            if batches(tag).iter().sum::<usize>() == first {
                seen = true;
                break;
            }
            std::thread::sleep(Duration::from_millis(10));
        }
        let group: Vec<u8> = (first..first + rest).flat_map(line).collect();
        w.write_all(&group).unwrap();
        seen
    })
}

fn mkfifo(path: &Path) {
    let status = std::process::Command::new("mkfifo").arg(path).status().expect("mkfifo");
    assert!(status.success());
}

#[test]
fn over_live_input_a_partial_batch_is_written_when_the_reader_waits() {
    let tmp = tempfile::tempdir().unwrap();
    let fifo = tmp.path().join("fifo");
    mkfifo(&fifo);
    let feeder = feed_fifo(&fifo, "live", 3, 2);
    let (code, out) = run(config(&[("tag", "live"), ("sdk.batch.size", "100")]), Input::File(fifo));
    let seen = feeder.join().unwrap();
    assert_eq!(code, ExitCode::SUCCESS, "{out}");
    assert!(seen, "the 3 records were written while the input stayed open: {:?}", batches("live"));
    let written = batches("live");
    assert_eq!((written[0], written.iter().sum::<usize>()), (3, 5), "{written:?} {out}");
}

#[test]
fn over_live_input_a_batch_delay_is_an_upper_bound_not_a_wait() {
    let tmp = tempfile::tempdir().unwrap();
    let fifo = tmp.path().join("fifo");
    mkfifo(&fifo);
    let feeder = feed_fifo(&fifo, "delay", 4, 1);
    let (code, out) =
        run(config(&[("tag", "delay"), ("sdk.batch.size", "100"), ("sdk.batch.delay", "1h")]), Input::File(fifo));
    let seen = feeder.join().unwrap();
    assert_eq!(code, ExitCode::SUCCESS, "{out}");
    assert!(seen, "the 4 records were written long before the 1h delay: {:?}", batches("delay"));
    assert_eq!(batches("delay"), vec![4, 1], "{out}");
    assert!(out.starts_with("written: 5  failed: 0"), "{out}");
}
