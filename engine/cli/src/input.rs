//! Opening inputs for the CLI: files or standard input, with a progress bar on long reads when
//! stderr is a terminal.
use indicatif::{ProgressBar, ProgressStyle};
use std::fs::File;
use std::io::{self, IsTerminal, Read};
use std::path::Path;

/// Inputs smaller than this finish before a progress bar would be worth drawing.
const PROGRESS_MIN: u64 = 64 << 20;

/// An opened input: the reader, its length when known, and an optional progress bar.
pub struct Input {
    pub reader: Box<dyn Read>,
    pub len: Option<u64>,
    pub progress: Option<ProgressBar>,
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

/// Opens `path` ("-" for stdin).
pub fn open(path: &Path) -> io::Result<Input> {
    if path.as_os_str() == "-" {
        return Ok(Input {
            reader: Box::new(io::stdin().lock()),
            len: None,
            progress: None,
        });
    }
    let f = File::open(path)?;
    let len = f.metadata()?.len();
    if len >= PROGRESS_MIN && io::stderr().is_terminal() {
        let bar = ProgressBar::new(len);
        bar.set_style(
            ProgressStyle::with_template(
                "{spinner} {bytes}/{total_bytes} {bar:40} {bytes_per_sec} eta {eta}",
            )
            .expect("static template"),
        );
        let reader = Box::new(Counting {
            inner: f,
            bar: bar.clone(),
        });
        return Ok(Input {
            reader,
            len: Some(len),
            progress: Some(bar),
        });
    }
    Ok(Input {
        reader: Box::new(f),
        len: Some(len),
        progress: None,
    })
}

/// Whether a path holds an AOF (file, directory or manifest) rather than a plain RDB. An RDB
/// followed by a RESP tail is a preamble AOF; that is told by looking past the RDB's trailer.
pub fn is_aof(path: &Path, rdb_end: impl FnOnce() -> Option<u64>) -> bool {
    use std::io::{Seek, SeekFrom};
    if path.as_os_str() == "-" {
        return false;
    }
    if path.is_dir() {
        return true;
    }
    let Ok(mut f) = File::open(path) else {
        return false;
    };
    let mut head = [0u8; 9];
    let n = f.read(&mut head).unwrap_or(0);
    let head = &head[..n];
    if head.starts_with(b"REDIS") || head.starts_with(b"VALKEY") {
        let Some(end) = rdb_end() else { return false };
        let mut next = [0u8; 1];
        return f.seek(SeekFrom::Start(end)).is_ok()
            && f.read(&mut next).unwrap_or(0) == 1
            && matches!(next[0], b'*' | b'#');
    }
    matches!(head.first(), Some(b'*' | b'#')) || head.starts_with(b"file ")
}
