//! Runs every case of `corpus/index.json`: each file must decode to exactly its expected Dataset
//! JSON (or be refused with its expected error kind). Every failure is collected and reported
//! with the path to its first difference; `CORPUS_FILTER` selects cases (the grammar of
//! `redis_persist_engine::corpus::Filter`); a filter that selects nothing fails.
use redis_persist_engine::corpus::{Case, Filter, Format, Index};
use redis_persist_engine::dataset::{first_difference, to_json_string};
use redis_persist_engine::format::rdb::{read_dataset, ReadOptions};
use std::path::{Path, PathBuf};

fn index() -> Index {
    Index::load(&Path::new(env!("CARGO_MANIFEST_DIR")).join("../corpus")).expect("the corpus index")
}

/// The RDB cases (AOF cases have their own test, `corpus_aof.rs` in the CLI package).
fn cases(index: &Index) -> Vec<&Case> {
    index
        .cases
        .iter()
        .filter(|c| c.format == Format::Rdb)
        .collect()
}

/// Checks one case; `Err` describes the mismatch.
fn run(index: &Index, case: &Case) -> Result<Option<String>, String> {
    let file = index.file(case);
    let data = std::fs::read(&file).map_err(|e| format!("cannot read {}: {e}", file.display()))?;
    let decoded = read_dataset(&data, ReadOptions::default());
    match (case.accept, decoded) {
        (true, Ok((ds, _))) => {
            let expected = index.expected_dataset(case).map_err(|e| e.to_string())?;
            match first_difference(&expected, &ds) {
                None => Ok(Some(to_json_string(&ds))),
                Some(d) => Err(d),
            }
        }
        (true, Err(e)) => Err(format!("refused: {e}")),
        (false, Ok(_)) => Err("accepted a case that must be refused".into()),
        (false, Err(e)) => match &case.error {
            Some(k) if k != e.kind.as_str() => {
                Err(format!("refused as {} ({e}), expected {k}", e.kind))
            }
            _ => Ok(None),
        },
    }
}

#[test]
fn corpus_decodes_to_its_expectations() {
    let index = index();
    let filter = Filter::from_env().expect("CORPUS_FILTER");
    let selected: Vec<&Case> = cases(&index)
        .into_iter()
        .filter(|c| filter.selects(&c.name))
        .collect();
    assert!(
        !selected.is_empty(),
        "no RDB case of corpus/index.json is selected (CORPUS_FILTER={filter})"
    );
    let mut failures = Vec::new();
    let mut ran = 0;
    for case in selected {
        ran += 1;
        let r = std::panic::catch_unwind(|| run(&index, case)).unwrap_or_else(|p| {
            Err(format!(
                "panicked: {}",
                p.downcast_ref::<String>().cloned().unwrap_or_default()
            ))
        });
        match r {
            Ok(Some(json)) => {
                let snap = case.name.replace(['/', '.'], "_");
                insta::with_settings!({ snapshot_path => "snapshots/corpus", prepend_module_to_snapshot => false, omit_expression => true }, {
                    insta::assert_snapshot!(snap, json);
                });
            }
            Ok(None) => {}
            Err(e) => failures.push(format!("{}: {e}", case.name)),
        }
    }
    eprintln!("{ran} corpus cases run");
    assert!(
        failures.is_empty(),
        "{} of {ran} corpus cases failed:\n{}",
        failures.len(),
        failures.join("\n")
    );
}

/// Every file under corpus/ is listed in the index, so no case is silently left out.
#[test]
fn every_corpus_file_is_indexed() {
    let index = index();
    let listed: std::collections::BTreeSet<PathBuf> =
        index.cases.iter().map(|c| index.file(c)).collect();
    let mut stack = vec![
        index.dir.join("rdb"),
        index.dir.join("hand"),
        index.dir.join("external"),
    ];
    let mut missing = Vec::new();
    while let Some(d) = stack.pop() {
        for e in std::fs::read_dir(&d).into_iter().flatten().flatten() {
            let p = e.path();
            if p.is_dir() {
                stack.push(p);
            } else if p.extension().is_some_and(|x| x == "rdb") && !listed.contains(&p) {
                missing.push(p.display().to_string());
            }
        }
    }
    assert!(
        missing.is_empty(),
        "files not in corpus/index.json:\n{}",
        missing.join("\n")
    );
}

/// One verdict: `check` accepts exactly the RDB cases a server accepts, and where the corpus
/// recorded what the real `redis-check-rdb` said of a file, `check` says the same (issue 10).
#[test]
fn check_verdicts_are_the_servers() {
    use redis_persist_engine::check::{check_stream, Checked};
    let index = index();
    let (mut agreed, mut with_checker) = (0, 0);
    let mut failures = Vec::new();
    let all = cases(&index);
    for case in &all {
        let file = index.file(case);
        let len = std::fs::metadata(&file).unwrap().len();
        let r = std::fs::File::open(&file).unwrap();
        let ours = match check_stream(r, Some(len), &file, ReadOptions::default()) {
            Ok(Checked::Rdb(_)) => true,
            Ok(Checked::Aof(f, _)) => f.problem.is_none(),
            Err(_) => false,
        };
        if ours != case.accept {
            failures.push(format!(
                "{}: check accepts={ours}, server={}",
                case.name, case.accept
            ));
            continue;
        }
        if let Some(c) = &case.check_rdb {
            with_checker += 1;
            if ours != (c == "ok") {
                failures.push(format!(
                    "{}: check accepts={ours}, redis-check-rdb: {c}",
                    case.name
                ));
                continue;
            }
        }
        agreed += 1;
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
    assert_eq!(agreed, all.len());
    // The index records 111 verdicts of a real redis-check-rdb (90 "ok", 21 refusals); every one
    // was compared. A new case with a recorded verdict raises this count.
    assert_eq!(
        with_checker, 111,
        "cases carrying a redis-check-rdb verdict"
    );
}
