//! The gRPC services of plugin mode, and the actor that owns the
//! destination.
//!
//! One task (the actor) owns the [`DestinationRunner`] and the open Run
//! stream; the RPC handlers send it [`Command`]s and wait for replies, so
//! `Run` and `Stop` can interact: records from the Run stream are written in
//! order, their acks go back on the Run response stream as soon as they exist,
//! and `Stop` waits until the record at its last position has been received,
//! then flushes.
//!
//! The Run path is a pipeline: a reader task per Run stream receives and
//! decodes the requests and converts their records while the actor writes
//! the records before them; it hands the actor every request that has
//! already arrived as one [`Bundle`], marked when nothing more was waiting.
//! The actor writes a partial batch only then (a request that has arrived
//! but is still being decoded is not "nothing more"), and hands each batch's
//! acks to the response stream, which puts every ack waiting at that moment
//! into one response ([`AckStream`]).

use std::collections::BTreeMap;
use std::marker::PhantomData;
use std::ops::RangeInclusive;
#[cfg(unix)]
use std::path::PathBuf;
use std::pin::Pin;
use std::task::{Context, Poll};
use std::time::Duration;

use tokio::sync::{mpsc, oneshot};
use tokio::time::Instant;
use tonic::codegen::tokio_stream::Stream;
use tonic::{Code, Request, Response, Status, Streaming};

use super::proto::connector::v2 as pb;
use super::proto::connector::v2::destination_plugin_server::{DestinationPlugin, DestinationPluginServer};
use super::proto::connector::v2::specifier_plugin_server::{SpecifierPlugin, SpecifierPluginServer};
use super::proto::health;
use super::proto::opencdc::v1 as pbcdc;
use super::proto::plugin::Empty;
use super::proto::plugin::grpc_controller_server::{GrpcController, GrpcControllerServer};
use super::{
    APP_PROTOCOL_VERSION, CORE_PROTOCOL_VERSION, FLUSH_TIMEOUT, PARENT_CHECK_INTERVAL, SHUTDOWN_TEARDOWN_TIMEOUT,
    SIGTERM_GRACE, STOP_TIMEOUT, StartError, TEARDOWN_TIMEOUT, bind_listener, handshake_line,
};
use crate::config::ConfigMap;
use crate::destination::{Ack, ConfigureError, Destination, DestinationRunner};
use crate::opencdc::{Position, Record};
use crate::plugin::convert::ProtoError;
use crate::spec::Specification;

type Reply<T = ()> = oneshot::Sender<Result<T, Status>>;
type ProtoAck = pb::destination::run::response::Ack;
/// The actor's side of a Run response stream: the acks of one write (or the
/// error that ends the stream).
type RunOut = mpsc::Sender<Result<Vec<ProtoAck>, Status>>;

/// How many commands may wait for the actor.
const COMMAND_QUEUE: usize = 64;
/// How many writes' acks may wait for the client to read them (back-pressure:
/// the actor stops reading requests while the client reads no acks).
const ACK_QUEUE: usize = 64;
/// At most this many ack bytes (positions and errors) are merged into one Run
/// response (Go clients receive messages of at most 4 MiB by default).
const MAX_RESPONSE_ACK_BYTES: usize = 1 << 20;
/// At most this many requests or commands are handled in a row, and for at
/// most [`ACK_HOLD`], before the actor sends the acks of what it wrote, checks
/// its timers and lets the transport's tasks run (a client that never pauses
/// cannot starve them).
const DRAIN_LIMIT: usize = 256;
/// How long acks of written records may wait while the actor handles requests
/// that have already arrived, so that a burst of writes sends one response,
/// not one per write. Acks never wait for records that have not arrived.
const ACK_HOLD: Duration = Duration::from_millis(1);
/// At most this many acks wait to be sent (see [`ACK_HOLD`]).
const MAX_UNSENT_ACKS: usize = 4096;
/// A [`Bundle`] is handed to the actor once it holds this many records …
const BUNDLE_RECORDS: usize = 128;
/// … or this many bytes of encoded requests.
const BUNDLE_BYTES: usize = 1 << 20;
/// How many bundles the reader may decode ahead of the actor (back-pressure:
/// then it stops reading, and h2's flow control stops the client).
const READ_AHEAD: usize = 4;

/// Binds, prints the handshake line, and serves until the process exits.
pub(super) async fn run<D: Destination>(
    spec: Specification,
    listen: Listen,
    max_receive_size: usize,
) -> Result<(), StartError> {
    let listener = listen.bind()?;

    let (health_reporter, health_service) = health::health_reporter();
    health_reporter.set_service_status("plugin", tonic_health::ServingStatus::Serving).await;

    let (commands, inbox) = mpsc::channel::<Command>(COMMAND_QUEUE);
    tokio::spawn(Actor::<D>::new().run(inbox));
    ignore_sigint();
    watch_sigterm(commands.clone());
    watch_parent(commands.clone());

    let specify = pb::specifier::specify::Response::from(&spec);
    let destination = DestinationService::<D> { commands: commands.clone(), _destination: PhantomData };
    let router = tonic::transport::Server::builder()
        .add_service(health_service)
        .add_service(GrpcControllerServer::new(Controller { commands }).max_decoding_message_size(max_receive_size))
        .add_service(
            SpecifierPluginServer::new(Specifier { response: specify }).max_decoding_message_size(max_receive_size),
        )
        .add_service(DestinationPluginServer::new(destination).max_decoding_message_size(max_receive_size));

    // The handshake: exactly one line on stdout, flushed, before serving.
    let line = listener.handshake_line();
    {
        use std::io::Write;
        let mut stdout = std::io::stdout().lock();
        stdout
            .write_all(line.as_bytes())
            .and_then(|()| stdout.flush())
            .map_err(|e| StartError::Other(format!("could not write the handshake to stdout: {e}")))?;
    }
    tracing::info!(
        network = listener.network(),
        address = %listener.address(),
        name = %spec.name,
        version = %spec.version,
        "plugin server listening"
    );

    let served = match listener {
        Listener::Tcp(listener) => {
            // Acks are small: without TCP_NODELAY one can wait for Nagle's
            // algorithm (tens of milliseconds) behind an HTTP/2 ping reply.
            let incoming = tcp_incoming(listener);
            router.serve_with_incoming(incoming).await
        }
        #[cfg(unix)]
        Listener::Unix(listener, _) => {
            let incoming = tonic::codegen::tokio_stream::wrappers::UnixListenerStream::new(listener);
            router.serve_with_incoming(incoming).await
        }
    };
    served.map_err(|e| StartError::Other(format!("gRPC server error: {e}")))
}

