//! The `convert` verb: an RDB, an AOF or Dataset JSON in; an RDB of a chosen version, an AOF in
//! one of Redis's forms or Dataset JSON out, with a loss report (refused unless --allow-loss).
use crate::dump::{load_any, shown, LoadError};
use crate::out::plural;
use crate::safety::{DirOutput, Output, Stop};
use crate::{note, ReadFlags};
use redis_persist_engine::aof::AofFiles;
use redis_persist_engine::dataset::{self, Dataset};
use redis_persist_engine::format::aof::manifest::Manifest;
use redis_persist_engine::format::rdb::{write_dataset, Target, WriteError, WriteOptions};
use std::io::Write;
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

impl To {
    /// The name `--to` takes (`aof-dir`), for messages.
    pub fn name(self) -> String {
        use clap::ValueEnum;
        self.to_possible_value()
            .map_or_else(String::new, |v| v.get_name().to_owned())
    }
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
    pub base_resp: bool,
    pub force: bool,
    pub read: ReadFlags,
}

/// The version a dataset keeps by default: an RDB's own.
fn own_target(d: &Dataset) -> Option<Target> {
    let src = d.source.as_ref()?;
    match (src.magic.as_deref(), src.version) {
        (Some("VALKEY"), _) => Some(Target::VALKEY_80),
        (_, Some(v)) => Target::redis(v.clamp(6, 15)),
        _ => None,
    }
}

fn target_of(a: &Args<'_>) -> Result<Option<Target>, Stop> {
    match (a.rdb_version, a.valkey_version) {
        (Some(_), Some(_)) => Err(Stop::Usage(
            "give --rdb-version or --valkey-version, not both".into(),
        )),
        (Some(v), None) => Target::redis(v).map(Some).ok_or_else(|| {
            Stop::Usage(format!(
                "--rdb-version {v}: the writer supports versions 6 to 15"
            ))
        }),
        (None, Some(80)) => Ok(Some(Target::VALKEY_80)),
        (None, Some(v)) => Err(Stop::Usage(format!(
            "--valkey-version {v}: the writer supports 80"
        ))),
        (None, None) => Ok(None),
    }
}

/// `redis-persist convert`.
pub fn convert(a: Args<'_>) -> ExitCode {
    let target = match target_of(&a) {
        Ok(t) => t,
        Err(s) => return s.exit(),
    };
    if a.base_resp && a.to != To::AofDir {
        return Stop::Usage("--base-resp applies to --to aof-dir only".into()).exit();
    }
    let rdb_flags =
        a.rdb_version.is_some() || a.valkey_version.is_some() || a.no_compression || a.no_checksum;
    let writes_rdb =
        matches!(a.to, To::Rdb | To::AofPreamble) || (a.to == To::AofDir && !a.base_resp);
    if rdb_flags && !writes_rdb {
        return Stop::Usage(format!(
            "--rdb-version, --valkey-version, --no-compression and --no-checksum apply to RDB output; --to {} writes none",
            a.to.name()
        ))
        .exit();
    }
    // The output is claimed before the work, so a refused output costs nothing.
    let inputs = [a.input];
    enum Out {
        File(Output),
        Dir(DirOutput),
    }
    let out = match a.to {
        To::AofDir if a.output.as_os_str() == "-" => {
            return Stop::Usage("--to aof-dir writes a directory, not standard output".into())
                .exit()
        }
        To::AofDir => DirOutput::create(a.output, a.force, &inputs).map(Out::Dir),
        _ => Output::create(a.output, a.force, &inputs).map(Out::File),
    };
    let out = match out {
        Ok(o) => o,
        Err(s) => return s.exit(),
    };
    let ds = match load_any(a.input, &a.read, true) {
        Ok(d) => d,
        Err(LoadError::Stop(s)) => return s.exit(),
        Err(LoadError::Format(e)) => {
            note!("redis-persist: {}: {e}", shown(a.input));
            return ExitCode::from(1);
        }
    };
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_secs() as i64);
    // Without a version from the user or the input, RDB 12, or the first newer version that
    // holds the dataset when it needs one (Redis 8.6+ parts).
    let target = target.or(own_target(&ds)).unwrap_or_else(|| {
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
        let mut bytes = Vec::new();
        match write_dataset(&ds, &opts, &mut bytes) {
            Ok(w) => {
                for l in &w.report.lost {
                    note!("redis-persist: lost at {target}: {l}");
                }
                for l in &w.report.filled {
                    note!("redis-persist: filled in at {target}: {l}");
                }
                Ok(bytes)
            }
            Err(WriteError::Refused(r)) => {
                note!("redis-persist: {target} cannot hold this dataset, so nothing was written; it would lose (--allow-loss writes the closest equivalent):");
                // Nothing was written, so each line says what would be lost, not what the
                // --allow-loss output would put in its place.
                for l in &r.lost {
                    note!("  {}", l.subject());
                }
                Err(ExitCode::from(1))
            }
            Err(e) => {
                note!("redis-persist: {}: nothing written: {e}", shown(a.input));
                Err(ExitCode::from(1))
            }
        }
    };
    let resp = || {
        for l in redis_persist_engine::format::aof::rewrite::losses(&ds) {
            note!("redis-persist: AOF: {l}");
        }
        let mut bytes = Vec::new();
        redis_persist_engine::format::aof::rewrite::write_dataset(&mut bytes, &ds, None);
        bytes
    };
    let what = match a.to {
        To::Json => "Dataset JSON".to_owned(),
        To::Rdb => format!("an RDB ({target})"),
        To::Aof => "an AOF of RESP commands".to_owned(),
        To::AofPreamble => format!("an AOF with an RDB preamble ({target})"),
        To::AofDir if a.base_resp => "an appendonly directory (RESP base)".to_owned(),
        To::AofDir => format!("an appendonly directory ({target} base)"),
    };
    let result = match out {
        Out::File(mut o) => {
            let bytes = match a.to {
                To::Json => Ok(dataset::to_json_string(&ds).into_bytes()),
                To::Rdb => rdb(false),
                To::Aof => Ok(resp()),
                _ => rdb(true),
            };
            let bytes = match bytes {
                Ok(b) => b,
                Err(code) => return code,
            };
            o.write_all(&bytes).and_then(|_| o.commit()).map(|_| None)
        }
        Out::Dir(d) => {
            let (bytes, rdb_base) = if a.base_resp {
                (resp(), false)
            } else {
                match rdb(true) {
                    Ok(b) => (b, true),
                    Err(code) => return code,
                }
            };
            d.storage()
                .and_then(|(mut st, dir)| {
                    let mut files = AofFiles::new(&dir, "appendonly.aof", Manifest::default(), now);
                    files.create_fresh(&mut st, &bytes, rdb_base, now * 1000)
                })
                .and_then(|()| d.commit())
        }
    };
    match result {
        Ok(kept) => {
            // The result goes to standard error, so it is there even when the output is
            // standard output ("-").
            let to = if a.output.as_os_str() == "-" {
                "standard output".to_owned()
            } else {
                a.output.display().to_string()
            };
            note!(
                "redis-persist: wrote {what} to {to}: {}, {}",
                plural(ds.keys.len(), "key", "keys"),
                plural(ds.functions.len(), "function library", "function libraries")
            );
            if let Some(k) = kept {
                note!(
                    "redis-persist: {to}: the directory it replaced is kept as {}",
                    k.display()
                );
            }
            ExitCode::SUCCESS
        }
        Err(e) => {
            note!("redis-persist: cannot write {}: {e}", a.output.display());
            ExitCode::from(1)
        }
    }
}
