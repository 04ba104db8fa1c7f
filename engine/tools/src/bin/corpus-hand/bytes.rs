//! A byte-level RDB builder written from the format reference alone (it shares no code with the
//! engine's writer): lengths, strings, old blob encodings, records and trailers.
use redis_persist_engine::format::crc64;

/// An RDB under construction.
pub struct Rdb {
    pub out: Vec<u8>,
    version: u32,
}

/// An RDB length: 6-bit, 14-bit big-endian, or 0x80 + 32-bit big-endian.
pub fn len(n: usize) -> Vec<u8> {
    if n < 64 {
        vec![n as u8]
    } else if n < 16384 {
        vec![0x40 | (n >> 8) as u8, n as u8]
    } else {
        let mut v = vec![0x80];
        v.extend_from_slice(&(n as u32).to_be_bytes());
        v
    }
}

/// A raw RDB string.
pub fn string(b: &[u8]) -> Vec<u8> {
    let mut v = len(b.len());
    v.extend_from_slice(b);
    v
}

/// An integer-encoded RDB string (0xC0 int8, 0xC1 int16 LE, 0xC2 int32 LE).
pub fn int_string(i: i32) -> Vec<u8> {
    if let Ok(b) = i8::try_from(i) {
        vec![0xC0, b as u8]
    } else if let Ok(s) = i16::try_from(i) {
        let mut v = vec![0xC1];
        v.extend_from_slice(&s.to_le_bytes());
        v
    } else {
        let mut v = vec![0xC2];
        v.extend_from_slice(&i.to_le_bytes());
        v
    }
}

/// An LZF-encoded RDB string made of literal runs only (control byte L-1, then L bytes): valid
/// LZF that any decompressor must expand exactly.
pub fn lzf_literal_string(b: &[u8]) -> Vec<u8> {
    let mut comp = Vec::new();
    for chunk in b.chunks(32) {
        comp.push(chunk.len() as u8 - 1);
        comp.extend_from_slice(chunk);
    }
    let mut v = vec![0xC3];
    v.extend(len(comp.len()));
    v.extend(len(b.len()));
    v.extend(comp);
    v
}

/// A ziplist entry for the blob encodings: short strings or small integers.
pub enum Zl<'a> {
    Str(&'a [u8]),
    /// 0..=12, the immediate form.
    Imm(u8),
    /// The int16 form.
    I16(i16),
}

/// A ziplist blob.
pub fn ziplist(entries: &[Zl]) -> Vec<u8> {
    let mut body = Vec::new();
    let mut prev = 0usize;
    let mut tail = 10usize;
    for e in entries {
        let mut one = vec![prev as u8];
        match e {
            Zl::Str(s) => {
                assert!(s.len() < 64);
                one.push(s.len() as u8);
                one.extend_from_slice(s);
            }
            Zl::Imm(n) => one.push(0xF1 + n),
            Zl::I16(n) => {
                one.push(0xC0);
                one.extend_from_slice(&n.to_le_bytes());
            }
        }
        assert!(one.len() < 254);
        tail = 10 + body.len();
        prev = one.len();
        body.extend(one);
    }
    let total = 10 + body.len() + 1;
    let mut v = Vec::new();
    v.extend_from_slice(&(total as u32).to_le_bytes());
    v.extend_from_slice(&(tail as u32).to_le_bytes());
    v.extend_from_slice(&(entries.len() as u16).to_le_bytes());
    v.extend(body);
    v.push(0xFF);
    v
}

/// An intset blob of `width` bytes per member (members must be sorted).
pub fn intset(width: u32, members: &[i64]) -> Vec<u8> {
    let mut v = Vec::new();
    v.extend_from_slice(&width.to_le_bytes());
    v.extend_from_slice(&(members.len() as u32).to_le_bytes());
    for m in members {
        v.extend_from_slice(&m.to_le_bytes()[..width as usize]);
    }
    v
}

/// A zipmap blob (short keys and values, no free padding).
pub fn zipmap(pairs: &[(&[u8], &[u8])]) -> Vec<u8> {
    let mut v = vec![pairs.len() as u8];
    for (k, val) in pairs {
        v.push(k.len() as u8);
        v.extend_from_slice(k);
        v.push(val.len() as u8);
        v.push(0);
        v.extend_from_slice(val);
    }
    v.push(0xFF);
    v
}

impl Rdb {
    /// `REDIS000N`.
    pub fn new(version: u32) -> Rdb {
        Rdb {
            out: format!("REDIS{version:04}").into_bytes(),
            version,
        }
    }

    /// SELECTDB.
    pub fn select(&mut self, db: usize) -> &mut Rdb {
        self.out.push(0xFE);
        self.out.extend(len(db));
        self
    }

    /// AUX key value (RDB 7+).
    pub fn aux(&mut self, k: &str, v: &str) -> &mut Rdb {
        self.out.push(0xFA);
        self.out.extend(string(k.as_bytes()));
        self.out.extend(string(v.as_bytes()));
        self
    }

    /// RESIZEDB (RDB 7+).
    pub fn resizedb(&mut self, keys: usize, expires: usize) -> &mut Rdb {
        self.out.push(0xFB);
        self.out.extend(len(keys));
        self.out.extend(len(expires));
        self
    }

    /// EXPIRETIME in seconds (0xFD, 4 bytes LE).
    pub fn expire_s(&mut self, s: u32) -> &mut Rdb {
        self.out.push(0xFD);
        self.out.extend_from_slice(&s.to_le_bytes());
        self
    }

    /// EXPIRETIME_MS (0xFC, 8 bytes LE; RDB 3+).
    pub fn expire_ms(&mut self, ms: i64) -> &mut Rdb {
        self.out.push(0xFC);
        self.out.extend_from_slice(&ms.to_le_bytes());
        self
    }

    /// A key record: type byte, key string, value bytes.
    pub fn key(&mut self, ty: u8, key: &[u8], value: &[u8]) -> &mut Rdb {
        self.out.push(ty);
        self.out.extend(string(key));
        self.out.extend_from_slice(value);
        self
    }

    /// EOF, and from RDB 5 the CRC-64 of everything before it.
    pub fn finish(&mut self) -> Vec<u8> {
        self.out.push(0xFF);
        if self.version >= 5 {
            let crc = crc64::checksum(&self.out);
            self.out.extend_from_slice(&crc.to_le_bytes());
        }
        self.out.clone()
    }
}
