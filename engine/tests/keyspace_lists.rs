//! List commands against the examples and rules of the Redis command documentation.
mod keyspace_support;
use keyspace_support::*;

#[test]
fn pushes_and_ranges() {
    let mut c = Client::new();
    c.check(&["LPUSH", "mylist", "world"], int(1));
    c.check(&["LPUSH", "mylist", "hello"], int(2));
    c.check(&["LRANGE", "mylist", "0", "-1"], bulks(&["hello", "world"]));
    c.check(&["LPUSH", "multi", "a", "b", "c"], int(3));
    c.check(&["LRANGE", "multi", "0", "-1"], bulks(&["c", "b", "a"]));
    c.check(&["RPUSH", "r", "one", "two", "three"], int(3));
    c.check(&["LRANGE", "r", "0", "0"], bulks(&["one"]));
    c.check(&["LRANGE", "r", "-3", "2"], bulks(&["one", "two", "three"]));
    c.check(
        &["LRANGE", "r", "-100", "100"],
        bulks(&["one", "two", "three"]),
    );
    c.check(&["LRANGE", "r", "5", "10"], bulks(&[]));
    c.check(&["LPUSH", "x", "World"], int(1));
    c.check(&["LPUSHX", "x", "Hello"], int(2));
    c.check(&["LPUSHX", "myotherlist", "Hello"], int(0));
    c.check(&["RPUSHX", "myotherlist", "Hello"], int(0));
    c.check(&["LRANGE", "x", "0", "-1"], bulks(&["Hello", "World"]));
    c.check(&["EXISTS", "myotherlist"], int(0));
    c.check(&["LLEN", "x"], int(2));
    c.check(&["LINDEX", "x", "0"], bulk("Hello"));
    c.check(&["LINDEX", "x", "-1"], bulk("World"));
    c.check(&["LINDEX", "x", "3"], nil());
    c.run(&["SET", "s", "v"]);
    c.check_err(&["LPUSH", "s", "v"], "WRONGTYPE");
}

#[test]
fn pops_with_counts() {
    let mut c = Client::new();
    c.check(
        &["RPUSH", "mylist", "one", "two", "three", "four", "five"],
        int(5),
    );
    c.check(&["LPOP", "mylist"], bulk("one"));
    c.check(&["LPOP", "mylist", "2"], bulks(&["two", "three"]));
    c.check(&["LRANGE", "mylist", "0", "-1"], bulks(&["four", "five"]));
    c.check(&["DEL", "mylist"], int(1));
    c.check(
        &["RPUSH", "mylist", "one", "two", "three", "four", "five"],
        int(5),
    );
    c.check(&["RPOP", "mylist"], bulk("five"));
    c.check(&["RPOP", "mylist", "2"], bulks(&["four", "three"]));
    c.check(&["LRANGE", "mylist", "0", "-1"], bulks(&["one", "two"]));
    c.check(&["LPOP", "mylist", "0"], bulks(&[]));
    c.check(&["LPOP", "missing"], nil());
    c.check(&["LPOP", "missing", "3"], nil());
    c.check_err(
        &["LPOP", "mylist", "-1"],
        "ERR value is out of range, must be positive",
    );
    // Popping the last element deletes the key.
    c.check(&["RPOP", "mylist", "10"], bulks(&["two", "one"]));
    c.check(&["EXISTS", "mylist"], int(0));
}

#[test]
fn lset_lrem_ltrim_linsert() {
    let mut c = Client::new();
    c.check(&["RPUSH", "mylist", "one", "two", "three"], int(3));
    c.check(&["LSET", "mylist", "0", "four"], ok());
    c.check(&["LSET", "mylist", "-2", "five"], ok());
    c.check(
        &["LRANGE", "mylist", "0", "-1"],
        bulks(&["four", "five", "three"]),
    );
    c.check_err(&["LSET", "mylist", "3", "x"], "ERR index out of range");
    c.check_err(&["LSET", "nokey", "0", "x"], "ERR no such key");
    c.check(&["RPUSH", "h", "hello", "hello", "foo", "hello"], int(4));
    c.check(&["LREM", "h", "-2", "hello"], int(2));
    c.check(&["LRANGE", "h", "0", "-1"], bulks(&["hello", "foo"]));
    c.check(&["RPUSH", "h2", "a", "x", "a", "x", "a"], int(5));
    c.check(&["LREM", "h2", "2", "a"], int(2));
    c.check(&["LRANGE", "h2", "0", "-1"], bulks(&["x", "x", "a"]));
    c.check(&["LREM", "h2", "0", "x"], int(2));
    c.check(&["LRANGE", "h2", "0", "-1"], bulks(&["a"]));
    c.check(&["RPUSH", "t", "one", "two", "three"], int(3));
    c.check(&["LTRIM", "t", "1", "-1"], ok());
    c.check(&["LRANGE", "t", "0", "-1"], bulks(&["two", "three"]));
    c.check(&["LTRIM", "t", "5", "10"], ok());
    c.check(&["EXISTS", "t"], int(0));
    c.check(&["RPUSH", "i", "Hello", "World"], int(2));
    c.check(&["LINSERT", "i", "BEFORE", "World", "There"], int(3));
    c.check(
        &["LRANGE", "i", "0", "-1"],
        bulks(&["Hello", "There", "World"]),
    );
    c.check(&["LINSERT", "i", "AFTER", "World", "!"], int(4));
    c.check(&["LINSERT", "i", "AFTER", "nope", "!"], int(-1));
    c.check(&["LINSERT", "none", "AFTER", "a", "b"], int(0));
    c.check_err(
        &["LINSERT", "i", "AROUND", "World", "!"],
        "ERR syntax error",
    );
}

