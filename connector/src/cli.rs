//! The command line every connector binary gets from [`serve`](crate::serve):
//! `spec`, `version`, `check` and `run`.

use std::fmt::Write as _;
use std::io::{BufRead, IsTerminal, Write};
use std::path::PathBuf;
use std::process::ExitCode;
use std::time::{Duration, Instant};

use clap::{Arg, ArgAction, Command};

use crate::config::ConfigMap;
use crate::destination::{Ack, ConfigureError, Destination, DestinationRunner};
use crate::log::escape;
use crate::opencdc::{Data, JsonLines, Metadata, Operation, Position, Record};
use crate::spec::Specification;

/// Like `eprintln!`, but a closed or broken stderr is ignored instead of
/// panicking (there is nowhere left to report it).
macro_rules! say {
    ($($arg:tt)*) => {{
        let _ = writeln!(std::io::stderr().lock(), $($arg)*);
    }};
}
/// Exit code when the config is invalid (`check`, `run`).
pub const EXIT_INVALID_CONFIG: u8 = 2;

fn command(spec: &Specification) -> Command {
    let config_arg = Arg::new("config")
        .long("config")
        .short('c')
        .value_name("KEY=VALUE")
        .action(ArgAction::Append)
        .help("A config parameter; repeat for each one");
    Command::new(spec.name.clone())
        .about(spec.summary.clone())
        .version(spec.version.clone())
        .disable_version_flag(true)
        .subcommand_required(true)
        .subcommand(
            Command::new("spec")
                .visible_aliases(["specs", "specification", "specifications"])
                .about("Print the connector's specification (connector.yaml)"),
        )
        .subcommand(Command::new("version").about("Print the connector's version"))
        .subcommand(
            Command::new("check")
                .about("Validate a destination config and print every problem (exit 2 when invalid)")
                .arg(config_arg.clone()),
        )
        .subcommand(
            Command::new("run")
                .about("Run the destination over OpenCDC JSON lines or generated records, then print a summary")
                .arg(config_arg)
                .arg(
                    Arg::new("input")
                        .long("input")
                        .short('i')
                        .value_name("FILE")
                        .value_parser(clap::value_parser!(PathBuf))
                        .help("OpenCDC JSON lines to write (`-` for stdin)")
                        .conflicts_with("generate"),
                )
                .arg(
                    Arg::new("generate")
                        .long("generate")
                        .short('g')
                        .value_name("N")
                        .value_parser(clap::value_parser!(u64))
                        .help("Write N generated records with distinct keys"),
                )
                .arg(
                    Arg::new("payload-size")
                        .long("payload-size")
                        .value_name("BYTES")
                        .value_parser(clap::value_parser!(usize))
                        .default_value("128")
                        .help("Payload size of generated records"),
                )
                .arg(Arg::new("quiet").long("quiet").short('q').action(ArgAction::SetTrue).help("No progress bar")),
        )
}

fn config_from_args(matches: &clap::ArgMatches) -> Result<ConfigMap, String> {
    let mut config = ConfigMap::new();
    for item in matches.get_many::<String>("config").into_iter().flatten() {
        let Some((k, v)) = item.split_once('=') else {
            return Err(format!("--config {item:?}: expected KEY=VALUE"));
        };
        config.insert(k, v);
    }
    Ok(config)
}

/// Runs the command line with `args` (without the program name) and
/// returns the exit code.
pub fn main<D: Destination>(spec: &Specification, args: Vec<String>) -> ExitCode {
    let mut argv = vec![spec.name.clone()];
    argv.extend(args);
    let matches = match command(spec).try_get_matches_from(argv) {
        Ok(m) => m,
        Err(e) => {
            let _ = e.print();
            return ExitCode::from(if e.use_stderr() { EXIT_INVALID_CONFIG } else { 0 });
        }
    };
    match matches.subcommand() {
        Some(("spec", _)) => print_stdout(&spec.to_yaml()),
        Some(("version", _)) => print_stdout(&format!("{}\n", spec.version)),
        Some(("check", m)) => {
            let config = match config_from_args(m) {
                Ok(c) => c,
                Err(e) => {
                    say!("error: {e}");
                    return ExitCode::from(EXIT_INVALID_CONFIG);
                }
            };
            match runtime() {
                Ok(rt) => rt.block_on(check::<D>(config)),
                Err(code) => code,
            }
        }
        Some(("run", m)) => {
            let config = match config_from_args(m) {
                Ok(c) => c,
                Err(e) => {
                    say!("error: {e}");
                    return ExitCode::from(EXIT_INVALID_CONFIG);
                }
            };
            let input = if let Some(n) = m.get_one::<u64>("generate") {
                Input::Generate { count: *n, payload_size: *m.get_one::<usize>("payload-size").unwrap_or(&128) }
            } else {
                match m.get_one::<PathBuf>("input") {
                    Some(p) if p.as_os_str() == "-" => Input::Stdin,
                    Some(p) => Input::File(p.clone()),
                    None => Input::Stdin,
                }
            };
            let progress = !m.get_flag("quiet") && std::io::stderr().is_terminal();
            match runtime() {
                Ok(rt) => rt.block_on(run::<D>(config, input, progress, &mut std::io::stdout().lock())),
                Err(code) => code,
            }
        }
        _ => ExitCode::from(EXIT_INVALID_CONFIG),
    }
}

