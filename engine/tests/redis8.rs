//! Redis 8.6-8.10 formats against real files: the external RDB 13 and 15 files written by real
//! builds (`corpus/external/`) hold, byte for byte, the value encodings our writer produces at
//! their version, so the writer matches those servers where evidence exists.
//!
//! One exception is not a format difference: Redis compresses with liblzf without clearing its
//! hash table between calls (`INIT_HTAB` off), so a compressed string can reuse a match a stale
//! table entry still points at. Seven stream nodes of librdb's `stream_v13.rdb` compress one
//! match further than a fresh table finds; for those the file's record must hold the same value
//! in the same number of bytes.
use redis_persist_engine::dataset::KeyAttrs;
use redis_persist_engine::format::rdb::{payload, read_dataset, ReadOptions, Target, Thresholds};
use std::path::Path;

fn corpus(p: &str) -> Vec<u8> {
    std::fs::read(
        Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("../corpus")
            .join(p),
    )
    .unwrap()
}

fn find(hay: &[u8], needle: &[u8]) -> bool {
    hay.windows(needle.len()).any(|w| w == needle)
}

#[test]
fn real_files_hold_our_encodings_of_their_values() {
    let mut checked = 0;
    let mut lzf_history = Vec::new();
    for f in [
        "external/librdb/stream_v13_idmp.rdb",
        "external/librdb/stream_v13.rdb",
        "external/rediscope/native-types.rdb",
        "external/rediscope/module.rdb",
    ] {
        let bytes = corpus(f);
        let (ds, _) = read_dataset(&bytes, ReadOptions::default()).unwrap();
        let version = ds.source.as_ref().and_then(|s| s.version).unwrap();
        let t = Target::redis(version).unwrap();
        for e in &ds.keys {
            let (p, _) = payload::encode_value(
                &e.value,
                &KeyAttrs::default(),
                t,
                Thresholds::default(),
                false,
            )
            .unwrap();
            let body = &p[..p.len() - payload::FOOTER_LEN];
            // The file holds: type byte, key, value; the payload: type byte, value.
            let mut record = vec![body[0]];
            let mut key = Vec::new();
            redis_persist_engine::format::rdb::string::Writer::new(false).write(&mut key, &e.key);
            record.extend(&key);
            record.extend(&body[1..]);
            if find(&bytes, &record) {
                checked += 1;
                continue;
            }
            let head = &record[..1 + key.len()];
            let at = bytes
                .windows(head.len())
                .position(|w| w == head)
                .expect("the key's record is in the file");
            let theirs = &bytes[at..at + record.len()];
            let mut body = vec![theirs[0]];
            body.extend(&theirs[head.len()..]);
            let (_, v, _) = payload::decode_value(
                &payload::frame(&body, version as u16),
                ReadOptions::default(),
            )
            .expect("the file's record, as long as ours, holds one value");
            assert_eq!(v, e.value, "{f}: {:?}", String::from_utf8_lossy(&e.key));
            lzf_history.push(String::from_utf8_lossy(&e.key).into_owned());
        }
    }
    assert_eq!((checked, lzf_history.len()), (57, 7), "{lzf_history:?}");
}

