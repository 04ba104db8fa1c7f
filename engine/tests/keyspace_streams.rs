//! Stream commands: entries, IDs, trimming, metadata, and consumer groups, checked against the
//! Redis documentation and against a stream scenario whose result a live Redis 7.4.1 recorded
//! (`corpus/rdb/redis-7.4.1/streams.json`, written by `corpus-gen`'s `streams` scenario).
mod keyspace_support;
use keyspace_support::*;
use redis_persist_engine::dataset::{first_difference, from_json_str, Stream, StreamId, Value};

fn stream(c: &Client, key: &str) -> Stream {
    match c.value(key) {
        Some(Value::Stream(s)) => *s,
        other => panic!("{key} is not a stream: {other:?}"),
    }
}

fn id(s: &str) -> StreamId {
    s.parse().unwrap()
}

fn ids(s: &Stream) -> Vec<String> {
    s.entries.iter().map(|e| e.id.to_string()).collect()
}

const BASE: u64 = 1_700_000_000_000;

fn sid(offset: u64, seq: u64) -> String {
    format!("{}-{seq}", BASE + offset)
}

/// `corpus-gen`'s `streams` scenario, command for command, at the one millisecond the live
/// server ran it in; the result must be the dataset that server recorded.
#[test]
fn the_corpus_stream_scenario_gives_what_redis_7_4_recorded() {
    let text = std::fs::read_to_string(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../corpus/rdb/redis-7.4.1/streams.json"
    ))
    .unwrap();
    let want = from_json_str(&text).unwrap();
    let mut c = Client::new();
    c.now = 1_795_470_224_175;
    for i in 0..10 {
        c.run(&[
            "XADD",
            "stream:basic",
            &sid(0, i),
            "name",
            &format!("v{i}"),
            "n",
            &i.to_string(),
        ]);
    }
    c.run(&["XADD", "stream:basic", &sid(1, 0), "other", "x"]);
    c.run(&[
        "XADD",
        "stream:basic",
        &sid(1, 1),
        "name",
        "v",
        "extra",
        "e",
    ]);
    c.run(&[
        "XADD",
        "stream:basic",
        &sid(2, 0),
        "name",
        "again",
        "n",
        "7",
    ]);
    c.check(&["PEXPIREAT", "stream:basic", "4102444800009"], int(1));
    for i in 0..8 {
        c.run(&["XADD", "stream:deleted", &sid(0, i), "f", &i.to_string()]);
    }
    c.check(
        &["XDEL", "stream:deleted", &sid(0, 0), &sid(0, 3), &sid(0, 7)],
        int(3),
    );
    for i in 0..12 {
        c.run(&["XADD", "stream:trimmed", &sid(0, i), "f", &i.to_string()]);
    }
    c.check(&["XTRIM", "stream:trimmed", "MAXLEN", "5"], int(7));
    c.run(&["XADD", "stream:emptied", &sid(0, 0), "a", "1"]);
    c.run(&["XADD", "stream:emptied", &sid(0, 1), "a", "2"]);
    c.check(&["XDEL", "stream:emptied", &sid(0, 0), &sid(0, 1)], int(2));
    c.check(
        &["XGROUP", "CREATE", "stream:mkstream", "g", "$", "MKSTREAM"],
        ok(),
    );
    let s = "stream:groups";
    for i in 0..6 {
        c.run(&["XADD", s, &sid(0, i), "f", &i.to_string()]);
    }
    c.check(&["XGROUP", "CREATE", s, "g1", "0"], ok());
    c.run(&[
        "XREADGROUP",
        "GROUP",
        "g1",
        "alice",
        "COUNT",
        "3",
        "STREAMS",
        s,
        ">",
    ]);
    c.run(&[
        "XREADGROUP",
        "GROUP",
        "g1",
        "bob",
        "COUNT",
        "2",
        "STREAMS",
        s,
        ">",
    ]);
    c.run(&["XCLAIM", s, "g1", "bob", "0", &sid(0, 0)]);
    c.check(&["XACK", s, "g1", &sid(0, 2)], int(1));
    c.check(&["XGROUP", "CREATECONSUMER", s, "g1", "carol"], int(1));
    c.check(&["XGROUP", "CREATE", s, "g2", "$"], ok());
    c.check(
        &["XGROUP", "CREATE", s, "g3", "0", "ENTRIESREAD", "2"],
        ok(),
    );
    c.check(&["XGROUP", "CREATE", s, "g4", "0"], ok());
    c.check(&["XGROUP", "SETID", s, "g4", &sid(0, 3)], ok());
    c.run(&[
        &b"XADD"[..],
        b"stream:binary",
        sid(0, 0).as_bytes(),
        b"\x00f",
        b"\xffv",
        b"",
        b"",
    ]);
    c.run(&["XADD", "stream:auto-id", "*", "a", "1"]);
    let got = c.dataset();
    if let Some(diff) = first_difference(&want, &got) {
        panic!("{diff}");
    }
    assert_eq!(got, want);
}

