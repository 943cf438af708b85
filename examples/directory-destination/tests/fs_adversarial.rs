//! Adversarial tests of the file-system core through its public API: hostile keys, entries
//! planted at key names, a directory swapped after open, crashes' leftovers, and content
//! exactness.

use std::ffi::{OsStr, OsString};
use std::fs;
use std::os::unix::ffi::OsStrExt;
use std::os::unix::fs::{FileTypeExt, MetadataExt, PermissionsExt, symlink};
use std::path::{Path, PathBuf};
use std::time::Duration;

use directory_destination::fs::{
    Change, DirWriter, EntryCause, FsError, KeyErrorReason, Op, SyncMode, TEMP_PREFIX, WriteOptions,
};
use tempfile::TempDir;

const ATOMIC: WriteOptions = WriteOptions { atomic: true, sync: SyncMode::None };
const IN_PLACE: WriteOptions = WriteOptions { atomic: false, sync: SyncMode::None };

fn all_options() -> Vec<WriteOptions> {
    let mut all = Vec::new();
    for atomic in [true, false] {
        for sync in [SyncMode::None, SyncMode::File, SyncMode::Batch] {
            all.push(WriteOptions { atomic, sync });
        }
    }
    all
}

/// A fresh scratch directory under `std::env::temp_dir()` and the destination inside it.
fn scratch() -> (TempDir, PathBuf) {
    let tmp = tempfile::Builder::new().prefix("dirdest-fs-").tempdir_in(std::env::temp_dir()).unwrap();
    let dest = tmp.path().join("dest");
    (tmp, dest)
}

fn open(dest: &Path, options: WriteOptions) -> DirWriter {
    DirWriter::open(dest, options).unwrap_or_else(|e| panic!("open {}: {e}", dest.display()))
}

/// The names in `dir`, sorted.
fn entries(dir: &Path) -> Vec<OsString> {
    let mut names: Vec<_> = fs::read_dir(dir).unwrap().map(|e| e.unwrap().file_name()).collect();
    names.sort();
    names
}

fn temp_files(dir: &Path) -> Vec<OsString> {
    entries(dir).into_iter().filter(|n| n.as_bytes().starts_with(TEMP_PREFIX.as_bytes())).collect()
}

fn os(bytes: &[u8]) -> &OsStr {
    OsStr::from_bytes(bytes)
}

fn cause(err: &FsError) -> &EntryCause {
    match err {
        FsError::Entry { cause, .. } => cause,
        other => panic!("expected a per-entry error, got {other:?}"),
    }
}

// ---------------------------------------------------------------------------------------------
// Opening

#[test]
fn open_creates_the_directory_and_its_parents() {
    let (tmp, _) = scratch();
    let dest = tmp.path().join("a/b/c");
    let writer = open(&dest, ATOMIC);
    assert!(dest.is_dir());
    assert_eq!(writer.path(), dest);
    assert_eq!(writer.stale_removed(), 0);
    let mode = fs::metadata(&dest).unwrap().permissions().mode() & 0o777;
    assert_eq!(mode & !0o755, 0, "created with at most 0755, got {mode:o}");
}

#[test]
fn open_on_a_regular_file_names_the_path() {
    let (tmp, _) = scratch();
    let file = tmp.path().join("file");
    fs::write(&file, b"x").unwrap();
    let err = DirWriter::open(&file, ATOMIC).unwrap_err();
    assert!(matches!(err, FsError::NotADirectory { .. }), "{err:?}");
    assert_eq!(
        err.to_string(),
        format!("opening directory {}: it or one of its parents exists and is not a directory", file.display())
    );
}

#[test]
fn open_below_a_regular_file_is_a_clear_error() {
    let (tmp, _) = scratch();
    fs::write(tmp.path().join("file"), b"x").unwrap();
    let dest = tmp.path().join("file/sub");
    let err = DirWriter::open(&dest, ATOMIC).unwrap_err();
    assert!(err.to_string().contains(&dest.display().to_string()), "{err}");
}

