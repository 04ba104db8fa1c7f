//! A dataset as AOF commands, in the forms `BGREWRITEAOF` emits (`rewriteAppendOnlyFileRio`):
//! functions, then per database SELECT and per key its value in batches of 64, then its TTL.
use crate::dataset::{score_text, Dataset, Entry, Value};
use crate::format::resp::{write_command, write_timestamp};

/// Items per variadic command, as Redis's `AOF_REWRITE_ITEMS_PER_CMD`.
pub const ITEMS_PER_CMD: usize = 64;

/// What an AOF cannot carry of a dataset: LRU/LFU metadata, and consumer seen/active times
/// (a replayed XCLAIM or XGROUP CREATECONSUMER stamps them with the load time), as in Redis;
/// key metadata (only its module's own rewrite callback could), the hash-template encoding
/// (written as HMSET), IDMP counters and IDMP entries whose stream entry is gone (Redis 8.6+
/// skips them too).
pub fn losses(ds: &Dataset) -> Vec<String> {
    let mut out = Vec::new();
    for e in &ds.keys {
        let name = || format!("db {} key {:?}", e.db, String::from_utf8_lossy(&e.key));
        if e.idle_s.is_some() || e.freq.is_some() {
            out.push(format!("{}: LRU/LFU metadata has no AOF form", name()));
        }
        if !e.attrs.meta.is_empty() {
            out.push(format!(
                "{}: key metadata has no AOF form without its module",
                name()
            ));
        }
        if e.attrs.hash_template {
            out.push(format!(
                "{}: the hash-template encoding becomes a plain hash (HMSET)",
                name()
            ));
        }
        if let Some(i) = match &e.value {
            Value::Stream(s) => s.idmp.as_ref(),
            _ => None,
        } {
            if i.iids_added != 0 || i.iids_duplicates != 0 {
                out.push(format!(
                    "{}: IDMP counters (iids_added, iids_duplicates) have no AOF form",
                    name()
                ));
            }
        }
        if let Value::Stream(s) = &e.value {
            if s.groups.iter().any(|g| !g.consumers.is_empty()) {
                out.push(format!(
                    "{}: consumer seen/active times become the load time on replay",
                    name()
                ));
            }
        }
    }
    out
}

fn cmd(out: &mut Vec<u8>, args: &[&[u8]]) {
    write_command(out, args);
}

fn batched(out: &mut Vec<u8>, head: &[&[u8]], items: &[Vec<u8>], per_item: usize) {
    for chunk in items.chunks(ITEMS_PER_CMD * per_item) {
        let mut args: Vec<&[u8]> = head.to_vec();
        args.extend(chunk.iter().map(Vec::as_slice));
        cmd(out, &args);
    }
}