#[test]
fn xadd_ids() {
    let mut c = Client::new();
    c.check(
        &["XADD", "s", "*", "name", "Sara", "surname", "OCallaghan"],
        bulk(&format!("{T0}-0")),
    );
    c.check(
        &["XADD", "s", "*", "field1", "value1"],
        bulk(&format!("{T0}-1")),
    );
    c.now -= 5; // a clock behind the last ID continues from it
    c.check(&["XADD", "s", "*", "f", "v"], bulk(&format!("{T0}-2")));
    c.check(&["XLEN", "s"], int(3));
    c.check_err(
        &["XADD", "s", &format!("{T0}-2"), "f", "v"],
        "ERR The ID specified in XADD is equal or smaller than the target stream top item",
    );
    c.check_err(
        &["XADD", "e", "0-0", "f", "v"],
        "ERR The ID specified in XADD must be greater than 0-0",
    );
    c.check(&["XADD", "m", "5-*", "f", "v"], bulk("5-0"));
    c.check(&["XADD", "m", "5-*", "f", "v"], bulk("5-1"));
    c.check(&["XADD", "m", "7-*", "f", "v"], bulk("7-0"));
    c.check_err(
        &["XADD", "m", "6-*", "f", "v"],
        "ERR The ID specified in XADD is equal or smaller",
    );
    c.check(&["XADD", "m", "9", "f", "v"], bulk("9-0"));
    c.check_err(&["XADD", "m", "bad", "f", "v"], "ERR Invalid stream ID");
    c.check(&["XADD", "nomk", "NOMKSTREAM", "*", "f", "v"], nil());
    c.check(&["EXISTS", "nomk"], int(0));
    assert!(c.try_run(&["XADD", "m", "*", "f"]).is_err());
    c.check(
        &[
            "XADD",
            "max",
            "18446744073709551615-18446744073709551615",
            "f",
            "v",
        ],
        bulk("18446744073709551615-18446744073709551615"),
    );
    c.check_err(
        &["XADD", "max", "*", "f", "v"],
        "ERR The stream has exhausted the last possible ID",
    );
    c.run(&["SET", "str", "x"]);
    c.check_err(&["XADD", "str", "*", "f", "v"], "WRONGTYPE");
}

