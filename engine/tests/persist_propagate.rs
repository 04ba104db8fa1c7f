//! The AOF forms of the commands Redis rewrites before propagating them, checked against what
//! Redis 7.0.15's own sources write (t_string.c, expire.c, t_stream.c, cluster.c).
//!
//! Each expectation cites the rewrite in the Redis source; the cases avoid the options where the
//! engine's form differs from Redis's yet replays the same (NX/GT/LT on EXPIRE, `~` on XADD).
use redis_persist_engine::keyspace::{Keyspace, Reply, Session};
use redis_persist_engine::persist::{is_write, propagate};

const T: i64 = 1_800_000_000_000;

/// Runs `setup` then `cmd` on a fresh keyspace at time `T`, and returns `cmd`'s reply and the
/// forms the persisting server would append for it.
fn run(setup: &[&[&str]], cmd: &[&str]) -> (Reply, Vec<Vec<String>>) {
    let mut ks = Keyspace::new();
    let mut s = Session::new();
    for c in setup {
        let argv: Vec<&[u8]> = c.iter().map(|a| a.as_bytes()).collect();
        ks.execute(&mut s, T, &argv).expect("setup runs");
    }
    let argv: Vec<&[u8]> = cmd.iter().map(|a| a.as_bytes()).collect();
    let reply = ks
        .execute(&mut s, T, &argv)
        .unwrap_or_else(|e| Reply::Error(format!("ERR {e}")));
    let forms = propagate(&mut ks, 0, T, &argv, &reply)
        .into_iter()
        .map(|f| {
            f.iter()
                .map(|a| String::from_utf8_lossy(a).into_owned())
                .collect()
        })
        .collect();
    (reply, forms)
}

fn forms(setup: &[&[&str]], cmd: &[&str]) -> Vec<Vec<String>> {
    run(setup, cmd).1
}

fn form(words: &[&str]) -> Vec<Vec<String>> {
    vec![words.iter().map(|w| w.to_string()).collect()]
}

#[test]
fn reads_and_refused_commands_propagate_nothing() {
    assert!(is_write(b"set") && is_write(b"DEL") && !is_write(b"GET"));
    assert!(forms(&[&["SET", "k", "v"]], &["GET", "k"]).is_empty());
    // INCR on a non-number is refused (t_string.c), so nothing reaches the AOF.
    assert!(forms(&[&["SET", "k", "v"]], &["INCR", "k"]).is_empty());
    // A plain write goes as it was sent.
    assert_eq!(
        forms(&[], &["APPEND", "k", "v"]),
        form(&["APPEND", "k", "v"])
    );
}

#[test]
fn set_with_a_relative_expiry_becomes_set_pxat() {
    // t_string.c setGenericCommand: "Propagate as SET Key Value PXAT millisecond-timestamp if
    // there is EX/PX/EXAT/PXAT flag", the five-argument vector (GET is not kept).
    let at = (T + 100_000).to_string();
    assert_eq!(
        forms(&[], &["SET", "k", "v", "EX", "100"]),
        form(&["SET", "k", "v", "PXAT", &at])
    );
    let at = (T + 5).to_string();
    assert_eq!(
        forms(&[], &["set", "k", "v", "px", "5", "get"]),
        form(&["SET", "k", "v", "PXAT", &at])
    );
    // SETEX goes through setGenericCommand with its EX flag: the same rewrite.
    let at = (T + 7_000).to_string();
    assert_eq!(
        forms(&[], &["SETEX", "k", "7", "v"]),
        form(&["SET", "k", "v", "PXAT", &at])
    );
    let at = (T + 7).to_string();
    assert_eq!(
        forms(&[], &["PSETEX", "k", "7", "v"]),
        form(&["SET", "k", "v", "PXAT", &at])
    );
    // Without an expiry SET is not rewritten: KEEPTTL stays.
    assert_eq!(
        forms(
            &[&["SET", "k", "v", "EX", "9"]],
            &["SET", "k", "w", "KEEPTTL"]
        ),
        form(&["SET", "k", "w", "KEEPTTL"])
    );
}

#[test]
fn expire_becomes_pexpireat_or_del() {
    // expire.c expireGenericCommand: PEXPIREAT with the absolute time in ms; a time already past
    // deletes the key and propagates DEL (lazyfree-lazy-expire is no by default); a reply of 0
    // (no such key) changes nothing and propagates nothing.
    let at = (T + 100_000).to_string();
    let set: &[&str] = &["SET", "k", "v"];
    assert_eq!(
        forms(&[set], &["EXPIRE", "k", "100"]),
        form(&["PEXPIREAT", "k", &at])
    );
    assert_eq!(
        forms(&[set], &["PEXPIRE", "k", "100"]),
        form(&["PEXPIREAT", "k", &(T + 100).to_string()])
    );
    assert_eq!(forms(&[set], &["EXPIRE", "k", "-1"]), form(&["DEL", "k"]));
    assert!(forms(&[], &["EXPIRE", "nokey", "100"]).is_empty());
}

