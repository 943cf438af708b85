//! The names of temporary files and staging directories, observed by planting them: each is
//! [`TEMP_PREFIX`], a kind (empty, or `stage-`), then the process id, the writer id and a counter
//! in hexadecimal. The only test in its own file (its own process), so the writer ids are known:
//! the n-th writer opened or cloned here has id n.

use std::path::Path;

use directory_destination::fs::{Change, DirWriter, SyncMode, TEMP_PREFIX, WriteOptions, validate_key};

fn temp_name(kind: &str, writer: u64, counter: u64) -> String {
    format!("{TEMP_PREFIX}{kind}{:x}-{writer:x}-{counter:x}", std::process::id())
}

/// Plants a file with each name (another writer's live temporary file, say).
fn plant(dir: &Path, names: &[String]) {
    for name in names {
        assert!(validate_key(name.as_bytes()).is_err(), "a temporary name must never be a valid key");
        std::fs::write(dir.join(name), b"x").unwrap();
    }
}

fn entries(dir: &Path) -> usize {
    std::fs::read_dir(dir).unwrap().count()
}

#[test]
fn temporary_names_are_per_writer_and_write_and_names_that_exist_are_skipped() {
    let tmp = tempfile::tempdir().unwrap();
    let mut writer = DirWriter::open(tmp.path(), WriteOptions::default()).unwrap(); // id 0
    // Its next two names exist: the write takes the third.
    let taken: Vec<String> = (0..2).map(|n| temp_name("", 0, n)).collect();
    plant(tmp.path(), &taken);
    writer.write(b"k", b"data").unwrap();
    assert_eq!(std::fs::read(tmp.path().join("k")).unwrap(), b"data");
    // The next write starts at counter 3: with 8 names taken from there, it gives up.
    let more: Vec<String> = (3..11).map(|n| temp_name("", 0, n)).collect();
    plant(tmp.path(), &more);
    let error = writer.write(b"k2", b"data").unwrap_err().to_string();
    let expected = "creating the temporary file: File exists (os error 17)";
    assert_eq!(error, format!("writing \"k2\" in {}: {expected}", tmp.path().display()));
    // A clone (id 1) has names of its own.
    let mut clone = writer.try_clone();
    clone.write(b"k2", b"data").unwrap();
    for name in taken.iter().chain(&more) {
        assert_eq!(std::fs::read(tmp.path().join(name)).unwrap(), b"x", "{name} was overwritten or removed");
    }
    assert_eq!(entries(tmp.path()), taken.len() + more.len() + 2, "the planted names, k and k2");
    drop((writer, clone));

    // A batch on several threads makes a staging directory per thread; when every name one could
    // take is taken, the batch fails at its first change and leaves nothing behind.
    let tmp = tempfile::tempdir().unwrap();
    let mut writer = DirWriter::open(tmp.path(), WriteOptions { atomic: true, sync: SyncMode::Batch }).unwrap(); // id 2
    writer.set_threads(2);
    let staging: Vec<String> = (0..64).map(|n| temp_name("stage-", 2, n)).collect();
    plant(tmp.path(), &staging);
    let outcome =
        writer.write_batch(&[Change::Write { key: b"a", data: b"1" }, Change::Write { key: b"b", data: b"2" }]);
    assert_eq!(outcome.written, 0);
    let error = outcome.error.unwrap().to_string();
    assert_eq!(error, format!("writing \"a\" in {}: {expected}", tmp.path().display()));
    assert_eq!(entries(tmp.path()), staging.len(), "nothing but the planted names");
}