#[test]
fn xrange_xdel_and_metadata() {
    let mut c = Client::new();
    c.run(&["XADD", "mystream", "1538561700640-0", "a", "1"]);
    c.run(&["XADD", "mystream", "1538561700641-0", "b", "2"]);
    c.run(&["XADD", "mystream", "1538561700642-0", "c", "3"]);
    c.check(&["XDEL", "mystream", "1538561700640-0"], int(1));
    c.check(&["XDEL", "mystream", "1538561700640-0", "1-1"], int(0));
    c.check(
        &["XRANGE", "mystream", "-", "+"],
        arr(vec![
            arr(vec![bulk("1538561700641-0"), bulks(&["b", "2"])]),
            arr(vec![bulk("1538561700642-0"), bulks(&["c", "3"])]),
        ]),
    );
    c.check(
        &["XRANGE", "mystream", "(1538561700641-0", "+", "COUNT", "5"],
        arr(vec![arr(vec![bulk("1538561700642-0"), bulks(&["c", "3"])])]),
    );
    c.check(
        &["XREVRANGE", "mystream", "+", "-", "COUNT", "1"],
        arr(vec![arr(vec![bulk("1538561700642-0"), bulks(&["c", "3"])])]),
    );
    c.check(
        &["XRANGE", "mystream", "1538561700641", "1538561700641"],
        arr(vec![arr(vec![bulk("1538561700641-0"), bulks(&["b", "2"])])]),
    );
    let s = stream(&c, "mystream");
    assert_eq!((s.length, s.entries_added), (2, Some(3)));
    assert_eq!(s.first_id, Some(id("1538561700641-0")));
    assert_eq!(s.max_deleted_id, Some(id("1538561700640-0")));
    assert_eq!(s.last_id, id("1538561700642-0"));
    // Deleting the last entry keeps last_id; an emptied stream stays, with first ID 0-0.
    c.check(
        &["XDEL", "mystream", "1538561700642-0", "1538561700641-0"],
        int(2),
    );
    let s = stream(&c, "mystream");
    assert_eq!(
        (s.length, s.first_id, s.max_deleted_id),
        (0, Some(id("0-0")), Some(id("1538561700642-0")))
    );
    assert_eq!(s.last_id, id("1538561700642-0"));
    c.check_err(&["XDEL", "mystream", "+"], "ERR Invalid stream ID");
}

#[test]
fn exact_and_approximate_trimming() {
    let mut c = Client::new();
    for i in 1..=12 {
        c.run(&["XADD", "t", &format!("{i}-0"), "f", "v"]);
    }
    c.check(&["XTRIM", "t", "MAXLEN", "=", "10"], int(2));
    c.check(&["XTRIM", "t", "MINID", "5"], int(2));
    let s = stream(&c, "t");
    assert_eq!(ids(&s)[0], "5-0");
    assert_eq!(
        (s.length, s.first_id, s.max_deleted_id),
        (8, Some(id("5-0")), Some(id("0-0")))
    );
    c.run(&["XADD", "t", "MAXLEN", "3", "13-0", "f", "v"]);
    assert_eq!(ids(&stream(&c, "t")), vec!["11-0", "12-0", "13-0"]);
    c.check_err(
        &["XTRIM", "t", "LIMIT", "5"],
        "ERR syntax error, LIMIT cannot be used without specifying a trimming strategy",
    );
    c.check_err(
        &["XTRIM", "t", "MAXLEN", "2", "LIMIT", "5"],
        "ERR syntax error, LIMIT cannot be used without the special ~ option",
    );
    c.check_err(
        &["XTRIM", "t", "MAXLEN", "-1"],
        "ERR The MAXLEN argument must be >= 0.",
    );
    c.check_err(
        &["XTRIM", "t", "MAXLEN", "1", "MINID", "1"],
        "ERR syntax error, MAXLEN and MINID options at the same time are not compatible",
    );
    c.check_err(
        &["XTRIM", "t", "LIMIT", "0"],
        "ERR syntax error, XTRIM must be called with a trimming strategy",
    );
    assert!(c.try_run(&["XTRIM", "t"]).is_err());
    c.check(&["XTRIM", "missing", "MAXLEN", "1"], int(0));
    // `~` removes whole nodes only (stream-node-max-entries 100).
    for i in 1..=250 {
        c.run(&["XADD", "big", &format!("{i}-0"), "f", "v"]);
    }
    c.check(&["XTRIM", "big", "MAXLEN", "~", "120"], int(100));
    c.check(&["XTRIM", "big", "MAXLEN", "~", "120"], int(0));
    c.check(&["XTRIM", "big", "MINID", "~", "230"], int(100));
    c.check(&["XLEN", "big"], int(50));
    c.check(
        &["XTRIM", "big", "MAXLEN", "~", "10", "LIMIT", "10"],
        int(0),
    );
    // The same forms in an AOF replay trim without the LIMIT default.
    let mut r = Client::replay();
    for i in 1..=20_500 {
        r.run(&["XADD", "big", &format!("{i}-0"), "f", "v"]);
    }
    r.check(&["XTRIM", "big", "MAXLEN", "~", "0"], int(20_500));
    // The new entry joins the tail node, which `~ 0` then removes whole.
    c.check(
        &["XADD", "big", "MAXLEN", "~", "0", "300-0", "f", "v"],
        bulk("300-0"),
    );
    c.check(&["XLEN", "big"], int(0));
    let s = stream(&c, "big");
    assert_eq!(
        (s.last_id, s.first_id, s.entries_added),
        (id("300-0"), Some(id("0-0")), Some(251))
    );
}

