//! Batches written by several threads: every record written once, in batch order per key, and
//! nothing of a failed record or of the records behind it, in every sync mode.

use std::collections::BTreeSet;
use std::path::Path;

use conduit_connector::destination::{Batch, Destination, WriteResult};
use conduit_connector::middleware::RecordFormat;
use conduit_connector::opencdc::{Change, Data, Operation, Record};
use directory_destination::{DirectoryConfig, DirectoryDestination, SyncMode};

fn record(key: &str, value: &str) -> Record {
    Record {
        key: Some(Data::Raw(key.as_bytes().to_vec())),
        payload: Change { before: None, after: Some(Data::Raw(value.as_bytes().to_vec())) },
        ..Record::default()
    }
}

std::thread_local! {
    /// Whether `block_on` uses a multi-threaded runtime (the destination then writes in
    /// `block_in_place`) instead of a current-thread one (`spawn_blocking` over a copy).
    static MULTI_THREAD: std::cell::Cell<bool> = const { std::cell::Cell::new(false) };
}

fn block_on<T>(f: impl std::future::Future<Output = T>) -> T {
    let runtime = if MULTI_THREAD.get() {
        tokio::runtime::Builder::new_multi_thread().worker_threads(2).build()
    } else {
        tokio::runtime::Builder::new_current_thread().build()
    };
    runtime.unwrap().block_on(f)
}

/// An open destination on `dir` with `threads` write threads.
fn destination(dir: &Path, atomic: bool, sync: SyncMode, threads: usize) -> DirectoryDestination {
    let config = DirectoryConfig { directory: dir.to_path_buf(), atomic, sync };
    let mut d = block_on(DirectoryDestination::configure(config)).unwrap();
    d.set_write_threads(threads);
    block_on(d.open()).unwrap();
    d
}

fn write(d: &mut DirectoryDestination, records: &[Record]) -> WriteResult {
    block_on(d.write(Batch::new(records, &RecordFormat::default())))
}

/// The names in `dir`, sorted.
fn names(dir: &Path) -> BTreeSet<String> {
    std::fs::read_dir(dir).unwrap().map(|e| e.unwrap().file_name().into_string().unwrap()).collect()
}

const SYNCS: [SyncMode; 3] = [SyncMode::None, SyncMode::File, SyncMode::Batch];

#[test]
fn two_write_threads_write_every_record_of_a_batch_in_every_sync_mode() {
    for sync in SYNCS {
        for count in [2, 300] {
            let tmp = tempfile::tempdir().unwrap();
            let mut d = destination(tmp.path(), true, sync, 2);
            assert_eq!(d.write_threads(), 2);
            let records: Vec<Record> = (0..count).map(|i| record(&format!("k{i}"), &format!("v{i}"))).collect();
            assert!(write(&mut d, &records).is_all(), "{sync:?}");
            for i in 0..count {
                assert_eq!(std::fs::read_to_string(tmp.path().join(format!("k{i}"))).unwrap(), format!("v{i}"));
            }
            assert_eq!(names(tmp.path()).len(), count, "no temporary file is left ({sync:?})");
        }
    }
}

#[test]
fn two_write_threads_keep_the_order_of_records_with_the_same_key() {
    for (sync, multi_thread) in SYNCS.into_iter().flat_map(|sync| [(sync, false), (sync, true)]) {
        MULTI_THREAD.set(multi_thread);
        let tmp = tempfile::tempdir().unwrap();
        let mut d = destination(tmp.path(), true, sync, 2);
        let records: Vec<Record> = (0..400)
            .map(|i| if i % 2 == 0 { record("same", &format!("v{i}")) } else { record(&format!("k{i}"), "x") })
            .collect();
        assert!(write(&mut d, &records).is_all());
        assert_eq!(std::fs::read_to_string(tmp.path().join("same")).unwrap(), "v398", "{sync:?}");
        // A delete between writes of one key is applied in order too.
        let mut records: Vec<Record> = (0..300).map(|i| record(&format!("k{i}"), "y")).collect();
        records[10] = record("same", "before delete");
        records[200] = Record { operation: Operation::Delete, ..record("same", "") };
        records[250] = record("same", "after delete");
        assert!(write(&mut d, &records).is_all());
        assert_eq!(std::fs::read_to_string(tmp.path().join("same")).unwrap(), "after delete", "{sync:?}");
    }
}

/// The acknowledgement matches the files: the written prefix is on disk, and nothing of the
/// failed record or of any record behind it is (other threads wrote some of them ahead).
fn assert_prefix_only(dir: &Path, written: usize, also: &[&str]) {
    let mut expected: BTreeSet<String> = (0..written).map(|i| format!("k{i:03}")).collect();
    expected.extend(also.iter().map(|s| (*s).to_owned()));
    assert_eq!(names(dir), expected, "files present differ from the written prefix");
}

#[test]
fn write_threads_write_nothing_behind_the_first_failing_record() {
    for (sync, multi_thread) in SYNCS.into_iter().flat_map(|sync| [(sync, false), (sync, true)]) {
        MULTI_THREAD.set(multi_thread);
        for (first, second) in [(150, 200), (150, 151), (0, 299), (298, 299), (1, 2)] {
            let tmp = tempfile::tempdir().unwrap();
            let mut d = destination(tmp.path(), true, sync, 2);
            let mut records: Vec<Record> = (0..300).map(|i| record(&format!("k{i:03}"), "v")).collect();
            records[first] = record("bad/1", "v");
            records[second] = Record { key: None, ..record("", "v") };
            match write(&mut d, &records) {
                WriteResult::Stopped { written, error } => {
                    assert_eq!(written, first, "failures at {first} and {second} ({sync:?})");
                    assert!(error.to_string().contains("bad/1"), "{error}");
                }
                WriteResult::All => panic!("a record with an invalid key was acknowledged"),
            }
            assert_prefix_only(tmp.path(), first, &[]);
            // The SDK hands the rest again: each of them is written now, once.
            records[first] = record(&format!("k{first:03}"), "v");
            records[second] = record(&format!("k{second:03}"), "v");
            assert!(write(&mut d, &records[first..]).is_all());
            assert_prefix_only(tmp.path(), 300, &[]);
        }
    }
}

