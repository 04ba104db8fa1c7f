//! Shared by the live loading tests: the targets a build reads, starting it on a file, reading
//! its dataset back over RESP, LRU/LFU statistics, `DEBUG DIGEST` against the original file.
use redis_persist_engine::dataset::{
    first_difference, forget_negative_zero, forget_unreported, Dataset, Value,
};
use redis_persist_engine::format::rdb::Target;
use redis_persist_engine::live::{
    read_server_dataset, Client, Reply, RunningServer, ServerBuild, TempDir,
};
use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

pub fn show_key(db: u64, key: &[u8]) -> String {
    format!("db {db} key {:?}", String::from_utf8_lossy(key))
}

/// Module types whose saved payload is not a function of the value: RedisBloom's TopK saves its
/// heap array raw, `char *item` pointers included, so every load saves (and DUMPs) new addresses.
/// Their payloads are compared through the module's own commands instead.
pub const ADDRESS_BEARING_MODULES: &[&str] = &["TopK-TYPE"];

/// What the server is expected to hold after loading `ds`, as RESP readback sees it: no LRU/LFU
/// metadata (checked separately with `OBJECT`), address-bearing module payloads blanked.
pub fn comparable(ds: &Dataset) -> Dataset {
    let mut d = ds.clone();
    for e in &mut d.keys {
        e.idle_s = None;
        e.freq = None;
        if let Value::Module(m) = &mut e.value {
            if ADDRESS_BEARING_MODULES.contains(&m.name.as_str()) {
                m.payload.clear();
            }
        }
    }
    d
}

pub fn select(c: &mut Client, db: u64) -> Result<(), String> {
    c.call(&[b"SELECT", db.to_string().as_bytes()])
        .map(drop)
        .map_err(|e| e.to_string())
}

pub fn has_eviction_stats(ds: &Dataset) -> bool {
    ds.keys
        .iter()
        .any(|e| e.idle_s.is_some() || e.freq.is_some())
}

/// Server arguments under which the file's LRU/LFU metadata is loaded and readable: FREQ is only
/// loaded under an LFU policy (IDLE under any other), and `--lfu-decay-time 0` stops the counters
/// decaying by the minute between load and `OBJECT FREQ`.
pub fn policy_args(ds: &Dataset) -> &'static [&'static str] {
    if ds.keys.iter().any(|e| e.freq.is_some()) {
        &["--maxmemory-policy", "allkeys-lfu", "--lfu-decay-time", "0"]
    } else if ds.keys.iter().any(|e| e.idle_s.is_some()) {
        &["--maxmemory-policy", "allkeys-lru"]
    } else {
        &[]
    }
}

/// Compares `OBJECT FREQ` / `OBJECT IDLETIME` of every key with the file's FREQ / IDLE. Must come
/// before anything reads the keys: every lookup updates these statistics.
pub fn check_eviction_stats(c: &mut Client, ds: &Dataset) -> Vec<String> {
    // The LRU clock ticks in whole seconds and the load happened a moment ago.
    const IDLE_SLACK_S: i64 = 30;
    let mut problems = Vec::new();
    for e in &ds.keys {
        let (sub, want): (&[u8], i64) = match (e.freq, e.idle_s) {
            (Some(f), _) => (b"FREQ", i64::from(f)),
            (None, Some(i)) => (b"IDLETIME", i as i64),
            (None, None) => continue,
        };
        let got = select(c, e.db).and_then(|()| {
            c.call(&[b"OBJECT", sub, &e.key])
                .and_then(|r| r.as_int())
                .map_err(|e| e.to_string())
        });
        let ok = match (&got, e.freq) {
            (Ok(g), Some(_)) => *g == want,
            // One second of slack below for the coarse clock.
            (Ok(g), None) => (want - 1..=want + IDLE_SLACK_S).contains(g),
            (Err(_), _) => false,
        };
        if !ok {
            problems.push(format!(
                "{}: OBJECT {} is {got:?}, the file says {want}",
                show_key(e.db, &e.key),
                String::from_utf8_lossy(sub)
            ));
        }
    }
    let _ = select(c, 0);
    problems
}

