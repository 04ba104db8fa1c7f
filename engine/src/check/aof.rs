//! `redis-check-aof`'s verdict on an AOF file or directory, computed by streaming each file once:
//! its `ok_up_to` and `ok_up_to_line` (the real tool's figures), the problem, and what `--fix` may do.
//!
//! The rules are those of `src/redis-check-aof.c` (7.0.15): the files of a manifest are checked in
//! order and the first invalid one ends the check; a base may be an RDB (checked deeply); an RDB
//! preamble is recognised only in a single-file AOF or a manifest's base (an incremental file
//! starting with one is a format error); `line` counts the `\r\n`s consumed across all files, from 1;
//! `ok_up_to` is where the last complete item outside a transaction ended. One deliberate difference:
//! a `VALKEY` magic is a preamble too (valkey-check-aof 9.1.2 calls it a format error while its own
//! server loads it).
use crate::aof::{AofSource, Layout};
use crate::format::error::{Error, ErrorKind};
use crate::format::rdb::{RdbReader, ReadOptions, Visitor};
use crate::format::resp::{timestamp, CommandReader, Next, Strictness};
use crate::format::source::Source;
use std::io::Read;
use std::path::{Path, PathBuf};

/// A file's place in the AOF.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Role {
    /// A Redis 6 style file (a preamble allowed).
    Single,
    /// A manifest's base (a preamble allowed).
    Base,
    /// A manifest's incremental file.
    Incr,
}

/// What is wrong with a file.
#[derive(Debug, Clone, PartialEq)]
pub enum Problem {
    /// The RDB preamble does not decode: never fixable by truncation.
    Preamble(Error),
    /// The RESP part is malformed at `at` (offset of the faulty line or payload).
    Format(Error),
    /// The file ends inside the item starting at the offset.
    Eof(u64),
    /// The file ends inside a MULTI that starts at the offset.
    UnfinishedMulti(u64),
    /// A MULTI inside a MULTI, or an EXEC without one, at the offset.
    Unbalanced(u64, &'static str),
}

impl std::fmt::Display for Problem {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Problem::Preamble(e) => write!(f, "the RDB preamble is invalid: {e}"),
            Problem::Format(e) => write!(f, "{e}"),
            Problem::Eof(at) => write!(f, "unexpected end of file inside the item at offset {at}"),
            Problem::UnfinishedMulti(at) => {
                write!(
                    f,
                    "reached EOF before reading EXEC for the MULTI at offset {at}"
                )
            }
            Problem::Unbalanced(at, what) => write!(f, "{what} at offset {at}"),
        }
    }
}

/// One file's verdict.
#[derive(Debug, Clone, PartialEq)]
pub struct FileCheck {
    /// Its name in the manifest (or on disk).
    pub name: Vec<u8>,
    /// Its path.
    pub path: PathBuf,
    /// Its role.
    pub role: Role,
    /// Its size.
    pub size: u64,
    /// Where its RDB preamble ends, if it has one that decoded.
    pub preamble_end: Option<u64>,
    /// `ok_up_to`: where the last complete item outside a transaction ends.
    pub ok_up_to: u64,
    /// `ok_up_to_line`: the checker's running line count when this file's analysis ended.
    pub ok_up_to_line: u64,
    /// What is wrong, if anything.
    pub problem: Option<Problem>,
    /// Offsets and values of its `#TS:` annotations.
    pub timestamps: Vec<(u64, i64)>,
}

impl FileCheck {
    /// Whether the file is valid (an empty file is).
    pub fn valid(&self) -> bool {
        self.problem.is_none()
    }
}

/// The verdict on a whole AOF.
#[derive(Debug, Clone)]
pub struct AofCheck {
    /// The layout checked.
    pub layout: Layout,
    /// The files checked, in order, up to and including the first invalid one.
    pub files: Vec<FileCheck>,
}

impl AofCheck {
    /// Whether every file is valid.
    pub fn valid(&self) -> bool {
        self.files.iter().all(FileCheck::valid) && self.files.len() == self.layout.names().len()
    }

