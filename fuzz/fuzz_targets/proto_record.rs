//! Protobuf → record: arbitrary bytes decoded as a `connector.v2` Destination Run Request,
//! every record converted. Never panics; an accepted record survives record → proto → record
//! and its JSON form decodes back to it.
#![no_main]

use conduit_connector::opencdc::Record;
use conduit_connector::plugin::proto::connector::v2::destination::run::Request;
use conduit_connector::plugin::proto::opencdc::v1 as pb;
use libfuzzer_sys::fuzz_target;
use prost::Message;

fuzz_target!(|data: &[u8]| {
    let Ok(request) = conduit_connector::plugin::codec::decode::<Request>(data) else { return };
    for proto in request.records {
        let position = proto.position.clone();
        match Record::try_from(proto) {
            Ok(record) => {
                let back = pb::Record::from(record.clone());
                let bytes = back.encode_to_vec();
                let decoded = conduit_connector::plugin::codec::decode::<pb::Record>(&bytes[..]).expect("re-encoded record does not decode");
                let again = Record::try_from(decoded).expect("re-encoded record does not convert");
                assert_eq!(record, again, "proto round trip changed the record");
                let json = record.to_json();
                let from_json = Record::from_json(&json)
                    .unwrap_or_else(|e| panic!("JSON of a converted record does not decode: {e}"));
                assert_eq!(record, from_json, "JSON round trip changed the record");
            }
            Err(e) => {
                let text = e.to_string();
                assert!(text.contains("unknown operation"), "{text}");
                let _ = position;
            }
        }
    }
});
