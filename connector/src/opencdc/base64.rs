//! Standard base64 (RFC 4648 §4, with padding), as Go's `base64.StdEncoding`.
//!
//! Encoding always pads. Decoding requires padding, ignores `\r` and `\n` (as Go does) and
//! accepts non-zero trailing bits (Go's non-strict mode).

const ALPHABET: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

const INVALID: u8 = 0xFF;

const DECODE: [u8; 256] = {
    let mut table = [INVALID; 256];
    let mut i = 0;
    while i < 64 {
        table[ALPHABET[i] as usize] = i as u8;
        i += 1;
    }
    table
};

/// The length of the padded encoding of `n` bytes.
pub(crate) const fn encoded_len(n: usize) -> usize {
    n.div_ceil(3) * 4
}

/// Appends the padded base64 encoding of `input` to `out`.
pub(crate) fn encode_into(input: &[u8], out: &mut Vec<u8>) {
    let start = out.len();
    out.resize(start + encoded_len(input.len()), 0);
    let dst = &mut out[start..];
    let chunks = input.chunks_exact(3);
    let rest = chunks.remainder();
    let mut written = 0;
    for (src, dst) in chunks.zip(dst.chunks_exact_mut(4)) {
        let n = (u32::from(src[0]) << 16) | (u32::from(src[1]) << 8) | u32::from(src[2]);
        dst[0] = ALPHABET[(n >> 18) as usize & 63];
        dst[1] = ALPHABET[(n >> 12) as usize & 63];
        dst[2] = ALPHABET[(n >> 6) as usize & 63];
        dst[3] = ALPHABET[n as usize & 63];
        written += 4;
    }
    let tail = &mut dst[written..];
    match *rest {
        [a] => {
            let n = u32::from(a) << 16;
            tail[0] = ALPHABET[(n >> 18) as usize & 63];
            tail[1] = ALPHABET[(n >> 12) as usize & 63];
            tail[2] = b'=';
            tail[3] = b'=';
        }
        [a, b] => {
            let n = (u32::from(a) << 16) | (u32::from(b) << 8);
            tail[0] = ALPHABET[(n >> 18) as usize & 63];
            tail[1] = ALPHABET[(n >> 12) as usize & 63];
            tail[2] = ALPHABET[(n >> 6) as usize & 63];
            tail[3] = b'=';
        }
        _ => {}
    }
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
    if input.iter().any(|&b| b == b'\r' || b == b'\n') {
        let filtered: Vec<u8> = input.iter().copied().filter(|&b| b != b'\r' && b != b'\n').collect();
        return decode_clean(&filtered);
    }
    decode_clean(input)
}

fn decode_clean(input: &[u8]) -> Result<Vec<u8>, Base64Error> {
    if input.is_empty() {
        return Ok(Vec::new());
    }
    let full = input.len() / 4;
    if !input.len().is_multiple_of(4) {
        // An incomplete final quantum: Go reports the end of the input.
        let last = full * 4;
        let bad = input[last..].iter().position(|&b| DECODE[b as usize] == INVALID);
        return Err(Base64Error { offset: last + bad.unwrap_or(input.len() - last) });
    }
    let mut out = Vec::with_capacity(full * 3);
    let (body, last) = input.split_at((full - 1) * 4);
    for (q, chunk) in body.chunks_exact(4).enumerate() {
        let a = DECODE[chunk[0] as usize];
        let b = DECODE[chunk[1] as usize];
        let c = DECODE[chunk[2] as usize];
        let d = DECODE[chunk[3] as usize];
        if a == INVALID || b == INVALID || c == INVALID || d == INVALID {
            let i = chunk.iter().position(|&x| DECODE[x as usize] == INVALID).unwrap_or(0);
            return Err(Base64Error { offset: q * 4 + i });
        }
        let n = (u32::from(a) << 18) | (u32::from(b) << 12) | (u32::from(c) << 6) | u32::from(d);
        out.extend_from_slice(&[(n >> 16) as u8, (n >> 8) as u8, n as u8]);
    }
    let base = (full - 1) * 4;
    let val = |i: usize| -> Result<u32, Base64Error> {
        match DECODE[last[i] as usize] {
            INVALID => Err(Base64Error { offset: base + i }),
            v => Ok(u32::from(v)),
        }
    };
    let a = val(0)?;
    let b = val(1)?;
    match (last[2], last[3]) {
        (b'=', b'=') => {
            let n = (a << 18) | (b << 12);
            out.push((n >> 16) as u8);
        }
        (b'=', _) => return Err(Base64Error { offset: base + 2 }),
        (_, b'=') => {
            let c = val(2)?;
            let n = (a << 18) | (b << 12) | (c << 6);
            out.extend_from_slice(&[(n >> 16) as u8, (n >> 8) as u8]);
        }
        _ => {
            let c = val(2)?;
            let d = val(3)?;
            let n = (a << 18) | (b << 12) | (c << 6) | d;
            out.extend_from_slice(&[(n >> 16) as u8, (n >> 8) as u8, n as u8]);
        }
    }
    Ok(out)
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
