//! The logical dataset every decoder produces and every writer accepts: keys with values in the
//! canonical order of Dataset JSON (`docs/dataset-json.md`), independent of any encoding.
mod diff;
mod json_lines;
mod json_read;
mod json_sorted;
mod json_write;
mod payload_json;

pub use diff::{first_difference, forget_negative_zero, forget_unreported};
pub use json_lines::{from_json_lines, is_json_lines, write_lines, LinesWriter, LINES_FORMAT};
pub use json_read::{from_json, from_json_str, JsonError};
pub use json_sorted::SortedJson;
pub use json_write::{
    bytes_text, score_text, to_json, to_json_string, write_json, Bytes, DatasetJson,
};
pub use payload_json::{
    payload_from_json, payload_from_json_str, payload_to_json_string, PayloadDoc,
};

/// A whole dataset.
#[derive(Debug, Clone, Default)]
pub struct Dataset {
    /// Where it came from (ignored by comparisons).
    pub source: Option<SourceInfo>,
    /// Function library sources.
    pub functions: Vec<Vec<u8>>,
    /// Keys.
    pub keys: Vec<Entry>,
}

impl PartialEq for Dataset {
    fn eq(&self, other: &Self) -> bool {
        self.functions == other.functions && self.keys == other.keys
    }
}

/// Informational description of the input.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct SourceInfo {
    /// `rdb`, `aof` or `aof-dir`.
    pub kind: String,
    /// `REDIS` or `VALKEY` for RDB inputs.
    pub magic: Option<String>,
    /// RDB version.
    pub version: Option<u32>,
    /// AUX fields in file order.
    pub aux: Vec<(Vec<u8>, Vec<u8>)>,
}

/// One key.
#[derive(Debug, Clone, PartialEq)]
pub struct Entry {
    /// Database number.
    pub db: u64,
    /// Key bytes.
    pub key: Vec<u8>,
    /// Absolute Unix time in ms.
    pub expire_ms: Option<i64>,
    /// LRU idle seconds, where the file carries them.
    pub idle_s: Option<u64>,
    /// LFU counter, where the file carries it.
    pub freq: Option<u8>,
    /// The value.
    pub value: Value,
    /// What Redis 8.6+ files store with a key besides its value (empty for older files).
    pub attrs: KeyAttrs,
}

/// Key attributes beyond the value: key metadata (Redis 8.6+) and the hash-template flag (8.10+).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct KeyAttrs {
    /// Key metadata classes (opcode 243 `KEY_META`), in stored order.
    pub meta: Vec<KeyMeta>,
    /// The hash is stored by hash template (types 29-32).
    pub hash_template: bool,
}

impl KeyAttrs {
    /// Whether there is nothing beyond what older versions store.
    pub fn is_empty(&self) -> bool {
        self.meta.is_empty() && !self.hash_template
    }
}

/// One key metadata class's data: its 32-bit class spec split into name, version and flags,
/// and the class's module opcode stream through its EOF opcode, exactly as stored.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KeyMeta {
    /// The 4-character class name (charset `A-Z a-z 0-9 _ -`).
    pub class: String,
    /// Class version (0 to 31).
    pub version: u8,
    /// Flags (bit 0: the loader may skip the class when it does not know it).
    pub flags: u8,
    /// The opcode stream through EOF.
    pub payload: Vec<u8>,
}

/// Key metadata class names: 6 bits per character (not the module type charset: `_` is 62).
pub const KEY_META_CHARSET: &[u8; 64] =
    b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_-";

impl KeyMeta {
    /// The 32-bit class spec: name (24 bits), version (5), flags (3).
    pub fn spec(&self) -> Option<u32> {
        let name = self.class.as_bytes();
        if name.len() != 4 || self.version > 31 || self.flags > 7 {
            return None;
        }
        let mut n = 0u32;
        for c in name {
            let pos = KEY_META_CHARSET.iter().position(|x| x == c)? as u32;
            n = n << 6 | pos;
        }
        Some((n << 5 | self.version as u32) << 3 | self.flags as u32)
    }

    /// Splits a class spec (every 32-bit value is one).
    pub fn from_spec(spec: u32, payload: Vec<u8>) -> KeyMeta {
        let mut name = [0u8; 4];
        let mut n = spec >> 8;
        for c in name.iter_mut().rev() {
            *c = KEY_META_CHARSET[(n & 63) as usize];
            n >>= 6;
        }
        KeyMeta {
            class: String::from_utf8_lossy(&name).into_owned(),
            version: ((spec >> 3) & 31) as u8,
            flags: (spec & 7) as u8,
            payload,
        }
    }
}

