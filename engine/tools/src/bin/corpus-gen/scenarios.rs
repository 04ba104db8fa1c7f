//! The scenarios: each is one fresh server with its own config, populated so that the saved file
//! holds a chosen set of types and encodings (thresholds lowered so small data reaches big encodings).
use crate::collections::{hash_field_ttl, hashes, lists, lists_compressed, sets, strings, zsets};
use crate::ctx::Ctx;
use crate::more;
use redis_persist_engine::dataset::Dataset;
use redis_persist_engine::live::{Flavor, ObjectStat, ServerBuild};
use std::io;
use std::path::Path;

/// One corpus case per build.
pub struct Scenario {
    /// Case name (file stem).
    pub name: &'static str,
    /// Why it may not apply to a build.
    pub applies: fn(&ServerBuild) -> Result<(), String>,
    /// Extra server arguments (the server's data dir is given for private files).
    pub config: fn(&ServerBuild, &Path) -> Vec<String>,
    /// Creates the keys.
    pub populate: fn(&mut Ctx) -> io::Result<()>,
    /// Runs after the expectation was read and before SAVE (sets idle times / frequencies).
    pub after_read: Option<fn(&mut Ctx, &Dataset) -> io::Result<()>>,
    /// The per-key statistic the file records under this config.
    pub stat: Option<ObjectStat>,
    /// Whether the build's modules are loaded.
    pub modules: bool,
    /// A failure skips the case with a logged reason instead of failing the run.
    pub optional: bool,
    /// Features the config itself implies.
    pub features: &'static [&'static str],
}

fn always(_: &ServerBuild) -> Result<(), String> {
    Ok(())
}

fn redis_before(b: &ServerBuild, v: (u32, u32, u32)) -> bool {
    b.flavor() == Flavor::Redis && b.version() < v
}

fn needs_functions(b: &ServerBuild) -> Result<(), String> {
    if redis_before(b, (7, 0, 0)) {
        return Err("functions exist from Redis 7.0".into());
    }
    Ok(())
}

fn needs_field_ttl(b: &ServerBuild) -> Result<(), String> {
    let ok = match b.flavor() {
        Flavor::Redis => b.version() >= (7, 4, 0),
        Flavor::Valkey => b.version() >= (9, 0, 0),
    };
    if ok {
        Ok(())
    } else {
        Err("hash field TTLs exist from Redis 7.4 / Valkey 9.0".into())
    }
}

fn needs_modules(b: &ServerBuild) -> Result<(), String> {
    if b.modules.is_empty() {
        Err("this build ships no modules".into())
    } else {
        Ok(())
    }
}

fn needs_slot_info(b: &ServerBuild) -> Result<(), String> {
    if redis_before(b, (7, 4, 0)) {
        Err("per-slot info in files exists from Redis 7.4 / Valkey 8.0".into())
    } else {
        Ok(())
    }
}

/// The name of a compact-encoding threshold on this build (`ziplist` before 7.0).
fn compact(b: &ServerBuild, ty: &str, what: &str) -> String {
    let family = if redis_before(b, (7, 0, 0)) {
        "ziplist"
    } else {
        "listpack"
    };
    format!("--{ty}-max-{family}-{what}")
}

fn args(list: &[&str]) -> Vec<String> {
    list.iter().map(|s| s.to_string()).collect()
}

fn base(name: &'static str, populate: fn(&mut Ctx) -> io::Result<()>) -> Scenario {
    Scenario {
        name,
        applies: always,
        config: |_, _| Vec::new(),
        populate,
        after_read: None,
        stat: None,
        modules: false,
        optional: false,
        features: &[],
    }
}

/// Every scenario, in generation order.
pub fn all() -> Vec<Scenario> {
    vec![
        Scenario {
            config: |_, _| args(&["--rdbcompression", "yes"]),
            features: &["lzf"],
            ..base("strings", strings)
        },
        Scenario {
            config: |_, _| args(&["--rdbcompression", "no"]),
            features: &["rdbcompression-off"],
            ..base("strings-nocompress", strings)
        },
        Scenario {
            config: |b, _| vec![compact(b, "list", "size"), "4".into()],
            ..base("lists", lists)
        },
        Scenario {
            config: |b, _| {
                let mut a = vec![compact(b, "list", "size"), "4".into()];
                a.extend(args(&["--list-compress-depth", "1"]));
                a
            },
            ..base("lists-compressed", lists_compressed)
        },
        Scenario {
            config: |b, _| {
                let mut a = args(&["--set-max-intset-entries", "16"]);
                if !redis_before(b, (7, 2, 0)) {
                    a.extend(args(&["--set-max-listpack-entries", "8"]));
                }
                a
            },
            ..base("sets", sets)
        },
        Scenario {
            config: |b, _| vec![compact(b, "hash", "entries"), "8".into()],
            ..base("hashes", hashes)
        },
        Scenario {
            applies: needs_field_ttl,
            config: |b, _| vec![compact(b, "hash", "entries"), "8".into()],
            ..base("hash-field-ttl", hash_field_ttl)
        },
        Scenario {
            config: |b, _| vec![compact(b, "zset", "entries"), "8".into()],
            ..base("zsets", zsets)
        },
        Scenario {
            config: |_, _| args(&["--stream-node-max-entries", "4"]),
            ..base("streams", more::streams)
        },
        Scenario {
            applies: needs_functions,
            ..base("functions", more::functions)
        },
        Scenario {
            config: |_, _| args(&["--maxmemory-policy", "allkeys-lfu"]),
            after_read: Some(more::set_frequencies),
            stat: Some(ObjectStat::Freq),
            features: &["lfu"],
            ..base("lfu", more::eviction_keys)
        },
        Scenario {
            config: |_, _| args(&["--maxmemory-policy", "allkeys-lru"]),
            after_read: Some(more::set_idle_times),
            stat: Some(ObjectStat::IdleTime),
            features: &["lru"],
            ..base("lru", more::eviction_keys)
        },
        Scenario {
            applies: needs_modules,
            modules: true,
            ..base("modules", more::modules)
        },
        Scenario {
            config: |_, _| args(&["--rdbchecksum", "no"]),
            features: &["checksum-zero"],
            ..base("checksum-off", more::checksum_off)
        },
        Scenario {
            applies: needs_slot_info,
            config: |_, dir| {
                vec![
                    "--cluster-enabled".into(),
                    "yes".into(),
                    "--cluster-config-file".into(),
                    dir.join("nodes.conf").display().to_string(),
                ]
            },
            optional: true,
            features: &["cluster-slot-info"],
            ..base("cluster", more::cluster)
        },
    ]
}
