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
