//! What the verbs say, pinned word for word where users read it: one result line per verb, counts
//! with their nouns agreeing, no Rust debug forms, file names in errors, refusals that list losses.
//!
//! Each assertion names the wording an earlier version got wrong, so a regression fails here.
mod support;

use support::*;

/// A hash with one field TTL, and LRU idle time: RDB 11 cannot hold the TTL, RDB 8 not the idle.
fn hash_with_field_ttl() -> String {
    let mut k = key_json(
        "h",
        "hash",
        serde_json::json!([["f", "v", 4102444800000i64]]),
    );
    k["idle_s"] = serde_json::json!(7);
    // No source: the default target (RDB 12) holds it all.
    serde_json::json!({"format": "dataset/1", "functions": [], "keys": [k]}).to_string()
}

#[test]
fn convert_ends_with_one_result_line_on_stderr() {
    let dir = Scratch::new("msg-convert");
    let input = dir.file("in.json", hash_with_field_ttl().as_bytes());
    let out = dir.path().join("out.rdb");
    let r = run_in(&["convert", path(&input), path(&out)], None);
    assert_eq!(r.code, 0, "{r:?}");
    assert_eq!(r.stdout, "", "the result goes to stderr: {r:?}");
    assert_eq!(
        r.stderr.trim_end(),
        format!(
            "redis-persist: wrote an RDB (REDIS0012) to {}: 1 key, 0 function libraries",
            out.display()
        )
    );
    // Written to standard output, the result line is still there (on stderr).
    let r = run_in(&["convert", path(&input), "-", "--to", "json"], None);
    assert_eq!(r.code, 0, "{r:?}");
    assert_eq!(
        r.stderr.trim_end(),
        "redis-persist: wrote Dataset JSON to standard output: 1 key, 0 function libraries"
    );
}

#[test]
fn a_refused_convert_lists_what_would_be_lost_not_what_was_dropped() {
    let dir = Scratch::new("msg-refused");
    let input = dir.file("in.json", hash_with_field_ttl().as_bytes());
    let out = dir.path().join("out.rdb");
    let r = run_in(
        &["convert", path(&input), path(&out), "--rdb-version", "8"],
        None,
    );
    assert_eq!(r.code, 1, "{r:?}");
    assert!(!out.exists(), "a refused convert wrote {}", out.display());
    let lines: Vec<&str> = r.stderr.lines().collect();
    assert!(
        lines[0].contains("nothing was written; it would lose"),
        "{r:?}"
    );
    assert_eq!(
        &lines[1..],
        [
            r#"  db 0 key "h": LRU/LFU metadata (IDLE/FREQ need RDB 9+)"#,
            r#"  db 0 key "h": hash field TTLs (need RDB 12 or VALKEY080): 1"#,
        ],
        "{r:?}"
    );
    // Under --allow-loss the same losses are reported with what was written in their place.
    let r = run_in(
        &[
            "convert",
            path(&input),
            path(&out),
            "--rdb-version",
            "8",
            "--allow-loss",
        ],
        None,
    );
    assert_eq!(r.code, 0, "{r:?}");
    assert!(
        r.stderr.contains(
            r#"lost at REDIS0008: db 0 key "h": hash field TTLs (need RDB 12 or VALKEY080): 1; fields written without TTL"#
        ),
        "{r:?}"
    );
    assert!(
        r.stderr
            .lines()
            .last()
            .unwrap_or("")
            .contains("wrote an RDB (REDIS0008)"),
        "{r:?}"
    );
}

#[test]
fn usage_errors_name_options_as_typed() {
    let dir = Scratch::new("msg-usage");
    let input = dir.file("in.json", hash_with_field_ttl().as_bytes());
    let out = dir.path().join("out.json");
    let r = run_in(
        &[
            "convert",
            path(&input),
            path(&out),
            "--to",
            "aof-dir",
            "--rdb-version",
            "10",
            "--base-resp",
        ],
        None,
    );
    assert_eq!(r.code, 2, "{r:?}");
    assert!(r.stderr.contains("--to aof-dir writes none"), "{r:?}");
    let r = run_in(
        &["convert", path(&input), path(&out), "--rdb-version", "16"],
        None,
    );
    assert_eq!(r.code, 2, "{r:?}");
    assert!(r.stderr.contains("supports versions 6 to 15"), "{r:?}");
}

