//! Issue 10's hostile users and environments, one named test per reported defect: inputs the
//! tools must not destroy, verdicts they must share with the servers, resources they must bound.
//!
//! Inputs are built here (no large files are committed); `support` holds the shared plumbing.
mod support;

use std::io::Write;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};
use support::*;

/// Item 1: `check --fix` on an appendonly directory whose base RDB has a flipped bit refuses
/// (as `redis-check-aof --fix` does: "RDB preamble is not sane") and leaves every byte alone.
#[test]
fn fix_never_truncates_a_corrupt_rdb_base() {
    let dir = Scratch::new("fix-base");
    let aof = dir.copy_tree(&corpus(
        "aof/redis-7.0.15/aof-rewrite-preamble/appendonlydir",
    ));
    let base = aof.join("appendonly.aof.2.base.rdb");
    let mut bytes = std::fs::read(&base).unwrap();
    *bytes.last_mut().unwrap() ^= 1;
    std::fs::write(&base, &bytes).unwrap();
    // A manifest naming only the base.
    std::fs::remove_file(aof.join("appendonly.aof.2.incr.aof")).unwrap();
    std::fs::write(
        aof.join("appendonly.aof.manifest"),
        "file appendonly.aof.2.base.rdb seq 2 type b\n",
    )
    .unwrap();
    let before = snapshot(&aof);
    let out = run_in(&["check", "--fix", "--yes", aof.to_str().unwrap()], None);
    assert_ne!(out.code, 0, "a corrupt base must not be 'fixed': {out:?}");
    assert_eq!(snapshot(&aof), before, "check --fix changed the directory");
}

/// Item 2: `convert --to aof-dir` onto an existing appendonly directory is refused and leaves it
/// loadable; `convert IN IN` is refused; an existing output is kept unless `--force`, and keeps
/// its mode when replaced.
#[test]
fn convert_never_replaces_an_existing_output_or_its_input() {
    let dir = Scratch::new("convert-out");
    let aof = dir.copy_tree(&corpus("aof/redis-7.0.15/aof-plain/appendonlydir"));
    let before = snapshot(&aof);
    let rdb = corpus("rdb/redis-7.0.15/strings.rdb");
    let args = [
        "convert",
        "--to",
        "aof-dir",
        rdb.to_str().unwrap(),
        aof.to_str().unwrap(),
    ];
    let out = run_in(&args, None);
    assert_eq!(out.code, 2, "{out:?}");
    assert_eq!(snapshot(&aof), before, "the appendonly directory changed");

    let input = dir.file("in.rdb", &std::fs::read(&rdb).unwrap());
    let same = run_in(&["convert", "--force", path(&input), path(&input)], None);
    assert_eq!(same.code, 2, "convert IN IN: {same:?}");
    assert_eq!(std::fs::read(&input).unwrap(), std::fs::read(&rdb).unwrap());

    let existing = dir.file("out.rdb", b"keep me");
    let out = run_in(&["convert", path(&input), path(&existing)], None);
    assert_eq!(out.code, 2, "{out:?}");
    assert_eq!(std::fs::read(&existing).unwrap(), b"keep me");

    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(&existing, std::fs::Permissions::from_mode(0o640)).unwrap();
    let out = run_in(&["convert", "--force", path(&input), path(&existing)], None);
    assert_eq!(out.code, 0, "{out:?}");
    let mode = std::fs::metadata(&existing).unwrap().permissions().mode() & 0o777;
    assert_eq!(mode, 0o640, "the replaced output lost its mode");
    assert_eq!(&std::fs::read(&existing).unwrap()[..5], b"REDIS");
}