#[test]
fn open_where_the_directory_cannot_be_created_names_the_path() {
    // Nobody, not even root, can create directories directly in /proc.
    let dest = Path::new("/proc/conduit-directory-destination-test/out");
    let err = DirWriter::open(dest, ATOMIC).unwrap_err();
    assert!(matches!(err, FsError::Dir { step: "creating", .. }), "{err:?}");
    assert!(err.to_string().starts_with("creating directory /proc/conduit-directory-destination-test/out: "), "{err}");
    assert!(err.io_error().is_some());
}

#[test]
fn dir_writer_is_send_and_sync() {
    fn assert_send_sync<T: Send + Sync>() {}
    assert_send_sync::<DirWriter>();
    assert_send_sync::<FsError>();
}

#[test]
fn a_second_writer_on_the_same_directory_is_refused_until_the_first_is_gone() {
    let (_tmp, dest) = scratch();
    let first = open(&dest, ATOMIC);
    let clone = first.try_clone();
    // A live temporary file of the first writer, as during a write.
    let live = dest.join(format!("{TEMP_PREFIX}live"));
    fs::write(&live, b"partial").unwrap();
    let error = DirWriter::open(&dest, ATOMIC).unwrap_err();
    assert!(matches!(error, FsError::Locked { .. }), "{error:?}");
    let message = error.to_string();
    assert!(message.contains(&dest.display().to_string()), "{message}");
    assert!(message.contains("another writer holds it"), "{message}");
    assert!(live.exists(), "the refused writer removed a live temporary file");
    // The lock lives as long as any clone of the writer.
    drop(first);
    assert!(matches!(DirWriter::open(&dest, ATOMIC), Err(FsError::Locked { .. })));
    drop(clone);
    let again = open(&dest, ATOMIC);
    assert_eq!(again.stale_removed(), 1, "the next writer cleans what the first left");
    assert!(!live.exists());
}

#[test]
fn open_with_an_empty_path_is_an_error() {
    assert!(matches!(DirWriter::open(Path::new(""), ATOMIC), Err(FsError::EmptyPath)));
}

#[test]
fn open_removes_stale_temporary_files_and_nothing_else() {
    let (_tmp, dest) = scratch();
    fs::create_dir(&dest).unwrap();
    for name in [".conduit-tmp-1-0-0", ".conduit-tmp-ffff-2-a", ".conduit-tmp-"] {
        fs::write(dest.join(name), b"partial").unwrap();
    }
    symlink("/nonexistent", dest.join(".conduit-tmp-link")).unwrap();
    fs::create_dir(dest.join(".conduit-tmp-dir")).unwrap(); // never ours: left alone
    for name in [".hidden", ".conduit-tmp", "x.conduit-tmp-1", "plain"] {
        fs::write(dest.join(name), b"keep").unwrap();
    }
    // A staging directory a crash left (with a temporary file), one holding something else,
    // and a symlink with a staging directory's name.
    let (stale, foreign) = (dest.join(".conduit-tmp-stage-1-0-5"), dest.join(".conduit-tmp-stage-foreign"));
    fs::create_dir(&stale).unwrap();
    fs::write(stale.join(".conduit-tmp-1-0-6"), b"partial").unwrap();
    // A crash between a rename out of a staging directory and that directory's next sync leaves
    // the key's file under its temporary name too (after `fsck`, with both links counted).
    fs::write(dest.join("renamed"), b"keep").unwrap();
    fs::hard_link(dest.join("renamed"), stale.join(".conduit-tmp-1-0-4")).unwrap();
    fs::create_dir(&foreign).unwrap();
    fs::write(foreign.join(".conduit-tmp-1-0-7"), b"partial").unwrap();
    fs::write(foreign.join("not-ours"), b"keep").unwrap();
    let target = tempfile::tempdir().unwrap();
    fs::write(target.path().join(".conduit-tmp-x"), b"keep").unwrap();
    symlink(target.path(), dest.join(".conduit-tmp-stage-link")).unwrap();
    let writer = open(&dest, ATOMIC);
    assert_eq!(
        writer.stale_removed(),
        4 + 4 + 1,
        "4 files; the stale staging directory, its 2 names and the foreign one's temporary file; the link"
    );
    assert_eq!(
        entries(&dest),
        [
            ".conduit-tmp",
            ".conduit-tmp-dir",
            ".conduit-tmp-stage-foreign",
            ".hidden",
            "plain",
            "renamed",
            "x.conduit-tmp-1"
        ]
    );
    for name in [".hidden", ".conduit-tmp", "x.conduit-tmp-1", "plain", "renamed"] {
        assert_eq!(fs::read(dest.join(name)).unwrap(), b"keep");
    }
    assert_eq!(entries(&foreign), ["not-ours"], "its temporary file is removed, the rest is left alone");
    assert_eq!(fs::read(target.path().join(".conduit-tmp-x")).unwrap(), b"keep", "the link is not followed");
}

