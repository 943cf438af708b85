//! Plays Conduit for the plugin-mode tests: launches the connector binary with
//! Conduit's environment and drives its gRPC services. Every wait is bounded.

#![allow(dead_code)]

use std::collections::BTreeMap;
use std::future::Future;
use std::process::{Command, ExitStatus, Stdio};
use std::time::{Duration, Instant};

use conduit_connector::plugin::host::{PluginProcess, conduit_env};
use conduit_connector::plugin::proto::connector::v2 as pb;
use conduit_connector::plugin::proto::opencdc::v1 as pbcdc;
use conduit_connector::plugin::proto::plugin::Empty;
use conduit_connector::plugin::proto::plugin::grpc_controller_client::GrpcControllerClient;
use pb::destination::run;
use pb::destination_plugin_client::DestinationPluginClient;
use tonic::codegen::tokio_stream::wrappers::ReceiverStream;
use tonic::transport::Channel;

pub const BIN: &str = env!("CARGO_BIN_EXE_directory-destination");

/// The binary under test: `BIN`, or `PLUGIN_TEST_BIN` when set (to check
/// that a test fails against another build, e.g. an older commit's).
pub fn bin() -> String {
    std::env::var("PLUGIN_TEST_BIN").unwrap_or_else(|_| BIN.to_owned())
}

/// Awaits `fut`, failing the test after `secs` seconds.
pub async fn within<T>(what: &str, secs: u64, fut: impl Future<Output = T>) -> T {
    match tokio::time::timeout(Duration::from_secs(secs), fut).await {
        Ok(v) => v,
        Err(_) => panic!("{what} did not finish within {secs}s"),
    }
}

/// A launched plugin with a channel to it.
pub struct Plugin {
    pub process: PluginProcess,
    pub channel: Channel,
    pub destination: DestinationPluginClient<Channel>,
}

/// Conduit's environment; `ports` replaces the 10000-25000 range (`None`
/// drops it: any free port).
pub fn env(id: &str, ports: Option<(u16, u16)>) -> Vec<(String, String)> {
    let mut env = conduit_env(id);
    env.retain(|(k, _)| k != "PLUGIN_MIN_PORT" && k != "PLUGIN_MAX_PORT");
    if let Some((min, max)) = ports {
        env.push(("PLUGIN_MIN_PORT".into(), min.to_string()));
        env.push(("PLUGIN_MAX_PORT".into(), max.to_string()));
    }
    env
}

pub async fn start(env: Vec<(String, String)>) -> Plugin {
    let process = PluginProcess::launch(bin(), env, Duration::from_secs(20)).expect("plugin starts");
    let channel = within("connect", 10, process.connect()).await.expect("connects");
    let destination = DestinationPluginClient::new(channel.clone());
    Plugin { process, channel, destination }
}

impl Plugin {
    pub async fn configure(&mut self, config: &[(&str, &str)]) -> Result<(), tonic::Status> {
        let config: BTreeMap<String, String> = config.iter().map(|(k, v)| ((*k).to_owned(), (*v).to_owned())).collect();
        within("Configure", 10, self.destination.configure(pb::destination::configure::Request { config }))
            .await
            .map(|_| ())
    }

    pub async fn open(&mut self) {
        within("Open", 10, self.destination.open(pb::destination::open::Request {})).await.expect("Open succeeds");
    }

    pub async fn run(&mut self) -> RunStream {
        let (tx, rx) = tokio::sync::mpsc::channel(64);
        let acks = within("Run", 10, self.destination.run(ReceiverStream::new(rx))).await.expect("Run starts");
        RunStream { tx: Some(tx), acks: Some(acks.into_inner()) }
    }

    pub async fn stop(&mut self, last_position: &str) -> Result<(), tonic::Status> {
        let request = pb::destination::stop::Request { last_position: last_position.as_bytes().to_vec() };
        within("Stop", 20, self.destination.stop(request)).await.map(|_| ())
    }

    pub async fn teardown(&mut self) -> Result<(), tonic::Status> {
        within("Teardown", 20, self.destination.teardown(pb::destination::teardown::Request {})).await.map(|_| ())
    }

    /// Calls Shutdown and returns when it answered, with the time it was sent.
    pub async fn shutdown(&mut self) -> Instant {
        let sent = Instant::now();
        let mut controller = GrpcControllerClient::new(self.channel.clone());
        within("Shutdown", 5, controller.shutdown(Empty {})).await.expect("Shutdown answers");
        sent
    }

    /// Waits until 2 s after `since` for the process to exit (Conduit's grace
    /// period before it kills a plugin).
    pub fn exited_within_2s(&mut self, since: Instant) -> ExitStatus {
        let left = Duration::from_secs(2).saturating_sub(since.elapsed());
        match self.process.wait_timeout(left) {
            Some(status) => status,
            None => panic!("the plugin did not exit within 2 s of Shutdown; stderr:\n{}", self.process.stderr()),
        }
    }
}

impl Plugin {
    /// Opens a Run stream that sends already-encoded request bytes.
    pub async fn raw_run(&mut self) -> (tokio::sync::mpsc::Sender<Vec<u8>>, RunStream) {
        let (tx, rx) = tokio::sync::mpsc::channel(8);
        let acks =
            within("Run", 10, conduit_connector::plugin::host::raw_run(self.channel.clone(), ReceiverStream::new(rx)))
                .await
                .expect("Run starts");
        (tx, RunStream { tx: None, acks: Some(acks) })
    }
}

/// The client side of a Run stream.
pub struct RunStream {
    tx: Option<tokio::sync::mpsc::Sender<run::Request>>,
    acks: Option<tonic::Streaming<run::Response>>,
}

