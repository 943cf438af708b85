//! Decoding tests: values encoded with apache-avro from schemas like those Go's extractor
//! registers (fields sorted by name, `["null", T]` unions, nested records, arrays, maps, bytes),
//! compared with the bytes Go's `encoding/json` prints for the values hamba/avro decodes.

use std::collections::HashMap;

use apache_avro::types::Value as A;
use apache_avro::writer::datum::GenericDatumWriter;
use apache_avro::{Days, Decimal, Duration, Millis, Months, Schema};

use super::{AvroError, AvroSchema, decode};
use crate::opencdc::write_json_value;

fn encode(schema: &str, value: A) -> Vec<u8> {
    let schema = Schema::parse_str(schema).expect("test schema");
    GenericDatumWriter::builder(&schema)
        .build()
        .expect("writer")
        .write_value_to_vec(value)
        .expect("test value fits the schema")
}

fn json(schema: &str, bytes: &[u8]) -> String {
    let parsed = AvroSchema::parse(schema.as_bytes()).expect("schema parses");
    let data = decode(&parsed, bytes).expect("datum decodes");
    let mut out = Vec::new();
    write_json_value(&serde_json::Value::Object(data), &mut out);
    String::from_utf8(out).expect("JSON is UTF-8")
}

fn roundtrip(schema: &str, value: A) -> String {
    json(schema, &encode(schema, value))
}

fn record(fields: &[(&str, A)]) -> A {
    A::Record(fields.iter().map(|(k, v)| ((*k).to_owned(), v.clone())).collect())
}

fn union(index: u32, value: A) -> A {
    A::Union(index, Box::new(value))
}

fn err(schema: &str, bytes: &[u8]) -> AvroError {
    let parsed = AvroSchema::parse(schema.as_bytes()).expect("schema parses");
    decode(&parsed, bytes).expect_err("datum must not decode")
}

/// One field of type `ty` in a record named `record`.
fn one_field(ty: &str) -> String {
    format!(r#"{{"type":"record","name":"record","fields":[{{"name":"f","type":{ty}}}]}}"#)
}

const PRIMITIVES: &str = r#"{"type":"record","name":"record","fields":[
    {"name":"active","type":"boolean"},
    {"name":"blob","type":"bytes"},
    {"name":"count","type":"int"},
    {"name":"id","type":"long"},
    {"name":"name","type":"string"},
    {"name":"note","type":["null","string"]},
    {"name":"price","type":"double"},
    {"name":"ratio","type":"float"}]}"#;

#[test]
fn primitives_print_as_go_prints_them() {
    let value = record(&[
        ("active", A::Boolean(true)),
        ("blob", A::Bytes(vec![0, 1, 2, 0xff])),
        ("count", A::Int(-7)),
        ("id", A::Long(9_007_199_254_740_993)),
        ("name", A::String("<Zoë & \"co\">".into())),
        ("note", union(0, A::Null)),
        ("price", A::Double(12.5)),
        ("ratio", A::Float(1.1)),
    ]);
    assert_eq!(
        roundtrip(PRIMITIVES, value),
        r#"{"active":true,"blob":"AAEC/w==","count":-7,"id":9007199254740993,"name":"\u003cZoë \u0026 \"co\"\u003e","note":null,"price":12.5,"ratio":1.1}"#
    );
}

#[test]
fn nullable_string_is_the_plain_value() {
    let value = record(&[
        ("active", A::Boolean(false)),
        ("blob", A::Bytes(vec![])),
        ("count", A::Int(0)),
        ("id", A::Long(0)),
        ("name", A::String(String::new())),
        ("note", union(1, A::String("x".into()))),
        ("price", A::Double(0.0)),
        ("ratio", A::Float(0.0)),
    ]);
    assert_eq!(
        roundtrip(PRIMITIVES, value),
        r#"{"active":false,"blob":"","count":0,"id":0,"name":"","note":"x","price":0,"ratio":0}"#
    );
}

