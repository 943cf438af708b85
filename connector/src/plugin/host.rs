//! Conduit's side of the go-plugin handshake, for testing connector binaries
//! the way Conduit starts them: [`PluginProcess::launch`] starts the binary
//! with the plugin environment, reads and checks the handshake line, and
//! keeps the rest of stdout and all of stderr for inspection;
//! [`PluginProcess::connect`] opens a gRPC channel to the plugin's server.
//!
//! The child is killed when the [`PluginProcess`] is dropped, so a failing
//! test never leaves it behind.

use std::ffi::OsStr;
use std::io::{BufRead, BufReader, Read};
use std::process::{Child, Command, ExitStatus, Stdio};
use std::sync::{Arc, Mutex, mpsc};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use super::{MAGIC_COOKIE_KEY, MAGIC_COOKIE_VALUE};

/// Every environment variable Conduit (through go-plugin v1.8.0) sets for a
/// destination plugin, with the values of a real launch: the cookie, the port
/// range 10000-25000, protocol versions `1,2`, and the connector variables
/// (log level `info`, 4 MiB receive limit).
pub fn conduit_env(connector_id: &str) -> Vec<(String, String)> {
    [
        (MAGIC_COOKIE_KEY, MAGIC_COOKIE_VALUE),
        ("PLUGIN_MIN_PORT", "10000"),
        ("PLUGIN_MAX_PORT", "25000"),
        ("PLUGIN_PROTOCOL_VERSIONS", "1,2"),
        ("CONDUIT_CONNECTOR_ID", connector_id),
        ("CONDUIT_CONNECTOR_TOKEN", "irrelevant-token"),
        ("CONDUIT_CONNECTOR_UTILITIES_GRPC_TARGET", "127.0.0.1:1"),
        ("CONDUIT_CONNECTOR_LOG_LEVEL", "info"),
        ("CONDUIT_CONNECTOR_MAX_RECEIVE_RECORD_SIZE", "4194304"),
    ]
    .into_iter()
    .map(|(k, v)| (k.to_owned(), v.to_owned()))
    .collect()
}

/// The variables [`PluginProcess::launch`] removes from the inherited
/// environment before adding the caller's.
const PLUGIN_VARS: &[&str] = &[
    MAGIC_COOKIE_KEY,
    "PLUGIN_MIN_PORT",
    "PLUGIN_MAX_PORT",
    "PLUGIN_PROTOCOL_VERSIONS",
    "CONDUIT_CONNECTOR_ID",
    "CONDUIT_CONNECTOR_TOKEN",
    "CONDUIT_CONNECTOR_UTILITIES_GRPC_TARGET",
    "CONDUIT_CONNECTOR_LOG_LEVEL",
    "CONDUIT_CONNECTOR_MAX_RECEIVE_RECORD_SIZE",
];

/// Why a plugin could not be launched.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum HostError {
    /// The binary could not be started.
    #[error("could not start {program}: {source}")]
    Spawn {
        /// The program.
        program: String,
        /// The OS error.
        source: std::io::Error,
    },
    /// The process exited before printing its handshake.
    #[error("the plugin exited ({status}) before its handshake; stderr:\n{stderr}")]
    Exited {
        /// How it exited.
        status: ExitStatus,
        /// Everything it wrote to stderr.
        stderr: String,
    },
    /// No handshake line within the timeout.
    #[error("no handshake line within {timeout:?}; stderr so far:\n{stderr}")]
    Timeout {
        /// The timeout.
        timeout: Duration,
        /// Stderr so far.
        stderr: String,
    },
    /// The first stdout line is not `1|2|tcp|ADDRESS|grpc|` or
    /// `1|2|unix|PATH|grpc|`.
    #[error("unrecognized handshake line {line:?}: {reason}")]
    BadHandshake {
        /// The line (without its newline).
        line: String,
        /// What is wrong with it.
        reason: String,
    },
}

/// A plugin process started like Conduit starts one.
#[derive(Debug)]
pub struct PluginProcess {
    child: Child,
    handshake: String,
    network: String,
    address: String,
    stdout_rest: Arc<Mutex<Vec<u8>>>,
    stderr: Arc<Mutex<Vec<u8>>>,
    readers: Vec<JoinHandle<()>>,
    status: Option<ExitStatus>,
}

fn collect(mut from: impl Read + Send + 'static, into: Arc<Mutex<Vec<u8>>>) -> JoinHandle<()> {
    std::thread::spawn(move || {
        let mut buf = [0u8; 8192];
        loop {
            match from.read(&mut buf) {
                Ok(0) | Err(_) => return,
                Ok(n) => {
                    if let Ok(mut v) = into.lock() {
                        v.extend_from_slice(&buf[..n]);
                    }
                }
            }
        }
    })
}