// ---------------------------------------------------------------------------------------------
// Keys

#[test]
fn unsafe_keys_are_rejected_and_touch_nothing() {
    let (tmp, dest) = scratch();
    let long = vec![b'x'; 256];
    let cases: [(&[u8], KeyErrorReason); 10] = [
        (b"", KeyErrorReason::Empty),
        (b".", KeyErrorReason::DotName),
        (b"..", KeyErrorReason::DotName),
        (b"a/b", KeyErrorReason::ContainsSlash),
        (b"/abs", KeyErrorReason::ContainsSlash),
        (b"../dest-sibling", KeyErrorReason::ContainsSlash),
        ("..\u{0}".as_bytes(), KeyErrorReason::ContainsNul),
        (b"a\0b", KeyErrorReason::ContainsNul),
        (&long, KeyErrorReason::TooLong { len: 256 }),
        (b".conduit-tmp-1-2-3", KeyErrorReason::ReservedPrefix),
    ];
    for options in [ATOMIC, IN_PLACE] {
        let mut writer = open(&dest, options);
        for (key, reason) in &cases {
            for result in [writer.write(key, b"data"), writer.delete(key)] {
                match result {
                    Err(FsError::InvalidKey(e)) => assert_eq!(e.reason(), reason),
                    other => panic!("key {key:?}: expected InvalidKey, got {other:?}"),
                }
            }
        }
    }
    assert!(entries(&dest).is_empty(), "{:?}", entries(&dest));
    assert_eq!(entries(tmp.path()), ["dest"]);
    assert!(!Path::new("/abs").exists());
}

#[test]
fn unusual_but_safe_keys_are_written_under_their_exact_bytes() {
    let (_tmp, dest) = scratch();
    let max = vec![b'm'; 255];
    let keys: [&[u8]; 8] =
        [&max, b".hidden", "üñíçødé ✓".as_bytes(), b"\\", b"a\\b", b"\xff\xfe non-utf8", b"-rf *", b"..."];
    for options in [ATOMIC, IN_PLACE] {
        let mut writer = open(&dest, options);
        for key in keys {
            writer.write(key, key).unwrap_or_else(|e| panic!("{e}"));
            assert_eq!(fs::read(dest.join(os(key))).unwrap(), key);
        }
    }
    assert_eq!(entries(&dest).len(), keys.len());
}

// ---------------------------------------------------------------------------------------------
// Planted entries

#[test]
fn symlink_to_outside_is_replaced_by_atomic_write_and_target_untouched() {
    let (tmp, dest) = scratch();
    let outside = tmp.path().join("outside.txt");
    fs::write(&outside, b"secret").unwrap();
    let mut writer = open(&dest, ATOMIC);
    symlink(&outside, dest.join("k")).unwrap();
    writer.write(b"k", b"new").unwrap();
    assert_eq!(fs::read(&outside).unwrap(), b"secret");
    let meta = fs::symlink_metadata(dest.join("k")).unwrap();
    assert!(meta.file_type().is_file(), "the link itself was replaced by a regular file");
    assert_eq!(fs::read(dest.join("k")).unwrap(), b"new");
    assert!(temp_files(&dest).is_empty());
}

