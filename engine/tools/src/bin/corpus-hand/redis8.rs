//! RDB 13, 14 and 15 (Redis 8.6, 8.8, 8.10) built byte by byte from the source layouts: one case
//! per new type and opcode, and refusals for each new length field. No server that writes or
//! reads these versions runs here: every case is from source, not yet checked against a server;
//! each `how` names the source it follows (line numbers at upstream `e58041978` unless stated, as
//! in `/work/notes/redis-8-formats.md`).
use crate::bytes::{len, string, Rdb};
use crate::cases::HandCase;
use redis_persist_engine::dataset::*;

const SRC_26: &str = "Redis rdb.c stream branch of rdbSaveObject/rdbLoadObject and rdbSaveStreamIdmpEntries/rdbLoadStreamIdmpEntries (rdb.c:796-1000, 1458-1477, 3692-3722) as introduced by 221409788 (#14615)";
const SRC_27: &str = "Redis rdb.c NACK zone save/load (rdb.c:1432-1455, 3599-3642) as introduced by 747dfe578 (#14797)";
const SRC_28: &str = "Redis rdb.c OBJ_ARRAY save/load and rdbSaveArrayElement (rdb.c:1054-1088, 1512-1563, 3787-3882) as introduced by 0d9576435 (#15162), sparsearray.h AR_RDB_TAG_*";
const SRC_243: &str = "Redis keymeta.c rdbSaveKeyMetadata/rdbLoadKeyMetadata/keyMetaClassEncode (keymeta.c:76-140, 444-600) and rdb.c rdbResolveKeyType (rdb.c:2194) as introduced by 11e73c66a (#14445)";
const SRC_BACKLEN: &str =
    "Redis listpack.c lpEncodeBacklen before and after 74cfe8154 (#15151, in 8.8)";
const SRC_TMPL: &str = "librdb src/lib/parser.c at b7889d64 (elementHashTemplate, elementHashTmplLpRef, elementHashTmplArrayRef, elementHashTmplSelfContained) and the payload bytes of Redis tests/unit/type/hash-templates.tcl; Redis 8.10's own rdb.c was not available";
pub const UNCHECKED: &str = "from source, not yet checked against a server";

/// A listpack element.
enum Lp<'a> {
    S(&'a [u8]),
    I(i64),
}

/// A listpack blob; `minimal` writes the back-lengths of Redis 8.8+.
fn listpack(entries: &[Lp], minimal: bool) -> Vec<u8> {
    let mut body = Vec::new();
    for e in entries {
        let mut el = Vec::new();
        match e {
            Lp::S(s) if s.len() < 64 => {
                el.push(0x80 | s.len() as u8);
                el.extend_from_slice(s);
            }
            Lp::S(s) if s.len() < 4096 => {
                el.push(0xE0 | (s.len() >> 8) as u8);
                el.push(s.len() as u8);
                el.extend_from_slice(s);
            }
            Lp::S(s) => {
                el.push(0xF0);
                el.extend_from_slice(&(s.len() as u32).to_le_bytes());
                el.extend_from_slice(s);
            }
            Lp::I(i) if (0..=127).contains(i) => el.push(*i as u8),
            Lp::I(i) if (-4096..=4095).contains(i) => {
                let u = (*i as u16) & 0x1FFF;
                el.push(0xC0 | (u >> 8) as u8);
                el.push(u as u8);
            }
            Lp::I(i) => {
                el.push(0xF4);
                el.extend_from_slice(&i.to_le_bytes());
            }
        }
        let l = el.len();
        let w = match l {
            0..=127 => 1,
            _ if l < 16383 || (minimal && l == 16383) => 2,
            _ if l < 2097151 || (minimal && l == 2097151) => 3,
            _ => 4,
        };
        for i in (0..w).rev() {
            let g = ((l >> (7 * i)) & 0x7F) as u8;
            el.push(if i == w - 1 { g } else { g | 0x80 });
        }
        body.extend(el);
    }
    let mut v = Vec::new();
    v.extend_from_slice(&((6 + body.len() + 1) as u32).to_le_bytes());
    v.extend_from_slice(&(entries.len() as u16).to_le_bytes());
    v.extend(body);
    v.push(0xFF);
    v
}

/// A 64-bit RDB length (0x81 form).
fn len64(n: u64) -> Vec<u8> {
    let mut v = vec![0x81];
    v.extend_from_slice(&n.to_be_bytes());
    v
}

