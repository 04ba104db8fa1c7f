//! Streaming validation of an RDB, like `redis-check-rdb`: every structure is decoded and
//! checked, nothing is kept but counts and each key's fingerprint (spilled to a temp file past a
//! few MiB), so memory stays bounded whatever the file size.
use crate::format::rdb::{
    Checksum, Irregularity, KeyInfo, ModuleId, Note, RdbReader, ReadOptions, Trailer, Visitor,
};
use crate::format::Result;
use std::collections::BTreeMap;
use std::io::Read;

/// What `check` found in a valid file.
#[derive(Debug, Default)]
pub struct Summary {
    /// `REDIS` or `VALKEY`.
    pub magic: String,
    /// RDB version.
    pub version: u32,
    /// AUX fields in file order (lossy text).
    pub aux: Vec<(String, String)>,
    /// Keys per database and logical type.
    pub keys: BTreeMap<u64, BTreeMap<&'static str, u64>>,
    /// Keys per encoding (type byte).
    pub encodings: BTreeMap<&'static str, u64>,
    /// Sub-encodings seen.
    pub notes: BTreeMap<&'static str, u64>,
    /// What the server accepts but a careful reader flags: how many, and the first one's offset.
    pub warnings: BTreeMap<Irregularity, (u64, u64)>,
    /// Keys with an expiry.
    pub expires: u64,
    /// Keys whose collection is empty (servers skip them on load).
    pub empty_keys: u64,
    /// Function libraries.
    pub functions: u64,
    /// MODULE_AUX records by module name.
    pub module_aux: BTreeMap<String, u64>,
    /// Largest element seen, in bytes.
    pub largest_element: u64,
    /// The trailer.
    pub trailer: Option<Trailer>,
    /// Bytes after the trailer (counted up to [`TRAILING_COUNTED`]).
    pub trailing_bytes: u64,
    /// Whether more trailing bytes followed than were counted.
    pub trailing_more: bool,
    elements: u64,
    current_kind: &'static str,
    // Hot-path counters, folded into the maps above when the file ends: a map lookup per key
    // would cost more than decoding a small key.
    per_db: Vec<(u64, [u64; ValueType::ALL.len()])>,
    note_counts: [u64; 16],
    /// Every key's fingerprints, for keys a file holds twice.
    pub(crate) key_log: KeyLog,
}

pub use super::keylog::DuplicateKey;
pub(crate) use super::keylog::KeyLog;

use crate::format::rdb::ValueType;

/// Every note, in declaration order.
const ALL_NOTES: [Note; 13] = [
    Note::IntString,
    Note::LzfString,
    Note::PlainNode,
    Note::PackedNode,
    Note::CompressedNode,
    Note::DeletedStreamEntry,
    Note::FieldExpiry,
    Note::ExpireSeconds,
    Note::StreamLengthMismatch,
    Note::KeyMeta,
    Note::HashTemplate,
    Note::NackedEntry,
    Note::IdmpEntry,
];

fn note_name(n: Note) -> &'static str {
    match n {
        Note::IntString => "int-encoded strings",
        Note::LzfString => "LZF-compressed strings",
        Note::PlainNode => "quicklist plain nodes",
        Note::PackedNode => "quicklist packed nodes",
        Note::CompressedNode => "LZF-compressed quicklist nodes",
        Note::DeletedStreamEntry => "deleted stream entries",
        Note::FieldExpiry => "hash fields with TTL",
        Note::ExpireSeconds => "seconds-precision expiries",
        Note::StreamLengthMismatch => "streams whose length differs from live entries",
        Note::KeyMeta => "keys with metadata (KEY_META)",
        Note::HashTemplate => "hash templates (registry records)",
        Note::NackedEntry => "NACKed stream entries",
        Note::IdmpEntry => "stream IDMP entries",
    }
}

impl Summary {
    fn fold(&mut self) {
        for (db, counts) in std::mem::take(&mut self.per_db) {
            for (i, &n) in counts.iter().enumerate().filter(|(_, n)| **n > 0) {
                let ty = ValueType::ALL[i];
                *self
                    .keys
                    .entry(db)
                    .or_default()
                    .entry(ty.kind().as_str())
                    .or_default() += n;
                *self.encodings.entry(ty.name()).or_default() += n;
            }
        }
        for n in ALL_NOTES {
            let c = self.note_counts[n as usize];
            if c > 0 {
                *self.notes.entry(note_name(n)).or_default() += c;
            }
        }
    }

    fn elem(&mut self, n: usize) {
        self.elements += 1;
        self.largest_element = self.largest_element.max(n as u64);
    }

    /// Total keys.
    pub fn total_keys(&self) -> u64 {
        self.keys.values().flat_map(|m| m.values()).sum()
    }
}

