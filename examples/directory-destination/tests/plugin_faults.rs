//! Plugin mode under a real file-size limit (`RLIMIT_FSIZE`, `SIGXFSZ` at its default action):
//! the record past the limit is nacked with `EFBIG`, the process lives on, the others are
//! written.

mod plugin_common;

use std::os::unix::fs::PermissionsExt;
use std::process::Command;
use std::time::Duration;

use conduit_connector::plugin::host::PluginProcess;
use conduit_connector::plugin::proto::connector::v2::destination_plugin_client::DestinationPluginClient;
use plugin_common::*;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn plugin_mode_nacks_a_record_past_the_file_size_limit_and_keeps_serving() {
    if Command::new("prlimit").arg("--version").output().is_err() {
        eprintln!("skipped: prlimit(1) is not installed");
        return;
    }
    let tmp = tempfile::tempdir().unwrap();
    let out = tmp.path().join("out");
    // Conduit starts the binary directly; this wrapper only adds the limit (exec keeps the pid).
    let wrapper = tmp.path().join("limited-plugin");
    std::fs::write(&wrapper, format!("#!/bin/sh\nexec prlimit --fsize=65536 '{BIN}' \"$@\"\n")).unwrap();
    std::fs::set_permissions(&wrapper, std::fs::Permissions::from_mode(0o755)).unwrap();
    let process = PluginProcess::launch(&wrapper, env("fsize-destination", None), Duration::from_secs(20))
        .expect("plugin starts");
    let channel = within("connect", 10, process.connect()).await.expect("connects");
    let destination = DestinationPluginClient::new(channel.clone());
    let mut plugin = Plugin { process, channel, destination };

    plugin.configure(&[("directory", out.to_str().unwrap())]).await.expect("Configure succeeds");
    plugin.open().await;
    let mut stream = plugin.run().await;
    let big = "x".repeat(100_000);
    stream.send(vec![create("p1", "small-1", "one"), create("p2", "big", &big), create("p3", "small-2", "two")]).await;
    let acks = stream.acks(3).await;
    assert_eq!(positions(&acks), ["p1", "p2", "p3"]);
    assert_eq!(acks[0].error, "");
    assert!(acks[1].error.contains("\"big\"") && acks[1].error.contains("File too large"), "{:?}", acks[1].error);
    assert_eq!(acks[2].error, "");
    assert_eq!(std::fs::read(out.join("small-1")).unwrap(), b"one");
    assert_eq!(std::fs::read(out.join("small-2")).unwrap(), b"two");
    assert!(!out.join("big").exists());

    plugin.stop("p3").await.expect("Stop succeeds");
    stream.cancel();
    plugin.teardown().await.expect("Teardown succeeds");
    let sent = plugin.shutdown().await;
    let status = plugin.exited_within_2s(sent);
    assert!(status.success(), "{status}; stderr:\n{}", plugin.process.stderr());
}
