//! Value decoding seen from a visitor: what it is told about each node besides the elements.
use super::*;
use crate::format::rdb::opcode::{Header, Magic};
use crate::format::rdb::ReadOptions;

/// Everything the visitor hears, in order.
#[derive(Default)]
struct Log(Vec<String>);

impl Visitor for Log {
    fn note(&mut self, note: Note) {
        self.0.push(format!("{note:?}"));
    }
    fn list_item(&mut self, item: &[u8]) -> Result<()> {
        self.0.push(String::from_utf8_lossy(item).into_owned());
        Ok(())
    }
}

/// A listpack holding one 1-byte string: total bytes (u32), count (u16), the entry (6-bit string
/// header 0x81, the byte, back-length 2), the end byte.
fn listpack_of(b: u8) -> Vec<u8> {
    vec![10, 0, 0, 0, 1, 0, 0x81, b, 2, 0xff]
}

fn read(body: &[u8]) -> Vec<String> {
    read_opts(body, false).unwrap()
}

fn read_opts(body: &[u8], strict: bool) -> Result<Vec<String>> {
    let opts = ReadOptions {
        total_len: Some(body.len() as u64),
        strict,
        ..ReadOptions::default()
    };
    let h = Header {
        magic: Magic::Redis,
        version: 10,
    };
    let mut log = Log::default();
    RdbReader::headerless(body, h, opts).read_object(&mut log)?;
    Ok(log.0)
}

/// A quicklist node stored LZF-compressed is noted as such, and only that node: here the first
/// of two packed nodes. The compressed string is `RDB_ENC_LZF` (0xc3), its compressed and
/// plain lengths, and LZF data of one literal run (control byte 9: ten bytes follow).
#[test]
fn only_the_lzf_node_of_a_quicklist_is_noted_compressed() {
    let mut body = vec![ValueType::ListQuicklist2.byte(), 2];
    body.extend_from_slice(&[2, 0xc3, 11, 10, 9]);
    body.extend_from_slice(&listpack_of(b'a'));
    body.extend_from_slice(&[2, 10]);
    body.extend_from_slice(&listpack_of(b'b'));
    assert_eq!(
        read(&body),
        ["CompressedNode", "PackedNode", "a", "PackedNode", "b"]
    );
}

/// An error inside a quicklist node is exact when the node is stored raw (the node's offset plus
/// the offset in the listpack) and names the node's string prefix when it was LZF-compressed:
/// here a back-length of 3 after a 2-byte element, at offset 8 of the listpack.
#[test]
fn an_error_in_a_compressed_node_points_at_the_node() {
    let mut lp = listpack_of(b'a');
    lp[8] = 3;
    let ty = ValueType::ListQuicklist2.byte();
    // Type, node count 1, container 2 (packed), length 10, the listpack from offset 4.
    let mut raw = vec![ty, 1, 2, 10];
    raw.extend_from_slice(&lp);
    let e = read_opts(&raw, false).unwrap_err();
    assert_eq!((e.kind, e.offset), (ErrorKind::Corrupt, Some(4 + 8)));
    // The same node as RDB_ENC_LZF from offset 3: 0xc3, clen 11, ulen 10, one literal run.
    let mut lzf = vec![ty, 1, 2, 0xc3, 11, 10, 9];
    lzf.extend_from_slice(&lp);
    let e = read_opts(&lzf, false).unwrap_err();
    assert_eq!((e.kind, e.offset), (ErrorKind::Corrupt, Some(3)));
}

/// A type-3 zset score is text read as `sscanf("%lg")`: text that is all number is regular;
/// text with bytes after the number is flagged (refused when strict).
#[test]
fn a_text_score_with_bytes_after_the_number_is_flagged() {
    let zset = |score: &[u8]| {
        let mut body = vec![ValueType::Zset.byte(), 1, 1, b'm', score.len() as u8];
        body.extend_from_slice(score);
        body
    };
    assert!(read_opts(&zset(b"1.5"), true).is_ok());
    let e = read_opts(&zset(b"1.5x"), true).unwrap_err();
    assert!(e.to_string().contains("read as 1.5"), "{e}");
    assert!(read_opts(&zset(b"1.5x"), false).is_ok());
}

/// Field TTLs must lie in 0..=`EB_EXPIRE_TIME_MAX` (2^48 - 1 ms, ebuckets.h).
#[test]
fn field_expiries_are_bounded_by_eb_expire_time_max() {
    assert!(check_field_expiry(None, 0).is_ok());
    assert!(check_field_expiry(Some(0), 0).is_ok());
    assert!(check_field_expiry(Some((1 << 48) - 1), 0).is_ok());
    assert!(check_field_expiry(Some(1 << 48), 0).is_err());
    assert!(check_field_expiry(Some(-1), 0).is_err());
}
