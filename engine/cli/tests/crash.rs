//! `redis-persist crash`: exit codes, the printed reproducer (which reruns to the same verdict),
//! and the JSON and JUnit reports.
use redis_persist_engine::live::require_or_skip;
use std::process::{Command, Output};

fn crash(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_redis-persist"))
        .arg("crash")
        .args(args)
        .output()
        .expect("redis-persist runs")
}

fn text(o: &Output) -> String {
    format!(
        "{}{}",
        String::from_utf8_lossy(&o.stdout),
        String::from_utf8_lossy(&o.stderr)
    )
}

#[test]
fn a_missing_server_is_a_usage_error() {
    let o = crash(&["--server", "/nonexistent/redis-server", "--histories", "1"]);
    assert_eq!(o.status.code(), Some(2), "{}", text(&o));
    let o = crash(&["--server", "/usr/bin/true", "--keep", "1-x"]);
    assert_eq!(o.status.code(), Some(2), "{}", text(&o));
}

#[test]
fn redis_7_passes_on_ordered_and_a_posix_violation_reruns_from_its_printed_command() {
    let Some(build) = require_or_skip("redis-7.0.15") else {
        return;
    };
    let bin = build.binary.display().to_string();
    let o = crash(&[
        "--server",
        &bin,
        "--policy",
        "all",
        "--fs",
        "ordered",
        "--histories",
        "4",
        "--seed",
        "40",
    ]);
    assert_eq!(o.status.code(), Some(0), "{}", text(&o));
    assert!(text(&o).contains("4 passed, 0 violations"), "{}", text(&o));

    let dir = std::env::temp_dir().join(format!("crash-cli-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("temp dir");
    let (json, junit) = (dir.join("r.json"), dir.join("r.xml"));
    let o = crash(&[
        "--server",
        &bin,
        "--policy",
        "always",
        "--fs",
        "posix",
        "--histories",
        "1",
        "--seed",
        "13",
        "--shrink-budget",
        "15",
        "--report-json",
        json.to_str().expect("utf-8"),
        "--junit",
        junit.to_str().expect("utf-8"),
    ]);
    let out = text(&o);
    assert_eq!(o.status.code(), Some(1), "{out}");
    assert!(out.contains("drops mkdir appendonlydir"), "{out}");
    let rerun = out
        .lines()
        .find_map(|l| l.trim().strip_prefix("rerun: redis-persist crash "))
        .unwrap_or_else(|| panic!("no rerun line in {out}"));
    let args: Vec<&str> = rerun.split_whitespace().collect();
    let again = crash(&args);
    assert_eq!(again.status.code(), Some(1), "{}", text(&again));

    let doc: serde_json::Value =
        serde_json::from_slice(&std::fs::read(&json).expect("json report")).expect("valid JSON");
    assert_eq!(doc["violations"], 1, "{doc:#}");
    let v = &doc["results"][0]["violations"][0];
    assert_eq!(v["fs"], "posix");
    assert!(v["lost_acknowledged_writes"].as_u64() > Some(0), "{v:#}");
    let xml = std::fs::read_to_string(&junit).expect("junit report");
    assert!(
        xml.contains("<failure message=") && xml.contains("tests=\"1\""),
        "{xml}"
    );
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn a_known_build_is_named_and_server_args_reach_it() {
    if require_or_skip("redis-7.0.15").is_none() {
        return;
    }
    let base = [
        "--server",
        "redis-7.0.15",
        "--policy",
        "always",
        "--histories",
        "1",
    ];
    let o = crash(&base);
    assert_eq!(o.status.code(), Some(0), "{}", text(&o));
    assert!(text(&o).contains("against redis-7.0.15"), "{}", text(&o));
    // The same run with an argument Redis rejects: it does not start, so no history runs.
    let o = crash(
        &[
            &base[..],
            &["--server-arg=--no-such-directive", "--server-arg=1"],
        ]
        .concat(),
    );
    assert_eq!(o.status.code(), Some(2), "{}", text(&o));
    assert!(text(&o).contains("did not start"), "{}", text(&o));
}
