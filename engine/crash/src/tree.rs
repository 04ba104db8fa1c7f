//! The in-memory file tree events are replayed over: directories, names of files, and each
//! file's bytes, kept apart from its names because Redis writes to files it renames.
use crate::event::{Event, FileId};
use std::collections::{BTreeMap, BTreeSet};

/// Largest file the replay will build (a guard against corrupt offsets, not a Redis limit).
const MAX_FILE: u64 = 1 << 36;

/// Directories (relative paths, the root `""` implied), names, and file contents.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Tree {
    /// Every directory below the root.
    pub dirs: BTreeSet<String>,
    /// Every file name and the file it names.
    pub names: BTreeMap<String, FileId>,
    /// Bytes of each file, by id (files without a name keep theirs too).
    pub data: Vec<Vec<u8>>,
}

/// The directory holding `path` (`""` for the root).
pub fn parent(path: &str) -> &str {
    path.rsplit_once('/').map_or("", |(p, _)| p)
}

impl Tree {
    /// The file `path` names, if any.
    pub fn file(&self, path: &str) -> Option<FileId> {
        self.names.get(path).copied()
    }

    /// Length of a file's bytes.
    pub fn len(&self, id: FileId) -> u64 {
        self.data.get(id).map_or(0, |d| d.len() as u64)
    }

    fn is_dir(&self, path: &str) -> bool {
        path.is_empty() || self.dirs.contains(path)
    }

    /// Applies any event.
    pub fn apply(&mut self, e: &Event<'_>) -> Result<(), String> {
        match e {
            Event::Write(..) | Event::Truncate(..) => self.apply_content(e),
            _ => self.apply_names(e),
        }
    }

    /// Applies a name event (content events are ignored); an error says why it cannot apply,
    /// e.g. because a model dropped the event that made its parent.
    pub fn apply_names(&mut self, e: &Event<'_>) -> Result<(), String> {
        let need_parent = |t: &Tree, p: &str| {
            if t.is_dir(parent(p)) {
                Ok(())
            } else {
                Err(format!("parent {:?} missing", parent(p)))
            }
        };
        match e {
            Event::Mkdir(p) => {
                need_parent(self, p)?;
                if self.is_dir(p) || self.names.contains_key(p) {
                    return Err(format!("{p:?} already exists"));
                }
                self.dirs.insert(p.clone());
            }
            Event::Create(p, id) => {
                need_parent(self, p)?;
                if self.is_dir(p) {
                    return Err(format!("{p:?} is a directory"));
                }
                self.names.insert(p.clone(), *id);
                if self.data.len() <= *id {
                    self.data.resize(id + 1, Vec::new());
                }
            }
            Event::Rename(from, to, _) => {
                need_parent(self, to)?;
                if let Some(id) = self.names.get(from).copied() {
                    if self.is_dir(to) {
                        return Err(format!("{to:?} is a directory"));
                    }
                    self.names.remove(from);
                    self.names.insert(to.clone(), id);
                } else if self.dirs.contains(from) {
                    self.rename_dir(from, to)?;
                } else {
                    return Err(format!("{from:?} missing"));
                }
            }
            Event::Unlink(p) => {
                self.names
                    .remove(p)
                    .ok_or_else(|| format!("{p:?} missing"))?;
            }
            Event::Rmdir(p) => {
                let inside = format!("{p}/");
                let busy = self
                    .names
                    .keys()
                    .chain(&self.dirs)
                    .any(|k| k.starts_with(&inside));
                if busy || !self.dirs.remove(p) {
                    return Err(format!("{p:?} missing or not empty"));
                }
            }
            Event::Write(..) | Event::Truncate(..) => {}
        }
        Ok(())
    }

    fn rename_dir(&mut self, from: &str, to: &str) -> Result<(), String> {
        let (inside, target) = (format!("{from}/"), format!("{to}/"));
        if to.starts_with(&inside) || self.names.contains_key(to) {
            return Err(format!("cannot move {from:?} to {to:?}"));
        }
        let to_busy = self
            .names
            .keys()
            .chain(&self.dirs)
            .any(|k| k.starts_with(&target));
        if to_busy {
            return Err(format!("{to:?} is not empty"));
        }
        let moved = |k: &str| format!("{to}/{}", &k[inside.len()..]);
        let dirs: Vec<String> = self
            .dirs
            .iter()
            .filter(|d| d.starts_with(&inside))
            .cloned()
            .collect();
        for d in dirs {
            self.dirs.remove(&d);
            self.dirs.insert(moved(&d));
        }
        let names: Vec<String> = self
            .names
            .keys()
            .filter(|k| k.starts_with(&inside))
            .cloned()
            .collect();
        for n in names {
            if let Some(id) = self.names.remove(&n) {
                self.names.insert(moved(&n), id);
            }
        }
        self.dirs.remove(from);
        self.dirs.insert(to.to_string());
        Ok(())
    }

    /// Applies a content event (name events are ignored).
    pub fn apply_content(&mut self, e: &Event<'_>) -> Result<(), String> {
        let (id, end) = match e {
            Event::Write(id, off, d) => (*id, off.checked_add(d.len() as u64)),
            Event::Truncate(id, len) => (*id, Some(*len)),
            _ => return Ok(()),
        };
        let end = end
            .filter(|&n| n <= MAX_FILE)
            .ok_or("file would exceed 64 GiB")?;
        if self.data.len() <= id {
            self.data.resize(id + 1, Vec::new());
        }
        let buf = &mut self.data[id];
        match e {
            Event::Write(_, off, d) => {
                if (buf.len() as u64) < end {
                    buf.resize(end as usize, 0);
                }
                buf[*off as usize..end as usize].copy_from_slice(d);
            }
            _ => buf.resize(end as usize, 0),
        }
        Ok(())
    }
}
