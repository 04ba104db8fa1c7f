//! Sorted-set commands against the examples and rules of the Redis command documentation.
mod keyspace_support;
use keyspace_support::*;
use redis_persist_engine::dataset::Value;
use redis_persist_engine::keyspace::Reply;

fn zrange(c: &mut Client, key: &str) -> Reply {
    c.run(&["ZRANGE", key, "0", "-1", "WITHSCORES"])
}

#[test]
fn zadd_zincrby_zrem() {
    let mut c = Client::new();
    c.check(&["ZADD", "myzset", "1", "one"], int(1));
    c.check(&["ZADD", "myzset", "1", "uno"], int(1));
    c.check(&["ZADD", "myzset", "2", "two", "3", "three"], int(2));
    assert_eq!(
        zrange(&mut c, "myzset"),
        bulks(&["one", "1", "uno", "1", "two", "2", "three", "3"])
    );
    c.check(&["ZADD", "z", "1", "one"], int(1));
    c.check(&["ZADD", "z", "2", "two"], int(1));
    c.check(&["ZINCRBY", "z", "2", "one"], bulk("3"));
    assert_eq!(zrange(&mut c, "z"), bulks(&["two", "2", "one", "3"]));
    c.check(&["ZREM", "myzset", "two"], int(1));
    assert_eq!(
        zrange(&mut c, "myzset"),
        bulks(&["one", "1", "uno", "1", "three", "3"])
    );
    c.check(&["ZREM", "z", "one", "two", "none"], int(2));
    c.check(&["EXISTS", "z"], int(0));
    c.check(&["ZCARD", "myzset"], int(3));
    c.check(&["ZSCORE", "myzset", "three"], bulk("3"));
    c.check(&["ZSCORE", "myzset", "nope"], nil());
}

#[test]
fn zadd_flags() {
    let mut c = Client::new();
    c.check(&["ZADD", "z", "10", "a"], int(1));
    c.check(&["ZADD", "z", "GT", "5", "a"], int(0));
    c.check(&["ZSCORE", "z", "a"], bulk("10"));
    c.check(&["ZADD", "z", "GT", "CH", "15", "a"], int(1));
    c.check(&["ZADD", "z", "LT", "CH", "20", "a"], int(0));
    c.check(&["ZADD", "z", "XX", "1", "b"], int(0));
    c.check(&["ZSCORE", "z", "b"], nil());
    c.check(&["ZADD", "z", "NX", "1", "a", "2", "b"], int(1));
    c.check(&["ZSCORE", "z", "a"], bulk("15"));
    c.check(&["ZADD", "z", "CH", "15", "a", "3", "b", "4", "c"], int(2));
    c.check(&["ZADD", "z", "INCR", "5", "a"], bulk("20"));
    c.check(&["ZADD", "z", "NX", "INCR", "5", "a"], nil());
    c.check(&["ZADD", "z", "GT", "INCR", "-5", "a"], nil());
    c.check(&["ZADD", "z", "XX", "INCR", "1", "new"], nil());
    c.check(&["ZADD", "missing", "XX", "1", "m"], int(0));
    c.check(&["EXISTS", "missing"], int(0));
    c.check_err(
        &["ZADD", "z", "NX", "XX", "1", "a"],
        "ERR XX and NX options at the same time are not compatible",
    );
    c.check_err(
        &["ZADD", "z", "GT", "LT", "1", "a"],
        "ERR GT, LT, and/or NX options at the same time are not compatible",
    );
    c.check_err(
        &["ZADD", "z", "NX", "GT", "1", "a"],
        "ERR GT, LT, and/or NX options at the same time are not compatible",
    );
    c.check_err(
        &["ZADD", "z", "INCR", "1", "a", "2", "b"],
        "ERR INCR option supports a single increment-element pair",
    );
    c.check_err(&["ZADD", "z", "1", "a", "2"], "ERR syntax error");
    c.check_err(&["ZADD", "z", "nan", "a"], "ERR value is not a valid float");
    c.check_err(&["ZADD", "z", "x", "a"], "ERR value is not a valid float");
    c.check(&["ZADD", "inf", "+inf", "a", "-inf", "b"], int(2));
    c.check_err(
        &["ZINCRBY", "inf", "-inf", "a"],
        "ERR resulting score is not a number (NaN)",
    );
}

