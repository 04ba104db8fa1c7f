//! Real servers load what the writer writes, at every writer target they can read.
//!
//! For every installed build, every writer target it reads (each `REDIS` version from 6 up to the
//! one it writes; Valkey 9 also `VALKEY080`) and every accepted RDB corpus dataset (from any
//! build's corpus), the writer's file is put in a fresh directory as `dump.rdb` and:
//! - the build's own `redis-check-rdb` must pass it;
//! - the build is started on it (it loads at startup) and its whole dataset, read back over RESP,
//!   must equal the one written, zset scores compared down to the sign of zero; where the target
//!   cannot hold the dataset exactly it is written with `allow_loss`, and only the keys the loss
//!   report names are left out of the comparison;
//! - LRU/LFU metadata (IDLE/FREQ) must come back through `OBJECT IDLETIME` / `OBJECT FREQ`;
//! - for the build's own corpus cases at its own version, `DEBUG DIGEST` must equal that of the
//!   original corpus file loaded by the same build (an oracle independent of RESP readback).
//!
//! Every (build, target, case) triple runs except module values on a build without modules, each
//! skip named; the test asserts that count, derived from the corpus index and the builds.
//! Missing builds are skipped with a message, except under `CI=true`, where they fail.
#[path = "live_support/load.rs"]
mod load;
use load::*;
use redis_persist_engine::corpus::{Format, Index};
use redis_persist_engine::dataset::{Dataset, Value};
use redis_persist_engine::format::rdb::{assess, write_to_vec, Target, WriteOptions};
use redis_persist_engine::live::{require_or_skip, ServerBuild, TempDir};
use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Instant;

/// `ctime` aux field of every written file (servers only log it).
const CTIME: i64 = 1_700_000_000;

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

/// How one (build, target, case) triple went.
#[derive(Default)]
struct PairRun {
    /// The target held the dataset exactly.
    exact: bool,
    /// Compared by `DEBUG DIGEST` with the original file too.
    digest: bool,
    problems: Vec<String>,
}

/// Writes `case` at `target`, checks it with the build's checker, loads it and compares.
fn load_one(build: &ServerBuild, target: Target, case: &Case) -> PairRun {
    let ds = &case.dataset;
    let report = assess(ds, target);
    let mut run = PairRun {
        exact: report.exact(),
        ..PairRun::default()
    };
    let mut opts = case.write_options(target);
    opts.allow_loss = !run.exact;
    let bytes = match write_to_vec(ds, &opts) {
        Ok(b) => b,
        Err(e) => {
            run.problems.push(format!("writer failed: {e}"));
            return run;
        }
    };
    // What the target reported losing is left out of every comparison; functions too when lost.
    let lost: BTreeSet<(u64, Vec<u8>)> = report
        .lost
        .iter()
        .filter_map(|l| Some((l.db?, l.key.clone()?)))
        .collect();
    let mut kept = ds.clone();
    kept.keys.retain(|e| !lost.contains(&(e.db, e.key.clone())));
    if report.lost.iter().any(|l| l.key.is_none()) {
        kept.functions.clear();
    }
    let dir = match TempDir::new("server-load") {
        Ok(d) => d,
        Err(e) => {
            run.problems.push(format!("temp dir: {e}"));
            return run;
        }
    };
    let file = dir.path().join("dump.rdb");
    if let Err(e) = std::fs::write(&file, &bytes) {
        run.problems
            .push(format!("cannot write {}: {e}", file.display()));
        return run;
    }
    let problems = &mut run.problems;
    match build.check_rdb_file(&file) {
        Ok(r) if r.passed => {}
        Ok(r) => problems.push(format!("redis-check-rdb {}", r.verdict())),
        Err(e) => problems.push(format!("redis-check-rdb did not run: {e}")),
    }
    // RediSearch and RedisTimeSeries look up every key once loading ends, which bumps LFU counters
    // and resets idle times: the statistics are checked on the same file loaded without modules.
    let bare_stats = has_eviction_stats(&kept) && !build.modules.is_empty() && !case.has_modules();
    if bare_stats {
        let bare = ServerBuild {
            modules: Vec::new(),
            ..build.clone()
        };
        match start_on_copy(&bare, &file, policy_args(&kept)).and_then(|(dir, s)| {
            let mut c = s.client().map_err(|e| e.to_string())?;
            Ok((dir, s, check_eviction_stats(&mut c, &kept)))
        }) {
            Ok((_, _, p)) => problems.extend(p),
            Err(e) => problems.push(format!("without modules: {e}")),
        }
    }
    let server = match start_in(build, &dir, policy_args(&kept)) {
        Ok(s) => s,
        Err(e) => {
            problems.push(e);
            return run;
        }
    };
    let mut c = match server.client() {
        Ok(c) => c,
        Err(e) => {
            problems.push(e.to_string());
            return run;
        }
    };
    if !bare_stats {
        problems.extend(check_eviction_stats(&mut c, &kept));
    }
    // The digest oracle holds at the build's own version only: written at another, a value may
    // take another load path (a zset's -0 survives as a ZSET_2 double at RDB 9 where the
    // build's own RDB 10 listpack holds 0), so the states are equal only up to that.
    if run.exact && case.origin == build.name && target == own_target(build) {
        problems.extend(compare_with_original(build, &case.file, ds, &mut c));
        run.digest = has_debug(build);
    }
    if let Err(e) = read_back_and_compare_except(&server, &kept, ds, &lost) {
        problems.push(e);
    }
    run
}

