//! End to end, in one run: the plugin's Run stream (the release binary started as Conduit
//! starts it, driven by a client that behaves like Conduit) against
//! `directory-destination run --input` and the write-only path, over the same records; and
//! the ack latency of Conduit's pipeline architecture v2 (one batch in flight at a time).
//!
//! Contenders, interleaved within each repetition (medians of the repetitions):
//!
//! - **write-only**: `DestinationRunner<DirectoryDestination>` in this process, batches of 256;
//! - **`run --input`**: the binary as a child process over a JSON-lines file of the records
//!   (on the same file system as the output), with `sdk.batch.size` 256 and 100; its time is
//!   the `elapsed` of its summary (open to teardown, as for the plugin), its CPU time that of
//!   the whole process;
//! - **plugin**: the binary started with Conduit's environment (handshake line, unix socket),
//!   Configure (same `sdk.batch.size` as the `run` row it is compared with) and Open, then one
//!   Run stream: a sender task sends 1 or 100 records per request with at most
//!   [`MAX_IN_FLIGHT`] records un-acked, a receiver reads the acks and checks each one (in
//!   order, no error). Time and CPU from the first request to the last ack.

use std::fmt::Write as _;
use std::io::Write as _;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::Arc;
use std::time::{Duration, Instant};

use conduit_connector::cli::generated_record;
use conduit_connector::opencdc::Record;
use conduit_connector::plugin::proto::connector::v2::destination::run;
use conduit_connector::plugin::proto::opencdc::v1 as pbcdc;
use tonic::codegen::tokio_stream::wrappers::ReceiverStream;

use crate::{plugin_common, write_path};

/// Records un-acked at most (the client waits before sending more).
pub const MAX_IN_FLIGHT: usize = 2_000;
/// Records per `DestinationRunner::write` call of the write-only contender.
const WRITE_ONLY_BATCH: usize = 256;
/// The `sdk.batch.size` values compared (256: the write-only batch; 100: the issue's; 0: the
/// default, no batching: each request is one write).
const BATCH_SIZES: [usize; 3] = [256, 100, 0];
/// Records per Run request.
const PER_REQUEST: [usize; 2] = [1, 100];

/// What to measure.
#[derive(Debug, Clone)]
pub struct Settings {
    /// Repetitions (medians are reported).
    pub reps: usize,
    /// Records per contender and repetition.
    pub records: usize,
    /// Payload bytes per record.
    pub payload: usize,
    /// Batches of one record sent one at a time, per latency run.
    pub latency_batches: usize,
    /// A fresh directory for inputs and outputs (removed by the caller).
    pub base: PathBuf,
}

/// A contender of the throughput table.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Contender {
    WriteOnly,
    Run { batch: usize },
    Plugin { per_request: usize, batch: usize, baseline: bool },
}

impl Contender {
    fn all() -> Vec<Contender> {
        let mut all = vec![Contender::WriteOnly];
        for batch in BATCH_SIZES {
            all.push(Contender::Run { batch });
            for per_request in PER_REQUEST {
                all.push(Contender::Plugin { per_request, batch, baseline: false });
                if baseline_bin().is_some() {
                    all.push(Contender::Plugin { per_request, batch, baseline: true });
                }
            }
        }
        all
    }

    /// For profiling: `E2E_ONLY=plugin-1-100` runs that contender alone, `E2E_ONLY=run-100,plugin-1-100`
    /// those two (`write-only`, `run-<batch>`, `plugin-<per request>-<batch>`,
    /// `baseline-<per request>-<batch>`; batch 0 is the default settings).
    fn id(self) -> String {
        match self {
            Contender::WriteOnly => "write-only".to_owned(),
            Contender::Run { batch } => format!("run-{batch}"),
            Contender::Plugin { per_request, batch, baseline: false } => format!("plugin-{per_request}-{batch}"),
            Contender::Plugin { per_request, batch, baseline: true } => format!("baseline-{per_request}-{batch}"),
        }
    }

