//! Conduit's schema service: the [`SchemaService`] trait, the gRPC
//! [`SchemaClient`] that plugin mode uses, and the [`CachedSchemaService`]
//! that fetches each schema once per process.

use std::collections::HashMap;
use std::fmt;
use std::future::Future;
use std::pin::Pin;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use tokio::sync::OnceCell;
use tonic::metadata::{Ascii, MetadataValue};
use tonic::transport::{Channel, Endpoint};

use crate::plugin::proto::connutils::v1 as pb;
use crate::plugin::proto::connutils::v1::schema_service_client::SchemaServiceClient;
use crate::plugin::proto::schema::v1 as pbschema;

/// The environment variable with the address of Conduit's connector
/// utilities (Conduit writes it as `[::]:PORT`).
pub const ENV_UTILITIES_TARGET: &str = "CONDUIT_CONNECTOR_UTILITIES_GRPC_TARGET";
/// The environment variable with the connector's token.
pub const ENV_CONNECTOR_TOKEN: &str = "CONDUIT_CONNECTOR_TOKEN";
/// The gRPC metadata key that carries the token on every call.
pub const TOKEN_METADATA_KEY: &str = "conduit-connector-token";
/// How long [`SchemaClient`] waits for a connection to the service.
pub const CONNECT_TIMEOUT: Duration = Duration::from_secs(5);
/// How long [`SchemaClient`] waits for one call (connecting included).
pub const CALL_TIMEOUT: Duration = Duration::from_secs(10);

/// A boxed future, the return type of [`SchemaService`]'s methods (so the
/// trait can be used as `dyn SchemaService`).
pub type BoxFuture<'a, T> = Pin<Box<dyn Future<Output = T> + Send + 'a>>;

/// The language of a schema (`schema.v1.Schema.Type`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum SchemaType {
    /// Avro, the only type Conduit registers.
    Avro,
    /// Any other protocol value (unsupported for decoding).
    Other(i32),
}

impl SchemaType {
    /// The protocol value (`TYPE_AVRO` = 1).
    pub fn to_i32(self) -> i32 {
        match self {
            SchemaType::Avro => pbschema::schema::Type::Avro as i32,
            SchemaType::Other(n) => n,
        }
    }

    /// From the protocol value.
    pub fn from_i32(n: i32) -> Self {
        if n == pbschema::schema::Type::Avro as i32 { SchemaType::Avro } else { SchemaType::Other(n) }
    }
}

/// As Go's `schema.Type.String()`: `avro`, or `Type(n)`.
impl fmt::Display for SchemaType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            SchemaType::Avro => f.write_str("avro"),
            SchemaType::Other(n) => write!(f, "Type({n})"),
        }
    }
}

/// One version of a schema, as the schema service returns it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Schema {
    /// The subject (with the version, it identifies the schema).
    pub subject: String,
    /// The version under the subject.
    pub version: i32,
    /// The id of the schema's contents.
    pub id: i32,
    /// The schema language.
    pub ty: SchemaType,
    /// The schema text (for Avro, its JSON).
    pub bytes: Vec<u8>,
}

