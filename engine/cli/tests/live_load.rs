//! Real servers load what the writer writes.
//!
//! For every installed build and every corpus dataset (from any build's corpus, not only its own)
//! that the build's RDB version holds exactly, the writer's file is put in a fresh directory as
//! `dump.rdb` and:
//! - the build's own `redis-check-rdb` must pass it;
//! - the build is started on it (it loads at startup) and its whole dataset, read back over RESP,
//!   must equal the one written, zset scores compared down to the sign of zero;
//! - LRU/LFU metadata (IDLE/FREQ) must come back through `OBJECT IDLETIME` / `OBJECT FREQ`;
//! - for the build's own corpus cases, `DEBUG DIGEST` must equal that of the original corpus file
//!   loaded by the same build (a second oracle, independent of RESP readback).
//!
//! The full matrix runs (5 builds x every corpus case, ~280 pairs, ~350 server starts, one thread
//! per build): about 6 s here.
//!
//! Missing builds are skipped with a message, except under `CI=true`, where they fail.
use redis_persist_engine::corpus::{Format, Index};
use redis_persist_engine::dataset::{first_difference, forget_negative_zero, Dataset, Value};
use redis_persist_engine::format::rdb::{assess, write_to_vec, Target, WriteOptions};
use redis_persist_engine::live::{
    all_nonempty_dbs, read_dataset_with, require_or_skip, Client, ReadOptions as LiveReadOptions,
    Reply, RunningServer, ServerBuild, TempDir,
};
use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Instant;

/// `ctime` aux field of every written file (servers only log it).
const CTIME: i64 = 1_700_000_000;

/// An understood failure that is not fixed yet. A listed failure that no longer happens fails the
/// test too, so the list cannot go stale; anything not listed fails as usual.
struct KnownFailure {
    /// Build name, or `*` for every build.
    build: &'static str,
    /// Case name, or `*/<scenario>` for that scenario of every build's corpus.
    case: &'static str,
    /// A substring of the failure message.
    contains: &'static str,
    /// Why it fails.
    why: &'static str,
}

const KNOWN_FAILURES: &[KnownFailure] = &[];

impl KnownFailure {
    fn matches(&self, build: &str, case: &str, msg: &str) -> bool {
        let case_ok = match self.case.strip_prefix('*') {
            Some(suffix) => case.ends_with(suffix),
            None => case == self.case,
        };
        (self.build == "*" || self.build == build) && case_ok && msg.contains(self.contains)
    }
}

/// The RDB version a build writes, as a writer target.
fn target_of(build: &str) -> Target {
    match build {
        "redis-6.2.14" => Target::redis(9),
        "redis-7.0.15" => Target::redis(10),
        "redis-7.4.1" => Target::redis(12),
        "valkey-8.1.8" => Target::redis(11),
        "valkey-9.1.2" => Some(Target::VALKEY_80),
        other => panic!("no target known for build {other}"),
    }
    .expect("supported target")
}

/// One accepted corpus case. Its dataset is the expectation read from the live server that wrote
/// the file (never this project's decoder), and it is what gets written.
struct Case {
    name: String,
    /// The build that wrote the original file.
    origin: String,
    file: PathBuf,
    features: Vec<String>,
    dataset: Dataset,
}

impl Case {
    fn has(&self, feature: &str) -> bool {
        self.features.iter().any(|f| f == feature)
    }

    fn has_modules(&self) -> bool {
        self.dataset
            .keys
            .iter()
            .any(|e| matches!(e.value, Value::Module(_)))
    }

    /// Writer options mirroring how the original was saved (`rdbcompression`, `rdbchecksum`).
    fn write_options(&self, target: Target) -> WriteOptions {
        let mut opts = WriteOptions::new(target, CTIME);
        opts.compression = !self.has("rdbcompression-off");
        opts.checksum = !self.has("checksum-zero");
        opts
    }
}

fn cases() -> Vec<Case> {
    let index = Index::load(&Path::new(env!("CARGO_MANIFEST_DIR")).join("../../corpus"))
        .expect("corpus index");
    index
        .cases
        .iter()
        // Accepted RDB cases written by a real build: an AOF case is loaded by its server in
        // corpus_aof.rs and conform.
        .filter(|c| c.accept && c.format == Format::Rdb)
        .filter_map(|c| {
            Some(Case {
                name: c.name.clone(),
                origin: c.build()?.to_owned(),
                file: index.file(c),
                features: c.features.clone(),
                dataset: index
                    .expected_dataset(c)
                    .unwrap_or_else(|e| panic!("{}: {e}", c.name)),
            })
        })
        .collect()
}

