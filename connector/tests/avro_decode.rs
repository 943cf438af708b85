//! Avro → structured data (`schema::avro`): arbitrary bytes never panic, and valid datums of a
//! 10-field schema shaped like Go's extractor output decode to the JSON Go prints.
//! The fuzz target `fuzz/fuzz_targets/avro_decode.rs` runs the first property under libFuzzer.

use apache_avro::types::Value as A;
use apache_avro::writer::datum::GenericDatumWriter;
use conduit_connector::opencdc::write_json_value;
use conduit_connector::schema::avro::{AvroError, AvroSchema, decode};
use proptest::prelude::*;
use serde_json::{Map, Number, Value, json};

/// Fields sorted by name, nullable unions, a nested record, an array of a union, bytes, a
/// logical type: what a Go source registers for a typical payload.
const SCHEMA: &str = r#"{"type":"record","name":"record","fields":[
    {"name":"active","type":"boolean"},
    {"name":"blob","type":"bytes"},
    {"name":"count","type":"int"},
    {"name":"created","type":{"type":"long","logicalType":"timestamp-micros"}},
    {"name":"id","type":"long"},
    {"name":"name","type":"string"},
    {"name":"owner","type":["null",{"type":"record","name":"record.owner","fields":[
        {"name":"name","type":"string"},{"name":"zip","type":["null","long"]}]}]},
    {"name":"price","type":"double"},
    {"name":"ratio","type":"float"},
    {"name":"tags","type":{"type":"array","items":["null","long","string"]}}]}"#;

#[derive(Debug, Clone)]
enum Tag {
    Null,
    Long(i64),
    Str(String),
}

#[derive(Debug, Clone)]
struct Payload {
    active: bool,
    blob: Vec<u8>,
    count: i32,
    /// (year, month, day, seconds of the day, microseconds)
    created: (i64, u32, u32, i64, i64),
    id: i64,
    name: String,
    owner: Option<(String, Option<i64>)>,
    price: f64,
    ratio: f32,
    tags: Vec<Tag>,
}

fn arb_tag() -> impl Strategy<Value = Tag> {
    prop_oneof![Just(Tag::Null), any::<i64>().prop_map(Tag::Long), ".{0,8}".prop_map(Tag::Str)]
}

/// Plain-notation floats (Go switches to exponents below 1e-6 and from 1e21; the unit tests
/// cover those texts).
fn arb_f64() -> impl Strategy<Value = f64> {
    prop_oneof![Just(0.0), (1e-6f64..1e20), (-1e20f64..-1e-6), (-1000i32..1000).prop_map(f64::from)]
}

fn arb_f32() -> impl Strategy<Value = f32> {
    prop_oneof![Just(0.0f32), (1e-5f32..1e20), (-1e20f32..-1e-5), (-1000i16..1000).prop_map(f32::from)]
}

fn arb_payload() -> impl Strategy<Value = Payload> {
    (
        (any::<bool>(), proptest::collection::vec(any::<u8>(), 0..40), any::<i32>()),
        ((0i64..=9999, 1u32..=12, 1u32..=28, 0i64..86_400, 0i64..1_000_000), any::<i64>(), ".{0,20}"),
        proptest::option::of((".{0,10}", proptest::option::of(any::<i64>()))),
        (arb_f64(), arb_f32(), proptest::collection::vec(arb_tag(), 0..5)),
    )
        .prop_map(|((active, blob, count), (created, id, name), owner, (price, ratio, tags))| Payload {
            active,
            blob,
            count,
            created,
            id,
            name,
            owner,
            price,
            ratio,
            tags,
        })
}

