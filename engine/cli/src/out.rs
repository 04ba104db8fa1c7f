//! Everything the CLI prints goes through here, so that no output error can panic: a closed pipe
//! (`| head`) ends the process quietly as other Unix tools do, any other error is one line and exit 1.
//!
//! `say!` writes a line to standard output, `note!` to standard error (whose own failures are
//! ignored: there is nowhere left to report them).
use std::io::{self, Write};

/// The exit status of a process that stopped because its reader went away (128 + SIGPIPE), as a
/// shell reports a tool killed by SIGPIPE.
pub const BROKEN_PIPE_EXIT: i32 = 141;

/// What to do after a failed write to standard output: never returns.
pub fn fatal(e: &io::Error) -> ! {
    if e.kind() == io::ErrorKind::BrokenPipe {
        std::process::exit(BROKEN_PIPE_EXIT);
    }
    let _ = writeln!(io::stderr(), "redis-persist: cannot write the output: {e}");
    std::process::exit(1);
}

/// Writes one line to standard output.
pub fn line(args: std::fmt::Arguments<'_>) {
    let mut o = io::stdout().lock();
    if let Err(e) = o.write_fmt(args).and_then(|_| o.write_all(b"\n")) {
        fatal(&e);
    }
}

/// Writes one line to standard error, ignoring failure.
pub fn note_line(args: std::fmt::Arguments<'_>) {
    let _ = writeln!(io::stderr(), "{args}");
}

/// Standard output as a buffered writer whose errors end the process as [`fatal`] does.
pub struct Stdout(io::BufWriter<io::StdoutLock<'static>>);

impl Stdout {
    /// Locks standard output.
    pub fn new() -> Stdout {
        Stdout(io::BufWriter::with_capacity(1 << 16, io::stdout().lock()))
    }

    /// Flushes, or ends the process on failure.
    pub fn finish(mut self) {
        if let Err(e) = self.0.flush() {
            fatal(&e);
        }
    }
}

impl Write for Stdout {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        self.0.write(buf).map_err(|e| fatal(&e))
    }
    fn flush(&mut self) -> io::Result<()> {
        self.0.flush().map_err(|e| fatal(&e))
    }
}

/// `say!("...", args)`: a line on standard output.
#[macro_export]
macro_rules! say {
    ($($t:tt)*) => { $crate::out::line(format_args!($($t)*)) };
}

/// `note!("...", args)`: a line on standard error.
#[macro_export]
macro_rules! note {
    ($($t:tt)*) => { $crate::out::note_line(format_args!($($t)*)) };
}

/// `1 field`, `2 fields`: a count with its noun, so no message reads `(1 fields)`.
pub fn plural<N: std::fmt::Display + PartialEq + From<u8>>(n: N, one: &str, many: &str) -> String {
    let noun = if n == N::from(1) { one } else { many };
    format!("{n} {noun}")
}
