//! The first difference between two datasets, as a path into the dataset and both sides, so a
//! failed comparison reads at a glance (`keys[db 0 "k"].value[3]: expected "a", found "b"`).
//!
//! It walks the datasets themselves, not a rendering of them: bytes are compared as bytes, scores
//! bit for bit (`-0` differs from `0`), and every message spells values as Dataset JSON does.
use super::json_write::{bytes_text, score_text};
use super::*;

fn show(b: &[u8]) -> String {
    bytes_text(b)
}

fn opt<T: std::fmt::Display>(v: Option<T>) -> String {
    v.map_or_else(|| "none".to_owned(), |v| v.to_string())
}

/// Describes the first place where `actual` differs from `expected`, or `None` when equal
/// (comparisons ignore `source`).
pub fn first_difference(expected: &Dataset, actual: &Dataset) -> Option<String> {
    if let Some(i) = first_index(&expected.functions, &actual.functions) {
        return Some(match (expected.functions.get(i), actual.functions.get(i)) {
            (Some(_), Some(_)) => format!("functions[{i}]: the library's code differs"),
            (Some(_), None) => format!(
                "functions: expected {} libraries, found {}",
                expected.functions.len(),
                actual.functions.len()
            ),
            _ => format!(
                "functions: {} unexpected libraries after the {} expected",
                actual.functions.len() - expected.functions.len(),
                expected.functions.len()
            ),
        });
    }
    let (e, a) = (&expected.keys, &actual.keys);
    for i in 0..e.len().max(a.len()) {
        match (e.get(i), a.get(i)) {
            (Some(x), Some(y)) if (x.db, &x.key) == (y.db, &y.key) => {
                let at = format!("keys[db {} {}]", x.db, show(&x.key));
                if let Some(d) = entry_difference(&at, x, y) {
                    return Some(d);
                }
            }
            (Some(x), Some(y)) if (x.db, &x.key) < (y.db, &y.key) => {
                return Some(format!("keys: missing db {} key {}", x.db, show(&x.key)))
            }
            (_, Some(y)) => {
                return Some(format!("keys: unexpected db {} key {}", y.db, show(&y.key)))
            }
            (Some(x), None) => {
                return Some(format!("keys: missing db {} key {}", x.db, show(&x.key)))
            }
            (None, None) => break,
        }
    }
    None
}

fn first_index<T: PartialEq>(a: &[T], b: &[T]) -> Option<usize> {
    (0..a.len().max(b.len())).find(|&i| a.get(i) != b.get(i))
}

/// `Some(message)` when two scalars differ.
fn scalar<T: PartialEq>(at: &str, x: T, y: T, show: impl Fn(&T) -> String) -> Option<String> {
    (x != y).then(|| format!("{at}: expected {}, found {}", show(&x), show(&y)))
}

/// `Some(message)` when the field `what` of two records differs.
fn field<T: PartialEq>(
    at: &str,
    what: &str,
    x: T,
    y: T,
    show: impl Fn(&T) -> String,
) -> Option<String> {
    scalar(&format!("{at}.{what}"), x, y, show)
}

/// Two lists of items compared position by position, then by length (`noun` names the items).
fn items<T>(
    at: &str,
    noun: &str,
    x: &[T],
    y: &[T],
    each: impl Fn(&str, &T, &T) -> Option<String>,
) -> Option<String> {
    for (i, (a, b)) in x.iter().zip(y).enumerate() {
        if let Some(d) = each(&format!("{at}[{i}]"), a, b) {
            return Some(d);
        }
    }
    (x.len() != y.len()).then(|| format!("{at}: expected {} {noun}, found {}", x.len(), y.len()))
}

fn bytes(at: &str, x: &[u8], y: &[u8]) -> Option<String> {
    (x != y).then(|| format!("{at}: expected {}, found {}", show(x), show(y)))
}