/// The accepted TCP connections, each with `TCP_NODELAY` set.
fn tcp_incoming(listener: tokio::net::TcpListener) -> tonic::transport::server::TcpIncoming {
    tonic::transport::server::TcpIncoming::from(listener).with_nodelay(Some(true))
}

/// Where the server listens.
#[derive(Debug, Clone)]
pub(super) enum Listen {
    /// `127.0.0.1`, a port of the range (any when `None`).
    Tcp(Option<RangeInclusive<u16>>),
    /// A unix socket in a fresh 0700 directory inside this directory (the
    /// temp dir when `None`).
    #[cfg(unix)]
    Unix(Option<PathBuf>),
}

enum Listener {
    Tcp(tokio::net::TcpListener),
    #[cfg(unix)]
    Unix(tokio::net::UnixListener, PathBuf),
}

impl Listen {
    fn bind(self) -> Result<Listener, StartError> {
        match self {
            Listen::Tcp(ports) => {
                let listener = bind_listener(ports)?;
                listener
                    .set_nonblocking(true)
                    .map_err(|e| StartError::Other(format!("could not configure the socket: {e}")))?;
                let listener = tokio::net::TcpListener::from_std(listener)
                    .map_err(|e| StartError::Other(format!("could not register the socket: {e}")))?;
                Ok(Listener::Tcp(listener))
            }
            #[cfg(unix)]
            Listen::Unix(parent) => {
                let dir = super::socket::create_dir(parent.as_deref())?;
                let path = dir.join(super::socket::SOCKET_NAME);
                let listener = tokio::net::UnixListener::bind(&path).map_err(|e| {
                    super::socket::remove();
                    StartError::Other(format!("could not listen on the unix socket {}: {e}", path.display()))
                })?;
                Ok(Listener::Unix(listener, path))
            }
        }
    }
}

impl Listener {
    fn network(&self) -> &'static str {
        match self {
            Listener::Tcp(_) => "tcp",
            #[cfg(unix)]
            Listener::Unix(..) => "unix",
        }
    }

    fn address(&self) -> String {
        match self {
            Listener::Tcp(l) => l.local_addr().map(|a| a.to_string()).unwrap_or_default(),
            #[cfg(unix)]
            Listener::Unix(_, path) => path.display().to_string(),
        }
    }

    fn handshake_line(&self) -> String {
        match self {
            Listener::Tcp(l) => match l.local_addr() {
                Ok(addr) => handshake_line(addr),
                Err(_) => format!("{CORE_PROTOCOL_VERSION}|{APP_PROTOCOL_VERSION}|tcp|{}|grpc|\n", self.address()),
            },
            #[cfg(unix)]
            Listener::Unix(_, path) => super::handshake_line_unix(path),
        }
    }
}

/// Tears the destination down (within [`SHUTDOWN_TEARDOWN_TIMEOUT`]) and
/// exits the process with `code`, removing the unix socket first.
async fn teardown_and_exit(commands: mpsc::Sender<Command>, code: i32) -> ! {
    let started = Instant::now();
    let teardown = ask(&commands, |reply| Command::Teardown { reply });
    match tokio::time::timeout(SHUTDOWN_TEARDOWN_TIMEOUT, teardown).await {
        Ok(Ok(())) => {}
        Ok(Err(e)) => tracing::error!(error = %e.message(), "teardown on shutdown failed"),
        Err(_) => tracing::error!(
            timeout = ?SHUTDOWN_TEARDOWN_TIMEOUT,
            "teardown on shutdown did not finish in time; exiting anyway"
        ),
    }
    // Give a Shutdown response a moment to reach Conduit.
    tokio::time::sleep_until(started + Duration::from_millis(50)).await;
    super::exit_process(code)
}

/// go-plugin plugins ignore SIGINT: Conduit's Ctrl-C reaches the whole
/// process group, and Conduit stops its plugins itself. The handler is
/// registered before the handshake line is printed.
fn ignore_sigint() {
    #[cfg(unix)]
    {
        use tokio::signal::unix::{SignalKind, signal};
        match signal(SignalKind::interrupt()) {
            Ok(mut sigint) => {
                tokio::spawn(async move {
                    while sigint.recv().await.is_some() {
                        tracing::debug!("ignoring SIGINT: Conduit stops its plugins itself");
                    }
                });
            }
            Err(e) => tracing::warn!(error = %e, "could not install a SIGINT handler; Ctrl-C will end the plugin"),
        }
    }
    #[cfg(not(unix))]
    tokio::spawn(async {
        while tokio::signal::ctrl_c().await.is_ok() {
            tracing::debug!("ignoring Ctrl-C: Conduit stops its plugins itself");
        }
    });
}

/// SIGTERM: Conduit gets SIGTERM too (the same process group) and drains
/// its pipelines, still driving this plugin; keep serving until Shutdown,
/// and exit on [`SIGTERM_GRACE`] only if it never comes.
fn watch_sigterm(commands: mpsc::Sender<Command>) {
    #[cfg(unix)]
    {
        use tokio::signal::unix::{SignalKind, signal};
        match signal(SignalKind::terminate()) {
            Ok(mut sigterm) => {
                tokio::spawn(async move {
                    if sigterm.recv().await.is_none() {
                        return;
                    }
                    tracing::info!(
                        grace = ?SIGTERM_GRACE,
                        "SIGTERM received: serving on until Conduit's Teardown and Shutdown (exiting after the grace \
                         period if they never come)"
                    );
                    let repeated = async {
                        while sigterm.recv().await.is_some() {
                            tracing::info!("SIGTERM received again; still waiting for Conduit's Shutdown");
                        }
                        std::future::pending::<()>().await;
                    };
                    let _ = tokio::time::timeout(SIGTERM_GRACE, repeated).await;
                    tracing::error!(
                        grace = ?SIGTERM_GRACE,
                        "no Shutdown from Conduit within the grace period after SIGTERM; tearing down and exiting"
                    );
                    teardown_and_exit(commands, 143).await
                });
            }
            Err(e) => tracing::warn!(error = %e, "could not install a SIGTERM handler; SIGTERM will end the plugin"),
        }
    }
    #[cfg(not(unix))]
    let _ = commands;
}

/// Asks Linux to send SIGHUP when the parent dies, and returns the SIGHUP
/// stream (`None` where that is not available: the pid is polled only).
#[cfg(target_os = "linux")]
fn parent_death_signal() -> Option<tokio::signal::unix::Signal> {
    use tokio::signal::unix::{SignalKind, signal};
    let hangup = match signal(SignalKind::hangup()) {
        Ok(hangup) => hangup,
        Err(e) => {
            tracing::debug!(error = %e, "no SIGHUP handler; polling the parent pid only");
            return None;
        }
    };
    if let Err(e) = rustix::process::set_parent_process_death_signal(Some(rustix::process::Signal::HUP)) {
        tracing::debug!(error = %e, "PR_SET_PDEATHSIG failed; polling the parent pid only");
    }
    Some(hangup)
}