/// Writes `text` to stdout: a closed stdout (`spec | true`) is an error on
/// stderr and exit 1, not a panic as with `print!`.
fn print_stdout(text: &str) -> ExitCode {
    let mut out = std::io::stdout().lock();
    match out.write_all(text.as_bytes()).and_then(|()| out.flush()) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            say!("error: cannot write to stdout: {e}");
            ExitCode::FAILURE
        }
    }
}

/// File descriptors the runtime needs (epoll, its waker, the signal driver's
/// socket pair) plus a small margin; probed before building it, because
/// tokio panics instead of failing when its signal driver gets no descriptor.
const RUNTIME_FDS: usize = 6;

/// The tokio runtime, or a clear error (exit 1) when it cannot start — most
/// often because the open-file limit leaves too few free descriptors.
fn runtime() -> Result<tokio::runtime::Runtime, ExitCode> {
    let failed = |e: std::io::Error| {
        say!("error: cannot start the runtime: {e} (is the open-file limit, `ulimit -n`, too low?)");
        ExitCode::FAILURE
    };
    // Probe: open (and close again) a few descriptors; EMFILE here is an error, not a panic
    // inside tokio.
    let probe: Result<Vec<std::fs::File>, std::io::Error> =
        (0..RUNTIME_FDS).map(|_| std::fs::File::open("/dev/null")).collect();
    match probe {
        Err(e) if e.raw_os_error() == Some(EMFILE) || e.raw_os_error() == Some(ENFILE) => return Err(failed(e)),
        // Closed again before the runtime takes descriptors.
        Ok(files) => drop(files),
        // No /dev/null (a minimal container): skip the probe.
        Err(_) => {}
    }
    tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build().map_err(failed)
}

/// `EMFILE` and `ENFILE` (Linux, the BSDs and macOS agree).
const EMFILE: i32 = 24;
const ENFILE: i32 = 23;

async fn check<D: Destination>(config: ConfigMap) -> ExitCode {
    match DestinationRunner::<D>::configure(&config).await {
        Ok(mut runner) => {
            let _ = runner.teardown().await;
            print_stdout("config is valid\n")
        }
        Err(ConfigureError::Invalid(errors)) => {
            say!("config invalid ({} problem{}):", errors.len(), if errors.len() == 1 { "" } else { "s" });
            for e in &errors {
                say!("  {e}");
            }
            ExitCode::from(EXIT_INVALID_CONFIG)
        }
        Err(e) => {
            say!("config rejected by the destination: {}", escape(&e.to_string()));
            ExitCode::from(EXIT_INVALID_CONFIG)
        }
    }
}

/// Where `run` takes its records from.
#[derive(Debug, Clone)]
pub enum Input {
    /// OpenCDC JSON lines from a file.
    File(PathBuf),
    /// OpenCDC JSON lines from standard input.
    Stdin,
    /// `count` generated records with distinct keys.
    Generate {
        /// How many.
        count: u64,
        /// Bytes of raw payload each.
        payload_size: usize,
    },
}