/// Days from 1970-01-01 to a date (the inverse of the decoder's calendar).
fn days_from_civil(year: i64, month: u32, day: u32) -> i64 {
    let y = if month <= 2 { year - 1 } else { year };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let m = i64::from(month);
    let doy = (153 * (if m > 2 { m - 3 } else { m + 9 }) + 2) / 5 + i64::from(day) - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

fn base64(bytes: &[u8]) -> String {
    const ALPHABET: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut out = String::new();
    for chunk in bytes.chunks(3) {
        let n = chunk.iter().enumerate().fold(0u32, |n, (i, &b)| n | u32::from(b) << (16 - 8 * i));
        for i in 0..4 {
            if i <= chunk.len() {
                out.push(ALPHABET[(n >> (18 - 6 * i)) as usize & 63] as char);
            } else {
                out.push('=');
            }
        }
    }
    out
}

fn avro_value(p: &Payload) -> A {
    let (year, month, day, secs, micros) = p.created;
    let created = (days_from_civil(year, month, day) * 86_400 + secs) * 1_000_000 + micros;
    let owner = match &p.owner {
        None => A::Union(0, Box::new(A::Null)),
        Some((name, zip)) => A::Union(
            1,
            Box::new(A::Record(vec![
                ("name".into(), A::String(name.clone())),
                ("zip".into(), zip.map_or(A::Union(0, Box::new(A::Null)), |z| A::Union(1, Box::new(A::Long(z))))),
            ])),
        ),
    };
    let tags = p
        .tags
        .iter()
        .map(|t| match t {
            Tag::Null => A::Union(0, Box::new(A::Null)),
            Tag::Long(n) => A::Union(1, Box::new(A::Long(*n))),
            Tag::Str(s) => A::Union(2, Box::new(A::String(s.clone()))),
        })
        .collect();
    A::Record(vec![
        ("active".into(), A::Boolean(p.active)),
        ("blob".into(), A::Bytes(p.blob.clone())),
        ("count".into(), A::Int(p.count)),
        ("created".into(), A::TimestampMicros(created)),
        ("id".into(), A::Long(p.id)),
        ("name".into(), A::String(p.name.clone())),
        ("owner".into(), owner),
        ("price".into(), A::Double(p.price)),
        ("ratio".into(), A::Float(p.ratio)),
        ("tags".into(), A::Array(tags)),
    ])
}

/// What Go's `encoding/json` prints for the values hamba/avro + conduit-commons decode.
fn go_json(p: &Payload) -> Vec<u8> {
    let (year, month, day, secs, micros) = p.created;
    let mut created =
        format!("{year:04}-{month:02}-{day:02}T{:02}:{:02}:{:02}", secs / 3600, secs / 60 % 60, secs % 60);
    if micros != 0 {
        created.push('.');
        created.push_str(format!("{micros:06}").trim_end_matches('0'));
    }
    created.push('Z');
    let owner = match &p.owner {
        None => Value::Null,
        Some((name, zip)) => json!({"name": name, "zip": zip}),
    };
    let tags: Vec<Value> = p
        .tags
        .iter()
        .map(|t| match t {
            Tag::Null => Value::Null,
            Tag::Long(n) => json!(n),
            Tag::Str(s) => json!(s),
        })
        .collect();
    // A float32 prints its shortest float32 digits.
    let ratio: f64 = p.ratio.to_string().parse().expect("float text");
    let mut map = Map::new();
    map.insert("active".into(), json!(p.active));
    map.insert("blob".into(), json!(base64(&p.blob)));
    map.insert("count".into(), json!(p.count));
    map.insert("created".into(), json!(created));
    map.insert("id".into(), json!(p.id));
    map.insert("name".into(), json!(p.name));
    map.insert("owner".into(), owner);
    map.insert("price".into(), Value::Number(Number::from_f64(p.price).expect("finite")));
    map.insert("ratio".into(), Value::Number(Number::from_f64(ratio).expect("finite")));
    map.insert("tags".into(), Value::Array(tags));
    let mut out = Vec::new();
    write_json_value(&Value::Object(map), &mut out);
    out
}

fn schema() -> AvroSchema {
    AvroSchema::parse(SCHEMA.as_bytes()).expect("schema")
}

fn encode(p: &Payload) -> Vec<u8> {
    let schema = apache_avro::Schema::parse_str(SCHEMA).expect("schema");
    GenericDatumWriter::builder(&schema).build().expect("writer").write_value_to_vec(avro_value(p)).expect("datum")
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    /// Whatever the bytes, decoding returns (no panic, no abort), and an error says what failed.
    #[test]
    fn arbitrary_bytes_never_panic(bytes in proptest::collection::vec(any::<u8>(), 0..256)) {
        match decode(&schema(), &bytes) {
            Ok(data) => prop_assert_eq!(data.len(), 10),
            Err(e) => prop_assert!(e.to_string().starts_with("cannot decode Avro data: "), "{}", e),
        }
    }

    /// A valid datum with garbage spliced in: still no panic.
    #[test]
    fn corrupted_datums_never_panic(p in arb_payload(), at in any::<prop::sample::Index>(), junk in any::<u8>()) {
        let mut bytes = encode(&p);
        let i = at.index(bytes.len());
        bytes[i] = junk;
        let _ = decode(&schema(), &bytes);
        bytes.truncate(i);
        prop_assert!(matches!(decode(&schema(), &bytes), Err(AvroError::Truncated(_))));
    }

    /// Valid encodings of arbitrary values decode to the JSON Go prints.
    #[test]
    fn valid_datums_decode_to_go_json(p in arb_payload()) {
        let data = decode(&schema(), &encode(&p)).expect("valid datum");
        let mut out = Vec::new();
        write_json_value(&Value::Object(data), &mut out);
        let want = go_json(&p);
        prop_assert_eq!(String::from_utf8_lossy(&out), String::from_utf8_lossy(&want));
    }
}

/// The fuzz target's seed datums (mode byte 0, then the datum) are valid datums of `SCHEMA`.
#[test]
fn fuzz_seed_datums_decode() {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../fuzz/corpus/avro_decode");
    let mut datums = 0;
    for name in ["seed-full", "seed-nested", "seed-nulls"] {
        let seed = std::fs::read(dir.join(name)).expect("seed");
        assert_eq!(seed.first(), Some(&0), "{name}: datum mode");
        let data = decode(&schema(), &seed[1..]).unwrap_or_else(|e| panic!("{name}: {e}"));
        assert_eq!(data.len(), 10, "{name}");
        datums += 1;
    }
    assert_eq!(datums, 3);
    let seed = std::fs::read(dir.join("seed-schema")).expect("seed");
    assert!(AvroSchema::parse(&seed[1..]).is_ok());
    let full = decode(&schema(), &std::fs::read(dir.join("seed-full")).expect("seed")[1..]).expect("full");
    let mut out = Vec::new();
    write_json_value(&Value::Object(full), &mut out);
    assert_eq!(
        String::from_utf8_lossy(&out),
        r#"{"active":true,"blob":"AAH/","count":42,"created":"2024-01-02T03:04:05.123456Z","id":-1,"name":"Zoë","owner":{"name":"Ann","zip":1015},"price":12.5,"ratio":1.1,"tags":[null,7,"x"]}"#
    );
}
