//! The comparison table of the README's "Performance" section, measured in one run.
//!
//! ```text
//! cargo bench -p directory-destination --bench compare            # full run (a few minutes)
//! cargo bench -p directory-destination --bench compare -- --quick # 3 repetitions, smaller inputs
//! ```
//!
//! Everything is written under `/dev/shm` (tmpfs; set `BENCH_DIR` to change it), so the table
//! shows the cost of the system calls and of our code, not of a disk. For every payload size
//! (64 B, 1 KiB, 64 KiB, 1 MiB) each contender writes the same keys into a fresh empty
//! directory; contenders are interleaved within each repetition so machine load hits all of
//! them alike, and the table shows the median of the repetitions (≥ 5 in a full run):
//!
//! - **floor raw**: `openat(O_CREAT|O_TRUNC)` + `write` + `close` relative to an open
//!   directory handle, names prepared in advance, single thread;
//! - **floor atomic**: the same into one temporary name, then `renameat` onto the key;
//! - **floor raw ×2**: floor raw split across two threads (what parallelism can give here);
//! - **naive**: `std::fs::write(dir.join(key), data)` per record (the Go example translated);
//! - **ours**: `DestinationRunner<DirectoryDestination>` configure + open + write of batches of
//!   [`BATCH`] records (acks produced and checked) + teardown, for the default settings
//!   (atomic) and each durability option;
//! - **end to end**: `directory-destination run` (in process: `cli::run`) over an OpenCDC
//!   JSON-lines file of 1 KiB records: read, parse, write, ack;
//! - **config**: `from_config` and `parameters()` of a 30-parameter struct;
//! - **peak RSS**: `run` over a 1,000,000-record input in a child process (`VmHWM`).

use std::collections::HashMap;
use std::ffi::CString;
use std::fmt::Write as _;
use std::hint::black_box;
use std::io::Write as _;
use std::os::unix::ffi::OsStrExt;
use std::path::{Path, PathBuf};
use std::process::{Command, ExitCode};
use std::time::{Duration, Instant};

use conduit_connector::Config;
use conduit_connector::cli::{Input, generated_record};
use conduit_connector::config::ConfigMap;
use conduit_connector::destination::DestinationRunner;
use conduit_connector::opencdc::{Data, Record};
use directory_destination::DirectoryDestination;
use rustix::fs::{Mode, OFlags};

#[path = "../../../connector/benches/thirty/mod.rs"]
mod thirty;

/// Records per `DestinationRunner::write` call.
const BATCH: usize = 256;
const SIZES: [usize; 4] = [64, 1024, 64 * 1024, 1024 * 1024];
/// Distinct keys of the peak-RSS input (the directory holds at most this many files).
const RSS_KEYS: u64 = 10_000;
const CHILD_ENV: &str = "CONDUIT_BENCH_RSS_CHILD";

struct Settings {
    reps: usize,
    /// Records per contender and repetition, by payload size.
    counts: [usize; 4],
    e2e_records: usize,
    rss_records: u64,
    rss_payload: usize,
    base: PathBuf,
}

impl Settings {
    fn from_args() -> Settings {
        let args: Vec<String> = std::env::args().collect();
        let quick = args.iter().any(|a| a == "--quick");
        let base = std::env::var_os("BENCH_DIR").map_or_else(|| PathBuf::from("/dev/shm"), PathBuf::from);
        let base = base.join(format!("conduit-bench-{}", std::process::id()));
        if quick {
            Settings {
                reps: 3,
                counts: [1000, 1000, 200, 16],
                e2e_records: 1000,
                rss_records: 100_000,
                rss_payload: 64,
                base,
            }
        } else {
            Settings {
                reps: 7,
                counts: [4000, 4000, 1000, 64],
                e2e_records: 4000,
                rss_records: 1_000_000,
                rss_payload: 64,
                base,
            }
        }
    }
}

/// One contender: writes the records (a fresh copy, made before the clock starts) into the
/// empty directory `dir`; returns the time.
type Run<'a> = Box<dyn Fn(&Path, Vec<Record>) -> Duration + 'a>;