#[test]
fn float_prints_the_shortest_float32_form() {
    let schema = one_field(r#""float""#);
    for (f, want) in [
        (1.1f32, "1.1"),
        (0.1, "0.1"),
        (1e-7, "1e-7"),
        (3.402_823_5e38, "3.4028235e+38"),
        (16_777_216.0, "16777216"),
        (-0.0, "-0"),
        (123_456_790_000_000.0, "123456790000000"),
        (1e21, "1e+21"),
        (f32::NAN, "null"),
        (f32::INFINITY, "null"),
    ] {
        assert_eq!(roundtrip(&schema, record(&[("f", A::Float(f))])), format!(r#"{{"f":{want}}}"#), "{f}");
    }
}

#[test]
fn double_prints_the_shortest_float64_form() {
    let schema = one_field(r#""double""#);
    for (f, want) in [
        (0.1f64, "0.1"),
        (1.100_000_023_841_858, "1.100000023841858"),
        (1e21, "1e+21"),
        (1e20, "100000000000000000000"),
        (5e-324, "5e-324"),
        (f64::NEG_INFINITY, "null"),
    ] {
        assert_eq!(roundtrip(&schema, record(&[("f", A::Double(f))])), format!(r#"{{"f":{want}}}"#), "{f}");
    }
}

#[test]
fn fixed_is_a_go_byte_array_printed_as_numbers() {
    let schema = one_field(r#"{"type":"fixed","name":"record.f","size":4}"#);
    assert_eq!(roundtrip(&schema, record(&[("f", A::Fixed(4, vec![1, 2, 3, 255]))])), r#"{"f":[1,2,3,255]}"#);
    let empty = one_field(r#"{"type":"fixed","name":"empty","size":0}"#);
    assert_eq!(roundtrip(&empty, record(&[("f", A::Fixed(0, vec![]))])), r#"{"f":[]}"#);
}

#[test]
fn enum_is_its_symbol() {
    let schema = one_field(r#"{"type":"enum","name":"color","symbols":["RED","GREEN"]}"#);
    assert_eq!(roundtrip(&schema, record(&[("f", A::Enum(1, "GREEN".into()))])), r#"{"f":"GREEN"}"#);
}

#[test]
fn invalid_utf8_in_a_string_becomes_one_replacement_per_byte() {
    // Go keeps the bytes in the string; encoding/json replaces each invalid byte.
    let schema = r#"{"type":"record","name":"record","fields":[
        {"name":"a","type":"string"},{"name":"b","type":["null","bytes","string"]},{"name":"c","type":{"type":"map","values":"string"}}]}"#;
    let writer = r#"{"type":"record","name":"record","fields":[
        {"name":"a","type":"bytes"},{"name":"b","type":["null","bytes",{"type":"record","name":"s","fields":[{"name":"b","type":"bytes"}]}]},{"name":"c","type":{"type":"map","values":"bytes"}}]}"#;
    let bytes = encode(
        writer,
        record(&[
            ("a", A::Bytes(vec![b'a', 0xE2, 0x82, b'b', 0xFF])),
            ("b", union(2, record(&[("b", A::Bytes(vec![0xC0]))]))),
            ("c", A::Map(HashMap::from([("k".to_owned(), A::Bytes(vec![0x80]))]))),
        ]),
    );
    assert_eq!(
        json(schema, &bytes),
        "{\"a\":\"a\u{FFFD}\u{FFFD}b\u{FFFD}\",\"b\":\"\u{FFFD}\",\"c\":{\"k\":\"\u{FFFD}\"}}"
    );
}

const NESTED: &str = r#"{"type":"record","name":"record","fields":[
    {"name":"address","type":{"type":"record","name":"record.address","fields":[
        {"name":"city","type":"string"},{"name":"zip","type":["null","long"]}]}},
    {"name":"owner","type":["null",{"type":"record","name":"record.owner","fields":[
        {"name":"name","type":"string"}]}]}]}"#;

#[test]
fn nested_and_nullable_records_are_objects() {
    let address = record(&[("city", A::String("Oslo".into())), ("zip", union(1, A::Long(150)))]);
    let owner = record(&[("name", A::String("Ann".into()))]);
    assert_eq!(
        roundtrip(NESTED, record(&[("address", address.clone()), ("owner", union(1, owner))])),
        r#"{"address":{"city":"Oslo","zip":150},"owner":{"name":"Ann"}}"#
    );
    assert_eq!(
        roundtrip(NESTED, record(&[("address", address), ("owner", union(0, A::Null))])),
        r#"{"address":{"city":"Oslo","zip":150},"owner":null}"#
    );
}

#[test]
fn nullable_record_inside_a_nullable_record_keeps_its_wrapper_as_in_go() {
    // conduit-commons' walk does not look inside a record field's wrapped union.
    let schema = r#"{"type":"record","name":"record","fields":[
        {"name":"a","type":["null",{"type":"record","name":"A","fields":[
            {"name":"b","type":["null",{"type":"record","name":"B","fields":[{"name":"x","type":"int"}]}]}]}]}]}"#;
    let value = record(&[("a", union(1, record(&[("b", union(1, record(&[("x", A::Int(1))])))])))]);
    assert_eq!(roundtrip(schema, value), r#"{"a":{"b":{"B":{"x":1}}}}"#);
}

#[test]
fn unions_of_more_than_two_branches_with_a_named_type_stay_wrapped() {
    let schema = one_field(r#"["null","string",{"type":"record","name":"ns.R","fields":[{"name":"x","type":"int"}]}]"#);
    assert_eq!(roundtrip(&schema, record(&[("f", union(1, A::String("s".into())))])), r#"{"f":{"string":"s"}}"#);
    assert_eq!(
        roundtrip(&schema, record(&[("f", union(2, record(&[("x", A::Int(2))])))])),
        r#"{"f":{"ns.R":{"x":2}}}"#
    );
    assert_eq!(roundtrip(&schema, record(&[("f", union(0, A::Null))])), r#"{"f":null}"#);
}

#[test]
fn unions_of_primitives_are_plain_values() {
    let schema = one_field(r#"["null","long","string","double","boolean","bytes"]"#);
    for (value, want) in [
        (union(1, A::Long(5)), "5"),
        (union(2, A::String("x".into())), r#""x""#),
        (union(3, A::Double(2.5)), "2.5"),
        (union(4, A::Boolean(true)), "true"),
        (union(5, A::Bytes(vec![1])), r#""AQ==""#),
    ] {
        assert_eq!(roundtrip(&schema, record(&[("f", value)])), format!(r#"{{"f":{want}}}"#));
    }
}

#[test]
fn local_timestamp_in_a_union_is_wrapped_with_its_logical_name() {
    // hamba/avro's type resolver does not register local timestamps.
    let schema = one_field(r#"["null","string",{"type":"long","logicalType":"local-timestamp-millis"}]"#);
    assert_eq!(
        roundtrip(&schema, record(&[("f", union(2, A::LocalTimestampMillis(1_500)))])),
        r#"{"f":{"long.local-timestamp-millis":"1970-01-01T00:00:01.5Z"}}"#
    );
    assert_eq!(roundtrip(&schema, record(&[("f", union(1, A::String("x".into())))])), r#"{"f":{"string":"x"}}"#);
}

const COLLECTIONS: &str = r#"{"type":"record","name":"record","fields":[
    {"name":"list","type":{"type":"array","items":["null","long","string"]}},
    {"name":"nested","type":{"type":"map","values":["null",{"type":"map","values":["null","long"]},{"type":"array","items":["null","string"]}]}},
    {"name":"people","type":{"type":"array","items":["null",{"type":"record","name":"P","fields":[{"name":"n","type":"string"}]}]}},
    {"name":"props","type":{"type":"map","values":["null","long","string"]}},
    {"name":"rows","type":{"type":"array","items":["null",{"type":"map","values":["null","long"]}]}},
    {"name":"tags","type":{"type":"map","values":["null",{"type":"record","name":"T","fields":[{"name":"v","type":"int"}]}]}}]}"#;

#[test]
fn arrays_and_maps_follow_conduit_commons_union_resolution() {
    let value = record(&[
        ("list", A::Array(vec![union(1, A::Long(1)), union(2, A::String("a".into())), union(0, A::Null)])),
        (
            "nested",
            A::Map(HashMap::from([
                ("m".to_owned(), union(1, A::Map(HashMap::from([("k".to_owned(), union(1, A::Long(2)))])))),
                ("a".to_owned(), union(2, A::Array(vec![union(1, A::String("s".into()))]))),
                ("z".to_owned(), union(0, A::Null)),
            ])),
        ),
        ("people", A::Array(vec![union(1, record(&[("n", A::String("Bo".into()))])), union(0, A::Null)])),
        (
            "props",
            A::Map(HashMap::from([
                ("b".to_owned(), union(2, A::String("x".into()))),
                ("a".to_owned(), union(1, A::Long(1))),
            ])),
        ),
        ("rows", A::Array(vec![union(1, A::Map(HashMap::from([("id".to_owned(), union(1, A::Long(7)))])))])),
        ("tags", A::Map(HashMap::from([("t".to_owned(), union(1, record(&[("v", A::Int(3))])))]))),
    ]);
    assert_eq!(
        roundtrip(COLLECTIONS, value),
        concat!(
            r#"{"list":[1,"a",null],"#,
            r#""nested":{"a":["s"],"m":{"k":2},"z":null},"#,
            // An array of ["null", record] keeps the wrapper: Go unwraps only under maps.
            r#""people":[{"P":{"n":"Bo"}},null],"#,
            r#""props":{"a":1,"b":"x"},"#,
            r#""rows":[{"id":7}],"#,
            r#""tags":{"t":{"v":3}}}"#
        )
    );
}

#[test]
fn empty_arrays_and_maps_are_empty_not_null() {
    let value = record(&[
        ("list", A::Array(vec![])),
        ("nested", A::Map(HashMap::new())),
        ("people", A::Array(vec![])),
        ("props", A::Map(HashMap::new())),
        ("rows", A::Array(vec![])),
        ("tags", A::Map(HashMap::new())),
    ]);
    assert_eq!(roundtrip(COLLECTIONS, value), r#"{"list":[],"nested":{},"people":[],"props":{},"rows":[],"tags":{}}"#);
}

#[test]
fn logical_types_print_as_their_go_values() {
    let schema = r#"{"type":"record","name":"record","fields":[
        {"name":"born","type":{"type":"int","logicalType":"date"}},
        {"name":"created","type":{"type":"long","logicalType":"timestamp-micros"}},
        {"name":"dur","type":{"type":"fixed","name":"dur","size":12,"logicalType":"duration"}},
        {"name":"id","type":{"type":"string","logicalType":"uuid"}},
        {"name":"local","type":{"type":"long","logicalType":"local-timestamp-micros"}},
        {"name":"nanos","type":{"type":"long","logicalType":"timestamp-nanos"}},
        {"name":"price","type":{"type":"bytes","logicalType":"decimal","precision":10,"scale":2}},
        {"name":"since","type":{"type":"long","logicalType":"timestamp-millis"}},
        {"name":"t_micros","type":{"type":"long","logicalType":"time-micros"}},
        {"name":"t_millis","type":{"type":"int","logicalType":"time-millis"}},
        {"name":"total","type":{"type":"fixed","name":"total","size":8,"logicalType":"decimal","precision":18,"scale":3}}]}"#;
    let value = record(&[
        ("born", A::Date(19_724)),
        ("created", A::TimestampMicros(1_704_164_645_123_456)),
        ("dur", A::Duration(Duration::new(Months::new(1), Days::new(2), Millis::new(3)))),
        ("id", A::Uuid(apache_avro::Uuid::from_u128(0x0123_4567_89ab_cdef_0123_4567_89ab_cdef))),
        ("local", A::LocalTimestampMicros(1_000_000)),
        ("nanos", A::TimestampNanos(1_234)),
        ("price", A::Decimal(Decimal::from(1234i64.to_be_bytes().to_vec()))),
        ("since", A::TimestampMillis(-1)),
        ("t_micros", A::TimeMicros(1_500)),
        ("t_millis", A::TimeMillis(2)),
        ("total", A::Decimal(Decimal::from((-12_000i64).to_be_bytes().to_vec()))),
    ]);
    assert_eq!(
        roundtrip(schema, value),
        concat!(
            r#"{"born":"2024-01-02T00:00:00Z","#,
            r#""created":"2024-01-02T03:04:05.123456Z","#,
            r#""dur":{"Days":2,"Milliseconds":3,"Months":1},"#,
            r#""id":"01234567-89ab-cdef-0123-456789abcdef","#,
            r#""local":"1970-01-01T00:00:01Z","#,
            r#""nanos":1234,"#,
            r#""price":"617/50","#,
            r#""since":"1969-12-31T23:59:59.999Z","#,
            r#""t_micros":1500000,"#,
            r#""t_millis":2000000,"#,
            r#""total":"-12"}"#
        )
    );
}

#[test]
fn decimal_is_a_reduced_fraction() {
    for (unscaled, scale, want) in
        [(0i64, 2, "0"), (1200, 2, "12"), (-5, 1, "-1/2"), (1, 3, "1/1000"), (125, 3, "1/8"), (7, 0, "7")]
    {
        assert_eq!(super::rat(&unscaled.to_be_bytes(), scale), want, "{unscaled} scale {scale}");
    }
    assert_eq!(super::rat(&[], 2), "0");
    assert_eq!(super::rat(&[0xff], 0), "-1");
}

#[test]
fn times_outside_go_json_years_fail() {
    let schema = one_field(r#"{"type":"long","logicalType":"timestamp-millis"}"#);
    let bytes = encode(&schema, record(&[("f", A::TimestampMillis(i64::MAX))]));
    let error = err(&schema, &bytes);
    assert!(error.to_string().contains("outside the years 0 to 9999"), "{error}");
    let ok = encode(&schema, record(&[("f", A::TimestampMillis(253_402_300_799_999))]));
    assert_eq!(json(&schema, &ok), r#"{"f":"9999-12-31T23:59:59.999Z"}"#);
    let first = encode(&schema, record(&[("f", A::TimestampMillis(-62_167_219_200_000))]));
    assert_eq!(json(&schema, &first), r#"{"f":"0000-01-01T00:00:00Z"}"#);
}

#[test]
fn top_level_map_is_structured_data() {
    let schema = r#"{"type":"map","values":["null","long"]}"#;
    let bytes = encode(
        schema,
        A::Map(HashMap::from([("b".to_owned(), union(1, A::Long(2))), ("a".to_owned(), union(0, A::Null))])),
    );
    assert_eq!(json(schema, &bytes), r#"{"a":null,"b":2}"#);
}

#[test]
fn top_level_nullable_record_is_the_record() {
    let schema = r#"["null",{"type":"record","name":"R","fields":[{"name":"id","type":"long"}]}]"#;
    assert_eq!(json(schema, &encode(schema, union(1, record(&[("id", A::Long(1))])))), r#"{"id":1}"#);
    let error = err(schema, &[0]);
    assert!(error.to_string().contains("null"), "{error}");
}

#[test]
fn top_level_union_of_other_types_is_wrapped_as_in_go() {
    let schema = r#"["string",{"type":"record","name":"R","fields":[{"name":"id","type":"long"}]}]"#;
    assert_eq!(json(schema, &encode(schema, union(0, A::String("s".into())))), r#"{"string":"s"}"#);
    assert_eq!(json(schema, &encode(schema, union(1, record(&[("id", A::Long(1))])))), r#"{"R":{"id":1}}"#);
}

#[test]
fn top_level_scalar_is_not_structured() {
    for (schema, kind) in
        [(r#""string""#, "string"), (r#"{"type":"array","items":"int"}"#, "array"), (r#""long""#, "long")]
    {
        let error = err(schema, &[0]);
        assert_eq!(error, AvroError::NotStructured(kind.into()));
        assert!(error.to_string().contains("must be a record or a map"), "{error}");
    }
}

#[test]
fn every_truncation_fails_cleanly() {
    let value = record(&[
        ("active", A::Boolean(true)),
        ("blob", A::Bytes(vec![1, 2, 3])),
        ("count", A::Int(300)),
        ("id", A::Long(-1)),
        ("name", A::String("hello".into())),
        ("note", union(1, A::String("n".into()))),
        ("price", A::Double(1.5)),
        ("ratio", A::Float(2.5)),
    ]);
    let bytes = encode(PRIMITIVES, value);
    let schema = AvroSchema::parse(PRIMITIVES.as_bytes()).expect("schema");
    for len in 0..bytes.len() {
        let error = decode(&schema, &bytes[..len]).expect_err("a prefix must not decode");
        assert!(matches!(error, AvroError::Truncated(_)), "{len}: {error}");
        assert!(error.to_string().starts_with("cannot decode Avro data: unexpected end of input"), "{error}");
    }
}

#[test]
fn a_truncated_nullable_field_is_not_read_as_null() {
    // apache-avro reads a union index at the end of input as branch 0 (here null).
    let schema = one_field(r#"["null","string"]"#);
    assert!(matches!(err(&schema, &[]), AvroError::Truncated(0)));
}

#[test]
fn trailing_bytes_are_ignored_as_in_go() {
    let schema = one_field(r#""long""#);
    assert_eq!(json(&schema, &[2, 0xff, 0xff]), r#"{"f":1}"#);
}

#[test]
fn garbage_fails_with_a_decode_error() {
    for (ty, bytes) in [
        (r#""boolean""#, &[2u8][..]),
        (r#"["null","long"]"#, &[4]),
        (r#"["null","long"]"#, &[1]),
        (r#"{"type":"enum","name":"E","symbols":["A"]}"#, &[2]),
        (r#""string""#, &[1]),
        (r#""long""#, &[0xff; 11]),
    ] {
        let schema = one_field(ty);
        let error = err(&schema, bytes);
        assert!(matches!(error, AvroError::Decode(_)), "{ty} {bytes:?}: {error:?}");
        assert!(error.to_string().starts_with("cannot decode Avro data: "), "{error}");
    }
}

#[test]
fn huge_length_claims_fail_without_allocating() {
    // Zig-zag varint of 2^60: a string, bytes, an array and a map that long.
    let mut claim = Vec::new();
    let mut n: u64 = 1 << 61;
    while n >= 0x80 {
        claim.push((n as u8) | 0x80);
        n >>= 7;
    }
    claim.push(n as u8);
    for ty in [r#""string""#, r#""bytes""#, r#"{"type":"array","items":"long"}"#, r#"{"type":"map","values":"long"}"#] {
        let schema = one_field(ty);
        let error = err(&schema, &claim);
        assert!(matches!(error, AvroError::Decode(_) | AvroError::Truncated(_)), "{ty}: {error:?}");
    }
}

#[test]
fn arrays_of_items_that_take_no_bytes_are_refused() {
    for items in [
        r#""null""#,
        r#"{"type":"fixed","name":"z","size":0}"#,
        r#"{"type":"record","name":"e","fields":[{"name":"a","type":"null"}]}"#,
    ] {
        let text = one_field(&format!(r#"{{"type":"array","items":{items}}}"#));
        let error = AvroSchema::parse(text.as_bytes()).expect_err("zero-byte items");
        assert!(matches!(error, AvroError::UnsupportedSchema(_)), "{error:?}");
        assert!(error.to_string().contains("items that take no bytes"), "{error}");
    }
    // A map is fine: every entry has a key.
    let text = one_field(r#"{"type":"map","values":"null"}"#);
    assert!(AvroSchema::parse(text.as_bytes()).is_ok());
}

#[test]
fn huge_fixed_sizes_and_decimals_are_refused() {
    for ty in [
        r#"{"type":"fixed","name":"big","size":1099511627776}"#,
        r#"{"type":"fixed","name":"big","size":1099511627776,"logicalType":"duration"}"#,
    ] {
        let error = AvroSchema::parse(one_field(ty).as_bytes()).expect_err("huge fixed");
        assert!(error.to_string().contains("fixed size 1099511627776 is larger than"), "{error}");
    }
    let schema = one_field(r#"{"type":"bytes","logicalType":"decimal","precision":10,"scale":2}"#);
    let bytes = encode(&one_field(r#""bytes""#), record(&[("f", A::Bytes(vec![1; 5000]))]));
    let error = err(&schema, &bytes);
    assert!(error.to_string().contains("decimal value of 5000 bytes is longer than 4096 bytes"), "{error}");
}

#[test]
fn invalid_schemas_are_reported() {
    for text in [
        &b"not json"[..],
        b"{}",
        br#"{"type":"record","name":"r","fields":[{"name":"a","type":"nope"}]}"#,
        b"\"strin\"",
    ] {
        let error = AvroSchema::parse(text).expect_err("invalid schema");
        assert!(matches!(error, AvroError::InvalidSchema(_)), "{error:?}");
        assert!(error.to_string().starts_with("invalid Avro schema: "), "{error}");
    }
}

#[test]
fn recursive_schemas_are_refused() {
    let text = br#"{"type":"record","name":"Node","fields":[{"name":"v","type":"long"},{"name":"next","type":["null","Node"]}]}"#;
    let error = AvroSchema::parse(text).expect_err("recursive");
    assert!(matches!(error, AvroError::UnsupportedSchema(_)), "{error:?}");
    assert!(error.to_string().contains("recursive type \"Node\""), "{error}");
}

#[test]
fn deep_schemas_are_refused() {
    // 200 records in a chain of references, each defined at the top level of the JSON.
    let mut fields =
        vec![r#"{"name":"t0","type":{"type":"record","name":"T0","fields":[{"name":"x","type":"int"}]}}"#.to_owned()];
    for i in 1..200 {
        fields.push(format!(
            r#"{{"name":"t{i}","type":{{"type":"record","name":"T{i}","fields":[{{"name":"x","type":"T{}"}}]}}}}"#,
            i - 1
        ));
    }
    let text = format!(r#"{{"type":"record","name":"root","fields":[{}]}}"#, fields.join(","));
    let error = AvroSchema::parse(text.as_bytes()).expect_err("too deep");
    assert!(error.to_string().contains("deeper than 128"), "{error}");
}

#[test]
fn shared_named_types_decode_at_each_use() {
    let schema = r#"{"type":"record","name":"record","fields":[
        {"name":"a","type":{"type":"record","name":"ns.P","fields":[{"name":"x","type":"int"}]}},
        {"name":"b","type":"ns.P"},
        {"name":"c","type":["null","ns.P"]}]}"#;
    let p = |x| record(&[("x", A::Int(x))]);
    assert_eq!(
        roundtrip(schema, record(&[("a", p(1)), ("b", p(2)), ("c", union(1, p(3)))])),
        r#"{"a":{"x":1},"b":{"x":2},"c":{"x":3}}"#
    );
}

#[test]
fn schema_is_cheap_to_share_across_threads() {
    fn assert_send_sync<T: Send + Sync + Clone>() {}
    assert_send_sync::<AvroSchema>();
}

#[test]
fn top_level_map_of_nullable_records_is_unwrapped() {
    let schema =
        r#"{"type":"map","values":["null",{"type":"record","name":"R","fields":[{"name":"x","type":"int"}]}]}"#;
    let bytes = encode(schema, A::Map(HashMap::from([("k".to_owned(), union(1, record(&[("x", A::Int(1))])))])));
    assert_eq!(json(schema, &bytes), r#"{"k":{"x":1}}"#);
}

#[test]
fn a_map_inside_a_nullable_field_keeps_its_values_wrapped_as_in_go() {
    // conduit-commons unwraps the field (a ["null", T] union) but its walk stops at the field's
    // wrapper, so the map's own ["null", R] values stay wrapped.
    let schema = one_field(
        r#"["null",{"type":"map","values":["null",{"type":"record","name":"R","fields":[{"name":"x","type":"int"}]}]}]"#,
    );
    let map = A::Map(HashMap::from([("k".to_owned(), union(1, record(&[("x", A::Int(1))])))]));
    assert_eq!(roundtrip(&schema, record(&[("f", union(1, map))])), r#"{"f":{"k":{"R":{"x":1}}}}"#);
}
