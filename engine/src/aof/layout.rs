//! How an AOF is laid out: one file (Redis 6 and earlier) or a Redis 7 appendonly directory whose
//! manifest names a base and incremental files, and where those files are read from.
//!
//! A manifest holds names as bytes; they are opened as such (on Unix, non-UTF-8 names included),
//! from a real directory ([`FsDir`]) or through the storage seam ([`StorageDir`]).
use crate::format::aof::manifest::{self, Manifest};
use crate::format::error::{Error, ErrorKind, Result};
use crate::storage::Storage;
use std::io::{self, Read};
use std::path::{Path, PathBuf};

/// Where an AOF's files are read from, by the names a manifest gives them.
pub trait AofSource {
    /// Opens a file: a stream and its length.
    fn open(&self, name: &[u8]) -> io::Result<(Box<dyn Read + '_>, u64)>;
    /// The file's path, for messages and reports.
    fn path(&self, name: &[u8]) -> PathBuf;
    /// The file's path as text.
    fn display(&self, name: &[u8]) -> String {
        self.path(name).display().to_string()
    }
}

/// The name bytes as a file name.
#[cfg(unix)]
fn os_name(name: &[u8]) -> PathBuf {
    use std::os::unix::ffi::OsStrExt;
    PathBuf::from(std::ffi::OsStr::from_bytes(name))
}

#[cfg(not(unix))]
fn os_name(name: &[u8]) -> PathBuf {
    PathBuf::from(String::from_utf8_lossy(name).into_owned())
}

/// A real directory.
#[derive(Debug, Clone)]
pub struct FsDir {
    /// The directory.
    pub dir: PathBuf,
}

impl AofSource for FsDir {
    fn open(&self, name: &[u8]) -> io::Result<(Box<dyn Read + '_>, u64)> {
        let f = std::fs::File::open(self.path(name))?;
        let len = f.metadata()?.len();
        Ok((Box::new(f), len))
    }
    fn path(&self, name: &[u8]) -> PathBuf {
        self.dir.join(os_name(name))
    }
}

/// A directory of the storage seam (names must be UTF-8 there; the server only writes such).
pub struct StorageDir<'a, S> {
    /// The storage.
    pub storage: &'a S,
    /// The directory, relative to the storage's root (`""`: the root).
    pub dir: String,
}

impl<S: Storage> AofSource for StorageDir<'_, S> {
    fn open(&self, name: &[u8]) -> io::Result<(Box<dyn Read + '_>, u64)> {
        let name = std::str::from_utf8(name).map_err(|_| {
            io::Error::new(io::ErrorKind::InvalidInput, "a file name that is not UTF-8")
        })?;
        self.storage.open(&super::join(&self.dir, name))
    }
    fn path(&self, name: &[u8]) -> PathBuf {
        PathBuf::from(super::join(&self.dir, &String::from_utf8_lossy(name)))
    }
}

/// An AOF's layout, as found at a path.
#[derive(Debug, Clone)]
pub struct Layout {
    dir: PathBuf,
    manifest: Option<(PathBuf, Manifest)>,
    names: Vec<Vec<u8>>,
}

fn io_err(path: &Path, e: io::Error) -> Error {
    Error {
        kind: ErrorKind::Io,
        offset: None,
        what: "AOF file",
        detail: format!("{}: {e}", path.display()),
    }
}

fn bad(what: &'static str, detail: String) -> Error {
    Error {
        kind: ErrorKind::BadManifest,
        offset: None,
        what,
        detail,
    }
}

/// Whether the start of a file looks like a manifest: the first line that is not a comment
/// starts with `file`.
pub fn looks_like_manifest(head: &[u8]) -> bool {
    head.split(|&b| b == b'\n')
        .find(|l| !l.starts_with(b"#"))
        .is_some_and(|l| l.trim_ascii_start().starts_with(b"file "))
}

/// Manifests are small; a file whose first 4 KiB do not look like one is an AOF.
const HEAD: u64 = 4096;

impl Layout {
    /// Finds the layout at `path`: a directory holding one manifest, a manifest, or a single file.
    /// Reads at most the first 4 KiB of a file to tell which.
    pub fn find(path: &Path) -> Result<Layout> {
        let manifest_path = if path.is_dir() {
            let mut found: Vec<PathBuf> = std::fs::read_dir(path)
                .map_err(|e| io_err(path, e))?
                .flatten()
                .map(|e| e.path())
                .filter(|p| p.extension().is_some_and(|x| x == "manifest"))
                .collect();
            found.sort();
            match found.len() {
                1 => found.remove(0),
                0 => {
                    return Err(bad(
                        "AOF directory",
                        format!("no *.manifest in {}", path.display()),
                    ))
                }
                _ => {
                    return Err(bad(
                        "AOF directory",
                        format!("several manifests in {}: name one", path.display()),
                    ))
                }
            }
        } else {
            let mut head = Vec::new();
            std::fs::File::open(path)
                .and_then(|f| f.take(HEAD).read_to_end(&mut head))
                .map_err(|e| io_err(path, e))?;
            if !looks_like_manifest(&head) {
                let name = path.file_name().map(os_bytes).unwrap_or_default();
                return Ok(Layout {
                    dir: path.parent().unwrap_or(Path::new(".")).to_path_buf(),
                    manifest: None,
                    names: vec![name],
                });
            }
            path.to_path_buf()
        };
        let text = std::fs::read(&manifest_path).map_err(|e| io_err(&manifest_path, e))?;
        let parsed = manifest::parse(&text)?;
        let names = parsed
            .base
            .iter()
            .chain(&parsed.incr)
            .map(|e| e.name.clone())
            .collect();
        Ok(Layout {
            dir: manifest_path
                .parent()
                .unwrap_or(Path::new("."))
                .to_path_buf(),
            manifest: Some((manifest_path, parsed)),
            names,
        })
    }

    /// The names of the files loaded, in order (history files are never loaded).
    pub fn names(&self) -> &[Vec<u8>] {
        &self.names
    }

    /// Their paths.
    pub fn files(&self) -> Vec<PathBuf> {
        let src = self.source();
        self.names.iter().map(|n| src.path(n)).collect()
    }

    /// Where the files are read from.
    pub fn source(&self) -> FsDir {
        FsDir {
            dir: self.dir.clone(),
        }
    }

    /// Whether a manifest lays the AOF out (Redis 7).
    pub fn is_multi(&self) -> bool {
        self.manifest.is_some()
    }

    /// The manifest and its path.
    pub fn manifest(&self) -> Option<(&Path, &Manifest)> {
        self.manifest.as_ref().map(|(p, m)| (p.as_path(), m))
    }
}

/// A file name's bytes.
#[cfg(unix)]
fn os_bytes(n: &std::ffi::OsStr) -> Vec<u8> {
    use std::os::unix::ffi::OsStrExt;
    n.as_bytes().to_vec()
}

#[cfg(not(unix))]
fn os_bytes(n: &std::ffi::OsStr) -> Vec<u8> {
    n.to_string_lossy().as_bytes().to_vec()
}
