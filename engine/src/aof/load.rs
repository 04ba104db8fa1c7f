//! Loading an AOF as Redis does: each file streamed once (an RDB preamble, then RESP commands)
//! through the keyspace, with Redis's truncation and MULTI rules; memory O(largest command) plus the dataset.
use super::layout::{AofSource, Layout};
use crate::dataset::{Dataset, SourceInfo};
use crate::format::error::{Error, ErrorKind, Result};
use crate::format::rdb::{collect_all, Collector, RdbReader, ReadOptions};
use crate::format::resp::{CommandReader, Next, Strictness};
use crate::format::source::Source;
use crate::keyspace::{Config, Keyspace, Session};
use std::io::Read;
use std::path::{Path, PathBuf};

/// How to load.
#[derive(Debug, Clone, Copy)]
pub struct LoadOptions {
    /// `aof-load-truncated`: a short read at the end of the last file is cut back to the last
    /// complete command (and an unfinished MULTI rolled back) instead of refusing the AOF.
    pub load_truncated: bool,
    /// The load's clock, Unix ms (relative expiries and `*` IDs, if any, resolve against it).
    pub now_ms: i64,
    /// RDB preamble reading, and the limits every item is held to.
    pub rdb: ReadOptions,
    /// The memory the replay may take (resident bytes of this process, read from
    /// `/proc/self/status`); past it, the load is refused with a typed error instead of running
    /// out of memory. A command that grows a string by its arguments alone (SETRANGE, SETBIT) is
    /// checked before it runs.
    pub memory_limit: Option<u64>,
}

/// Where a load cut a truncated tail (what Redis would truncate the file to, in place).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Truncation {
    /// The file.
    pub file: PathBuf,
    /// Length of the valid prefix.
    pub valid_len: u64,
    /// Length of the file.
    pub file_len: u64,
    /// Why: a short read, or an unfinished MULTI.
    pub reason: &'static str,
}

/// A loaded AOF.
#[derive(Debug, Clone)]
pub struct Loaded {
    /// The dataset (canonical order; keys with past expiries kept, as a loader keeps them).
    pub dataset: Dataset,
    /// Files loaded, in order.
    pub files: Vec<PathBuf>,
    /// The cut applied under `load_truncated`, if any.
    pub truncated: Option<Truncation>,
    /// Commands replayed.
    pub commands: u64,
}

