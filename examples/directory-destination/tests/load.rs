//! Load: file descriptors stay flat over a run, and (ignored by default, run in release)
//! 100,000 records through the plugin's Run stream are all acked in order with bounded memory.
//!
//! ```sh
//! cargo test --release -p directory-destination --test load -- --ignored --nocapture
//! LOAD_RECORDS=1000000 cargo test --release -p directory-destination --test load -- --ignored --nocapture
//! ```

mod plugin_common;

use std::time::{Duration, Instant};

use conduit_connector::cli::{Input, generated_record};
use conduit_connector::config::ConfigMap;
use conduit_connector::plugin::proto::opencdc::v1 as pbcdc;
use directory_destination::DirectoryDestination;
use plugin_common::{env, start, within};

/// The tests of this file count the process's descriptors: run them one at a time.
static SERIAL: std::sync::Mutex<()> = std::sync::Mutex::new(());

fn open_fds(pid: &str) -> usize {
    std::fs::read_dir(format!("/proc/{pid}/fd")).map(|d| d.count()).unwrap_or(0)
}

fn status_kib(pid: u32, field: &str) -> u64 {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap_or_default();
    status
        .lines()
        .find_map(|l| l.strip_prefix(field))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
        .unwrap_or(0)
}

fn scratch_dir(name: &str) -> tempfile::TempDir {
    let base = if std::path::Path::new("/dev/shm").is_dir() { "/dev/shm" } else { "/tmp" };
    tempfile::Builder::new().prefix(name).tempdir_in(base).expect("scratch dir")
}

#[test]
fn run_leaves_no_file_descriptor_open() {
    let _serial = SERIAL.lock().unwrap_or_else(|e| e.into_inner());
    let dir = scratch_dir("load-fds");
    let config: ConfigMap = [("directory", dir.path().join("out").to_str().unwrap())].into_iter().collect();
    let runtime = tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build().unwrap();
    // Warm up once (the runtime, the reader thread), then compare two runs.
    let run = |n: u64| {
        let mut summary = Vec::new();
        let input = Input::Generate { count: n, payload_size: 64 };
        let code = runtime.block_on(conduit_connector::cli::run::<DirectoryDestination>(
            config.clone(),
            input,
            false,
            &mut summary,
        ));
        assert_eq!(code, std::process::ExitCode::SUCCESS, "{}", String::from_utf8_lossy(&summary));
    };
    run(100);
    let before = open_fds("self");
    run(5_000);
    let after = open_fds("self");
    assert_eq!(before, after, "open file descriptors changed over a 5,000-record run");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "load run: use --release -- --ignored"]
#[allow(clippy::await_holding_lock, reason = "the lock only serializes the tests of this file")]
async fn plugin_run_stream_acks_every_record_in_order_with_bounded_memory() {
    let _serial = SERIAL.lock().unwrap_or_else(|e| e.into_inner());
    let total: u64 = std::env::var("LOAD_RECORDS").ok().and_then(|v| v.parse().ok()).unwrap_or(100_000);
    let batch = 100u64;
    let dir = scratch_dir("load-plugin");
    let out = dir.path().join("out");
    let mut plugin = start(env("load", None)).await;
    let pid = plugin.process.id();
    let out_str = out.to_str().unwrap().to_owned();
    plugin.configure(&[("directory", &out_str)]).await.expect("configure");
    plugin.open().await;
    let mut stream = plugin.run().await;
    let fds_open = open_fds(&pid.to_string());
    let start_at = Instant::now();

    // Like Conduit: batches of 100 records, at most 2,000 records in flight.
    let mut sent = 0u64;
    let mut acked = 0u64;
    while acked < total {
        while sent < total && sent - acked < 20 * batch {
            let n = batch.min(total - sent);
            let records = (sent + 1..=sent + n).map(|i| pbcdc::Record::from(generated_record(i, 64))).collect();
            stream.send(records).await;
            sent += n;
        }
        let response = within("acks", 30, stream.next_within(Duration::from_secs(30))).await.expect("acks arrive");
        for ack in response.acks {
            acked += 1;
            assert_eq!(ack.position, format!("gen-{acked}").into_bytes(), "ack {acked} out of order");
            assert!(ack.error.is_empty(), "record {acked} nacked: {}", ack.error);
        }
    }
    let elapsed = start_at.elapsed();
    let fds_end = open_fds(&pid.to_string());
    let peak_kib = status_kib(pid, "VmHWM:");
    plugin.stop(&format!("gen-{total}")).await.expect("stop");
    stream.cancel();
    plugin.teardown().await.expect("teardown");
    let since = plugin.shutdown().await;
    plugin.exited_within_2s(since);
    let files = std::fs::read_dir(&out).unwrap().count() as u64;
    assert_eq!(files, total);
    assert_eq!(fds_open, fds_end, "the plugin's open file descriptors changed over the run");
    println!(
        "plugin Run: {total} records in {:.2}s = {:.0} records/s; peak RSS {} KiB; fds {fds_open} -> {fds_end}",
        elapsed.as_secs_f64(),
        total as f64 / elapsed.as_secs_f64(),
        peak_kib
    );
}
