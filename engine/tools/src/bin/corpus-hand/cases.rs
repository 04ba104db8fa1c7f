//! The hand-built cases: RDB versions 1 to 8 byte by byte, each with the dataset its bytes mean,
//! and refusals derived from real files by one documented edit each.
use crate::bytes::{int_string, intset, len, lzf_literal_string, string, ziplist, zipmap, Rdb, Zl};
use redis_persist_engine::dataset::{Dataset, Entry, HashField, Value, ZsetMember};

/// One case: its file and what a reader must make of it.
pub struct HandCase {
    pub name: String,
    pub version: u32,
    pub features: Vec<&'static str>,
    pub bytes: Vec<u8>,
    /// The dataset, or the error kind of the refusal.
    pub expect: Result<Dataset, &'static str>,
    /// How the file was made.
    pub how: String,
}

/// EXPIRETIME holds signed 32-bit seconds (Redis reads an `int32_t`): 2033-05-18 fits, where
/// 2100 would read as a time long past.
const FAR_S: u32 = 2_000_000_000;
/// 2100-01-01 in ms, for EXPIRETIME_MS.
const FAR_MS: i64 = 4_102_444_800_000;

fn entry(db: u64, key: &str, expire_ms: Option<i64>, value: Value) -> Entry {
    Entry {
        db,
        key: key.as_bytes().to_vec(),
        expire_ms,
        idle_s: None,
        freq: None,
        value,
        attrs: Default::default(),
    }
}

fn b(s: &str) -> Vec<u8> {
    s.as_bytes().to_vec()
}

fn strs(v: &[&str]) -> Vec<Vec<u8>> {
    v.iter().map(|s| b(s)).collect()
}

fn hash(pairs: &[(&str, &str)]) -> Value {
    Value::Hash(
        pairs
            .iter()
            .map(|(f, v)| HashField {
                field: b(f),
                value: b(v),
                expire_ms: None,
            })
            .collect(),
    )
}

fn zset(m: &[(&str, f64)]) -> Value {
    Value::Zset(
        m.iter()
            .map(|(k, s)| ZsetMember {
                member: b(k),
                score: *s,
            })
            .collect(),
    )
}

fn ds(keys: Vec<Entry>) -> Dataset {
    let mut d = Dataset {
        keys,
        ..Dataset::default()
    };
    d.canonicalize();
    d
}

/// Strings in every old encoding and the seconds expiry of RDB 1.
fn strings(version: u32) -> HandCase {
    let long = "abcdefghij".repeat(5);
    let mut r = Rdb::new(version);
    r.select(0)
        .key(0, b"raw", &string(b"hello"))
        .key(0, b"int8", &int_string(-5))
        .key(0, b"int16", &int_string(1000))
        .key(0, b"int32", &int_string(-100_000))
        .key(0, b"lzf", &lzf_literal_string(long.as_bytes()))
        .expire_s(FAR_S)
        .key(0, b"expiring", &string(b"later"))
        .select(1)
        .key(0, b"other-db", &string(b""));
    let s = |k: &str, v: &str| entry(0, k, None, Value::String(b(v)));
    HandCase {
        name: format!("v{version}-strings"),
        version,
        features: vec![
            "string-raw",
            "string-int",
            "string-lzf",
            "expire-seconds",
            "multi-db",
        ],
        bytes: r.finish(),
        expect: Ok(ds(vec![
            s("raw", "hello"),
            s("int8", "-5"),
            s("int16", "1000"),
            s("int32", "-100000"),
            s("lzf", &long),
            entry(
                0,
                "expiring",
                Some(FAR_S as i64 * 1000),
                Value::String(b("later")),
            ),
            entry(1, "other-db", None, Value::String(Vec::new())),
        ])),
        how: "built byte by byte from the format reference".into(),
    }
}

/// The type 1-4 collections of RDB 1 (zset scores as text, including the infinities).
fn collections(version: u32) -> HandCase {
    let mut list = len(3);
    for s in ["a", "b", "c"] {
        list.extend(string(s.as_bytes()));
    }
    let mut set = len(2);
    set.extend(string(b"x"));
    set.extend(int_string(7));
    let mut z = len(3);
    for (m, score) in [("one", &b"1.5"[..]), ("neg", b"-2"), ("top", b"")] {
        z.extend(string(m.as_bytes()));
        if score.is_empty() {
            z.push(254); // +inf
        } else {
            z.push(score.len() as u8);
            z.extend_from_slice(score);
        }
    }
    let mut h = len(2);
    for (f, v) in [("f1", "v1"), ("f2", "v2")] {
        h.extend(string(f.as_bytes()));
        h.extend(string(v.as_bytes()));
    }
    let mut r = Rdb::new(version);
    r.select(0)
        .key(1, b"list", &list)
        .key(2, b"set", &set)
        .key(3, b"zset", &z)
        .key(4, b"hash", &h);
    HandCase {
        name: format!("v{version}-collections"),
        version,
        features: vec![
            "list-linked",
            "set-hashtable",
            "zset-text-scores",
            "hash-hashtable",
        ],
        bytes: r.finish(),
        expect: Ok(ds(vec![
            entry(0, "list", None, Value::List(strs(&["a", "b", "c"]))),
            entry(0, "set", None, Value::Set(strs(&["7", "x"]))),
            entry(
                0,
                "zset",
                None,
                zset(&[("neg", -2.0), ("one", 1.5), ("top", f64::INFINITY)]),
            ),
            entry(0, "hash", None, hash(&[("f1", "v1"), ("f2", "v2")])),
        ])),
        how: "built byte by byte from the format reference".into(),
    }
}

