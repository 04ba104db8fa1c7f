//! Decoding one record: the inverse of [`Record::encode`], total (a typed error, never a panic)
//! and canonical (only the bytes `encode` would write are accepted).
use super::*;

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
    let k = SYNC_KINDS.get(usize::from(sub).wrapping_sub(1)).copied();
    k.ok_or(RecordError::BadField("sync kind"))
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
