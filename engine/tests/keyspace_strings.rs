//! String commands against the examples and rules of the Redis command documentation.
mod keyspace_support;
use keyspace_support::*;

#[test]
fn set_get_and_conditions() {
    let mut c = Client::new();
    c.check(&["SET", "mykey", "Hello"], ok());
    c.check(&["GET", "mykey"], bulk("Hello"));
    c.check(&["set", "mykey", "Hi", "NX"], nil());
    c.check(&["SET", "other", "x", "XX"], nil());
    c.check(&["SET", "mykey", "World", "XX", "GET"], bulk("Hello"));
    c.check(&["GET", "mykey"], bulk("World"));
    c.check(&["SET", "fresh", "v", "GET"], nil());
    c.check(&["SET", "mykey", "again", "NX", "GET"], bulk("World"));
    c.check(&["GET", "mykey"], bulk("World"));
    c.check_err(&["SET", "k", "v", "NX", "XX"], "ERR syntax error");
    c.check_err(
        &["SET", "k", "v", "EX", "10", "PX", "10"],
        "ERR syntax error",
    );
    c.check_err(
        &["SET", "k", "v", "KEEPTTL", "EX", "10"],
        "ERR syntax error",
    );
    c.check_err(&["SET", "k", "v", "EX"], "ERR syntax error");
    c.check_err(
        &["SET", "k", "v", "EX", "0"],
        "ERR invalid expire time in 'set' command",
    );
    c.check_err(
        &["SET", "k", "v", "PX", "-5"],
        "ERR invalid expire time in 'set' command",
    );
    c.check_err(
        &["SET", "k", "v", "EX", "ten"],
        "ERR value is not an integer",
    );
    c.run(&["RPUSH", "list", "a"]);
    c.check_err(&["SET", "list", "v", "GET"], "WRONGTYPE");
    c.check(&["SET", "list", "v"], ok());
    c.check(&["GET", "list"], bulk("v"));
}

#[test]
fn expiry_options_are_absolute_ms() {
    let mut c = Client::new();
    c.check(
        &["SET", "anotherkey", "will expire in a minute", "EX", "60"],
        ok(),
    );
    c.check(&["TTL", "anotherkey"], int(60));
    assert_eq!(
        c.entry(0, "anotherkey").unwrap().expire_ms,
        Some(T0 + 60_000)
    );
    c.check(&["SET", "px", "v", "PX", "1500"], ok());
    assert_eq!(c.entry(0, "px").unwrap().expire_ms, Some(T0 + 1500));
    c.check(&["SET", "exat", "v", "EXAT", "1800000000"], ok());
    assert_eq!(
        c.entry(0, "exat").unwrap().expire_ms,
        Some(1_800_000_000_000)
    );
    c.check(&["SET", "pxat", "v", "PXAT", "1800000000123"], ok());
    c.check(&["PEXPIRETIME", "pxat"], int(1_800_000_000_123));
    // A plain SET clears the TTL; KEEPTTL keeps it.
    c.check(&["SET", "pxat", "w", "KEEPTTL"], ok());
    c.check(&["PEXPIRETIME", "pxat"], int(1_800_000_000_123));
    c.check(&["SET", "pxat", "w"], ok());
    c.check(&["TTL", "pxat"], int(-1));
    // The key lives while now <= expire, and is gone once now > expire.
    c.now = T0 + 1500;
    c.check(&["GET", "px"], bulk("v"));
    c.now = T0 + 1501;
    c.check(&["GET", "px"], nil());
    c.check(&["EXISTS", "px"], int(0));
}

#[test]
fn setex_psetex_setnx() {
    let mut c = Client::new();
    c.check(&["SETEX", "mykey", "10", "Hello"], ok());
    c.check(&["TTL", "mykey"], int(10));
    c.check(&["GET", "mykey"], bulk("Hello"));
    c.check(&["PSETEX", "pkey", "1000", "Hello"], ok());
    c.check(&["PTTL", "pkey"], int(1000));
    c.check_err(
        &["SETEX", "k", "0", "v"],
        "ERR invalid expire time in 'setex' command",
    );
    c.check(&["SETNX", "nx", "Hello"], int(1));
    c.check(&["SETNX", "nx", "World"], int(0));
    c.check(&["GET", "nx"], bulk("Hello"));
}

