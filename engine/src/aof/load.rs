//! Loading an AOF as Redis does: a single file (with or without an RDB preamble) or a Redis 7
//! manifest directory, replayed through the keyspace, with Redis's truncation and MULTI rules.
use crate::dataset::{Dataset, SourceInfo};
use crate::format::aof::manifest::{self, Manifest};
use crate::format::error::{Error, ErrorKind, Result};
use crate::format::rdb::{Collector, RdbReader, ReadOptions};
use crate::format::resp::{self, Item, Parsed, Strictness};
use crate::keyspace::{CommandError, Config, Keyspace, Session};
use std::path::{Path, PathBuf};

/// How to load.
#[derive(Debug, Clone, Copy)]
pub struct LoadOptions {
    /// `aof-load-truncated`: a short read at the end of the last file is cut back to the last
    /// complete command (and an unfinished MULTI rolled back) instead of refusing the AOF.
    pub load_truncated: bool,
    /// The load's clock, Unix ms (relative expiries and `*` IDs, if any, resolve against it).
    pub now_ms: i64,
    /// RDB preamble reading.
    pub rdb: ReadOptions,
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

/// How the AOF at a path is laid out.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Layout {
    /// One file (Redis 6 and earlier).
    Single(PathBuf),
    /// A manifest and the directory holding its files.
    Multi {
        /// The manifest file.
        manifest: PathBuf,
        /// Its parsed contents.
        parsed: Manifest,
    },
}

fn io_err(path: &Path, e: std::io::Error) -> Error {
    Error {
        kind: ErrorKind::Io,
        offset: None,
        what: "AOF file",
        detail: format!("{}: {e}", path.display()),
    }
}

/// Whether `bytes` look like a manifest: the first line that is not a comment starts with `file`.
pub fn looks_like_manifest(bytes: &[u8]) -> bool {
    bytes
        .split(|&b| b == b'\n')
        .find(|l| !l.starts_with(b"#"))
        .is_some_and(|l| l.trim_ascii_start().starts_with(b"file "))
}

/// Finds the layout at `path`: a directory holding one manifest, a manifest, or a single file.
pub fn layout(path: &Path) -> Result<Layout> {
    let manifest_path = if path.is_dir() {
        let mut found: Vec<PathBuf> = std::fs::read_dir(path)
            .map_err(|e| io_err(path, e))?
            .flatten()
            .map(|e| e.path())
            .filter(|p| p.extension().is_some_and(|x| x == "manifest"))
            .collect();
        found.sort();
        match found.len() {
            1 => found.remove(0),
            0 => {
                return Err(Error {
                    kind: ErrorKind::BadManifest,
                    offset: None,
                    what: "AOF directory",
                    detail: format!("no *.manifest in {}", path.display()),
                })
            }
            _ => {
                return Err(Error {
                    kind: ErrorKind::BadManifest,
                    offset: None,
                    what: "AOF directory",
                    detail: format!("several manifests in {}: name one", path.display()),
                })
            }
        }
    } else {
        let head = std::fs::read(path).map_err(|e| io_err(path, e))?;
        if !looks_like_manifest(&head) {
            return Ok(Layout::Single(path.to_path_buf()));
        }
        path.to_path_buf()
    };
    let text = std::fs::read(&manifest_path).map_err(|e| io_err(&manifest_path, e))?;
    let parsed = manifest::parse(&text)?;
    Ok(Layout::Multi {
        manifest: manifest_path,
        parsed,
    })
}

/// The files a layout loads, in order (history files are never loaded).
pub fn files(l: &Layout) -> Vec<PathBuf> {
    match l {
        Layout::Single(p) => vec![p.clone()],
        Layout::Multi { manifest, parsed } => {
            let dir = manifest.parent().unwrap_or(Path::new("."));
            let name =
                |e: &manifest::FileEntry| dir.join(String::from_utf8_lossy(&e.name).as_ref());
            parsed.base.iter().chain(&parsed.incr).map(name).collect()
        }
    }
}

