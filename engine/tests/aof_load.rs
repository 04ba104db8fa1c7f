//! Loading AOFs with Redis's rules: single files with and without an RDB preamble, manifest
//! directories, truncated tails cut (or refused), unfinished MULTI rolled back, garbage refused.
use redis_persist_engine::aof::{load, LoadOptions};
use redis_persist_engine::dataset::{first_difference, Value};
use redis_persist_engine::format::rdb::{write_to_vec, ReadOptions, Target, WriteOptions};
use redis_persist_engine::format::resp::write_command;
use redis_persist_engine::format::ErrorKind;
use std::path::{Path, PathBuf};

/// The load's clock is the real one, as in a server: replayed delivery times later than it would
/// be clamped to it.
fn opts(load_truncated: bool) -> LoadOptions {
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_millis() as i64;
    LoadOptions {
        load_truncated,
        now_ms: now,
        rdb: ReadOptions::default(),
        memory_limit: None,
    }
}

/// Vector AOFs with commands no server without their module knows: they must fail naming the
/// command, as Redis's loader does ("Unknown command ... reading the append only file").
const UNSUPPORTED: &[(&str, &str)] = &[("appendonly6.aof", "hellotype.insert")];

fn dir(name: &str) -> PathBuf {
    let d = std::env::temp_dir().join(format!("redis-persist-aof-{}-{name}", std::process::id()));
    let _ = std::fs::remove_dir_all(&d);
    std::fs::create_dir_all(&d).unwrap();
    d
}

fn cmds(list: &[&[&[u8]]]) -> Vec<u8> {
    let mut out = Vec::new();
    for c in list {
        write_command(&mut out, c);
    }
    out
}

fn string_of(ds: &redis_persist_engine::dataset::Dataset, key: &[u8]) -> Option<Vec<u8>> {
    ds.keys
        .iter()
        .find(|e| e.key == key)
        .and_then(|e| match &e.value {
            Value::String(s) => Some(s.clone()),
            _ => None,
        })
}

#[test]
fn short_read_is_cut_only_when_allowed() {
    let d = dir("short");
    let mut bytes = cmds(&[
        &[b"SET", b"foo", b"1"],
        &[b"INCR", b"foo"],
        &[b"INCR", b"foo"],
    ]);
    let whole = bytes.len();
    bytes.extend_from_slice(b"*2\r\n$4\r\nINCR\r\n$3\r\nfo");
    let f = d.join("appendonly.aof");
    std::fs::write(&f, &bytes).unwrap();
    let l = load(&f, &opts(true)).unwrap();
    assert_eq!(string_of(&l.dataset, b"foo"), Some(b"3".to_vec()));
    let t = l.truncated.unwrap();
    assert_eq!(
        (t.valid_len, t.file_len, t.reason),
        (whole as u64, bytes.len() as u64, "short read")
    );
    assert_eq!(
        std::fs::read(&f).unwrap(),
        bytes,
        "the input is never modified"
    );
    let e = load(&f, &opts(false)).unwrap_err();
    assert_eq!(e.kind, ErrorKind::Truncated);
}

#[test]
fn unfinished_multi_is_rolled_back() {
    let d = dir("multi");
    let before = cmds(&[&[b"SET", b"a", b"1"]]);
    let mut bytes = before.clone();
    bytes.extend(cmds(&[
        &[b"MULTI"],
        &[b"SET", b"a", b"2"],
        &[b"SET", b"b", b"2"],
    ]));
    let f = d.join("appendonly.aof");
    std::fs::write(&f, &bytes).unwrap();
    let l = load(&f, &opts(true)).unwrap();
    assert_eq!(string_of(&l.dataset, b"a"), Some(b"1".to_vec()));
    assert_eq!(string_of(&l.dataset, b"b"), None);
    let t = l.truncated.unwrap();
    assert_eq!(
        (t.valid_len, t.reason),
        (before.len() as u64, "unfinished MULTI")
    );
    assert_eq!(
        load(&f, &opts(false)).unwrap_err().kind,
        ErrorKind::Truncated
    );
}

#[test]
fn garbage_in_the_middle_is_always_refused() {
    let d = dir("garbage");
    let mut bytes = cmds(&[&[b"SET", b"foo", b"hello"]]);
    let at = bytes.len();
    bytes.extend_from_slice(b"!!!\r\n");
    bytes.extend(cmds(&[&[b"SET", b"bar", b"world"]]));
    let f = d.join("appendonly.aof");
    std::fs::write(&f, &bytes).unwrap();
    let e = load(&f, &opts(true)).unwrap_err();
    assert_eq!((e.kind, e.offset), (ErrorKind::Corrupt, Some(at as u64)));
}