/// What replaying one file did.
#[derive(Debug, Clone, Default)]
pub struct Replayed {
    /// Commands executed.
    pub commands: u64,
    /// Valid prefix length and reason, when the tail was cut.
    pub cut: Option<(u64, &'static str)>,
    /// The file's length.
    pub len: u64,
}

/// Loads the AOF at `path` (file, directory or manifest). The input is never modified.
pub fn load(path: &Path, opts: &LoadOptions) -> Result<Loaded> {
    let l = Layout::find(path)?;
    let src = l.source();
    let mut ks = Keyspace::with_config(Config::replay());
    let done = replay_files(&src, l.names(), &mut ks, opts)?;
    let files: Vec<PathBuf> = l.names().iter().map(|n| src.path(n)).collect();
    let truncated = done.iter().zip(&files).find_map(|(r, f)| {
        r.cut.map(|(valid_len, reason)| Truncation {
            file: f.clone(),
            valid_len,
            file_len: r.len,
            reason,
        })
    });
    let mut dataset = ks.to_dataset(None);
    dataset.source = Some(SourceInfo {
        kind: if l.is_multi() { "aof-dir" } else { "aof" }.into(),
        magic: None,
        version: None,
        aux: Vec::new(),
    });
    Ok(Loaded {
        dataset,
        files,
        truncated,
        commands: done.iter().map(|r| r.commands).sum(),
    })
}

/// Replays the files `names` of `src` in order into `ks`; only the last may end short. A file's
/// name is added to any error of a multi-file AOF.
pub fn replay_files<A: AofSource + ?Sized>(
    src: &A,
    names: &[Vec<u8>],
    ks: &mut Keyspace,
    opts: &LoadOptions,
) -> Result<Vec<Replayed>> {
    replay_files_planted(src, names, ks, opts, false)
}

/// [`replay_files`], with the planted bug `persist::Sabotage::aof_ignores_multi` when
/// `ignore_multi` (only the persisting server passes its sabotage here).
pub(crate) fn replay_files_planted<A: AofSource + ?Sized>(
    src: &A,
    names: &[Vec<u8>],
    ks: &mut Keyspace,
    opts: &LoadOptions,
    ignore_multi: bool,
) -> Result<Vec<Replayed>> {
    let mut session = Session::new();
    let mut out = Vec::with_capacity(names.len());
    for (i, name) in names.iter().enumerate() {
        let last = i + 1 == names.len();
        let named = |e: Error| {
            if names.len() > 1 {
                Error {
                    detail: format!("{}: {}", src.display(name), e.detail),
                    ..e
                }
            } else {
                e
            }
        };
        let (reader, len) = src.open(name).map_err(|e| Error {
            kind: ErrorKind::Io,
            offset: None,
            what: "AOF file",
            detail: format!("{}: {e}", src.display(name)),
        })?;
        let r = replay_planted(
            reader,
            Some(len),
            ks,
            &mut session,
            opts,
            last,
            ignore_multi,
        )
        .map_err(named)?;
        out.push(r);
    }
    Ok(out)
}

/// Loads one stream read once (a file, a pipe, a FIFO): an RDB (its dataset, source information
/// included, bytes after its trailer ignored as Redis ignores them), an RDB followed by RESP (an
/// AOF with a preamble), or RESP commands. `name` is what reports call it.
pub fn load_stream<R: Read>(
    r: R,
    len: Option<u64>,
    name: &Path,
    opts: &LoadOptions,
) -> Result<Loaded> {
    let ro = ReadOptions {
        total_len: len,
        ..opts.rdb
    };
    let mut src = Source::new(r, len, ro.limits);
    let head = src.peek(6, "file header")?.to_vec();
    let mut ks = Keyspace::with_config(Config::replay());
    if !(head.first().is_some_and(|b| matches!(b, b'*' | b'#')) || head.is_empty()) {
        let mut reader = RdbReader::from_source(src, ro)?;
        let (ds, _) = collect_all(&mut reader, ro)?;
        src = reader.into_source();
        if !src
            .peek(1, "AOF tail")?
            .first()
            .is_some_and(|b| matches!(b, b'*' | b'#'))
        {
            return Ok(Loaded {
                dataset: ds,
                files: vec![name.to_path_buf()],
                truncated: None,
                commands: 0,
            });
        }
        ks = Keyspace::from_dataset_with(Config::replay(), &ds);
    }
    let r = replay_commands(src, len, &mut ks, &mut Session::new(), opts, true, false)?;
    let mut dataset = ks.to_dataset(None);
    dataset.source = Some(SourceInfo {
        kind: "aof".into(),
        magic: None,
        version: None,
        aux: Vec::new(),
    });
    Ok(Loaded {
        dataset,
        files: vec![name.to_path_buf()],
        truncated: r.cut.map(|(valid_len, reason)| Truncation {
            file: name.to_path_buf(),
            valid_len,
            file_len: r.len,
            reason,
        }),
        commands: r.commands,
    })
}

/// Replays one file, read as a stream (`len` when known): an RDB preamble if it starts with one,
/// then RESP commands.
pub fn replay<R: Read>(
    r: R,
    len: Option<u64>,
    ks: &mut Keyspace,
    s: &mut Session,
    opts: &LoadOptions,
    last: bool,
) -> Result<Replayed> {
    replay_planted(r, len, ks, s, opts, last, false)
}

fn replay_planted<R: Read>(
    r: R,
    len: Option<u64>,
    ks: &mut Keyspace,
    s: &mut Session,
    opts: &LoadOptions,
    last: bool,
    ignore_multi: bool,
) -> Result<Replayed> {
    let ro = ReadOptions {
        total_len: len,
        ..opts.rdb
    };
    let mut src = Source::new(r, len, ro.limits);
    let head = src.peek(6, "file header")?;
    if head.starts_with(b"REDIS") || head.starts_with(b"VALKEY") {
        // A preamble is the whole state so far: it only ever starts the first file loaded.
        if !ks.is_empty() {
            return Err(Error::corrupt(
                0,
                "RDB preamble",
                "an RDB preamble in a file that is not the first one loaded",
            ));
        }
        let mut reader = RdbReader::from_source(src, ro)?;
        let mut c = Collector::new(ro.limits);
        reader.read_all(&mut c)?;
        *ks = Keyspace::from_dataset_with(Config::replay(), &c.finish()?);
        src = reader.into_source();
    }
    replay_commands(src, len, ks, s, opts, last, ignore_multi)
}

/// Replays the RESP commands of `src` (after any preamble) into `ks`.
fn replay_commands<R: Read>(
    src: Source<R>,
    len: Option<u64>,
    ks: &mut Keyspace,
    s: &mut Session,
    opts: &LoadOptions,
    last: bool,
    ignore_multi: bool,
) -> Result<Replayed> {
    let mut cr = CommandReader::new(src, Strictness::Server);
    let mut out = Replayed {
        len: len.unwrap_or(0),
        ..Replayed::default()
    };
    let mut multi_start: Option<u64> = None;
    loop {
        match cr.next_item()? {
            Next::End => break,
            Next::Incomplete { at } => {
                return cut(
                    out,
                    s,
                    opts,
                    last,
                    multi_start.unwrap_or(at),
                    at,
                    "short read",
                );
            }
            Next::Annotation { .. } => {}
            Next::Command { at, .. } => {
                let argv = cr.argv();
                // Memory is looked at every 1024 commands, and before any command that can
                // grow a string from a few bytes of arguments.
                let hint = super::memory::growth_hint(&argv);
                if let Some(limit) = opts
                    .memory_limit
                    .filter(|_| hint > 0 || out.commands.is_multiple_of(1024))
                {
                    let used = super::memory::resident_bytes().unwrap_or(0);
                    if used.saturating_add(hint) > limit {
                        return Err(Error::new(
                            ErrorKind::LimitExceeded,
                            at,
                            "command",
                            format!(
                                "replaying it would take more than the memory limit of {limit} bytes ({used} in use, this command may add {hint})"
                            ),
                        ));
                    }
                }
                let framing =
                    argv[0].eq_ignore_ascii_case(b"multi") || argv[0].eq_ignore_ascii_case(b"exec");
                if ignore_multi && framing {
                    continue;
                }
                if argv[0].eq_ignore_ascii_case(b"multi") {
                    multi_start = Some(at);
                } else if argv[0].eq_ignore_ascii_case(b"exec") {
                    multi_start = None;
                }
                // An unknown command or a wrong argument count stops the load, as in Redis.
                if let Err(e) = ks.execute(s, opts.now_ms, &argv) {
                    // The name comes from the file: control bytes (ESC, newlines) are shown
                    // escaped, so a message stays one line and cannot drive a terminal.
                    let detail: String = format!("{e} reading the append only file")
                        .chars()
                        .map(|c| match c {
                            c if c.is_control() => format!("\\x{:02x}", c as u32),
                            c => c.to_string(),
                        })
                        .collect();
                    return Err(Error::corrupt(at, "command", detail));
                }
                out.commands += 1;
            }
        }
    }
    if len.is_none() {
        out.len = cr.pos();
    }
    if s.multi.is_some() {
        let at = cr.pos();
        return cut(
            out,
            s,
            opts,
            last,
            multi_start.unwrap_or(at),
            at,
            "unfinished MULTI",
        );
    }
    Ok(out)
}

fn cut(
    mut out: Replayed,
    s: &mut Session,
    opts: &LoadOptions,
    last: bool,
    valid: u64,
    at: u64,
    reason: &'static str,
) -> Result<Replayed> {
    if !opts.load_truncated {
        return Err(Error::new(
            ErrorKind::Truncated,
            at,
            "append only file",
            format!("unexpected end of file ({reason}); aof-load-truncated is off"),
        ));
    }
    if !last {
        return Err(Error::new(
            ErrorKind::Truncated,
            at,
            "append only file",
            format!("{reason} in a file that is not the last one of the manifest"),
        ));
    }
    // The partial transaction is rolled back, as Redis does by cutting before its MULTI.
    s.multi = None;
    out.cut = Some((valid, reason));
    Ok(out)
}
