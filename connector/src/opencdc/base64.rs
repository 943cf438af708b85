//! Standard base64 (RFC 4648 §4, with padding), as Go's `base64.StdEncoding`, on the
//! `base64` crate.
//!
//! Encoding always pads. Decoding requires padding, ignores `\r` and `\n` (as Go does) and
//! accepts non-zero trailing bits (Go's non-strict mode); errors give the offset Go reports.

use base64::DecodeSliceError;
use base64::Engine as _;
use base64::engine::DecodePaddingMode;
use base64::engine::general_purpose::{GeneralPurpose, GeneralPurposeConfig};

/// Go's `base64.StdEncoding`: the standard alphabet, padding written and required, trailing
/// bits not checked.
const GO_STD: GeneralPurpose = GeneralPurpose::new(
    &base64::alphabet::STANDARD,
    GeneralPurposeConfig::new()
        .with_encode_padding(true)
        .with_decode_padding_mode(DecodePaddingMode::RequireCanonical)
        .with_decode_allow_trailing_bits(true),
);

/// The length of the padded encoding of `n` bytes.
pub(crate) const fn encoded_len(n: usize) -> usize {
    n.div_ceil(3) * 4
}

/// Appends the padded base64 encoding of `input` to `out`.
pub(crate) fn encode_into(input: &[u8], out: &mut Vec<u8>) {
    let start = out.len();
    out.resize(start + encoded_len(input.len()), 0);
    // The slice is exactly the padded length, so encoding cannot run out of room.
    let written = GO_STD.encode_slice(input, &mut out[start..]).unwrap_or(0);
    out.truncate(start + written);
}

/// Base64 input that is not valid padded standard base64.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Base64Error {
    /// Offset of the offending byte in the input (after removing line breaks).
    pub(crate) offset: usize,
}

impl std::fmt::Display for Base64Error {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "illegal base64 data at input byte {}", self.offset)
    }
}

/// Decodes padded standard base64.
pub(crate) fn decode(input: &[u8]) -> Result<Vec<u8>, Base64Error> {
    // Line breaks are rare: look for them only when the input does not decode as it is.
    match decode_clean(input) {
        Err(_) if input.iter().any(|&b| b == b'\r' || b == b'\n') => {
            let filtered: Vec<u8> = input.iter().copied().filter(|&b| b != b'\r' && b != b'\n').collect();
            decode_clean(&filtered)
        }
        other => other,
    }
}

fn decode_clean(input: &[u8]) -> Result<Vec<u8>, Base64Error> {
    let mut out = vec![0; input.len() / 4 * 3 + 3];
    match GO_STD.decode_slice(input, &mut out) {
        Ok(n) => {
            out.truncate(n);
            Ok(out)
        }
        Err(e) => Err(Base64Error { offset: go_offset(input, e) }),
    }
}

/// The offset Go's decoder reports for input the crate rejects: the first byte that is not
/// part of a valid quantum.
fn go_offset(input: &[u8], error: DecodeSliceError) -> usize {
    use base64::DecodeError;
    let is_symbol = |b: u8| b.is_ascii_alphanumeric() || b == b'+' || b == b'/';
    match error {
        DecodeSliceError::DecodeError(DecodeError::InvalidByte(offset, _))
        | DecodeSliceError::DecodeError(DecodeError::InvalidLastSymbol(offset, _)) => {
            // A quantum ending in padding followed by more input: Go reports the padding.
            let quantum = offset / 4 * 4;
            input[quantum..offset.min(input.len())].iter().position(|&b| b == b'=').map_or(offset, |p| quantum + p)
        }
        // An incomplete final quantum or misplaced padding: the first byte of the last
        // quantum that is not a symbol, else the end of the input.
        DecodeSliceError::DecodeError(DecodeError::InvalidLength(_) | DecodeError::InvalidPadding)
        | DecodeSliceError::OutputSliceTooSmall => {
            let last = if input.len().is_multiple_of(4) { input.len().saturating_sub(4) } else { input.len() / 4 * 4 };
            input[last..].iter().position(|&b| !is_symbol(b)).map_or(input.len(), |p| last + p)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn enc(s: &[u8]) -> String {
        let mut v = Vec::new();
        encode_into(s, &mut v);
        String::from_utf8(v).unwrap()
    }

    #[test]
    fn encodes_rfc4648_vectors_with_padding() {
        let cases: [(&[u8], &str); 7] = [
            (b"", ""),
            (b"f", "Zg=="),
            (b"fo", "Zm8="),
            (b"foo", "Zm9v"),
            (b"foob", "Zm9vYg=="),
            (b"fooba", "Zm9vYmE="),
            (b"foobar", "Zm9vYmFy"),
        ];
        for (raw, want) in cases {
            assert_eq!(enc(raw), want);
            assert_eq!(decode(want.as_bytes()).unwrap(), raw);
        }
    }

    #[test]
    fn decode_ignores_line_breaks_and_rejects_garbage() {
        assert_eq!(decode(b"Zm9v\r\nYmFy").unwrap(), b"foobar");
        assert_eq!(decode(b"Zm9").unwrap_err().offset, 3);
        assert_eq!(decode(b"Zm*v").unwrap_err().offset, 2);
        assert_eq!(decode(b"Zg=a").unwrap_err().offset, 2);
        assert_eq!(decode(b"Zg==Zm9v").unwrap_err().offset, 2);
        assert_eq!(decode(b"====").unwrap_err().offset, 0);
    }

    #[test]
    fn round_trips_all_lengths() {
        let data: Vec<u8> = (0..=255u8).collect();
        for n in 0..data.len() {
            let e = enc(&data[..n]);
            assert_eq!(decode(e.as_bytes()).unwrap(), &data[..n]);
        }
    }
}
