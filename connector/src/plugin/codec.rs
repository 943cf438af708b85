//! The gRPC codec of every plugin service: prost, plus our own nesting limit
//! for structured data.
//!
//! prost's own recursion limit (100 nested messages) would refuse a
//! structured payload nested more than about 32 levels deep: each level of a
//! `Struct` is three messages on the wire (`Struct` → `StructField` →
//! `Value`). The crate is built with prost's `no-recursion-limit`, and every
//! message that can hold structured data is first checked by
//! an iterative scan of the wire bytes that never recurses,
//! so a message nested 100,000 levels deep is refused with a clear error
//! instead of overflowing the stack. Structured data up to
//! [`MAX_STRUCT_DEPTH`] levels is accepted.
//!
//! Decode bytes from outside only through [`decode`] (or the gRPC services,
//! which use it): a plain `Message::decode` has no depth limit.

use std::any::TypeId;
use std::marker::PhantomData;

use prost::Message;
use tonic::Status;
use tonic::codec::{BufferSettings, Codec, DecodeBuf, Decoder, EncodeBuf, Encoder};

use super::proto::connector::v2 as pbconn;
use super::proto::opencdc::v1 as pbcdc;

/// How deeply structured data (a record's key or payload) may nest: objects
/// and lists together, the top-level object counting as 1.
pub const MAX_STRUCT_DEPTH: usize = 256;

/// A message that cannot be decoded.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum DecodeError {
    /// Structured data nests deeper than [`MAX_STRUCT_DEPTH`].
    #[error(
        "{}structured data in the {part} is nested more than {MAX_STRUCT_DEPTH} levels deep (the limit of this \
         connector)", record_text(.record, .position)
    )]
    TooDeep {
        /// The index of the record in its message (0 for a single record).
        record: usize,
        /// The record's position, when it came before the deep data on the wire.
        position: Option<Vec<u8>>,
        /// `key`, `payload.before` or `payload.after`.
        part: &'static str,
    },
    /// The bytes are not a valid protobuf message of the expected type.
    #[error("invalid protobuf message: {0}")]
    Invalid(String),
}

fn record_text(index: &usize, position: &Option<Vec<u8>>) -> String {
    match position {
        Some(p) => format!("record {index} (position {}): ", crate::config::go::quote(&String::from_utf8_lossy(p))),
        None => format!("record {index}: "),
    }
}

/// Decodes `bytes` as `M`, refusing structured data nested deeper than
/// [`MAX_STRUCT_DEPTH`] first (for the messages that can hold records).
pub fn decode<M: Message + Default + 'static>(bytes: &[u8]) -> Result<M, DecodeError> {
    if let Some(root) = root_of::<M>() {
        check_depth(root, bytes)?;
    }
    M::decode(bytes).map_err(|e| DecodeError::Invalid(e.to_string()))
}

/// The message types that can hold structured data, as scan roots.
fn root_of<M: 'static>() -> Option<Kind> {
    let id = TypeId::of::<M>();
    if id == TypeId::of::<pbconn::destination::run::Request>() || id == TypeId::of::<pbconn::source::run::Response>() {
        Some(Kind::Records)
    } else if id == TypeId::of::<pbcdc::Record>() {
        Some(Kind::Record)
    } else if id == TypeId::of::<pbcdc::Data>() {
        Some(Kind::Data)
    } else if id == TypeId::of::<pbcdc::Struct>() {
        Some(Kind::Struct)
    } else if id == TypeId::of::<pbcdc::Value>() {
        Some(Kind::Value)
    } else if id == TypeId::of::<pbcdc::Change>() {
        Some(Kind::Change)
    } else if id == TypeId::of::<pbcdc::ListValue>() {
        Some(Kind::List)
    } else {
        None
    }
}

/// The messages on the way to structured data.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    /// A message whose field 1 is `repeated Record` (Run request / source Run response).
    Records,
    Record,
    Change,
    Data,
    Struct,
    StructField,
    Value,
    List,
}

impl Kind {
    /// The message kind of field `field` (length-delimited), if it is one
    /// that leads to structured data.
    fn child(self, field: u64) -> Option<Kind> {
        match (self, field) {
            (Kind::Records, 1) => Some(Kind::Record),
            (Kind::Record, 4) => Some(Kind::Data),
            (Kind::Record, 5) => Some(Kind::Change),
            (Kind::Change, 1 | 2) => Some(Kind::Data),
            (Kind::Data, 2) => Some(Kind::Struct),
            (Kind::Struct, 1) => Some(Kind::StructField),
            (Kind::StructField, 2) => Some(Kind::Value),
            (Kind::Value, 5) => Some(Kind::Struct),
            (Kind::Value, 6) => Some(Kind::List),
            (Kind::List, 1) => Some(Kind::Value),
            _ => None,
        }
    }

