//! The storage seam: the file operations persistence needs, with durability explicit (`fsync` of a
//! file, `fsync_dir` of a directory's entries), over a real directory ([`RealDir`]) or a simulated
//! disk with faults and crash images ([`SimDisk`]), and the one atomic file replacement.
mod real;
mod sim;

pub use real::RealDir;
pub use sim::{CrashImage, Op, SimDisk};

use std::io;
use std::path::{Component, Path};

/// Files under one root. Writes are not durable until `fsync` (contents) and `fsync_dir` (the
/// entry: a create, rename or remove) say so; a crash may lose anything else.
pub trait Storage {
    /// Creates `path` empty, truncating it if it exists.
    fn create(&mut self, path: &str) -> io::Result<()>;
    /// Creates `path` empty; fails if anything (a file, a link) is there already.
    fn create_new(&mut self, path: &str) -> io::Result<()>;
    /// Appends to an existing file.
    fn append(&mut self, path: &str, data: &[u8]) -> io::Result<()>;
    /// The whole file.
    fn read(&self, path: &str) -> io::Result<Vec<u8>>;
    /// The file as a stream, with its length (for inputs larger than memory).
    fn open(&self, path: &str) -> io::Result<(Box<dyn io::Read + '_>, u64)>;
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

/// A `&mut` to a storage is a storage (so an [`AtomicWriter`] may own or borrow one).
impl<T: Storage + ?Sized> Storage for &mut T {
    fn create(&mut self, path: &str) -> io::Result<()> {
        (**self).create(path)
    }
    fn create_new(&mut self, path: &str) -> io::Result<()> {
        (**self).create_new(path)
    }
    fn append(&mut self, path: &str, data: &[u8]) -> io::Result<()> {
        (**self).append(path, data)
    }
    fn read(&self, path: &str) -> io::Result<Vec<u8>> {
        (**self).read(path)
    }
    fn open(&self, path: &str) -> io::Result<(Box<dyn io::Read + '_>, u64)> {
        (**self).open(path)
    }
    fn truncate(&mut self, path: &str, len: u64) -> io::Result<()> {
        (**self).truncate(path, len)
    }
    fn fsync(&mut self, path: &str) -> io::Result<()> {
        (**self).fsync(path)
    }
    fn rename(&mut self, from: &str, to: &str) -> io::Result<()> {
        (**self).rename(from, to)
    }
    fn remove(&mut self, path: &str) -> io::Result<()> {
        (**self).remove(path)
    }
    fn mkdir(&mut self, dir: &str) -> io::Result<()> {
        (**self).mkdir(dir)
    }
    fn fsync_dir(&mut self, dir: &str) -> io::Result<()> {
        (**self).fsync_dir(dir)
    }
    fn list(&self, dir: &str) -> io::Result<Vec<String>> {
        (**self).list(dir)
    }
    fn exists(&self, path: &str) -> bool {
        (**self).exists(path)
    }
}

/// The directory part of a relative path (`""` for the root).
pub fn parent(path: &str) -> &str {
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

/// How far an atomic write got before it failed.
#[derive(Debug)]
pub enum Atomic {
    /// Nothing is in place (the temp file was removed): the old file stands.
    NotRenamed(io::Error),
    /// The new file is in place but its directory entry may not be durable.
    Renamed(io::Error),
}

impl From<Atomic> for io::Error {
    fn from(a: Atomic) -> io::Error {
        match a {
            Atomic::NotRenamed(e) | Atomic::Renamed(e) => e,
        }
    }
}

fn join(dir: &str, name: &str) -> String {
    if dir.is_empty() {
        name.to_owned()
    } else {
        format!("{dir}/{name}")
    }
}

/// The one way a file is replaced: written to a temp file created exclusively beside it (never
/// following a link planted at that name), fsynced, renamed over the target, the directory fsynced.
/// Bytes are buffered and appended in large steps; dropped before [`AtomicWriter::commit`], the
/// temp file is removed and the target was never touched.
pub struct AtomicWriter<S: Storage> {
    st: S,
    dir: String,
    path: String,
    temp: String,
    buf: Vec<u8>,
    done: bool,
}

const STEP: usize = 1 << 20;

impl<S: Storage> AtomicWriter<S> {
    /// Starts replacing `dir/name` through the temp file `dir/temp` (which must not exist);
    /// `st` is a storage or a `&mut` to one.
    pub fn begin(mut st: S, dir: &str, name: &str, temp: &str) -> io::Result<Self> {
        let temp = join(dir, temp);
        st.create_new(&temp)?;
        Ok(AtomicWriter {
            st,
            dir: dir.to_owned(),
            path: join(dir, name),
            temp,
            buf: Vec::new(),
            done: false,
        })
    }

    /// The temp file's path in the storage.
    pub fn temp(&self) -> &str {
        &self.temp
    }

    fn spill(&mut self) -> io::Result<()> {
        if !self.buf.is_empty() {
            self.st.append(&self.temp, &self.buf)?;
            self.buf.clear();
        }
        Ok(())
    }

    /// Makes the new content durable and puts it in place.
    pub fn commit(mut self) -> Result<(), Atomic> {
        let put = |w: &mut Self| -> io::Result<()> {
            w.spill()?;
            w.st.fsync(&w.temp)?;
            w.st.rename(&w.temp, &w.path)
        };
        if let Err(e) = put(&mut self) {
            return Err(Atomic::NotRenamed(e));
        }
        self.done = true;
        self.st.fsync_dir(&self.dir).map_err(Atomic::Renamed)
    }
}

impl<S: Storage> io::Write for AtomicWriter<S> {
    fn write(&mut self, b: &[u8]) -> io::Result<usize> {
        self.buf.extend_from_slice(b);
        if self.buf.len() >= STEP {
            self.spill()?;
        }
        Ok(b.len())
    }
    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

impl<S: Storage> Drop for AtomicWriter<S> {
    fn drop(&mut self) {
        if !self.done {
            // As Redis unlinks its temp file when a save fails.
            let _ = self.st.remove(&self.temp);
        }
    }
}

/// Writes `bytes` as `dir/name` through an [`AtomicWriter`] with Redis's temp name
/// (`temp-<name>`); a temp file left by a crash is removed first.
pub fn write_atomic<S: Storage>(
    st: &mut S,
    dir: &str,
    name: &str,
    bytes: &[u8],
) -> Result<(), Atomic> {
    let temp = format!("temp-{name}");
    if st.exists(&join(dir, &temp)) {
        st.remove(&join(dir, &temp)).map_err(Atomic::NotRenamed)?;
    }
    let mut w = AtomicWriter::begin(&mut *st, dir, name, &temp).map_err(Atomic::NotRenamed)?;
    io::Write::write_all(&mut w, bytes).map_err(Atomic::NotRenamed)?;
    w.commit()
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
