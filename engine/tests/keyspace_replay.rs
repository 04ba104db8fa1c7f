//! Replaying commands as an AOF holds them: the rewrite form of every type (rdb-aof-format.md
//! §15.4, `rewriteAppendOnlyFileRio`), transactions, and the structural errors that stop a load.
mod keyspace_support;
use keyspace_support::*;
use redis_persist_engine::corpus::Format;
use redis_persist_engine::dataset::{
    first_difference, from_json_str, score_text, Consumer, Dataset, Entry, Group, PendingEntry,
    Stream, StreamEntry, StreamId, Value,
};
use redis_persist_engine::keyspace::{CommandError, Config, Keyspace, Reply, Session};

type Cmd = Vec<Vec<u8>>;

fn cmd(parts: &[&[u8]]) -> Cmd {
    parts.iter().map(|p| p.to_vec()).collect()
}

fn num(n: impl ToString) -> Vec<u8> {
    n.to_string().into_bytes()
}

/// The commands a Redis 7.4 rewrite emits for a dataset, written from the format reference: per
/// library FUNCTION LOAD; per database SELECT; per key SET / RPUSH / SADD / ZADD / HMSET (batches
/// of at most 64 items), per volatile hash field HMSET + HPEXPIREAT, streams as XADD per entry (or
/// the `MAXLEN 0` trick when empty), XSETID, XGROUP CREATE ... ENTRIESREAD, XCLAIM per pending
/// entry, XGROUP CREATECONSUMER for idle consumers; then PEXPIREAT for a key with a TTL.
fn rewrite(d: &Dataset) -> Vec<Cmd> {
    let mut out = Vec::new();
    for f in &d.functions {
        out.push(cmd(&[b"FUNCTION", b"LOAD", f]));
    }
    let mut db = None;
    for e in &d.keys {
        if matches!(e.value, Value::Module(_)) {
            continue;
        }
        if db != Some(e.db) {
            out.push(cmd(&[b"SELECT", &num(e.db)]));
            db = Some(e.db);
        }
        let k = e.key.as_slice();
        let batched = |out: &mut Vec<Cmd>, name: &[u8], items: Vec<Vec<u8>>, per: usize| {
            for chunk in items.chunks(64 * per) {
                let mut c = cmd(&[name, k]);
                c.extend(chunk.iter().cloned());
                out.push(c);
            }
        };
        match &e.value {
            Value::String(s) => out.push(cmd(&[b"SET", k, s])),
            Value::List(l) => batched(&mut out, b"RPUSH", l.clone(), 1),
            Value::Set(s) => batched(&mut out, b"SADD", s.clone(), 1),
            Value::Zset(z) => {
                let items = z
                    .iter()
                    .flat_map(|m| [score_text(m.score).into_bytes(), m.member.clone()])
                    .collect();
                batched(&mut out, b"ZADD", items, 2);
            }
            Value::Hash(h) => {
                let plain = h
                    .iter()
                    .filter(|f| f.expire_ms.is_none())
                    .flat_map(|f| [f.field.clone(), f.value.clone()])
                    .collect();
                batched(&mut out, b"HMSET", plain, 2);
                for f in h.iter().filter(|f| f.expire_ms.is_some()) {
                    out.push(cmd(&[b"HMSET", k, &f.field, &f.value]));
                    let at = num(f.expire_ms.unwrap());
                    out.push(cmd(&[b"HPEXPIREAT", k, &at, b"FIELDS", b"1", &f.field]));
                }
            }
            Value::Stream(s) => rewrite_stream(&mut out, k, s),
            Value::Module(_) | Value::Array(_) => unreachable!(),
        }
        if let Some(ms) = e.expire_ms {
            out.push(cmd(&[b"PEXPIREAT", k, &num(ms)]));
        }
    }
    out
}

