//! OpenCDC JSON codec: goldens, escaping, number formatting, errors and round trips.

use conduit_connector::opencdc::{
    Data, Metadata, Operation, Position, Record, RecordError, StructuredData, write_json_f64, write_json_string,
};
use proptest::prelude::*;
use serde_json::{Value, json};

fn obj(v: Value) -> StructuredData {
    match v {
        Value::Object(m) => m,
        _ => panic!("not an object"),
    }
}

fn raw(s: &str) -> Option<Data> {
    Some(Data::Raw(s.as_bytes().to_vec()))
}

fn golden_bytes_record() -> Record {
    Record {
        position: Position::from("foo"),
        operation: Operation::Create,
        metadata: [(Metadata::CONDUIT_SOURCE_PLUGIN_NAME, "example")].into_iter().collect(),
        key: raw("bar"),
        payload: conduit_connector::opencdc::Change {
            before: None,
            after: Some(Data::Structured(obj(json!({"foo": "bar", "baz": "qux"})))),
        },
    }
}

const GOLDEN_BYTES: &str = r#"{"position":"Zm9v","operation":"create","metadata":{"conduit.source.plugin.name":"example"},"key":"YmFy","payload":{"before":null,"after":{"baz":"qux","foo":"bar"}}}"#;

const GOLDEN_JSON: &str = r#"{"position":"c3RhbmRpbmc=","operation":"update","metadata":{"foo":"bar"},"key":"cGFkbG9jay1rZXk=","payload":{"before":"eWVsbG93","after":{"bool":true,"float32":1.2,"float64":1.2,"int":1,"int32":1,"int64":1,"string":"orange"}}}"#;

const GOLDEN_SNAPSHOT: &str = r#"{"position":"cG9zLTE=","operation":"snapshot","metadata":null,"key":"a2V5LTE=","payload":{"before":null,"after":{"id":1}}}"#;

#[test]
fn golden_record_bytes_matches_go() {
    assert_eq!(golden_bytes_record().to_json_string(), GOLDEN_BYTES);
}

#[test]
fn golden_record_json_matches_go() {
    let record = Record {
        position: Position::from("standing"),
        operation: Operation::Update,
        metadata: [("foo", "bar")].into_iter().collect(),
        key: raw("padlock-key"),
        payload: conduit_connector::opencdc::Change {
            before: raw("yellow"),
            after: Some(Data::Structured(obj(json!({
                "bool": true, "int": 1, "int32": 1, "int64": 1,
                "float32": 1.2, "float64": 1.2, "string": "orange"
            })))),
        },
    };
    assert_eq!(String::from_utf8(record.to_json()).unwrap(), GOLDEN_JSON);
}

#[test]
fn golden_snapshot_sample_with_null_metadata() {
    let record = Record {
        position: Position::from("pos-1"),
        operation: Operation::Snapshot,
        key: raw("key-1"),
        payload: conduit_connector::opencdc::Change {
            before: None,
            after: Some(Data::Structured(obj(json!({"id": 1})))),
        },
        ..Record::default()
    };
    assert_eq!(record.to_json_string(), GOLDEN_SNAPSHOT);
}

#[test]
fn goldens_parse_back_and_reencode_identically() {
    for golden in [GOLDEN_BYTES, GOLDEN_JSON, GOLDEN_SNAPSHOT] {
        let record = Record::from_json(golden.as_bytes()).unwrap();
        assert_eq!(record.to_json_string(), golden);
    }
    let record = Record::from_json(GOLDEN_JSON.as_bytes()).unwrap();
    assert_eq!(record.operation, Operation::Update);
    assert_eq!(record.key, raw("padlock-key"));
    assert_eq!(record.payload.before, raw("yellow"));
    // Numbers come back as float64, as in Go.
    let after = record.payload.after.unwrap();
    assert!(after.as_structured().unwrap()["int"].is_f64());
}

#[test]
fn write_json_appends_and_reuses_the_buffer() {
    let record = golden_bytes_record();
    let mut buf = b"prefix:".to_vec();
    record.write_json(&mut buf);
    assert_eq!(&buf[..7], b"prefix:");
    assert_eq!(&buf[7..], GOLDEN_BYTES.as_bytes());
    buf.clear();
    let cap = buf.capacity();
    record.write_json(&mut buf);
    assert_eq!(buf.capacity(), cap);
    assert_eq!(buf, GOLDEN_BYTES.as_bytes());
}

