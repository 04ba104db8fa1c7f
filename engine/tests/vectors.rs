//! The RDB vectors of other projects (`shared/vectors`, beside the workspace and never copied into
//! it): every file decodes or is refused with a named error kind, the peers' own goldens agree with
//! what we decode, and each decoded dataset is pinned by an insta snapshot so that any change in
//! output is a reviewed diff.
//!
//! Goldens come from two peers, each in its own JSON shape, converted here into our [`Dataset`]:
//! - librdb (`*_data.json` and friends): a JSON-ish dump keyed by key (one object per database
//!   unless flattened), values as strings, arrays (lists, sets) and objects (hashes, zsets,
//!   streams), with bytes outside printable ASCII escaped one by one as `\u00XX` (so lossless), and
//!   no expiries. Pairings and options come from librdb's own tests (`test/test_rdb_to_json.c`,
//!   `test/test_main.c`, `test/test_malloc.c`, `test/test_rdb_cli.c`, `test/test_rdb_to_redis.c`).
//! - HDT3213/rdb (`X.json`): an array of objects `{db, key, expiration, type, value|values|members|
//!   hash+expire|entries...}`, produced by Go's JSON encoder, which turns every byte of invalid UTF-8
//!   into U+FFFD; key expirations are RFC 3339 with milliseconds in the +08:00 zone their test
//!   pins, hash field expiries (`expire`) absolute Unix ms with 0 for none, stream delivery, seen
//!   and active times Unix ms, zset scores JSON numbers. Pairings come from
//!   `helper/converter_test.go`: each `cases/X.json` belongs to `cases/X.rdb`, which is byte for byte
//!   our `hdt3213/X.rdb` or `rdbtools/X.rdb` (checked by SHA-1 against upstream when this was written).
//!   Its `X.aof` files (`ToAOF` output, binary-safe RESP) are replayed and compared byte for byte.
//!
//! Each golden is compared with a projection of our dataset onto what the golden can express
//! (no expiries for librdb, Go's lossy UTF-8 for HDT3213, ...), key by key, reporting the path to
//! the first difference. Differences that are understood and not yet fixed are listed in
//! [`KNOWN_DIVERGENCES`] with their reason; anything else fails, and so does an entry there that no
//! longer occurs.
use redis_persist_engine::dataset::{
    first_difference, to_json_string, Consumer, Dataset, Entry, Group, HashField, PendingEntry,
    Stream, StreamEntry, StreamId, Value, ZsetMember,
};
use redis_persist_engine::format::rdb::{read_dataset, ReadOptions, Trailer};
use redis_persist_engine::format::{Error, ErrorKind};
use serde_json::{Map, Value as J};
use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

/// The peers' vectors, beside the workspace (read-only, never part of the repository); the skip
/// says what the folder holds and where such files come from.
fn vectors_root() -> Option<PathBuf> {
    redis_persist_engine::live::vectors_or_skip()
}

/// Files that hold an RDB under another name: `rdb-preamble.aof` is an RDB (with `aof-preamble`
/// set) followed by an AOF tail of RESP commands; its RDB part must decode.
const PREAMBLE_FILES: &[&str] = &["valkey-assets/rdb-preamble.aof"];

/// Every vector, as a path relative to the vectors folder with `/` separators, sorted.
fn vector_files(root: &Path) -> Vec<String> {
    let mut out = Vec::new();
    let mut dirs = vec![root.to_path_buf()];
    while let Some(dir) = dirs.pop() {
        for e in std::fs::read_dir(&dir).unwrap_or_else(|e| panic!("{}: {e}", dir.display())) {
            let p = e.expect("directory entry").path();
            if p.is_dir() {
                dirs.push(p);
                continue;
            }
            let rel = p
                .strip_prefix(root)
                .expect("under the root")
                .to_string_lossy()
                .replace('\\', "/");
            if rel.ends_with(".rdb") || PREAMBLE_FILES.contains(&rel.as_str()) {
                out.push(rel);
            }
        }
    }
    out.sort();
    out
}

fn read(root: &Path, rel: &str) -> Vec<u8> {
    std::fs::read(root.join(rel)).unwrap_or_else(|e| panic!("{rel}: {e}"))
}

fn decode(root: &Path, rel: &str) -> Result<(Dataset, Trailer), Error> {
    read_dataset(&read(root, rel), ReadOptions::default())
}

// ---------------------------------------------------------------------------------------------
// 1. Every vector decodes, or is refused as named.
// ---------------------------------------------------------------------------------------------

/// A vector the decoder must refuse, with the kind of error and why (each checked against the
/// bytes with xxd when written down).
struct Refusal {
    file: &'static str,
    kind: ErrorKind,
    /// Where decoding must stop: any of these offsets.
    offsets: &'static [u64],
    reason: &'static str,
}

const EXPECTED_REFUSALS: &[Refusal] = &[
    Refusal {
        file: "librdb/invalid_chksum_v8.rdb",
        kind: ErrorKind::ChecksumMismatch,
        offsets: &[201],
        reason: "REDIS0008 whose trailer stores CRC-64 0xb477e446e98e5402 (bytes 02 54 8e e9 46 \
                 e4 77 b4 at offset 201) while the 201 bytes before it hash to \
                 0xa609bb6465990fe1: a deliberately damaged checksum (librdb's test_checksum)",
    },
    Refusal {
        file: "librdb/future_v19.rdb",
        kind: ErrorKind::UnsupportedVersion,
        offsets: &[0],
        reason: "the header is REDIS0099: version 99, beyond any released format (librdb expects \
                 RDB_ERR_UNSUPPORTED_RDB_VERSION)",
    },
    Refusal {
        file: "valkey-assets/corrupt_ziplist.rdb",
        kind: ErrorKind::Corrupt,
        offsets: &[493],
        reason:
            "REDIS0007 where key \"key:000000000091\" (type byte 0x0d, hash-ziplist, at offset \
                 0x1d6) carries the 5-byte blob \"xxxxx\" as its ziplist: the bytes of a string \
                 record were overwritten (the previous value reads ff ff ff ff 78 and the next \
                 type byte became 0x0d). A ziplist header alone is 10 bytes; Redis's test \
                 'corrupt payload: load corrupted rdb with no CRC - #3505' expects the server to \
                 refuse the file ('Ziplist integrity check failed')",
    },
    Refusal {
        file: "librdb/redis_ent_opcode_ram_lru.rdb",
        kind: ErrorKind::UnknownType,
        offsets: &[280],
        reason: "REDIS0012 with record type byte 0x6b = 107 at offset 280 (right after RESIZEDB \
                 fb 03 00): a Redis Enterprise opcode that open-source Redis does not know (OSS \
                 types are 0-25, opcodes 0xf0-0xff)",
    },
    Refusal {
        file: "replicator/module.rdb",
        kind: ErrorKind::UnknownType,
        // The refused type byte (as for type 107 above), or the value it announces.
        offsets: &[1257, 1262],
        reason: "REDIS0008 whose key \"key\" has type byte 6 at offset 1257 (RDB_TYPE_MODULE, the \
                 Redis 4.0 release-candidate module encoding; module id 0x85e965a2dca97800 = \
                 'hellotype' encver 0): its payload is module-private bytes without opcodes, so \
                 it cannot be skipped or kept without the module, and Redis refuses it too \
                 ('Pre-release module format not supported')",
    },
];

/// Vectors named `corrupt_*` that a real server loads: they must decode, with the listed keys
/// absent because a server drops them on load.
struct LoadableCorrupt {
    file: &'static str,
    absent: &'static [&'static str],
    keys_left: usize,
    reason: &'static str,
}

const LOADABLE_CORRUPT: &[LoadableCorrupt] = &[LoadableCorrupt {
    file: "valkey-assets/corrupt_empty_keys.rdb",
    absent: &[
        "set",
        "hash",
        "list_ziplist",
        "zset",
        "zset_listpack",
        "hash_ziplist",
        "list_quicklist",
        "zset_ziplist",
        "list_quicklist_empty_ziplist",
    ],
    keys_left: 0,
    reason: "all nine keys are empty collections (RESIZEDB says 9); servers skip empty keys on \
             load (Redis's 'corrupt payload: load corrupted rdb with empty keys' test)",
}];

