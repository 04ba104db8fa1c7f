//! The logical values a key can hold, one variant per Redis type, with no encoding detail.
//! Collections are plain std containers; orderings Redis computes (zset rank) are derived.

use std::collections::{BTreeMap, BTreeSet, VecDeque};

/// A list: elements from head (index 0) to tail.
pub type List = VecDeque<Vec<u8>>;
/// A set of members.
pub type Set = BTreeSet<Vec<u8>>;
/// A hash: field → (value, absolute field expiry in Unix ms, if any).
pub type Hash = BTreeMap<Vec<u8>, (Vec<u8>, Option<i64>)>;
/// A sorted set: member → score. Rank order (score, then member bytes) is computed on demand.
pub type Zset = BTreeMap<Vec<u8>, f64>;
/// A stream entry's (field, value) pairs in insertion order.
pub type Fields = Vec<(Vec<u8>, Vec<u8>)>;
/// A stream entry ID: (milliseconds, sequence).
pub type StreamId = (u64, u64);
/// A pending-entries-list record: (consumer name, last delivery time in ms, delivery count).
pub type Pending = (Vec<u8>, i64, u64);

/// The value stored at a key.
#[derive(Debug, Clone, PartialEq)]
pub enum Value {
    /// A string (any bytes; integers are their decimal text).
    String(Vec<u8>),
    /// A list.
    List(List),
    /// A set.
    Set(Set),
    /// A hash with optional per-field expiry.
    Hash(Hash),
    /// A sorted set.
    Zset(Zset),
    /// A stream with its consumer groups.
    Stream(Stream),
}

/// A stream: entries plus the metadata Redis persists alongside them.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Stream {
    /// Entries by ID.
    pub entries: BTreeMap<StreamId, Fields>,
    /// The last ID ever generated or set (XSETID); may exceed every present entry.
    pub last_id: StreamId,
    /// The greatest ID removed by XDEL (trimming does not move it), or 0-0.
    pub max_deleted_id: StreamId,
    /// How many entries were ever added (XADD count, or as set by XSETID).
    pub entries_added: u64,
    /// Consumer groups by name.
    pub groups: BTreeMap<Vec<u8>, Group>,
}

/// A consumer group.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Group {
    /// The last ID delivered to the group.
    pub last_delivered: StreamId,
    /// The group's logical read counter; `None` when Redis holds it invalid (-1).
    pub entries_read: Option<u64>,
    /// Pending entries: delivered and not yet acknowledged.
    pub pel: BTreeMap<StreamId, Pending>,
    /// Consumers by name.
    pub consumers: BTreeMap<Vec<u8>, Consumer>,
}

/// A consumer of a group. Its own pending list is the group PEL filtered by name.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Consumer {
    /// Last time the consumer was seen by any group command, in ms.
    pub seen_time: i64,
    /// Last time it was delivered or claimed something, in ms; -1 if never (Redis 7.2+).
    pub active_time: i64,
}

impl Value {
    /// The name `TYPE` replies for this value.
    pub fn type_name(&self) -> &'static str {
        match self {
            Value::String(_) => "string",
            Value::List(_) => "list",
            Value::Set(_) => "set",
            Value::Hash(_) => "hash",
            Value::Zset(_) => "zset",
            Value::Stream(_) => "stream",
        }
    }

    /// True for an empty list, set, hash or sorted set: values Redis never keeps.
    pub fn is_empty_collection(&self) -> bool {
        match self {
            Value::List(l) => l.is_empty(),
            Value::Set(s) => s.is_empty(),
            Value::Hash(h) => h.is_empty(),
            Value::Zset(z) => z.is_empty(),
            Value::String(_) | Value::Stream(_) => false,
        }
    }

    /// Drops hash fields expired at `now_ms` (no-op for other types).
    pub(crate) fn purge_fields(&mut self, now_ms: i64) {
        if let Value::Hash(h) = self {
            h.retain(|_, (_, when)| !when.is_some_and(|w| crate::keyspace::expired(w, now_ms)));
        }
    }
}

impl Stream {
    /// The first entry's ID, or 0-0 when empty (Redis's `first_id`).
    pub fn first_id(&self) -> StreamId {
        self.entries.keys().next().copied().unwrap_or((0, 0))
    }
}

/// Typed access to the variant a command expects; a mismatch is a WRONGTYPE error.
pub(crate) trait Kind: Default {
    fn of(value: &mut Value) -> Option<&mut Self>;
    fn into_value(self) -> Value;
}

macro_rules! kind {
    ($ty:ty, $variant:ident) => {
        impl Kind for $ty {
            fn of(value: &mut Value) -> Option<&mut Self> {
                match value {
                    Value::$variant(v) => Some(v),
                    _ => None,
                }
            }
            fn into_value(self) -> Value {
                Value::$variant(self)
            }
        }
    };
}

kind!(Vec<u8>, String);
kind!(List, List);
kind!(Set, Set);
kind!(Hash, Hash);
kind!(Zset, Zset);
kind!(Stream, Stream);

/// Renders a stream ID as Redis does: `ms-seq`.
pub(crate) fn fmt_id(id: StreamId) -> Vec<u8> {
    format!("{}-{}", id.0, id.1).into_bytes()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn empty_collections_are_flagged_but_empty_strings_and_streams_are_not() {
        assert!(Value::List(List::new()).is_empty_collection());
        assert!(Value::Zset(Zset::new()).is_empty_collection());
        assert!(!Value::String(Vec::new()).is_empty_collection());
        assert!(!Value::Stream(Stream::default()).is_empty_collection());
        assert!(!Value::Set([b"a".to_vec()].into()).is_empty_collection());
    }

    #[test]
    fn purge_fields_drops_only_fields_past_their_expiry() {
        let mut h = Hash::new();
        h.insert(b"past".to_vec(), (b"1".to_vec(), Some(99)));
        h.insert(b"now".to_vec(), (b"2".to_vec(), Some(100)));
        h.insert(b"none".to_vec(), (b"3".to_vec(), None));
        let mut v = Value::Hash(h);
        v.purge_fields(100);
        let Value::Hash(h) = v else { unreachable!() };
        assert_eq!(
            h.keys().cloned().collect::<Vec<_>>(),
            [b"none".to_vec(), b"now".to_vec()]
        );
    }

    #[test]
    fn first_id_and_type_names() {
        let mut s = Stream::default();
        assert_eq!(s.first_id(), (0, 0));
        s.entries.insert((5, 1), vec![]);
        s.entries.insert((3, 7), vec![]);
        assert_eq!(s.first_id(), (3, 7));
        assert_eq!(Value::Stream(s).type_name(), "stream");
        assert_eq!(fmt_id((1, 2)), b"1-2");
    }
}
