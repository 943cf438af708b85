//! An in-memory schema registry with the semantics of Conduit's schema service.

use std::collections::BTreeMap;
use std::sync::Mutex;
use std::sync::atomic::{AtomicI32, AtomicUsize, Ordering};

use super::service::{BoxFuture, Schema, SchemaError, SchemaService, SchemaType};

/// Conduit's schema service without Conduit: subjects with numbered versions,
/// kept in memory. Use it wherever a [`SchemaService`] is wanted in tests — a
/// [`DestinationRunner`](crate::destination::DestinationRunner) or the
/// acceptance harness fed with Avro-encoded records.
///
/// Versions of a subject count from 1; registering the same bytes under a
/// subject again returns the existing schema (no new version); ids are unique
/// across subjects. Unknown subjects and versions fail with Conduit's errors
/// ([`SchemaError::SubjectNotFound`], [`SchemaError::VersionNotFound`]).
///
/// ```
/// use conduit_connector::schema::{InMemorySchemaService, SchemaService, SchemaType};
///
/// # tokio::runtime::Builder::new_current_thread().build().unwrap().block_on(async {
/// let registry = InMemorySchemaService::new();
/// let created = registry.register("orders.payload", SchemaType::Avro, r#"{"type":"string"}"#);
/// assert_eq!(created.version, 1);
/// let fetched = registry.get_schema("orders.payload", 1).await.unwrap();
/// assert_eq!(fetched, created);
/// assert_eq!(registry.get_calls(), 1);
/// # });
/// ```
#[derive(Debug, Default)]
pub struct InMemorySchemaService {
    subjects: Mutex<BTreeMap<String, Vec<Schema>>>,
    last_id: AtomicI32,
    get_calls: AtomicUsize,
}

impl InMemorySchemaService {
    /// An empty registry.
    pub fn new() -> Self {
        Self::default()
    }

    /// Registers `bytes` (the schema text) under `subject` and returns the
    /// schema with its version and id — what `CreateSchema` does.
    pub fn register(&self, subject: &str, ty: SchemaType, bytes: impl Into<Vec<u8>>) -> Schema {
        let bytes = bytes.into();
        let mut subjects = self.subjects.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
        let versions = subjects.entry(subject.to_owned()).or_default();
        if let Some(existing) = versions.iter().find(|s| s.ty == ty && s.bytes == bytes) {
            return existing.clone();
        }
        let schema = Schema {
            subject: subject.to_owned(),
            version: i32::try_from(versions.len() + 1).unwrap_or(i32::MAX),
            id: self.last_id.fetch_add(1, Ordering::Relaxed) + 1,
            ty,
            bytes,
        };
        versions.push(schema.clone());
        schema
    }

    /// How many `GetSchema` calls were answered (found or not).
    pub fn get_calls(&self) -> usize {
        self.get_calls.load(Ordering::SeqCst)
    }

    fn lookup(&self, subject: &str, version: i32) -> Result<Schema, SchemaError> {
        let subjects = self.subjects.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
        let versions = subjects.get(subject).ok_or(SchemaError::SubjectNotFound)?;
        usize::try_from(version)
            .ok()
            .and_then(|v| v.checked_sub(1))
            .and_then(|i| versions.get(i))
            .cloned()
            .ok_or(SchemaError::VersionNotFound)
    }
}

impl SchemaService for InMemorySchemaService {
    fn get_schema<'a>(&'a self, subject: &'a str, version: i32) -> BoxFuture<'a, Result<Schema, SchemaError>> {
        self.get_calls.fetch_add(1, Ordering::SeqCst);
        let result = self.lookup(subject, version);
        Box::pin(async move { result })
    }

    fn create_schema<'a>(
        &'a self,
        subject: &'a str,
        ty: SchemaType,
        bytes: &'a [u8],
    ) -> BoxFuture<'a, Result<Schema, SchemaError>> {
        let schema = self.register(subject, ty, bytes);
        Box::pin(async move { Ok(schema) })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn block_on<T>(f: impl std::future::Future<Output = T>) -> T {
        tokio::runtime::Builder::new_current_thread().build().unwrap().block_on(f)
    }

    #[test]
    fn versions_count_from_one_per_subject_and_identical_bytes_are_not_a_new_version() {
        let registry = InMemorySchemaService::new();
        let a1 = registry.register("a", SchemaType::Avro, "1");
        let a2 = registry.register("a", SchemaType::Avro, "2");
        let b1 = block_on(registry.create_schema("b", SchemaType::Avro, b"1")).unwrap();
        assert_eq!((a1.version, a2.version, b1.version), (1, 2, 1));
        assert_eq!((a1.id, a2.id, b1.id), (1, 2, 3));
        assert_eq!(registry.register("a", SchemaType::Avro, "1"), a1);
        assert_eq!(block_on(registry.get_schema("a", 2)).unwrap(), a2);
    }

    #[test]
    fn unknown_subjects_and_versions_are_conduits_errors_and_every_get_is_counted() {
        let registry = InMemorySchemaService::new();
        registry.register("a", SchemaType::Avro, "1");
        assert!(matches!(block_on(registry.get_schema("b", 1)), Err(SchemaError::SubjectNotFound)));
        for version in [0, 2, -1, i32::MIN] {
            assert!(matches!(block_on(registry.get_schema("a", version)), Err(SchemaError::VersionNotFound)));
        }
        assert_eq!(registry.get_calls(), 5);
    }
}
