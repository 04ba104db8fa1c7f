//! The stream value: entries in a `BTreeMap`, Redis's metadata (length, last/first/max-deleted
//! IDs, entries added), consumer groups, and a rebuilt node layout for approximate trimming.
//!
//! Redis stores entries in listpack nodes of at most `stream-node-max-entries` entries and
//! `stream-node-max-bytes` bytes; `~` trimming removes whole nodes only. The layout is tracked
//! here by entry counts and listpack sizes computed with listpack's encoding rules, as the nodes
//! would grow from this keyspace's own appends (a stream loaded from a dataset gets the layout of
//! appending its live entries in order: the file's real layout is not in the dataset).
use super::args::parse_i64;
use crate::dataset::StreamId;
use std::collections::{BTreeMap, BTreeSet, VecDeque};

/// Field/value pairs of one entry.
pub(crate) type Fields = Vec<(Vec<u8>, Vec<u8>)>;

/// The largest listpack a stream node may reach (`STREAM_LISTPACK_MAX_SIZE`).
const STREAM_LISTPACK_MAX_SIZE: u64 = 1 << 30;

/// A pending entry (`streamNACK`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Nack {
    pub(crate) consumer: Vec<u8>,
    pub(crate) delivery_time: i64,
    pub(crate) delivery_count: u64,
}

/// A consumer.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub(crate) struct ConsumerObj {
    pub(crate) seen_time: i64,
    /// `None` where a dataset had no active time (before RDB 11); -1 never active.
    pub(crate) active_time: Option<i64>,
    pub(crate) pel: BTreeSet<StreamId>,
}

/// A consumer group.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub(crate) struct GroupObj {
    pub(crate) last_id: StreamId,
    /// `None`: unknown (Redis's `SCG_INVALID_ENTRIES_READ`).
    pub(crate) entries_read: Option<u64>,
    pub(crate) pel: BTreeMap<StreamId, Nack>,
    pub(crate) consumers: BTreeMap<Vec<u8>, ConsumerObj>,
    /// The NACK zone (Redis 8.8+), oldest first: pending entries without a consumer (their
    /// `Nack::consumer` is empty). `None` for a dataset from before RDB 14, until XNACK.
    pub(crate) nacked: Option<Vec<StreamId>>,
}

impl GroupObj {
    /// Removes a pending entry from the group and its owner.
    pub(crate) fn unpend(&mut self, id: StreamId) -> Option<Nack> {
        let nack = self.pel.remove(&id)?;
        if let Some(c) = self.consumers.get_mut(&nack.consumer) {
            c.pel.remove(&id);
        }
        Some(nack)
    }

    /// The consumer, created (seen now, never active) when missing.
    pub(crate) fn consumer(&mut self, name: &[u8], now: i64) -> &mut ConsumerObj {
        self.consumers
            .entry(name.to_vec())
            .or_insert_with(|| ConsumerObj {
                seen_time: now,
                active_time: Some(-1),
                pel: BTreeSet::new(),
            })
    }
}

/// One listpack node of the layout.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Node {
    /// The node's key: the ID of its first entry ever.
    pub(crate) master: StreamId,
    /// The last ID appended to it (deleted or not).
    pub(crate) last: StreamId,
    pub(crate) live: u64,
    pub(crate) deleted: u64,
    /// Listpack bytes.
    pub(crate) bytes: u64,
    /// Master entry fields.
    pub(crate) fields: Vec<Vec<u8>>,
}

/// A stream.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub(crate) struct StreamObj {
    pub(crate) entries: BTreeMap<StreamId, Fields>,
    /// Live entries as Redis counts them (kept as stored, then maintained by deltas).
    pub(crate) length: u64,
    pub(crate) last_id: StreamId,
    /// `None` (with the two below) for a dataset from before RDB 10, until first modified.
    pub(crate) first_id: Option<StreamId>,
    pub(crate) max_deleted: Option<StreamId>,
    pub(crate) entries_added: Option<u64>,
    pub(crate) groups: BTreeMap<Vec<u8>, GroupObj>,
    pub(crate) nodes: VecDeque<Node>,
    /// Idempotent-producer state (Redis 8.6+), as a dataset carried it or XIDMPRECORD and
    /// XCFGSET set it.
    pub(crate) idmp: Option<crate::dataset::Idmp>,
}

/// Node sizing settings.
#[derive(Debug, Clone, Copy)]
pub(crate) struct NodeLimits {
    pub(crate) max_entries: u64,
    pub(crate) max_bytes: u64,
}

/// Bytes of a listpack integer element (encoding, data and back-length).
fn lp_int(v: i64) -> u64 {
    let enc = match v {
        0..=127 => 1,
        -4096..=4095 => 2,
        -32768..=32767 => 3,
        -8_388_608..=8_388_607 => 4,
        -2_147_483_648..=2_147_483_647 => 5,
        _ => 9,
    };
    enc + 1
}

