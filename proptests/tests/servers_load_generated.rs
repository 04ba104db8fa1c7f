//! Real servers load what the writer writes from generated datasets (issue 10): datasets from
//! `proptests::gen` (duplicates stripped, sizes on the encoding thresholds), written for each
//! installed build's own RDB version, must pass its `redis-check-rdb`, load at startup, and read
//! back over RESP equal to the input. Missing builds skip, except under `CI=true`.
use arbitrary::Unstructured;
use proptests::gen::{dataset, Features};
use redis_persist_engine::dataset::{first_difference, forget_negative_zero, Dataset, Value};
use redis_persist_engine::format::rdb::{write_to_vec, Target, WriteOptions};
use redis_persist_engine::live::{read_server_dataset, require_or_skip, RunningServer, TempDir};

/// Datasets per build: each is a server start (about 50 ms here).
const DATASETS: u64 = 60;

/// Bytes for the generator from a seed (the project's one test generator), so each case is
/// reproducible by number.
fn noise(seed: u64, n: usize) -> Vec<u8> {
    redis_persist_engine::rng::Rng::new(seed).bytes(n)
}

/// What a server keeps of `ds` when it loads it: a master drops keys already expired and empty
/// collections, so expiries are moved into the far future and empty collections removed; LRU and
/// LFU figures are not read back over RESP (`live_load.rs` checks them through OBJECT).
fn loadable(mut ds: Dataset) -> Dataset {
    for e in &mut ds.keys {
        e.expire_ms = e
            .expire_ms
            .map(|t| 4_000_000_000_000 + t.rem_euclid(1 << 40));
        e.idle_s = None;
        e.freq = None;
        // Fields past their TTL are dropped too; keep every field TTL ahead (below 2^48 ms).
        if let Value::Hash(fields) = &mut e.value {
            for f in fields {
                f.expire_ms = f
                    .expire_ms
                    .map(|t| 4_000_000_000_000 + t.rem_euclid(1 << 40));
            }
        }
    }
    ds.keys.retain(|e| match &e.value {
        Value::List(v) => !v.is_empty(),
        Value::Set(v) => !v.is_empty(),
        Value::Hash(v) => !v.is_empty(),
        Value::Zset(v) => !v.is_empty(),
        _ => true,
    });
    ds
}

fn one(
    build: &redis_persist_engine::live::ServerBuild,
    target: Target,
    seed: u64,
) -> Result<(), String> {
    let bytes = noise(seed, 1 << 16);
    let mut u = Unstructured::new(&bytes);
    let mut f = Features::for_target(target);
    // No module is loaded in the test servers, and a server refuses values of a missing module.
    f.modules = false;
    f.lru = false;
    let ds = loadable(dataset(&mut u, f).map_err(|e| format!("generator: {e}"))?);
    let rdb = write_to_vec(&ds, &WriteOptions::new(target, 1_700_000_000))
        .map_err(|e| format!("writer refused a deduplicated dataset: {e}"))?;
    let dir = TempDir::new("generated-load").map_err(|e| e.to_string())?;
    let file = dir.path().join("dump.rdb");
    std::fs::write(&file, &rdb).map_err(|e| e.to_string())?;
    let report = build
        .check_rdb_file(&file)
        .map_err(|e| format!("redis-check-rdb did not run: {e}"))?;
    if !report.passed {
        return Err(format!("redis-check-rdb {}", report.verdict()));
    }
    let server = RunningServer::start(build, dir.path(), &["--dbfilename", "dump.rdb"])
        .map_err(|e| format!("did not load: {e}"))?;
    let mut got = read_server_dataset(&server, &ds)?;
    if build.version() >= (7, 0, 0) {
        forget_negative_zero(&ds, &mut got);
    }
    match first_difference(&ds, &got) {
        None => Ok(()),
        Some(d) => Err(format!("read back differs: {d}")),
    }
}

#[test]
fn servers_load_generated_datasets() {
    let builds = [
        ("redis-6.2.14", Target::redis(9)),
        ("redis-7.0.15", Target::redis(10)),
        ("redis-7.4.1", Target::redis(12)),
        ("valkey-8.1.8", Target::redis(11)),
        ("valkey-9.1.2", Some(Target::VALKEY_80)),
    ];
    let (mut loaded, mut present) = (0, 0);
    let mut failures = Vec::new();
    for (name, target) in builds {
        let Some(build) = require_or_skip(name) else {
            continue;
        };
        present += 1;
        let target = target.expect("a supported target");
        for seed in 0..DATASETS {
            match one(&build, target, seed) {
                Ok(()) => loaded += 1,
                Err(e) => failures.push(format!("{name} seed {seed}: {e}")),
            }
        }
    }
    eprintln!("{loaded} generated datasets loaded and read back");
    assert!(
        failures.is_empty(),
        "{} failed:\n{}",
        failures.len(),
        failures.join("\n")
    );
    assert_eq!(
        loaded,
        present * DATASETS,
        "every dataset of every present build loaded"
    );
}