#[cfg(all(unix, not(target_os = "linux")))]
fn parent_death_signal() -> Option<tokio::signal::unix::Signal> {
    None
}

/// Parent death: when Conduit dies the plugin is re-parented. Linux sends
/// SIGHUP at once (`PR_SET_PDEATHSIG`); everywhere the parent pid is also
/// checked every [`PARENT_CHECK_INTERVAL`]. Then the destination is torn
/// down and the process exits.
fn watch_parent(commands: mpsc::Sender<Command>) {
    #[cfg(unix)]
    {
        let parent = rustix::process::getppid();
        let mut hangup = parent_death_signal();
        tokio::spawn(async move {
            loop {
                let sighup = async {
                    let received = match hangup.as_mut() {
                        Some(h) => h.recv().await.is_some(),
                        None => false,
                    };
                    if !received {
                        std::future::pending::<()>().await;
                    }
                };
                tokio::select! {
                    () = sighup => {}
                    () = tokio::time::sleep(PARENT_CHECK_INTERVAL) => {}
                }
                if rustix::process::getppid() != parent {
                    tracing::error!("the parent process (Conduit) is gone; tearing down and exiting");
                    teardown_and_exit(commands, 1).await
                }
            }
        });
    }
    #[cfg(not(unix))]
    let _ = commands;
}

// ---------------------------------------------------------------------------
// Commands and the actor
// ---------------------------------------------------------------------------

/// A Run request's records that could not be converted: all are nacked.
#[derive(Debug)]
struct Nack {
    positions: Vec<Position>,
    error: String,
}

enum Command {
    Configure { config: ConfigMap, reply: Reply },
    OnCreated { config: ConfigMap, reply: Reply },
    OnUpdated { before: ConfigMap, after: ConfigMap, reply: Reply },
    Open { reply: Reply },
    Attach { requests: Streaming<pb::destination::run::Request>, out: RunOut, reply: Reply },
    Stop { last_position: Vec<u8>, reply: Reply },
    Teardown { reply: Reply },
}

/// The open Run stream: the requests (from its reader task) and the response
/// side.
struct RunStream {
    incoming: mpsc::Receiver<Bundle>,
    /// Whether the reader had nothing more after the last bundle taken: only
    /// then may a partial batch be written.
    drained: bool,
    out: RunOut,
    /// Acks of written records not yet handed to the response side (see
    /// [`ACK_HOLD`]), and since when the first of them waits.
    unsent: Vec<ProtoAck>,
    unsent_since: Option<std::time::Instant>,
}

/// The requests a Run stream's reader had received, in order.
struct Bundle {
    items: Vec<Incoming>,
    /// Nothing more had arrived when the reader handed the bundle over (or
    /// the request side ended).
    drained: bool,
}

/// One request's records (converted, or nacked), or the end of the requests.
enum Incoming {
    Records(Result<Vec<Record>, Nack>),
    End(RunEnd),
}

/// How the request side of a Run stream ended.
#[derive(Debug)]
enum RunEnd {
    /// The client closed its side (EOF).
    Closed,
    /// The client cancelled the stream, or the connection went away.
    Cancelled(String),
    /// A request could not be received (too large, nested too deep, not
    /// protobuf): the stream ends with this status.
    Failed(Status),
}

struct PendingStop {
    want: Vec<u8>,
    /// Whether a record at `want` has been received.
    seen: bool,
    deadline: Instant,
    reply: Reply,
}

struct Actor<D: Destination> {
    runner: Option<DestinationRunner<D>>,
    opened: bool,
    torn_down: bool,
    /// The open Run stream.
    run: Option<RunStream>,
    /// The position of the last record received on a Run stream.
    last_position: Vec<u8>,
    stop: Option<PendingStop>,
}

fn unknown(message: impl Into<String>) -> Status {
    Status::new(Code::Unknown, message)
}

fn go_quote(bytes: &[u8]) -> String {
    crate::config::go::quote(&String::from_utf8_lossy(bytes))
}

impl<D: Destination> Actor<D> {
    fn new() -> Self {
        Actor { runner: None, opened: false, torn_down: false, run: None, last_position: Vec::new(), stop: None }
    }

    async fn run(mut self, mut inbox: mpsc::Receiver<Command>) {
        loop {
            let batch_deadline = self.runner.as_ref().and_then(DestinationRunner::deadline);
            let stop_deadline = self.stop.as_ref().map(|s| s.deadline);
            let reading = self.run.is_some();
            tokio::select! {
                biased;
                () = sleep_until(batch_deadline), if batch_deadline.is_some() => self.flush().await,
                () = sleep_until(stop_deadline), if stop_deadline.is_some() => self.stop_timed_out().await,
                command = inbox.recv() => match command {
                    Some(command) => self.handle(command).await,
                    None => break,
                },
                bundle = next_bundle(&mut self.run), if reading => self.received(bundle).await,
            }
            // Then everything that is ready, until nothing more is queued.
            while !self.drain(&mut inbox).await {
                // Requests keep coming: send the acks so far, keep the timers,
                // and let the transport's tasks (the response stream among
                // them) run before the next round.
                self.push_acks().await;
                self.timers_due().await;
                tokio::task::yield_now().await;
            }
            // A request still being decoded is on its way: the partial batch
            // waits for it.
            if self.run.as_ref().is_none_or(|run| run.drained) {
                self.idle().await;
            }
            self.push_acks().await;
        }
    }

    /// Handles the batch delay and the Stop deadline if they have passed.
    async fn timers_due(&mut self) {
        let now = Instant::now();
        if self.runner.as_ref().and_then(DestinationRunner::deadline).is_some_and(|d| d <= now) {
            self.flush().await;
        }
        if self.stop.as_ref().is_some_and(|s| s.deadline <= now) {
            self.stop_timed_out().await;
        }
    }

    /// Handles what is ready without waiting: queued commands, then the
    /// requests the Run stream has already received. Returns whether nothing
    /// more is queued (false when it stopped after [`DRAIN_LIMIT`] items or
    /// [`ACK_HOLD`]).
    async fn drain(&mut self, inbox: &mut mpsc::Receiver<Command>) -> bool {
        let started = std::time::Instant::now();
        for _ in 0..DRAIN_LIMIT {
            if let Ok(command) = inbox.try_recv() {
                self.handle(command).await;
            } else {
                match self.run.as_mut().map(|run| run.incoming.try_recv()) {
                    Some(Ok(bundle)) => self.received(Some(bundle)).await,
                    Some(Err(mpsc::error::TryRecvError::Disconnected)) => self.received(None).await,
                    Some(Err(mpsc::error::TryRecvError::Empty)) | None => return true,
                }
            }
            if started.elapsed() >= ACK_HOLD {
                return false;
            }
        }
        false
    }

