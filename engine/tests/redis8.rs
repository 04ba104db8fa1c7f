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
