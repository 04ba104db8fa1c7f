//! Turns a trace into the state-changing events both crash models replay (names, files, bytes)
//! and the completed flushes; checks on the way that the trace explains the sizes it recorded.
pub use crate::event::{Event, FileId};
use crate::trace::{FdKind, LostReason, Op, Record, SyncKind, AT_REMOVEDIR};
use crate::tree::Tree;
use crate::Trace;
use std::collections::BTreeMap;
use std::fmt;

/// What a completed flush made durable.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SyncTarget {
    /// One file's bytes and size (fsync, fdatasync).
    File(FileId),
    /// A directory's entries (fsync of a directory descriptor), by path.
    Dir(String),
    /// Everything (syncfs, sync, and the initial state).
    All,
}

/// A flush that returned success: durable is the state before event `begin`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Sync {
    /// Number of events before the flush started.
    pub begin: usize,
    /// What it covered.
    pub target: SyncTarget,
    /// Which call (sync_file_range counts for nothing).
    pub kind: SyncKind,
    /// Index of the record that started it.
    pub record: usize,
}

/// A trace normalised for replay.
#[derive(Debug, Clone, Default)]
pub struct Replay<'a> {
    /// State changes in order.
    pub events: Vec<Event<'a>>,
    /// Completed flushes, in order of completion.
    pub syncs: Vec<Sync>,
    /// Number of files ever created or found.
    pub files: usize,
    /// The last path each file had (for descriptions).
    pub names: Vec<String>,
    /// Things that are odd but do not stop the replay (e.g. a dead lock holder).
    pub warnings: Vec<String>,
}

/// Why a trace cannot be replayed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BuildError {
    /// Index of the record at fault.
    pub record: usize,
    /// What is wrong.
    pub message: String,
}

impl fmt::Display for BuildError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "record {}: {}", self.record, self.message)
    }
}

impl std::error::Error for BuildError {}

fn text(p: &[u8], record: usize) -> Result<String, BuildError> {
    String::from_utf8(p.to_vec()).map_err(|_| BuildError {
        record,
        message: format!("path {p:?} is not UTF-8"),
    })
}

#[derive(Clone)]
enum Bound {
    File(FileId),
    Dir(String),
}

/// Normalises `trace` into events. Records before the first non-initial record that are
/// `InitDir`/`InitFile` form the initial state, which counts as durable.
pub fn replay<'a>(trace: &'a Trace) -> Result<Replay<'a>, BuildError> {
    let mut out = Replay::default();
    let mut tree = Tree::default();
    let mut bound: BTreeMap<u64, Bound> = BTreeMap::new();
    let mut pending: BTreeMap<u64, (usize, SyncTarget, usize)> = BTreeMap::new();
    let mut in_init = true;
    for (i, r) in trace.records.iter().enumerate() {
        let err = |message: String| BuildError { record: i, message };
        let is_init = matches!(r.op, Op::InitDir { .. } | Op::InitFile { .. });
        if in_init && !is_init {
            in_init = false;
            let begin = out.events.len();
            out.syncs.push(Sync {
                begin,
                target: SyncTarget::All,
                kind: SyncKind::Sync,
                record: i,
            });
        }
        if r.ret < 0 && !matches!(r.op, Op::SyncEnd { .. } | Op::Lost { .. }) {
            continue; // a failed call changed nothing
        }
        let push = |out: &mut Replay<'a>, tree: &mut Tree, e: Event<'a>| push(out, tree, e, i);
        match &r.op {
            Op::Start { .. } | Op::Close { .. } => {}
            Op::InitDir { path } => push(&mut out, &mut tree, Event::Mkdir(text(path, i)?))?,
            Op::InitFile { path, data } => {
                let (path, id) = (text(path, i)?, new_file(&mut out, &text(path, i)?));
                push(&mut out, &mut tree, Event::Create(path, id))?;
                push(&mut out, &mut tree, Event::Write(id, 0, data))?;
            }
            Op::Open {
                path,
                ino,
                flags,
                kind,
                size,
                ..
            } => {
                let path = text(path, i)?;
                match kind {
                    FdKind::Dir => {
                        bound.insert(*ino, Bound::Dir(path));
                    }
                    FdKind::Other => {}
                    FdKind::File => {
                        let id = match tree.file(&path) {
                            Some(id) => {
                                let writable = flags & 3 != 0;
                                if flags & 0o1000 != 0 && writable && tree.len(id) > 0 {
                                    push(&mut out, &mut tree, Event::Truncate(id, 0))?;
                                }
                                id
                            }
                            None if flags & 0o100 != 0 => {
                                let id = new_file(&mut out, &path);
                                push(&mut out, &mut tree, Event::Create(path.clone(), id))?;
                                id
                            }
                            None => return Err(err(format!("opened {path:?}, which the trace never made (was the initial state recorded?)"))),
                        };
                        out.names[id] = path.clone();
                        check_size(&mut out, &tree, id, *size, i, "open");
                        bound.insert(*ino, Bound::File(id));
                    }
                }
            }
            Op::Write {
                ino, offset, data, ..
            } => {
                let id = file_of(&bound, *ino)
                    .ok_or_else(|| err(format!("write to unknown inode {ino}")))?;
                push(&mut out, &mut tree, Event::Write(id, *offset, data))?;
            }
            Op::Truncate { ino, path, len } => {
                let id = if *ino != 0 {
                    file_of(&bound, *ino)
                } else {
                    tree.file(&text(path, i)?)
                };
                let id = id.ok_or_else(|| err("truncate of an unknown file".into()))?;
                push(&mut out, &mut tree, Event::Truncate(id, *len))?;
            }
            Op::SyncBegin {
                kind,
                ino,
                token,
                size,
            } => {
                let target = match (kind, bound.get(ino)) {
                    (SyncKind::Syncfs | SyncKind::Sync, _) => SyncTarget::All,
                    (_, Some(Bound::File(id))) => {
                        check_size(&mut out, &tree, *id, *size, i, "fsync");
                        SyncTarget::File(*id)
                    }
                    (_, Some(Bound::Dir(p))) => SyncTarget::Dir(p.clone()),
                    (_, None) => return Err(err(format!("sync of unknown inode {ino}"))),
                };
                pending.insert(*token, (out.events.len(), target, i));
            }
            Op::SyncEnd { kind, token, .. } => {
                if let Some((begin, target, record)) = pending.remove(token) {
                    if r.ret == 0 {
                        out.syncs.push(Sync {
                            begin,
                            target,
                            kind: *kind,
                            record,
                        });
                    }
                }
            }
            Op::Rename { from, to, flags } => {
                let (from, to) = (text(from, i)?, text(to, i)?);
                if flags & 2 != 0 {
                    return Err(err("RENAME_EXCHANGE is not modelled".into()));
                }
                match (from.starts_with('/'), to.starts_with('/')) {
                    (false, false) => {
                        let id = tree.file(&from);
                        if let Some(id) = id {
                            out.names[id] = to.clone();
                        }
                        push(&mut out, &mut tree, Event::Rename(from, to, id))?
                    }
                    (false, true) => push(&mut out, &mut tree, Event::Unlink(from))?,
                    _ => return Err(err(format!("{from:?} was moved in from outside the dir"))),
                }
            }
            Op::Unlink { path, flags } => {
                let path = text(path, i)?;
                let e = if flags & AT_REMOVEDIR != 0 {
                    Event::Rmdir(path)
                } else {
                    Event::Unlink(path)
                };
                push(&mut out, &mut tree, e)?;
            }
            Op::Mkdir { path, .. } => push(&mut out, &mut tree, Event::Mkdir(text(path, i)?))?,
            Op::Lost {
                reason: LostReason::OwnerDied,
                ..
            } => out
                .warnings
                .push(format!("record {i}: a process died holding the trace lock")),
            Op::Lost { reason, detail } => {
                return Err(err(format!(
                    "the recorder lost an operation ({reason:?}, {detail})"
                )))
            }
        }
    }
    if in_init {
        let begin = out.events.len();
        let record = trace.records.len();
        out.syncs.push(Sync {
            begin,
            target: SyncTarget::All,
            kind: SyncKind::Sync,
            record,
        });
    }
    Ok(out)
}