#[test]
fn every_vector_decodes_or_is_refused_as_named() {
    let Some(root) = vectors_root() else { return };
    let files = vector_files(&root);
    let mut failures = Vec::new();
    let mut outcomes = Vec::new();
    for r in EXPECTED_REFUSALS {
        if !files.iter().any(|f| f == r.file) {
            failures.push(format!(
                "{}: listed in EXPECTED_REFUSALS but not found",
                r.file
            ));
        }
    }
    for c in LOADABLE_CORRUPT {
        if !files.iter().any(|f| f == c.file) {
            failures.push(format!(
                "{}: listed in LOADABLE_CORRUPT but not found",
                c.file
            ));
        }
    }
    for p in PREAMBLE_FILES {
        if !files.iter().any(|f| f == p) {
            failures.push(format!("{p}: listed in PREAMBLE_FILES but not found"));
        }
    }
    for rel in &files {
        let name = rel.rsplit('/').next().unwrap_or(rel);
        let refusal = EXPECTED_REFUSALS.iter().find(|r| r.file == rel);
        let loadable = LOADABLE_CORRUPT.iter().find(|c| c.file == rel);
        if name.starts_with("corrupt_") && refusal.is_none() && loadable.is_none() {
            failures.push(format!(
                "{rel}: a corrupt_* vector must be listed in EXPECTED_REFUSALS or LOADABLE_CORRUPT"
            ));
        }
        match (decode(&root, rel), refusal) {
            (Err(e), Some(r)) if e.kind == r.kind => {
                let differences = match e.offset {
                    Some(o) if r.offsets.contains(&o) => vec![],
                    o => vec![(
                        "error offset".to_owned(),
                        format!("expected one of {:?}, found {o:?} ({e})", r.offsets),
                    )],
                };
                outcomes.push(Outcome {
                    subject: rel.clone(),
                    differences,
                });
            }
            (Err(e), Some(r)) => failures.push(format!(
                "{rel}: refused with {e}, but expected {} because {}",
                r.kind, r.reason
            )),
            (Ok(_), Some(r)) => failures.push(format!(
                "{rel}: decoded, but must be refused as {} because {}",
                r.kind, r.reason
            )),
            (Err(e), None) => failures.push(format!("{rel}: {e}")),
            (Ok((d, t)), None) => {
                if let Some(c) = loadable {
                    for k in c.absent {
                        if d.keys.iter().any(|e| e.key == k.as_bytes()) {
                            failures
                                .push(format!("{rel}: key {k:?} must be absent ({})", c.reason));
                        }
                    }
                    if d.keys.len() != c.keys_left {
                        failures.push(format!(
                            "{rel}: {} keys decoded, expected {} ({})",
                            d.keys.len(),
                            c.keys_left,
                            c.reason
                        ));
                    }
                }
                if PREAMBLE_FILES.contains(&rel.as_str()) {
                    let bytes = read(&root, rel);
                    let tail = bytes.get(t.end_offset as usize..).unwrap_or_default();
                    if !tail.starts_with(b"*") {
                        failures.push(format!(
                            "{rel}: the RDB part should end at offset {} where the AOF tail \
                             (RESP commands) starts, found {:?}",
                            t.end_offset,
                            String::from_utf8_lossy(&tail[..tail.len().min(16)])
                        ));
                    }
                }
            }
        }
    }
    settle(
        |s| s.ends_with(".rdb") || PREAMBLE_FILES.contains(&s),
        &outcomes,
        &mut failures,
    );
    assert!(
        failures.is_empty(),
        "{} of {} vectors failed:\n{}",
        failures.len(),
        files.len(),
        failures.join("\n")
    );
}

// ---------------------------------------------------------------------------------------------
// 2. Golden comparisons.
// ---------------------------------------------------------------------------------------------

/// A difference between a peer's expectation and our decoder that is understood and not fixed
/// yet. `subject` is the golden's or the vector's path under the vectors folder, `part` the label
/// the comparison prints (`db 0 "k"`, `functions`, `aux`, or `error offset` for a refusal),
/// `difference` a fragment of the reported difference.
struct KnownDivergence {
    subject: &'static str,
    part: &'static str,
    difference: &'static str,
    reason: &'static str,
}

const KNOWN_DIVERGENCES: &[KnownDivergence] = &[
    KnownDivergence {
        subject: "librdb/plain_zset_v6_data.json",
        part: "db 0 \"myzset\"",
        difference: "score: expected 0, found -0",
        reason: "librdb's JSON prints a -0 score as \"0\"; the file holds the score text \"-0\" for members a3 and a4, which we keep bit for bit",
    },
    KnownDivergence {
        subject: "librdb/zset_zl_v6_data.json",
        part: "db 0 \"myzset\"",
        difference: "score: expected 0, found -0",
        reason: "librdb's JSON prints a -0 score as \"0\"; the file holds the ziplist entry \"-0\" for members a3 and a4, which we keep bit for bit",
    },
    KnownDivergence {
        subject: "librdb/plain_zset_2_v11_data.json",
        part: "db 0 \"myzset\"",
        difference: "score: expected 0, found -0",
        reason: "librdb's JSON prints a -0 score as \"0\"; the file holds the binary double -0 for members a3 and a4, which we keep bit for bit",
    },
];

/// One comparison's outcome, with its differences as (part, description).
struct Outcome {
    subject: String,
    differences: Vec<(String, String)>,
}

/// Turns outcomes into failures, letting known divergences through, and reports the entries of
/// [`KNOWN_DIVERGENCES`] whose subject `owns` accepts that did not occur. Returns how many
/// outcomes had no difference and how many had only known ones.
fn settle(
    owns: impl Fn(&str) -> bool,
    outcomes: &[Outcome],
    failures: &mut Vec<String>,
) -> (usize, usize) {
    let mut seen = BTreeSet::new();
    let (mut exact, mut known) = (0, 0);
    for o in outcomes {
        if o.differences.is_empty() {
            exact += 1;
        }
        let mut all_known = !o.differences.is_empty();
        for (key, diff) in &o.differences {
            match KNOWN_DIVERGENCES.iter().position(|k| {
                k.subject == o.subject && k.part == key && diff.contains(k.difference)
            }) {
                Some(i) => {
                    seen.insert(i);
                }
                None => {
                    all_known = false;
                    failures.push(format!("{}: {key}: {diff}", o.subject));
                }
            }
        }
        if all_known {
            known += 1;
        }
    }
    for (i, k) in KNOWN_DIVERGENCES.iter().enumerate() {
        if owns(k.subject) && !seen.contains(&i) {
            failures.push(format!(
                "{}: {}: the known divergence {:?} no longer occurs; remove it from \
                 KNOWN_DIVERGENCES ({})",
                k.subject, k.part, k.difference, k.reason
            ));
        }
    }
    (exact, known)
}

fn key_label(db: u64, key: &[u8]) -> String {
    format!(
        "db {db} {}",
        redis_persist_engine::dataset::to_json(&single_key_dataset(db, key))["keys"][0]["key"]
    )
}

fn single_key_dataset(db: u64, key: &[u8]) -> Dataset {
    Dataset {
        keys: vec![Entry {
            db,
            key: key.to_vec(),
            expire_ms: None,
            idle_s: None,
            freq: None,
            value: Value::String(Vec::new()),
            attrs: Default::default(),
        }],
        ..Dataset::default()
    }
}

fn one(e: &Entry) -> Dataset {
    Dataset {
        keys: vec![e.clone()],
        ..Dataset::default()
    }
}

/// Key-by-key differences between a golden and our projected dataset, each with the path to the
/// first difference and, when small enough to read, a side-by-side diff of both entries.
fn compare(golden: &Dataset, ours: &Dataset) -> Vec<(String, String)> {
    let mut out = Vec::new();
    if golden.functions != ours.functions {
        let f = |d: &Dataset| Dataset {
            functions: d.functions.clone(),
            ..Dataset::default()
        };
        let diff = first_difference(&f(golden), &f(ours)).unwrap_or_default();
        out.push(("functions".to_owned(), diff));
    }
    // (db, key) -> (golden entry, our entry)
    type Pair<'a> = (Option<&'a Entry>, Option<&'a Entry>);
    let mut pairs: BTreeMap<(u64, &[u8]), Pair> = BTreeMap::new();
    for e in &golden.keys {
        pairs.entry((e.db, &e.key)).or_default().0 = Some(e);
    }
    for e in &ours.keys {
        pairs.entry((e.db, &e.key)).or_default().1 = Some(e);
    }
    for ((db, key), pair) in pairs {
        let label = key_label(db, key);
        match pair {
            (Some(g), Some(o)) if g != o => {
                let (g, o) = (one(g), one(o));
                let mut diff = first_difference(&g, &o).unwrap_or_else(|| "differs".into());
                let (gj, oj) = (to_json_string(&g), to_json_string(&o));
                if gj.len() + oj.len() < 6000 {
                    diff.push_str(&format!(
                        "\n{}",
                        pretty_assertions::StrComparison::new(&gj, &oj)
                    ));
                }
                out.push((label, diff));
            }
            (Some(_), None) => out.push((label, "in the golden, missing from ours".into())),
            (None, Some(_)) => out.push((label, "in ours, not in the golden".into())),
            _ => {}
        }
    }
    out
}