#[test]
fn symlink_to_outside_is_refused_by_in_place_write_and_target_untouched() {
    let (tmp, dest) = scratch();
    let outside = tmp.path().join("outside.txt");
    fs::write(&outside, b"secret").unwrap();
    let mut writer = open(&dest, IN_PLACE);
    symlink(&outside, dest.join("k")).unwrap();
    let err = writer.write(b"k", b"new").unwrap_err();
    assert!(matches!(cause(&err), EntryCause::Symlink), "{err:?}");
    assert_eq!(
        err.to_string(),
        format!("writing \"k\" in {}: a symbolic link has that name (refusing to follow it)", dest.display())
    );
    assert_eq!(fs::read(&outside).unwrap(), b"secret");
    assert!(fs::symlink_metadata(dest.join("k")).unwrap().file_type().is_symlink());
}

#[test]
fn dangling_symlink_is_not_followed_to_create_a_file_outside() {
    let (tmp, dest) = scratch();
    let target = tmp.path().join("would-be-created");
    let mut writer = open(&dest, IN_PLACE);
    symlink(&target, dest.join("k")).unwrap();
    assert!(matches!(cause(&writer.write(b"k", b"x").unwrap_err()), EntryCause::Symlink));
    assert!(!target.exists());

    drop(writer); // one writer per directory
    let mut writer = open(&dest, ATOMIC);
    writer.write(b"k", b"x").unwrap();
    assert!(!target.exists());
    assert_eq!(fs::read(dest.join("k")).unwrap(), b"x");
}

#[test]
fn delete_removes_a_planted_symlink_itself_not_its_target() {
    let (tmp, dest) = scratch();
    let outside = tmp.path().join("outside.txt");
    fs::write(&outside, b"secret").unwrap();
    let mut writer = open(&dest, ATOMIC);
    symlink(&outside, dest.join("k")).unwrap();
    writer.delete(b"k").unwrap();
    assert!(fs::symlink_metadata(dest.join("k")).is_err());
    assert_eq!(fs::read(&outside).unwrap(), b"secret");
}

fn mkfifo(path: &Path) {
    let dir =
        rustix::fs::open(path.parent().unwrap(), rustix::fs::OFlags::DIRECTORY, rustix::fs::Mode::empty()).unwrap();
    rustix::fs::mknodat(
        &dir,
        path.file_name().unwrap(),
        rustix::fs::FileType::Fifo,
        rustix::fs::Mode::from_raw_mode(0o644),
        0,
    )
    .unwrap();
}

/// Runs `f` on another thread and fails the test (instead of hanging) if it blocks.
fn without_blocking<T: Send + 'static>(f: impl FnOnce() -> T + Send + 'static) -> T {
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        let _ = tx.send(f());
    });
    rx.recv_timeout(Duration::from_secs(10)).expect("the write blocked")
}

#[test]
fn fifo_without_reader_is_refused_by_in_place_write_without_blocking() {
    let (_tmp, dest) = scratch();
    let writer = open(&dest, IN_PLACE);
    mkfifo(&dest.join("k"));
    let err = without_blocking(move || {
        let mut writer = writer;
        writer.write(b"k", b"data").unwrap_err()
    });
    assert!(matches!(cause(&err), EntryCause::NotRegularFile { .. }), "{err:?}");
    assert!(err.to_string().contains("not a regular file"), "{err}");
    assert!(fs::symlink_metadata(dest.join("k")).unwrap().file_type().is_fifo());
}

#[test]
fn fifo_with_a_reader_is_refused_by_in_place_write_and_gets_no_data() {
    let (_tmp, dest) = scratch();
    let writer = open(&dest, IN_PLACE);
    mkfifo(&dest.join("k"));
    let reader = rustix::fs::open(
        dest.join("k"),
        rustix::fs::OFlags::RDONLY | rustix::fs::OFlags::NONBLOCK,
        rustix::fs::Mode::empty(),
    )
    .unwrap();
    let err = without_blocking(move || {
        let mut writer = writer;
        writer.write(b"k", b"data").unwrap_err()
    });
    assert!(matches!(cause(&err), EntryCause::NotRegularFile { kind: "FIFO" }), "{err:?}");
    let mut buf = [0u8; 16];
    // End of file: the writer closed the FIFO without writing anything.
    assert_eq!(rustix::io::read(&reader, &mut buf), Ok(0), "nothing was written");
}

