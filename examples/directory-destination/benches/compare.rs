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
//! them alike, and the table shows the median of the repetitions (≥ 5 in a full run). Every
//! contender gets its own copy of the same records (made before its clock starts), writes each
//! record's payload from the record's own memory, and frees each record after writing it, as
//! any destination frees what it consumed (for 1 MiB payloads that `munmap` is a tenth of the
//! time, so leaving it out of the floors alone would skew the ratios):
//!
//! - **floor raw**: `openat(O_CREAT|O_TRUNC)` + `write` + `close` relative to an open
//!   directory handle, names prepared in advance, single thread;
//! - **floor atomic**: the same into one temporary name, then `renameat` onto the key;
//! - **floor raw ×2**: floor raw split across two threads (what parallelism can give here);
//! - **naive**: `std::fs::write(dir.join(key), data)` per record (the Go example translated);
//! - **ours**: `DestinationRunner<DirectoryDestination>` configure + open + write of batches of
//!   [`BATCH`] records (acks produced and checked) + teardown, for the default settings
//!   (atomic) and each durability option;
//! - **end to end** (module `e2e`): the plugin's Run stream (the release binary started as
//!   Conduit starts it; 1 and 100 records per request, at most 2,000 un-acked) against
//!   `directory-destination run --input` (a child process) and the write-only path, over the
//!   same 20,000 × 1 KiB records, with CPU time per record; and the ack latency with one batch
//!   in flight (Conduit's pipeline architecture v2). Only this section:
//!   `cargo bench -p directory-destination --bench compare -- --end-to-end`;
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

mod e2e;
#[path = "../../../connector/benches/thirty/mod.rs"]
mod thirty;
mod write_path;

#[allow(unreachable_pub, reason = "shared with the tests; the bench uses a part")]
#[path = "../tests/plugin_common/mod.rs"]
mod plugin_common;

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
    e2e_reps: usize,
    latency_batches: usize,
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
                e2e_records: 2000,
                e2e_reps: 3,
                latency_batches: 200,
                rss_records: 100_000,
                rss_payload: 64,
                base,
            }
        } else {
            Settings {
                reps: 7,
                counts: [4000, 4000, 1000, 64],
                e2e_records: 20_000,
                // `E2E_REPS=9` for steadier medians on a noisy machine.
                e2e_reps: std::env::var("E2E_REPS").ok().and_then(|v| v.parse().ok()).unwrap_or(5),
                latency_batches: 2000,
                rss_records: 1_000_000,
                rss_payload: 64,
                base,
            }
        }
    }
}

/// One contender: writes the records (its own copy, made before the clock starts, freed as it
/// goes, as any destination frees the records it consumed) into the empty directory `dir`;
/// returns the time.
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
    let args: Vec<String> = std::env::args().collect();
    if let Some(pos) = args.iter().position(|a| a == "--ours-loop") {
        // For profilers: only `ours`, COUNT records of SIZE bytes, with KEY=VALUE options.
        let count = args.get(pos + 1).and_then(|a| a.parse().ok()).unwrap_or(10_000);
        let size = args.get(pos + 2).and_then(|a| a.parse().ok()).unwrap_or(1024);
        let options: Vec<(&str, &str)> = args[pos + 3..].iter().filter_map(|a| a.split_once('=')).collect();
        let dir = std::env::temp_dir().join(format!("conduit-bench-loop-{}", std::process::id()));
        let records = bench_records(&keys(count), &payload(size));
        let threads = std::env::var("BENCH_THREADS").ok().and_then(|t| t.parse().ok());
        let took = ours(&runtime(), &dir, records, &options, threads);
        eprintln!("{count} records in {took:?}");
        let _ = std::fs::remove_dir_all(&dir);
        return ExitCode::SUCCESS;
    }
    let settings = Settings::from_args();
    std::fs::create_dir_all(&settings.base).expect("creating the bench directory");
    let mut report = String::new();
    if args.iter().any(|a| a == "--end-to-end") {
        let _ = writeln!(report, "{}\n", machine_line(&settings, settings.e2e_reps));
        let (section, goals) = e2e::measure(&e2e_settings(&settings));
        let _ = writeln!(report, "{section}");
        goals_table(goals, &mut report);
        let _ = std::fs::remove_dir_all(&settings.base);
        println!("{report}");
        return ExitCode::SUCCESS;
    }
    let _ = writeln!(report, "{}", machine_line(&settings, settings.reps));
    let _ = writeln!(report);
    let writes = write_tables(&settings, &mut report);
    let _ = writeln!(report);
    let e2e = end_to_end(&settings, &mut report);
    let _ = writeln!(report);
    let from_config = config_table(&settings, &mut report);
    let _ = writeln!(report);
    checks(&writes, &e2e, from_config, &mut report);
    let _ = std::fs::remove_dir_all(&settings.base);
    println!("{report}");
    ExitCode::SUCCESS
}