fn text(path: &Path) -> String {
    std::fs::read_to_string(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

fn str_of<'a>(at: &str, v: &'a J) -> Result<&'a str, String> {
    v.as_str()
        .ok_or_else(|| format!("{at}: expected a string, found {v}"))
}

fn obj_of<'a>(at: &str, v: &'a J) -> Result<&'a Map<String, J>, String> {
    v.as_object()
        .ok_or_else(|| format!("{at}: expected an object, found {v}"))
}

fn arr_of<'a>(at: &str, v: &'a J) -> Result<&'a Vec<J>, String> {
    v.as_array()
        .ok_or_else(|| format!("{at}: expected an array, found {v}"))
}

fn u64_of(at: &str, v: &J) -> Result<u64, String> {
    v.as_u64()
        .ok_or_else(|| format!("{at}: expected an unsigned integer, found {v}"))
}

fn field<'a>(at: &str, o: &'a Map<String, J>, k: &str) -> Result<&'a J, String> {
    o.get(k).ok_or_else(|| format!("{at}: missing {k:?}"))
}

fn id_of(at: &str, v: &J) -> Result<StreamId, String> {
    str_of(at, v)?.parse().map_err(|e| format!("{at}: {e}"))
}

// ---------------------------------------------------------------------------------------------
// 2a. librdb.
// ---------------------------------------------------------------------------------------------

/// How librdb produced a golden (its `RdbxToJsonConf` and test harness).
#[derive(Clone, Copy, PartialEq)]
enum Librdb {
    /// `RDB_LEVEL_DATA`, flattened: one object for all databases, so no database numbers.
    Data,
    /// `RDB_LEVEL_DATA`, not flattened: an array with one object per database, in file order.
    DataPerDb,
    /// `RDB_LEVEL_DATA` with `includeStreamMeta`: streams with metadata, groups and consumers.
    DataStreamMeta,
    /// `RDB_LEVEL_DATA` for lists only (`test_mixed_levels_registration`: strings went to a RAW
    /// handler), so only list keys appear.
    ListsOnly,
    /// `test_rdb_to_redis`: the file was loaded into a live Redis, which saved it again; the golden
    /// is that save (so keys already expired at load time are gone).
    ServerRoundTrip,
    /// `RDB_LEVEL_RAW` of a module key: the type byte, the 64-bit module id as stored and the
    /// opcode-tagged payload through its EOF opcode.
    ModuleRaw,
}

struct LibrdbGolden {
    json: &'static str,
    rdb: &'static str,
    how: Librdb,
    /// `includeAuxField`: the golden lists the AUX fields, so ours must match them.
    aux: bool,
}

const fn lg(json: &'static str, rdb: &'static str, how: Librdb, aux: bool) -> LibrdbGolden {
    LibrdbGolden {
        json,
        rdb,
        how,
        aux,
    }
}

/// librdb goldens, paired as librdb's tests pair them.
#[rustfmt::skip]
const LIBRDB_GOLDENS: &[LibrdbGolden] = &[
    // test_rdb_to_json.c, DEF_CONF(RDB_LEVEL_DATA): flattened, aux included.
    lg("ziplist_data.json", "ziplist_v3.rdb", Librdb::Data, true),
    lg("plain_list_v6_data.json", "plain_list_v6.rdb", Librdb::Data, true),
    lg("hash_data.json", "hash_v3.rdb", Librdb::Data, true),
    lg("hash_ex_v12_data.json", "hash_with_expire_v12.rdb", Librdb::Data, true),
    lg("hash_zl_v6_data.json", "hash_zl_v6.rdb", Librdb::Data, true),
    lg("hash_lp_v11_data.json", "hash_lp_v11.rdb", Librdb::Data, true),
    lg("hash_lp_ex_v12_data.json", "hash_lp_with_hexpire_v12.rdb", Librdb::Data, true),
    lg("hash_zm_v2_data.json", "hash_zm_v2.rdb", Librdb::Data, true),
    lg("plain_set_v6_data.json", "plain_set_v6.rdb", Librdb::Data, true),
    lg("set_is_v11_data.json", "set_is_v11.rdb", Librdb::Data, true),
    lg("set_lp_v11_data.json", "set_lp_v11.rdb", Librdb::Data, true),
    lg("plain_zset_v6_data.json", "plain_zset_v6.rdb", Librdb::Data, true),
    lg("plain_zset_2_v11_data.json", "plain_zset_2_v11.rdb", Librdb::Data, true),
    lg("zset_lp_v11_data.json", "zset_lp_v11.rdb", Librdb::Data, true),
    lg("zset_zl_v6_data.json", "zset_zl_v6.rdb", Librdb::Data, true),
    lg("quicklist_data.json", "quicklist.rdb", Librdb::Data, true),
    lg("single_list_data.json", "quicklist2_v11.rdb", Librdb::Data, true),
    lg("multiple_lists_strings_data.json", "multiple_lists_strings.rdb", Librdb::Data, true),
    lg("multiple_dbs_data.json", "multiple_dbs.rdb", Librdb::DataPerDb, false),
    lg("function2.json", "function2.rdb", Librdb::Data, true),
    lg("module_data.json", "module.rdb", Librdb::Data, false),
    lg("module_raw.json", "module.rdb", Librdb::ModuleRaw, false),
    lg("module_aux_data.json", "module_aux.rdb", Librdb::Data, false),
    lg("string_int_encoded.json", "string_int_encoded.rdb", Librdb::Data, false),
    lg("stream_data.json", "stream_v11.rdb", Librdb::Data, false),
    lg("stream_data_with_meta.json", "stream_v11.rdb", Librdb::DataStreamMeta, false),
    // includeDbInfo: also `__dbsize__` and `__slotinfo__`, RESIZEDB and SLOT_INFO hints that the
    // dataset does not carry; they are not compared.
    lg("cluster_slot_info.json", "cluster_slot_info.rdb", Librdb::Data, true),
    // test_malloc.c.
    lg("single_key_data.json", "single_key.rdb", Librdb::Data, true),
    // test_rdb_cli.c: `rdb-cli multiple_lists_strings.rdb json -f` (no aux).
    lg("multiple_lists_strings_no_aux.json", "multiple_lists_strings.rdb", Librdb::Data, false),
    // test_main.c, test_mixed_levels_registration: the DATA-level handler saw only the lists.
    lg("multiple_lists_strings_subset_list.json", "multiple_lists_strings.rdb", Librdb::ListsOnly, false),
    // test_rdb_to_redis.c: loaded into Redis and saved again (aux not included, functions are).
    lg("set_expired.json", "set_expired_v11.rdb", Librdb::ServerRoundTrip, false),
    lg("set_not_expired.json", "set_not_expired_v11.rdb", Librdb::ServerRoundTrip, false),
    lg("mem_policy_lfu.json", "mem_policy_lfu.rdb", Librdb::ServerRoundTrip, false),
    lg("mem_policy_lru.json", "mem_policy_lru.rdb", Librdb::ServerRoundTrip, false),
    // Referenced by no librdb test, but byte for byte hash_data.json (and plain_hash_struct.json is
    // byte for byte hash_struct.json): both were made from hash_v3.rdb.
    lg("plain_hash_data.json", "hash_v3.rdb", Librdb::Data, true),
];

/// librdb JSON files that are not compared, and why.
const LIBRDB_SKIPPED: &[(&str, &str)] = &[
    (
        "multiple_lists_strings_2filters.json",
        "referenced by no librdb test: which two filters made it is unknown (its content equals \
         multiple_lists_strings_subset_list.json, which is compared)",
    ),
    (
        "multiple_lists_strings_subset_str.json",
        "RAW level: the strings' RDB encodings, not their values",
    ),
];

/// `*_raw.json` and `*_struct.json` (other than those in [`LIBRDB_GOLDENS`]) are RAW and STRUCT
/// levels: the encodings (ziplist blobs, listpack nodes), which the dataset does not keep.
fn librdb_is_encoding_level(name: &str) -> bool {
    name.ends_with("_raw.json") || name.ends_with("_struct.json")
}

