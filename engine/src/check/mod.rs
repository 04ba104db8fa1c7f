//! Validation, like Redis's own checkers: `rdb` checks an RDB as `redis-check-rdb` does (deeply,
//! keeping only counts), `aof` an AOF file or directory as `redis-check-aof` does, with its figures.
pub mod aof;
mod keylog;
pub mod rdb;

pub use rdb::{check, checksum_phrase, DuplicateKey, Summary, TRAILING_COUNTED};

use crate::format::error::{Error, ErrorKind, Result};
use crate::format::rdb::{RdbReader, ReadOptions};
use crate::format::source::Source;
use std::io::Read;
use std::path::Path;

/// What one stream turned out to be.
#[derive(Debug)]
pub enum Checked {
    /// An RDB (any bytes after its trailer that do not start RESP are ignored, as Redis does).
    Rdb(Summary),
    /// A single-file AOF (with or without an RDB preamble, whose summary comes along).
    Aof(aof::FileCheck, Option<Summary>),
}

/// Checks one stream, read once (a file, a pipe, a FIFO): an RDB, an RDB followed by RESP (an
/// AOF with a preamble), or RESP. `Err` is an RDB the checker refuses; an AOF's problems are in
/// its [`aof::FileCheck`].
pub fn check_stream<R: Read>(
    r: R,
    len: Option<u64>,
    path: &Path,
    opts: ReadOptions,
) -> Result<Checked> {
    let opts = ReadOptions {
        total_len: len,
        ..opts
    };
    let mut src = Source::new(r, len, opts.limits);
    let head = src.peek(6, "file header")?.to_vec();
    let mut f = aof::FileCheck {
        name: path.as_os_str().as_encoded_bytes().to_vec(),
        path: path.to_path_buf(),
        role: aof::Role::Single,
        size: len.unwrap_or(0),
        preamble_end: None,
        ok_up_to: 0,
        ok_up_to_line: 1,
        problem: None,
        timestamps: Vec::new(),
    };
    let mut line = 1;
    let mut summary = None;
    if !(head.first().is_some_and(|b| matches!(b, b'*' | b'#')) || head.is_empty()) {
        let mut reader = RdbReader::from_source(src, opts)?;
        let mut s = rdb::check_reader(&mut reader)?;
        duplicate_keys(&mut s, len.map(|_| path), opts)?;
        let end = reader.pos();
        src = reader.into_source();
        if !src
            .peek(1, "AOF tail")?
            .first()
            .is_some_and(|b| matches!(b, b'*' | b'#'))
        {
            (s.trailing_bytes, s.trailing_more) = src.drain_up_to(TRAILING_COUNTED)?;
            return Ok(Checked::Rdb(s));
        }
        f.preamble_end = Some(end);
        summary = Some(s);
    }
    let start = f.preamble_end.unwrap_or(0);
    let (ok, problem, ts) = aof::check_commands(src, start, &mut line);
    (f.ok_up_to, f.problem, f.timestamps, f.ok_up_to_line) = (ok, problem, ts, line);
    if len.is_none() {
        f.size = f.ok_up_to;
    }
    Ok(Checked::Aof(f, summary))
}

/// Refuses a file that holds a key twice in one database, as Redis refuses to load it (redis-check-rdb
/// 7.0 does not look). Candidates come from fingerprints; where the file can be read again by
/// `path`, the keys' bytes are compared, so a collision is never taken for a duplicate.
pub fn duplicate_keys(s: &mut Summary, path: Option<&Path>, opts: ReadOptions) -> Result<()> {
    let io = |e: std::io::Error| Error::new(ErrorKind::Io, 0, "key index", e.to_string());
    for d in s.key_log.candidates().map_err(io)? {
        let same = match path {
            Some(p) => match (key_at(p, d.first, opts), key_at(p, d.second, opts)) {
                (Some(a), Some(b)) => a == b,
                _ => true,
            },
            None => true,
        };
        if same {
            let how = if path.is_some() {
                ""
            } else {
                " (by a 96-bit fingerprint)"
            };
            return Err(Error::corrupt(
                d.second,
                "key",
                format!(
                    "db {} holds this key twice{how}; it was first at offset {} (Redis refuses to load such a file)",
                    d.db, d.first
                ),
            ));
        }
    }
    Ok(())
}

/// The key of the record whose type byte is at `offset`.
fn key_at(path: &Path, offset: u64, opts: ReadOptions) -> Option<Vec<u8>> {
    use std::io::{Seek, SeekFrom};
    let mut f = std::fs::File::open(path).ok()?;
    f.seek(SeekFrom::Start(offset)).ok()?;
    let mut src = Source::new(f, None, opts.limits);
    src.u8("object type").ok()?;
    let mut scratch = Default::default();
    let k = crate::format::rdb::string::read(&mut src, &mut scratch, "key").ok()?;
    Some(k.bytes.to_vec())
}

/// Keys held twice in a stream of keys, found with `check`'s bounded memory (fingerprints
/// spilled to disk, bytes compared where the file can be read again): for readers that hand keys
/// on one by one, such as `dump --jsonl`.
#[derive(Debug, Default)]
pub struct KeyTracker(Summary);

impl KeyTracker {
    /// Notes the key of the record at `offset`.
    pub fn record(&mut self, db: u64, key: &[u8], offset: u64) {
        self.0.key_log.record(db, key, offset);
    }

    /// The first key held twice, as a refusal (see [`duplicate_keys`]).
    pub fn finish(mut self, path: Option<&Path>, opts: ReadOptions) -> Result<()> {
        duplicate_keys(&mut self.0, path, opts)
    }
}