fn raw_id(ms: u64, seq: u64) -> Vec<u8> {
    let mut v = ms.to_be_bytes().to_vec();
    v.extend_from_slice(&seq.to_be_bytes());
    v
}

fn len_id(ms: u64, seq: u64) -> Vec<u8> {
    let mut v = if ms < 1 << 32 {
        len(ms as usize)
    } else {
        len64(ms)
    };
    v.extend(len(seq as usize));
    v
}

fn id(ms: u64, seq: u64) -> StreamId {
    StreamId { ms, seq }
}

fn b(s: &str) -> Vec<u8> {
    s.as_bytes().to_vec()
}

const T: u64 = 1_771_945_454_291;

/// A type 26/27 stream of entries T-0 and T-1 (fields a=1, a=2) in one node, one group `g`
/// (last delivered T-1, 2 read) whose PEL rows are `pel` (id seq, time, count), consumer `c`
/// owning `owned`, then `nack` (type 27 only) and the IDMP tail `idmp`.
fn stream_bytes(
    pel: &[(u64, i64, u64)],
    owned: &[u64],
    nack: Option<&[u64]>,
    idmp: &[u8],
) -> Vec<u8> {
    let node = listpack(
        &[
            Lp::I(2),
            Lp::I(0),
            Lp::I(1),
            Lp::S(b"a"),
            Lp::I(0),
            // entry T-0: same fields as the master
            Lp::I(2),
            Lp::I(0),
            Lp::I(0),
            Lp::I(1),
            Lp::I(4),
            // entry T-1
            Lp::I(2),
            Lp::I(0),
            Lp::I(1),
            Lp::I(2),
            Lp::I(4),
        ],
        false,
    );
    let mut v = len(1);
    v.extend(string(&raw_id(T, 0)));
    v.extend(string(&node));
    v.extend(len(2)); // length
    v.extend(len_id(T, 1)); // last id
    v.extend(len_id(T, 0)); // first id
    v.extend(len_id(0, 0)); // max deleted
    v.extend(len(2)); // entries added
    v.extend(len(1)); // groups
    v.extend(string(b"g"));
    v.extend(len_id(T, 1));
    v.extend(len(2)); // entries read
    v.extend(len(pel.len()));
    for (seq, time, count) in pel {
        v.extend(raw_id(T, *seq));
        v.extend_from_slice(&time.to_le_bytes());
        v.extend(len(*count as usize));
    }
    v.extend(len(1)); // consumers
    v.extend(string(b"c"));
    v.extend_from_slice(&(T as i64 + 10).to_le_bytes()); // seen
    v.extend_from_slice(&(T as i64 + 5).to_le_bytes()); // active
    v.extend(len(owned.len()));
    for seq in owned {
        v.extend(raw_id(T, *seq));
    }
    if let Some(n) = nack {
        v.extend(len(n.len()));
        for seq in n {
            v.extend(raw_id(T, *seq));
        }
    }
    v.extend_from_slice(idmp);
    v
}

/// The IDMP tail of a stream without IDMP use: the `stream-idmp-*` defaults.
fn idmp_default() -> Vec<u8> {
    vec![0x40, 100, 0x40, 100, 0, 0, 0]
}

fn stream_value(
    pending: Vec<PendingEntry>,
    owned: Vec<StreamId>,
    nacked: Option<Vec<StreamId>>,
    idmp: Idmp,
) -> Value {
    Value::Stream(Box::new(Stream {
        length: 2,
        last_id: id(T, 1),
        first_id: Some(id(T, 0)),
        max_deleted_id: Some(id(0, 0)),
        entries_added: Some(2),
        entries: vec![
            StreamEntry {
                id: id(T, 0),
                fields: vec![(b("a"), b("1"))],
            },
            StreamEntry {
                id: id(T, 1),
                fields: vec![(b("a"), b("2"))],
            },
        ],
        groups: vec![Group {
            name: b("g"),
            last_delivered_id: id(T, 1),
            entries_read: Some(2),
            pending,
            consumers: vec![Consumer {
                name: b("c"),
                seen_time_ms: T as i64 + 10,
                active_time_ms: Some(T as i64 + 5),
                pending: owned,
            }],
            nacked,
        }],
        idmp: Some(idmp),
    }))
}

