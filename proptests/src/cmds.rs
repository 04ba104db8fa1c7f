//! The data commands the persistence machine sends, as argv, and the values they carry: a few
//! numbers per command turned into one of ~90 commands over three colliding keys.
//!
//! Values and bulk commands are chosen so that short histories cross every encoding threshold the
//! RDB writer decides on (listpack entries and value size, intset width and size, LZF's 20-byte
//! floor, large elements), because each crossing is a different code path on disk.
use arbitrary::Arbitrary;

/// A data command: `op` picks the command, the rest are its parameters (see [`Cmd::argv`]).
/// Plain numbers shrink well and keep the fuzz target's byte decoding trivial.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Arbitrary)]
pub struct Cmd {
    /// Which command (modulo the number of forms).
    pub op: u8,
    /// Which key (modulo [`KEYS`]): one of two of the command's own type, or one of two shared
    /// by every type.
    pub key: u8,
    /// First parameter (usually a value or member).
    pub a: u8,
    /// Second parameter (a count, a score, a second value).
    pub b: u8,
}

/// How many command forms `op` selects among.
pub const FORMS: u8 = 116;

/// How many keys `key` selects among.
pub const KEYS: u8 = 4;

/// Keys `{p}0` and `{p}1` belong to one type's commands (prefix `p`), so those commands mostly
/// find their type and grow values past thresholds; `k0` and `k1` are shared by all, so types
/// collide (WRONGTYPE, RENAME over another type, DEL of anything).
fn key(prefix: &str, k: u8) -> Vec<u8> {
    let k = k % KEYS;
    if k < 2 {
        format!("{prefix}{k}").into_bytes()
    } else {
        format!("k{}", k - 2).into_bytes()
    }
}

/// The key prefix of command form `op`: commands on any type pick one by `a`.
fn family(op: u8, a: u8) -> &'static str {
    match op {
        0..=19 | 87..=89 | 110 => "s",
        20..=34 | 90..=92 => ["s", "l", "S", "h", "z", "x"][usize::from(a % 6)],
        35..=47 | 93 | 94 | 111 => "l",
        48..=55 | 95 | 112 | 113 => "S",
        56..=66 | 96..=100 | 114 => "h",
        67..=74 | 101..=105 | 115 => "z",
        _ => "x",
    }
}

/// A value from a small pool where most draws collide, with a few that cross thresholds:
/// integers of every intset width, text, >64 bytes (past listpack's value limit), long and
/// repetitive (LZF-compressible), and one large element.
pub fn value(a: u8) -> Vec<u8> {
    match a % 20 {
        n @ 0..=4 => n.to_string().into_bytes(),
        5 => b"a".to_vec(),
        6 => b"b".to_vec(),
        7 => b"cc".to_vec(),
        8 => b"70000".to_vec(),
        9 => b"-5000000000".to_vec(),
        10 => b"1.5".to_vec(),
        11 => Vec::new(),
        // 70 distinct bytes: over the 64-byte listpack limit, and LZF finds nothing to repeat.
        12 => (0..70u32).map(|i| b'!' + (i * 7 % 90) as u8).collect(),
        // Repetitive text over 20 bytes, which the writer stores LZF-compressed.
        13 => format!("{}{}", "abcd".repeat(12), a / 20).into_bytes(),
        14 => "z".repeat(300).into_bytes(),
        // A large element (several KiB): its own quicklist node, a big LZF frame.
        15 => "large-".repeat(700).into_bytes(),
        n => format!("{}", 1000 + u32::from(n) * 40_000).into_bytes(),
    }
}

/// An absolute time a little after the machine's clock start (PEXPIREAT, HPEXPIREAT): some
/// already past by the time they run, most not.
const T_NEAR: i64 = 1_800_000_000_000;

/// One of eight members or fields, so removes and lookups often hit.
fn member(a: u8) -> Vec<u8> {
    value(a % 8)
}

fn num(n: impl ToString) -> Vec<u8> {
    n.to_string().into_bytes()
}

/// One of four hash fields: few enough that a field TTL command often finds its field.
fn field(a: u8) -> Vec<u8> {
    value(a % 4)
}

