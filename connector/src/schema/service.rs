//! Conduit's schema service: the [`SchemaService`] trait and the
//! [`CachedSchemaService`] that fetches each schema once per process (the
//! gRPC client plugin mode uses is in `client.rs`).

use std::collections::HashMap;
use std::fmt;
use std::future::Future;
use std::pin::Pin;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use tokio::sync::OnceCell;

/// A boxed future, the return type of [`SchemaService`]'s methods (so the
/// trait can be used as `dyn SchemaService`).
pub type BoxFuture<'a, T> = Pin<Box<dyn Future<Output = T> + Send + 'a>>;

/// `schema.v1.Schema.Type.TYPE_AVRO`.
const TYPE_AVRO: i32 = 1;

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
            SchemaType::Avro => TYPE_AVRO,
            SchemaType::Other(n) => n,
        }
    }

    /// From the protocol value.
    pub fn from_i32(n: i32) -> Self {
        if n == TYPE_AVRO { SchemaType::Avro } else { SchemaType::Other(n) }
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
    #[error("invalid CONDUIT_CONNECTOR_UTILITIES_GRPC_TARGET {target:?}: {reason}")]
    InvalidTarget {
        /// The value.
        target: String,
        /// What is wrong with it.
        reason: String,
    },
    /// The token cannot be sent as gRPC metadata (not printable ASCII).
    #[error("invalid CONDUIT_CONNECTOR_TOKEN: it is not printable ASCII, so it cannot be sent as gRPC metadata")]
    InvalidToken,
    /// Any other error, with the service's message.
    #[error("{0}")]
    Other(String),
}

/// Conduit's schema service (`connutils.v1.SchemaService`): what the SDK
/// needs from it. `SchemaClient` (feature `plugin`) is the gRPC implementation; tests can
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn schema_types_print_as_go() {
        assert_eq!(SchemaType::Avro.to_string(), "avro");
        assert_eq!(SchemaType::Other(0).to_string(), "Type(0)");
        assert_eq!(SchemaType::from_i32(1), SchemaType::Avro);
        assert_eq!(SchemaType::from_i32(7).to_i32(), 7);
    }
}
