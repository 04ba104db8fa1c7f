//! corpus-hand: writes `corpus/hand/`, the cases no server we can run writes: RDB versions 1 to 8
//! built byte by byte, and refusals with one documented defect each. Every positive case is then
//! loaded by the real redis-server 7.0.15 (which still reads every version from 1) and must read
//! back as the dataset its bytes were built to mean; every case gets the real redis-check-rdb's
//! verdict.
//!
//! RDB 13 to 15 (Redis 8.6 to 8.10) cases are built from the source layouts (`redis8.rs`); no
//! server that reads them runs here, so they are marked "from source, not yet checked against a
//! server" and get no server verdict. Real RDB 13 and 15 files from other projects (`external/`,
//! with their licenses) are indexed with the expectations written for them (`external.rs`).
//!
//! Usage: `cargo run -p redis-persist-tools --bin corpus-hand -- [--out corpus] [--no-server]`.
mod bytes;
mod cases;
mod external;
mod negative;
mod redis8;

use redis_persist_engine::corpus::{Case, Index};
use redis_persist_engine::dataset::{first_difference, to_json_string, Dataset};
use redis_persist_engine::live::{
    all_nonempty_dbs, read_dataset, RunningServer, ServerBuild, TempDir,
};
use serde_json::{json, Value as J};
use std::path::{Path, PathBuf};
use std::process::ExitCode;

/// What redis-server 7.0.15 reads back from `file`, or why it would not start.
fn server_reads(build: &ServerBuild, file: &[u8]) -> Result<Dataset, String> {
    let tmp = TempDir::new("hand").map_err(|e| e.to_string())?;
    std::fs::write(tmp.path().join("dump.rdb"), file).map_err(|e| e.to_string())?;
    let s = RunningServer::start(build, tmp.path(), &["--dbfilename", "dump.rdb"])
        .map_err(|e| e.to_string())?;
    let mut c = s.client().map_err(|e| e.to_string())?;
    let dbs = all_nonempty_dbs(&mut c).map_err(|e| e.to_string())?;
    read_dataset(&mut c, &dbs).map_err(|e| e.to_string())
}

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().collect();
    if args.iter().any(|a| a == "-h" || a == "--help") {
        println!("usage: corpus-hand [--out DIR] [--no-server]");
        return ExitCode::SUCCESS;
    }
    let out = args
        .iter()
        .position(|a| a == "--out")
        .and_then(|i| args.get(i + 1))
        .map_or_else(|| PathBuf::from("corpus"), PathBuf::from);
    let server = if args.iter().any(|a| a == "--no-server") {
        None
    } else {
        match ServerBuild::by_name("redis-7.0.15") {
            Ok(b) => Some(b),
            Err(e) => {
                eprintln!("corpus-hand: {e} (pass --no-server to build without checking)");
                return ExitCode::FAILURE;
            }
        }
    };
    let real = match std::fs::read(out.join("rdb/redis-7.0.15/strings.rdb")) {
        Ok(r) => r,
        Err(e) => {
            eprintln!(
                "corpus-hand: the refusal cases start from rdb/redis-7.0.15/strings.rdb: {e}"
            );
            return ExitCode::FAILURE;
        }
    };
    let mut all = cases::positives();
    all.extend(negative::negatives(&real));
    all.extend(redis8::positives());
    all.extend(redis8::negatives());
    let dir = out.join("hand");
    let _ = std::fs::remove_dir_all(&dir);
    if let Err(e) = std::fs::create_dir_all(&dir) {
        eprintln!("corpus-hand: {}: {e}", dir.display());
        return ExitCode::FAILURE;
    }
    let mut entries = Vec::new();
    let mut failures = 0;
    for c in &all {
        let file = format!("hand/{}.rdb", c.name);
        let expect = format!("hand/{}.json", c.name);
        let (outcome, body) = match &c.expect {
            Ok(d) => ("accept", to_json_string(d)),
            Err(kind) => (
                "refuse",
                format!(
                    "{:#}\n",
                    json!({"error": {"kind": kind, "offset": null, "message": c.how}})
                ),
            ),
        };
        let wrote = std::fs::write(out.join(&file), &c.bytes)
            .and_then(|()| std::fs::write(out.join(&expect), body));
        if let Err(e) = wrote {
            eprintln!("corpus-hand: {file}: {e}");
            return ExitCode::FAILURE;
        }
        let mut check = J::Null;
        let mut server_note = J::Null;
        // Redis 7.0.15 reads RDB 1 to 10; its verdict on a newer file says nothing of the case.
        let from_source = c.version >= 13;
        if let Some(b) = server.as_ref().filter(|_| !from_source) {
            check = match b.check_rdb_file(&out.join(&file)) {
                Ok(r) => J::String(r.verdict()),
                Err(e) => J::String(format!("could not run: {e}")),
            };
            if let Ok(want) = &c.expect {
                match server_reads(b, &c.bytes) {
                    Ok(got) => match first_difference(want, &got) {
                        None => server_note = json!("loads to the expectation"),
                        Some(d) => {
                            eprintln!("  ! {}: redis-server 7.0.15 reads {d}", c.name);
                            failures += 1;
                        }
                    },
                    Err(e) => {
                        eprintln!("  ! {}: redis-server 7.0.15 refuses it: {e}", c.name);
                        failures += 1;
                    }
                }
            }
        }
        println!("  + {} ({outcome}; check-rdb: {check})", c.name);
        let mut e = json!({
            "name": format!("hand/{}", c.name),
            "file": file,
            "expect": expect,
            "outcome": outcome,
            "origin": {
                "kind": "hand",
                "how": c.how,
                "command": "cargo run -p redis-persist-tools --bin corpus-hand",
            },
            "rdb_version": c.version,
            "magic": if c.bytes.starts_with(b"VALKEY") { "VALKEY" } else { "REDIS" },
            "features": c.features,
            "check_rdb": check,
        });
        if from_source {
            e["evidence"] = json!(redis8::UNCHECKED);
        }
        if let Err(kind) = &c.expect {
            e["error"] = json!(kind);
        }
        if !server_note.is_null() {
            e["server_7_0_15"] = server_note;
        }
        entries.push(e);
    }
    match external::entries(&out) {
        Ok(ext) => entries.extend(ext),
        Err(e) => {
            eprintln!("corpus-hand: external cases: {e}");
            return ExitCode::FAILURE;
        }
    }
    if let Err(e) = merge(&out, entries) {
        eprintln!("corpus-hand: index: {e}");
        return ExitCode::FAILURE;
    }
    if failures > 0 {
        eprintln!("{failures} case(s) disagree with the real server");
        return ExitCode::FAILURE;
    }
    ExitCode::SUCCESS
}

/// Replaces every `hand` and `external` entry of the index with `new`, keeping the rest, sorted
/// by name.
fn merge(out: &Path, new: Vec<J>) -> std::io::Result<()> {
    let new: Vec<Case> = (new.iter().map(Case::from_json))
        .collect::<Result<_, _>>()
        .map_err(std::io::Error::other)?;
    let mut index = Index::load(out).map_err(std::io::Error::other)?;
    index.replace(
        |c| c.origin.kind == "hand" || c.origin.kind == "external",
        new,
    );
    index.save()
}