    /// Nothing more is queued: a partial batch is written now (Conduit may
    /// be waiting for its acks before it sends more; `sdk.batch.size` and
    /// `sdk.batch.delay` are upper bounds), and a Stop whose last position
    /// arrived finishes.
    async fn idle(&mut self) {
        if self.stop.as_ref().is_some_and(|s| s.seen) {
            self.finish_stop(Ok(())).await;
        } else {
            self.flush().await;
        }
    }

    async fn handle(&mut self, command: Command) {
        match command {
            Command::Configure { config, reply } => {
                let _ = reply.send(self.configure(config).await);
            }
            Command::OnCreated { config, reply } => {
                let result = match self.runner.as_mut() {
                    Some(runner) => runner.on_created(&config).await.map_err(|e| unknown(e.to_string())),
                    None => Err(unknown("LifecycleOnCreated called before Configure")),
                };
                let _ = reply.send(result);
            }
            Command::OnUpdated { before, after, reply } => {
                let result = match self.runner.as_mut() {
                    Some(runner) => runner.on_updated(&before, &after).await.map_err(|e| unknown(e.to_string())),
                    None => Err(unknown("LifecycleOnUpdated called before Configure")),
                };
                let _ = reply.send(result);
            }
            Command::Open { reply } => {
                let result = match self.runner.as_mut() {
                    Some(_) if self.torn_down => Err(unknown("Open called after Teardown")),
                    Some(_) if self.opened => {
                        Err(Status::failed_precondition("Open called twice: the destination is already open"))
                    }
                    Some(runner) => match runner.open().await {
                        Ok(()) => {
                            self.opened = true;
                            tracing::info!("destination opened");
                            Ok(())
                        }
                        Err(e) => Err(unknown(e.to_string())),
                    },
                    None => Err(unknown("Open called before Configure")),
                };
                let _ = reply.send(result);
            }
            Command::Attach { requests, out, reply } => {
                let _ = reply.send(self.attach(requests, out).await);
            }
            Command::Stop { last_position, reply } => self.stop(last_position, reply).await,
            Command::Teardown { reply } => {
                if let Some(stop) = self.stop.take() {
                    let _ = stop.reply.send(Err(unknown("Teardown was called before Stop saw its last position")));
                }
                // Records still waiting for their batch (Conduit's pipeline
                // architecture v2 never calls Stop): written, and acked if
                // the Run stream is still open.
                self.flush().await;
                self.push_acks().await;
                let result = match self.runner.as_mut() {
                    Some(runner) if !self.torn_down => {
                        let result = runner.teardown().await.map_err(|e| unknown(e.to_string()));
                        tracing::info!("destination torn down");
                        result
                    }
                    _ => Ok(()),
                };
                self.torn_down = true;
                self.run = None;
                let _ = reply.send(result);
            }
        }
    }

    async fn configure(&mut self, config: ConfigMap) -> Result<(), Status> {
        if self.opened && !self.torn_down {
            let pending = self.runner.as_ref().map_or(0, DestinationRunner::pending);
            return Err(Status::failed_precondition(format!(
                "Configure called after Open: the destination is open and keeps its configuration ({pending} records \
                 waiting for their batch); Teardown first"
            )));
        }
        match DestinationRunner::<D>::configure(&config).await {
            Ok(mut runner) => {
                runner.set_schema_service(super::schema_service());
                self.runner = Some(runner);
                self.opened = false;
                self.torn_down = false;
                self.last_position.clear();
                Ok(())
            }
            // Go: `failed to parse configuration: config invalid: <errors joined by \n>`.
            Err(e @ ConfigureError::Invalid(_)) => {
                Err(Status::invalid_argument(format!("failed to parse configuration: {e}")))
            }
            Err(ConfigureError::Destination(e)) => {
                Err(Status::invalid_argument(format!("failed to parse configuration: config invalid: {e}")))
            }
        }
    }

    async fn attach(&mut self, requests: Streaming<pb::destination::run::Request>, out: RunOut) -> Result<(), Status> {
        if !self.opened || self.torn_down {
            return Err(unknown("destination is not open: Run needs a successful Open first"));
        }
        if let Some(previous) = &self.run {
            if !previous.out.is_closed() {
                tracing::error!("a second Run stream was refused: the first one is still open");
                return Err(Status::failed_precondition(
                    "a Run stream is already open: this destination takes one Run stream at a time (end the first \
                     one before opening another)",
                ));
            }
            // The previous stream's client went away; its end may not have
            // been read yet.
            self.run_ended(RunEnd::Cancelled("its client went away".to_owned())).await;
        }
        let (bundles, incoming) = mpsc::channel(READ_AHEAD);
        tokio::spawn(read_requests(requests, bundles));
        self.run = Some(RunStream { incoming, drained: true, out, unsent: Vec::new(), unsent_since: None });
        Ok(())
    }

    /// Requests, or the end of the request side, from the Run stream's reader
    /// (`None`: the reader is gone without saying why).
    async fn received(&mut self, bundle: Option<Bundle>) {
        let Some(Bundle { items, drained }) = bundle else {
            self.run_ended(RunEnd::Cancelled("the request reader stopped".to_owned())).await;
            return;
        };
        if let Some(run) = self.run.as_mut() {
            run.drained = drained;
        }
        for item in items {
            match item {
                Incoming::Records(records) => self.write(records).await,
                Incoming::End(end) => self.run_ended(end).await,
            }
        }
    }

    async fn run_ended(&mut self, end: RunEnd) {
        if self.run.is_none() {
            return;
        }
        match end {
            // The client closed its side: write what waits for its batch,
            // send the acks, then end the response stream.
            RunEnd::Closed => self.flush().await,
            RunEnd::Cancelled(reason) => {
                tracing::debug!(reason = %reason, "Run stream cancelled");
                let pending = self.runner.as_ref().map_or(0, DestinationRunner::pending);
                if pending > 0 {
                    tracing::error!(
                        records = pending,
                        "the Run stream was cancelled while records waited for their batch; writing them, but their \
                         acks cannot be sent"
                    );
                }
                self.flush().await;
            }
            RunEnd::Failed(status) => {
                // Earlier records first: written and acked on the stream,
                // then the stream ends with the error.
                self.flush().await;
                self.push_acks().await;
                tracing::error!(error = %status.message(), "the Run stream failed");
                if let Some(run) = &self.run
                    && run.out.send(Err(status)).await.is_err()
                {
                    tracing::error!("the Run stream's error could not be sent: its client is gone");
                }
            }
        }
        self.push_acks().await;
        self.run = None;
        if let Some(stop) = self.stop.as_ref().filter(|s| !s.seen) {
            let error = format!(
                "the Run stream ended before the record at the last position {} arrived (last position received {})",
                go_quote(&stop.want),
                go_quote(&self.last_position)
            );
            tracing::error!(error = %error, "Stop failed");
            self.finish_stop(Err(unknown(error))).await;
        }
    }

