//! Reading OpenCDC JSON lines.

use std::io::{BufReader, Read};

use conduit_connector::opencdc::{JsonLines, Operation, RecordError};

#[test]
fn blank_lines_are_skipped_and_line_numbers_count_them() {
    let input =
        "{\"operation\":\"create\"}\n\n   \r\n{\"operation\":\"bogus\"}\n{\"operation\":\"delete\"}\r\n{\"key\":\n";
    let results: Vec<_> = JsonLines::new(input.as_bytes()).collect();
    assert_eq!(results.len(), 4);
    assert_eq!(results[0].as_ref().unwrap().operation, Operation::Create);
    let e = results[1].as_ref().unwrap_err();
    assert!(matches!(e, RecordError::Line { line: 4, .. }), "{e:?}");
    assert_eq!(e.to_string(), r#"line 4: invalid field operation: operation "bogus": unknown operation"#);
    assert_eq!(results[2].as_ref().unwrap().operation, Operation::Delete);
    let e = results[3].as_ref().unwrap_err().to_string();
    assert_eq!(e, "line 6: invalid JSON at line 2, column 1: EOF while parsing a value (in field key)");
}

#[test]
fn last_line_without_newline_is_read() {
    let mut lines = JsonLines::new(&b"{}\n{\"operation\":\"update\"}"[..]);
    assert!(lines.next().unwrap().is_ok());
    assert_eq!(lines.next().unwrap().unwrap().operation, Operation::Update);
    assert!(lines.next().is_none());
    assert_eq!(lines.line_number(), 2);
}

#[test]
fn empty_input_yields_nothing() {
    assert_eq!(JsonLines::new(&b""[..]).count(), 0);
    assert_eq!(JsonLines::new(&b"\n\n \n"[..]).count(), 0);
}

struct Failing;

impl Read for Failing {
    fn read(&mut self, _: &mut [u8]) -> std::io::Result<usize> {
        Err(std::io::Error::other("disk on fire"))
    }
}

#[test]
fn io_errors_name_the_line_and_end_the_iteration() {
    let reader = BufReader::new((&b"{}\n"[..]).chain(Failing));
    let mut lines = JsonLines::new(reader);
    assert!(lines.next().unwrap().is_ok());
    let e = lines.next().unwrap().unwrap_err();
    assert_eq!(e.to_string(), "line 2: failed to read input: disk on fire");
    assert!(lines.next().is_none());
}

/// A reader producing the same line forever (up to a count), never holding the whole input.
struct Repeat {
    line: &'static [u8],
    remaining: usize,
    offset: usize,
}

impl Read for Repeat {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        if self.remaining == 0 {
            return Ok(0);
        }
        let rest = &self.line[self.offset..];
        let n = rest.len().min(buf.len());
        buf[..n].copy_from_slice(&rest[..n]);
        self.offset += n;
        if self.offset == self.line.len() {
            self.offset = 0;
            self.remaining -= 1;
        }
        Ok(n)
    }
}

#[test]
fn streams_many_records_with_a_bounded_buffer() {
    let line: &'static [u8] = br#"{"position":"Zm9v","operation":"create","metadata":{"a":"b"},"key":"YmFy","payload":{"before":null,"after":{"x":1}}}
"#;
    let reader = BufReader::with_capacity(64, Repeat { line, remaining: 20_000, offset: 0 });
    let mut lines = JsonLines::new(reader);
    let mut count = 0;
    for record in lines.by_ref() {
        record.unwrap();
        count += 1;
    }
    assert_eq!(count, 20_000);
    assert_eq!(lines.line_number(), 20_000);
    let reader = lines.into_inner();
    assert!(reader.buffer().is_empty());
}

#[test]
fn a_line_over_the_limit_fails_alone_and_reading_goes_on() {
    let ok = "{\"operation\":\"create\"}"; // 22 bytes
    let long = format!("{{\"operation\":\"create\",\"key\":\"{}\"}}", "QUFB".repeat(100));
    let input = format!("{ok}\n{long}\n{ok}\r\n{long}\n{ok}");
    let results: Vec<_> = JsonLines::new(input.as_bytes()).max_line_bytes(23).collect();
    assert_eq!(results.len(), 5);
    for i in [0, 2, 4] {
        assert_eq!(results[i].as_ref().unwrap().operation, Operation::Create, "line {}", i + 1);
    }
    for (i, line) in [(1, 2), (3, 4)] {
        let e = results[i].as_ref().unwrap_err();
        assert!(matches!(e, RecordError::Line { line: l, .. } if *l == line), "{e:?}");
        assert_eq!(e.to_string(), format!("line {line}: the line is longer than the limit of 23 bytes"));
    }
}

#[test]
fn the_limit_counts_the_line_without_its_newline() {
    let line = b"{\"operation\":\"create\"}"; // 22 bytes
    for input in [&b"{\"operation\":\"create\"}\n"[..], line] {
        let mut lines = JsonLines::new(input).max_line_bytes(22);
        assert!(lines.next().unwrap().is_ok());
        assert!(lines.next().is_none());
        let mut lines = JsonLines::new(input).max_line_bytes(21);
        assert!(lines.next().unwrap().is_err(), "{:?}", String::from_utf8_lossy(input));
        assert!(lines.next().is_none());
    }
}

#[test]
fn an_endless_line_is_skipped_without_being_stored() {
    // 256 MiB of one line through a 64 KiB buffer, limited to 1 KiB: read past, never held.
    let huge = std::io::repeat(b'a').take(256 << 20).chain(&b"\n{}\n"[..]);
    let mut lines = JsonLines::new(BufReader::with_capacity(1 << 16, huge)).max_line_bytes(1024);
    let e = lines.next().unwrap().unwrap_err();
    assert_eq!(e.to_string(), "line 1: the line is longer than the limit of 1024 bytes");
    assert_eq!(lines.last_line_len(), (256 << 20) + 1);
    assert!(lines.next().unwrap().is_ok());
    assert_eq!(lines.last_line_len(), 3);
    assert!(lines.next().is_none());
}