    fn label(self) -> String {
        match self {
            Contender::WriteOnly => {
                format!("write-only: `DestinationRunner` in process, batches of {WRITE_ONLY_BATCH}")
            }
            Contender::Run { batch } => format!("`run --input`, {}", batch_text(batch)),
            Contender::Plugin { per_request, batch, baseline } => format!(
                "{}plugin Run stream, {per_request} record{} per request, {}",
                if baseline { "baseline " } else { "" },
                if per_request == 1 { "" } else { "s" },
                batch_text(batch)
            ),
        }
    }
}

fn batch_text(batch: usize) -> String {
    if batch == 0 {
        "`sdk.batch.size=0` (the default: no batching)".to_owned()
    } else {
        format!("`sdk.batch.size={batch}`")
    }
}

/// One repetition of one contender.
#[derive(Debug, Clone, Copy)]
struct Sample {
    time: Duration,
    /// CPU time of the process doing the work (the plugin, `run`, or this one for write-only).
    cpu: Duration,
    /// CPU time of this process while it drove the plugin (the client's share).
    client_cpu: Option<Duration>,
}

/// One row of the goals table: goal, measured, met.
pub type Goal = (String, String, bool);

/// Measures everything; returns the Markdown section and the goal rows.
pub fn measure(settings: &Settings) -> (String, Vec<Goal>) {
    std::fs::create_dir_all(&settings.base).expect("creating the bench directory");
    let records = records(settings.records, settings.payload);
    let input = settings.base.join("e2e-input.jsonl");
    write_input(&input, &records);
    let input_mb = std::fs::metadata(&input).map_or(0, |m| m.len()) as f64 / 1e6;
    let only = std::env::var("E2E_ONLY").ok();
    let contenders: Vec<Contender> = Contender::all()
        .into_iter()
        .filter(|c| only.as_ref().is_none_or(|o| o.split(',').any(|o| o == c.id())))
        .collect();
    if contenders.is_empty() {
        return (format!("no contender is called {only:?}\n"), Vec::new());
    }
    let mut samples: Vec<Vec<Sample>> = vec![Vec::new(); contenders.len()];
    for rep in 0..settings.reps {
        eprintln!("end to end: repetition {} of {} …", rep + 1, settings.reps);
        for (i, contender) in contenders.iter().enumerate() {
            let dir = settings.base.join(format!("e2e-{i}-{rep}"));
            std::fs::create_dir_all(&dir).expect("creating a run directory");
            let sample = match *contender {
                Contender::WriteOnly => write_only(&dir, records.clone()),
                Contender::Run { batch } => run_child(&dir, &input, batch, records.len()),
                Contender::Plugin { per_request, batch, baseline } => {
                    let program = if baseline { baseline_bin() } else { None }.unwrap_or_else(plugin_common::bin);
                    plugin(&program, &dir, requests(&records, per_request), batch, records.len())
                }
            };
            samples[i].push(sample);
            std::fs::remove_dir_all(&dir).expect("removing a run directory");
        }
    }
    let _ = std::fs::remove_file(&input);
    let medians: Vec<Median> = samples.into_iter().map(|s| Median::of(&s, settings.records)).collect();
    if only.is_some() {
        let mut report = String::new();
        for (c, m) in contenders.iter().zip(&medians) {
            let _ = writeln!(report, "{}: {:.0} records/s, {:.1} µs CPU/record", c.label(), m.rate, m.cpu_us);
        }
        return (report, Vec::new());
    }
    let find = |c: Contender| &medians[contenders.iter().position(|x| *x == c).expect("a contender")];

    let mut report = String::new();
    let n = settings.records;
    let _ = writeln!(
        report,
        "### End to end: {n} × {} B records, medians of {} interleaved repetitions\n",
        settings.payload, settings.reps
    );
    let _ = writeln!(
        report,
        "| what | records/s | ratio | CPU µs/record | CPU ratio | client CPU µs/record |\n|---|---:|---:|---:|---:|---:|"
    );
    let write_only = find(Contender::WriteOnly);
    let _ = writeln!(
        report,
        "| {} | {:.0} | 1.00 | {:.1} | – | – |",
        Contender::WriteOnly.label(),
        write_only.rate,
        write_only.cpu_us
    );
    let mut goals = Vec::new();
    for batch in BATCH_SIZES {
        let run = find(Contender::Run { batch });
        let _ = writeln!(
            report,
            "| {} ({input_mb:.1} MB of JSON lines) | {:.0} | {:.2} of write-only | {:.1} | 1.00 | – |",
            Contender::Run { batch }.label(),
            run.rate,
            run.rate / write_only.rate,
            run.cpu_us
        );
        if batch == 256 {
            let r = run.rate / write_only.rate;
            goals.push((
                "`run --input` (`sdk.batch.size=256`) ≥ 0.9 × write-only".to_owned(),
                format!("{r:.2}"),
                r >= 0.9,
            ));
        }
        for (per_request, baseline) in PER_REQUEST.into_iter().flat_map(|n| [(n, false), (n, true)]) {
            let c = Contender::Plugin { per_request, batch, baseline };
            if baseline && baseline_bin().is_none() {
                continue;
            }
            let p = find(c);
            let (ratio, cpu_ratio) = (p.rate / run.rate, p.cpu_us / run.cpu_us);
            let _ = writeln!(
                report,
                "| {} | {:.0} | {ratio:.2} of `run` | {:.1} | {cpu_ratio:.2} | {:.1} |",
                c.label(),
                p.rate,
                p.cpu_us,
                p.client_cpu_us.unwrap_or(f64::NAN)
            );
            if baseline {
                continue;
            }
            goals.push((
                format!("plugin ≥ 0.9 × `run`, {per_request}/request, `sdk.batch.size={batch}`"),
                format!("{ratio:.2}"),
                ratio >= 0.9,
            ));
            goals.push((
                format!("plugin CPU/record ≤ 1.2 × `run`'s, {per_request}/request, `sdk.batch.size={batch}`"),
                format!("{cpu_ratio:.2}"),
                cpu_ratio <= 1.2,
            ));
        }
    }
    let _ = writeln!(
        report,
        "\nRatios: `run` rows against write-only; plugin rows against the `run` row with the same \
         `sdk.batch.size`, CPU per record likewise (the plugin process from first request to last ack; the \
         whole `run` process). The client is a tonic client in the bench process: a sender task (at most \
         {MAX_IN_FLIGHT} records un-acked) and a receiver that checks every ack; its CPU is the last column."
    );

    let _ = writeln!(
        report,
        "\n### Ack latency with one batch in flight (Conduit's pipeline architecture v2)\n\n\
         One record per Run request; the next is sent when its ack has arrived. Plugin configured with \
         `sdk.batch.size=100` and `sdk.batch.delay=1s` (upper bounds: a partial batch is written as soon as \
         nothing more is queued).\n"
    );
    let _ = writeln!(
        report,
        "| transport | batches | median Send → ack | p99 | max | batches/s |\n|---|---:|---:|---:|---:|---:|"
    );
    let programs: Vec<(String, bool)> =
        std::iter::once((plugin_common::bin(), false)).chain(baseline_bin().map(|b| (b, true))).collect();
    for (network, label) in
        [("unix", "unix socket (the default)"), ("tcp", "TCP loopback (`CONDUIT_CONNECTOR_PLUGIN_NETWORK=tcp`)")]
    {
        for (program, baseline) in &programs {
            let l = latency(program, network, &settings.base, settings.latency_batches, settings.payload);
            let _ = writeln!(
                report,
                "| {}{label} | {} | {:.3} ms | {:.3} ms | {:.3} ms | {:.0} |",
                if *baseline { "baseline, " } else { "" },
                l.batches,
                ms(l.median),
                ms(l.p99),
                ms(l.max),
                l.per_second
            );
            if !baseline {
                goals.push((
                    format!("archv2 ({network}): median Send → ack < 1 ms, p99 < 5 ms"),
                    format!("{:.3} / {:.3} ms", ms(l.median), ms(l.p99)),
                    l.median < Duration::from_millis(1) && l.p99 < Duration::from_millis(5),
                ));
            }
        }
    }
    (report, goals)
}

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1e3
}