    /// Writes a Run request's records (or nacks them) and sends their acks.
    async fn write(&mut self, records: Result<Vec<Record>, Nack>) {
        let positions_end = match &records {
            Ok(records) => records.last().map(|r| r.position.0.clone()),
            Err(nack) => nack.positions.last().map(|p| p.0.clone()),
        };
        if let Some(last) = positions_end {
            self.last_position = last;
        }
        let acks = match (records, self.runner.as_mut()) {
            (Ok(records), Some(runner)) if self.opened && !self.torn_down => {
                let size = runner.settings().batch_size;
                if size == 0 || runner.pending() + records.len() <= size {
                    runner.write(records).await
                } else {
                    // More than the batch has room for: each full batch is
                    // written and acked before the next is filled, and the
                    // rest waits for more records like any partial batch.
                    let mut records = records.into_iter();
                    loop {
                        let Some(runner) = self.runner.as_mut() else { break Vec::new() };
                        let room = size.saturating_sub(runner.pending()).max(1);
                        let part: Vec<Record> = records.by_ref().take(room).collect();
                        if part.len() < room {
                            break runner.write(part).await;
                        }
                        let acks = runner.write(part).await;
                        self.send_acks(acks).await;
                    }
                }
            }
            (Ok(records), _) => {
                let error =
                    if self.torn_down { "the destination was torn down" } else { "the destination is not open" };
                records.into_iter().map(|r| Ack { position: r.position, error: Some(error.to_owned()) }).collect()
            }
            (Err(nack), _) => {
                // Keep acks in record order: earlier records waiting for their
                // batch go first.
                self.flush().await;
                tracing::error!(error = %nack.error, "invalid records in a Run request");
                nack.positions.into_iter().map(|p| Ack { position: p, error: Some(nack.error.clone()) }).collect()
            }
        };
        self.send_acks(acks).await;
        if let Some(stop) = self.stop.as_mut()
            && stop.want == self.last_position
        {
            stop.seen = true;
        }
    }

    async fn flush(&mut self) {
        if let Some(runner) = self.runner.as_mut().filter(|r| r.pending() > 0) {
            let acks = runner.flush().await;
            self.send_acks(acks).await;
        }
    }

    /// Queues the acks of written records for the Run stream; they are sent
    /// when the actor has handled what had already arrived, at the latest
    /// after [`ACK_HOLD`] (see [`push_acks`](Self::push_acks)).
    async fn send_acks(&mut self, acks: Vec<Ack>) {
        if acks.is_empty() {
            return;
        }
        let Some(run) = self.run.as_mut() else {
            tracing::error!(
                acks = acks.len(),
                nacks = acks.iter().filter(|a| a.error.is_some()).count(),
                "acks that cannot be sent: no Run stream is open; Conduit never sees them"
            );
            return;
        };
        let since = *run.unsent_since.get_or_insert_with(std::time::Instant::now);
        run.unsent.extend(acks.into_iter().map(ack_to_proto));
        if run.unsent.len() >= MAX_UNSENT_ACKS || since.elapsed() >= ACK_HOLD {
            self.push_acks().await;
        }
    }

    /// Hands the queued acks to the Run stream's response side.
    async fn push_acks(&mut self) {
        let Some(run) = self.run.as_mut().filter(|r| !r.unsent.is_empty()) else { return };
        let acks = std::mem::take(&mut run.unsent);
        run.unsent_since = None;
        let (count, failed) = (acks.len(), acks.iter().filter(|a| !a.error.is_empty()).count());
        if run.out.send(Ok(acks)).await.is_err() {
            tracing::error!(
                acks = count,
                nacks = failed,
                "acks that cannot be sent: the Run stream is closed; Conduit never sees them"
            );
            self.run = None;
        }
    }

    async fn stop(&mut self, want: Vec<u8>, reply: Reply) {
        if self.runner.is_none() || !self.opened {
            let _ = reply.send(Err(unknown("Stop called before Open")));
            return;
        }
        if let Some(previous) = self.stop.take() {
            let _ = previous.reply.send(Err(unknown("superseded by a later Stop call")));
        }
        let seen = want == self.last_position;
        if !seen && self.run.is_none() {
            let error = format!(
                "no Run stream is open, so the record at the last position {} cannot arrive (last position received \
                 {})",
                go_quote(&want),
                go_quote(&self.last_position)
            );
            self.flush().await;
            let _ = reply.send(Err(unknown(error)));
            return;
        }
        if !seen {
            tracing::info!("Stop: waiting for the last position to arrive");
        }
        // Finished when nothing more is queued (in `idle`): records after the
        // first one at `want` (positions can repeat) are written first.
        self.stop = Some(PendingStop { want, seen, deadline: Instant::now() + STOP_TIMEOUT, reply });
    }

    async fn stop_timed_out(&mut self) {
        let Some(stop) = self.stop.as_ref() else { return };
        let error = format!(
            "did not encounter expected last position {}, actual last position {}: context deadline exceeded",
            go_quote(&stop.want),
            go_quote(&self.last_position)
        );
        tracing::error!(error = %error, "Stop timed out");
        self.finish_stop(Err(unknown(error))).await;
    }

    async fn finish_stop(&mut self, result: Result<(), Status>) {
        self.flush().await;
        // Stop returns once the acks are on their way.
        self.push_acks().await;
        if let Some(stop) = self.stop.take() {
            tracing::info!("destination stopped");
            let _ = stop.reply.send(result);
        }
    }
}

async fn sleep_until(deadline: Option<Instant>) {
    match deadline {
        Some(d) => tokio::time::sleep_until(d).await,
        None => std::future::pending().await,
    }
}

/// The next bundle of the open Run stream's reader (`None`: the reader is
/// gone); never resolves without a Run stream.
async fn next_bundle(run: &mut Option<RunStream>) -> Option<Bundle> {
    match run {
        Some(run) => run.incoming.recv().await,
        None => std::future::pending().await,
    }
}