/// Appends the commands that rebuild one key.
pub fn write_key(out: &mut Vec<u8>, e: &Entry) {
    let k = e.key.as_slice();
    match &e.value {
        Value::String(v) => cmd(out, &[b"SET", k, v]),
        Value::List(items) => batched(out, &[b"RPUSH", k], items, 1),
        Value::Set(m) => batched(out, &[b"SADD", k], m, 1),
        Value::Zset(m) => {
            let flat: Vec<Vec<u8>> = m
                .iter()
                .flat_map(|x| [score_text(x.score).into_bytes(), x.member.clone()])
                .collect();
            batched(out, &[b"ZADD", k], &flat, 2);
        }
        Value::Hash(f) => {
            let flat: Vec<Vec<u8>> = f
                .iter()
                .flat_map(|x| [x.field.clone(), x.value.clone()])
                .collect();
            batched(out, &[b"HMSET", k], &flat, 2);
            for x in f {
                if let Some(t) = x.expire_ms {
                    cmd(
                        out,
                        &[
                            b"HPEXPIREAT",
                            k,
                            t.to_string().as_bytes(),
                            b"FIELDS",
                            b"1",
                            &x.field,
                        ],
                    );
                }
            }
        }
        Value::Stream(s) => {
            if s.entries.is_empty() {
                // An empty stream can only be made by adding and trimming an entry away.
                cmd(out, &[b"XADD", k, b"MAXLEN", b"0", b"0-1", b"x", b"y"]);
            }
            for en in &s.entries {
                let id = en.id.to_string();
                let mut args: Vec<&[u8]> = vec![b"XADD", k, id.as_bytes()];
                for (f, v) in &en.fields {
                    args.push(f);
                    args.push(v);
                }
                cmd(out, &args);
            }
            let last = s.last_id.to_string();
            let mut args: Vec<Vec<u8>> = vec![b"XSETID".to_vec(), k.to_vec(), last.into_bytes()];
            if let Some(n) = s.entries_added {
                args.extend([b"ENTRIESADDED".to_vec(), n.to_string().into_bytes()]);
            }
            if let Some(d) = s.max_deleted_id {
                args.extend([b"MAXDELETEDID".to_vec(), d.to_string().into_bytes()]);
            }
            cmd(out, &args.iter().map(Vec::as_slice).collect::<Vec<_>>());
            for g in &s.groups {
                let last = g.last_delivered_id.to_string();
                let mut args: Vec<Vec<u8>> = vec![
                    b"XGROUP".to_vec(),
                    b"CREATE".to_vec(),
                    k.to_vec(),
                    g.name.clone(),
                    last.into_bytes(),
                ];
                if let Some(n) = g.entries_read {
                    args.extend([b"ENTRIESREAD".to_vec(), n.to_string().into_bytes()]);
                }
                cmd(out, &args.iter().map(Vec::as_slice).collect::<Vec<_>>());
                let nacked: &[crate::dataset::StreamId] = g.nacked.as_deref().unwrap_or(&[]);
                for p in g.pending.iter().filter(|p| !nacked.contains(&p.id)) {
                    let (id, t, n) = (
                        p.id.to_string(),
                        p.delivery_time_ms.to_string(),
                        p.delivery_count.to_string(),
                    );
                    cmd(
                        out,
                        &[
                            b"XCLAIM",
                            k,
                            &g.name,
                            &p.consumer,
                            b"0",
                            id.as_bytes(),
                            b"TIME",
                            t.as_bytes(),
                            b"RETRYCOUNT",
                            n.as_bytes(),
                            b"JUSTID",
                            b"FORCE",
                        ],
                    );
                }
                for c in g.consumers.iter().filter(|c| c.pending.is_empty()) {
                    cmd(out, &[b"XGROUP", b"CREATECONSUMER", k, &g.name, &c.name]);
                }
                xnack(out, k, g);
            }
            if let Some(i) = &s.idmp {
                idmp(out, k, s, i);
            }
        }
        Value::Array(a) => {
            // ARMSET in batches of 32 pairs, then ARSEEK to the cursor (`rewriteArrayObject`).
            let flat: Vec<Vec<u8>> = a
                .elements
                .iter()
                .flat_map(|(i, v)| [i.to_string().into_bytes(), v.clone()])
                .collect();
            for chunk in flat.chunks(ITEMS_PER_CMD) {
                let mut args: Vec<&[u8]> = vec![b"ARMSET", k];
                args.extend(chunk.iter().map(Vec::as_slice));
                cmd(out, &args);
            }
            if let Some(i) = a.insert_idx {
                let next = i.wrapping_add(1).to_string();
                cmd(out, &[b"ARSEEK", k, next.as_bytes()]);
            }
        }
        Value::Module(m) => {
            // Without the module's own rewrite callback, the value travels as its DUMP payload.
            let payload = dump_payload(m);
            cmd(out, &[b"RESTORE", k, b"0", &payload]);
        }
    }
    if let Some(t) = e.expire_ms {
        cmd(out, &[b"PEXPIREAT", k, t.to_string().as_bytes()]);
    }
}

