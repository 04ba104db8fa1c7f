//! corpus-gen: makes `corpus/rdb/<build>/<scenario>.rdb` with real servers, each with the expected
//! Dataset JSON read from the live server over RESP before SAVE (never from the project's decoder).
//!
//! Usage: `cargo run -p redis-persist-tools --bin corpus-gen -- [--build NAME]... [--scenario NAME]...
//! [--out corpus] [--list]`. Without `--build`, every build found on this machine is used.
mod aof;
mod aof_damage;
mod collections;
mod ctx;
mod index;
mod more;
mod scenarios;

use ctx::{dataset_features, Ctx};
use redis_persist_engine::dataset::{self, Dataset, SourceInfo, Value};
use redis_persist_engine::live::{
    all_nonempty_dbs, read_dataset_with, save_recording, ReadOptions, RunningServer, ServerBuild,
    TempDir,
};
use scenarios::Scenario;
use serde_json::{json, Value as J};
use std::collections::BTreeSet;
use std::io;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

struct Args {
    builds: Vec<String>,
    scenarios: Vec<String>,
    out: PathBuf,
    list: bool,
}

fn parse_args() -> Result<Args, String> {
    let mut a = Args {
        builds: Vec::new(),
        scenarios: Vec::new(),
        out: PathBuf::from("corpus"),
        list: false,
    };
    let mut it = std::env::args().skip(1);
    while let Some(arg) = it.next() {
        let mut value = |name: &str| it.next().ok_or(format!("{name} needs a value"));
        match arg.as_str() {
            "--build" => a.builds.push(value("--build")?),
            "--scenario" => a.scenarios.push(value("--scenario")?),
            "--out" => a.out = PathBuf::from(value("--out")?),
            "--list" => a.list = true,
            "-h" | "--help" => {
                return Err("usage: corpus-gen [--build NAME]... [--scenario NAME]... \
                            [--out DIR] [--list]"
                    .into())
            }
            other => return Err(format!("unknown argument {other:?} (try --help)")),
        }
    }
    Ok(a)
}

fn list(all: &[Scenario]) {
    for (name, found) in ServerBuild::known_names()
        .into_iter()
        .zip(ServerBuild::all_known())
    {
        match found {
            Ok(b) => {
                println!(
                    "{name}: {} (RDB {} {})",
                    b.binary.display(),
                    b.rdb_version,
                    b.magic
                );
                for s in all {
                    match (s.applies)(&b) {
                        Ok(()) => println!("  {}", s.name),
                        Err(why) => println!("  {} (n/a: {why})", s.name),
                    }
                }
            }
            Err(why) => println!("{name}: unavailable: {why}"),
        }
    }
}

/// The file header a build writes: magic plus the version zero-padded to 9 bytes in all.
fn header(build: &ServerBuild) -> String {
    let width = 9 - build.magic.len();
    format!("{}{:0>width$}", build.magic, build.rdb_version)
}

fn without_stats(ds: &Dataset) -> Dataset {
    let mut d = ds.clone();
    for e in &mut d.keys {
        e.idle_s = None;
        e.freq = None;
    }
    d
}

/// Checks on the saved bytes that need no decoder: header, checksum presence, module payloads
/// appearing verbatim (DUMP and SAVE must serialize a module value identically).
fn check_file(build: &ServerBuild, sc: &Scenario, file: &[u8], ds: &Dataset) -> io::Result<()> {
    let want = header(build);
    if file.get(..9) != Some(want.as_bytes()) {
        let got = String::from_utf8_lossy(&file[..file.len().min(9)]).into_owned();
        return Err(io::Error::other(format!(
            "file starts {got:?}, not {want:?}"
        )));
    }
    let crc_zero = file.len() >= 8 && file[file.len() - 8..].iter().all(|&b| b == 0);
    let want_zero = sc.features.contains(&"checksum-zero");
    if crc_zero != want_zero {
        return Err(io::Error::other(format!(
            "checksum is {}zero, expected the opposite",
            if crc_zero { "" } else { "non" }
        )));
    }
    for e in &ds.keys {
        if let Value::Module(m) = &e.value {
            if !file.windows(m.payload.len()).any(|w| w == m.payload) {
                return Err(io::Error::other(format!(
                    "module key {:?}: its DUMP payload does not occur in the saved file",
                    String::from_utf8_lossy(&e.key)
                )));
            }
        }
    }
    Ok(())
}

