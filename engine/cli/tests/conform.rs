//! `redis-persist conform`: the reference passes every case, a real server passes or skips with a
//! reason, and deliberately wrong decoders fail exactly the cases their defect touches, with a
//! precise first difference.
use redis_persist_engine::corpus::{dumps, Filter, Format, Index};
use redis_persist_engine::live::{require_or_skip, under_ci, ServerBuild};
use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

fn corpus() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../corpus")
}

fn conform(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_redis-persist"))
        .arg("conform")
        .arg("--corpus")
        .arg(corpus())
        .args(args)
        .output()
        .expect("redis-persist runs")
}

fn text(o: &Output) -> String {
    String::from_utf8_lossy(&o.stdout).into_owned()
}

/// One row of the report: status (`pass`, `skip`, `FAIL`), case, direction (`""`, `"(write)"`,
/// `"(payloads)"`) and what follows (a skip's reason, a failure's message).
struct Row {
    status: String,
    name: String,
    kind: String,
    rest: String,
}

fn rows(out: &str) -> Vec<Row> {
    out.lines()
        .filter_map(|l| {
            let (status, l) = l.split_once("  ")?;
            if !["pass", "skip", "FAIL"].contains(&status) {
                return None;
            }
            let l = l.trim_start();
            let (name, rest) = l.split_once(' ').unwrap_or((l, ""));
            let rest = rest.trim();
            let (kind, rest) = match rest.strip_prefix('(').and_then(|r| r.split_once(')')) {
                Some((k, r)) => (format!("({k})"), r.trim()),
                None => (String::new(), rest),
            };
            Some(Row {
                status: status.to_owned(),
                name: name.to_owned(),
                kind,
                rest: rest.to_owned(),
            })
        })
        .collect()
}

/// The rows a run over the cases `filter` selects must report, derived from corpus/index.json:
/// each case loaded; written back too when a server is asked (`write`); and its recorded DUMP
/// payloads where it has them (accepted RDB cases with a `.dumps.json`), unless a writer is judged.
fn expected_rows(filter: &[&str], write: bool, payloads: bool) -> BTreeSet<(String, String)> {
    let index = Index::load(&corpus()).expect("corpus index");
    let filter = Filter::parse(filter).expect("filter");
    let mut want = BTreeSet::new();
    for c in index.cases.iter().filter(|c| filter.selects(&c.name)) {
        want.insert((c.name.clone(), String::new()));
        if write {
            want.insert((c.name.clone(), "(write)".into()));
        }
        let recorded = dumps::path_for(&index.file(c)).is_file();
        if payloads && c.accept && c.format == Format::Rdb && recorded {
            want.insert((c.name.clone(), "(payloads)".into()));
        }
    }
    assert!(!want.is_empty(), "the filter {filter} selects no case");
    want
}

/// Checks that the report has exactly the expected rows; returns them.
fn exactly_the_expected_rows(out: &str, filter: &[&str], write: bool, payloads: bool) -> Vec<Row> {
    let got = rows(out);
    let seen: BTreeSet<(String, String)> = got
        .iter()
        .map(|r| (r.name.clone(), r.kind.clone()))
        .collect();
    assert_eq!(seen.len(), got.len(), "a row reported twice:\n{out}");
    let want = expected_rows(filter, write, payloads);
    let missing: Vec<_> = want.difference(&seen).collect();
    let extra: Vec<_> = seen.difference(&want).collect();
    assert!(
        missing.is_empty() && extra.is_empty(),
        "rows missing {missing:?}, rows not in the index {extra:?}\n{out}"
    );
    let last = out.lines().last().unwrap_or_default();
    let count = |st: &str| got.iter().filter(|r| r.status == st).count();
    let summary = format!(
        "{} passed, {} failed, {} skipped",
        count("pass"),
        count("FAIL"),
        count("skip")
    );
    assert_eq!(last, summary, "the summary disagrees with the rows");
    got
}

/// The magic and version in an RDB file's header (`REDIS0010` is `("REDIS", 10)`).
fn header(file: &Path) -> Option<(String, u32)> {
    let bytes = std::fs::read(file).ok()?;
    let head = String::from_utf8_lossy(bytes.get(..9)?).into_owned();
    let digits = head.find(|c: char| c.is_ascii_digit())?;
    Some((head[..digits].to_owned(), head[digits..].parse().ok()?))
}