/// Item 3: members whose 64-bit fingerprints collide are still two members. These two collided
/// under the old unseeded fingerprint; `redis-check-rdb` accepts the file and the server loads both.
#[test]
fn colliding_members_are_not_duplicates() {
    let dir = Scratch::new("collide");
    let members = ["member-AAAAAAAA1", "member-BAAAICAAp"];
    for (ty, value) in [
        ("set", serde_json::json!(members)),
        (
            "hash",
            serde_json::json!([[members[0], "1"], [members[1], "2"]]),
        ),
        (
            "zset",
            serde_json::json!([[members[0], "1"], [members[1], "2"]]),
        ),
    ] {
        for version in ["10", "11"] {
            let json = dataset(&[key_json("k", ty, value.clone())]);
            let input = dir.file(&format!("{ty}-{version}.json"), json.as_bytes());
            let rdb = dir.path().join(format!("{ty}-{version}.rdb"));
            let out = run_in(
                &[
                    "convert",
                    "--rdb-version",
                    version,
                    path(&input),
                    path(&rdb),
                ],
                None,
            );
            assert_eq!(out.code, 0, "{ty} v{version}: {out:?}");
            let check = run_in(&["check", path(&rdb)], None);
            assert_eq!(check.code, 0, "{ty} v{version}: {check:?}");
            let dump = run_in(&["dump", "--json", path(&rdb)], None);
            assert_eq!(dump.code, 0, "{ty} v{version}: {dump:?}");
            for m in members {
                assert!(dump.stdout.contains(m), "{ty} v{version} lost {m}");
            }
        }
    }
}

/// Item 4: datasets no server can load are refused before a byte is written, with the path.
#[test]
fn convert_refuses_datasets_servers_reject() {
    let dir = Scratch::new("refuse-write");
    let cases: Vec<(&str, String)> = vec![
        (
            "duplicate key",
            dataset(&[
                key_json("k", "string", serde_json::json!("a")),
                key_json("k", "string", serde_json::json!("b")),
            ]),
        ),
        (
            "duplicate set member",
            dataset(&[key_json("s", "set", serde_json::json!(["x", "x"]))]),
        ),
        (
            "duplicate hash field",
            dataset(&[key_json(
                "h",
                "hash",
                serde_json::json!([["f", "1"], ["f", "2"]]),
            )]),
        ),
        (
            "duplicate zset member",
            dataset(&[key_json(
                "z",
                "zset",
                serde_json::json!([["m", "1"], ["m", "2"]]),
            )]),
        ),
    ];
    for (what, json) in cases {
        let input = dir.file("in.json", json.as_bytes());
        let out_path = dir.path().join("out.rdb");
        let out = run_in(&["convert", path(&input), path(&out_path)], None);
        assert_eq!(out.code, 1, "{what}: {out:?}");
        assert!(!out_path.exists(), "{what}: an output was written");
        assert!(
            dir.leftovers().is_empty(),
            "{what}: temp files left: {:?}",
            dir.leftovers()
        );
    }
}

/// Item 5: an AOF whose replay would build 4 GiB of strings is refused with a typed error under
/// the memory budget, not aborted by the allocator.
#[test]
fn setrange_growth_is_refused_within_the_budget() {
    let dir = Scratch::new("setrange");
    let mut aof = Vec::new();
    for i in 0..8 {
        aof.extend_from_slice(&resp(&["SETRANGE", &format!("k{i}"), "536870000", "x"]));
    }
    let f = dir.file("big.aof", &aof);
    let out = run_in(&["dump", "--memory-limit", "256M", path(&f)], None);
    assert_eq!(out.code, 1, "{out:?}");
    assert!(out.stderr.contains("limit"), "{out:?}");
}

/// Item 5: an RDB of LZF strings, each within the ratio guard, whose total output exceeds the
/// budget: refused as a limit, not an abort.
#[test]
fn lzf_bomb_is_bounded_by_total_output() {
    let dir = Scratch::new("lzf-bomb");
    let f = dir.file("bomb.rdb", &lzf_bomb_rdb(4000, 1 << 20));
    let out = run_in(&["dump", "--memory-limit", "64M", path(&f)], None);
    assert_eq!(out.code, 1, "{out:?}");
    assert!(
        out.stderr.contains("limit") || out.stderr.contains("memory"),
        "{out:?}"
    );
}