#[test]
fn fifo_is_replaced_by_atomic_write() {
    let (_tmp, dest) = scratch();
    let writer = open(&dest, ATOMIC);
    mkfifo(&dest.join("k"));
    without_blocking(move || {
        let mut writer = writer;
        writer.write(b"k", b"data").unwrap()
    });
    assert!(fs::symlink_metadata(dest.join("k")).unwrap().file_type().is_file());
    assert_eq!(fs::read(dest.join("k")).unwrap(), b"data");
}

#[test]
fn directory_at_the_key_fails_clearly_and_leaves_no_temporary_file() {
    for options in all_options() {
        let (_tmp, dest) = scratch();
        let mut writer = open(&dest, options);
        fs::create_dir(dest.join("k")).unwrap();
        fs::write(dest.join("k/inner"), b"inner").unwrap();
        let err = writer.write(b"k", b"data").unwrap_err();
        assert!(matches!(cause(&err), EntryCause::IsDirectory), "{options:?}: {err:?}");
        assert_eq!(
            err.to_string(),
            format!("writing \"k\" in {}: a directory has that name (it is never replaced or removed)", dest.display())
        );
        let err = writer.delete(b"k").unwrap_err();
        assert!(matches!(err, FsError::Entry { op: Op::Delete, cause: EntryCause::IsDirectory, .. }), "{err:?}");
        assert_eq!(entries(&dest), ["k"], "{options:?}");
        assert_eq!(fs::read(dest.join("k/inner")).unwrap(), b"inner");
    }
}

#[test]
fn hard_link_to_outside_is_refused_in_place_and_replaced_atomically() {
    let (tmp, dest) = scratch();
    let outside = tmp.path().join("outside.txt");
    fs::write(&outside, b"secret").unwrap();
    let mut writer = open(&dest, IN_PLACE);
    fs::hard_link(&outside, dest.join("k")).unwrap();
    let err = writer.write(b"k", b"new").unwrap_err();
    assert!(matches!(cause(&err), EntryCause::HardLinked { links: 2 }), "{err:?}");
    assert_eq!(fs::read(&outside).unwrap(), b"secret");

    drop(writer); // one writer per directory
    let mut writer = open(&dest, ATOMIC);
    writer.write(b"k", b"new").unwrap();
    assert_eq!(fs::read(&outside).unwrap(), b"secret");
    assert_eq!(fs::read(dest.join("k")).unwrap(), b"new");
}

#[test]
fn directory_swapped_for_a_symlink_after_open_keeps_writing_to_the_original() {
    let (tmp, dest) = scratch();
    let mut writer = open(&dest, ATOMIC);
    let mut clone = writer.try_clone();
    let moved = tmp.path().join("moved");
    let elsewhere = tmp.path().join("elsewhere");
    fs::create_dir(&elsewhere).unwrap();
    fs::rename(&dest, &moved).unwrap();
    symlink(&elsewhere, &dest).unwrap();

    writer.write(b"a", b"atomic").unwrap();
    clone.write(b"b", b"clone").unwrap(); // same handle
    writer.delete(b"a").unwrap();
    writer.write(b"c", b"still here").unwrap();
    assert_eq!(entries(&moved), ["b", "c"]);
    assert_eq!(fs::read(moved.join("c")).unwrap(), b"still here");
    assert!(entries(&elsewhere).is_empty());
}

// ---------------------------------------------------------------------------------------------
// Writes, overwrites, deletes

