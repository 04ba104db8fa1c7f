//! The safety policy of every verb, enforced here and nowhere else. Inputs are opened once,
//! read-only, and read as streams (pipes, FIFOs and process substitutions included). Outputs are
//! built beside their target through the storage seam's atomic writer (an exclusive temp file
//! that never follows a link, fsynced, renamed, its directory fsynced); an existing output is
//! refused unless `--force`, and never replaces an input. Only `check --fix` changes an input, in
//! `check_aof.rs`, and it keeps what it cuts.
use indicatif::{ProgressBar, ProgressStyle};
use redis_persist_engine::aof::looks_like_manifest;
use redis_persist_engine::storage::{Atomic, AtomicWriter, RealDir};
use std::fs::File;
use std::io::{self, IsTerminal, Read, Write};
use std::path::{Path, PathBuf};

/// Why a verb stops before its work: a usage problem (exit 2) or a refusal (exit 1).
#[derive(Debug)]
pub enum Stop {
    /// Bad arguments, an unreadable path, an output that may not be written.
    Usage(String),
    /// The work was refused (an unsafe or impossible request about the data).
    Refused(String),
}

impl Stop {
    /// Prints the reason and gives the exit code.
    pub fn exit(self) -> std::process::ExitCode {
        let (msg, code) = match self {
            Stop::Usage(m) => (m, 2),
            Stop::Refused(m) => (m, 1),
        };
        crate::note!("redis-persist: {msg}");
        std::process::ExitCode::from(code)
    }
}

/// What an input holds, told from its first bytes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Shape {
    /// `REDIS` or `VALKEY`: an RDB, or an AOF with an RDB preamble.
    Rdb,
    /// RESP commands or `#` annotations.
    Aof,
    /// Dataset JSON.
    Json,
    /// A Redis 7 manifest.
    Manifest,
    /// An appendonly directory.
    Directory,
    /// Anything else (read as an RDB, which will say why it is not one).
    Unknown,
}

/// Inputs smaller than this finish before a progress bar would be worth drawing.
const PROGRESS_MIN: u64 = 64 << 20;

/// An opened input.
pub struct Input {
    /// What it holds.
    pub shape: Shape,
    /// Its length, when it is a regular file.
    pub len: Option<u64>,
    reader: Option<Box<dyn Read>>,
    progress: Option<ProgressBar>,
}

struct Counting<R> {
    inner: R,
    bar: ProgressBar,
}

impl<R: Read> Read for Counting<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let n = self.inner.read(buf)?;
        self.bar.inc(n as u64);
        Ok(n)
    }
}

fn sniff(head: &[u8]) -> Shape {
    if head.starts_with(b"REDIS") || head.starts_with(b"VALKEY") {
        Shape::Rdb
    } else if head.iter().find(|b| !b.is_ascii_whitespace()) == Some(&b'{') {
        Shape::Json
    } else if looks_like_manifest(head) {
        Shape::Manifest
    } else if matches!(head.first(), Some(b'*' | b'#')) || head.is_empty() {
        Shape::Aof
    } else {
        Shape::Unknown
    }
}