impl From<pbschema::Schema> for Schema {
    fn from(s: pbschema::Schema) -> Self {
        Schema { subject: s.subject, version: s.version, id: s.id, ty: SchemaType::from_i32(s.r#type), bytes: s.bytes }
    }
}

impl From<Schema> for pbschema::Schema {
    fn from(s: Schema) -> Self {
        pbschema::Schema { subject: s.subject, version: s.version, id: s.id, r#type: s.ty.to_i32(), bytes: s.bytes }
    }
}

/// What went wrong asking the schema service. The first three are Conduit's
/// sentinel errors, with their exact texts.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum SchemaError {
    /// No schema is registered under the subject.
    #[error("schema subject not found")]
    SubjectNotFound,
    /// The subject exists, the version does not.
    #[error("schema version not found")]
    VersionNotFound,
    /// The schema bytes are not a valid schema of the type.
    #[error("invalid schema")]
    InvalidSchema,
    /// The service does not implement the call.
    #[error("{0}: method not implemented")]
    Unimplemented(String),
    /// No schema service here: the `run` command, or a plugin started without
    /// `CONDUIT_CONNECTOR_UTILITIES_GRPC_TARGET`.
    #[error(
        "decoding needs Conduit's schema service, which is not available (it exists only in a plugin started by \
         Conduit v0.11+, which sets CONDUIT_CONNECTOR_UTILITIES_GRPC_TARGET); to pass such records on undecoded, set \
         \"sdk.schema.extract.key.enabled\" and \"sdk.schema.extract.payload.enabled\" to false"
    )]
    NoService,
    /// The service could not be reached.
    #[error("could not reach Conduit's schema service at {target}: {reason}")]
    Unavailable {
        /// The address, as given.
        target: String,
        /// Why.
        reason: String,
    },
    /// The service did not answer in time.
    #[error("Conduit's schema service at {target} did not answer within {}s", timeout.as_secs_f64())]
    Timeout {
        /// The address, as given.
        target: String,
        /// The limit.
        timeout: Duration,
    },
    /// The address is not `host:port`.
    #[error("invalid {ENV_UTILITIES_TARGET} {target:?}: {reason}")]
    InvalidTarget {
        /// The value.
        target: String,
        /// What is wrong with it.
        reason: String,
    },
    /// The token cannot be sent as gRPC metadata (not printable ASCII).
    #[error("invalid {ENV_CONNECTOR_TOKEN}: it is not printable ASCII, so it cannot be sent as gRPC metadata")]
    InvalidToken,
    /// Any other error, with the service's message.
    #[error("{0}")]
    Other(String),
}

/// Conduit's schema service (`connutils.v1.SchemaService`): what the SDK
/// needs from it. [`SchemaClient`] is the gRPC implementation; tests can
/// give the [`DestinationRunner`](crate::destination::DestinationRunner) an
/// in-process one.
///
/// ```
/// use conduit_connector::schema::{BoxFuture, Schema, SchemaError, SchemaService, SchemaType};
///
/// #[derive(Debug)]
/// struct OneSchema(Schema);
///
/// impl SchemaService for OneSchema {
///     fn get_schema<'a>(&'a self, subject: &'a str, version: i32) -> BoxFuture<'a, Result<Schema, SchemaError>> {
///         Box::pin(async move {
///             if subject != self.0.subject {
///                 return Err(SchemaError::SubjectNotFound);
///             }
///             if version != self.0.version {
///                 return Err(SchemaError::VersionNotFound);
///             }
///             Ok(self.0.clone())
///         })
///     }
///     fn create_schema<'a>(
///         &'a self,
///         _subject: &'a str,
///         _ty: SchemaType,
///         _bytes: &'a [u8],
///     ) -> BoxFuture<'a, Result<Schema, SchemaError>> {
///         Box::pin(async { Err(SchemaError::Unimplemented("CreateSchema".into())) })
///     }
/// }
/// ```
pub trait SchemaService: Send + Sync + fmt::Debug + 'static {
    /// `GetSchema`: the schema registered under `subject` at `version`.
    fn get_schema<'a>(&'a self, subject: &'a str, version: i32) -> BoxFuture<'a, Result<Schema, SchemaError>>;

    /// `CreateSchema`: registers `bytes` under `subject` and returns the
    /// schema with its version and id.
    fn create_schema<'a>(
        &'a self,
        subject: &'a str,
        ty: SchemaType,
        bytes: &'a [u8],
    ) -> BoxFuture<'a, Result<Schema, SchemaError>>;
}

impl<S: SchemaService + ?Sized> SchemaService for Arc<S> {
    fn get_schema<'a>(&'a self, subject: &'a str, version: i32) -> BoxFuture<'a, Result<Schema, SchemaError>> {
        (**self).get_schema(subject, version)
    }

    fn create_schema<'a>(
        &'a self,
        subject: &'a str,
        ty: SchemaType,
        bytes: &'a [u8],
    ) -> BoxFuture<'a, Result<Schema, SchemaError>> {
        (**self).create_schema(subject, ty, bytes)
    }
}

type Slot = Arc<OnceCell<Schema>>;
/// A created schema's identity: subject, type and text.
type CreateKey = (String, SchemaType, Vec<u8>);