/// Items 5 and 7: endless streams on standard input end in a typed error with an offset,
/// within the memory limit (an address-space cap turns any overrun into a failing abort).
#[test]
fn endless_standard_input_is_bounded() {
    let garbage: fn(u64) -> Vec<u8> = |_| b"*\n".repeat(1 << 15);
    // Valid commands that grow one list without end: the replay budget must stop them.
    let growing: fn(u64) -> Vec<u8> = |i| {
        let v = format!("{i:0>200}");
        resp(&["RPUSH", "l", &v]).repeat(256)
    };
    for (verb, feed, why) in [
        ("check", garbage, "not RESP"),
        ("dump", garbage, "not RESP"),
        ("dump", growing, "over the replay budget"),
    ] {
        let out = run_fed(
            capped(&[verb, "--memory-limit", "128M", "-"], 1 << 30),
            feed,
        );
        assert_eq!(out.code, 1, "{verb} of an endless stream {why}: {out:?}");
        // check reports on stdout (as redis-check-aof does), dump on stderr.
        let said = format!("{}{}", out.stdout, out.stderr);
        assert!(said.contains("offset"), "{verb} ({why}): {out:?}");
    }
}

/// Item 6: a FIFO fed slowly by a writer is read as a stream, to the end.
#[test]
fn fifo_input_is_read_as_a_stream() {
    let dir = Scratch::new("fifo");
    let fifo = dir.path().join("in.fifo");
    let made = Command::new("mkfifo").arg(&fifo).status();
    if !made.is_ok_and(|s| s.success()) {
        skip_or_fail("mkfifo is not available");
        return;
    }
    let rdb = std::fs::read(corpus("rdb/redis-7.0.15/strings.rdb")).unwrap();
    let target = fifo.clone();
    let writer = std::thread::spawn(move || {
        let mut w = std::fs::OpenOptions::new()
            .write(true)
            .open(target)
            .unwrap();
        for chunk in rdb.chunks(7) {
            w.write_all(chunk).unwrap();
            std::thread::sleep(Duration::from_millis(1));
        }
    });
    let out = run_in(&["dump", "--json", path(&fifo)], None);
    writer.join().unwrap();
    assert_eq!(out.code, 0, "{out:?}");
    let expected = run_in(
        &[
            "dump",
            "--json",
            path(&corpus("rdb/redis-7.0.15/strings.rdb")),
        ],
        None,
    );
    assert_eq!(out.stdout, expected.stdout);
}

/// Item 6: `/dev/stdin` on a pipe (what `<(cat x.rdb)` hands over) is no `bad_magic`.
#[test]
fn process_substitution_is_read_as_a_stream() {
    let rdb = std::fs::read(corpus("rdb/redis-7.0.15/strings.rdb")).unwrap();
    let out = run_in(&["check", "/dev/stdin"], Some(&rdb));
    assert_eq!(out.code, 0, "{out:?}");
    assert!(out.stdout.contains("valid REDIS0010"), "{out:?}");
}

/// Item 6: an RDB followed by endless bytes is checked, its trailing bytes counted up to a cap.
#[test]
fn endless_bytes_after_the_trailer_end_the_count() {
    let rdb = std::fs::read(corpus("rdb/redis-7.0.15/strings.rdb")).unwrap();
    let mut cmd = bin();
    cmd.args(["check", "-"]);
    let out = run_fed(cmd, move |i| {
        if i == 0 {
            rdb.clone()
        } else {
            vec![0u8; 1 << 16]
        }
    });
    assert_eq!(out.code, 0, "{out:?}");
    assert!(out.stdout.contains("counting stopped"), "{out:?}");
}

