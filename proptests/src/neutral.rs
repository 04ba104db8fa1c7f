//! One form for the engine's datasets and the model's snapshots, so the two can be compared
//! without either crate knowing the other: (db, key) → (value rendered canonically, expiry).
use redis_persist_engine::dataset::{Dataset, Stream as EStream, Value as E};
use redis_persist_model::{Keyspace, Stream as MStream, Value as M};
use std::collections::BTreeMap;

/// (db, key) → (canonical value text, expiry in Unix ms). Function libraries sit under the
/// pseudo-key [`FUNCTIONS`], as one sorted list of their sources.
pub type Neutral = BTreeMap<(u64, Vec<u8>), (String, Option<i64>)>;

/// Where [`Neutral`] keeps the function libraries: no database has this index.
pub const FUNCTIONS: (u64, &[u8]) = (u64::MAX, b"functions");

fn functions(out: &mut Neutral, mut libs: Vec<Vec<u8>>) {
    if !libs.is_empty() {
        libs.sort();
        let text = list("functions", libs.iter().map(|l| text(l)));
        out.insert((FUNCTIONS.0, FUNCTIONS.1.to_vec()), (text, None));
    }
}

/// A stream's logical content: entries, IDs and counters, groups with their PEL and consumer
/// names (each consumer's PEL is implied by the group's, so it is not rendered twice). Consumer
/// seen and active times are left out: an AOF replays the commands that made a consumer
/// (`XGROUP CREATECONSUMER`, `XCLAIM`), so Redis itself gives them the load's time. PEL delivery
/// times are left out too, though Redis keeps them (its AOF has `XCLAIM ... TIME`): the engine
/// replays XREADGROUP and XCLAIM as issued, at the load's clock (see `persist::propagate`).
struct StreamForm {
    entries: Vec<((u64, u64), Fields)>,
    last: (u64, u64),
    max_deleted: (u64, u64),
    added: u64,
    groups: Vec<GroupForm>,
}

type Fields = Vec<(Vec<u8>, Vec<u8>)>;

type GroupForm = (
    Vec<u8>,
    (u64, u64),
    Option<u64>,
    Vec<((u64, u64), Vec<u8>, u64)>,
    Vec<Vec<u8>>,
);

impl StreamForm {
    fn render(mut self) -> String {
        self.groups.sort();
        let fields = |f: &[(Vec<u8>, Vec<u8>)]| {
            f.iter()
                .map(|(k, v)| format!("{}={}", text(k), text(v)))
                .collect::<Vec<_>>()
                .join(" ")
        };
        let entries = self
            .entries
            .iter()
            .map(|(id, f)| format!("{}-{}({})", id.0, id.1, fields(f)));
        let groups = self.groups.iter().map(|(name, last, read, pel, cons)| {
            let pel = pel
                .iter()
                .map(|(id, c, n)| format!("{}-{}:{}x{n}", id.0, id.1, text(c)));
            let cons = cons.iter().map(|c| text(c));
            format!(
                "{}>{}-{} read={read:?} {} {}",
                text(name),
                last.0,
                last.1,
                list("pel", pel),
                list("consumers", cons)
            )
        });
        format!(
            "{} last={}-{} maxdel={}-{} added={} {}",
            list("stream", entries),
            self.last.0,
            self.last.1,
            self.max_deleted.0,
            self.max_deleted.1,
            self.added,
            list("groups", groups)
        )
    }
}

fn engine_stream(s: &EStream) -> String {
    let id = |i: &redis_persist_engine::dataset::StreamId| (i.ms, i.seq);
    StreamForm {
        entries: s
            .entries
            .iter()
            .map(|e| (id(&e.id), e.fields.clone()))
            .collect(),
        last: id(&s.last_id),
        max_deleted: s.max_deleted_id.as_ref().map_or((0, 0), id),
        added: s.entries_added.unwrap_or(s.length),
        groups: s
            .groups
            .iter()
            .map(|g| {
                let mut pel: Vec<_> = g
                    .pending
                    .iter()
                    .map(|p| (id(&p.id), p.consumer.clone(), p.delivery_count))
                    .collect();
                pel.sort();
                let mut cons: Vec<_> = g.consumers.iter().map(|c| c.name.clone()).collect();
                cons.sort();
                (
                    g.name.clone(),
                    id(&g.last_delivered_id),
                    g.entries_read,
                    pel,
                    cons,
                )
            })
            .collect(),
    }
    .render()
}

fn model_stream(s: &MStream) -> String {
    StreamForm {
        entries: s.entries.iter().map(|(i, f)| (*i, f.clone())).collect(),
        last: s.last_id,
        max_deleted: s.max_deleted_id,
        added: s.entries_added,
        groups: s
            .groups
            .iter()
            .map(|(name, g)| {
                let pel = g
                    .pel
                    .iter()
                    .map(|(i, (c, _, n))| (*i, c.clone(), *n))
                    .collect();
                let cons = g.consumers.keys().cloned().collect();
                (name.clone(), g.last_delivered, g.entries_read, pel, cons)
            })
            .collect(),
    }
    .render()
}

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
    let mut out: Neutral = ds
        .keys
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
                E::Stream(s) => engine_stream(s),
                other => format!("{other:?}"),
            };
            ((e.db, e.key.clone()), (v, e.expire_ms))
        })
        .collect();
    functions(&mut out, ds.functions.clone());
    out
}

/// The model's keyspace as it stands at `now`.
pub fn from_model(ks: &Keyspace, now: i64) -> Neutral {
    let mut out: Neutral = ks
        .snapshot(now)
        .iter()
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
                M::Stream(s) => model_stream(s),
            };
            ((*db, key.clone()), (v, *exp))
        })
        .collect();
    functions(&mut out, ks.functions.values().cloned().collect());
    out
}

/// Where `got` and `want` differ, one line per key with long values cut: what a failure report
/// shows instead of two whole datasets.
pub fn diff(got: &Neutral, want: &Neutral) -> String {
    let cut = |v: Option<&(String, Option<i64>)>| match v {
        None => "absent".to_owned(),
        Some((s, e)) if s.len() > 160 => format!("{}.. ({} chars) exp {e:?}", &s[..160], s.len()),
        Some((s, e)) => format!("{s} exp {e:?}"),
    };
    let keys: std::collections::BTreeSet<_> = got.keys().chain(want.keys()).collect();
    let lines: Vec<String> = keys
        .into_iter()
        .filter(|k| got.get(*k) != want.get(*k))
        .map(|k| {
            format!(
                "db {} {}: {} / allowed {}",
                k.0,
                text(&k.1),
                cut(got.get(k)),
                cut(want.get(k))
            )
        })
        .collect();
    lines.join("; ")
}
