//! The destination runner with small in-test destinations: batching by size
//! and by delay, per-record acks in record order, partial writes, configure
//! errors. Schema extraction has its own file, `schema_extraction.rs`.

use std::collections::{BTreeMap, VecDeque};
use std::time::Duration;

use conduit_connector::Config;
use conduit_connector::destination::{
    Ack, Batch, BoxError, ConfigureError, Destination, DestinationRunner, WriteResult,
};
use conduit_connector::opencdc::{Change, Data, Metadata, Operation, Position, Record};
use proptest::prelude::*;
use tokio::time::Instant;

/// The test destination's own parameters.
#[derive(Debug, Config)]
struct RecorderConfig {
    /// A name for the destination.
    #[param(required)]
    name: String,
}

/// One call of `write`: the positions it got, and when.
#[derive(Debug, Clone)]
struct Call {
    positions: Vec<String>,
    at: Instant,
}

/// Records every write call; fails records whose position is in `fail`, or
/// returns the next scripted result.
#[derive(Debug, Default)]
struct Recorder {
    calls: Vec<Call>,
    fail: BTreeMap<String, String>,
    script: VecDeque<ScriptedResult>,
}

#[derive(Debug)]
enum ScriptedResult {
    Stopped(usize, &'static str),
}

impl Destination for Recorder {
    type Config = RecorderConfig;

    async fn configure(_config: RecorderConfig) -> Result<Self, BoxError> {
        Ok(Recorder::default())
    }

