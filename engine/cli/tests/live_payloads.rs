//! DUMP payloads against real servers, for every installed build:
//! - every key's recorded `DUMP` payload (`corpus/rdb/<build>/*.dumps.json`) decodes to the key's
//!   expected value (`conform`'s payload rows, reference engine);
//! - our `payload encode` of every expected value at the build's own RDB version is accepted by
//!   its `RESTORE` and reads back equal (`conform --server`'s payload rows);
//! - `payload convert` of every recorded payload to each older build's version is accepted by
//!   that older build's `RESTORE`, and where the conversion loses nothing, reads back equal.
//!
//! Servers start on 127.0.0.1 with a free port and a temp dir. Missing builds are skipped with a
//! message, except under `CI=true`, where they fail.
use redis_persist_engine::corpus::{dumps, Dumps, Format, Index};
use redis_persist_engine::dataset::{
    first_difference, forget_negative_zero, Dataset, Entry, Value,
};
use redis_persist_engine::format::rdb::{payload, ReadOptions, Target, Thresholds};
use redis_persist_engine::live::{
    all_nonempty_dbs, read_dataset_with, require_or_skip, restore, ReadOptions as LiveReadOptions,
    RunningServer, ServerBuild, TempDir,
};
use std::path::Path;
use std::process::Command;

const BUILDS: [&str; 5] = [
    "redis-6.2.14",
    "redis-7.0.15",
    "valkey-8.1.8",
    "redis-7.4.1",
    "valkey-9.1.2",
];

fn corpus() -> std::path::PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../corpus")
}

fn bin() -> &'static str {
    env!("CARGO_BIN_EXE_redis-persist")
}

fn target_of(b: &ServerBuild) -> Target {
    if b.magic == "VALKEY" {
        Target::VALKEY_80
    } else {
        Target::redis(b.rdb_version).expect("a writer target")
    }
}

/// The builds whose RDB version is below `b`'s (Valkey 9's `VALKEY080` ranks as RDB 11 plus).
fn older_than(b: &ServerBuild, all: &[ServerBuild]) -> Vec<ServerBuild> {
    let rank = |x: &ServerBuild| {
        if x.magic == "VALKEY" {
            115
        } else {
            x.rdb_version * 10
        }
    };
    all.iter().filter(|o| rank(o) < rank(b)).cloned().collect()
}

fn conform(args: &[&str]) -> String {
    let o = Command::new(bin())
        .arg("conform")
        .arg("--corpus")
        .arg(corpus())
        .args(args)
        .output()
        .expect("conform runs");
    let out = String::from_utf8_lossy(&o.stdout).into_owned();
    assert!(o.status.success(), "{out}");
    out
}

#[test]
fn recorded_payloads_decode_and_our_payloads_restore_on_every_build() {
    for name in BUILDS {
        let Some(b) = require_or_skip(name) else {
            continue;
        };
        let filter = format!("{name}/");
        let out = conform(&["--filter", &filter]);
        // Rows only: the header also names the "(payloads)" rows it counts.
        let rows = out
            .lines()
            .filter(|l| !l.starts_with("conform:") && l.contains("(payloads)"))
            .count();
        // One row per accepted RDB case of the build with recorded payloads, all passing.
        let index = Index::load(&corpus()).unwrap();
        let recorded = index
            .cases
            .iter()
            .filter(|c| c.name.starts_with(&filter) && c.accept && c.format == Format::Rdb)
            .filter(|c| dumps::path_for(&index.file(c)).is_file())
            .count();
        assert!(recorded > 0, "{name}: no recorded payloads in the corpus");
        let ok = out
            .lines()
            .filter(|l| l.starts_with("pass") && l.contains("(payloads)"))
            .count();
        assert_eq!((rows, ok), (recorded, recorded), "{name}\n{out}");
        let out = conform(&[
            "--server",
            b.binary.to_str().unwrap(),
            "--filter",
            &filter,
            "--jobs",
            "2",
        ]);
        let passed = out
            .lines()
            .filter(|l| l.starts_with("pass") && l.contains("(payloads)"))
            .count();
        // Every case of a build's own corpus fits its own version.
        assert_eq!(passed, rows, "{name}: payload rows not all passed\n{out}");
    }
}

/// The CLI verb end to end on one real payload per build: decode, encode back at the same
/// version (the same value), convert to RDB 9 with --allow-loss.
#[test]
fn the_payload_verb_round_trips_a_real_payload() {
    let d = Dumps::read(&corpus().join("rdb/redis-7.0.15/hashes.dumps.json")).unwrap();
    let hex: String = d.dumps[0]
        .payload
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect();
    let run = |args: &[&str]| {
        let o = Command::new(bin())
            .arg("payload")
            .args(args)
            .output()
            .unwrap();
        assert!(
            o.status.success(),
            "{args:?}: {}",
            String::from_utf8_lossy(&o.stderr)
        );
        String::from_utf8_lossy(&o.stdout).into_owned()
    };
    let json = run(&["decode", "--hex", &hex]);
    assert!(json.contains("\"checksum\": \"verified\"") && json.contains("\"rdb_version\": 10"));
    let tmp = TempDir::new("payload-cli").unwrap();
    let f = tmp.path().join("p.json");
    std::fs::write(&f, &json).unwrap();
    let again = run(&["encode", f.to_str().unwrap(), "--rdb-version", "10"]);
    assert_eq!(
        again.trim(),
        hex,
        "our RDB 10 encoding of Redis 7.0.15's payload"
    );
    let older = run(&[
        "convert",
        "--hex",
        &hex,
        "--rdb-version",
        "9",
        "--allow-loss",
    ]);
    let back = run(&["decode", "--hex", older.trim()]);
    assert!(back.contains("\"rdb_version\": 9"), "{back}");
}

