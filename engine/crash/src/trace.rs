//! The trace format, owned here: a file is `MAGIC` then records, each a 48-byte little-endian
//! header (length, kind, sub-kind, pid, result, three u64 arguments) and a kind-specific payload.
//!
//! Layout of the header (the recorder in `preload/recorder.rs` writes the same bytes):
//!
//! | offset | size | field |
//! |---|---|---|
//! | 0 | 4 | total record length, header included |
//! | 4 | 1 | kind (`K_*`) |
//! | 5 | 1 | sub-kind (fd kind for OPEN, sync kind, write source) |
//! | 6 | 2 | zero |
//! | 8 | 4 | pid of the process that made the call |
//! | 12 | 4 | zero |
//! | 16 | 8 | result: the call's return value, or `-errno` when it failed |
//! | 24, 32, 40 | 8 each | arguments `a`, `b`, `c`, per kind below |
//!
//! Paths are relative to the recorded dir (`""` is the dir itself); a path outside it (one side of
//! a rename) is absolute. Files are named by inode number (`ino`), because Redis renames files it
//! keeps writing to.

/// The first 8 bytes of every trace.
pub const MAGIC: &[u8; 8] = b"RPTRACE1";
/// Length of a record header.
pub const HEADER_LEN: usize = 48;

const K_START: u8 = 1;
const K_OPEN: u8 = 2;
const K_CLOSE: u8 = 3;
const K_WRITE: u8 = 4;
const K_TRUNCATE: u8 = 5;
const K_SYNC_BEGIN: u8 = 6;
const K_SYNC_END: u8 = 7;
const K_RENAME: u8 = 8;
const K_UNLINK: u8 = 9;
const K_MKDIR: u8 = 10;
const K_INIT_DIR: u8 = 11;
const K_INIT_FILE: u8 = 12;
const K_LOST: u8 = 13;
/// `unlinkat` flag that makes it an rmdir.
pub const AT_REMOVEDIR: u32 = 0x200;

/// One recorded call: who made it, what it returned, what it was.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Record {
    /// Process that made the call.
    pub pid: u32,
    /// The call's return value, or `-errno`.
    pub ret: i64,
    /// The operation.
    pub op: Op,
}

/// What a descriptor opened under the dir refers to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FdKind {
    /// Not opened (failure) or neither a regular file nor a directory.
    Other,
    /// A regular file.
    File,
    /// A directory (Redis opens one `O_RDONLY` to fsync it).
    Dir,
}

/// Which flush-to-disk call.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SyncKind {
    /// `fsync(fd)`.
    Fsync,
    /// `fdatasync(fd)`.
    Fdatasync,
    /// `sync_file_range(fd, ...)`: not a durability guarantee.
    SyncFileRange,
    /// `syncfs(fd)`: the whole file system.
    Syncfs,
    /// `sync()`: every file system.
    Sync,
}

/// Why the recorder could not record something (the trace is incomplete there).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LostReason {
    /// A file under the dir got a descriptor beyond the recorder's table (`detail`: the fd).
    FdOutOfRange,
    /// A call under the dir came from a signal handler interrupting a recorded call.
    Reentrant,
    /// A process died holding the trace lock; its last operation may be unrecorded.
    OwnerDied,
    /// A reason this parser does not know.
    Other(u64),
}

