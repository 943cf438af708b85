//! Plays Conduit with a Go source in front: an in-process stand-in of
//! Conduit's schema service (`connutils.v1.SchemaService`, checking the
//! connector token and counting calls), the plugin binary started with
//! Conduit's variables (`CONDUIT_CONNECTOR_UTILITIES_GRPC_TARGET` in Conduit's
//! `[::]:PORT` form, `CONDUIT_CONNECTOR_TOKEN`, `CONDUIT_CONNECTOR_ID`), and
//! records whose key and payload are Avro-encoded as Go's source middleware
//! sends them (schemas as Go's extractor writes them: fields sorted by name,
//! nullable unions, nested records, arrays, bytes).

mod plugin_common;

use std::collections::BTreeMap;
use std::path::Path;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};

use apache_avro::types::Value;
use conduit_connector::plugin::proto::connutils::v1 as pb;
use conduit_connector::plugin::proto::connutils::v1::schema_service_server::{SchemaService, SchemaServiceServer};
use conduit_connector::plugin::proto::opencdc::v1 as pbcdc;
use conduit_connector::plugin::proto::schema::v1 as pbschema;
use plugin_common::*;
use tonic::{Request, Response, Status};

/// A token as Conduit makes them (JSON with a UUID and the connector id).
const TOKEN: &str = r#"{"value":"5f0c8a64-1b1e-4c55-9a57-3f4c3c0d2a11","connector_id":"pipeline1:directory"}"#;
const CONNECTOR_ID: &str = "pipeline1:directory";

const KEY_SCHEMA: &str = r#"{"name":"record","type":"record","fields":[{"name":"id","type":"long"}]}"#;
const PAYLOAD_SCHEMA: &str = r#"{"name":"record","type":"record","fields":[
  {"name":"active","type":"boolean"},
  {"name":"address","type":{"name":"record.address","type":"record","fields":[
    {"name":"city","type":"string"},
    {"name":"zip","type":["string","null"]}]}},
  {"name":"id","type":"long"},
  {"name":"photo","type":"bytes"},
  {"name":"score","type":"double"},
  {"name":"tags","type":{"type":"array","items":["null","string"]}}]}"#;

/// Conduit's schema service: subject → versions, a call counter per
/// subject, and every token seen.
#[derive(Default)]
struct Registry {
    schemas: Mutex<BTreeMap<String, Vec<String>>>,
    calls: Mutex<BTreeMap<String, usize>>,
    total: AtomicUsize,
    bad_tokens: AtomicUsize,
}

impl Registry {
    fn with(schemas: &[(&str, &str)]) -> Arc<Self> {
        let registry = Registry::default();
        for (subject, text) in schemas {
            registry.schemas.lock().unwrap().entry((*subject).to_owned()).or_default().push((*text).to_owned());
        }
        Arc::new(registry)
    }

    fn calls(&self, subject: &str) -> usize {
        self.calls.lock().unwrap().get(subject).copied().unwrap_or(0)
    }
}

struct Rpc(Arc<Registry>);

impl Rpc {
    /// Conduit rejects calls without the connector's token.
    fn check_token<T>(&self, request: &Request<T>) -> Result<(), Status> {
        self.0.total.fetch_add(1, Ordering::SeqCst);
        let token = request.metadata().get("conduit-connector-token").and_then(|v| v.to_str().ok());
        if token != Some(TOKEN) {
            self.0.bad_tokens.fetch_add(1, Ordering::SeqCst);
            return Err(Status::unknown(format!("{:?}: invalid token", token.unwrap_or_default())));
        }
        Ok(())
    }
}

#[tonic::async_trait]
impl SchemaService for Rpc {
    async fn create_schema(
        &self,
        request: Request<pb::CreateSchemaRequest>,
    ) -> Result<Response<pb::CreateSchemaResponse>, Status> {
        self.check_token(&request)?;
        Err(Status::unimplemented("a destination never creates schemas"))
    }

    async fn get_schema(
        &self,
        request: Request<pb::GetSchemaRequest>,
    ) -> Result<Response<pb::GetSchemaResponse>, Status> {
        self.check_token(&request)?;
        let request = request.into_inner();
        *self.0.calls.lock().unwrap().entry(request.subject.clone()).or_default() += 1;
        let schemas = self.0.schemas.lock().unwrap();
        // Conduit answers with plain errors carrying these texts.
        let versions = schemas.get(&request.subject).ok_or_else(|| Status::unknown("schema subject not found"))?;
        let text = usize::try_from(request.version - 1)
            .ok()
            .and_then(|i| versions.get(i))
            .ok_or_else(|| Status::unknown("schema version not found"))?;
        Ok(Response::new(pb::GetSchemaResponse {
            schema: Some(pbschema::Schema {
                subject: request.subject,
                version: request.version,
                id: 1,
                r#type: pbschema::schema::Type::Avro as i32,
                bytes: text.clone().into_bytes(),
            }),
        }))
    }
}

