//! Keyspace commands (DEL, RENAME, COPY, MOVE, expiry, databases) against the examples and rules
//! of the Redis command documentation, in live and loading semantics.
mod keyspace_support;
use keyspace_support::*;
use redis_persist_engine::keyspace::{Config, Keyspace, Session};

#[test]
fn del_exists_type() {
    let mut c = Client::new();
    c.run(&["SET", "key1", "Hello"]);
    c.run(&["SET", "key2", "World"]);
    c.check(&["DEL", "key1", "key2", "key3"], int(2));
    c.run(&["SET", "key1", "Hello"]);
    c.check(&["EXISTS", "key1"], int(1));
    c.check(&["EXISTS", "nosuchkey"], int(0));
    c.run(&["SET", "key2", "World"]);
    c.check(&["EXISTS", "key1", "key2", "nosuchkey"], int(2));
    c.check(&["EXISTS", "key1", "key1"], int(2));
    c.check(&["UNLINK", "key1", "key2", "key3"], int(2));
    c.run(&["SET", "key1", "value"]);
    c.run(&["LPUSH", "key2", "value"]);
    c.run(&["SADD", "key3", "value"]);
    c.check(
        &["TYPE", "key1"],
        redis_persist_engine::keyspace::Reply::Status("string".into()),
    );
    c.check(
        &["TYPE", "key2"],
        redis_persist_engine::keyspace::Reply::Status("list".into()),
    );
    c.check(
        &["TYPE", "key3"],
        redis_persist_engine::keyspace::Reply::Status("set".into()),
    );
    c.check(
        &["TYPE", "nokey"],
        redis_persist_engine::keyspace::Reply::Status("none".into()),
    );
    c.check(&["DBSIZE"], int(3));
}

#[test]
fn rename_copy_move() {
    let mut c = Client::new();
    c.run(&["SET", "mykey", "Hello"]);
    c.check(&["RENAME", "mykey", "myotherkey"], ok());
    c.check(&["GET", "myotherkey"], bulk("Hello"));
    c.check_err(&["RENAME", "mykey", "x"], "ERR no such key");
    c.run(&["SET", "mykey", "Hello"]);
    c.check(&["RENAMENX", "mykey", "myotherkey"], int(0));
    c.check(&["GET", "myotherkey"], bulk("Hello"));
    c.check(&["RENAMENX", "mykey", "mykey"], int(0));
    c.check(&["RENAME", "mykey", "mykey"], ok());
    // The TTL travels with the value.
    c.run(&["PEXPIRE", "mykey", "5000"]);
    c.check(&["RENAME", "mykey", "renamed"], ok());
    c.check(&["PTTL", "renamed"], int(5000));
    c.run(&["SET", "dolly", "sheep"]);
    c.check(&["COPY", "dolly", "clone"], int(1));
    c.check(&["GET", "clone"], bulk("sheep"));
    c.check(&["COPY", "dolly", "clone"], int(0));
    c.run(&["SET", "dolly", "lamb"]);
    c.check(&["COPY", "dolly", "clone", "REPLACE"], int(1));
    c.check(&["GET", "clone"], bulk("lamb"));
    c.check(&["COPY", "renamed", "elsewhere", "DB", "3"], int(1));
    c.check_err(
        &["COPY", "dolly", "dolly"],
        "ERR source and destination objects are the same",
    );
    c.check_err(
        &["COPY", "dolly", "x", "DB", "16"],
        "ERR DB index is out of range",
    );
    c.check(&["COPY", "nokey", "x"], int(0));
    c.check(&["MOVE", "dolly", "1"], int(1));
    c.check(&["EXISTS", "dolly"], int(0));
    c.check_err(
        &["MOVE", "clone", "0"],
        "ERR source and destination objects are the same",
    );
    c.check_err(&["MOVE", "clone", "16"], "ERR DB index is out of range");
    c.run(&["SET", "dolly", "again"]);
    c.check(&["MOVE", "dolly", "1"], int(0));
    c.check(&["SELECT", "1"], ok());
    c.check(&["GET", "dolly"], bulk("lamb"));
    c.check(&["SELECT", "3"], ok());
    c.check(&["PTTL", "elsewhere"], int(5000));
    c.check_err(&["SELECT", "16"], "ERR DB index is out of range");
    c.check_err(&["SELECT", "x"], "ERR value is not an integer");
    assert_eq!(c.s.db, 3);
}