    /// Whether entering this kind is one level of structured data.
    fn is_level(self) -> bool {
        matches!(self, Kind::Struct | Kind::List)
    }
}

struct Frame {
    kind: Kind,
    end: usize,
    depth: usize,
}

fn varint(bytes: &[u8], pos: &mut usize) -> Option<u64> {
    let mut value: u64 = 0;
    for shift in (0..64).step_by(7) {
        let b = *bytes.get(*pos)?;
        *pos += 1;
        value |= u64::from(b & 0x7f) << shift;
        if b < 0x80 {
            return Some(value);
        }
    }
    None
}

/// Scans the wire bytes of a `root` message without recursion and fails when
/// structured data nests deeper than [`MAX_STRUCT_DEPTH`]. Malformed bytes
/// end the scan quietly: prost reports them when it decodes.
fn check_depth(root: Kind, bytes: &[u8]) -> Result<(), DecodeError> {
    // Deep enough for a record with flat structured data without growing.
    let mut stack = Vec::with_capacity(16);
    stack.push(Frame { kind: root, end: bytes.len(), depth: usize::from(root.is_level()) });
    let mut pos = 0;
    // Which record (for the error) and where inside it.
    let mut record = 0usize;
    let mut records_seen = 0usize;
    // The current record's position, as a range of `bytes` (copied only for an error).
    let mut position: Option<(usize, usize)> = None;
    let mut part: &'static str = "key";
    loop {
        while stack.last().is_some_and(|f| pos >= f.end) {
            stack.pop();
        }
        let Some(top) = stack.last() else { return Ok(()) };
        let (kind, end, depth) = (top.kind, top.end, top.depth);
        let Some(tag) = varint(bytes, &mut pos) else { return Ok(()) };
        let (field, wire) = (tag >> 3, tag & 7);
        match wire {
            0 => {
                if varint(bytes, &mut pos).is_none() {
                    return Ok(());
                }
            }
            1 => pos += 8,
            5 => pos += 4,
            2 => {
                let Some(len) = varint(bytes, &mut pos) else { return Ok(()) };
                let Ok(len) = usize::try_from(len) else { return Ok(()) };
                let Some(child_end) = pos.checked_add(len).filter(|e| *e <= end) else { return Ok(()) };
                match kind.child(field) {
                    Some(child) => {
                        match (kind, child) {
                            (Kind::Records, _) => {
                                record = records_seen;
                                records_seen += 1;
                                position = None;
                            }
                            (Kind::Record, Kind::Data) => part = "key",
                            (Kind::Change, _) => part = if field == 1 { "payload.before" } else { "payload.after" },
                            _ => {}
                        }
                        let depth = depth + usize::from(child.is_level());
                        if depth > MAX_STRUCT_DEPTH {
                            let position = position.and_then(|(start, end)| bytes.get(start..end)).map(<[u8]>::to_vec);
                            return Err(DecodeError::TooDeep { record, position, part });
                        }
                        stack.push(Frame { kind: child, end: child_end, depth });
                    }
                    None => {
                        if kind == Kind::Record && field == 1 {
                            position = Some((pos, child_end));
                        }
                        pos = child_end;
                    }
                }
            }
            _ => return Ok(()),
        }
        if pos > end {
            return Ok(());
        }
    }
}

/// The codec of the generated services and clients: prost's encoding, and
/// [`decode`] for decoding.
#[derive(Debug, Clone, Copy)]
pub struct PluginCodec<T, U>(PhantomData<Types<T, U>>);

type Types<T, U> = (fn() -> T, fn() -> U);

impl<T, U> Default for PluginCodec<T, U> {
    fn default() -> Self {
        PluginCodec(PhantomData)
    }
}

impl<T, U> Codec for PluginCodec<T, U>
where
    T: Message + Send + 'static,
    U: Message + Default + Send + 'static,
{
    type Encode = T;
    type Decode = U;
    type Encoder = tonic_prost::ProstEncoder<T>;
    type Decoder = PluginDecoder<U>;

    fn encoder(&mut self) -> Self::Encoder {
        tonic_prost::ProstEncoder::new(BufferSettings::default())
    }

    fn decoder(&mut self) -> Self::Decoder {
        PluginDecoder(PhantomData)
    }
}