fn version_of(build: &str) -> Option<(u32, u32, u32)> {
    let v = build.rsplit('-').next()?;
    let mut n = v.split('.').map(|x| x.parse::<u32>().ok());
    Some((n.next()??, n.next()??, n.next()??))
}

/// Checks a server's skip against the case's own facts (its file's header, its origin, whether
/// it is accepted, what it holds): a skip no fact explains is an error.
fn justify_skip(index: &Index, build: &ServerBuild, row: &Row) -> Result<(), String> {
    let c = index
        .cases
        .iter()
        .find(|c| c.name == row.name)
        .ok_or("not a case of the index")?;
    let file = index.file(c);
    let rdb_header = (c.format == Format::Rdb).then(|| header(&file)).flatten();
    let origin = c.build().unwrap_or_default();
    let project = |name: &str| name.split('-').next().unwrap_or_default().to_owned();
    // Valkey 9 writes VALKEY080 and reads REDIS files up to RDB 11.
    let server_rdb = if build.magic == "VALKEY" {
        11
    } else {
        build.rdb_version
    };
    let newer_aof = c.format == Format::Aof
        && project(origin) == project(build.name)
        && version_of(origin) > Some(build.version());
    let foreign_aof = c.format == Format::Aof && project(origin) != project(build.name);
    let too_new = matches!(&rdb_header, Some((m, v)) if m == "REDIS" && *v > server_rdb);
    let valkey_file =
        matches!(&rdb_header, Some((m, _)) if m == "VALKEY") && build.magic == "REDIS";
    let has_modules = || {
        index.expected_dataset(c).is_ok_and(|d| {
            d.keys
                .iter()
                .any(|e| matches!(e.value, redis_persist_engine::dataset::Value::Module(_)))
        })
    };
    let r = row.rest.as_str();
    let ok = if r
        == format!(
            "RDB version {}; this server reads up to {server_rdb}",
            rdb_header.as_ref().map_or(0, |h| h.1),
        ) {
        too_new
    } else if r == "a VALKEY-magic file; this server reads REDIS files only" {
        valkey_file
    } else if r == "a refusal case: nothing to write" {
        row.kind == "(write)" && !c.accept
    } else if r == format!("an AOF from {origin}, newer than this server") {
        newer_aof
    } else if r == format!("an AOF from {origin}, whose commands this server may lack") {
        foreign_aof
    } else if r == "module values; this server runs without their modules" {
        build.modules.is_empty() && has_modules()
    } else if r.ends_with("cannot hold every value of the case") && row.kind == "(payloads)" {
        // A dataset from a build writing a newer version than this server's.
        too_new || valkey_file
    } else {
        false
    };
    if ok {
        Ok(())
    } else {
        Err(format!("no fact of the case explains the skip {r:?}"))
    }
}

/// A server's run: exactly the expected rows, none failed, and every skip justified.
fn server_run_is_complete(build: &ServerBuild, out: &str, filter: &[&str]) -> (usize, usize) {
    let index = Index::load(&corpus()).expect("corpus index");
    let rows = exactly_the_expected_rows(out, filter, true, true);
    let mut unexplained = Vec::new();
    for r in &rows {
        match r.status.as_str() {
            "pass" => {}
            "skip" => {
                if let Err(e) = justify_skip(&index, build, r) {
                    unexplained.push(format!("{} {}: {e}", r.name, r.kind));
                }
            }
            _ => unexplained.push(format!("{} {} failed: {}", r.name, r.kind, r.rest)),
        }
    }
    assert!(
        unexplained.is_empty(),
        "{} rows neither passed nor skipped for a reason the case bears out:\n{}",
        unexplained.len(),
        unexplained.join("\n")
    );
    let passed = rows.iter().filter(|r| r.status == "pass").count();
    (passed, rows.len() - passed)
}

/// Case names with a FAIL line, and their messages.
fn failures(out: &str) -> Vec<(String, String)> {
    out.lines()
        .filter_map(|l| l.strip_prefix("FAIL  "))
        .map(|l| {
            let (name, msg) = l.split_once(' ').unwrap_or((l, ""));
            (name.to_owned(), msg.trim().to_owned())
        })
        .collect()
}

