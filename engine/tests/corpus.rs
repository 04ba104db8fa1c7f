//! Runs every case of `corpus/index.json`: each file must decode to exactly its expected Dataset
//! JSON (or be refused with its expected error kind). Every failure is collected and reported
//! with the path to its first difference; `CORPUS_FILTER=substr,-substr` selects cases.
use redis_persist_engine::dataset::{first_difference, from_json_str, to_json_string};
use redis_persist_engine::format::rdb::{read_dataset, ReadOptions};
use serde_json::Value;
use std::path::{Path, PathBuf};

fn corpus_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../corpus")
}

fn selected(name: &str) -> bool {
    let Ok(filter) = std::env::var("CORPUS_FILTER") else {
        return true;
    };
    let mut any_positive = false;
    let mut hit = false;
    for f in filter.split(',').filter(|f| !f.is_empty()) {
        if let Some(neg) = f.strip_prefix('-') {
            if name.contains(neg) {
                return false;
            }
        } else {
            any_positive = true;
            hit |= name.contains(f);
        }
    }
    !any_positive || hit
}

struct Case {
    name: String,
    file: PathBuf,
    expect: Option<PathBuf>,
    outcome: String,
    error_kind: Option<String>,
}

fn cases() -> Vec<Case> {
    let dir = corpus_dir();
    let index: Value = serde_json::from_str(
        &std::fs::read_to_string(dir.join("index.json")).expect("corpus/index.json"),
    )
    .expect("index.json is JSON");
    index
        .as_array()
        .expect("index.json is an array")
        .iter()
        // AOF cases have their own test (corpus_aof.rs).
        .filter(|c| c["format"] != "aof")
        .map(|c| Case {
            name: c["name"].as_str().expect("name").to_owned(),
            file: dir.join(c["file"].as_str().expect("file")),
            expect: c["expect"].as_str().map(|e| dir.join(e)),
            outcome: c["outcome"].as_str().unwrap_or("accept").to_owned(),
            error_kind: c["error"].as_str().map(str::to_owned),
        })
        .collect()
}

/// Checks one case; `Err` describes the mismatch.
fn run(case: &Case) -> Result<Option<String>, String> {
    let data = std::fs::read(&case.file)
        .map_err(|e| format!("cannot read {}: {e}", case.file.display()))?;
    let decoded = read_dataset(&data, ReadOptions::default());
    match (case.outcome.as_str(), decoded) {
        ("accept", Ok((ds, _))) => {
            let path = case
                .expect
                .as_ref()
                .ok_or("accepted case without an expectation")?;
            let text =
                std::fs::read_to_string(path).map_err(|e| format!("{}: {e}", path.display()))?;
            let mut expected =
                from_json_str(&text).map_err(|e| format!("{}: {e}", path.display()))?;
            expected.canonicalize();
            match first_difference(&expected, &ds) {
                None => Ok(Some(to_json_string(&ds))),
                Some(d) => Err(d),
            }
        }
        ("accept", Err(e)) => Err(format!("refused: {e}")),
        ("refuse", Ok(_)) => Err("accepted a case that must be refused".into()),
        ("refuse", Err(e)) => match &case.error_kind {
            Some(k) if k != e.kind.as_str() => {
                Err(format!("refused as {} ({e}), expected {k}", e.kind))
            }
            _ => Ok(None),
        },
        (other, _) => Err(format!("unknown outcome {other:?}")),
    }
}

#[test]
fn corpus_decodes_to_its_expectations() {
    let all = cases();
    assert!(!all.is_empty(), "corpus/index.json lists no cases");
    let mut failures = Vec::new();
    let mut ran = 0;
    for case in all.iter().filter(|c| selected(&c.name)) {
        ran += 1;
        let r = std::panic::catch_unwind(|| run(case)).unwrap_or_else(|p| {
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
    let listed: std::collections::BTreeSet<PathBuf> = cases().into_iter().map(|c| c.file).collect();
    let mut stack = vec![corpus_dir().join("rdb"), corpus_dir().join("hand")];
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
