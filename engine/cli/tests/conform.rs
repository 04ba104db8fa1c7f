//! `redis-persist conform`: the reference passes every case, a real server passes or skips with a
//! reason, and deliberately wrong decoders fail exactly the cases their defect touches, with a
//! precise first difference.
#[path = "conform_support/rows.rs"]
mod rows;
use redis_persist_engine::corpus::Index;
use redis_persist_engine::live::{require_or_skip, ServerBuild};
use rows::{exactly_the_expected_rows, expected_rows, rows, server_run_is_complete};
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
        redis_persist_engine::live::skip(
            "python3 is not installed (the fixture decoder is a Python filter)",
        );
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
