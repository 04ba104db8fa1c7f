//! A simulated disk that keeps what was written apart from what was made durable (file contents by
//! `fsync`, directory entries by `fsync_dir`), fails chosen operations, and builds crash images.
//!
//! Files are inodes; names point at them, so a rename moves an inode whose contents may not yet be
//! durable (the classic "renamed before fsync" bug then shows as an empty file after a crash).
use super::{check, parent, Storage};
use std::collections::{BTreeMap, BTreeSet};
use std::io;

/// An operation kind a fault can be injected into.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Op {
    /// `append` (a failed append leaves the first half of its bytes written: a short write).
    Write,
    /// `fsync` and `fsync_dir`.
    Fsync,
    /// `rename`.
    Rename,
}

/// What survives a crash of the state that was written but not made durable.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CrashImage {
    /// Only durable state: unsynced bytes and unsynced directory changes are lost.
    LoseUnsynced,
    /// Everything written (the system flushed all of it just before power went).
    KeepWritten,
    /// Per file, the unsynced appended suffix survives up to a byte chosen from `seed`; per
    /// directory, its unsynced entry changes survive or not by a bit of `seed`.
    Torn {
        /// Chooses the cut points.
        seed: u64,
    },
}

#[derive(Debug, Clone, Default, PartialEq, Eq)]
struct Inode {
    written: Vec<u8>,
    durable: Vec<u8>,
}

/// The simulated disk. Cloning it copies the whole state.
#[derive(Debug, Clone, Default)]
pub struct SimDisk {
    inodes: Vec<Inode>,
    /// Names as written, and as of the last `fsync_dir` of their directory.
    names: BTreeMap<String, usize>,
    durable_names: BTreeMap<String, usize>,
    /// Subdirectories as written and as made durable by `fsync_dir("")`.
    dirs: BTreeSet<String>,
    durable_dirs: BTreeSet<String>,
    /// Pending faults: the kind and how many more such operations succeed first.
    faults: Vec<(Op, u32)>,
    /// Operations done, by kind: write, fsync, rename.
    counts: [u64; 3],
}

fn not_found(path: &str) -> io::Error {
    io::Error::new(io::ErrorKind::NotFound, format!("no file {path:?}"))
}

/// A 64-bit mix of `seed` and `salt` (splitmix64), for reproducible crash choices.
fn mix(seed: u64, salt: u64) -> u64 {
    let mut z = seed ^ salt.wrapping_mul(0x9e37_79b9_7f4a_7c15);
    z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    z ^ (z >> 31)
}

fn salt_of(name: &str) -> u64 {
    name.bytes().fold(0xcbf2_9ce4_8422_2325, |h, b| {
        (h ^ b as u64).wrapping_mul(0x100_0000_01b3)
    })
}

impl SimDisk {
    /// An empty disk.
    pub fn new() -> SimDisk {
        SimDisk::default()
    }

    /// Makes the `n`-th next operation of kind `op` fail (`n` = 1: the very next one).
    pub fn fail_next(&mut self, op: Op, n: u32) {
        self.faults.push((op, n.max(1)));
    }

    /// Injected faults that have not fired yet.
    pub fn pending_faults(&self) -> usize {
        self.faults.len()
    }

    /// How many operations of each kind ran (write, fsync, rename), failed ones included.
    pub fn op_counts(&self) -> [u64; 3] {
        self.counts
    }

    /// Counts an operation and says whether an injected fault makes it fail.
    fn fault(&mut self, op: Op) -> io::Result<()> {
        self.counts[op as usize] += 1;
        let mut hit = false;
        self.faults.retain_mut(|(o, n)| {
            if *o != op {
                return true;
            }
            *n -= 1;
            if *n == 0 {
                hit = true;
                return false;
            }
            true
        });
        if hit {
            Err(io::Error::other(format!("injected {op:?} failure")))
        } else {
            Ok(())
        }
    }

    fn inode(&self, path: &str) -> io::Result<usize> {
        self.names
            .get(check(path)?)
            .copied()
            .ok_or_else(|| not_found(path))
    }

    fn dir_exists(&self, dir: &str) -> bool {
        dir.is_empty() || self.dirs.contains(dir)
    }

    /// Every file as written, by path: what a live reader sees.
    pub fn files(&self) -> Vec<(String, Vec<u8>)> {
        self.names
            .iter()
            .map(|(n, &i)| (n.clone(), self.inodes[i].written.clone()))
            .collect()
    }

    /// The durable bytes of `path` under its durable name, if it has one.
    pub fn durable(&self, path: &str) -> Option<&[u8]> {
        self.durable_names
            .get(path)
            .map(|&i| self.inodes[i].durable.as_slice())
    }