fn text(buf: &Mutex<Vec<u8>>) -> String {
    buf.lock().map(|v| String::from_utf8_lossy(&v).into_owned()).unwrap_or_default()
}

/// Checks a handshake line (without its newline) and returns the address
/// (`host:port` or the unix socket's path).
pub fn parse_handshake(line: &str) -> Result<String, HostError> {
    parse_handshake_network(line).map(|(_, address)| address)
}

/// Checks a handshake line (without its newline) and returns the network
/// (`tcp` or `unix`) and the address.
pub fn parse_handshake_network(line: &str) -> Result<(String, String), HostError> {
    let bad = |reason: &str| HostError::BadHandshake { line: line.to_owned(), reason: reason.to_owned() };
    let parts: Vec<&str> = line.split('|').collect();
    if parts.len() != 6 {
        return Err(bad("expected 6 fields separated by `|`"));
    }
    if parts[0] != "1" {
        return Err(bad("core protocol version is not 1"));
    }
    if parts[1] != "2" {
        return Err(bad("app protocol version is not 2"));
    }
    if parts[2] != "tcp" && parts[2] != "unix" {
        return Err(bad("network is neither tcp nor unix"));
    }
    if parts[4] != "grpc" {
        return Err(bad("protocol is not grpc"));
    }
    if !parts[5].is_empty() {
        return Err(bad("unexpected server certificate"));
    }
    if parts[3].is_empty() {
        return Err(bad("empty address"));
    }
    Ok((parts[2].to_owned(), parts[3].to_owned()))
}

impl PluginProcess {
    /// Starts `program` with the inherited environment minus every plugin
    /// variable, plus `env` (see [`conduit_env`]), and waits up to `timeout`
    /// for its handshake line.
    pub fn launch<K: AsRef<OsStr>, V: AsRef<OsStr>>(
        program: impl AsRef<OsStr>,
        env: impl IntoIterator<Item = (K, V)>,
        timeout: Duration,
    ) -> Result<Self, HostError> {
        let program = program.as_ref();
        let mut command = Command::new(program);
        for var in PLUGIN_VARS {
            command.env_remove(var);
        }
        command.envs(env).stdin(Stdio::null()).stdout(Stdio::piped()).stderr(Stdio::piped());
        let mut child = command
            .spawn()
            .map_err(|source| HostError::Spawn { program: program.to_string_lossy().into_owned(), source })?;
        let stderr = Arc::new(Mutex::new(Vec::new()));
        let stdout_rest = Arc::new(Mutex::new(Vec::new()));
        let mut readers = Vec::new();
        if let Some(err) = child.stderr.take() {
            readers.push(collect(err, stderr.clone()));
        }
        let (first_line, first_line_rx) = mpsc::channel::<Option<String>>();
        if let Some(out) = child.stdout.take() {
            let rest = stdout_rest.clone();
            readers.push(std::thread::spawn(move || {
                let mut reader = BufReader::new(out);
                let mut line = Vec::new();
                match reader.read_until(b'\n', &mut line) {
                    Ok(n) if n > 0 && line.ends_with(b"\n") => {
                        line.pop();
                        let _ = first_line.send(Some(String::from_utf8_lossy(&line).into_owned()));
                    }
                    _ => {
                        if let Ok(mut v) = rest.lock() {
                            v.extend_from_slice(&line);
                        }
                        let _ = first_line.send(None);
                        return;
                    }
                }
                let mut buf = Vec::new();
                let _ = reader.read_to_end(&mut buf);
                if let Ok(mut v) = rest.lock() {
                    v.extend_from_slice(&buf);
                }
            }));
        }
        let mut process = PluginProcess {
            child,
            handshake: String::new(),
            network: String::new(),
            address: String::new(),
            stdout_rest,
            stderr,
            readers,
            status: None,
        };
        match first_line_rx.recv_timeout(timeout) {
            Ok(Some(line)) => {
                (process.network, process.address) = parse_handshake_network(&line)?;
                process.handshake = line;
                Ok(process)
            }
            Ok(None) | Err(mpsc::RecvTimeoutError::Disconnected) => match process.wait_timeout(timeout) {
                Some(status) => Err(HostError::Exited { status, stderr: process.stderr() }),
                None => Err(HostError::Timeout { timeout, stderr: process.stderr() }),
            },
            Err(mpsc::RecvTimeoutError::Timeout) => Err(HostError::Timeout { timeout, stderr: process.stderr() }),
        }
    }

    /// The handshake line, without its newline.
    pub fn handshake(&self) -> &str {
        &self.handshake
    }

    /// The server's `host:port`, or its unix socket's path.
    pub fn address(&self) -> &str {
        &self.address
    }

