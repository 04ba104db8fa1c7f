//! Hash commands and Redis 7.4 hash-field expiration against the examples and rules of the Redis
//! command documentation.
mod keyspace_support;
use keyspace_support::*;
use redis_persist_engine::dataset::{HashField, Value};

fn fields(c: &Client, key: &str) -> Vec<(String, String, Option<i64>)> {
    match c.value(key) {
        Some(Value::Hash(f)) => f
            .into_iter()
            .map(
                |HashField {
                     field,
                     value,
                     expire_ms,
                 }| {
                    (
                        String::from_utf8(field).unwrap(),
                        String::from_utf8(value).unwrap(),
                        expire_ms,
                    )
                },
            )
            .collect(),
        other => panic!("{key} is not a hash: {other:?}"),
    }
}

#[test]
fn hset_hget_hsetnx_hdel() {
    let mut c = Client::new();
    c.check(&["HSET", "myhash", "field1", "Hello"], int(1));
    c.check(&["HGET", "myhash", "field1"], bulk("Hello"));
    c.check(
        &["HSET", "myhash", "field2", "Hi", "field3", "World"],
        int(2),
    );
    c.check(&["HGET", "myhash", "field2"], bulk("Hi"));
    c.check(
        &["HGETALL", "myhash"],
        bulks(&["field1", "Hello", "field2", "Hi", "field3", "World"]),
    );
    c.check(&["HMSET", "myhash", "field1", "Bye"], ok());
    c.check(
        &["HMGET", "myhash", "field1", "nofield"],
        arr(vec![bulk("Bye"), nil()]),
    );
    c.check(&["HSETNX", "n", "field", "Hello"], int(1));
    c.check(&["HSETNX", "n", "field", "World"], int(0));
    c.check(&["HGET", "n", "field"], bulk("Hello"));
    c.check(&["HSET", "d", "field1", "foo"], int(1));
    c.check(&["HDEL", "d", "field1"], int(1));
    c.check(&["HDEL", "d", "field2"], int(0));
    c.check(&["EXISTS", "d"], int(0));
    c.check(&["HLEN", "myhash"], int(3));
    c.check(&["HEXISTS", "myhash", "field3"], int(1));
    assert!(c.try_run(&["HSET", "myhash", "f"]).is_err());
    c.run(&["SET", "str", "x"]);
    c.check_err(&["HSET", "str", "f", "v"], "WRONGTYPE");
}

#[test]
fn hincrby_and_hincrbyfloat() {
    let mut c = Client::new();
    c.check(&["HSET", "myhash", "field", "5"], int(1));
    c.check(&["HINCRBY", "myhash", "field", "1"], int(6));
    c.check(&["HINCRBY", "myhash", "field", "-1"], int(5));
    c.check(&["HINCRBY", "myhash", "field", "-10"], int(-5));
    c.check(&["HINCRBY", "myhash", "new", "3"], int(3));
    c.check(&["HSET", "myhash", "text", "abc"], int(1));
    c.check_err(
        &["HINCRBY", "myhash", "text", "1"],
        "ERR hash value is not an integer",
    );
    c.check(&["HSET", "mykey", "field", "10.50"], int(1));
    c.check(&["HINCRBYFLOAT", "mykey", "field", "0.1"], bulk("10.6"));
    c.check(&["HINCRBYFLOAT", "mykey", "field", "-5"], bulk("5.6"));
    c.check(&["HSET", "mykey", "field", "5.0e3"], int(0));
    c.check(&["HINCRBYFLOAT", "mykey", "field", "2.0e2"], bulk("5200"));
}