/// A [`SchemaService`] that asks the inner one once per subject and version
/// (and once per created schema), for as long as it lives — the SDK keeps one
/// per process. Concurrent first requests for the same schema are coalesced
/// into one call; a failed call is not cached (the next request asks again).
///
/// Go's SDK caches the same way but drops entries after 15 minutes; a
/// subject's version never changes in Conduit's registry, so this cache does
/// not expire.
pub struct CachedSchemaService<S> {
    inner: S,
    get: Mutex<HashMap<(String, i32), Slot>>,
    create: Mutex<HashMap<CreateKey, Slot>>,
}

impl<S: fmt::Debug> fmt::Debug for CachedSchemaService<S> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let cached = self.get.lock().map(|m| m.len()).unwrap_or(0);
        f.debug_struct("CachedSchemaService").field("inner", &self.inner).field("cached", &cached).finish()
    }
}

impl<S: SchemaService> CachedSchemaService<S> {
    /// Caches `inner`'s answers.
    pub fn new(inner: S) -> Self {
        CachedSchemaService { inner, get: Mutex::new(HashMap::new()), create: Mutex::new(HashMap::new()) }
    }

    /// The service behind the cache.
    pub fn inner(&self) -> &S {
        &self.inner
    }
}

fn slot<K: std::hash::Hash + Eq>(map: &Mutex<HashMap<K, Slot>>, key: K) -> Slot {
    // A poisoned lock only means another thread panicked while inserting; the
    // map itself is still valid.
    let mut map = map.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
    map.entry(key).or_default().clone()
}

impl<S: SchemaService> SchemaService for CachedSchemaService<S> {
    fn get_schema<'a>(&'a self, subject: &'a str, version: i32) -> BoxFuture<'a, Result<Schema, SchemaError>> {
        Box::pin(async move {
            let slot = slot(&self.get, (subject.to_owned(), version));
            slot.get_or_try_init(|| self.inner.get_schema(subject, version)).await.cloned()
        })
    }

    fn create_schema<'a>(
        &'a self,
        subject: &'a str,
        ty: SchemaType,
        bytes: &'a [u8],
    ) -> BoxFuture<'a, Result<Schema, SchemaError>> {
        Box::pin(async move {
            let slot = slot(&self.create, (subject.to_owned(), ty, bytes.to_vec()));
            slot.get_or_try_init(|| self.inner.create_schema(subject, ty, bytes)).await.cloned()
        })
    }
}

/// The gRPC client of Conduit's schema service.
///
/// It connects lazily (on the first call), sends the connector token as
/// `conduit-connector-token` metadata on every call, gives up connecting
/// after [`CONNECT_TIMEOUT`] and on any call after [`CALL_TIMEOUT`], and
/// names the address in every transport error. It does not cache; plugin
/// mode wraps it in a [`CachedSchemaService`].
#[derive(Clone)]
pub struct SchemaClient {
    target: String,
    token: Option<MetadataValue<Ascii>>,
    client: SchemaServiceClient<Channel>,
    call_timeout: Duration,
}

impl fmt::Debug for SchemaClient {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SchemaClient")
            .field("target", &self.target)
            .field("call_timeout", &self.call_timeout)
            .finish_non_exhaustive()
    }
}

