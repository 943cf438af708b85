//! The debezium/json record format.

use conduit_connector::opencdc::{
    Change, DEFAULT_RAW_DATA_KEY, Data, Metadata, Operation, Position, Record, to_debezium_json,
};
use serde_json::{Value, json};

const TRANSACTION_SCHEMA: &str = r#"{"type":"string","field":"op"},{"type":"int64","optional":true,"field":"ts_ms"},{"type":"struct","optional":true,"fields":[{"type":"string","field":"id"},{"type":"int64","field":"total_order"},{"type":"int64","field":"data_collection_order"}],"field":"transaction"}"#;

fn debezium(record: &Record, name: Option<&str>) -> String {
    let mut out = Vec::new();
    to_debezium_json(record, name, DEFAULT_RAW_DATA_KEY, &mut out);
    String::from_utf8(out).unwrap()
}

fn structured(v: Value) -> Option<Data> {
    Some(Data::Structured(v.as_object().unwrap().clone()))
}

#[test]
fn structured_update_matches_the_go_converter() {
    let record = Record {
        position: Position::from("foo"),
        operation: Operation::Update,
        metadata: [(Metadata::CONDUIT_SOURCE_PLUGIN_NAME, "example")].into_iter().collect(),
        key: Some(Data::from("bar")),
        payload: Change {
            before: structured(json!({"bar": 123})),
            after: structured(json!({"foo": "bar", "baz": "qux"})),
        },
    };
    let want = format!(
        concat!(
            r#"{{"schema":{{"type":"struct","name":"custom.name","fields":["#,
            r#"{{"type":"struct","optional":true,"fields":[{{"type":"int64","field":"bar"}}],"field":"before"}},"#,
            r#"{{"type":"struct","optional":true,"fields":[{{"type":"string","field":"baz"}},{{"type":"string","field":"foo"}}],"field":"after"}},"#,
            r#"{{"type":"struct","optional":true,"fields":[{{"type":"string","field":"conduit.source.plugin.name"}}],"field":"source"}},"#,
            "{}]}},",
            r#""payload":{{"before":{{"bar":123}},"after":{{"baz":"qux","foo":"bar"}},"source":{{"conduit.source.plugin.name":"example"}},"op":"u","transaction":null}}}}"#
        ),
        TRANSACTION_SCHEMA
    );
    assert_eq!(debezium(&record, Some("custom.name")), want);
}

