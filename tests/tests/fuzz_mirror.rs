//! CI-run mirrors of the fuzz targets in `fuzz/` (see its README section in the notes), with
//! bounded cases: `from_config` on arbitrary maps for a struct using every derive feature, the
//! OpenCDC JSON decoder, Go's duration parser, and the protobuf → record conversion. Each
//! property is the fuzz target's assertion; the generators aim at the interesting inputs
//! (known keys, Go number and duration syntax, JSON fragments, protobuf field tags) so 256
//! cases reach the same code the fuzzer does.

use proptest::prelude::*;
use prost::Message;

use conduit_connector::Config;
use conduit_connector::config::go::parse_duration;
use conduit_connector::opencdc::{JsonLines, Record};
use conduit_connector::plugin::proto::connector::v2::destination::run::Request;
use conduit_connector::plugin::proto::opencdc::v1 as pb;

use conduit_connector_tests::every_feature::FuzzConfig;

// ---------------------------------------------------------------------------------------------
// from_config

fn config_key() -> impl Strategy<Value = String> {
    prop_oneof![
        4 => prop::sample::select(vec![
            "directory", "batchSize", "offset", "ratio", "enabled", "flushInterval", "timeout", "mode", "color",
            "tags", "ports", "delays", "modes", "my-prefix", "owner", "auth.user", "auth.tokenFile", "retries",
            "backoff", "headers.X", "headers.a.b", "limits.x", "endpoints.a.url", "endpoints.a.weight",
            "endpoints.b.url", "endpoints..url", "headers.", "endpoints.a", "cache", " directory ", "Directory",
        ])
        .prop_map(str::to_owned),
        1 => "[a-zA-Z.*_ -]{0,12}",
        1 => any::<String>(),
    ]
}

fn config_value() -> impl Strategy<Value = String> {
    prop_oneof![
        prop::sample::select(vec![
            "",
            " ",
            "0",
            "-1",
            "1",
            "99",
            "100",
            "9999",
            "10000",
            "65536",
            "1e3",
            "0x10",
            "1_000",
            "NaN",
            "inf",
            "-inf",
            "0.5",
            "1.5",
            "true",
            "false",
            "TRUE",
            "t",
            "1s",
            "-1s",
            "1h2m3.5s",
            "9223372036854775807ns",
            "9223372036854775808ns",
            "5",
            ".5s",
            "fast",
            "safe",
            "paranoidMode",
            "Fast",
            "red",
            "black",
            "root",
            "a,b,,c",
            "1,2,70000",
            "1s,x",
            "fast,safe",
            "abc",
            "ABC",
            "/tmp/x",
            "µs",
            "1µs",
        ])
        .prop_map(str::to_owned),
        "[0-9a-z.,_ -]{0,16}",
        any::<String>(),
    ]
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 256, failure_persistence: None, ..ProptestConfig::default() })]

    /// Mirror of fuzz target `config_from_config`.
    #[test]
    fn from_config_on_arbitrary_maps_never_panics_and_reports_sorted_errors(
        entries in proptest::collection::vec((config_key(), config_value()), 0..24),
    ) {
        match FuzzConfig::from_config(entries.clone()) {
            Ok(config) => {
                let again = FuzzConfig::from_config(entries).expect("second parse of an accepted config");
                prop_assert_eq!(format!("{config:?}"), format!("{again:?}"));
                prop_assert!(config.batch_size > 0 && config.batch_size < 10_000);
                prop_assert!(config.retry.retries < 100);
                prop_assert!(!config.auth.user.is_empty());
            }
            Err(errors) => {
                prop_assert!(!errors.is_empty());
                let keys: Vec<&str> = errors.iter().map(|e| e.key()).collect();
                prop_assert!(keys.windows(2).all(|w| w[0] <= w[1]), "errors not sorted by key: {:?}", keys);
                prop_assert!(!errors.to_string().is_empty());
            }
        }
    }
}

// ---------------------------------------------------------------------------------------------
// Go durations

proptest! {
    #![proptest_config(ProptestConfig { cases: 256, failure_persistence: None, ..ProptestConfig::default() })]

    /// Mirror of fuzz target `go_duration`.
    #[test]
    fn duration_parser_agrees_with_the_duration_config_value(
        s in prop_oneof!["[-+]?([0-9]{0,20}(\\.[0-9]{0,20})?(ns|us|µs|μs|ms|s|m|h|x)?){0,4}", any::<String>()],
    ) {
        let parsed = parse_duration(&s);
        if let (Ok(n), false) = (parsed, s.starts_with('-')) {
            prop_assert!(n >= 0, "{:?} parsed to {}", s, n);
        }
        match (<std::time::Duration as conduit_connector::ConfigValue>::parse(&s), parsed) {
            (Ok(d), Ok(n)) => prop_assert_eq!(d.as_nanos(), u128::try_from(n).expect("negative accepted")),
            (Ok(d), Err(e)) => prop_assert!(false, "{:?}: config value accepted {:?}, parser said {:?}", s, d, e),
            _ => {}
        }
    }
}

// ---------------------------------------------------------------------------------------------
// OpenCDC JSON

