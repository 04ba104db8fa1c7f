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

mod decode;
pub use decode::{decode, RecordError};

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

/// Sync kinds by their code minus one (codes start at 1 so that 0 is never valid).
const SYNC_KINDS: [SyncKind; 5] = [
    SyncKind::Fsync,
    SyncKind::Fdatasync,
    SyncKind::SyncFileRange,
    SyncKind::Syncfs,
    SyncKind::Sync,
];

fn sync_code(k: SyncKind) -> u8 {
    SYNC_KINDS
        .iter()
        .position(|&x| x == k)
        .map_or(0, |i| i as u8 + 1)
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
