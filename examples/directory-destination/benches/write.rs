//! `DirWriter` micro-benchmarks on tmpfs (`/dev/shm`, or `BENCH_DIR`): one write of a 1 KiB
//! file in each mode, against the raw `openat` + `write` + `close` floor.
//!
//! `cargo bench -p directory-destination --bench write`
//!
//! Each iteration writes a new key (the directory grows by one file per iteration, as when a
//! pipeline writes distinct keys); the README table comes from the `compare` bench instead.

use std::path::PathBuf;

use directory_destination::fs::{DirWriter, SyncMode, WriteOptions};
use rustix::fs::{Mode, OFlags};

const DATA: [u8; 1024] = [b'x'; 1024];

fn main() {
    divan::main();
}

fn scratch(name: &str) -> tempfile::TempDir {
    let base = std::env::var_os("BENCH_DIR").map_or_else(|| PathBuf::from("/dev/shm"), PathBuf::from);
    tempfile::Builder::new().prefix(name).tempdir_in(base).expect("creating a scratch directory")
}

fn key(i: u64, buf: &mut Vec<u8>) -> &[u8] {
    buf.clear();
    buf.extend_from_slice(format!("record-{i:010}").as_bytes());
    buf
}

/// `openat(O_CREAT|O_TRUNC)` + `write` + `close`.
#[divan::bench]
fn floor_raw(bencher: divan::Bencher<'_, '_>) {
    let tmp = scratch("floor-raw");
    let dir = rustix::fs::open(tmp.path(), OFlags::DIRECTORY | OFlags::RDONLY, Mode::empty()).unwrap();
    let mut i = 0u64;
    let mut buf = Vec::new();
    bencher.bench_local(|| {
        i += 1;
        let file = rustix::fs::openat(
            &dir,
            key(i, &mut buf),
            OFlags::WRONLY | OFlags::CREATE | OFlags::TRUNC | OFlags::CLOEXEC,
            Mode::from_raw_mode(0o644),
        )
        .unwrap();
        rustix::io::write(&file, &DATA).unwrap()
    });
}

fn writer(bencher: divan::Bencher<'_, '_>, options: WriteOptions) {
    let tmp = scratch("dir-writer");
    let mut writer = DirWriter::open(tmp.path(), options).unwrap();
    let mut i = 0u64;
    let mut buf = Vec::new();
    bencher.bench_local(|| {
        i += 1;
        writer.write(key(i, &mut buf), &DATA).unwrap();
    });
}

/// `DirWriter::write`, atomic (the default).
#[divan::bench]
fn dir_writer_atomic(bencher: divan::Bencher<'_, '_>) {
    writer(bencher, WriteOptions::default());
}

/// `DirWriter::write` in place.
#[divan::bench]
fn dir_writer_in_place(bencher: divan::Bencher<'_, '_>) {
    writer(bencher, WriteOptions { atomic: false, sync: SyncMode::None });
}

/// `DirWriter::write`, atomic, `fdatasync` + directory `fsync` per file.
#[divan::bench]
fn dir_writer_sync_file(bencher: divan::Bencher<'_, '_>) {
    writer(bencher, WriteOptions { atomic: true, sync: SyncMode::File });
}