    /// The first invalid file, if any.
    pub fn failed(&self) -> Option<&FileCheck> {
        self.files.iter().find(|f| !f.valid())
    }

    /// Whether the failed file is the last of the AOF (the only one `--fix` may cut).
    pub fn failed_is_last(&self) -> bool {
        self.failed().is_some() && self.files.len() == self.layout.names().len()
    }
}

/// What `--fix` would do.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Fix {
    /// Nothing to fix.
    Nothing,
    /// Cut `path` from `size` to `to` bytes (only RESP commands are removed).
    Truncate {
        /// The file.
        path: PathBuf,
        /// Its size.
        size: u64,
        /// The length to cut it to.
        to: u64,
    },
    /// Not fixable by truncation: why.
    Refuse(String),
}

/// What `--fix` may do: cut the RESP tail of the last file at `ok_up_to`, never a byte of an RDB.
pub fn fix_plan(c: &AofCheck) -> Fix {
    let Some(f) = c.failed() else {
        return Fix::Nothing;
    };
    let name = f.path.display();
    if let Some(Problem::Preamble(e)) = &f.problem {
        return Fix::Refuse(format!(
            "the RDB preamble of {name} is not sane ({e}); truncating cannot repair an RDB"
        ));
    }
    if !c.failed_is_last() {
        return Fix::Refuse(format!("{name} is not the last file of the AOF"));
    }
    if f.preamble_end.is_some_and(|end| f.ok_up_to < end) {
        return Fix::Refuse(format!("cutting {name} would cut into its RDB preamble"));
    }
    Fix::Truncate {
        path: f.path.clone(),
        size: f.size,
        to: f.ok_up_to,
    }
}

/// Where `--truncate-to-timestamp T` would cut: before the first `#TS:` annotation later than `t`
/// in the last file. `Err` says why it cannot (nothing before it, or not the last file).
pub fn timestamp_cut(c: &AofCheck, t: i64) -> Result<Option<(PathBuf, u64)>, String> {
    let last = c.files.len() == c.layout.names().len();
    for (i, f) in c.files.iter().enumerate() {
        if let Some(&(at, _)) = f.timestamps.iter().find(|(_, ts)| *ts > t) {
            let name = f.path.display();
            if at == 0 {
                return Err(format!("{name} has nothing before timestamp {t}"));
            }
            if !(last && i + 1 == c.files.len()) {
                return Err(format!(
                    "{name} has an annotation after timestamp {t} at offset {at}, but it is not the last file"
                ));
            }
            return Ok(Some((f.path.clone(), at)));
        }
    }
    Ok(None)
}

struct Nothing;
impl Visitor for Nothing {}

fn io_problem(path: &Path, e: std::io::Error) -> Problem {
    Problem::Format(Error {
        kind: ErrorKind::Io,
        offset: None,
        what: "AOF file",
        detail: format!("{}: {e}", path.display()),
    })
}

/// Checks one file read as a stream into `f` (its `size` and `role` set); `line` is the running
/// line count before it (1 at the start) and is advanced as the real checker advances it.
pub fn check_file<R: Read>(r: R, f: &mut FileCheck, line: &mut u64, rdb: ReadOptions) {
    let (size, role) = (f.size, f.role);
    let mut src = Source::new(r, Some(size), rdb.limits);
    let mut preamble_end = None;
    let head = match src.peek(6, "file header") {
        Ok(h) => h.to_vec(),
        Err(e) => {
            f.problem = Some(Problem::Format(e));
            return;
        }
    };
    let rdb_magic = head.starts_with(b"REDIS") || head.starts_with(b"VALKEY");
    // The real checker needs 8 bytes to call a file an RDB.
    if rdb_magic && size >= 8 && role != Role::Incr {
        let ro = ReadOptions {
            total_len: Some(size),
            ..rdb
        };
        match RdbReader::from_source(src, ro).and_then(|mut rd| {
            rd.read_all(&mut Nothing)?;
            Ok(rd)
        }) {
            Ok(rd) => {
                preamble_end = Some(rd.pos());
                src = rd.into_source();
            }
            Err(e) => {
                f.problem = Some(Problem::Preamble(e));
                return;
            }
        }
    }
    let start = preamble_end.unwrap_or(0);
    let (ok_up_to, problem, timestamps) = check_commands(src, start, line);
    (f.preamble_end, f.ok_up_to, f.problem, f.timestamps) =
        (preamble_end, ok_up_to, problem, timestamps);
}