fn run_case(build: &ServerBuild, sc: &Scenario, out: &Path) -> io::Result<J> {
    let dir = TempDir::new(&format!("{}-{}", build.name, sc.name))?;
    let mut bare = build.clone();
    if !sc.modules {
        bare.modules.clear();
    }
    let config = (sc.config)(build, dir.path());
    let config: Vec<&str> = config.iter().map(String::as_str).collect();
    let server = RunningServer::start(&bare, dir.path(), &config)?;
    let (ds, features, version) = record(&server, build, sc)
        .map_err(|e| server.fail(format!("scenario {}: {e}", sc.name)))?;
    let bytes = std::fs::read(server.rdb_path()).map_err(|e| server.fail(e))?;
    check_file(build, sc, &bytes, &ds).map_err(|e| server.fail(e))?;

    let rel_dir = format!("rdb/{}", build.name);
    std::fs::create_dir_all(out.join(&rel_dir))?;
    let rdb_rel = format!("{rel_dir}/{}.rdb", sc.name);
    let json_rel = format!("{rel_dir}/{}.json", sc.name);
    std::fs::write(out.join(&rdb_rel), &bytes)?;
    std::fs::write(out.join(&json_rel), dataset::to_json_string(&ds))?;

    let mut features = features;
    let check = match build.check_rdb_file(&out.join(&rdb_rel)) {
        Ok(report) => {
            if report.output.contains("MODULE AUX for") {
                features.insert("module-aux".into());
            }
            J::String(report.verdict())
        }
        Err(e) => {
            eprintln!(
                "  warning: could not run redis-check-rdb for {}: {e}",
                build.name
            );
            J::Null
        }
    };
    Ok(json!({
        "name": format!("{}/{}", build.name, sc.name),
        "file": rdb_rel,
        "expect": json_rel,
        "outcome": "accept",
        "origin": {
            "kind": "server",
            "build": build.name,
            "version": version,
            "command": format!("cargo run -p redis-persist-tools --bin corpus-gen -- --build {}", build.name),
        },
        "rdb_version": build.rdb_version,
        "magic": build.magic,
        "features": features.into_iter().collect::<Vec<_>>(),
        "check_rdb": check,
    }))
}

/// Populates, reads the expectation, saves, and proves the dataset did not change across SAVE.
fn record(
    server: &RunningServer,
    build: &ServerBuild,
    sc: &Scenario,
) -> io::Result<(Dataset, BTreeSet<String>, String)> {
    let mut x = Ctx::new(server.client()?)?;
    (sc.populate)(&mut x)?;
    let dbs = all_nonempty_dbs(&mut x.c)?;
    x.encoding_features(&dbs)?;
    let known = x.expiries.clone();
    let opts = ReadOptions {
        dbs: &dbs,
        known_expiries: Some(&known),
    };
    let mut ds = read_dataset_with(&mut x.c, &opts)?;
    if let Some(after_read) = sc.after_read {
        after_read(&mut x, &ds)?;
    }
    save_recording(&mut x.c, &mut ds, sc.stat)?;
    let again = read_dataset_with(&mut x.c, &opts)?;
    if let Some(d) = dataset::first_difference(&without_stats(&ds), &again) {
        return Err(io::Error::other(format!(
            "dataset changed across SAVE: {d}"
        )));
    }
    ds.source = Some(SourceInfo {
        kind: "rdb".into(),
        magic: Some(build.magic.into()),
        version: Some(build.rdb_version),
        aux: Vec::new(),
    });
    let mut features = std::mem::take(&mut x.features);
    features.extend(sc.features.iter().map(|f| f.to_string()));
    dataset_features(&ds, &x.info, &mut features);
    Ok((ds, features, x.info.version_string.clone()))
}