/// A field every bulk HSET form sets (they start at `f0`, `f40`, `f80` or `f120`).
fn bulk_field(a: u8) -> Vec<u8> {
    format!("f{}", u32::from(a % 4) * 40 + 5).into_bytes()
}

/// A stream ID among a few, so XADD collides and XDEL/XACK/XCLAIM hit existing entries.
fn sid(a: u8) -> Vec<u8> {
    format!("{}-{}", a % 6 + 1, a / 6 % 2).into_bytes()
}

fn lib(a: u8) -> Vec<u8> {
    let n = a % 3;
    format!("#!lua name=lib{n}\nredis.register_function('f{n}_{a}', function() return {n} end)")
        .into_bytes()
}

fn argv(words: &[&[u8]]) -> Vec<Vec<u8>> {
    words.iter().map(|w| w.to_vec()).collect()
}

impl Cmd {
    /// The command's arguments.
    pub fn argv(&self) -> Vec<Vec<u8>> {
        let (a, b) = (self.a, self.b);
        let p = family(self.op % FORMS, a);
        let k = &key(p, self.key);
        let k2 = &key(p, self.key.wrapping_add(1 + b % 2));
        let v = &value(a);
        let m = &member(a);
        let w = &value(b);
        let n = &num(b % 7);
        let neg = &num(i32::from(b % 7) - 3);
        match self.op % FORMS {
            // Strings.
            0 => argv(&[b"SET", k, v]),
            1 => argv(&[b"SET", k, v, b"PX", &num(u32::from(b) * 20 + 1)]),
            2 => argv(&[b"SET", k, v, b"NX"]),
            3 => argv(&[b"SET", k, v, b"XX", b"KEEPTTL"]),
            4 => argv(&[b"GET", k]),
            5 => argv(&[b"INCR", k]),
            6 => argv(&[b"INCRBY", k, neg]),
            7 => argv(&[b"INCRBYFLOAT", k, b"0.5"]),
            8 => argv(&[b"APPEND", k, v]),
            9 => argv(&[b"SETRANGE", k, n, v]),
            10 => argv(&[b"GETRANGE", k, neg, n]),
            11 => argv(&[b"STRLEN", k]),
            12 => argv(&[b"GETSET", k, v]),
            13 => argv(&[b"GETDEL", k]),
            14 => argv(&[b"GETEX", k, b"PX", &num(u32::from(b) * 30 + 1)]),
            15 => argv(&[b"MSET", k, v, k2, w]),
            16 => argv(&[b"MSETNX", k, v, k2, w]),
            17 => argv(&[b"MGET", k, k2]),
            18 => argv(&[b"SETEX", k, &num(b % 5 + 1), v]),
            19 => argv(&[b"DECR", k]),
            // Keys and expiries.
            20 => argv(&[b"DEL", k]),
            21 => argv(&[b"EXISTS", k, k2]),
            22 => argv(&[b"TYPE", k]),
            23 => argv(&[b"EXPIRE", k, n]),
            24 => argv(&[b"PEXPIRE", k, &num(u32::from(b) * 25)]),
            25 => argv(&[b"PERSIST", k]),
            26 => argv(&[b"TTL", k]),
            27 => argv(&[b"PTTL", k]),
            28 => argv(&[b"RENAME", k, k2]),
            29 => argv(&[b"RENAMENX", k, k2]),
            30 => argv(&[b"COPY", k, k2, b"REPLACE"]),
            31 => argv(&[b"MOVE", k, &num(b % 2)]),
            32 => argv(&[
                b"EXPIRE",
                k,
                n,
                [&b"NX"[..], b"XX", b"GT", b"LT"][usize::from(a % 4)],
            ]),
            33 => argv(&[b"FLUSHDB"]),
            34 => argv(&[b"PEXPIRETIME", k]),
            // Lists.
            35 => argv(&[b"RPUSH", k, v, w]),
            36 => argv(&[b"LPUSH", k, v]),
            37 => argv(&[b"LPOP", k]),
            38 => argv(&[b"RPOP", k, n]),
            39 => argv(&[b"LRANGE", k, neg, b"-1"]),
            40 => argv(&[b"LSET", k, neg, v]),
            41 => argv(&[b"LREM", k, neg, m]),
            42 => argv(&[b"LTRIM", k, n, b"-2"]),
            43 => argv(&[b"LINSERT", k, b"BEFORE", m, v]),
            44 => argv(&[b"LMOVE", k, k2, b"LEFT", b"RIGHT"]),
            45 => argv(&[b"LINDEX", k, neg]),
            46 => argv(&[b"LLEN", k]),
            47 => argv(&[b"LMPOP", b"2", k, k2, b"RIGHT", b"COUNT", &num(b % 3 + 1)]),
            // Sets.
            48 => argv(&[b"SADD", k, m, &member(b)]),
            49 => argv(&[b"SREM", k, m]),
            50 => argv(&[b"SISMEMBER", k, m]),
            51 => argv(&[b"SCARD", k]),
            52 => argv(&[b"SMEMBERS", k]),
            53 => argv(&[b"SMOVE", k, k2, m]),
            54 => argv(&[b"SINTERSTORE", k2, k, k2]),
            55 => argv(&[b"SUNIONSTORE", k2, k, k2]),
            // Hashes, field TTLs included.
            56 => argv(&[b"HSET", k, &field(a), v, &field(b), w]),
            57 => argv(&[b"HSETNX", k, &field(a), v]),
            58 => argv(&[b"HDEL", k, &field(a)]),
            59 => argv(&[b"HGET", k, &field(a)]),
            60 => argv(&[b"HGETALL", k]),
            61 => argv(&[b"HINCRBY", k, &field(a), neg]),
            62 => argv(&[b"HEXISTS", k, &field(a)]),
            63 => {
                let f = [field(a), field(b), bulk_field(b)];
                argv(&[b"HEXPIRE", k, n, b"FIELDS", b"3", &f[0], &f[1], &f[2]])
            }
            64 => {
                let ms = num(u32::from(b) * 25);
                let f = [field(a), field(b), bulk_field(a)];
                argv(&[b"HPEXPIRE", k, &ms, b"FIELDS", b"3", &f[0], &f[1], &f[2]])
            }
            65 => argv(&[b"HPERSIST", k, b"FIELDS", b"1", &field(a)]),
            66 => argv(&[b"HTTL", k, b"FIELDS", b"2", &field(a), &bulk_field(b)]),
            // Sorted sets.
            67 => argv(&[b"ZADD", k, neg, m]),
            68 => argv(&[b"ZINCRBY", k, b"1.5", m]),
            69 => argv(&[b"ZREM", k, m]),
            70 => argv(&[b"ZRANGE", k, b"0", b"-1", b"WITHSCORES"]),
            71 => argv(&[b"ZSCORE", k, m]),
            72 => argv(&[b"ZPOPMIN", k]),
            73 => argv(&[b"ZREMRANGEBYSCORE", k, b"-1", n]),
            74 => argv(&[b"ZUNIONSTORE", k2, b"2", k, k2]),
            // Streams and consumer groups.
            75 => argv(&[b"XADD", k, &sid(a), b"f", w]),
            76 => argv(&[b"XADD", k, b"MAXLEN", n, b"*", b"f", w]),
            77 => argv(&[b"XDEL", k, &sid(a)]),
            78 => argv(&[b"XRANGE", k, b"-", b"+"]),
            79 => argv(&[b"XGROUP", b"CREATE", k, b"g", b"0", b"MKSTREAM"]),
            80 => argv(&[
                b"XREADGROUP",
                b"GROUP",
                b"g",
                &num(b % 2),
                b"COUNT",
                b"2",
                b"STREAMS",
                k,
                b">",
            ]),
            81 => argv(&[b"XACK", k, b"g", &sid(a)]),
            82 => argv(&[b"XCLAIM", k, b"g", b"c9", b"0", &sid(a)]),
            83 => argv(&[b"XTRIM", k, b"MAXLEN", n]),
            84 => argv(&[b"XAUTOCLAIM", k, b"g", b"c8", b"0", b"0-0", b"COUNT", b"2"]),
            // Functions.
            85 => argv(&[b"FUNCTION", b"LOAD", b"REPLACE", &lib(a)]),
            86 => argv(&[b"FUNCTION", b"DELETE", format!("lib{}", a % 3).as_bytes()]),
            // Bulk forms: one step crosses a threshold (128 list/zset/set-listpack entries; 512
            // hash fields and intset members, Redis's compiled defaults).
            87 => argv(&[b"PSETEX", k, &num(u32::from(b) * 30 + 1), v]),
            88 => argv(&[b"DECRBY", k, neg]),
            89 => argv(&[b"SETNX", k, v]),
            90 => argv(&[b"UNLINK", k, k2]),
            91 => argv(&[b"PEXPIREAT", k, &num(T_NEAR + i64::from(b) * 40)]),
            92 => argv(&[b"EXPIRETIME", k]),
            93 => argv(&[b"LPUSHX", k, v]),
            94 => argv(&[b"RPOPLPUSH", k, k2]),
            95 => argv(&[b"SDIFFSTORE", k2, k, k2]),
            96 => argv(&[b"HMSET", k, &field(a), v]),
            97 => argv(&[b"HMGET", k, &field(a), &field(b)]),
            98 => argv(&[b"HINCRBYFLOAT", k, &field(a), b"2.5"]),
            99 => {
                let at = num(T_NEAR + i64::from(b) * 40);
                argv(&[
                    b"HPEXPIREAT",
                    k,
                    &at,
                    b"FIELDS",
                    b"2",
                    &field(a),
                    &bulk_field(b),
                ])
            }
            100 => argv(&[b"HPTTL", k, b"FIELDS", b"1", &field(a)]),
            101 => argv(&[b"ZPOPMAX", k, n]),
            102 => argv(&[b"ZCARD", k]),
            103 => argv(&[b"ZINTERSTORE", k2, b"2", k, k2]),
            104 => argv(&[b"ZRANGESTORE", k2, k, b"0", n]),
            105 => argv(&[b"ZREMRANGEBYRANK", k, b"0", &num(b % 3)]),
            106 => argv(&[b"XLEN", k]),
            107 => argv(&[b"XREVRANGE", k, b"+", b"-", b"COUNT", b"3"]),
            108 => argv(&[b"XSETID", k, &sid(a)]),
            109 => argv(&[b"FUNCTION", b"FLUSH"]),
            110 => argv(&[b"GETEX", k, b"PERSIST"]),
            111 => bulk(b"RPUSH", k, 130, a, |i| {
                value(i as u8).into_iter().chain(num(i)).collect()
            }),
            112 => bulk(b"SADD", k, 130, a, |i| format!("m{i}").into_bytes()),
            113 => bulk(b"SADD", k, 520, a, |i| num(i64::from(i) * 3 - 700)),
            114 => bulk_pairs(b"HSET", k, 520, a, |i| {
                (format!("f{i}").into_bytes(), value(i as u8))
            }),
            _ => bulk_pairs(b"ZADD", k, 130, a, |i| {
                (num(i % 17), format!("z{i}").into_bytes())
            }),
        }
    }
}

