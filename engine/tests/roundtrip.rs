//! For every corpus file F and every target V that holds its content exactly,
//! dump(convert(F, V)) equals dump(F); targets that cannot hold it must say why. The files are
//! the servers' (`rdb/`), the hand-built ones that must be accepted (`hand/`, RDB 1-8 and 13-15)
//! and the external real ones (`external/`, RDB 13 and 15).
use redis_persist_engine::dataset::{first_difference, Dataset};
use redis_persist_engine::format::rdb::{
    assess, read_dataset, write_to_vec, ReadOptions, Target, WriteError, WriteOptions,
};
use std::path::Path;

fn corpus_files() -> Vec<std::path::PathBuf> {
    let mut out = Vec::new();
    let corpus = Path::new(env!("CARGO_MANIFEST_DIR")).join("../corpus");
    let mut stack = vec![
        corpus.join("rdb"),
        corpus.join("hand"),
        corpus.join("external"),
    ];
    while let Some(d) = stack.pop() {
        for e in std::fs::read_dir(&d).into_iter().flatten().flatten() {
            let p = e.path();
            if p.is_dir() {
                stack.push(p);
            } else if p.extension().is_some_and(|x| x == "rdb")
                && !p
                    .file_name()
                    .is_some_and(|n| n.to_string_lossy().starts_with("neg-"))
            {
                out.push(p);
            }
        }
    }
    out.sort();
    out
}

fn decode(bytes: &[u8]) -> Dataset {
    read_dataset(bytes, ReadOptions::default()).unwrap().0
}

#[test]
fn corpus_survives_conversion_to_every_version_that_holds_it() {
    let mut failures = Vec::new();
    let (mut exact, mut own) = (0, 0);
    let files = corpus_files();
    for f in &files {
        let original = decode(&std::fs::read(f).unwrap());
        // The file's own version (where a writer target exists: RDB 6+) holds all it holds.
        let own_target = original
            .source
            .as_ref()
            .and_then(|s| match s.magic.as_deref() {
                Some("VALKEY") => Some(Target::VALKEY_80),
                _ => Target::redis(s.version?),
            });
        let version = original.source.as_ref().and_then(|s| s.version);
        if own_target.is_none() && version.is_none_or(|v| v >= 6) {
            failures.push(format!(
                "{}: version {version:?} has no target",
                f.display()
            ));
        }
        for t in Target::all() {
            let report = assess(&original, t);
            if Some(t) == own_target {
                own += 1;
                if !report.exact() {
                    failures.push(format!(
                        "{}: its own version {t} does not hold it exactly: {:?}",
                        f.display(),
                        report
                    ));
                }
            }
            for compression in [true, false] {
                let mut opts = WriteOptions::new(t, 1_700_000_000);
                opts.compression = compression;
                match write_to_vec(&original, &opts) {
                    Ok(bytes) if report.exact() => {
                        exact += 1;
                        let back = decode(&bytes);
                        if let Some(d) = first_difference(&original, &back) {
                            failures.push(format!("{} -> {t}: {d}", f.display()));
                        }
                    }
                    Ok(bytes) => {
                        // Loss-free but defaults filled in: still decodes, and nothing is lost.
                        assert!(report.lost.is_empty());
                        read_dataset(&bytes, ReadOptions::default()).unwrap();
                    }
                    Err(WriteError::Refused(r)) => assert!(!r.lost.is_empty()),
                    Err(e) => failures.push(format!("{} -> {t}: {e}", f.display())),
                }
            }
        }
    }
    let below_6 = files.len() - own;
    eprintln!(
        "{} files: {exact} exact conversions decoded back equal; {own} files converted exactly to \
         their own version, {below_6} older than any writer target (RDB 1-5)",
        files.len()
    );
    assert!(
        own > 0,
        "no corpus file has a writer target for its version"
    );
    assert!(
        failures.is_empty(),
        "{} failures:\n{}",
        failures.len(),
        failures.join("\n")
    );
}

#[test]
fn allow_loss_writes_the_closest_equivalent() {
    let f =
        Path::new(env!("CARGO_MANIFEST_DIR")).join("../corpus/rdb/redis-7.4.1/hash-field-ttl.rdb");
    let original = decode(&std::fs::read(f).unwrap());
    let t10 = Target::redis(10).unwrap();
    let mut opts = WriteOptions::new(t10, 1_700_000_000);
    let Err(WriteError::Refused(r)) = write_to_vec(&original, &opts) else {
        panic!("field TTLs at RDB 10 must be refused")
    };
    assert!(
        r.lost.iter().any(|l| l.what.contains("hash field TTLs")),
        "{r:?}"
    );
    opts.allow_loss = true;
    let back = decode(&write_to_vec(&original, &opts).unwrap());
    let mut expected = original.clone();
    for e in &mut expected.keys {
        if let redis_persist_engine::dataset::Value::Hash(h) = &mut e.value {
            h.iter_mut().for_each(|f| f.expire_ms = None);
        }
    }
    assert_eq!(first_difference(&expected, &back), None);
}