#[test]
fn content_is_exact_for_empty_small_and_large_payloads_in_every_mode() {
    let large: Vec<u8> = (0..1 << 20).map(|i: u32| (i.wrapping_mul(2_654_435_761) >> 13) as u8).collect();
    let small: Vec<u8> = (0..64).collect();
    for options in all_options() {
        let (_tmp, dest) = scratch();
        let mut writer = open(&dest, options);
        for (key, data) in [(&b"empty"[..], &[][..]), (b"small", &small), (b"large", &large)] {
            writer.write(key, data).unwrap();
            assert_eq!(fs::read(dest.join(os(key))).unwrap(), data, "{options:?}");
        }
        writer.commit().unwrap();
        assert!(!writer.has_uncommitted());
        assert!(temp_files(&dest).is_empty(), "{options:?}");
        for name in entries(&dest) {
            let mode = fs::metadata(dest.join(name)).unwrap().mode() & 0o7777;
            assert_eq!(mode & !0o644, 0, "files are created with at most 0644, got {mode:o}");
        }
    }
}

#[test]
fn overwrite_replaces_the_whole_content_in_both_modes() {
    for options in [ATOMIC, IN_PLACE] {
        let (_tmp, dest) = scratch();
        let mut writer = open(&dest, options);
        writer.write(b"k", b"a much longer first version").unwrap();
        writer.write(b"k", b"short").unwrap();
        assert_eq!(fs::read(dest.join("k")).unwrap(), b"short", "{options:?}");
        writer.write(b"k", b"").unwrap();
        assert_eq!(fs::read(dest.join("k")).unwrap(), b"", "{options:?}");
        writer.write(b"k", b"again").unwrap();
        assert_eq!(fs::read(dest.join("k")).unwrap(), b"again", "{options:?}");
        assert_eq!(entries(&dest), ["k"]);
    }
}

#[test]
fn delete_of_a_missing_key_is_ok_and_delete_removes_the_file() {
    for options in all_options() {
        let (_tmp, dest) = scratch();
        let mut writer = open(&dest, options);
        writer.delete(b"missing").unwrap();
        writer.write(b"k", b"x").unwrap();
        writer.delete(b"k").unwrap();
        writer.delete(b"k").unwrap();
        writer.commit().unwrap();
        assert!(entries(&dest).is_empty());
    }
}

#[test]
fn failed_writes_leave_no_temporary_file_and_the_old_content() {
    let (_tmp, dest) = scratch();
    let mut writer = open(&dest, ATOMIC);
    writer.write(b"keep", b"old").unwrap();
    fs::create_dir(dest.join("dir")).unwrap();
    for _ in 0..3 {
        assert!(writer.write(b"dir", b"x").is_err());
        assert!(writer.write(b"bad/key", b"x").is_err());
    }
    assert!(temp_files(&dest).is_empty(), "{:?}", entries(&dest));
    assert_eq!(fs::read(dest.join("keep")).unwrap(), b"old");
}

// ---------------------------------------------------------------------------------------------
// Batches, sync modes, clones

#[test]
fn write_batch_applies_changes_from_the_front_and_stops_at_the_first_error() {
    for options in all_options() {
        let (_tmp, dest) = scratch();
        let mut writer = open(&dest, options);
        let outcome = writer.write_batch(&[
            Change::Write { key: b"a", data: b"1" },
            Change::Write { key: b"b", data: b"2" },
            Change::Delete { key: b"a" },
            Change::Write { key: b"../escape", data: b"3" },
            Change::Write { key: b"c", data: b"4" },
        ]);
        assert_eq!(outcome.written, 3, "{options:?}");
        let err = outcome.error.expect("the fourth change fails");
        assert!(matches!(err, FsError::InvalidKey(_)), "{err:?}");
        assert_eq!(entries(&dest), ["b"]);
        assert!(!writer.has_uncommitted(), "write_batch commits");

        let outcome = writer.write_batch(&[Change::Write { key: b"c", data: b"4" }]);
        assert_eq!((outcome.written, outcome.error.is_none()), (1, true));
    }
}

