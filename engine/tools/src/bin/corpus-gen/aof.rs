//! AOF cases: a real server writes its append-only files under a chosen config; derived cases cut
//! or damage a copy. Every expectation is what the same build loads from the files, or its refusal.
use crate::aof_damage::{damage, Damage};
use crate::ctx::FAR_MS;
use crate::ctx::{r, Ctx};
use redis_persist_engine::dataset::{self, Dataset};
use redis_persist_engine::live::copy_tree;
use redis_persist_engine::live::{
    all_nonempty_dbs, read_dataset_with, Flavor, ReadOptions, RunningServer, ServerBuild, TempDir,
};
use serde_json::{json, Value as J};
use std::collections::BTreeMap;
use std::io;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

/// Absolute expiries the writes set, by (db, key): 6.2 can only report relative ones.
type Expiries = BTreeMap<(u64, Vec<u8>), i64>;

/// How the source server writes its files.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Source {
    /// `appendonly yes`, no rewrite.
    Plain,
    /// A BGREWRITEAOF in the middle, base as an RDB preamble.
    RewritePreamble,
    /// A BGREWRITEAOF in the middle, base as RESP commands.
    RewriteResp,
    /// `aof-timestamp-enabled yes`.
    Timestamps,
}

/// One AOF case per build.
pub struct AofScenario {
    /// Case name.
    pub name: &'static str,
    source: Source,
    damage: Damage,
}

/// Every AOF scenario.
pub fn all() -> Vec<AofScenario> {
    let s = |name, source, damage| AofScenario {
        name,
        source,
        damage,
    };
    vec![
        s("aof-plain", Source::Plain, Damage::None),
        s(
            "aof-rewrite-preamble",
            Source::RewritePreamble,
            Damage::None,
        ),
        s("aof-rewrite-resp", Source::RewriteResp, Damage::None),
        s("aof-timestamps", Source::Timestamps, Damage::None),
        s("aof-truncated-command", Source::Plain, Damage::CutInCommand),
        s("aof-truncated-multi", Source::Plain, Damage::CutInMulti),
        s("aof-corrupt-marker", Source::Plain, Damage::CorruptMarker),
        s("aof-corrupt-length", Source::Plain, Damage::CorruptLength),
    ]
}

/// The build without its modules (no case here writes module data).
fn bare(b: &ServerBuild) -> ServerBuild {
    let mut b = b.clone();
    b.modules.clear();
    b
}

fn multi_part(b: &ServerBuild) -> bool {
    b.flavor() == Flavor::Valkey || b.version() >= (7, 0, 0)
}

impl AofScenario {
    /// Why it may not apply to a build.
    pub fn applies(&self, b: &ServerBuild) -> Result<(), String> {
        if self.source == Source::Timestamps && !multi_part(b) {
            return Err("aof-timestamp-enabled exists from Redis 7.0".into());
        }
        Ok(())
    }
}

