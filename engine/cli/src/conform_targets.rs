//! What `conform` runs a case against: the reference engine, an outside decoder program, or a
//! real server binary; each gives the dataset it read or its refusal, or a reason to skip.
use crate::conform_run::{argv, run, RunLimits};
use redis_persist_engine::aof::{load, LoadOptions};
use redis_persist_engine::corpus::{self, Index};
use redis_persist_engine::dataset::{forget_unreported, from_json, Dataset};
use redis_persist_engine::format::rdb::{read_dataset, ReadOptions};
use redis_persist_engine::live::copy_tree;
use redis_persist_engine::live::{
    all_nonempty_dbs, read_dataset_with, Flavor, RunningServer, ServerBuild, TempDir,
};
use serde_json::Value as J;
use std::path::PathBuf;

/// A corpus case with its paths resolved against the corpus directory (the index itself is read
/// only by `redis_persist_engine::corpus`).
#[derive(Debug, Clone)]
pub struct Case {
    pub name: String,
    pub file: PathBuf,
    pub expect: Option<PathBuf>,
    pub aof: bool,
    pub multi_part: bool,
    pub accept: bool,
    pub error_kind: Option<String>,
    pub rdb_version: Option<u32>,
    pub magic: Option<String>,
    pub origin_build: Option<String>,
    pub features: Vec<String>,
}

impl Case {
    pub fn new(index: &Index, c: &corpus::Case) -> Case {
        Case {
            name: c.name.clone(),
            file: index.file(c),
            expect: c.expect.as_ref().map(|e| index.dir.join(e)),
            aof: c.format == corpus::Format::Aof,
            multi_part: c.multi_part,
            accept: c.accept,
            error_kind: c.error.clone(),
            rdb_version: c.rdb_version,
            magic: c.magic.clone(),
            origin_build: c.origin.build.clone(),
            features: c.features.clone(),
        }
    }
}

/// What a target made of a case.
pub enum Got {
    Dataset(Dataset),
    /// A result that came back different (the message says where), or a check that could not
    /// be made (a server that would not start or answer, a file not copied): a failure, never
    /// a skip, so a run cannot pass without having looked.
    Differs(String),
    Refused {
        kind: String,
        message: String,
    },
    Skip(String),
}

/// The built-in reference: our RDB reader, or our AOF loader with `aof-load-truncated yes`.
pub fn reference(case: &Case) -> Got {
    let r = if case.aof {
        let opts = LoadOptions {
            load_truncated: true,
            now_ms: 0,
            rdb: ReadOptions::default(),
            memory_limit: None,
        };
        load(&case.file, &opts).map(|l| l.dataset)
    } else {
        match std::fs::read(&case.file) {
            Ok(bytes) => read_dataset(&bytes, ReadOptions::default()).map(|(d, _)| d),
            Err(e) => {
                return Got::Refused {
                    kind: "io".into(),
                    message: e.to_string(),
                }
            }
        }
    };
    match r {
        Ok(d) => Got::Dataset(d),
        Err(e) => Got::Refused {
            kind: e.kind.as_str().into(),
            message: e.to_string(),
        },
    }
}

/// An outside program with its limits: the command's words and what one run may take.
pub struct Tool {
    /// The command line, split into words (placeholders kept).
    pub words: Vec<String>,
    /// Time and output limits.
    pub limits: RunLimits,
}