/// Loads the AOF at `path` (file, directory or manifest). The input is never modified.
pub fn load(path: &Path, opts: &LoadOptions) -> Result<Loaded> {
    let l = layout(path)?;
    let files = files(&l);
    let mut ks = Keyspace::with_config(Config::replay());
    let mut session = Session::new();
    let mut truncated = None;
    let mut commands = 0;
    for (i, f) in files.iter().enumerate() {
        let bytes = std::fs::read(f).map_err(|e| io_err(f, e))?;
        let last = i + 1 == files.len();
        let multi = matches!(l, Layout::Multi { .. });
        let r = replay(&bytes, &mut ks, &mut session, opts, last).map_err(|e| {
            if multi {
                Error {
                    detail: format!("{}: {}", f.display(), e.detail),
                    ..e
                }
            } else {
                e
            }
        })?;
        commands += r.commands;
        if let Some((valid, reason)) = r.cut {
            truncated = Some(Truncation {
                file: f.clone(),
                valid_len: valid,
                file_len: bytes.len() as u64,
                reason,
            });
        }
    }
    let mut dataset = ks.to_dataset(None);
    dataset.source = Some(SourceInfo {
        kind: if matches!(l, Layout::Single(_)) {
            "aof".into()
        } else {
            "aof-dir".into()
        },
        magic: None,
        version: None,
        aux: Vec::new(),
    });
    Ok(Loaded {
        dataset,
        files,
        truncated,
        commands,
    })
}

/// What replaying one file did.
#[derive(Debug, Clone, Default)]
pub struct Replayed {
    /// Commands executed.
    pub commands: u64,
    /// Valid prefix length and reason, when the tail was cut.
    pub cut: Option<(u64, &'static str)>,
}

/// Replays one file's bytes into `ks`: an RDB preamble if the content starts with one, then RESP.
pub fn replay(
    bytes: &[u8],
    ks: &mut Keyspace,
    s: &mut Session,
    opts: &LoadOptions,
    last: bool,
) -> Result<Replayed> {
    let mut at = 0usize;
    if bytes.starts_with(b"REDIS") || bytes.starts_with(b"VALKEY") {
        let ro = ReadOptions {
            total_len: Some(bytes.len() as u64),
            ..opts.rdb
        };
        let mut reader = RdbReader::new(bytes, ro)?;
        let mut c = Collector::new(ro.limits);
        let trailer = reader.read_all(&mut c)?;
        let ds = c.finish()?;
        // A preamble is the whole state so far: it only ever starts the first file loaded.
        if !ks.is_empty() {
            return Err(Error::corrupt(
                0,
                "RDB preamble",
                "an RDB preamble in a file that is not the first one loaded",
            ));
        }
        *ks = Keyspace::from_dataset_with(Config::replay(), &ds);
        at = trailer.end_offset as usize;
    }
    let mut out = Replayed::default();
    let mut multi_start: Option<usize> = None;
    loop {
        match resp::parse(bytes, at, Strictness::Server)? {
            Parsed::End => break,
            Parsed::Incomplete => {
                let valid = multi_start.unwrap_or(at);
                return cut(out, s, opts, last, valid, at, "short read");
            }
            Parsed::Item(Item::Annotation(_), end) => at = end,
            Parsed::Item(Item::Command(argv), end) => {
                if argv[0].eq_ignore_ascii_case(b"multi") {
                    multi_start = Some(at);
                } else if argv[0].eq_ignore_ascii_case(b"exec") {
                    multi_start = None;
                }
                match ks.execute(s, opts.now_ms, &argv) {
                    Ok(_) => {}
                    Err(CommandError::UnknownCommand(name)) => {
                        return Err(Error::corrupt(
                            at as u64,
                            "command",
                            format!("unknown command '{name}' reading the append only file"),
                        ));
                    }
                    Err(e) => {
                        return Err(Error::corrupt(
                            at as u64,
                            "command",
                            format!("{e:?} reading the append only file"),
                        ))
                    }
                }
                out.commands += 1;
                at = end;
            }
        }
    }
    if s.multi.is_some() {
        let valid = multi_start.unwrap_or(at);
        return cut(out, s, opts, last, valid, at, "unfinished MULTI");
    }
    Ok(out)
}

fn cut(
    mut out: Replayed,
    s: &mut Session,
    opts: &LoadOptions,
    last: bool,
    valid: usize,
    at: usize,
    reason: &'static str,
) -> Result<Replayed> {
    if !opts.load_truncated {
        return Err(Error::new(
            ErrorKind::Truncated,
            at as u64,
            "append only file",
            format!("unexpected end of file ({reason}); aof-load-truncated is off"),
        ));
    }
    if !last {
        return Err(Error::new(
            ErrorKind::Truncated,
            at as u64,
            "append only file",
            format!("{reason} in a file that is not the last one of the manifest"),
        ));
    }
    // The partial transaction is rolled back, as Redis does by cutting before its MULTI.
    s.multi = None;
    out.cut = Some((valid as u64, reason));
    Ok(out)
}
