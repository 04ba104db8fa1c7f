//! The `convert` verb: RDB or Dataset JSON in, RDB of a chosen version or Dataset JSON out, with
//! a loss report when the target cannot hold everything (refused unless --allow-loss).
use crate::input;
use engine::dataset::{self, Dataset};
use engine::format::rdb::{
    read_dataset_from, write_dataset, ReadOptions, Target, WriteError, WriteOptions,
};
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
}

fn fail(msg: String, code: u8) -> ExitCode {
    eprintln!("redis-persist: {msg}");
    ExitCode::from(code)
}

/// Reads an RDB or Dataset JSON, telling them apart by content.
fn load(path: &Path, ignore_checksum: bool) -> Result<(Dataset, Option<Target>), (String, u8)> {
    let mut inp =
        input::open(path).map_err(|e| (format!("cannot open {}: {e}", path.display()), 2))?;
    let mut head = Vec::new();
    (&mut inp.reader)
        .take(9)
        .read_to_end(&mut head)
        .map_err(|e| (format!("{}: {e}", path.display()), 1))?;
    let chained = std::io::Cursor::new(head.clone()).chain(inp.reader);
    let is_json = head.iter().find(|b| !b.is_ascii_whitespace()) == Some(&b'{');
    let r = if is_json {
        let mut text = String::new();
        let mut chained = chained;
        chained
            .read_to_string(&mut text)
            .map_err(|e| (format!("{}: {e}", path.display()), 1))?;
        let mut d = dataset::from_json_str(&text)
            .map_err(|e| (format!("{}: not a valid dataset: {e}", path.display()), 1))?;
        d.canonicalize();
        Ok((d, None))
    } else {
        let opts = ReadOptions {
            verify_checksum: !ignore_checksum,
            total_len: inp.len,
            ..ReadOptions::default()
        };
        read_dataset_from(chained, opts)
            .map(|(d, _)| {
                let src = d.source.as_ref();
                let t = match (
                    src.and_then(|s| s.magic.as_deref()),
                    src.and_then(|s| s.version),
                ) {
                    (Some("VALKEY"), _) => Some(Target::VALKEY_80),
                    (_, Some(v)) => Target::redis(v.clamp(6, 12)),
                    _ => None,
                };
                (d, t)
            })
            .map_err(|e| (format!("{}: {e}", path.display()), 1))
    };
    if let Some(p) = inp.progress {
        p.finish_and_clear();
    }
    r
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
                    format!("--rdb-version {v}: the writer supports versions 6 to 12"),
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
    let bytes = match a.to {
        To::Json => dataset::to_json_string(&ds).into_bytes(),
        To::Rdb => {
            let target = target
                .or(input_target)
                .unwrap_or(Target::redis(12).expect("12 is supported"));
            let now = std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .map_or(0, |d| d.as_secs() as i64);
            let mut opts = WriteOptions::new(target, now);
            opts.allow_loss = a.allow_loss;
            opts.compression = !a.no_compression;
            opts.checksum = !a.no_checksum;
            let mut out = Vec::new();
            match write_dataset(&ds, &opts, &mut out) {
                Ok(w) => {
                    for l in &w.report.lost {
                        eprintln!("redis-persist: lost at {target}: {l}");
                    }
                    for l in &w.report.filled {
                        eprintln!("redis-persist: filled in at {target}: {l}");
                    }
                    out
                }
                Err(WriteError::Refused(r)) => {
                    eprintln!("redis-persist: {target} cannot hold this dataset; nothing written (--allow-loss writes the closest equivalent):");
                    for l in &r.lost {
                        eprintln!("  {l}");
                    }
                    return ExitCode::from(1);
                }
                Err(e) => return fail(e.to_string(), 1),
            }
        }
    };
    match write_output(a.output, &bytes) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => fail(format!("cannot write {}: {e}", a.output.display()), 1),
    }
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