fn pending(seq: u64, consumer: &str, time: i64, count: u64) -> PendingEntry {
    PendingEntry {
        id: id(T, seq),
        consumer: b(consumer),
        delivery_time_ms: time,
        delivery_count: count,
    }
}

fn key(k: &str, value: Value) -> Entry {
    Entry {
        db: 0,
        key: b(k),
        expire_ms: None,
        idle_s: None,
        freq: None,
        value,
        attrs: KeyAttrs::default(),
    }
}

fn ds(keys: Vec<Entry>) -> Dataset {
    let mut d = Dataset {
        keys,
        ..Dataset::default()
    };
    d.canonicalize();
    d
}

fn case(
    name: &str,
    version: u32,
    features: Vec<&'static str>,
    bytes: Vec<u8>,
    expect: Dataset,
    how: String,
) -> HandCase {
    HandCase {
        name: name.into(),
        version,
        features,
        bytes,
        expect: Ok(expect),
        how: format!("{how}; {UNCHECKED}"),
    }
}

fn one_key(version: u32, ty: u8, value: &[u8]) -> Vec<u8> {
    let mut r = Rdb::new(version);
    r.select(0).key(ty, b"k", value);
    r.finish()
}

/// Type 26: IDMP state with two producers, one stored with no entries (skipped as the loader
/// does) and one repeated IID (the first kept), then a stream without IDMP use.
fn v13_stream_idmp() -> HandCase {
    let mut idmp = vec![0x5C, 0x20, 0x43, 0xE8]; // duration 7200, max 1000 (14-bit lengths)
    idmp.extend(len(3));
    idmp.extend(string(b"p1"));
    idmp.extend(len(3));
    for (iid, seq) in [("i1", 0u64), ("i2", 1), ("i1", 1)] {
        idmp.extend(string(iid.as_bytes()));
        idmp.extend(len_id(T, seq));
    }
    idmp.extend(string(b"p0-expired"));
    idmp.extend(len(0));
    idmp.extend(string(b"p2"));
    idmp.extend(len(1));
    idmp.extend(string(b"j"));
    idmp.extend(len_id(T, 1));
    idmp.extend(len(9)); // iids added
    idmp.extend(len(2)); // duplicates
    let pel = [(0, T as i64 + 1, 1)];
    let mut r = Rdb::new(13);
    r.aux("redis-ver", "8.6.0")
        .select(0)
        .key(26, b"s", &stream_bytes(&pel, &[0], None, &idmp))
        .key(26, b"t", &stream_bytes(&pel, &[0], None, &idmp_default()));
    let v = |i: Idmp| {
        stream_value(
            vec![pending(0, "c", T as i64 + 1, 1)],
            vec![id(T, 0)],
            None,
            i,
        )
    };
    let used = Idmp {
        duration_s: 7200,
        max_entries: 1000,
        producers: vec![
            IdmpProducer {
                pid: b("p1"),
                entries: vec![(b("i1"), id(T, 0)), (b("i2"), id(T, 1))],
            },
            IdmpProducer {
                pid: b("p2"),
                entries: vec![(b("j"), id(T, 1))],
            },
        ],
        iids_added: 9,
        iids_duplicates: 2,
    };
    case(
        "v13-stream-idmp",
        13,
        vec!["stream-listpacks-4", "stream-idmp", "stream-pel"],
        r.finish(),
        ds(vec![key("s", v(used)), key("t", v(Idmp::default()))]),
        format!("{SRC_26}; a producer stored with no entries is skipped and a repeated IID keeps its first occurrence, as rdbLoadStreamIdmpEntries does"),
    )
}