#[test]
fn xsetid() {
    let mut c = Client::new();
    c.run(&["XADD", "s", "5-0", "f", "v"]);
    c.check(
        &[
            "XSETID",
            "s",
            "10-0",
            "ENTRIESADDED",
            "7",
            "MAXDELETEDID",
            "8-0",
        ],
        ok(),
    );
    let s = stream(&c, "s");
    assert_eq!(
        (s.last_id, s.entries_added, s.max_deleted_id),
        (id("10-0"), Some(7), Some(id("8-0")))
    );
    c.check_err(
        &["XSETID", "s", "4-0"],
        "ERR The ID specified in XSETID is smaller than current max_deleted_entry_id",
    );
    c.check(&["XSETID", "s", "9-0"], ok());
    c.check_err(
        &["XSETID", "s", "8-5", "MAXDELETEDID", "8-6"],
        "ERR The ID specified in XSETID is smaller than the provided max_deleted_entry_id",
    );
    c.check_err(
        &["XSETID", "s", "9-0", "ENTRIESADDED", "0"],
        "ERR The entries_added specified in XSETID is smaller than the target stream length",
    );
    c.check_err(
        &["XSETID", "s", "9-0", "ENTRIESADDED", "-1"],
        "ERR entries_added must be positive",
    );
    c.check_err(&["XSETID", "missing", "1-0"], "ERR no such key");
    c.run(&["XADD", "t", "5-0", "f", "v"]);
    c.check_err(
        &["XSETID", "t", "4-0"],
        "ERR The ID specified in XSETID is smaller than the target stream top item",
    );
    // The next automatic ID continues from the new last ID.
    c.check(&["XADD", "s", "9-*", "f", "v"], bulk("9-1"));
}