    /// The handshake's network: `unix` or `tcp`.
    pub fn network(&self) -> &str {
        &self.network
    }

    /// The process id.
    pub fn id(&self) -> u32 {
        self.child.id()
    }

    /// Opens a gRPC channel to the plugin's server, over TCP or its unix
    /// socket as the handshake says (as go-plugin's client does).
    pub async fn connect(&self) -> Result<tonic::transport::Channel, tonic::transport::Error> {
        connect(&self.network, &self.address).await
    }

    /// Everything written to stdout after the handshake line so far (complete
    /// once the process has exited and [`wait_timeout`](Self::wait_timeout)
    /// returned).
    pub fn stdout_after_handshake(&self) -> Vec<u8> {
        self.stdout_rest.lock().map(|v| v.clone()).unwrap_or_default()
    }

    /// Everything written to stderr so far (complete once the process has
    /// exited and [`wait_timeout`](Self::wait_timeout) returned).
    pub fn stderr(&self) -> String {
        text(&self.stderr)
    }

    /// Waits up to `timeout` for the process to exit; then also waits (within
    /// the same timeout) until its output has been read to the end.
    pub fn wait_timeout(&mut self, timeout: Duration) -> Option<ExitStatus> {
        let end = Instant::now() + timeout;
        let status = loop {
            if let Some(status) = self.status {
                break status;
            }
            match self.child.try_wait() {
                Ok(Some(status)) => {
                    self.status = Some(status);
                    break status;
                }
                Ok(None) if Instant::now() < end => std::thread::sleep(Duration::from_millis(10)),
                Ok(None) | Err(_) => return None,
            }
        };
        while self.readers.iter().any(|r| !r.is_finished()) && Instant::now() < end {
            std::thread::sleep(Duration::from_millis(5));
        }
        Some(status)
    }

    /// Kills the process (if still running) and reaps it.
    pub fn kill(&mut self) {
        if self.status.is_none() {
            let _ = self.child.kill();
            if let Ok(status) = self.child.wait() {
                self.status = Some(status);
            }
        }
    }
}

/// Opens a gRPC channel to a plugin server at `address` on `network` (`tcp`
/// or `unix`).
pub async fn connect(network: &str, address: &str) -> Result<tonic::transport::Channel, tonic::transport::Error> {
    #[cfg(unix)]
    if network == "unix" {
        let path = std::path::PathBuf::from(address);
        // The URI is not used to connect; the connector below is.
        return tonic::transport::Endpoint::from_static("http://plugin.unix")
            .connect_with_connector(tower::service_fn(move |_: tonic::transport::Uri| {
                let path = path.clone();
                async move { tokio::net::UnixStream::connect(path).await.map(hyper_util::rt::TokioIo::new) }
            }))
            .await;
    }
    let _ = network;
    tonic::transport::Endpoint::from_shared(format!("http://{address}"))?.connect().await
}

/// Opens a destination Run stream that sends already-encoded request bytes
/// (e.g. a request prost could not build), for tests.
pub async fn raw_run(
    channel: tonic::transport::Channel,
    requests: impl tonic::codegen::tokio_stream::Stream<Item = Vec<u8>> + Send + 'static,
) -> Result<tonic::Streaming<super::proto::connector::v2::destination::run::Response>, tonic::Status> {
    let mut client = tonic::client::Grpc::new(channel);
    client.ready().await.map_err(|e| tonic::Status::unavailable(e.to_string()))?;
    let path = tonic::codegen::http::uri::PathAndQuery::from_static("/connector.v2.DestinationPlugin/Run");
    let codec = super::codec::RawCodec::default();
    client.streaming(tonic::Request::new(requests), path, codec).await.map(tonic::Response::into_inner)
}

impl Drop for PluginProcess {
    fn drop(&mut self) {
        self.kill();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parse_handshake_accepts_go_plugins_line() {
        assert_eq!(parse_handshake("1|2|tcp|127.0.0.1:10000|grpc|").unwrap(), "127.0.0.1:10000");
    }

    #[test]
    fn parse_handshake_accepts_a_unix_socket() {
        let line = "1|2|unix|/tmp/conduit-plugin-1/plugin.sock|grpc|";
        assert_eq!(parse_handshake_network(line).unwrap(), ("unix".into(), "/tmp/conduit-plugin-1/plugin.sock".into()));
    }

    #[test]
    fn parse_handshake_rejects_other_lines() {
        for line in
            ["hello", "1|1|tcp|127.0.0.1:1|grpc|", "1|2|tcp|127.0.0.1:1|netrpc|", "1|2|udp|x|grpc|", "1|2|unix||grpc|"]
        {
            assert!(matches!(parse_handshake(line), Err(HostError::BadHandshake { .. })), "{line}");
        }
    }
}
