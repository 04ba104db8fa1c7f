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
use super::target::{assess, Report, Target, Thresholds};
use super::writer::WriteError;
use crate::dataset::{Dataset, Entry, KeyAttrs, Value};
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
    decode_entry(payload, opts).map(|(ty, v, _, f)| (ty, v, f))
}

/// [`decode_value`] with the key attributes a payload may carry: key metadata (opcode 243 first,
/// Redis 8.6+) and the hash-template flag (types 29/31, Redis 8.10+).
pub fn decode_entry(
    payload: &[u8],
    opts: ReadOptions,
) -> Result<(ValueType, Value, KeyAttrs, Footer)> {
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
        Some(e) => Ok((ty, e.value, e.attrs, f)),
        None => Err(Error::corrupt(0, "DUMP payload", "no object")),
    }
}

/// The footer version a target's `DUMP` writes (80 for `VALKEY080`).
pub fn footer_version(t: Target) -> u16 {
    t.0.version as u16
}

/// Frames a body: footer version and the CRC-64 of everything before it.
pub fn frame(body: &[u8], version: u16) -> Vec<u8> {
    let mut p = Vec::with_capacity(body.len() + FOOTER_LEN);
    p.extend_from_slice(body);
    p.extend_from_slice(&version.to_le_bytes());
    let crc = crc64::checksum(&p);
    p.extend_from_slice(&crc.to_le_bytes());
    p
}