/// Decodes with [`decode`]; a message nested too deep is an
/// `InvalidArgument` status that says so.
#[derive(Debug, Clone, Copy)]
pub struct PluginDecoder<U>(PhantomData<fn() -> U>);

impl<U: Message + Default + 'static> Decoder for PluginDecoder<U> {
    type Item = U;
    type Error = Status;

    fn decode(&mut self, buf: &mut DecodeBuf<'_>) -> Result<Option<U>, Status> {
        use prost::bytes::Buf;
        let len = buf.remaining();
        let result = if buf.chunk().len() == len {
            let r = decode::<U>(&buf.chunk()[..len]);
            buf.advance(len);
            r
        } else {
            let bytes = buf.copy_to_bytes(len);
            decode::<U>(&bytes)
        };
        match result {
            Ok(message) => Ok(Some(message)),
            Err(e @ DecodeError::TooDeep { .. }) => Err(Status::invalid_argument(e.to_string())),
            Err(e @ DecodeError::Invalid(_)) => Err(Status::internal(e.to_string())),
        }
    }
}

/// Encodes already-encoded message bytes as they are (for tests that send
/// what prost cannot build, e.g. 100,000 nested levels).
#[derive(Debug, Clone, Copy, Default)]
pub struct RawEncoder;

impl Encoder for RawEncoder {
    type Item = Vec<u8>;
    type Error = Status;

    fn encode(&mut self, item: Vec<u8>, buf: &mut EncodeBuf<'_>) -> Result<(), Status> {
        use prost::bytes::BufMut;
        buf.put_slice(&item);
        Ok(())
    }
}

/// A client codec that sends raw bytes and decodes responses of type `U`.
#[derive(Debug)]
pub struct RawCodec<U>(PhantomData<fn() -> U>);

impl<U> Default for RawCodec<U> {
    fn default() -> Self {
        RawCodec(PhantomData)
    }
}

impl<U: Message + Default + Send + 'static> Codec for RawCodec<U> {
    type Encode = Vec<u8>;
    type Decode = U;
    type Encoder = RawEncoder;
    type Decoder = PluginDecoder<U>;

    fn encoder(&mut self) -> RawEncoder {
        RawEncoder
    }

    fn decoder(&mut self) -> Self::Decoder {
        PluginDecoder(PhantomData)
    }
}

