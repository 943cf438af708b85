//! Durable writes on a real disk: the README's "Durable writes" table, measured in one run.
//!
//! ```text
//! cargo bench -p directory-destination --bench durable              # 1,000 × 1 KiB, 7 repetitions
//! cargo bench -p directory-destination --bench durable -- --reps 5 --records 1000
//! BENCH_RAW=1 cargo bench -p directory-destination --bench durable -- --explore  # + designs, raw rates
//! ```
//!
//! Files go to `target/durable-bench` (or `BENCH_DIR`), which must be on a disk, not tmpfs
//! (there `fsync` is free; the bench refuses). Contenders, interleaved within each repetition
//! (the order rotates), each into a fresh directory that is removed afterwards, untimed:
//!
//! - **floor**: per record a temporary file, `write`, `fsync`, `close` and `rename` onto the key,
//!   one thread (what a careful program does for one durable file at a time);
//! - **ours `sync=file`** and **`sync=batch`**: `DirectoryDestination::write` of batches of 100
//!   records (default settings: 2 write threads), in a tokio runtime as the SDK runs it;
//! - **ours `sync=file`, 1 thread**: `set_write_threads(1)`: `fdatasync` + rename + directory
//!   `fsync` per record, one after the other;
//! - **`syncfs` per batch**: per 100 records, the temporary files written, one `syncfs`, the
//!   renames, one directory `fsync`: the fewest syncs for the same guarantee, but `syncfs`
//!   flushes every dirty file of the whole file system (see the README);
//! - with `--explore`, four designs of `sync=batch` in raw system calls (see [`VARIANTS`]).
//!
//! Before each contender the file system is synced (`syncfs`, untimed), so that none starts with
//! another's dirty data or profits from the `syncfs` contender's flush. `BENCH_RAW=1` also
//! prints every repetition's rate (the disk's speed drifts within a run).
//!
//! The table shows the median records/s of the repetitions and the ratio to the floor.

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use conduit_connector::destination::{Batch, Destination};
use conduit_connector::middleware::RecordFormat;
use conduit_connector::opencdc::{Change, Data, Record};
use directory_destination::{DirectoryConfig, DirectoryDestination, SyncMode};
use rustix::fs::{Mode, OFlags};

const BATCH: usize = 100;
const PAYLOAD: usize = 1024;

#[derive(Clone, Copy, PartialEq)]
enum Contender {
    Floor,
    OursFile,
    OursBatch,
    OursFileOneThread,
    Syncfs,
}

impl Contender {
    const ALL: [Contender; 5] =
        [Contender::Floor, Contender::OursFile, Contender::OursBatch, Contender::OursFileOneThread, Contender::Syncfs];

    fn name(self) -> &'static str {
        match self {
            Contender::Floor => "floor: temp file + write + fsync + rename, 1 thread",
            Contender::OursFile => "ours `sync=file`",
            Contender::OursBatch => "ours `sync=batch`",
            Contender::OursFileOneThread => "ours `sync=file`, 1 thread",
            Contender::Syncfs => "`syncfs` per batch (not an option)",
        }
    }
}

/// Designs measured with `--explore`, in raw system calls, 8 threads, same guarantee as
/// `sync=batch` (file data synced before its rename, one directory `fsync` per batch).
#[derive(Clone, Copy)]
struct Variant {
    name: &'static str,
    /// Temporary files in one staging subdirectory per thread, made per batch and removed
    /// after its renames, before the directory sync.
    staging: bool,
    /// All files of the batch written and their write-back started (`fadvise(DONTNEED)`)
    /// before the first `fdatasync`, renamed after the last (else each file is written and
    /// synced in one go and renamed, in order, as soon as it and those before it are synced).
    two_phase: bool,
}

const THREADS: usize = 8;

