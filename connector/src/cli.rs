//! The command line every connector binary gets from [`serve`](crate::serve):
//! `spec`, `version` (also `--version`, `-V`), `check` and `run`. Usage and help name the
//! binary as it was started (`argv[0]`).

use std::cell::RefCell;
use std::fmt::Write as _;
use std::io::{IsTerminal, Read, Write};
use std::path::PathBuf;
use std::process::ExitCode;
use std::rc::Rc;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use clap::{Arg, ArgAction, Command};

use crate::config::ConfigMap;
use crate::destination::{Ack, ConfigureError, Destination, DestinationRunner};
use crate::log::escape;
use crate::opencdc::{Data, JsonLines, Metadata, Operation, Position, Record, RecordError};
use crate::spec::Specification;

/// Like `eprintln!`, but a closed or broken stderr is ignored instead of
/// panicking (there is nowhere left to report it), and the line is written above
/// the progress bar of `run` when one is drawn ([`crate::log`]).
macro_rules! say {
    ($($arg:tt)*) => {{
        crate::log::write_stderr(format!("{}\n", format_args!($($arg)*)).as_bytes());
    }};
}
/// Exit code when the config is invalid (`check`, `run`).
pub const EXIT_INVALID_CONFIG: u8 = 2;

/// Exit code of a `run` stopped by SIGINT (128 + 2, as a shell reports it).
pub const EXIT_SIGINT: u8 = 130;

/// Exit code of a `run` stopped by SIGTERM (128 + 15).
pub const EXIT_SIGTERM: u8 = 143;

/// The default `--max-line-bytes`: 64 MiB, room for a record of Conduit's default
/// 4 MiB gRPC limit many times over (base64 and JSON add about a third).
pub const DEFAULT_MAX_LINE_BYTES: usize = 64 << 20;

/// The largest `--payload-size`: 64 MiB.
pub const MAX_PAYLOAD_SIZE: usize = 64 << 20;