/// Whether this build answers `DEBUG DIGEST`: 7.0+ and Valkey with `--enable-debug-command yes`
/// (which the harness passes), 6.2 unconditionally.
pub fn has_debug(build: &ServerBuild) -> bool {
    build.has_enable_debug_command() || build.version() < (7, 0, 0)
}

pub fn debug_digest(c: &mut Client) -> Result<Vec<u8>, String> {
    c.call(&[b"DEBUG", b"DIGEST"])
        .and_then(Reply::into_bytes)
        .map_err(|e| e.to_string())
}

/// `DEBUG DIGEST-VALUE` of every key of `ds`, to name the keys behind a digest mismatch.
pub fn digest_values(c: &mut Client, ds: &Dataset) -> BTreeMap<(u64, Vec<u8>), String> {
    let mut out = BTreeMap::new();
    for e in &ds.keys {
        let v = select(c, e.db).and_then(|()| {
            c.call(&[b"DEBUG", b"DIGEST-VALUE", &e.key])
                .map(|r| format!("{r:?}"))
                .map_err(|e| e.to_string())
        });
        out.insert((e.db, e.key.clone()), v.unwrap_or_else(|e| e));
    }
    let _ = select(c, 0);
    out
}

/// The module's own view of an address-bearing module value.
pub fn module_view(c: &mut Client, db: u64, key: &[u8], name: &str) -> Result<Vec<Reply>, String> {
    select(c, db)?;
    let cmds: &[&[&[u8]]] = match name {
        "TopK-TYPE" => &[&[b"TOPK.LIST", key, b"WITHCOUNT"], &[b"TOPK.INFO", key]],
        _ => &[],
    };
    let view = cmds
        .iter()
        .map(|cmd| c.call(cmd).map_err(|e| e.to_string()))
        .collect();
    select(c, 0)?;
    view
}

/// Starts `build` on `rdb` (copied into a fresh directory as `dump.rdb`).
pub fn start_on_copy(
    build: &ServerBuild,
    rdb: &Path,
    extra: &[&str],
) -> Result<(TempDir, RunningServer), String> {
    let dir = TempDir::new("server-load").map_err(|e| e.to_string())?;
    std::fs::copy(rdb, dir.path().join("dump.rdb")).map_err(|e| e.to_string())?;
    let server = start_in(build, &dir, extra)?;
    Ok((dir, server))
}

/// Starts `build` on the `dump.rdb` in `dir`.
pub fn start_in(
    build: &ServerBuild,
    dir: &TempDir,
    extra: &[&str],
) -> Result<RunningServer, String> {
    let mut args = vec!["--dbfilename", "dump.rdb"];
    args.extend_from_slice(extra);
    RunningServer::start(build, dir.path(), &args)
        .map_err(|e| format!("server did not load the file: {e}"))
}

/// Reads the whole dataset of a started server and compares it with `ds`.
pub fn read_back_and_compare(server: &RunningServer, ds: &Dataset) -> Result<(), String> {
    read_back_and_compare_except(server, ds, ds, &BTreeSet::new())
}

/// As [`read_back_and_compare`], leaving the keys of `lost` out of both sides: what a target
/// reported it cannot hold is not compared, and every other key of `ds` must come back whole.
/// `written` is everything written, lost keys included (their absolute expiries are needed to
/// read a 6.2 server's relative PTTLs). Fields `ds` leaves unset (a stream's counters, consumer
/// active times: the expectation was read from a server that kept none) are not compared; the
/// loader derives them, or the writer fills in what a loader of the target assumes.
pub fn read_back_and_compare_except(
    server: &RunningServer,
    ds: &Dataset,
    written: &Dataset,
    lost: &BTreeSet<(u64, Vec<u8>)>,
) -> Result<(), String> {
    let got = read_server_dataset(server, written)?;
    let mut want = comparable(ds);
    let mut got = comparable(&got);
    let kept = |e: &redis_persist_engine::dataset::Entry| !lost.contains(&(e.db, e.key.clone()));
    want.keys.retain(kept);
    got.keys.retain(kept);
    forget_unreported(&want, &mut got);
    if server.build().version() >= (7, 0, 0) {
        forget_negative_zero(&want, &mut got);
    }
    match first_difference(&want, &got) {
        None => Ok(()),
        Some(d) => Err(format!(
            "read back differs: {d} (log {})",
            server.log_path().display()
        )),
    }
}