/// A one-case corpus whose single file has the given name, for conform's hostile cases.
fn one_case_corpus(dir: &Scratch, file_name: &str) -> std::path::PathBuf {
    let root = dir.path().join("corpus");
    std::fs::create_dir_all(&root).unwrap();
    let src = corpus("rdb/redis-7.0.15/strings.rdb");
    std::fs::copy(&src, root.join(file_name)).unwrap();
    std::fs::copy(
        corpus("rdb/redis-7.0.15/strings.json"),
        root.join("expect.json"),
    )
    .unwrap();
    let index = serde_json::json!([{
        "name": "hostile/one",
        "file": file_name,
        "expect": "expect.json",
        "outcome": "accept",
        "origin": {"kind": "hand", "how": "hostile_env.rs"},
        "rdb_version": 10,
        "magic": "REDIS",
        "features": [],
    }]);
    std::fs::write(root.join("index.json"), index.to_string()).unwrap();
    root
}

/// Items 5 and 6: an outside decoder that never ends, or prints without end, is stopped per
/// case (timeout, output cap) and fails the case; conform itself ends.
#[test]
fn conform_stops_decoders_that_hang_or_flood() {
    let dir = Scratch::new("conform-hang");
    let root = one_case_corpus(&dir, "one.rdb");
    for decoder in ["sleep 1000", "yes {file}"] {
        let started = Instant::now();
        let out = run_in(
            &[
                "conform",
                "--corpus",
                path(&root),
                "--decoder",
                decoder,
                "--timeout",
                "2",
                "--max-output",
                "1M",
            ],
            None,
        );
        assert_eq!(out.code, 1, "{decoder}: {out:?}");
        assert!(
            out.stdout.contains("0 passed, 1 failed"),
            "{decoder}: {out:?}"
        );
        assert!(
            started.elapsed() < Duration::from_secs(60),
            "{decoder} took too long"
        );
    }
}

/// Item 9: no shell runs on data. A quoted placeholder and a file named like a command
/// substitution do not run it; index paths that leave the corpus are refused.
#[test]
fn conform_runs_no_shell_and_stays_in_the_corpus() {
    let dir = Scratch::new("conform-shell");
    let root = one_case_corpus(&dir, "y$(touch PWNED).rdb");
    let out = run_in(
        &[
            "conform",
            "--corpus",
            path(&root),
            "--decoder",
            "cat \"{file}\"",
        ],
        None,
    );
    assert_eq!(out.code, 1, "cat prints no Dataset JSON: {out:?}");
    for place in [
        dir.path().to_path_buf(),
        root.clone(),
        std::env::current_dir().unwrap(),
    ] {
        assert!(!place.join("PWNED").exists(), "a shell ran in {place:?}");
    }
    for escape in ["/etc/passwd", "../outside.rdb"] {
        let index = std::fs::read_to_string(root.join("index.json")).unwrap();
        let bad = index.replace("y$(touch PWNED).rdb", escape);
        std::fs::write(root.join("index.json"), bad).unwrap();
        let out = run_in(&["conform", "--corpus", path(&root)], None);
        assert_eq!(out.code, 2, "{escape}: {out:?}");
        std::fs::write(root.join("index.json"), index).unwrap();
    }
}

/// Item 8: the temp file an output goes through is created exclusively: a symlink planted at its
/// name is never followed.
#[test]
fn temp_files_never_follow_a_planted_symlink() {
    use redis_persist_engine::storage::Storage;
    let dir = Scratch::new("symlink");
    let victim = dir.file("victim", b"precious");
    std::os::unix::fs::symlink(&victim, dir.path().join(".out.rdb.tmp")).unwrap();
    let mut st = redis_persist_engine::storage::RealDir::new(dir.path()).unwrap();
    assert!(st.create_new(".out.rdb.tmp").is_err());
    assert_eq!(std::fs::read(&victim).unwrap(), b"precious");
}

