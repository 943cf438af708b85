//! Metadata accessors, operations and data helpers.

use std::time::{Duration, UNIX_EPOCH};

use conduit_connector::opencdc::{Data, Metadata, MetadataError, Operation, StructuredData};
use serde_json::json;

#[test]
fn well_known_keys_have_conduit_names() {
    assert_eq!(Metadata::VERSION, "opencdc.version");
    assert_eq!(Metadata::CREATED_AT, "opencdc.createdAt");
    assert_eq!(Metadata::READ_AT, "opencdc.readAt");
    assert_eq!(Metadata::COLLECTION, "opencdc.collection");
    assert_eq!(Metadata::KEY_SCHEMA_SUBJECT, "opencdc.key.schema.subject");
    assert_eq!(Metadata::PAYLOAD_SCHEMA_VERSION, "opencdc.payload.schema.version");
    assert_eq!(Metadata::FILE_CHUNK_COUNT, "opencdc.file.chunk.count");
    assert_eq!(Metadata::CONDUIT_SOURCE_PLUGIN_NAME, "conduit.source.plugin.name");
    assert_eq!(Metadata::CONDUIT_DESTINATION_PLUGIN_VERSION, "conduit.destination.plugin.version");
    assert_eq!(Metadata::CONDUIT_SOURCE_CONNECTOR_ID, "conduit.source.connector.id");
    assert_eq!(Metadata::CONDUIT_DLQ_NACK_ERROR, "conduit.dlq.nack.error");
    assert_eq!(Metadata::CONDUIT_DLQ_NACK_NODE_ID, "conduit.dlq.nack.node.id");
}

#[test]
fn missing_or_empty_values_are_not_found() {
    let mut m = Metadata::new();
    let want = r#"failed to get value for "opencdc.collection": metadata field not found"#;
    assert_eq!(m.collection().unwrap_err().to_string(), want);
    m.set(Metadata::COLLECTION, "");
    assert_eq!(m.collection().unwrap_err().to_string(), want);
    assert_eq!(m.created_at().unwrap_err(), MetadataError::NotFound { key: Metadata::CREATED_AT.to_owned() });
    assert_eq!(
        m.read_at().unwrap_err().to_string(),
        r#"failed to get value for "opencdc.readAt": metadata field not found"#
    );
    m.set_collection("users");
    assert_eq!(m.collection(), Ok("users"));
}

#[test]
fn timestamps_are_unix_nanoseconds() {
    let mut m = Metadata::new();
    let t = UNIX_EPOCH + Duration::new(1_700_000_000, 123_456_789);
    m.set_created_at(t);
    assert_eq!(m.get(Metadata::CREATED_AT), Some("1700000000123456789"));
    assert_eq!(m.created_at(), Ok(t));
    m.set_read_at_nanos(-1_500);
    assert_eq!(m.read_at(), Ok(UNIX_EPOCH - Duration::from_nanos(1_500)));
    m.set(Metadata::READ_AT, "soon");
    assert_eq!(
        m.read_at().unwrap_err().to_string(),
        r#"failed to parse value for "opencdc.readAt": strconv.ParseInt: parsing "soon": invalid syntax"#
    );
    m.set(Metadata::READ_AT, "99999999999999999999");
    assert!(m.read_at_nanos().unwrap_err().to_string().ends_with("value out of range"));
}

#[test]
fn schema_versions_are_integers() {
    let mut m = Metadata::new();
    m.set_key_schema_version(3);
    assert_eq!(m.key_schema_version(), Ok(3));
    m.set(Metadata::PAYLOAD_SCHEMA_VERSION, "x");
    assert_eq!(
        m.payload_schema_version().unwrap_err().to_string(),
        r#"invalid version "x": strconv.Atoi: parsing "x": invalid syntax"#
    );
}

#[test]
fn get_set_remove_and_iterate() {
    let mut m: Metadata = [("b", "2"), ("a", "1")].into_iter().collect();
    assert_eq!(m.set("c", "3"), None);
    assert_eq!(m.set("c", "4"), Some("3".to_owned()));
    assert_eq!(m.remove("b"), Some("2".to_owned()));
    assert!(m.contains_key("a") && !m.contains_key("b"));
    let keys: Vec<&str> = m.iter().map(|(k, _)| k.as_str()).collect();
    assert_eq!(keys, ["a", "c"]);
    m.set_version_v1();
    assert_eq!(m.version(), Ok("v1"));
    m.set_conduit_source_plugin_name("builtin:file");
    assert_eq!(m.conduit_source_plugin_name(), Ok("builtin:file"));
}

#[test]
fn operation_text_forms() {
    for (op, text, n) in [
        (Operation::Create, "create", 1),
        (Operation::Update, "update", 2),
        (Operation::Delete, "delete", 3),
        (Operation::Snapshot, "snapshot", 4),
    ] {
        assert_eq!(op.as_str(), text);
        assert_eq!(op.to_string(), text);
        assert_eq!(op.number(), n);
        assert_eq!(text.parse::<Operation>(), Ok(op));
        assert_eq!(format!("Operation({n})").parse::<Operation>(), Ok(op));
        assert_eq!(n.to_string().parse::<Operation>(), Ok(op));
    }
    for bad in ["", "Create", "Operation(0)", "5", "Operation(x)", "insert"] {
        assert_eq!(bad.parse::<Operation>().unwrap_err().to_string(), format!("operation {bad:?}: unknown operation"));
    }
}

#[test]
fn data_bytes_are_raw_or_json() {
    let raw = Data::from("hello");
    assert_eq!(&*raw.bytes(), b"hello");
    assert_eq!(raw.as_raw(), Some(&b"hello"[..]));
    assert!(raw.as_structured().is_none());
    let map: StructuredData = json!({"b": "<x>", "a": 1.5}).as_object().unwrap().clone();
    let structured = Data::from(map.clone());
    assert_eq!(&*structured.bytes(), br#"{"a":1.5,"b":"\u003cx\u003e"}"#);
    assert_eq!(structured.as_structured(), Some(&map));
    let mut out = b">".to_vec();
    structured.write_bytes(&mut out);
    assert_eq!(out, br#">{"a":1.5,"b":"\u003cx\u003e"}"#);
}
