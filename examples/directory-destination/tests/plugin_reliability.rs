//! Plugin mode never loses a record silently: what happens when a Run request
//! cannot be received, when Conduit reconfigures or opens a second stream,
//! when it drives the plugin as pipeline architecture v2 does (one batch in
//! flight, no Stop, stream cancelled), when positions repeat, and who may
//! connect to the plugin at all.

mod plugin_common;

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use conduit_connector::plugin::codec::nested_run_request;
use conduit_connector::plugin::proto::connector::v2 as pb;
use plugin_common::*;

async fn opened_with(env: Vec<(String, String)>, extra: &[(&str, &str)]) -> (tempfile::TempDir, Plugin) {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("out").to_str().unwrap().to_owned();
    let mut plugin = start(env).await;
    let mut config = vec![("directory", out.as_str())];
    config.extend_from_slice(extra);
    plugin.configure(&config).await.expect("valid config");
    plugin.open().await;
    (dir, plugin)
}

async fn opened(id: &str, extra: &[(&str, &str)]) -> (tempfile::TempDir, Plugin) {
    opened_with(env(id, None), extra).await
}

/// Teardown, Shutdown, exit 0 within 2 s; returns stderr.
async fn shut_down(mut plugin: Plugin) -> String {
    plugin.teardown().await.expect("Teardown succeeds");
    let sent = plugin.shutdown().await;
    let status = plugin.exited_within_2s(sent);
    assert!(status.success(), "{status}; stderr:\n{}", plugin.process.stderr());
    plugin.process.stderr()
}

/// stderr lines at error level that contain `text`.
fn errors_with(stderr: &str, text: &str) -> usize {
    stderr.lines().filter(|l| l.contains("\"@level\":\"error\"") && l.contains(text)).count()
}

fn socket_dir(plugin: &Plugin) -> PathBuf {
    Path::new(plugin.process.address()).parent().expect("socket directory").to_owned()
}

