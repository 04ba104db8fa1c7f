//! Key metadata (opcode 243 `RDB_OPCODE_KEY_META` under `REDIS` magic, Redis 8.6+): written
//! before a key's type byte when module metadata classes attached to the key have data, and as
//! the first byte of such a key's DUMP payload.
//!
//! Layout (Redis `keymeta.c` and `rdb.c` at upstream 11e73c66a, #14445, "RDB Serialization
//! (v13)"; `rdbResolveKeyType`, `rdbLoadKeyMetadata`, `rdbSaveKeyMetadata`):
//! `0xF3, len class_count (at most 7), then per class: u32 class spec (4 raw bytes, little-endian
//! on every real host), the class's module opcode stream through its EOF opcode`; then the key's
//! object type byte must follow.
use super::length;
use crate::dataset::KeyMeta;
use crate::format::error::{Error, Result};
use crate::format::source::Source;
use std::io::Read;

/// `KEY_META_MAX_NUM_MODULES`: the loader refuses more classes.
pub const MAX_CLASSES: u64 = 7;

/// Reads the metadata block after the opcode byte. `at` is the opcode's offset.
pub fn read<R: Read>(src: &mut Source<R>) -> Result<Vec<KeyMeta>> {
    let at = src.pos();
    let n = length::read(src, "KEY_META class count")?;
    if n > MAX_CLASSES {
        return Err(Error::corrupt(
            at,
            "KEY_META class count",
            format!("{n} metadata classes, at most {MAX_CLASSES}"),
        ));
    }
    let mut out = Vec::with_capacity(n as usize);
    for _ in 0..n {
        let spec = u32::from_le_bytes(src.array("KEY_META class spec")?);
        let p_at = src.pos();
        let mut payload = Vec::new();
        super::module::copy_opcodes(src, &mut payload, p_at)?;
        out.push(KeyMeta::from_spec(spec, payload));
    }
    Ok(out)
}

/// Appends opcode 243 and the block, if there is any metadata.
pub fn write(out: &mut Vec<u8>, meta: &[KeyMeta]) {
    if meta.is_empty() {
        return;
    }
    out.push(243);
    length::write(out, meta.len() as u64);
    for m in meta {
        // Datasets are checked before writing (`validate`); a bad name cannot get here.
        out.extend_from_slice(&m.spec().unwrap_or(0).to_le_bytes());
        out.extend_from_slice(&m.payload);
    }
}

/// Why a key's metadata cannot be written: a bad class, too many, or a payload that is not one
/// module opcode stream ending in EOF.
pub fn invalid(meta: &[KeyMeta]) -> Option<String> {
    if meta.len() as u64 > MAX_CLASSES {
        return Some(format!(
            "{} metadata classes, at most {MAX_CLASSES}",
            meta.len()
        ));
    }
    for m in meta {
        if m.spec().is_none() {
            return Some(format!("metadata class {:?} is not a valid class", m.class));
        }
        let mut src = Source::new(
            m.payload.as_slice(),
            Some(m.payload.len() as u64),
            crate::format::Limits::DEFAULT,
        );
        let mut sink = Vec::new();
        let ok = super::module::copy_opcodes(&mut src, &mut sink, 0).is_ok()
            && sink.len() == m.payload.len();
        if !ok {
            return Some(format!(
                "metadata class {:?}: payload is not one module opcode stream ending in EOF",
                m.class
            ));
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn class_specs_split_and_join() {
        // "KMT1" version 1, flags 1 (ALLOW_IGNORE): each name char is its charset index.
        let m = KeyMeta {
            class: "KMT1".into(),
            version: 1,
            flags: 1,
            payload: vec![0],
        };
        let spec = m.spec().unwrap();
        let idx = |c: u8| {
            crate::dataset::KEY_META_CHARSET
                .iter()
                .position(|x| *x == c)
                .unwrap() as u32
        };
        let name = ((idx(b'K') << 6 | idx(b'M')) << 6 | idx(b'T')) << 6 | idx(b'1');
        assert_eq!(spec, (name << 5 | 1) << 3 | 1);
        assert_eq!(KeyMeta::from_spec(spec, vec![0]), m);
        // Every 32-bit value is a class.
        assert_eq!(KeyMeta::from_spec(u32::MAX, vec![]).class, "----");
    }

    #[test]
    fn blocks_round_trip_and_too_many_classes_are_refused() {
        let meta = vec![KeyMeta {
            class: "ab_-".into(),
            version: 31,
            flags: 7,
            payload: vec![2, 42, 5, 1, b'x', 0],
        }];
        let mut out = Vec::new();
        write(&mut out, &meta);
        assert_eq!(out[0], 243);
        let mut src = Source::new(
            &out[1..],
            Some(out.len() as u64 - 1),
            crate::format::Limits::DEFAULT,
        );
        assert_eq!(read(&mut src).unwrap(), meta);
        let mut src = Source::new(&[8u8][..], Some(1), crate::format::Limits::DEFAULT);
        assert!(read(&mut src).is_err());
        assert!(invalid(&meta).is_none());
        let bad = vec![KeyMeta {
            payload: vec![2, 42],
            ..meta[0].clone()
        }];
        assert!(invalid(&bad).is_some());
        // `KEY_META_MAX_NUM_MODULES` classes are allowed, one more is not.
        let seven = vec![meta[0].clone(); MAX_CLASSES as usize];
        assert!(invalid(&seven).is_none());
        let eight = vec![meta[0].clone(); MAX_CLASSES as usize + 1];
        assert!(invalid(&eight).is_some());
    }
}
