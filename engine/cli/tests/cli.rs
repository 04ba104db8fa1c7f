//! The `redis-persist` binary as a script would use it: exit codes 0/1/2, Dataset JSON on stdout,
//! the error object under --json, a one-line message on stderr.
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

fn bin() -> Command {
    Command::new(env!("CARGO_BIN_EXE_redis-persist"))
}

fn corpus(rel: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../../corpus")
        .join(rel)
}

fn run(args: &[&str]) -> Output {
    bin().args(args).output().expect("redis-persist runs")
}

fn temp_file(name: &str, bytes: &[u8]) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("redis-persist-cli-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let p = dir.join(name);
    std::fs::write(&p, bytes).unwrap();
    p
}

#[test]
fn dump_json_matches_the_expectation() {
    let f = corpus("rdb/redis-7.0.15/strings.rdb");
    let out = run(&["dump", f.to_str().unwrap(), "--json"]);
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let got =
        redis_persist_engine::dataset::from_json_str(std::str::from_utf8(&out.stdout).unwrap())
            .unwrap();
    let mut want = redis_persist_engine::dataset::from_json_str(
        &std::fs::read_to_string(corpus("rdb/redis-7.0.15/strings.json")).unwrap(),
    )
    .unwrap();
    want.canonicalize();
    assert_eq!(
        redis_persist_engine::dataset::first_difference(&want, &got),
        None
    );
}

