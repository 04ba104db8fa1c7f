//! RDB length prefixes: 6-, 14-, 32- and 64-bit lengths (big-endian) and the `11xxxxxx` marker
//! that introduces an encoded string; `write` mirrors `read` byte for byte.
use crate::format::error::{Error, Result};
use crate::format::source::Source;
use std::io::Read;

/// A decoded length prefix.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Length {
    /// A plain length.
    Len(u64),
    /// `11xxxxxx`: an encoded string follows; the low 6 bits name the encoding.
    Encoded(u8),
}

/// Reads a length prefix that may be an encoding marker.
#[inline]
pub fn read_any<R: Read>(src: &mut Source<R>, what: &'static str) -> Result<Length> {
    let at = src.pos();
    let b = src.u8(what)?;
    Ok(match b >> 6 {
        0 => Length::Len((b & 0x3f) as u64),
        1 => Length::Len((((b & 0x3f) as u64) << 8) | src.u8(what)? as u64),
        2 => match b {
            0x80 => Length::Len(u32::from_be_bytes(src.array(what)?) as u64),
            0x81 => Length::Len(u64::from_be_bytes(src.array(what)?)),
            _ => {
                return Err(Error::corrupt(
                    at,
                    what,
                    format!("unknown length encoding {b:#04x}"),
                ));
            }
        },
        _ => Length::Encoded(b & 0x3f),
    })
}

/// Reads a plain length. Like Redis's `rdbLoadLen(rdb, NULL)`, an encoding marker is taken as
/// the value of its low 6 bits: real loaders accept it, so this reader does too.
#[inline]
pub fn read<R: Read>(src: &mut Source<R>, what: &'static str) -> Result<u64> {
    Ok(match read_any(src, what)? {
        Length::Len(n) => n,
        Length::Encoded(e) => e as u64,
    })
}

/// Appends the shortest length prefix for `n`, as Redis writes it.
pub fn write(out: &mut Vec<u8>, n: u64) {
    if n < 1 << 6 {
        out.push(n as u8);
    } else if n < 1 << 14 {
        out.extend_from_slice(&[0x40 | (n >> 8) as u8, n as u8]);
    } else if n <= u32::MAX as u64 {
        out.push(0x80);
        out.extend_from_slice(&(n as u32).to_be_bytes());
    } else {
        out.push(0x81);
        out.extend_from_slice(&n.to_be_bytes());
    }
}

/// Appends an encoding marker for encoding id `e` (0 to 63).
pub fn write_encoded(out: &mut Vec<u8>, e: u8) {
    out.push(0xc0 | (e & 0x3f));
}

/// Copies one length prefix verbatim from `src` into `out`, returning its value; used where
/// bytes must be kept exactly as stored (module payloads).
pub fn copy_raw<R: Read>(
    src: &mut Source<R>,
    out: &mut Vec<u8>,
    what: &'static str,
) -> Result<Length> {
    let at = src.pos();
    let b = src.u8(what)?;
    out.push(b);
    Ok(match b >> 6 {
        0 => Length::Len((b & 0x3f) as u64),
        1 => {
            let c = src.u8(what)?;
            out.push(c);
            Length::Len((((b & 0x3f) as u64) << 8) | c as u64)
        }
        2 => match b {
            0x80 => {
                let a: [u8; 4] = src.array(what)?;
                out.extend_from_slice(&a);
                Length::Len(u32::from_be_bytes(a) as u64)
            }
            0x81 => {
                let a: [u8; 8] = src.array(what)?;
                out.extend_from_slice(&a);
                Length::Len(u64::from_be_bytes(a))
            }
            _ => {
                return Err(Error::corrupt(
                    at,
                    what,
                    format!("unknown length encoding {b:#04x}"),
                ))
            }
        },
        _ => Length::Encoded(b & 0x3f),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::format::Limits;

    fn decode(bytes: &[u8]) -> Result<u64> {
        let mut s = Source::new(bytes, Some(bytes.len() as u64), Limits::DEFAULT);
        read(&mut s, "length")
    }

    /// Hand-written byte layouts from the format reference (section 3.1).
    #[test]
    fn known_layouts() {
        assert_eq!(decode(&[0x3f]).unwrap(), 63);
        assert_eq!(decode(&[0x40, 0x40]).unwrap(), 64);
        assert_eq!(decode(&[0x7f, 0xff]).unwrap(), 16383);
        assert_eq!(decode(&[0x80, 0, 0, 0x40, 0]).unwrap(), 16384);
        assert_eq!(decode(&[0x81, 0, 0, 0, 1, 0, 0, 0, 0]).unwrap(), 1 << 32);
        assert_eq!(
            decode(&[0xc0]).unwrap(),
            0,
            "encoding marker read as a plain length"
        );
        assert_eq!(
            decode(&[0x82]).unwrap_err().kind,
            crate::format::ErrorKind::Corrupt
        );
        assert_eq!(
            decode(&[0x81, 0, 0]).unwrap_err().kind,
            crate::format::ErrorKind::Truncated
        );
    }

    #[test]
    fn write_is_shortest_and_reads_back() {
        for n in [
            0,
            63,
            64,
            16383,
            16384,
            u32::MAX as u64,
            u32::MAX as u64 + 1,
            u64::MAX,
        ] {
            let mut out = Vec::new();
            write(&mut out, n);
            let width = match n {
                0..=63 => 1,
                64..=16383 => 2,
                16384..=0xffff_ffff => 5,
                _ => 9,
            };
            assert_eq!(out.len(), width, "{n}");
            assert_eq!(decode(&out).unwrap(), n);
        }
    }
}