fn show_key(db: u64, key: &[u8]) -> String {
    format!("db {db} key {:?}", String::from_utf8_lossy(key))
}

/// Module types whose saved payload is not a function of the value: RedisBloom's TopK saves its
/// heap array raw, `char *item` pointers included, so every load saves (and DUMPs) new addresses.
/// Their payloads are compared through the module's own commands instead.
const ADDRESS_BEARING_MODULES: &[&str] = &["TopK-TYPE"];

/// What the server is expected to hold after loading `ds`, as RESP readback sees it: no LRU/LFU
/// metadata (checked separately with `OBJECT`), address-bearing module payloads blanked.
fn comparable(ds: &Dataset) -> Dataset {
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

fn select(c: &mut Client, db: u64) -> Result<(), String> {
    c.call(&[b"SELECT", db.to_string().as_bytes()])
        .map(drop)
        .map_err(|e| e.to_string())
}

fn has_eviction_stats(ds: &Dataset) -> bool {
    ds.keys
        .iter()
        .any(|e| e.idle_s.is_some() || e.freq.is_some())
}

/// Server arguments under which the file's LRU/LFU metadata is loaded and readable: FREQ is only
/// loaded under an LFU policy (IDLE under any other), and `--lfu-decay-time 0` stops the counters
/// decaying by the minute between load and `OBJECT FREQ`.
fn policy_args(ds: &Dataset) -> &'static [&'static str] {
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
fn check_eviction_stats(c: &mut Client, ds: &Dataset) -> Vec<String> {
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
fn has_debug(build: &ServerBuild) -> bool {
    build.has_enable_debug_command() || build.version() < (7, 0, 0)
}

fn debug_digest(c: &mut Client) -> Result<Vec<u8>, String> {
    c.call(&[b"DEBUG", b"DIGEST"])
        .and_then(Reply::into_bytes)
        .map_err(|e| e.to_string())
}

/// `DEBUG DIGEST-VALUE` of every key of `ds`, to name the keys behind a digest mismatch.
fn digest_values(c: &mut Client, ds: &Dataset) -> BTreeMap<(u64, Vec<u8>), String> {
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
fn module_view(c: &mut Client, db: u64, key: &[u8], name: &str) -> Result<Vec<Reply>, String> {
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
fn start_on_copy(
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
fn start_in(build: &ServerBuild, dir: &TempDir, extra: &[&str]) -> Result<RunningServer, String> {
    let mut args = vec!["--dbfilename", "dump.rdb"];
    args.extend_from_slice(extra);
    RunningServer::start(build, dir.path(), &args)
        .map_err(|e| format!("server did not load the file: {e}"))
}

/// Reads the whole dataset of a started server and compares it with `ds`.
fn read_back_and_compare(server: &RunningServer, ds: &Dataset) -> Result<(), String> {
    let mut c = server.client().map_err(|e| e.to_string())?;
    let mut dbs: BTreeSet<u64> = ds.keys.iter().map(|e| e.db).collect();
    dbs.extend(all_nonempty_dbs(&mut c).map_err(|e| e.to_string())?);
    let dbs: Vec<u64> = dbs.into_iter().collect();
    // Without PEXPIRETIME (6.2) only a relative PTTL is readable: give the absolute expiries.
    let known: BTreeMap<(u64, Vec<u8>), i64> = ds
        .keys
        .iter()
        .filter_map(|e| Some(((e.db, e.key.clone()), e.expire_ms?)))
        .collect();
    let opts = LiveReadOptions {
        dbs: &dbs,
        known_expiries: (server.build().version() < (7, 0, 0)).then_some(&known),
    };
    let got = read_dataset_with(&mut c, &opts)
        .map_err(|e| server.fail(format!("readback: {e}")).to_string())?;
    let want = comparable(ds);
    let mut got = comparable(&got);
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
fn compare_with_original(build: &ServerBuild, case: &Case, ours: &mut Client) -> Vec<String> {
    let ds = &case.dataset;
    let (_dir, original) = match start_on_copy(build, &case.file, &[]) {
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

/// Writes `case` at `target`, checks it with the build's checker, loads it and compares.
/// Returns every problem found.
fn load_one(build: &ServerBuild, target: Target, case: &Case) -> Vec<String> {
    let ds = &case.dataset;
    let bytes = match write_to_vec(ds, &case.write_options(target)) {
        Ok(b) => b,
        Err(e) => return vec![format!("writer failed: {e}")],
    };
    let dir = match TempDir::new("server-load") {
        Ok(d) => d,
        Err(e) => return vec![format!("temp dir: {e}")],
    };
    let file = dir.path().join("dump.rdb");
    if let Err(e) = std::fs::write(&file, &bytes) {
        return vec![format!("cannot write {}: {e}", file.display())];
    }
    let mut problems = Vec::new();
    match build.check_rdb_file(&file) {
        Ok(r) if r.passed => {}
        Ok(r) => problems.push(format!("redis-check-rdb {}", r.verdict())),
        Err(e) => problems.push(format!("redis-check-rdb did not run: {e}")),
    }
    // RediSearch and RedisTimeSeries look up every key once loading ends, which bumps LFU counters
    // and resets idle times: the statistics are checked on the same file loaded without modules.
    let bare_stats = has_eviction_stats(ds) && !build.modules.is_empty() && !case.has_modules();
    if bare_stats {
        let bare = ServerBuild {
            modules: Vec::new(),
            ..build.clone()
        };
        match start_on_copy(&bare, &file, policy_args(ds)).and_then(|(dir, s)| {
            let mut c = s.client().map_err(|e| e.to_string())?;
            Ok((dir, s, check_eviction_stats(&mut c, ds)))
        }) {
            Ok((_, _, p)) => problems.extend(p),
            Err(e) => problems.push(format!("without modules: {e}")),
        }
    }
    let server = match start_in(build, &dir, policy_args(ds)) {
        Ok(s) => s,
        Err(e) => {
            problems.push(e);
            return problems;
        }
    };
    let mut c = match server.client() {
        Ok(c) => c,
        Err(e) => {
            problems.push(e.to_string());
            return problems;
        }
    };
    if !bare_stats {
        problems.extend(check_eviction_stats(&mut c, ds));
    }
    if case.origin == build.name {
        problems.extend(compare_with_original(build, case, &mut c));
    }
    if let Err(e) = read_back_and_compare(&server, ds) {
        problems.push(e);
    }
    problems
}

/// Per build: how many pairs ran, what was skipped and why, and the failures.
#[derive(Default)]
struct BuildRun {
    loaded: usize,
    digests: usize,
    skipped: Vec<String>,
    failures: Vec<(String, String)>,
    secs: f64,
}

fn run_build(build: &ServerBuild, cases: &[Case]) -> BuildRun {
    let start = Instant::now();
    let target = target_of(build.name);
    let mut run = BuildRun::default();
    for case in cases {
        if case.has_modules() && build.modules.is_empty() {
            run.skipped.push(format!(
                "{}: module values, and {} loads no modules",
                case.name, build.name
            ));
            continue;
        }
        let report = assess(&case.dataset, target);
        if !report.exact() {
            let first = report.lost.iter().chain(&report.filled).next();
            run.skipped.push(format!(
                "{}: {target} does not hold it exactly ({} lost, {} filled; e.g. {})",
                case.name,
                report.lost.len(),
                report.filled.len(),
                first.map(ToString::to_string).unwrap_or_default()
            ));
            continue;
        }
        run.loaded += 1;
        if case.origin == build.name && has_debug(build) {
            run.digests += 1;
        }
        for p in load_one(build, target, case) {
            run.failures.push((case.name.clone(), p));
        }
    }
    run.secs = start.elapsed().as_secs_f64();
    run
}

#[test]
fn servers_load_what_we_write() {
    let cases = cases();
    assert!(!cases.is_empty(), "corpus/index.json lists no cases");
    let builds: Vec<ServerBuild> = ServerBuild::known_names()
        .into_iter()
        .filter_map(require_or_skip)
        .collect();
    let started = Instant::now();
    // One thread per build: the servers are separate processes that mostly wait on each other.
    let runs: Vec<(&ServerBuild, BuildRun)> = std::thread::scope(|s| {
        let handles: Vec<_> = builds
            .iter()
            .map(|b| (b, s.spawn(|| run_build(b, &cases))))
            .collect();
        handles
            .into_iter()
            .map(|(b, h)| (b, h.join().expect("build thread panicked")))
            .collect()
    });
    let mut failures = Vec::new();
    let mut known_seen = BTreeSet::new();
    let (mut loaded, mut digests, mut skipped, mut known) = (0, 0, 0, 0);
    for (b, run) in &runs {
        eprintln!(
            "{}: {} cases loaded ({} also by DEBUG DIGEST), {} skipped, {} problems, {:.1} s",
            b.name,
            run.loaded,
            run.digests,
            run.skipped.len(),
            run.failures.len(),
            run.secs
        );
        for s in &run.skipped {
            eprintln!("  skip {s}");
        }
        loaded += run.loaded;
        digests += run.digests;
        skipped += run.skipped.len();
        for (case, msg) in &run.failures {
            match KNOWN_FAILURES
                .iter()
                .position(|k| k.matches(b.name, case, msg))
            {
                Some(i) => {
                    eprintln!("  KNOWN FAILURE {} loading {case}: {msg}", b.name);
                    known_seen.insert(i);
                    known += 1;
                }
                None => failures.push(format!("{} loading {case}: {msg}", b.name)),
            }
        }
    }
    for (i, k) in KNOWN_FAILURES.iter().enumerate() {
        let ran = runs
            .iter()
            .any(|(b, _)| k.build == "*" || b.name == k.build);
        if ran && !known_seen.contains(&i) {
            failures.push(format!(
                "known failure no longer happens, remove it from KNOWN_FAILURES: {} {} {:?}",
                k.build, k.case, k.contains
            ));
        } else if known_seen.contains(&i) {
            eprintln!("known failure {} {}: {}", k.build, k.case, k.why);
        }
    }
    eprintln!(
        "{} builds: {loaded} (build, case) pairs loaded, {digests} compared by DEBUG DIGEST, \
         {skipped} pairs skipped, {known} known failures, {:.1} s",
        runs.len(),
        started.elapsed().as_secs_f64()
    );
    assert!(
        runs.is_empty() || loaded > 0,
        "no (build, case) pair was loaded"
    );
    assert!(
        failures.is_empty(),
        "{} failures:\n{}",
        failures.len(),
        failures.join("\n")
    );
}

#[test]
fn downgrade_of_field_ttls_is_refused_then_loads_in_7_0() {
    let corpus = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../corpus");
    let input = corpus.join("rdb/redis-7.4.1/hash-field-ttl.rdb");
    let original = redis_persist_engine::corpus::read_expectation(
        &corpus.join("rdb/redis-7.4.1/hash-field-ttl.json"),
    )
    .expect("expectation");
    let ttl_keys: Vec<String> = original
        .keys
        .iter()
        .filter(|e| matches!(&e.value, Value::Hash(h) if h.iter().any(|f| f.expire_ms.is_some())))
        .map(|e| show_key(e.db, &e.key))
        .collect();
    assert!(!ttl_keys.is_empty(), "the case has hash field TTLs");
    let dir = TempDir::new("server-load-convert").expect("temp dir");
    let out = dir.path().join("out.rdb");
    let convert = |extra: &[&str]| {
        Command::new(env!("CARGO_BIN_EXE_redis-persist"))
            .arg("convert")
            .arg(&input)
            .arg(&out)
            .args(["--rdb-version", "10"])
            .args(extra)
            .output()
            .expect("redis-persist runs")
    };

    let refused = convert(&[]);
    let err = String::from_utf8_lossy(&refused.stderr);
    assert_eq!(refused.status.code(), Some(1), "stderr: {err}");
    assert!(err.contains("hash field TTLs"), "stderr: {err}");
    for k in &ttl_keys {
        assert!(err.contains(k.as_str()), "stderr does not name {k}: {err}");
    }
    assert!(
        !out.exists(),
        "a refused conversion wrote {}",
        out.display()
    );
    let left: Vec<_> = std::fs::read_dir(dir.path()).unwrap().flatten().collect();
    assert!(left.is_empty(), "a refused conversion left {left:?}");

    let lossy = convert(&["--allow-loss"]);
    let err = String::from_utf8_lossy(&lossy.stderr);
    assert_eq!(lossy.status.code(), Some(0), "stderr: {err}");
    for k in &ttl_keys {
        assert!(
            err.lines().any(|l| l.contains("lost at REDIS0010")
                && l.contains(k.as_str())
                && l.contains("hash field TTLs")),
            "stderr does not list the loss of {k}: {err}"
        );
    }
    let bytes = std::fs::read(&out).expect("output written");
    assert_eq!(&bytes[..9], b"REDIS0010");

    let Some(build) = require_or_skip("redis-7.0.15") else {
        return;
    };
    let check = build.check_rdb_file(&out).expect("redis-check-rdb runs");
    assert!(check.passed, "redis-check-rdb: {}", check.output);
    let (_dir, server) = start_on_copy(&build, &out, &[]).unwrap_or_else(|e| panic!("{e}"));
    let mut expected = original.clone();
    for e in &mut expected.keys {
        if let Value::Hash(h) = &mut e.value {
            h.iter_mut().for_each(|f| f.expire_ms = None);
        }
    }
    if let Err(e) = read_back_and_compare(&server, &expected) {
        panic!("redis-7.0.15 on the converted file: {e}");
    }
}