/// The writes of a case: every type, two databases, expiries (absolute, far), transactions.
fn populate(x: &mut Ctx, part: u8) -> io::Result<()> {
    if part == 0 {
        r!(x, "SET", "s:text", "hello")?;
        r!(x, "SET", "s:bin", b"\x00\xff\r\n*1\r\n$3".to_vec())?;
        r!(x, "SET", "s:int", "10")?;
        r!(x, "INCRBY", "s:int", "32")?;
        r!(x, "APPEND", "s:text", " world")?;
        r!(x, "SET", "s:ttl", "soon", "PXAT", FAR_MS.to_string())?;
        x.expiries.insert((0, b"s:ttl".to_vec()), FAR_MS);
        x.pexpireat("s:text", FAR_MS + 1)?;
        r!(x, "RPUSH", "l", "a", "b", "c")?;
        r!(x, "LPUSH", "l", "z")?;
        r!(x, "LPOP", "l")?;
        r!(x, "SADD", "set", "a", "b", "c", "1", "2")?;
        r!(x, "SREM", "set", "b")?;
        r!(x, "HSET", "h", "f1", "v1", "f2", "v2", "f3", "v3")?;
        r!(x, "HDEL", "h", "f2")?;
        r!(x, "ZADD", "z", "1", "a", "2.5", "b", "-3", "c")?;
        r!(x, "ZINCRBY", "z", "2", "a")?;
        r!(x, "XADD", "x", "1-1", "f", "v")?;
        r!(x, "XADD", "x", "2-1", "g", "w")?;
        r!(x, "XGROUP", "CREATE", "x", "grp", "0")?;
        r!(x, "SET", "gone", "x")?;
        r!(x, "DEL", "gone")?;
        if x.info.has_functions() {
            let lib =
                "#!lua name=corpuslib\nredis.register_function('cf', function() return 1 end)";
            r!(x, "FUNCTION", "LOAD", lib)?;
        }
        if x.info.has_hash_field_ttl() {
            r!(x, "HSET", "hf", "a", "1", "b", "2")?;
            r!(
                x,
                "HPEXPIREAT",
                "hf",
                FAR_MS.to_string(),
                "FIELDS",
                "1",
                "a"
            )?;
        }
        x.select(3)?;
        r!(x, "SET", "db3", "here")?;
        r!(x, "RPUSH", "db3:l", "1", "2", "3")?;
        x.select(0)?;
        r!(x, "MULTI")?;
        r!(x, "SET", "m1", "a")?;
        r!(x, "INCR", "s:int")?;
        r!(x, "RPUSH", "l", "q")?;
        r!(x, "EXEC")?;
    } else {
        r!(x, "SET", "after", "rewrite")?;
        r!(x, "SADD", "set", "after")?;
        r!(x, "ZREM", "z", "c")?;
        r!(x, "HSET", "h", "f4", "v4")?;
        r!(x, "XADD", "x", "3-0", "h", "u")?;
        x.select(3)?;
        r!(x, "LPUSH", "db3:l", "0")?;
        x.select(0)?;
    }
    Ok(())
}

/// The closing writes: a transaction near the end (the cut-in-MULTI case cuts inside it), then
/// plain commands after it.
fn populate_tail(x: &mut Ctx) -> io::Result<()> {
    r!(x, "MULTI")?;
    r!(x, "SET", "m2", "b")?;
    r!(x, "SADD", "set", "in-multi")?;
    r!(x, "EXEC")?;
    r!(x, "SET", "last", "value")?;
    r!(x, "RPUSH", "l", "tail-1", "tail-2")?;
    Ok(())
}

fn wait_rewrite(x: &mut Ctx) -> io::Result<()> {
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        let info = x.c.call_str(&["INFO", "persistence"])?.into_text()?;
        let busy = info
            .lines()
            .any(|l| l == "aof_rewrite_in_progress:1" || l == "aof_rewrite_scheduled:1");
        if !busy {
            return Ok(());
        }
        if Instant::now() > deadline {
            return Err(io::Error::other("BGREWRITEAOF did not finish in 30 s"));
        }
        std::thread::sleep(Duration::from_millis(50));
    }
}

/// Server arguments for writing (and loading) a case's files.
fn config(b: &ServerBuild, source: Source) -> Vec<String> {
    let mut c = vec!["--appendonly", "yes", "--appendfsync", "always"];
    c.extend(["--aof-load-truncated", "yes"]);
    let preamble = if source == Source::RewritePreamble {
        "yes"
    } else {
        "no"
    };
    c.extend(["--aof-use-rdb-preamble", preamble]);
    if source == Source::Timestamps {
        c.extend(["--aof-timestamp-enabled", "yes"]);
    }
    if multi_part(b) {
        c.extend(["--appenddirname", "appendonlydir"]);
    }
    c.into_iter().map(str::to_owned).collect()
}

