//! The logical dataset every decoder produces and every writer accepts: keys with values in the
//! canonical order of Dataset JSON (`docs/dataset-json.md`), independent of any encoding.
mod diff;
mod json_read;
mod json_write;

pub use diff::{first_difference, forget_negative_zero, forget_unreported};
pub use json_read::{from_json, from_json_str, JsonError};
pub use json_write::{
    bytes_text, score_text, to_json, to_json_string, write_json, Bytes, DatasetJson,
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
    /// A module value kept as its exact payload.
    Module(ModuleValue),
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
            Value::Module(_) => "module",
        }
    }

    /// Whether this is a collection with no elements (servers drop such keys on load).
    pub fn is_empty_collection(&self) -> bool {
        match self {
            Value::List(v) | Value::Set(v) => v.is_empty(),
            Value::Hash(v) => v.is_empty(),
            Value::Zset(v) => v.is_empty(),
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
            Value::Stream(s) => {
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
