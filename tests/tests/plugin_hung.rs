//! Plugin mode stays bounded when the connector hangs: with a `write` that
//! never returns, Teardown fails after its bound and Shutdown still makes the
//! process exit within Conduit's 2 s grace period.

use std::future::Future;
use std::time::{Duration, Instant};

use conduit_connector::plugin::TEARDOWN_TIMEOUT;
use conduit_connector::plugin::host::{PluginProcess, conduit_env};
use conduit_connector::plugin::proto::connector::v2 as pb;
use conduit_connector::plugin::proto::opencdc::v1 as pbcdc;
use conduit_connector::plugin::proto::plugin::Empty;
use conduit_connector::plugin::proto::plugin::grpc_controller_client::GrpcControllerClient;
use pb::destination_plugin_client::DestinationPluginClient;
use tonic::codegen::tokio_stream::wrappers::ReceiverStream;

const BIN: &str = env!("CARGO_BIN_EXE_hung-destination");

async fn within<T>(what: &str, secs: u64, fut: impl Future<Output = T>) -> T {
    match tokio::time::timeout(Duration::from_secs(secs), fut).await {
        Ok(v) => v,
        Err(_) => panic!("{what} did not finish within {secs}s"),
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn hung_write_makes_teardown_fail_within_its_bound_and_shutdown_exit_within_2s() {
    let mut env = conduit_env("hung-destination");
    env.retain(|(k, _)| k != "PLUGIN_MIN_PORT" && k != "PLUGIN_MAX_PORT");
    let mut process = PluginProcess::launch(BIN, env, Duration::from_secs(20)).expect("plugin starts");
    let channel = within("connect", 10, process.connect()).await.expect("connects");
    let mut destination = DestinationPluginClient::new(channel.clone());

    within("Configure", 10, destination.configure(pb::destination::configure::Request::default()))
        .await
        .expect("Configure");
    within("Open", 10, destination.open(pb::destination::open::Request {})).await.expect("Open");
    let (tx, rx) = tokio::sync::mpsc::channel(4);
    let mut acks = within("Run", 10, destination.run(ReceiverStream::new(rx))).await.expect("Run").into_inner();
    let record = pbcdc::Record {
        position: b"p1".to_vec(),
        operation: pbcdc::Operation::Create as i32,
        key: Some(pbcdc::Data { data: Some(pbcdc::data::Data::RawData(b"k".to_vec())) }),
        ..Default::default()
    };
    within("send", 10, tx.send(pb::destination::run::Request { records: vec![record] })).await.expect("sent");
    // The write hangs: no ack.
    assert!(tokio::time::timeout(Duration::from_millis(300), acks.message()).await.is_err(), "an ack arrived");

    let started = Instant::now();
    let status = within("Teardown", 30, destination.teardown(pb::destination::teardown::Request {}))
        .await
        .expect_err("Teardown fails while the write hangs");
    let took = started.elapsed();
    assert!(took >= TEARDOWN_TIMEOUT - Duration::from_millis(100), "Teardown gave up early: {took:?}");
    assert!(took < TEARDOWN_TIMEOUT + Duration::from_secs(2), "Teardown took {took:?}");
    assert!(status.message().contains("did not finish within 5s"), "{status}");

    let sent = Instant::now();
    let mut controller = GrpcControllerClient::new(channel);
    within("Shutdown", 5, controller.shutdown(Empty {})).await.expect("Shutdown answers");
    drop(acks);
    drop(tx);
    let status = process
        .wait_timeout(Duration::from_secs(2).saturating_sub(sent.elapsed()))
        .unwrap_or_else(|| panic!("no exit within 2 s of Shutdown; stderr:\n{}", process.stderr()));
    assert!(status.success(), "{status}");
    assert!(process.stderr().contains("did not finish in time"), "{}", process.stderr());
}