fn command(spec: &Specification, bin: &str) -> Command {
    let config_arg = Arg::new("config")
        .long("config")
        .short('c')
        .value_name("KEY=VALUE")
        .action(ArgAction::Append)
        .help("A config parameter; repeat for each one");
    Command::new(bin.to_owned())
        .bin_name(bin.to_owned())
        .about(spec.summary.clone())
        .version(spec.version.clone())
        .disable_version_flag(true)
        .args_conflicts_with_subcommands(true)
        .override_usage(format!("{bin} <COMMAND>\n       {bin} --version"))
        .arg(
            Arg::new("print-version")
                .long("version")
                .short('V')
                .action(ArgAction::SetTrue)
                .help("Print the connector's version (as the `version` command)"),
        )
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
                .after_help(
                    "Exit status: 0 when every record was written, 1 when something failed, 2 for an invalid \
                     config or usage, 130/143 when stopped by SIGINT/SIGTERM (what was read is written first; a \
                     second signal exits at once).",
                )
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
                        .value_parser(clap::value_parser!(u64).range(0..=MAX_PAYLOAD_SIZE as u64))
                        .default_value("128")
                        .help(format!("Payload size of generated records (at most {MAX_PAYLOAD_SIZE})")),
                )
                .arg(
                    Arg::new("max-line-bytes")
                        .long("max-line-bytes")
                        .value_name("BYTES")
                        .value_parser(clap::value_parser!(u64).range(1..))
                        .default_value(DEFAULT_MAX_LINE_BYTES.to_string())
                        .help(
                            "Longest input line accepted (64 MiB by default); a longer line fails alone, \
                             reported with its line number, and the run goes on",
                        ),
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

/// The name usage and help show for invocations: the file name the binary was started as
/// (`argv[0]`), or the connector's name when there is none.
fn bin_name(spec: &Specification) -> String {
    std::env::args_os()
        .next()
        .and_then(|arg0| std::path::Path::new(&arg0).file_name().map(|n| n.to_string_lossy().into_owned()))
        .filter(|name| !name.is_empty())
        .unwrap_or_else(|| spec.name.clone())
}

/// Printed when `run` reads standard input from a terminal without `--input` or `--generate`
/// (it would otherwise wait silently for lines to be typed).
const TERMINAL_INPUT_HINT: &str = "reading OpenCDC JSON lines from the terminal (one record per line; Ctrl-D \
                                       ends the input); use --input FILE to read a file or --generate N to write \
                                       generated records";

/// Runs the command line with `args` (without the program name) and
/// returns the exit code.
pub fn main<D: Destination>(spec: &Specification, args: Vec<String>) -> ExitCode {
    let bin = bin_name(spec);
    let mut argv = vec![bin.clone()];
    argv.extend(args);
    let matches = match command(spec, &bin).try_get_matches_from(argv) {
        Ok(m) => m,
        Err(e) => {
            let _ = e.print();
            return ExitCode::from(if e.use_stderr() { EXIT_INVALID_CONFIG } else { 0 });
        }
    };
    if matches.get_flag("print-version") {
        return print_stdout(&format!("{}\n", spec.version));
    }
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
                let size = m.get_one::<u64>("payload-size").copied().unwrap_or(128);
                Input::Generate { count: *n, payload_size: usize::try_from(size).unwrap_or(usize::MAX) }
            } else {
                match m.get_one::<PathBuf>("input") {
                    Some(p) if p.as_os_str() == "-" => Input::Stdin,
                    Some(p) => Input::File(p.clone()),
                    None => {
                        if std::io::stdin().is_terminal() {
                            say!("{TERMINAL_INPUT_HINT}");
                        }
                        Input::Stdin
                    }
                }
            };
            let options = RunOptions {
                progress: !m.get_flag("quiet") && std::io::stderr().is_terminal(),
                max_line_bytes: m
                    .get_one::<u64>("max-line-bytes")
                    .map_or(DEFAULT_MAX_LINE_BYTES, |&n| usize::try_from(n).unwrap_or(usize::MAX)),
                handle_signals: true,
            };
            match runtime() {
                Ok(rt) => rt.block_on(run_with::<D>(config, input, &options, &mut std::io::stdout().lock())),
                Err(code) => code,
            }
        }
        _ => {
            let e = command(spec, &bin)
                .error(clap::error::ErrorKind::MissingSubcommand, "a command is required (or --version, --help)");
            let _ = e.print();
            ExitCode::from(EXIT_INVALID_CONFIG)
        }
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

/// One input item — a record, or a line that could not be parsed — with the input bytes it
/// stands for (what it holds of the reader's budget).
enum Item {
    Record(Record, usize),
    Bad(String, usize),
}

/// Records cross from the reader thread to the writer in chunks (fewer wake-ups); the writer
/// still hands them to the runner one at a time. An empty chunk is the reader's notice that it
/// is about to wait for live input (see [`Live`]).
const CHUNK: usize = 64;

/// Input bytes read but not yet handed to the runner, at most: with the chunk count bound of
/// the channel, memory does not grow with the input or its line lengths. (A single item larger
/// than this passes alone.)
const IN_FLIGHT_BYTES: usize = 64 << 20;

/// The reader's budget of [`IN_FLIGHT_BYTES`]: the reader takes, the writer gives back.
#[derive(Default)]
struct Budget {
    state: std::sync::Mutex<BudgetState>,
    freed: std::sync::Condvar,
}

#[derive(Default)]
struct BudgetState {
    used: usize,
    /// The reader waits: only then does giving back wake it (a wake-up is a system call).
    waiting: bool,
}

impl Budget {
    fn lock(&self) -> std::sync::MutexGuard<'_, BudgetState> {
        self.state.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    fn fits(used: usize, bytes: usize) -> bool {
        used == 0 || used.saturating_add(bytes) <= IN_FLIGHT_BYTES
    }

    /// Takes `bytes` if they fit now.
    fn try_take(&self, bytes: usize) -> bool {
        let mut state = self.lock();
        let fits = Self::fits(state.used, bytes);
        if fits {
            state.used = state.used.saturating_add(bytes);
        }
        fits
    }

