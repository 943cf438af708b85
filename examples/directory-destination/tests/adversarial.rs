//! Adversarial cases through the whole destination stack (DestinationRunner
//! with the directory destination): entries planted at key names, reserved
//! and hidden keys, and every write mode.

use std::os::unix::fs::symlink;
use std::path::{Path, PathBuf};

use conduit_connector::destination::{Ack, DestinationRunner};
use conduit_connector::opencdc::{Change, Data, Operation, Position, Record};
use directory_destination::DirectoryDestination;
use directory_destination::fs::TEMP_PREFIX;
use tempfile::TempDir;

fn record(i: usize, key: &[u8], after: &[u8]) -> Record {
    Record {
        position: Position::from(format!("p{i}")),
        operation: Operation::Create,
        key: Some(Data::Raw(key.to_vec())),
        payload: Change { before: None, after: Some(Data::Raw(after.to_vec())) },
        ..Record::default()
    }
}

/// A scratch root holding `dest/` (the destination) and `outside/` (must
/// never change).
fn scratch() -> (TempDir, PathBuf, PathBuf) {
    let tmp = tempfile::tempdir().unwrap();
    let dest = tmp.path().join("dest");
    let outside = tmp.path().join("outside");
    std::fs::create_dir(&dest).unwrap();
    std::fs::create_dir(&outside).unwrap();
    std::fs::write(outside.join("secret"), b"keep me").unwrap();
    (tmp, dest, outside)
}

async fn runner(dest: &Path, extra: &[(&str, &str)]) -> DestinationRunner<DirectoryDestination> {
    let mut config = vec![("directory".to_owned(), dest.to_str().unwrap().to_owned())];
    config.extend(extra.iter().map(|(k, v)| ((*k).to_owned(), (*v).to_owned())));
    let mut runner = DestinationRunner::<DirectoryDestination>::configure(config).await.expect("configure");
    runner.open().await.expect("open");
    runner
}

async fn write_all(runner: &mut DestinationRunner<DirectoryDestination>, records: Vec<Record>) -> Vec<Ack> {
    let mut acks = runner.write(records).await;
    acks.extend(runner.flush().await);
    acks
}

#[track_caller]
fn assert_ok(ack: &Ack) {
    assert_eq!(ack.error, None, "record {:?} should be written", String::from_utf8_lossy(&ack.position.0));
}

#[track_caller]
fn assert_nack<'a>(ack: &'a Ack, needle: &str) -> &'a str {
    let error = ack.error.as_deref().unwrap_or_else(|| {
        panic!("record {:?} should be nacked", String::from_utf8_lossy(&ack.position.0));
    });
    assert!(error.contains(needle), "error should mention {needle:?}: {error}");
    error
}

fn names(dir: &Path) -> Vec<String> {
    let mut names: Vec<String> =
        std::fs::read_dir(dir).unwrap().map(|e| e.unwrap().file_name().to_string_lossy().into_owned()).collect();
    names.sort();
    names
}

#[tokio::test]
async fn a_symlink_planted_at_a_key_never_changes_the_file_outside() {
    for atomic in ["true", "false"] {
        let (_tmp, dest, outside) = scratch();
        symlink(outside.join("secret"), dest.join("link")).unwrap();
        let mut runner = runner(&dest, &[("atomic", atomic)]).await;
        let acks = write_all(&mut runner, vec![record(0, b"link", b"attack"), record(1, b"fine", b"ok")]).await;
        assert_eq!(acks.len(), 2);
        assert_ok(&acks[1]);
        if atomic == "true" {
            // Atomic mode renames over the link itself.
            assert_ok(&acks[0]);
            assert!(!std::fs::symlink_metadata(dest.join("link")).unwrap().file_type().is_symlink());
            assert_eq!(std::fs::read(dest.join("link")).unwrap(), b"attack");
        } else {
            // In-place mode refuses to follow it.
            assert_nack(&acks[0], "link");
        }
        assert_eq!(std::fs::read(outside.join("secret")).unwrap(), b"keep me", "atomic={atomic}");
        assert_eq!(names(&outside), vec!["secret"]);
        assert_eq!(std::fs::read(dest.join("fine")).unwrap(), b"ok");
        runner.teardown().await.unwrap();
    }
}

#[tokio::test]
async fn deleting_a_planted_symlink_removes_the_link_not_its_target() {
    let (_tmp, dest, outside) = scratch();
    symlink(outside.join("secret"), dest.join("link")).unwrap();
    let mut runner = runner(&dest, &[]).await;
    let mut delete = record(0, b"link", b"");
    delete.operation = Operation::Delete;
    delete.payload.after = None;
    let acks = write_all(&mut runner, vec![delete]).await;
    assert_ok(&acks[0]);
    assert!(std::fs::symlink_metadata(dest.join("link")).is_err());
    assert_eq!(std::fs::read(outside.join("secret")).unwrap(), b"keep me");
}