const VARIANTS: [Variant; 4] = [
    Variant {
        name: "raw: each file written and synced, renamed as its sync ends, all in the directory",
        staging: false,
        two_phase: false,
    },
    Variant {
        name: "raw: the same, temporary files in a staging directory per thread (as ours)",
        staging: true,
        two_phase: false,
    },
    Variant {
        name: "raw: all written, write-back started, then synced, then renamed (tried, not kept)",
        staging: false,
        two_phase: true,
    },
    Variant {
        name: "raw: the same, temporary files in a staging directory per thread",
        staging: true,
        two_phase: true,
    },
];

fn main() {
    let mut reps = 7;
    let mut count = 1000;
    let mut explore = false;
    let mut args = std::env::args().skip(1);
    while let Some(arg) = args.next() {
        match arg.as_str() {
            "--reps" => reps = args.next().and_then(|v| v.parse().ok()).expect("--reps N"),
            "--records" => count = args.next().and_then(|v| v.parse().ok()).expect("--records N"),
            "--explore" => explore = true,
            _ => {} // `cargo bench` passes `--bench`
        }
    }
    let base = std::env::var_os("BENCH_DIR").map_or_else(
        || PathBuf::from(concat!(env!("CARGO_MANIFEST_DIR"), "/../../target/durable-bench")),
        PathBuf::from,
    );
    std::fs::create_dir_all(&base).expect("creating the bench directory");
    let base = base.canonicalize().expect("resolving the bench directory");
    let fs = file_system(&base);
    if fs == "tmpfs" {
        eprintln!("{} is on tmpfs, where fsync is free: set BENCH_DIR to a directory on a disk", base.display());
        std::process::exit(2);
    }
    let rt = tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build().unwrap();
    let n = Contender::ALL.len() + if explore { VARIANTS.len() } else { 0 };
    let mut times: Vec<Vec<Duration>> = vec![Vec::new(); n];
    for rep in 0..reps {
        for k in 0..n {
            let index = (k + rep) % n;
            let dir = base.join(format!("run-{rep}-{index}"));
            // Untimed: every contender starts with nothing dirty on the file system (else the one
            // after the `syncfs` contender finds the disk's cache emptied for it).
            rustix::fs::syncfs(std::fs::File::open(&base).unwrap()).unwrap();
            let elapsed = match Contender::ALL.get(index) {
                Some(Contender::Floor) => floor(&dir, count),
                Some(Contender::Syncfs) => syncfs_per_batch(&dir, count),
                Some(Contender::OursFile) => ours(&rt, &dir, count, SyncMode::File, None),
                Some(Contender::OursBatch) => ours(&rt, &dir, count, SyncMode::Batch, None),
                Some(Contender::OursFileOneThread) => ours(&rt, &dir, count, SyncMode::File, Some(1)),
                None => {
                    let v = VARIANTS[index - Contender::ALL.len()];
                    raw_batch(&dir, count, v)
                }
            };
            assert_eq!(std::fs::read_dir(&dir).unwrap().count(), count, "{index}");
            std::fs::remove_dir_all(&dir).unwrap();
            times[index].push(elapsed);
        }
    }
    let _ = std::fs::remove_dir(&base);
    let rate = |i: usize| {
        let mut t = times[i].clone();
        t.sort();
        count as f64 / t[t.len() / 2].as_secs_f64()
    };
    let floor_rate = rate(0);
    println!(
        "{count} × {PAYLOAD} B records, batches of {BATCH}, {fs} ({}), {} CPUs, median of {reps} interleaved repetitions, load average {}",
        base.display(),
        std::thread::available_parallelism().map_or(1, |n| n.get()),
        std::fs::read_to_string("/proc/loadavg").unwrap_or_default().split(' ').take(3).collect::<Vec<_>>().join(" ")
    );
    println!();
    println!("| contender | records/s | ÷ floor |");
    println!("|---|---:|---:|");
    for i in 0..n {
        let name = Contender::ALL.get(i).map_or_else(|| VARIANTS[i - Contender::ALL.len()].name, |c| c.name());
        println!("| {} | {:.0} | {:.2} |", name, rate(i), rate(i) / floor_rate);
    }
    if std::env::var_os("BENCH_RAW").is_some() {
        for (i, t) in times.iter().enumerate() {
            let r: Vec<String> = t.iter().map(|d| format!("{:.0}", count as f64 / d.as_secs_f64())).collect();
            println!("raw {i}: {}", r.join(" "));
        }
    }
}