impl Input {
    /// Opens `path` once, read-only (`-`: standard input) and peeks at its first bytes, which
    /// the stream then gives again.
    pub fn open(path: &Path) -> Result<Input, Stop> {
        let usage = |e: io::Error| Stop::Usage(format!("cannot open {}: {e}", path.display()));
        if path.as_os_str() != "-" && path.is_dir() {
            return Ok(Input {
                shape: Shape::Directory,
                len: None,
                reader: None,
                progress: None,
            });
        }
        let (mut raw, len): (Box<dyn Read>, Option<u64>) = if path.as_os_str() == "-" {
            (Box::new(io::stdin()), None)
        } else {
            let f = File::open(path).map_err(usage)?;
            let meta = f.metadata().map_err(usage)?;
            let len = meta.is_file().then_some(meta.len());
            (Box::new(f), len)
        };
        // 4 KiB tell a manifest from an AOF; a stream gives back what was peeked.
        let mut head = Vec::with_capacity(4096);
        (&mut raw)
            .take(4096)
            .read_to_end(&mut head)
            .map_err(usage)?;
        let shape = sniff(&head);
        let mut reader: Box<dyn Read> = Box::new(io::Cursor::new(head).chain(raw));
        let mut progress = None;
        if len.is_some_and(|l| l >= PROGRESS_MIN) && io::stderr().is_terminal() {
            let bar = ProgressBar::new(len.unwrap_or(0));
            if let Ok(style) = ProgressStyle::with_template(
                "{spinner} {bytes}/{total_bytes} {bar:40} {bytes_per_sec} eta {eta}",
            ) {
                bar.set_style(style);
            }
            reader = Box::new(Counting {
                inner: reader,
                bar: bar.clone(),
            });
            progress = Some(bar);
        }
        Ok(Input {
            shape,
            len,
            reader: Some(reader),
            progress,
        })
    }

    /// The stream (once; a directory has none).
    pub fn take_reader(&mut self) -> Box<dyn Read> {
        self.reader.take().unwrap_or_else(|| Box::new(io::empty()))
    }

    /// Whether the input is a file on disk that can be opened again by name (a manifest's
    /// directory, or an AOF's files, are read through their paths).
    pub fn is_regular(&self) -> bool {
        self.len.is_some()
    }

    /// Clears the progress bar.
    pub fn done(&self) {
        if let Some(p) = &self.progress {
            p.finish_and_clear();
        }
    }
}

/// Whether `a` and `b` name the same file or directory, or one lies inside the other.
fn overlaps(a: &Path, b: &Path) -> bool {
    let (Ok(a), Ok(b)) = (a.canonicalize(), b.canonicalize()) else {
        return false;
    };
    a.starts_with(&b) || b.starts_with(&a)
}

/// Checks that `out` may be written: not an input (nor inside one, nor holding one), and not
/// existing unless `force`. `Ok(true)` when something is there and will be replaced.
fn may_write(out: &Path, force: bool, inputs: &[&Path]) -> Result<bool, Stop> {
    for i in inputs {
        if i.as_os_str() != "-" && overlaps(out, i) {
            return Err(Stop::Usage(format!(
                "{} is (or holds, or lies in) the input {}: an input is never overwritten",
                out.display(),
                i.display()
            )));
        }
    }
    let exists = out.symlink_metadata().is_ok();
    let nonempty_dir = out.is_dir() && std::fs::read_dir(out).is_ok_and(|mut d| d.next().is_some());
    if exists && !force && (nonempty_dir || !out.is_dir()) {
        return Err(Stop::Usage(format!(
            "{} exists; pass --force to replace it",
            out.display()
        )));
    }
    Ok(exists)
}

fn parent_and_name(out: &Path) -> Result<(PathBuf, String), Stop> {
    let name = out
        .file_name()
        .and_then(|n| n.to_str())
        .ok_or_else(|| Stop::Usage(format!("{}: not a plain file name", out.display())))?;
    let parent = match out.parent() {
        Some(p) if !p.as_os_str().is_empty() => p.to_path_buf(),
        _ => PathBuf::from("."),
    };
    Ok((parent, name.to_owned()))
}

fn temp_name(name: &str) -> String {
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.subsec_nanos());
    format!(".{name}.tmp-{}-{nanos:x}", std::process::id())
}

/// An output file (or standard output for `-`).
pub enum Output {
    /// Standard output.
    Stdout(crate::out::Stdout),
    /// A file, written through the atomic writer.
    File {
        /// The writer.
        w: Box<AtomicWriter<RealDir>>,
        /// The mode of the file it replaces, kept.
        mode: Option<std::fs::Permissions>,
        /// The temp file's full path.
        temp: PathBuf,
    },
}