#[tokio::test]
async fn a_directory_planted_at_a_key_nacks_that_record_and_writes_the_others() {
    for atomic in ["true", "false"] {
        let (_tmp, dest, _outside) = scratch();
        std::fs::create_dir(dest.join("sub")).unwrap();
        std::fs::write(dest.join("sub").join("inner"), b"inner").unwrap();
        let mut runner = runner(&dest, &[("atomic", atomic), ("sdk.batch.size", "3")]).await;
        let acks = write_all(
            &mut runner,
            vec![record(0, b"before", b"1"), record(1, b"sub", b"2"), record(2, b"after", b"3")],
        )
        .await;
        assert_eq!(acks.len(), 3);
        assert_ok(&acks[0]);
        assert_nack(&acks[1], "\"sub\"");
        assert_ok(&acks[2]);
        assert_eq!(std::fs::read(dest.join("before")).unwrap(), b"1");
        assert_eq!(std::fs::read(dest.join("after")).unwrap(), b"3");
        assert_eq!(std::fs::read(dest.join("sub").join("inner")).unwrap(), b"inner", "the directory is untouched");
        assert_eq!(names(&dest), vec!["after", "before", "sub"], "no temporary file is left (atomic={atomic})");
    }
}

#[tokio::test]
async fn keys_with_the_reserved_temporary_prefix_are_rejected() {
    let (_tmp, dest, _outside) = scratch();
    let mut runner = runner(&dest, &[]).await;
    let reserved = format!("{TEMP_PREFIX}123");
    let acks = write_all(&mut runner, vec![record(0, reserved.as_bytes(), b"x"), record(1, b"ok", b"y")]).await;
    let error = assert_nack(&acks[0], &reserved);
    assert!(error.contains("reserved for temporary files"), "{error}");
    assert_ok(&acks[1]);
    assert_eq!(names(&dest), vec!["ok"]);
}

#[tokio::test]
async fn hidden_and_unusual_but_safe_keys_are_written_under_their_exact_name() {
    let (_tmp, dest, _outside) = scratch();
    let mut runner = runner(&dest, &[]).await;
    let keys: [&[u8]; 5] = [b".hidden", b"...", b"with space", b"\xe2\x9c\x93 utf8", b"-dash"];
    let records = keys.iter().enumerate().map(|(i, k)| record(i, k, k)).collect();
    let acks = write_all(&mut runner, records).await;
    acks.iter().for_each(assert_ok);
    for k in keys {
        let name = String::from_utf8(k.to_vec()).unwrap();
        assert_eq!(std::fs::read(dest.join(&name)).unwrap(), k, "{name:?}");
    }
}

