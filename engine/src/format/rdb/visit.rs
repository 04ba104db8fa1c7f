//! The push interface through which the RDB reader hands out records one element at a time, so a
//! consumer decides what to keep: a whole dataset, counts for `check`, or nothing at all.
use super::opcode::ValueType;
use crate::dataset::{Idmp, KeyMeta, StreamId};
use crate::format::error::Result;

/// What the reader knows about a key when its value begins.
#[derive(Debug, Clone, Copy)]
pub struct KeyInfo<'a> {
    /// Database selected by the last SELECTDB (0 before any).
    pub db: u64,
    /// Key bytes.
    pub key: &'a [u8],
    /// Type byte of the value.
    pub value_type: ValueType,
    /// Absolute expiry in ms (seconds-precision expiries already multiplied).
    pub expire_ms: Option<i64>,
    /// LRU idle seconds (IDLE opcode).
    pub idle_s: Option<u64>,
    /// LFU counter (FREQ opcode).
    pub freq: Option<u8>,
    /// File offset of the key's type byte.
    pub offset: u64,
}

/// Stream metadata that follows the entries.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct StreamMeta {
    /// Live entries.
    pub length: u64,
    /// Last ID ever added.
    pub last_id: StreamId,
    /// First live ID (v2+).
    pub first_id: Option<StreamId>,
    /// Largest deleted ID (v2+).
    pub max_deleted_id: Option<StreamId>,
    /// Entries ever added (v2+).
    pub entries_added: Option<u64>,
}

/// A module type id split into its parts.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ModuleId {
    /// The raw 64-bit id.
    pub id: u64,
    /// The 9-character type name.
    pub name: [u8; 9],
    /// Encoding version (0 to 1023).
    pub encver: u64,
}

const MODULE_CHARSET: &[u8; 64] =
    b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

impl ModuleId {
    /// Splits a module type id.
    pub fn from_id(id: u64) -> ModuleId {
        let mut name = [0u8; 9];
        let mut n = id >> 10;
        for i in (0..9).rev() {
            name[i] = MODULE_CHARSET[(n & 63) as usize];
            n >>= 6;
        }
        ModuleId {
            id,
            name,
            encver: id & 1023,
        }
    }

    /// The name as text (always ASCII).
    pub fn name_str(&self) -> &str {
        std::str::from_utf8(&self.name).unwrap_or("?????????")
    }
}

/// Sub-encodings worth counting in `check`'s summary.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Note {
    /// A string stored as an integer.
    IntString,
    /// An LZF-compressed string.
    LzfString,
    /// A quicklist v2 node holding one plain element.
    PlainNode,
    /// A quicklist v2 node holding a listpack.
    PackedNode,
    /// A quicklist node stored LZF-compressed.
    CompressedNode,
    /// A stream entry marked deleted.
    DeletedStreamEntry,
    /// A hash field with its own expiry.
    FieldExpiry,
    /// A seconds-precision expiry (EXPIRETIME).
    ExpireSeconds,
    /// A stream whose stored length differs from its live entries (Redis 5.0 XTRIM).
    StreamLengthMismatch,
    /// A key with metadata (opcode 243 `KEY_META`, Redis 8.6+).
    KeyMeta,
    /// A hash template record (opcode 242, Redis 8.10+).
    HashTemplate,
    /// A stream entry in a consumer group's NACK zone (Redis 8.8+).
    NackedEntry,
    /// A stream IDMP entry (Redis 8.6+).
    IdmpEntry,
}