struct Median {
    rate: f64,
    cpu_us: f64,
    client_cpu_us: Option<f64>,
}

impl Median {
    fn of(samples: &[Sample], records: usize) -> Median {
        let per_record = |d: Duration| d.as_secs_f64() * 1e6 / records as f64;
        let time = median(samples.iter().map(|s| s.time).collect());
        let cpu = median(samples.iter().map(|s| s.cpu).collect());
        let client: Vec<Duration> = samples.iter().filter_map(|s| s.client_cpu).collect();
        Median {
            rate: records as f64 / time.as_secs_f64().max(1e-12),
            cpu_us: per_record(cpu),
            client_cpu_us: (!client.is_empty()).then(|| per_record(median(client))),
        }
    }
}

fn median(mut v: Vec<Duration>) -> Duration {
    v.sort_unstable();
    v[v.len() / 2]
}

/// The records every contender writes: distinct raw keys, raw payloads, a position and
/// `opencdc.version` metadata.
fn records(count: usize, payload: usize) -> Vec<Record> {
    (0..count as u64)
        .map(|i| {
            let mut r = generated_record(i, payload);
            r.key = Some(format!("record-{i:08}").into_bytes().into());
            r
        })
        .collect()
}

fn write_input(path: &Path, records: &[Record]) {
    let file = std::fs::File::create(path).expect("creating the input file");
    let mut out = std::io::BufWriter::with_capacity(1 << 20, file);
    let mut line = Vec::new();
    for record in records {
        line.clear();
        record.write_json(&mut line);
        line.push(b'\n');
        out.write_all(&line).expect("writing the input file");
    }
    out.flush().expect("writing the input file");
}