#[tokio::test]
async fn unsafe_keys_are_nacked_with_an_error_naming_the_key() {
    let (tmp, dest, _outside) = scratch();
    let mut runner = runner(&dest, &[]).await;
    let long = vec![b'z'; 256];
    let cases: Vec<(&[u8], &str)> = vec![
        (b"a/b", r#"invalid key "a/b""#),
        (b"..", r#"invalid key "..""#),
        (b".", r#"invalid key ".""#),
        (b"", r#"invalid key """#),
        (b"nul\0byte", "NUL"),
        (b"../outside/secret", "'/'"),
        (&long, "256 bytes"),
    ];
    let records = cases.iter().enumerate().map(|(i, (k, _))| record(i, k, b"bad")).collect();
    let acks = write_all(&mut runner, records).await;
    for (ack, (_, needle)) in acks.iter().zip(&cases) {
        assert_nack(ack, needle);
    }
    assert!(names(&dest).is_empty());
    assert_eq!(names(tmp.path()), vec!["dest", "outside"]);
    assert_eq!(std::fs::read(tmp.path().join("outside/secret")).unwrap(), b"keep me");
}

#[tokio::test]
async fn every_atomic_and_sync_variant_writes_the_exact_bytes() {
    let payloads: Vec<Vec<u8>> = vec![Vec::new(), b"x".to_vec(), (0..=255u8).cycle().take(200_000).collect()];
    for atomic in ["true", "false"] {
        for sync in ["none", "file", "batch"] {
            let (_tmp, dest, _outside) = scratch();
            let mut runner = runner(&dest, &[("atomic", atomic), ("sync", sync), ("sdk.batch.size", "2")]).await;
            let records: Vec<Record> =
                payloads.iter().enumerate().map(|(i, p)| record(i, format!("f{i}").as_bytes(), p)).collect();
            let acks = write_all(&mut runner, records).await;
            assert_eq!(acks.len(), 3);
            acks.iter().for_each(assert_ok);
            // Overwrite with shorter content: no stale tail may remain.
            let acks = write_all(&mut runner, vec![record(9, b"f2", b"short")]).await;
            assert_ok(&acks[0]);
            runner.teardown().await.unwrap();
            assert_eq!(std::fs::read(dest.join("f0")).unwrap(), payloads[0], "atomic={atomic} sync={sync}");
            assert_eq!(std::fs::read(dest.join("f1")).unwrap(), payloads[1], "atomic={atomic} sync={sync}");
            assert_eq!(std::fs::read(dest.join("f2")).unwrap(), b"short", "atomic={atomic} sync={sync}");
            assert_eq!(names(&dest), vec!["f0", "f1", "f2"], "atomic={atomic} sync={sync}");
        }
    }
}

#[tokio::test]
async fn a_missing_directory_is_created_and_an_impossible_one_fails_open_naming_it() {
    let tmp = tempfile::tempdir().unwrap();
    let nested = tmp.path().join("a/b/c");
    let mut r = runner(&nested, &[]).await;
    assert_ok(&write_all(&mut r, vec![record(0, b"k", b"v")]).await[0]);
    assert_eq!(std::fs::read(nested.join("k")).unwrap(), b"v");

    let file = tmp.path().join("plain-file");
    std::fs::write(&file, b"").unwrap();
    let below = file.join("dir");
    let mut runner =
        DestinationRunner::<DirectoryDestination>::configure([("directory", below.to_str().unwrap())]).await.unwrap();
    let error = runner.open().await.expect_err("a directory below a regular file cannot be created").to_string();
    assert!(error.contains("plain-file"), "{error}");
}

#[tokio::test]
async fn stale_temporary_files_are_cleaned_on_open() {
    let (_tmp, dest, _outside) = scratch();
    std::fs::write(dest.join(format!("{TEMP_PREFIX}stale")), b"half").unwrap();
    std::fs::write(dest.join("keep"), b"k").unwrap();
    let _runner = runner(&dest, &[]).await;
    assert_eq!(names(&dest), vec!["keep"]);
}

/// A record whose key is structured data (`{"k":v}`) for `members`.
fn structured_key(i: usize, members: &[(&str, serde_json::Value)], after: &[u8]) -> Record {
    let mut key = conduit_connector::opencdc::StructuredData::new();
    for (name, value) in members {
        key.insert((*name).to_owned(), value.clone());
    }
    Record { key: Some(Data::Structured(key)), ..record(i, b"", after) }
}

#[tokio::test]
async fn a_structured_key_names_the_file_by_its_go_json() {
    for atomic in ["true", "false"] {
        let (_tmp, dest, outside) = scratch();
        let mut runner = runner(&dest, &[("atomic", atomic)]).await;
        let records = vec![
            structured_key(0, &[("id", 1.into())], b"one"),
            // Members are sorted, as Go's encoding/json sorts map keys; `<` `>` `&` are escaped.
            structured_key(1, &[("z", "<&>".into()), ("a", serde_json::json!([1.5, null, true]))], b"two"),
            structured_key(2, &[("id", 1.into())], b"one, updated"),
        ];
        let acks = write_all(&mut runner, records).await;
        for ack in &acks {
            assert_ok(ack);
        }
        assert_eq!(std::fs::read(dest.join(r#"{"id":1}"#)).unwrap(), b"one, updated");
        assert_eq!(std::fs::read(dest.join(r#"{"a":[1.5,null,true],"z":"\u003c\u0026\u003e"}"#)).unwrap(), b"two");
        assert_eq!(names(&dest).len(), 2, "atomic={atomic}");
        // A delete with the structured key removes the file.
        let delete = Record { operation: Operation::Delete, ..structured_key(3, &[("id", 1.into())], b"") };
        assert_ok(&write_all(&mut runner, vec![delete]).await[0]);
        assert!(!dest.join(r#"{"id":1}"#).exists());
        assert_eq!(names(&outside), vec!["secret"]);
    }
}

#[tokio::test]
async fn a_structured_key_that_is_not_a_safe_file_name_is_nacked_naming_the_key() {
    let (_tmp, dest, outside) = scratch();
    let mut runner = runner(&dest, &[]).await;
    let records = vec![
        structured_key(0, &[("path", "../outside/secret".into())], b"escape"),
        structured_key(1, &[("id", "x".repeat(250).into())], b"long"),
        structured_key(2, &[("nul", "a\0b".into())], b"ok: NUL is escaped in JSON"),
    ];
    let mut none = record(3, b"", b"x");
    none.key = None;
    let acks = write_all(&mut runner, records.into_iter().chain([none]).collect()).await;
    let error = assert_nack(&acks[0], r#"invalid key "{\"path\":\"../outside/secret\"}""#);
    assert!(error.contains("it contains '/'"), "{error}");
    assert_nack(&acks[1], "(259 bytes)");
    assert_ok(&acks[2]);
    assert_nack(&acks[3], "no key");
    assert_eq!(names(&dest), vec![r#"{"nul":"a\u0000b"}"#]);
    assert_eq!(std::fs::read(outside.join("secret")).unwrap(), b"keep me");
}