#[test]
fn empty_values_are_written_as_go_writes_nil_and_empty() {
    let record = Record {
        key: Some(Data::Raw(Vec::new())),
        payload: conduit_connector::opencdc::Change {
            before: Some(Data::Structured(StructuredData::new())),
            after: None,
        },
        ..Record::default()
    };
    assert_eq!(
        record.to_json_string(),
        r#"{"position":null,"operation":"create","metadata":null,"key":"","payload":{"before":{},"after":null}}"#
    );
}

#[test]
fn null_empty_and_missing_fields_parse_to_defaults() {
    let empty = Record::default();
    for input in [
        r#"{}"#,
        r#"{"position":null,"metadata":null,"key":null,"payload":null}"#,
        r#"{"position":"","operation":"","metadata":{},"payload":{"before":null,"after":null}}"#,
        r#" { "unknown" : [1, {"a": null}], "payload": {"other": true} } "#,
    ] {
        assert_eq!(Record::from_json(input.as_bytes()).unwrap(), empty, "{input}");
    }
}

#[test]
fn field_names_match_case_insensitively_like_go() {
    let r = Record::from_json(br#"{"Position":"Zm9v","OPERATION":"delete","Payload":{"After":"YmFy"}}"#).unwrap();
    assert_eq!(r.position, Position::from("foo"));
    assert_eq!(r.operation, Operation::Delete);
    assert_eq!(r.payload.after, raw("bar"));
}

#[test]
fn operation_accepts_numeric_forms() {
    let r = Record::from_json(br#"{"operation":"Operation(4)"}"#).unwrap();
    assert_eq!(r.operation, Operation::Snapshot);
    let r = Record::from_json(br#"{"operation":"2"}"#).unwrap();
    assert_eq!(r.operation, Operation::Update);
}

fn escaped(s: &str) -> String {
    let mut out = Vec::new();
    write_json_string(s, &mut out);
    String::from_utf8(out).unwrap()
}

#[test]
fn strings_are_escaped_like_go_with_html_escaping() {
    let table: &[(&str, &str)] = &[
        ("plain", r#""plain""#),
        ("a\"b", r#""a\"b""#),
        ("a\\b", r#""a\\b""#),
        ("<a href=\"x\">&</a>", r#""\u003ca href=\"x\"\u003e\u0026\u003c/a\u003e""#),
        ("\n\r\t", r#""\n\r\t""#),
        ("\u{0}\u{1}\u{8}\u{c}\u{1f}", r#""\u0000\u0001\u0008\u000c\u001f""#),
        ("\u{7f}", "\"\u{7f}\""),
        ("line\u{2028}para\u{2029}end", r#""line\u2028para\u2029end""#),
        ("\u{2027}\u{202a}", "\"\u{2027}\u{202a}\""),
        ("héllo wörld ✓ 😀", "\"héllo wörld ✓ 😀\""),
        ("/", r#""/""#),
    ];
    for (input, want) in table {
        assert_eq!(&escaped(input), want, "input {input:?}");
        // And they parse back.
        let record = Record::from_json(format!(r#"{{"metadata":{{"k":{want}}}}}"#).as_bytes()).unwrap();
        assert_eq!(record.metadata.get("k"), Some(*input));
    }
}

#[test]
fn string_escapes_are_decoded_including_surrogates() {
    let r = Record::from_json(br#"{"metadata":{"a":"\ud83d\ude00","c":"\/\b\f","d":"\u00e9"}}"#).unwrap();
    assert_eq!(r.metadata.get("a"), Some("😀"));
    assert_eq!(r.metadata.get("c"), Some("/\u{8}\u{c}"));
    assert_eq!(r.metadata.get("d"), Some("é"));
}

/// A deliberate difference from Go (which substitutes U+FFFD): a lone surrogate escape is not
/// a Unicode scalar value, and serde_json rejects it with its position and field.
#[test]
fn lone_surrogate_escapes_are_errors_naming_position_and_field() {
    assert_eq!(
        err(r#"{"metadata":{"b":"\ud800x"}}"#),
        "invalid JSON at column 25: unexpected end of hex escape (in field metadata)"
    );
}

fn float(v: f64) -> String {
    let mut out = Vec::new();
    write_json_f64(v, &mut out);
    String::from_utf8(out).unwrap()
}

#[test]
fn floats_are_formatted_like_go_encoding_json() {
    let table: &[(f64, &str)] = &[
        (1.0, "1"),
        (1.2, "1.2"),
        (1e21, "1e+21"),
        (1e20, "100000000000000000000"),
        (1e-7, "1e-7"),
        (0.000001, "0.000001"),
        (-0.0, "-0"),
        (0.0, "0"),
        (123456789.125, "123456789.125"),
        (-1.5, "-1.5"),
        (0.1, "0.1"),
        (1e15, "1000000000000000"),
        (9007199254740993.0, "9007199254740992"),
        (1.2345678901234568e20, "123456789012345680000"),
        (-1e-7, "-1e-7"),
        (1.5e-10, "1.5e-10"),
        (1.5e300, "1.5e+300"),
        (f64::MAX, "1.7976931348623157e+308"),
        (5e-324, "5e-324"),
        (f64::from(1.2f32), "1.2000000476837158"),
        (f64::NAN, "null"),
        (f64::INFINITY, "null"),
    ];
    for (v, want) in table {
        assert_eq!(&float(*v), want, "value {v:e}");
    }
}

#[test]
fn structured_values_of_every_kind_are_written() {
    let record = Record {
        payload: conduit_connector::opencdc::Change {
            before: None,
            after: Some(Data::Structured(obj(json!({
                "z": null, "a": [1, -2, 3.5, "x", [], {}], "m": {"y": false, "b": {"c": u64::MAX}}
            })))),
        },
        ..Record::default()
    };
    let json = record.to_json_string();
    assert!(
        json.ends_with(
            r#""after":{"a":[1,-2,3.5,"x",[],{}],"m":{"b":{"c":18446744073709551615},"y":false},"z":null}}}"#
        ),
        "{json}"
    );
}

fn err(input: &str) -> String {
    Record::from_json(input.as_bytes()).unwrap_err().to_string()
}

#[test]
fn bad_base64_names_the_field() {
    assert_eq!(err(r#"{"key":"Zm9"}"#), "invalid field key: illegal base64 data at input byte 3");
    assert_eq!(err(r#"{"position":"**=="}"#), "invalid field position: illegal base64 data at input byte 0");
    assert_eq!(
        err(r#"{"payload":{"before":"Zm9v!"}}"#),
        "invalid field payload.before: illegal base64 data at input byte 4"
    );
    assert!(matches!(
        Record::from_json(br#"{"payload":{"after":"Zg="}}"#),
        Err(RecordError::InvalidBase64 { ref field, .. }) if field == "payload.after"
    ));
}

#[test]
fn bad_operation_is_reported_like_go() {
    assert_eq!(err(r#"{"operation":"upsert"}"#), r#"invalid field operation: operation "upsert": unknown operation"#);
    assert_eq!(
        err(r#"{"operation":"Operation(9)"}"#),
        r#"invalid field operation: operation "Operation(9)": unknown operation"#
    );
    assert_eq!(err(r#"{"operation":3}"#), "invalid field operation: expected a string, found number");
}

#[test]
fn wrong_json_types_name_the_field() {
    let table = [
        (r#"{"key":1}"#, "invalid field key: expected a base64 string, an object or null, found number"),
        (r#"{"key":[1]}"#, "invalid field key: expected a base64 string, an object or null, found array"),
        (
            r#"{"payload":{"before":true}}"#,
            "invalid field payload.before: expected a base64 string, an object or null, found bool",
        ),
        (
            r#"{"payload":{"after":false}}"#,
            "invalid field payload.after: expected a base64 string, an object or null, found bool",
        ),
        (r#"{"payload":"x"}"#, "invalid field payload: expected an object or null, found string"),
        (r#"{"position":{}}"#, "invalid field position: expected a base64 string or null, found object"),
        (r#"{"metadata":[]}"#, "invalid field metadata: expected an object of strings or null, found array"),
        (r#"{"metadata":{"n":1}}"#, r#"invalid field metadata["n"]: expected a string, found number"#),
        (r#"[]"#, "invalid field record: expected an object, found array"),
        (r#"null"#, "invalid field record: expected an object, found null"),
    ];
    for (input, want) in table {
        assert_eq!(err(input), want, "input {input}");
    }
}

#[test]
fn malformed_json_reports_its_position() {
    // serde_json's messages, with Go's "line L, column C" position and the field being read.
    let table = [
        ("", "invalid JSON at column 1: EOF while parsing a value"),
        ("{", "invalid JSON at column 1: EOF while parsing an object"),
        (r#"{"key":"YmFy""#, "invalid JSON at column 13: EOF while parsing an object"),
        (r#"{"key" "YmFy"}"#, "invalid JSON at column 8: expected `:` (in field key)"),
        (r#"{"key":"YmFy",}"#, "invalid JSON at column 15: trailing comma"),
        ("{}\n x", "invalid JSON at line 2, column 2: trailing characters"),
        (r#"{"a":tru}"#, "invalid JSON at column 9: expected ident"),
        (r#"{"a":01}"#, "invalid JSON at column 7: invalid number"),
        (r#"{"a":"\x"}"#, "invalid JSON at column 8: invalid escape"),
        (
            "{\"a\":\"\n\"}",
            "invalid JSON at line 2, column 1: control character (\\u0000-\\u001F) found while parsing a string",
        ),
        (r#"{"a":-}"#, "invalid JSON at column 7: invalid number"),
        (
            r#"{"payload":{"after":{"n":1e400}}}"#,
            "invalid JSON at column 30: number out of range (in field payload.after)",
        ),
    ];
    for (input, want) in table {
        assert_eq!(err(input), want, "input {input:?}");
    }
    let Err(RecordError::Syntax { position, .. }) = Record::from_json(b"{}\n x") else { panic!("not a syntax error") };
    assert_eq!((position.offset, position.line, position.column), (4, 2, 2));
}

#[test]
fn serde_writes_the_opencdc_form_and_reads_it_back() {
    let record = golden_bytes_record();
    let value = serde_json::to_value(&record).unwrap();
    assert_eq!(value, serde_json::from_slice::<Value>(&record.to_json()).unwrap());
    let empty = serde_json::to_string(&Record::default()).unwrap();
    assert_eq!(
        empty,
        r#"{"position":null,"operation":"create","metadata":null,"key":null,"payload":{"before":null,"after":null}}"#
    );
    assert_eq!(serde_json::from_str::<Record>(&empty).unwrap(), Record::default());
    assert_eq!(serde_json::from_value::<Operation>(json!("delete")).unwrap(), Operation::Delete);
    assert_eq!(serde_json::from_value::<Data>(json!("Zm9v")).unwrap(), Data::from("foo"));
    assert_eq!(serde_json::from_value::<Option<Data>>(json!(null)).unwrap(), None);
    assert_eq!(serde_json::from_value::<Position>(json!(null)).unwrap(), Position::default());
    let errors = [
        (json!({"key": 1}), "invalid field key: expected a base64 string, an object or null, found number"),
        (json!({"position": "**=="}), "invalid field position: illegal base64 data at input byte 0"),
        (json!([]), "invalid field record: expected an object, found array"),
    ];
    for (input, want) in errors {
        let e = serde_json::from_value::<Record>(input.clone()).unwrap_err().to_string();
        assert_eq!(e, want, "{input}");
    }
}

#[test]
fn syntax_errors_win_over_earlier_type_errors() {
    assert!(matches!(Record::from_json(br#"{"key":1,"x":}"#), Err(RecordError::Syntax { .. })));
}

#[test]
fn deep_nesting_is_an_error_not_a_stack_overflow() {
    let deep = format!(r#"{{"key":{}{}}}"#, "[".repeat(100_000), "]".repeat(100_000));
    assert!(matches!(Record::from_json(deep.as_bytes()), Err(RecordError::Syntax { .. })));
    let deep_obj = format!(r#"{{"key":{}1{}}}"#, r#"{"a":"#.repeat(100_000), "}".repeat(100_000));
    let e = Record::from_json(deep_obj.as_bytes()).unwrap_err().to_string();
    assert!(e.contains("exceeded max depth"), "{e}");
}

#[test]
fn invalid_utf8_in_strings_is_an_error_naming_position_and_field() {
    // A deliberate difference from Go (which substitutes U+FFFD): JSON text is UTF-8 (RFC 8259).
    assert_eq!(
        Record::from_json(b"{\"metadata\":{\"k\":\"a\xffb\"}}").unwrap_err().to_string(),
        "invalid JSON at column 20: invalid unicode code point (in field metadata)"
    );
}

// ---------------------------------------------------------------------------------------------
// Properties
// ---------------------------------------------------------------------------------------------

fn arb_value() -> impl Strategy<Value = Value> {
    let leaf = prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::Bool),
        any::<f64>()
            .prop_filter("finite", |f| f.is_finite())
            .prop_map(|f| Value::Number(serde_json::Number::from_f64(f).unwrap())),
        (-1e6f64..1e6).prop_map(|f| Value::Number(serde_json::Number::from_f64(f.trunc()).unwrap())),
        any::<String>().prop_map(Value::String),
    ];
    leaf.prop_recursive(4, 32, 6, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..6).prop_map(Value::Array),
            prop::collection::btree_map(any::<String>(), inner, 0..6)
                .prop_map(|m| Value::Object(m.into_iter().collect())),
        ]
    })
}

fn arb_data() -> impl Strategy<Value = Option<Data>> {
    prop_oneof![
        Just(None),
        prop::collection::vec(any::<u8>(), 0..64).prop_map(|b| Some(Data::Raw(b))),
        prop::collection::btree_map(any::<String>(), arb_value(), 0..6)
            .prop_map(|m| Some(Data::Structured(m.into_iter().collect()))),
    ]
}

fn arb_record() -> impl Strategy<Value = Record> {
    (
        prop::collection::vec(any::<u8>(), 0..48),
        prop::sample::select(Operation::ALL.to_vec()),
        prop::collection::btree_map(any::<String>(), any::<String>(), 0..6),
        arb_data(),
        arb_data(),
        arb_data(),
    )
        .prop_map(|(position, operation, metadata, key, before, after)| Record {
            position: Position(position),
            operation,
            metadata: Metadata(metadata),
            key,
            payload: conduit_connector::opencdc::Change { before, after },
        })
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    #[test]
    fn records_round_trip_losslessly(record in arb_record()) {
        let json = record.to_json();
        let back = Record::from_json(&json).unwrap();
        prop_assert_eq!(&back, &record);
        prop_assert_eq!(back.to_json(), json);
    }

    #[test]
    fn output_is_valid_json_for_serde(record in arb_record()) {
        let json = record.to_json();
        let parsed: Value = serde_json::from_slice(&json).unwrap();
        prop_assert!(parsed.is_object());
    }

    #[test]
    fn serde_serialize_and_deserialize_round_trip(record in arb_record()) {
        let via_serde = serde_json::to_vec(&record).unwrap();
        prop_assert_eq!(&Record::from_json(&via_serde).unwrap(), &record);
        let back: Record = serde_json::from_slice(&record.to_json()).unwrap();
        prop_assert_eq!(&back, &record);
    }

    #[test]
    fn from_json_never_panics_on_arbitrary_bytes(bytes in prop::collection::vec(any::<u8>(), 0..256)) {
        let _ = Record::from_json(&bytes);
    }

    #[test]
    fn from_json_never_panics_on_mutated_valid_json(
        record in arb_record(),
        edits in prop::collection::vec((any::<prop::sample::Index>(), any::<u8>(), 0u8..3), 1..6),
    ) {
        let mut json = record.to_json();
        for (index, byte, kind) in edits {
            if json.is_empty() {
                break;
            }
            let at = index.index(json.len());
            match kind {
                0 => json[at] = byte,
                1 => json.insert(at, byte),
                _ => json.truncate(at),
            }
        }
        let _ = Record::from_json(&json);
    }
}