/// Bytes of a listpack element holding `s` (stored as an integer when it reads as one).
fn lp_str(s: &[u8]) -> u64 {
    if let Some(v) = parse_i64(s) {
        return lp_int(v);
    }
    let n = s.len() as u64;
    let enc = if n < 64 {
        1 + n
    } else if n < 4096 {
        2 + n
    } else {
        5 + n
    };
    let back = match enc {
        0..=127 => 1,
        128..=16382 => 2,
        16383..=2_097_150 => 3,
        2_097_151..=268_435_454 => 4,
        _ => 5,
    };
    enc + back
}

/// Parses a stream ID (`streamGenericParseIDOrReply`): `<ms>-<seq>`, `<ms>` (the sequence then
/// `missing_seq`), and when `strict` is false also `-` and `+`. `ms-*` is handled by XADD.
pub(crate) fn parse_id(b: &[u8], missing_seq: u64, strict: bool) -> Option<StreamId> {
    if !strict {
        if b == b"-" {
            return Some(StreamId { ms: 0, seq: 0 });
        }
        if b == b"+" {
            return Some(StreamId {
                ms: u64::MAX,
                seq: u64::MAX,
            });
        }
    }
    if b.len() > 127 {
        return None;
    }
    let num = |p: &[u8]| -> Option<u64> {
        if p.is_empty() || !p.iter().all(u8::is_ascii_digit) {
            return None;
        }
        std::str::from_utf8(p).ok()?.parse().ok()
    };
    match b.iter().position(|&c| c == b'-') {
        Some(i) => Some(StreamId {
            ms: num(&b[..i])?,
            seq: num(&b[i + 1..])?,
        }),
        None => Some(StreamId {
            ms: num(b)?,
            seq: missing_seq,
        }),
    }
}

/// The ID after `id` (`streamIncrID`), `None` at the very last one.
pub(crate) fn incr_id(id: StreamId) -> Option<StreamId> {
    if id.seq == u64::MAX {
        if id.ms == u64::MAX {
            return None;
        }
        Some(StreamId {
            ms: id.ms + 1,
            seq: 0,
        })
    } else {
        Some(StreamId {
            ms: id.ms,
            seq: id.seq + 1,
        })
    }
}

/// The ID before `id` (`streamDecrID`), `None` at 0-0.
pub(crate) fn decr_id(id: StreamId) -> Option<StreamId> {
    if id.seq == 0 {
        if id.ms == 0 {
            return None;
        }
        Some(StreamId {
            ms: id.ms - 1,
            seq: u64::MAX,
        })
    } else {
        Some(StreamId {
            ms: id.ms,
            seq: id.seq - 1,
        })
    }
}

const ZERO: StreamId = StreamId { ms: 0, seq: 0 };

impl StreamObj {
    /// Fills metadata a pre-RDB-10 dataset lacked, as Redis does when it loads such a stream:
    /// max deleted 0-0, entries added = length, first ID computed, group read counters estimated;
    /// consumers without an active time get their seen time.
    pub(crate) fn materialize(&mut self) {
        if self.first_id.is_none() || self.max_deleted.is_none() || self.entries_added.is_none() {
            let legacy = self.first_id.is_none();
            self.first_id = Some(self.entries.keys().next().copied().unwrap_or(ZERO));
            self.max_deleted.get_or_insert(ZERO);
            self.entries_added.get_or_insert(self.length);
            if legacy {
                let ids: Vec<(Vec<u8>, StreamId)> = self
                    .groups
                    .iter()
                    .filter(|(_, g)| g.entries_read.is_none())
                    .map(|(n, g)| (n.clone(), g.last_id))
                    .collect();
                for (n, id) in ids {
                    let est = self.estimate_read(id);
                    if let Some(g) = self.groups.get_mut(&n) {
                        g.entries_read = est;
                    }
                }
            }
        }
        for g in self.groups.values_mut() {
            for c in g.consumers.values_mut() {
                c.active_time.get_or_insert(c.seen_time);
            }
        }
    }

    pub(crate) fn first(&self) -> StreamId {
        self.first_id.unwrap_or(ZERO)
    }
    pub(crate) fn max_deleted(&self) -> StreamId {
        self.max_deleted.unwrap_or(ZERO)
    }
    pub(crate) fn added(&self) -> u64 {
        self.entries_added.unwrap_or(self.length)
    }