/// -0 sorts with 0. A small sorted set is a listpack, which stores an integral score as an
/// integer, so -0 reads back as 0 (rdb-aof-format.md, errata 1); a skiplist keeps -0.
#[test]
fn negative_zero_is_zero_in_a_listpack_and_kept_in_a_skiplist() {
    let mut c = Client::new();
    c.check(&["ZADD", "z", "0", "b", "-0", "a", "-1", "c"], int(3));
    c.check(&["ZRANGE", "z", "0", "-1"], bulks(&["c", "a", "b"]));
    c.check(&["ZSCORE", "z", "a"], bulk("0"));
    c.check(&["ZADD", "z", "CH", "0", "a"], int(0));
    // A set created with a first member longer than zset-max-listpack-value (64) is a skiplist;
    // created small, it converts only when the long member comes, after -0 was stored as 0.
    let long = "x".repeat(65);
    c.check(&["ZADD", "big", "1", &long, "-0", "a"], int(2));
    c.check(&["ZSCORE", "big", "a"], bulk("-0"));
    let Some(Value::Zset(m)) = c.value("big") else {
        panic!("zset")
    };
    assert!(m[0].member == b"a" && m[0].score == 0.0 && m[0].score.is_sign_negative());
    c.check(&["ZADD", "late", "-0", "a", "1", &long], int(2));
    c.check(&["ZSCORE", "late", "a"], bulk("0"));
    // Growing past zset-max-listpack-entries (128) converts too; scores stored before stay.
    let mut args: Vec<String> = vec!["ZADD".into(), "grow".into(), "-0".into(), "first".into()];
    c.check(&args, int(1));
    args.truncate(2);
    for i in 0..130 {
        args.push(i.to_string());
        args.push(format!("m{i}"));
    }
    c.check(&args, int(130));
    c.check(&["ZADD", "grow", "-0", "late"], int(1));
    c.check(&["ZSCORE", "grow", "first"], bulk("0"));
    c.check(&["ZSCORE", "grow", "late"], bulk("-0"));
    // STORE results: ZUNIONSTORE builds a skiplist and converts it when small enough;
    // ZRANGESTORE fills a set created for the result's size, in order.
    c.check(&["ZUNIONSTORE", "u", "1", "big"], int(2));
    c.check(&["ZSCORE", "u", "a"], bulk("-0"));
    c.check(&["ZRANGESTORE", "r", "big", "0", "-1"], int(2));
    c.check(&["ZSCORE", "r", "a"], bulk("0"));
    c.check(&["ZUNIONSTORE", "u", "1", "grow"], int(132));
    c.check(&["ZSCORE", "u", "late"], bulk("-0"));
    c.check(&["ZADD", "small", "1", "a"], int(1));
    c.check(&["ZUNIONSTORE", "u", "1", "small", "WEIGHTS", "-0"], int(1));
    c.check(&["ZSCORE", "u", "a"], bulk("0"));
}

#[test]
fn remove_ranges() {
    let mut c = Client::new();
    let seed = |c: &mut Client| c.run(&["ZADD", "myzset", "1", "one", "2", "two", "3", "three"]);
    seed(&mut c);
    c.check(&["ZREMRANGEBYSCORE", "myzset", "-inf", "(2"], int(1));
    assert_eq!(zrange(&mut c, "myzset"), bulks(&["two", "2", "three", "3"]));
    c.run(&["DEL", "myzset"]);
    seed(&mut c);
    c.check(&["ZREMRANGEBYRANK", "myzset", "0", "1"], int(2));
    assert_eq!(zrange(&mut c, "myzset"), bulks(&["three", "3"]));
    c.check_err(
        &["ZREMRANGEBYSCORE", "myzset", "x", "1"],
        "ERR min or max is not a float",
    );
    c.check(
        &[
            "ZADD", "lex", "0", "aaaa", "0", "b", "0", "c", "0", "d", "0", "e",
        ],
        int(5),
    );
    c.check(
        &[
            "ZADD", "lex", "0", "foo", "0", "zap", "0", "zip", "0", "ALPHA", "0", "alpha",
        ],
        int(5),
    );
    c.check(
        &["ZRANGE", "lex", "0", "-1"],
        bulks(&[
            "ALPHA", "aaaa", "alpha", "b", "c", "d", "e", "foo", "zap", "zip",
        ]),
    );
    c.check(&["ZREMRANGEBYLEX", "lex", "[alpha", "[omega"], int(6));
    c.check(
        &["ZRANGE", "lex", "0", "-1"],
        bulks(&["ALPHA", "aaaa", "zap", "zip"]),
    );
    c.check_err(
        &["ZREMRANGEBYLEX", "lex", "alpha", "[omega"],
        "ERR min or max not valid string range item",
    );
}