/// librdb's output is not quite JSON: the harness (`test/json_signature_generator.py`) strips
/// trailing `,\r\n`, then wraps `[...]` as `{"dbs": [...]}` and bare `"k": v, ...` as `{...}`.
fn librdb_parse(text: &str) -> Result<Map<String, J>, String> {
    let t = text.trim_end_matches([',', '\r', '\n']);
    let wrapped = if t.starts_with('[') {
        format!("{{\"dbs\":{t}}}")
    } else if t.starts_with('{') {
        t.to_owned()
    } else {
        format!("{{{t}}}")
    };
    match serde_json::from_str(&wrapped) {
        Ok(J::Object(o)) => Ok(o),
        Ok(_) => Err("not an object".into()),
        Err(e) => Err(format!("invalid JSON after librdb's adaptations: {e}")),
    }
}

/// librdb escapes every byte outside printable ASCII as `\u00XX`, so each char is one byte.
fn latin1(at: &str, s: &str) -> Result<Vec<u8>, String> {
    s.chars()
        .map(|c| {
            u8::try_from(u32::from(c))
                .map_err(|_| format!("{at}: {c:?} is not a \\u00XX byte escape"))
        })
        .collect()
}

fn librdb_bytes(at: &str, v: &J) -> Result<Vec<u8>, String> {
    latin1(at, str_of(at, v)?)
}

/// librdb's description of a module value at DATA level (`toJsonModule`): the serialized size
/// counts the 9-byte module id and the opcode-tagged payload.
fn librdb_module_text(name: &str, payload_len: usize) -> String {
    format!(
        "<Content of Module '{name}'. Occupies a serialized size of {} bytes>",
        9 + payload_len
    )
}

/// A golden value, read with our decoded value as the hint where the shape is ambiguous (lists
/// and sets are both arrays; hashes, zsets and streams are all objects): a wrong hint still shows
/// up as a difference.
fn librdb_value(at: &str, v: &J, hint: Option<&Value>) -> Result<Value, String> {
    match v {
        J::String(s) => Ok(Value::String(latin1(at, s)?)),
        J::Array(items) => {
            let items = items
                .iter()
                .enumerate()
                .map(|(i, x)| librdb_bytes(&format!("{at}[{i}]"), x))
                .collect::<Result<Vec<_>, _>>()?;
            Ok(match hint {
                Some(Value::Set(_)) => Value::Set(items),
                _ => Value::List(items),
            })
        }
        J::Object(o) => match hint {
            Some(Value::Zset(_)) => o
                .iter()
                .map(|(m, s)| {
                    let at = format!("{at}.{m}");
                    let text = str_of(&at, s)?;
                    let score = text
                        .parse::<f64>()
                        .map_err(|_| format!("{at}: {text:?} is not a score"))?;
                    Ok(ZsetMember {
                        member: latin1(&at, m)?,
                        score,
                    })
                })
                .collect::<Result<_, String>>()
                .map(Value::Zset),
            Some(Value::Stream(_)) => librdb_stream(at, o).map(|s| Value::Stream(Box::new(s))),
            _ => o
                .iter()
                .map(|(f, v)| {
                    let at = format!("{at}.{f}");
                    Ok(HashField {
                        field: latin1(&at, f)?,
                        value: librdb_bytes(&at, v)?,
                        expire_ms: None,
                    })
                })
                .collect::<Result<_, String>>()
                .map(Value::Hash),
        },
        other => Err(format!("{at}: unexpected {other}")),
    }
}

/// A librdb stream: `entries` always, metadata and groups with `includeStreamMeta`.
fn librdb_stream(at: &str, o: &Map<String, J>) -> Result<Stream, String> {
    let mut s = Stream::default();
    for (i, e) in arr_of(at, field(at, o, "entries")?)?.iter().enumerate() {
        let at = format!("{at}.entries[{i}]");
        let e = obj_of(&at, e)?;
        let fields = obj_of(&at, field(&at, e, "items")?)?
            .iter()
            .map(|(f, v)| Ok((latin1(&at, f)?, librdb_bytes(&at, v)?)))
            .collect::<Result<_, String>>()?;
        s.entries.push(StreamEntry {
            id: id_of(&at, field(&at, e, "id")?)?,
            fields,
        });
    }
    if o.contains_key("length") {
        s.length = u64_of(at, field(at, o, "length")?)?;
        s.entries_added = Some(u64_of(at, field(at, o, "entriesAdded")?)?);
        s.first_id = Some(id_of(at, field(at, o, "firstID")?)?);
        s.last_id = id_of(at, field(at, o, "lastID")?)?;
        s.max_deleted_id = Some(id_of(at, field(at, o, "maxDelEntryID")?)?);
        let groups = o.get("groups").map(|g| arr_of(at, g)).transpose()?;
        for (i, g) in groups.into_iter().flatten().enumerate() {
            let at = format!("{at}.groups[{i}]");
            let g = obj_of(&at, g)?;
            let mut group = Group {
                name: librdb_bytes(&at, field(&at, g, "name")?)?,
                last_delivered_id: id_of(&at, field(&at, g, "lastid")?)?,
                entries_read: Some(u64_of(&at, field(&at, g, "entriesRead")?)?),
                pending: Vec::new(),
                consumers: Vec::new(),
                nacked: None,
            };
            for p in g
                .get("pending")
                .map(|p| arr_of(&at, p))
                .transpose()?
                .into_iter()
                .flatten()
            {
                let p = obj_of(&at, p)?;
                group.pending.push(PendingEntry {
                    id: id_of(&at, field(&at, p, "id")?)?,
                    // librdb does not name the owner in the group's PEL.
                    consumer: Vec::new(),
                    delivery_time_ms: u64_of(&at, field(&at, p, "sent")?)? as i64,
                    delivery_count: u64_of(&at, field(&at, p, "count")?)?,
                });
            }
            let consumers = g.get("consumers").map(|c| arr_of(&at, c)).transpose()?;
            for c in consumers.into_iter().flatten() {
                let c = obj_of(&at, c)?;
                let pending = c.get("pending").map(|p| arr_of(&at, p)).transpose()?;
                group.consumers.push(Consumer {
                    name: librdb_bytes(&at, field(&at, c, "name")?)?,
                    seen_time_ms: u64_of(&at, field(&at, c, "seenTime")?)? as i64,
                    active_time_ms: Some(u64_of(&at, field(&at, c, "activeTime")?)? as i64),
                    pending: pending
                        .into_iter()
                        .flatten()
                        .map(|p| id_of(&at, field(&at, obj_of(&at, p)?, "id")?))
                        .collect::<Result<_, _>>()?,
                });
            }
            s.groups.push(group);
        }
    }
    Ok(s)
}

/// Our dataset as librdb would show it.
fn librdb_project(ours: &Dataset, g: &LibrdbGolden, now_ms: i64) -> Dataset {
    let keys = ours
        .keys
        .iter()
        .filter(|e| match g.how {
            Librdb::ListsOnly => matches!(e.value, Value::List(_)),
            // Redis drops a key whose expiry has passed when it loads it.
            Librdb::ServerRoundTrip => e.expire_ms.is_none_or(|t| t > now_ms),
            _ => true,
        })
        .map(|e| {
            let value = match &e.value {
                Value::Hash(h) => Value::Hash(
                    h.iter()
                        .map(|f| HashField {
                            expire_ms: None,
                            ..f.clone()
                        })
                        .collect(),
                ),
                Value::Module(m) if g.how == Librdb::ModuleRaw => {
                    let mut raw = vec![7, 0x81];
                    raw.extend_from_slice(&m.id.to_be_bytes());
                    raw.extend_from_slice(&m.payload);
                    Value::String(raw)
                }
                Value::Module(m) => {
                    Value::String(librdb_module_text(&m.name, m.payload.len()).into_bytes())
                }
                Value::Stream(s) if g.how == Librdb::DataStreamMeta => {
                    let mut s = (**s).clone();
                    for g in &mut s.groups {
                        for p in &mut g.pending {
                            p.consumer.clear();
                        }
                    }
                    Value::Stream(Box::new(s))
                }
                Value::Stream(s) => Value::Stream(Box::new(Stream {
                    entries: s.entries.clone(),
                    ..Stream::default()
                })),
                v => v.clone(),
            };
            Entry {
                db: if g.how == Librdb::DataPerDb { e.db } else { 0 },
                key: e.key.clone(),
                expire_ms: None,
                idle_s: None,
                freq: None,
                value,
                attrs: Default::default(),
            }
        })
        .collect();
    let mut d = Dataset {
        source: None,
        functions: ours.functions.clone(),
        keys,
    };
    d.canonicalize();
    d
}