/// A generated record: position `gen-<i>`, key `record-<i>` (zero-padded),
/// a raw payload of `payload_size` printable bytes, operation create.
pub fn generated_record(i: u64, payload_size: usize) -> Record {
    let mut payload = Vec::with_capacity(payload_size);
    let seed = format!("record {i}: ");
    while payload.len() < payload_size {
        let room = payload_size - payload.len();
        payload.extend_from_slice(&seed.as_bytes()[..room.min(seed.len())]);
    }
    let mut metadata = Metadata::default();
    metadata.0.insert("opencdc.version".to_owned(), "v1".to_owned());
    Record {
        position: Position(format!("gen-{i}").into_bytes()),
        operation: Operation::Create,
        metadata,
        key: Some(Data::Raw(format!("record-{i:09}").into_bytes())),
        payload: crate::opencdc::Change { before: None, after: Some(Data::Raw(payload)) },
    }
}

/// One input item: a record, or a line that could not be parsed.
enum Item {
    Record(Record),
    Bad(String),
}

/// Records cross from the reader thread to the writer in chunks (fewer wake-ups); the writer
/// still hands them to the runner one at a time.
const CHUNK: usize = 64;

fn spawn_reader(
    input: Input,
    tx: tokio::sync::mpsc::Sender<Vec<Item>>,
) -> std::io::Result<std::thread::JoinHandle<Result<(), String>>> {
    std::thread::Builder::new().name("input".to_owned()).spawn(move || {
        let mut chunker = Chunker { tx, chunk: Vec::with_capacity(CHUNK), size: CHUNK };
        match input {
            Input::Generate { count, payload_size } => {
                for i in 1..=count {
                    chunker.push(Item::Record(generated_record(i, payload_size)))?;
                }
            }
            Input::File(path) => {
                let file = std::fs::File::open(&path).map_err(|e| format!("opening {}: {e}", path.display()))?;
                read_lines(std::io::BufReader::with_capacity(1 << 16, file), &mut chunker)?;
            }
            Input::Stdin => {
                // A pipe may trickle: pass each record on as soon as it is read.
                chunker.size = 1;
                read_lines(std::io::stdin().lock(), &mut chunker)?;
            }
        }
        chunker.flush()
    })
}

struct Chunker {
    tx: tokio::sync::mpsc::Sender<Vec<Item>>,
    chunk: Vec<Item>,
    size: usize,
}

impl Chunker {
    fn push(&mut self, item: Item) -> Result<(), String> {
        self.chunk.push(item);
        if self.chunk.len() >= self.size { self.flush() } else { Ok(()) }
    }

    fn flush(&mut self) -> Result<(), String> {
        if self.chunk.is_empty() {
            return Ok(());
        }
        let chunk = std::mem::replace(&mut self.chunk, Vec::with_capacity(self.size));
        self.tx.blocking_send(chunk).map_err(|_| "the writer stopped".to_owned())
    }
}

fn read_lines<R: BufRead>(reader: R, chunker: &mut Chunker) -> Result<(), String> {
    for item in JsonLines::new(reader) {
        match item {
            Ok(record) => chunker.push(Item::Record(record))?,
            Err(e) => chunker.push(Item::Bad(e.to_string()))?,
        }
    }
    Ok(())
}

#[derive(Default)]
struct Tally {
    written: u64,
    failed: u64,
    failures: Vec<String>,
}

const SHOWN_FAILURES: usize = 20;

impl Tally {
    fn fail(&mut self, what: String) {
        self.failed += 1;
        if self.failures.len() < SHOWN_FAILURES {
            self.failures.push(what);
        }
    }

    fn acks(&mut self, acks: Vec<Ack>) {
        for ack in acks {
            match ack.error {
                None => self.written += 1,
                Some(e) => self.fail(format!("position {}: {}", show_position(&ack.position), escape(&e))),
            }
        }
    }
}

fn show_position(p: &Position) -> String {
    crate::config::go::quote(&String::from_utf8_lossy(&p.0))
}