#[test]
fn zrange_forms_and_zrangestore() {
    let mut c = Client::new();
    c.run(&["ZADD", "myzset", "1", "one", "2", "two", "3", "three"]);
    c.check(&["ZRANGE", "myzset", "2", "3"], bulks(&["three"]));
    c.check(&["ZRANGE", "myzset", "-2", "-1"], bulks(&["two", "three"]));
    c.check(
        &[
            "ZRANGE", "myzset", "(1", "+inf", "BYSCORE", "LIMIT", "1", "1",
        ],
        bulks(&["three"]),
    );
    c.check(
        &["ZRANGE", "myzset", "+inf", "(1", "BYSCORE", "REV"],
        bulks(&["three", "two"]),
    );
    c.check(
        &["ZRANGE", "myzset", "0", "0", "REV", "WITHSCORES"],
        bulks(&["three", "3"]),
    );
    c.check_err(
        &["ZRANGE", "myzset", "0", "1", "LIMIT", "0", "1"],
        "ERR syntax error, LIMIT is only supported",
    );
    c.check_err(
        &["ZRANGE", "myzset", "[a", "[z", "BYLEX", "WITHSCORES"],
        "ERR syntax error, WITHSCORES not supported",
    );
    c.check(
        &[
            "ZADD", "srczset", "1", "one", "2", "two", "3", "three", "4", "four",
        ],
        int(4),
    );
    c.check(&["ZRANGESTORE", "dstzset", "srczset", "2", "-1"], int(2));
    c.check(&["ZRANGE", "dstzset", "0", "-1"], bulks(&["three", "four"]));
    c.check(&["ZRANGESTORE", "dstzset", "srczset", "5", "10"], int(0));
    c.check(&["EXISTS", "dstzset"], int(0));
    c.check(
        &["ZRANGESTORE", "d2", "srczset", "(1", "3", "BYSCORE", "REV"],
        int(0),
    );
    c.check(
        &["ZRANGESTORE", "d2", "srczset", "3", "(1", "BYSCORE", "REV"],
        int(2),
    );
    c.check(
        &["ZRANGE", "d2", "0", "-1", "WITHSCORES"],
        bulks(&["two", "2", "three", "3"]),
    );
    c.check(&["ZCOUNT", "srczset", "(1", "3"], int(2));
}

#[test]
fn pops() {
    let mut c = Client::new();
    c.run(&["ZADD", "myzset", "1", "one", "2", "two", "3", "three"]);
    c.check(&["ZPOPMIN", "myzset"], bulks(&["one", "1"]));
    c.check(&["ZPOPMAX", "myzset"], bulks(&["three", "3"]));
    c.check(&["ZPOPMAX", "myzset", "5"], bulks(&["two", "2"]));
    c.check(&["EXISTS", "myzset"], int(0));
    c.check(&["ZPOPMIN", "myzset"], bulks(&[]));
    c.check(&["ZMPOP", "1", "notsuchkey", "MIN"], nil());
    c.run(&["ZADD", "myzset", "1", "one", "2", "two", "3", "three"]);
    c.check(
        &["ZMPOP", "1", "myzset", "MIN"],
        arr(vec![bulk("myzset"), arr(vec![bulks(&["one", "1"])])]),
    );
    assert_eq!(zrange(&mut c, "myzset"), bulks(&["two", "2", "three", "3"]));
    c.check(
        &["ZMPOP", "1", "myzset", "MAX", "COUNT", "10"],
        arr(vec![
            bulk("myzset"),
            arr(vec![bulks(&["three", "3"]), bulks(&["two", "2"])]),
        ]),
    );
    c.run(&["ZADD", "myzset2", "4", "four", "5", "five", "6", "six"]);
    c.check(
        &["ZMPOP", "2", "myzset", "myzset2", "MIN", "COUNT", "10"],
        arr(vec![
            bulk("myzset2"),
            arr(vec![
                bulks(&["four", "4"]),
                bulks(&["five", "5"]),
                bulks(&["six", "6"]),
            ]),
        ]),
    );
    c.run(&["ZADD", "zset1", "0", "a", "1", "b", "2", "c"]);
    c.check(
        &["BZPOPMIN", "zset1", "zset2", "0"],
        bulks(&["zset1", "a", "0"]),
    );
    c.check(
        &["BZPOPMAX", "none", "zset1", "0"],
        bulks(&["zset1", "c", "2"]),
    );
    c.check(&["BZPOPMIN", "none", "0"], nil());
}