/// The golden as a dataset (with our projection as the hint for ambiguous shapes), and its aux
/// fields when it lists them.
type Aux = Vec<(Vec<u8>, Vec<u8>)>;

fn librdb_golden(
    doc: &Map<String, J>,
    hint: &Dataset,
    ours_dbs: &[u64],
) -> Result<(Dataset, Option<Aux>), String> {
    let mut d = Dataset::default();
    let mut aux = None;
    let mut add_keys = |d: &mut Dataset, db: u64, o: &Map<String, J>| -> Result<(), String> {
        for (k, v) in o {
            match k.as_str() {
                "__aux__" => {
                    let a = obj_of("__aux__", v)?
                        .iter()
                        .map(|(k, v)| Ok((latin1("__aux__", k)?, librdb_bytes("__aux__", v)?)))
                        .collect::<Result<Vec<_>, String>>()?;
                    aux = Some(a);
                }
                "__func__" => {
                    for (name, f) in obj_of("__func__", v)? {
                        d.functions.push(librdb_bytes(name, f)?);
                    }
                }
                // RESIZEDB and SLOT_INFO hints: not part of the dataset.
                "__dbsize__" | "__slotinfo__" => {}
                _ => {
                    let key = latin1(k, k)?;
                    let h = hint.keys.iter().find(|e| e.db == db && e.key == key);
                    d.keys.push(Entry {
                        db,
                        key,
                        expire_ms: None,
                        idle_s: None,
                        freq: None,
                        value: librdb_value(k, v, h.map(|e| &e.value))?,
                        attrs: Default::default(),
                    });
                }
            }
        }
        Ok(())
    };
    match doc.get("dbs") {
        Some(dbs) => {
            // One object per SELECTDB in file order; the numbers are not printed, so the i-th
            // object is taken as our i-th database.
            let dbs = arr_of("dbs", dbs)?;
            if dbs.len() != ours_dbs.len() {
                return Err(format!(
                    "the golden has {} databases, ours {}",
                    dbs.len(),
                    ours_dbs.len()
                ));
            }
            for (i, o) in dbs.iter().enumerate() {
                add_keys(&mut d, ours_dbs[i], obj_of("dbs", o)?)?;
            }
        }
        None => add_keys(&mut d, 0, doc)?,
    }
    d.canonicalize();
    Ok((d, aux))
}

#[test]
fn librdb_goldens_match() {
    let Some(root) = vectors_root() else { return };
    let dir = root.join("librdb");
    let now_ms = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .expect("after 1970")
        .as_millis() as i64;
    let mut failures = Vec::new();
    let mut outcomes = Vec::new();
    // Every JSON file in the folder is either compared or skipped for a stated reason.
    for e in std::fs::read_dir(&dir).expect("librdb folder") {
        let name = e.expect("entry").file_name().to_string_lossy().into_owned();
        if name.ends_with(".json")
            && !LIBRDB_GOLDENS.iter().any(|g| g.json == name)
            && !LIBRDB_SKIPPED.iter().any(|(s, _)| *s == name)
            && !librdb_is_encoding_level(&name)
        {
            failures.push(format!(
                "librdb/{name}: neither compared nor skipped with a reason"
            ));
        }
    }
    for g in LIBRDB_GOLDENS {
        let golden = format!("librdb/{}", g.json);
        let ours = match decode(&root, &format!("librdb/{}", g.rdb)) {
            Ok((d, _)) => d,
            Err(e) => {
                failures.push(format!("{golden}: librdb/{} does not decode: {e}", g.rdb));
                continue;
            }
        };
        let doc = match librdb_parse(&text(&dir.join(g.json))) {
            Ok(d) => d,
            Err(e) => {
                failures.push(format!("{golden}: {e}"));
                continue;
            }
        };
        let projected = librdb_project(&ours, g, now_ms);
        let dbs: Vec<u64> = ours
            .keys
            .iter()
            .map(|e| e.db)
            .collect::<BTreeSet<_>>()
            .into_iter()
            .collect();
        let (mut expected, aux) = match librdb_golden(&doc, &projected, &dbs) {
            Ok(x) => x,
            Err(e) => {
                failures.push(format!("{golden}: {e}"));
                continue;
            }
        };
        let mut differences = Vec::new();
        if !doc.contains_key("__func__") {
            // Functions are listed only with includeFunc (function2.json, and the round trips
            // where the files hold none).
            expected.functions = projected.functions.clone();
        }
        let our_aux = ours
            .source
            .as_ref()
            .map(|s| s.aux.clone())
            .unwrap_or_default();
        match aux {
            Some(a) if a != our_aux => differences.push((
                "aux".to_owned(),
                format!(
                    "{}",
                    pretty_assertions::Comparison::new(&lossy_pairs(&a), &lossy_pairs(&our_aux))
                ),
            )),
            None if g.aux && !our_aux.is_empty() => differences.push((
                "aux".to_owned(),
                "the golden lists no aux fields (includeAuxField was on), ours has some".into(),
            )),
            _ => {}
        }
        differences.extend(compare(&expected, &projected));
        outcomes.push(Outcome {
            subject: golden,
            differences,
        });
    }
    let owns = |s: &str| s.starts_with("librdb/") && s.ends_with(".json");
    let (exact, known) = settle(owns, &outcomes, &mut failures);
    println!(
        "librdb: {} goldens compared, {exact} match exactly, {known} differ only in known ways",
        outcomes.len()
    );
    assert!(
        failures.is_empty(),
        "{} librdb golden differences:\n{}",
        failures.len(),
        failures.join("\n\n")
    );
}

fn lossy_pairs(p: &[(Vec<u8>, Vec<u8>)]) -> Vec<(String, String)> {
    p.iter()
        .map(|(k, v)| {
            (
                String::from_utf8_lossy(k).into_owned(),
                String::from_utf8_lossy(v).into_owned(),
            )
        })
        .collect()
}

// ---------------------------------------------------------------------------------------------
// 2b. HDT3213/rdb.
// ---------------------------------------------------------------------------------------------

/// HDT3213 goldens made with options other than the defaults of `TestToJson`: golden, RDB, and
/// the key prefix the golden was filtered on.
const HDT_SPECIAL: &[(&str, &str, &str)] = &[
    // TestToJsonWithRegex: `ToJsons("cases/memory.rdb", ..., WithRegexOption("^l.*"))`.
    ("memory_regex", "hdt3213/memory.rdb", "l"),
];

/// `TestToJsonWithGlobalMeta`: these goldens also list AUX fields and function libraries.
const HDT_GLOBAL_META: &[&str] = &["function"];

/// Go's `encoding/json` (and sonic's std config) writes each byte of invalid UTF-8 as U+FFFD.
fn go_lossy(b: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(b.len());
    for chunk in b.utf8_chunks() {
        out.extend_from_slice(chunk.valid().as_bytes());
        for _ in chunk.invalid() {
            out.extend_from_slice("\u{FFFD}".as_bytes());
        }
    }
    out
}

/// Days since 1970-01-01 of a proleptic Gregorian date (Howard Hinnant's `days_from_civil`).
fn days_from_civil(y: i64, m: i64, d: i64) -> i64 {
    let y = if m <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let doy = (153 * (m + if m > 2 { -3 } else { 9 }) + 2) / 5 + d - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146097 + doe - 719468
}

/// Unix ms of an RFC 3339 time as Go writes it (`2022-12-25T18:11:12.573+08:00`).
fn rfc3339_ms(s: &str) -> Option<i64> {
    let b = s.as_bytes();
    let num = |r: std::ops::Range<usize>| s.get(r)?.parse::<i64>().ok();
    if b.len() < 20 || b[4] != b'-' || b[7] != b'-' || b[10] != b'T' || b[13] != b':' {
        return None;
    }
    let (y, mo, d) = (num(0..4)?, num(5..7)?, num(8..10)?);
    let (h, mi, sec) = (num(11..13)?, num(14..16)?, num(17..19)?);
    let mut rest = &s[19..];
    let mut ms = 0;
    if let Some(frac) = rest.strip_prefix('.') {
        let n = frac.bytes().take_while(u8::is_ascii_digit).count();
        let digits = &frac[..n];
        let padded = format!("{digits:0<3}");
        ms = padded[..3].parse::<i64>().ok()?;
        if padded[3..].bytes().any(|c| c != b'0') {
            return None; // finer than a millisecond: not an expiry
        }
        rest = &frac[n..];
    }
    let offset_s = match rest {
        "Z" => 0,
        _ => {
            let sign = match rest.as_bytes().first()? {
                b'+' => 1,
                b'-' => -1,
                _ => return None,
            };
            let (oh, om) = (
                rest.get(1..3)?.parse::<i64>().ok()?,
                rest.get(4..6)?.parse::<i64>().ok()?,
            );
            sign * (oh * 3600 + om * 60)
        }
    };
    let secs = days_from_civil(y, mo, d) * 86400 + h * 3600 + mi * 60 + sec - offset_s;
    Some(secs * 1000 + ms)
}