/// The blob encodings RDB 2 introduced: zipmap, ziplist list, intset, ziplist zset; from RDB 3
/// a millisecond expiry, from RDB 4 a ziplist hash.
fn blobs(version: u32) -> HandCase {
    let zm = zipmap(&[(b"f1", b"v1"), (b"f2", b"22")]);
    let zl = ziplist(&[Zl::Str(b"head"), Zl::Imm(5), Zl::I16(-300)]);
    let is16 = intset(2, &[-7, 3, 900]);
    let is64 = intset(8, &[1, 1 << 40]);
    let zz = ziplist(&[Zl::Str(b"a"), Zl::Imm(1), Zl::Str(b"b"), Zl::Str(b"2.5")]);
    let mut r = Rdb::new(version);
    r.select(0)
        .key(9, b"zipmap", &string(&zm))
        .key(10, b"ziplist", &string(&zl))
        .key(11, b"intset16", &string(&is16))
        .key(11, b"intset64", &string(&is64))
        .key(12, b"zset-zl", &string(&zz));
    let mut keys = vec![
        entry(0, "zipmap", None, hash(&[("f1", "v1"), ("f2", "22")])),
        entry(
            0,
            "ziplist",
            None,
            Value::List(strs(&["head", "5", "-300"])),
        ),
        entry(0, "intset16", None, Value::Set(strs(&["-7", "3", "900"]))),
        entry(
            0,
            "intset64",
            None,
            Value::Set(strs(&["1", "1099511627776"])),
        ),
        entry(0, "zset-zl", None, zset(&[("a", 1.0), ("b", 2.5)])),
    ];
    let mut features = vec!["hash-zipmap", "list-ziplist", "set-intset", "zset-ziplist"];
    if version >= 3 {
        r.expire_ms(FAR_MS + 1).key(0, b"ms-expiry", &string(b"v"));
        keys.push(entry(
            0,
            "ms-expiry",
            Some(FAR_MS + 1),
            Value::String(b("v")),
        ));
        features.push("expire-ms");
    }
    if version >= 4 {
        let hz = ziplist(&[Zl::Str(b"k"), Zl::Str(b"v"), Zl::Str(b"n"), Zl::Imm(12)]);
        r.key(13, b"hash-zl", &string(&hz));
        keys.push(entry(0, "hash-zl", None, hash(&[("k", "v"), ("n", "12")])));
        features.push("hash-ziplist");
    }
    if version >= 5 {
        features.push("checksum");
    }
    HandCase {
        name: format!("v{version}-blobs"),
        version,
        features,
        bytes: r.finish(),
        expect: Ok(ds(keys)),
        how: "built byte by byte from the format reference".into(),
    }
}

/// RDB 7's AUX, RESIZEDB and quicklist; RDB 8's binary-double zset.
fn modern(version: u32) -> HandCase {
    let node1 = ziplist(&[Zl::Str(b"q1"), Zl::Str(b"q2")]);
    let node2 = ziplist(&[Zl::Imm(3)]);
    let mut ql = len(2);
    ql.extend(string(&node1));
    ql.extend(string(&node2));
    let mut r = Rdb::new(version);
    r.aux("redis-ver", "hand-built").aux("redis-bits", "64");
    r.select(0).resizedb(2, 0).key(14, b"quicklist", &ql);
    let mut keys = vec![entry(
        0,
        "quicklist",
        None,
        Value::List(strs(&["q1", "q2", "3"])),
    )];
    let mut features = vec!["aux", "resizedb", "list-quicklist", "checksum"];
    if version >= 8 {
        let mut z = len(2);
        for (m, s) in [("hi", 10.25f64), ("lo", -0.5)] {
            z.extend(string(m.as_bytes()));
            z.extend_from_slice(&s.to_le_bytes());
        }
        r.key(5, b"zset2", &z);
        keys.push(entry(
            0,
            "zset2",
            None,
            zset(&[("lo", -0.5), ("hi", 10.25)]),
        ));
        features.push("zset-skiplist-binary-scores");
    }
    HandCase {
        name: format!("v{version}-modern"),
        version,
        features,
        bytes: r.finish(),
        expect: Ok(ds(keys)),
        how: "built byte by byte from the format reference".into(),
    }
}

/// Every positive case.
pub fn positives() -> Vec<HandCase> {
    let mut v = Vec::new();
    for version in 1..=8 {
        v.push(strings(version));
        v.push(collections(version));
        if version >= 2 {
            v.push(blobs(version));
        }
        if version >= 7 {
            v.push(modern(version));
        }
    }
    v
}