#[test]
fn getex_becomes_pexpireat_persist_or_nothing() {
    // t_string.c getexCommand: "never propagated as is", PEXPIREAT for EX/PX, PERSIST for
    // PERSIST; a missing key (null reply) propagates nothing.
    let set: &[&str] = &["SET", "k", "v", "EX", "50"];
    assert_eq!(
        forms(&[set], &["GETEX", "k", "EX", "10"]),
        form(&["PEXPIREAT", "k", &(T + 10_000).to_string()])
    );
    assert_eq!(
        forms(&[set], &["GETEX", "k", "PERSIST"]),
        form(&["PERSIST", "k"])
    );
    assert!(forms(&[], &["GETEX", "nokey", "EX", "10"]).is_empty());
    // Without an option GETEX is a read: nothing in redis-server 7.4.1's AOF after `GETEX s`.
    assert!(forms(&[set], &["GETEX", "k"]).is_empty());
}

#[test]
fn hexpire_becomes_hpexpireat_for_the_fields_that_got_the_time_and_hdel_for_past_times() {
    // Observed in redis-server 7.4.1's incremental AOF after each command on a hash of fields
    // a..e: the time becomes absolute milliseconds, NX/XX stay before FIELDS, fields that do not
    // exist (-2) are dropped, and a time already past deletes the field (reply 2) as HDEL.
    let h: &[&str] = &["HSET", "h", "a", "1", "b", "2", "c", "3", "d", "4"];
    let (reply, got) = run(&[h], &["HEXPIRE", "h", "100", "FIELDS", "2", "a", "zz"]);
    assert_eq!(reply, Reply::Array(vec![Reply::Int(1), Reply::Int(-2)]));
    let t = (T + 100_000).to_string();
    assert_eq!(got, form(&["HPEXPIREAT", "h", &t, "FIELDS", "1", "a"]));
    let t = (T + 5_000).to_string();
    assert_eq!(
        forms(&[h], &["HPEXPIRE", "h", "5000", "NX", "FIELDS", "1", "b"]),
        form(&["HPEXPIREAT", "h", &t, "NX", "FIELDS", "1", "b"])
    );
    assert_eq!(
        forms(
            &[h],
            &["HEXPIREAT", "h", "4000000000", "FIELDS", "2", "c", "d"]
        ),
        form(&["HPEXPIREAT", "h", "4000000000000", "FIELDS", "2", "c", "d"])
    );
    assert_eq!(
        forms(
            &[h],
            &["HPEXPIREAT", "h", "4000000000000", "FIELDS", "1", "c"]
        ),
        form(&["HPEXPIREAT", "h", "4000000000000", "FIELDS", "1", "c"])
    );
    let (reply, got) = run(&[h], &["HEXPIREAT", "h", "1", "FIELDS", "2", "d", "a"]);
    assert_eq!(reply, Reply::Array(vec![Reply::Int(2), Reply::Int(2)]));
    assert_eq!(
        got,
        [form(&["HDEL", "h", "d"]), form(&["HDEL", "h", "a"])].concat()
    );
    assert_eq!(
        forms(&[h], &["HPEXPIRE", "h", "0", "FIELDS", "1", "b"]),
        form(&["HDEL", "h", "b"])
    );
}

#[test]
fn incrbyfloat_becomes_set_keepttl() {
    // t_string.c incrbyfloatCommand: argv rewritten to SET key <new value> KEEPTTL.
    assert_eq!(
        forms(&[&["SET", "k", "10"]], &["INCRBYFLOAT", "k", "1.5"]),
        form(&["SET", "k", "11.5", "KEEPTTL"])
    );
    assert!(forms(&[&["SET", "k", "x"]], &["INCRBYFLOAT", "k", "1"]).is_empty());
}