/// What the files are, relative to the server's dir: the directory, or the single file.
fn aof_name(b: &ServerBuild) -> &'static str {
    if multi_part(b) {
        "appendonlydir"
    } else {
        "appendonly.aof"
    }
}

/// Writes the source files; returns the live dataset, the expiries set, and the files' dir.
fn write_source(b: &ServerBuild, source: Source) -> io::Result<(Dataset, Expiries, TempDir)> {
    let dir = TempDir::new(&format!("{}-aof-src", b.name))?;
    let args = config(b, source);
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    let server = RunningServer::start(&bare(b), dir.path(), &args)?;
    let mut x = Ctx::new(server.client()?)?;
    populate(&mut x, 0).map_err(|e| server.fail(e))?;
    if matches!(source, Source::RewritePreamble | Source::RewriteResp) {
        r!(x, "BGREWRITEAOF").map_err(|e| server.fail(e))?;
        wait_rewrite(&mut x).map_err(|e| server.fail(e))?;
    }
    populate(&mut x, 1).map_err(|e| server.fail(e))?;
    populate_tail(&mut x).map_err(|e| server.fail(e))?;
    let dbs = all_nonempty_dbs(&mut x.c)?;
    let opts = ReadOptions {
        dbs: &dbs,
        known_expiries: Some(&x.expiries),
    };
    let live = read_dataset_with(&mut x.c, &opts)?;
    let expiries = x.expiries.clone();
    drop(x);
    drop(server);
    Ok((live, expiries, dir))
}

/// The file a damage applies to: the single file, or the manifest's last incremental file.
fn last_file(root: &Path) -> io::Result<PathBuf> {
    if root.is_file() {
        return Ok(root.to_path_buf());
    }
    let manifest = checker_path(root)?;
    let text = std::fs::read_to_string(&manifest)?;
    let name = text
        .lines()
        .rfind(|l| l.ends_with("type i"))
        .and_then(|l| l.split_whitespace().nth(1))
        .ok_or_else(|| io::Error::other("manifest lists no incremental file"))?;
    Ok(root.join(name))
}

/// What `redis-check-aof` is given: the manifest of a directory, or the single file.
fn checker_path(root: &Path) -> io::Result<PathBuf> {
    if root.is_file() {
        return Ok(root.to_path_buf());
    }
    std::fs::read_dir(root)?
        .flatten()
        .map(|e| e.path())
        .find(|p| p.to_string_lossy().ends_with(".manifest"))
        .ok_or_else(|| io::Error::other("no manifest"))
}

/// The outcome of a build starting on a copy of the files.
enum Loaded {
    Dataset(Dataset, Option<u64>),
    Refused(String),
}

fn load_copy(
    b: &ServerBuild,
    sc: &AofScenario,
    files: &Path,
    expiries: &Expiries,
) -> io::Result<Loaded> {
    let dir = TempDir::new(&format!("{}-aof-load", b.name))?;
    let target = dir.path().join(aof_name(b));
    copy_tree(files, &target)?;
    let last = last_file(&target)?;
    let before = std::fs::metadata(&last)?.len();
    let args = config(b, sc.source);
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    let server = match RunningServer::start(&bare(b), dir.path(), &args) {
        Ok(s) => s,
        Err(e) => {
            let text = e.to_string();
            let line = text
                .lines()
                .rev()
                .find(|l| l.contains("# ") && !l.contains("oO0OoO0OoO0Oo"))
                .unwrap_or(text.lines().last().unwrap_or("refused"));
            // Without the pid, role and time stamp the log line starts with.
            let line = line.split_once("# ").map_or(line, |(_, m)| m).to_owned();
            return Ok(Loaded::Refused(line));
        }
    };
    let mut c = server.client()?;
    let dbs = all_nonempty_dbs(&mut c)?;
    let opts = ReadOptions {
        dbs: &dbs,
        known_expiries: Some(expiries),
    };
    let ds = read_dataset_with(&mut c, &opts)?;
    let after = std::fs::metadata(&last)?.len();
    Ok(Loaded::Dataset(ds, (after != before).then_some(after)))
}