#[test]
fn write_threads_stop_at_a_rename_that_fails_and_publish_nothing_behind_it() {
    for sync in SYNCS {
        let tmp = tempfile::tempdir().unwrap();
        let mut d = destination(tmp.path(), true, sync, 2);
        // A directory has the name of record 100: writing its file succeeds, the rename fails.
        std::fs::create_dir(tmp.path().join("k100")).unwrap();
        std::fs::write(tmp.path().join("k100").join("inner"), "x").unwrap();
        let records: Vec<Record> = (0..300).map(|i| record(&format!("k{i:03}"), "v")).collect();
        match write(&mut d, &records) {
            WriteResult::Stopped { written, error } => {
                assert_eq!(written, 100, "{sync:?}");
                assert!(error.to_string().contains("\"k100\""), "{error}");
            }
            WriteResult::All => panic!("a record whose name is a directory was acknowledged"),
        }
        assert_prefix_only(tmp.path(), 100, &["k100"]);
        assert!(tmp.path().join("k100").join("inner").is_file());
    }
}

#[test]
fn in_place_writes_use_one_thread_and_write_nothing_behind_a_failure() {
    for (sync, threads) in [(SyncMode::None, 2), (SyncMode::File, 2), (SyncMode::Batch, 1)] {
        let tmp = tempfile::tempdir().unwrap();
        let mut d = destination(tmp.path(), false, sync, threads);
        let mut records: Vec<Record> = (0..300).map(|i| record(&format!("k{i:03}"), "v")).collect();
        records[150] = record("bad/1", "v");
        assert!(matches!(write(&mut d, &records), WriteResult::Stopped { written: 150, .. }));
        assert_prefix_only(tmp.path(), 150, &[]);
    }
}

#[test]
fn opening_again_releases_the_directory_first() {
    let tmp = tempfile::tempdir().unwrap();
    let mut d = destination(tmp.path(), true, SyncMode::None, 2);
    block_on(d.open()).unwrap();
    assert!(write(&mut d, &[record("k", "v")]).is_all());
    assert_eq!(std::fs::read_to_string(tmp.path().join("k")).unwrap(), "v");
}

#[test]
fn write_before_open_is_an_error_not_a_panic() {
    let tmp = tempfile::tempdir().unwrap();
    let config = DirectoryConfig { directory: tmp.path().to_path_buf(), atomic: true, sync: SyncMode::None };
    let mut d = block_on(DirectoryDestination::configure(config)).unwrap();
    match write(&mut d, &[record("k", "v")]) {
        WriteResult::Stopped { written: 0, error } => assert!(error.to_string().contains("not open"), "{error}"),
        other => panic!("{other:?}"),
    }
}

#[test]
fn two_write_threads_are_the_default_on_a_machine_with_two_cpus() {
    let tmp = tempfile::tempdir().unwrap();
    let config = DirectoryConfig { directory: tmp.path().to_path_buf(), atomic: true, sync: SyncMode::None };
    let d = block_on(DirectoryDestination::configure(config)).unwrap();
    let cpus = std::thread::available_parallelism().map_or(1, |n| n.get());
    assert_eq!(d.write_threads(), cpus.min(2));
}

#[test]
fn one_thread_writes_sequentially() {
    let tmp = tempfile::tempdir().unwrap();
    let mut d = destination(tmp.path(), true, SyncMode::File, 1);
    assert_eq!(d.write_threads(), 1);
    let mut records: Vec<Record> = (0..300).map(|i| record(&format!("k{i:03}"), "v")).collect();
    records[10] = record("bad/1", "v");
    assert!(matches!(write(&mut d, &records), WriteResult::Stopped { written: 10, .. }));
    assert_prefix_only(tmp.path(), 10, &[]);
}

#[test]
fn structured_keys_and_payloads_are_written_as_their_json_on_either_runtime() {
    for multi_thread in [false, true] {
        MULTI_THREAD.set(multi_thread);
        let tmp = tempfile::tempdir().unwrap();
        let mut d = destination(tmp.path(), true, SyncMode::None, 2);
        let structured = |pairs: &[(&str, serde_json::Value)]| {
            Data::Structured(pairs.iter().map(|(k, v)| ((*k).to_owned(), v.clone())).collect())
        };
        let records = vec![
            record("raw", "1"),
            Record {
                key: Some(structured(&[("id", 7.into())])),
                payload: Change { before: None, after: Some(structured(&[("b", "x".into()), ("a", 1.into())])) },
                ..Record::default()
            },
            Record { key: Some(structured(&[("id", 8.into())])), ..record("", "") },
            Record { operation: Operation::Delete, ..record("raw", "") },
        ];
        assert!(write(&mut d, &records).is_all());
        assert_eq!(std::fs::read_to_string(tmp.path().join(r#"{"id":7}"#)).unwrap(), r#"{"a":1,"b":"x"}"#);
        assert_eq!(std::fs::read_to_string(tmp.path().join(r#"{"id":8}"#)).unwrap(), "");
        assert_eq!(names(tmp.path()), [r#"{"id":7}"#.to_owned(), r#"{"id":8}"#.to_owned()].into());
    }
}
