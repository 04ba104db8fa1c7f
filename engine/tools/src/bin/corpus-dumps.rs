//! corpus-dumps: records, for every RDB case a real server wrote (`rdb/<build>/<scenario>.rdb`),
//! the `DUMP` payload of each of its keys as its own build gives it, in
//! `rdb/<build>/<scenario>.dumps.json` (format in `engine/src/corpus/dumps.rs`). The build is
//! started on a copy of the case's file (127.0.0.1, free port, temp dir, its modules loaded) and
//! asked for `DUMP` of every key; nothing else in the corpus changes. A step beside `corpus-gen`:
//! it needs only the files already there, so the server cases need not be regenerated.
//!
//! Usage: `cargo run -p redis-persist-tools --bin corpus-dumps -- [--out corpus] [--build NAME]...`
use redis_persist_engine::corpus::{dumps, Dumps, Format, Index};
use redis_persist_engine::format::rdb::payload;
use redis_persist_engine::live::{record_dumps, RunningServer, ServerBuild, TempDir};
use std::path::{Path, PathBuf};
use std::process::ExitCode;

fn record(build: &ServerBuild, file: &Path) -> Result<Dumps, String> {
    let tmp = TempDir::new("dumps").map_err(|e| e.to_string())?;
    std::fs::copy(file, tmp.path().join("dump.rdb")).map_err(|e| e.to_string())?;
    let s = RunningServer::start(build, tmp.path(), &["--dbfilename", "dump.rdb"])
        .map_err(|e| e.to_string())?;
    let mut c = s.client().map_err(|e| e.to_string())?;
    let dumps = record_dumps(&mut c).map_err(|e| e.to_string())?;
    let want = if build.magic == "VALKEY" {
        80
    } else {
        build.rdb_version as u16
    };
    for d in &dumps {
        let (_, f) = payload::split(&d.payload).map_err(|e| e.to_string())?;
        if f.version != want {
            return Err(format!(
                "key {:?}: footer version {}, expected {want}",
                String::from_utf8_lossy(&d.key),
                f.version
            ));
        }
    }
    Ok(Dumps {
        build: build.name.to_owned(),
        rdb_version: want as u32,
        dumps,
    })
}

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().collect();
    if args.iter().any(|a| a == "-h" || a == "--help") {
        println!("usage: corpus-dumps [--out DIR] [--build NAME]...");
        return ExitCode::SUCCESS;
    }
    let out = args
        .iter()
        .position(|a| a == "--out")
        .and_then(|i| args.get(i + 1))
        .map_or_else(|| PathBuf::from("corpus"), PathBuf::from);
    let only: Vec<&str> = args
        .windows(2)
        .filter(|w| w[0] == "--build")
        .map(|w| w[1].as_str())
        .collect();
    let index = match Index::load(&out) {
        Ok(i) => i,
        Err(e) => {
            eprintln!("corpus-dumps: {e}");
            return ExitCode::FAILURE;
        }
    };
    let mut failures = 0;
    let mut missing = std::collections::BTreeSet::new();
    for case in &index.cases {
        let Some(name) = case.origin.build.as_deref() else {
            continue;
        };
        if case.origin.kind != "server"
            || case.format != Format::Rdb
            || !case.accept
            || (!only.is_empty() && !only.contains(&name))
        {
            continue;
        }
        let build = match ServerBuild::by_name(name) {
            Ok(b) => b,
            Err(e) => {
                if missing.insert(name.to_owned()) {
                    eprintln!("  ! {name}: {e}");
                }
                failures += 1;
                continue;
            }
        };
        let file = index.file(case);
        match record(&build, &file) {
            Ok(d) => {
                let path = dumps::path_for(&file);
                if let Err(e) = std::fs::write(&path, d.to_text()) {
                    eprintln!("corpus-dumps: {}: {e}", path.display());
                    return ExitCode::FAILURE;
                }
                println!("  + {} ({} keys)", case.name, d.dumps.len());
            }
            Err(e) => {
                eprintln!("  ! {}: {e}", case.name);
                failures += 1;
            }
        }
    }
    if failures > 0 {
        eprintln!("{failures} case(s) not recorded");
        return ExitCode::FAILURE;
    }
    ExitCode::SUCCESS
}