fn machine_line(settings: &Settings, reps: usize) -> String {
    let load = std::fs::read_to_string("/proc/loadavg").unwrap_or_default();
    let load = load.split_whitespace().take(3).collect::<Vec<_>>().join(" ");
    let cpus = std::thread::available_parallelism().map_or(0, |n| n.get());
    format!(
        "Machine: {cpus} CPUs, load average {load} at start; files on {} ({}); medians of {} repetitions.",
        settings.base.parent().unwrap_or(&settings.base).display(),
        fs_type(settings.base.parent().unwrap_or(&settings.base)),
        reps
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

/// Records as a source would send them: raw keys, raw payloads, position and metadata.
fn bench_records(keys: &[String], data: &[u8]) -> Vec<Record> {
    keys.iter()
        .enumerate()
        .map(|(i, key)| {
            let mut r = generated_record(i as u64, 0);
            r.key = Some(key.as_bytes().to_vec().into());
            r.payload.after = Some(data.to_vec().into());
            r
        })
        .collect()
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
fn floor_raw(dir: &Path, names: &[CString], records: Vec<Record>) -> Duration {
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
        write_all(&file, parts(&record).1);
    }
    start.elapsed()
}

/// Temporary openat + write + close + renameat, one thread.
fn floor_atomic(dir: &Path, names: &[CString], records: Vec<Record>) -> Duration {
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
        write_all(&file, parts(&record).1);
        drop(file);
        rustix::fs::renameat(&fd, c".tmp-floor", &fd, name.as_c_str()).expect("renameat");
    }
    start.elapsed()
}

/// Floor raw with the records split between two threads.
fn floor_raw_2(dir: &Path, names: &[CString], mut records: Vec<Record>) -> Duration {
    let half = records.len() / 2;
    let second = records.split_off(half);
    let start = Instant::now();
    std::thread::scope(|s| {
        s.spawn(|| floor_raw(dir, &names[half..], second));
        floor_raw(dir, &names[..half], records);
    });
    start.elapsed()
}

/// The Go example, translated: `std::fs::write(dir.join(key), data)`.
fn naive(dir: &Path, records: Vec<Record>) -> Duration {
    let start = Instant::now();
    for record in records {
        let (key, data) = parts(&record);
        std::fs::write(dir.join(std::ffi::OsStr::from_bytes(key)), data).expect("fs::write");
    }
    start.elapsed()
}

/// A multi-thread runtime, as the SDK's `serve` and `run` use: the directory destination writes
/// in `block_in_place` there, straight from the records' memory (on a current-thread runtime it
/// would copy each batch to the blocking pool, which is not the production path).
fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build().expect("tokio runtime")
}

/// The SDK path: configure, open, write batches (acks checked), teardown.
fn ours(
    rt: &tokio::runtime::Runtime,
    dir: &Path,
    records: Vec<Record>,
    options: &[(&str, &str)],
    threads: Option<usize>,
) -> Duration {
    let config = write_path::config(dir, options);
    let count = records.len();
    let batches = write_path::batches(records, BATCH);
    rt.block_on(async move {
        let start = Instant::now();
        let acked = write_path::write(&config, threads, batches).await;
        let elapsed = start.elapsed();
        assert_eq!(acked, count);
        elapsed
    })
}

