//! End to end in plugin mode: the `directory-destination` binary started and
//! driven the way Conduit does it (handshake, health, Specify, Configure,
//! lifecycle, Open, Run, Stop, cancel, Teardown, Shutdown).

mod plugin_common;

use std::collections::BTreeSet;

use conduit_connector::plugin::proto::config::v1::validation::Type as ValidationType;
use conduit_connector::plugin::proto::connector::v2 as pb;
use conduit_connector::plugin::proto::health::{HealthCheckRequest, ServingStatus, health_client::HealthClient};
use conduit_connector::plugin::proto::opencdc::v1::Operation;
use pb::specifier_plugin_client::SpecifierPluginClient;
use plugin_common::*;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn plugin_mode_writes_files_and_acks_every_record_in_order_like_conduit_drives_it() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("out");
    let out_str = out.to_str().unwrap().to_owned();

    // Launch with Conduit's environment: a unix socket in a fresh 0700
    // directory, as go-plugin's Go servers do (the port range is for TCP).
    let mut plugin = start(env("e2e-destination", Some((10000, 25000)))).await;
    let handshake = plugin.process.handshake().to_owned();
    let socket = std::path::PathBuf::from(plugin.process.address());
    assert_eq!(plugin.process.network(), "unix");
    assert_eq!(handshake, format!("1|2|unix|{}|grpc|", socket.display()));
    let socket_dir = socket.parent().expect("the socket is in a directory").to_owned();
    assert!(socket_dir.starts_with(std::env::temp_dir()), "{}", socket_dir.display());
    {
        use std::os::unix::fs::{FileTypeExt, MetadataExt};
        let meta = std::fs::metadata(&socket_dir).unwrap();
        assert_eq!(meta.mode() & 0o7777, 0o700, "the socket's directory is private");
        assert_eq!(meta.uid(), std::fs::metadata("/proc/self").unwrap().uid());
        assert!(std::fs::metadata(&socket).unwrap().file_type().is_socket());
    }

    // Health: service "plugin" is SERVING.
    let mut health = HealthClient::new(plugin.channel.clone());
    let status = within("health check", 10, health.check(HealthCheckRequest { service: "plugin".into() }))
        .await
        .expect("health answers")
        .into_inner()
        .status;
    assert_eq!(status, ServingStatus::Serving as i32);

    // Specify: what Conduit reads at discovery.
    let mut specifier = SpecifierPluginClient::new(plugin.channel.clone());
    let spec = within("Specify", 10, specifier.specify(pb::specifier::specify::Request {}))
        .await
        .expect("Specify answers")
        .into_inner()
        .specification
        .expect("a specification");
    assert_eq!(spec.name, "directory");
    assert_eq!(spec.version, concat!("v", env!("CARGO_PKG_VERSION")));
    assert!(spec.source_params.is_empty());
    for key in ["directory", "atomic", "sync", "sdk.batch.size", "sdk.batch.delay", "sdk.record.format"] {
        assert!(spec.destination_params.contains_key(key), "Specify lacks parameter {key}");
    }
    let directory = &spec.destination_params["directory"];
    assert!(directory.validations.iter().any(|v| v.r#type == ValidationType::Required as i32));
    assert_eq!(spec.destination_params["atomic"].default, "true");

    // A bad config: every problem is listed, Go's wording.
    let status = plugin.configure(&[("atomic", "maybe"), ("sync", "sometimes"), ("colour", "red")]).await.unwrap_err();
    assert_eq!(status.code(), tonic::Code::InvalidArgument);
    let message = status.message();
    assert!(message.starts_with("failed to parse configuration: config invalid: "), "{message}");
    assert_eq!(message.lines().count(), 4, "one line per problem: {message}");
    for problem in [
        "error validating \"atomic\": \"maybe\" value is not a boolean",
        "\"colour\": unrecognized parameter",
        "error validating \"directory\": required parameter is not provided",
        "error validating \"sync\": \"sometimes\" value must be included in the list [none,file,batch]",
    ] {
        assert!(message.contains(problem), "missing {problem:?} in {message}");
    }

    // The good config, then the lifecycle hook Conduit calls for a new connector.
    let config = [("directory", out_str.as_str()), ("sync", "batch")];
    plugin.configure(&config).await.expect("valid config");
    let created = pb::destination::lifecycle::on_created::Request {
        config: config.iter().map(|(k, v)| ((*k).to_owned(), (*v).to_owned())).collect(),
    };
    within("LifecycleOnCreated", 10, plugin.destination.lifecycle_on_created(created)).await.expect("OnCreated");
    plugin.open().await;

    // Run: three multi-record requests, one record with an invalid key.
    let mut run = plugin.run().await;
    run.send(vec![create("p1", "a", "hello"), create("p2", "b", "world")]).await;
    run.send(vec![create("p3", "a/b", "nope"), create("p4", "c", "ccc")]).await;
    run.send(vec![
        record("p5", Operation::Delete, "b", None),
        record("p6", Operation::Update, "a", Some(b"hello again")),
    ])
    .await;
    let acks = run.acks(6).await;
    assert_eq!(positions(&acks), ["p1", "p2", "p3", "p4", "p5", "p6"]);
    for ack in &acks {
        if ack.position == b"p3" {
            assert!(ack.error.contains("a/b"), "the nack names the key: {:?}", ack.error);
        } else {
            assert_eq!(ack.error, "", "record {:?} acked without error", String::from_utf8_lossy(&ack.position));
        }
    }

    // Stop at the last position, cancel the stream, tear down, shut down.
    plugin.stop("p6").await.expect("Stop succeeds");
    run.cancel();
    plugin.teardown().await.expect("Teardown succeeds");
    let sent = plugin.shutdown().await;
    let status = plugin.exited_within_2s(sent);
    assert!(status.success(), "exit status {status}");
    assert!(!socket_dir.exists(), "the socket and its directory are removed on exit");

    // The files, byte for byte.
    let names: BTreeSet<String> =
        std::fs::read_dir(&out).unwrap().map(|e| e.unwrap().file_name().to_string_lossy().into_owned()).collect();
    assert_eq!(names, BTreeSet::from(["a".to_owned(), "c".to_owned()]));
    assert_eq!(std::fs::read(out.join("a")).unwrap(), b"hello again");
    assert_eq!(std::fs::read(out.join("c")).unwrap(), b"ccc");

    // stdout: the handshake line only; stderr: hclog JSON lines.
    assert_eq!(plugin.process.stdout_after_handshake(), b"", "nothing after the handshake on stdout");
    let stderr = plugin.process.stderr();
    let mut lines = 0;
    let mut nack_logged = false;
    for line in stderr.lines().filter(|l| !l.trim().is_empty()) {
        let value: serde_json::Value =
            serde_json::from_str(line).unwrap_or_else(|e| panic!("stderr line is not JSON ({e}): {line}"));
        let level = value["@level"].as_str().unwrap_or_else(|| panic!("no @level: {line}"));
        assert!(["trace", "debug", "info", "warn", "error"].contains(&level), "{line}");
        assert!(level != "debug" && level != "trace", "CONDUIT_CONNECTOR_LOG_LEVEL=info is honoured: {line}");
        assert!(value["@message"].is_string(), "no @message: {line}");
        nack_logged |= level == "error" && line.contains("a/b");
        lines += 1;
    }
    assert!(lines > 0, "the plugin logged nothing");
    assert!(nack_logged, "the failed record is logged at error:\n{stderr}");
}