/// A group's NACK zone as Redis 8.8's rewrite emits it: `XNACK key group FAIL IDS n id...
/// RETRYCOUNT count FORCE`, consecutive entries with the same delivery count in one command of
/// at most 64 IDs.
fn xnack(out: &mut Vec<u8>, k: &[u8], g: &crate::dataset::Group) {
    let Some(zone) = &g.nacked else { return };
    let count = |id: &crate::dataset::StreamId| {
        g.pending
            .iter()
            .find(|p| p.id == *id)
            .map_or(0, |p| p.delivery_count)
    };
    let mut i = 0;
    while i < zone.len() {
        let dc = count(&zone[i]);
        let mut j = i + 1;
        while j < zone.len() && j - i < ITEMS_PER_CMD && count(&zone[j]) == dc {
            j += 1;
        }
        let ids: Vec<String> = zone[i..j].iter().map(|id| id.to_string()).collect();
        let (n, dc) = ((j - i).to_string(), dc.to_string());
        let mut args: Vec<&[u8]> = vec![b"XNACK", k, &g.name, b"FAIL", b"IDS", n.as_bytes()];
        args.extend(ids.iter().map(|s| s.as_bytes()));
        args.extend([b"RETRYCOUNT".as_slice(), dc.as_bytes(), b"FORCE"]);
        cmd(out, &args);
        i = j;
    }
}

/// A stream's IDMP state as Redis 8.6.2+'s rewrite emits it: `XCFGSET` when the settings are
/// not the defaults (100 s, 100 entries; Redis compares with its own configuration), then one
/// `XIDMPRECORD key pid iid id` per entry whose stream entry still exists.
fn idmp(out: &mut Vec<u8>, k: &[u8], s: &crate::dataset::Stream, i: &crate::dataset::Idmp) {
    let d = crate::dataset::Idmp::default();
    if i.duration_s != d.duration_s || i.max_entries != d.max_entries {
        let (a, b) = (i.duration_s.to_string(), i.max_entries.to_string());
        cmd(
            out,
            &[
                b"XCFGSET",
                k,
                b"IDMP-DURATION",
                a.as_bytes(),
                b"IDMP-MAXSIZE",
                b.as_bytes(),
            ],
        );
    }
    for p in &i.producers {
        for (iid, id) in &p.entries {
            if s.entries.binary_search_by_key(id, |e| e.id).is_ok() {
                cmd(
                    out,
                    &[b"XIDMPRECORD", k, &p.pid, iid, id.to_string().as_bytes()],
                );
            }
        }
    }
}

/// A module value's DUMP payload: type byte, module id, opcode stream, RDB version 8 (the first
/// that holds MODULE_2) and the CRC-64 of all that.
pub fn dump_payload(m: &crate::dataset::ModuleValue) -> Vec<u8> {
    let mut p = vec![crate::format::rdb::ValueType::Module2.byte()];
    crate::format::rdb::length::write(&mut p, m.id);
    p.extend_from_slice(&m.payload);
    p.extend_from_slice(&8u16.to_le_bytes());
    let crc = crate::format::crc64::checksum(&p);
    p.extend_from_slice(&crc.to_le_bytes());
    p
}