/// A value by logical type.
#[derive(Debug, Clone, PartialEq)]
pub enum Value {
    /// A byte string.
    String(Vec<u8>),
    /// Elements head to tail.
    List(Vec<Vec<u8>>),
    /// Members.
    Set(Vec<Vec<u8>>),
    /// Fields.
    Hash(Vec<HashField>),
    /// Members with scores.
    Zset(Vec<ZsetMember>),
    /// A stream.
    Stream(Box<Stream>),
    /// A Redis 8.8+ array.
    Array(Array),
    /// A module value kept as its exact payload.
    Module(ModuleValue),
}

/// A Redis 8.8+ sparse array: values at 64-bit indexes, and the insertion cursor.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Array {
    /// Where the next `ARINSERT` goes (`None`: never set).
    pub insert_idx: Option<u64>,
    /// Elements sorted by index, each index once.
    pub elements: Vec<(u64, Vec<u8>)>,
}

impl Value {
    /// Dataset JSON's name of the type.
    pub fn type_name(&self) -> &'static str {
        match self {
            Value::String(_) => "string",
            Value::List(_) => "list",
            Value::Set(_) => "set",
            Value::Hash(_) => "hash",
            Value::Zset(_) => "zset",
            Value::Stream(_) => "stream",
            Value::Array(_) => "array",
            Value::Module(_) => "module",
        }
    }

    /// Whether this is a collection with no elements (servers drop such keys on load).
    pub fn is_empty_collection(&self) -> bool {
        match self {
            Value::List(v) | Value::Set(v) => v.is_empty(),
            Value::Hash(v) => v.is_empty(),
            Value::Zset(v) => v.is_empty(),
            Value::Array(a) => a.elements.is_empty(),
            Value::String(_) | Value::Stream(_) | Value::Module(_) => false,
        }
    }
}

/// A hash field, with its own expiry where the file has one.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HashField {
    /// Field name.
    pub field: Vec<u8>,
    /// Value.
    pub value: Vec<u8>,
    /// Absolute Unix ms of the field's expiry.
    pub expire_ms: Option<i64>,
}

/// A sorted-set member.
#[derive(Debug, Clone)]
pub struct ZsetMember {
    /// Member bytes.
    pub member: Vec<u8>,
    /// Score (never NaN).
    pub score: f64,
}

/// Scores are equal only when their bits are: every score must survive exactly, and `-0` is not
/// `0` (Redis keeps `-0` where its encoding can hold it).
impl PartialEq for ZsetMember {
    fn eq(&self, other: &Self) -> bool {
        self.member == other.member && self.score.to_bits() == other.score.to_bits()
    }
}

/// A stream entry or group ID.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default)]
pub struct StreamId {
    /// Milliseconds part.
    pub ms: u64,
    /// Sequence part.
    pub seq: u64,
}

impl std::fmt::Display for StreamId {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}-{}", self.ms, self.seq)
    }
}

impl std::str::FromStr for StreamId {
    type Err = String;
    fn from_str(s: &str) -> Result<StreamId, String> {
        let (a, b) = s
            .split_once('-')
            .ok_or_else(|| format!("stream ID {s:?} lacks '-'"))?;
        let ms = a
            .parse()
            .map_err(|_| format!("bad ms part in stream ID {s:?}"))?;
        let seq = b
            .parse()
            .map_err(|_| format!("bad seq part in stream ID {s:?}"))?;
        Ok(StreamId { ms, seq })
    }
}

/// A stream with its metadata and consumer groups.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Stream {
    /// Live entries.
    pub length: u64,
    /// Last ID ever added.
    pub last_id: StreamId,
    /// First live ID (RDB 10+).
    pub first_id: Option<StreamId>,
    /// Largest deleted ID (RDB 10+).
    pub max_deleted_id: Option<StreamId>,
    /// Entries ever added (RDB 10+).
    pub entries_added: Option<u64>,
    /// Entries in ID order.
    pub entries: Vec<StreamEntry>,
    /// Groups sorted by name.
    pub groups: Vec<Group>,
    /// Idempotent-producer state (stream type 26+, Redis 8.6+).
    pub idmp: Option<Idmp>,
}

/// A stream's idempotent-producer (IDMP) state.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Idmp {
    /// How long an IID is remembered, seconds (1 to 86400).
    pub duration_s: u64,
    /// IIDs remembered per producer (1 to 10000).
    pub max_entries: u64,
    /// Producers sorted by pid.
    pub producers: Vec<IdmpProducer>,
    /// IIDs ever added.
    pub iids_added: u64,
    /// Duplicate IIDs ever detected.
    pub iids_duplicates: u64,
}