impl Output {
    /// Opens `out` for writing under the policy.
    pub fn create(out: &Path, force: bool, inputs: &[&Path]) -> Result<Output, Stop> {
        if out.as_os_str() == "-" {
            return Ok(Output::Stdout(crate::out::Stdout::new()));
        }
        if out.is_dir() {
            return Err(Stop::Usage(format!("{} is a directory", out.display())));
        }
        let replacing = may_write(out, force, inputs)?;
        let mode = replacing
            .then(|| std::fs::metadata(out).ok().map(|m| m.permissions()))
            .flatten();
        let (parent, name) = parent_and_name(out)?;
        let dir = RealDir::existing(&parent)
            .map_err(|e| Stop::Usage(format!("cannot write {}: {e}", out.display())))?;
        let temp = temp_name(&name);
        let w = AtomicWriter::begin(dir, "", &name, &temp)
            .map_err(|e| Stop::Usage(format!("cannot write {}: {e}", out.display())))?;
        Ok(Output::File {
            w: Box::new(w),
            mode,
            temp: parent.join(temp),
        })
    }

    /// Puts the output in place (a file: made durable, then renamed over the target).
    pub fn commit(self) -> io::Result<()> {
        match self {
            Output::Stdout(s) => {
                s.finish();
                Ok(())
            }
            Output::File { w, mode, temp } => {
                if let Some(m) = mode {
                    std::fs::set_permissions(&temp, m)?;
                }
                w.commit().map_err(|a| match a {
                    Atomic::NotRenamed(e) | Atomic::Renamed(e) => e,
                })
            }
        }
    }
}

impl Write for Output {
    fn write(&mut self, b: &[u8]) -> io::Result<usize> {
        match self {
            Output::Stdout(s) => s.write(b),
            Output::File { w, .. } => w.write(b),
        }
    }
    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

/// An output directory, built under a temp name beside its target and renamed into place.
pub struct DirOutput {
    target: PathBuf,
    parent: PathBuf,
    temp: String,
    replacing: bool,
    done: bool,
}

impl DirOutput {
    /// Claims a temp directory beside `out` under the policy.
    pub fn create(out: &Path, force: bool, inputs: &[&Path]) -> Result<DirOutput, Stop> {
        let replacing = may_write(out, force, inputs)?;
        if out.exists() && !out.is_dir() {
            return Err(Stop::Usage(format!("{} is not a directory", out.display())));
        }
        let (parent, name) = parent_and_name(out)?;
        let temp = temp_name(&name);
        // mkdir fails on any existing name: the temp directory is ours alone.
        std::fs::create_dir(parent.join(&temp))
            .map_err(|e| Stop::Usage(format!("cannot write {}: {e}", out.display())))?;
        Ok(DirOutput {
            target: out.to_path_buf(),
            parent,
            temp,
            replacing,
            done: false,
        })
    }

    /// The storage the directory is built through (rooted at the target's parent) and the
    /// temp directory's name in it.
    pub fn storage(&self) -> io::Result<(RealDir, String)> {
        Ok((RealDir::existing(&self.parent)?, self.temp.clone()))
    }

    /// Renames the finished directory into place. An existing target (with `--force`) is moved
    /// aside first and kept, whose path is returned.
    pub fn commit(mut self) -> io::Result<Option<PathBuf>> {
        let mut kept = None;
        if self.replacing && self.target.exists() {
            let (_, name) = parent_and_name(&self.target).map_err(|_| io::Error::other("name"))?;
            let aside = self
                .parent
                .join(format!(".{name}.replaced-{}", std::process::id()));
            std::fs::rename(&self.target, &aside)?;
            kept = Some(aside);
        }
        std::fs::rename(self.parent.join(&self.temp), &self.target)?;
        self.done = true;
        File::open(&self.parent).and_then(|d| d.sync_all())?;
        Ok(kept)
    }
}

impl Drop for DirOutput {
    fn drop(&mut self) {
        if !self.done {
            let _ = std::fs::remove_dir_all(self.parent.join(&self.temp));
        }
    }
}