/// The operations a trace holds. Each variant's doc says how its fields map to the header's
/// `a`, `b`, `c` and the payload; fields are named after what they hold.
#[allow(missing_docs)]
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Op {
    /// The recorder started in a process (`a` = parent pid); payload: the absolute dir.
    Start { ppid: u64, dir: Vec<u8> },
    /// `open`-family and `fopen` (`a` = ino, `b` = flags | mode << 32, `c` = size after opening;
    /// sub = kind, +4 when a stdio stream); payload: the path. `ret` is the fd.
    Open {
        path: Vec<u8>,
        ino: u64,
        flags: u32,
        mode: u32,
        size: u64,
        kind: FdKind,
        stdio: bool,
    },
    /// `close`/`fclose` of a tracked descriptor (`a` = ino).
    Close { ino: u64 },
    /// Bytes that reached a file (`a` = ino, `b` = offset; sub 1: read back from a stdio file);
    /// payload: the bytes.
    Write {
        ino: u64,
        offset: u64,
        data: Vec<u8>,
        from_stdio: bool,
    },
    /// `ftruncate` (`a` = ino) or `truncate` (`a` = 0, payload: path); `b` = length.
    Truncate { ino: u64, path: Vec<u8>, len: u64 },
    /// A flush started (`a` = ino or 0 for global, `b` = token, `c` = file size then).
    SyncBegin {
        kind: SyncKind,
        ino: u64,
        token: u64,
        size: u64,
    },
    /// The flush with that token returned `ret`.
    SyncEnd {
        kind: SyncKind,
        ino: u64,
        token: u64,
    },
    /// `rename*` (`a` = renameat2 flags); payload: u16 length of `from`, `from`, `to`.
    Rename {
        from: Vec<u8>,
        to: Vec<u8>,
        flags: u32,
    },
    /// `unlink`/`unlinkat`/`rmdir` (`a` = flags, `AT_REMOVEDIR` for a directory); payload: path.
    Unlink { path: Vec<u8>, flags: u32 },
    /// `mkdir`/`mkdirat` (`a` = mode); payload: path.
    Mkdir { path: Vec<u8>, mode: u32 },
    /// A directory present before the server started (written by [`crate::prepare_trace`]).
    InitDir { path: Vec<u8> },
    /// A file present before the server started (`a` = path length); payload: path, content.
    InitFile { path: Vec<u8>, data: Vec<u8> },
    /// Something was not recorded (`a` = reason, `b` = detail).
    Lost { reason: LostReason, detail: u64 },
}

fn sync_code(k: SyncKind) -> u8 {
    match k {
        SyncKind::Fsync => 1,
        SyncKind::Fdatasync => 2,
        SyncKind::SyncFileRange => 3,
        SyncKind::Syncfs => 4,
        SyncKind::Sync => 5,
    }
}

impl Record {
    /// Appends this record's bytes to `out`.
    pub fn encode(&self, out: &mut Vec<u8>) {
        let (kind, sub, abc, payload): (u8, u8, [u64; 3], Vec<&[u8]>) = match &self.op {
            Op::Start { ppid, dir } => (K_START, 0, [*ppid, 0, 0], vec![dir]),
            Op::Open {
                path,
                ino,
                flags,
                mode,
                size,
                kind,
                stdio,
            } => {
                let k = match kind {
                    FdKind::Other => 0,
                    FdKind::File => 1,
                    FdKind::Dir => 2,
                } | if *stdio { 4 } else { 0 };
                (
                    K_OPEN,
                    k,
                    [*ino, u64::from(*flags) | u64::from(*mode) << 32, *size],
                    vec![path],
                )
            }
            Op::Close { ino } => (K_CLOSE, 0, [*ino, 0, 0], vec![]),
            Op::Write {
                ino,
                offset,
                data,
                from_stdio,
            } => (
                K_WRITE,
                u8::from(*from_stdio),
                [*ino, *offset, 0],
                vec![data],
            ),
            Op::Truncate { ino, path, len } => (K_TRUNCATE, 0, [*ino, *len, 0], vec![path]),
            Op::SyncBegin {
                kind,
                ino,
                token,
                size,
            } => (
                K_SYNC_BEGIN,
                sync_code(*kind),
                [*ino, *token, *size],
                vec![],
            ),
            Op::SyncEnd { kind, ino, token } => {
                (K_SYNC_END, sync_code(*kind), [*ino, *token, 0], vec![])
            }
            Op::Rename { from, to, flags } => {
                // Paths are at most PATH_MAX (4096) bytes, so the length fits its u16.
                let n = (from.len() as u16).to_le_bytes();
                return self.put(out, K_RENAME, 0, [u64::from(*flags), 0, 0], &[&n, from, to]);
            }
            Op::Unlink { path, flags } => (K_UNLINK, 0, [u64::from(*flags), 0, 0], vec![path]),
            Op::Mkdir { path, mode } => (K_MKDIR, 0, [u64::from(*mode), 0, 0], vec![path]),
            Op::InitDir { path } => (K_INIT_DIR, 0, [0; 3], vec![path]),
            Op::InitFile { path, data } => {
                (K_INIT_FILE, 0, [path.len() as u64, 0, 0], vec![path, data])
            }
            Op::Lost { reason, detail } => {
                let code = match reason {
                    LostReason::FdOutOfRange => 1,
                    LostReason::Reentrant => 2,
                    LostReason::OwnerDied => 3,
                    LostReason::Other(c) => *c,
                };
                (K_LOST, 0, [code, *detail, 0], vec![])
            }
        };
        self.put(out, kind, sub, abc, &payload)
    }