    async fn write(&mut self, batch: Batch<'_>) -> WriteResult {
        let positions: Vec<String> = batch.iter().map(pos).collect();
        self.calls.push(Call { positions: positions.clone(), at: Instant::now() });
        if let Some(result) = self.script.pop_front() {
            return match result {
                ScriptedResult::Stopped(written, error) => WriteResult::stopped(written, error),
            };
        }
        for (i, p) in positions.iter().enumerate() {
            if let Some(error) = self.fail.get(p) {
                return WriteResult::stopped(i, error.clone());
            }
        }
        WriteResult::All
    }
}

fn pos(record: &Record) -> String {
    String::from_utf8_lossy(&record.position.0).into_owned()
}

fn record(i: usize) -> Record {
    Record {
        position: Position::from(format!("p{i}")),
        operation: Operation::Create,
        metadata: Metadata::default(),
        key: Some(Data::Raw(format!("k{i}").into_bytes())),
        payload: Change { before: None, after: Some(Data::Raw(format!("v{i}").into_bytes())) },
    }
}

fn records(range: std::ops::Range<usize>) -> Vec<Record> {
    range.map(record).collect()
}

/// The config with the required `name` plus `extra`.
fn config(extra: &[(&str, &str)]) -> Vec<(String, String)> {
    let mut c = vec![("name".to_owned(), "test".to_owned())];
    c.extend(extra.iter().map(|(k, v)| ((*k).to_owned(), (*v).to_owned())));
    c
}

async fn open(extra: &[(&str, &str)]) -> DestinationRunner<Recorder> {
    let mut runner = DestinationRunner::<Recorder>::configure(config(extra))
        .await
        .unwrap_or_else(|e| panic!("configure with {extra:?}: {e}"));
    runner.open().await.expect("open");
    runner
}

fn ok(i: usize) -> Ack {
    Ack { position: Position::from(format!("p{i}")), error: None }
}

fn nack(i: usize, error: &str) -> Ack {
    Ack { position: Position::from(format!("p{i}")), error: Some(error.to_owned()) }
}

fn call_sizes(runner: &DestinationRunner<Recorder>) -> Vec<usize> {
    runner.destination().calls.iter().map(|c| c.positions.len()).collect()
}

// ---------------------------------------------------------------- batching

#[tokio::test]
async fn no_batching_writes_each_call_at_once() {
    let mut runner = open(&[]).await;
    for i in 0..3 {
        assert_eq!(runner.write(vec![record(i)]).await, vec![ok(i)]);
        assert_eq!(runner.pending(), 0);
        assert_eq!(runner.deadline(), None);
    }
    assert_eq!(runner.write(records(3..6)).await, vec![ok(3), ok(4), ok(5)]);
    assert_eq!(call_sizes(&runner), vec![1, 1, 1, 3]);
}

#[tokio::test]
async fn batch_size_one_is_no_batching() {
    let mut runner = open(&[("sdk.batch.size", "1")]).await;
    assert_eq!(runner.write(vec![record(0)]).await, vec![ok(0)]);
    assert_eq!(runner.write(vec![record(1)]).await, vec![ok(1)]);
    assert_eq!(call_sizes(&runner), vec![1, 1]);
}

#[tokio::test]
async fn batching_by_size_collects_five_one_record_writes_into_one_write_with_five_acks() {
    let mut runner = open(&[("sdk.batch.size", "5")]).await;
    for i in 0..4 {
        assert!(runner.write(vec![record(i)]).await.is_empty(), "record {i} must wait for its batch");
        assert_eq!(runner.pending(), i + 1);
    }
    assert_eq!(runner.deadline(), None, "no delay configured");
    assert!(runner.destination().calls.is_empty());
    let acks = runner.write(vec![record(4)]).await;
    assert_eq!(acks, (0..5).map(ok).collect::<Vec<_>>());
    assert_eq!(runner.destination().calls.len(), 1);
    assert_eq!(runner.destination().calls[0].positions, vec!["p0", "p1", "p2", "p3", "p4"]);
    assert_eq!(runner.pending(), 0);
}

#[tokio::test]
async fn batching_by_size_flush_writes_an_incomplete_batch() {
    let mut runner = open(&[("sdk.batch.size", "5")]).await;
    assert!(runner.write(records(0..2)).await.is_empty());
    assert_eq!(runner.flush().await, vec![ok(0), ok(1)]);
    assert_eq!(call_sizes(&runner), vec![2]);
    assert!(runner.flush().await.is_empty(), "nothing pending: nothing written");
    assert_eq!(call_sizes(&runner), vec![2]);
}

#[tokio::test(start_paused = true)]
async fn batching_by_delay_holds_records_until_the_deadline_then_flush_acks_them() {
    let mut runner = open(&[("sdk.batch.delay", "100ms"), ("sdk.batch.size", "0")]).await;
    let start = Instant::now();
    assert!(runner.write(vec![record(0)]).await.is_empty());
    let deadline = runner.deadline().expect("a delay sets a deadline");
    assert_eq!(deadline, start + Duration::from_millis(100));

    tokio::time::sleep(Duration::from_millis(40)).await;
    assert!(runner.write(vec![record(1)]).await.is_empty());
    assert_eq!(runner.deadline(), Some(deadline), "the first record of a batch sets the deadline");
    assert_eq!(runner.pending(), 2);
    assert!(runner.destination().calls.is_empty(), "unlike Go, delay-only batching really waits");

    tokio::time::sleep_until(deadline).await;
    assert_eq!(runner.flush().await, vec![ok(0), ok(1)]);
    assert_eq!(runner.deadline(), None);
    let calls = &runner.destination().calls;
    assert_eq!(calls.len(), 1);
    assert_eq!(calls[0].positions, vec!["p0", "p1"]);
    assert_eq!(calls[0].at, start + Duration::from_millis(100));

    // The next record starts a new batch with a new deadline.
    assert!(runner.write(vec![record(2)]).await.is_empty());
    assert_eq!(runner.deadline(), Some(Instant::now() + Duration::from_millis(100)));
}

#[tokio::test(start_paused = true)]
async fn batching_by_size_and_delay_flushes_on_whichever_comes_first() {
    let mut runner = open(&[("sdk.batch.delay", "100ms"), ("sdk.batch.size", "3")]).await;
    // Size first.
    assert!(runner.write(records(0..2)).await.is_empty());
    assert!(runner.deadline().is_some());
    assert_eq!(runner.write(vec![record(2)]).await, vec![ok(0), ok(1), ok(2)]);
    assert_eq!(runner.deadline(), None, "a size flush clears the deadline");
    // Delay first.
    let start = Instant::now();
    assert!(runner.write(vec![record(3)]).await.is_empty());
    assert_eq!(runner.deadline(), Some(start + Duration::from_millis(100)));
    tokio::time::sleep_until(runner.deadline().unwrap()).await;
    assert_eq!(runner.flush().await, vec![ok(3)]);
    assert_eq!(call_sizes(&runner), vec![3, 1]);
}

#[tokio::test]
async fn a_write_bigger_than_the_batch_size_is_written_at_once_in_chunks_of_the_batch_size() {
    let mut runner = open(&[("sdk.batch.size", "5")]).await;
    let acks = runner.write(records(0..12)).await;
    assert_eq!(acks, (0..12).map(ok).collect::<Vec<_>>(), "nothing is held back once the threshold is reached");
    assert_eq!(call_sizes(&runner), vec![5, 5, 2]);
    assert_eq!(runner.pending(), 0);
}

// ------------------------------------------------------------ partial writes

#[tokio::test]
async fn partial_write_acks_the_written_nacks_the_failed_and_resubmits_the_rest() {
    let mut runner = open(&[("sdk.batch.size", "5")]).await;
    runner.destination_mut().script.push_back(ScriptedResult::Stopped(3, "write error"));
    let mut acks = Vec::new();
    for i in 0..5 {
        acks.extend(runner.write(vec![record(i)]).await);
    }
    assert_eq!(acks, vec![ok(0), ok(1), ok(2), nack(3, "write error"), ok(4)]);
    let calls: Vec<_> = runner.destination().calls.iter().map(|c| c.positions.clone()).collect();
    assert_eq!(calls, vec![vec!["p0", "p1", "p2", "p3", "p4"], vec!["p4"]]);
}

#[tokio::test]
async fn failure_at_the_first_record_nacks_only_that_record() {
    let mut runner = open(&[]).await;
    runner.destination_mut().fail.insert("p0".into(), "bad record".into());
    let acks = runner.write(records(0..3)).await;
    assert_eq!(acks, vec![nack(0, "bad record"), ok(1), ok(2)]);
    assert_eq!(call_sizes(&runner), vec![3, 2]);
}

#[tokio::test]
async fn every_record_failing_gives_one_nack_each() {
    let mut runner = open(&[]).await;
    for i in 0..4 {
        runner.destination_mut().fail.insert(format!("p{i}"), format!("no {i}"));
    }
    let acks = runner.write(records(0..4)).await;
    assert_eq!(acks, (0..4).map(|i| nack(i, &format!("no {i}"))).collect::<Vec<_>>());
    assert_eq!(call_sizes(&runner), vec![4, 3, 2, 1]);
}

#[tokio::test]
async fn stopped_with_written_equal_to_len_nacks_all_as_a_connector_bug() {
    let mut runner = open(&[("sdk.batch.size", "5")]).await;
    runner.destination_mut().script.push_back(ScriptedResult::Stopped(5, "boom"));
    let acks = runner.write(records(0..5)).await;
    assert_eq!(acks.len(), 5);
    for (i, ack) in acks.iter().enumerate() {
        assert_eq!(ack.position, Position::from(format!("p{i}")));
        let error = ack.error.as_deref().expect("every record is nacked");
        assert!(error.contains("connector reported a successful write of all 5 records"), "{error}");
        assert!(error.contains("this is probably a bug in the connector"), "{error}");
        assert!(error.ends_with("Original error: boom"), "{error}");
    }
    assert_eq!(call_sizes(&runner), vec![5], "nothing is resubmitted");
}

#[tokio::test]
async fn stopped_with_written_beyond_len_nacks_all_as_a_connector_bug() {
    let mut runner = open(&[]).await;
    runner.destination_mut().script.push_back(ScriptedResult::Stopped(7, "boom"));
    let acks = runner.write(records(0..2)).await;
    assert_eq!(acks.len(), 2);
    assert!(acks.iter().all(|a| a.error.as_deref().is_some_and(|e| e.contains("probably a bug in the connector"))));
}

#[tokio::test]
async fn a_nack_does_not_stop_later_writes() {
    let mut runner = open(&[]).await;
    runner.destination_mut().fail.insert("p0".into(), "bad".into());
    assert_eq!(runner.write(vec![record(0)]).await, vec![nack(0, "bad")]);
    assert_eq!(runner.write(vec![record(1)]).await, vec![ok(1)]);
    assert_eq!(runner.last_position(), Some(&Position::from("p1")));
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 64, ..ProptestConfig::default() })]

    /// Whatever fails, every record gets exactly one ack, in input order, and
    /// only the failing records are nacked.
    #[test]
    fn acks_are_one_per_record_in_record_order(
        failing in proptest::collection::vec(any::<bool>(), 1..40),
        chunks in proptest::collection::vec(1usize..7, 1..40),
        batch_size in 0usize..8,
    ) {
        let rt = tokio::runtime::Builder::new_current_thread().enable_time().build().unwrap();
        rt.block_on(async {
            let size = batch_size.to_string();
            let mut runner = open(&[("sdk.batch.size", size.as_str())]).await;
            for (i, fails) in failing.iter().enumerate() {
                if *fails {
                    runner.destination_mut().fail.insert(format!("p{i}"), format!("error {i}"));
                }
            }
            let mut acks = Vec::new();
            let mut next = 0;
            let mut sizes = chunks.iter().cycle();
            while next < failing.len() {
                let end = (next + sizes.next().unwrap()).min(failing.len());
                acks.extend(runner.write(records(next..end)).await);
                next = end;
            }
            acks.extend(runner.flush().await);
            let expected: Vec<Ack> = failing
                .iter()
                .enumerate()
                .map(|(i, fails)| if *fails { nack(i, &format!("error {i}")) } else { ok(i) })
                .collect();
            prop_assert_eq!(acks, expected);
            if batch_size > 0 {
                for call in &runner.destination().calls {
                    prop_assert!(call.positions.len() <= batch_size.max(1));
                }
            }
            Ok(())
        })?;
    }
}

