//! The AOF cases of `corpus/index.json` (`"format": "aof"`): the loader must reach what the real
//! server reached on the same files, and `check` must give the real `redis-check-aof`'s verdict.
//!
//! Expectations were recorded by `corpus-gen` from the real builds: the dataset each loaded (read
//! back over RESP), the length it cut a truncated file to, or its refusal; and what its checker
//! said (exit status, `ok_up_to`). Nothing here is compared with output of this project's code.
use redis_persist_engine::aof::{load, LoadOptions};
use redis_persist_engine::corpus::{Case, Format, Index};
use redis_persist_engine::dataset::{first_difference, forget_unreported};
use redis_persist_engine::format::rdb::ReadOptions;
use std::path::{Path, PathBuf};

fn index() -> Index {
    Index::load(&Path::new(env!("CARGO_MANIFEST_DIR")).join("../../corpus")).expect("corpus index")
}

fn aof_cases(index: &Index) -> Vec<&Case> {
    index
        .cases
        .iter()
        .filter(|c| c.format == Format::Aof)
        .collect()
}

/// The case directories under corpus/aof/<build>/, as found on disk.
fn aof_dirs(index: &Index) -> Vec<PathBuf> {
    let mut out = Vec::new();
    for build in std::fs::read_dir(index.dir.join("aof"))
        .expect("corpus/aof")
        .flatten()
    {
        for case in std::fs::read_dir(build.path())
            .into_iter()
            .flatten()
            .flatten()
        {
            if case.path().is_dir() {
                out.push(case.path());
            }
        }
    }
    out
}

fn now_ms() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .expect("clock after 1970")
        .as_millis() as i64
}

/// The last file of a case: what a cut or a check verdict refers to.
fn last_file(root: &Path) -> PathBuf {
    redis_persist_engine::aof::Layout::find(root)
        .expect("layout")
        .files()
        .pop()
        .expect("at least one file")
}

fn run_load(index: &Index, case: &Case) -> Result<(), String> {
    let file = index.file(case);
    let opts = LoadOptions {
        load_truncated: true,
        now_ms: now_ms(),
        rdb: ReadOptions::default(),
        memory_limit: None,
    };
    let before = std::fs::read(last_file(&file)).map_err(|e| e.to_string())?;
    let loaded = load(&file, &opts);
    let after = std::fs::read(last_file(&file)).map_err(|e| e.to_string())?;
    if before != after {
        return Err("the loader modified its input".into());
    }
    match (case.accept, loaded) {
        (true, Ok(l)) => {
            let want = index.expected_dataset(case).map_err(|e| e.to_string())?;
            let mut got = l.dataset;
            forget_unreported(&want, &mut got);
            if let Some(d) = first_difference(&want, &got) {
                return Err(d);
            }
            let server_cut = case.server_truncated_to;
            let our_cut = l.truncated.as_ref().map(|t| t.valid_len);
            if server_cut != our_cut {
                return Err(format!(
                    "the server cut the file to {server_cut:?}, we would cut to {our_cut:?}"
                ));
            }
            Ok(())
        }
        (true, Err(e)) => Err(format!("refused: {e}")),
        (false, Ok(_)) => Err("accepted a case the server refuses".into()),
        (false, Err(e)) => match case.error.as_deref() {
            Some(k) if k != e.kind.as_str() => Err(format!("refused as {} ({e}), not {k}", e.kind)),
            _ => Ok(()),
        },
    }
}

#[test]
fn aof_cases_load_as_the_real_server_loaded_them() {
    let index = index();
    let cases = aof_cases(&index);
    // Every case directory on disk is a case here (`every_aof_case_is_indexed` pairs them).
    assert_eq!(
        cases.len(),
        aof_dirs(&index).len(),
        "AOF cases in the index"
    );
    let failures: Vec<String> = cases
        .iter()
        .filter_map(|c| {
            run_load(&index, c)
                .err()
                .map(|e| format!("{}: {e}", c.name))
        })
        .collect();
    assert!(
        failures.is_empty(),
        "{} of {} AOF cases differ from the real server:\n{}",
        failures.len(),
        cases.len(),
        failures.join("\n")
    );
}