/// The reader of a Run stream: receives and decodes the requests and converts
/// their records while the actor writes the ones before them. Every request
/// that has already arrived goes into one bundle (up to [`BUNDLE_RECORDS`] or
/// [`BUNDLE_BYTES`]); the end of the request side is the last item. Stops when
/// the actor lets go of the stream.
async fn read_requests<S>(mut requests: S, bundles: mpsc::Sender<Bundle>)
where
    S: Stream<Item = Result<pb::destination::run::Request, Status>> + Unpin,
{
    // What has already arrived, without waiting (`None`: nothing).
    async fn ready<S: Stream + Unpin>(requests: &mut S) -> Option<Option<S::Item>> {
        std::future::poll_fn(|cx| match Pin::new(&mut *requests).poll_next(cx) {
            Poll::Ready(received) => Poll::Ready(Some(received)),
            Poll::Pending => Poll::Ready(None),
        })
        .await
    }
    // Whether the last bundle was handed over full, with more possibly waiting.
    let mut full = false;
    loop {
        let ready_now = if full { ready(&mut requests).await } else { None };
        let mut received = match ready_now {
            Some(received) => received,
            None => {
                if full {
                    // The actor may write its partial batch now.
                    if bundles.send(Bundle { items: Vec::new(), drained: true }).await.is_err() {
                        return;
                    }
                }
                tokio::select! {
                    biased;
                    () = bundles.closed() => return,
                    received = std::future::poll_fn(|cx| Pin::new(&mut requests).poll_next(cx)) => received,
                }
            }
        };
        let (mut items, mut records, mut bytes) = (Vec::new(), 0, 0);
        let (drained, ended) = loop {
            match received {
                Some(Ok(request)) => {
                    if !request.records.is_empty() {
                        records += request.records.len();
                        bytes += prost::Message::encoded_len(&request);
                        items.push(Incoming::Records(convert_records(request.records)));
                    }
                }
                None => {
                    items.push(Incoming::End(RunEnd::Closed));
                    break (true, true);
                }
                Some(Err(status)) => {
                    items.push(Incoming::End(run_end(status)));
                    break (true, true);
                }
            }
            if records >= BUNDLE_RECORDS || bytes >= BUNDLE_BYTES {
                break (false, false);
            }
            match ready(&mut requests).await {
                Some(next) => received = next,
                None => break (true, false),
            }
        };
        full = !drained;
        if bundles.send(Bundle { items, drained }).await.is_err() || ended {
            return;
        }
    }
}

/// The response side of a Run stream: every ack waiting when the transport
/// asks for the next message goes into one response (up to
/// [`MAX_RESPONSE_ACK_BYTES`]), so a burst of writes costs one message, not
/// one per write, and no ack waits for another.
pub(super) struct AckStream {
    acks: mpsc::Receiver<Result<Vec<ProtoAck>, Status>>,
    /// An error that ends the stream, after the acks before it.
    error: Option<Status>,
}

impl AckStream {
    fn new(acks: mpsc::Receiver<Result<Vec<ProtoAck>, Status>>) -> Self {
        AckStream { acks, error: None }
    }
}

impl Stream for AckStream {
    type Item = Result<pb::destination::run::Response, Status>;

    fn poll_next(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        if let Some(status) = self.error.take() {
            return Poll::Ready(Some(Err(status)));
        }
        let mut acks: Vec<ProtoAck> = Vec::new();
        let mut bytes = 0;
        while bytes < MAX_RESPONSE_ACK_BYTES {
            match self.acks.poll_recv(cx) {
                Poll::Ready(Some(Ok(mut more))) => {
                    bytes += more.iter().map(|a| a.position.len() + a.error.len() + 8).sum::<usize>();
                    if acks.is_empty() {
                        acks = more;
                    } else {
                        acks.append(&mut more);
                    }
                }
                Poll::Ready(Some(Err(status))) if acks.is_empty() => return Poll::Ready(Some(Err(status))),
                Poll::Ready(Some(Err(status))) => {
                    self.error = Some(status);
                    break;
                }
                Poll::Ready(None) if acks.is_empty() => return Poll::Ready(None),
                Poll::Pending if acks.is_empty() => return Poll::Pending,
                Poll::Ready(None) | Poll::Pending => break,
            }
        }
        Poll::Ready(Some(Ok(pb::destination::run::Response { acks })))
    }
}

fn ack_to_proto(ack: Ack) -> ProtoAck {
    let error = match ack.error {
        None => String::new(),
        // An empty error would read as success to Conduit.
        Some(e) if e.is_empty() => "the destination failed the record without an error message".to_owned(),
        Some(e) => e,
    };
    ProtoAck { position: ack.position.0, error }
}

/// Converts a Run request's records; one that cannot be converted nacks the
/// whole request.
fn convert_records(records: Vec<pbcdc::Record>) -> Result<Vec<Record>, Nack> {
    let mut out = Vec::with_capacity(records.len());
    let mut rest = records.into_iter();
    while let Some(record) = rest.next() {
        match Record::try_from(record) {
            Ok(r) => out.push(r),
            Err(e) => {
                let failed = match &e {
                    ProtoError::UnknownOperation { position, .. } => position.clone(),
                    _ => Position::default(),
                };
                let mut positions: Vec<Position> = out.into_iter().map(|r| r.position).collect();
                positions.push(failed);
                positions.extend(rest.map(|r| Position(r.position)));
                return Err(Nack { positions, error: format!("invalid record in the Run request: {e}") });
            }
        }
    }
    Ok(out)
}

// ---------------------------------------------------------------------------
// Services
// ---------------------------------------------------------------------------

/// Classifies a Run stream's receive error: Conduit ends the stream by
/// cancelling it (a clean end); a request that cannot be received ends the
/// stream with an error that says why.
fn run_end(status: Status) -> RunEnd {
    if status.code() == Code::Cancelled || status.message().starts_with("h2 protocol error") {
        return RunEnd::Cancelled(status.message().to_owned());
    }
    let hint = if status.code() == Code::OutOfRange {
        " (the receive limit is CONDUIT_CONNECTOR_MAX_RECEIVE_RECORD_SIZE)"
    } else {
        ""
    };
    RunEnd::Failed(Status::new(
        status.code(),
        format!("a Run request could not be received: {}{hint}; the Run stream ends here", status.message()),
    ))
}

/// Sends `make(reply)` to the actor and waits for the reply.
async fn ask(commands: &mpsc::Sender<Command>, make: impl FnOnce(Reply) -> Command) -> Result<(), Status> {
    let (reply, answer) = oneshot::channel();
    commands.send(make(reply)).await.map_err(|_| actor_gone())?;
    answer.await.map_err(|_| actor_gone())?
}

fn actor_gone() -> Status {
    unknown("the destination task stopped (it panicked; see the log)")
}

fn config_map(map: BTreeMap<String, String>) -> ConfigMap {
    map.into_iter().collect()
}

struct Specifier {
    response: pb::specifier::specify::Response,
}

#[tonic::async_trait]
impl SpecifierPlugin for Specifier {
    async fn specify(
        &self,
        _request: Request<pb::specifier::specify::Request>,
    ) -> Result<Response<pb::specifier::specify::Response>, Status> {
        Ok(Response::new(self.response.clone()))
    }
}

