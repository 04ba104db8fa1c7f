//! Ziplists (list, hash and zset blobs of Redis 2.4 to 6.2): header, entries with `prevlen`,
//! end byte; every rule Redis's deep validation applies is checked before an element is used.
use super::elem::Elem;
use crate::format::bytes::Bytes;
use crate::format::error::{Error, Result};

const HEADER: usize = 10;
const END: u8 = 0xff;
/// `zllen` value meaning "count unknown, traverse".
pub const UNKNOWN_COUNT: u16 = u16::MAX;

/// Walks a ziplist, calling `f` for each element in order; returns the element count.
pub fn for_each<'a>(blob: &'a [u8], mut f: impl FnMut(Elem<'a>) -> Result<()>) -> Result<u64> {
    let mut c = Bytes::new(blob);
    let zlbytes = c.le_u32("ziplist header")? as usize;
    let zltail = c.le_u32("ziplist header")? as usize;
    let zllen = c.le_u16("ziplist header")?;
    if zlbytes != blob.len() {
        return Err(Error::corrupt(
            0,
            "ziplist header",
            format!("zlbytes {zlbytes} but blob has {} bytes", blob.len()),
        ));
    }
    if blob.len() < HEADER + 1 || blob[blob.len() - 1] != END {
        return Err(Error::corrupt(
            blob.len().saturating_sub(1) as u64,
            "ziplist end",
            "missing 0xff end byte",
        ));
    }
    if zltail > blob.len() - 1 {
        return Err(Error::corrupt(
            4,
            "ziplist header",
            format!("zltail {zltail} beyond the blob"),
        ));
    }
    let mut count: u64 = 0;
    let mut prev_size: usize = 0;
    let mut last_start = HEADER;
    loop {
        let start = c.pos();
        if c.peek("ziplist entry")? == END {
            if start != blob.len() - 1 {
                return Err(Error::corrupt(
                    start as u64,
                    "ziplist end",
                    "end byte before the end of the blob",
                ));
            }
            break;
        }
        let prevlen = match c.u8("ziplist entry prevlen")? {
            b @ 0..=253 => b as usize,
            254 => c.le_u32("ziplist entry prevlen")? as usize,
            _ => unreachable!("0xff handled above"),
        };
        if prevlen != prev_size {
            return Err(Error::corrupt(
                start as u64,
                "ziplist entry prevlen",
                format!("prevlen {prevlen} but previous entry is {prev_size} bytes"),
            ));
        }
        let enc_at = c.pos();
        let b = c.u8("ziplist entry encoding")?;
        let elem = match b >> 6 {
            0 => Elem::Str(c.take((b & 0x3f) as usize, "ziplist string")?),
            1 => {
                let n = (((b & 0x3f) as usize) << 8) | c.u8("ziplist string length")? as usize;
                Elem::Str(c.take(n, "ziplist string")?)
            }
            2 => {
                if b != 0x80 {
                    return Err(Error::corrupt(
                        enc_at as u64,
                        "ziplist entry encoding",
                        format!("invalid encoding {b:#04x}"),
                    ));
                }
                let n = u32::from_be_bytes(c.array("ziplist string length")?) as usize;
                Elem::Str(c.take(n, "ziplist string")?)
            }
            _ => match b {
                0xc0 => Elem::Int(i16::from_le_bytes(c.array("ziplist int16")?) as i64),
                0xd0 => Elem::Int(i32::from_le_bytes(c.array("ziplist int32")?) as i64),
                0xe0 => Elem::Int(i64::from_le_bytes(c.array("ziplist int64")?)),
                0xf0 => {
                    let a: [u8; 3] = c.array("ziplist int24")?;
                    Elem::Int((i32::from_le_bytes([0, a[0], a[1], a[2]]) >> 8) as i64)
                }
                0xfe => Elem::Int(c.u8("ziplist int8")? as i8 as i64),
                0xf1..=0xfd => Elem::Int(((b & 0x0f) as i64) - 1),
                _ => {
                    return Err(Error::corrupt(
                        enc_at as u64,
                        "ziplist entry encoding",
                        format!("invalid encoding {b:#04x}"),
                    ));
                }
            },
        };
        prev_size = c.pos() - start;
        last_start = start;
        count += 1;
        f(elem).map_err(|e| e.at_base(0))?;
    }
    let expected_tail = if count == 0 { HEADER } else { last_start };
    if zltail != expected_tail {
        return Err(Error::corrupt(
            4,
            "ziplist header",
            format!("zltail {zltail} but last entry starts at {expected_tail}"),
        ));
    }
    if zllen != UNKNOWN_COUNT && zllen as u64 != count {
        return Err(Error::corrupt(
            8,
            "ziplist header",
            format!("zllen {zllen} but {count} entries"),
        ));
    }
    Ok(count)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The worked example from the format reference, section 7.1: ("2", "5").
    #[test]
    fn reference_example() {
        let blob = [
            0x0f, 0, 0, 0, 0x0c, 0, 0, 0, 0x02, 0, 0x00, 0xf3, 0x02, 0xf6, 0xff,
        ];
        let mut got = vec![];
        assert_eq!(
            for_each(&blob, |e| {
                got.push(e.to_vec());
                Ok(())
            })
            .unwrap(),
            2
        );
        assert_eq!(got, vec![b"2".to_vec(), b"5".to_vec()]);
        let empty = [0x0b, 0, 0, 0, 0x0a, 0, 0, 0, 0, 0, 0xff];
        assert_eq!(for_each(&empty, |_| Ok(())).unwrap(), 0);
    }

    #[test]
    fn corruption_is_found() {
        let mut blob = vec![
            0x0f, 0, 0, 0, 0x0c, 0, 0, 0, 0x02, 0, 0x00, 0xf3, 0x02, 0xf6, 0xff,
        ];
        blob[12] = 0x03; // wrong prevlen
        assert!(for_each(&blob, |_| Ok(())).is_err());
        assert!(for_each(b"xxxxx", |_| Ok(())).is_err());
        // `ziplistValidateIntegrity`: zltail may be at most the offset of the end byte.
        let mut blob = vec![
            0x0f, 0, 0, 0, 0x0c, 0, 0, 0, 0x02, 0, 0x00, 0xf3, 0x02, 0xf6, 0xff,
        ];
        blob[4] = 15;
        let e = for_each(&blob, |_| Ok(())).unwrap_err();
        assert!(e.to_string().contains("beyond the blob"), "{e}");
    }

    /// `zipTryEncoding` and `zipStoreEntryEncoding`: integer text takes the smallest of
    /// ZIP_INT_IMM (0xf1 + v for 0..=12), ZIP_INT_8B (0xfe), ZIP_INT_16B (0xc0), ZIP_INT_24B (0xf0,
    /// -2^23..2^23), ZIP_INT_32B (0xd0) and ZIP_INT_64B (0xe0), little-endian after the byte.
    #[test]
    fn builder_integers_take_redis_smallest_encoding() {
        let cases: &[(&[u8], &[u8])] = &[
            (b"12", &[0xfd]),
            (b"13", &[0xfe, 13]),
            (b"-128", &[0xfe, 0x80]),
            (b"128", &[0xc0, 0x80, 0x00]),
            (b"-129", &[0xc0, 0x7f, 0xff]),
            (b"32767", &[0xc0, 0xff, 0x7f]),
            (b"32768", &[0xf0, 0x00, 0x80, 0x00]),
            (b"-32769", &[0xf0, 0xff, 0x7f, 0xff]),
            (b"8388607", &[0xf0, 0xff, 0xff, 0x7f]),
            (b"-8388608", &[0xf0, 0x00, 0x00, 0x80]),
            (b"8388608", &[0xd0, 0x00, 0x00, 0x80, 0x00]),
            (b"-8388609", &[0xd0, 0xff, 0xff, 0x7f, 0xff]),
            (b"2147483648", &[0xe0, 0, 0, 0, 0x80, 0, 0, 0, 0]),
        ];
        for (text, enc) in cases {
            let mut b = Builder::new();
            b.push(text);
            let blob = b.finish();
            // Header (10 bytes), prevlen 0, the encoding, the end byte.
            assert_eq!(&blob[11..blob.len() - 1], *enc, "{:?}", text);
            let mut got = vec![];
            for_each(&blob, |e| {
                got.push(e.to_vec());
                Ok(())
            })
            .unwrap();
            assert_eq!(got, vec![text.to_vec()]);
        }
    }

    /// ZIP_BIG_PREVLEN: a previous entry of up to 253 bytes is one prevlen byte; from 254 the
    /// prevlen is 0xfe and the size as a little-endian u32. A 250-byte string takes 253 bytes
    /// (prevlen 1, 14-bit header 2, data), a 251-byte one 254.
    #[test]
    fn builder_prevlen_takes_five_bytes_from_254() {
        for (n, prevlen) in [(250usize, &[253u8][..]), (251, &[0xfe, 254, 0, 0, 0][..])] {
            let mut b = Builder::new();
            b.push(&vec![b'x'; n]);
            b.push(b"a");
            let blob = b.finish();
            let next = HEADER + 3 + n;
            assert_eq!(&blob[next..next + prevlen.len()], prevlen, "{n}");
            assert_eq!(for_each(&blob, |_| Ok(())).unwrap(), 2);
        }
    }
}

