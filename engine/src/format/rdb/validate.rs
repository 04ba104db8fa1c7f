//! What no server can load, found before a byte is written: a key twice in a database, a set,
//! hash or sorted-set member twice, a stream entry ID twice, a module value without its EOF.
//!
//! Each problem is named by its path into the dataset, as the diff names differences
//! (`keys[db 0 "s"].value[3]: ...`), so a writer refuses with the first one and writes nothing.
use super::module;
use crate::dataset::{bytes_text, Dataset, Entry, Value};
use crate::format::source::Source;
use crate::format::Limits;
use std::collections::HashSet;

fn key_path(e: &Entry) -> String {
    format!("keys[db {} {}]", e.db, bytes_text(&e.key))
}

/// The first index of `items` whose `part` was seen before, and that part.
fn first_repeat<'a, T>(
    items: &'a [T],
    part: impl Fn(&'a T) -> &'a [u8],
) -> Option<(usize, &'a [u8])> {
    let mut seen = HashSet::with_capacity(items.len());
    items
        .iter()
        .enumerate()
        .find(|(_, x)| !seen.insert(part(x)))
        .map(|(i, x)| (i, part(x)))
}

/// Whether a module payload is an opcode stream that ends with its EOF opcode, and nothing after.
fn module_payload_ok(p: &[u8]) -> Result<(), String> {
    let mut src = Source::new(p, Some(p.len() as u64), Limits::DEFAULT);
    let mut out = Vec::with_capacity(p.len());
    module::copy_opcodes(&mut src, &mut out, 0).map_err(|e| e.to_string())?;
    if (out.len()) < p.len() {
        return Err(format!(
            "{} bytes after the EOF opcode",
            p.len() - out.len()
        ));
    }
    Ok(())
}

fn stream_problem(s: &crate::dataset::Stream) -> Option<String> {
    // Entry IDs must rise (deep sanitization refuses a node whose IDs do not); a last ID below
    // an entry is loaded by servers, so it is not refused here.
    for (i, w) in s.entries.windows(2).enumerate() {
        if w[1].id <= w[0].id {
            return Some(format!(
                "entries[{}]: ID {} does not follow {}",
                i + 1,
                w[1].id,
                w[0].id
            ));
        }
    }
    if let Some((i, n)) = first_repeat(&s.groups, |g| &g.name) {
        return Some(format!(
            "groups[{i}]: the group {} appears twice",
            bytes_text(n)
        ));
    }
    for (gi, g) in s.groups.iter().enumerate() {
        let at = format!("groups[{gi}]");
        let mut seen = HashSet::new();
        if let Some(p) = g.pending.iter().find(|p| !seen.insert(p.id)) {
            return Some(format!("{at}.pending: the ID {} is pending twice", p.id));
        }
        if let Some((i, n)) = first_repeat(&g.consumers, |c| &c.name) {
            return Some(format!(
                "{at}.consumers[{i}]: the consumer {} appears twice",
                bytes_text(n)
            ));
        }
        let nacked = g.nacked.as_deref().unwrap_or(&[]);
        for p in g.pending.iter().filter(|p| !nacked.contains(&p.id)) {
            let owner = g.consumers.iter().find(|c| c.name == p.consumer);
            if !owner.is_some_and(|c| c.pending.contains(&p.id)) {
                return Some(format!(
                    "{at}.pending: the entry {} is not owned by its consumer {}",
                    p.id,
                    bytes_text(&p.consumer)
                ));
            }
        }
        let owned: usize = g.consumers.iter().map(|c| c.pending.len()).sum();
        if owned + nacked.len() != g.pending.len() {
            return Some(format!(
                "{at}: consumers own {owned} pending entries, the group lists {}",
                g.pending.len()
            ));
        }
    }
    None
}