/// The records as Run requests of `per_request` records each.
fn requests(records: &[Record], per_request: usize) -> Vec<run::Request> {
    records
        .chunks(per_request)
        .map(|chunk| run::Request { records: chunk.iter().cloned().map(pbcdc::Record::from).collect() })
        .collect()
}

/// CPU time (user + system) of process `pid` so far, from `/proc/<pid>/stat` (a zombie's
/// too: its final total).
fn process_cpu(pid: &str) -> Duration {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).expect("reading /proc/PID/stat");
    // Fields after the command name (which may hold spaces) in parentheses: state is the first,
    // utime the 12th, stime the 13th.
    let rest = &stat[stat.rfind(')').expect("a stat line") + 1..];
    let fields: Vec<&str> = rest.split_whitespace().collect();
    let ticks: u64 = fields[11].parse::<u64>().expect("utime") + fields[12].parse::<u64>().expect("stime");
    Duration::from_secs_f64(ticks as f64 / rustix::param::clock_ticks_per_second() as f64)
}

fn self_cpu() -> Duration {
    process_cpu("self")
}

/// The write-only path: configure, open, batches of [`WRITE_ONLY_BATCH`] (acks checked),
/// teardown, on a multi-thread runtime as `serve` and `run` use (the destination writes in
/// `block_in_place` there, without copying the batch).
fn write_only(dir: &Path, records: Vec<Record>) -> Sample {
    let rt = tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build().expect("tokio runtime");
    let config = write_path::config(dir, &[]);
    let count = records.len();
    let batches = write_path::batches(records, WRITE_ONLY_BATCH);
    rt.block_on(async move {
        let cpu = self_cpu();
        let start = Instant::now();
        let acked = write_path::write(&config, None, batches).await;
        let time = start.elapsed();
        assert_eq!(acked, count);
        Sample { time, cpu: self_cpu() - cpu, client_cpu: None }
    })
}