/// The figures of every "AOF analyzed:" line of a verdict: (size, ok_up_to, ok_up_to_line).
fn analyzed(verdict: &str) -> Vec<(u64, u64, u64)> {
    verdict
        .split("AOF analyzed: ")
        .skip(1)
        .map(|part| {
            let field = |k: &str| -> u64 {
                part.split([',', ';'])
                    .map(str::trim)
                    .find_map(|f| f.strip_prefix(k))
                    .and_then(|v| v.parse().ok())
                    .unwrap_or(u64::MAX)
            };
            (field("size="), field("ok_up_to="), field("ok_up_to_line="))
        })
        .collect()
}

/// Cases where the real checker is wrong about a file its own server loads, with the reason. Each
/// must still show the checker's error (so an entry cannot outlive the bug) and an accepting
/// server; ours must call the file valid.
const CHECKER_BUGS: &[(&str, &str)] = &[(
    "valkey-9.1.2/aof-rewrite-preamble",
    "valkey-check-aof 9.1.2 recognises an RDB preamble only by the REDIS magic, so it calls its \
     own server's VALKEY080 base a format error at offset 0; valkey-server 9.1.2 loads it",
)];

/// Our `check` (the library the CLI prints) against the real `redis-check-aof` of the build
/// that wrote each case: the same verdict, and for every file the real tool analyzed the same
/// size, `ok_up_to` and `ok_up_to_line`.
#[test]
fn check_gives_the_real_checkers_verdict_and_figures() {
    use redis_persist_engine::check::aof;
    let mut failures = Vec::new();
    let index = index();
    let cases = aof_cases(&index);
    let (mut figures, mut compared) = (0, 0);
    for case in &cases {
        let file = index.file(case);
        let ours = aof::check(&file, ReadOptions::default()).expect("the layout reads");
        let real = case
            .check_aof
            .as_ref()
            .expect("every AOF case records check_aof");
        let real_valid = real.status == 0;
        let ours_valid = ours.valid();
        let name = &case.name;
        if let Some((_, why)) = CHECKER_BUGS.iter().find(|(n, _)| name == n) {
            let still = !real_valid && case.accept && ours_valid;
            if !still {
                failures.push(format!(
                    "{name}: listed as a checker bug ({why}) but not one"
                ));
            }
            continue;
        }
        if real_valid != ours_valid {
            failures.push(format!(
                "{name}: redis-check-aof says {}, we say {}: {:?}",
                real.verdict,
                if ours_valid { "valid" } else { "invalid" },
                ours.failed()
                    .and_then(|f| f.problem.as_ref())
                    .map(|p| p.to_string())
            ));
            continue;
        }
        let theirs = analyzed(&real.verdict);
        compared += 1;
        // Every recorded verdict names at least one analyzed file: none means it was misread.
        if theirs.is_empty() {
            failures.push(format!(
                "{name}: no \"AOF analyzed\" figures in {:?}",
                real.verdict
            ));
        }
        let mine: Vec<(u64, u64, u64)> = ours
            .files
            .iter()
            .filter(|f| f.size > 0)
            .map(|f| (f.size, f.ok_up_to, f.ok_up_to_line))
            .collect();
        if theirs != mine {
            failures.push(format!(
                "{name}: redis-check-aof analyzed (size, ok_up_to, ok_up_to_line) {theirs:?}, we {mine:?}"
            ));
        }
        figures += theirs.len();
        if let (false, Some(want)) = (real_valid, real.ok_up_to) {
            let got = ours.failed().map(|f| f.ok_up_to);
            if got != Some(want) {
                failures.push(format!("{name}: ok_up_to {want}, ours {got:?}"));
            }
        }
    }
    eprintln!("{compared} verdicts and {figures} analyzed files compared");
    assert_eq!(
        compared + CHECKER_BUGS.len(),
        cases.len(),
        "verdicts compared"
    );
    assert!(
        failures.is_empty(),
        "{} of {} verdicts differ:\n{}",
        failures.len(),
        cases.len(),
        failures.join("\n")
    );
}