    /// Takes `bytes`, waiting until they fit — or until `stop` is set: then the little that
    /// is left to hand over (what the reader buffered) goes without waiting.
    fn take(&self, bytes: usize, stop: &AtomicBool) {
        let mut state = self.lock();
        while !Self::fits(state.used, bytes) && !stop.load(Ordering::Relaxed) {
            state.waiting = true;
            state = match self.freed.wait_timeout(state, Duration::from_millis(100)) {
                Ok((guard, _)) => guard,
                Err(poisoned) => poisoned.into_inner().0,
            };
        }
        state.waiting = false;
        state.used = state.used.saturating_add(bytes);
    }

    fn give(&self, bytes: usize) {
        let mut state = self.lock();
        state.used = state.used.saturating_sub(bytes);
        if state.waiting {
            self.freed.notify_one();
        }
    }
}

/// What the reader thread shares with the writer.
#[derive(Clone)]
struct Shared {
    budget: Arc<Budget>,
    /// Set by the writer on SIGINT/SIGTERM: read no further.
    stop: Arc<AtomicBool>,
}

fn spawn_reader(
    input: Input,
    max_line_bytes: usize,
    tx: tokio::sync::mpsc::Sender<Vec<Item>>,
    shared: Shared,
) -> std::io::Result<std::thread::JoinHandle<Result<(), String>>> {
    std::thread::Builder::new().name("input".to_owned()).spawn(move || {
        let chunker = Rc::new(RefCell::new(Chunker { tx, chunk: Vec::with_capacity(CHUNK), shared }));
        match input {
            Input::Generate { count, payload_size } => {
                for i in 1..=count {
                    if chunker.borrow().shared.stop.load(Ordering::Relaxed) {
                        break;
                    }
                    let record = generated_record(i, payload_size);
                    chunker.borrow_mut().push(Item::Record(record, payload_size.saturating_add(64)))?;
                }
            }
            Input::File(path) => {
                let file = std::fs::File::open(&path).map_err(|e| format!("opening {}: {e}", path.display()))?;
                let live = is_live(&file);
                read_lines(file, live, max_line_bytes, &chunker)?;
            }
            Input::Stdin => {
                read_lines(std::io::stdin(), stdin_is_live(), max_line_bytes, &chunker)?;
            }
        }
        chunker.borrow_mut().flush()
    })
}

/// Whether reading `file` may wait for input that is not there yet (a pipe, a terminal, a
/// socket) rather than reach the end of what exists (a regular file).
fn is_live(file: &std::fs::File) -> bool {
    file.metadata().map_or(true, |m| !m.is_file())
}

/// [`is_live`] for standard input (through a duplicate of its descriptor).
fn stdin_is_live() -> bool {
    #[cfg(unix)]
    {
        use std::os::fd::AsFd;
        std::io::stdin().as_fd().try_clone_to_owned().map(std::fs::File::from).map_or(true, |f| is_live(&f))
    }
    #[cfg(not(unix))]
    {
        true
    }
}

struct Chunker {
    tx: tokio::sync::mpsc::Sender<Vec<Item>>,
    chunk: Vec<Item>,
    shared: Shared,
}

impl Chunker {
    /// Queues `item` (waiting while too many input bytes wait for the writer).
    fn push(&mut self, item: Item) -> Result<(), String> {
        let bytes = match &item {
            Item::Record(_, n) | Item::Bad(_, n) => *n,
        };
        if !self.shared.budget.try_take(bytes) {
            // Hand over what is queued here, so the writer can give bytes back, then wait.
            self.flush()?;
            self.shared.budget.take(bytes, &self.shared.stop);
        }
        self.chunk.push(item);
        if self.chunk.len() >= CHUNK {
            self.flush()?;
        }
        Ok(())
    }

    fn flush(&mut self) -> Result<(), String> {
        if self.chunk.is_empty() {
            return Ok(());
        }
        let chunk = std::mem::replace(&mut self.chunk, Vec::with_capacity(CHUNK));
        self.send(chunk)
    }