/// Serves the registry on 127.0.0.1 and returns the target as Conduit
/// writes it: `[::]:PORT`.
async fn serve(registry: Arc<Registry>) -> String {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = listener.local_addr().unwrap().port();
    let incoming = tonic::transport::server::TcpIncoming::from(listener);
    tokio::spawn(
        tonic::transport::Server::builder()
            .add_service(SchemaServiceServer::new(Rpc(registry)))
            .serve_with_incoming(incoming),
    );
    format!("[::]:{port}")
}

/// Conduit's environment with the schema service's address and the token.
fn conduit_env_with(target: &str) -> Vec<(String, String)> {
    let mut env = env(CONNECTOR_ID, None);
    env.retain(|(k, _)| k != "CONDUIT_CONNECTOR_UTILITIES_GRPC_TARGET" && k != "CONDUIT_CONNECTOR_TOKEN");
    env.push(("CONDUIT_CONNECTOR_UTILITIES_GRPC_TARGET".into(), target.to_owned()));
    env.push(("CONDUIT_CONNECTOR_TOKEN".into(), TOKEN.into()));
    env
}

fn avro(schema: &str, value: Value) -> Vec<u8> {
    let schema = apache_avro::Schema::parse_str(schema).unwrap();
    apache_avro::writer::datum::GenericDatumWriter::builder(&schema).build().unwrap().write_value_to_vec(value).unwrap()
}

fn key_avro(id: i64) -> Vec<u8> {
    avro(KEY_SCHEMA, Value::Record(vec![("id".into(), Value::Long(id))]))
}

/// The payload Go's encoder writes for
/// `{"active":…,"address":{"city":"Berlin","zip":nil},"id":…,"photo":[]byte{1,2,3},"score":1.5,"tags":["a","b"]}`.
fn payload_avro(id: i64) -> Vec<u8> {
    let tag = |s: &str| Value::Union(1, Box::new(Value::String(s.into())));
    avro(
        PAYLOAD_SCHEMA,
        Value::Record(vec![
            ("active".into(), Value::Boolean(id % 2 == 1)),
            (
                "address".into(),
                Value::Record(vec![
                    ("city".into(), Value::String("Berlin".into())),
                    ("zip".into(), Value::Union(1, Box::new(Value::Null))),
                ]),
            ),
            ("id".into(), Value::Long(id)),
            ("photo".into(), Value::Bytes(vec![1, 2, 3])),
            ("score".into(), Value::Double(1.5)),
            ("tags".into(), Value::Array(vec![tag("a"), tag("b")])),
        ]),
    )
}

/// What Go's `encoding/json` writes for the decoded payload.
fn payload_json(id: i64) -> String {
    format!(
        r#"{{"active":{},"address":{{"city":"Berlin","zip":null}},"id":{id},"photo":"AQID","score":1.5,"tags":["a","b"]}}"#,
        id % 2 == 1
    )
}

/// A record as a Go source sends it: payload Avro-encoded with its schema
/// named in the metadata; the key raw (`key_schema: None`) or Avro-encoded
/// too.
fn go_record(position: &str, key: &str, id: i64, payload_subject: &str, key_schema: bool) -> pbcdc::Record {
    let mut record = record(position, pbcdc::Operation::Create, key, Some(&payload_avro(id)));
    record.metadata.insert("opencdc.payload.schema.subject".into(), payload_subject.into());
    record.metadata.insert("opencdc.payload.schema.version".into(), "1".into());
    if key_schema {
        record.key = raw(&key_avro(id));
        record.metadata.insert("opencdc.key.schema.subject".into(), "orders.key".into());
        record.metadata.insert("opencdc.key.schema.version".into(), "1".into());
    }
    record
}

fn read(dir: &Path, name: &str) -> Option<String> {
    std::fs::read(dir.join(name)).ok().map(|b| String::from_utf8_lossy(&b).into_owned())
}

fn files(dir: &Path) -> Vec<String> {
    let mut names: Vec<String> =
        std::fs::read_dir(dir).unwrap().map(|e| e.unwrap().file_name().to_string_lossy().into_owned()).collect();
    names.sort();
    names
}