/// Item 10: `check` refuses what a server refuses: a key held twice, an RDB preamble in a
/// non-first manifest file, length lines with trailing junk.
#[test]
fn check_refuses_what_servers_refuse() {
    let dir = Scratch::new("check-refuse");
    let mut twice = b"REDIS0009\xfe\x00".to_vec();
    for v in [b"a", b"b"] {
        twice.extend_from_slice(b"\x00\x01k\x01");
        twice.extend_from_slice(v);
    }
    twice.extend_from_slice(b"\xff\0\0\0\0\0\0\0\0");
    let f = dir.file("twice.rdb", &twice);
    let out = run_in(&["check", path(&f)], None);
    assert_eq!(out.code, 1, "duplicate key: {out:?}");

    for junk in ["*3x\r\n", "$3x\r\n"] {
        let mut aof = resp(&["SET", "a", "1"]);
        let cmd = String::from_utf8(resp(&["SET", "k", "v"])).unwrap();
        let bad = if junk.starts_with('*') {
            cmd.replacen("*3\r\n", junk, 1)
        } else {
            cmd.replacen("$3\r\n", junk, 1)
        };
        aof.extend_from_slice(bad.as_bytes());
        let f = dir.file("junk.aof", &aof);
        let out = run_in(&["check", path(&f)], None);
        assert_eq!(out.code, 1, "{junk:?}: {out:?}");
    }

    let aof = dir.copy_tree(&corpus(
        "aof/redis-7.0.15/aof-rewrite-preamble/appendonlydir",
    ));
    let base = std::fs::read(aof.join("appendonly.aof.2.base.rdb")).unwrap();
    std::fs::write(aof.join("appendonly.aof.2.incr.aof"), base).unwrap();
    let out = run_in(&["check", path(&aof)], None);
    assert_eq!(out.code, 1, "RDB preamble in an incr file: {out:?}");
}

/// Item 11: output errors are one line and an exit code, never a panic (101).
#[test]
fn output_errors_never_panic() {
    let rdb = corpus("rdb/redis-7.0.15/strings.rdb");
    let full = std::fs::OpenOptions::new().write(true).open("/dev/full");
    if let Ok(full) = full {
        let out: Ran = bin()
            .args(["check", path(&rdb)])
            .stdout(full)
            .stderr(Stdio::piped())
            .output()
            .unwrap()
            .into();
        assert_eq!(out.code, 1, "check > /dev/full: {out:?}");
        assert_eq!(out.stderr.lines().count(), 1, "{out:?}");
    } else {
        skip_or_fail("/dev/full is not available");
    }
    // A reader that has gone away: EPIPE ends the run quietly, as for other Unix tools.
    let mut bad = std::fs::read(&rdb).unwrap();
    bad.truncate(bad.len() - 20);
    let dir = Scratch::new("closed-pipe");
    let refused = dir.file("bad.rdb", &bad);
    for args in [
        vec!["dump", path(&rdb)],
        vec!["dump", "--json", path(&refused)],
    ] {
        let mut child = bin()
            .args(&args)
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        drop(child.stdout.take());
        let out = wait_for(child, Duration::from_secs(30));
        assert!(matches!(out.code, 0 | 1 | 141), "{args:?}: {out:?}");
        assert!(!out.stderr.contains("panicked"), "{args:?}: {out:?}");
    }
    let out = run_in(
        &[
            "conform",
            "--jobs",
            "100000",
            "--filter",
            "redis-7.0.15/strings",
        ],
        None,
    );
    assert_ne!(out.code, 101, "{out:?}");
    assert!(!out.stderr.contains("panicked"), "{out:?}");
}