/// The recorded verdicts above are the real checkers' own words when the corpus was made; this
/// runs each installed build's checker again on a scratch copy of its cases (it is never given
/// `--fix`, but nothing may touch the corpus), so `check`'s figures are held to the tool itself.
#[test]
fn check_gives_the_installed_checkers_figures() {
    use redis_persist_engine::check::aof;
    use redis_persist_engine::live::{copy_tree, require_or_skip, TempDir};
    let index = index();
    let cases = aof_cases(&index);
    let mut builds: Vec<&str> = cases
        .iter()
        .filter_map(|c| c.origin.build.as_deref())
        .collect();
    builds.sort();
    builds.dedup();
    let (mut failures, mut compared, mut all_builds) = (Vec::new(), 0, true);
    for name in builds {
        let Some(build) = require_or_skip(name) else {
            all_builds = false;
            continue;
        };
        let mine = cases
            .iter()
            .filter(|c| c.origin.build.as_deref() == Some(name));
        for case in mine {
            if CHECKER_BUGS.iter().any(|(n, _)| *n == case.name) {
                continue;
            }
            let file = index.file(case);
            let tmp = TempDir::new("aof-check-live").expect("a temp dir");
            let copy = tmp.path().join(file.file_name().expect("a file name"));
            copy_tree(&file, &copy).expect("the case copies");
            // A directory is checked through its manifest, as redis-check-aof 7+ is given it.
            let target = if copy.is_file() {
                copy.clone()
            } else {
                std::fs::read_dir(&copy)
                    .expect("the copy")
                    .flatten()
                    .map(|e| e.path())
                    .find(|p| p.to_string_lossy().ends_with(".manifest"))
                    .expect("a manifest")
            };
            let real = build.check_aof_file(&target).expect("the checker runs");
            let ours = aof::check(&file, ReadOptions::default()).expect("the layout reads");
            let theirs = analyzed(&real.output.replace('\n', "; "));
            let figures: Vec<(u64, u64, u64)> = ours
                .files
                .iter()
                .filter(|f| f.size > 0)
                .map(|f| (f.size, f.ok_up_to, f.ok_up_to_line))
                .collect();
            compared += 1;
            if (real.status == 0) != ours.valid() || theirs != figures || theirs.is_empty() {
                failures.push(format!(
                    "{}: {name}'s checker (exit {}) analyzed {theirs:?}, we (valid: {}) {figures:?}",
                    case.name,
                    real.status,
                    ours.valid()
                ));
            }
        }
    }
    eprintln!("{compared} AOF cases checked by the installed checkers");
    if all_builds {
        // Every case is compared but those the checker bug list names, each of them a real case.
        assert_eq!(
            compared + CHECKER_BUGS.len(),
            cases.len(),
            "AOF cases checked by their build's checker"
        );
    }
    assert!(
        failures.is_empty(),
        "{} differ from the installed checker:\n{}",
        failures.len(),
        failures.join("\n")
    );
}

/// Every AOF case directory under corpus/aof is listed in the index, so none is silently left out.
#[test]
fn every_aof_case_is_indexed() {
    let index = index();
    let listed: std::collections::BTreeSet<PathBuf> = aof_cases(&index)
        .iter()
        .map(|c| index.file(c))
        .filter_map(|p| p.parent().map(Path::to_path_buf))
        .collect();
    let dirs = aof_dirs(&index);
    let missing: Vec<String> = dirs
        .iter()
        .filter(|p| !listed.contains(*p))
        .map(|p| p.display().to_string())
        .collect();
    assert!(
        missing.is_empty(),
        "AOF cases not in corpus/index.json:\n{}",
        missing.join("\n")
    );
    assert!(!dirs.is_empty(), "no AOF case directory under corpus/aof");
    assert_eq!(listed.len(), dirs.len(), "one case per directory");
}