/// `CMD key x1 .. xn`, the elements starting at an offset so two bulk steps overlap in part.
fn bulk(name: &[u8], k: &[u8], n: u32, at: u8, f: impl Fn(u32) -> Vec<u8>) -> Vec<Vec<u8>> {
    let start = u32::from(at % 4) * 40;
    let mut out = argv(&[name, k]);
    out.extend((start..start + n).map(f));
    out
}

fn bulk_pairs(
    name: &[u8],
    k: &[u8],
    n: u32,
    at: u8,
    f: impl Fn(u32) -> (Vec<u8>, Vec<u8>),
) -> Vec<Vec<u8>> {
    let start = u32::from(at % 4) * 40;
    let mut out = argv(&[name, k]);
    for (x, y) in (start..start + n).map(f) {
        out.push(x);
        out.push(y);
    }
    out
}

/// The argv as one line for logs, long arguments shortened.
pub fn show(argv: &[Vec<u8>]) -> String {
    let words: Vec<String> = argv
        .iter()
        .take(8)
        .map(|w| {
            if w.len() > 24 {
                format!("<{} bytes>", w.len())
            } else {
                w.escape_ascii().to_string()
            }
        })
        .collect();
    let more = if argv.len() > 8 {
        format!(" ..{} more", argv.len() - 8)
    } else {
        String::new()
    };
    format!("{}{more}", words.join(" "))
}
