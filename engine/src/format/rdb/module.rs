//! Module values and MODULE_AUX payloads: a stream of opcode-tagged items ending in opcode 0,
//! copied verbatim so a module value survives without its module and is re-emitted byte for byte.
use super::{length, string};
use crate::format::error::{Error, Result};
use crate::format::source::Source;
use std::io::Read;

/// `RDB_MODULE_OPCODE_EOF`
pub const OP_EOF: u64 = 0;
/// `RDB_MODULE_OPCODE_SINT`
pub const OP_SINT: u64 = 1;
/// `RDB_MODULE_OPCODE_UINT`
pub const OP_UINT: u64 = 2;
/// `RDB_MODULE_OPCODE_FLOAT`
pub const OP_FLOAT: u64 = 3;
/// `RDB_MODULE_OPCODE_DOUBLE`
pub const OP_DOUBLE: u64 = 4;
/// `RDB_MODULE_OPCODE_STRING`
pub const OP_STRING: u64 = 5;

/// Copies an opcode stream through its EOF opcode into `out`. `at` locates errors; an opcode
/// outside 0-5 is refused.
pub fn copy_opcodes<R: Read>(src: &mut Source<R>, out: &mut Vec<u8>, at: u64) -> Result<()> {
    match copy_opcodes_lenient(src, out, at)? {
        None => Ok(()),
        Some((op_at, op)) => Err(Error::corrupt(
            op_at,
            "module opcode",
            format!("unknown module opcode {op}"),
        )),
    }
}

/// Like [`copy_opcodes`], but as `redis-check-rdb` reads a module value it has no module for
/// (`rdbLoadCheckModuleValue`): an unknown opcode carries no operand and the walk goes on.
/// Returns the first unknown opcode and its offset, for the caller to flag.
pub fn copy_opcodes_lenient<R: Read>(
    src: &mut Source<R>,
    out: &mut Vec<u8>,
    at: u64,
) -> Result<Option<(u64, u64)>> {
    let mut unknown = None;
    let limit = src.limits().max_string_len;
    loop {
        if out.len() as u64 > limit {
            return Err(Error::new(
                crate::format::ErrorKind::LimitExceeded,
                at,
                "module payload",
                format!("payload exceeds {limit} bytes"),
            ));
        }
        let op_at = src.pos();
        let op = match length::copy_raw(src, out, "module opcode")? {
            length::Length::Len(n) => n,
            length::Length::Encoded(e) => e as u64,
        };
        match op {
            OP_EOF => return Ok(unknown),
            OP_SINT | OP_UINT => {
                length::copy_raw(src, out, "module integer")?;
            }
            OP_FLOAT => out.extend_from_slice(&src.array::<4>("module float")?),
            OP_DOUBLE => out.extend_from_slice(&src.array::<8>("module double")?),
            OP_STRING => string::copy_raw(src, out, "module string")?,
            other => {
                unknown = unknown.or(Some((op_at, other)));
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::format::{ErrorKind, Limits};

    /// A payload growing past `max_string_len` is refused however its opcodes fall: here each
    /// OP_UINT with a 14-bit operand (0x40 0x64 = 100) adds 3 bytes, so the copy passes 4 at 6.
    #[test]
    fn a_module_payload_past_the_string_limit_is_refused() {
        let mut data = [2u8, 0x40, 0x64].repeat(10);
        data.push(OP_EOF as u8);
        let limits = Limits {
            max_string_len: 4,
            ..Limits::DEFAULT
        };
        let mut src = Source::new(&data[..], Some(data.len() as u64), limits);
        let e = copy_opcodes(&mut src, &mut Vec::new(), 0).unwrap_err();
        assert_eq!(e.kind, ErrorKind::LimitExceeded);
        let mut src = Source::new(&data[..], Some(data.len() as u64), Limits::DEFAULT);
        let mut out = Vec::new();
        copy_opcodes(&mut src, &mut out, 0).unwrap();
        assert_eq!(out, data);
    }

    /// The payload a module string is copied into stays within `max_string_len` as a whole:
    /// a 2-byte string (3 bytes with its length) fits an empty payload of limit 4, not one that
    /// already holds 3 bytes.
    #[test]
    fn a_module_string_taking_the_payload_past_the_limit_is_refused() {
        let data = b"\x02ab";
        let limits = Limits {
            max_string_len: 4,
            ..Limits::DEFAULT
        };
        let mut src = Source::new(&data[..], Some(data.len() as u64), limits);
        let mut out = vec![0; 3];
        let e = string::copy_raw(&mut src, &mut out, "module string").unwrap_err();
        assert_eq!(e.kind, ErrorKind::LimitExceeded);
        let mut src = Source::new(&data[..], Some(data.len() as u64), limits);
        let mut out = Vec::new();
        string::copy_raw(&mut src, &mut out, "module string").unwrap();
        assert_eq!(out, data);
    }

    /// An LZF module string counts its prefix and compressed bytes against the payload's limit,
    /// and a payload that reaches the limit exactly is kept: RDB_ENC_LZF (0xc3), clen 11, ulen 10
    /// (3 bytes), then 11 bytes of LZF (one literal run): 14 bytes, so 6 held before make 20.
    #[test]
    fn an_lzf_module_string_may_fill_the_payload_to_the_limit() {
        let mut data = vec![0xc3, 11, 10, 9];
        data.extend_from_slice(b"0123456789");
        let limits = Limits {
            max_string_len: 20,
            ..Limits::DEFAULT
        };
        for (held, ok) in [(6, true), (7, false)] {
            let mut src = Source::new(&data[..], Some(data.len() as u64), limits);
            let mut out = vec![0; held];
            match string::copy_raw(&mut src, &mut out, "module string") {
                Ok(()) => {
                    assert!(ok, "{held}");
                    assert_eq!(out.len(), 20);
                    assert_eq!(&out[held..], &data[..]);
                }
                Err(e) => {
                    assert!(!ok, "{held}: {e}");
                    assert_eq!(e.kind, ErrorKind::LimitExceeded);
                }
            }
        }
    }
}
