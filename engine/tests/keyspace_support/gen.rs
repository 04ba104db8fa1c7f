//! The seeded command generator shared by the live-server tests: commands of every family over
//! 8 shared keys (so types collide), with absolute expiries only.
use redis_persist_engine::dataset::{Dataset, Value};
use redis_persist_engine::keyspace::Reply;
use redis_persist_engine::live::Reply as Wire;

pub use redis_persist_engine::rng::Rng;

pub const FAR: i64 = 4_102_444_800_000;

/// The next command: mostly valid, over 8 shared keys so types collide (WRONGTYPE paths).
pub fn command(r: &mut Rng, stream_ms: &mut u64, wide: bool) -> Vec<String> {
    let keys = ["k0", "k1", "k2", "k3", "k4", "k5", "k6", "k7"];
    let k = r.pick(&keys).to_string();
    let k2 = r.pick(&keys).to_string();
    let m = || ["a", "b", "c", "d", "e", "10", "-3"];
    // Wide runs draw members from 300 names (and sometimes 70-byte ones), so collections pass
    // the listpack limits.
    let member = |r: &mut Rng| {
        if wide {
            let i = r.below(300);
            if r.below(50) == 0 {
                format!("x{i:0>69}")
            } else {
                format!("m{i}")
            }
        } else {
            r.pick(&m()).to_string()
        }
    };
    let mem = member(r);
    let mem2 = member(r);
    let n = (r.below(9) as i64 - 3).to_string();
    let n2 = (r.below(9) as i64 - 4).to_string();
    let score = r
        .pick(&["0", "1", "2.5", "-1", "3", "-0", "+inf", "-inf", "1.5"])
        .to_string();
    let far = (FAR + r.below(5) as i64 * 1000).to_string();
    let v: Vec<&str> = match r.below(100) {
        0 if wide => {
            // A burst of additions, so sets, hashes and sorted sets grow past 128 entries.
            let cmd = r.pick(&["SADD", "ZADD", "HSET", "RPUSH"]);
            let mut v = vec![cmd.to_string(), k.clone()];
            for _ in 0..20 {
                if cmd == "ZADD" {
                    v.push(r.pick(&["0", "-0", "1.5", "2", "-7"]).to_string());
                }
                v.push(member(r));
                if cmd == "HSET" {
                    v.push("v".into());
                }
            }
            return v;
        }
        0 => vec!["SET", &k, &mem],
        1 => vec!["SET", &k, &mem, r.pick(&["NX", "XX", "GET", "KEEPTTL"])],
        2 => vec!["SET", &k, &mem, "PXAT", &far],
        3 => vec!["GET", &k],
        4 => vec!["APPEND", &k, &mem],
        5 => vec!["INCRBY", &k, &n],
        6 => vec!["INCRBYFLOAT", &k, r.pick(&["1.5", "-0.25", "2"])],
        7 => vec!["GETSET", &k, &mem],
        8 => vec!["GETDEL", &k],
        9 => vec!["SETRANGE", &k, r.pick(&["0", "2", "5"]), &mem],
        10 => vec!["GETRANGE", &k, &n, &n2],
        11 => vec!["MSET", &k, &mem, &k2, &mem2],
        12 => vec!["MSETNX", &k, &mem, &k2, &mem2],
        13 => vec!["SETNX", &k, &mem],
        14 => vec!["SETBIT", &k, r.pick(&["0", "7", "13"]), r.pick(&["0", "1"])],
        15 => vec!["BITCOUNT", &k],
        16 => vec!["STRLEN", &k],
        17 => vec!["GETEX", &k, "PXAT", &far],
        18 => vec!["LPUSH", &k, &mem, &mem2],
        19 => vec!["RPUSH", &k, &mem],
        20 => vec!["LPUSHX", &k, &mem],
        21 => vec!["RPOP", &k],
        22 => vec!["LPOP", &k, r.pick(&["0", "1", "2", "5"])],
        23 => vec!["LSET", &k, &n, &mem],
        24 => vec!["LREM", &k, &n, &mem],
        25 => vec!["LTRIM", &k, &n, &n2],
        26 => vec!["LINSERT", &k, r.pick(&["BEFORE", "AFTER"]), &mem, &mem2],
        27 => vec![
            "LMOVE",
            &k,
            &k2,
            r.pick(&["LEFT", "RIGHT"]),
            r.pick(&["LEFT", "RIGHT"]),
        ],
        28 => vec!["RPOPLPUSH", &k, &k2],
        29 => vec![
            "LMPOP",
            "2",
            &k,
            &k2,
            r.pick(&["LEFT", "RIGHT"]),
            "COUNT",
            "2",
        ],
        30 => vec!["LRANGE", &k, &n, &n2],
        31 => vec!["LINDEX", &k, &n],
        32 => vec!["LLEN", &k],
        33 => vec!["SADD", &k, &mem, &mem2],
        34 => vec!["SREM", &k, &mem],
        35 => vec!["SMOVE", &k, &k2, &mem],
        36 => vec!["SINTERSTORE", &k, &k2, r.pick(&keys)],
        37 => vec!["SUNIONSTORE", &k, &k2, r.pick(&keys)],
        38 => vec!["SDIFFSTORE", &k, &k2, r.pick(&keys)],
        39 => vec!["SCARD", &k],
        40 => vec!["SISMEMBER", &k, &mem],
        41 => vec!["HSET", &k, &mem, &mem2],
        42 => vec!["HSETNX", &k, &mem, &n],
        43 => vec!["HDEL", &k, &mem, &mem2],
        44 => vec!["HINCRBY", &k, &mem, &n],
        45 => vec!["HGET", &k, &mem],
        46 => vec!["HMGET", &k, &mem, &mem2],
        47 => vec!["HLEN", &k],
        48 => vec![
            "HPEXPIREAT",
            &k,
            &far,
            r.pick(&["NX", "XX", "GT", "LT", "FIELDS"]),
            "FIELDS",
            "1",
            &mem,
        ],
        49 => vec!["HPEXPIREAT", &k, &far, "FIELDS", "2", &mem, &mem2],
        50 => vec!["HPERSIST", &k, "FIELDS", "1", &mem],
        51 => vec!["HPEXPIRETIME", &k, "FIELDS", "2", &mem, &mem2],
        52 => vec!["ZADD", &k, &score, &mem],
        53 => vec![
            "ZADD",
            &k,
            r.pick(&["NX", "XX", "GT", "LT", "CH"]),
            &score,
            &mem,
            "1",
            &mem2,
        ],
        54 => vec!["ZADD", &k, "INCR", &score, &mem],
        55 => vec!["ZINCRBY", &k, &score, &mem],
        56 => vec!["ZREM", &k, &mem],
        57 => vec![
            "ZREMRANGEBYSCORE",
            &k,
            r.pick(&["-inf", "(0", "1"]),
            r.pick(&["+inf", "2.5", "(3"]),
        ],
        58 => vec!["ZREMRANGEBYRANK", &k, &n, &n2],
        59 => vec![
            "ZREMRANGEBYLEX",
            &k,
            r.pick(&["-", "[b", "(a"]),
            r.pick(&["+", "[d", "(c"]),
        ],
        60 => vec!["ZPOPMIN", &k],
        61 => vec!["ZPOPMAX", &k, "2"],
        62 => vec!["ZRANGE", &k, "0", "-1", "WITHSCORES"],
        63 => vec![
            "ZRANGE",
            &k,
            r.pick(&["(0", "-inf"]),
            r.pick(&["+inf", "2.5"]),
            "BYSCORE",
            "LIMIT",
            "0",
            "2",
        ],
        64 => vec![
            "ZUNIONSTORE",
            &k,
            "2",
            &k2,
            r.pick(&keys),
            "WEIGHTS",
            "2",
            "-1",
        ],
        65 => vec![
            "ZINTERSTORE",
            &k,
            "2",
            &k2,
            r.pick(&keys),
            "AGGREGATE",
            r.pick(&["MIN", "MAX", "SUM"]),
        ],
        66 => vec!["ZDIFFSTORE", &k, "2", &k2, r.pick(&keys)],
        67 => vec!["ZRANGESTORE", &k, &k2, "0", &n],
        68 => vec!["ZSCORE", &k, &mem],
        69 => vec!["ZRANK", &k, &mem],
        70 => vec!["ZMPOP", "2", &k, &k2, r.pick(&["MIN", "MAX"]), "COUNT", "2"],
        71 => vec!["ZCOUNT", &k, "-inf", "(2.5"],
        72 => vec!["DEL", &k],
        73 => vec!["EXISTS", &k, &k2],
        74 => vec!["TYPE", &k],
        75 => vec!["RENAME", &k, &k2],
        76 => vec!["RENAMENX", &k, &k2],
        77 => vec!["COPY", &k, &k2, r.pick(&["REPLACE", "DB", "REPLACE"]), "1"],
        78 => vec!["MOVE", &k, r.pick(&["0", "1"])],
        79 => vec!["PEXPIREAT", &k, &far, r.pick(&["NX", "XX", "GT", "LT"])],
        80 => vec!["PERSIST", &k],
        81 => vec!["PEXPIRETIME", &k],
        82 => vec!["SELECT", r.pick(&["0", "1"])],
        83 => {
            *stream_ms += r.below(3);
            let id = format!("{}-{}", *stream_ms, r.below(3));
            return ["XADD", &k, &id, "f", &mem]
                .iter()
                .map(|s| s.to_string())
                .collect();
        }
        84 => vec![
            "XADD",
            &k,
            "MAXLEN",
            r.pick(&["2", "=", "0"]),
            "3",
            "9999999999-*",
            "f",
            &mem,
        ],
        85 => {
            let id = format!("{}-{}", r.below(*stream_ms + 1), r.below(3));
            return ["XDEL", &k, &id].iter().map(|s| s.to_string()).collect();
        }
        86 => vec!["XTRIM", &k, "MAXLEN", &n],
        87 => vec![
            "XGROUP",
            "CREATE",
            &k,
            r.pick(&["g1", "g2"]),
            r.pick(&["0", "$"]),
            "MKSTREAM",
        ],
        88 => vec![
            "XGROUP",
            "SETID",
            &k,
            r.pick(&["g1", "g2"]),
            r.pick(&["0", "$"]),
            "ENTRIESREAD",
            r.pick(&["1", "-1"]),
        ],
        89 => vec![
            "XGROUP",
            "CREATECONSUMER",
            &k,
            "g1",
            r.pick(&["alice", "bob"]),
        ],
        90 => vec!["XGROUP", "DELCONSUMER", &k, "g1", r.pick(&["alice", "bob"])],
        91 => vec![
            "XREADGROUP",
            "GROUP",
            r.pick(&["g1", "g2"]),
            r.pick(&["alice", "bob"]),
            "COUNT",
            "2",
            "STREAMS",
            &k,
            r.pick(&[">", ">", "0"]),
        ],
        92 => vec!["XACK", &k, "g1", r.pick(&["0-1", "1-0", "2-1", "3-0"])],
        93 => vec![
            "XAUTOCLAIM",
            &k,
            "g1",
            r.pick(&["alice", "bob"]),
            "0",
            "0-0",
            "COUNT",
            "2",
            "JUSTID",
        ],
        94 => vec!["XLEN", &k],
        96 => vec!["PFADD", &k, &mem, &mem2],
        97 => vec!["PFCOUNT", &k],
        98 => vec!["PFMERGE", &k, &k2, r.pick(&keys)],
        99 => vec!["PFCOUNT", &k, &k2],
        95 => match r.below(12) {
            0 => vec![
                "BITOP",
                r.pick(&["AND", "OR", "XOR"]),
                &k,
                &k2,
                r.pick(&keys),
            ],
            1 => vec!["GETEX", &k, "PERSIST"],
            2 => vec!["HINCRBYFLOAT", &k, &mem, r.pick(&["0.5", "-1.25", "3"])],
            3 => vec!["XTRIM", &k, "MINID", r.pick(&["2", "5-1", "0"])],
            4 => vec![
                "XADD",
                &k,
                "NOMKSTREAM",
                "MINID",
                "=",
                "3",
                "9999999999-*",
                "g",
                &mem,
            ],
            5 => vec![
                "XSETID",
                &k,
                r.pick(&["9999999999-5", "1-0", "99999999999-0"]),
                "ENTRIESADDED",
                r.pick(&["50", "1"]),
            ],
            6 => vec![
                "XCLAIM",
                &k,
                "g1",
                r.pick(&["alice", "bob"]),
                "0",
                r.pick(&["1-0", "2-1", "3-0"]),
                r.pick(&["JUSTID", "FORCE", "RETRYCOUNT"]),
                "5",
            ],
            7 => vec!["SWAPDB", "0", "1"],
            8 => vec![
                "ZADD",
                &k,
                r.pick(&["GT", "LT", "XX", "NX"]),
                "CH",
                "INCR",
                &score,
                &mem,
            ],
            9 => vec!["BLPOP", &k, &k2, "0.01"],
            10 => vec!["XGROUP", "DESTROY", &k, r.pick(&["g1", "g2"])],
            11 if wide => {
                // Enough distinct elements to outgrow the sparse encoding.
                let mut v = vec!["PFADD".to_string(), k.clone()];
                v.extend((0..400).map(|_| format!("e{}", r.below(100_000))));
                return v;
            }
            _ => vec!["XRANGE", &k, "-", "+"],
        },
        _ => vec!["XRANGE", &k, "-", "+"],
    };
    v.into_iter().map(String::from).collect()
}

pub fn from_wire(w: Wire) -> Reply {
    match w {
        Wire::Simple(s) if s == "OK" => Reply::Ok,
        Wire::Simple(s) if s == "QUEUED" => Reply::Queued,
        Wire::Simple(s) => Reply::Status(s),
        Wire::Error(e) => Reply::Error(e),
        Wire::Int(i) => Reply::Int(i),
        Wire::Bulk(Some(b)) => Reply::Bulk(b),
        Wire::Bulk(None) | Wire::Array(None) => Reply::Nil,
        Wire::Array(Some(v)) => Reply::Array(v.into_iter().map(from_wire).collect()),
    }
}

/// Server and consumer clocks differ between the two sides: blank them out.
pub fn without_clock(mut d: Dataset) -> Dataset {
    for e in &mut d.keys {
        if let Value::Stream(s) = &mut e.value {
            for g in &mut s.groups {
                g.pending.iter_mut().for_each(|p| p.delivery_time_ms = 0);
                for c in &mut g.consumers {
                    c.seen_time_ms = 0;
                    c.active_time_ms = c.active_time_ms.map(|t| if t == -1 { -1 } else { 0 });
                }
            }
        }
    }
    d
}