#[test]
fn xgroup_subcommands() {
    let mut c = Client::new();
    c.check_err(
        &["XGROUP", "CREATE", "mystream", "mygroup", "$"],
        "ERR The XGROUP subcommand requires the key to exist",
    );
    c.check(
        &["XGROUP", "CREATE", "mystream", "mygroup", "$", "MKSTREAM"],
        ok(),
    );
    c.check_err(
        &["XGROUP", "CREATE", "mystream", "mygroup", "$"],
        "BUSYGROUP Consumer Group name already exists",
    );
    c.run(&["XADD", "mystream", "1-0", "f", "v"]);
    c.check(
        &[
            "XGROUP",
            "CREATE",
            "mystream",
            "g2",
            "$",
            "ENTRIESREAD",
            "1",
        ],
        ok(),
    );
    c.check_err(
        &[
            "XGROUP",
            "CREATE",
            "mystream",
            "g3",
            "$",
            "ENTRIESREAD",
            "-2",
        ],
        "ERR value for ENTRIESREAD must be positive or -1",
    );
    c.check(
        &["XGROUP", "CREATECONSUMER", "mystream", "mygroup", "Alice"],
        int(1),
    );
    c.check(
        &["XGROUP", "CREATECONSUMER", "mystream", "mygroup", "Alice"],
        int(0),
    );
    c.check_err(
        &["XGROUP", "CREATECONSUMER", "mystream", "nogroup", "Alice"],
        "NOGROUP No such consumer group 'nogroup' for key name 'mystream'",
    );
    c.check(
        &[
            "XGROUP",
            "SETID",
            "mystream",
            "mygroup",
            "0",
            "ENTRIESREAD",
            "0",
        ],
        ok(),
    );
    let s = stream(&c, "mystream");
    let g = &s.groups[0];
    assert_eq!(
        (g.name.as_slice(), g.entries_read, g.last_delivered_id),
        (&b"g2"[..], Some(1), id("1-0"))
    );
    let g = &s.groups[1];
    assert_eq!((g.entries_read, g.last_delivered_id), (Some(0), id("0-0")));
    assert_eq!(
        (g.consumers[0].seen_time_ms, g.consumers[0].active_time_ms),
        (T0, Some(-1))
    );
    // SETID without ENTRIESREAD makes the counter unknown.
    c.check(&["XGROUP", "SETID", "mystream", "mygroup", "$"], ok());
    assert_eq!(stream(&c, "mystream").groups[1].entries_read, None);
    c.run(&[
        "XREADGROUP",
        "GROUP",
        "g2",
        "Bob",
        "STREAMS",
        "mystream",
        "0",
    ]);
    c.check(
        &["XGROUP", "DELCONSUMER", "mystream", "mygroup", "Alice"],
        int(0),
    );
    c.check(&["XGROUP", "DESTROY", "mystream", "mygroup"], int(1));
    c.check(&["XGROUP", "DESTROY", "mystream", "mygroup"], int(0));
    c.check_err(
        &["XGROUP", "FROB", "mystream", "g"],
        "ERR unknown subcommand",
    );
    assert!(c.try_run(&["XGROUP", "DESTROY", "mystream"]).is_err());
}