/// KEY_META after the key's expiry and before its type byte; one key with two classes.
fn v13_key_meta() -> HandCase {
    // Class spec: name (6 bits a char, charset A-Z a-z 0-9 _ -), version (5), flags (3).
    let spec = |name: &[u8; 4], ver: u32, flags: u32| {
        const CS: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_-";
        let n = name.iter().fold(0u32, |n, c| {
            n << 6 | CS.iter().position(|x| x == c).unwrap() as u32
        });
        ((n << 5 | ver) << 3 | flags).to_le_bytes()
    };
    let uint_str = [2u8, 42, 5, 3, b'a', b'b', b'c', 0]; // UINT 42, STRING "abc", EOF
    let mut one = vec![0xF3];
    one.extend(len(1));
    one.extend(spec(b"KMT1", 1, 1));
    one.extend(uint_str);
    let mut two = vec![0xF3];
    two.extend(len(2));
    two.extend(spec(b"ab_-", 31, 0));
    two.push(0); // only EOF
    two.extend(spec(b"Zz09", 0, 1));
    two.extend([4u8]); // DOUBLE
    two.extend(1.5f64.to_le_bytes());
    two.push(0);
    let mut r = Rdb::new(13);
    r.select(0).expire_ms(4_102_444_800_000);
    r.out.extend(one);
    r.key(0, b"m1", &string(b"v1"));
    r.out.extend(two);
    r.key(0, b"m2", &string(b"v2"));
    let meta = |c: &str, v: u8, f: u8, p: Vec<u8>| KeyMeta {
        class: c.into(),
        version: v,
        flags: f,
        payload: p,
    };
    let mut d2 = vec![4u8];
    d2.extend(1.5f64.to_le_bytes());
    d2.push(0);
    let k1 = Entry {
        expire_ms: Some(4_102_444_800_000),
        attrs: KeyAttrs {
            meta: vec![meta("KMT1", 1, 1, uint_str.to_vec())],
            hash_template: false,
        },
        ..key("m1", Value::String(b("v1")))
    };
    let k2 = Entry {
        attrs: KeyAttrs {
            meta: vec![meta("ab_-", 31, 0, vec![0]), meta("Zz09", 0, 1, d2)],
            hash_template: false,
        },
        ..key("m2", Value::String(b("v2")))
    };
    case(
        "v13-key-meta",
        13,
        vec!["key-meta", "expire"],
        r.finish(),
        ds(vec![k1, k2]),
        format!(
            "{SRC_243}; class specs little-endian as rdbWriteRaw writes them on every real host"
        ),
    )
}

/// Type 27: two PEL rows owned by the consumer, two in the NACK zone (stored newest first, an
/// order a reader must keep), with the IDMP tail.
fn v14_stream_nack() -> HandCase {
    // Four entries would need a bigger node; the zone holds T-0 (count 3) and T-1 (count 1),
    // the consumer owns nothing, and a second stream shows an owned row beside an empty zone.
    let pel = [(0u64, 0i64, 3u64), (1, 0, 1)];
    let mut r = Rdb::new(14);
    r.select(0)
        .key(
            27,
            b"n",
            &stream_bytes(&pel, &[], Some(&[1, 0]), &idmp_default()),
        )
        .key(
            27,
            b"o",
            &stream_bytes(&[(1, T as i64 + 7, 2)], &[1], Some(&[]), &idmp_default()),
        );
    let n = stream_value(
        vec![pending(0, "", 0, 3), pending(1, "", 0, 1)],
        vec![],
        Some(vec![id(T, 1), id(T, 0)]),
        Idmp::default(),
    );
    let o = stream_value(
        vec![pending(1, "c", T as i64 + 7, 2)],
        vec![id(T, 1)],
        Some(vec![]),
        Idmp::default(),
    );
    case(
        "v14-stream-nack",
        14,
        vec!["stream-listpacks-5", "stream-nack", "stream-pel"],
        r.finish(),
        ds(vec![key("n", n), key("o", o)]),
        SRC_27.into(),
    )
}

/// Type 28: every element tag, a 64-bit index, an insertion cursor; a second array without one
/// whose indexes come unordered and repeated (the later value kept, as arSet does).
fn v14_array() -> HandCase {
    let mut a = len(5);
    a.extend(len(1));
    a.extend(len64(1 << 40)); // insert_idx
    a.extend([0u8, 0]); // idx 0, SDS
    a.extend(string(b"a longer value"));
    a.extend([1u8, 1]); // idx 1, INT
    a.extend((-7i64).to_le_bytes());
    a.extend([2u8, 2]); // idx 2, FLOAT
    a.extend(1.5f64.to_le_bytes());
    a.extend([3u8, 3]); // idx 3, SMALLSTR
    a.extend(string(b"abc"));
    a.extend(len64(1 << 40));
    a.push(1);
    a.extend((1i64 << 60).to_le_bytes());
    let mut c = len(3);
    c.push(0); // no insert_idx
    c.extend([9u8, 3]);
    c.extend(string(b"x"));
    c.extend([4u8, 2]);
    c.extend(2.0f64.to_le_bytes());
    c.extend([9u8, 0]);
    c.extend(string(b"later"));
    let mut r = Rdb::new(14);
    r.select(0).key(28, b"a", &a).key(28, b"c", &c);
    let arr = |i: Option<u64>, e: Vec<(u64, &str)>| {
        Value::Array(Array {
            insert_idx: i,
            elements: e.into_iter().map(|(i, v)| (i, b(v))).collect(),
        })
    };
    case(
        "v14-array",
        14,
        vec![
            "array",
            "array-int",
            "array-float",
            "array-smallstr",
            "array-sds",
        ],
        r.finish(),
        ds(vec![
            key(
                "a",
                arr(
                    Some(1 << 40),
                    vec![
                        (0, "a longer value"),
                        (1, "-7"),
                        (2, "1.5"),
                        (3, "abc"),
                        (1 << 40, "1152921504606846976"),
                    ],
                ),
            ),
            key("c", arr(None, vec![(4, "2.0"), (9, "later")])),
        ]),
        format!("{SRC_28}; FLOAT text as arFormatFloat gives it (2.0, not 2)"),
    )
}

