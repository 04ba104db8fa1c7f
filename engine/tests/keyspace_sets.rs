//! Set commands against the examples and rules of the Redis command documentation (member order
//! in replies is unspecified there; this engine sorts by bytes).
mod keyspace_support;
use keyspace_support::*;

#[test]
fn sadd_srem_smove() {
    let mut c = Client::new();
    c.check(&["SADD", "myset", "Hello"], int(1));
    c.check(&["SADD", "myset", "World"], int(1));
    c.check(&["SADD", "myset", "World"], int(0));
    c.check(&["SMEMBERS", "myset"], bulks(&["Hello", "World"]));
    c.check(&["SADD", "s", "one", "two", "three"], int(3));
    c.check(&["SREM", "s", "one"], int(1));
    c.check(&["SREM", "s", "four"], int(0));
    c.check(&["SMEMBERS", "s"], bulks(&["three", "two"]));
    c.check(&["SREM", "s", "two", "three"], int(2));
    c.check(&["EXISTS", "s"], int(0));
    c.check(&["SADD", "a", "one", "two"], int(2));
    c.check(&["SADD", "b", "three"], int(1));
    c.check(&["SMOVE", "a", "b", "two"], int(1));
    c.check(&["SMEMBERS", "a"], bulks(&["one"]));
    c.check(&["SMEMBERS", "b"], bulks(&["three", "two"]));
    c.check(&["SMOVE", "a", "b", "nope"], int(0));
    c.check(&["SMOVE", "a", "a", "one"], int(1));
    c.check(&["SMOVE", "a", "new", "one"], int(1));
    c.check(&["EXISTS", "a"], int(0));
    c.check(&["SISMEMBER", "new", "one"], int(1));
    c.check(&["SCARD", "b"], int(2));
    c.run(&["SET", "str", "x"]);
    c.check_err(&["SADD", "str", "m"], "WRONGTYPE");
    c.check_err(&["SMOVE", "b", "str", "two"], "WRONGTYPE");
}

#[test]
fn store_algebra() {
    let mut c = Client::new();
    c.check(&["SADD", "key1", "a", "b", "c"], int(3));
    c.check(&["SADD", "key2", "c", "d", "e"], int(3));
    c.check(&["SINTERSTORE", "key", "key1", "key2"], int(1));
    c.check(&["SMEMBERS", "key"], bulks(&["c"]));
    c.check(&["SUNIONSTORE", "key", "key1", "key2"], int(5));
    c.check(&["SMEMBERS", "key"], bulks(&["a", "b", "c", "d", "e"]));
    c.check(&["SDIFFSTORE", "key", "key1", "key2"], int(2));
    c.check(&["SMEMBERS", "key"], bulks(&["a", "b"]));
    // An empty result deletes the destination; a missing input is an empty set.
    c.check(&["SINTERSTORE", "key", "key1", "missing"], int(0));
    c.check(&["EXISTS", "key"], int(0));
    c.check(&["SUNIONSTORE", "key", "missing", "key2"], int(3));
    c.check(&["SINTER", "key1", "key2"], bulks(&["c"]));
    c.check(&["SDIFF", "key1", "key2"], bulks(&["a", "b"]));
    c.run(&["SET", "str", "x"]);
    c.check_err(&["SUNIONSTORE", "key", "key1", "str"], "WRONGTYPE");
    // The destination's TTL goes with the old value.
    c.run(&["EXPIRE", "key", "100"]);
    c.check(&["SUNIONSTORE", "key", "key1"], int(3));
    c.check(&["TTL", "key"], int(-1));
}

#[test]
fn spop_takes_the_smallest_members() {
    let mut c = Client::new();
    c.check(&["SADD", "myset", "one", "two", "three"], int(3));
    c.check(&["SPOP", "myset"], bulk("one"));
    c.check(&["SMEMBERS", "myset"], bulks(&["three", "two"]));
    c.check(&["SADD", "myset", "four", "five"], int(2));
    c.check(&["SPOP", "myset", "3"], bulks(&["five", "four", "three"]));
    c.check(&["SPOP", "myset", "5"], bulks(&["two"]));
    c.check(&["EXISTS", "myset"], int(0));
    c.check(&["SPOP", "myset"], nil());
    c.check(&["SPOP", "myset", "2"], bulks(&[]));
    c.check_err(
        &["SPOP", "myset", "-1"],
        "ERR value is out of range, must be positive",
    );
}
