//! go-plugin's start-up checks: the magic cookie and protocol negotiation.

mod plugin_common;

use std::time::Duration;

use conduit_connector::plugin::host::PluginProcess;
use conduit_connector::plugin::{MAGIC_COOKIE_KEY, MAGIC_COOKIE_VALUE, NOT_A_PLUGIN_MESSAGE};
use plugin_common::*;

const GO_PLUGIN_MESSAGE: &str = "This binary is a plugin. These are not meant to be executed directly.\n\
Please execute the program that consumes these plugins, which will\n\
load any plugins automatically\n";

#[test]
fn wrong_cookie_prints_go_plugins_message_and_exits_1() {
    assert_eq!(NOT_A_PLUGIN_MESSAGE, GO_PLUGIN_MESSAGE);
    let (status, stdout, stderr) = run_to_exit(&[(MAGIC_COOKIE_KEY, "wrong"), ("PLUGIN_PROTOCOL_VERSIONS", "1,2")]);
    assert_eq!(status.code(), Some(1));
    assert_eq!(stderr, GO_PLUGIN_MESSAGE);
    assert_eq!(stdout, "");
}

#[test]
fn protocol_versions_without_cookie_prints_go_plugins_message_and_exits_1() {
    let (status, stdout, stderr) = run_to_exit(&[("PLUGIN_PROTOCOL_VERSIONS", "1,2")]);
    assert_eq!(status.code(), Some(1));
    assert_eq!(stderr, GO_PLUGIN_MESSAGE);
    assert_eq!(stdout, "");
}

#[test]
fn protocol_version_1_only_is_refused_with_a_clear_error() {
    let (status, stdout, stderr) =
        run_to_exit(&[(MAGIC_COOKIE_KEY, MAGIC_COOKIE_VALUE), ("PLUGIN_PROTOCOL_VERSIONS", "1")]);
    assert_eq!(status.code(), Some(1));
    assert_eq!(stdout, "", "no handshake line");
    assert!(stderr.contains("PLUGIN_PROTOCOL_VERSIONS=\"1\""), "{stderr}");
    assert!(stderr.contains("speaks only version 2"), "{stderr}");
}

#[test]
fn an_invalid_port_range_is_refused_with_a_clear_error() {
    let (status, stdout, stderr) = run_to_exit(&[
        (MAGIC_COOKIE_KEY, MAGIC_COOKIE_VALUE),
        ("PLUGIN_MIN_PORT", "20000"),
        ("PLUGIN_MAX_PORT", "eleven"),
    ]);
    assert_eq!(status.code(), Some(1));
    assert_eq!(stdout, "");
    assert!(stderr.contains("PLUGIN_MAX_PORT=\"eleven\""), "{stderr}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn version_2_with_whitespace_and_no_port_range_serves_tcp_on_any_port() {
    let env = vec![
        (MAGIC_COOKIE_KEY.to_owned(), MAGIC_COOKIE_VALUE.to_owned()),
        ("PLUGIN_PROTOCOL_VERSIONS".to_owned(), " 2 , 1 ".to_owned()),
        ("CONDUIT_CONNECTOR_PLUGIN_NETWORK".to_owned(), "tcp".to_owned()),
    ];
    let process = PluginProcess::launch(bin(), env, Duration::from_secs(20)).expect("plugin starts");
    assert!(process.handshake().starts_with("1|2|tcp|127.0.0.1:"), "{}", process.handshake());
    let channel = within("connect", 10, process.connect()).await.expect("connects");
    let destination =
        conduit_connector::plugin::proto::connector::v2::destination_plugin_client::DestinationPluginClient::new(
            channel.clone(),
        );
    let mut plugin = Plugin { process, channel, destination };
    let sent = plugin.shutdown().await;
    assert!(plugin.exited_within_2s(sent).success());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn tcp_listens_on_127_0_0_1_in_the_port_range() {
    let mut env = env("tcp-range", Some((10000, 25000)));
    env.push(("CONDUIT_CONNECTOR_PLUGIN_NETWORK".into(), "tcp".into()));
    let mut plugin = start(env).await;
    let port: u16 = plugin.process.address().strip_prefix("127.0.0.1:").expect("listens on 127.0.0.1").parse().unwrap();
    assert!((10000..=25000).contains(&port), "port {port} outside PLUGIN_MIN_PORT..=PLUGIN_MAX_PORT");
    assert_eq!(plugin.process.handshake(), format!("1|2|tcp|127.0.0.1:{port}|grpc|"));
    let sent = plugin.shutdown().await;
    assert!(plugin.exited_within_2s(sent).success());
}

#[test]
fn an_unknown_network_is_refused_with_a_clear_error() {
    let (status, stdout, stderr) =
        run_to_exit(&[(MAGIC_COOKIE_KEY, MAGIC_COOKIE_VALUE), ("CONDUIT_CONNECTOR_PLUGIN_NETWORK", "udp")]);
    assert_eq!(status.code(), Some(1));
    assert_eq!(stdout, "");
    assert!(stderr.contains("CONDUIT_CONNECTOR_PLUGIN_NETWORK=\"udp\""), "{stderr}");
}

#[cfg(unix)]
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sigint_is_ignored_after_the_handshake_like_go_plugin() {
    let mut plugin = start(env("sigint", None)).await;
    let pid = plugin.process.id().to_string();
    let kill = std::process::Command::new("kill").args(["-INT", &pid]).status().expect("kill runs");
    assert!(kill.success());
    assert!(plugin.process.wait_timeout(Duration::from_millis(500)).is_none(), "SIGINT ended the plugin");
    let sent = plugin.shutdown().await;
    assert!(plugin.exited_within_2s(sent).success());
}