/// Per build: pairs run per target (exact, lossy), what was skipped and why, and the failures.
#[derive(Default)]
struct BuildRun {
    per_target: BTreeMap<String, (usize, usize)>,
    digests: usize,
    skipped: Vec<String>,
    failures: Vec<(String, String)>,
    secs: f64,
}

impl BuildRun {
    fn loaded(&self) -> usize {
        self.per_target.values().map(|(e, l)| e + l).sum()
    }
}

/// Whether `build` cannot load `case` at all: module values need the module's type registered.
fn needs_absent_modules(build: &ServerBuild, case: &Case) -> bool {
    case.has_modules() && build.modules.is_empty()
}

fn run_build(build: &ServerBuild, cases: &[Case]) -> BuildRun {
    let start = Instant::now();
    let mut run = BuildRun::default();
    for target in readable_targets(build) {
        for case in cases {
            if needs_absent_modules(build, case) {
                run.skipped.push(format!(
                    "{} at {target}: module values, and {} loads no modules",
                    case.name, build.name
                ));
                continue;
            }
            let pair = load_one(build, target, case);
            let counts = run.per_target.entry(target.to_string()).or_default();
            if pair.exact {
                counts.0 += 1;
            } else {
                counts.1 += 1;
            }
            run.digests += usize::from(pair.digest);
            for p in pair.problems {
                run.failures.push((format!("{} at {target}", case.name), p));
            }
        }
    }
    run.secs = start.elapsed().as_secs_f64();
    run
}

#[test]
fn servers_load_what_we_write_at_every_target_they_read() {
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
    let (mut loaded, mut lossy, mut digests, mut skipped, mut known) = (0, 0, 0, 0, 0);
    let mut expected = 0;
    for (b, run) in &runs {
        // Every target the build reads, times every case it can hold (modules aside).
        let loadable = cases.iter().filter(|c| !needs_absent_modules(b, c)).count();
        expected += readable_targets(b).len() * loadable;
        eprintln!(
            "{}: {} pairs loaded ({} also by DEBUG DIGEST), {} skipped, {} problems, {:.1} s",
            b.name,
            run.loaded(),
            run.digests,
            run.skipped.len(),
            run.failures.len(),
            run.secs
        );
        for (t, (e, l)) in &run.per_target {
            eprintln!("  {t}: {e} exact, {l} written with allow_loss");
            lossy += l;
        }
        for s in &run.skipped {
            eprintln!("  skip {s}");
        }
        loaded += run.loaded();
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
        "{} builds: {loaded} (build, target, case) triples loaded and read back ({lossy} with \
         allow_loss), {digests} also compared by DEBUG DIGEST, {skipped} skipped, {known} known \
         failures, {:.1} s",
        runs.len(),
        started.elapsed().as_secs_f64()
    );
    assert_eq!(
        loaded, expected,
        "not every (build, target, case) triple was loaded"
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