fn rewrite_stream(out: &mut Vec<Cmd>, k: &[u8], s: &Stream) {
    if s.entries.is_empty() {
        out.push(cmd(&[b"XADD", k, b"MAXLEN", b"0", b"0-1", b"x", b"y"]));
    }
    for e in &s.entries {
        let mut c = cmd(&[b"XADD", k, &num(e.id)]);
        for (f, v) in &e.fields {
            c.push(f.clone());
            c.push(v.clone());
        }
        out.push(c);
    }
    let zero = StreamId::default();
    out.push(cmd(&[
        b"XSETID",
        k,
        &num(s.last_id),
        b"ENTRIESADDED",
        &num(s.entries_added.unwrap_or(s.length)),
        b"MAXDELETEDID",
        &num(s.max_deleted_id.unwrap_or(zero)),
    ]));
    for g in &s.groups {
        let read = g.entries_read.map_or(b"-1".to_vec(), num);
        out.push(cmd(&[
            b"XGROUP",
            b"CREATE",
            k,
            &g.name,
            &num(g.last_delivered_id),
            b"ENTRIESREAD",
            &read,
        ]));
        for c in &g.consumers {
            if c.pending.is_empty() {
                out.push(cmd(&[b"XGROUP", b"CREATECONSUMER", k, &g.name, &c.name]));
            }
            for id in &c.pending {
                let p = g
                    .pending
                    .iter()
                    .find(|p| p.id == *id)
                    .expect("consumer PEL entry in the group PEL");
                out.push(cmd(&[
                    b"XCLAIM",
                    k,
                    &g.name,
                    &c.name,
                    b"0",
                    &num(id),
                    b"TIME",
                    &num(p.delivery_time_ms),
                    b"RETRYCOUNT",
                    &num(p.delivery_count),
                    b"JUSTID",
                    b"FORCE",
                ]));
            }
        }
    }
}

fn replay(cmds: &[Cmd], now: i64) -> Keyspace {
    let mut k = Keyspace::with_config(Config::replay());
    let mut s = Session::new();
    for c in cmds {
        let argv: Vec<&[u8]> = c.iter().map(Vec::as_slice).collect();
        let r = k
            .execute(&mut s, now, &argv)
            .unwrap_or_else(|e| panic!("{}: {e}", String::from_utf8_lossy(&c[0])));
        assert!(
            r.error().is_none(),
            "{:?} -> {r:?}",
            argv.iter()
                .map(|a| String::from_utf8_lossy(a))
                .collect::<Vec<_>>()
        );
    }
    k
}

/// What a rewrite keeps: no module values, no LRU/LFU statistics.
fn rewritable(d: &Dataset) -> Dataset {
    let mut d = d.clone();
    d.keys.retain(|e| !matches!(e.value, Value::Module(_)));
    for e in &mut d.keys {
        e.idle_s = None;
        e.freq = None;
    }
    d
}

/// Every Redis 7.4.1 corpus expectation survives rewrite-then-replay. Consumer times are not in
/// a rewrite (XCLAIM and CREATECONSUMER stamp the load time); in this corpus every stream time is
/// the same millisecond, which is used as the load time.
#[test]
fn rewrite_form_of_every_corpus_dataset_replays_to_it() {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../corpus/rdb/redis-7.4.1");
    let mut checked = std::collections::BTreeSet::new();
    for f in std::fs::read_dir(&dir).unwrap() {
        let f = f.unwrap().path();
        // `<case>.dumps.json` holds recorded DUMP payloads, not an expectation.
        if f.extension().is_none_or(|e| e != "json") || f.to_string_lossy().ends_with(".dumps.json")
        {
            continue;
        }
        let want = rewritable(&from_json_str(&std::fs::read_to_string(&f).unwrap()).unwrap());
        let mut got = replay(&rewrite(&want), 1_795_470_224_175).to_dataset(None);
        // A small zset replays into a listpack, where -0 becomes 0, as in Redis 7.0+.
        redis_persist_engine::dataset::forget_negative_zero(&want, &mut got);
        if let Some(diff) = first_difference(&want, &got) {
            panic!("{}: {diff}", f.display());
        }
        assert_eq!(got, want, "{}", f.display());
        checked.insert(std::fs::canonicalize(&f).unwrap());
    }
    // Exactly the expectations corpus/index.json lists for the build's RDB cases.
    let index = redis_persist_engine::corpus::Index::load(&dir.join("../..")).unwrap();
    let listed: std::collections::BTreeSet<std::path::PathBuf> = index
        .cases
        .iter()
        .filter(|c| c.build() == Some("redis-7.4.1") && c.format == Format::Rdb)
        .filter_map(|c| Some(std::fs::canonicalize(index.dir.join(c.expect.as_ref()?)).unwrap()))
        .collect();
    assert!(
        !listed.is_empty(),
        "the index lists no redis-7.4.1 expectation"
    );
    assert_eq!(
        checked, listed,
        "expectations checked vs listed in the index"
    );
}