fn main() -> ExitCode {
    let args = match parse_args() {
        Ok(a) => a,
        Err(e) => {
            eprintln!("{e}");
            return ExitCode::from(2);
        }
    };
    let all = scenarios::all();
    if args.list {
        list(&all);
        return ExitCode::SUCCESS;
    }
    let aofs = aof::all();
    for s in &args.scenarios {
        if !all.iter().any(|x| x.name == s) && !aofs.iter().any(|x| x.name == s) {
            eprintln!("unknown scenario {s:?}");
            return ExitCode::from(2);
        }
    }
    let mut builds = Vec::new();
    if args.builds.is_empty() {
        for found in ServerBuild::all_known() {
            match found {
                Ok(b) => builds.push(b),
                Err(why) => println!("skipping a build: {why}"),
            }
        }
    } else {
        for name in &args.builds {
            match ServerBuild::by_name(name) {
                Ok(b) => builds.push(b),
                Err(why) => {
                    eprintln!("{why}");
                    return ExitCode::FAILURE;
                }
            }
        }
    }
    match generate(&args, &all, &builds) {
        Ok(0) => ExitCode::SUCCESS,
        Ok(n) => {
            eprintln!("{n} case(s) failed");
            ExitCode::FAILURE
        }
        Err(e) => {
            eprintln!("corpus-gen: {e}");
            ExitCode::FAILURE
        }
    }
}

fn generate(args: &Args, all: &[Scenario], builds: &[ServerBuild]) -> io::Result<usize> {
    std::fs::create_dir_all(&args.out)?;
    let old = index::names(&args.out)?;
    let selected =
        |name: &str| args.scenarios.is_empty() || args.scenarios.iter().any(|s| s == name);
    let mut new = Vec::new();
    let mut retire = BTreeSet::new();
    let mut failures = 0;
    for build in builds {
        println!("{}:", build.name);
        // Old cases of this build whose scenario is gone are retired with a full regeneration.
        if args.scenarios.is_empty() {
            for name in &old {
                if let Some(s) = name
                    .strip_prefix(build.name)
                    .and_then(|r| r.strip_prefix('/'))
                {
                    let known =
                        all.iter().any(|x| x.name == s) || aof::all().iter().any(|x| x.name == s);
                    if !known {
                        retire.insert(name.clone());
                    }
                }
            }
        }
        for sc in all.iter().filter(|s| selected(s.name)) {
            let name = format!("{}/{}", build.name, sc.name);
            if let Err(why) = (sc.applies)(build) {
                println!("  - {}: n/a ({why})", sc.name);
                retire.insert(name);
                continue;
            }
            match run_case(build, sc, &args.out) {
                Ok(entry) => {
                    let feats = entry["features"].as_array().map(Vec::len).unwrap_or(0);
                    println!(
                        "  + {} ({feats} features, check-rdb: {})",
                        sc.name, entry["check_rdb"]
                    );
                    new.push(entry);
                }
                Err(e) if sc.optional => {
                    println!("  - {}: skipped, did not work here: {e}", sc.name);
                    retire.insert(name);
                }
                Err(e) => {
                    eprintln!("  ! {} FAILED: {e}", sc.name);
                    failures += 1;
                }
            }
        }
        for sc in aof::all().into_iter().filter(|s| selected(s.name)) {
            let name = format!("{}/{}", build.name, sc.name);
            if let Err(why) = sc.applies(build) {
                println!("  - {}: n/a ({why})", sc.name);
                retire.insert(name);
                continue;
            }
            match aof::run_case(build, &sc, &args.out) {
                Ok(entry) => {
                    println!(
                        "  + {} ({}, check-aof: {})",
                        sc.name, entry["outcome"], entry["check_aof"]["verdict"]
                    );
                    new.push(entry);
                }
                Err(e) => {
                    eprintln!("  ! {} FAILED: {e}", sc.name);
                    failures += 1;
                }
            }
        }
    }
    index::merge(&args.out, new, &retire)?;
    Ok(failures)
}