#[test]
fn expire_family() {
    let mut c = Client::new();
    c.run(&["SET", "mykey", "Hello"]);
    c.check(&["EXPIRE", "mykey", "10"], int(1));
    c.check(&["TTL", "mykey"], int(10));
    c.run(&["SET", "mykey", "Hello World"]);
    c.check(&["TTL", "mykey"], int(-1));
    c.check(&["EXPIRE", "mykey", "10", "XX"], int(0));
    c.check(&["TTL", "mykey"], int(-1));
    c.check(&["EXPIRE", "mykey", "10", "NX"], int(1));
    c.check(&["TTL", "mykey"], int(10));
    c.check(&["EXPIRE", "mykey", "5", "GT"], int(0));
    c.check(&["EXPIRE", "mykey", "20", "GT"], int(1));
    c.check(&["EXPIRE", "mykey", "30", "LT"], int(0));
    c.check(&["EXPIRE", "mykey", "15", "LT"], int(1));
    c.check_err(
        &["EXPIRE", "mykey", "15", "NX", "GT"],
        "ERR NX and XX, GT or LT options at the same time are not compatible",
    );
    c.check_err(
        &["EXPIRE", "mykey", "15", "GT", "LT"],
        "ERR GT and LT options at the same time are not compatible",
    );
    c.check_err(
        &["EXPIRE", "mykey", "15", "SOON"],
        "ERR Unsupported option SOON",
    );
    c.check(&["EXPIRE", "nokey", "10"], int(0));
    c.run(&["SET", "plain", "x"]);
    c.check(&["EXPIRE", "plain", "10", "GT"], int(0));
    c.check(&["EXPIRE", "plain", "10", "LT"], int(1));
    c.check(&["PEXPIRE", "mykey", "1500"], int(1));
    c.now += 1;
    c.check(&["TTL", "mykey"], int(1));
    c.check(&["PTTL", "mykey"], int(1499));
    c.check(&["PERSIST", "mykey"], int(1));
    c.check(&["TTL", "mykey"], int(-1));
    c.check(&["PERSIST", "mykey"], int(0));
    c.check(&["EXPIREAT", "mykey", "33177117420"], int(1));
    c.check(&["EXPIRETIME", "mykey"], int(33_177_117_420));
    c.check(&["PEXPIREAT", "mykey", "33177117420000"], int(1));
    c.check(&["PEXPIRETIME", "mykey"], int(33_177_117_420_000));
    c.check(&["TTL", "nokey"], int(-2));
    c.check(&["PEXPIRETIME", "plain"], int(T0 + 10_000));
    // A time already past deletes at once in live semantics.
    c.check(&["EXPIREAT", "mykey", "1293840000"], int(1));
    c.check(&["EXISTS", "mykey"], int(0));
    c.run(&["SET", "mykey", "x"]);
    c.check(&["PEXPIREAT", "mykey", "1555555555005"], int(1));
    c.check(&["PTTL", "mykey"], int(-2));
    c.run(&["SET", "mykey", "x"]);
    c.check(&["EXPIRE", "mykey", "-1"], int(1));
    c.check(&["EXISTS", "mykey"], int(0));
    c.check_err(
        &["EXPIRE", "x", "9223372036854775807"],
        "ERR invalid expire time in 'expire' command",
    );
}

#[test]
fn loading_keeps_past_expiries_until_the_dataset_is_taken() {
    let mut c = Client::replay();
    c.run(&["SET", "k", "v"]);
    c.check(&["PEXPIREAT", "k", "1555555555005"], int(1));
    c.check(&["EXISTS", "k"], int(1));
    c.run(&["SET", "s", "v", "PXAT", "1555555555005"]);
    // Nothing expires while loading: a later command still sees the key.
    c.check(&["PERSIST", "s"], int(1));
    c.check(&["RPUSH", "l", "a"], int(1));
    c.check(&["PEXPIREAT", "l", &(T0 - 1).to_string()], int(1));
    c.check(&["RPUSH", "l", "b"], int(2));
    let at_load = c.k.to_dataset(Some(T0));
    let names: Vec<&[u8]> = at_load.keys.iter().map(|e| e.key.as_slice()).collect();
    assert_eq!(names, vec![&b"s"[..]]);
    assert_eq!(c.dataset().keys.len(), 3);
}

#[test]
fn live_keys_expire_on_access() {
    let mut c = Client::new();
    c.run(&["RPUSH", "l", "a"]);
    c.run(&["PEXPIRE", "l", "100"]);
    c.now += 101;
    // The expired list is gone: RPUSH creates a fresh one without TTL.
    c.check(&["RPUSH", "l", "b"], int(1));
    c.check(&["TTL", "l"], int(-1));
}