/// A list whose quicklist node holds one 16383-byte listpack element (a 16378-byte string):
/// its back-length is 3 bytes before Redis 8.8 and 2 bytes from 8.8.
fn backlen(version: u32, minimal: bool) -> HandCase {
    let big = vec![b'x'; 16378];
    let node = listpack(&[Lp::S(&big), Lp::S(b"tail")], minimal);
    let mut ql = len(1);
    ql.extend(len(2)); // packed
    ql.extend(string(&node));
    let mut r = Rdb::new(version);
    r.select(0).key(18, b"l", &ql);
    let name = format!(
        "v{version}-listpack-backlen-{}",
        if minimal { "minimal" } else { "wide" }
    );
    case(
        &name,
        version,
        vec!["list-quicklist-2", "listpack-backlen-boundary"],
        r.finish(),
        ds(vec![key("l", Value::List(vec![big, b("tail")]))]),
        format!(
            "{SRC_BACKLEN}: a 16383-byte element with the {} back-length",
            if minimal {
                "2-byte (8.8+)"
            } else {
                "3-byte (up to 8.6)"
            }
        ),
    )
}

/// Opcode 242 and types 29-32: two templates (ids 0 and 7, not dense, one unused), keys by
/// reference in listpack (30) and string (32) form, and self-contained keys (29 with the names
/// as a listpack, 31 with the names as strings), which the loader accepts in files too.
fn v15_hash_templates() -> HandCase {
    let mut r = Rdb::new(15);
    let tmpl = |r: &mut Rdb, id: usize, names: &[&[u8]]| {
        r.out.push(0xF2);
        r.out.extend(len(id));
        r.out.extend(len(names.len()));
        for n in names {
            r.out.extend(string(n));
        }
    };
    r.aux("redis-ver", "8.10.0");
    tmpl(&mut r, 0, &[b"age", b"city", b"name"]);
    tmpl(&mut r, 7, &[b"x", b"yy"]);
    tmpl(&mut r, 3, &[b"unused"]);
    r.select(0);
    // 30: [id 0, values in template order]
    let lp = listpack(&[Lp::I(0), Lp::I(30), Lp::S(b"Oslo"), Lp::S(b"ann")], false);
    r.key(30, b"h1", &string(&lp));
    // 32: id 7, then the values
    let mut v32 = len(7);
    v32.extend(string(b"1"));
    v32.extend(string(&[b'v'; 70]));
    r.key(32, b"h2", &v32);
    // 29: fields_fmt 0 (names listpack), values listpack with a leading (ignored) id
    let mut v29 = len(0);
    v29.extend(string(&listpack(&[Lp::S(b"f1"), Lp::S(b"f2")], false)));
    v29.extend(string(&listpack(
        &[Lp::I(5), Lp::I(1), Lp::S(b"two")],
        false,
    )));
    r.key(29, b"h3", &v29);
    // 31: fields_fmt 1 (count, names), then the values
    let mut v31 = len(1);
    v31.extend(len(2));
    v31.extend(string(b"field1"));
    v31.extend(string(b"field2"));
    v31.extend([0xC0, 1, 0xC0, 2]);
    r.key(31, b"h4", &v31);
    let h = |k: &str, f: Vec<(&str, Vec<u8>)>| Entry {
        attrs: KeyAttrs {
            meta: vec![],
            hash_template: true,
        },
        ..key(
            k,
            Value::Hash(
                f.into_iter()
                    .map(|(f, v)| HashField {
                        field: b(f),
                        value: v,
                        expire_ms: None,
                    })
                    .collect(),
            ),
        )
    };
    case(
        "v15-hash-templates",
        15,
        vec![
            "hash-template",
            "hash-template-registry",
            "hash-template-self-contained",
        ],
        r.finish(),
        ds(vec![
            h(
                "h1",
                vec![("age", b("30")), ("city", b("Oslo")), ("name", b("ann"))],
            ),
            h("h2", vec![("x", b("1")), ("yy", vec![b'v'; 70])]),
            h("h3", vec![("f1", b("1")), ("f2", b("two"))]),
            h("h4", vec![("field1", b("1")), ("field2", b("2"))]),
        ]),
        format!("{SRC_TMPL}; template ids need not be dense and an unused template loads"),
    )
}

