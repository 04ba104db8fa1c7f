//! A module value's expectation from its `DUMP` payload: `7 · len(module id) · opcode stream · EOF`
//! then the 10-byte footer; the payload kept is the opcode stream through its EOF, byte for byte.
use crate::dataset::ModuleValue;

/// The RDB object type of module values (MODULE_2).
const TYPE_MODULE_2: u8 = 7;
/// DUMP appends a 2-byte RDB version and an 8-byte CRC-64.
const FOOTER_LEN: usize = 10;
const NAME_CHARSET: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

/// The 9-character type name packed into the top 54 bits of a module id, 6 bits per character.
pub fn module_type_name(id: u64) -> String {
    let packed = id >> 10;
    (0..9)
        .map(|i| NAME_CHARSET[((packed >> (6 * (8 - i))) & 63) as usize] as char)
        .collect()
}

/// An RDB length (rdb-aof-format.md §3.1) at `pos`, with the position after it.
fn read_len(buf: &[u8], pos: usize) -> Result<(u64, usize), String> {
    let b0 = *buf.get(pos).ok_or("length runs past the payload")?;
    let be = |n: usize| -> Result<(u64, usize), String> {
        let bytes = buf
            .get(pos + 1..pos + 1 + n)
            .ok_or("length runs past the payload")?;
        Ok((
            bytes.iter().fold(0u64, |acc, &b| (acc << 8) | u64::from(b)),
            pos + 1 + n,
        ))
    };
    match b0 >> 6 {
        0 => Ok((u64::from(b0 & 0x3f), pos + 1)),
        1 => {
            let b1 = *buf.get(pos + 1).ok_or("length runs past the payload")?;
            Ok(((u64::from(b0 & 0x3f) << 8) | u64::from(b1), pos + 2))
        }
        _ if b0 == 0x80 => be(4),
        _ if b0 == 0x81 => be(8),
        _ => Err(format!("byte 0x{b0:02x} is not a plain length")),
    }
}

/// Splits a module value's DUMP payload into its module id and opcode-tagged payload.
pub fn module_value_from_dump(dump: &[u8]) -> Result<ModuleValue, String> {
    if dump.first() != Some(&TYPE_MODULE_2) {
        return Err(format!(
            "DUMP payload starts with type {:?}, not MODULE_2 (7)",
            dump.first()
        ));
    }
    let body_end = dump
        .len()
        .checked_sub(FOOTER_LEN)
        .ok_or("DUMP payload shorter than its footer")?;
    let (id, start) = read_len(&dump[..body_end], 1)?;
    let payload = dump
        .get(start..body_end)
        .filter(|p| !p.is_empty())
        .ok_or("DUMP payload has no module data")?;
    if payload.last() != Some(&0) {
        return Err("module data does not end with the EOF opcode 0".into());
    }
    Ok(ModuleValue {
        name: module_type_name(id),
        id,
        encver: id & 1023,
        payload: payload.to_vec(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rejson_dump_splits_into_id_and_payload() {
        // DUMP of a ReJSON key from redis-stack 7.4.1: id 0x45e25238df912c03, one STRING opcode.
        let mut dump = vec![
            0x07, 0x81, 0x45, 0xe2, 0x52, 0x38, 0xdf, 0x91, 0x2c, 0x03, 0x05, 0x02,
        ];
        dump.extend_from_slice(b"{}");
        dump.push(0x00);
        dump.extend_from_slice(&[0x0c, 0x00, 1, 2, 3, 4, 5, 6, 7, 8]);
        let m = module_value_from_dump(&dump).unwrap();
        assert_eq!(m.name, "ReJSON-RL");
        assert_eq!(m.encver, 3);
        assert_eq!(m.id, 0x45e2_5238_df91_2c03);
        assert_eq!(m.payload, b"\x05\x02{}\x00");
    }

    #[test]
    fn short_or_foreign_payloads_are_refused() {
        assert!(module_value_from_dump(&[0x00, 1, 2]).is_err());
        assert!(module_value_from_dump(&[0x07; 5]).is_err());
        let no_eof = [7u8, 0x01, 0x05, 0x01, b'x', 0x0c, 0, 1, 2, 3, 4, 5, 6, 7, 8];
        assert!(module_value_from_dump(&no_eof).is_err());
    }

    #[test]
    fn lengths_in_every_width() {
        assert_eq!(read_len(&[0x3f], 0), Ok((63, 1)));
        assert_eq!(read_len(&[0x41, 0x00], 0), Ok((256, 2)));
        assert_eq!(read_len(&[0x80, 0, 1, 0, 0], 0), Ok((65536, 5)));
        assert!(read_len(&[0xc0], 0).is_err());
    }
}
