//! Batching, Stop and the other RPCs in plugin mode.

mod plugin_common;

use std::time::Duration;

use conduit_connector::plugin::proto::connector::v2 as pb;
use plugin_common::*;

async fn opened(id: &str, extra: &[(&str, &str)]) -> (tempfile::TempDir, Plugin) {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("out").to_str().unwrap().to_owned();
    let mut plugin = start(env(id, None)).await;
    let mut config = vec![("directory", out.as_str())];
    config.extend_from_slice(extra);
    plugin.configure(&config).await.expect("valid config");
    plugin.open().await;
    (dir, plugin)
}

async fn shut_down(mut plugin: Plugin) {
    plugin.teardown().await.expect("Teardown succeeds");
    let sent = plugin.shutdown().await;
    assert!(plugin.exited_within_2s(sent).success());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_partial_batch_is_written_as_soon_as_nothing_more_is_queued() {
    // Conduit's pipeline architecture v2 sends one batch and waits for its
    // acks: a batch size larger than that batch must not stall it.
    let (dir, mut plugin) = opened("partial-batch", &[("sdk.batch.size", "100")]).await;
    let mut run = plugin.run().await;
    run.send(vec![create("p1", "k1", "one"), create("p2", "k2", "two"), create("p3", "k3", "three")]).await;
    let acks = run.acks(3).await;
    assert_eq!(positions(&acks), ["p1", "p2", "p3"]);
    assert!(acks.iter().all(|a| a.error.is_empty()), "{acks:?}");
    assert_eq!(std::fs::read(dir.path().join("out/k3")).unwrap(), b"three");
    run.send(vec![create("p4", "k4", "four")]).await;
    assert_eq!(positions(&run.acks(1).await), ["p4"]);
    plugin.stop("p4").await.expect("Stop succeeds");
    run.cancel();
    shut_down(plugin).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn requests_larger_than_the_batch_fill_batches_in_order_and_the_rest_is_written_when_idle() {
    let (dir, mut plugin) = opened("large-requests", &[("sdk.batch.size", "100")]).await;
    let mut run = plugin.run().await;
    let mut want = Vec::new();
    for request in 0..3 {
        let records: Vec<_> =
            (0..130).map(|i| create(&format!("p{request}-{i}"), &format!("k{request}-{i}"), "x")).collect();
        want.extend(records.iter().map(|r| String::from_utf8_lossy(&r.position).into_owned()));
        run.send(records).await;
    }
    let acks = run.acks(390).await;
    assert_eq!(positions(&acks), want);
    assert!(acks.iter().all(|a| a.error.is_empty()), "{acks:?}");
    assert_eq!(std::fs::read_dir(dir.path().join("out")).unwrap().count(), 390);
    plugin.stop("p2-129").await.expect("Stop succeeds");
    run.cancel();
    shut_down(plugin).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_batch_delay_is_an_upper_bound_not_a_wait() {
    // With a one-minute delay, acks that waited for it would miss `acks`'s
    // 10 s bound.
    let (dir, mut plugin) = opened("batch-delay", &[("sdk.batch.size", "100"), ("sdk.batch.delay", "1m")]).await;
    let mut run = plugin.run().await;
    for round in 0..3 {
        let (p1, p2) = (format!("p{round}a"), format!("p{round}b"));
        run.send(vec![create(&p1, &format!("k{round}a"), "one"), create(&p2, &format!("k{round}b"), "two")]).await;
        assert_eq!(positions(&run.acks(2).await), [p1, p2]);
    }
    assert_eq!(std::fs::read(dir.path().join("out/k2b")).unwrap(), b"two");
    plugin.stop("p2b").await.expect("Stop succeeds");
    run.cancel();
    shut_down(plugin).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn stop_waits_for_its_last_position() {
    let (_dir, mut plugin) = opened("stop-waits", &[("sdk.batch.size", "100")]).await;
    let mut run = plugin.run().await;
    run.send(vec![create("p1", "k1", "x"), create("p2", "k2", "x")]).await;
    assert_eq!(positions(&run.acks(2).await), ["p1", "p2"]);
    let mut client = plugin.destination.clone();
    let stop =
        tokio::spawn(
            async move { client.stop(pb::destination::stop::Request { last_position: b"p3".to_vec() }).await },
        );
    tokio::time::sleep(Duration::from_millis(400)).await;
    assert!(!stop.is_finished(), "Stop returned before p3 arrived");
    run.send(vec![create("p3", "k3", "x")]).await;
    let stopped = within("Stop", 10, stop).await.expect("Stop task").map(|_| ());
    stopped.expect("Stop succeeds once p3 arrived");
    assert_eq!(positions(&run.acks(1).await), ["p3"]);
    run.cancel();
    shut_down(plugin).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_request_with_an_unknown_operation_is_nacked_after_earlier_pending_records() {
    let (_dir, mut plugin) = opened("bad-operation", &[("sdk.batch.size", "100")]).await;
    let mut run = plugin.run().await;
    run.send(vec![create("p1", "k1", "x")]).await;
    let mut bad = create("p3", "k3", "x");
    bad.operation = 0;
    run.send(vec![create("p2", "k2", "x"), bad]).await;
    let acks = run.acks(3).await;
    assert_eq!(positions(&acks), ["p1", "p2", "p3"]);
    assert_eq!(acks[0].error, "");
    for ack in &acks[1..] {
        assert!(ack.error.contains("unknown operation OPERATION_UNSPECIFIED"), "{:?}", ack.error);
    }
    plugin.stop("p3").await.expect("Stop succeeds");
    run.cancel();
    shut_down(plugin).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn run_before_open_fails_and_on_deleted_needs_no_configure() {
    let mut plugin = start(env("no-open", None)).await;
    let deleted = pb::destination::lifecycle::on_deleted::Request {
        config: [("directory".to_owned(), "/nonexistent".to_owned())].into(),
    };
    within("LifecycleOnDeleted", 10, plugin.destination.lifecycle_on_deleted(deleted)).await.expect("OnDeleted");
    let (_tx, rx) = tokio::sync::mpsc::channel::<pb::destination::run::Request>(1);
    let status =
        within("Run", 10, plugin.destination.run(tonic::codegen::tokio_stream::wrappers::ReceiverStream::new(rx)))
            .await
            .unwrap_err();
    assert!(status.message().contains("not open"), "{status}");
    // The source service is not served.
    let mut source = pb::source_plugin_client::SourcePluginClient::new(plugin.channel.clone());
    let status =
        within("Source Configure", 10, source.configure(pb::source::configure::Request::default())).await.unwrap_err();
    assert_eq!(status.code(), tonic::Code::Unimplemented);
    // Teardown without Configure is fine (Conduit validates configs with Configure + Teardown).
    shut_down(plugin).await;
}