impl Visitor for Summary {
    fn aux(&mut self, k: &[u8], v: &[u8]) -> Result<()> {
        self.aux.push((
            String::from_utf8_lossy(k).into_owned(),
            String::from_utf8_lossy(v).into_owned(),
        ));
        Ok(())
    }
    fn function(&mut self, code: &[u8]) -> Result<()> {
        self.functions += 1;
        self.elem(code.len());
        Ok(())
    }
    fn module_aux(&mut self, m: &ModuleId, _when: u64, _p: &[u8]) -> Result<()> {
        *self.module_aux.entry(m.name_str().to_owned()).or_default() += 1;
        Ok(())
    }
    fn begin_key(&mut self, k: &KeyInfo<'_>) -> Result<()> {
        let kind = k.value_type.kind().as_str();
        let slot = match self.per_db.last_mut() {
            Some((db, c)) if *db == k.db => c,
            _ => {
                let i = match self.per_db.iter().position(|(db, _)| *db == k.db) {
                    Some(i) => i,
                    None => {
                        self.per_db.push((k.db, [0; ValueType::ALL.len()]));
                        self.per_db.len() - 1
                    }
                };
                // Keep the current database last so the next key finds it at once.
                let n = self.per_db.len();
                self.per_db.swap(i, n - 1);
                &mut self.per_db[n - 1].1
            }
        };
        slot[k.value_type as usize] += 1;
        self.key_log.record(k.db, k.key, k.offset);
        if k.expire_ms.is_some() {
            self.expires += 1;
        }
        self.elements = 0;
        self.current_kind = kind;
        self.elem(k.key.len());
        self.elements = 0;
        Ok(())
    }
    fn string(&mut self, v: &[u8]) -> Result<()> {
        self.elem(v.len());
        Ok(())
    }
    fn wants_string_bytes(&self) -> bool {
        false
    }
    fn string_len(&mut self, len: u64) -> Result<()> {
        self.elem(len as usize);
        Ok(())
    }
    fn list_item(&mut self, v: &[u8]) -> Result<()> {
        self.elem(v.len());
        Ok(())
    }
    fn set_member(&mut self, v: &[u8]) -> Result<()> {
        self.elem(v.len());
        Ok(())
    }
    fn hash_field(&mut self, f: &[u8], v: &[u8], _e: Option<i64>) -> Result<()> {
        self.elem(f.len().max(v.len()));
        Ok(())
    }
    fn zset_member(&mut self, m: &[u8], _s: f64) -> Result<()> {
        self.elem(m.len());
        Ok(())
    }
    fn stream_entry(&mut self, _id: crate::dataset::StreamId, f: &[(&[u8], &[u8])]) -> Result<()> {
        self.elem(f.iter().map(|(a, b)| a.len() + b.len()).sum());
        Ok(())
    }
    fn module_value(&mut self, _m: &ModuleId, p: &[u8]) -> Result<()> {
        self.elem(p.len());
        Ok(())
    }
    fn end_key(&mut self) -> Result<()> {
        if self.elements == 0 && matches!(self.current_kind, "list" | "set" | "hash" | "zset") {
            self.empty_keys += 1;
        }
        Ok(())
    }
    fn note(&mut self, n: Note) {
        self.note_counts[n as usize] += 1;
    }
    fn irregular(&mut self, kind: Irregularity, at: u64) {
        self.warnings.entry(kind).or_insert((0, at)).0 += 1;
    }
}

/// Trailing bytes are counted up to this many: an endless input after a valid RDB (`cat x.rdb
/// /dev/zero`) ends the count instead of the check.
pub const TRAILING_COUNTED: u64 = 64 << 20;

/// Validates a whole RDB stream; bytes after the trailer are counted, as Redis ignores them.
pub fn check<R: Read>(r: R, opts: ReadOptions) -> Result<Summary> {
    let mut reader = RdbReader::new(r, opts)?;
    let mut s = check_reader(&mut reader)?;
    super::duplicate_keys(&mut s, None, opts)?;
    (s.trailing_bytes, s.trailing_more) = reader.drain_trailing(TRAILING_COUNTED)?;
    Ok(s)
}

/// Validates the records of an RDB whose header was read, up to its trailer.
pub fn check_reader<R: Read>(reader: &mut RdbReader<R>) -> Result<Summary> {
    let h = reader.header();
    let mut s = Summary {
        magic: h.magic.as_str().into(),
        version: h.version,
        ..Summary::default()
    };
    let t = reader.read_all(&mut s)?;
    s.fold();
    s.trailer = Some(t);
    Ok(s)
}

/// The checksum verdict as a phrase.
pub fn checksum_phrase(c: Checksum) -> String {
    match c {
        Checksum::Absent => "none (version < 5)".into(),
        Checksum::Disabled => "zero (saved with rdbchecksum no)".into(),
        Checksum::Verified(v) => format!("verified ({v:#018x})"),
        Checksum::Unverified { stored, computed } => {
            format!("not verified (stored {stored:#018x}, computed {computed:#018x})")
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn type_and_note_tables_follow_declaration_order() {
        for (i, t) in ValueType::ALL.iter().enumerate() {
            assert_eq!(*t as usize, i, "{t:?}");
        }
        for (i, n) in ALL_NOTES.iter().enumerate() {
            assert_eq!(*n as usize, i, "{n:?}");
        }
    }
}