    /// `streamEstimateDistanceFromFirstEverEntry`: `None` where it cannot be known.
    pub(crate) fn estimate_read(&self, id: StreamId) -> Option<u64> {
        let added = self.added();
        if added == 0 {
            return Some(0);
        }
        if self.length == 0 && id <= self.last_id {
            return Some(added);
        }
        let maxdel = self.max_deleted();
        if id != ZERO && id < maxdel {
            return None;
        }
        match id.cmp(&self.last_id) {
            std::cmp::Ordering::Equal => return Some(added),
            std::cmp::Ordering::Greater => return None,
            std::cmp::Ordering::Less => {}
        }
        let first = self.first();
        if maxdel == ZERO || maxdel < first {
            if id < first {
                return Some(added - self.length);
            } else if id == first {
                return Some(added - self.length + 1);
            }
        }
        None
    }

    /// `streamRangeHasTombstones(s, start, NULL)`.
    pub(crate) fn tombstones_after(&self, start: StreamId) -> bool {
        let maxdel = self.max_deleted();
        self.length != 0 && maxdel != ZERO && start <= maxdel
    }

    /// The next automatic ID after the last one for a clock at `now_ms` (`streamNextID`).
    pub(crate) fn next_id(&self, now_ms: i64) -> Option<StreamId> {
        let ms = now_ms.max(0) as u64;
        if ms > self.last_id.ms {
            Some(StreamId { ms, seq: 0 })
        } else {
            incr_id(self.last_id)
        }
    }

    /// Appends an entry whose ID the caller checked to be above `last_id`.
    pub(crate) fn append(&mut self, id: StreamId, fields: Fields, lim: NodeLimits) {
        let totelelen: u64 = fields.iter().map(|(f, v)| (f.len() + v.len()) as u64).sum();
        let max_bytes = match lim.max_bytes {
            0 => STREAM_LISTPACK_MAX_SIZE,
            b => b.min(STREAM_LISTPACK_MAX_SIZE),
        };
        let full = self.nodes.back().is_none_or(|n| {
            n.bytes + totelelen >= max_bytes
                || (lim.max_entries != 0 && n.live + n.deleted >= lim.max_entries)
        });
        if full {
            let mut bytes = 7 + lp_int(1) + lp_int(0) + lp_int(fields.len() as i64) + lp_int(0);
            bytes += fields.iter().map(|(f, _)| lp_str(f)).sum::<u64>();
            self.nodes.push_back(Node {
                master: id,
                last: id,
                live: 0,
                deleted: 0,
                bytes,
                fields: fields.iter().map(|(f, _)| f.clone()).collect(),
            });
        }
        let node = self.nodes.back_mut().expect("a tail node exists");
        let same = node.fields.len() == fields.len()
            && node.fields.iter().zip(&fields).all(|(m, (f, _))| m == f);
        let mut b = lp_int(if same { 2 } else { 0 })
            + lp_int(id.ms.wrapping_sub(node.master.ms) as i64)
            + lp_int(id.seq.wrapping_sub(node.master.seq) as i64);
        let n = fields.len() as i64;
        if same {
            b += fields.iter().map(|(_, v)| lp_str(v)).sum::<u64>() + lp_int(n + 3);
        } else {
            b += lp_int(n)
                + fields
                    .iter()
                    .map(|(f, v)| lp_str(f) + lp_str(v))
                    .sum::<u64>()
                + lp_int(2 * n + 4);
        }
        node.bytes += b + lp_int(node.live as i64 + 1) - lp_int(node.live as i64);
        node.live += 1;
        node.last = id;
        self.entries_added = Some(self.added() + 1);
        self.entries.insert(id, fields);
        self.length += 1;
        self.last_id = id;
        if self.length == 1 {
            self.first_id = Some(id);
        }
    }

    /// Index of the node holding `id`.
    fn node_of(&self, id: StreamId) -> Option<usize> {
        let i = self.nodes.partition_point(|n| n.master <= id);
        i.checked_sub(1)
    }

    /// Marks `n` live entries of node `i` deleted (removing the node when none is left, as
    /// `streamIteratorRemoveEntry` does for single deletions).
    fn node_forget(&mut self, i: usize, n: u64, drop_empty: bool) {
        let node = &mut self.nodes[i];
        if drop_empty && node.live <= n {
            self.nodes.remove(i);
            return;
        }
        let (l, d) = (node.live, node.deleted);
        node.live = l.saturating_sub(n);
        node.deleted = d + n;
        node.bytes = node.bytes + lp_int(node.live as i64) + lp_int(node.deleted as i64)
            - lp_int(l as i64)
            - lp_int(d as i64);
    }

    /// Deletes one entry (XDEL); true when it existed.
    pub(crate) fn delete(&mut self, id: StreamId) -> bool {
        if self.entries.remove(&id).is_none() {
            return false;
        }
        self.length = self.length.saturating_sub(1);
        if let Some(i) = self.node_of(id) {
            self.node_forget(i, 1, true);
        }
        true
    }