/// The AOF rewrite of Redis 8.6+ state (ARMSET/ARSEEK, XCFGSET/XIDMPRECORD, XNACK) replays to
/// the same dataset, except what an AOF does not carry in Redis either: IDMP counters and
/// consumer times (a replayed XCLAIM stamps the load time).
#[test]
fn redis8_rewrites_replay_to_the_same_dataset() {
    use redis_persist_engine::aof::{load, LoadOptions};
    use redis_persist_engine::dataset::{first_difference, Dataset, Value};
    let mut ds = Dataset::default();
    for f in [
        "hand/v13-stream-idmp.rdb",
        "hand/v14-stream-nack.rdb",
        "hand/v14-array.rdb",
        "external/librdb/stream_v13.rdb",
    ] {
        let (d, _) = read_dataset(&corpus(f), ReadOptions::default()).unwrap();
        for mut e in d.keys {
            e.key = format!("{f}:{}", String::from_utf8_lossy(&e.key)).into_bytes();
            ds.keys.push(e);
        }
    }
    ds.canonicalize();
    let mut resp = Vec::new();
    redis_persist_engine::format::aof::rewrite::write_dataset(&mut resp, &ds, None);
    for cmd in ["ARMSET", "ARSEEK", "XCFGSET", "XIDMPRECORD", "XNACK"] {
        assert!(find(&resp, cmd.as_bytes()), "the rewrite emits no {cmd}");
    }
    let dir = std::env::temp_dir().join(format!("redis8-aof-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join("appendonly.aof");
    std::fs::write(&path, &resp).unwrap();
    let opts = LoadOptions {
        load_truncated: false,
        now_ms: 1_800_000_000_000,
        rdb: ReadOptions::default(),
        memory_limit: None,
    };
    let mut got = load(&path, &opts).unwrap().dataset;
    std::fs::remove_dir_all(&dir).unwrap();
    for d in [&mut ds, &mut got] {
        for e in &mut d.keys {
            if let Value::Stream(s) = &mut e.value {
                if let Some(i) = &mut s.idmp {
                    i.iids_added = 0;
                    i.iids_duplicates = 0;
                }
                // A stream that never used IDMP has the defaults, which the rewrite leaves out.
                if s.idmp == Some(redis_persist_engine::dataset::Idmp::default()) {
                    s.idmp = None;
                }
                for g in &mut s.groups {
                    // An empty NACK zone has no commands; a replaying server has one all the same.
                    if g.nacked.as_ref().is_some_and(Vec::is_empty) {
                        g.nacked = None;
                    }
                    for c in &mut g.consumers {
                        c.seen_time_ms = 0;
                        c.active_time_ms = None;
                    }
                }
            }
        }
    }
    if let Some(d) = first_difference(&ds, &got) {
        panic!("{d}");
    }
}

/// A replay that meets an XNACK form the engine does not model stops with a typed error instead
/// of dropping the state.
#[test]
fn other_xnack_forms_stop_the_replay() {
    use redis_persist_engine::aof::{load, LoadOptions};
    let dir = std::env::temp_dir().join(format!("redis8-xnack-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join("appendonly.aof");
    let mut resp = Vec::new();
    for c in [
        &[&b"XADD"[..], b"s", b"1-0", b"f", b"v"][..],
        &[b"XGROUP", b"CREATE", b"s", b"g", b"0"],
        &[
            b"XNACK",
            b"s",
            b"g",
            b"SILENT",
            b"IDS",
            b"1",
            b"1-0",
            b"RETRYCOUNT",
            b"1",
        ],
    ] {
        redis_persist_engine::format::resp::write_command(&mut resp, c);
    }
    std::fs::write(&path, &resp).unwrap();
    let opts = LoadOptions {
        load_truncated: false,
        now_ms: 0,
        rdb: ReadOptions::default(),
        memory_limit: None,
    };
    let r = load(&path, &opts);
    std::fs::remove_dir_all(&dir).unwrap();
    let e = r.err().map(|e| e.to_string()).unwrap_or_default();
    assert!(e.contains("XNACK") || e.contains("xnack"), "{e}");
}

/// The reader refuses a NACK zone that lists an ID twice (docs/redis-8.md, reader strictness:
/// our addition to Redis's checks), and reads the same zone with the ID once.
#[test]
fn a_nack_zone_listing_an_id_twice_is_refused() {
    use redis_persist_engine::dataset::{
        Group, Idmp, PendingEntry, Stream, StreamEntry, StreamId, Value,
    };
    let id = StreamId { ms: 1, seq: 0 };
    let stream = |nacked: Vec<StreamId>| {
        Value::Stream(Box::new(Stream {
            length: 1,
            last_id: id,
            first_id: Some(id),
            max_deleted_id: Some(StreamId::default()),
            entries_added: Some(1),
            entries: vec![StreamEntry {
                id,
                fields: vec![(b"f".to_vec(), b"v".to_vec())],
            }],
            groups: vec![Group {
                name: b"g".to_vec(),
                last_delivered_id: id,
                entries_read: Some(1),
                pending: vec![PendingEntry {
                    id,
                    consumer: Vec::new(),
                    delivery_time_ms: 7,
                    delivery_count: 1,
                }],
                consumers: Vec::new(),
                nacked: Some(nacked),
            }],
            // What RDB 14 holds; a stream without it reads back with the defaults.
            idmp: Some(Idmp::default()),
        }))
    };
    let t14 = Target::redis(14).unwrap();
    let encode = |v: &Value| {
        payload::encode_value(v, &KeyAttrs::default(), t14, Thresholds::default(), true)
            .unwrap()
            .0
    };
    let once = stream(vec![id]);
    let payload = encode(&once);
    let (_, got, _) = payload::decode_value(&payload, ReadOptions::default()).unwrap();
    assert_eq!(got, once);
    // The writer refuses such a group, so the zone is doubled in the bytes: its count (1) and
    // raw ID (ms and seq as big-endian u64s) are the last such run before the IDMP state.
    let (body, footer) = payload::split(&payload).unwrap();
    let mut zone = vec![1u8];
    zone.extend_from_slice(&1u64.to_be_bytes());
    zone.extend_from_slice(&0u64.to_be_bytes());
    let at = body
        .windows(zone.len())
        .rposition(|w| w == zone)
        .expect("the NACK zone");
    let mut twice = body[..at].to_vec();
    twice.push(2);
    twice.extend_from_slice(&zone[1..]);
    twice.extend_from_slice(&body[at + 1..]);
    let twice = payload::frame(&twice, footer.version);
    let e = payload::decode_value(&twice, ReadOptions::default()).unwrap_err();
    assert!(e.to_string().contains("1-0 is listed twice"), "{e}");
}