fn main() -> ExitCode {
    if std::env::var_os(CHILD_ENV).is_some() {
        return rss_child();
    }
    if let Some(n) = std::env::args().skip_while(|a| a != "--config-loop").nth(1) {
        // For profilers (e.g. `valgrind --tool=callgrind`): only `from_config`, N times.
        let config = thirty::thirty_config();
        for _ in 0..n.parse::<usize>().unwrap_or(1000) {
            black_box(thirty::Thirty::from_config(black_box(&config)).is_ok());
        }
        return ExitCode::SUCCESS;
    }
    let settings = Settings::from_args();
    std::fs::create_dir_all(&settings.base).expect("creating the bench directory");
    let mut report = String::new();
    let _ = writeln!(report, "{}", machine_line(&settings));
    let _ = writeln!(report);
    let one_kib = write_tables(&settings, &mut report);
    let _ = writeln!(report);
    end_to_end(&settings, one_kib, &mut report);
    let _ = writeln!(report);
    config_table(&settings, &mut report);
    let _ = std::fs::remove_dir_all(&settings.base);
    println!("{report}");
    ExitCode::SUCCESS
}

fn machine_line(settings: &Settings) -> String {
    let load = std::fs::read_to_string("/proc/loadavg").unwrap_or_default();
    let load = load.split_whitespace().take(3).collect::<Vec<_>>().join(" ");
    let cpus = std::thread::available_parallelism().map_or(0, |n| n.get());
    format!(
        "Machine: {cpus} CPUs, load average {load} at start; files on {} ({}); medians of {} repetitions.",
        settings.base.parent().unwrap_or(&settings.base).display(),
        fs_type(settings.base.parent().unwrap_or(&settings.base)),
        settings.reps
    )
}

fn fs_type(path: &Path) -> String {
    let mounts = std::fs::read_to_string("/proc/mounts").unwrap_or_default();
    let mut best = ("?".to_owned(), 0);
    for line in mounts.lines() {
        let mut fields = line.split_whitespace();
        let (Some(_), Some(mount), Some(ty)) = (fields.next(), fields.next(), fields.next()) else { continue };
        if path.starts_with(mount) && mount.len() >= best.1 {
            best = (ty.to_owned(), mount.len());
        }
    }
    best.0
}

fn keys(count: usize) -> Vec<String> {
    (0..count).map(|i| format!("record-{i:08}")).collect()
}

fn payload(size: usize) -> Vec<u8> {
    (0..size).map(|i| b'a' + (i % 23) as u8).collect()
}

fn open_dir(dir: &Path) -> rustix::fd::OwnedFd {
    rustix::fs::open(dir, OFlags::DIRECTORY | OFlags::RDONLY | OFlags::CLOEXEC, Mode::empty()).expect("opening dir")
}

fn write_all(fd: &rustix::fd::OwnedFd, mut data: &[u8]) {
    while !data.is_empty() {
        let n = rustix::io::write(fd, data).expect("write");
        data = &data[n..];
    }
}

/// A record's key and raw payload (the floors and naive write the records' own bytes, so every
/// contender reads the same memory).
fn parts(record: &Record) -> (&[u8], &[u8]) {
    match (&record.key, &record.payload.after) {
        (Some(Data::Raw(key)), Some(Data::Raw(data))) => (key, data),
        _ => panic!("bench records have raw keys and payloads"),
    }
}

/// openat + write + close, one thread; names prepared in advance as C strings.
fn floor_raw(dir: &Path, names: &[CString], records: &[Record]) -> Duration {
    let fd = open_dir(dir);
    let start = Instant::now();
    for (name, record) in names.iter().zip(records) {
        let file = rustix::fs::openat(
            &fd,
            name.as_c_str(),
            OFlags::WRONLY | OFlags::CREATE | OFlags::TRUNC | OFlags::CLOEXEC,
            Mode::from_raw_mode(0o644),
        )
        .expect("openat");
        write_all(&file, parts(record).1);
    }
    start.elapsed()
}

/// Temporary openat + write + close + renameat, one thread.
fn floor_atomic(dir: &Path, names: &[CString], records: &[Record]) -> Duration {
    let fd = open_dir(dir);
    let start = Instant::now();
    for (name, record) in names.iter().zip(records) {
        let file = rustix::fs::openat(
            &fd,
            c".tmp-floor",
            OFlags::WRONLY | OFlags::CREATE | OFlags::EXCL | OFlags::CLOEXEC,
            Mode::from_raw_mode(0o644),
        )
        .expect("openat");
        write_all(&file, parts(record).1);
        drop(file);
        rustix::fs::renameat(&fd, c".tmp-floor", &fd, name.as_c_str()).expect("renameat");
    }
    start.elapsed()
}

/// Floor raw with the records split between two threads.
fn floor_raw_2(dir: &Path, names: &[CString], records: &[Record]) -> Duration {
    let half = records.len() / 2;
    let start = Instant::now();
    std::thread::scope(|s| {
        s.spawn(|| floor_raw(dir, &names[half..], &records[half..]));
        floor_raw(dir, &names[..half], &records[..half]);
    });
    start.elapsed()
}