/// The propagated rewrite form of one stream with a tombstone, groups, pending entries and an idle
/// consumer, against the stream written by hand.
#[test]
fn stream_rewrite_form_rebuilds_groups_and_metadata() {
    let load = T0 + 60_000;
    let cmds: Vec<Cmd> = [
        &["XADD", "s", "1-0", "f", "a"][..],
        &["XADD", "s", "2-0", "f", "b", "g", "c"],
        &["XADD", "s", "4-0", "f", "d"],
        &[
            "XSETID",
            "s",
            "5-0",
            "ENTRIESADDED",
            "5",
            "MAXDELETEDID",
            "5-0",
        ],
        &["XGROUP", "CREATE", "s", "g1", "4-0", "ENTRIESREAD", "4"],
        &[
            "XCLAIM",
            "s",
            "g1",
            "alice",
            "0",
            "1-0",
            "TIME",
            &T0.to_string(),
            "RETRYCOUNT",
            "3",
            "JUSTID",
            "FORCE",
        ],
        &[
            "XCLAIM",
            "s",
            "g1",
            "alice",
            "0",
            "4-0",
            "TIME",
            &(T0 + 7).to_string(),
            "RETRYCOUNT",
            "1",
            "JUSTID",
            "FORCE",
        ],
        &[
            "XCLAIM",
            "s",
            "g1",
            "bob",
            "0",
            "2-0",
            "TIME",
            &(T0 + 9).to_string(),
            "RETRYCOUNT",
            "2",
            "JUSTID",
            "FORCE",
        ],
        &["XGROUP", "CREATECONSUMER", "s", "g1", "carol"],
        &["XGROUP", "CREATE", "s", "g2", "0-0", "ENTRIESREAD", "-1"],
        &["PEXPIREAT", "s", "4102444800000"],
    ]
    .iter()
    .map(|c| c.iter().map(|a| a.as_bytes().to_vec()).collect())
    .collect();
    let got = replay(&cmds, load).to_dataset(None);
    let id = |ms: u64| StreamId { ms, seq: 0 };
    let field = |f: &str, v: &str| (f.as_bytes().to_vec(), v.as_bytes().to_vec());
    let pending = |i: u64, c: &str, t: i64, n: u64| PendingEntry {
        id: id(i),
        consumer: c.into(),
        delivery_time_ms: t,
        delivery_count: n,
    };
    let consumer = |n: &str, active: i64, p: &[u64]| Consumer {
        name: n.into(),
        seen_time_ms: load,
        active_time_ms: Some(active),
        pending: p.iter().map(|i| id(*i)).collect(),
    };
    let want = Stream {
        length: 3,
        last_id: id(5),
        first_id: Some(id(1)),
        max_deleted_id: Some(id(5)),
        entries_added: Some(5),
        entries: vec![
            StreamEntry {
                id: id(1),
                fields: vec![field("f", "a")],
            },
            StreamEntry {
                id: id(2),
                fields: vec![field("f", "b"), field("g", "c")],
            },
            StreamEntry {
                id: id(4),
                fields: vec![field("f", "d")],
            },
        ],
        groups: vec![
            Group {
                name: b"g1".to_vec(),
                last_delivered_id: id(4),
                entries_read: Some(4),
                pending: vec![
                    pending(1, "alice", T0, 3),
                    pending(2, "bob", T0 + 9, 2),
                    pending(4, "alice", T0 + 7, 1),
                ],
                consumers: vec![
                    consumer("alice", load, &[1, 4]),
                    consumer("bob", load, &[2]),
                    consumer("carol", -1, &[]),
                ],
                nacked: None,
            },
            Group {
                name: b"g2".to_vec(),
                last_delivered_id: id(0),
                entries_read: None,
                pending: vec![],
                consumers: vec![],
                nacked: None,
            },
        ],
        idmp: None,
    };
    let want = Dataset {
        source: None,
        functions: vec![],
        keys: vec![Entry {
            db: 0,
            key: b"s".to_vec(),
            expire_ms: Some(4_102_444_800_000),
            idle_s: None,
            freq: None,
            value: Value::Stream(Box::new(want)),
            attrs: Default::default(),
        }],
    };
    if let Some(diff) = first_difference(&want, &got) {
        panic!("{diff}");
    }
    assert_eq!(got, want);
}

#[test]
fn empty_stream_rewrite_trick() {
    let mut c = Client::replay();
    c.check(&["XADD", "e", "MAXLEN", "0", "0-1", "x", "y"], bulk("0-1"));
    c.check(
        &[
            "XSETID",
            "e",
            "0-0",
            "ENTRIESADDED",
            "0",
            "MAXDELETEDID",
            "0-0",
        ],
        ok(),
    );
    let Some(Value::Stream(s)) = c.value("e") else {
        panic!("stream")
    };
    let zero = StreamId::default();
    assert_eq!(
        (
            s.length,
            s.last_id,
            s.first_id,
            s.max_deleted_id,
            s.entries_added
        ),
        (0, zero, Some(zero), Some(zero), Some(0))
    );
}