#[test]
fn the_reference_engine_passes_every_case() {
    let o = conform(&["--jobs", "2"]);
    let out = text(&o);
    assert!(o.status.success(), "{out}");
    let rows = exactly_the_expected_rows(&out, &[], false, true);
    let not_passed: Vec<&str> = out
        .lines()
        .filter(|l| !l.starts_with("pass") && l.contains("  "))
        .collect();
    assert!(
        rows.iter().all(|r| r.status == "pass"),
        "every row of every case must pass: {not_passed:?}"
    );
    eprintln!("{} rows passed", rows.len());
}

#[test]
fn reports_come_as_json_and_junit() {
    let dir = std::env::temp_dir().join(format!("conform-reports-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let (json, xml) = (dir.join("r.json"), dir.join("r.xml"));
    let o = conform(&[
        "--filter",
        "hand/v8",
        "--report-json",
        json.to_str().unwrap(),
        "--junit",
        xml.to_str().unwrap(),
    ]);
    assert!(o.status.success(), "{}", text(&o));
    let r: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&json).unwrap()).unwrap();
    assert_eq!(r["failed"], 0);
    let want = expected_rows(&["hand/v8"], false, true).len();
    assert_eq!(r["cases"].as_array().unwrap().len(), want);
    let x = std::fs::read_to_string(&xml).unwrap();
    assert!(
        x.contains("<testsuite") && x.contains("name=\"hand/v8-modern\""),
        "{x}"
    );
    std::fs::remove_dir_all(&dir).unwrap();
}

/// A decoder that skips the CRC-64 check accepts exactly the files whose only defect is a bad
/// checksum, and nothing else changes.
#[test]
fn a_decoder_that_ignores_the_crc_fails_the_checksum_cases() {
    let cmd = format!(
        "{} dump --json --ignore-checksum {{file}}",
        env!("CARGO_BIN_EXE_redis-persist")
    );
    let o = conform(&["--decoder", &cmd, "--filter", "hand/", "--filter", "rdb/"]);
    let out = text(&o);
    assert_eq!(o.status.code(), Some(1), "{out}");
    let names: Vec<String> = failures(&out).into_iter().map(|f| f.0).collect();
    assert_eq!(
        names,
        ["hand/neg-checksum-body-bit", "hand/neg-checksum-mismatch"],
        "{out}"
    );
    assert!(
        out.contains("accepted a file that must be refused (checksum_mismatch)"),
        "{out}"
    );
}