/// Builds a ziplist the way Redis's `ziplistPush` does: strings shorter than 32 bytes holding
/// canonical int64 text become integers in the smallest encoding (0 to 12 as immediates).
#[derive(Debug, Clone)]
pub struct Builder {
    buf: Vec<u8>,
    count: usize,
    prev_size: usize,
    last_start: usize,
}

impl Default for Builder {
    fn default() -> Self {
        Builder::new()
    }
}

impl Builder {
    /// An empty ziplist.
    pub fn new() -> Builder {
        Builder {
            buf: vec![0; HEADER],
            count: 0,
            prev_size: 0,
            last_start: HEADER,
        }
    }

    /// Bytes the finished ziplist will take.
    pub fn len(&self) -> usize {
        self.buf.len() + 1
    }

    /// Whether no entry was added.
    pub fn is_empty(&self) -> bool {
        self.count == 0
    }

    /// Appends one entry.
    pub fn push(&mut self, s: &[u8]) {
        let start = self.buf.len();
        if self.prev_size < 254 {
            self.buf.push(self.prev_size as u8);
        } else {
            self.buf.push(254);
            self.buf
                .extend_from_slice(&(self.prev_size as u32).to_le_bytes());
        }
        match crate::format::int::parse_i64(s).filter(|_| s.len() < 32) {
            Some(v @ 0..=12) => self.buf.push(0xf1 + v as u8),
            Some(v) if i8::try_from(v).is_ok() => self.buf.extend_from_slice(&[0xfe, v as u8]),
            Some(v) if i16::try_from(v).is_ok() => {
                self.buf.push(0xc0);
                self.buf.extend_from_slice(&(v as i16).to_le_bytes());
            }
            Some(v) if (-(1 << 23)..(1 << 23)).contains(&v) => {
                self.buf.push(0xf0);
                self.buf.extend_from_slice(&(v as i32).to_le_bytes()[..3]);
            }
            Some(v) if i32::try_from(v).is_ok() => {
                self.buf.push(0xd0);
                self.buf.extend_from_slice(&(v as i32).to_le_bytes());
            }
            Some(v) => {
                self.buf.push(0xe0);
                self.buf.extend_from_slice(&v.to_le_bytes());
            }
            None => {
                let n = s.len();
                if n <= 63 {
                    self.buf.push(n as u8);
                } else if n <= 16383 {
                    self.buf
                        .extend_from_slice(&[0x40 | (n >> 8) as u8, n as u8]);
                } else {
                    self.buf.push(0x80);
                    self.buf.extend_from_slice(&(n as u32).to_be_bytes());
                }
                self.buf.extend_from_slice(s);
            }
        }
        self.prev_size = self.buf.len() - start;
        self.last_start = start;
        self.count += 1;
    }

    /// The finished ziplist.
    pub fn finish(mut self) -> Vec<u8> {
        self.buf.push(END);
        let total = self.buf.len() as u32;
        self.buf[..4].copy_from_slice(&total.to_le_bytes());
        self.buf[4..8].copy_from_slice(&(self.last_start as u32).to_le_bytes());
        let n = if self.count >= UNKNOWN_COUNT as usize {
            UNKNOWN_COUNT
        } else {
            self.count as u16
        };
        self.buf[8..10].copy_from_slice(&n.to_le_bytes());
        self.buf
    }
}