#[test]
fn dump_listing_and_check_summary() {
    let f = corpus("rdb/redis-7.4.1/streams.rdb");
    let out = run(&["dump", f.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(0));
    let text = String::from_utf8(out.stdout).unwrap();
    assert!(text.starts_with("# REDIS0012 (rdb)"), "{text}");
    assert!(
        text.lines().any(|l| l.starts_with("db 0 stream ")),
        "{text}"
    );
    let out = run(&["check", f.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(0));
    let text = String::from_utf8(out.stdout).unwrap();
    assert!(
        text.contains("valid REDIS0012") && text.contains("checksum: verified"),
        "{text}"
    );
    let out = run(&["check", f.to_str().unwrap(), "--json"]);
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(v["valid"], true);
    assert_eq!(v["version"], 12);
}

#[test]
fn refused_input_exits_1_with_error_object_and_one_line() {
    let mut data = std::fs::read(corpus("rdb/redis-7.0.15/strings.rdb")).unwrap();
    let n = data.len();
    data[n - 1] ^= 0x55; // break the CRC trailer
    let f = temp_file("bad-crc.rdb", &data);
    let out = run(&["dump", f.to_str().unwrap(), "--json"]);
    assert_eq!(out.status.code(), Some(1));
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(v["error"]["kind"], "checksum_mismatch");
    assert_eq!(v["error"]["offset"], (n - 8) as u64);
    let err = String::from_utf8(out.stderr).unwrap();
    assert_eq!(err.lines().count(), 1, "{err}");
    let out = run(&["check", f.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(1));
    let line = String::from_utf8(out.stdout).unwrap();
    assert!(
        line.contains(&format!(": invalid: checksum_mismatch at offset {}", n - 8))
            && line.starts_with(f.to_str().unwrap()),
        "{line}"
    );
    // --ignore-checksum accepts the same file.
    let out = run(&["check", f.to_str().unwrap(), "--ignore-checksum"]);
    assert_eq!(out.status.code(), Some(0));
}

#[test]
fn truncated_input_is_truncated_not_corrupt() {
    let data = std::fs::read(corpus("rdb/redis-7.0.15/lists.rdb")).unwrap();
    let f = temp_file("cut.rdb", &data[..data.len() / 2]);
    let out = run(&["dump", f.to_str().unwrap(), "--json"]);
    assert_eq!(out.status.code(), Some(1));
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(v["error"]["kind"], "truncated");
}

#[test]
fn usage_errors_exit_2() {
    assert_eq!(run(&[]).status.code(), Some(2));
    assert_eq!(run(&["dump"]).status.code(), Some(2));
    assert_eq!(run(&["frobnicate", "x"]).status.code(), Some(2));
    let out = run(&["dump", "/nonexistent/dump.rdb"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("cannot open"));
}

#[test]
fn reads_standard_input() {
    use std::io::Write;
    let data = std::fs::read(corpus("rdb/redis-6.2.14/sets.rdb")).unwrap();
    let mut child = bin()
        .args(["check", "-"])
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    child.stdin.take().unwrap().write_all(&data).unwrap();
    let out = child.wait_with_output().unwrap();
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stdout)
    );
}

#[test]
fn help_explains_exit_codes() {
    let out = run(&["--help"]);
    let text = String::from_utf8(out.stdout).unwrap();
    assert!(
        text.contains("Exit codes") && text.contains("dump") && text.contains("check"),
        "{text}"
    );
}

#[test]
fn aof_inputs_dump_check_fix_and_convert() {
    let aof = b"*2\r\n$6\r\nSELECT\r\n$1\r\n0\r\n*3\r\n$3\r\nset\r\n$3\r\nfoo\r\n$5\r\nhello\r\n!!!\r\n*3\r\n$3\r\nset\r\n$3\r\nbar\r\n$5\r\nworld\r\n";
    let f = temp_file("garbage.aof", aof);
    // dump refuses mid-file garbage even with aof-load-truncated; check names the cut; --fix cuts.
    assert_eq!(run(&["dump", f.to_str().unwrap()]).status.code(), Some(1));
    let out = run(&["check", f.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(1));
    assert!(
        String::from_utf8_lossy(&out.stdout).contains("ok_up_to=56"),
        "{}",
        String::from_utf8_lossy(&out.stdout)
    );
    assert_eq!(
        std::fs::read(&f).unwrap().len(),
        aof.len(),
        "check without --fix never modifies"
    );
    assert_eq!(
        run(&["check", f.to_str().unwrap(), "--fix", "--yes"])
            .status
            .code(),
        Some(0)
    );
    assert_eq!(std::fs::read(&f).unwrap().len(), 56);
    let out = run(&["dump", f.to_str().unwrap(), "--json"]);
    assert_eq!(out.status.code(), Some(0));
    assert!(String::from_utf8_lossy(&out.stdout).contains("\"foo\""));
    // An RDB becomes an appendonly directory and reads back equal.
    let src = corpus("rdb/redis-7.0.15/hashes.rdb");
    let dir = std::env::temp_dir().join(format!("redis-persist-cli-{}-aofdir", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    for extra in [&[][..], &["--base-resp"][..]] {
        let mut args = vec![
            "convert",
            src.to_str().unwrap(),
            dir.to_str().unwrap(),
            "--to",
            "aof-dir",
        ];
        args.extend_from_slice(extra);
        assert_eq!(run(&args).status.code(), Some(0));
        let a = run(&["dump", src.to_str().unwrap(), "--json"]).stdout;
        let b = run(&["dump", dir.to_str().unwrap(), "--json"]).stdout;
        let (a, b) = (
            redis_persist_engine::dataset::from_json_str(std::str::from_utf8(&a).unwrap()).unwrap(),
            redis_persist_engine::dataset::from_json_str(std::str::from_utf8(&b).unwrap()).unwrap(),
        );
        assert_eq!(
            redis_persist_engine::dataset::first_difference(&a, &b),
            None
        );
        std::fs::remove_dir_all(&dir).unwrap();
    }
}

/// `conform` without `--corpus` runs the corpus built into the binary, from any directory, with
/// the same rows as the checkout's corpus (issue 17).
#[test]
fn conform_runs_the_built_in_corpus_from_any_directory() {
    let empty = std::env::temp_dir().join(format!("redis-persist-empty-{}", std::process::id()));
    std::fs::create_dir_all(&empty).unwrap();
    let built_in = bin().arg("conform").current_dir(&empty).output().unwrap();
    let checkout = run(&["conform", "--corpus", corpus("").to_str().unwrap()]);
    std::fs::remove_dir_all(&empty).unwrap();
    let last = |o: &Output| {
        String::from_utf8_lossy(&o.stdout)
            .lines()
            .last()
            .unwrap_or("")
            .to_owned()
    };
    assert_eq!(built_in.status.code(), Some(0), "{}", last(&built_in));
    assert!(
        last(&built_in).ends_with("0 failed, 0 skipped"),
        "{}",
        last(&built_in)
    );
    assert_eq!(last(&built_in), last(&checkout));
}