/// Receives decoded records. Every method defaults to doing nothing.
#[allow(unused_variables)]
pub trait Visitor {
    /// An AUX field.
    fn aux(&mut self, key: &[u8], value: &[u8]) -> Result<()> {
        Ok(())
    }
    /// SELECTDB.
    fn select_db(&mut self, db: u64) -> Result<()> {
        Ok(())
    }
    /// RESIZEDB sizing hint.
    fn resize_db(&mut self, db_size: u64, expires_size: u64) -> Result<()> {
        Ok(())
    }
    /// SLOT_INFO sizing hint.
    fn slot_info(&mut self, slot: u64, size: u64, expires: u64) -> Result<()> {
        Ok(())
    }
    /// A function library's source.
    fn function(&mut self, code: &[u8]) -> Result<()> {
        Ok(())
    }
    /// A MODULE_AUX record with its verbatim opcode stream.
    fn module_aux(&mut self, module: &ModuleId, when: u64, payload: &[u8]) -> Result<()> {
        Ok(())
    }
    /// A key begins.
    fn begin_key(&mut self, key: &KeyInfo<'_>) -> Result<()> {
        Ok(())
    }
    /// Whether [`Visitor::string`] needs a string value's bytes; when not, the reader checks
    /// the value just as strictly but calls [`Visitor::string_len`] instead (no LZF output).
    fn wants_string_bytes(&self) -> bool {
        true
    }
    /// A string value's length, for visitors that do not want its bytes.
    fn string_len(&mut self, len: u64) -> Result<()> {
        Ok(())
    }
    /// A string value.
    fn string(&mut self, value: &[u8]) -> Result<()> {
        Ok(())
    }
    /// A list element, head to tail.
    fn list_item(&mut self, item: &[u8]) -> Result<()> {
        Ok(())
    }
    /// A set member.
    fn set_member(&mut self, member: &[u8]) -> Result<()> {
        Ok(())
    }
    /// A hash field.
    fn hash_field(&mut self, field: &[u8], value: &[u8], expire_ms: Option<i64>) -> Result<()> {
        Ok(())
    }
    /// A sorted-set member.
    fn zset_member(&mut self, member: &[u8], score: f64) -> Result<()> {
        Ok(())
    }
    /// A live stream entry.
    fn stream_entry(&mut self, id: StreamId, fields: &[(&[u8], &[u8])]) -> Result<()> {
        Ok(())
    }
    /// Stream metadata (after the entries).
    fn stream_meta(&mut self, meta: &StreamMeta) -> Result<()> {
        Ok(())
    }
    /// A consumer group begins.
    fn stream_group(
        &mut self,
        name: &[u8],
        last_delivered: StreamId,
        entries_read: Option<u64>,
    ) -> Result<()> {
        Ok(())
    }
    /// A row of the current group's pending entries list.
    fn stream_pending(
        &mut self,
        id: StreamId,
        delivery_time_ms: i64,
        delivery_count: u64,
    ) -> Result<()> {
        Ok(())
    }
    /// A consumer of the current group begins.
    fn stream_consumer(
        &mut self,
        name: &[u8],
        seen_time_ms: i64,
        active_time_ms: Option<i64>,
    ) -> Result<()> {
        Ok(())
    }
    /// An ID owned by the current consumer.
    fn stream_consumer_pending(&mut self, id: StreamId) -> Result<()> {
        Ok(())
    }
    /// A module value, as its verbatim payload.
    fn module_value(&mut self, module: &ModuleId, payload: &[u8]) -> Result<()> {
        Ok(())
    }
    /// One metadata class of the current key (after `begin_key`, before the value).
    fn key_meta(&mut self, meta: &KeyMeta) -> Result<()> {
        Ok(())
    }
    /// A hash template record (opcode 242): its id and field names.
    fn hash_template(&mut self, id: u64, fields: &[Vec<u8>]) -> Result<()> {
        Ok(())
    }
    /// The current group's NACK zone (after its consumers), in stored order.
    fn stream_nacked(&mut self, ids: &[StreamId]) -> Result<()> {
        Ok(())
    }
    /// The stream's IDMP state (after its groups).
    fn stream_idmp(&mut self, idmp: &Idmp) -> Result<()> {
        Ok(())
    }
    /// An array begins: its stored element count and insertion cursor.
    fn array_meta(&mut self, count: u64, insert_idx: Option<u64>) -> Result<()> {
        Ok(())
    }
    /// An array element, as `ARGET` returns it.
    fn array_element(&mut self, idx: u64, value: &[u8]) -> Result<()> {
        Ok(())
    }
    /// The current key's value is complete.
    fn end_key(&mut self) -> Result<()> {
        Ok(())
    }
    /// A sub-encoding was seen.
    fn note(&mut self, note: Note) {}
    /// The current key's value ends just before byte `at` (so its record is `at - offset` bytes).
    fn value_end(&mut self, at: u64) {}
    /// Something the server accepts but a careful reader flags, at byte `at` (see
    /// [`Irregularity`](super::irregular::Irregularity)); reported only when not reading strictly.
    fn irregular(&mut self, kind: super::irregular::Irregularity, at: u64) {}
}

/// A visitor that keeps nothing: decoding with it only validates.
#[derive(Debug, Default)]
pub struct Discard;

impl Visitor for Discard {}
