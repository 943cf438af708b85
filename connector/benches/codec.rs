//! OpenCDC JSON codec benchmarks: encode and decode one record, and read JSON lines, for raw
//! payloads of 64 B, 1 KiB and 64 KiB; decode of a record with a structured payload of 4, 32
//! and 256 fields.
//!
//! `cargo bench -p conduit-connector --bench codec`

use std::hint::black_box;

use conduit_connector::cli::generated_record;
use conduit_connector::opencdc::{Data, JsonLines, Record};

const SIZES: [usize; 3] = [64, 1024, 64 * 1024];

fn main() {
    divan::main();
}

/// `Record::write_json` into a reused buffer.
#[divan::bench(args = SIZES)]
fn encode(bencher: divan::Bencher<'_, '_>, size: usize) {
    let record = generated_record(1, size);
    let mut out = Vec::new();
    bencher.counter(divan::counter::BytesCount::new(size)).bench_local(|| {
        out.clear();
        black_box(&record).write_json(&mut out);
        out.len()
    });
}

/// `Record::from_json` of one line.
#[divan::bench(args = SIZES)]
fn decode(bencher: divan::Bencher<'_, '_>, size: usize) {
    let line = generated_record(1, size).to_json();
    bencher
        .counter(divan::counter::BytesCount::new(size))
        .bench_local(|| Record::from_json(black_box(&line)).map(|r| r.position.0.len()).unwrap_or(0));
}

/// A record whose payload is structured: `fields` entries of strings, numbers, bools and a
/// nested object.
fn structured_record(fields: usize) -> Record {
    let mut map = conduit_connector::opencdc::StructuredData::new();
    for i in 0..fields {
        let value = match i % 4 {
            0 => serde_json::json!(format!("value <{i}> with some text")),
            1 => serde_json::json!(i as f64 * 1.25),
            2 => serde_json::json!(i % 3 == 0),
            _ => serde_json::json!({"id": i, "tags": ["a", "b"], "note": null}),
        };
        map.insert(format!("field_{i}"), value);
    }
    let mut record = generated_record(1, 16);
    record.payload.after = Some(Data::Structured(map));
    record
}

/// `Record::from_json` of one line with a structured payload.
#[divan::bench(args = [4, 32, 256])]
fn decode_structured(bencher: divan::Bencher<'_, '_>, fields: usize) {
    let line = structured_record(fields).to_json();
    bencher
        .counter(divan::counter::BytesCount::new(line.len()))
        .bench_local(|| Record::from_json(black_box(&line)).map(|r| r.position.0.len()).unwrap_or(0));
}

/// `JsonLines` over 1,000 lines held in memory (the `run` command's reader).
#[divan::bench(args = SIZES)]
fn json_lines_1000(bencher: divan::Bencher<'_, '_>, size: usize) {
    let mut input = Vec::new();
    for i in 0..1000 {
        generated_record(i, size).write_json(&mut input);
        input.push(b'\n');
    }
    bencher
        .counter(divan::counter::ItemsCount::new(1000usize))
        .bench_local(|| JsonLines::new(black_box(&input[..])).filter(Result::is_ok).count());
}
