//! Seeded random command histories on a few colliding keys, shared by the differential tests
//! (in process against `persist::Server`, and over RESP against `redis-persist-server`).
#![allow(dead_code)]

/// 2100-01-01: expiries far enough that nothing expires while a test runs.
pub const FAR_MS: i64 = 4_102_444_800_000;

/// The project's one test generator, so a history is the same stream everywhere.
pub use redis_persist_engine::rng::Rng;

/// One random write (some fail with WRONGTYPE or a bad value, as they should on both servers).
pub fn command(r: &mut Rng) -> Vec<String> {
    let k = format!("k{}", r.below(12));
    let k2 = format!("k{}", r.below(12));
    let m = format!("m{}", r.below(8));
    let n = r.below(100).to_string();
    let s = |v: &[&str]| v.iter().map(|x| x.to_string()).collect::<Vec<_>>();
    match r.below(24) {
        0 => s(&["SET", &k, &m]),
        1 => s(&[
            "SET",
            &k,
            &n,
            "PXAT",
            &(FAR_MS + r.below(1000) as i64).to_string(),
        ]),
        2 => s(&["INCRBY", &k, &n]),
        3 => s(&["APPEND", &k, &m]),
        4 => s(&["DEL", &k]),
        5 => s(&["RPUSH", &k, &m, &n]),
        6 => s(&["LPOP", &k]),
        7 => s(&["LPUSH", &k, &m]),
        8 => s(&["SADD", &k, &m, &n]),
        9 => s(&["SREM", &k, &m]),
        10 => s(&["HSET", &k, &m, &n]),
        11 => s(&["HDEL", &k, &m]),
        12 => s(&["ZADD", &k, &n, &m]),
        13 => s(&["ZINCRBY", &k, "1.5", &m]),
        14 => s(&["ZREM", &k, &m]),
        15 => s(&["PEXPIREAT", &k, &(FAR_MS + 7).to_string()]),
        16 => s(&["PERSIST", &k]),
        17 => s(&["RENAME", &k, &k2]),
        18 => s(&["SELECT", &r.below(2).to_string()]),
        19 => s(&["XADD", &k, "*", "f", &m]),
        20 => s(&["COPY", &k, &k2, "REPLACE"]),
        21 => s(&["SMOVE", &k, &k2, &m]),
        22 => s(&["LMOVE", &k, &k2, "LEFT", "RIGHT"]),
        _ => s(&["HINCRBY", &k, &m, &n]),
    }
}

/// One random read whose reply is the same on any correct server (sets and hashes, whose
/// order is the server's own, are read in forms the caller sorts).
pub fn read(r: &mut Rng) -> Vec<String> {
    let k = format!("k{}", r.below(12));
    let m = format!("m{}", r.below(8));
    let s = |v: &[&str]| v.iter().map(|x| x.to_string()).collect::<Vec<_>>();
    match r.below(14) {
        0 => s(&["GET", &k]),
        1 => s(&["LRANGE", &k, "0", "-1"]),
        2 => s(&["HGET", &k, &m]),
        3 => s(&["ZRANGE", &k, "0", "-1", "WITHSCORES"]),
        4 => s(&["ZSCORE", &k, &m]),
        5 => s(&["TYPE", &k]),
        6 => s(&["EXISTS", &k]),
        7 => s(&["PEXPIRETIME", &k]),
        8 => s(&["LLEN", &k]),
        9 => s(&["SCARD", &k]),
        10 => s(&["SISMEMBER", &k, &m]),
        11 => s(&["XRANGE", &k, "-", "+"]),
        12 => s(&["SMEMBERS", &k]),
        _ => s(&["HGETALL", &k]),
    }
}
