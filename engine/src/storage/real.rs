//! The storage seam over a real directory: paths are relative to its root and never leave it,
//! `fsync` is `File::sync_all`, `fsync_dir` syncs the directory itself.
use super::{check, Storage};
use std::fs::{File, OpenOptions};
use std::io::{self, Write};
use std::path::{Path, PathBuf};

/// A real directory: `fsync` is `File::sync_all`, `fsync_dir` syncs the directory itself.
#[derive(Debug, Clone)]
pub struct RealDir {
    root: PathBuf,
}

impl RealDir {
    /// Storage rooted at `root` (created if missing).
    pub fn new(root: impl Into<PathBuf>) -> io::Result<RealDir> {
        let root = root.into();
        std::fs::create_dir_all(&root)?;
        Ok(RealDir { root })
    }

    /// Storage rooted at an existing directory (never created: an output's parent must exist).
    pub fn existing(root: impl Into<PathBuf>) -> io::Result<RealDir> {
        let root = root.into();
        if !root.is_dir() {
            return Err(io::Error::new(
                io::ErrorKind::NotFound,
                format!("{} is not a directory", root.display()),
            ));
        }
        Ok(RealDir { root })
    }

    /// The root directory.
    pub fn root(&self) -> &Path {
        &self.root
    }

    fn at(&self, path: &str) -> io::Result<PathBuf> {
        Ok(self.root.join(check(path)?))
    }

    fn dir_at(&self, dir: &str) -> io::Result<PathBuf> {
        if dir.is_empty() {
            Ok(self.root.clone())
        } else {
            self.at(dir)
        }
    }
}

impl Storage for RealDir {
    fn create(&mut self, path: &str) -> io::Result<()> {
        File::create(self.at(path)?).map(drop)
    }

    fn create_new(&mut self, path: &str) -> io::Result<()> {
        // O_CREAT | O_EXCL: fails on any existing name, a symbolic link included.
        OpenOptions::new()
            .write(true)
            .create_new(true)
            .open(self.at(path)?)
            .map(drop)
    }

    fn append(&mut self, path: &str, data: &[u8]) -> io::Result<()> {
        OpenOptions::new()
            .append(true)
            .open(self.at(path)?)?
            .write_all(data)
    }

    fn read(&self, path: &str) -> io::Result<Vec<u8>> {
        std::fs::read(self.at(path)?)
    }

    fn open(&self, path: &str) -> io::Result<(Box<dyn io::Read + '_>, u64)> {
        let f = File::open(self.at(path)?)?;
        let len = f.metadata()?.len();
        Ok((Box::new(f), len))
    }

    fn truncate(&mut self, path: &str, len: u64) -> io::Result<()> {
        OpenOptions::new()
            .write(true)
            .open(self.at(path)?)?
            .set_len(len)
    }

    fn fsync(&mut self, path: &str) -> io::Result<()> {
        OpenOptions::new()
            .append(true)
            .open(self.at(path)?)?
            .sync_all()
    }

    fn rename(&mut self, from: &str, to: &str) -> io::Result<()> {
        std::fs::rename(self.at(from)?, self.at(to)?)
    }

    fn remove(&mut self, path: &str) -> io::Result<()> {
        std::fs::remove_file(self.at(path)?)
    }

    fn mkdir(&mut self, dir: &str) -> io::Result<()> {
        std::fs::create_dir_all(self.at(dir)?)
    }

    fn fsync_dir(&mut self, dir: &str) -> io::Result<()> {
        File::open(self.dir_at(dir)?)?.sync_all()
    }

    fn list(&self, dir: &str) -> io::Result<Vec<String>> {
        let mut v = Vec::new();
        for e in std::fs::read_dir(self.dir_at(dir)?)? {
            let e = e?;
            if e.file_type()?.is_file() {
                v.push(e.file_name().to_string_lossy().into_owned());
            }
        }
        v.sort();
        Ok(v)
    }

    fn exists(&self, path: &str) -> bool {
        self.at(path).is_ok_and(|p| p.is_file())
    }
}