#[test]
fn multi_exec_discard() {
    let mut c = Client::replay();
    c.check(&["MULTI"], ok());
    c.check(&["SET", "a", "1"], Reply::Queued);
    c.check(&["SELECT", "2"], Reply::Queued);
    c.check(&["INCR", "a"], Reply::Queued);
    c.check(&["LPUSH", "a", "x"], Reply::Queued);
    assert_eq!(c.s.multi.as_ref().map(Vec::len), Some(4));
    assert_eq!(c.dataset().keys.len(), 0);
    let r = c.run(&["EXEC"]);
    assert_eq!(
        r,
        arr(vec![
            ok(),
            ok(),
            int(1),
            Reply::Error(
                "WRONGTYPE Operation against a key holding the wrong kind of value".into()
            )
        ])
    );
    assert_eq!(c.s.db, 2);
    assert_eq!(c.s.multi, None);
    c.check(&["MULTI"], ok());
    c.check_err(&["MULTI"], "ERR MULTI calls can not be nested");
    c.check(&["DEL", "a"], Reply::Queued);
    c.check(&["DISCARD"], ok());
    c.check(&["GET", "a"], bulk("1"));
    c.check_err(&["EXEC"], "ERR EXEC without MULTI");
    c.check_err(&["DISCARD"], "ERR DISCARD without MULTI");
    // An unfinished transaction stays in the session for the loader to judge.
    c.run(&["MULTI"]);
    c.run(&["SET", "b", "2"]);
    assert!(c.s.multi.is_some());
    assert_eq!(c.entry(2, "b"), None);
}

#[test]
fn structural_errors() {
    let mut c = Client::replay();
    assert_eq!(
        c.try_run(&["FROBNICATE", "x"]),
        Err(CommandError::UnknownCommand("FROBNICATE".into()))
    );
    assert_eq!(
        c.try_run(&["get"]),
        Err(CommandError::WrongArity("get".into()))
    );
    assert_eq!(
        c.try_run(&["GET", "a", "b"]),
        Err(CommandError::WrongArity("get".into()))
    );
    assert_eq!(
        c.try_run(&["XGROUP", "CREATE", "s"]),
        Err(CommandError::WrongArity("xgroup|create".into()))
    );
    let empty: [&str; 0] = [];
    assert!(matches!(
        c.try_run(&empty),
        Err(CommandError::UnknownCommand(_))
    ));
    // Inside MULTI a structural error is reported at once and nothing is queued.
    c.run(&["MULTI"]);
    assert!(c.try_run(&["NOPE"]).is_err());
    assert_eq!(c.s.multi.as_ref().map(Vec::len), Some(0));
    // Names are case-insensitive; PING and ECHO have no effect.
    c.check(&["pInG"], Reply::Queued);
    c.check(&["EXEC"], arr(vec![Reply::Status("PONG".into())]));
    c.check(&["echo", "hi"], bulk("hi"));
}

#[test]
fn functions_by_library_name() {
    let mut c = Client::replay();
    let lib = "#!lua name=mylib\nredis.register_function('f', function() return 1 end)";
    let lib2 = "#!lua name=mylib\nredis.register_function('f', function() return 2 end)";
    c.check(&["FUNCTION", "LOAD", lib], bulk("mylib"));
    c.check_err(
        &["FUNCTION", "LOAD", lib2],
        "ERR Library 'mylib' already exists",
    );
    c.check(&["FUNCTION", "LOAD", "REPLACE", lib2], bulk("mylib"));
    assert_eq!(c.dataset().functions, vec![lib2.as_bytes().to_vec()]);
    c.check_err(
        &["FUNCTION", "LOAD", "no shebang"],
        "ERR Missing library metadata",
    );
    c.check_err(
        &["FUNCTION", "LOAD", "#!lua\nreturn 1"],
        "ERR Library name was not given",
    );
    c.check_err(
        &["FUNCTION", "LOAD", "#!lua name=a foo=b\n"],
        "ERR Invalid metadata value given: foo=b",
    );
    c.check_err(
        &["FUNCTION", "LOAD", "#!js name=a\n"],
        "ERR Engine 'js' not found",
    );
    c.check(&["FUNCTION", "LOAD", "#!lua name=other\n"], bulk("other"));
    c.check(&["FUNCTION", "DELETE", "mylib"], ok());
    c.check_err(&["FUNCTION", "DELETE", "mylib"], "ERR Library not found");
    c.check(&["FUNCTION", "FLUSH"], ok());
    assert!(c.dataset().functions.is_empty());
    assert!(c.try_run(&["FUNCTION", "DELETE"]).is_err());
}