/// The file system type of `path`, from `statfs`.
fn file_system(path: &Path) -> &'static str {
    match rustix::fs::statfs(path).map(|s| s.f_type as u64) {
        Ok(0x0102_1994) => "tmpfs",
        Ok(0xEF53) => "ext4",
        Ok(0x5846_5342) => "xfs",
        Ok(0x9123_683E) => "btrfs",
        _ => "other file system",
    }
}

fn key(i: usize) -> String {
    format!("record-{i:08}")
}

fn payload(i: usize) -> Vec<u8> {
    let mut data = vec![b'x'; PAYLOAD];
    data[..8].copy_from_slice(&(i as u64).to_le_bytes());
    data
}

fn open_dir(dir: &Path) -> rustix::fd::OwnedFd {
    std::fs::create_dir(dir).unwrap();
    rustix::fs::open(dir, OFlags::DIRECTORY | OFlags::RDONLY | OFlags::CLOEXEC, Mode::empty()).unwrap()
}

fn create_temp(dir: &rustix::fd::OwnedFd, name: &str) -> rustix::fd::OwnedFd {
    let flags = OFlags::WRONLY | OFlags::CREATE | OFlags::EXCL | OFlags::CLOEXEC;
    rustix::fs::openat(dir, name, flags, Mode::from_raw_mode(0o644)).unwrap()
}

fn floor(dir: &Path, count: usize) -> Duration {
    let keys: Vec<String> = (0..count).map(key).collect();
    let data: Vec<Vec<u8>> = (0..count).map(payload).collect();
    let fd = open_dir(dir);
    let start = Instant::now();
    for (key, data) in keys.iter().zip(&data) {
        let file = create_temp(&fd, ".tmp");
        assert_eq!(rustix::io::write(&file, data).unwrap(), data.len());
        rustix::fs::fsync(&file).unwrap();
        drop(file);
        rustix::fs::renameat(&fd, ".tmp", &fd, key.as_str()).unwrap();
    }
    start.elapsed()
}

fn syncfs_per_batch(dir: &Path, count: usize) -> Duration {
    let keys: Vec<String> = (0..count).map(key).collect();
    let temps: Vec<String> = (0..count).map(|i| format!(".tmp-{i}")).collect();
    let data: Vec<Vec<u8>> = (0..count).map(payload).collect();
    let fd = open_dir(dir);
    let start = Instant::now();
    for ((keys, temps), data) in keys.chunks(BATCH).zip(temps.chunks(BATCH)).zip(data.chunks(BATCH)) {
        for (temp, data) in temps.iter().zip(data) {
            let file = create_temp(&fd, temp);
            assert_eq!(rustix::io::write(&file, data).unwrap(), data.len());
        }
        rustix::fs::syncfs(&fd).unwrap();
        for (temp, key) in temps.iter().zip(keys) {
            rustix::fs::renameat(&fd, temp.as_str(), &fd, key.as_str()).unwrap();
        }
        rustix::fs::fsync(&fd).unwrap();
    }
    start.elapsed()
}

fn ours(rt: &tokio::runtime::Runtime, dir: &Path, count: usize, sync: SyncMode, threads: Option<usize>) -> Duration {
    let records: Vec<Record> = (0..count)
        .map(|i| Record {
            key: Some(Data::Raw(key(i).into_bytes())),
            payload: Change { before: None, after: Some(Data::Raw(payload(i))) },
            ..Record::default()
        })
        .collect();
    let config = DirectoryConfig { directory: dir.to_path_buf(), atomic: true, sync };
    let format = RecordFormat::default();
    rt.block_on(async {
        let mut destination = DirectoryDestination::configure(config).await.unwrap();
        if let Some(threads) = threads {
            destination.set_write_threads(threads);
        }
        destination.open().await.unwrap();
        let start = Instant::now();
        for batch in records.chunks(BATCH) {
            assert!(destination.write(Batch::new(batch, &format)).await.is_all());
        }
        let elapsed = start.elapsed();
        destination.teardown().await.unwrap();
        elapsed
    })
}

