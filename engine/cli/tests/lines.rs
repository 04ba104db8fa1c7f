//! `dump --jsonl` carries the same keys and values as `dump --json` on every corpus file (issue
//! 15), gives the same verdict on every refusal, and its lines read back through `convert`.
use redis_persist_engine::corpus::{Format, Index};
use redis_persist_engine::dataset::{first_difference, from_json_str};
use std::path::Path;
use std::process::Command;

fn dump(args: &[&str]) -> (i32, String) {
    let o = Command::new(env!("CARGO_BIN_EXE_redis-persist"))
        .args(args)
        .output()
        .expect("redis-persist runs");
    (
        o.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&o.stdout).into_owned(),
    )
}

#[test]
fn jsonl_and_json_agree_on_every_corpus_file() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../corpus");
    let index = Index::load(&root).expect("the corpus index");
    let (mut same, mut refused) = (0, 0);
    let mut failures = Vec::new();
    for case in &index.cases {
        let file = index.file(case);
        let f = file.to_str().unwrap();
        let (jc, json) = dump(&["dump", "--json", f]);
        let (lc, lines) = dump(&["dump", "--jsonl", f]);
        if jc != lc {
            failures.push(format!(
                "{}: --json exit {jc}, --jsonl exit {lc}",
                case.name
            ));
            continue;
        }
        if jc != 0 {
            let last = lines.lines().last().unwrap_or("");
            if !last.starts_with("{\"error\"") || lines.contains("{\"end\"") {
                failures.push(format!(
                    "{}: a refusal must end in an error line: {last}",
                    case.name
                ));
            }
            refused += 1;
            continue;
        }
        let a = from_json_str(&json).expect("dump --json is Dataset JSON");
        match from_json_str(&lines) {
            Err(e) => failures.push(format!("{}: lines unreadable: {e}", case.name)),
            Ok(b) => match first_difference(&a, &b) {
                None => same += 1,
                Some(d) => failures.push(format!("{}: {d}", case.name)),
            },
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
    let accepted = index.cases.iter().filter(|c| c.accept).count();
    assert_eq!(same, accepted, "every accepted case compared");
    assert_eq!(refused, index.cases.len() - accepted);
    let rdb = index
        .cases
        .iter()
        .filter(|c| c.format == Format::Rdb)
        .count();
    eprintln!("{same} accepted ({rdb} RDB cases in all), {refused} refused: --jsonl agrees");
}

#[test]
fn cut_lines_are_refused() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../corpus");
    let f = root.join("rdb/redis-7.0.15/sets.rdb");
    let (code, lines) = dump(&["dump", "--jsonl", f.to_str().unwrap()]);
    assert_eq!(code, 0);
    let cut: Vec<&str> = lines.lines().collect();
    let cut = cut[..cut.len() - 2].join("\n");
    let e = from_json_str(&cut).unwrap_err();
    assert!(e.message.contains("cut short"), "{e}");
}

/// `conform` takes Dataset JSON lines from a decoder: our own `dump --jsonl` passes every case.
#[test]
fn conform_reads_a_jsonl_decoder() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../corpus");
    let index = Index::load(&root).expect("the corpus index");
    let bin = env!("CARGO_BIN_EXE_redis-persist");
    let decoder = format!("{bin} dump --jsonl {{file}}");
    let (code, out) = dump(&[
        "conform",
        "--corpus",
        root.to_str().unwrap(),
        "--decoder",
        &decoder,
    ]);
    let want = format!("{} passed, 0 failed, 0 skipped", index.cases.len());
    assert!(out.contains(&want), "expected {want:?}:\n{out}");
    assert_eq!(code, 0);
}