/// The wire bytes of a destination Run request with one record whose
/// `payload.after` is structured data nested `levels` deep
/// (`{"a":{"a":…{"a":null}}}`), built without recursion.
pub fn nested_run_request(position: &[u8], key: &[u8], levels: usize) -> Vec<u8> {
    fn put_len(out: &mut Vec<u8>, field: u64, len: usize) {
        put_varint(out, (field << 3) | 2);
        put_varint(out, len as u64);
    }
    fn put_varint(out: &mut Vec<u8>, mut v: u64) {
        while v >= 0x80 {
            out.push((v as u8) | 0x80);
            v >>= 7;
        }
        out.push(v as u8);
    }
    fn varint_len(v: usize) -> usize {
        let mut n = 1;
        let mut v = v >> 7;
        while v > 0 {
            n += 1;
            v >>= 7;
        }
        n
    }
    fn header_len(len: usize) -> usize {
        1 + varint_len(len)
    }
    // Innermost: Value{null_value: 0} (field 1 varint 0) = 2 bytes.
    // Level i (a Struct): StructField{key:"a", value: Value{struct_value: Struct}}.
    // Struct len(L) = header + StructField, StructField = key(3) + header + Value,
    // Value(inner struct) = header + Struct.
    let mut struct_lens = Vec::with_capacity(levels);
    let mut value_len = 2usize; // the innermost null Value
    for _ in 0..levels {
        let field_len = 3 + header_len(value_len) + value_len;
        let struct_len = header_len(field_len) + field_len;
        struct_lens.push((struct_len, field_len, value_len));
        value_len = header_len(struct_len) + struct_len;
    }
    let mut body = Vec::with_capacity(value_len + 64);
    // Record: position, operation=CREATE, key raw, payload{after: Data{structured}}.
    let outer = struct_lens.last().map_or(0, |s| s.0);
    let data_len = header_len(outer) + outer;
    let change_len = header_len(data_len) + data_len;
    let key_data_len = header_len(key.len()) + key.len();
    let record_len = header_len(position.len())
        + position.len()
        + 2
        + header_len(key_data_len)
        + key_data_len
        + header_len(change_len)
        + change_len;
    put_len(&mut body, 1, record_len);
    put_len(&mut body, 1, position.len());
    body.extend_from_slice(position);
    body.extend_from_slice(&[2 << 3, 1]);
    put_len(&mut body, 4, key_data_len);
    put_len(&mut body, 1, key.len());
    body.extend_from_slice(key);
    put_len(&mut body, 5, change_len);
    put_len(&mut body, 2, data_len);
    put_len(&mut body, 2, outer);
    for (i, &(struct_len, field_len, inner_value_len)) in struct_lens.iter().enumerate().rev() {
        let _ = struct_len;
        put_len(&mut body, 1, field_len);
        body.extend_from_slice(&[(1 << 3) | 2, 1, b'a']);
        put_len(&mut body, 2, inner_value_len);
        if i > 0 {
            put_len(&mut body, 5, struct_lens[i - 1].0);
        } else {
            body.extend_from_slice(&[1 << 3, 0]);
        }
    }
    body
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::opencdc::{Data, Record};

    fn depth_of(value: &serde_json::Value) -> usize {
        let mut depth = 0;
        let mut current = value;
        while let Some(inner) = current.as_object().and_then(|m| m.get("a")) {
            depth += 1;
            current = inner;
        }
        depth
    }

    #[test]
    fn nested_request_of_256_levels_decodes_and_converts() {
        let bytes = nested_run_request(b"p1", b"k", MAX_STRUCT_DEPTH);
        let request: pbconn::destination::run::Request = decode(&bytes).unwrap();
        let record = Record::try_from(request.records.into_iter().next().unwrap()).unwrap();
        // `run` reads the same record back from its JSON line.
        assert_eq!(Record::from_json(&record.to_json()).unwrap(), record);
        let Some(Data::Structured(after)) = record.payload.after else { panic!("structured payload") };
        assert_eq!(depth_of(&serde_json::Value::Object(after)), MAX_STRUCT_DEPTH);
    }

    #[test]
    fn nested_request_of_257_levels_is_refused_with_the_position() {
        let bytes = nested_run_request(b"p1", b"k", MAX_STRUCT_DEPTH + 1);
        let err = decode::<pbconn::destination::run::Request>(&bytes).unwrap_err();
        assert_eq!(err, DecodeError::TooDeep { record: 0, position: Some(b"p1".to_vec()), part: "payload.after" });
        assert!(err.to_string().contains("nested more than 256 levels deep"), "{err}");
        assert!(err.to_string().contains("\"p1\""), "{err}");
    }

    #[test]
    fn a_hundred_thousand_levels_are_refused_without_overflowing_the_stack() {
        let bytes = nested_run_request(b"deep", b"k", 100_000);
        assert!(matches!(decode::<pbconn::destination::run::Request>(&bytes), Err(DecodeError::TooDeep { .. })));
        // The same data as a bare record.
        let start = bytes.iter().position(|&b| b == b'd').unwrap_or(0).saturating_sub(2);
        assert!(decode::<pbcdc::Record>(&bytes[start..]).is_err());
    }

    #[test]
    fn lists_count_as_levels_and_raw_bytes_never_do() {
        // A raw payload that happens to look like deeply nested messages.
        let nested = nested_run_request(b"x", b"k", 1000);
        let record = pbcdc::Record {
            position: b"p".to_vec(),
            operation: 1,
            payload: Some(pbcdc::Change {
                before: None,
                after: Some(pbcdc::Data { data: Some(pbcdc::data::Data::RawData(nested)) }),
            }),
            ..Default::default()
        };
        let request = pbconn::destination::run::Request { records: vec![record] };
        assert!(decode::<pbconn::destination::run::Request>(&request.encode_to_vec()).is_ok());

        let mut value = pbcdc::Value { kind: Some(pbcdc::value::Kind::NullValue(0)) };
        for _ in 0..MAX_STRUCT_DEPTH {
            value =
                pbcdc::Value { kind: Some(pbcdc::value::Kind::ListValue(pbcdc::ListValue { values: vec![value] })) };
        }
        assert!(decode::<pbcdc::Value>(&value.encode_to_vec()).is_ok());
        let value =
            pbcdc::Value { kind: Some(pbcdc::value::Kind::ListValue(pbcdc::ListValue { values: vec![value] })) };
        assert!(decode::<pbcdc::Value>(&value.encode_to_vec()).is_err());
    }

    #[test]
    fn malformed_bytes_are_an_error_not_a_panic() {
        for bytes in [&[0x0a, 0xff][..], &[0x0a, 0x05, 0x22], &[0xff; 12], &[0x0b]] {
            let _ = decode::<pbconn::destination::run::Request>(bytes);
        }
    }
}