#[test]
fn counts_agree_with_their_nouns() {
    let dir = Scratch::new("msg-plural");
    let input = dir.file("in.json", hash_with_field_ttl().as_bytes());
    let r = run_in(&["dump", path(&input)], None);
    assert_eq!(r.code, 0, "{r:?}");
    assert!(r.stdout.starts_with("# 1 key, 0 functions\n"), "{r:?}");
    assert!(r.stdout.contains("(1 field)"), "{r:?}");
    let r = run_in(&["stats", path(&input)], None);
    assert!(
        r.stdout.starts_with(&format!("{}: 1 key,", path(&input))),
        "{r:?}"
    );
    let aof = dir.file("one.aof", &resp(&["SET", "k", "v"]));
    let r = run_in(&["check", path(&aof)], None);
    assert_eq!(r.code, 0, "{r:?}");
    assert!(
        r.stdout.trim_end().ends_with("one.aof: valid AOF (1 file)"),
        "{r:?}"
    );
}

#[test]
fn check_json_names_the_file_for_rdbs_too() {
    let dir = Scratch::new("msg-check-json");
    let bad = dir.file("bad.rdb", b"REDIS0010\xfe\x00garbage");
    let r = run_in(&["check", "--json", path(&bad)], None);
    assert_eq!(r.code, 1, "{r:?}");
    let v: serde_json::Value = serde_json::from_str(&r.stdout).expect("JSON");
    assert_eq!(v["file"], path(&bad), "{v}");
    assert_eq!(v["valid"], false, "{v}");
    assert_eq!(v["error"]["kind"], "unknown_type", "{v}");
    let good = corpus("rdb/redis-7.0.15/lists.rdb");
    let r = run_in(&["check", "--json", path(&good)], None);
    let v: serde_json::Value = serde_json::from_str(&r.stdout).expect("JSON");
    assert_eq!(v["file"], path(&good), "{v}");
    // The readable form names the file on its verdict line, as dump's errors do.
    let r = run_in(&["check", path(&bad)], None);
    assert!(
        r.stdout
            .starts_with(&format!("{}: invalid: unknown_type", path(&bad))),
        "{r:?}"
    );
}

#[test]
fn conform_says_how_rows_relate_to_cases_and_how_a_decoder_ended() {
    let r = run_in(&["conform", "--filter", "redis-7.0.15/lists"], None);
    assert_eq!(r.code, 0, "{r:?}");
    let first = r.stdout.lines().next().unwrap_or("");
    assert_eq!(
        first,
        "conform: 2 cases against the reference engine; 4 rows: one per case, plus 2 (payloads)"
    );
    assert!(
        r.stdout.lines().all(|l| l == l.trim_end()),
        "no trailing padding: {r:?}"
    );
    let r = run_in(
        &[
            "conform",
            "--filter",
            "redis-7.0.15/lists",
            "--decoder",
            "false {file}",
        ],
        None,
    );
    assert_eq!(r.code, 1, "{r:?}");
    assert!(
        r.stdout.contains("exit status 1, stdout is not JSON"),
        "{r:?}"
    );
    assert!(!r.stdout.contains("Some("), "{r:?}");
}

#[test]
fn payload_errors_say_each_thing_once() {
    let dir = Scratch::new("msg-payload");
    // No "format" field: said so, with no empty path and no `None`.
    let f = dir.file("p.json", br#"{"type":"string","value":"hello"}"#);
    let r = run_in(
        &["payload", "encode", path(&f), "--rdb-version", "10"],
        None,
    );
    assert_eq!(r.code, 1, "{r:?}");
    assert_eq!(
        r.stderr.trim_end(),
        format!(
            r#"redis-persist: {}: format must be "payload/1" or "dataset/1", found no "format" field"#,
            path(&f)
        )
    );
    // Written to a file, the payload is reported in one line.
    let good = dir.file(
        "good.json",
        br#"{"format":"payload/1","type":"string","value":"hello"}"#,
    );
    let out = dir.path().join("p.bin");
    let r = run_in(
        &[
            "payload",
            "encode",
            path(&good),
            "--rdb-version",
            "10",
            "--out",
            path(&out),
        ],
        None,
    );
    assert_eq!(r.code, 0, "{r:?}");
    assert_eq!(
        r.stderr.trim_end(),
        format!(
            "redis-persist: wrote a DUMP payload of 17 bytes to {}",
            path(&out)
        )
    );
    // A bad CRC: the kind and offset once, not twice.
    let r = run_in(
        &["payload", "decode", "--hex", "000161090050e0e0f3b2a1c8a7"],
        None,
    );
    assert_eq!(r.code, 1, "{r:?}");
    assert_eq!(r.stderr.matches("checksum_mismatch").count(), 1, "{r:?}");
}