/// The URI to connect to for a target: `host:port` or `[v6]:port`, with an
/// unspecified host (`[::]`, `0.0.0.0`, none) replaced by `127.0.0.1` —
/// Conduit listens on all interfaces and writes its address as `[::]:PORT`.
pub fn target_uri(target: &str) -> Result<String, SchemaError> {
    let invalid = |reason: &str| SchemaError::InvalidTarget { target: target.to_owned(), reason: reason.to_owned() };
    let trimmed = target.trim();
    let trimmed =
        trimmed.strip_prefix("dns:///").or_else(|| trimmed.strip_prefix("passthrough:///")).unwrap_or(trimmed);
    if trimmed.is_empty() {
        return Err(invalid("empty"));
    }
    let (host, port) = trimmed.rsplit_once(':').ok_or_else(|| invalid("expected host:port"))?;
    let port: u16 = port.parse().map_err(|_| invalid("the port is not a number from 0 to 65535"))?;
    let host = match host.strip_prefix('[') {
        Some(inner) => {
            let inner = inner.strip_suffix(']').ok_or_else(|| invalid("unclosed '[' in the host"))?;
            let ip: std::net::Ipv6Addr =
                inner.parse().map_err(|_| invalid("the bracketed host is not an IPv6 address"))?;
            if ip.is_unspecified() { "127.0.0.1".to_owned() } else { format!("[{ip}]") }
        }
        None if host.is_empty() || host == "0.0.0.0" => "127.0.0.1".to_owned(),
        None if host.contains(':') => return Err(invalid("an IPv6 host must be in brackets, as [::1]:8185")),
        None if host.contains(['/', '@', ' ', '?', '#']) => return Err(invalid("not a host name or address")),
        None => host.to_owned(),
    };
    Ok(format!("http://{host}:{port}"))
}

/// The text of a gRPC failure: its message and the chain of causes.
fn status_text(status: &tonic::Status) -> String {
    let mut text = status.message().to_owned();
    let mut source = std::error::Error::source(status);
    while let Some(e) = source {
        let s = e.to_string();
        if !text.contains(&s) {
            if !text.is_empty() {
                text.push_str(": ");
            }
            text.push_str(&s);
        }
        source = e.source();
    }
    if text.is_empty() { format!("{:?}", status.code()) } else { text }
}

impl SchemaClient {
    /// A client for the service at `target` (`host:port`, `[::]:PORT`, …)
    /// sending `token` (none when empty). Does not connect yet; must be
    /// called inside a tokio runtime.
    pub fn new(target: &str, token: &str) -> Result<Self, SchemaError> {
        let uri = target_uri(target)?;
        let endpoint = Endpoint::from_shared(uri)
            .map_err(|e| SchemaError::InvalidTarget { target: target.to_owned(), reason: e.to_string() })?;
        let channel = endpoint.connect_timeout(CONNECT_TIMEOUT).tcp_nodelay(true).connect_lazy();
        let token = if token.is_empty() {
            None
        } else {
            Some(MetadataValue::try_from(token).map_err(|_| SchemaError::InvalidToken)?)
        };
        Ok(SchemaClient {
            target: target.to_owned(),
            token,
            client: SchemaServiceClient::new(channel),
            call_timeout: CALL_TIMEOUT,
        })
    }

    /// From Conduit's environment (`CONDUIT_CONNECTOR_UTILITIES_GRPC_TARGET`,
    /// `CONDUIT_CONNECTOR_TOKEN`): `Ok(None)` when the target is not set.
    pub fn from_env(env: impl Fn(&str) -> Option<String>) -> Result<Option<Self>, SchemaError> {
        match env(ENV_UTILITIES_TARGET).filter(|t| !t.trim().is_empty()) {
            None => Ok(None),
            Some(target) => Self::new(&target, &env(ENV_CONNECTOR_TOKEN).unwrap_or_default()).map(Some),
        }
    }

    /// Replaces [`CALL_TIMEOUT`].
    pub fn with_call_timeout(mut self, timeout: Duration) -> Self {
        self.call_timeout = timeout;
        self
    }

    /// The address, as given.
    pub fn target(&self) -> &str {
        &self.target
    }

    fn request<T>(&self, message: T) -> tonic::Request<T> {
        let mut request = tonic::Request::new(message);
        if let Some(token) = &self.token {
            request.metadata_mut().insert(TOKEN_METADATA_KEY, token.clone());
        }
        request
    }

    /// Maps a failed call as Go's client does (Unimplemented, the sentinel
    /// texts), naming the address for transport failures.
    fn error(&self, status: tonic::Status) -> SchemaError {
        use tonic::Code;
        match status.code() {
            Code::Unimplemented => SchemaError::Unimplemented(status.message().to_owned()),
            Code::Unavailable => SchemaError::Unavailable { target: self.target.clone(), reason: status_text(&status) },
            Code::DeadlineExceeded | Code::Cancelled if status.message().contains("imeout") => {
                SchemaError::Timeout { target: self.target.clone(), timeout: self.call_timeout }
            }
            _ => match status.message() {
                "schema subject not found" => SchemaError::SubjectNotFound,
                "schema version not found" => SchemaError::VersionNotFound,
                "invalid schema" => SchemaError::InvalidSchema,
                _ => SchemaError::Other(status_text(&status)),
            },
        }
    }