fn entry_difference(at: &str, x: &Entry, y: &Entry) -> Option<String> {
    if x.value.type_name() != y.value.type_name() {
        let (tx, ty) = (x.value.type_name(), y.value.type_name());
        return Some(format!("{at}.type: expected {tx}, found {ty}"));
    }
    field(at, "expire_ms", x.expire_ms, y.expire_ms, |v| opt(*v))
        .or_else(|| field(at, "idle_s", x.idle_s, y.idle_s, |v| opt(*v)))
        .or_else(|| field(at, "freq", x.freq, y.freq, |v| opt(*v)))
        .or_else(|| value_difference(&format!("{at}.value"), &x.value, &y.value))
        .or_else(|| attrs_difference(at, &x.attrs, &y.attrs))
}

/// Key metadata and the template flag, compared after the value.
pub(crate) fn attrs_difference(at: &str, x: &KeyAttrs, y: &KeyAttrs) -> Option<String> {
    field(at, "hash_template", x.hash_template, y.hash_template, |v| {
        v.to_string()
    })
    .or_else(|| {
        items(
            &format!("{at}.meta"),
            "classes",
            &x.meta,
            &y.meta,
            |p, a, b| {
                field(p, "class", &a.class, &b.class, |v| v.to_string())
                    .or_else(|| field(p, "version", a.version, b.version, |v| v.to_string()))
                    .or_else(|| field(p, "flags", a.flags, b.flags, |v| v.to_string()))
                    .or_else(|| bytes(&format!("{p}.payload"), &a.payload, &b.payload))
            },
        )
    })
}

pub(crate) fn value_difference(at: &str, x: &Value, y: &Value) -> Option<String> {
    match (x, y) {
        (Value::String(a), Value::String(b)) => bytes(at, a, b),
        (Value::List(a), Value::List(b)) => items(at, "elements", a, b, |p, m, n| bytes(p, m, n)),
        (Value::Set(a), Value::Set(b)) => items(at, "members", a, b, |p, m, n| bytes(p, m, n)),
        (Value::Hash(a), Value::Hash(b)) => items(at, "fields", a, b, |p, f, g| {
            bytes(&format!("{p}.field"), &f.field, &g.field)
                .or_else(|| hash_field_difference(p, f, g))
        }),
        (Value::Zset(a), Value::Zset(b)) => items(at, "members", a, b, |p, m, n| {
            bytes(&format!("{p}.member"), &m.member, &n.member).or_else(|| {
                let (s, t) = (m.score.to_bits(), n.score.to_bits());
                field(p, "score", s, t, |v| score_text(f64::from_bits(*v)))
            })
        }),
        (Value::Stream(a), Value::Stream(b)) => stream_difference(at, a, b),
        (Value::Array(a), Value::Array(b)) => {
            field(at, "insert_idx", a.insert_idx, b.insert_idx, |v| opt(*v)).or_else(|| {
                items(
                    &format!("{at}.elements"),
                    "elements",
                    &a.elements,
                    &b.elements,
                    |p, x, y| {
                        field(p, "index", x.0, y.0, |v| v.to_string())
                            .or_else(|| bytes(&format!("{p}.value"), &x.1, &y.1))
                    },
                )
            })
        }
        (Value::Module(a), Value::Module(b)) => {
            field(at, "module", &a.name, &b.name, |v| v.to_string())
                .or_else(|| field(at, "id", a.id, b.id, |v| v.to_string()))
                .or_else(|| field(at, "encver", a.encver, b.encver, |v| v.to_string()))
                .or_else(|| bytes(&format!("{at}.payload"), &a.payload, &b.payload))
        }
        _ => None,
    }
}

/// Two fields of the same name: the field is named in the path, so a lost field TTL reads as one
/// (`value[0] (field "f"): TTL expected 1700000000000 ms, found none`).
fn hash_field_difference(at: &str, f: &HashField, g: &HashField) -> Option<String> {
    let at = format!("{at} (field {})", show(&f.field));
    if f.value != g.value {
        let (x, y) = (show(&f.value), show(&g.value));
        return Some(format!("{at}: value expected {x}, found {y}"));
    }
    let ms = |v: Option<i64>| v.map_or_else(|| "none".to_owned(), |v| format!("{v} ms"));
    (f.expire_ms != g.expire_ms).then(|| {
        let (x, y) = (ms(f.expire_ms), ms(g.expire_ms));
        format!("{at}: TTL expected {x}, found {y}")
    })
}

