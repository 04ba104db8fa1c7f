//! Conversion between the keyspace and the logical [`Dataset`]: `from_dataset` then `to_dataset`
//! is the identity on canonical datasets; `to_dataset(Some(now))` leaves out what has expired.
use super::db::{ArrayObj, Obj, Slot, Stats};
use super::functions::library_name;
use super::fxhash::FxHashSet;
use super::hash_type::HashObj;
use super::stream_type::{ConsumerObj, GroupObj, Nack, NodeLimits, StreamObj};
use super::zset_type::{ZsetLimits, ZsetObj};
use super::{Config, Keyspace};
use crate::dataset::{
    Array, Consumer, Dataset, Entry, Group, HashField, PendingEntry, Stream, StreamEntry, Value,
    ZsetMember,
};

impl Keyspace {
    /// A keyspace (default settings) holding a dataset: every key in its database (any index),
    /// with its expiry and LRU/LFU statistics; function libraries by name. Empty collections are
    /// left out, as a server drops them on load.
    pub fn from_dataset(d: &Dataset) -> Keyspace {
        Keyspace::from_dataset_with(Config::default(), d)
    }

    /// [`Keyspace::from_dataset`] with these settings.
    pub fn from_dataset_with(cfg: Config, d: &Dataset) -> Keyspace {
        let mut k = Keyspace::with_config(cfg);
        for code in &d.functions {
            // A source without a parseable shebang is kept under its own text, so that it
            // still round-trips.
            let name = library_name(code)
                .ok()
                .filter(|n| !k.functions.contains_key(n));
            k.functions
                .insert(name.unwrap_or_else(|| code.clone()), code.clone());
        }
        for e in &d.keys {
            if e.value.is_empty_collection() {
                continue;
            }
            let obj = obj_from_value(&e.value, &k.cfg);
            let slot = Slot {
                obj,
                expire: e.expire_ms,
                stats: (e.idle_s.is_some() || e.freq.is_some() || !e.attrs.is_empty()).then(|| {
                    Box::new(Stats {
                        idle_s: e.idle_s,
                        freq: e.freq,
                        attrs: e.attrs.clone(),
                    })
                }),
            };
            k.db(e.db).map.insert(e.key.as_slice().into(), slot);
        }
        k
    }

    /// The dataset this keyspace holds, canonicalized. With `now_ms`, keys whose expiry has
    /// passed (`now > expire`) and hash fields whose expiry has passed (`expire < now`) are left
    /// out, as loading the data at that time would; without it everything is kept.
    pub fn to_dataset(&self, now_ms: Option<i64>) -> Dataset {
        let mut keys = Vec::new();
        let dbs = self.dbs.iter().enumerate().map(|(i, d)| (i as u64, d));
        for (idx, db) in dbs.chain(self.extra.iter().map(|(i, d)| (*i, d))) {
            for (key, slot) in &db.map {
                if slot.expired(now_ms) {
                    continue;
                }
                keys.push(Entry {
                    db: idx,
                    key: key.to_vec(),
                    expire_ms: slot.expire,
                    idle_s: slot.stats.as_ref().and_then(|s| s.idle_s),
                    freq: slot.stats.as_ref().and_then(|s| s.freq),
                    value: value_of(&slot.obj, now_ms),
                    attrs: slot
                        .stats
                        .as_ref()
                        .map(|s| s.attrs.clone())
                        .unwrap_or_default(),
                });
            }
        }
        let mut d = Dataset {
            source: None,
            functions: self.functions.values().cloned().collect(),
            keys,
        };
        d.canonicalize();
        d
    }
}

/// The keyspace object for a dataset value (streams get their node layout rebuilt).
pub(crate) fn obj_from_value(v: &Value, cfg: &Config) -> Obj {
    let lim = NodeLimits {
        max_entries: cfg.stream_node_max_entries,
        max_bytes: cfg.stream_node_max_bytes,
    };
    let zlim = ZsetLimits::from_config(cfg);
    match v {
        Value::String(s) => Obj::Str(s.clone()),
        Value::List(l) => Obj::List(l.iter().cloned().collect()),
        Value::Set(m) => {
            let mut s = FxHashSet::default();
            s.extend(m.iter().cloned());
            Obj::Set(s)
        }
        Value::Hash(fields) => {
            let mut h = HashObj::default();
            for f in fields {
                h.map
                    .insert(f.field.clone(), (f.value.clone(), f.expire_ms));
            }
            Obj::Hash(Box::new(h))
        }
        Value::Zset(members) => {
            // Scores are kept exactly as given (a load would turn a -0 in a small set into 0).
            let mut z = ZsetObj::default();
            for m in members {
                z.insert(&m.member, m.score);
            }
            z.listpack = members.len() <= zlim.entries
                && members.iter().all(|m| m.member.len() <= zlim.value);
            Obj::Zset(Box::new(z))
        }
        Value::Stream(s) => {
            let mut so = stream_from(s);
            so.rebuild_nodes(lim);
            Obj::Stream(Box::new(so))
        }
        Value::Array(a) => Obj::Array(Box::new(ArrayObj {
            insert_idx: a.insert_idx,
            map: a.elements.iter().cloned().collect(),
        })),
        Value::Module(m) => Obj::Module(Box::new(m.clone())),
    }
}

