//! The `convert` verb: RDB or Dataset JSON in, RDB of a chosen version or Dataset JSON out, with
//! a loss report when the target cannot hold everything (refused unless --allow-loss).
use redis_persist_engine::dataset::{self, Dataset};
use redis_persist_engine::format::rdb::{write_dataset, Target, WriteError, WriteOptions};
use std::io::{Read, Write};
use std::path::Path;
use std::process::ExitCode;

/// What `convert` writes.
#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
pub enum To {
    /// An RDB file.
    Rdb,
    /// Dataset JSON.
    Json,
    /// A single-file AOF of RESP commands, as BGREWRITEAOF writes without a preamble.
    Aof,
    /// A single-file AOF whose base is an RDB preamble (Redis 4.0 to 6.2's layout).
    AofPreamble,
    /// A Redis 7 appendonly directory: OUTPUT is created with an RDB base, an empty incremental
    /// file and the manifest (`--base-resp` makes the base RESP commands).
    AofDir,
}

/// Options of `convert`.
pub struct Args<'a> {
    pub input: &'a Path,
    pub output: &'a Path,
    pub rdb_version: Option<u32>,
    pub valkey_version: Option<u32>,
    pub to: To,
    pub allow_loss: bool,
    pub no_compression: bool,
    pub no_checksum: bool,
    pub ignore_checksum: bool,
    pub base_resp: bool,
}

fn fail(msg: String, code: u8) -> ExitCode {
    eprintln!("redis-persist: {msg}");
    ExitCode::from(code)
}

/// Reads an RDB, an AOF or Dataset JSON, telling them apart by content.
fn load(path: &Path, ignore_checksum: bool) -> Result<(Dataset, Option<Target>), (String, u8)> {
    let mut head = Vec::new();
    if path.as_os_str() != "-" && path.is_file() {
        let mut f = std::fs::File::open(path)
            .map_err(|e| (format!("cannot open {}: {e}", path.display()), 2))?;
        (&mut f)
            .take(64)
            .read_to_end(&mut head)
            .map_err(|e| (format!("{}: {e}", path.display()), 1))?;
    }
    if head.iter().find(|b| !b.is_ascii_whitespace()) == Some(&b'{') {
        let text =
            std::fs::read_to_string(path).map_err(|e| (format!("{}: {e}", path.display()), 1))?;
        let mut d = dataset::from_json_str(&text)
            .map_err(|e| (format!("{}: not a valid dataset: {e}", path.display()), 1))?;
        d.canonicalize();
        return Ok((d, None));
    }
    let d = crate::dump::load_any(path, ignore_checksum, true).map_err(|r| match r {
        crate::dump::Refusal::Usage(e) => (format!("cannot open {}: {e}", path.display()), 2),
        crate::dump::Refusal::Format(e) => (format!("{}: {e}", path.display()), 1),
    })?;
    let src = d.source.as_ref();
    let t = match (
        src.and_then(|s| s.magic.as_deref()),
        src.and_then(|s| s.version),
    ) {
        (Some("VALKEY"), _) => Some(Target::VALKEY_80),
        (_, Some(v)) => Target::redis(v.clamp(6, 15)),
        _ => None,
    };
    Ok((d, t))
}

