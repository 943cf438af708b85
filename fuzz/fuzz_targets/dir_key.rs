//! Key validation + path resolution of the directory destination: arbitrary bytes as a key,
//! written through a `DirWriter` into a tmpfs sandbox (`/dev/shm` when present). The result is
//! either an error naming the key or exactly one new regular file directly inside the
//! directory, named by the key, with the written content; nothing changes outside the
//! directory, planted entries (a symlink to outside, a FIFO, a directory) are never written
//! through.
//!
//! The first input byte picks the mode (even: atomic, odd: in place); the rest is the key.
#![no_main]

use std::ffi::{OsStr, OsString};
use std::fs;
use std::os::unix::ffi::OsStrExt;
use std::os::unix::fs::{FileTypeExt, symlink};
use std::path::{Path, PathBuf};
use std::sync::OnceLock;

use directory_destination::fs::{DirWriter, FsError, SyncMode, WriteOptions, escape_key, validate_key};
use libfuzzer_sys::fuzz_target;

const PLANTED_LINK: &str = "planted-link";
const PLANTED_FIFO: &str = "planted-fifo";
const PLANTED_DIR: &str = "planted-dir";
const DATA: &[u8] = b"fuzz-content";

struct Sandbox {
    root: PathBuf,
    dir: PathBuf,
    outside: PathBuf,
}

fn sandbox() -> &'static Sandbox {
    static SANDBOX: OnceLock<Sandbox> = OnceLock::new();
    SANDBOX.get_or_init(|| {
        let base = if Path::new("/dev/shm").is_dir() { PathBuf::from("/dev/shm") } else { std::env::temp_dir() };
        let root = base.join(format!("fuzz-dir-key-{}", std::process::id()));
        let _ = fs::remove_dir_all(&root);
        let dir = root.join("dir");
        let outside = root.join("outside");
        fs::create_dir_all(&dir).unwrap();
        fs::create_dir_all(&outside).unwrap();
        fs::write(outside.join("target"), b"outside").unwrap();
        let s = Sandbox { root, dir, outside };
        plant(&s);
        s
    })
}

fn plant(s: &Sandbox) {
    let link = s.dir.join(PLANTED_LINK);
    if fs::symlink_metadata(&link).map(|m| !m.file_type().is_symlink()).unwrap_or(true) {
        let _ = fs::remove_file(&link);
        symlink(s.outside.join("target"), &link).unwrap();
    }
    let fifo = s.dir.join(PLANTED_FIFO);
    if fs::symlink_metadata(&fifo).map(|m| !m.file_type().is_fifo()).unwrap_or(true) {
        let _ = fs::remove_file(&fifo);
        let status = std::process::Command::new("mkfifo").arg(&fifo).status().unwrap();
        assert!(status.success());
    }
    let sub = s.dir.join(PLANTED_DIR);
    if !sub.is_dir() {
        fs::create_dir(&sub).unwrap();
    }
}

fn names(dir: &Path) -> Vec<OsString> {
    let mut v: Vec<_> = fs::read_dir(dir).unwrap().map(|e| e.unwrap().file_name()).collect();
    v.sort();
    v
}

fuzz_target!(|data: &[u8]| {
    let Some((&mode, key)) = data.split_first() else { return };
    let s = sandbox();
    let options = WriteOptions { atomic: mode % 2 == 0, sync: SyncMode::None };
    let before = names(&s.dir);
    let outside_before = names(&s.outside);
    let mut writer = DirWriter::open(&s.dir, options).unwrap();
    let result = writer.write(key, DATA);
    let after = names(&s.dir);
    assert_eq!(names(&s.root), [OsStr::new("dir"), OsStr::new("outside")], "something appeared next to the dir");
    assert_eq!(names(&s.outside), outside_before, "something changed outside");
    assert_eq!(fs::read(s.outside.join("target")).unwrap(), b"outside", "the symlink target was written");
    let planted = key == PLANTED_LINK.as_bytes() || key == PLANTED_FIFO.as_bytes() || key == PLANTED_DIR.as_bytes();
    match result {
        Err(err) => {
            assert_eq!(after, before, "a failed write changed the directory");
            match &err {
                FsError::InvalidKey(_) => {
                    assert!(validate_key(key).is_err());
                    let shown: Vec<u8> = key.iter().copied().take(16).filter(|b| b.is_ascii_alphanumeric()).collect();
                    let text = err.to_string();
                    assert!(text.starts_with("invalid key \""), "{text}");
                    if key.len() <= 16 && shown.len() == key.len() {
                        assert!(text.contains(&escape_key(key).to_string()), "{text}");
                    }
                }
                FsError::Entry { .. } => {
                    assert_eq!(err.key(), Some(key), "the error names another key");
                    assert!(err.to_string().contains(&escape_key(key).to_string()));
                    assert!(validate_key(key).is_ok());
                    // Only planted names or names the file system refuses fail here.
                    assert!(planted, "valid key {} failed: {err}", escape_key(key));
                }
                other => panic!("unexpected error {other}"),
            }
        }
        Ok(()) => {
            assert!(validate_key(key).is_ok(), "an invalid key was written");
            let name = OsStr::from_bytes(key);
            let path = s.dir.join(name);
            let meta = fs::symlink_metadata(&path).unwrap();
            assert!(meta.file_type().is_file(), "not a regular file");
            assert_eq!(fs::read(&path).unwrap(), DATA);
            let mut expected = before.clone();
            if !expected.iter().any(|n| n == name) {
                expected.push(name.to_owned());
                expected.sort();
            }
            assert_eq!(after, expected, "not exactly one new entry named by the key");
            assert!(planted || !before.iter().any(|n| n == name), "a stale file with the key's name");
            fs::remove_file(&path).unwrap();
            if planted {
                plant(s);
            }
        }
    }
});