/// Item 12: command names with control bytes are shown escaped, on one line; `check --json`
/// answers for AOFs; `convert -` takes Dataset JSON; flags that do not apply are refused.
#[test]
fn messages_stay_one_line_and_flags_apply_or_are_refused() {
    let dir = Scratch::new("messages");
    let aof = resp(&["SET\x1b[31m\nX", "k", "v"]);
    let f = dir.file("esc.aof", &aof);
    let out = run_in(&["dump", path(&f)], None);
    assert_eq!(out.code, 1, "{out:?}");
    assert_eq!(out.stderr.lines().count(), 1, "{out:?}");
    assert!(!out.stderr.contains('\x1b'), "{out:?}");

    let ok = dir.file("ok.aof", &resp(&["SET", "k", "v"]));
    let out = run_in(&["check", "--json", path(&ok)], None);
    assert_eq!(out.code, 0, "{out:?}");
    let v: serde_json::Value = serde_json::from_str(&out.stdout).expect("check --json is JSON");
    assert_eq!(v["valid"], true, "{v}");

    let json = dataset(&[key_json("k", "string", serde_json::json!("v"))]);
    let out_path = dir.path().join("from-stdin.rdb");
    let out = run_in(&["convert", "-", path(&out_path)], Some(json.as_bytes()));
    assert_eq!(out.code, 0, "{out:?}");

    let rdb = corpus("rdb/redis-7.0.15/strings.rdb");
    let out = run_in(&["check", "--fix", path(&rdb)], None);
    assert_eq!(out.code, 2, "--fix on an RDB: {out:?}");
}

/// The one stricter-than-the-server verdict: a stream whose last ID is below an entry loads in
/// Redis, so `check` warns (exit 0) and `--strict` refuses (exit 1).
#[test]
fn stream_last_id_below_an_entry_is_a_warning() {
    let dir = Scratch::new("stream-last-id");
    let json = dataset(&[key_json(
        "s",
        "stream",
        serde_json::json!({
            "length": 1,
            "last_id": "5-0",
            "first_id": null,
            "max_deleted_id": null,
            "entries_added": null,
            "entries": [["5-0", [["f", "v"]]]],
            "groups": [],
        }),
    )]);
    let input = dir.file("s.json", json.as_bytes());
    let rdb = dir.path().join("s.rdb");
    let out = run_in(
        &["convert", "--rdb-version", "9", path(&input), path(&rdb)],
        None,
    );
    assert_eq!(out.code, 0, "{out:?}");
    let mut bytes = std::fs::read(&rdb).unwrap();
    // The metadata follows the node: its length (1), then the last ID as two lengths (5, 0).
    let meta = find(&bytes, &[0x01, 0x05, 0x00]).expect("stream metadata");
    bytes[meta + 1] = 0x04;
    let n = bytes.len();
    bytes[n - 8..].fill(0);
    let f = dir.file("lower.rdb", &bytes);
    let out = run_in(&["check", path(&f)], None);
    assert_eq!(out.code, 0, "{out:?}");
    assert!(
        out.stdout.contains("warning: stream last ID below"),
        "{out:?}"
    );
    let out = run_in(&["check", "--json", path(&f)], None);
    let v: serde_json::Value = serde_json::from_str(&out.stdout).unwrap();
    assert_eq!(
        v["warnings"][0]["kind"], "stream_last_id_below_entry",
        "{v}"
    );
    let out = run_in(&["check", "--strict", path(&f)], None);
    assert_eq!(out.code, 1, "{out:?}");
    let out = run_in(&["dump", "--strict", path(&f)], None);
    assert_eq!(out.code, 1, "{out:?}");
}

fn find(hay: &[u8], needle: &[u8]) -> Option<usize> {
    hay.windows(needle.len()).rposition(|w| w == needle)
}

fn skip_or_fail(why: &str) {
    redis_persist_engine::live::skip(why);
}

/// Item 10: a duplicate member far past the first 131 072 members is still found (Redis refuses
/// the set: "Duplicate set members detected").
#[test]
fn duplicate_member_past_131072_members_is_refused() {
    let dir = Scratch::new("dup-member");
    let n = 140_000usize;
    let mut rdb = b"REDIS0009\xfe\x00\x02\x01s".to_vec();
    rdb.push(0x80);
    rdb.extend_from_slice(&(n as u32).to_be_bytes());
    for i in 0..n - 1 {
        let m = format!("m{i}");
        rdb.push(m.len() as u8);
        rdb.extend_from_slice(m.as_bytes());
    }
    rdb.extend_from_slice(b"\x02m7");
    rdb.extend_from_slice(b"\xff\0\0\0\0\0\0\0\0");
    let f = dir.file("dup.rdb", &rdb);
    for verb in ["check", "dump"] {
        let out = run_in(&[verb, path(&f)], None);
        assert_eq!(out.code, 1, "{verb}: {out:?}");
        let said = format!("{}{}", out.stdout, out.stderr);
        assert!(said.contains("duplicate"), "{verb}: {out:?}");
    }
}