/// `redis-persist convert`.
pub fn convert(a: Args<'_>) -> ExitCode {
    let target = match (a.rdb_version, a.valkey_version) {
        (Some(_), Some(_)) => {
            return fail("give --rdb-version or --valkey-version, not both".into(), 2)
        }
        (Some(v), None) => match Target::redis(v) {
            Some(t) => Some(t),
            None => {
                return fail(
                    format!("--rdb-version {v}: the writer supports versions 6 to 15"),
                    2,
                )
            }
        },
        (None, Some(80)) => Some(Target::VALKEY_80),
        (None, Some(v)) => return fail(format!("--valkey-version {v}: the writer supports 80"), 2),
        (None, None) => None,
    };
    let (ds, input_target) = match load(a.input, a.ignore_checksum) {
        Ok(x) => x,
        Err((m, code)) => return fail(m, code),
    };
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_secs() as i64);
    // Without a version from the user or the input, RDB 12, or the first newer version that
    // holds the dataset when it needs one (Redis 8.6+ parts).
    let target = target.or(input_target).unwrap_or_else(|| {
        (12..=15)
            .filter_map(Target::redis)
            .find(|t| {
                redis_persist_engine::format::rdb::assess(&ds, *t)
                    .lost
                    .is_empty()
            })
            .unwrap_or(Target::redis(12).expect("12 is supported"))
    });
    let rdb = |aof_base: bool| -> Result<Vec<u8>, ExitCode> {
        let mut opts = WriteOptions::new(target, now);
        opts.allow_loss = a.allow_loss;
        opts.compression = !a.no_compression;
        opts.checksum = !a.no_checksum;
        opts.aof_base = aof_base;
        let mut out = Vec::new();
        match write_dataset(&ds, &opts, &mut out) {
            Ok(w) => {
                for l in &w.report.lost {
                    eprintln!("redis-persist: lost at {target}: {l}");
                }
                for l in &w.report.filled {
                    eprintln!("redis-persist: filled in at {target}: {l}");
                }
                Ok(out)
            }
            Err(WriteError::Refused(r)) => {
                eprintln!("redis-persist: {target} cannot hold this dataset; nothing written (--allow-loss writes the closest equivalent):");
                for l in &r.lost {
                    eprintln!("  {l}");
                }
                Err(ExitCode::from(1))
            }
            Err(e) => Err(fail(e.to_string(), 1)),
        }
    };
    let resp = || {
        for l in redis_persist_engine::format::aof::rewrite::losses(&ds) {
            eprintln!("redis-persist: AOF: {l}");
        }
        let mut out = Vec::new();
        redis_persist_engine::format::aof::rewrite::write_dataset(&mut out, &ds, None);
        out
    };
    let bytes = match a.to {
        To::Json => dataset::to_json_string(&ds).into_bytes(),
        To::Rdb => match rdb(false) {
            Ok(b) => b,
            Err(code) => return code,
        },
        To::Aof => resp(),
        To::AofPreamble => match rdb(true) {
            Ok(b) => b,
            Err(code) => return code,
        },
        To::AofDir => {
            let base = if a.base_resp {
                ("appendonly.aof.1.base.aof", resp())
            } else {
                match rdb(true) {
                    Ok(b) => ("appendonly.aof.1.base.rdb", b),
                    Err(code) => return code,
                }
            };
            return match write_dir(a.output, base) {
                Ok(()) => ExitCode::SUCCESS,
                Err(e) => fail(format!("cannot write {}: {e}", a.output.display()), 1),
            };
        }
    };
    match write_output(a.output, &bytes) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => fail(format!("cannot write {}: {e}", a.output.display()), 1),
    }
}

/// Creates a Redis 7 appendonly directory: base, an empty incremental file, then the manifest
/// (written last, so a directory without one was never finished).
fn write_dir(dir: &Path, (base_name, base): (&str, Vec<u8>)) -> std::io::Result<()> {
    std::fs::create_dir_all(dir)?;
    write_output(&dir.join(base_name), &base)?;
    write_output(&dir.join("appendonly.aof.1.incr.aof"), b"")?;
    let m = redis_persist_engine::format::aof::manifest::Manifest {
        base: Some(redis_persist_engine::format::aof::manifest::FileEntry {
            name: base_name.as_bytes().to_vec(),
            seq: 1,
            kind: redis_persist_engine::format::aof::manifest::FileType::Base,
        }),
        history: vec![],
        incr: vec![redis_persist_engine::format::aof::manifest::FileEntry {
            name: b"appendonly.aof.1.incr.aof".to_vec(),
            seq: 1,
            kind: redis_persist_engine::format::aof::manifest::FileType::Incr,
        }],
    };
    write_output(
        &dir.join("appendonly.aof.manifest"),
        &redis_persist_engine::format::aof::manifest::write(&m).map_err(std::io::Error::other)?,
    )
}

/// Writes to a temporary file beside the output and renames it, so a failed run never leaves a
/// half-written file under the output's name.
fn write_output(path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    if path.as_os_str() == "-" {
        let mut o = std::io::stdout().lock();
        o.write_all(bytes)?;
        return o.flush();
    }
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    let tmp = path.with_file_name(format!(".{name}.tmp-{}", std::process::id()));
    let r = std::fs::File::create(&tmp).and_then(|mut f| {
        f.write_all(bytes)?;
        f.sync_all()
    });
    match r.and_then(|_| std::fs::rename(&tmp, path)) {
        Ok(()) => Ok(()),
        Err(e) => {
            let _ = std::fs::remove_file(&tmp);
            Err(e)
        }
    }
}