#[test]
fn xreadgroup_delivery_and_read_counter() {
    let mut c = Client::new();
    for i in 1..=5 {
        c.run(&["XADD", "s", &format!("{i}-0"), "f", &i.to_string()]);
    }
    c.check(&["XGROUP", "CREATE", "s", "g", "0"], ok());
    assert_eq!(stream(&c, "s").groups[0].entries_read, None);
    c.check(
        &[
            "XREADGROUP",
            "GROUP",
            "g",
            "alice",
            "COUNT",
            "1",
            "STREAMS",
            "s",
            ">",
        ],
        arr(vec![arr(vec![
            bulk("s"),
            arr(vec![arr(vec![bulk("1-0"), bulks(&["f", "1"])])]),
        ])]),
    );
    // The counter of the first entry is known exactly; later reads increment it.
    assert_eq!(stream(&c, "s").groups[0].entries_read, Some(1));
    c.now += 10;
    c.run(&[
        "XREADGROUP",
        "GROUP",
        "g",
        "bob",
        "COUNT",
        "1",
        "STREAMS",
        "s",
        ">",
    ]);
    let g = stream(&c, "s").groups[0].clone();
    assert_eq!((g.entries_read, g.last_delivered_id), (Some(2), id("2-0")));
    assert_eq!(
        g.pending
            .iter()
            .map(|p| (p.id.to_string(), p.delivery_time_ms))
            .collect::<Vec<_>>(),
        vec![("1-0".into(), T0), ("2-0".into(), T0 + 10)]
    );
    // A tombstone ahead of the group makes the counter unknown.
    c.check(&["XDEL", "s", "5-0"], int(1));
    c.run(&[
        "XREADGROUP",
        "GROUP",
        "g",
        "bob",
        "COUNT",
        "1",
        "STREAMS",
        "s",
        ">",
    ]);
    assert_eq!(stream(&c, "s").groups[0].entries_read, None);
    // History: the consumer's own pending entries, each delivery counted.
    c.now += 10;
    c.check(
        &["XREADGROUP", "GROUP", "g", "bob", "STREAMS", "s", "0"],
        arr(vec![arr(vec![
            bulk("s"),
            arr(vec![
                arr(vec![bulk("2-0"), bulks(&["f", "2"])]),
                arr(vec![bulk("3-0"), bulks(&["f", "3"])]),
            ]),
        ])]),
    );
    let g = stream(&c, "s").groups[0].clone();
    assert_eq!(g.pending[1].delivery_count, 2);
    assert_eq!(g.pending[1].delivery_time_ms, T0 + 20);
    let bob = &g.consumers[1];
    assert_eq!(
        (bob.seen_time_ms, bob.active_time_ms),
        (T0 + 20, Some(T0 + 10))
    );
    // NOACK moves the group forward without pending entries; nothing new gives nil.
    c.run(&[
        "XREADGROUP",
        "GROUP",
        "g",
        "carol",
        "NOACK",
        "STREAMS",
        "s",
        ">",
    ]);
    let g = stream(&c, "s").groups[0].clone();
    assert_eq!((g.last_delivered_id, g.pending.len()), (id("4-0"), 3));
    assert_eq!(g.consumers[2].active_time_ms, Some(-1));
    c.check(
        &[
            "XREADGROUP",
            "GROUP",
            "g",
            "carol",
            "BLOCK",
            "0",
            "STREAMS",
            "s",
            ">",
        ],
        nil(),
    );
    c.check_err(
        &["XREADGROUP", "GROUP", "nog", "c", "STREAMS", "s", ">"],
        "NOGROUP No such key 's' or consumer group 'nog' in XREADGROUP with GROUP option",
    );
    c.check_err(
        &["XREADGROUP", "GROUP", "g", "c", "STREAMS", "s", "$"],
        "ERR The $ ID is meaningless",
    );
    c.check(&["XACK", "s", "g", "1-0", "2-0", "9-0"], int(2));
    c.check(&["XACK", "s", "nog", "1-0"], int(0));
    c.check_err(&["XACK", "s", "g", "x"], "ERR Invalid stream ID");
}