#[test]
fn getset_getdel_getex() {
    let mut c = Client::new();
    c.check(&["INCR", "mycounter"], int(1));
    c.check(&["GETSET", "mycounter", "0"], bulk("1"));
    c.check(&["GET", "mycounter"], bulk("0"));
    c.check(&["SET", "mykey", "Hello"], ok());
    c.check(&["GETDEL", "mykey"], bulk("Hello"));
    c.check(&["GET", "mykey"], nil());
    c.check(&["SET", "mykey", "Hello"], ok());
    c.check(&["GETEX", "mykey"], bulk("Hello"));
    c.check(&["TTL", "mykey"], int(-1));
    c.check(&["GETEX", "mykey", "EX", "60"], bulk("Hello"));
    c.check(&["TTL", "mykey"], int(60));
    c.check(&["GETEX", "mykey", "PERSIST"], bulk("Hello"));
    c.check(&["TTL", "mykey"], int(-1));
    c.check_err(
        &["GETEX", "mykey", "PERSIST", "EX", "5"],
        "ERR syntax error",
    );
    c.check(&["GETEX", "missing", "EX", "5"], nil());
    // An absolute time already past deletes the key (live semantics).
    c.check(
        &["GETEX", "mykey", "PXAT", &(T0 - 1).to_string()],
        bulk("Hello"),
    );
    c.check(&["EXISTS", "mykey"], int(0));
}

#[test]
fn append_setrange_getrange_strlen() {
    let mut c = Client::new();
    c.check(&["EXISTS", "mykey"], int(0));
    c.check(&["APPEND", "mykey", "Hello"], int(5));
    c.check(&["APPEND", "mykey", " World"], int(11));
    c.check(&["GET", "mykey"], bulk("Hello World"));
    c.check(&["STRLEN", "mykey"], int(11));
    c.check(&["STRLEN", "nonexisting"], int(0));
    c.check(&["SET", "key1", "Hello World"], ok());
    c.check(&["SETRANGE", "key1", "6", "Redis"], int(11));
    c.check(&["GET", "key1"], bulk("Hello Redis"));
    c.check(&["SETRANGE", "key2", "6", "Redis"], int(11));
    c.check(&["GET", "key2"], bulk("\0\0\0\0\0\0Redis"));
    c.check(&["SETRANGE", "empty", "3", ""], int(0));
    c.check(&["EXISTS", "empty"], int(0));
    c.check_err(
        &["SETRANGE", "key1", "-1", "x"],
        "ERR offset is out of range",
    );
    c.check(&["SET", "s", "This is a string"], ok());
    c.check(&["GETRANGE", "s", "0", "3"], bulk("This"));
    c.check(&["GETRANGE", "s", "-3", "-1"], bulk("ing"));
    c.check(&["GETRANGE", "s", "0", "-1"], bulk("This is a string"));
    c.check(&["GETRANGE", "s", "10", "100"], bulk("string"));
}

#[test]
fn counters() {
    let mut c = Client::new();
    c.check(&["SET", "mykey", "10"], ok());
    c.check(&["INCR", "mykey"], int(11));
    c.check(&["GET", "mykey"], bulk("11"));
    c.check(&["SET", "mykey", "10"], ok());
    c.check(&["DECR", "mykey"], int(9));
    c.check(&["INCRBY", "mykey", "5"], int(14));
    c.check(&["DECRBY", "mykey", "3"], int(11));
    c.check(&["SET", "mykey", "234293482390480948029348230948"], ok());
    c.check_err(
        &["DECR", "mykey"],
        "ERR value is not an integer or out of range",
    );
    c.check(&["SET", "max", "9223372036854775807"], ok());
    c.check_err(
        &["INCR", "max"],
        "ERR increment or decrement would overflow",
    );
    c.check_err(
        &["INCRBY", "max", "x"],
        "ERR value is not an integer or out of range",
    );
    c.check(&["SET", "sp", " 1"], ok());
    c.check_err(&["INCR", "sp"], "ERR value is not an integer");
    // INCR keeps the TTL.
    c.check(&["SET", "t", "1", "EX", "100"], ok());
    c.check(&["INCR", "t"], int(2));
    c.check(&["TTL", "t"], int(100));
    c.check(&["SET", "f", "10.50"], ok());
    c.check(&["INCRBYFLOAT", "f", "0.1"], bulk("10.6"));
    c.check(&["INCRBYFLOAT", "f", "-5"], bulk("5.6"));
    c.check(&["SET", "f", "5.0e3"], ok());
    c.check(&["INCRBYFLOAT", "f", "2.0e2"], bulk("5200"));
    c.check_err(
        &["INCRBYFLOAT", "f", "nan"],
        "ERR value is not a valid float",
    );
    c.check_err(
        &["INCRBYFLOAT", "f", "inf"],
        "ERR increment would produce NaN or Infinity",
    );
    c.run(&["LPUSH", "l", "x"]);
    c.check_err(&["INCR", "l"], "WRONGTYPE");
}