    /// The disk after power loss and reboot: what survives follows `how`; the result holds only
    /// surviving state, all of it durable.
    pub fn crash(&self, how: CrashImage) -> SimDisk {
        let keep_dir_changes = |dir: &str| match how {
            CrashImage::LoseUnsynced => false,
            CrashImage::KeepWritten => true,
            CrashImage::Torn { seed } => mix(seed, salt_of(dir)) & 1 == 1,
        };
        let dirs: BTreeSet<String> = if keep_dir_changes("") {
            self.dirs.clone()
        } else {
            self.durable_dirs.clone()
        };
        let mut out = SimDisk {
            dirs: dirs.clone(),
            durable_dirs: dirs,
            ..SimDisk::default()
        };
        let mut alive = BTreeSet::new();
        for d in std::iter::once("").chain(self.dirs.iter().map(String::as_str)) {
            if !out.dir_exists(d) {
                continue;
            }
            let source = if keep_dir_changes(d) {
                &self.names
            } else {
                &self.durable_names
            };
            for (name, &ino) in source.iter().filter(|(n, _)| parent(n) == d) {
                out.names.insert(name.clone(), ino);
                alive.insert(ino);
            }
        }
        let mut renumber = BTreeMap::new();
        for ino in alive {
            let node = &self.inodes[ino];
            let survives = match how {
                CrashImage::LoseUnsynced => node.durable.clone(),
                CrashImage::KeepWritten => node.written.clone(),
                CrashImage::Torn { seed } => {
                    let r = mix(seed, ino as u64 + 1);
                    if let Some(suffix) = node.written.strip_prefix(node.durable.as_slice()) {
                        let keep = (r % (suffix.len() as u64 + 1)) as usize;
                        [node.durable.as_slice(), &suffix[..keep]].concat()
                    } else if r & 1 == 1 {
                        // Rewritten since the last fsync: the old or the new contents.
                        node.written.clone()
                    } else {
                        node.durable.clone()
                    }
                }
            };
            renumber.insert(ino, out.inodes.len());
            out.inodes.push(Inode {
                written: survives.clone(),
                durable: survives,
            });
        }
        for ino in out.names.values_mut() {
            *ino = renumber[ino];
        }
        out.durable_names = out.names.clone();
        out
    }
}

impl Storage for SimDisk {
    fn create(&mut self, path: &str) -> io::Result<()> {
        let dir = parent(check(path)?);
        if !self.dir_exists(dir) {
            return Err(not_found(dir));
        }
        // A new inode: the old one (if any) stays behind its durable name until fsync_dir.
        self.inodes.push(Inode::default());
        self.names.insert(path.to_owned(), self.inodes.len() - 1);
        Ok(())
    }

    fn create_new(&mut self, path: &str) -> io::Result<()> {
        if self.names.contains_key(check(path)?) {
            return Err(io::Error::new(
                io::ErrorKind::AlreadyExists,
                format!("{path:?} exists"),
            ));
        }
        self.create(path)
    }

    fn append(&mut self, path: &str, data: &[u8]) -> io::Result<()> {
        let ino = self.inode(path)?;
        if let Err(e) = self.fault(Op::Write) {
            let short = &data[..data.len() / 2];
            self.inodes[ino].written.extend_from_slice(short);
            return Err(e);
        }
        self.inodes[ino].written.extend_from_slice(data);
        Ok(())
    }

    fn read(&self, path: &str) -> io::Result<Vec<u8>> {
        Ok(self.inodes[self.inode(path)?].written.clone())
    }

    fn open(&self, path: &str) -> io::Result<(Box<dyn io::Read + '_>, u64)> {
        let w = &self.inodes[self.inode(path)?].written;
        Ok((Box::new(&w[..]), w.len() as u64))
    }

    fn truncate(&mut self, path: &str, len: u64) -> io::Result<()> {
        let ino = self.inode(path)?;
        let w = &mut self.inodes[ino].written;
        w.resize(len as usize, 0);
        Ok(())
    }

    fn fsync(&mut self, path: &str) -> io::Result<()> {
        let ino = self.inode(path)?;
        self.fault(Op::Fsync)?;
        let node = &mut self.inodes[ino];
        node.durable.clone_from(&node.written);
        Ok(())
    }

    fn rename(&mut self, from: &str, to: &str) -> io::Result<()> {
        let ino = self.inode(from)?;
        if !self.dir_exists(parent(check(to)?)) {
            return Err(not_found(to));
        }
        self.fault(Op::Rename)?;
        self.names.remove(from);
        self.names.insert(to.to_owned(), ino);
        Ok(())
    }

    fn remove(&mut self, path: &str) -> io::Result<()> {
        self.inode(path)?;
        self.names.remove(path);
        Ok(())
    }

    fn mkdir(&mut self, dir: &str) -> io::Result<()> {
        if check(dir)?.contains('/') {
            return Err(io::Error::new(
                io::ErrorKind::InvalidInput,
                "one level of subdirectory only",
            ));
        }
        self.dirs.insert(dir.to_owned());
        Ok(())
    }

    fn fsync_dir(&mut self, dir: &str) -> io::Result<()> {
        if !self.dir_exists(dir) {
            return Err(not_found(dir));
        }
        self.fault(Op::Fsync)?;
        self.durable_names.retain(|n, _| parent(n) != dir);
        for (n, &i) in self.names.iter().filter(|(n, _)| parent(n) == dir) {
            self.durable_names.insert(n.clone(), i);
        }
        if dir.is_empty() {
            self.durable_dirs.clone_from(&self.dirs);
        }
        Ok(())
    }

    fn list(&self, dir: &str) -> io::Result<Vec<String>> {
        if !self.dir_exists(dir) {
            return Err(not_found(dir));
        }
        let prefix_len = if dir.is_empty() { 0 } else { dir.len() + 1 };
        Ok(self
            .names
            .keys()
            .filter(|n| parent(n) == dir)
            .map(|n| n[prefix_len..].to_owned())
            .collect())
    }

    fn exists(&self, path: &str) -> bool {
        self.names.contains_key(path)
    }
}

#[cfg(test)]
#[path = "sim_tests.rs"]
mod tests;