// ---------------------------------------------------------------------------
// Item 1 and 2: requests that cannot be received; nesting depth

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_oversized_run_request_ends_the_stream_with_an_error_naming_size_and_limit() {
    let mut env = env("too-large", None);
    env.retain(|(k, _)| k != "CONDUIT_CONNECTOR_MAX_RECEIVE_RECORD_SIZE");
    env.push(("CONDUIT_CONNECTOR_MAX_RECEIVE_RECORD_SIZE".into(), "65536".into()));
    let (dir, mut plugin) = opened_with(env, &[("sdk.batch.size", "100")]).await;
    let mut run = plugin.run().await;
    run.send(vec![create("p1", "k1", "small")]).await;
    let big = "x".repeat(100_000);
    run.send(vec![create("p2", "k2", &big)]).await;
    let (acks, status) = run.acks_until_end(10).await;
    assert_eq!(positions(&acks), ["p1"], "the record before the oversized request is acked");
    let status = status.expect("the Run stream ends with an error, not OK");
    let message = status.message();
    assert!(message.contains("the limit is: 65536 bytes"), "{message}");
    assert!(message.contains("found 1000"), "the size is named: {message}");
    assert!(message.contains("CONDUIT_CONNECTOR_MAX_RECEIVE_RECORD_SIZE"), "{message}");
    assert_eq!(std::fs::read(dir.path().join("out/k1")).unwrap(), b"small");
    // Stop for the record that never arrived answers at once, not after 60 s.
    let stop = plugin.stop("p2").await.expect_err("Stop cannot succeed");
    assert!(stop.message().contains("\"p2\""), "{stop}");
    run.cancel();
    let stderr = shut_down(plugin).await;
    assert!(errors_with(&stderr, "the limit is: 65536 bytes") > 0, "logged at error level:\n{stderr}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn structured_payloads_nested_256_levels_are_accepted_and_100000_levels_refused_clearly() {
    let (dir, mut plugin) = opened("deep", &[]).await;
    let (tx, mut run) = plugin.raw_run().await;
    within("send", 10, tx.send(nested_run_request(b"p256", b"k256", 256))).await.unwrap();
    let acks = run.acks(1).await;
    assert_eq!(positions(&acks), ["p256"]);
    assert_eq!(acks[0].error, "", "256 levels are written");
    let written = std::fs::read_to_string(dir.path().join("out/k256")).unwrap();
    assert_eq!(written.matches('{').count(), 256, "{written:.100}");

    within("send", 10, tx.send(nested_run_request(b"p-deep", b"k-deep", 100_000))).await.unwrap();
    let (acks, status) = run.acks_until_end(20).await;
    assert!(acks.is_empty(), "{acks:?}");
    let status = status.expect("the Run stream ends with an error");
    assert!(status.message().contains("nested more than 256 levels deep"), "{status}");
    assert!(status.message().contains("\"p-deep\""), "the record is named: {status}");
    drop(tx);
    assert!(!dir.path().join("out/k-deep").exists());
    // The process did not overflow its stack: it still answers.
    let stderr = shut_down(plugin).await;
    assert!(errors_with(&stderr, "nested more than 256 levels deep") > 0, "{stderr}");
}

// ---------------------------------------------------------------------------
// Item 3 and 4: Configure after Open, a second Run stream

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn configure_after_open_is_refused_and_the_open_destination_keeps_writing() {
    let (dir, mut plugin) = opened("configure-after-open", &[("sdk.batch.size", "100")]).await;
    let mut run = plugin.run().await;
    run.send(vec![create("p1", "k1", "one")]).await;
    let other = dir.path().join("other").to_str().unwrap().to_owned();
    let status = plugin.configure(&[("directory", &other)]).await.expect_err("Configure after Open is refused");
    assert!(status.message().contains("Configure called after Open"), "{status}");
    run.send(vec![create("p2", "k2", "two")]).await;
    assert_eq!(positions(&run.acks(2).await), ["p1", "p2"]);
    assert_eq!(std::fs::read(dir.path().join("out/k2")).unwrap(), b"two");
    assert!(!dir.path().join("other").exists());
    plugin.stop("p2").await.expect("Stop succeeds");
    run.cancel();
    shut_down(plugin).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_second_run_stream_is_refused_and_the_first_keeps_acking() {
    let (_dir, mut plugin) = opened("second-stream", &[]).await;
    let mut first = plugin.run().await;
    first.send(vec![create("p1", "k1", "x")]).await;
    assert_eq!(positions(&first.acks(1).await), ["p1"]);
    let (_tx, rx) = tokio::sync::mpsc::channel::<pb::destination::run::Request>(1);
    let refused = within(
        "second Run",
        10,
        plugin.destination.run(tonic::codegen::tokio_stream::wrappers::ReceiverStream::new(rx)),
    )
    .await
    .expect_err("a second Run stream is refused");
    assert!(refused.message().contains("a Run stream is already open"), "{refused}");
    first.send(vec![create("p2", "k2", "x")]).await;
    assert_eq!(positions(&first.acks(1).await), ["p2"]);
    plugin.stop("p2").await.expect("Stop succeeds");
    first.cancel();
    shut_down(plugin).await;
}

// ---------------------------------------------------------------------------
// Item 15 and 16: a client that behaves like pipeline architecture v2

/// One batch of `n` records in one Run request at a time, waiting for its
/// acks; no Stop; the stream is cancelled, then Teardown and Shutdown.
async fn archv2(id: &str, config: &[(&str, &str)]) {
    let (dir, mut plugin) = opened(id, config).await;
    let mut run = plugin.run().await;
    let started = Instant::now();
    for batch in 0..5 {
        let records: Vec<_> = (0..7).map(|i| create(&format!("b{batch}-{i}"), &format!("k{batch}-{i}"), "x")).collect();
        let want: Vec<String> = records.iter().map(|r| String::from_utf8_lossy(&r.position).into_owned()).collect();
        run.send(records).await;
        assert_eq!(positions(&run.acks(7).await), want, "batch {batch}");
    }
    assert!(started.elapsed() < Duration::from_secs(30), "five batches took {:?}", started.elapsed());
    let sender = run.abort();
    let stderr = shut_down(plugin).await;
    drop(sender);
    assert_eq!(std::fs::read_dir(dir.path().join("out")).unwrap().count(), 35);
    assert_eq!(errors_with(&stderr, ""), 0, "no errors:\n{stderr}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn archv2_one_batch_in_flight_with_a_larger_batch_size_does_not_stall() {
    archv2("archv2-size", &[("sdk.batch.size", "100")]).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn archv2_one_batch_in_flight_does_not_wait_for_the_batch_delay() {
    // Acks that waited for a one-minute delay would miss the 10 s bound of
    // `acks` for each batch.
    archv2("archv2-delay", &[("sdk.batch.size", "100"), ("sdk.batch.delay", "1m")]).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn records_sent_just_before_the_stream_is_cancelled_are_written_before_teardown() {
    let (dir, mut plugin) = opened("cancel-pending", &[("sdk.batch.size", "100"), ("sdk.batch.delay", "1m")]).await;
    let run = plugin.run().await;
    run.send((0..5).map(|i| create(&format!("p{i}"), &format!("k{i}"), "x")).collect()).await;
    // Give the request time to arrive; then cancel without reading any ack
    // (a reset, not an end of stream).
    tokio::time::sleep(Duration::from_millis(300)).await;
    let sender = run.abort();
    tokio::time::sleep(Duration::from_millis(300)).await;
    let stderr = shut_down(plugin).await;
    drop(sender);
    for i in 0..5 {
        assert!(dir.path().join(format!("out/k{i}")).exists(), "record p{i} was never written:\n{stderr}");
    }
}

// ---------------------------------------------------------------------------
// Item 17: repeated positions

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn repeated_positions_get_one_ack_per_record_in_order_and_stop_waits_for_all() {
    let (dir, mut plugin) = opened("repeated", &[("sdk.batch.size", "100")]).await;
    let mut run = plugin.run().await;
    run.send(vec![create("a", "k1", "1"), create("a", "k2", "2"), create("b", "k3", "3"), create("b", "k4", "4")])
        .await;
    let acks = run.acks(4).await;
    assert_eq!(positions(&acks), ["a", "a", "b", "b"]);
    assert!(acks.iter().all(|a| a.error.is_empty()), "{acks:?}");
    // Stop before the records at its position arrive; three of them, as
    // separate requests (what Conduit's split processor can produce).
    let mut client = plugin.destination.clone();
    let stop =
        tokio::spawn(async move { client.stop(pb::destination::stop::Request { last_position: b"c".to_vec() }).await });
    tokio::time::sleep(Duration::from_millis(200)).await;
    for key in ["k5", "k6", "k7"] {
        run.send(vec![create("c", key, key)]).await;
    }
    let acks = run.acks(3).await;
    assert_eq!(positions(&acks), ["c", "c", "c"]);
    within("Stop", 10, stop).await.expect("Stop task").expect("Stop succeeds");
    for key in ["k5", "k6", "k7"] {
        assert_eq!(std::fs::read(dir.path().join("out").join(key)).unwrap(), key.as_bytes());
    }
    run.cancel();
    shut_down(plugin).await;
}

// ---------------------------------------------------------------------------
// Item 18 and 6: SIGTERM, parent death

fn signal(pid: u32, signal: &str) {
    let status = std::process::Command::new("kill").args([signal, &pid.to_string()]).status().expect("kill runs");
    assert!(status.success());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sigterm_keeps_serving_until_teardown_and_shutdown() {
    let (dir, mut plugin) = opened("sigterm", &[]).await;
    let mut run = plugin.run().await;
    signal(plugin.process.id(), "-TERM");
    assert!(plugin.process.wait_timeout(Duration::from_millis(500)).is_none(), "SIGTERM ended the plugin at once");
    run.send(vec![create("p1", "k1", "after SIGTERM")]).await;
    assert_eq!(positions(&run.acks(1).await), ["p1"]);
    plugin.stop("p1").await.expect("Stop succeeds");
    run.cancel();
    let sockets = socket_dir(&plugin);
    shut_down(plugin).await;
    assert_eq!(std::fs::read(dir.path().join("out/k1")).unwrap(), b"after SIGTERM");
    assert!(!sockets.exists(), "the socket's directory is removed");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "waits out the 30 s SIGTERM grace: cargo test -p directory-destination --test plugin_reliability -- --ignored"]
async fn sigterm_without_shutdown_exits_after_the_grace_period() {
    let mut plugin = start(env("sigterm-timer", None)).await;
    let sockets = socket_dir(&plugin);
    let sent = Instant::now();
    signal(plugin.process.id(), "-TERM");
    assert!(plugin.process.wait_timeout(Duration::from_secs(3)).is_none(), "SIGTERM ended the plugin at once");
    let status = plugin
        .process
        .wait_timeout(Duration::from_secs(60))
        .unwrap_or_else(|| panic!("no exit within 60 s of SIGTERM:\n{}", plugin.process.stderr()));
    let waited = sent.elapsed();
    assert!(waited >= conduit_connector::plugin::SIGTERM_GRACE, "exited after {waited:?}");
    assert_eq!(status.code(), Some(143), "{status}");
    assert!(!sockets.exists(), "the socket's directory is removed");
}

/// The process's state letter (`Z` for a zombie), or `None` once it is gone.
fn state(pid: u32) -> Option<char> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    stat.rsplit_once(')').and_then(|(_, rest)| rest.trim_start().chars().next())
}

#[cfg(target_os = "linux")]
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_plugin_shuts_down_when_conduit_dies() {
    use std::io::BufRead;
    // A parent that starts the plugin and is then killed, as a crashed Conduit.
    let mut parent = std::process::Command::new("sh");
    parent.args(["-c", "\"$0\" & wait", &bin()]);
    for (k, _) in conduit_connector::plugin::host::conduit_env("x") {
        parent.env_remove(k);
    }
    parent.envs(env("orphan", None)).stdin(std::process::Stdio::null()).stdout(std::process::Stdio::piped());
    parent.stderr(std::process::Stdio::null());
    let mut parent = parent.spawn().expect("sh starts");
    let stdout = parent.stdout.take().expect("stdout");
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        let mut line = String::new();
        let _ = std::io::BufReader::new(stdout).read_line(&mut line);
        let _ = tx.send(line);
    });
    let line = rx.recv_timeout(Duration::from_secs(20)).expect("handshake line");
    let address = conduit_connector::plugin::host::parse_handshake(line.trim_end()).expect("handshake");
    let sockets = Path::new(&address).parent().expect("socket directory").to_owned();
    let children = std::fs::read_to_string(format!("/proc/{0}/task/{0}/children", parent.id())).unwrap();
    let pid: u32 = children.split_whitespace().next().expect("the plugin is a child of sh").parse().unwrap();
    assert_eq!(state(pid).map(|s| s != 'Z'), Some(true), "the plugin runs");

    parent.kill().expect("kill sh");
    let _ = parent.wait();
    let end = Instant::now() + Duration::from_secs(10);
    while state(pid).is_some_and(|s| s != 'Z') {
        if Instant::now() > end {
            let _ = std::process::Command::new("kill").args(["-KILL", &pid.to_string()]).status();
            panic!("the plugin outlived its parent by 10 s");
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    assert!(!sockets.exists(), "the socket's directory is removed");
}

// ---------------------------------------------------------------------------
// Item 19: only Conduit's user can connect

/// Tries to connect to the unix socket at `path` as uid/gid `as_user`
/// (`None`: as ourselves); the probe's exit code (0 connected, 3 refused)
/// and its output.
fn probe(path: &str, as_user: Option<u32>) -> (Option<i32>, String) {
    use std::os::unix::process::CommandExt;
    let script = "use Socket; socket(my $s, PF_UNIX, SOCK_STREAM, 0) or die \"socket: $!\"; \
                  if (connect($s, pack_sockaddr_un($ARGV[0]))) { print \"connected\\n\"; exit 0 } \
                  print \"refused: $!\\n\"; exit 3";
    let mut command = std::process::Command::new("perl");
    command.args(["-e", script, path]);
    if let Some(id) = as_user {
        command.uid(id).gid(id);
    }
    let out = command.output().expect("perl runs");
    (out.status.code(), String::from_utf8_lossy(&out.stdout).into_owned() + &String::from_utf8_lossy(&out.stderr))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn another_user_cannot_connect_while_conduits_user_can() {
    use std::os::unix::fs::MetadataExt;
    let mut plugin = start(env("private-socket", None)).await;
    assert_eq!(plugin.process.network(), "unix");
    let path = plugin.process.address().to_owned();
    assert_eq!(probe(&path, None).0, Some(0), "the probe connects as Conduit's user");
    if std::fs::metadata("/proc/self").unwrap().uid() == 0 {
        let (code, output) = probe(&path, Some(65534));
        assert_eq!(code, Some(3), "nobody connected: {output}");
        assert!(output.contains("Permission denied"), "{output}");
    } else {
        eprintln!("not root: cannot run the probe as another user; the 0700 directory is checked instead");
    }
    let mode = std::fs::metadata(Path::new(&path).parent().unwrap()).unwrap().mode() & 0o777;
    assert_eq!(mode, 0o700);
    // Our go-plugin-like client still works after the probes.
    plugin.configure(&[("directory", "/tmp/never-opened")]).await.expect("Configure over the socket");
    shut_down(plugin).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn plugin_unix_socket_dir_holds_the_fresh_socket_directory() {
    let parent = tempfile::tempdir().unwrap();
    let mut env = env("socket-dir", None);
    env.push(("PLUGIN_UNIX_SOCKET_DIR".into(), parent.path().to_str().unwrap().into()));
    let plugin = start(env).await;
    let sockets = socket_dir(&plugin);
    assert_eq!(sockets.parent(), Some(parent.path()), "{}", sockets.display());
    shut_down(plugin).await;
    assert_eq!(std::fs::read_dir(parent.path()).unwrap().count(), 0, "nothing left behind");
}