/// What the RESP part of a file came to: `ok_up_to`, the problem, the `#TS` annotations.
pub type CommandsVerdict = (u64, Option<Problem>, Vec<(u64, i64)>);

/// Checks the RESP commands from `src` (positioned at `start`, after any preamble) as
/// `redis-check-aof` does, advancing the running `line` count.
pub fn check_commands<R: Read>(src: Source<R>, start: u64, line: &mut u64) -> CommandsVerdict {
    let mut cr = CommandReader::new(src, Strictness::Checker);
    let mut ok_up_to = start;
    let mut multi: Option<u64> = None;
    let mut timestamps = Vec::new();
    let problem = loop {
        let next = cr.next_item();
        match next {
            Ok(Next::End) => break multi.map(Problem::UnfinishedMulti),
            Ok(Next::Incomplete { at }) => break Some(Problem::Eof(multi.unwrap_or(at))),
            Err(e) => break Some(Problem::Format(e)),
            Ok(Next::Annotation { at, end }) => {
                if let Some(ts) = timestamp(cr.annotation()) {
                    timestamps.push((at, ts));
                }
                if multi.is_none() {
                    ok_up_to = end;
                }
            }
            Ok(Next::Command { at, end }) => {
                let first = cr.arg_at(0).map(|(a, _)| a);
                if first.is_some_and(|a| a.eq_ignore_ascii_case(b"multi")) {
                    if multi.is_some() {
                        break Some(Problem::Unbalanced(at, "unexpected MULTI"));
                    }
                    multi = Some(at);
                } else if first.is_some_and(|a| a.eq_ignore_ascii_case(b"exec"))
                    && multi.take().is_none()
                {
                    break Some(Problem::Unbalanced(at, "unexpected EXEC"));
                }
                if multi.is_none() {
                    ok_up_to = end;
                }
            }
        }
    };
    *line += cr.lines();
    // Where a transaction was open, the valid part ends before its MULTI.
    if let Some(m) = multi {
        ok_up_to = ok_up_to.min(m);
    }
    (ok_up_to, problem, timestamps)
}

/// Checks the AOF at `path` (file, directory or manifest), as `redis-check-aof` does.
pub fn check(path: &Path, rdb: ReadOptions) -> Result<AofCheck, Error> {
    let layout = Layout::find(path)?;
    let src = layout.source();
    let mut files = Vec::new();
    let mut line = 1u64;
    let n = layout.names().len();
    for (i, name) in layout.names().iter().enumerate() {
        let role = match (layout.is_multi(), i) {
            (false, _) => Role::Single,
            (true, 0) if layout.manifest().is_some_and(|(_, m)| m.base.is_some()) => Role::Base,
            _ => Role::Incr,
        };
        let path = src.path(name);
        let mut f = FileCheck {
            name: name.clone(),
            path: path.clone(),
            role,
            size: 0,
            preamble_end: None,
            ok_up_to: 0,
            ok_up_to_line: line,
            problem: None,
            timestamps: Vec::new(),
        };
        match src.open(name) {
            Err(e) => f.problem = Some(io_problem(&path, e)),
            Ok((r, size)) => {
                f.size = size;
                if size > 0 {
                    check_file(r, &mut f, &mut line, rdb);
                }
                f.ok_up_to_line = line;
            }
        }
        let stop = f.problem.is_some();
        files.push(f);
        if stop && i + 1 < n {
            break;
        }
    }
    Ok(AofCheck { layout, files })
}