/// Item 12: manifest file names are bytes, as Redis reads them; a non-UTF-8 name is found.
#[test]
fn non_utf8_manifest_names_are_read_as_bytes() {
    use std::os::unix::ffi::OsStrExt;
    let dir = Scratch::new("manifest-bytes");
    let aof = dir.path().join("appendonlydir");
    std::fs::create_dir_all(&aof).unwrap();
    let name: &[u8] = b"appendonly\xff.aof.1.incr.aof";
    std::fs::write(
        aof.join(std::ffi::OsStr::from_bytes(name)),
        resp(&["SET", "k", "v"]),
    )
    .unwrap();
    let mut manifest = b"file ".to_vec();
    manifest.extend_from_slice(name);
    manifest.extend_from_slice(b" seq 1 type i\n");
    std::fs::write(aof.join("appendonly.aof.manifest"), manifest).unwrap();
    let out = run_in(&["check", path(&aof)], None);
    assert_eq!(out.code, 0, "{out:?}");
    let out = run_in(&["dump", "--json", path(&aof)], None);
    assert_eq!(out.code, 0, "{out:?}");
    assert!(out.stdout.contains("\"k\""), "{out:?}");
}

/// Item 12: flags that do not apply to the input or output are refused, not ignored.
#[test]
fn flags_that_do_not_apply_are_refused() {
    let dir = Scratch::new("flags");
    let rdb = corpus("rdb/redis-7.0.15/strings.rdb");
    let out = run_in(&["check", "--truncate-to-timestamp", "1", path(&rdb)], None);
    assert_eq!(out.code, 2, "{out:?}");
    let target = dir.path().join("out.rdb");
    let out = run_in(
        &[
            "convert",
            "--base-resp",
            "--to",
            "rdb",
            path(&rdb),
            path(&target),
        ],
        None,
    );
    assert_eq!(out.code, 2, "{out:?}");
    assert!(!target.exists());
}

/// `payload encode --out` wrote with a plain `fs::write`: an existing file was replaced without
/// `--force` and half-written on a failure. It now goes through the one output path.
#[test]
fn payload_out_replaces_an_existing_file_only_with_force() {
    let dir = Scratch::new("payload-out");
    let good = dir.file(
        "good.json",
        br#"{"format":"payload/1","type":"string","value":"hello"}"#,
    );
    let out = dir.file("p.bin", b"precious");
    // `payload encode good.json --rdb-version 10 --out OUT`, then `extra`.
    let encode = |out: &std::path::Path, extra: &[&str]| {
        let mut a = vec![
            "payload",
            "encode",
            path(&good),
            "--rdb-version",
            "10",
            "--out",
        ];
        a.push(path(out));
        a.extend_from_slice(extra);
        run_in(&a, None)
    };
    let r = encode(&out, &[]);
    assert_eq!(r.code, 2, "{r:?}");
    assert!(r.stderr.contains("pass --force"), "{r:?}");
    assert_eq!(std::fs::read(&out).unwrap(), b"precious");
    let r = encode(&out, &["--force"]);
    assert_eq!(r.code, 0, "{r:?}");
    assert_eq!(std::fs::read(&out).unwrap().len(), 17);
    // Nor onto its own input.
    let r = encode(&good, &["--force"]);
    assert_eq!(r.code, 2, "{r:?}");
    assert!(std::fs::read_to_string(&good)
        .unwrap()
        .contains("payload/1"));
}