fn hdt_bytes(at: &str, v: &J) -> Result<Vec<u8>, String> {
    Ok(str_of(at, v)?.as_bytes().to_vec())
}

fn hdt_list(at: &str, o: &Map<String, J>, k: &str) -> Result<Vec<Vec<u8>>, String> {
    match o.get(k) {
        None | Some(J::Null) => Ok(Vec::new()),
        Some(v) => arr_of(at, v)?
            .iter()
            .enumerate()
            .map(|(i, x)| hdt_bytes(&format!("{at}.{k}[{i}]"), x))
            .collect(),
    }
}

fn hdt_opt_id(at: &str, o: &Map<String, J>, k: &str) -> Result<Option<StreamId>, String> {
    o.get(k).map(|v| id_of(at, v)).transpose()
}

/// An HDT3213 stream: listpack nodes whose messages carry a `deleted` flag; IDs as text; the
/// fields a Go map (so sorted by name, one value per name); zero counters omitted.
fn hdt_stream(at: &str, o: &Map<String, J>) -> Result<Stream, String> {
    let mut s = Stream {
        length: u64_of(at, field(at, o, "len")?)?,
        last_id: id_of(at, field(at, o, "lastId")?)?,
        first_id: hdt_opt_id(at, o, "firstId")?,
        max_deleted_id: hdt_opt_id(at, o, "maxDeletedId")?,
        entries_added: o
            .get("addedEntriesCount")
            .map(|v| u64_of(at, v))
            .transpose()?,
        ..Stream::default()
    };
    let nodes = o.get("entries").map(|e| arr_of(at, e)).transpose()?;
    for (i, node) in nodes.into_iter().flatten().enumerate() {
        let at = format!("{at}.entries[{i}]");
        let msgs = field(&at, obj_of(&at, node)?, "msgs")?;
        for (j, m) in arr_of(&at, msgs)?.iter().enumerate() {
            let at = format!("{at}.msgs[{j}]");
            let m = obj_of(&at, m)?;
            if field(&at, m, "deleted")?.as_bool() == Some(true) {
                continue;
            }
            let fields = obj_of(&at, field(&at, m, "fields")?)?
                .iter()
                .map(|(f, v)| Ok((f.as_bytes().to_vec(), hdt_bytes(&at, v)?)))
                .collect::<Result<_, String>>()?;
            s.entries.push(StreamEntry {
                id: id_of(&at, field(&at, m, "id")?)?,
                fields,
            });
        }
    }
    let groups = o.get("groups").map(|g| arr_of(at, g)).transpose()?;
    for (i, g) in groups.into_iter().flatten().enumerate() {
        let at = format!("{at}.groups[{i}]");
        let g = obj_of(&at, g)?;
        let mut group = Group {
            name: hdt_bytes(&at, field(&at, g, "name")?)?,
            last_delivered_id: id_of(&at, field(&at, g, "lastId")?)?,
            entries_read: g.get("entriesRead").map(|v| u64_of(&at, v)).transpose()?,
            pending: Vec::new(),
            consumers: Vec::new(),
            nacked: None,
        };
        for p in g
            .get("pending")
            .map(|p| arr_of(&at, p))
            .transpose()?
            .into_iter()
            .flatten()
        {
            let p = obj_of(&at, p)?;
            group.pending.push(PendingEntry {
                id: id_of(&at, field(&at, p, "id")?)?,
                // HDT3213 does not name the owner in the group's PEL.
                consumer: Vec::new(),
                delivery_time_ms: u64_of(&at, field(&at, p, "deliveryTime")?)? as i64,
                delivery_count: u64_of(&at, field(&at, p, "deliveryCount")?)?,
            });
        }
        let consumers = g.get("consumers").map(|c| arr_of(&at, c)).transpose()?;
        for c in consumers.into_iter().flatten() {
            let c = obj_of(&at, c)?;
            let pending = c.get("pending").map(|p| arr_of(&at, p)).transpose()?;
            group.consumers.push(Consumer {
                name: hdt_bytes(&at, field(&at, c, "name")?)?,
                seen_time_ms: u64_of(&at, field(&at, c, "seenTime")?)? as i64,
                // A uint64 in Go: Redis's -1 ("never active") would read back as u64::MAX.
                active_time_ms: Some(u64_of(&at, field(&at, c, "activeTime")?)? as i64),
                pending: pending
                    .into_iter()
                    .flatten()
                    .map(|p| id_of(&at, p))
                    .collect::<Result<_, _>>()?,
            });
        }
        s.groups.push(group);
    }
    Ok(s)
}

fn hdt_golden(doc: &J) -> Result<(Dataset, Aux), String> {
    let mut d = Dataset::default();
    let mut aux = Vec::new();
    for (i, o) in arr_of("", doc)?.iter().enumerate() {
        let at = format!("[{i}]");
        let o = obj_of(&at, o)?;
        let ty = str_of(&at, field(&at, o, "type")?)?;
        let key = hdt_bytes(&at, field(&at, o, "key")?)?;
        let value = match ty {
            "aux" => {
                aux.push((key, hdt_bytes(&at, field(&at, o, "value")?)?));
                continue;
            }
            "functions" => {
                d.functions
                    .push(hdt_bytes(&at, field(&at, o, "functionsLua")?)?);
                continue;
            }
            "dbsize" => continue,
            "string" => Value::String(hdt_bytes(&at, field(&at, o, "value")?)?),
            "list" => Value::List(hdt_list(&at, o, "values")?),
            "set" => Value::Set(hdt_list(&at, o, "members")?),
            "hash" => {
                let expire = o.get("expire").map(|e| obj_of(&at, e)).transpose()?;
                Value::Hash(
                    obj_of(&at, field(&at, o, "hash")?)?
                        .iter()
                        .map(|(f, v)| {
                            let t = match expire.and_then(|e| e.get(f)) {
                                None => None,
                                Some(t) => Some(t.as_i64().ok_or(format!("{at}: expire {t}"))?)
                                    .filter(|&t| t != 0),
                            };
                            Ok(HashField {
                                field: f.as_bytes().to_vec(),
                                value: hdt_bytes(&at, v)?,
                                expire_ms: t,
                            })
                        })
                        .collect::<Result<_, String>>()?,
                )
            }
            "zset" => Value::Zset(
                arr_of(&at, field(&at, o, "entries")?)?
                    .iter()
                    .map(|m| {
                        let m = obj_of(&at, m)?;
                        let score = field(&at, m, "score")?;
                        Ok(ZsetMember {
                            member: hdt_bytes(&at, field(&at, m, "member")?)?,
                            score: score.as_f64().ok_or(format!("{at}: score {score}"))?,
                        })
                    })
                    .collect::<Result<_, String>>()?,
            ),
            "stream" => Value::Stream(Box::new(hdt_stream(&at, o)?)),
            other => return Err(format!("{at}: type {other:?} is not compared")),
        };
        let expire_ms = match o.get("expiration") {
            None => None,
            Some(t) => {
                let s = str_of(&at, t)?;
                Some(rfc3339_ms(s).ok_or(format!("{at}: expiration {s:?} is not RFC 3339"))?)
            }
        };
        let small = |k: &str| -> Result<Option<u64>, String> {
            o.get(k).map(|v| u64_of(&at, v)).transpose()
        };
        d.keys.push(Entry {
            db: u64_of(&at, field(&at, o, "db")?)?,
            key,
            expire_ms,
            idle_s: small("lru")?,
            freq: small("lfu")?.map(|f| f as u8),
            value,
            attrs: Default::default(),
        });
    }
    d.canonicalize();
    Ok((d, aux))
}