#[test]
fn flush_and_swap_databases() {
    let mut c = Client::new();
    c.run(&["SET", "a", "0"]);
    c.run(&["SELECT", "1"]);
    c.run(&["SET", "b", "1"]);
    c.check(&["SWAPDB", "0", "1"], ok());
    c.check(&["GET", "a"], bulk("0"));
    c.check(&["GET", "b"], nil());
    c.check_err(&["SWAPDB", "0", "16"], "ERR DB index is out of range");
    c.check_err(&["SWAPDB", "x", "1"], "ERR invalid first DB index");
    c.check(&["FLUSHDB"], ok());
    c.check(&["DBSIZE"], int(0));
    c.run(&["SELECT", "0"]);
    c.check(&["GET", "b"], bulk("1"));
    c.run(&[
        "FUNCTION",
        "LOAD",
        "#!lua name=lib\nredis.register_function('f', function() return 1 end)",
    ]);
    c.check(&["FLUSHALL", "ASYNC"], ok());
    assert!(c.k.is_empty());
    // FLUSHALL leaves the function libraries.
    assert_eq!(c.k.functions().count(), 1);
    c.check_err(&["FLUSHALL", "NOW"], "ERR syntax error");
}

#[test]
fn database_count_is_configurable() {
    let mut k = Keyspace::with_config(Config {
        databases: 64,
        ..Config::default()
    });
    let mut s = Session::new();
    assert_eq!(k.execute(&mut s, T0, &[b"SELECT", b"63"]).unwrap(), ok());
    assert_eq!(s.db, 63);
    assert_eq!(k.execute(&mut s, T0, &[b"SET", b"k", b"v"]).unwrap(), ok());
    assert_eq!(k.db_len(63), 1);
    assert!(k
        .execute(&mut s, T0, &[b"SELECT", b"64"])
        .unwrap()
        .error()
        .is_some());
}

/// RESTORE with the DUMP payloads of the Redis documentation (DUMP and RESTORE pages).
#[test]
fn restore_dump_payloads() {
    let mut c = Client::new();
    let ten: &[u8] = b"\x00\xc0\n\t\x00\xbem\x06\x89Z(\x00\n";
    c.check(&[&b"RESTORE"[..], b"mykey", b"0", ten], ok());
    c.check(&["GET", "mykey"], bulk("10"));
    c.check_err(
        &[&b"RESTORE"[..], b"mykey", b"0", ten],
        "BUSYKEY Target key name already exists.",
    );
    let list: &[u8] = b"\n\x17\x17\x00\x00\x00\x12\x00\x00\x00\x03\x00\x00\xc0\x01\x00\x04\xc0\x02\x00\x04\xc0\x03\x00\xff\x04\x00u#<\xc0;.\xe9\xdd";
    c.check(&[&b"RESTORE"[..], b"mykey", b"0", list, b"REPLACE"], ok());
    c.check(
        &["TYPE", "mykey"],
        redis_persist_engine::keyspace::Reply::Status("list".into()),
    );
    c.check(&["LRANGE", "mykey", "0", "-1"], bulks(&["1", "2", "3"]));
    // TTLs: relative to now, or absolute with ABSTTL; a time already past restores nothing.
    c.check(&[&b"RESTORE"[..], b"rel", b"5000", ten], ok());
    c.check(&["PTTL", "rel"], int(5000));
    let at = (T0 + 9000).to_string();
    c.check(
        &[
            &b"RESTORE"[..],
            b"abs",
            at.as_bytes(),
            ten,
            b"ABSTTL",
            b"IDLETIME",
            b"30",
        ],
        ok(),
    );
    c.check(&["PEXPIRETIME", "abs"], int(T0 + 9000));
    assert_eq!(c.entry(0, "abs").unwrap().idle_s, Some(30));
    c.check(&[&b"RESTORE"[..], b"gone", b"1000", ten, b"ABSTTL"], ok());
    c.check(&["EXISTS", "gone"], int(0));
    let mut bad = ten.to_vec();
    bad[1] ^= 1;
    c.check_err(
        &[&b"RESTORE"[..], b"x", b"0", &bad],
        "ERR DUMP payload version or checksum are wrong",
    );
    c.check_err(
        &[&b"RESTORE"[..], b"x", b"-1", ten],
        "ERR Invalid TTL value, must be >= 0",
    );
    c.check_err(
        &[&b"RESTORE"[..], b"x", b"0", ten, b"FREQ", b"256"],
        "ERR Invalid FREQ value",
    );
}

#[test]
fn script_cache_commands_have_no_effect() {
    let mut c = Client::replay();
    c.check(
        &["SCRIPT", "LOAD", "return 1"],
        bulk("e0e1f9fabfc9d4800c877a703b823ac0578ff8db"),
    );
    c.check(&["SCRIPT", "FLUSH"], ok());
    assert!(c.k.is_empty());
    assert!(c.try_run(&["SCRIPT", "LOAD"]).is_err());
}