#[test]
fn mset_msetnx_mget() {
    let mut c = Client::new();
    c.check(&["MSET", "key1", "Hello", "key2", "World"], ok());
    c.check(&["GET", "key1"], bulk("Hello"));
    c.check(&["GET", "key2"], bulk("World"));
    c.check(&["FLUSHDB"], ok());
    c.check(&["MSETNX", "key1", "Hello", "key2", "there"], int(1));
    c.check(&["MSETNX", "key2", "new", "key3", "world"], int(0));
    c.check(
        &["MGET", "key1", "key2", "key3"],
        arr(vec![bulk("Hello"), bulk("there"), nil()]),
    );
    c.check_err(
        &["MSET", "a", "1", "b"],
        "ERR wrong number of arguments for 'mset' command",
    );
}

#[test]
fn bit_commands() {
    let mut c = Client::new();
    c.check(&["SETBIT", "mykey", "7", "1"], int(0));
    c.check(&["SETBIT", "mykey", "7", "0"], int(1));
    c.check(&["GET", "mykey"], bulk("\0"));
    c.check(&["SETBIT", "b", "7", "1"], int(0));
    c.check(&["GETBIT", "b", "0"], int(0));
    c.check(&["GETBIT", "b", "7"], int(1));
    c.check(&["GETBIT", "b", "100"], int(0));
    c.check_err(
        &["SETBIT", "b", "-1", "1"],
        "ERR bit offset is not an integer or out of range",
    );
    c.check_err(
        &["SETBIT", "b", "1", "2"],
        "ERR bit is not an integer or out of range",
    );
    c.check(&["SET", "mykey", "foobar"], ok());
    c.check(&["BITCOUNT", "mykey"], int(26));
    c.check(&["BITCOUNT", "mykey", "0", "0"], int(4));
    c.check(&["BITCOUNT", "mykey", "1", "1"], int(6));
    c.check(&["BITCOUNT", "mykey", "1", "1", "BYTE"], int(6));
    c.check(&["BITCOUNT", "mykey", "5", "30", "BIT"], int(17));
    c.check(&["SET", "key1", "foobar"], ok());
    c.check(&["SET", "key2", "abcdef"], ok());
    c.check(&["BITOP", "AND", "dest", "key1", "key2"], int(6));
    c.check(&["GET", "dest"], bulk("`bc`ab"));
    c.check_err(
        &["BITOP", "NOT", "dest", "key1", "key2"],
        "ERR BITOP NOT must be called with a single source key.",
    );
    c.check(&["BITOP", "OR", "dest", "none"], int(0));
    c.check(&["EXISTS", "dest"], int(0));
}

#[test]
fn hyperloglog_commands() {
    let mut c = Client::new();
    c.check(&["PFADD", "hll", "a", "b", "c", "d", "e", "f", "g"], int(1));
    c.check(&["PFCOUNT", "hll"], int(7));
    c.check(&["PFADD", "hll1", "foo", "bar", "zap", "a"], int(1));
    c.check(&["PFADD", "hll2", "a", "b", "c", "foo"], int(1));
    c.check(&["PFMERGE", "hll3", "hll1", "hll2"], ok());
    c.check(&["PFCOUNT", "hll3"], int(6));
    c.check(&["PFADD", "h", "foo", "bar", "zap"], int(1));
    c.check(&["PFADD", "h", "zap", "zap", "zap"], int(0));
    c.check(&["PFADD", "h", "foo", "bar"], int(0));
    c.check(&["PFCOUNT", "h"], int(3));
    c.check(&["PFADD", "some-other-hll", "1", "2", "3"], int(1));
    c.check(&["PFCOUNT", "h", "some-other-hll"], int(6));
    c.check(&["PFCOUNT", "missing"], int(0));
    // The value is a string: "HYLL", encoding 1 (sparse), cached cardinality marked stale.
    c.check(&["PFADD", "fresh"], int(1));
    let Some(redis_persist_engine::dataset::Value::String(v)) = c.value("fresh") else {
        panic!("string")
    };
    assert_eq!(&v[..5], b"HYLL\x01");
    assert_eq!(v[15] & 0x80, 0x80);
    c.run(&["SET", "plain", "not an hll"]);
    c.check_err(
        &["PFADD", "plain", "x"],
        "WRONGTYPE Key is not a valid HyperLogLog string value.",
    );
    c.run(&["LPUSH", "list", "x"]);
    c.check_err(&["PFCOUNT", "list"], "WRONGTYPE Operation against a key");
}