/// The Go example, translated: `std::fs::write(dir.join(key), data)`.
fn naive(dir: &Path, records: &[Record]) -> Duration {
    let start = Instant::now();
    for record in records {
        let (key, data) = parts(record);
        std::fs::write(dir.join(std::ffi::OsStr::from_bytes(key)), data).expect("fs::write");
    }
    start.elapsed()
}

fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_current_thread().enable_all().build().expect("tokio runtime")
}

/// The SDK path: configure, open, write batches (acks checked), teardown.
fn ours(rt: &tokio::runtime::Runtime, dir: &Path, records: Vec<Record>, options: &[(&str, &str)]) -> Duration {
    let mut config = ConfigMap::new();
    config.insert("directory", dir.to_string_lossy().into_owned());
    for (k, v) in options {
        config.insert(*k, *v);
    }
    let count = records.len();
    let mut records = records.into_iter();
    let batches: Vec<Vec<Record>> =
        std::iter::from_fn(|| Some(records.by_ref().take(BATCH).collect::<Vec<_>>()).filter(|b| !b.is_empty()))
            .collect();
    rt.block_on(async move {
        let start = Instant::now();
        let mut runner = DestinationRunner::<DirectoryDestination>::configure(&config).await.expect("configure");
        runner.open().await.expect("open");
        let mut acked = 0;
        for batch in batches {
            for ack in runner.write(batch).await {
                assert!(ack.error.is_none(), "write failed: {:?}", ack.error);
                acked += 1;
            }
        }
        for ack in runner.flush().await {
            assert!(ack.error.is_none(), "write failed: {:?}", ack.error);
            acked += 1;
        }
        runner.teardown().await.expect("teardown");
        let elapsed = start.elapsed();
        assert_eq!(acked, count);
        elapsed
    })
}