#[test]
fn lmove_and_rpoplpush() {
    let mut c = Client::new();
    c.check(&["RPUSH", "mylist", "one", "two", "three"], int(3));
    c.check(
        &["LMOVE", "mylist", "myotherlist", "RIGHT", "LEFT"],
        bulk("three"),
    );
    c.check(
        &["LMOVE", "mylist", "myotherlist", "LEFT", "RIGHT"],
        bulk("one"),
    );
    c.check(&["LRANGE", "mylist", "0", "-1"], bulks(&["two"]));
    c.check(
        &["LRANGE", "myotherlist", "0", "-1"],
        bulks(&["three", "one"]),
    );
    c.check(&["RPUSH", "a", "one", "two", "three"], int(3));
    c.check(&["RPOPLPUSH", "a", "b"], bulk("three"));
    c.check(&["LRANGE", "a", "0", "-1"], bulks(&["one", "two"]));
    c.check(&["LRANGE", "b", "0", "-1"], bulks(&["three"]));
    // Same source and destination rotates.
    c.check(&["RPOPLPUSH", "a", "a"], bulk("two"));
    c.check(&["LRANGE", "a", "0", "-1"], bulks(&["two", "one"]));
    c.check(&["LMOVE", "missing", "a", "LEFT", "LEFT"], nil());
    c.run(&["SET", "str", "x"]);
    c.check_err(&["LMOVE", "a", "str", "LEFT", "LEFT"], "WRONGTYPE");
    c.check(&["LRANGE", "a", "0", "-1"], bulks(&["two", "one"]));
    c.check(&["BLMOVE", "a", "c", "LEFT", "LEFT", "0"], bulk("two"));
    c.check(&["BRPOPLPUSH", "nothing", "c", "1"], nil());
}

#[test]
fn lmpop_and_blocking_forms_run_once() {
    let mut c = Client::new();
    c.check(
        &["LMPOP", "2", "non1", "non2", "LEFT", "COUNT", "10"],
        nil(),
    );
    c.check(
        &["LPUSH", "mylist", "one", "two", "three", "four", "five"],
        int(5),
    );
    c.check(
        &["LMPOP", "1", "mylist", "LEFT"],
        arr(vec![bulk("mylist"), bulks(&["five"])]),
    );
    c.check(
        &["LRANGE", "mylist", "0", "-1"],
        bulks(&["four", "three", "two", "one"]),
    );
    c.check(
        &["LMPOP", "1", "mylist", "RIGHT", "COUNT", "10"],
        arr(vec![
            bulk("mylist"),
            bulks(&["one", "two", "three", "four"]),
        ]),
    );
    c.check(
        &["LPUSH", "mylist", "one", "two", "three", "four", "five"],
        int(5),
    );
    c.check(&["LPUSH", "mylist2", "a", "b", "c", "d", "e"], int(5));
    c.check(
        &["LMPOP", "2", "mylist", "mylist2", "right", "count", "3"],
        arr(vec![bulk("mylist"), bulks(&["one", "two", "three"])]),
    );
    c.check(&["LRANGE", "mylist", "0", "-1"], bulks(&["five", "four"]));
    c.check(
        &["LMPOP", "2", "mylist", "mylist2", "right", "count", "5"],
        arr(vec![bulk("mylist"), bulks(&["four", "five"])]),
    );
    c.check(
        &["LMPOP", "2", "mylist", "mylist2", "right", "count", "10"],
        arr(vec![bulk("mylist2"), bulks(&["a", "b", "c", "d", "e"])]),
    );
    c.check(&["EXISTS", "mylist", "mylist2"], int(0));
    c.check_err(
        &["LMPOP", "0", "a", "LEFT"],
        "ERR numkeys should be greater than 0",
    );
    c.check_err(&["LMPOP", "1", "a", "UP"], "ERR syntax error");
    c.check_err(
        &["LMPOP", "1", "a", "LEFT", "COUNT", "0"],
        "ERR count should be greater than 0",
    );
    c.check(&["RPUSH", "list1", "a", "b", "c"], int(3));
    c.check(&["BLPOP", "list1", "list2", "0"], bulks(&["list1", "a"]));
    c.check(&["BRPOP", "list2", "list1", "0"], bulks(&["list1", "c"]));
    c.check(&["BLPOP", "none", "0"], nil());
    c.check(
        &["BLMPOP", "0", "1", "list1", "LEFT"],
        arr(vec![bulk("list1"), bulks(&["b"])]),
    );
}