/// Our dataset as HDT3213 would show it: Go's lossy UTF-8 everywhere, stream fields as a map,
/// zero counters as absent, owners not named in group PELs, the seen time standing in for the
/// active time before RDB 11.
fn hdt_project(ours: &Dataset, key_prefix: Option<&str>, global_meta: bool) -> Dataset {
    let l = |b: &Vec<u8>| go_lossy(b);
    let keys = ours
        .keys
        .iter()
        .filter(|e| key_prefix.is_none_or(|p| e.key.starts_with(p.as_bytes())))
        .map(|e| {
            let value = match &e.value {
                Value::String(s) => Value::String(l(s)),
                Value::List(v) => Value::List(v.iter().map(l).collect()),
                Value::Set(v) => Value::Set(v.iter().map(l).collect()),
                Value::Hash(h) => Value::Hash(
                    h.iter()
                        .map(|f| HashField {
                            field: l(&f.field),
                            value: l(&f.value),
                            expire_ms: f.expire_ms,
                        })
                        .collect(),
                ),
                Value::Zset(z) => Value::Zset(
                    z.iter()
                        .map(|m| ZsetMember {
                            member: l(&m.member),
                            score: m.score,
                        })
                        .collect(),
                ),
                Value::Stream(s) => {
                    let mut s = (**s).clone();
                    for e in &mut s.entries {
                        let map: BTreeMap<Vec<u8>, Vec<u8>> =
                            e.fields.iter().map(|(f, v)| (l(f), l(v))).collect();
                        e.fields = map.into_iter().collect();
                    }
                    s.entries_added = s.entries_added.filter(|&n| n != 0);
                    for g in &mut s.groups {
                        g.name = l(&g.name);
                        g.entries_read = g.entries_read.filter(|&n| n != 0);
                        for p in &mut g.pending {
                            p.consumer.clear();
                        }
                        for c in &mut g.consumers {
                            c.name = l(&c.name);
                            // Before RDB 11 the file has no active time; HDT3213 takes the
                            // seen time instead, as Redis does on load ("the best estimate").
                            c.active_time_ms = Some(c.active_time_ms.unwrap_or(c.seen_time_ms));
                        }
                    }
                    Value::Stream(Box::new(s))
                }
                v @ (Value::Module(_) | Value::Array(_)) => v.clone(),
            };
            Entry {
                key: l(&e.key),
                value,
                ..e.clone()
            }
        })
        .collect();
    let mut d = Dataset {
        source: None,
        functions: if global_meta {
            ours.functions.iter().map(l).collect()
        } else {
            Vec::new()
        },
        keys,
    };
    d.canonicalize();
    d
}

#[test]
fn hdt3213_goldens_match() {
    let Some(root) = vectors_root() else { return };
    let dir = root.join("hdt3213");
    let mut names: Vec<String> = std::fs::read_dir(&dir)
        .expect("hdt3213 folder")
        .map(|e| e.expect("entry").file_name().to_string_lossy().into_owned())
        .filter_map(|n| n.strip_suffix(".json").map(str::to_owned))
        .collect();
    names.sort();
    let mut failures = Vec::new();
    let mut outcomes = Vec::new();
    for name in &names {
        let golden = format!("hdt3213/{name}.json");
        let special = HDT_SPECIAL.iter().find(|s| s.0 == name);
        let rdb = match special {
            Some(s) => s.1.to_owned(),
            None => match ["hdt3213", "rdbtools"]
                .iter()
                .map(|d| format!("{d}/{name}.rdb"))
                .find(|p| root.join(p).is_file())
            {
                Some(p) => p,
                None => {
                    failures.push(format!("{golden}: no {name}.rdb in hdt3213/ or rdbtools/"));
                    continue;
                }
            },
        };
        let ours = match decode(&root, &rdb) {
            Ok((d, _)) => d,
            Err(e) => {
                failures.push(format!("{golden}: {rdb} does not decode: {e}"));
                continue;
            }
        };
        let doc: J = match serde_json::from_str(&text(&dir.join(format!("{name}.json")))) {
            Ok(d) => d,
            Err(e) => {
                failures.push(format!("{golden}: invalid JSON: {e}"));
                continue;
            }
        };
        let (expected, aux) = match hdt_golden(&doc) {
            Ok(x) => x,
            Err(e) => {
                failures.push(format!("{golden}: {e}"));
                continue;
            }
        };
        let global_meta = HDT_GLOBAL_META.contains(&name.as_str());
        let projected = hdt_project(&ours, special.map(|s| s.2), global_meta);
        let mut differences = Vec::new();
        if global_meta {
            let our_aux: Aux = ours
                .source
                .as_ref()
                .map(|s| {
                    s.aux
                        .iter()
                        .map(|(k, v)| (go_lossy(k), go_lossy(v)))
                        .collect()
                })
                .unwrap_or_default();
            if aux != our_aux {
                differences.push((
                    "aux".to_owned(),
                    format!(
                        "{}",
                        pretty_assertions::Comparison::new(
                            &lossy_pairs(&aux),
                            &lossy_pairs(&our_aux)
                        )
                    ),
                ));
            }
        }
        differences.extend(compare(&expected, &projected));
        outcomes.push(Outcome {
            subject: golden,
            differences,
        });
    }
    let owns = |s: &str| s.starts_with("hdt3213/") && s.ends_with(".json");
    let (exact, known) = settle(owns, &outcomes, &mut failures);
    println!(
        "hdt3213: {} goldens compared, {exact} match exactly, {known} differ only in known ways",
        outcomes.len()
    );
    assert!(
        failures.is_empty(),
        "{} HDT3213 golden differences:\n{}",
        failures.len(),
        failures.join("\n\n")
    );
}

/// Splits an AOF into its RESP commands.
fn resp_commands(aof: &[u8]) -> Result<Vec<Vec<Vec<u8>>>, String> {
    fn line(b: &[u8], i: &mut usize, tag: u8) -> Result<usize, String> {
        let end = b[*i..]
            .windows(2)
            .position(|w| w == b"\r\n")
            .ok_or(format!("offset {i}: unterminated line"))?
            + *i;
        if b[*i] != tag {
            return Err(format!("offset {i}: expected {:?}", tag as char));
        }
        let n = std::str::from_utf8(&b[*i + 1..end])
            .ok()
            .and_then(|t| t.parse().ok())
            .ok_or(format!("offset {i}: bad length"))?;
        *i = end + 2;
        Ok(n)
    }
    let mut i = 0;
    let mut out = Vec::new();
    while i < aof.len() {
        let n = line(aof, &mut i, b'*')?;
        let mut args = Vec::with_capacity(n);
        for _ in 0..n {
            let len = line(aof, &mut i, b'$')?;
            let arg = aof.get(i..i + len).ok_or("truncated argument")?;
            args.push(arg.to_vec());
            i += len + 2;
        }
        out.push(args);
    }
    Ok(out)
}

/// Replays the few commands HDT3213's `ToAOF` writes (one per key, then expiries) into a dataset.
fn replay(commands: &[Vec<Vec<u8>>]) -> Result<Dataset, String> {
    let mut keys: BTreeMap<(u64, Vec<u8>), Entry> = BTreeMap::new();
    let mut db = 0;
    let text = |b: &[u8]| String::from_utf8_lossy(b).into_owned();
    let num = |b: &[u8]| -> Result<i64, String> {
        text(b)
            .parse()
            .map_err(|_| format!("{:?} is not an integer", text(b)))
    };
    for (i, c) in commands.iter().enumerate() {
        let at = format!("command {i} ({})", text(&c[0]));
        let name = c[0].to_ascii_uppercase();
        if name == b"SELECT" {
            db = num(&c[1])? as u64;
            continue;
        }
        let key = c.get(1).ok_or(format!("{at}: no key"))?.clone();
        let fresh = |value: Value| Entry {
            db,
            key: key.clone(),
            expire_ms: None,
            idle_s: None,
            freq: None,
            value,
            attrs: Default::default(),
        };
        let slot = keys.entry((db, key.clone()));
        match name.as_slice() {
            b"SET" => {
                slot.or_insert(fresh(Value::String(Vec::new()))).value = Value::String(c[2].clone())
            }
            b"RPUSH" | b"SADD" => {
                let e = slot.or_insert(fresh(if name == b"RPUSH" {
                    Value::List(Vec::new())
                } else {
                    Value::Set(Vec::new())
                }));
                match &mut e.value {
                    Value::List(l) | Value::Set(l) => l.extend(c[2..].iter().cloned()),
                    _ => return Err(format!("{at}: wrong type")),
                }
            }
            b"ZADD" => {
                let e = slot.or_insert(fresh(Value::Zset(Vec::new())));
                let Value::Zset(z) = &mut e.value else {
                    return Err(format!("{at}: wrong type"));
                };
                for p in c[2..].chunks(2) {
                    let score = text(&p[0]).parse().map_err(|_| format!("{at}: score"))?;
                    z.push(ZsetMember {
                        member: p[1].clone(),
                        score,
                    });
                }
            }
            b"HMSET" | b"HSET" => {
                let e = slot.or_insert(fresh(Value::Hash(Vec::new())));
                let Value::Hash(h) = &mut e.value else {
                    return Err(format!("{at}: wrong type"));
                };
                for p in c[2..].chunks(2) {
                    h.push(HashField {
                        field: p[0].clone(),
                        value: p[1].clone(),
                        expire_ms: None,
                    });
                }
            }
            b"PEXPIREAT" => {
                let Entry { expire_ms, .. } = slot.or_insert(fresh(Value::String(Vec::new())));
                *expire_ms = Some(num(&c[2])?);
            }
            b"HPEXPIREAT" | b"HPERSIST" => {
                // HPEXPIREAT key ms FIELDS n f...; HPERSIST key FIELDS n f...
                let (t, rest) = if name == b"HPEXPIREAT" {
                    (Some(num(&c[2])?), &c[3..])
                } else {
                    (None, &c[2..])
                };
                let Value::Hash(h) = &mut slot.or_insert(fresh(Value::Hash(Vec::new()))).value
                else {
                    return Err(format!("{at}: wrong type"));
                };
                for f in rest.get(2..).unwrap_or_default() {
                    let hf = h
                        .iter_mut()
                        .find(|x| &x.field == f)
                        .ok_or(format!("{at}: no field {:?}", text(f)))?;
                    hf.expire_ms = t;
                }
            }
            _ => return Err(format!("{at}: command not replayed here")),
        }
    }
    let mut d = Dataset {
        keys: keys.into_values().collect(),
        ..Dataset::default()
    };
    d.canonicalize();
    Ok(d)
}