/// `directory-destination run --input` as a child process.
fn run_child(dir: &Path, input: &Path, batch: usize, count: usize) -> Sample {
    let mut command = Command::new(plugin_common::bin());
    for (k, _) in conduit_connector::plugin::host::conduit_env("x") {
        command.env_remove(k);
    }
    command
        .arg("run")
        .arg("--config")
        .arg(format!("directory={}", dir.display()))
        .arg("--config")
        .arg(format!("sdk.batch.size={batch}"))
        .arg("--input")
        .arg(input)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    let wall = Instant::now();
    let mut child = command.spawn().expect("starting `run`");
    let read = |from: Option<Box<dyn std::io::Read + Send>>| {
        std::thread::spawn(move || {
            let mut s = String::new();
            if let Some(mut from) = from {
                let _ = from.read_to_string(&mut s);
            }
            s
        })
    };
    let stdout = read(child.stdout.take().map(|s| Box::new(s) as _));
    let stderr = read(child.stderr.take().map(|s| Box::new(s) as _));
    // Wait for the exit without reaping, so the zombie's CPU time can still be read.
    let pid = rustix::process::Pid::from_child(&child);
    rustix::process::waitid(
        rustix::process::WaitId::Pid(pid),
        rustix::process::WaitIdOptions::EXITED | rustix::process::WaitIdOptions::NOWAIT,
    )
    .expect("waiting for `run`");
    let wall = wall.elapsed();
    let cpu = process_cpu(&child.id().to_string());
    let status = child.wait().expect("reaping `run`");
    let (stdout, stderr) = (stdout.join().expect("stdout"), stderr.join().expect("stderr"));
    assert!(
        status.success() && stdout.contains(&format!("written: {count} ")),
        "`run` failed ({status}): {stdout}\n{stderr}"
    );
    // The summary's elapsed: open to teardown, like the plugin's first request to last ack.
    let time = stdout
        .split("elapsed: ")
        .nth(1)
        .and_then(|rest| rest.split('s').next())
        .and_then(|secs| secs.trim().parse::<f64>().ok())
        .map_or(wall, Duration::from_secs_f64);
    Sample { time, cpu, client_cpu: None }
}

fn client_runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build().expect("tokio runtime")
}

/// For before/after comparisons: `E2E_BASELINE_BIN=/path/to/an/older/build` adds a
/// "baseline" twin of every plugin contender running that binary, interleaved with the others.
fn baseline_bin() -> Option<String> {
    std::env::var("E2E_BASELINE_BIN").ok().filter(|b| !b.is_empty())
}

/// Starts `program` as Conduit does and connects to it.
async fn start(program: &str, env: Vec<(String, String)>) -> plugin_common::Plugin {
    let process = conduit_connector::plugin::host::PluginProcess::launch(program, env, Duration::from_secs(20))
        .expect("the plugin starts");
    let channel = plugin_common::within("connect", 10, process.connect()).await.expect("connects");
    let destination =
        conduit_connector::plugin::proto::connector::v2::destination_plugin_client::DestinationPluginClient::new(
            channel.clone(),
        );
    plugin_common::Plugin { process, channel, destination }
}