fn value_problem(v: &Value) -> Option<String> {
    match v {
        Value::Set(m) => first_repeat(m, |x| x)
            .map(|(i, b)| format!("value[{i}]: the member {} appears twice", bytes_text(b))),
        Value::Hash(f) => {
            if let Some((i, b)) = first_repeat(f, |x| &x.field) {
                return Some(format!(
                    "value[{i}]: the field {} appears twice",
                    bytes_text(b)
                ));
            }
            f.iter()
                .position(|x| x.expire_ms.is_some_and(|t| !(0..1 << 48).contains(&t)))
                .map(|i| format!("value[{i}]: a field TTL outside 0..2^48"))
        }
        Value::Zset(m) => {
            if let Some((i, b)) = first_repeat(m, |x| &x.member) {
                return Some(format!(
                    "value[{i}]: the member {} appears twice",
                    bytes_text(b)
                ));
            }
            m.iter()
                .position(|x| x.score.is_nan())
                .map(|i| format!("value[{i}]: a NaN score"))
        }
        Value::Stream(s) => stream_problem(s).map(|p| format!("value.{p}")),
        Value::Module(m) => module_payload_ok(&m.payload)
            .err()
            .map(|e| format!("value.payload: not a module opcode stream ending in EOF: {e}")),
        _ => None,
    }
}

/// The first thing in `ds` (canonical order) that no server can load, with its path.
pub fn validate(ds: &Dataset) -> Result<(), String> {
    for (i, w) in ds.keys.windows(2).enumerate() {
        if (w[0].db, &w[0].key) == (w[1].db, &w[1].key) {
            return Err(format!(
                "keys[{}] {}: the key appears twice in its database",
                i + 1,
                key_path(&w[1])
            ));
        }
    }
    for e in &ds.keys {
        if let Some(p) = value_problem(&e.value) {
            return Err(format!("{}.{p}", key_path(e)));
        }
        if let Some(why) = super::keymeta::invalid(&e.attrs.meta) {
            return Err(format!("{}: {why}", key_path(e)));
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::dataset::from_json_str;

    fn ds(keys: &str) -> Dataset {
        let mut d = from_json_str(&format!(
            r#"{{"format":"dataset/1","functions":[],"keys":[{keys}]}}"#
        ))
        .unwrap();
        d.canonicalize();
        d
    }

    #[test]
    fn each_thing_no_server_loads_is_named_by_its_path() {
        let cases = [
            (
                r#"{"db":0,"key":"k","type":"string","expire_ms":null,"value":"a"},{"db":0,"key":"k","type":"string","expire_ms":null,"value":"b"}"#,
                "the key appears twice",
            ),
            (
                r#"{"db":0,"key":"s","type":"set","expire_ms":null,"value":["a","b","a"]}"#,
                "the member \"a\" appears twice",
            ),
            (
                r#"{"db":0,"key":"h","type":"hash","expire_ms":null,"value":[["f","1"],["f","2"]]}"#,
                "the field \"f\" appears twice",
            ),
            (
                r#"{"db":0,"key":"z","type":"zset","expire_ms":null,"value":[["m","1"],["m","2"]]}"#,
                "the member \"m\" appears twice",
            ),
            (
                r#"{"db":0,"key":"x","type":"stream","expire_ms":null,"value":{"length":2,"last_id":"5-0","first_id":null,"max_deleted_id":null,"entries_added":null,"entries":[["1-1",[["f","v"]]],["1-1",[["f","w"]]]],"groups":[]}}"#,
                "does not follow",
            ),
            (
                r#"{"db":0,"key":"x","type":"stream","expire_ms":null,"value":{"length":0,"last_id":"1-0","first_id":null,"max_deleted_id":null,"entries_added":null,"entries":[],"groups":[{"name":"g","last_delivered_id":"0-0","entries_read":null,"pending":[],"consumers":[]},{"name":"g","last_delivered_id":"0-0","entries_read":null,"pending":[],"consumers":[]}]}}"#,
                "the group \"g\" appears twice",
            ),
            (
                r#"{"db":0,"key":"m","type":"module","expire_ms":null,"value":{"module":"ReJSON-RL","id":"5035854212016292867","encver":3,"payload":"\u0005\u0002{}"}}"#,
                "ending in EOF",
            ),
        ];
        for (keys, want) in cases {
            let e = validate(&ds(keys)).unwrap_err();
            assert!(e.contains(want) && e.starts_with("keys["), "{keys}: {e}");
        }
        let ok = r#"{"db":0,"key":"m","type":"module","expire_ms":null,"value":{"module":"ReJSON-RL","id":"5035854212016292867","encver":3,"payload":"\u0005\u0002{}\u0000"}}"#;
        validate(&ds(ok)).unwrap();
    }
}