    /// The reader is about to wait for live input: everything read goes to the writer, with
    /// an empty chunk saying "nothing more for now".
    fn idle(&mut self) -> Result<(), String> {
        self.flush()?;
        self.send(Vec::new())
    }

    fn send(&self, chunk: Vec<Item>) -> Result<(), String> {
        self.tx.blocking_send(chunk).map_err(|_| "the writer stopped".to_owned())
    }
}

/// Input under the line reader. Live input: before each read that may wait, the records
/// already read are handed over with an idle notice (so the writer can write a partial batch
/// instead of waiting for input that is not coming). Once the run is stopping, the input ends
/// there: nothing more is read, what was read is still handed over.
struct Live<R> {
    inner: R,
    live: bool,
    chunker: Rc<RefCell<Chunker>>,
}

impl<R: Read> Read for Live<R> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        if let Ok(mut chunker) = self.chunker.try_borrow_mut() {
            if chunker.shared.stop.load(Ordering::Relaxed) {
                return Ok(0);
            }
            if self.live {
                chunker.idle().map_err(std::io::Error::other)?;
            }
        }
        self.inner.read(buf)
    }
}

fn read_lines<R: Read>(
    input: R,
    live: bool,
    max_line_bytes: usize,
    chunker: &Rc<RefCell<Chunker>>,
) -> Result<(), String> {
    let live = Live { inner: input, live, chunker: Rc::clone(chunker) };
    let mut lines = JsonLines::new(std::io::BufReader::with_capacity(1 << 16, live)).max_line_bytes(max_line_bytes);
    while let Some(item) = lines.next() {
        let bytes = lines.last_line_len();
        let item = match item {
            Ok(record) => Item::Record(record, bytes),
            Err(RecordError::Line { line, source }) if matches!(*source, RecordError::LineTooLong { .. }) => {
                Item::Bad(format!("line {line}: {source} (--max-line-bytes)"), bytes)
            }
            Err(e) => Item::Bad(line_error(&e), bytes),
        };
        // After a stop, `Live` ends the input: what is buffered is still parsed and handed over.
        chunker.borrow_mut().push(item)?;
    }
    Ok(())
}

/// Appended to a line's error when a base64 field is not base64: the most common mistake in
/// hand-written input is plain text where OpenCDC JSON has base64.
const BASE64_HINT: &str = " (in OpenCDC JSON the position and raw keys and payloads are base64, e.g. \
                               \"key\":\"a2V5LTE=\" for the key key-1; structured data is a JSON object)";

