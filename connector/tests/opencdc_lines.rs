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
    assert_eq!(e, "line 6: invalid JSON at line 2, column 1: unexpected end of JSON input");
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
