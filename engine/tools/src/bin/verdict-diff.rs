//! verdict-diff: mutates real-server RDBs of the corpus (bit flips and byte changes, checksums
//! zeroed so a mutation reaches the decoder) and compares `check`'s verdict with the real
//! `redis-check-rdb` of the build that wrote each file. Prints every disagreement class.
//!
//! Usage: `cargo run --release -p redis-persist-tools --bin verdict-diff -- [--mutants N] [--seed S]`
use redis_persist_engine::check;
use redis_persist_engine::corpus::{Filter, Format, Index};
use redis_persist_engine::format::rdb::ReadOptions;
use redis_persist_engine::live::{ServerBuild, TempDir};
use redis_persist_engine::rng::Rng;
use std::collections::BTreeMap;
use std::path::Path;

fn arg(args: &[String], name: &str, default: u64) -> u64 {
    args.iter()
        .position(|a| a == name)
        .and_then(|i| args.get(i + 1)?.parse().ok())
        .unwrap_or(default)
}

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let per_file = arg(&args, "--mutants", 40);
    let mut rng = Rng::new(arg(&args, "--seed", 1));
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../corpus");
    let index = Index::load(&root).expect("corpus index");
    let tmp = TempDir::new("verdict-diff").expect("temp dir");
    let mut builds: BTreeMap<String, ServerBuild> = BTreeMap::new();
    let mut disagreements: BTreeMap<String, Vec<String>> = BTreeMap::new();
    let (mut total, mut same) = (0u64, 0u64);
    for case in index.select(&Filter::default()) {
        let (Format::Rdb, true, Some(build)) = (case.format, case.accept, case.build()) else {
            continue;
        };
        let b = match builds.get(build) {
            Some(b) => b.clone(),
            None => match ServerBuild::by_name(build) {
                Ok(b) => {
                    builds.insert(build.into(), b.clone());
                    b
                }
                Err(_) => continue,
            },
        };
        let original = std::fs::read(index.file(case)).expect("corpus file");
        if original.len() < 32 {
            continue;
        }
        for m in 0..per_file {
            let mut data = original.clone();
            let n = data.len();
            // A zero checksum is "saved without one": every server and checker skips it.
            if b.rdb_version >= 5 {
                data[n - 8..].fill(0);
            }
            let body = 9..n - 9;
            let at = body.start + rng.below((body.end - body.start) as u64) as usize;
            match rng.below(3) {
                0 => data[at] ^= 1 << rng.below(8),
                1 => data[at] = rng.below(256) as u8,
                _ => data[at] = data[at].wrapping_add(1),
            }
            let file = tmp.path().join(format!("m{m}.rdb"));
            std::fs::write(&file, &data).expect("write mutant");
            let theirs = match b.check_rdb_file(&file) {
                Ok(r) => r.passed,
                Err(_) => continue,
            };
            let ours = check::check(&data[..], ReadOptions::default());
            total += 1;
            if ours.is_ok() == theirs {
                same += 1;
                continue;
            }
            let key = match &ours {
                Ok(_) => format!("{build}: we accept, redis-check-rdb refuses"),
                Err(e) => format!(
                    "{build}: we refuse ({}, {}), redis-check-rdb accepts",
                    e.kind.as_str(),
                    e.what
                ),
            };
            let kept =
                tmp.path()
                    .join(format!("{}-{}-{m}.rdb", build, case.name.replace('/', "_")));
            let _ = std::fs::copy(&file, &kept);
            let detail = match ours {
                Ok(_) => format!("{} byte {at}: {}", case.name, kept.display()),
                Err(e) => format!("{} byte {at}: {e} ({})", case.name, kept.display()),
            };
            disagreements.entry(key).or_default().push(detail);
        }
    }
    println!(
        "{total} mutants, {same} same verdict, {} disagree",
        total - same
    );
    for (k, v) in &disagreements {
        println!("\n{k}: {}", v.len());
        for d in v.iter().take(4) {
            println!("  {d}");
        }
    }
    // Kept for inspection: the temp dir stays when anything disagreed.
    if !disagreements.is_empty() {
        println!("\nmutants kept in {}", tmp.path().display());
        std::mem::forget(tmp);
    }
}