/// The plugin, started and driven as Conduit does (see the module docs).
fn plugin(program: &str, dir: &Path, requests: Vec<run::Request>, batch: usize, count: usize) -> Sample {
    let positions: Vec<Vec<u8>> = requests.iter().flat_map(|r| r.records.iter().map(|r| r.position.clone())).collect();
    assert_eq!(positions.len(), count);
    let rt = client_runtime();
    rt.block_on(async move {
        let mut plugin = start(program, plugin_common::env("bench", None)).await;
        let out = dir.to_string_lossy().into_owned();
        let batch = batch.to_string();
        plugin.configure(&[("directory", &out), ("sdk.batch.size", &batch)]).await.expect("Configure");
        plugin.open().await;
        let pid = plugin.process.id().to_string();
        let (tx, rx) = tokio::sync::mpsc::channel::<run::Request>(64);
        let mut acks = plugin.destination.run(ReceiverStream::new(rx)).await.expect("Run starts").into_inner();
        let window = Arc::new(tokio::sync::Semaphore::new(MAX_IN_FLIGHT));
        let (cpu, client_cpu) = (process_cpu(&pid), self_cpu());
        let start = Instant::now();
        let sender = {
            let window = window.clone();
            tokio::spawn(async move {
                for request in requests {
                    let n = u32::try_from(request.records.len()).expect("a small request");
                    window.acquire_many(n).await.expect("the window stays open").forget();
                    tx.send(request).await.expect("the Run stream takes requests");
                }
                // Kept open until Stop: Conduit cancels the stream after Stop.
                tx
            })
        };
        let mut acked = 0;
        while acked < count {
            let response = match tokio::time::timeout(Duration::from_secs(60), acks.message()).await {
                Ok(Ok(Some(response))) => response,
                other => panic!("no acks after {acked} of {count}: {other:?}; stderr:\n{}", plugin.process.stderr()),
            };
            for ack in &response.acks {
                assert!(ack.error.is_empty(), "record {acked} nacked: {}", ack.error);
                assert_eq!(ack.position, positions[acked], "ack {acked} out of order");
                acked += 1;
            }
            window.add_permits(response.acks.len());
        }
        let time = start.elapsed();
        let (cpu, client_cpu) = (process_cpu(&pid) - cpu, self_cpu() - client_cpu);
        let tx = sender.await.expect("the sender finished");
        let last = String::from_utf8_lossy(positions.last().expect("records")).into_owned();
        plugin.stop(&last).await.expect("Stop");
        drop(acks);
        drop(tx);
        plugin.teardown().await.expect("Teardown");
        let since = plugin.shutdown().await;
        plugin.exited_within_2s(since);
        Sample { time, cpu, client_cpu: Some(client_cpu) }
    })
}

struct Latency {
    batches: usize,
    median: Duration,
    p99: Duration,
    max: Duration,
    per_second: f64,
}

/// Conduit's pipeline architecture v2 with one record per batch: send one, wait for its ack,
/// send the next.
fn latency(program: &str, network: &str, base: &Path, batches: usize, payload: usize) -> Latency {
    let dir = base.join(format!("latency-{network}"));
    let records = records(batches, payload);
    let rt = client_runtime();
    let mut times = rt.block_on(async {
        let mut env = plugin_common::env("bench", None);
        env.push(("CONDUIT_CONNECTOR_PLUGIN_NETWORK".to_owned(), network.to_owned()));
        let mut plugin = start(program, env).await;
        assert_eq!(plugin.process.network(), network);
        let out = dir.to_string_lossy().into_owned();
        plugin
            .configure(&[("directory", &out), ("sdk.batch.size", "100"), ("sdk.batch.delay", "1s")])
            .await
            .expect("Configure");
        plugin.open().await;
        let (tx, rx) = tokio::sync::mpsc::channel::<run::Request>(1);
        let mut acks = plugin.destination.run(ReceiverStream::new(rx)).await.expect("Run starts").into_inner();
        let mut times = Vec::with_capacity(batches);
        for record in records {
            let position = record.position.0.clone();
            let request = run::Request { records: vec![pbcdc::Record::from(record)] };
            let sent = Instant::now();
            tx.send(request).await.expect("the Run stream takes requests");
            let response = match tokio::time::timeout(Duration::from_secs(10), acks.message()).await {
                Ok(Ok(Some(response))) => response,
                other => panic!("no ack: {other:?}; stderr:\n{}", plugin.process.stderr()),
            };
            times.push(sent.elapsed());
            assert_eq!(response.acks.len(), 1);
            assert!(response.acks[0].error.is_empty() && response.acks[0].position == position);
        }
        drop(acks);
        drop(tx);
        plugin.teardown().await.expect("Teardown");
        let since = plugin.shutdown().await;
        plugin.exited_within_2s(since);
        times
    });
    let _ = std::fs::remove_dir_all(&dir);
    let total: Duration = times.iter().sum();
    times.sort_unstable();
    let at = |q: f64| times[((times.len() - 1) as f64 * q).round() as usize];
    Latency {
        batches,
        median: at(0.5),
        p99: at(0.99),
        max: *times.last().expect("batches"),
        per_second: batches as f64 / total.as_secs_f64().max(1e-12),
    }
}
