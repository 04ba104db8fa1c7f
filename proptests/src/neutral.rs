//! One form for the engine's datasets and the model's snapshots, so the two can be compared
//! without either crate knowing the other: (db, key) → (value rendered canonically, expiry).
use redis_persist_engine::dataset::{Dataset, Value as E};
use redis_persist_model::{Snapshot, Value as M};
use std::collections::BTreeMap;

/// (db, key) → (canonical value text, expiry in Unix ms).
pub type Neutral = BTreeMap<(u64, Vec<u8>), (String, Option<i64>)>;

fn text(b: &[u8]) -> String {
    b.escape_ascii().to_string()
}

fn list<'a>(kind: &str, items: impl Iterator<Item = String> + 'a) -> String {
    format!("{kind}[{}]", items.collect::<Vec<_>>().join(","))
}

/// Sorted set members in rank order: score, then member bytes.
fn zset(mut m: Vec<(f64, Vec<u8>)>) -> String {
    m.sort_by(|a, b| a.0.total_cmp(&b.0).then_with(|| a.1.cmp(&b.1)));
    list(
        "zset",
        m.into_iter().map(|(s, m)| format!("{s}:{}", text(&m))),
    )
}

fn hash(mut f: Vec<(Vec<u8>, Vec<u8>, Option<i64>)>) -> String {
    f.sort();
    list(
        "hash",
        f.into_iter()
            .map(|(k, v, e)| format!("{}={}@{e:?}", text(&k), text(&v))),
    )
}

/// The engine's dataset.
pub fn from_engine(ds: &Dataset) -> Neutral {
    ds.keys
        .iter()
        .map(|e| {
            let v = match &e.value {
                E::String(b) => format!("string:{}", text(b)),
                E::List(l) => list("list", l.iter().map(|x| text(x))),
                E::Set(s) => {
                    let mut s: Vec<String> = s.iter().map(|x| text(x)).collect();
                    s.sort();
                    list("set", s.into_iter())
                }
                E::Hash(h) => hash(
                    h.iter()
                        .map(|f| (f.field.clone(), f.value.clone(), f.expire_ms))
                        .collect(),
                ),
                E::Zset(z) => zset(z.iter().map(|m| (m.score, m.member.clone())).collect()),
                other => format!("{other:?}"),
            };
            ((e.db, e.key.clone()), (v, e.expire_ms))
        })
        .collect()
}

/// The model's snapshot.
pub fn from_model(snap: &Snapshot) -> Neutral {
    snap.iter()
        .map(|((db, key), (value, exp))| {
            let v = match value {
                M::String(b) => format!("string:{}", text(b)),
                M::List(l) => list("list", l.iter().map(|x| text(x))),
                M::Set(s) => {
                    let mut s: Vec<String> = s.iter().map(|x| text(x)).collect();
                    s.sort();
                    list("set", s.into_iter())
                }
                M::Hash(h) => hash(
                    h.iter()
                        .map(|(k, (v, e))| (k.clone(), v.clone(), *e))
                        .collect(),
                ),
                M::Zset(z) => zset(z.iter().map(|(m, s)| (*s, m.clone())).collect()),
                other => format!("{other:?}"),
            };
            ((*db, key.clone()), (v, *exp))
        })
        .collect()
}