// ---------------------------------------------------------------- configure

fn invalid(result: Result<DestinationRunner<Recorder>, ConfigureError>) -> Vec<(String, String)> {
    match result {
        Ok(_) => panic!("expected the config to be rejected"),
        Err(ConfigureError::Invalid(errors)) => errors.iter().map(|e| (e.key().to_owned(), e.to_string())).collect(),
        Err(other) => panic!("expected config errors, got {other}"),
    }
}

#[tokio::test]
async fn configure_reports_missing_required_unknown_key_and_bad_batch_size_together_sorted() {
    let errors = invalid(DestinationRunner::<Recorder>::configure([("nmae", "x"), ("sdk.batch.size", "-3")]).await);
    let keys: Vec<&str> = errors.iter().map(|(k, _)| k.as_str()).collect();
    assert_eq!(keys, vec!["name", "nmae", "sdk.batch.size"], "{errors:#?}");
    let texts: Vec<&str> = errors.iter().map(|(_, t)| t.as_str()).collect();
    assert!(texts[0].contains("\"name\"") && texts[0].contains("required"), "{}", texts[0]);
    assert!(texts[1].contains("unrecognized parameter") && texts[1].contains("did you mean \"name\""), "{}", texts[1]);
    assert!(texts[2].contains("\"sdk.batch.size\"") && texts[2].contains("greater than -1"), "{}", texts[2]);
}