pub fn positives() -> Vec<HandCase> {
    vec![
        v13_stream_idmp(),
        v13_key_meta(),
        v14_stream_nack(),
        v14_array(),
        backlen(13, false),
        backlen(14, true),
        v15_hash_templates(),
    ]
}

fn bad(
    name: &str,
    version: u32,
    kind: &'static str,
    bytes: Vec<u8>,
    how: &str,
    src: &str,
) -> HandCase {
    HandCase {
        name: name.into(),
        version,
        features: vec!["refuse"],
        bytes,
        expect: Err(kind),
        how: format!("{how} ({src}; {UNCHECKED})"),
    }
}

/// A type 26 stream with the IDMP tail `idmp`.
fn idmp_file(idmp: &[u8]) -> Vec<u8> {
    one_key(13, 26, &stream_bytes(&[(0, 1, 1)], &[0], None, idmp))
}

/// Refusals, one per new length field or rule the loaders enforce.
pub fn negatives() -> Vec<HandCase> {
    let mut v = Vec::new();
    let mut idmp = |name: &str, kind, tail: Vec<u8>, how: &str| {
        v.push(bad(name, 13, kind, idmp_file(&tail), how, SRC_26))
    };
    idmp(
        "neg-v13-idmp-duration-0",
        "corrupt",
        vec![0, 0x40, 100, 0, 0, 0],
        "IDMP duration 0 (outside 1..86400)",
    );
    let mut d = len(86401);
    d.extend([0x40, 100, 0, 0, 0]);
    idmp(
        "neg-v13-idmp-duration-86401",
        "corrupt",
        d,
        "IDMP duration 86401 s",
    );
    idmp(
        "neg-v13-idmp-max-entries-0",
        "corrupt",
        vec![0x40, 100, 0, 0, 0, 0],
        "IDMP max entries 0 (outside 1..10000)",
    );
    let mut m = vec![0x40, 100];
    m.extend(len(10001));
    m.extend([0, 0, 0]);
    idmp(
        "neg-v13-idmp-max-entries-10001",
        "corrupt",
        m,
        "IDMP max entries 10001",
    );
    let mut p = vec![0x40, 100, 0x40, 100];
    p.extend(len64(1 << 31));
    idmp(
        "neg-v13-idmp-producers-2p31",
        "truncated",
        p,
        "an IDMP producer count of 2^31 with nothing after it",
    );
    let mut e = vec![0x40, 100, 0x40, 100, 1];
    e.extend(string(b"p"));
    e.extend(len64(1 << 31));
    idmp(
        "neg-v13-idmp-entries-2p31",
        "truncated",
        e,
        "an IDMP entry count of 2^31 with nothing after it",
    );
    let mut dup = vec![0x40, 100, 0x40, 100, 2];
    for _ in 0..2 {
        dup.extend(string(b"p"));
        dup.extend(len(1));
        dup.extend(string(b"i"));
        dup.extend(len_id(T, 0));
    }
    dup.extend([2, 0]);
    idmp(
        "neg-v13-idmp-producer-twice",
        "corrupt",
        dup,
        "one producer stored twice with entries",
    );
    v.push(bad(
        "neg-v13-unowned-pel",
        13,
        "corrupt",
        one_key(
            13,
            26,
            &stream_bytes(&[(0, 1, 1)], &[], None, &idmp_default()),
        ),
        "a type 26 PEL row no consumer owns (only type 27 NACK zones hold unowned rows)",
        SRC_27,
    ));
    let nack =
        |name: &str, kind, pel: &[(u64, i64, u64)], owned: &[u64], zone: Vec<u8>, how: &str| {
            let mut s = stream_bytes(pel, owned, Some(&[]), &idmp_default());
            // Replace the empty zone (its count byte 0, just before the IDMP tail) with `zone`.
            let at = s.len() - idmp_default().len() - 1;
            s.splice(at..at + 1, zone);
            bad(name, 14, kind, one_key(14, 27, &s), how, SRC_27)
        };
    let mut z = len(1);
    z.extend(raw_id(T, 1));
    v.push(nack(
        "neg-v14-nack-not-pending",
        "corrupt",
        &[(0, 1, 1)],
        &[0],
        z,
        "a NACK zone ID that is not in the group's PEL",
    ));
    let mut z = len(1);
    z.extend(raw_id(T, 0));
    v.push(nack(
        "neg-v14-nack-owned",
        "corrupt",
        &[(0, 1, 1)],
        &[0],
        z,
        "a NACK zone ID a consumer owns",
    ));
    let z = len64(1 << 31);
    v.push(nack(
        "neg-v14-nack-count-2p31",
        "truncated",
        &[(0, 1, 1)],
        &[0],
        z,
        "a NACK zone count of 2^31",
    ));
    let arr = |name: &str, kind, body: Vec<u8>, how: &str| {
        bad(name, 14, kind, one_key(14, 28, &body), how, SRC_28)
    };
    v.push(arr(
        "neg-v14-array-empty",
        "corrupt",
        vec![0, 0],
        "an array of 0 elements",
    ));
    v.push(arr(
        "neg-v14-array-insert-flag-2",
        "corrupt",
        vec![1, 2, 0, 0, 1, b'x'],
        "insert_idx flag 2",
    ));
    v.push(arr(
        "neg-v14-array-encoded-index",
        "corrupt",
        vec![1, 0, 0xC0, 0, 3, 1, b'x'],
        "an element index in the encoded-string form (0xC0)",
    ));
    v.push(arr(
        "neg-v14-array-unknown-tag",
        "corrupt",
        vec![1, 0, 0, 4, 1, b'x'],
        "element tag 4",
    ));
    let mut s8 = vec![1, 0, 0, 3];
    s8.extend(string(b"12345678"));
    v.push(arr(
        "neg-v14-array-smallstr-8",
        "corrupt",
        s8,
        "a SMALLSTR of 8 bytes (at most 7 on 64-bit builds)",
    ));
    let mut huge = len64(1 << 31);
    huge.extend([0, 0, 3, 1, b'x']);
    v.push(arr(
        "neg-v14-array-count-2p31",
        "truncated",
        huge,
        "an array count of 2^31 holding one element",
    ));
    let meta = |name: &str, kind, block: Vec<u8>, how: &str| {
        let mut r = Rdb::new(13);
        r.select(0);
        r.out.extend(block);
        r.key(0, b"k", &string(b"v"));
        bad(name, 13, kind, r.finish(), how, SRC_243)
    };
    v.push(meta(
        "neg-v13-key-meta-8-classes",
        "corrupt",
        vec![0xF3, 8],
        "8 metadata classes (at most 7)",
    ));
    let mut nt = vec![0xF3, 1, 0, 0, 0, 0, 0];
    nt.push(0xFE); // SELECTDB where the key's type byte must be
    nt.push(0);
    v.push(meta(
        "neg-v13-key-meta-no-type",
        "corrupt",
        nt,
        "KEY_META followed by an opcode instead of an object type",
    ));
    let tmpl = |name: &str, kind, pre: Vec<u8>, ty: u8, val: Vec<u8>, how: &str| {
        let mut r = Rdb::new(15);
        r.out.extend(pre);
        r.select(0).key(ty, b"k", &val);
        bad(name, 15, kind, r.finish(), how, SRC_TMPL)
    };
    let reg = |id: u8, names: &[&[u8]]| {
        let mut v = vec![0xF2, id];
        v.extend(len(names.len()));
        for n in names {
            v.extend(string(n));
        }
        v
    };
    let lp_ref = |id: i64| string(&listpack(&[Lp::I(id), Lp::S(b"v")], false));
    v.push(tmpl(
        "neg-v15-template-zero-fields",
        "corrupt",
        vec![0xF2, 0, 0],
        0,
        string(b"v"),
        "a template of 0 fields",
    ));
    v.push(tmpl(
        "neg-v15-template-unsorted",
        "corrupt",
        reg(0, &[b"b", b"a"]),
        30,
        lp_ref(0),
        "template fields not strictly ascending",
    ));
    v.push(tmpl(
        "neg-v15-template-shorter-last",
        "corrupt",
        reg(0, &[b"aa", b"b"]),
        30,
        lp_ref(0),
        "template fields in byte order but not shorter-first (sdscmplen)",
    ));
    let mut twice = reg(0, &[b"a"]);
    twice.extend(reg(0, &[b"a"]));
    v.push(tmpl(
        "neg-v15-template-duplicate-id",
        "corrupt",
        twice,
        30,
        lp_ref(0),
        "template id 0 registered twice",
    ));
    v.push(tmpl(
        "neg-v15-template-unknown-id",
        "corrupt",
        reg(0, &[b"a"]),
        30,
        lp_ref(1),
        "a type 30 value naming template 1, never registered",
    ));
    let mut arr_ref = len(4);
    arr_ref.extend(string(b"v"));
    v.push(tmpl(
        "neg-v15-template-array-unknown-id",
        "corrupt",
        reg(0, &[b"a"]),
        32,
        arr_ref,
        "a type 32 value naming template 4, never registered",
    ));
    let short = string(&listpack(&[Lp::I(0), Lp::S(b"v")], false));
    v.push(tmpl(
        "neg-v15-template-value-count",
        "corrupt",
        reg(0, &[b"a", b"b"]),
        30,
        short,
        "a type 30 listpack with one value for a template of two fields",
    ));
    let first_str = string(&listpack(&[Lp::S(b"0"), Lp::S(b"v")], false));
    v.push(tmpl(
        "neg-v15-template-id-not-int",
        "corrupt",
        reg(0, &[b"a"]),
        30,
        first_str,
        "a type 30 listpack whose first entry is a string",
    ));
    let mut fmt2 = len(2);
    fmt2.extend(len(1));
    fmt2.extend(string(b"a"));
    fmt2.extend(string(b"v"));
    v.push(tmpl(
        "neg-v15-template-fields-format-2",
        "corrupt",
        vec![],
        31,
        fmt2,
        "a type 31 value with fields_fmt 2",
    ));
    let mut fmt1_zero = len(1);
    fmt1_zero.push(0);
    v.push(tmpl(
        "neg-v15-template-self-zero-fields",
        "corrupt",
        vec![],
        31,
        fmt1_zero,
        "a type 31 value declaring 0 fields",
    ));
    let mut fc = vec![0xF2, 0];
    fc.extend(len64(1 << 31));
    v.push(tmpl(
        "neg-v15-template-count-2p31",
        "truncated",
        fc,
        0,
        string(b"v"),
        "a template claiming 2^31 fields",
    ));
    let mut valkey = b"VALKEY080".to_vec();
    valkey.extend([0xF3, 0x28]);
    valkey.extend([b'j'; 40]);
    valkey.extend([1, 0, 0x40, 10]);
    valkey.push(0xFF);
    valkey.extend(redis_persist_engine::format::crc64::checksum(&valkey).to_le_bytes());
    v.push(bad(
        "neg-valkey-slot-import",
        80,
        "unknown_opcode",
        valkey,
        "opcode 243 in a VALKEY080 file: Valkey's SLOT_IMPORT (job name, slot ranges as third-party readers describe it), never KEY_META; its layout is unverified, so it is refused by name",
        "Valkey 9.0 rdb.h RDB_OPCODE_SLOT_IMPORT as cited by third-party docs",
    ));
    let mut vk = b"VALKEY080".to_vec();
    vk.extend([0xFE, 0, 26, 1, b'k']);
    vk.push(0xFF);
    vk.extend(redis_persist_engine::format::crc64::checksum(&vk).to_le_bytes());
    v.push(bad(
        "neg-valkey-type-26",
        80,
        "unknown_type",
        vk,
        "type 26 in a VALKEY080 file: a Redis 8.6 type Valkey does not have",
        "dialects kept apart",
    ));
    v.push(bad(
        "neg-version-16",
        16,
        "unsupported_version",
        Rdb::new(16).finish(),
        "REDIS0016: no release this reader knows writes it (8.12 is reported to write 17)",
        "Redis 8.10 rdb.h RDB_VERSION 15",
    ));
    v
}