pub(crate) fn value_of(obj: &Obj, now_ms: Option<i64>) -> Value {
    match obj {
        Obj::Str(s) => Value::String(s.clone()),
        Obj::List(l) => Value::List(l.iter().cloned().collect()),
        Obj::Set(s) => Value::Set(s.iter().cloned().collect()),
        Obj::Hash(h) => Value::Hash(
            h.map
                .iter()
                .filter(|(_, (_, e))| !matches!((e, now_ms), (Some(e), Some(n)) if *e < n))
                .map(|(f, (v, e))| HashField {
                    field: f.clone(),
                    value: v.clone(),
                    expire_ms: *e,
                })
                .collect(),
        ),
        Obj::Zset(z) => Value::Zset(
            z.iter()
                .map(|(m, s)| ZsetMember {
                    member: m.to_vec(),
                    score: s,
                })
                .collect(),
        ),
        Obj::Stream(s) => Value::Stream(Box::new(stream_to(s))),
        Obj::Array(a) => Value::Array(Array {
            insert_idx: a.insert_idx,
            elements: a.map.iter().map(|(i, v)| (*i, v.clone())).collect(),
        }),
        Obj::Module(m) => Value::Module((**m).clone()),
    }
}

fn stream_from(s: &Stream) -> StreamObj {
    let mut so = StreamObj {
        entries: s.entries.iter().map(|e| (e.id, e.fields.clone())).collect(),
        length: s.length,
        last_id: s.last_id,
        first_id: s.first_id,
        max_deleted: s.max_deleted_id,
        entries_added: s.entries_added,
        idmp: s.idmp.clone(),
        ..StreamObj::default()
    };
    for g in &s.groups {
        let mut go = GroupObj {
            last_id: g.last_delivered_id,
            entries_read: g.entries_read,
            nacked: g.nacked.clone(),
            ..GroupObj::default()
        };
        for p in &g.pending {
            let nack = Nack {
                consumer: p.consumer.clone(),
                delivery_time: p.delivery_time_ms,
                delivery_count: p.delivery_count,
            };
            go.pel.insert(p.id, nack);
        }
        for c in &g.consumers {
            let co = ConsumerObj {
                seen_time: c.seen_time_ms,
                active_time: c.active_time_ms,
                pel: c.pending.iter().copied().collect(),
            };
            go.consumers.insert(c.name.clone(), co);
        }
        so.groups.insert(g.name.clone(), go);
    }
    so
}

fn stream_to(s: &StreamObj) -> Stream {
    Stream {
        length: s.length,
        last_id: s.last_id,
        first_id: s.first_id,
        max_deleted_id: s.max_deleted,
        entries_added: s.entries_added,
        entries: s
            .entries
            .iter()
            .map(|(id, f)| StreamEntry {
                id: *id,
                fields: f.clone(),
            })
            .collect(),
        groups: s
            .groups
            .iter()
            .map(|(name, g)| Group {
                name: name.clone(),
                last_delivered_id: g.last_id,
                entries_read: g.entries_read,
                pending: g
                    .pel
                    .iter()
                    .map(|(id, n)| PendingEntry {
                        id: *id,
                        consumer: n.consumer.clone(),
                        delivery_time_ms: n.delivery_time,
                        delivery_count: n.delivery_count,
                    })
                    .collect(),
                consumers: g
                    .consumers
                    .iter()
                    .map(|(cn, c)| Consumer {
                        name: cn.clone(),
                        seen_time_ms: c.seen_time,
                        active_time_ms: c.active_time,
                        pending: c.pel.iter().copied().collect(),
                    })
                    .collect(),
                // Only entries still pending and unowned stay in the zone.
                nacked: g.nacked.as_ref().map(|n| {
                    n.iter()
                        .filter(|id| g.pel.get(id).is_some_and(|p| p.consumer.is_empty()))
                        .copied()
                        .collect()
                }),
            })
            .collect(),
        idmp: s.idmp.clone(),
    }
}