fn push<'a>(
    out: &mut Replay<'a>,
    tree: &mut Tree,
    e: Event<'a>,
    record: usize,
) -> Result<(), BuildError> {
    tree.apply(&e).map_err(|why| BuildError {
        record,
        message: format!("{why}: the trace does not explain the disk"),
    })?;
    out.events.push(e);
    Ok(())
}

fn new_file(out: &mut Replay<'_>, path: &str) -> FileId {
    out.files += 1;
    out.names.push(path.to_string());
    out.files - 1
}

fn file_of(bound: &BTreeMap<u64, Bound>, ino: u64) -> Option<FileId> {
    match bound.get(&ino) {
        Some(Bound::File(id)) => Some(*id),
        _ => None,
    }
}

/// The recorder notes a file's size at open and fsync; a mismatch means bytes reached the file
/// that the trace does not hold (or the other way round).
fn check_size(out: &mut Replay<'_>, tree: &Tree, id: FileId, size: u64, record: usize, when: &str) {
    let model = tree.len(id);
    if model != size {
        let name = &out.names[id];
        out.warnings.push(format!(
            "record {record}: {name} is {size} bytes at {when}, the trace explains {model}"
        ));
    }
}

/// The records as one line each, for reports and debugging.
pub fn describe(r: &Record) -> String {
    let s = |p: &[u8]| String::from_utf8_lossy(p).into_owned();
    let op = match &r.op {
        Op::Start { ppid, dir } => format!("start ppid={ppid} dir={}", s(dir)),
        Op::Open {
            path, ino, flags, ..
        } => format!("open {} flags={flags:#o} ino={ino}", s(path)),
        Op::Close { ino } => format!("close ino={ino}"),
        Op::Write {
            ino,
            offset,
            data,
            from_stdio,
        } => {
            let via = if *from_stdio { " (stdio)" } else { "" };
            format!("write ino={ino} offset={offset} len={}{via}", data.len())
        }
        Op::Truncate { ino, path, len } => format!("truncate ino={ino} {} len={len}", s(path)),
        Op::SyncBegin {
            kind,
            ino,
            token,
            size,
        } => format!("{kind:?} begin ino={ino} #{token} size={size}"),
        Op::SyncEnd { kind, ino, token } => format!("{kind:?} end ino={ino} #{token}"),
        Op::Rename { from, to, .. } => format!("rename {} -> {}", s(from), s(to)),
        Op::Unlink { path, flags } => format!("unlink {} flags={flags:#x}", s(path)),
        Op::Mkdir { path, mode } => format!("mkdir {} mode={mode:#o}", s(path)),
        Op::InitDir { path } => format!("initial dir {}", s(path)),
        Op::InitFile { path, data } => format!("initial file {} ({} bytes)", s(path), data.len()),
        Op::Lost { reason, detail } => format!("lost {reason:?} {detail}"),
    };
    format!("[{}] {op} = {}", r.pid, r.ret)
}