struct Controller {
    commands: mpsc::Sender<Command>,
}

#[tonic::async_trait]
impl GrpcController for Controller {
    /// Returns at once; the destination gets [`SHUTDOWN_TEARDOWN_TIMEOUT`] to
    /// tear down, then the process exits.
    async fn shutdown(&self, _request: Request<Empty>) -> Result<Response<Empty>, Status> {
        tracing::info!("shutdown requested");
        let commands = self.commands.clone();
        tokio::spawn(teardown_and_exit(commands, 0));
        Ok(Response::new(Empty {}))
    }
}

struct DestinationService<D> {
    commands: mpsc::Sender<Command>,
    _destination: PhantomData<fn() -> D>,
}

#[tonic::async_trait]
impl<D: Destination> DestinationPlugin for DestinationService<D> {
    async fn configure(
        &self,
        request: Request<pb::destination::configure::Request>,
    ) -> Result<Response<pb::destination::configure::Response>, Status> {
        let config = config_map(request.into_inner().config);
        ask(&self.commands, |reply| Command::Configure { config, reply }).await?;
        Ok(Response::new(pb::destination::configure::Response {}))
    }

    async fn open(
        &self,
        _request: Request<pb::destination::open::Request>,
    ) -> Result<Response<pb::destination::open::Response>, Status> {
        ask(&self.commands, |reply| Command::Open { reply }).await?;
        Ok(Response::new(pb::destination::open::Response {}))
    }

    type RunStream = AckStream;

    /// Hands the stream to the actor, which reads the requests itself.
    async fn run(
        &self,
        request: Request<Streaming<pb::destination::run::Request>>,
    ) -> Result<Response<Self::RunStream>, Status> {
        let requests = request.into_inner();
        let (out, acks) = mpsc::channel(ACK_QUEUE);
        ask(&self.commands, |reply| Command::Attach { requests, out, reply }).await?;
        Ok(Response::new(AckStream::new(acks)))
    }

    async fn stop(
        &self,
        request: Request<pb::destination::stop::Request>,
    ) -> Result<Response<pb::destination::stop::Response>, Status> {
        let last_position = request.into_inner().last_position;
        let bound = STOP_TIMEOUT + FLUSH_TIMEOUT;
        match tokio::time::timeout(bound, ask(&self.commands, |reply| Command::Stop { last_position, reply })).await {
            Ok(result) => result?,
            Err(_) => {
                return Err(unknown(format!(
                    "Stop did not finish within {}s: the destination is still busy writing",
                    bound.as_secs()
                )));
            }
        }
        Ok(Response::new(pb::destination::stop::Response {}))
    }

    async fn teardown(
        &self,
        _request: Request<pb::destination::teardown::Request>,
    ) -> Result<Response<pb::destination::teardown::Response>, Status> {
        match tokio::time::timeout(TEARDOWN_TIMEOUT, ask(&self.commands, |reply| Command::Teardown { reply })).await {
            Ok(result) => result?,
            Err(_) => {
                tracing::error!(timeout = ?TEARDOWN_TIMEOUT, "teardown did not finish in time");
                return Err(unknown(format!(
                    "teardown did not finish within {}s: the destination is still busy (a write or another call \
                     has not returned)",
                    TEARDOWN_TIMEOUT.as_secs()
                )));
            }
        }
        Ok(Response::new(pb::destination::teardown::Response {}))
    }

    async fn lifecycle_on_created(
        &self,
        request: Request<pb::destination::lifecycle::on_created::Request>,
    ) -> Result<Response<pb::destination::lifecycle::on_created::Response>, Status> {
        let config = config_map(request.into_inner().config);
        ask(&self.commands, |reply| Command::OnCreated { config, reply }).await?;
        Ok(Response::new(pb::destination::lifecycle::on_created::Response {}))
    }

    async fn lifecycle_on_updated(
        &self,
        request: Request<pb::destination::lifecycle::on_updated::Request>,
    ) -> Result<Response<pb::destination::lifecycle::on_updated::Response>, Status> {
        let request = request.into_inner();
        let (before, after) = (config_map(request.config_before), config_map(request.config_after));
        ask(&self.commands, |reply| Command::OnUpdated { before, after, reply }).await?;
        Ok(Response::new(pb::destination::lifecycle::on_updated::Response {}))
    }