    fn put(&self, out: &mut Vec<u8>, kind: u8, sub: u8, abc: [u64; 3], payload: &[&[u8]]) {
        let len = HEADER_LEN + payload.iter().map(|p| p.len()).sum::<usize>();
        out.extend_from_slice(&(len as u32).to_le_bytes());
        out.extend_from_slice(&[kind, sub, 0, 0]);
        out.extend_from_slice(&self.pid.to_le_bytes());
        out.extend_from_slice(&[0; 4]);
        out.extend_from_slice(&self.ret.to_le_bytes());
        for v in abc {
            out.extend_from_slice(&v.to_le_bytes());
        }
        for p in payload {
            out.extend_from_slice(p);
        }
    }
}

/// Why one record's bytes do not decode (the parser adds the offset).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RecordError {
    /// Fewer bytes remain than the header or the length field says.
    Truncated {
        /// Bytes the record needs.
        needed: usize,
        /// Bytes left in the input.
        available: usize,
    },
    /// The length field is below the header size.
    BadLength(u32),
    /// An unknown kind byte.
    UnknownKind(u8),
    /// A field holds a value its kind cannot have.
    BadField(&'static str),
}

fn u64_at(b: &[u8], at: usize) -> u64 {
    let mut a = [0u8; 8];
    a.copy_from_slice(&b[at..at + 8]);
    u64::from_le_bytes(a)
}

fn sync_kind(sub: u8) -> Result<SyncKind, RecordError> {
    Ok(match sub {
        1 => SyncKind::Fsync,
        2 => SyncKind::Fdatasync,
        3 => SyncKind::SyncFileRange,
        4 => SyncKind::Syncfs,
        5 => SyncKind::Sync,
        _ => return Err(RecordError::BadField("sync kind")),
    })
}

fn u32_arg(v: u64, what: &'static str) -> Result<u32, RecordError> {
    u32::try_from(v).map_err(|_| RecordError::BadField(what))
}