/// FUNCTION RESTORE takes a FUNCTION DUMP payload: `0xF5` + RDB string per library, the RDB
/// version (2 bytes LE) and the CRC-64 of everything before it (8 bytes LE).
#[test]
fn function_restore_payload() {
    let lib = b"#!lua name=dumped\nredis.register_function('g', function() return 3 end)";
    // An RDB length of 64..16383 takes two bytes: 0b01 and 14 bits, big-endian.
    let mut payload = vec![0xF5, 0x40 | (lib.len() >> 8) as u8, lib.len() as u8];
    payload.extend_from_slice(lib);
    payload.extend_from_slice(&12u16.to_le_bytes());
    let crc = redis_persist_engine::format::crc64::checksum(&payload);
    payload.extend_from_slice(&crc.to_le_bytes());
    let mut c = Client::replay();
    c.check(&[&b"FUNCTION"[..], b"RESTORE", &payload], ok());
    assert_eq!(c.dataset().functions, vec![lib.to_vec()]);
    c.check_err(
        &[&b"FUNCTION"[..], b"RESTORE", &payload],
        "ERR Library dumped already exists",
    );
    c.check(&[&b"FUNCTION"[..], b"RESTORE", &payload, b"REPLACE"], ok());
    let mut bad = payload.clone();
    *bad.last_mut().unwrap() ^= 1;
    c.check_err(
        &[&b"FUNCTION"[..], b"RESTORE", &bad],
        "ERR DUMP payload version or checksum are wrong",
    );
}

/// Scripts as Redis 6.2 and older wrote them into an AOF (verbatim, or SCRIPT LOAD then
/// EVALSHA): statements of `redis.call` run; any other Lua is refused as an unknown command.
#[test]
fn simple_scripts_run_and_others_are_refused() {
    let mut c = Client::replay();
    let set_foo = "return redis.call('set','foo','bar')";
    c.check(&["eval", set_foo, "0"], ok());
    c.check(&["GET", "foo"], bulk("bar"));
    c.check(
        &["script", "load", set_foo],
        bulk("2fa2b029f72572e803ff55a09b1282699aecae6a"),
    );
    c.check(
        &["EVALSHA", "2fa2b029f72572e803ff55a09b1282699aecae6a", "0"],
        ok(),
    );
    c.check(
        &[
            "SCRIPT",
            "EXISTS",
            "2fa2b029f72572e803ff55a09b1282699aecae6a",
            "ffff",
        ],
        ints(&[1, 0]),
    );
    let two = "redis.call('set', KEYS[1], ARGV[1]); return redis.call(\"incrby\", KEYS[2], 5)";
    c.check(&["EVAL", two, "2", "k", "counter", "v"], int(5));
    c.check(&["GET", "k"], bulk("v"));
    c.check(
        &[
            "EVAL",
            "return redis.call('rpush', KEYS[1], 1, 2.5, [[x y]])",
            "1",
            "l",
        ],
        int(3),
    );
    c.check(&["LRANGE", "l", "0", "-1"], bulks(&["1", "2.5", "x y"]));
    // A failing redis.call stops the script (earlier effects stay); pcall carries on.
    c.check_err(
        &[
            "EVAL",
            "redis.call('set','a','1') redis.call('lpush','foo','x') redis.call('set','b','2')",
            "0",
        ],
        "WRONGTYPE",
    );
    c.check(&["EXISTS", "a", "b"], int(1));
    c.check(
        &[
            "EVAL",
            "redis.pcall('lpush','foo','x') return redis.call('set','b','2')",
            "0",
        ],
        ok(),
    );
    c.check_err(
        &["EVALSHA", "0000000000000000000000000000000000000000", "0"],
        "NOSCRIPT",
    );
    c.check_err(
        &["EVAL", set_foo, "2", "a"],
        "ERR Number of keys can't be greater than number of args",
    );
    assert_eq!(
        c.try_run(&["EVAL", "local x = 1 return x", "0"]),
        Err(CommandError::UnknownCommand("eval".into()))
    );
    c.check(&["SCRIPT", "FLUSH"], ok());
    c.check_err(
        &["EVALSHA", "2fa2b029f72572e803ff55a09b1282699aecae6a", "0"],
        "NOSCRIPT",
    );
}