#[test]
fn field_expiry_commands() {
    let mut c = Client::new();
    c.check(
        &[
            "HEXPIRE", "no-key", "20", "NX", "FIELDS", "2", "field1", "field2",
        ],
        ints(&[-2, -2]),
    );
    c.check(
        &["HSET", "mykey", "field1", "hello", "field2", "world"],
        int(2),
    );
    c.check(
        &[
            "HEXPIRE", "mykey", "10", "FIELDS", "3", "field1", "field2", "field3",
        ],
        ints(&[1, 1, -2]),
    );
    c.check(
        &["HGETALL", "mykey"],
        bulks(&["field1", "hello", "field2", "world"]),
    );
    c.check(
        &["HTTL", "mykey", "FIELDS", "2", "field1", "field2"],
        ints(&[10, 10]),
    );
    assert_eq!(fields(&c, "mykey")[0].2, Some(T0 + 10_000));
    c.check(
        &["HEXPIRE", "mykey", "300", "FIELDS", "2", "field1", "field2"],
        ints(&[1, 1]),
    );
    c.check(&["HPERSIST", "mykey", "FIELDS", "1", "field2"], ints(&[1]));
    c.check(
        &[
            "HTTL", "mykey", "FIELDS", "3", "field1", "field2", "nofield",
        ],
        ints(&[300, -1, -2]),
    );
    c.check(
        &["HPERSIST", "mykey", "FIELDS", "2", "field2", "nofield"],
        ints(&[-1, -2]),
    );
    // NX: only without TTL; XX: only with; GT/LT compare with the current TTL (none counts as
    // infinite: GT refuses, LT accepts).
    c.check(
        &[
            "HPEXPIRE", "mykey", "5000", "NX", "FIELDS", "2", "field1", "field2",
        ],
        ints(&[0, 1]),
    );
    c.check(
        &["HPEXPIRE", "mykey", "7000", "XX", "FIELDS", "1", "field2"],
        ints(&[1]),
    );
    c.check(
        &["HPEXPIRE", "mykey", "6000", "GT", "FIELDS", "1", "field2"],
        ints(&[0]),
    );
    c.check(
        &["HPEXPIRE", "mykey", "6000", "LT", "FIELDS", "1", "field2"],
        ints(&[1]),
    );
    c.check(&["HPTTL", "mykey", "FIELDS", "1", "field2"], ints(&[6000]));
    c.check(&["HSET", "mykey", "plain", "x"], int(1));
    c.check(
        &["HPEXPIRE", "mykey", "6000", "GT", "FIELDS", "1", "plain"],
        ints(&[0]),
    );
    c.check(
        &["HPEXPIRE", "mykey", "6000", "XX", "FIELDS", "1", "plain"],
        ints(&[0]),
    );
    c.check(
        &["HPEXPIRE", "mykey", "6000", "LT", "FIELDS", "1", "plain"],
        ints(&[1]),
    );
    let at = (T0 + 90_000).to_string();
    c.check(
        &["HPEXPIREAT", "mykey", &at, "FIELDS", "1", "plain"],
        ints(&[1]),
    );
    c.check(
        &["HPEXPIRETIME", "mykey", "FIELDS", "1", "plain"],
        ints(&[T0 + 90_000]),
    );
    c.check(
        &["HEXPIRETIME", "mykey", "FIELDS", "1", "plain"],
        ints(&[(T0 + 90_000 + 999) / 1000]),
    );
    c.check_err(
        &["HEXPIRE", "mykey", "10", "FIELDS", "2", "field1"],
        "ERR The `numfields` parameter must match the number of arguments",
    );
    c.check_err(
        &["HEXPIRE", "mykey", "10", "2", "field1", "field2"],
        "ERR Mandatory argument FIELDS is missing",
    );
    c.check_err(
        &["HEXPIRE", "mykey", "-1", "FIELDS", "1", "field1"],
        "ERR invalid expire time, must be >= 0",
    );
    c.check_err(
        &["HEXPIRE", "mykey", "10", "FIELDS", "0", "field1"],
        "ERR Parameter `numFields` should be greater than 0",
    );
}

#[test]
fn hset_drops_a_field_ttl_and_hincrby_keeps_it() {
    let mut c = Client::new();
    c.check(&["HSET", "h", "a", "1", "b", "2"], int(2));
    c.check(
        &["HEXPIRE", "h", "100", "FIELDS", "2", "a", "b"],
        ints(&[1, 1]),
    );
    c.check(&["HSET", "h", "a", "5"], int(0));
    c.check(&["HINCRBY", "h", "b", "5"], int(7));
    assert_eq!(
        fields(&c, "h"),
        vec![
            ("a".into(), "5".into(), None),
            ("b".into(), "7".into(), Some(T0 + 100_000))
        ]
    );
}

#[test]
fn past_field_times_delete_live_but_are_kept_while_loading() {
    let past = (T0 - 1).to_string();
    let mut live = Client::new();
    live.check(&["HSET", "h", "a", "1", "b", "2"], int(2));
    live.check(&["HPEXPIREAT", "h", &past, "FIELDS", "1", "a"], ints(&[2]));
    assert_eq!(fields(&live, "h"), vec![("b".into(), "2".into(), None)]);
    live.check(&["HPEXPIREAT", "h", &past, "FIELDS", "1", "b"], ints(&[2]));
    live.check(&["EXISTS", "h"], int(0));

    let mut replay = Client::replay();
    replay.check(&["HMSET", "h", "a", "1", "b", "2"], ok());
    replay.check(&["HPEXPIREAT", "h", &past, "FIELDS", "1", "a"], ints(&[1]));
    assert_eq!(
        fields(&replay, "h")[0],
        ("a".into(), "1".into(), Some(T0 - 1))
    );
    // Loading the result at T0 leaves the expired field out.
    let loaded = replay.k.to_dataset(Some(T0));
    let Value::Hash(f) = &loaded.keys[0].value else {
        panic!("hash")
    };
    assert_eq!(f.len(), 1);
    assert_eq!(f[0].field, b"b");
}

#[test]
fn expired_fields_are_gone_for_reads_and_lazily_deleted_live() {
    let mut c = Client::new();
    c.check(&["HSET", "h", "a", "1", "b", "2"], int(2));
    c.check(&["HPEXPIRE", "h", "10", "FIELDS", "1", "a"], ints(&[1]));
    c.now = T0 + 10;
    c.check(&["HGET", "h", "a"], bulk("1"));
    c.now = T0 + 11;
    c.check(&["HGET", "h", "a"], nil());
    c.check(&["HGETALL", "h"], bulks(&["b", "2"]));
    c.check(&["HINCRBY", "h", "a", "1"], int(1));
    assert_eq!(fields(&c, "h")[0], ("a".into(), "1".into(), None));
}
