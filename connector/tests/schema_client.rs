//! The schema service client against an in-process stand-in of Conduit's
//! `connutils.v1.SchemaService`: token on every call, Conduit's address
//! forms, Go's error mapping, bounded waits, and the per-process cache.

use std::collections::BTreeMap;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use conduit_connector::plugin::proto::connutils::v1 as pb;
use conduit_connector::plugin::proto::connutils::v1::schema_service_server::{
    SchemaService as SchemaServiceRpc, SchemaServiceServer,
};
use conduit_connector::plugin::proto::schema::v1 as pbschema;
use conduit_connector::schema::{
    BoxFuture, CachedSchemaService, Schema, SchemaClient, SchemaError, SchemaService, SchemaType,
};
use tonic::{Request, Response, Status};

const TOKEN: &str = r#"{"value":"0b7e","connector_id":"pipeline:dest"}"#;

/// Conduit's schema service as a test double: checks the token, counts
/// calls, answers with Conduit's plain-error texts.
#[derive(Default)]
struct FakeConduit {
    schemas: Mutex<BTreeMap<String, Vec<Vec<u8>>>>,
    calls: AtomicUsize,
    tokens: Mutex<Vec<Option<String>>>,
    delay: Duration,
}

impl FakeConduit {
    fn check_token<T>(&self, request: &Request<T>) -> Result<(), Status> {
        self.calls.fetch_add(1, Ordering::SeqCst);
        let token = request.metadata().get("conduit-connector-token").and_then(|v| v.to_str().ok()).map(str::to_owned);
        self.tokens.lock().unwrap().push(token.clone());
        if token.as_deref() != Some(TOKEN) {
            return Err(Status::unknown(format!("{:?}: invalid token", token.unwrap_or_default())));
        }
        Ok(())
    }
}

/// The gRPC face of a shared [`FakeConduit`].
struct Rpc(Arc<FakeConduit>);

#[tonic::async_trait]
impl SchemaServiceRpc for Rpc {
    async fn create_schema(
        &self,
        request: Request<pb::CreateSchemaRequest>,
    ) -> Result<Response<pb::CreateSchemaResponse>, Status> {
        self.0.check_token(&request)?;
        let request = request.into_inner();
        let mut schemas = self.0.schemas.lock().unwrap();
        let versions = schemas.entry(request.subject.clone()).or_default();
        versions.push(request.bytes.clone());
        let schema = pbschema::Schema {
            subject: request.subject,
            version: versions.len() as i32,
            id: 100 + versions.len() as i32,
            r#type: request.r#type,
            bytes: request.bytes,
        };
        Ok(Response::new(pb::CreateSchemaResponse { schema: Some(schema) }))
    }

    async fn get_schema(
        &self,
        request: Request<pb::GetSchemaRequest>,
    ) -> Result<Response<pb::GetSchemaResponse>, Status> {
        self.0.check_token(&request)?;
        tokio::time::sleep(self.0.delay).await;
        let request = request.into_inner();
        let schemas = self.0.schemas.lock().unwrap();
        let versions = schemas.get(&request.subject).ok_or_else(|| Status::unknown("schema subject not found"))?;
        let bytes = usize::try_from(request.version - 1)
            .ok()
            .and_then(|i| versions.get(i))
            .ok_or_else(|| Status::unknown("schema version not found"))?;
        let schema = pbschema::Schema {
            subject: request.subject,
            version: request.version,
            id: 100 + request.version,
            r#type: pbschema::schema::Type::Avro as i32,
            bytes: bytes.clone(),
        };
        Ok(Response::new(pb::GetSchemaResponse { schema: Some(schema) }))
    }
}

/// Serves `fake` on 127.0.0.1 and returns the port.
async fn serve(fake: Arc<FakeConduit>) -> u16 {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = listener.local_addr().unwrap().port();
    let incoming = tonic::transport::server::TcpIncoming::from(listener);
    tokio::spawn(
        tonic::transport::Server::builder()
            .add_service(SchemaServiceServer::new(Rpc(fake)))
            .serve_with_incoming(incoming),
    );
    port
}