/// Runs every contender `reps` times, interleaved, each into a fresh directory; returns the
/// medians.
fn measure(base: &Path, reps: usize, records: &[Record], contenders: &[(&str, Run<'_>)]) -> Vec<Duration> {
    let mut times: Vec<Vec<Duration>> = vec![Vec::with_capacity(reps); contenders.len()];
    for rep in 0..reps {
        for (i, (_, run)) in contenders.iter().enumerate() {
            let dir = base.join(format!("c{i}-r{rep}"));
            std::fs::create_dir_all(&dir).expect("creating a run directory");
            times[i].push(run(&dir, records.to_vec()));
            std::fs::remove_dir_all(&dir).expect("removing a run directory");
        }
    }
    times.into_iter().map(median).collect()
}

fn median(mut v: Vec<Duration>) -> Duration {
    v.sort_unstable();
    v[v.len() / 2]
}

fn rate(count: usize, d: Duration) -> f64 {
    count as f64 / d.as_secs_f64().max(1e-12)
}

fn human_size(size: usize) -> String {
    match size {
        s if s >= 1 << 20 => format!("{} MiB", s >> 20),
        s if s >= 1 << 10 => format!("{} KiB", s >> 10),
        s => format!("{s} B"),
    }
}

/// The write tables; returns the records/s of ours (default settings) for 1 KiB.
fn write_tables(settings: &Settings, report: &mut String) -> f64 {
    let rt = runtime();
    let _ = writeln!(report, "### Writing files (records/s; ratio to the matching single-thread floor)\n");
    let _ = writeln!(
        report,
        "| payload | records | floor raw | floor atomic | floor raw ×2 threads | naive `fs::write` | ours atomic (default) | ours `atomic=false` | ours `sync=file` | ours `sync=batch` | ours `atomic=false` ÷ naive |"
    );
    let _ = writeln!(report, "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|");
    let mut one_kib = 0.0;
    for (size, &count) in SIZES.iter().zip(&settings.counts) {
        let data = payload(*size);
        let keys = keys(count);
        let names: Vec<CString> = keys.iter().map(|k| CString::new(k.as_str()).expect("no NUL")).collect();
        let records: Vec<Record> = (0..count as u64)
            .map(|i| {
                let mut r = generated_record(i, 0);
                r.key = Some(keys[i as usize].as_bytes().to_vec().into());
                r.payload.after = Some(data.clone().into());
                r
            })
            .collect();
        let (names, rt) = (&names, &rt);
        let contenders: Vec<(&str, Run<'_>)> = vec![
            ("floor raw", Box::new(move |d: &Path, r: Vec<Record>| floor_raw(d, names, &r))),
            ("floor atomic", Box::new(move |d: &Path, r: Vec<Record>| floor_atomic(d, names, &r))),
            ("floor raw x2", Box::new(move |d: &Path, r: Vec<Record>| floor_raw_2(d, names, &r))),
            ("naive", Box::new(|d: &Path, r: Vec<Record>| naive(d, &r))),
            ("ours atomic", Box::new(move |d: &Path, r| ours(rt, d, r, &[]))),
            ("ours non-atomic", Box::new(move |d: &Path, r| ours(rt, d, r, &[("atomic", "false")]))),
            ("ours sync=file", Box::new(move |d: &Path, r| ours(rt, d, r, &[("sync", "file")]))),
            ("ours sync=batch", Box::new(move |d: &Path, r| ours(rt, d, r, &[("sync", "batch")]))),
        ];
        eprintln!("writing {} × {} …", count, human_size(*size));
        let m = measure(&settings.base, settings.reps, &records, &contenders);
        let r: Vec<f64> = m.iter().map(|d| rate(count, *d)).collect();
        let (raw, atomic) = (r[0], r[1]);
        let cell = |v: f64, floor: f64| format!("{v:.0} ({:.2})", v / floor);
        let _ = writeln!(
            report,
            "| {} | {count} | {:.0} | {:.0} | {} | {} | {} | {} | {} | {} | {:.2} |",
            human_size(*size),
            raw,
            atomic,
            cell(r[2], raw),
            cell(r[3], raw),
            cell(r[4], atomic),
            cell(r[5], raw),
            cell(r[6], atomic),
            cell(r[7], atomic),
            r[5] / r[3],
        );
        if *size == 1024 {
            one_kib = r[4];
        }
    }
    let _ = writeln!(
        report,
        "\nRatios: atomic modes against floor atomic, `atomic=false` and the other floors against floor raw. \
         On tmpfs `fsync` is nearly free, so the sync rows show the code path, not disk latency."
    );
    one_kib
}

/// Writes `count` OpenCDC JSON lines with `payload_size`-byte raw payloads; keys cycle over
/// `distinct` names.
fn write_input(path: &Path, count: u64, payload_size: usize, distinct: u64) {
    let file = std::fs::File::create(path).expect("creating the input file");
    let mut out = std::io::BufWriter::with_capacity(1 << 20, file);
    let mut line = Vec::new();
    for i in 0..count {
        let mut record = generated_record(i, payload_size);
        record.key = Some(format!("record-{:08}", i % distinct).into_bytes().into());
        line.clear();
        record.write_json(&mut line);
        line.push(b'\n');
        out.write_all(&line).expect("writing the input file");
    }
    out.flush().expect("writing the input file");
}

/// `run` in process, as the binary does it (multi-thread runtime, 2 workers).
fn run_cli(input: &Path, dir: &Path) -> (Duration, String, bool) {
    let mut config = ConfigMap::new();
    config.insert("directory", dir.to_string_lossy().into_owned());
    let rt = tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build().expect("tokio runtime");
    let mut out = Vec::new();
    let start = Instant::now();
    let code = rt.block_on(conduit_connector::cli::run::<DirectoryDestination>(
        config,
        Input::File(input.to_path_buf()),
        false,
        &mut out,
    ));
    let elapsed = start.elapsed();
    (elapsed, String::from_utf8_lossy(&out).into_owned(), code == ExitCode::SUCCESS)
}

fn end_to_end(settings: &Settings, ours_1k: f64, report: &mut String) {
    let count = settings.e2e_records;
    let input = settings.base.join("e2e-input.jsonl");
    write_input(&input, count as u64, 1024, u64::MAX);
    let input_bytes = std::fs::metadata(&input).map_or(0, |m| m.len());
    eprintln!("end to end: {count} × 1 KiB …");
    let mut times = Vec::new();
    for rep in 0..settings.reps {
        let dir = settings.base.join(format!("e2e-{rep}"));
        let (elapsed, summary, ok) = run_cli(&input, &dir);
        assert!(ok && summary.contains(&format!("written: {count} ")), "run failed: {summary}");
        times.push(elapsed);
        std::fs::remove_dir_all(&dir).expect("removing a run directory");
    }
    let t = median(times);
    let rps = rate(count, t);
    let mbps = input_bytes as f64 / t.as_secs_f64() / 1e6;
    let payload_mbps = (count * 1024) as f64 / t.as_secs_f64() / 1e6;
    let _ = writeln!(report, "### End to end (`directory-destination run`, 1 KiB records, default settings)\n");
    let _ = writeln!(report, "| what | records/s | MB/s | ratio |");
    let _ = writeln!(report, "|---|---:|---:|---:|");
    let _ = writeln!(report, "| ours write-only (from the table above) | {ours_1k:.0} | {:.1} payload | 1.00 |", ours_1k * 1024.0 / 1e6);
    let _ = writeln!(
        report,
        "| `run` over {count} JSON lines ({:.1} MB): read + parse + write + ack | {rps:.0} | {mbps:.1} input, {payload_mbps:.1} payload | {:.2} |",
        input_bytes as f64 / 1e6,
        rps / ours_1k
    );
    let _ = writeln!(report, "| plugin Run stream | – | – | not measured: plugin mode is not in this build yet |");
    drop(std::fs::remove_file(&input));

    // Peak RSS over a large input, in a child so the parent's allocations do not count.
    let n = settings.rss_records;
    let input = settings.base.join("rss-input.jsonl");
    write_input(&input, n, settings.rss_payload, RSS_KEYS);
    let input_mb = std::fs::metadata(&input).map_or(0, |m| m.len()) as f64 / 1e6;
    eprintln!("peak RSS: {n} records …");
    let exe = std::env::current_exe().expect("current exe");
    let output = Command::new(exe)
        .env(CHILD_ENV, "1")
        .arg(&input)
        .arg(settings.base.join("rss-out"))
        .output()
        .expect("starting the RSS child");
    let text = String::from_utf8_lossy(&output.stdout);
    let hwm = text.lines().find_map(|l| l.strip_prefix("VmHWM:")).map(str::trim).unwrap_or("?");
    let secs = text.lines().find_map(|l| l.strip_prefix("seconds:")).map(str::trim).unwrap_or("?");
    let _ = writeln!(
        report,
        "\nPeak RSS of `run` over {n} records ({input_mb:.0} MB of JSON lines, {}-byte payloads, keys cycling over {RSS_KEYS} files): **{hwm}** (VmHWM; {secs} s; exit {}).",
        settings.rss_payload,
        if output.status.success() { "ok" } else { "FAILED" },
    );
    drop(std::fs::remove_file(&input));
}

/// The child of the peak-RSS measurement: `run` over `argv[1]` into `argv[2]`, then prints
/// its own peak RSS.
fn rss_child() -> ExitCode {
    let args: Vec<PathBuf> = std::env::args_os().skip(1).map(PathBuf::from).collect();
    let [input, dir] = &args[..] else {
        eprintln!("usage: {CHILD_ENV}=1 compare INPUT DIR");
        return ExitCode::FAILURE;
    };
    let (elapsed, summary, ok) = run_cli(input, dir);
    let _ = std::fs::remove_dir_all(dir);
    let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    for line in status.lines().filter(|l| l.starts_with("VmHWM:")) {
        println!("{line}");
    }
    println!("seconds: {:.1}", elapsed.as_secs_f64());
    print!("{summary}");
    if ok { ExitCode::SUCCESS } else { ExitCode::FAILURE }
}

/// Median time per call of `f`, from `reps` rounds of `calls` calls.
fn per_call<T>(reps: usize, calls: usize, mut f: impl FnMut() -> T) -> Duration {
    let mut times = Vec::with_capacity(reps);
    for _ in 0..reps {
        let start = Instant::now();
        for _ in 0..calls {
            black_box(f());
        }
        times.push(start.elapsed() / calls as u32);
    }
    median(times)
}

fn config_table(settings: &Settings, report: &mut String) {
    let config: HashMap<String, String> = thirty::thirty_config();
    thirty::check(&config);
    let reps = settings.reps.max(5) * 3;
    let from_config = per_call(reps, 20_000, || thirty::Thirty::from_config(black_box(&config)).is_ok());
    let parameters = per_call(reps, 5_000, || thirty::Thirty::parameters().len());
    let rt = runtime();
    let mut map = ConfigMap::new();
    map.insert("directory", "/dev/shm/unused");
    let configure =
        per_call(reps, 5_000, || rt.block_on(DestinationRunner::<DirectoryDestination>::configure(&map)).is_ok());
    let _ = writeln!(report, "### Config (median time per call)\n");
    let _ = writeln!(report, "| what | time | goal |");
    let _ = writeln!(report, "|---|---:|---:|");
    let _ = writeln!(report, "| `from_config`, 30 parameters (32 keys, nested, maps, durations) | {:.2} µs | < 5 µs |", us(from_config));
    let _ = writeln!(report, "| `parameters()`, 30 parameters | {:.2} µs | – |", us(parameters));
    let _ = writeln!(
        report,
        "| `DestinationRunner::<DirectoryDestination>::configure` (connector + `sdk.*` parameters) | {:.2} µs | – |",
        us(configure)
    );
}

fn us(d: Duration) -> f64 {
    d.as_secs_f64() * 1e6
}