/// Runs every contender `reps` times, interleaved, each into a fresh directory; returns the
/// medians.
fn measure(base: &Path, reps: usize, records: &[Record], contenders: &[Run<'_>]) -> Vec<Duration> {
    let mut times: Vec<Vec<Duration>> = vec![Vec::with_capacity(reps); contenders.len()];
    for rep in 0..reps {
        for (i, run) in contenders.iter().enumerate() {
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

/// What the write table measured, per contender and size (records/s).
struct WriteResults {
    names: Vec<&'static str>,
    rates: Vec<[f64; 4]>,
}

impl WriteResults {
    fn get(&self, name: &str, size: usize) -> f64 {
        let i = self.names.iter().position(|n| *n == name).expect("a measured contender");
        self.rates[i][size]
    }
}

/// The write table.
fn write_tables(settings: &Settings, report: &mut String) -> WriteResults {
    let rt = runtime();
    let names: Vec<&'static str> = vec![
        "floor raw",
        "floor atomic",
        "floor raw, 2 threads",
        "naive `fs::write`",
        "ours atomic (default), 1 thread",
        "ours atomic (default), 2 threads",
        "ours `atomic=false`, 1 thread",
        "ours `atomic=false`, 2 threads",
        "ours `sync=file`",
        "ours `sync=batch`",
    ];
    let mut rates = vec![[0.0; 4]; names.len()];
    for (s, (size, &count)) in SIZES.iter().zip(&settings.counts).enumerate() {
        let data = payload(*size);
        let keys = keys(count);
        let c_names: Vec<CString> = keys.iter().map(|k| CString::new(k.as_str()).expect("no NUL")).collect();
        let records = bench_records(&keys, &data);
        let (c_names, rt) = (&c_names, &rt);
        let contenders: Vec<Run<'_>> = vec![
            Box::new(move |d: &Path, r: Vec<Record>| floor_raw(d, c_names, r)),
            Box::new(move |d: &Path, r: Vec<Record>| floor_atomic(d, c_names, r)),
            Box::new(move |d: &Path, r: Vec<Record>| floor_raw_2(d, c_names, r)),
            Box::new(|d: &Path, r: Vec<Record>| naive(d, r)),
            Box::new(move |d: &Path, r| ours(rt, d, r, &[], Some(1))),
            Box::new(move |d: &Path, r| ours(rt, d, r, &[], Some(2))),
            Box::new(move |d: &Path, r| ours(rt, d, r, &[("atomic", "false")], Some(1))),
            Box::new(move |d: &Path, r| ours(rt, d, r, &[("atomic", "false")], Some(2))),
            Box::new(move |d: &Path, r| ours(rt, d, r, &[("sync", "file")], None)),
            Box::new(move |d: &Path, r| ours(rt, d, r, &[("sync", "batch")], None)),
        ];
        eprintln!("writing {} × {} …", count, human_size(*size));
        let medians = measure(&settings.base, settings.reps, &records, &contenders);
        for (i, median) in medians.iter().enumerate() {
            rates[i][s] = rate(count, *median);
        }
    }
    let results = WriteResults { names, rates };

    let _ = writeln!(report, "### Writing files: records/s (ratio to the matching single-thread floor)\n");
    let mut header = "| contender |".to_owned();
    let mut rule = "|---|".to_owned();
    for (size, count) in SIZES.iter().zip(&settings.counts) {
        let _ = write!(header, " {} × {count} |", human_size(*size));
        rule.push_str("---:|");
    }
    let _ = writeln!(report, "{header}\n{rule}");
    for (i, name) in results.names.iter().enumerate() {
        // Atomic modes against the atomic floor, everything else against the raw floor.
        let floor = if name.contains("atomic=false") || !name.starts_with("ours") { 0 } else { 1 };
        let _ = write!(report, "| {name} |");
        for s in 0..SIZES.len() {
            let v = results.rates[i][s];
            if i == floor {
                let _ = write!(report, " {v:.0} |");
            } else {
                let _ = write!(report, " {v:.0} ({:.2}) |", v / results.rates[floor][s]);
            }
        }
        let _ = writeln!(report);
    }
    let _ = write!(report, "| ours `atomic=false` ÷ naive |");
    for s in 0..SIZES.len() {
        let _ = write!(
            report,
            " {:.2} |",
            results.get("ours `atomic=false`, 1 thread", s).max(results.get("ours `atomic=false`, 2 threads", s))
                / results.get("naive `fs::write`", s)
        );
    }
    let _ = writeln!(
        report,
        "\n\nRatios: `ours` atomic rows against floor atomic; `atomic=false` rows, naive and the 2-thread floor against \
         floor raw. \"2 threads\" is `DirectoryDestination::set_write_threads(2)` (atomic batches of ≥ 64 \
         records or 512 KiB: two threads stage the files, one renames them in record order; with a sync mode up \
         to 8 threads write and sync; `atomic=false` writes with one thread; the default on ≥ 2 CPUs), \"1 thread\" is `set_write_threads(1)`; the sync \
         rows use the default. The last row takes the better of 1 and 2 threads. On tmpfs `fsync` is nearly \
         free: the sync rows show the code path, not disk latency. All `ours` rows run on a 2-worker \
         multi-thread runtime, as `serve` and `run` do."
    );
    results
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
    // `run` hands the runner one record at a time; let the SDK's batching form the same
    // 256-record batches the write-only rows use.
    config.insert("sdk.batch.size", "256");
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

/// What the end-to-end section measured.
struct EndToEnd {
    /// The goal rows of the throughput and latency measurements.
    goals: Vec<e2e::Goal>,
    /// Peak RSS of the large run, KiB (`None` if it failed).
    peak_kib: Option<u64>,
    rss_records: u64,
}

fn e2e_settings(settings: &Settings) -> e2e::Settings {
    e2e::Settings {
        reps: settings.e2e_reps,
        records: settings.e2e_records,
        payload: 1024,
        latency_batches: settings.latency_batches,
        base: settings.base.join("e2e"),
    }
}

fn end_to_end(settings: &Settings, report: &mut String) -> EndToEnd {
    let (section, goals) = e2e::measure(&e2e_settings(settings));
    let _ = write!(report, "{section}");

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
    let peak_kib = hwm.trim_end_matches("kB").trim().parse::<u64>().ok().filter(|_| output.status.success());
    let secs = text.lines().find_map(|l| l.strip_prefix("seconds:")).map(str::trim).unwrap_or("?");
    let _ = writeln!(
        report,
        "\nPeak RSS of `run` over {n} records ({input_mb:.0} MB of JSON lines, {}-byte payloads, keys cycling over {RSS_KEYS} files): **{hwm}** (VmHWM; {secs} s; exit {}).",
        settings.rss_payload,
        if output.status.success() { "ok" } else { "FAILED" },
    );
    drop(std::fs::remove_file(&input));
    EndToEnd { goals, peak_kib, rss_records: n }
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

fn config_table(settings: &Settings, report: &mut String) -> Duration {
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
    let _ = writeln!(
        report,
        "| `from_config`, 30 parameters (32 keys, nested, maps, durations) | {:.2} µs | < 5 µs |",
        us(from_config)
    );
    let _ = writeln!(report, "| `parameters()`, 30 parameters | {:.2} µs | – |", us(parameters));
    let _ = writeln!(
        report,
        "| `DestinationRunner::<DirectoryDestination>::configure` (connector + `sdk.*` parameters) | {:.2} µs | – |",
        us(configure)
    );
    from_config
}

/// The issue's "done when" ratios, from this run.
fn checks(writes: &WriteResults, e2e: &EndToEnd, from_config: Duration, report: &mut String) {
    let best = |a: &str, b: &str, s: usize| writes.get(a, s).max(writes.get(b, s));
    let mut rows: Vec<(String, String, bool)> = Vec::new();
    for (s, label) in [(1, "1 KiB"), (2, "64 KiB")] {
        let atomic = best("ours atomic (default), 1 thread", "ours atomic (default), 2 threads", s)
            / writes.get("floor atomic", s);
        rows.push((
            format!("ours atomic ÷ floor atomic, {label} (better of 1/2 threads) ≥ 0.8"),
            format!("{atomic:.2}"),
            atomic >= 0.8,
        ));
        let raw =
            best("ours `atomic=false`, 1 thread", "ours `atomic=false`, 2 threads", s) / writes.get("floor raw", s);
        rows.push((
            format!("ours `atomic=false` ÷ floor raw, {label} (better of 1/2 threads) ≥ 0.8"),
            format!("{raw:.2}"),
            raw >= 0.8,
        ));
    }
    for (s, size) in SIZES.iter().enumerate() {
        let r = best("ours `atomic=false`, 1 thread", "ours `atomic=false`, 2 threads", s)
            / writes.get("naive `fs::write`", s);
        rows.push((
            format!("ours `atomic=false` ≥ naive, {} (better of 1/2 threads)", human_size(*size)),
            format!("{r:.2}"),
            r >= 1.0,
        ));
    }
    rows.extend(e2e.goals.iter().cloned());
    let rss = e2e.peak_kib.map_or("failed".to_owned(), |k| format!("{:.1} MiB", k as f64 / 1024.0));
    rows.push((
        format!("peak RSS of `run` over {} records < 64 MiB", e2e.rss_records),
        rss,
        e2e.peak_kib.is_some_and(|k| k < 64 * 1024),
    ));
    rows.push((
        "`from_config`, 30 parameters < 5 µs".to_owned(),
        format!("{:.2} µs", us(from_config)),
        us(from_config) < 5.0,
    ));
    goals_table(rows, report);
}

fn goals_table(rows: Vec<e2e::Goal>, report: &mut String) {
    let _ = writeln!(report, "### Goals (from this run)\n");
    let _ = writeln!(report, "| goal | measured | met |");
    let _ = writeln!(report, "|---|---:|:---:|");
    for (goal, measured, met) in rows {
        let _ = writeln!(report, "| {goal} | {measured} | {} |", if met { "yes" } else { "**no**" });
    }
}

fn us(d: Duration) -> f64 {
    d.as_secs_f64() * 1e6
}