    /// `streamTrim`: MAXLEN (`Ok`) or MINID (`Err`), exact or approximate, with a LIMIT on the
    /// entries removed (0: none). Returns the number of entries deleted.
    pub(crate) fn trim(&mut self, strat: Result<u64, StreamId>, approx: bool, limit: u64) -> u64 {
        let mut deleted = 0u64;
        while let Some(node) = self.nodes.front() {
            if let Ok(maxlen) = strat {
                if self.length <= maxlen {
                    break;
                }
            }
            let entries = node.live;
            if limit != 0 && deleted + entries > limit {
                break;
            }
            let remove_node = match strat {
                Ok(maxlen) => self.length.saturating_sub(entries) >= maxlen,
                Err(minid) => node.last < minid,
            };
            let range = node.master..=node.last;
            if remove_node {
                let ids: Vec<StreamId> = self.entries.range(range).map(|(k, _)| *k).collect();
                for id in ids {
                    self.entries.remove(&id);
                }
                self.length = self.length.saturating_sub(entries);
                deleted += entries;
                self.nodes.pop_front();
                continue;
            }
            if approx {
                break;
            }
            let ids: Vec<StreamId> = self.entries.range(range).map(|(k, _)| *k).collect();
            let mut n = 0;
            for id in ids {
                let stop = match strat {
                    Ok(maxlen) => self.length <= maxlen,
                    Err(minid) => id >= minid,
                };
                if stop {
                    break;
                }
                self.entries.remove(&id);
                self.length = self.length.saturating_sub(1);
                n += 1;
            }
            self.node_forget(0, n, false);
            deleted += n;
            break;
        }
        if self.length == 0 {
            self.first_id = Some(ZERO);
        } else if deleted > 0 {
            self.first_id = Some(self.entries.keys().next().copied().unwrap_or(ZERO));
        }
        deleted
    }

    /// Rebuilds the node layout from the live entries.
    pub(crate) fn rebuild_nodes(&mut self, lim: NodeLimits) {
        let entries = std::mem::take(&mut self.entries);
        let (length, last, first, added) =
            (self.length, self.last_id, self.first_id, self.entries_added);
        self.nodes.clear();
        for (id, fields) in entries {
            self.append(id, fields, lim);
        }
        self.length = length;
        self.last_id = last;
        self.first_id = first;
        self.entries_added = added;
    }
}

impl GroupObj {
    /// Gives pending entry `id` to `consumer` with the given time and count.
    pub(crate) fn assign(g: &mut GroupObj, id: StreamId, consumer: &[u8], time: i64, count: u64) {
        if let Some(old) = g.pel.get(&id).map(|n| n.consumer.clone()) {
            if old != consumer {
                if let Some(c) = g.consumers.get_mut(&old) {
                    c.pel.remove(&id);
                }
            }
        }
        g.pel.insert(
            id,
            Nack {
                consumer: consumer.to_vec(),
                delivery_time: time,
                delivery_count: count,
            },
        );
        if let Some(c) = g.consumers.get_mut(consumer) {
            c.pel.insert(id);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn id(ms: u64, seq: u64) -> StreamId {
        StreamId { ms, seq }
    }

    #[test]
    fn ids_parse_like_redis() {
        assert_eq!(parse_id(b"5-3", 0, true), Some(id(5, 3)));
        assert_eq!(parse_id(b"5", 7, true), Some(id(5, 7)));
        assert_eq!(parse_id(b"-", 0, true), None);
        assert_eq!(parse_id(b"+", 0, false), Some(id(u64::MAX, u64::MAX)));
        assert_eq!(parse_id(b"5-x", 0, true), None);
        assert_eq!(parse_id(b"", 0, true), None);
    }

    #[test]
    fn nodes_fill_to_the_entry_limit() {
        let mut s = StreamObj::default();
        let lim = NodeLimits {
            max_entries: 100,
            max_bytes: 4096,
        };
        for i in 1..=250 {
            s.append(id(i, 0), vec![(b"f".to_vec(), b"v".to_vec())], lim);
        }
        let sizes: Vec<u64> = s.nodes.iter().map(|n| n.live).collect();
        assert_eq!(sizes, vec![100, 100, 50]);
        // Approximate MAXLEN 120 removes only the first whole node.
        assert_eq!(s.trim(Ok(120), true, 0), 100);
        assert_eq!(s.length, 150);
        assert_eq!(s.first_id, Some(id(101, 0)));
    }

    #[test]
    fn big_values_fill_nodes_by_bytes() {
        let mut s = StreamObj::default();
        let lim = NodeLimits {
            max_entries: 100,
            max_bytes: 4096,
        };
        for i in 1..=10 {
            s.append(id(i, 0), vec![(b"f".to_vec(), vec![b'x'; 1000])], lim);
        }
        assert!(
            s.nodes.len() >= 3,
            "{:?}",
            s.nodes.iter().map(|n| n.live).collect::<Vec<_>>()
        );
        assert!(s.nodes.iter().all(|n| n.live <= 4));
    }
}
