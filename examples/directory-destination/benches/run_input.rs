//! `run --input` against the write-only path over the same records, in one run.
//!
//! ```text
//! cargo bench -p directory-destination --bench run_input              # 20,000 × 1 KiB, 7 repetitions
//! cargo bench -p directory-destination --bench run_input -- 50000 9   # records, repetitions
//! ```
//!
//! Contenders, interleaved within each repetition (so machine load hits all alike), each into a
//! fresh directory under `/dev/shm` (`BENCH_DIR` to change it); the table shows medians:
//!
//! - **write-only**: `DestinationRunner<DirectoryDestination>` configure + open + `write` of
//!   batches of 256 records already in memory (acks checked) + teardown, default settings — the
//!   "ours" row of the `compare` bench;
//! - **run --input (in process)**: `cli::run_with` over an OpenCDC JSON-lines file of the same
//!   records with `sdk.batch.size=256`, on the runtime the binary builds (2 workers): read,
//!   parse, write, ack;
//! - **run --generate (no parsing)**: the same pipeline over `count` generated records of the
//!   same size (what `run` costs without reading and parsing);
//! - **run --input (release binary)**: the same as a child process,
//!   `directory-destination run --input FILE --config directory=… --config sdk.batch.size=256`
//!   (only when `target/release/directory-destination` exists, or `BENCH_BIN` names it);
//! - **run --input, BENCH_BASELINE_BIN**: the same with another build of the binary (e.g. the
//!   commit before a change), for a before/after comparison in one run.
//!
//! - **read + parse only**: `JsonLines` over the file on one thread, records dropped — the
//!   work `run`'s reader thread adds to the writes.
//!
//! CPU per record is the process's CPU time (every thread, user + system) divided by the
//! records; for the binaries from `/proc/<pid>/stat` (10 ms ticks) before the child is reaped.

use std::io::Write as _;
use std::path::{Path, PathBuf};
use std::process::{Command, ExitCode};
use std::time::{Duration, Instant};

use conduit_connector::cli::{Input, RunOptions, generated_record, run_with};
use conduit_connector::config::ConfigMap;
use conduit_connector::opencdc::{JsonLines, Record};
use directory_destination::DirectoryDestination;

mod write_path;

const PAYLOAD: usize = 1024;
const BATCH: usize = 256;

fn record(i: u64) -> Record {
    let mut record = generated_record(i, PAYLOAD);
    record.key = Some(format!("record-{i:08}").into_bytes().into());
    record
}

fn write_input(path: &Path, count: u64) {
    let file = std::fs::File::create(path).expect("creating the input file");
    let mut out = std::io::BufWriter::with_capacity(1 << 20, file);
    let mut line = Vec::new();
    for i in 0..count {
        line.clear();
        record(i).write_json(&mut line);
        line.push(b'\n');
        out.write_all(&line).expect("writing the input file");
    }
    out.flush().expect("writing the input file");
}

/// CPU time of this process (every thread), user + system.
fn cpu() -> Duration {
    let t = rustix::time::clock_gettime(rustix::time::ClockId::ProcessCPUTime);
    Duration::new(u64::try_from(t.tv_sec).unwrap_or(0), u32::try_from(t.tv_nsec).unwrap_or(0))
}

fn write_only(dir: &Path, records: Vec<Record>) -> (Duration, Duration) {
    let rt = tokio::runtime::Builder::new_current_thread().enable_all().build().expect("tokio runtime");
    let config = write_path::config(dir, &[]);
    let count = records.len();
    let batches = write_path::batches(records, BATCH);
    rt.block_on(async move {
        let (start, cpu0) = (Instant::now(), cpu());
        let acked = write_path::write(&config, None, batches).await;
        let times = (start.elapsed(), cpu() - cpu0);
        assert_eq!(acked, count);
        times
    })
}

fn run_in_process(input: Input, dir: &Path, count: usize) -> (Duration, Duration) {
    let mut config = ConfigMap::new();
    config.insert("directory", dir.to_string_lossy().into_owned());
    config.insert("sdk.batch.size", BATCH.to_string());
    let rt = tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build().expect("tokio runtime");
    let mut out = Vec::new();
    let (start, cpu0) = (Instant::now(), cpu());
    let code = rt.block_on(run_with::<DirectoryDestination>(config, input, &RunOptions::default(), &mut out));
    let times = (start.elapsed(), cpu() - cpu0);
    let summary = String::from_utf8_lossy(&out);
    assert!(code == ExitCode::SUCCESS && summary.contains(&format!("written: {count} ")), "run failed: {summary}");
    times
}

/// User + system CPU time of a child that has exited but is not reaped yet (state `Z` in
/// `/proc/<pid>/stat`; times in USER_HZ = 100 ticks a second).
fn zombie_cpu(pid: u32) -> Option<Duration> {
    let start = Instant::now();
    while start.elapsed() < Duration::from_secs(600) {
        let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
        // Fields after the command name (which may hold spaces) in parentheses.
        let fields: Vec<&str> = stat.rsplit_once(')')?.1.split_whitespace().collect();
        if fields.first() == Some(&"Z") {
            let ticks = fields.get(11)?.parse::<u64>().ok()? + fields.get(12)?.parse::<u64>().ok()?;
            return Some(Duration::from_millis(ticks * 10));
        }
        std::thread::sleep(Duration::from_micros(200));
    }
    None
}

