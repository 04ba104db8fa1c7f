//! DUMP payloads, as `DUMP` writes them and `RESTORE` reads them: one object (its type byte and
//! value in the RDB encoding), then the RDB version (u16 LE) and the CRC-64 of all bytes before it.
//!
//! `FUNCTION DUMP` uses the same frame around function records (opcode 245). Which footer versions
//! a server accepts is the server's rule (the keyspace's RESTORE keeps it); this module only reads
//! and checks the frame.
use super::collect::Collector;
use super::opcode::{Header, Magic, Opcode, ValueType};
use super::reader::{RdbReader, ReadOptions};
use super::string::{self, Scratch};
use crate::dataset::Value;
use crate::format::crc64;
use crate::format::error::{Error, ErrorKind, Result};
use crate::format::source::Source;

/// Version (2 bytes) and CRC-64 (8 bytes) after the body.
pub const FOOTER_LEN: usize = 10;

/// A payload's footer.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Footer {
    /// The RDB version the payload was written at.
    pub version: u16,
    /// The stored CRC-64 (0: written without one).
    pub crc: u64,
    /// The CRC-64 of the body and version.
    pub computed: u64,
}

impl Footer {
    /// Whether the stored checksum matches, or is zero.
    pub fn crc_ok(&self) -> bool {
        self.crc == 0 || self.crc == self.computed
    }

    /// The dialect the version belongs to: 80 is Valkey's, the rest Redis's.
    pub fn header(&self) -> Header {
        let magic = if self.version == 80 {
            Magic::Valkey
        } else {
            Magic::Redis
        };
        Header {
            magic,
            version: u32::from(self.version),
        }
    }
}

/// Splits a payload into its body and footer.
pub fn split(payload: &[u8]) -> Result<(&[u8], Footer)> {
    let Some(body_len) = payload.len().checked_sub(FOOTER_LEN) else {
        return Err(Error::new(
            ErrorKind::Truncated,
            payload.len() as u64,
            "DUMP payload footer",
            format!("{} bytes, shorter than the 10-byte footer", payload.len()),
        ));
    };
    let (body, footer) = payload.split_at(body_len);
    let version = u16::from_le_bytes([footer[0], footer[1]]);
    let mut crc = [0u8; 8];
    crc.copy_from_slice(&footer[2..]);
    let f = Footer {
        version,
        crc: u64::from_le_bytes(crc),
        computed: crc64::checksum(&payload[..payload.len() - 8]),
    };
    Ok((body, f))
}

fn checked(payload: &[u8]) -> Result<(&[u8], Footer)> {
    let (body, f) = split(payload)?;
    if !f.crc_ok() {
        return Err(Error::new(
            ErrorKind::ChecksumMismatch,
            (body.len() + 2) as u64,
            "DUMP payload checksum",
            format!("stored {:#018x}, computed {:#018x}", f.crc, f.computed),
        ));
    }
    Ok((body, f))
}

fn trailing(at: usize, body: &[u8], what: &'static str) -> Result<()> {
    if at == body.len() {
        return Ok(());
    }
    Err(Error::corrupt(
        at as u64,
        what,
        format!("{} bytes after the object", body.len() - at),
    ))
}

/// Decodes an object payload whose checksum matches (or is zero): its type byte, its value and
/// its footer. Every structure is checked as in a file of the footer's version.
pub fn decode_value(payload: &[u8], opts: ReadOptions) -> Result<(ValueType, Value, Footer)> {
    let (body, f) = checked(payload)?;
    let opts = ReadOptions {
        total_len: Some(body.len() as u64),
        ..opts
    };
    let mut r = RdbReader::headerless(body, f.header(), opts);
    let mut c = Collector::new(opts.limits);
    let ty = r.read_object(&mut c)?;
    trailing(r.pos() as usize, body, "DUMP payload")?;
    let mut ds = c.finish()?;
    match ds.keys.pop() {
        Some(e) => Ok((ty, e.value, f)),
        None => Err(Error::corrupt(0, "DUMP payload", "no object")),
    }
}

/// Decodes a `FUNCTION DUMP` payload whose checksum matches: the libraries' sources, in order.
pub fn decode_functions(payload: &[u8], opts: ReadOptions) -> Result<(Vec<Vec<u8>>, Footer)> {
    let (body, f) = checked(payload)?;
    let mut src = Source::new(body, Some(body.len() as u64), opts.limits);
    let mut scratch = Scratch::default();
    let mut libs = Vec::new();
    while src.pos() < body.len() as u64 {
        let at = src.pos();
        let b = src.u8("function record")?;
        if Opcode::from_byte(b) != Some(Opcode::Function2) {
            return Err(Error::corrupt(
                at,
                "function record",
                format!("byte {b} is not the FUNCTION2 opcode (245)"),
            ));
        }
        libs.push(
            string::read(&mut src, &mut scratch, "function library")?
                .bytes
                .to_vec(),
        );
    }
    Ok((libs, f))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn frame(body: &[u8], version: u16) -> Vec<u8> {
        let mut p = body.to_vec();
        p.extend_from_slice(&version.to_le_bytes());
        let crc = crc64::checksum(&p);
        p.extend_from_slice(&crc.to_le_bytes());
        p
    }

    #[test]
    fn a_string_payload_decodes_and_a_flipped_bit_is_a_checksum_error() {
        // DUMP of SET k hello in Redis 7.0: type 0, raw string, version 10.
        let p = frame(b"\x00\x05hello", 10);
        let (ty, v, f) = decode_value(&p, ReadOptions::default()).unwrap();
        assert_eq!(
            (ty, v, f.version),
            (ValueType::String, Value::String(b"hello".to_vec()), 10)
        );
        let mut bad = p.clone();
        bad[3] ^= 1;
        let e = decode_value(&bad, ReadOptions::default()).unwrap_err();
        assert_eq!(e.kind, ErrorKind::ChecksumMismatch);
        let mut zero = p[..p.len() - 8].to_vec();
        zero.extend_from_slice(&[0; 8]);
        assert!(decode_value(&zero, ReadOptions::default()).is_ok());
    }

    #[test]
    fn bytes_after_the_object_and_short_payloads_are_refused() {
        let p = frame(b"\x00\x05hello!", 10);
        let e = decode_value(&p, ReadOptions::default()).unwrap_err();
        assert_eq!((e.kind, e.offset), (ErrorKind::Corrupt, Some(7)));
        let e = decode_value(b"\x00\x0a\x00", ReadOptions::default()).unwrap_err();
        assert_eq!(e.kind, ErrorKind::Truncated);
    }

    #[test]
    fn function_payloads_list_their_libraries() {
        let mut body = vec![245u8];
        body.push(13);
        body.extend_from_slice(b"#!lua name=a\n");
        let (libs, f) = decode_functions(&frame(&body, 10), ReadOptions::default()).unwrap();
        assert_eq!((libs, f.version), (vec![b"#!lua name=a\n".to_vec()], 10));
        let e = decode_functions(&frame(b"\x00", 10), ReadOptions::default()).unwrap_err();
        assert_eq!(e.kind, ErrorKind::Corrupt);
    }
}
