//! OpenCDC JSON codec benchmarks: encode and decode one record, and read JSON lines, for raw
//! payloads of 64 B, 1 KiB and 64 KiB.
//!
//! `cargo bench -p conduit-connector --bench codec`

use std::hint::black_box;

use conduit_connector::cli::generated_record;
use conduit_connector::opencdc::{JsonLines, Record};

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
