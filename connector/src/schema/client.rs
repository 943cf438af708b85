//! The gRPC client of Conduit's schema service (plugin mode).

use std::fmt;
use std::future::Future;
use std::time::Duration;

use tonic::metadata::{Ascii, MetadataValue};
use tonic::transport::{Channel, Endpoint};

use super::service::{BoxFuture, Schema, SchemaError, SchemaService, SchemaType};
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

/// The gRPC client of Conduit's schema service.
///
/// It connects lazily (on the first call), sends the connector token as
/// `conduit-connector-token` metadata on every call, gives up connecting
/// after [`CONNECT_TIMEOUT`] and on any call after [`CALL_TIMEOUT`], and
/// names the address in every transport error. It does not cache; plugin
/// mode wraps it in a [`CachedSchemaService`](super::CachedSchemaService).
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
    fn avro_is_the_protocols_type_avro() {
        assert_eq!(SchemaType::Avro.to_i32(), pbschema::schema::Type::Avro as i32);
        assert_eq!(SchemaType::from_i32(pbschema::schema::Type::Avro as i32), SchemaType::Avro);
    }

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
}