#[test]
fn union_inter_diff_store() {
    let mut c = Client::new();
    c.run(&["ZADD", "zset1", "1", "one", "2", "two"]);
    c.run(&["ZADD", "zset2", "1", "one", "2", "two", "3", "three"]);
    c.check(
        &[
            "ZUNIONSTORE",
            "out",
            "2",
            "zset1",
            "zset2",
            "WEIGHTS",
            "2",
            "3",
        ],
        int(3),
    );
    assert_eq!(
        zrange(&mut c, "out"),
        bulks(&["one", "5", "three", "9", "two", "10"])
    );
    c.check(
        &[
            "ZINTERSTORE",
            "out",
            "2",
            "zset1",
            "zset2",
            "WEIGHTS",
            "2",
            "3",
        ],
        int(2),
    );
    assert_eq!(zrange(&mut c, "out"), bulks(&["one", "5", "two", "10"]));
    c.check(
        &[
            "ZUNIONSTORE",
            "out",
            "2",
            "zset1",
            "zset2",
            "AGGREGATE",
            "MAX",
        ],
        int(3),
    );
    assert_eq!(
        zrange(&mut c, "out"),
        bulks(&["one", "1", "two", "2", "three", "3"])
    );
    c.check(
        &[
            "ZINTERSTORE",
            "out",
            "2",
            "zset1",
            "zset2",
            "AGGREGATE",
            "MIN",
            "WEIGHTS",
            "1",
            "0",
        ],
        int(2),
    );
    assert_eq!(zrange(&mut c, "out"), bulks(&["one", "0", "two", "0"]));
    c.run(&["ZADD", "d1", "1", "one", "2", "two", "3", "three"]);
    c.run(&["ZADD", "d2", "1", "one", "2", "two"]);
    c.check(&["ZDIFFSTORE", "out", "2", "d1", "d2"], int(1));
    assert_eq!(zrange(&mut c, "out"), bulks(&["three", "3"]));
    // Plain sets count with score 1; missing keys are empty.
    c.run(&["SADD", "s", "one", "four"]);
    c.check(&["ZUNIONSTORE", "out", "3", "zset1", "s", "nokey"], int(3));
    assert_eq!(
        zrange(&mut c, "out"),
        bulks(&["four", "1", "one", "2", "two", "2"])
    );
    c.check(&["ZINTERSTORE", "out", "2", "zset1", "nokey"], int(0));
    c.check(&["EXISTS", "out"], int(0));
    // inf + -inf aggregates to 0.
    c.run(&["ZADD", "pinf", "+inf", "m"]);
    c.run(&["ZADD", "ninf", "-inf", "m"]);
    c.check(&["ZUNIONSTORE", "out", "2", "pinf", "ninf"], int(1));
    c.check(&["ZSCORE", "out", "m"], bulk("0"));
    c.check_err(
        &["ZUNIONSTORE", "out", "0", "zset1"],
        "ERR at least 1 input key is needed",
    );
    c.check_err(&["ZUNIONSTORE", "out", "3", "zset1"], "ERR syntax error");
    c.check_err(
        &["ZUNIONSTORE", "out", "1", "zset1", "WEIGHTS", "x"],
        "ERR weight value is not a float",
    );
    c.run(&["SET", "str", "x"]);
    c.check_err(&["ZUNIONSTORE", "out", "1", "str"], "WRONGTYPE");
}