    async fn lifecycle_on_deleted(
        &self,
        request: Request<pb::destination::lifecycle::on_deleted::Request>,
    ) -> Result<Response<pb::destination::lifecycle::on_deleted::Response>, Status> {
        let config = config_map(request.into_inner().config);
        D::on_deleted(&config).await.map_err(|e| unknown(e.to_string()))?;
        Ok(Response::new(pb::destination::lifecycle::on_deleted::Response {}))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn record(position: &str, operation: i32) -> pbcdc::Record {
        pbcdc::Record { position: position.as_bytes().to_vec(), operation, ..Default::default() }
    }

    #[test]
    fn convert_records_nacks_every_record_of_a_request_with_a_bad_one() {
        let nack = convert_records(vec![record("p1", 1), record("p2", 0), record("p3", 1)]).unwrap_err();
        let positions: Vec<&[u8]> = nack.positions.iter().map(|p| p.0.as_slice()).collect();
        assert_eq!(positions, [&b"p1"[..], b"p2", b"p3"]);
        assert!(nack.error.contains("\"p2\""), "{}", nack.error);
        assert!(nack.error.contains("OPERATION_UNSPECIFIED"), "{}", nack.error);
    }

    #[test]
    fn convert_records_keeps_order() {
        let records = convert_records(vec![record("a", 1), record("b", 3)]).unwrap();
        assert_eq!(records.iter().map(|r| r.position.0.clone()).collect::<Vec<_>>(), [b"a".to_vec(), b"b".to_vec()]);
    }

    #[tokio::test]
    async fn accepted_tcp_connections_have_nodelay() {
        use tonic::codegen::tokio_stream::StreamExt;
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let mut incoming = tcp_incoming(listener);
        let client = tokio::net::TcpStream::connect(addr).await.unwrap();
        let accepted = incoming.next().await.unwrap().unwrap();
        assert!(accepted.nodelay().unwrap(), "acks would wait for Nagle's algorithm");
        drop(client);
    }

    #[test]
    fn receive_errors_end_the_stream_with_what_went_wrong_and_cancels_are_clean() {
        let too_large = Status::out_of_range(
            "Error, decoded message length too large: found 100012 bytes, the limit is: 65536 bytes",
        );
        let RunEnd::Failed(status) = run_end(too_large) else { panic!("a failure") };
        assert_eq!(status.code(), Code::OutOfRange);
        assert!(status.message().contains("found 100012 bytes, the limit is: 65536 bytes"), "{status}");
        assert!(status.message().contains("CONDUIT_CONNECTOR_MAX_RECEIVE_RECORD_SIZE"), "{status}");
        assert!(matches!(run_end(Status::cancelled("h2 protocol error: stream reset")), RunEnd::Cancelled(_)));
        assert!(matches!(run_end(Status::unknown("h2 protocol error: connection reset")), RunEnd::Cancelled(_)));
        assert!(matches!(run_end(Status::invalid_argument("nested too deep")), RunEnd::Failed(_)));
    }

    fn ack(position: &str) -> ProtoAck {
        ProtoAck { position: position.as_bytes().to_vec(), error: String::new() }
    }

    fn positions(response: &pb::destination::run::Response) -> Vec<&[u8]> {
        response.acks.iter().map(|a| a.position.as_slice()).collect()
    }

    #[tokio::test]
    async fn the_response_stream_puts_every_waiting_ack_into_one_response_in_order() {
        use tonic::codegen::tokio_stream::StreamExt;
        let (tx, rx) = mpsc::channel(8);
        let mut stream = AckStream::new(rx);
        tx.send(Ok(vec![ack("p1"), ack("p2")])).await.unwrap();
        tx.send(Ok(vec![ack("p3")])).await.unwrap();
        let first = stream.next().await.unwrap().unwrap();
        assert_eq!(positions(&first), [&b"p1"[..], b"p2", b"p3"]);
        tx.send(Ok(vec![ack("p4")])).await.unwrap();
        tx.send(Err(Status::out_of_range("too large"))).await.unwrap();
        drop(tx);
        // The acks before an error first, then the error, then the end.
        assert_eq!(positions(&stream.next().await.unwrap().unwrap()), [&b"p4"[..]]);
        assert_eq!(stream.next().await.unwrap().unwrap_err().code(), Code::OutOfRange);
        assert!(stream.next().await.is_none());
    }

    #[tokio::test]
    async fn the_response_stream_stops_merging_at_the_size_bound() {
        use tonic::codegen::tokio_stream::StreamExt;
        let (tx, rx) = mpsc::channel(8);
        let mut stream = AckStream::new(rx);
        let big = |p: &str| ProtoAck { position: p.as_bytes().to_vec(), error: "x".repeat(MAX_RESPONSE_ACK_BYTES) };
        tx.send(Ok(vec![big("p1")])).await.unwrap();
        tx.send(Ok(vec![ack("p2")])).await.unwrap();
        assert_eq!(positions(&stream.next().await.unwrap().unwrap()), [&b"p1"[..]]);
        assert_eq!(positions(&stream.next().await.unwrap().unwrap()), [&b"p2"[..]]);
    }

    fn request(positions: &[&str]) -> Result<pb::destination::run::Request, Status> {
        Ok(pb::destination::run::Request { records: positions.iter().map(|p| record(p, 1)).collect() })
    }

    fn bundle_positions(bundle: &Bundle) -> Vec<Vec<u8>> {
        let mut positions = Vec::new();
        for item in &bundle.items {
            match item {
                Incoming::Records(Ok(records)) => positions.extend(records.iter().map(|r| r.position.0.clone())),
                Incoming::Records(Err(nack)) => positions.extend(nack.positions.iter().map(|p| p.0.clone())),
                Incoming::End(_) => positions.push(b"<end>".to_vec()),
            }
        }
        positions
    }

    #[tokio::test]
    async fn the_reader_bundles_what_has_arrived_and_says_when_nothing_more_waits() {
        use tonic::codegen::tokio_stream::wrappers::ReceiverStream;
        let (requests, rx) = mpsc::channel(BUNDLE_RECORDS + 8);
        for i in 0..BUNDLE_RECORDS + 2 {
            requests.try_send(request(&[&format!("p{i}")])).unwrap();
        }
        let (bundles, mut incoming) = mpsc::channel(READ_AHEAD);
        // Unconstrained: tokio's channel reports "nothing ready" when the task's cooperative
        // budget runs out, which would make the bundles smaller than the test expects.
        let reader = tokio::spawn(tokio::task::unconstrained(read_requests(ReceiverStream::new(rx), bundles)));
        // A full bundle: more was waiting, so a partial batch must not be written yet.
        let first = incoming.recv().await.unwrap();
        assert_eq!(bundle_positions(&first).len(), BUNDLE_RECORDS);
        assert!(!first.drained);
        let second = incoming.recv().await.unwrap();
        assert_eq!(bundle_positions(&second), [b"p128".to_vec(), b"p129".to_vec()]);
        assert!(second.drained);
        // A full bundle with nothing behind it is followed by an empty "drained" one.
        // (`try_send`: all queued before the reader runs again.)
        for i in 0..BUNDLE_RECORDS {
            requests.try_send(request(&[&format!("q{i}")])).unwrap();
        }
        let full = incoming.recv().await.unwrap();
        assert_eq!(bundle_positions(&full).len(), BUNDLE_RECORDS);
        if !full.drained {
            let marker = tokio::time::timeout(Duration::from_secs(10), incoming.recv())
                .await
                .expect("a partial batch would wait for records that are not coming")
                .unwrap();
            assert!(marker.items.is_empty() && marker.drained);
        }
        // An invalid record nacks its request, in order; the end is the last item.
        requests.send(request(&["r1"])).await.unwrap();
        requests
            .send(Ok(pb::destination::run::Request { records: vec![record("bad1", 0), record("bad2", 1)] }))
            .await
            .unwrap();
        drop(requests);
        let mut rest = Vec::new();
        while let Some(bundle) = incoming.recv().await {
            rest.extend(bundle_positions(&bundle));
        }
        assert_eq!(rest, [b"r1".to_vec(), b"bad1".to_vec(), b"bad2".to_vec(), b"<end>".to_vec()]);
        reader.await.unwrap();
    }

    #[tokio::test]
    async fn the_reader_stops_when_the_actor_lets_go_of_the_stream() {
        use tonic::codegen::tokio_stream::wrappers::ReceiverStream;
        let (requests, rx) = mpsc::channel(8);
        let (bundles, incoming) = mpsc::channel(READ_AHEAD);
        let reader = tokio::spawn(read_requests(ReceiverStream::new(rx), bundles));
        requests.send(request(&["p1"])).await.unwrap();
        drop(incoming);
        tokio::time::timeout(Duration::from_secs(10), reader).await.expect("the reader stops").unwrap();
        assert!(requests.is_closed(), "the request side is let go");
    }

    #[test]
    fn an_empty_nack_message_is_never_sent_as_success() {
        let ack = ack_to_proto(Ack { position: Position(b"p".to_vec()), error: Some(String::new()) });
        assert!(!ack.error.is_empty());
        assert!(ack_to_proto(Ack { position: Position::default(), error: None }).error.is_empty());
    }
}