/// A decoder that reads 14-bit lengths as 6-bit ones (it keeps `len % 64` bytes of each longer
/// string, as a reader ignoring the length's second byte would) fails the cases holding a long
/// string, each with the path of the first one.
#[test]
fn a_decoder_with_a_wrong_length_width_fails_with_the_path_to_the_first_long_string() {
    if Command::new("python3").arg("--version").output().is_err() {
        assert!(
            !under_ci(),
            "CI=true requires python3 (the fixture decoder)"
        );
        eprintln!("SKIP: python3 is not installed (the fixture decoder is a Python filter)");
        return;
    }
    let filter = r#"
import json, sys
def cut(v):
    if isinstance(v, str) and len(v) >= 64: return v[:len(v) % 64]
    if isinstance(v, list): return [cut(x) for x in v]
    if isinstance(v, dict): return {k: (cut(x) if k not in ("key", "b64") else x) for k, x in v.items()}
    return v
d = json.load(sys.stdin)
if "keys" in d: d["keys"] = [dict(e, value=cut(e["value"])) for e in d["keys"]]
json.dump(d, sys.stdout)
"#;
    // A decoder is a program, run without a shell: the pipeline lives in a script of its own,
    // which gets the case's path as one argument.
    let dir = std::env::temp_dir().join(format!("conform-decoder-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::write(dir.join("filter.py"), filter).unwrap();
    let script = dir.join("decoder.sh");
    std::fs::write(
        &script,
        format!(
            "#!/bin/sh\n'{}' dump --json \"$1\" | python3 '{}'\n",
            env!("CARGO_BIN_EXE_redis-persist"),
            dir.join("filter.py").display()
        ),
    )
    .unwrap();
    std::process::Command::new("chmod")
        .arg("+x")
        .arg(&script)
        .status()
        .unwrap();
    let cmd = format!("'{}' {{file}}", script.display());
    // Redis 8.6+ hand cases hold long strings on purpose (a 16378-byte listpack element).
    let o = conform(&["--decoder", &cmd, "--filter", "hand/v,-v13,-v14,-v15"]);
    let out = text(&o);
    let fails = failures(&out);
    // The strings cases hold a 50-byte LZF string: 50 % 64 = 50 bytes, unchanged. Only values of
    // 64 bytes and more change, and the hand-built cases have none: the filter must touch
    // nothing there, and the long strings of real files must be caught instead.
    assert!(fails.is_empty() && o.status.success(), "{out}");
    let o = conform(&["--decoder", &cmd, "--filter", "redis-7.0.15/strings"]);
    let out = text(&o);
    let fails = failures(&out);
    assert_eq!(o.status.code(), Some(1), "{out}");
    let names: Vec<&str> = fails.iter().map(|f| f.0.as_str()).collect();
    assert_eq!(
        names,
        ["redis-7.0.15/strings", "redis-7.0.15/strings-nocompress"],
        "{out}"
    );
    for (_, msg) in &fails {
        assert!(
            msg.starts_with("keys[db 0 \""),
            "no path into the dataset: {msg}"
        );
        assert!(msg.contains(".value"), "no path to the value: {msg}");
    }
}

/// Every installed build: every case's load, write and payload rows pass, or skip for a reason
/// the case bears out.
#[test]
fn every_build_passes_or_skips_every_case_with_a_reason() {
    for name in ServerBuild::known_names() {
        let Some(build) = require_or_skip(name) else {
            continue;
        };
        let started = std::time::Instant::now();
        let o = conform(&["--server", build.binary.to_str().unwrap(), "--jobs", "2"]);
        let out = text(&o);
        assert!(o.status.success(), "{name}: {out}");
        let (passed, skipped) = server_run_is_complete(&build, &out, &[]);
        eprintln!(
            "{name}: {passed} rows passed, {skipped} skipped, each for a reason its case bears \
             out, {:.1} s",
            started.elapsed().as_secs_f64()
        );
    }
}

/// Our own converter as an outside writer: every accepted case's expectation written as RDB 12
/// reads back equal. At RDB 10 it refuses what RDB 10 cannot hold, and those cases fail, naming
/// the loss.
#[test]
fn a_writer_is_checked_by_our_reader() {
    let bin = env!("CARGO_BIN_EXE_redis-persist");
    let o = conform(&["--writer", &format!("{bin} convert {{json}} {{out}}")]);
    let out = text(&o);
    assert!(o.status.success(), "{out}");
    // Every case has its row: the accepted ones pass, the refusal cases have nothing to write.
    let index = Index::load(&corpus()).expect("corpus index");
    for r in exactly_the_expected_rows(&out, &[], false, false) {
        let accept = index.cases.iter().any(|c| c.name == r.name && c.accept);
        let ok = match r.status.as_str() {
            "pass" => accept,
            "skip" => !accept && r.rest == "a refusal case: nothing to write",
            _ => false,
        };
        assert!(ok, "{} {} {}: {}", r.status, r.name, r.kind, r.rest);
    }
    let o = conform(&[
        "--writer",
        &format!("{bin} convert {{json}} {{out}} --rdb-version 10"),
        "--filter",
        "hash-field-ttl",
    ]);
    let out = text(&o);
    assert_eq!(o.status.code(), Some(1), "{out}");
    for (name, msg) in failures(&out) {
        assert!(msg.contains("hash field TTLs"), "{name}: {msg}");
    }
}

#[test]
fn a_server_also_writes_each_dataset_back() {
    let Some(build) = require_or_skip("redis-7.0.15") else {
        return;
    };
    let o = conform(&[
        "--server",
        build.binary.to_str().unwrap(),
        "--filter",
        "redis-7.0.15/",
    ]);
    let out = text(&o);
    assert!(o.status.success(), "{out}");
    server_run_is_complete(&build, &out, &["redis-7.0.15/"]);
    // Its own cases: every accepted one is written back; only refusal cases have nothing to write.
    let index = Index::load(&corpus()).expect("corpus index");
    let accepted = index
        .cases
        .iter()
        .filter(|c| c.name.starts_with("redis-7.0.15/") && c.accept)
        .count();
    let writes = rows(&out)
        .iter()
        .filter(|r| r.status == "pass" && r.kind == "(write)")
        .count();
    assert_eq!(writes, accepted, "{out}");
}