#[test]
fn xclaim_options() {
    let mut c = Client::new();
    for i in 1..=4 {
        c.run(&["XADD", "s", &format!("{i}-0"), "f", &i.to_string()]);
    }
    c.run(&["XGROUP", "CREATE", "s", "g", "0"]);
    c.run(&["XREADGROUP", "GROUP", "g", "alice", "STREAMS", "s", ">"]);
    c.now += 1000;
    // min-idle-time: entries idle for less are not claimed.
    c.check(&["XCLAIM", "s", "g", "bob", "2000", "1-0"], arr(vec![]));
    c.check(
        &["XCLAIM", "s", "g", "bob", "1000", "1-0"],
        arr(vec![arr(vec![bulk("1-0"), bulks(&["f", "1"])])]),
    );
    let g = stream(&c, "s").groups[0].clone();
    assert_eq!(
        (
            g.pending[0].consumer.as_slice(),
            g.pending[0].delivery_count,
            g.pending[0].delivery_time_ms
        ),
        (&b"bob"[..], 2, T0 + 1000)
    );
    // JUSTID does not count a delivery; RETRYCOUNT and TIME set them; IDLE is relative to now.
    c.check(
        &["XCLAIM", "s", "g", "bob", "0", "2-0", "JUSTID"],
        bulks(&["2-0"]),
    );
    c.check(
        &[
            "XCLAIM",
            "s",
            "g",
            "bob",
            "0",
            "3-0",
            "TIME",
            &(T0 + 5).to_string(),
            "RETRYCOUNT",
            "7",
        ],
        arr(vec![arr(vec![bulk("3-0"), bulks(&["f", "3"])])]),
    );
    c.check(
        &[
            "XCLAIM", "s", "g", "bob", "0", "4-0", "IDLE", "300", "JUSTID",
        ],
        bulks(&["4-0"]),
    );
    let g = stream(&c, "s").groups[0].clone();
    let rows: Vec<(String, i64, u64)> = g
        .pending
        .iter()
        .map(|p| (p.id.to_string(), p.delivery_time_ms, p.delivery_count))
        .collect();
    assert_eq!(
        rows,
        vec![
            ("1-0".into(), T0 + 1000, 2),
            ("2-0".into(), T0 + 1000, 1),
            ("3-0".into(), T0 + 5, 7),
            ("4-0".into(), T0 + 700, 1)
        ]
    );
    assert!(g.consumers[0].pending.is_empty());
    assert_eq!(g.consumers[1].pending.len(), 4);
    // A future TIME is clamped to now; FORCE creates a missing pending entry; LASTID moves the group.
    c.run(&["XADD", "s", "5-0", "f", "5"]);
    c.check(
        &[
            "XCLAIM",
            "s",
            "g",
            "carol",
            "0",
            "5-0",
            "TIME",
            &(T0 + 99_999).to_string(),
            "FORCE",
            "JUSTID",
            "LASTID",
            "5-0",
        ],
        bulks(&["5-0"]),
    );
    let g = stream(&c, "s").groups[0].clone();
    assert_eq!(
        (
            g.pending[4].delivery_time_ms,
            g.pending[4].delivery_count,
            g.last_delivered_id
        ),
        (T0 + 1000, 1, id("5-0"))
    );
    // A pending entry whose stream entry is gone is dropped by a claim.
    c.run(&["XDEL", "s", "1-0"]);
    c.check(&["XCLAIM", "s", "g", "carol", "0", "1-0"], arr(vec![]));
    assert_eq!(stream(&c, "s").groups[0].pending.len(), 4);
    c.check_err(
        &["XCLAIM", "s", "nog", "c", "0", "1-0"],
        "NOGROUP No such key 's' or consumer group 'nog'",
    );
    c.check_err(
        &["XCLAIM", "s", "g", "c", "0", "2-0", "SOON"],
        "ERR Unrecognized XCLAIM option 'SOON'",
    );
}

#[test]
fn xautoclaim_scans_the_pel() {
    let mut c = Client::new();
    for i in 1..=5 {
        c.run(&["XADD", "s", &format!("{i}-0"), "f", &i.to_string()]);
    }
    c.run(&["XGROUP", "CREATE", "s", "g", "0"]);
    c.run(&["XREADGROUP", "GROUP", "g", "alice", "STREAMS", "s", ">"]);
    c.run(&["XDEL", "s", "2-0"]);
    c.now += 3_600_000;
    c.check(
        &[
            "XAUTOCLAIM",
            "s",
            "g",
            "bob",
            "3600000",
            "0-0",
            "COUNT",
            "2",
        ],
        arr(vec![
            bulk("3-0"),
            arr(vec![arr(vec![bulk("1-0"), bulks(&["f", "1"])])]),
            bulks(&["2-0"]),
        ]),
    );
    c.check(
        &["XAUTOCLAIM", "s", "g", "bob", "0", "3-0", "JUSTID"],
        arr(vec![bulk("0-0"), bulks(&["3-0", "4-0", "5-0"]), bulks(&[])]),
    );
    let g = stream(&c, "s").groups[0].clone();
    let rows: Vec<(String, String, u64)> = g
        .pending
        .iter()
        .map(|p| {
            (
                p.id.to_string(),
                String::from_utf8(p.consumer.clone()).unwrap(),
                p.delivery_count,
            )
        })
        .collect();
    assert_eq!(
        rows,
        vec![
            ("1-0".into(), "bob".into(), 2),
            ("3-0".into(), "bob".into(), 1),
            ("4-0".into(), "bob".into(), 1),
            ("5-0".into(), "bob".into(), 1)
        ]
    );
    c.check_err(
        &["XAUTOCLAIM", "s", "g", "bob", "0", "0-0", "COUNT", "0"],
        "ERR COUNT must be > 0",
    );
}