/// HDT3213's `ToAOF` output (`X.aof`, binary-safe RESP, so exact bytes and absolute Unix-ms
/// expiries): memory.aof and memory_regex.aof from `TestToAof` / `TestToAofWithRegex`, the
/// `*_hfe.aof` files referenced by no upstream test but named after, and matching, `X.rdb`.
#[test]
fn hdt3213_aof_goldens_match() {
    let Some(root) = vectors_root() else { return };
    let dir = root.join("hdt3213");
    let mut names: Vec<String> = std::fs::read_dir(&dir)
        .expect("hdt3213 folder")
        .map(|e| e.expect("entry").file_name().to_string_lossy().into_owned())
        .filter_map(|n| n.strip_suffix(".aof").map(str::to_owned))
        .collect();
    names.sort();
    let mut failures = Vec::new();
    let mut outcomes = Vec::new();
    for name in &names {
        let golden = format!("hdt3213/{name}.aof");
        let special = HDT_SPECIAL.iter().find(|s| s.0 == name);
        let rdb = special.map_or(format!("hdt3213/{name}.rdb"), |s| s.1.to_owned());
        let ours = match decode(&root, &rdb) {
            Ok((d, _)) => d,
            Err(e) => {
                failures.push(format!("{golden}: {rdb} does not decode: {e}"));
                continue;
            }
        };
        let expected = match resp_commands(&read(&root, &golden)).and_then(|c| replay(&c)) {
            Ok(d) => d,
            Err(e) => {
                failures.push(format!("{golden}: {e}"));
                continue;
            }
        };
        let prefix = special.map(|s| s.2.as_bytes());
        let mut projected = Dataset {
            keys: ours
                .keys
                .iter()
                .filter(|e| prefix.is_none_or(|p| e.key.starts_with(p)))
                .map(|e| Entry {
                    idle_s: None,
                    freq: None,
                    ..e.clone()
                })
                .collect(),
            ..Dataset::default()
        };
        projected.canonicalize();
        outcomes.push(Outcome {
            subject: golden,
            differences: compare(&expected, &projected),
        });
    }
    let owns = |s: &str| s.starts_with("hdt3213/") && s.ends_with(".aof");
    let (exact, known) = settle(owns, &outcomes, &mut failures);
    println!(
        "hdt3213 AOF: {} goldens compared, {exact} match exactly, {known} differ only in known ways",
        outcomes.len()
    );
    assert!(
        failures.is_empty(),
        "{} HDT3213 AOF golden differences:\n{}",
        failures.len(),
        failures.join("\n\n")
    );
}

#[test]
fn rfc3339_reads_go_times() {
    assert_eq!(rfc3339_ms("1970-01-01T08:00:00+08:00"), Some(0));
    assert_eq!(
        rfc3339_ms("2022-12-25T18:11:12.573+08:00"),
        Some(1671963072573)
    );
    assert_eq!(
        rfc3339_ms("2022-02-18T06:15:29.18+08:00"),
        Some(1645136129180)
    );
    assert_eq!(rfc3339_ms("2000-03-01T00:00:00Z"), Some(951868800000));
    assert_eq!(
        go_lossy(b"a\xffb\xe2\x82"),
        "a\u{FFFD}b\u{FFFD}\u{FFFD}".as_bytes()
    );
}

// ---------------------------------------------------------------------------------------------
// 3. Snapshots.
// ---------------------------------------------------------------------------------------------

/// Dataset JSON beyond this size is not snapshotted in full (hdt3213/issue27.rdb,
/// replicator/listpack-bug.rdb and librdb/100_lists.rdb when this was written): a summary with
/// per-type key counts and the CRC-64 of the JSON stands in, so a change still shows.
const MAX_SNAPSHOT_BYTES: usize = 300_000;

/// `librdb/hash_zm_v2.rdb` → `vectors__librdb__hash_zm_v2`.
fn snapshot_name(rel: &str) -> String {
    let stem = rel.strip_suffix(".rdb").unwrap_or(rel);
    let stem = stem.strip_suffix(".aof").unwrap_or(stem);
    let body: String = stem
        .split('/')
        .map(|part| {
            part.chars()
                .map(|c| if c.is_ascii_alphanumeric() { c } else { '_' })
                .collect::<String>()
        })
        .collect::<Vec<_>>()
        .join("__");
    format!("vectors__{body}")
}

fn summary(rel: &str, d: &Dataset, json: &str) -> String {
    let mut types: BTreeMap<&str, usize> = BTreeMap::new();
    for e in &d.keys {
        *types.entry(e.value.type_name()).or_default() += 1;
    }
    let mut s = format!(
        "{rel}: {} bytes of Dataset JSON, over the {MAX_SNAPSHOT_BYTES}-byte snapshot limit\n\
         CRC-64/Jones of the JSON: {:016x}\nfunctions: {}\nkeys: {}\n",
        json.len(),
        redis_persist_engine::format::crc64::checksum(json.as_bytes()),
        d.functions.len(),
        d.keys.len()
    );
    for (t, n) in types {
        s.push_str(&format!("  {t}: {n}\n"));
    }
    s
}

#[test]
fn decoded_vectors_match_snapshots() {
    let Some(root) = vectors_root() else { return };
    let snapshots = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/snapshots");
    let mut names = BTreeSet::new();
    let mut failures = Vec::new();
    for rel in vector_files(&root) {
        // Refusals and decoding failures are the business of the first test.
        let Ok((d, _)) = decode(&root, &rel) else {
            continue;
        };
        let name = snapshot_name(&rel);
        assert!(
            names.insert(name.clone()),
            "{rel}: snapshot name {name} is taken twice"
        );
        let json = to_json_string(&d);
        let body = if json.len() > MAX_SNAPSHOT_BYTES {
            summary(&rel, &d, &json)
        } else {
            json
        };
        let r = std::panic::catch_unwind(|| {
            insta::with_settings!({
                snapshot_path => snapshots.clone(),
                prepend_module_to_snapshot => false,
                description => format!("Dataset JSON of shared/vectors/{rel}"),
                omit_expression => true,
            }, {
                insta::assert_snapshot!(name.as_str(), body.as_str());
            });
        });
        if r.is_err() {
            failures.push(format!("{rel}: snapshot {name} differs (see above)"));
        }
    }
    // A snapshot without its vector is stale.
    for e in std::fs::read_dir(&snapshots).into_iter().flatten() {
        let file = e.expect("entry").file_name().to_string_lossy().into_owned();
        if let Some(n) = file.strip_suffix(".snap") {
            if n.starts_with("vectors__") && !names.contains(n) {
                failures.push(format!(
                    "{file}: no vector decodes to this snapshot any more"
                ));
            }
        }
    }
    assert!(
        failures.is_empty(),
        "{} snapshot failures:\n{}",
        failures.len(),
        failures.join("\n")
    );
}