/// An outside decoder: its words with `{file}` replaced by the case's path (one argument, no
/// shell); its standard output is Dataset JSON or `{"error": {"kind": ...}}`.
pub fn decoder(tool: &Tool, case: &Case) -> Got {
    let argv = argv(&tool.words, &[("file", &case.file)]);
    let out = match run(&argv, &tool.limits) {
        Ok(o) => o,
        Err(e) => {
            return Got::Refused {
                kind: "cannot-run".into(),
                message: format!("cannot run {:?}: {e}", tool.words[0]),
            }
        }
    };
    if out.timed_out || out.overflowed {
        return Got::Refused {
            kind: "stopped".into(),
            message: if out.timed_out {
                format!(
                    "stopped after {} s (--timeout)",
                    tool.limits.timeout.as_secs()
                )
            } else {
                format!(
                    "stopped after {} bytes of output (--max-output)",
                    tool.limits.max_output
                )
            },
        };
    }
    let text = String::from_utf8_lossy(&out.stdout);
    // Dataset JSON lines: the keys, then an end line, or an error line where the decoder refused.
    if redis_persist_engine::dataset::is_json_lines(&text) {
        let last = text
            .lines()
            .rev()
            .find(|l| !l.trim().is_empty())
            .unwrap_or("");
        if let Some(err) = serde_json::from_str::<J>(last)
            .ok()
            .and_then(|v| v.get("error").cloned())
        {
            return Got::Refused {
                kind: err.get("kind").and_then(J::as_str).unwrap_or("?").into(),
                message: err.get("message").and_then(J::as_str).unwrap_or("").into(),
            };
        }
        return match redis_persist_engine::dataset::from_json_lines(&text) {
            Ok(d) => Got::Dataset(d),
            Err(e) => Got::Refused {
                kind: "bad-json".into(),
                message: format!("not Dataset JSON lines: {e}"),
            },
        };
    }
    let v: J = match serde_json::from_str(text.trim()) {
        Ok(v) => v,
        Err(e) => {
            return Got::Refused {
                kind: "no-json".into(),
                message: format!(
                    "{}, stdout is not JSON ({e}); stderr: {}",
                    out.ended(),
                    out.stderr_tail.trim()
                ),
            };
        }
    };
    if let Some(err) = v.get("error") {
        return Got::Refused {
            kind: err.get("kind").and_then(J::as_str).unwrap_or("?").into(),
            message: err.get("message").and_then(J::as_str).unwrap_or("").into(),
        };
    }
    match from_json(&v) {
        Ok(mut d) => {
            d.canonicalize();
            Got::Dataset(d)
        }
        Err(e) => Got::Refused {
            kind: "bad-json".into(),
            message: format!("not Dataset JSON: {e}"),
        },
    }
}

/// Whether the file begins `REDIS` and the index's version as four digits.
fn header_states_version(file: &std::path::Path, version: Option<u32>) -> bool {
    let mut head = [0u8; 9];
    let read = std::fs::File::open(file)
        .and_then(|mut f| std::io::Read::read_exact(&mut f, &mut head))
        .is_ok();
    read && version.is_some_and(|v| head[..] == *format!("REDIS{v:04}").as_bytes())
}

/// Why `build` cannot be asked to load `case`, if it cannot.
pub fn server_skip(build: &ServerBuild, case: &Case) -> Option<String> {
    let (major, _, _) = build.version();
    let valkey = build.flavor() == Flavor::Valkey;
    if case.magic.as_deref() == Some("VALKEY") && build.magic != "VALKEY" {
        return Some("a VALKEY-magic file; this server reads REDIS files only".into());
    }
    let server_rdb = if build.magic == "VALKEY" {
        11
    } else {
        build.rdb_version
    };
    // A version no server reads is refused for the right reason by every server, and so is a
    // file whose header states no version (a wrong magic, a cut header): neither is skipped.
    let version_case = case.error_kind.as_deref() == Some("unsupported_version");
    let stated = case.aof || header_states_version(&case.file, case.rdb_version);
    if let Some(v) = case
        .rdb_version
        .filter(|_| case.magic.as_deref() != Some("VALKEY") && !version_case && stated)
    {
        if v > server_rdb {
            return Some(format!(
                "RDB version {v}; this server reads up to {server_rdb}"
            ));
        }
    }
    let modules = case.features.iter().any(|f| f.starts_with("module"));
    if modules && build.modules.is_empty() {
        return Some("module values; this server runs without their modules".into());
    }
    if case.aof {
        if let Some(origin) = &case.origin_build {
            // The build name says what wrote the AOF (`redis-7.4.1`); that build need not be
            // installed here.
            let (project, v) = origin.rsplit_once('-').unwrap_or(("", ""));
            let o_flavor = if project == "valkey" {
                Flavor::Valkey
            } else {
                Flavor::Redis
            };
            if let Some(o_version) = redis_persist_engine::live::parse_version(v) {
                if o_flavor == build.flavor() && o_version > build.version() {
                    return Some(format!("an AOF from {origin}, newer than this server"));
                }
                let (o_rdb, _) = redis_persist_engine::live::rdb_written_by(
                    o_flavor,
                    (o_version.0, o_version.1),
                );
                if o_flavor != build.flavor() && o_rdb > server_rdb {
                    return Some(format!(
                        "an AOF from {origin}, whose commands this server may lack"
                    ));
                }
            }
        }
        if case.multi_part && !valkey && major < 7 {
            return Some("a Redis 7 AOF directory; this server reads single files".into());
        }
    }
    None
}