/// Decodes the record at the start of `b`; returns it and its length. Never panics.
pub fn decode(b: &[u8]) -> Result<(Record, usize), RecordError> {
    if b.len() < HEADER_LEN {
        return Err(RecordError::Truncated {
            needed: HEADER_LEN,
            available: b.len(),
        });
    }
    let len32 = u32::from_le_bytes([b[0], b[1], b[2], b[3]]);
    let len = len32 as usize;
    if len < HEADER_LEN {
        return Err(RecordError::BadLength(len32));
    }
    if b.len() < len {
        return Err(RecordError::Truncated {
            needed: len,
            available: b.len(),
        });
    }
    let (kind, sub) = (b[4], b[5]);
    if b[6..8] != [0, 0] || b[12..16] != [0; 4] {
        return Err(RecordError::BadField("reserved header bytes"));
    }
    let pid = u32::from_le_bytes([b[8], b[9], b[10], b[11]]);
    let ret = u64_at(b, 16) as i64;
    let (a, bb, c) = (u64_at(b, 24), u64_at(b, 32), u64_at(b, 40));
    let p = &b[HEADER_LEN..len];
    let op = match kind {
        K_START => Op::Start {
            ppid: a,
            dir: p.to_vec(),
        },
        K_OPEN => Op::Open {
            path: p.to_vec(),
            ino: a,
            flags: bb as u32,
            mode: (bb >> 32) as u32,
            size: c,
            kind: match sub & 3 {
                1 => FdKind::File,
                2 => FdKind::Dir,
                _ => FdKind::Other,
            },
            stdio: sub & 4 != 0,
        },
        K_CLOSE => Op::Close { ino: a },
        K_WRITE => Op::Write {
            ino: a,
            offset: bb,
            data: p.to_vec(),
            from_stdio: sub == 1,
        },
        K_TRUNCATE => Op::Truncate {
            ino: a,
            path: p.to_vec(),
            len: bb,
        },
        K_SYNC_BEGIN => Op::SyncBegin {
            kind: sync_kind(sub)?,
            ino: a,
            token: bb,
            size: c,
        },
        K_SYNC_END => Op::SyncEnd {
            kind: sync_kind(sub)?,
            ino: a,
            token: bb,
        },
        K_RENAME => {
            let n = match p {
                [lo, hi, ..] => usize::from(*lo) | usize::from(*hi) << 8,
                _ => return Err(RecordError::BadField("rename payload")),
            };
            let rest = &p[2..];
            if n > rest.len() {
                return Err(RecordError::BadField("rename source length"));
            }
            let flags = u32_arg(a, "rename flags")?;
            Op::Rename {
                from: rest[..n].to_vec(),
                to: rest[n..].to_vec(),
                flags,
            }
        }
        K_UNLINK => Op::Unlink {
            path: p.to_vec(),
            flags: u32_arg(a, "unlink flags")?,
        },
        K_MKDIR => Op::Mkdir {
            path: p.to_vec(),
            mode: u32_arg(a, "mkdir mode")?,
        },
        K_INIT_DIR => Op::InitDir { path: p.to_vec() },
        K_INIT_FILE => {
            let n = usize::try_from(a).ok().filter(|&n| n <= p.len());
            let n = n.ok_or(RecordError::BadField("init file path length"))?;
            Op::InitFile {
                path: p[..n].to_vec(),
                data: p[n..].to_vec(),
            }
        }
        K_LOST => Op::Lost {
            reason: match a {
                1 => LostReason::FdOutOfRange,
                2 => LostReason::Reentrant,
                3 => LostReason::OwnerDied,
                other => LostReason::Other(other),
            },
            detail: bb,
        },
        k => return Err(RecordError::UnknownKind(k)),
    };
    // Only the canonical encoding is accepted, so that corruption shows and re-encoding any
    // accepted record gives back its bytes: unused arguments, sub-kinds and payloads are empty.
    let (used, subs, payload): (usize, &[u8], bool) = match kind {
        K_START => (1, &[0], true),
        K_OPEN => (3, &[0, 1, 2, 4, 5, 6], true),
        K_CLOSE => (1, &[0], false),
        K_WRITE => (2, &[0, 1], true),
        K_TRUNCATE => (2, &[0], true),
        K_SYNC_BEGIN => (3, &[1, 2, 3, 4, 5], false),
        K_SYNC_END => (2, &[1, 2, 3, 4, 5], false),
        K_RENAME | K_UNLINK | K_MKDIR => (1, &[0], true),
        K_INIT_DIR => (0, &[0], true),
        K_INIT_FILE => (1, &[0], true),
        _ => (2, &[0], false),
    };
    if [a, bb, c][used..].iter().any(|&v| v != 0) {
        return Err(RecordError::BadField("unused argument"));
    }
    if !subs.contains(&sub) {
        return Err(RecordError::BadField("sub-kind"));
    }
    if !payload && !p.is_empty() {
        return Err(RecordError::BadField(
            "payload on a record kind without one",
        ));
    }
    Ok((Record { pid, ret, op }, len))
}