#[tokio::test]
async fn every_call_carries_the_token_and_conduits_address_form_reaches_loopback() {
    let fake = Arc::new(FakeConduit::default());
    let port = serve(fake.clone()).await;
    // Conduit writes its address as [::]:PORT.
    let client = SchemaClient::new(&format!("[::]:{port}"), TOKEN).unwrap();

    let created = client.create_schema("orders.payload", SchemaType::Avro, br#""string""#).await.unwrap();
    assert_eq!(
        created,
        Schema {
            subject: "orders.payload".into(),
            version: 1,
            id: 101,
            ty: SchemaType::Avro,
            bytes: br#""string""#.to_vec()
        }
    );
    let got = client.get_schema("orders.payload", 1).await.unwrap();
    assert_eq!(got, created);
    assert_eq!(*fake.tokens.lock().unwrap(), vec![Some(TOKEN.to_owned()); 2]);
}

#[tokio::test]
async fn conduits_sentinel_errors_map_to_their_variants() {
    let fake = Arc::new(FakeConduit::default());
    let port = serve(fake.clone()).await;
    let client = SchemaClient::new(&format!("127.0.0.1:{port}"), TOKEN).unwrap();
    assert_eq!(client.get_schema("nope", 1).await.unwrap_err(), SchemaError::SubjectNotFound);
    client.create_schema("s", SchemaType::Avro, b"\"int\"").await.unwrap();
    assert_eq!(client.get_schema("s", 2).await.unwrap_err(), SchemaError::VersionNotFound);
    assert_eq!(client.get_schema("s", 2).await.unwrap_err().to_string(), "schema version not found");
}

#[tokio::test]
async fn a_wrong_token_is_rejected_by_the_service_with_its_message() {
    let fake = Arc::new(FakeConduit::default());
    let port = serve(fake.clone()).await;
    let client = SchemaClient::new(&format!("127.0.0.1:{port}"), "forged").unwrap();
    let err = client.get_schema("s", 1).await.unwrap_err();
    assert_eq!(err, SchemaError::Other("\"forged\": invalid token".into()));
}

#[tokio::test]
async fn an_unreachable_service_is_a_clear_error_naming_the_address() {
    // A port nothing listens on: bind one, then close it.
    let port = {
        let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        l.local_addr().unwrap().port()
    };
    let target = format!("[::]:{port}");
    let client = SchemaClient::new(&target, TOKEN).unwrap();
    let err = client.get_schema("s", 1).await.unwrap_err();
    assert!(matches!(err, SchemaError::Unavailable { .. }), "{err:?}");
    let text = err.to_string();
    assert!(text.starts_with(&format!("could not reach Conduit's schema service at {target}: ")), "{text}");
}

#[tokio::test]
async fn a_service_that_does_not_answer_times_out() {
    let fake = Arc::new(FakeConduit { delay: Duration::from_secs(30), ..FakeConduit::default() });
    fake.schemas.lock().unwrap().insert("s".into(), vec![b"\"int\"".to_vec()]);
    let port = serve(fake.clone()).await;
    let client =
        SchemaClient::new(&format!("127.0.0.1:{port}"), TOKEN).unwrap().with_call_timeout(Duration::from_millis(200));
    let err = client.get_schema("s", 1).await.unwrap_err();
    assert!(matches!(err, SchemaError::Timeout { .. }), "{err:?}");
    assert!(err.to_string().contains(&format!("127.0.0.1:{port} did not answer within 0.2s")), "{err}");
}

#[test]
fn a_token_that_is_not_ascii_is_rejected_up_front() {
    let rt = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
    let _guard = rt.enter();
    assert_eq!(SchemaClient::new("127.0.0.1:1", "tök\n").unwrap_err(), SchemaError::InvalidToken);
}

#[test]
fn from_env_reads_conduits_variables() {
    let rt = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
    let _guard = rt.enter();
    let env = |target: Option<&'static str>| {
        move |k: &str| match k {
            "CONDUIT_CONNECTOR_UTILITIES_GRPC_TARGET" => target.map(str::to_owned),
            "CONDUIT_CONNECTOR_TOKEN" => Some(TOKEN.to_owned()),
            _ => None,
        }
    };
    assert!(SchemaClient::from_env(env(None)).unwrap().is_none());
    assert!(SchemaClient::from_env(env(Some(""))).unwrap().is_none());
    assert_eq!(SchemaClient::from_env(env(Some("[::]:8185"))).unwrap().unwrap().target(), "[::]:8185");
    assert!(matches!(SchemaClient::from_env(env(Some("nonsense"))), Err(SchemaError::InvalidTarget { .. })));
}