/// A real server: started on a copy of the case's files, read back over RESP, or refusing.
pub fn server(build: &ServerBuild, case: &Case) -> Got {
    if let Some(why) = server_skip(build, case) {
        return Got::Skip(why);
    }
    let tmp = match TempDir::new("conform") {
        Ok(t) => t,
        Err(e) => return Got::Differs(format!("no temp dir: {e}")),
    };
    // Deep checks on load (Redis 6.2+, Valkey): by default a server checks blobs only shallowly
    // and would load, say, an unsorted intset that every checker refuses.
    let mut args: Vec<String> = vec!["--sanitize-dump-payload".into(), "yes".into()];
    let copied = if case.aof {
        let name = if case.multi_part {
            "appendonlydir"
        } else {
            "appendonly.aof"
        };
        args.extend(["--appendonly", "yes"].map(String::from));
        if case.multi_part {
            args.extend(["--appenddirname", "appendonlydir"].map(String::from));
        }
        copy_tree(&case.file, &tmp.path().join(name))
    } else {
        args.extend(["--dbfilename", "dump.rdb"].map(String::from));
        std::fs::copy(&case.file, tmp.path().join("dump.rdb")).map(drop)
    };
    if let Err(e) = copied {
        return Got::Differs(format!("cannot copy the case: {e}"));
    }
    let argv: Vec<&str> = args.iter().map(String::as_str).collect();
    let srv = match RunningServer::start(build, tmp.path(), &argv) {
        Ok(s) => s,
        Err(e) => {
            let msg = e.to_string();
            let line = msg
                .lines()
                .rev()
                .find(|l| l.contains("# "))
                .unwrap_or_else(|| msg.lines().last().unwrap_or(""));
            return Got::Refused {
                kind: "server-refused".into(),
                message: line.split_once("# ").map_or(line, |(_, m)| m).to_owned(),
            };
        }
    };
    // A server without PEXPIRETIME (6.2) reports relative TTLs only: the expectation's absolute
    // expiries are given for it to confirm against them.
    let known: std::collections::BTreeMap<(u64, Vec<u8>), i64> = case
        .expect
        .as_ref()
        .and_then(|p| std::fs::read_to_string(p).ok())
        .and_then(|t| redis_persist_engine::dataset::from_json_str(&t).ok())
        .map(|d| {
            d.keys
                .iter()
                .filter_map(|e| Some(((e.db, e.key.clone()), e.expire_ms?)))
                .collect()
        })
        .unwrap_or_default();
    let read = srv.client().and_then(|mut c| {
        let dbs = all_nonempty_dbs(&mut c)?;
        let opts = redis_persist_engine::live::ReadOptions {
            dbs: &dbs,
            known_expiries: Some(&known),
        };
        read_dataset_with(&mut c, &opts)
    });
    match read {
        Ok(d) => Got::Dataset(d),
        Err(e) => Got::Differs(format!("could not read the server back: {e}")),
    }
}

/// Compares what the server read back with the expectation, leaving out what a server cannot
/// report over RESP (LRU/LFU figures, stream fields older servers lack).
pub fn server_view(expected: &Dataset, got: &Dataset) -> (Dataset, Dataset) {
    let mut want = expected.clone();
    for e in &mut want.keys {
        e.idle_s = None;
        e.freq = None;
    }
    let mut g = got.clone();
    for e in &mut g.keys {
        e.idle_s = None;
        e.freq = None;
    }
    // A module may re-encode a value it loaded: DUMP after a load need not give the bytes the
    // file held, so module values are compared by type and encoding version only.
    for d in [&mut want, &mut g] {
        for e in &mut d.keys {
            if let redis_persist_engine::dataset::Value::Module(m) = &mut e.value {
                m.payload.clear();
            }
        }
    }
    // Either side may know less (a 6.2 expectation has no first entry ID; a 6.2 server reports
    // none): such fields are compared only where both report them.
    forget_unreported(&g.clone(), &mut want);
    forget_unreported(&want.clone(), &mut g);
    redis_persist_engine::dataset::forget_negative_zero(&want, &mut g);
    (want, g)
}