fn expectation(index: &Index, c: &redis_persist_engine::corpus::Case) -> Dataset {
    let mut d = index.expected_dataset(c).unwrap();
    d.canonicalize();
    d
}

#[test]
fn converted_payloads_are_accepted_by_older_builds() {
    let installed: Vec<ServerBuild> = BUILDS.iter().filter_map(|n| require_or_skip(n)).collect();
    let index = Index::load(&corpus()).unwrap();
    let (mut restored, mut compared) = (0, 0);
    let (mut total, mut without_modules, mut no_type) = (0, 0, 0);
    for b in &installed {
        let older = older_than(b, &installed);
        for c in index.cases.iter().filter(|c| {
            c.origin.build.as_deref() == Some(b.name) && c.format == Format::Rdb && c.accept
        }) {
            let path = dumps::path_for(&index.file(c));
            if !path.is_file() {
                continue;
            }
            let recorded = Dumps::read(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
            let want = expectation(&index, c);
            for o in &older {
                let t = target_of(o);
                let tmp = TempDir::new("payload-older").unwrap();
                let srv = RunningServer::start(o, tmp.path(), &["--sanitize-dump-payload", "yes"])
                    .unwrap();
                let mut client = srv.client().unwrap();
                let mut exact: Vec<Entry> = Vec::new();
                for r in &recorded.dumps {
                    let (_, value, attrs, _) =
                        payload::decode_entry(&r.payload, ReadOptions::default()).unwrap();
                    total += 1;
                    if matches!(value, Value::Module(_)) && o.modules.is_empty() {
                        without_modules += 1;
                        continue;
                    }
                    let (p, report) =
                        match payload::encode_value(&value, &attrs, t, Thresholds::default(), true)
                        {
                            Ok(x) => x,
                            // Only a type the older version lacks may be refused: arrays
                            // (RDB 14), streams (RDB 9), module values (RDB 8).
                            Err(e) => {
                                let lacks = match value {
                                    Value::Array(_) => t.level() < 14,
                                    Value::Stream(_) => t.level() < 9,
                                    Value::Module(_) => t.level() < 8,
                                    _ => false,
                                };
                                assert!(
                                    lacks,
                                    "{}: payload of {:?} refused for {t}: {e}",
                                    c.name,
                                    String::from_utf8_lossy(&r.key)
                                );
                                no_type += 1;
                                continue;
                            }
                        };
                    let e = want
                        .keys
                        .iter()
                        .find(|e| (e.db, &e.key) == (r.db, &r.key))
                        .expect("every payload's key is expected");
                    if let Err(m) = restore(&mut client, r.db, &r.key, &p, e.expire_ms).unwrap() {
                        panic!(
                            "{}: {} refused our {t} payload of {} key {:?}: {m}",
                            c.name,
                            o.name,
                            b.name,
                            String::from_utf8_lossy(&r.key)
                        );
                    }
                    restored += 1;
                    if report.exact() && !matches!(value, Value::Module(_)) {
                        exact.push(Entry {
                            idle_s: None,
                            freq: None,
                            ..e.clone()
                        });
                    }
                }
                let dbs = all_nonempty_dbs(&mut client).unwrap();
                let known = want
                    .keys
                    .iter()
                    .filter_map(|e| Some(((e.db, e.key.clone()), e.expire_ms?)))
                    .collect();
                let mut got = read_dataset_with(
                    &mut client,
                    &LiveReadOptions {
                        dbs: &dbs,
                        known_expiries: Some(&known),
                    },
                )
                .unwrap();
                got.keys
                    .retain(|g| exact.iter().any(|e| (e.db, &e.key) == (g.db, &g.key)));
                let mut w = Dataset {
                    keys: exact,
                    ..Dataset::default()
                };
                w.canonicalize();
                got.functions.clear();
                forget_negative_zero(&w, &mut got);
                if let Some(d) = first_difference(&w, &got) {
                    panic!("{} converted for {}: {d}", c.name, o.name);
                }
                compared += w.keys.len();
            }
        }
    }
    eprintln!(
        "{total} (payload, older build) pairs: {restored} converted payloads restored, \
         {compared} of them read back equal (the rest lossy), {without_modules} module values \
         on builds without modules, {no_type} of a type the older version lacks"
    );
    // Every pair is accounted for: restored (a refusal fails above), or skipped for a reason.
    assert_eq!(restored + without_modules + no_type, total);
    if installed.len() > 1 {
        assert!(restored > 0, "no payload converted for an older build");
    }
}