/// Configures, opens, sends `records` in one Run request, returns the acks,
/// and ends like Conduit (Stop, cancel, Teardown, Shutdown).
async fn run_pipeline(
    target: &str,
    config: &[(&str, &str)],
    records: Vec<pbcdc::Record>,
) -> (Vec<pb_ack::Ack>, String) {
    let mut plugin = start(conduit_env_with(target)).await;
    plugin.configure(config).await.expect("valid config");
    plugin.open().await;
    let mut stream = plugin.run().await;
    let last = String::from_utf8_lossy(&records.last().unwrap().position).into_owned();
    let n = records.len();
    stream.send(records).await;
    let acks = stream.acks(n).await;
    plugin.stop(&last).await.expect("Stop");
    stream.cancel();
    plugin.teardown().await.expect("Teardown");
    let sent = plugin.shutdown().await;
    plugin.exited_within_2s(sent);
    (acks, plugin.process.stderr())
}

mod pb_ack {
    pub use conduit_connector::plugin::proto::connector::v2::destination::run::response::Ack;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn avro_payloads_from_a_go_source_are_written_as_gos_json_and_each_schema_is_fetched_once() {
    let registry = Registry::with(&[("orders.payload", PAYLOAD_SCHEMA), ("orders.key", KEY_SCHEMA)]);
    let target = serve(registry.clone()).await;
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("out");
    let records = vec![
        go_record("p1", "order-1", 1, "orders.payload", false),
        go_record("p2", "order-2", 2, "orders.payload", false),
        // A raw record without schema metadata passes unchanged.
        create("p3", "plain", "not avro, not decoded"),
        // A subject the registry does not know: nacked, not written.
        go_record("p4", "order-4", 4, "customers.payload", false),
        // Records behind it are written.
        go_record("p5", "order-5", 5, "orders.payload", false),
        // Key and payload both Avro-encoded.
        go_record("p6", "ignored", 6, "orders.payload", true),
    ];
    let (acks, stderr) = run_pipeline(&target, &[("directory", out.to_str().unwrap())], records).await;
    assert_eq!(positions(&acks), ["p1", "p2", "p3", "p4", "p5", "p6"], "acks in record order");
    for i in [0, 1, 2, 4] {
        assert_eq!(acks[i].error, "", "record {} was nacked; stderr:\n{stderr}", i + 1);
    }
    assert_eq!(
        acks[3].error,
        "failed to decode payload.after: failed to get schema for customers.payload:1: schema subject not found"
    );

    assert_eq!(read(&out, "order-1").as_deref(), Some(payload_json(1).as_str()));
    assert_eq!(read(&out, "order-2").as_deref(), Some(payload_json(2).as_str()));
    assert_eq!(read(&out, "order-5").as_deref(), Some(payload_json(5).as_str()));
    assert_eq!(read(&out, "plain").as_deref(), Some("not avro, not decoded"));
    assert_eq!(read(&out, "order-4"), None, "the nacked record is not written");

    // p6: the key was decoded to {"id":6} and names the file by its JSON.
    assert_eq!(acks[5].error, "", "p6 is written under its decoded key");
    assert_eq!(read(&out, r#"{"id":6}"#).as_deref(), Some(payload_json(6).as_str()));

    assert_eq!(registry.calls("orders.payload"), 1, "fetched once for four records");
    assert_eq!(registry.calls("orders.key"), 1);
    assert_eq!(registry.calls("customers.payload"), 1);
    assert_eq!(registry.bad_tokens.load(Ordering::SeqCst), 0, "every call carried the token");
    assert!(
        stderr.contains("record does not have an attached schema for the key"),
        "Go's warning for the records without a key schema; stderr:\n{stderr}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn avro_keys_name_files_by_their_json() {
    let registry = Registry::with(&[("orders.payload", PAYLOAD_SCHEMA), ("orders.key", KEY_SCHEMA)]);
    let target = serve(registry.clone()).await;
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("out");
    let records = (1..=3).map(|i| go_record(&format!("p{i}"), "", i, "orders.payload", true)).collect();
    let (acks, stderr) = run_pipeline(&target, &[("directory", out.to_str().unwrap())], records).await;
    assert!(acks.iter().all(|a| a.error.is_empty()), "{acks:?}\n{stderr}");
    assert_eq!(files(&out), [r#"{"id":1}"#, r#"{"id":2}"#, r#"{"id":3}"#]);
    for i in 1..=3 {
        assert_eq!(read(&out, &format!(r#"{{"id":{i}}}"#)).as_deref(), Some(payload_json(i).as_str()));
    }
    assert_eq!((registry.calls("orders.key"), registry.calls("orders.payload")), (1, 1));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn with_both_parameters_false_nothing_is_decoded_and_the_service_is_never_called() {
    let registry = Registry::with(&[("orders.payload", PAYLOAD_SCHEMA), ("orders.key", KEY_SCHEMA)]);
    let target = serve(registry.clone()).await;
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("out");
    let config = [
        ("directory", out.to_str().unwrap()),
        ("sdk.schema.extract.key.enabled", "false"),
        ("sdk.schema.extract.payload.enabled", "false"),
    ];
    let records = vec![
        go_record("p1", "order-1", 1, "orders.payload", false),
        go_record("p2", "order-2", 2, "customers.payload", false),
    ];
    let (acks, stderr) = run_pipeline(&target, &config, records).await;
    assert!(acks.iter().all(|a| a.error.is_empty()), "{acks:?}\n{stderr}");
    assert_eq!(std::fs::read(out.join("order-1")).unwrap(), payload_avro(1), "the Avro bytes, as asked");
    assert_eq!(std::fs::read(out.join("order-2")).unwrap(), payload_avro(2));
    assert_eq!(registry.total.load(Ordering::SeqCst), 0, "the schema service was never called");
    assert!(!stderr.contains("attached schema"), "no warning when disabled; stderr:\n{stderr}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_plugin_started_without_the_schema_service_nacks_records_that_need_it() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("out");
    let mut env = conduit_env_with("unused:1");
    env.retain(|(k, _)| k != "CONDUIT_CONNECTOR_UTILITIES_GRPC_TARGET");
    let mut plugin = start(env).await;
    plugin.configure(&[("directory", out.to_str().unwrap())]).await.expect("valid config");
    plugin.open().await;
    let mut stream = plugin.run().await;
    stream.send(vec![go_record("p1", "order-1", 1, "orders.payload", false), create("p2", "plain", "raw")]).await;
    let acks = stream.acks(2).await;
    assert!(acks[0].error.contains("decoding needs Conduit's schema service"), "{}", acks[0].error);
    assert!(acks[0].error.contains("\"sdk.schema.extract.payload.enabled\""), "{}", acks[0].error);
    assert_eq!(acks[1].error, "");
    assert_eq!(files(&out), ["plain"], "never written as Avro bytes");
    stream.cancel();
}

/// `run` has no schema service: a schema-encoded record fails with the
/// clear error, the others are written, and the exit code is 1.
#[test]
fn run_fails_a_schema_encoded_record_with_a_clear_error_and_writes_the_others() {
    use conduit_connector::opencdc::{Change, Data, Metadata, Operation, Record};
    let tmp = tempfile::tempdir().unwrap();
    let out = tmp.path().join("out");
    let input = tmp.path().join("in.jsonl");
    let plain = |position: &str, key: &str| Record {
        position: position.into(),
        operation: Operation::Create,
        key: Some(Data::Raw(key.as_bytes().to_vec())),
        payload: Change { before: None, after: Some(Data::Raw(b"plain".to_vec())) },
        ..Record::default()
    };
    let mut encoded = plain("p2", "order-2");
    encoded.payload.after = Some(Data::Raw(payload_avro(2)));
    encoded.metadata.set_payload_schema_subject("orders.payload");
    encoded.metadata.set(Metadata::PAYLOAD_SCHEMA_VERSION, "1");
    let lines: Vec<String> =
        [plain("p1", "one"), encoded, plain("p3", "three")].iter().map(Record::to_json_string).collect();
    std::fs::write(&input, lines.join("\n") + "\n").unwrap();

    let mut command = std::process::Command::new(BIN);
    for (k, _) in conduit_connector::plugin::host::conduit_env("x") {
        command.env_remove(k);
    }
    let output = command
        .args(["run", "--config", &format!("directory={}", out.display()), "--input", input.to_str().unwrap()])
        .arg("--quiet")
        .stdin(std::process::Stdio::null())
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&output.stdout);
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(output.status.code(), Some(1), "stdout:\n{stdout}\nstderr:\n{stderr}");
    assert_eq!(files(&out), ["one", "three"], "the Avro record is not written");
    let line = stdout.lines().find(|l| l.contains("\"p2\"")).unwrap_or_else(|| panic!("no failure for p2:\n{stdout}"));
    assert!(line.contains("failed to decode payload.after: failed to get schema for orders.payload:1: "), "{line}");
    assert!(line.contains("decoding needs Conduit's schema service"), "{line}");
    assert!(line.contains("sdk.schema.extract.payload.enabled"), "{line}");
}