/// Runs the destination over `input` and writes the summary to `out`.
pub async fn run<D: Destination>(config: ConfigMap, input: Input, progress: bool, out: &mut dyn Write) -> ExitCode {
    let mut runner = match DestinationRunner::<D>::configure(&config).await {
        Ok(r) => r,
        Err(ConfigureError::Invalid(errors)) => {
            say!("config invalid ({} problems):", errors.len());
            for e in &errors {
                say!("  {e}");
            }
            return ExitCode::from(EXIT_INVALID_CONFIG);
        }
        Err(e) => {
            say!("configure failed: {}", escape(&e.to_string()));
            return ExitCode::from(EXIT_INVALID_CONFIG);
        }
    };
    if let Err(e) = runner.open().await {
        say!("open failed: {}", escape(&e.to_string()));
        let _ = runner.teardown().await;
        return ExitCode::FAILURE;
    }
    // At most 64 chunks of 64 records wait between the reader and the writer: memory does not
    // grow with the input.
    let (tx, mut rx) = tokio::sync::mpsc::channel::<Vec<Item>>(64);
    let reader = match spawn_reader(input, tx) {
        Ok(reader) => reader,
        Err(e) => {
            say!("error: cannot start the input thread: {e}");
            let _ = runner.teardown().await;
            return ExitCode::FAILURE;
        }
    };
    let start = Instant::now();
    let mut tally = Tally::default();
    let mut bar = Progress::new(progress);
    loop {
        let deadline = runner.deadline();
        let chunk = tokio::select! {
            chunk = rx.recv() => chunk,
            _ = sleep_until(deadline), if deadline.is_some() => {
                tally.acks(runner.flush().await);
                continue;
            }
        };
        let Some(chunk) = chunk else { break };
        for item in chunk {
            match item {
                // One record per call, as a source without batching delivers them to Conduit's
                // destination: `sdk.batch.size` and `sdk.batch.delay` decide the write batches.
                Item::Record(record) => tally.acks(runner.write(vec![record]).await),
                Item::Bad(reason) => tally.fail(escape(&reason).into_owned()),
            }
        }
        bar.tick(&tally);
    }
    tally.acks(runner.flush().await);
    bar.finish();
    let mut failed_run = false;
    match reader.join() {
        Ok(Ok(())) => {}
        Ok(Err(e)) => {
            say!("input error: {}", escape(&e));
            failed_run = true;
        }
        Err(_) => {
            say!("input error: the reader thread panicked");
            failed_run = true;
        }
    }
    if let Err(e) = runner.teardown().await {
        say!("teardown failed: {}", escape(&e.to_string()));
        failed_run = true;
    }
    let elapsed = start.elapsed();
    if let Err(e) = out.write_all(summary(&tally, elapsed).as_bytes()).and_then(|()| out.flush()) {
        say!("error: cannot write the summary to stdout: {e}");
        failed_run = true;
    }
    if tally.failed > 0 || failed_run { ExitCode::FAILURE } else { ExitCode::SUCCESS }
}

async fn sleep_until(deadline: Option<tokio::time::Instant>) {
    if let Some(d) = deadline {
        tokio::time::sleep_until(d).await;
    }
}

fn summary(tally: &Tally, elapsed: Duration) -> String {
    let secs = elapsed.as_secs_f64();
    let total = tally.written + tally.failed;
    let rate = if secs > 0.0 { total as f64 / secs } else { 0.0 };
    let mut s = String::new();
    let _ = writeln!(
        s,
        "written: {}  failed: {}  elapsed: {:.3}s  records/s: {:.0}",
        tally.written, tally.failed, secs, rate
    );
    for f in &tally.failures {
        let _ = writeln!(s, "  failed: {f}");
    }
    if tally.failed as usize > tally.failures.len() {
        let _ = writeln!(s, "  … and {} more failures", tally.failed as usize - tally.failures.len());
    }
    s
}

/// A progress line on stderr (only on a terminal), redrawn at most every
/// 100 ms.
struct Progress {
    enabled: bool,
    start: Instant,
    last: Instant,
}

impl Progress {
    fn new(enabled: bool) -> Self {
        let now = Instant::now();
        Progress { enabled, start: now, last: now }
    }

    fn tick(&mut self, tally: &Tally) {
        if !self.enabled || self.last.elapsed() < Duration::from_millis(100) {
            return;
        }
        self.last = Instant::now();
        let secs = self.start.elapsed().as_secs_f64().max(1e-9);
        let total = tally.written + tally.failed;
        let mut err = std::io::stderr().lock();
        let _ = write!(
            err,
            "\r\x1b[2K{} records ({} written, {} failed) {:.0}/s",
            total,
            tally.written,
            tally.failed,
            total as f64 / secs
        );
        let _ = err.flush();
    }

    fn finish(&self) {
        if self.enabled {
            let mut err = std::io::stderr().lock();
            let _ = write!(err, "\r\x1b[2K");
            let _ = err.flush();
        }
    }
}