#[test]
fn unknown_command_is_refused() {
    let d = dir("unknown");
    let f = d.join("appendonly.aof");
    std::fs::write(&f, cmds(&[&[b"SET", b"a", b"1"], &[b"bla", b"x"]])).unwrap();
    let e = load(&f, &opts(true)).unwrap_err();
    assert!(e.detail.contains("unknown command 'bla'"), "{e}");
}

#[test]
fn manifest_directory_with_rdb_base_and_increments() {
    let d = dir("multi-part");
    let mut base = redis_persist_engine::dataset::Dataset::default();
    base.keys.push(redis_persist_engine::dataset::Entry {
        db: 0,
        key: b"k1".to_vec(),
        expire_ms: None,
        idle_s: None,
        freq: None,
        value: Value::String(b"v1".to_vec()),
        attrs: Default::default(),
    });
    let mut wo = WriteOptions::new(Target::redis(10).unwrap(), 0);
    wo.aof_base = true;
    std::fs::write(
        d.join("appendonly.aof.2.base.rdb"),
        write_to_vec(&base, &wo).unwrap(),
    )
    .unwrap();
    std::fs::write(
        d.join("appendonly.aof.1.incr.aof"),
        cmds(&[&[b"SET", b"history", b"x"]]),
    )
    .unwrap();
    std::fs::write(
        d.join("appendonly.aof.2.incr.aof"),
        cmds(&[&[b"SET", b"k2", b"v2"]]),
    )
    .unwrap();
    std::fs::write(
        d.join("appendonly.aof.3.incr.aof"),
        b"#TS:1700000000\r\n"
            .iter()
            .copied()
            .chain(cmds(&[&[b"SELECT", b"1"], &[b"RPUSH", b"l", b"a"]]))
            .collect::<Vec<u8>>(),
    )
    .unwrap();
    std::fs::write(
        d.join("appendonly.aof.manifest"),
        "file appendonly.aof.2.base.rdb seq 2 type b\nfile appendonly.aof.1.incr.aof seq 1 type h\nfile appendonly.aof.2.incr.aof seq 2 type i\nfile appendonly.aof.3.incr.aof seq 3 type i\n",
    )
    .unwrap();
    for path in [d.clone(), d.join("appendonly.aof.manifest")] {
        let l = load(&path, &opts(true)).unwrap();
        assert_eq!(l.files.len(), 3, "history files are never loaded");
        let keys: Vec<(u64, &[u8])> = l
            .dataset
            .keys
            .iter()
            .map(|e| (e.db, e.key.as_slice()))
            .collect();
        assert_eq!(keys, vec![(0, &b"k1"[..]), (0, b"k2"), (1, b"l")]);
    }
    // A truncated increment that is not the last file is fatal even with load-truncated.
    std::fs::write(d.join("appendonly.aof.2.incr.aof"), b"*3\r\n$3\r\nSET").unwrap();
    assert_eq!(
        load(&d, &opts(true)).unwrap_err().kind,
        ErrorKind::Truncated
    );
}

/// The peers' AOF vectors load (when the vectors folder is present).
#[test]
fn vector_aofs_load() {
    let Some(root) = redis_persist_engine::live::vectors_or_skip() else {
        return;
    };
    let (mut n, mut refused) = (0, 0);
    for sub in ["replicator", "hdt3213", "valkey-assets"] {
        for e in std::fs::read_dir(root.join(sub)).unwrap().flatten() {
            let p = e.path();
            if p.extension().is_some_and(|x| x == "aof") {
                if let Some((_, cmd)) = UNSUPPORTED.iter().find(|(n, _)| p.ends_with(n)) {
                    let e = load(&p, &opts(true)).unwrap_err();
                    assert!(
                        e.detail.contains(&format!("unknown command '{cmd}'")),
                        "{}: {e}",
                        p.display()
                    );
                    refused += 1;
                    continue;
                }
                let l = load(&p, &opts(true)).unwrap_or_else(|e| panic!("{}: {e}", p.display()));
                assert!(l.truncated.is_none(), "{}", p.display());
                n += 1;
            }
        }
    }
    // Every listed refusal was met (the list cannot go stale), and something loaded.
    assert_eq!(
        refused,
        UNSUPPORTED.len(),
        "UNSUPPORTED names a file not found"
    );
    assert!(n > 0, "no AOF vector found");
    eprintln!("{n} AOF vectors loaded, {refused} refused as listed");
    // rdb-preamble.aof: RDB keys k1, k2 then a RESP tail setting k3.
    let l = load(&root.join("valkey-assets/rdb-preamble.aof"), &opts(true)).unwrap();
    let keys: Vec<&[u8]> = l.dataset.keys.iter().map(|e| e.key.as_slice()).collect();
    assert_eq!(keys, vec![&b"k1"[..], b"k2", b"k3"]);
}