/// Compares what only a second server can tell: `DEBUG DIGEST` and address-bearing module values
/// against the same build loading the original corpus file.
pub fn compare_with_original(
    build: &ServerBuild,
    original_file: &Path,
    ds: &Dataset,
    ours: &mut Client,
) -> Vec<String> {
    let (_dir, original) = match start_on_copy(build, original_file, &[]) {
        Ok(x) => x,
        Err(e) => return vec![format!("original corpus file: {e}")],
    };
    let mut theirs = match original.client() {
        Ok(c) => c,
        Err(e) => return vec![e.to_string()],
    };
    let mut problems = Vec::new();
    if has_debug(build) {
        match (debug_digest(ours), debug_digest(&mut theirs)) {
            (Ok(a), Ok(b)) if a == b => {}
            (Ok(a), Ok(b)) => {
                let (mine, orig) = (digest_values(ours, ds), digest_values(&mut theirs, ds));
                let differing: Vec<String> = mine
                    .iter()
                    .filter(|(k, v)| orig.get(*k) != Some(*v))
                    .take(5)
                    .map(|((db, k), _)| show_key(*db, k))
                    .collect();
                let detail = if differing.is_empty() {
                    "every DEBUG DIGEST-VALUE agrees: expiries or key sets differ".into()
                } else {
                    format!("DEBUG DIGEST-VALUE differs for {}", differing.join(", "))
                };
                problems.push(format!(
                    "DEBUG DIGEST {} differs from the original file's {} ({detail})",
                    String::from_utf8_lossy(&a),
                    String::from_utf8_lossy(&b)
                ));
            }
            (a, b) => problems.push(format!("DEBUG DIGEST failed: ours {a:?}, original {b:?}")),
        }
    }
    for e in &ds.keys {
        let Value::Module(m) = &e.value else { continue };
        if !ADDRESS_BEARING_MODULES.contains(&m.name.as_str()) {
            continue;
        }
        let a = module_view(ours, e.db, &e.key, &m.name);
        let b = module_view(&mut theirs, e.db, &e.key, &m.name);
        if a != b || a.is_err() {
            problems.push(format!(
                "{} ({}): ours {a:?}, original {b:?}",
                show_key(e.db, &e.key),
                m.name
            ));
        }
    }
    problems
}

/// An understood failure that is not fixed yet. A listed failure that no longer happens fails the
/// test too, so the list cannot go stale; anything not listed fails as usual.
pub struct KnownFailure {
    /// Build name, or `*` for every build.
    pub build: &'static str,
    /// Case name, or `*/<scenario>` for that scenario of every build's corpus.
    pub case: &'static str,
    /// A substring of the failure message.
    pub contains: &'static str,
    /// Why it fails.
    pub why: &'static str,
}

pub const KNOWN_FAILURES: &[KnownFailure] = &[];

impl KnownFailure {
    pub fn matches(&self, build: &str, case: &str, msg: &str) -> bool {
        let case_ok = match self.case.strip_prefix('*') {
            Some(suffix) => case.ends_with(suffix),
            None => case == self.case,
        };
        (self.build == "*" || self.build == build) && case_ok && msg.contains(self.contains)
    }
}

/// The writer targets a build loads: every `REDIS` version from 6 up to the one it writes (a
/// server refuses only newer versions), and Valkey 9's own `VALKEY080`, whose loader reads
/// `REDIS` files up to RDB 11 (Valkey 9 refuses 12 and up, Redis's versions since the fork).
pub fn readable_targets(build: &ServerBuild) -> Vec<Target> {
    let top = if build.magic == "VALKEY" {
        11
    } else {
        build.rdb_version
    };
    let mut out: Vec<Target> = (6..=top).filter_map(Target::redis).collect();
    if build.magic == "VALKEY" {
        out.push(Target::VALKEY_80);
    }
    out
}

/// The target a build writes itself.
pub fn own_target(build: &ServerBuild) -> Target {
    if build.magic == "VALKEY" {
        Target::VALKEY_80
    } else {
        Target::redis(build.rdb_version).expect("a writer target")
    }
}
