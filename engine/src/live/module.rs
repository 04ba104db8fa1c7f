//! A module value's expectation from its `DUMP` payload (`MODULE_2`, the module id, the opcode
//! stream through its EOF, the footer), decoded by the same reader as a file's module values.
use crate::dataset::{ModuleValue, Value};
use crate::format::rdb::{payload, ModuleId, ReadOptions};

/// The 9-character type name packed into the top 54 bits of a module id, 6 bits per character.
pub fn module_type_name(id: u64) -> String {
    ModuleId::from_id(id).name_str().to_owned()
}

/// A module value from its DUMP payload: the module id and the opcode-tagged payload, byte for byte.
pub fn module_value_from_dump(dump: &[u8]) -> Result<ModuleValue, String> {
    match payload::decode_value(dump, ReadOptions::default()) {
        Ok((_, Value::Module(m), _)) => Ok(m),
        Ok((ty, _, _)) => Err(format!("DUMP payload holds a {ty:?}, not a module value")),
        Err(e) => Err(format!("DUMP payload: {e}")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn frame(body: &[u8]) -> Vec<u8> {
        let mut p = body.to_vec();
        p.extend_from_slice(&10u16.to_le_bytes());
        let crc = crate::format::crc64::checksum(&p);
        p.extend_from_slice(&crc.to_le_bytes());
        p
    }

    #[test]
    fn rejson_dump_splits_into_id_and_payload() {
        // DUMP of a ReJSON key from redis-stack 7.4.1: id 0x45e25238df912c03, one STRING opcode.
        let mut body = vec![
            0x07, 0x81, 0x45, 0xe2, 0x52, 0x38, 0xdf, 0x91, 0x2c, 0x03, 0x05, 0x02,
        ];
        body.extend_from_slice(b"{}");
        body.push(0x00);
        let m = module_value_from_dump(&frame(&body)).unwrap();
        assert_eq!(m.name, "ReJSON-RL");
        assert_eq!(m.encver, 3);
        assert_eq!(m.id, 0x45e2_5238_df91_2c03);
        assert_eq!(m.payload, b"\x05\x02{}\x00");
        assert_eq!(module_type_name(m.id), "ReJSON-RL");
    }

    #[test]
    fn short_or_foreign_payloads_are_refused() {
        assert!(module_value_from_dump(&[0x00, 1, 2]).is_err());
        assert!(module_value_from_dump(&frame(b"\x00\x01x")).is_err());
        let no_eof = frame(&[7u8, 0x01, 0x05, 0x01, b'x']);
        assert!(module_value_from_dump(&no_eof).is_err());
    }
}