#[test]
fn batch_sync_on_threads_applies_the_front_and_leaves_no_temporary_file() {
    let (_tmp, dest) = scratch();
    let mut writer = open(&dest, WriteOptions { atomic: true, sync: SyncMode::Batch });
    writer.set_threads(2);
    let keys: Vec<String> = (0..300).map(|i| format!("k{i}")).collect();
    let mut changes: Vec<Change<'_>> =
        keys.iter().map(|k| Change::Write { key: k.as_bytes(), data: k.as_bytes() }).collect();
    changes[3] = Change::Delete { key: b"k0" };
    changes[200] = Change::Write { key: b"bad/key", data: b"x" };
    let outcome = writer.write_batch(&changes);
    assert_eq!(outcome.written, 200);
    assert!(matches!(outcome.error, Some(FsError::InvalidKey(_))), "{:?}", outcome.error);
    let mut expected: Vec<OsString> = keys[1..200].iter().filter(|k| *k != "k3").map(OsString::from).collect();
    expected.sort();
    assert_eq!(entries(&dest), expected, "k0 deleted, k3 never written, nothing from 200 on, no temporary file");
    assert_eq!(fs::read(dest.join("k199")).unwrap(), b"k199");
}

#[test]
fn batch_sync_defers_the_directory_sync_to_commit() {
    let (_tmp, dest) = scratch();
    let mut writer = open(&dest, WriteOptions { atomic: true, sync: SyncMode::Batch });
    assert!(!writer.has_uncommitted());
    writer.write(b"a", b"1").unwrap();
    writer.delete(b"missing").unwrap(); // nothing changed
    assert!(writer.has_uncommitted());
    writer.commit().unwrap();
    assert!(!writer.has_uncommitted());
    writer.commit().unwrap();
    drop(writer); // one writer per directory

    for sync in [SyncMode::None, SyncMode::File] {
        let mut writer = open(&dest, WriteOptions { atomic: true, sync });
        writer.write(b"a", b"1").unwrap();
        assert!(!writer.has_uncommitted(), "{sync:?}");
    }
}

#[test]
fn clones_write_disjoint_keys_from_two_threads() {
    let (_tmp, dest) = scratch();
    let writer = open(&dest, WriteOptions { atomic: true, sync: SyncMode::Batch });
    let handles: Vec<_> = (0..2)
        .map(|t| {
            let mut w = writer.try_clone();
            std::thread::spawn(move || {
                let keys: Vec<String> = (0..200).map(|i| format!("t{t}-{i}")).collect();
                let outcome = w.write_batch(
                    &keys.iter().map(|k| Change::Write { key: k.as_bytes(), data: k.as_bytes() }).collect::<Vec<_>>(),
                );
                assert!(outcome.error.is_none(), "{:?}", outcome.error);
                outcome.written
            })
        })
        .collect();
    let total: usize = handles.into_iter().map(|h| h.join().unwrap()).sum();
    assert_eq!(total, 400);
    assert_eq!(entries(&dest).len(), 400);
    assert!(temp_files(&dest).is_empty());
    assert_eq!(fs::read(dest.join("t1-199")).unwrap(), b"t1-199");
}

#[test]
fn error_messages_say_what_where_and_why() {
    let (_tmp, dest) = scratch();
    let mut writer = open(&dest, IN_PLACE);
    mkfifo(&dest.join("p\u{e9}\n"));
    let err = writer.write("p\u{e9}\n".as_bytes(), b"x").unwrap_err();
    assert_eq!(
        err.to_string(),
        format!(
            "writing \"pé\\n\" in {}: a FIFO or socket has that name, not a regular file (refusing to write into it)",
            dest.display()
        )
    );
    assert_eq!(err.key(), Some("p\u{e9}\n".as_bytes()));

    let err = FsError::Entry {
        op: Op::Write,
        key: b"a.txt"[..].into(),
        dir: Path::new("/tmp/out").into(),
        cause: EntryCause::Io { step: "", error: std::io::Error::from_raw_os_error(28) },
    };
    assert_eq!(err.to_string(), "writing \"a.txt\" in /tmp/out: No space left on device (os error 28)");
    assert_eq!(err.io_error().and_then(|e| e.raw_os_error()), Some(28));
}