fn stream_difference(at: &str, a: &Stream, b: &Stream) -> Option<String> {
    let id = |v: &StreamId| v.to_string();
    let oid = |v: &Option<StreamId>| opt(*v);
    field(at, "length", a.length, b.length, |v| v.to_string())
        .or_else(|| field(at, "last_id", a.last_id, b.last_id, id))
        .or_else(|| field(at, "first_id", a.first_id, b.first_id, oid))
        .or_else(|| {
            field(
                at,
                "max_deleted_id",
                a.max_deleted_id,
                b.max_deleted_id,
                oid,
            )
        })
        .or_else(|| {
            field(at, "entries_added", a.entries_added, b.entries_added, |v| {
                opt(*v)
            })
        })
        .or_else(|| {
            items(
                &format!("{at}.entries"),
                "entries",
                &a.entries,
                &b.entries,
                |p, e, f| {
                    field(p, "id", e.id, f.id, id).or_else(|| {
                        items(
                            &format!("{p}.fields"),
                            "fields",
                            &e.fields,
                            &f.fields,
                            |q, x, y| {
                                bytes(&format!("{q}.field"), &x.0, &y.0)
                                    .or_else(|| bytes(&format!("{q}.value"), &x.1, &y.1))
                            },
                        )
                    })
                },
            )
        })
        .or_else(|| {
            items(
                &format!("{at}.groups"),
                "groups",
                &a.groups,
                &b.groups,
                group_difference,
            )
        })
        .or_else(|| match (&a.idmp, &b.idmp) {
            (None, None) => None,
            (Some(_), None) => Some(format!("{at}.idmp: expected IDMP state, found none")),
            (None, Some(_)) => Some(format!("{at}.idmp: unexpected IDMP state")),
            (Some(x), Some(y)) => idmp_difference(&format!("{at}.idmp"), x, y),
        })
}

fn idmp_difference(at: &str, x: &Idmp, y: &Idmp) -> Option<String> {
    let n = |v: &u64| v.to_string();
    field(at, "duration_s", x.duration_s, y.duration_s, n)
        .or_else(|| field(at, "max_entries", x.max_entries, y.max_entries, n))
        .or_else(|| field(at, "iids_added", x.iids_added, y.iids_added, n))
        .or_else(|| {
            field(
                at,
                "iids_duplicates",
                x.iids_duplicates,
                y.iids_duplicates,
                n,
            )
        })
        .or_else(|| {
            items(
                &format!("{at}.producers"),
                "producers",
                &x.producers,
                &y.producers,
                |p, a, b| {
                    bytes(&format!("{p}.pid"), &a.pid, &b.pid).or_else(|| {
                        items(
                            &format!("{p}.entries"),
                            "entries",
                            &a.entries,
                            &b.entries,
                            |q, e, f| {
                                bytes(&format!("{q}.iid"), &e.0, &f.0)
                                    .or_else(|| field(q, "id", e.1, f.1, |v| v.to_string()))
                            },
                        )
                    })
                },
            )
        })
}

fn group_difference(at: &str, g: &Group, h: &Group) -> Option<String> {
    let id = |v: &StreamId| v.to_string();
    bytes(&format!("{at}.name"), &g.name, &h.name)
        .or_else(|| {
            field(
                at,
                "last_delivered_id",
                g.last_delivered_id,
                h.last_delivered_id,
                id,
            )
        })
        .or_else(|| {
            field(at, "entries_read", g.entries_read, h.entries_read, |v| {
                opt(*v)
            })
        })
        .or_else(|| {
            items(
                &format!("{at}.pending"),
                "pending entries",
                &g.pending,
                &h.pending,
                |p, x, y| {
                    field(p, "id", x.id, y.id, id)
                        .or_else(|| bytes(&format!("{p}.consumer"), &x.consumer, &y.consumer))
                        .or_else(|| {
                            let t = |v: &i64| v.to_string();
                            field(
                                p,
                                "delivery_time_ms",
                                x.delivery_time_ms,
                                y.delivery_time_ms,
                                t,
                            )
                        })
                        .or_else(|| {
                            let c = |v: &u64| v.to_string();
                            field(p, "delivery_count", x.delivery_count, y.delivery_count, c)
                        })
                },
            )
        })
        .or_else(|| {
            items(
                &format!("{at}.consumers"),
                "consumers",
                &g.consumers,
                &h.consumers,
                |p, x, y| {
                    bytes(&format!("{p}.name"), &x.name, &y.name)
                        .or_else(|| {
                            field(p, "seen_time_ms", x.seen_time_ms, y.seen_time_ms, |v| {
                                v.to_string()
                            })
                        })
                        .or_else(|| {
                            field(
                                p,
                                "active_time_ms",
                                x.active_time_ms,
                                y.active_time_ms,
                                |v| opt(*v),
                            )
                        })
                        .or_else(|| {
                            items(
                                &format!("{p}.pending"),
                                "pending IDs",
                                &x.pending,
                                &y.pending,
                                |q, i, j| scalar(q, *i, *j, id),
                            )
                        })
                },
            )
        })
        .or_else(|| match (&g.nacked, &h.nacked) {
            (Some(x), Some(y)) => items(&format!("{at}.nacked"), "IDs", x, y, |q, i, j| {
                scalar(q, *i, *j, id)
            }),
            (x, y) => field(at, "nacked", x.is_some(), y.is_some(), |v| {
                if *v { "a NACK zone" } else { "none" }.to_owned()
            }),
        })
}

