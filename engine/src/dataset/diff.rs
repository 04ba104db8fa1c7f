//! The first difference between two datasets, as a path into the dataset and both sides, so a
//! failed comparison reads at a glance (`keys[db 0 "k"].value[3]: expected "a", found "b"`).
use super::json::{bytes_json, to_json};
use super::*;
use serde_json::Value as J;

fn show(b: &[u8]) -> String {
    bytes_json(b).to_string()
}

/// Describes the first place where `actual` differs from `expected`, or `None` when equal
/// (comparisons ignore `source`, compare bytes and compare scores as numbers).
pub fn first_difference(expected: &Dataset, actual: &Dataset) -> Option<String> {
    if expected.functions != actual.functions {
        return Some(format!(
            "functions: expected {} libraries, found {}{}",
            expected.functions.len(),
            actual.functions.len(),
            first_index(&expected.functions, &actual.functions)
                .map(|i| format!(" (first difference at [{i}])"))
                .unwrap_or_default()
        ));
    }
    let mut i = 0;
    let (e, a) = (&expected.keys, &actual.keys);
    while i < e.len() && i < a.len() {
        let (x, y) = (&e[i], &a[i]);
        if (x.db, &x.key) != (y.db, &y.key) {
            let (missing, extra) = if (x.db, &x.key) < (y.db, &y.key) {
                (Some(x), None)
            } else {
                (None, Some(y))
            };
            return Some(match (missing, extra) {
                (Some(m), _) => format!("keys: missing db {} key {}", m.db, show(&m.key)),
                (_, Some(x)) => format!("keys: unexpected db {} key {}", x.db, show(&x.key)),
                _ => unreachable!("one side is set"),
            });
        }
        if x != y {
            let at = format!("keys[db {} {}]", x.db, show(&x.key));
            return Some(entry_difference(&at, x, y));
        }
        i += 1;
    }
    if e.len() > a.len() {
        return Some(format!(
            "keys: missing db {} key {}",
            e[i].db,
            show(&e[i].key)
        ));
    }
    if a.len() > e.len() {
        return Some(format!(
            "keys: unexpected db {} key {}",
            a[i].db,
            show(&a[i].key)
        ));
    }
    None
}

fn first_index<T: PartialEq>(a: &[T], b: &[T]) -> Option<usize> {
    (0..a.len().max(b.len())).find(|&i| a.get(i) != b.get(i))
}

fn entry_difference(at: &str, x: &Entry, y: &Entry) -> String {
    if x.value.type_name() != y.value.type_name() {
        return format!(
            "{at}.type: expected {}, found {}",
            x.value.type_name(),
            y.value.type_name()
        );
    }
    if x.expire_ms != y.expire_ms {
        return format!(
            "{at}.expire_ms: expected {:?}, found {:?}",
            x.expire_ms, y.expire_ms
        );
    }
    if x.idle_s != y.idle_s {
        return format!("{at}.idle_s: expected {:?}, found {:?}", x.idle_s, y.idle_s);
    }
    if x.freq != y.freq {
        return format!("{at}.freq: expected {:?}, found {:?}", x.freq, y.freq);
    }
    // Compare the JSON forms structurally: they carry the canonical spelling of every part.
    let wrap = |e: &Entry| {
        to_json(&Dataset {
            source: None,
            functions: vec![],
            keys: vec![e.clone()],
        })
    };
    let (jx, jy) = (wrap(x), wrap(y));
    json_difference(
        &format!("{at}.value"),
        &jx["keys"][0]["value"],
        &jy["keys"][0]["value"],
    )
    .unwrap_or_else(|| format!("{at}.value: scores differ in spelling only"))
}

fn json_difference(at: &str, x: &J, y: &J) -> Option<String> {
    match (x, y) {
        (J::Array(a), J::Array(b)) => {
            for i in 0..a.len().min(b.len()) {
                if let Some(d) = json_difference(&format!("{at}[{i}]"), &a[i], &b[i]) {
                    return Some(d);
                }
            }
            (a.len() != b.len())
                .then(|| format!("{at}: expected {} items, found {}", a.len(), b.len()))
        }
        (J::Object(a), J::Object(b)) => {
            for (k, v) in a {
                match b.get(k) {
                    Some(w) => {
                        if let Some(d) = json_difference(&format!("{at}.{k}"), v, w) {
                            return Some(d);
                        }
                    }
                    None => return Some(format!("{at}.{k}: missing")),
                }
            }
            b.keys()
                .find(|k| !a.contains_key(*k))
                .map(|k| format!("{at}.{k}: unexpected"))
        }
        _ if x == y => None,
        _ => Some(format!("{at}: expected {x}, found {y}")),
    }
}

/// Leaves out of `actual` what `expected` could not report: a stream's first entry ID, max
/// deleted ID, entries-added and entries-read counters and consumer active times where they are
/// `null` in `expected` (a Redis 6.2 server keeps none of them), and LRU/LFU statistics where
/// `expected` has none. Used
/// when an expectation was read from a server that knows less than the file or the reader.
pub fn forget_unreported(expected: &Dataset, actual: &mut Dataset) {
    use super::Value;
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
            for (wg, gg) in ws.groups.iter().zip(gs.groups.iter_mut()) {
                if wg.entries_read.is_none() {
                    gg.entries_read = None;
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