#[tokio::test]
async fn configure_rejects_a_non_integer_batch_size_and_negative_delay() {
    let errors = invalid(
        DestinationRunner::<Recorder>::configure(config(&[("sdk.batch.size", "many"), ("sdk.batch.delay", "-1s")]))
            .await,
    );
    let keys: Vec<&str> = errors.iter().map(|(k, _)| k.as_str()).collect();
    assert_eq!(keys, vec!["sdk.batch.delay", "sdk.batch.size"], "{errors:#?}");
}

#[tokio::test]
async fn configure_applies_the_sdk_defaults() {
    let runner = DestinationRunner::<Recorder>::configure(config(&[])).await.unwrap();
    let s = runner.settings();
    assert_eq!(s.batch_size, 0);
    assert_eq!(s.batch_delay, Duration::ZERO);
    assert_eq!(s.rate_per_second, 0.0);
    assert_eq!(s.rate_burst, 0);
    assert_eq!(s.record_format, "opencdc/json");
    assert!(s.schema_extract_key && s.schema_extract_payload);
}

#[tokio::test]
async fn parameters_are_the_connectors_plus_the_sdk_middleware() {
    let params = DestinationRunner::<Recorder>::parameters();
    let names: Vec<&str> = params.iter().map(|(n, _)| n).collect();
    assert_eq!(
        names,
        vec![
            "name",
            "sdk.batch.delay",
            "sdk.batch.size",
            "sdk.rate.burst",
            "sdk.rate.perSecond",
            "sdk.record.format",
            "sdk.record.format.options",
            "sdk.schema.extract.key.enabled",
            "sdk.schema.extract.payload.enabled",
        ]
    );
}

/// A destination whose own `configure` rejects the config.
#[derive(Debug)]
struct Picky;

impl Destination for Picky {
    type Config = RecorderConfig;

    async fn configure(config: RecorderConfig) -> Result<Self, BoxError> {
        Err(format!("name {:?} is not allowed", config.name).into())
    }

    async fn write(&mut self, _batch: Batch<'_>) -> WriteResult {
        WriteResult::All
    }
}

#[tokio::test]
async fn the_destinations_own_configure_error_is_reported_as_is() {
    match DestinationRunner::<Picky>::configure([("name", "bob")]).await {
        Err(ConfigureError::Destination(e)) => assert_eq!(e.to_string(), "name \"bob\" is not allowed"),
        other => panic!("expected the destination's error, got {other:?}"),
    }
}

// ---------------------------------------------------------------- lifecycle

#[tokio::test]
async fn teardown_without_open_succeeds_and_is_idempotent() {
    let mut runner = DestinationRunner::<Recorder>::configure(config(&[])).await.unwrap();
    runner.teardown().await.unwrap();
    runner.teardown().await.unwrap();
}