/// Runs one AOF case for one build and writes it under `out`; returns its index entry.
pub fn run_case(b: &ServerBuild, sc: &AofScenario, out: &Path) -> io::Result<J> {
    let (live, expiries, src) = write_source(b, sc.source)?;
    let rel = format!("aof/{}/{}", b.name, sc.name);
    let case_dir = out.join(&rel);
    let _ = std::fs::remove_dir_all(&case_dir);
    std::fs::create_dir_all(&case_dir)?;
    let files = case_dir.join(aof_name(b));
    copy_tree(&src.path().join(aof_name(b)), &files)?;
    let damaged = damage(&last_file(&files)?, sc.damage)?;

    // The checker runs on a scratch copy: `--fix` is never passed, but nothing may touch the
    // corpus files.
    let scratch = TempDir::new("aof-check")?;
    let pristine = scratch.path().join(aof_name(b));
    copy_tree(&files, &pristine)?;
    let check = b.check_aof_file(&checker_path(&pristine)?)?;

    let expect_rel = format!("{rel}.json");
    let loaded = load_copy(b, sc, &files, &expiries)?;
    let (outcome, error, truncated_to) = match &loaded {
        Loaded::Dataset(ds, cut) => {
            if sc.damage == Damage::None {
                if let Some(d) = dataset::first_difference(&live, ds) {
                    return Err(io::Error::other(format!(
                        "the build loads something else than it held: {d}"
                    )));
                }
            }
            std::fs::write(out.join(&expect_rel), dataset::to_json_string(ds))?;
            ("accept", None, *cut)
        }
        Loaded::Refused(why) => {
            let body = json!({"error": {
                "kind": "corrupt",
                "offset": check.ok_up_to(),
                "message": why,
            }});
            let mut text = serde_json::to_string_pretty(&body).map_err(io::Error::other)?;
            text.push('\n');
            std::fs::write(out.join(&expect_rel), text)?;
            ("refuse", Some("corrupt"), None)
        }
    };
    let mut entry = json!({
        "name": format!("{}/{}", b.name, sc.name),
        "format": "aof",
        "layout": if multi_part(b) { "multi" } else { "single" },
        "file": format!("{rel}/{}", aof_name(b)),
        "expect": expect_rel,
        "outcome": outcome,
        "origin": {
            "kind": "server",
            "build": b.name,
            "version": b.name.rsplit('-').next().unwrap_or_default(),
            "command": format!("cargo run -p redis-persist-tools --bin corpus-gen -- --build {} --scenario {}", b.name, sc.name),
        },
        "features": features(sc),
        "check_aof": {
            "status": check.status,
            "ok_up_to": check.ok_up_to(),
            "verdict": check.verdict(),
        },
    });
    if let Some(e) = error {
        entry["error"] = json!(e);
    }
    if let Some(t) = truncated_to {
        entry["server_truncated_to"] = json!(t);
    }
    if !damaged.is_empty() {
        entry["damage"] = json!(damaged);
    }
    Ok(entry)
}

fn features(sc: &AofScenario) -> Vec<&'static str> {
    let mut f = vec!["aof", "multi-exec", "multi-db", "expire", "binary-value"];
    f.push(match sc.source {
        Source::Plain => "aof-plain",
        Source::RewritePreamble => "aof-rdb-preamble",
        Source::RewriteResp => "aof-rewrite-resp",
        Source::Timestamps => "aof-timestamps",
    });
    match sc.damage {
        Damage::None => {}
        Damage::CutInCommand => f.push("truncated-command"),
        Damage::CutInMulti => f.push("truncated-multi"),
        Damage::CorruptMarker | Damage::CorruptLength => f.push("corrupt"),
    }
    f.sort_unstable();
    f
}