#[test]
fn raw_data_that_is_not_json_is_hoisted_into_the_raw_data_key() {
    let mut record = Record {
        operation: Operation::Create,
        metadata: [(Metadata::CONDUIT_SOURCE_PLUGIN_NAME, "example")].into_iter().collect(),
        payload: Change { before: Some(Data::from("foo")), after: None },
        ..Record::default()
    };
    record.metadata.set_read_at_nanos(1_700_000_000_123_456_789);
    let out = debezium(&record, None);
    let raw_schema =
        r#"{"type":"struct","optional":true,"fields":[{"type":"bytes","optional":true,"field":"opencdc.rawData"}]"#;
    assert!(
        out.starts_with(&format!(
            r#"{{"schema":{{"type":"struct","fields":[{raw_schema},"field":"before"}},{raw_schema},"field":"after"}},"#
        )),
        "{out}"
    );
    assert!(
        out.ends_with(r#""payload":{"before":{"opencdc.rawData":"Zm9v"},"after":null,"source":{"conduit.source.plugin.name":"example","opencdc.readAt":"1700000000123456789"},"op":"c","ts_ms":1700000000123,"transaction":null}}"#),
        "{out}"
    );
}

#[test]
fn raw_json_objects_are_parsed_and_described() {
    let record = Record {
        operation: Operation::Snapshot,
        payload: Change {
            before: None,
            after: Some(Data::from(r#"{"id":1,"tags":["a"],"nested":{"ok":true,"none":null},"list":[]}"#)),
        },
        ..Record::default()
    };
    let out = debezium(&record, Some(""));
    let v: Value = serde_json::from_str(&out).unwrap();
    assert!(v["schema"].get("name").is_none());
    let after = &v["schema"]["fields"][1];
    assert_eq!(
        after,
        &json!({"type":"struct","optional":true,"field":"after","fields":[
            {"type":"double","field":"id"},
            {"type":"array","optional":true,"items":{"type":"string","optional":true},"field":"list"},
            {"type":"struct","optional":true,"fields":[
                {"type":"string","optional":true,"field":"none"},
                {"type":"boolean","field":"ok"}],"field":"nested"},
            {"type":"array","optional":true,"items":{"type":"string"},"field":"tags"}]})
    );
    assert_eq!(v["schema"]["fields"][0]["field"], "before");
    assert_eq!(v["schema"]["fields"][0]["fields"], after["fields"]);
    assert_eq!(v["payload"]["after"], json!({"id":1,"list":[],"nested":{"none":null,"ok":true},"tags":["a"]}));
    assert_eq!(v["payload"]["op"], "r");
    assert_eq!(v["payload"]["source"], Value::Null);
    assert!(v["payload"].get("ts_ms").is_none());
}

#[test]
fn missing_and_empty_data_are_null_with_an_empty_struct_schema() {
    let record = Record {
        operation: Operation::Delete,
        payload: Change { before: Some(Data::Raw(Vec::new())), after: None },
        ..Record::default()
    };
    let out = debezium(&record, None);
    assert!(out.starts_with(
        r#"{"schema":{"type":"struct","fields":[{"type":"struct","optional":true,"field":"before"},{"type":"struct","optional":true,"field":"after"},{"type":"struct","optional":true,"field":"source"},"#
    ), "{out}");
    assert!(
        out.ends_with(r#""payload":{"before":null,"after":null,"source":null,"op":"d","transaction":null}}"#),
        "{out}"
    );
}

#[test]
fn custom_raw_data_key_is_used() {
    let record = Record { payload: Change { before: None, after: Some(Data::from("[1]")) }, ..Record::default() };
    let mut out = Vec::new();
    to_debezium_json(&record, None, "raw<>", &mut out);
    let out = String::from_utf8(out).unwrap();
    assert!(out.contains(r#""after":{"raw\u003c\u003e":"WzFd"}"#), "{out}");
    assert!(out.contains(r#"{"type":"bytes","optional":true,"field":"raw\u003c\u003e"}"#), "{out}");
}

/// Go's `kafkaconnect.Schema` has `omitempty` on `Optional`, so a required member is written
/// without an `"optional"` key: `"optional":false` never appears, at any depth.
#[test]
fn required_schemas_omit_optional_false_like_go() {
    let record = Record {
        operation: Operation::Create,
        metadata: [("a", "1")].into_iter().collect(),
        payload: Change {
            before: None,
            after: structured(json!({"n": 1, "f": 1.5, "s": "x", "b": true, "l": ["a"], "o": {"i": 2}})),
        },
        ..Record::default()
    };
    let out = debezium(&record, Some("name"));
    assert!(!out.contains("\"optional\":false"), "{out}");
    let v: Value = serde_json::from_str(&out).unwrap();
    assert_eq!(
        v["schema"]["fields"][1],
        json!({"type":"struct","optional":true,"field":"after","fields":[
            {"type":"boolean","field":"b"},
            {"type":"double","field":"f"},
            {"type":"array","optional":true,"items":{"type":"string"},"field":"l"},
            {"type":"int64","field":"n"},
            {"type":"struct","optional":true,"fields":[{"type":"int64","field":"i"}],"field":"o"},
            {"type":"string","field":"s"}]})
    );
    assert_eq!(
        v["schema"]["fields"][2],
        json!({"type":"struct","optional":true,"fields":[{"type":"string","field":"a"}],"field":"source"})
    );
    assert!(out.starts_with(r#"{"schema":{"type":"struct","name":"name","fields":["#), "{out}");
}
