//! The directory destination passes the SDK's acceptance tests, reading back
//! by listing the directory (key = file name, payload.after = contents).

use std::path::{Path, PathBuf};

use conduit_connector::opencdc::{Change, Data, Operation, Record};
use conduit_connector::testing::{DestinationAcceptance, Rng, generate_record};
use directory_destination::fs::validate_key;
use directory_destination::{DirectoryDestination, specification};

/// Every file in `dir` as a record: raw key = file name, raw payload.after =
/// contents.
fn read_dir(dir: &Path) -> Result<Vec<Record>, String> {
    use std::os::unix::ffi::OsStrExt;
    let entries = std::fs::read_dir(dir).map_err(|e| format!("listing {}: {e}", dir.display()))?;
    let mut records = Vec::new();
    for entry in entries {
        let entry = entry.map_err(|e| e.to_string())?;
        let contents = std::fs::read(entry.path()).map_err(|e| format!("reading {}: {e}", entry.path().display()))?;
        records.push(Record {
            operation: Operation::Create,
            key: Some(Data::Raw(entry.file_name().as_bytes().to_vec())),
            payload: Change { before: None, after: Some(Data::Raw(contents)) },
            ..Record::default()
        });
    }
    Ok(records)
}

async fn run_acceptance(dir: PathBuf, extra: &[(&str, &str)], seed: u64) {
    let mut config = vec![("directory".to_owned(), dir.to_str().unwrap().to_owned())];
    config.extend(extra.iter().map(|(k, v)| ((*k).to_owned(), (*v).to_owned())));
    let report = DestinationAcceptance::<DirectoryDestination>::new(specification())
        .config(config)
        .seed(seed)
        .generate(|rng, i, op| {
            let record = generate_record(rng, i, op);
            match &record.key {
                Some(Data::Raw(key)) => assert!(validate_key(key).is_ok(), "generated key {key:?} is not a file name"),
                other => panic!("the generator must make raw keys, got {other:?}"),
            }
            record
        })
        .read_back(move |_written| read_dir(&dir))
        .run()
        .await;
    report.assert_passed();
    assert!(report.failures_of("TestDestination_Configure_RequiredParams/directory").is_some());
}

#[tokio::test]
async fn directory_destination_passes_the_acceptance_tests() {
    let tmp = tempfile::tempdir().unwrap();
    run_acceptance(tmp.path().join("out"), &[], 1).await;
}

#[tokio::test]
async fn directory_destination_passes_in_place_with_sync_and_batching() {
    for (i, sync) in ["file", "batch"].into_iter().enumerate() {
        let tmp = tempfile::tempdir().unwrap();
        let extra = [("atomic", "false"), ("sync", sync), ("sdk.batch.size", "7")];
        run_acceptance(tmp.path().join("out"), &extra, 42 + i as u64).await;
    }
}

#[test]
fn the_default_generator_makes_raw_keys_that_are_valid_file_names() {
    let mut rng = Rng::new(7);
    for i in 0..200 {
        let record = generate_record(&mut rng, i, Operation::Snapshot);
        let Some(Data::Raw(key)) = &record.key else { panic!("record {i}: key is not raw: {:?}", record.key) };
        validate_key(key).unwrap_or_else(|e| panic!("record {i}: {e}"));
    }
}