/// Leaves out of `actual` what `expected` could not report: a stream's first entry ID, max
/// deleted ID, entries-added and entries-read counters and consumer active times where they are
/// `null` in `expected` (a Redis 6.2 server keeps none of them), and LRU/LFU statistics where
/// `expected` has none. Used when an expectation was read from a server that knows less than
/// the file or the reader.
pub fn forget_unreported(expected: &Dataset, actual: &mut Dataset) {
    for (w, g) in expected.keys.iter().zip(actual.keys.iter_mut()) {
        if w.idle_s.is_none() {
            g.idle_s = None;
        }
        if w.freq.is_none() {
            g.freq = None;
        }
        if let (Value::Stream(ws), Value::Stream(gs)) = (&w.value, &mut g.value) {
            if ws.first_id.is_none() {
                gs.first_id = None;
            }
            if ws.max_deleted_id.is_none() {
                gs.max_deleted_id = None;
            }
            if ws.entries_added.is_none() {
                gs.entries_added = None;
            }
            if ws.idmp.is_none() {
                gs.idmp = None;
            }
            for (wg, gg) in ws.groups.iter().zip(gs.groups.iter_mut()) {
                if wg.entries_read.is_none() {
                    gg.entries_read = None;
                }
                if wg.nacked.is_none() {
                    gg.nacked = None;
                }
                // Files before RDB 11 hold no consumer active time; a newer server loading one
                // fills it from the seen time.
                for (wc, gc) in wg.consumers.iter().zip(gg.consumers.iter_mut()) {
                    if wc.active_time_ms.is_none() {
                        gc.active_time_ms = None;
                    }
                }
            }
        }
    }
}

/// Accepts `0` in `actual` where `expected` holds `-0` at the same place of a zset small enough
/// for a listpack under the default thresholds (128 members of at most 64 bytes): Redis 7.0+ and
/// Valkey keep such a zset as a listpack, which stores an integral score as an integer, so a
/// loaded or replayed `-0` comes back as `0` (measured: redis-server 7.0.15, 7.4.1, valkey-server
/// 8.1.8 and 9.1.2 loading `corpus/rdb/*/zsets.rdb`; Redis 6.2 keeps `-0`). Only comparisons with
/// what such a server holds use it.
pub fn forget_negative_zero(expected: &Dataset, actual: &mut Dataset) {
    for (w, g) in expected.keys.iter().zip(actual.keys.iter_mut()) {
        if let (Value::Zset(wm), Value::Zset(gm)) = (&w.value, &mut g.value) {
            if wm.len() > 128 || wm.iter().any(|m| m.member.len() > 64) {
                continue;
            }
            for (x, y) in wm.iter().zip(gm.iter_mut()) {
                let negative_zero = x.score == 0.0 && x.score.is_sign_negative();
                if negative_zero && y.score.to_bits() == 0f64.to_bits() && x.member == y.member {
                    y.score = x.score;
                }
            }
        }
    }
}