/// The text of a line that failed to parse, with [`BASE64_HINT`] when a base64 field is not
/// base64.
fn line_error(e: &RecordError) -> String {
    let mut text = e.to_string();
    if let RecordError::Line { source, .. } = e
        && matches!(**source, RecordError::InvalidBase64 { .. })
    {
        text.push_str(BASE64_HINT);
    }
    text
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

/// How [`run_with`] runs.
#[derive(Debug, Clone)]
pub struct RunOptions {
    /// A progress bar on stderr (the command line sets it on a terminal without `--quiet`):
    /// records out of N with rate and ETA for [`Input::Generate`], input bytes out of the
    /// file's size for a regular [`Input::File`], a spinner with the record rate otherwise.
    pub progress: bool,
    /// The longest input line accepted (without its `\n`); a longer line fails alone.
    pub max_line_bytes: usize,
    /// Stop on SIGINT/SIGTERM: read no further, write what was read, print the summary and
    /// return [`EXIT_SIGINT`]/[`EXIT_SIGTERM`] (a second signal exits at once). This installs
    /// process-wide handlers, which is what the command line wants and a test may not.
    pub handle_signals: bool,
}

impl Default for RunOptions {
    fn default() -> Self {
        RunOptions { progress: false, max_line_bytes: DEFAULT_MAX_LINE_BYTES, handle_signals: false }
    }
}

/// Runs the destination over `input` and writes the summary to `out` (default
/// [`RunOptions`] but for `progress`).
pub async fn run<D: Destination>(config: ConfigMap, input: Input, progress: bool, out: &mut dyn Write) -> ExitCode {
    run_with::<D>(config, input, &RunOptions { progress, ..RunOptions::default() }, out).await
}

/// Runs the destination over `input` and writes the summary to `out`.
///
/// Over live input (a pipe, a terminal), a partial batch is written as soon as the reader has
/// nothing more and waits for input; `sdk.batch.size` and `sdk.batch.delay` stay upper
/// bounds. Over a file or generated records, batches fill up.
pub async fn run_with<D: Destination>(
    config: ConfigMap,
    input: Input,
    options: &RunOptions,
    out: &mut dyn Write,
) -> ExitCode {
    if let Input::Generate { payload_size, .. } = input
        && payload_size > MAX_PAYLOAD_SIZE
    {
        say!("error: the payload size {payload_size} is larger than the limit of {MAX_PAYLOAD_SIZE} bytes");
        return ExitCode::from(EXIT_INVALID_CONFIG);
    }
    // Before anything else, so that a signal during configure or open is handled too.
    let mut signal = if options.handle_signals { watch_signals() } else { None };
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
    // At most 64 chunks of 64 records and IN_FLIGHT_BYTES wait between the reader and the
    // writer: memory does not grow with the input.
    let (tx, mut rx) = tokio::sync::mpsc::channel::<Vec<Item>>(64);
    let measure = Measure::of(&input);
    let shared = Shared { budget: Arc::default(), stop: Arc::default() };
    let reader = match spawn_reader(input, options.max_line_bytes, tx, shared.clone()) {
        Ok(reader) => reader,
        Err(e) => {
            say!("error: cannot start the input thread: {e}");
            let _ = runner.teardown().await;
            return ExitCode::FAILURE;
        }
    };
    let start = Instant::now();
    let mut tally = Tally::default();
    let bar = Progress::new(options.progress, measure);
    let mut interrupted = None;
    // The last message was an idle notice: the reader waits for live input.
    let mut reader_idle = false;
    loop {
        let deadline = runner.deadline();
        let chunk = tokio::select! {
            biased;
            Some(stop) = next_stop(&mut signal) => {
                interrupted = Some(stop);
                break;
            }
            chunk = rx.recv() => chunk,
            _ = sleep_until(deadline), if deadline.is_some() => {
                tally.acks(runner.flush().await);
                bar.advance(0, &tally);
                continue;
            }
        };
        let Some(chunk) = chunk else { break };
        reader_idle = chunk.is_empty();
        if reader_idle {
            // The reader waits for live input and nothing more is queued: write the partial
            // batch now rather than wait for records that may not come.
            if rx.is_empty() && runner.pending() > 0 {
                tally.acks(runner.flush().await);
                bar.advance(0, &tally);
            }
            continue;
        }
        let bytes = take_chunk(&mut runner, &mut tally, &shared.budget, chunk).await;
        bar.advance(bytes, &tally);
    }
    if let Some((_, name)) = interrupted {
        // Read no further; write what was read: what is queued, and what the reader still holds
        // (it ends its input and hands over what it buffered, then finishes). A reader waiting
        // for live input has handed over everything already.
        shared.stop.store(true, Ordering::Relaxed);
        if !(reader_idle && rx.is_empty()) {
            let grace = tokio::time::sleep(STOP_GRACE);
            tokio::pin!(grace);
            loop {
                tokio::select! {
                    chunk = rx.recv() => match chunk {
                        None => break,
                        Some(chunk) if chunk.is_empty() => {
                            if rx.is_empty() {
                                break;
                            }
                        }
                        Some(chunk) => {
                            let bytes = take_chunk(&mut runner, &mut tally, &shared.budget, chunk).await;
                            bar.advance(bytes, &tally);
                        }
                    },
                    _ = &mut grace => break,
                }
            }
        }
        say!("{name}: stopped reading input; the records read so far were written (see the summary)");
    }
    drop(rx);
    tally.acks(runner.flush().await);
    bar.finish();
    let mut failed_run = false;
    // After a signal the reader may be blocked reading a pipe: it is not waited for.
    if interrupted.is_none() {
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
    match interrupted {
        Some((code, _)) => ExitCode::from(code),
        None if tally.failed > 0 || failed_run => ExitCode::FAILURE,
        None => ExitCode::SUCCESS,
    }
}

/// Hands the items of `chunk` to the runner in order, as a source without batching delivers
/// them to Conduit's destination: `sdk.batch.size` and `sdk.batch.delay` decide the write
/// batches. Records go in runs that at most fill the pending batch (one call per run instead
/// of one per record), so the batches are the ones one-record calls would form.
async fn take_chunk<D: Destination>(
    runner: &mut DestinationRunner<D>,
    tally: &mut Tally,
    budget: &Budget,
    chunk: Vec<Item>,
) -> u64 {
    let mut bytes = 0usize;
    let mut records = Vec::with_capacity(chunk.len());
    for item in chunk {
        match item {
            Item::Record(record, n) => {
                bytes = bytes.saturating_add(n);
                records.push(record);
            }
            Item::Bad(reason, n) => {
                bytes = bytes.saturating_add(n);
                hand_over(runner, tally, &mut records).await;
                tally.fail(escape(&reason).into_owned());
            }
        }
    }
    hand_over(runner, tally, &mut records).await;
    budget.give(bytes);
    bytes as u64
}

/// Hands `records` (emptied) to the runner: without batching one record per call (each is
/// written alone); with a batch size, runs that at most fill the pending batch; with only a
/// delay, all at once.
async fn hand_over<D: Destination>(runner: &mut DestinationRunner<D>, tally: &mut Tally, records: &mut Vec<Record>) {
    let (size, delay) = (runner.settings().batch_size, runner.settings().batch_delay);
    let batching = size > 1 || !delay.is_zero();
    while !records.is_empty() {
        let room = match (batching, size) {
            (false, _) => 1,
            (true, 0) => records.len(),
            (true, size) => size.saturating_sub(runner.pending()).max(1),
        };
        let run = if room >= records.len() { std::mem::take(records) } else { records.drain(..room).collect() };
        tally.acks(runner.write(run).await);
    }
}

/// After a stop signal, how long the writer waits for the reader to hand over what it read
/// (its buffer: at most 64 KiB of lines to parse). A reader stuck in a read that began before
/// the signal is not waited for longer.
const STOP_GRACE: Duration = Duration::from_secs(5);

/// The exit code and name of the signal that stopped the run.
type Stop = (u8, &'static str);

/// No signal handling where tokio has no Unix signals.
#[cfg(not(unix))]
fn watch_signals() -> Option<tokio::sync::oneshot::Receiver<Stop>> {
    None
}

/// Listens for SIGINT and SIGTERM: the first is reported through the returned channel (the run
/// stops reading and finishes what it read); a second one exits the process at once. `None`
/// (with a warning) when the handlers cannot be installed.
#[cfg(unix)]
fn watch_signals() -> Option<tokio::sync::oneshot::Receiver<Stop>> {
    use tokio::signal::unix::{SignalKind, signal};
    let handlers = signal(SignalKind::interrupt()).and_then(|i| Ok((i, signal(SignalKind::terminate())?)));
    let (mut int, mut term) = match handlers {
        Ok(handlers) => handlers,
        Err(e) => {
            say!("warning: cannot handle SIGINT/SIGTERM ({e}); a signal stops the run at once");
            return None;
        }
    };
    let (tx, rx) = tokio::sync::oneshot::channel();
    tokio::spawn(async move {
        let next = async |int: &mut tokio::signal::unix::Signal, term: &mut tokio::signal::unix::Signal| -> Stop {
            tokio::select! {
                _ = int.recv() => (EXIT_SIGINT, "SIGINT"),
                _ = term.recv() => (EXIT_SIGTERM, "SIGTERM"),
            }
        };
        let first = next(&mut int, &mut term).await;
        let _ = tx.send(first);
        let (code, name) = next(&mut int, &mut term).await;
        say!("{name} again: exiting at once; records not yet written are not acknowledged");
        std::process::exit(i32::from(code));
    });
    Some(rx)
}

/// The first stop signal, once; never resolves without signal handling.
async fn next_stop(signal: &mut Option<tokio::sync::oneshot::Receiver<Stop>>) -> Option<Stop> {
    match signal {
        Some(rx) => {
            let stop = rx.await.ok();
            *signal = None;
            stop
        }
        None => std::future::pending().await,
    }
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

/// What the progress bar measures, known before the run starts.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Measure {
    /// `--generate N`: records, out of N.
    Records(u64),
    /// A regular `--input` file: input bytes, out of its size.
    Bytes(u64),
    /// Standard input, a pipe, a FIFO: no total.
    Unknown,
}

impl Measure {
    fn of(input: &Input) -> Measure {
        match input {
            Input::Generate { count, .. } => Measure::Records(*count),
            Input::File(path) => match std::fs::metadata(path) {
                Ok(m) if m.is_file() => Measure::Bytes(m.len()),
                _ => Measure::Unknown,
            },
            Input::Stdin => Measure::Unknown,
        }
    }

    /// indicatif's template: a bar with total, rate and ETA when the total is known, a
    /// spinner with the rate otherwise.
    fn template(self) -> &'static str {
        match self {
            Measure::Records(_) => {
                "{spinner} {elapsed_precise} [{wide_bar}] {human_pos}/{human_len} records, {rate}, ETA {eta} {msg}"
            }
            Measure::Bytes(_) => {
                "{spinner} [{wide_bar}] {binary_bytes}/{binary_total_bytes}, {binary_bytes_per_sec}, ETA {eta}, {msg}"
            }
            Measure::Unknown => "{spinner} {elapsed_precise} {human_pos} records, {rate} {msg}",
        }
    }
}

/// The bar's style: [`Measure::template`], with `{rate}` as whole records per second.
fn style(measure: Measure) -> indicatif::ProgressStyle {
    indicatif::ProgressStyle::with_template(measure.template())
        .unwrap_or_else(|_| indicatif::ProgressStyle::default_bar())
        .with_key("rate", |state: &indicatif::ProgressState, w: &mut dyn std::fmt::Write| {
            let _ = write!(w, "{:.0}/s", state.per_sec());
        })
        .progress_chars("=> ")
}

/// The progress bar on stderr (only on a terminal; see [`RunOptions::progress`]): indicatif
/// draws it at most 20 times a second, from its own ticker thread as well, so the elapsed
/// time and the spinner move while the run waits.
struct Progress {
    bar: Option<indicatif::ProgressBar>,
    measure: Measure,
}

impl Progress {
    fn new(enabled: bool, measure: Measure) -> Self {
        if !enabled {
            return Progress { bar: None, measure };
        }
        let len = match measure {
            Measure::Records(n) | Measure::Bytes(n) => Some(n),
            Measure::Unknown => None,
        };
        let bar = indicatif::ProgressBar::with_draw_target(len, indicatif::ProgressDrawTarget::stderr());
        let style = style(measure);
        bar.set_style(style);
        bar.enable_steady_tick(Duration::from_millis(100));
        // Log lines and messages are written above the bar while it is drawn.
        crate::log::set_progress_bar(Some(bar.clone()));
        Progress { bar: Some(bar), measure }
    }

    /// After `bytes` more input bytes were handed to the runner (and what the tally says).
    fn advance(&self, bytes: u64, tally: &Tally) {
        let Some(bar) = &self.bar else { return };
        match self.measure {
            Measure::Bytes(_) => bar.inc(bytes),
            Measure::Records(_) | Measure::Unknown => bar.set_position(tally.written + tally.failed),
        }
        bar.set_message(match self.measure {
            Measure::Bytes(_) if tally.failed > 0 => format!("{} records, {} failed", tally.written, tally.failed),
            Measure::Bytes(_) => format!("{} records", tally.written),
            Measure::Records(_) | Measure::Unknown if tally.failed > 0 => format!("({} failed)", tally.failed),
            Measure::Records(_) | Measure::Unknown => String::new(),
        });
    }

    fn finish(&self) {
        if let Some(bar) = &self.bar {
            crate::log::set_progress_bar(None);
            bar.finish_and_clear();
        }
    }
}

impl Drop for Progress {
    /// A run that ends early (an error, a panic) leaves no bar behind for the log to write above.
    fn drop(&mut self) {
        self.finish();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_progress_template_parses() {
        for measure in [Measure::Records(10), Measure::Bytes(10), Measure::Unknown] {
            assert!(indicatif::ProgressStyle::with_template(measure.template()).is_ok(), "{measure:?}");
        }
    }

    #[test]
    fn the_progress_measure_follows_the_input() {
        assert_eq!(Measure::of(&Input::Generate { count: 7, payload_size: 1 }), Measure::Records(7));
        assert_eq!(Measure::of(&Input::Stdin), Measure::Unknown);
        let tmp = std::env::temp_dir().join(format!("cli-measure-{}", std::process::id()));
        std::fs::write(&tmp, b"0123456789").unwrap();
        assert_eq!(Measure::of(&Input::File(tmp.clone())), Measure::Bytes(10));
        std::fs::remove_file(&tmp).unwrap();
        assert_eq!(Measure::of(&Input::File(tmp)), Measure::Unknown, "a missing file has no size");
        assert_eq!(Measure::of(&Input::File("/dev/null".into())), Measure::Unknown, "not a regular file");
    }

    #[test]
    fn log_lines_are_written_above_the_progress_bar_while_it_is_drawn() {
        assert!(crate::log::progress_bar().is_none());
        {
            let progress = Progress::new(true, Measure::Unknown);
            let drawn = crate::log::progress_bar().expect("the bar is registered for the log");
            assert_eq!(drawn.length(), progress.bar.as_ref().unwrap().length());
            // The log writes through the bar (cleared, written, redrawn) without blocking on it.
            crate::log::write_stderr(b"a log line while the bar is drawn\n");
            progress.finish();
            assert!(crate::log::progress_bar().is_none(), "a finished bar is forgotten");
        }
        {
            let _progress = Progress::new(true, Measure::Records(3));
            assert_eq!(crate::log::progress_bar().and_then(|b| b.length()), Some(3));
        }
        assert!(crate::log::progress_bar().is_none(), "a dropped bar is forgotten");
        let _disabled = Progress::new(false, Measure::Records(3));
        assert!(crate::log::progress_bar().is_none(), "no bar without a terminal or with --quiet");
    }

    #[test]
    fn the_budget_bounds_bytes_in_flight_but_lets_one_large_item_pass_alone() {
        let budget = Budget::default();
        assert!(budget.try_take(IN_FLIGHT_BYTES - 10));
        assert!(budget.try_take(10));
        assert!(!budget.try_take(1), "full");
        budget.give(IN_FLIGHT_BYTES);
        assert!(budget.try_take(IN_FLIGHT_BYTES * 4), "an item over the budget passes when nothing else is in flight");
        assert!(!budget.try_take(1));
        budget.give(IN_FLIGHT_BYTES * 4);
        assert!(budget.try_take(1));
    }

    #[test]
    fn a_waiting_reader_is_woken_by_the_writer_or_released_by_stop() {
        let budget = Arc::new(Budget::default());
        let stop = Arc::new(AtomicBool::new(false));
        assert!(budget.try_take(IN_FLIGHT_BYTES));
        let (b, s) = (Arc::clone(&budget), Arc::clone(&stop));
        let reader = std::thread::spawn(move || b.take(1, &s));
        std::thread::sleep(Duration::from_millis(50));
        budget.give(IN_FLIGHT_BYTES);
        assert!(reader.join().is_ok(), "woken when bytes come back");
        assert!(!budget.try_take(IN_FLIGHT_BYTES), "the reader took its byte");
        budget.give(1);

        assert!(budget.try_take(IN_FLIGHT_BYTES));
        let (b, s) = (Arc::clone(&budget), Arc::clone(&stop));
        let reader = std::thread::spawn(move || b.take(1, &s));
        stop.store(true, Ordering::Relaxed);
        assert!(reader.join().is_ok(), "stops waiting when the run stops");
    }
}
