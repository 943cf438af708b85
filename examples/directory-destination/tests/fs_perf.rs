//! A rough speed comparison of [`DirWriter`] with the raw per-file system-call floor.
//!
//! Ignored by default (timings are not tests); run it with
//! `cargo test --release -p directory-destination --test fs_perf -- --ignored --nocapture`
//! (set `DIRDEST_BENCH_DIR` to measure on another file system, e.g. `/dev/shm`).

use std::ffi::CString;
use std::hint::black_box;
use std::os::fd::AsFd;
use std::path::Path;
use std::time::{Duration, Instant};

use directory_destination::fs::{DirWriter, SyncMode, WriteOptions};
use rustix::fs::{AtFlags, Mode, OFlags};

const FILES: usize = 2_000;
const ROUNDS: usize = 15;

fn keys() -> Vec<String> {
    (0..FILES).map(|i| format!("record-{i:08}.json")).collect()
}

/// `openat(O_CREAT|O_TRUNC)` + `write` + `close`, names prepared in advance as C strings.
fn raw_in_place(dir: &Path, keys: &[CString], data: &[u8]) -> Duration {
    let fd = rustix::fs::open(dir, OFlags::DIRECTORY | OFlags::RDONLY | OFlags::CLOEXEC, Mode::empty()).unwrap();
    let start = Instant::now();
    for key in keys {
        let file = rustix::fs::openat(
            &fd,
            key.as_c_str(),
            OFlags::WRONLY | OFlags::CREATE | OFlags::TRUNC | OFlags::CLOEXEC,
            Mode::from_raw_mode(0o644),
        )
        .unwrap();
        assert_eq!(rustix::io::write(&file, data).unwrap(), data.len());
    }
    start.elapsed()
}

/// Temporary file + `rename`, the floor of any atomic write.
fn raw_atomic(dir: &Path, keys: &[CString], data: &[u8]) -> Duration {
    let fd = rustix::fs::open(dir, OFlags::DIRECTORY | OFlags::RDONLY | OFlags::CLOEXEC, Mode::empty()).unwrap();
    let start = Instant::now();
    for key in keys {
        let file = rustix::fs::openat(
            &fd,
            c".tmp",
            OFlags::WRONLY | OFlags::CREATE | OFlags::EXCL | OFlags::CLOEXEC,
            Mode::from_raw_mode(0o644),
        )
        .unwrap();
        assert_eq!(rustix::io::write(&file, data).unwrap(), data.len());
        drop(file);
        rustix::fs::renameat(&fd, c".tmp", &fd, key.as_c_str()).unwrap();
    }
    start.elapsed()
}

fn writer(dir: &Path, keys: &[String], data: &[u8], options: WriteOptions) -> Duration {
    let mut writer = DirWriter::open(dir, options).unwrap();
    let start = Instant::now();
    for key in keys {
        writer.write(black_box(key.as_bytes()), data).unwrap();
    }
    start.elapsed()
}

fn clear(dir: &Path) {
    let fd = rustix::fs::open(dir, OFlags::DIRECTORY | OFlags::RDONLY, Mode::empty()).unwrap();
    for entry in std::fs::read_dir(dir).unwrap() {
        rustix::fs::unlinkat(fd.as_fd(), entry.unwrap().file_name().as_os_str(), AtFlags::empty()).unwrap();
    }
}

/// Best of `ROUNDS` runs of each contender, interleaved, each on an empty directory (`fresh`)
/// or over existing files, after flushing earlier write-back so it does not skew the next run.
fn best<const N: usize>(dir: &Path, fresh: bool, runs: [&dyn Fn() -> Duration; N]) -> [Duration; N] {
    let mut best = [Duration::MAX; N];
    for _ in 0..ROUNDS {
        for (run, best) in runs.iter().zip(&mut best) {
            if fresh {
                clear(dir);
            }
            rustix::fs::sync();
            *best = (*best).min(run());
        }
    }
    best
}

#[test]
#[ignore = "timing comparison, run manually in release mode"]
fn dir_writer_speed_versus_raw_syscall_floor() {
    // `DIRDEST_BENCH_DIR=/dev/shm` measures system-call overhead without disk noise.
    let base = std::env::var_os("DIRDEST_BENCH_DIR").map_or_else(std::env::temp_dir, Into::into);
    let tmp = tempfile::tempdir_in(base).unwrap();
    let dir = tmp.path();
    let keys = keys();
    let ckeys: Vec<CString> = keys.iter().map(|k| CString::new(k.as_str()).unwrap()).collect();
    let atomic = WriteOptions { atomic: true, sync: SyncMode::None };
    let in_place = WriteOptions { atomic: false, sync: SyncMode::None };
    for size in [64usize, 4096] {
        let data = vec![b'x'; size];
        for fresh in [true, false] {
            let what = if fresh { "new files" } else { "overwrites" };
            let [raw, ours_in_place, raw_a, ours_atomic] = best(
                dir,
                fresh,
                [
                    &|| raw_in_place(dir, &ckeys, &data),
                    &|| writer(dir, &keys, &data, in_place),
                    &|| raw_atomic(dir, &ckeys, &data),
                    &|| writer(dir, &keys, &data, atomic),
                ],
            );
            let per = |d: Duration| d.as_nanos() as f64 / FILES as f64 / 1000.0;
            println!(
                "{size:>5} B {what:<10}: raw in-place {:.2} µs, ours in-place {:.2} µs ({:.2}x); \
                 raw atomic {:.2} µs, ours atomic {:.2} µs ({:.2}x)",
                per(raw),
                per(ours_in_place),
                ours_in_place.as_secs_f64() / raw.as_secs_f64(),
                per(raw_a),
                per(ours_atomic),
                ours_atomic.as_secs_f64() / raw_a.as_secs_f64(),
            );
        }
    }
}