fn raw_batch(dir: &Path, count: usize, v: Variant) -> Duration {
    use std::sync::atomic::{AtomicUsize, Ordering};
    let keys: Vec<String> = (0..count).map(key).collect();
    let temps: Vec<String> = (0..count).map(|i| format!(".tmp-{i}")).collect();
    let data: Vec<Vec<u8>> = (0..count).map(payload).collect();
    let fd = open_dir(dir);
    let start = Instant::now();
    let make_stages = |batch: usize| -> Vec<rustix::fd::OwnedFd> {
        (0..THREADS)
            .map(|t| {
                let name = format!(".stage-{batch}-{t}");
                rustix::fs::mkdirat(&fd, name.as_str(), Mode::from_raw_mode(0o700)).unwrap();
                rustix::fs::openat(
                    &fd,
                    name.as_str(),
                    OFlags::DIRECTORY | OFlags::RDONLY | OFlags::CLOEXEC,
                    Mode::empty(),
                )
                .unwrap()
            })
            .collect()
    };
    for (batch, (keys, temps)) in keys.chunks(BATCH).zip(temps.chunks(BATCH)).enumerate() {
        let data = &data[batch * BATCH..];
        let two_phase = v.two_phase;
        let stages = if v.staging { make_stages(batch) } else { Vec::new() };
        let stages = &stages;
        let next = AtomicUsize::new(0);
        let owner: Vec<AtomicUsize> = (0..keys.len()).map(|_| AtomicUsize::new(usize::MAX)).collect();
        let done = std::sync::Mutex::new(0usize);
        let barrier = std::sync::Barrier::new(THREADS);
        let ready = std::sync::Condvar::new();
        let rename = |i: usize| {
            let from = if v.staging { &stages[owner[i].load(Ordering::Relaxed)] } else { &fd };
            rustix::fs::renameat(from, temps[i].as_str(), &fd, keys[i].as_str()).unwrap();
        };
        std::thread::scope(|scope| {
            for t in 0..THREADS {
                let (next, owner, fd, done, ready, barrier) = (&next, &owner, &fd, &done, &ready, &barrier);
                scope.spawn(move || {
                    let at = stages.get(t).unwrap_or(fd);
                    let mut mine = Vec::new();
                    loop {
                        let i = next.fetch_add(1, Ordering::Relaxed);
                        if i >= temps.len() {
                            break;
                        }
                        let file = create_temp(at, &temps[i]);
                        assert_eq!(rustix::io::write(&file, &data[i]).unwrap(), data[i].len());
                        if two_phase {
                            owner[i].store(t, Ordering::Relaxed);
                            rustix::fs::fadvise(&file, 0, None, rustix::fs::Advice::DontNeed).unwrap();
                            mine.push(file);
                            continue;
                        }
                        rustix::fs::fdatasync(&file).unwrap();
                        owner[i].store(t, Ordering::Release);
                        *done.lock().unwrap() += 1;
                        ready.notify_one();
                    }
                    if two_phase {
                        barrier.wait();
                        for file in mine {
                            rustix::fs::fdatasync(&file).unwrap();
                        }
                    }
                });
            }
            if !v.two_phase {
                for (i, synced_by) in owner.iter().enumerate() {
                    let mut g = done.lock().unwrap();
                    while synced_by.load(Ordering::Acquire) == usize::MAX {
                        g = ready.wait(g).unwrap();
                    }
                    drop(g);
                    rename(i);
                }
            }
        });
        if v.two_phase {
            for i in 0..temps.len() {
                rename(i);
            }
        }
        if v.staging {
            for t in 0..THREADS {
                rustix::fs::unlinkat(&fd, format!(".stage-{batch}-{t}").as_str(), rustix::fs::AtFlags::REMOVEDIR)
                    .unwrap();
            }
        }
        rustix::fs::fsync(&fd).unwrap();
    }
    start.elapsed()
}
