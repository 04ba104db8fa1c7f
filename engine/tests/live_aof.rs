//! Real Redis 7.0.15 loads the AOFs we write (an appendonly directory with an RDB or RESP base, and
//! a single-file AOF upgraded by the server) to the dataset we wrote.
use redis_persist_engine::dataset::{first_difference, Dataset, Value};
use redis_persist_engine::format::aof::manifest::{self, FileEntry, FileType, Manifest};
use redis_persist_engine::format::aof::rewrite;
use redis_persist_engine::format::rdb::{
    read_dataset, write_to_vec, ReadOptions, Target, WriteOptions,
};
use redis_persist_engine::live::{
    all_nonempty_dbs, read_dataset as read_live, require_or_skip, RunningServer, TempDir,
};
use std::path::Path;

fn corpus_dataset(rel: &str) -> Dataset {
    let p = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../corpus/rdb")
        .join(rel);
    read_dataset(&std::fs::read(p).unwrap(), ReadOptions::default())
        .unwrap()
        .0
}

/// What a replay cannot reproduce exactly (see `rewrite::losses`): LRU/LFU metadata, and consumer
/// times, which a replayed XCLAIM stamps with the load time.
fn comparable(d: &Dataset) -> Dataset {
    let mut d = d.clone();
    for k in &mut d.keys {
        k.idle_s = None;
        k.freq = None;
        if let Value::Stream(s) = &mut k.value {
            for g in &mut s.groups {
                for c in &mut g.consumers {
                    c.seen_time_ms = 0;
                    c.active_time_ms = None;
                }
            }
        }
    }
    d
}

fn write_dir(dir: &Path, ds: &Dataset, rdb_base: bool) {
    let (name, bytes) = if rdb_base {
        let mut wo = WriteOptions::new(Target::redis(10).unwrap(), 0);
        wo.aof_base = true;
        ("appendonly.aof.1.base.rdb", write_to_vec(ds, &wo).unwrap())
    } else {
        let mut b = Vec::new();
        rewrite::write_dataset(&mut b, ds, Some(1_700_000_000));
        ("appendonly.aof.1.base.aof", b)
    };
    std::fs::create_dir_all(dir).unwrap();
    std::fs::write(dir.join(name), bytes).unwrap();
    std::fs::write(dir.join("appendonly.aof.1.incr.aof"), b"").unwrap();
    let m = Manifest {
        base: Some(FileEntry {
            name: name.as_bytes().to_vec(),
            seq: 1,
            kind: FileType::Base,
        }),
        history: vec![],
        incr: vec![FileEntry {
            name: b"appendonly.aof.1.incr.aof".to_vec(),
            seq: 1,
            kind: FileType::Incr,
        }],
    };
    std::fs::write(
        dir.join("appendonly.aof.manifest"),
        manifest::write(&m).unwrap(),
    )
    .unwrap();
}

#[test]
fn redis_7_0_loads_the_aofs_we_write() {
    let Some(build) = require_or_skip("redis-7.0.15") else {
        return;
    };
    let mut failures = Vec::new();
    for case in [
        "redis-7.0.15/strings.rdb",
        "redis-7.0.15/lists.rdb",
        "redis-7.0.15/hashes.rdb",
        "redis-7.0.15/sets.rdb",
        "redis-7.0.15/zsets.rdb",
        "redis-7.0.15/streams.rdb",
        "redis-7.0.15/functions.rdb",
    ] {
        let ds = corpus_dataset(case);
        for layout in ["dir-rdb-base", "dir-resp-base", "single-file"] {
            let tmp = TempDir::new("server-aof").unwrap();
            let args: Vec<&str> = match layout {
                "single-file" => {
                    // A Redis 6-style single file: the server upgrades it into a directory.
                    let mut b = Vec::new();
                    rewrite::write_dataset(&mut b, &ds, None);
                    std::fs::write(tmp.path().join("appendonly.aof"), b).unwrap();
                    vec!["--appendonly", "yes"]
                }
                _ => {
                    write_dir(
                        &tmp.path().join("appendonlydir"),
                        &ds,
                        layout == "dir-rdb-base",
                    );
                    vec!["--appendonly", "yes"]
                }
            };
            let server = match RunningServer::start(&build, tmp.path(), &args) {
                Ok(s) => s,
                Err(e) => {
                    failures.push(format!("{case} as {layout}: server refused it: {e}"));
                    continue;
                }
            };
            let mut c = server.client().unwrap();
            let dbs = all_nonempty_dbs(&mut c).unwrap();
            let mut got = read_live(&mut c, &dbs).unwrap();
            got.functions = redis_persist_engine::live::read_functions(&mut c).unwrap_or_default();
            got.canonicalize();
            let (want, mut got) = (comparable(&ds), comparable(&got));
            redis_persist_engine::dataset::forget_negative_zero(&want, &mut got);
            if let Some(d) = first_difference(&want, &got) {
                failures.push(format!("{case} as {layout}: {d}"));
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