/// Appends the whole dataset as a rewrite: `#TS` first when `timestamp` is given, then
/// `FUNCTION LOAD` per library, then each database's keys after a `SELECT`.
pub fn write_dataset(out: &mut Vec<u8>, ds: &Dataset, timestamp: Option<i64>) {
    if let Some(ts) = timestamp {
        write_timestamp(out, ts);
    }
    for f in &ds.functions {
        cmd(out, &[b"FUNCTION", b"LOAD", f]);
    }
    let mut db = None;
    for e in &ds.keys {
        if db != Some(e.db) {
            cmd(out, &[b"SELECT", e.db.to_string().as_bytes()]);
            db = Some(e.db);
        }
        write_key(out, e);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::dataset::{Group, HashField, PendingEntry, Stream, StreamId};
    use crate::format::resp::{CommandReader, Next, Strictness};

    /// The commands `write_key` emits for `value`, each as its arguments.
    fn commands(value: Value) -> Vec<Vec<Vec<u8>>> {
        let e = Entry {
            db: 0,
            key: b"k".to_vec(),
            expire_ms: None,
            idle_s: None,
            freq: None,
            value,
            attrs: Default::default(),
        };
        let mut out = Vec::new();
        write_key(&mut out, &e);
        let mut r = CommandReader::from_slice(&out, Strictness::Checker);
        let mut cmds = Vec::new();
        while let Next::Command { .. } = r.next_item().unwrap() {
            cmds.push(r.argv().iter().map(|a| a.to_vec()).collect());
        }
        cmds
    }

    /// (command name, argument count) of each command.
    fn shape(cmds: &[Vec<Vec<u8>>]) -> Vec<(String, usize)> {
        cmds.iter()
            .map(|c| (String::from_utf8_lossy(&c[0]).into_owned(), c.len()))
            .collect()
    }

    /// `rewriteListObject`, `rewriteSetObject`, `rewriteSortedSetObject` and `rewriteHashObject`
    /// start a new command every `AOF_REWRITE_ITEMS_PER_CMD` (64) items, an item of a zset or a
    /// hash being a pair: 65 items are one command of 64 and one of 1.
    #[test]
    fn variadic_commands_hold_64_items_and_a_pair_is_one_item() {
        let items: Vec<Vec<u8>> = (0..65).map(|i| format!("e{i}").into_bytes()).collect();
        let want = |name: &str, per: usize| {
            vec![(name.to_owned(), 2 + 64 * per), (name.to_owned(), 2 + per)]
        };
        assert_eq!(
            shape(&commands(Value::List(items.clone()))),
            want("RPUSH", 1)
        );
        assert_eq!(shape(&commands(Value::Set(items.clone()))), want("SADD", 1));
        let zset = items
            .iter()
            .enumerate()
            .map(|(i, m)| crate::dataset::ZsetMember {
                member: m.clone(),
                score: i as f64,
            })
            .collect();
        assert_eq!(shape(&commands(Value::Zset(zset))), want("ZADD", 2));
        let hash = items
            .iter()
            .map(|f| HashField {
                field: f.clone(),
                value: b"v".to_vec(),
                expire_ms: None,
            })
            .collect();
        assert_eq!(shape(&commands(Value::Hash(hash))), want("HMSET", 2));
    }

    /// Key metadata is reported lost only for a key that has some.
    #[test]
    fn losses_name_key_metadata_only_where_there_is_some() {
        let key = |k: &str, meta: Vec<crate::dataset::KeyMeta>| Entry {
            db: 0,
            key: k.as_bytes().to_vec(),
            expire_ms: None,
            idle_s: None,
            freq: None,
            value: Value::String(b"v".to_vec()),
            attrs: crate::dataset::KeyAttrs {
                meta,
                hash_template: false,
            },
        };
        let meta = crate::dataset::KeyMeta {
            class: "KMT1".into(),
            version: 0,
            flags: 1,
            payload: vec![0],
        };
        let ds = Dataset {
            source: None,
            functions: vec![],
            keys: vec![key("plain", vec![]), key("m", vec![meta])],
        };
        let l = losses(&ds);
        assert_eq!(l.len(), 1, "{l:?}");
        assert!(
            l[0].contains("\"m\"") && l[0].contains("key metadata"),
            "{l:?}"
        );
    }

    /// A NACK zone of 65 entries with one delivery count is two XNACKs, of 64 IDs and of 1.
    #[test]
    fn xnack_holds_at_most_64_ids() {
        let ids: Vec<StreamId> = (1..=65).map(|ms| StreamId { ms, seq: 0 }).collect();
        let s = Stream {
            last_id: ids[64],
            groups: vec![Group {
                name: b"g".to_vec(),
                last_delivered_id: ids[64],
                entries_read: None,
                pending: ids
                    .iter()
                    .map(|&id| PendingEntry {
                        id,
                        consumer: Vec::new(),
                        delivery_time_ms: 0,
                        delivery_count: 3,
                    })
                    .collect(),
                consumers: Vec::new(),
                nacked: Some(ids.clone()),
            }],
            ..Stream::default()
        };
        let xnacks: Vec<_> = commands(Value::Stream(Box::new(s)))
            .into_iter()
            .filter(|c| c[0] == b"XNACK")
            .collect();
        // XNACK key group FAIL IDS n id... RETRYCOUNT count FORCE
        let counts: Vec<&[u8]> = xnacks.iter().map(|c| c[5].as_slice()).collect();
        assert_eq!(counts, vec![&b"64"[..], b"1"]);
        assert_eq!(
            shape(&xnacks),
            vec![("XNACK".into(), 6 + 64 + 3), ("XNACK".into(), 6 + 1 + 3)]
        );
        assert_eq!(xnacks[1][6], b"65-0");
    }
}