/// Encodes a value as the `DUMP` of `t`'s server would: key metadata where the target has it,
/// the object in the encoding that server chooses (template hashes self-contained, types 29/31),
/// the footer with `t`'s version and the CRC-64 its `RESTORE` checks. What the target cannot
/// hold is reported as [`assess`] does for a file (refused unless `allow_loss`); a value the
/// target has no type for at all (an array before RDB 14, a stream before 9, a module value
/// before 8) is refused either way.
pub fn encode_value(
    value: &Value,
    attrs: &KeyAttrs,
    t: Target,
    th: Thresholds,
    allow_loss: bool,
) -> std::result::Result<(Vec<u8>, Report), WriteError> {
    let ds = Dataset {
        source: None,
        functions: Vec::new(),
        keys: vec![Entry {
            db: 0,
            key: Vec::new(),
            expire_ms: None,
            idle_s: None,
            freq: None,
            value: value.clone(),
            attrs: attrs.clone(),
        }],
    };
    super::writer::validate(&ds).map_err(WriteError::Invalid)?;
    if value.is_empty_collection() {
        return Err(WriteError::Invalid(
            "an empty collection has no DUMP form".into(),
        ));
    }
    let report = assess(&ds, t);
    let lvl = t.level();
    let holdable = match value {
        Value::Stream(_) => lvl >= 9,
        Value::Module(_) => lvl >= 8,
        Value::Array(_) => t.arrays(),
        _ => true,
    };
    if !holdable || (!report.lost.is_empty() && !allow_loss) {
        return Err(WriteError::Refused(report));
    }
    let mut enc = super::encode::Encoder::new(t, th, true);
    let mut body = Vec::new();
    let e = &ds.keys[0];
    if t.key_meta() {
        super::keymeta::write(&mut body, &e.attrs.meta);
    }
    let ty = enc.choose_key(e);
    body.push(ty.byte());
    enc.key_value(&mut body, ty, e);
    Ok((frame(&body, footer_version(t)), report))
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

    /// A count the payload cannot hold is refused at the count, before any member is read: a
    /// set of 1000 members (14-bit length 0x43 0xe8, ending at offset 3) takes at least 1000
    /// bytes, and two remain.
    #[test]
    fn a_count_past_the_payload_is_refused_at_the_count() {
        let p = frame(b"\x02\x43\xe8\x01a", 10);
        let e = decode_value(&p, ReadOptions::default()).unwrap_err();
        assert_eq!((e.kind, e.offset), (ErrorKind::Truncated, Some(3)));
    }

    /// Redis's hash-templates test payloads (`tests/unit/type/hash-templates.tcl`, the copy the
    /// research note cites): type 31 with `fields_fmt` 1, and type 29 with `fields_fmt` 0, whose
    /// test is a refusal (one value short).
    #[test]
    fn redis_template_test_payloads() {
        let p = frame(b"\x1f\x01\x02\x06field1\x06field2\xc0\x01\xc0\x02", 15);
        let (ty, v, a, f) = decode_entry(&p, ReadOptions::default()).unwrap();
        assert_eq!(
            (ty, f.version, a.hash_template),
            (ValueType::HashTmplArray, 15, true)
        );
        let want = vec![
            crate::dataset::HashField {
                field: b"field1".to_vec(),
                value: b"1".to_vec(),
                expire_ms: None,
            },
            crate::dataset::HashField {
                field: b"field2".to_vec(),
                value: b"2".to_vec(),
                expire_ms: None,
            },
        ];
        assert_eq!(v, Value::Hash(want));
        let mut short = b"\x1d\x00\x17".to_vec();
        short.extend_from_slice(b"\x17\x00\x00\x00\x02\x00\x86field1\x07\x86field2\x07\xff");
        short.extend_from_slice(b"\x0b\x0b\x00\x00\x00\x02\x00\x00\x01\x01\x01\xff");
        let e = decode_value(&frame(&short, 15), ReadOptions::default()).unwrap_err();
        assert_eq!(e.kind, ErrorKind::Corrupt, "{e}");
        // Types 30/32 refer to a file's registry: never valid in a payload.
        let e = decode_value(
            &frame(b"\x20\x05\xc0\x01\xc0\x02", 15),
            ReadOptions::default(),
        )
        .unwrap_err();
        assert!(e.to_string().contains("not valid in a DUMP payload"), "{e}");
    }

    #[test]
    fn encoded_values_decode_to_themselves_at_every_target() {
        let v = Value::Hash(vec![crate::dataset::HashField {
            field: b"f".to_vec(),
            value: b"v".to_vec(),
            expire_ms: None,
        }]);
        let tmpl = KeyAttrs {
            meta: Vec::new(),
            hash_template: true,
        };
        for t in Target::all() {
            let (p, r) = encode_value(&v, &tmpl, t, Thresholds::default(), true).unwrap();
            let (ty, got, a, f) = decode_entry(&p, ReadOptions::default()).unwrap();
            assert_eq!((got, f.version as u32), (v.clone(), t.0.version), "{t}");
            assert_eq!(a.hash_template, t.hash_templates(), "{t}");
            assert_eq!(ty == ValueType::HashTmplLp, t.hash_templates(), "{t}");
            assert_eq!(r.lost.is_empty(), t.hash_templates(), "{t}");
        }
        let arr = Value::Array(crate::dataset::Array {
            insert_idx: None,
            elements: vec![(5, b"x".to_vec())],
        });
        // Streams came with RDB 9 (Redis 5.0): an older DUMP cannot hold one, loss allowed or not.
        let stream = Value::Stream(Box::new(crate::dataset::Stream {
            length: 1,
            last_id: crate::dataset::StreamId { ms: 1, seq: 0 },
            entries: vec![crate::dataset::StreamEntry {
                id: crate::dataset::StreamId { ms: 1, seq: 0 },
                fields: vec![(b"f".to_vec(), b"v".to_vec())],
            }],
            ..Default::default()
        }));
        let t8 = Target::redis(8).unwrap();
        let r = encode_value(
            &stream,
            &KeyAttrs::default(),
            t8,
            Thresholds::default(),
            true,
        );
        assert!(matches!(r, Err(WriteError::Refused(_))), "{r:?}");
        let t13 = Target::redis(13).unwrap();
        assert!(
            encode_value(&arr, &KeyAttrs::default(), t13, Thresholds::default(), true).is_err()
        );
        // Module values (type 7, `RDB_TYPE_MODULE_2`) came with RDB 8 (Redis 4.0): an RDB 7
        // DUMP cannot hold one, loss allowed or not; RDB 8 can.
        let module = Value::Module(crate::dataset::ModuleValue {
            name: "AAAAAAAAA".into(),
            id: 1023,
            encver: 1023,
            payload: vec![2, 5, 5, 0xc0, 9, 0],
        });
        let at = |v: u32| {
            let t = Target::redis(v).unwrap();
            encode_value(
                &module,
                &KeyAttrs::default(),
                t,
                Thresholds::default(),
                true,
            )
        };
        assert!(matches!(at(7), Err(WriteError::Refused(_))), "{:?}", at(7));
        assert_eq!(at(8).unwrap().0[0], 7);
    }

    /// Types 29/31 carry their field names as a listpack (`fields_fmt` 0, as in Redis's type 29
    /// test payload) when every name fits `hash-max-listpack-value`, else as `len n` and n
    /// strings (`fields_fmt` 1). Byte 0 is the type, byte 1 `fields_fmt`.
    #[test]
    fn template_names_are_a_listpack_when_they_fit() {
        let tmpl = KeyAttrs {
            meta: Vec::new(),
            hash_template: true,
        };
        let t15 = Target::redis(15).unwrap();
        let hash = |name: Vec<u8>| {
            Value::Hash(vec![crate::dataset::HashField {
                field: name,
                value: b"v".to_vec(),
                expire_ms: None,
            }])
        };
        let th = Thresholds::default();
        let fit = hash(vec![b'f'; th.hash_max_listpack_value]);
        let (p, _) = encode_value(&fit, &tmpl, t15, th, false).unwrap();
        assert_eq!(&p[..2], &[ValueType::HashTmplLp.byte(), 0]);
        let long = hash(vec![b'f'; th.hash_max_listpack_value + 1]);
        let (p, _) = encode_value(&long, &tmpl, t15, th, false).unwrap();
        assert_eq!(&p[..2], &[ValueType::HashTmplLp.byte(), 1]);
        assert_eq!(decode_value(&p, ReadOptions::default()).unwrap().1, long);
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