#[test]
fn set_propagates_only_when_it_set_and_with_a_time_as_five_words() {
    // Observed in the incremental AOFs of redis-server 7.0.15 and 7.4.1 after each command: a SET
    // whose NX/XX was not met writes nothing (with or without GET); with a time, NX/XX/GET are
    // dropped from the five-word form; without one, only GET is.
    let k: &[&str] = &["SET", "k", "v"];
    assert!(forms(&[k], &["SET", "k", "w", "NX"]).is_empty());
    assert!(forms(&[k], &["SET", "k", "w", "NX", "EX", "10"]).is_empty());
    assert!(forms(&[k], &["SET", "k", "z", "NX", "EX", "10", "GET"]).is_empty());
    assert!(forms(&[], &["SET", "m", "1", "XX", "EX", "5", "GET"]).is_empty());
    let at = (T + 10_000).to_string();
    assert_eq!(
        forms(&[k], &["SET", "k", "x", "XX", "EX", "10", "GET"]),
        form(&["SET", "k", "x", "PXAT", &at])
    );
    let at = (T + 100).to_string();
    assert_eq!(
        forms(&[], &["SET", "n", "1", "NX", "PX", "100", "GET"]),
        form(&["SET", "n", "1", "PXAT", &at])
    );
    let secs = (T / 1000 + 100).to_string();
    let at = ((T / 1000 + 100) * 1000).to_string();
    assert_eq!(
        forms(&[], &["SET", "e", "1", "EXAT", &secs]),
        form(&["SET", "e", "1", "PXAT", &at])
    );
    assert_eq!(
        forms(&[], &["SET", "b", "1", "NX"]),
        form(&["SET", "b", "1", "NX"])
    );
    assert_eq!(
        forms(&[k], &["SET", "k", "3", "XX", "KEEPTTL", "GET"]),
        form(&["SET", "k", "3", "XX", "KEEPTTL"])
    );
    assert_eq!(
        forms(&[], &["SET", "a", "1", "GET"]),
        form(&["SET", "a", "1"])
    );
    // A time already past: Redis writes `SET r 1 PXAT 1000` (7.4.1 a DEL after it); the engine
    // writes the DEL alone, which loads as the same absent key.
    assert_eq!(
        forms(&[], &["SET", "r", "1", "EXAT", "1"]),
        form(&["DEL", "r"])
    );
}

#[test]
fn xadd_carries_the_id_it_got() {
    // t_stream.c xaddCommand: the ID argument (after the options) is rewritten with the one
    // generated; at time T on a new stream that is T-0.
    let id = format!("{T}-0");
    assert_eq!(
        forms(&[], &["XADD", "s", "*", "f", "v"]),
        form(&["XADD", "s", &id, "f", "v"])
    );
    assert_eq!(
        forms(&[], &["XADD", "s", "MAXLEN", "=", "5", "*", "f", "v"]),
        form(&["XADD", "s", "MAXLEN", "=", "5", &id, "f", "v"])
    );
    assert_eq!(
        forms(&[], &["XADD", "s", "MINID", "0", "*", "f", "v"]),
        form(&["XADD", "s", "MINID", "0", &id, "f", "v"])
    );
    // LIMIT (with `~`, which Redis writes as the exact trim it made): the ID follows its count.
    let got = forms(
        &[],
        &[
            "XADD", "s", "MAXLEN", "~", "5", "LIMIT", "10", "*", "f", "v",
        ],
    );
    assert_eq!(got[0][7..], [id.clone(), "f".into(), "v".into()]);
    // NOMKSTREAM on an existing stream: the ID that follows it is rewritten.
    let first = &["XADD", "s", "1-1", "f", "v"][..];
    assert_eq!(
        forms(&[first], &["XADD", "s", "NOMKSTREAM", "*", "f", "v"]),
        form(&["XADD", "s", "NOMKSTREAM", &id, "f", "v"])
    );
}

#[test]
fn restore_with_a_relative_ttl_gets_an_absolute_one() {
    // cluster.c restoreCommand: with a TTL and no ABSTTL, argv[2] becomes now + ttl and ABSTTL is
    // appended; a TTL of 0, or one already absolute, goes as sent.
    let (dump, _) = run(&[&["SET", "a", "v"]], &["DUMP", "a"]);
    let Reply::Bulk(payload) = dump else {
        panic!("DUMP gave {dump:?}")
    };
    let p = String::from_utf8_lossy(&payload).into_owned();
    let mut ks = Keyspace::new();
    let mut s = Session::new();
    let mut restore = |argv: &[&[u8]]| {
        let r = ks.execute(&mut s, T, argv).expect("RESTORE runs");
        assert_eq!(r, Reply::Ok);
        propagate(&mut ks, 0, T, argv, &r)
    };
    let at = (T + 5_000).to_string();
    let got = restore(&[b"RESTORE", b"k1", b"5000", &payload]);
    let want: Vec<Vec<u8>> = vec![
        b"RESTORE".to_vec(),
        b"k1".to_vec(),
        at.clone().into_bytes(),
        payload.clone(),
        b"ABSTTL".to_vec(),
    ];
    assert_eq!(got, vec![want], "payload {p:?}");
    let asis: &[&[u8]] = &[b"RESTORE", b"k2", b"0", &payload];
    assert_eq!(
        restore(asis),
        vec![asis.iter().map(|a| a.to_vec()).collect::<Vec<_>>()]
    );
    let abs: &[&[u8]] = &[b"RESTORE", b"k3", at.as_bytes(), &payload, b"ABSTTL"];
    assert_eq!(
        restore(abs),
        vec![abs.iter().map(|a| a.to_vec()).collect::<Vec<_>>()]
    );
}