fn run_binary(bin: &Path, input: &Path, dir: &Path, count: usize) -> (Duration, Option<Duration>) {
    let start = Instant::now();
    let mut child = Command::new(bin)
        .args(["run", "--quiet", "--input"])
        .arg(input)
        .arg("--config")
        .arg(format!("directory={}", dir.display()))
        .args(["--config", &format!("sdk.batch.size={BATCH}")])
        .env_remove("CONDUIT_PLUGIN_MAGIC_COOKIE")
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .expect("starting the binary");
    let cpu = zombie_cpu(child.id());
    let elapsed = start.elapsed();
    let mut summary = String::new();
    if let Some(mut out) = child.stdout.take() {
        std::io::Read::read_to_string(&mut out, &mut summary).expect("reading the summary");
    }
    let status = child.wait().expect("waiting for the binary");
    assert!(status.success() && summary.contains(&format!("written: {count} ")), "run failed: {summary}");
    (elapsed, cpu)
}

fn median(mut v: Vec<Duration>) -> Duration {
    v.sort_unstable();
    v[v.len() / 2]
}

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).filter(|a| !a.starts_with('-')).collect();
    let count: usize = args.first().and_then(|a| a.parse().ok()).unwrap_or(20_000);
    let reps: usize = args.get(1).and_then(|a| a.parse().ok()).unwrap_or(7).max(1);
    let base = std::env::var_os("BENCH_DIR").map_or_else(|| PathBuf::from("/dev/shm"), PathBuf::from);
    let base = base.join(format!("conduit-run-input-{}", std::process::id()));
    std::fs::create_dir_all(&base).expect("creating the bench directory");
    let input = base.join("input.jsonl");
    write_input(&input, count as u64);
    let input_mb = std::fs::metadata(&input).map_or(0, |m| m.len()) as f64 / 1e6;
    let bin = std::env::var_os("BENCH_BIN").map(PathBuf::from).or_else(|| {
        let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../target/release/directory-destination");
        path.exists().then_some(path)
    });
    let records: Vec<Record> = (0..count as u64).map(record).collect();

    let mut names = vec![
        "write-only (runner, batches of 256)",
        "run --input, in process",
        "run --generate (no parsing), in process",
    ];
    if bin.is_some() {
        names.push("run --input, release binary");
    }
    let baseline = std::env::var_os("BENCH_BASELINE_BIN").map(PathBuf::from);
    if baseline.is_some() {
        names.push("run --input, BENCH_BASELINE_BIN");
    }
    let mut wall: Vec<Vec<Duration>> = vec![Vec::new(); names.len()];
    let mut cpu_times: Vec<Vec<Duration>> = vec![Vec::new(); names.len()];
    eprintln!("{count} × {PAYLOAD} B records ({input_mb:.1} MB of JSON lines), {reps} repetitions …");
    for rep in 0..reps {
        for (i, _) in names.iter().enumerate() {
            let dir = base.join(format!("c{i}-r{rep}"));
            let (t, c) = match i {
                0 => {
                    let (t, c) = write_only(&dir, records.clone());
                    (t, Some(c))
                }
                1 => {
                    let (t, c) = run_in_process(Input::File(input.clone()), &dir, count);
                    (t, Some(c))
                }
                2 => {
                    let generate = Input::Generate { count: count as u64, payload_size: PAYLOAD };
                    let (t, c) = run_in_process(generate, &dir, count);
                    (t, Some(c))
                }
                3 if bin.is_some() => run_binary(bin.as_deref().expect("a binary"), &input, &dir, count),
                _ => run_binary(baseline.as_deref().expect("a baseline binary"), &input, &dir, count),
            };
            wall[i].push(t);
            cpu_times[i].extend(c);
            std::fs::remove_dir_all(&dir).expect("removing a run directory");
        }
    }

    // Reading and parsing alone, one thread, as `run`'s reader thread does it (after the
    // contenders, so its page cache and allocator state do not favour them).
    let mut parse = Vec::new();
    for _ in 0..reps {
        let (start, cpu0) = (Instant::now(), cpu());
        let file = std::fs::File::open(&input).expect("opening the input");
        let lines = JsonLines::new(std::io::BufReader::with_capacity(1 << 16, file));
        let mut parsed = 0;
        for record in lines {
            std::hint::black_box(record.expect("a valid line"));
            parsed += 1;
        }
        assert_eq!(parsed, count);
        parse.push((start.elapsed(), cpu() - cpu0));
    }
    let _ = std::fs::remove_dir_all(&base);

    let base_rate = count as f64 / median(wall[0].clone()).as_secs_f64();
    println!("| contender | records/s | ratio to write-only | CPU µs/record |");
    println!("|---|---:|---:|---:|");
    for (i, name) in names.iter().enumerate() {
        let rate = count as f64 / median(wall[i].clone()).as_secs_f64();
        let cpu_us = if cpu_times[i].is_empty() {
            "–".to_owned()
        } else {
            format!("{:.1}", median(cpu_times[i].clone()).as_secs_f64() * 1e6 / count as f64)
        };
        println!("| {name} | {rate:.0} | {:.2} | {cpu_us} |", rate / base_rate);
    }
    let parse_wall = median(parse.iter().map(|p| p.0).collect());
    let parse_cpu = median(parse.iter().map(|p| p.1).collect());
    println!(
        "| read + parse only (`JsonLines`, one thread, no writes) | {:.0} | {:.2} | {:.1} |",
        count as f64 / parse_wall.as_secs_f64(),
        count as f64 / parse_wall.as_secs_f64() / base_rate,
        parse_cpu.as_secs_f64() * 1e6 / count as f64
    );
    ExitCode::SUCCESS
}