/// A dataset written as an AOF rewrite (every layout) and replayed gives the same dataset.
#[test]
fn corpus_datasets_survive_an_aof_rewrite() {
    let mut failures = Vec::new();
    let corpus = Path::new(env!("CARGO_MANIFEST_DIR")).join("../corpus/rdb");
    for build in std::fs::read_dir(&corpus).unwrap().flatten() {
        for e in std::fs::read_dir(build.path()).unwrap().flatten() {
            let p = e.path();
            if p.extension().is_none_or(|x| x != "rdb") {
                continue;
            }
            let (mut ds, _) = redis_persist_engine::format::rdb::read_dataset(
                &std::fs::read(&p).unwrap(),
                ReadOptions::default(),
            )
            .unwrap();
            // What an AOF cannot carry (see rewrite::losses) is set aside before comparing.
            for k in &mut ds.keys {
                k.idle_s = None;
                k.freq = None;
            }
            let has_consumers = ds.keys.iter().any(|k| matches!(&k.value, Value::Stream(s) if s.groups.iter().any(|g| !g.consumers.is_empty())));
            let d = dir(&format!("rw-{}", p.file_stem().unwrap().to_string_lossy()));
            let mut bytes = Vec::new();
            redis_persist_engine::format::aof::rewrite::write_dataset(
                &mut bytes,
                &ds,
                Some(1_700_000_000),
            );
            let f = d.join("appendonly.aof");
            std::fs::write(&f, &bytes).unwrap();
            match load(&f, &opts(false)) {
                Ok(l) if has_consumers => {
                    // Consumer times become the load time; everything else must match.
                    let strip = |x: &mut redis_persist_engine::dataset::Dataset| {
                        for k in &mut x.keys {
                            if let Value::Stream(s) = &mut k.value {
                                for g in &mut s.groups {
                                    for c in &mut g.consumers {
                                        c.seen_time_ms = 0;
                                        c.active_time_ms = None;
                                    }
                                }
                            }
                        }
                    };
                    let (mut a, mut b) = (ds.clone(), l.dataset);
                    unknown_metadata_stays_unknown(&a, &mut b);
                    strip(&mut a);
                    strip(&mut b);
                    if let Some(diff) = first_difference(&a, &b) {
                        failures.push(format!("{}: {diff}", p.display()));
                    }
                }
                Ok(l) => {
                    let mut l = l;
                    unknown_metadata_stays_unknown(&ds, &mut l.dataset);
                    // The replaying keyspace holds a small zset as a listpack, as Redis 7.0+ does,
                    // and so turns -0 into 0 exactly where redis-server 7.0.15 does.
                    redis_persist_engine::dataset::forget_negative_zero(&ds, &mut l.dataset);
                    if let Some(diff) = first_difference(&ds, &l.dataset) {
                        failures.push(format!("{}: {diff}", p.display()));
                    }
                }
                Err(e) => failures.push(format!("{}: {e}", p.display())),
            }
        }
    }
    assert!(
        failures.is_empty(),
        "{} failures:\n{}",
        failures.len(),
        failures.join("\n")
    );
}

/// Stream metadata an RDB 9 file lacks (first ID, max deleted ID, entries added) is known after a
/// replay; where the original did not know it, the replayed value is not compared.
fn unknown_metadata_stays_unknown(
    original: &redis_persist_engine::dataset::Dataset,
    replayed: &mut redis_persist_engine::dataset::Dataset,
) {
    for (o, r) in original.keys.iter().zip(replayed.keys.iter_mut()) {
        if let (Value::Stream(a), Value::Stream(b)) = (&o.value, &mut r.value) {
            if a.first_id.is_none() {
                b.first_id = None;
            }
            if a.max_deleted_id.is_none() {
                b.max_deleted_id = None;
            }
            if a.entries_added.is_none() {
                b.entries_added = None;
            }
            for (ga, gb) in a.groups.iter().zip(b.groups.iter_mut()) {
                if ga.entries_read.is_none() {
                    gb.entries_read = None;
                }
            }
        }
    }
}