impl RunStream {
    pub async fn send(&self, records: Vec<pbcdc::Record>) {
        let tx = self.tx.as_ref().expect("stream open");
        within("sending a Run request", 10, tx.send(run::Request { records })).await.expect("request sent");
    }

    /// The next Run response, or `None` if none arrives within `wait`.
    pub async fn next_within(&mut self, wait: Duration) -> Option<run::Response> {
        let acks = self.acks.as_mut().expect("stream open");
        match tokio::time::timeout(wait, acks.message()).await {
            Ok(Ok(Some(response))) => Some(response),
            Ok(Ok(None)) => panic!("the Run response stream ended"),
            Ok(Err(status)) => panic!("the Run response stream failed: {status}"),
            Err(_) => None,
        }
    }

    /// The next Run response, the stream's end (`Ok(None)`) or its error
    /// status; `None` if nothing happens within `wait`.
    pub async fn next_result(&mut self, wait: Duration) -> Option<Result<Option<run::Response>, tonic::Status>> {
        let acks = self.acks.as_mut().expect("stream open");
        tokio::time::timeout(wait, acks.message()).await.ok()
    }

    /// Reads acks until the stream ends; returns them with its error status
    /// (`None` for a clean end). Fails the test after `secs` seconds.
    pub async fn acks_until_end(&mut self, secs: u64) -> (Vec<run::response::Ack>, Option<tonic::Status>) {
        let mut out = Vec::new();
        let end = Instant::now() + Duration::from_secs(secs);
        loop {
            let left = end.saturating_duration_since(Instant::now());
            match self.next_result(left).await {
                Some(Ok(Some(response))) => out.extend(response.acks),
                Some(Ok(None)) => return (out, None),
                Some(Err(status)) => return (out, Some(status)),
                None => panic!("the Run stream did not end within {secs}s; acks so far: {out:?}"),
            }
        }
    }

    /// Reads responses until `n` acks arrived (10 s at most).
    pub async fn acks(&mut self, n: usize) -> Vec<run::response::Ack> {
        let mut out = Vec::new();
        while out.len() < n {
            match self.next_within(Duration::from_secs(10)).await {
                Some(response) => out.extend(response.acks),
                None => panic!("only {} of {n} acks arrived: {out:?}", out.len()),
            }
        }
        assert_eq!(out.len(), n, "more acks than records: {out:?}");
        out
    }

    /// Cancels the stream as Conduit's context cancellation does
    /// (RST_STREAM): the response side goes away while the request side is
    /// still open, so the plugin sees a cancel, never an end of stream. Keep
    /// the returned sender alive until the plugin has handled the cancel.
    pub fn abort(mut self) -> Option<tokio::sync::mpsc::Sender<run::Request>> {
        drop(self.acks.take());
        self.tx.take()
    }

    /// Ends the stream like Conduit does: by cancelling it (the response
    /// side goes away first, so the request side is reset, not closed).
    pub fn cancel(mut self) {
        drop(self.acks.take());
        drop(self.tx.take());
    }
}

pub fn raw(bytes: &[u8]) -> Option<pbcdc::Data> {
    Some(pbcdc::Data { data: Some(pbcdc::data::Data::RawData(bytes.to_vec())) })
}

/// A record with a raw key and payload.after.
pub fn record(position: &str, operation: pbcdc::Operation, key: &str, after: Option<&[u8]>) -> pbcdc::Record {
    pbcdc::Record {
        position: position.as_bytes().to_vec(),
        operation: operation as i32,
        metadata: BTreeMap::from([("opencdc.version".to_owned(), "v1".to_owned())]),
        key: raw(key.as_bytes()),
        payload: Some(pbcdc::Change { before: None, after: after.and_then(raw) }),
    }
}

pub fn create(position: &str, key: &str, after: &str) -> pbcdc::Record {
    record(position, pbcdc::Operation::Create, key, Some(after.as_bytes()))
}

pub fn positions(acks: &[run::response::Ack]) -> Vec<String> {
    acks.iter().map(|a| String::from_utf8_lossy(&a.position).into_owned()).collect()
}

/// Runs the binary with the inherited environment minus Conduit's variables,
/// plus `env`, until it exits (10 s at most): status, stdout, stderr.
pub fn run_to_exit(env: &[(&str, &str)]) -> (ExitStatus, String, String) {
    let mut command = Command::new(bin());
    for (k, _) in conduit_env("x") {
        command.env_remove(k);
    }
    command.envs(env.iter().copied()).stdin(Stdio::null()).stdout(Stdio::piped()).stderr(Stdio::piped());
    let mut child = command.spawn().expect("binary starts");
    let mut stdout = child.stdout.take().expect("stdout");
    let mut stderr = child.stderr.take().expect("stderr");
    let out = std::thread::spawn(move || {
        let mut s = String::new();
        let _ = std::io::Read::read_to_string(&mut stdout, &mut s);
        s
    });
    let err = std::thread::spawn(move || {
        let mut s = String::new();
        let _ = std::io::Read::read_to_string(&mut stderr, &mut s);
        s
    });
    let end = Instant::now() + Duration::from_secs(10);
    let status = loop {
        if let Some(status) = child.try_wait().expect("try_wait") {
            break status;
        }
        if Instant::now() > end {
            let _ = child.kill();
            let _ = child.wait();
            panic!("the binary did not exit within 10 s");
        }
        std::thread::sleep(Duration::from_millis(10));
    };
    (status, out.join().expect("stdout reader"), err.join().expect("stderr reader"))
}