/// JSON-ish text made of record fragments, so the decoder's paths are reached.
fn json_like() -> impl Strategy<Value = Vec<u8>> {
    let fragment = prop::sample::select(vec![
        "{",
        "}",
        "[",
        "]",
        ",",
        ":",
        "\"position\"",
        "\"operation\"",
        "\"metadata\"",
        "\"key\"",
        "\"payload\"",
        "\"before\"",
        "\"after\"",
        "\"OPERATION\"",
        "\"create\"",
        "\"delete\"",
        "\"cG9z\"",
        "\"=\"",
        "\"a\"",
        "null",
        "true",
        "1",
        "-0",
        "1e400",
        "1.5e-7",
        "\"\\u00e9\\ud800\"",
        "\"\\n\"",
        "{\"x\":1}",
        " ",
        "\"",
    ]);
    prop_oneof![
        proptest::collection::vec(fragment, 0..40).prop_map(|f| f.concat().into_bytes()),
        proptest::collection::vec(any::<u8>(), 0..64),
    ]
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 256, failure_persistence: None, ..ProptestConfig::default() })]

    /// Mirror of fuzz target `opencdc_json`.
    #[test]
    fn json_decoder_never_panics_and_accepted_records_round_trip(input in json_like()) {
        if let Ok(record) = Record::from_json(&input) {
            let json = record.to_json();
            let again = Record::from_json(&json).expect("re-encoded record decodes");
            prop_assert_eq!(&record, &again);
            prop_assert_eq!(json, again.to_json());
        }
        for item in JsonLines::new(&input[..]) {
            if let Err(e) = item {
                let _ = e.to_string();
            }
        }
        // With a line limit: never panics, and never accepts more than without one.
        let unbounded = JsonLines::new(&input[..]).filter(Result::is_ok).count();
        for limit in [0, 8, 64] {
            let mut accepted = 0;
            for item in JsonLines::new(&input[..]).max_line_bytes(limit) {
                match item {
                    Ok(_) => accepted += 1,
                    Err(e) => {
                        let _ = e.to_string();
                    }
                }
            }
            prop_assert!(accepted <= unbounded, "limit {limit}: {accepted} > {unbounded}");
        }
    }
}

// ---------------------------------------------------------------------------------------------
// Protobuf → record

fn proto_value(depth: u32) -> BoxedStrategy<pb::Value> {
    use pb::value::Kind;
    let leaf = prop_oneof![
        Just(Kind::NullValue(0)),
        any::<f64>().prop_map(Kind::NumberValue),
        prop::sample::select(vec![f64::NAN, f64::INFINITY, -0.0, 1e308, 5e-324]).prop_map(Kind::NumberValue),
        any::<String>().prop_map(Kind::StringValue),
        any::<bool>().prop_map(Kind::BoolValue),
    ];
    let kind = if depth == 0 {
        leaf.boxed()
    } else {
        prop_oneof![
            3 => leaf,
            1 => proptest::collection::vec(proto_value(depth - 1), 0..3)
                .prop_map(|values| Kind::ListValue(pb::ListValue { values })),
            1 => proto_struct(depth - 1).prop_map(Kind::StructValue),
        ]
        .boxed()
    };
    proptest::option::weighted(0.95, kind).prop_map(|kind| pb::Value { kind }).boxed()
}

/// A struct with entries in any order, keys sometimes repeated, values
/// sometimes absent.
fn proto_struct(depth: u32) -> BoxedStrategy<pb::Struct> {
    let key = prop_oneof![3 => any::<String>(), 1 => prop::sample::select(vec!["a".to_owned(), "b".to_owned()])];
    let field = (key, proptest::option::weighted(0.95, proto_value(depth)))
        .prop_map(|(key, value)| pb::StructField { key, value });
    proptest::collection::vec(field, 0..4).prop_map(|fields| pb::Struct { fields }).boxed()
}

fn proto_data() -> impl Strategy<Value = Option<pb::Data>> {
    proptest::option::of(prop_oneof![
        Just(pb::Data { data: None }),
        proptest::collection::vec(any::<u8>(), 0..16).prop_map(|b| pb::Data { data: Some(pb::data::Data::RawData(b)) }),
        proto_struct(2).prop_map(|s| pb::Data { data: Some(pb::data::Data::StructuredData(s)) }),
    ])
}

fn proto_record() -> impl Strategy<Value = pb::Record> {
    (
        proptest::collection::vec(any::<u8>(), 0..8),
        -1i32..7,
        proptest::collection::btree_map(any::<String>(), any::<String>(), 0..3),
        proto_data(),
        proptest::option::of((proto_data(), proto_data())),
    )
        .prop_map(|(position, operation, metadata, key, payload)| pb::Record {
            position,
            operation,
            metadata: metadata.into_iter().collect(),
            key,
            payload: payload.map(|(before, after)| pb::Change { before, after }),
        })
}

fn check_request(request: Request) -> Result<(), TestCaseError> {
    for proto in request.records {
        match Record::try_from(proto) {
            Ok(record) => {
                let bytes = pb::Record::from(record.clone()).encode_to_vec();
                let again = Record::try_from(
                    conduit_connector::plugin::codec::decode::<pb::Record>(&bytes[..])
                        .expect("re-encoded record decodes"),
                )
                .expect("re-encoded record converts");
                prop_assert_eq!(&record, &again, "proto round trip changed the record");
                let from_json = Record::from_json(&record.to_json()).expect("JSON of a converted record decodes");
                prop_assert_eq!(&record, &from_json, "JSON round trip changed the record");
            }
            Err(e) => prop_assert!(e.to_string().contains("unknown operation"), "{}", e),
        }
    }
    Ok(())
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 256, failure_persistence: None, ..ProptestConfig::default() })]

    /// Mirror of fuzz target `proto_record`, on well-formed messages.
    #[test]
    fn proto_records_convert_or_fail_with_unknown_operation_and_round_trip(
        records in proptest::collection::vec(proto_record(), 0..4),
    ) {
        check_request(Request { records })?;
    }

    /// Mirror of fuzz target `proto_record`, on arbitrary bytes.
    #[test]
    fn arbitrary_bytes_as_a_run_request_never_panic(bytes in proptest::collection::vec(any::<u8>(), 0..128)) {
        if let Ok(request) = conduit_connector::plugin::codec::decode::<Request>(&bytes[..]) {
            check_request(request)?;
        }
    }
}
