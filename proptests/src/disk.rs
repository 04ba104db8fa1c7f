//! What the machine checks and does on the simulated disk itself: every file decodes (RDBs,
//! manifests, each AOF file, and each manifest's file set replayed as the loader would), and rot.
//!
//! Rot flips one byte of the RDB the next start would load; no single-byte change keeps an RDB's
//! CRC-64, so a server that starts from it anyway has loaded damaged data.
use crate::neutral::{from_engine, Neutral};
use redis_persist_engine::aof::{join, load_stream, replay_files, LoadOptions, StorageDir};
use redis_persist_engine::format::aof::manifest;
use redis_persist_engine::format::rdb::{read_dataset, ReadOptions};
use redis_persist_engine::keyspace::{Config, Keyspace};
use redis_persist_engine::persist::PersistConfig;
use redis_persist_engine::storage::{SimDisk, Storage};

fn is_temp(name: &str) -> bool {
    // A save or rewrite cut short by a crash leaves its temp file; no loader reads it.
    name.rsplit('/')
        .next()
        .is_some_and(|n| n.starts_with("temp-"))
}

fn load_options() -> LoadOptions {
    LoadOptions {
        // A crash may leave any file's tail torn: files that are not the last of their
        // manifest are still refused for it (see `replay_files`).
        load_truncated: true,
        now_ms: 0,
        rdb: ReadOptions::default(),
        memory_limit: None,
    }
}

/// Every file on the disk decodes with the format layer; each manifest's files replay as one
/// AOF in its order.
pub fn decode_all(disk: &SimDisk) -> Result<(), String> {
    for (name, bytes) in disk.files() {
        if is_temp(&name) {
            continue;
        }
        let r = if name.ends_with(".rdb") {
            read_dataset(&bytes, ReadOptions::default()).map(drop)
        } else if name.ends_with(".aof") {
            let len = bytes.len() as u64;
            load_stream(
                &bytes[..],
                Some(len),
                std::path::Path::new(&name),
                &load_options(),
            )
            .map(drop)
        } else if name.ends_with(".manifest") {
            replay_manifest(disk, &name, &bytes)
        } else {
            Ok(())
        };
        r.map_err(|e| format!("{name} does not decode: {e}"))?;
    }
    Ok(())
}

fn replay_manifest(
    disk: &SimDisk,
    name: &str,
    bytes: &[u8],
) -> redis_persist_engine::format::error::Result<()> {
    let m = manifest::parse(bytes)?;
    let dir = name.rsplit_once('/').map_or("", |(d, _)| d).to_owned();
    let names: Vec<Vec<u8>> = m
        .base
        .iter()
        .chain(&m.incr)
        .map(|e| e.name.clone())
        .collect();
    let src = StorageDir { storage: disk, dir };
    let mut ks = Keyspace::with_config(Config::replay());
    replay_files(&src, &names, &mut ks, &load_options()).map(drop)
}

/// The RDB a start under `cfg` would load from `disk`: the AOF's base when it is an RDB
/// preamble, else `dbfilename` when the AOF is off. `None` when it loads no RDB.
pub fn rdb_to_load(disk: &SimDisk, cfg: &PersistConfig) -> Option<String> {
    if cfg.appendonly {
        let mpath = join(
            &cfg.appenddirname,
            &format!("{}.manifest", cfg.appendfilename),
        );
        let m = manifest::parse(&disk.read(&mpath).ok()?).ok()?;
        let base = String::from_utf8(m.base?.name).ok()?;
        return base
            .ends_with(".rdb")
            .then(|| join(&cfg.appenddirname, &base));
    }
    disk.exists(&cfg.dbfilename).then(|| cfg.dbfilename.clone())
}

/// Flips one byte of `path` (chosen by `at`, past the 9-byte header so the file still looks
/// like an RDB) and makes the change durable. Returns the bytes as they were.
pub fn rot(disk: &mut SimDisk, path: &str, at: u16) -> Option<Vec<u8>> {
    let before = disk.read(path).ok()?;
    if before.len() <= 9 {
        return None;
    }
    let mut after = before.clone();
    // Half the time the CRC trailer itself, which only the checksum can notice.
    let i = if at.is_multiple_of(2) {
        after.len() - 1 - usize::from(at / 2) % 8
    } else {
        9 + usize::from(at / 2) % (after.len() - 9)
    };
    after[i] ^= 0x5a;
    write_durably(disk, path, &after)?;
    Some(before)
}

/// Puts `bytes` back as `path`'s durable content.
pub fn write_durably(disk: &mut SimDisk, path: &str, bytes: &[u8]) -> Option<()> {
    disk.create(path).ok()?;
    disk.append(path, bytes).ok()?;
    disk.fsync(path).ok()?;
    disk.fsync_dir(path.rsplit_once('/').map_or("", |(d, _)| d))
        .ok()
}

/// The dataset the dump on `disk` holds as a start at `now` would load it (expired keys and
/// fields dropped), or why it cannot be loaded; `None` when there is no dump.
pub fn dump_at(disk: &SimDisk, cfg: &PersistConfig, now: i64) -> Option<Result<Neutral, String>> {
    let bytes = disk.read(&cfg.dbfilename).ok()?;
    Some(
        read_dataset(&bytes, ReadOptions::default())
            .map(|(ds, _)| {
                let ks = Keyspace::from_dataset_with(Config::default(), &ds);
                from_engine(&ks.to_dataset(Some(now)))
            })
            .map_err(|e| e.to_string()),
    )
}
