//! The storage seam: the file operations persistence needs, with durability explicit (`fsync` of a
//! file, `fsync_dir` of a directory's entries), implemented over a real directory by [`RealDir`].
use std::fs::{File, OpenOptions};
use std::io::{self, Write};
use std::path::{Component, Path, PathBuf};

/// Files under one root. Writes are not durable until `fsync` (contents) and `fsync_dir` (the
/// entry: a create, rename or remove) say so; a crash may lose anything else.
pub trait Storage {
    /// Creates `path` empty, truncating it if it exists.
    fn create(&mut self, path: &str) -> io::Result<()>;
    /// Appends to an existing file.
    fn append(&mut self, path: &str, data: &[u8]) -> io::Result<()>;
    /// The whole file.
    fn read(&self, path: &str) -> io::Result<Vec<u8>>;
    /// Cuts a file to `len` bytes.
    fn truncate(&mut self, path: &str, len: u64) -> io::Result<()>;
    /// Makes a file's contents durable.
    fn fsync(&mut self, path: &str) -> io::Result<()>;
    /// Atomically replaces `to` with `from`.
    fn rename(&mut self, from: &str, to: &str) -> io::Result<()>;
    /// Removes a file.
    fn remove(&mut self, path: &str) -> io::Result<()>;
    /// Creates a directory (no error if it exists).
    fn mkdir(&mut self, dir: &str) -> io::Result<()>;
    /// Makes the entries of `dir` (`""`: the root) durable.
    fn fsync_dir(&mut self, dir: &str) -> io::Result<()>;
    /// Names of the files in `dir`, sorted.
    fn list(&self, dir: &str) -> io::Result<Vec<String>>;
    /// Whether `path` names a file.
    fn exists(&self, path: &str) -> bool;
}

/// The directory part of a relative path (`""` for the root).
pub(crate) fn parent(path: &str) -> &str {
    path.rsplit_once('/').map_or("", |(d, _)| d)
}

/// Refuses absolute paths and `..`: storage never reaches outside its root.
pub(crate) fn check(path: &str) -> io::Result<&str> {
    let p = Path::new(path);
    let ok = !path.is_empty()
        && p.components().all(|c| matches!(c, Component::Normal(_)))
        && !path.ends_with('/');
    if ok {
        Ok(path)
    } else {
        Err(io::Error::new(
            io::ErrorKind::InvalidInput,
            format!("storage path {path:?} is not a plain relative path"),
        ))
    }
}

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

    fn append(&mut self, path: &str, data: &[u8]) -> io::Result<()> {
        OpenOptions::new()
            .append(true)
            .open(self.at(path)?)?
            .write_all(data)
    }

    fn read(&self, path: &str) -> io::Result<Vec<u8>> {
        std::fs::read(self.at(path)?)
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paths_stay_under_the_root() {
        for bad in ["", "/etc/passwd", "../x", "a/../../b", "dir/"] {
            assert!(check(bad).is_err(), "{bad:?} accepted");
        }
        for good in ["dump.rdb", "appendonlydir/appendonly.aof.1.incr.aof"] {
            assert_eq!(check(good).ok(), Some(good));
        }
        assert_eq!(parent("appendonlydir/x.aof"), "appendonlydir");
        assert_eq!(parent("dump.rdb"), "");
    }

    #[test]
    fn a_real_directory_does_what_the_trait_says() {
        let tmp =
            std::env::temp_dir().join(format!("redis-persist-realdir-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&tmp);
        let mut d = RealDir::new(&tmp).unwrap();
        d.mkdir("appendonlydir").unwrap();
        d.create("appendonlydir/a.aof").unwrap();
        d.append("appendonlydir/a.aof", b"*1\r\n").unwrap();
        d.append("appendonlydir/a.aof", b"$4\r\nPING\r\n").unwrap();
        d.fsync("appendonlydir/a.aof").unwrap();
        d.fsync_dir("appendonlydir").unwrap();
        assert_eq!(
            d.read("appendonlydir/a.aof").unwrap(),
            b"*1\r\n$4\r\nPING\r\n"
        );
        d.truncate("appendonlydir/a.aof", 4).unwrap();
        assert_eq!(d.read("appendonlydir/a.aof").unwrap(), b"*1\r\n");
        d.create("temp-1.rdb").unwrap();
        d.append("temp-1.rdb", b"new").unwrap();
        d.create("dump.rdb").unwrap();
        d.rename("temp-1.rdb", "dump.rdb").unwrap();
        d.fsync_dir("").unwrap();
        assert_eq!(d.read("dump.rdb").unwrap(), b"new");
        assert!(!d.exists("temp-1.rdb"));
        assert_eq!(d.list("").unwrap(), vec!["dump.rdb".to_owned()]);
        assert_eq!(d.list("appendonlydir").unwrap(), vec!["a.aof".to_owned()]);
        d.remove("dump.rdb").unwrap();
        assert!(!d.exists("dump.rdb"));
        std::fs::remove_dir_all(&tmp).unwrap();
    }
}