/// Counts calls and answers after a short pause (so concurrent requests
/// overlap); fails the first `fail_first` calls.
#[derive(Debug, Default)]
struct Counting {
    calls: AtomicUsize,
    fail_first: usize,
}

impl SchemaService for Counting {
    fn get_schema<'a>(&'a self, subject: &'a str, version: i32) -> BoxFuture<'a, Result<Schema, SchemaError>> {
        Box::pin(async move {
            let n = self.calls.fetch_add(1, Ordering::SeqCst);
            tokio::time::sleep(Duration::from_millis(20)).await;
            if n < self.fail_first {
                return Err(SchemaError::Other("flaky".into()));
            }
            Ok(Schema { subject: subject.into(), version, id: 1, ty: SchemaType::Avro, bytes: b"\"int\"".to_vec() })
        })
    }

    fn create_schema<'a>(
        &'a self,
        subject: &'a str,
        ty: SchemaType,
        bytes: &'a [u8],
    ) -> BoxFuture<'a, Result<Schema, SchemaError>> {
        Box::pin(async move {
            self.calls.fetch_add(1, Ordering::SeqCst);
            Ok(Schema { subject: subject.into(), version: 1, id: 1, ty, bytes: bytes.to_vec() })
        })
    }
}

#[tokio::test]
async fn the_cache_fetches_each_subject_and_version_once_and_coalesces_concurrent_requests() {
    let cached = Arc::new(CachedSchemaService::new(Counting::default()));
    let tasks: Vec<_> = (0..8)
        .map(|_| {
            let cached = cached.clone();
            tokio::spawn(async move { cached.get_schema("s", 1).await })
        })
        .collect();
    for task in tasks {
        assert_eq!(task.await.unwrap().unwrap().version, 1);
    }
    assert_eq!(cached.inner().calls.load(Ordering::SeqCst), 1, "concurrent first requests coalesce");
    cached.get_schema("s", 1).await.unwrap();
    assert_eq!(cached.inner().calls.load(Ordering::SeqCst), 1);
    cached.get_schema("s", 2).await.unwrap();
    cached.get_schema("t", 1).await.unwrap();
    assert_eq!(cached.inner().calls.load(Ordering::SeqCst), 3);

    cached.create_schema("s", SchemaType::Avro, b"\"int\"").await.unwrap();
    cached.create_schema("s", SchemaType::Avro, b"\"int\"").await.unwrap();
    assert_eq!(cached.inner().calls.load(Ordering::SeqCst), 4, "an identical create is asked once");
}

#[tokio::test]
async fn the_cache_does_not_keep_failures() {
    let cached = CachedSchemaService::new(Counting { fail_first: 1, ..Counting::default() });
    assert_eq!(cached.get_schema("s", 1).await.unwrap_err(), SchemaError::Other("flaky".into()));
    assert!(cached.get_schema("s", 1).await.is_ok());
    cached.get_schema("s", 1).await.unwrap();
    assert_eq!(cached.inner().calls.load(Ordering::SeqCst), 2);
}
