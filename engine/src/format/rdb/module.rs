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

/// Copies an opcode stream through its EOF opcode into `out`. `at` locates errors.
pub fn copy_opcodes<R: Read>(src: &mut Source<R>, out: &mut Vec<u8>, at: u64) -> Result<()> {
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
            OP_EOF => return Ok(()),
            OP_SINT | OP_UINT => {
                length::copy_raw(src, out, "module integer")?;
            }
            OP_FLOAT => out.extend_from_slice(&src.array::<4>("module float")?),
            OP_DOUBLE => out.extend_from_slice(&src.array::<8>("module double")?),
            OP_STRING => string::copy_raw(src, out, "module string")?,
            other => {
                return Err(Error::corrupt(
                    op_at,
                    "module opcode",
                    format!("unknown module opcode {other}"),
                ));
            }
        }
    }
}
