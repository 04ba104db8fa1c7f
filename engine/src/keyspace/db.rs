//! One database of the keyspace: a fast-hashed map from key bytes to a slot (value, absolute-ms
//! expiry, LRU/LFU statistics carried through from a dataset), with lazy expiry on lookup.
use super::fxhash::{FxHashMap, FxHashSet};
use super::hash_type::HashObj;
use super::stream_type::StreamObj;
use super::zset_type::ZsetObj;
use crate::dataset::ModuleValue;
use std::collections::VecDeque;

/// A value held by a key.
#[derive(Debug, Clone)]
pub(crate) enum Obj {
    Str(Vec<u8>),
    List(VecDeque<Vec<u8>>),
    Set(FxHashSet<Vec<u8>>),
    Hash(Box<HashObj>),
    Zset(Box<ZsetObj>),
    Stream(Box<StreamObj>),
    /// A Redis 8.8+ array: index -> value, and the insertion cursor.
    Array(Box<ArrayObj>),
    Module(Box<ModuleValue>),
}

/// An array value.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(crate) struct ArrayObj {
    pub(crate) insert_idx: Option<u64>,
    pub(crate) map: std::collections::BTreeMap<u64, Vec<u8>>,
}

impl Obj {
    /// Whether this is a collection that has become empty (the key must then go).
    pub(crate) fn is_empty_collection(&self) -> bool {
        match self {
            Obj::List(l) => l.is_empty(),
            Obj::Set(s) => s.is_empty(),
            Obj::Hash(h) => h.map.is_empty(),
            Obj::Zset(z) => z.dict.is_empty(),
            Obj::Array(a) => a.map.is_empty(),
            Obj::Str(_) | Obj::Stream(_) | Obj::Module(_) => false,
        }
    }

    /// The name TYPE reports.
    pub(crate) fn type_name(&self) -> &'static str {
        match self {
            Obj::Str(_) => "string",
            Obj::List(_) => "list",
            Obj::Set(_) => "set",
            Obj::Hash(_) => "hash",
            Obj::Zset(_) => "zset",
            Obj::Stream(_) => "stream",
            Obj::Array(_) => "array",
            Obj::Module(_) => "module",
        }
    }
}

/// A key's slot: its value, expiry and the statistics a dataset carried.
#[derive(Debug, Clone)]
pub(crate) struct Slot {
    pub(crate) obj: Obj,
    /// Absolute Unix ms.
    pub(crate) expire: Option<i64>,
    /// LRU/LFU statistics from a dataset (dropped when the value is replaced).
    pub(crate) stats: Option<Box<Stats>>,
}

/// The access statistics a dataset may carry for a key, and its Redis 8.6+ attributes (key
/// metadata, hash-template flag), which go with the value as the statistics do.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Stats {
    /// LRU idle seconds.
    pub(crate) idle_s: Option<u64>,
    /// LFU counter.
    pub(crate) freq: Option<u8>,
    /// Key metadata and the template flag.
    pub(crate) attrs: crate::dataset::KeyAttrs,
}

impl Slot {
    /// A fresh slot without expiry.
    #[inline]
    pub(crate) fn new(obj: Obj) -> Slot {
        Slot {
            obj,
            expire: None,
            stats: None,
        }
    }

    /// Whether the key is logically gone at `clock` (`None`: nothing ever expires, as while a
    /// server loads). Redis: expired when `now > when`.
    #[inline]
    pub(crate) fn expired(&self, clock: Option<i64>) -> bool {
        matches!((self.expire, clock), (Some(e), Some(n)) if n > e)
    }
}

/// One database.
#[derive(Debug, Clone, Default)]
pub(crate) struct Db {
    pub(crate) map: FxHashMap<Box<[u8]>, Slot>,
    /// Keys deleted because a lookup found them expired, when someone propagates those deletes
    /// (Redis writes a DEL into the AOF for each, so that a replay sees the same keys).
    pub(crate) expired: Option<Vec<Box<[u8]>>>,
}

impl Db {
    /// Deletes `key` if it has expired at `clock`; true when it then does not exist.
    #[inline]
    fn purge(&mut self, key: &[u8], clock: Option<i64>) {
        if clock.is_some() && self.map.get(key).is_some_and(|s| s.expired(clock)) {
            if let Some((k, _)) = self.map.remove_entry(key) {
                if let Some(log) = &mut self.expired {
                    log.push(k);
                }
            }
        }
    }

    /// The live slot at `key`.
    #[inline]
    pub(crate) fn get(&mut self, key: &[u8], clock: Option<i64>) -> Option<&mut Slot> {
        self.purge(key, clock);
        self.map.get_mut(key)
    }

    /// Whether `key` exists (live).
    #[inline]
    pub(crate) fn exists(&mut self, key: &[u8], clock: Option<i64>) -> bool {
        self.purge(key, clock);
        self.map.contains_key(key)
    }

    /// Removes and returns the live slot at `key`.
    #[inline]
    pub(crate) fn take(&mut self, key: &[u8], clock: Option<i64>) -> Option<Slot> {
        self.purge(key, clock);
        self.map.remove(key)
    }

    /// Stores a slot, replacing whatever was there.
    #[inline]
    pub(crate) fn put(&mut self, key: &[u8], slot: Slot) {
        if let Some(old) = self.map.get_mut(key) {
            *old = slot;
        } else {
            self.map.insert(key.into(), slot);
        }
    }

    /// Removes `key` if its collection has become empty.
    #[inline]
    pub(crate) fn drop_if_empty(&mut self, key: &[u8]) {
        if self
            .map
            .get(key)
            .is_some_and(|s| s.obj.is_empty_collection())
        {
            self.map.remove(key);
        }
    }
}