impl Default for Idmp {
    /// What a stream without IDMP use carries: the `stream-idmp-*` defaults.
    fn default() -> Idmp {
        Idmp {
            duration_s: 100,
            max_entries: 100,
            producers: Vec::new(),
            iids_added: 0,
            iids_duplicates: 0,
        }
    }
}

/// One producer's remembered IIDs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IdmpProducer {
    /// Producer id.
    pub pid: Vec<u8>,
    /// `(iid, stream ID)` in insertion order.
    pub entries: Vec<(Vec<u8>, StreamId)>,
}

/// One stream entry.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StreamEntry {
    /// Its ID.
    pub id: StreamId,
    /// Field/value pairs in stored order.
    pub fields: Vec<(Vec<u8>, Vec<u8>)>,
}

/// A consumer group.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Group {
    /// Name.
    pub name: Vec<u8>,
    /// Last delivered ID.
    pub last_delivered_id: StreamId,
    /// Entries read (RDB 10+, `None` where unknown).
    pub entries_read: Option<u64>,
    /// Pending entries sorted by ID.
    pub pending: Vec<PendingEntry>,
    /// Consumers sorted by name.
    pub consumers: Vec<Consumer>,
    /// The NACK zone (stream type 27+, Redis 8.8+), in stored order; these pending entries
    /// have no consumer (their `consumer` is empty).
    pub nacked: Option<Vec<StreamId>>,
}

/// A row of a group's pending entries list.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PendingEntry {
    /// Entry ID.
    pub id: StreamId,
    /// Owning consumer.
    pub consumer: Vec<u8>,
    /// Last delivery time, Unix ms.
    pub delivery_time_ms: i64,
    /// Deliveries so far.
    pub delivery_count: u64,
}

/// A consumer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Consumer {
    /// Name.
    pub name: Vec<u8>,
    /// Last seen, Unix ms.
    pub seen_time_ms: i64,
    /// Last active, Unix ms (RDB 11+; -1 never active).
    pub active_time_ms: Option<i64>,
    /// IDs it owns, ascending.
    pub pending: Vec<StreamId>,
}

/// A module value without its module.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ModuleValue {
    /// The 9-character module type name.
    pub name: String,
    /// The 64-bit module id (name and encoding version packed).
    pub id: u64,
    /// Encoding version (low 10 bits of the id).
    pub encver: u64,
    /// The opcode-tagged payload after the id, through its EOF opcode, exactly as stored.
    pub payload: Vec<u8>,
}

impl Dataset {
    /// Puts keys and every collection into the canonical order of Dataset JSON and drops empty
    /// collections, as a server does on load.
    pub fn canonicalize(&mut self) {
        self.functions.sort();
        self.keys.retain(|e| !e.value.is_empty_collection());
        for e in &mut self.keys {
            e.value.canonicalize();
        }
        if !self
            .keys
            .is_sorted_by(|a, b| (a.db, &a.key) <= (b.db, &b.key))
        {
            self.keys
                .sort_by(|a, b| (a.db, &a.key).cmp(&(b.db, &b.key)));
        }
    }
}

impl Value {
    /// Canonical order of this value's parts.
    pub fn canonicalize(&mut self) {
        match self {
            Value::Set(m) => m.sort(),
            Value::Hash(f) => f.sort_by(|a, b| a.field.cmp(&b.field)),
            Value::Zset(m) => m.sort_by(|a, b| {
                a.score
                    .partial_cmp(&b.score)
                    .unwrap_or(std::cmp::Ordering::Equal)
                    .then_with(|| a.member.cmp(&b.member))
            }),
            Value::Array(a) => {
                if !a.elements.is_sorted_by(|x, y| x.0 < y.0) {
                    // Stable, so that of a repeated index the last stays last and is kept.
                    a.elements.sort_by_key(|e| e.0);
                    let mut v: Vec<(u64, Vec<u8>)> = Vec::with_capacity(a.elements.len());
                    for e in a.elements.drain(..) {
                        match v.last_mut() {
                            Some(l) if l.0 == e.0 => *l = e,
                            _ => v.push(e),
                        }
                    }
                    a.elements = v;
                }
            }
            Value::Stream(s) => {
                if let Some(i) = &mut s.idmp {
                    i.producers.sort_by(|a, b| a.pid.cmp(&b.pid));
                }
                s.entries.sort_by_key(|e| e.id);
                s.groups.sort_by(|a, b| a.name.cmp(&b.name));
                for g in &mut s.groups {
                    g.pending.sort_by_key(|p| p.id);
                    g.consumers.sort_by(|a, b| a.name.cmp(&b.name));
                    for c in &mut g.consumers {
                        c.pending.sort();
                    }
                }
            }
            Value::String(_) | Value::List(_) | Value::Module(_) => {}
        }
    }
}

#[cfg(test)]
mod tests;