    async fn call<T>(
        &self,
        fut: impl Future<Output = Result<tonic::Response<T>, tonic::Status>>,
    ) -> Result<T, SchemaError> {
        match tokio::time::timeout(self.call_timeout, fut).await {
            Ok(Ok(response)) => Ok(response.into_inner()),
            Ok(Err(status)) => Err(self.error(status)),
            Err(_) => Err(SchemaError::Timeout { target: self.target.clone(), timeout: self.call_timeout }),
        }
    }
}

fn schema_of(schema: Option<pbschema::Schema>) -> Schema {
    // Go's FromProto turns a missing schema into the zero schema.
    schema.map(Schema::from).unwrap_or(Schema {
        subject: String::new(),
        version: 0,
        id: 0,
        ty: SchemaType::Other(0),
        bytes: Vec::new(),
    })
}

impl SchemaService for SchemaClient {
    fn get_schema<'a>(&'a self, subject: &'a str, version: i32) -> BoxFuture<'a, Result<Schema, SchemaError>> {
        Box::pin(async move {
            let mut client = self.client.clone();
            let request = self.request(pb::GetSchemaRequest { subject: subject.to_owned(), version });
            let response = self.call(client.get_schema(request)).await?;
            Ok(schema_of(response.schema))
        })
    }

    fn create_schema<'a>(
        &'a self,
        subject: &'a str,
        ty: SchemaType,
        bytes: &'a [u8],
    ) -> BoxFuture<'a, Result<Schema, SchemaError>> {
        Box::pin(async move {
            let mut client = self.client.clone();
            let request = self.request(pb::CreateSchemaRequest {
                subject: subject.to_owned(),
                r#type: ty.to_i32(),
                bytes: bytes.to_vec(),
            });
            let response = self.call(client.create_schema(request)).await?;
            Ok(schema_of(response.schema))
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn conduits_unspecified_addresses_connect_to_loopback() {
        assert_eq!(target_uri("[::]:8185").unwrap(), "http://127.0.0.1:8185");
        assert_eq!(target_uri("0.0.0.0:8185").unwrap(), "http://127.0.0.1:8185");
        assert_eq!(target_uri(":8185").unwrap(), "http://127.0.0.1:8185");
        assert_eq!(target_uri("dns:///[::]:8185").unwrap(), "http://127.0.0.1:8185");
    }

    #[test]
    fn ordinary_targets_are_kept() {
        assert_eq!(target_uri("127.0.0.1:1").unwrap(), "http://127.0.0.1:1");
        assert_eq!(target_uri("localhost:8185").unwrap(), "http://localhost:8185");
        assert_eq!(target_uri("[::1]:8185").unwrap(), "http://[::1]:8185");
        assert_eq!(target_uri(" conduit.internal:80 ").unwrap(), "http://conduit.internal:80");
    }

    #[test]
    fn malformed_targets_are_named_in_the_error() {
        for bad in ["", "localhost", "host:port", "[::1:80", "::1:80", "[zz]:80", "a/b:80", "h:70000"] {
            let err = target_uri(bad).unwrap_err();
            assert!(matches!(err, SchemaError::InvalidTarget { .. }), "{bad}: {err}");
            assert!(err.to_string().starts_with("invalid CONDUIT_CONNECTOR_UTILITIES_GRPC_TARGET"), "{err}");
        }
    }

    #[test]
    fn schema_types_print_as_go() {
        assert_eq!(SchemaType::Avro.to_string(), "avro");
        assert_eq!(SchemaType::Other(0).to_string(), "Type(0)");
        assert_eq!(SchemaType::from_i32(1), SchemaType::Avro);
        assert_eq!(SchemaType::from_i32(7).to_i32(), 7);
    }
}
