//! What crash images are made of: the models, a directory's state in memory (and on disk), an
//! image with what it drops, and the helpers both models use to describe and sample events.
use crate::replay::{Event, Replay};
use crate::tree::Tree;
use redis_persist_engine::rng::Rng;
use std::collections::{BTreeMap, BTreeSet};
use std::fs;
use std::io;
use std::path::Path;

/// Which file-system behaviour a power loss is judged under.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Model {
    /// Pessimistic POSIX: bytes are durable only up to a file's last fsync/fdatasync, a name
    /// (create, rename, unlink, mkdir) only after its directory's fsync; the rest may be lost.
    Posix,
    /// ext4 `data=ordered`-like: the state after some prefix of all operations that includes
    /// everything before the last completed flush, its last write possibly torn.
    Ordered,
}

impl Model {
    /// The model's name as the command line spells it.
    pub fn name(self) -> &'static str {
        match self {
            Model::Posix => "posix",
            Model::Ordered => "ordered",
        }
    }
}

/// A directory's content: subdirectories and files by relative path (`/`-separated).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct DirState {
    /// Every directory below the root.
    pub dirs: BTreeSet<String>,
    /// Every regular file and its bytes.
    pub files: BTreeMap<String, Vec<u8>>,
}

impl DirState {
    /// Reads a real directory (regular files and directories; anything else is an error).
    pub fn read(root: &Path) -> io::Result<DirState> {
        let mut s = DirState::default();
        let mut todo = vec![String::new()];
        while let Some(rel) = todo.pop() {
            for entry in fs::read_dir(root.join(&rel))? {
                let entry = entry?;
                let name = entry.file_name().into_string().map_err(|n| {
                    io::Error::new(io::ErrorKind::InvalidData, format!("non-UTF-8 name {n:?}"))
                })?;
                let path = if rel.is_empty() {
                    name
                } else {
                    format!("{rel}/{name}")
                };
                let ty = entry.file_type()?;
                if ty.is_dir() {
                    s.dirs.insert(path.clone());
                    todo.push(path);
                } else if ty.is_file() {
                    s.files.insert(path, fs::read(entry.path())?);
                } else {
                    let msg = format!("{path}: neither a file nor a directory");
                    return Err(io::Error::new(io::ErrorKind::InvalidData, msg));
                }
            }
        }
        Ok(s)
    }

    /// Creates this state in `into`, which must not exist or be empty.
    pub fn write_to(&self, into: &Path) -> io::Result<()> {
        fs::create_dir_all(into)?;
        if fs::read_dir(into)?.next().is_some() {
            let msg = format!("{} is not empty", into.display());
            return Err(io::Error::new(io::ErrorKind::AlreadyExists, msg));
        }
        for d in &self.dirs {
            fs::create_dir_all(into.join(d))?;
        }
        for (p, bytes) in &self.files {
            fs::write(into.join(p), bytes)?;
        }
        Ok(())
    }

    /// Differences from `other`, one line each (empty when equal).
    pub fn diff(&self, other: &DirState) -> Vec<String> {
        let mut out = Vec::new();
        for d in self.dirs.symmetric_difference(&other.dirs) {
            let side = if self.dirs.contains(d) {
                "only left"
            } else {
                "only right"
            };
            out.push(format!("dir {d}: {side}"));
        }
        let names: BTreeSet<&String> = self.files.keys().chain(other.files.keys()).collect();
        for n in names {
            match (self.files.get(n), other.files.get(n)) {
                (Some(a), Some(b)) if a != b => {
                    let at = a
                        .iter()
                        .zip(b)
                        .position(|(x, y)| x != y)
                        .unwrap_or(a.len().min(b.len()));
                    out.push(format!(
                        "file {n}: {} vs {} bytes, first difference at {at}",
                        a.len(),
                        b.len()
                    ));
                }
                (Some(_), None) => out.push(format!("file {n}: only left")),
                (None, Some(_)) => out.push(format!("file {n}: only right")),
                _ => {}
            }
        }
        out
    }

    pub(crate) fn from_tree(names: &Tree, content: impl Fn(usize) -> Vec<u8>) -> DirState {
        let files = names
            .names
            .iter()
            .map(|(p, &id)| (p.clone(), content(id)))
            .collect();
        DirState {
            dirs: names.dirs.clone(),
            files,
        }
    }
}

/// One possible on-disk state after a power loss.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Image {
    /// The model it is possible under.
    pub model: Model,
    /// Short name: `all-kept`, `all-unsynced-lost`, `torn-N`, `random-N`.
    pub name: String,
    /// What it drops or keeps, one sentence each.
    pub description: Vec<String>,
    /// The directory's content.
    pub state: DirState,
}

impl Image {
    /// Creates the image's files and directories in `into` (which must not exist or be empty).
    pub fn materialize(&self, into: &Path) -> io::Result<()> {
        self.state.write_to(into)
    }
}

/// How many images to make beyond the fixed ones.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Options {
    /// At most this many torn-tail images.
    pub torn: usize,
    /// This many seeded random images.
    pub samples: usize,
    /// Seed of the random images.
    pub seed: u64,
}

impl Default for Options {
    fn default() -> Options {
        Options {
            torn: 8,
            samples: 8,
            seed: 1,
        }
    }
}

/// One line for an event, naming files by their last path.
pub(crate) fn show(e: &Event<'_>, rp: &Replay<'_>) -> String {
    match e {
        Event::Mkdir(p) => format!("mkdir {p}"),
        Event::Create(p, _) => format!("create {p}"),
        Event::Rename(a, b, _) => format!("rename {a} -> {b}"),
        Event::Unlink(p) => format!("unlink {p}"),
        Event::Rmdir(p) => format!("rmdir {p}"),
        Event::Write(id, off, d) => {
            format!("write {} bytes at {off} of {}", d.len(), rp.names[*id])
        }
        Event::Truncate(id, n) => format!("truncate {} to {n}", rp.names[*id]),
    }
}

/// Lists at most `max` lines, then how many were left out.
pub(crate) fn capped(mut lines: Vec<String>, max: usize) -> Vec<String> {
    if lines.len() > max {
        let more = lines.len() - max;
        lines.truncate(max);
        lines.push(format!("... and {more} more"));
    }
    lines
}

/// Uniform in `lo..=hi` (`lo` when `hi < lo`).
pub(crate) fn range(rng: &mut Rng, lo: u64, hi: u64) -> u64 {
    if hi <= lo {
        lo
    } else {
        lo + rng.below(hi - lo + 1)
    }
}

/// A fair coin.
pub(crate) fn coin(rng: &mut Rng) -> bool {
    rng.next_u64() & 1 == 1
}
