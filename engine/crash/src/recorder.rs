//! The LD_PRELOAD recorder, built from `preload/recorder.rs` and carried inside this crate as
//! bytes, and how to run a server under it: install the library, record the initial state, set env.
use crate::image::DirState;
use crate::trace::{Op, Record, MAGIC};
use std::fs;
use std::io;
use std::path::{Path, PathBuf};
use std::process::Command;

/// The shared library (empty where the recorder is not supported: only x86_64 Linux glibc is).
pub const LIBRARY: &[u8] = include_bytes!(concat!(env!("OUT_DIR"), "/librecorder.so"));
/// Environment variable naming the trace file the recorder appends to.
pub const TRACE_ENV: &str = "REDIS_PERSIST_TRACE";
/// Environment variable naming the (absolute, canonical) directory whose operations are recorded.
pub const DIR_ENV: &str = "REDIS_PERSIST_DIR";

/// Environment variable naming the stop file: a flush count in decimal, at which the recorder
/// stops the server's process group (SIGSTOP) so that a kill lands exactly there.
pub const STOP_ENV: &str = "REDIS_PERSIST_STOP";

/// `trace` with `suffix` appended: the driver's files beside it, outside the recorded directory.
fn beside(trace: &Path, suffix: &str) -> PathBuf {
    let mut p = trace.as_os_str().to_owned();
    p.push(suffix);
    PathBuf::from(p)
}

/// The stop file of the trace at `trace`.
pub fn stop_file(trace: &Path) -> PathBuf {
    beside(trace, ".stop")
}

/// Asks the recorder of the run writing `trace` to stop the server once `flushes` flushes (as
/// the trace counts them) completed. Written by rename, so the recorder never reads half a number.
pub fn arm_stop(trace: &Path, flushes: usize) -> io::Result<()> {
    let stop = stop_file(trace);
    let temp = beside(trace, ".stop.tmp");
    fs::write(&temp, flushes.to_string())?;
    fs::rename(&temp, &stop)
}

/// Environment variable naming the fault file: while it exists, the next write to a regular file
/// under the recorded directory fails with ENOSPC, and the file is renamed to `.fired`.
pub const FAULT_ENV: &str = "REDIS_PERSIST_FAULT";

/// The fault file of the trace at `trace`.
pub fn fault_file(trace: &Path) -> PathBuf {
    beside(trace, ".fault")
}

/// What the recorder renames the fault file to when it fails a write.
fn fired_file(trace: &Path) -> PathBuf {
    beside(trace, ".fault.fired")
}

/// Makes the next write of the run writing `trace` to a file in its directory fail (ENOSPC).
pub fn arm_fault(trace: &Path) -> io::Result<()> {
    fs::write(fault_file(trace), b"ENOSPC\n")
}

/// Whether the armed fault has failed a write.
pub fn fault_fired(trace: &Path) -> bool {
    fired_file(trace).exists()
}

fn remove_if_present(p: &Path) -> io::Result<()> {
    match fs::remove_file(p) {
        Err(e) if e.kind() != io::ErrorKind::NotFound => Err(e),
        _ => Ok(()),
    }
}

/// True when this build carries a working recorder.
pub fn supported() -> bool {
    !LIBRARY.is_empty()
}

/// The recorder library written to a file, ready to be preloaded.
#[derive(Debug, Clone)]
pub struct Recorder {
    library: PathBuf,
}

impl Recorder {
    /// Writes the library as `librecorder.so` into `dir` (a directory the caller owns, e.g. a
    /// temp dir; it must allow mapping executables, i.e. not be mounted `noexec`).
    pub fn install(dir: &Path) -> io::Result<Recorder> {
        if !supported() {
            let msg = "the recorder is only built for x86_64-unknown-linux-gnu";
            return Err(io::Error::new(io::ErrorKind::Unsupported, msg));
        }
        let library = dir.join("librecorder.so");
        fs::write(&library, LIBRARY)?;
        Ok(Recorder { library })
    }

    /// Path of the installed library.
    pub fn library(&self) -> &Path {
        &self.library
    }

    /// Starts a new trace at `trace` holding `dir`'s current content as its initial state, and
    /// sets `cmd`'s environment so that the process it starts records into it.
    pub fn attach(&self, cmd: &mut Command, trace: &Path, dir: &Path) -> io::Result<()> {
        let dir = dir.canonicalize()?;
        prepare_trace(trace, &dir)?;
        for p in [stop_file(trace), fault_file(trace), fired_file(trace)] {
            remove_if_present(&p)?;
        }
        let preload = match std::env::var_os("LD_PRELOAD") {
            Some(old) if !old.is_empty() => {
                let mut p = self.library.clone().into_os_string();
                p.push(":");
                p.push(old);
                p
            }
            _ => self.library.clone().into_os_string(),
        };
        cmd.env("LD_PRELOAD", preload)
            .env(TRACE_ENV, trace)
            .env(DIR_ENV, &dir)
            .env(STOP_ENV, stop_file(trace))
            .env(FAULT_ENV, fault_file(trace));
        Ok(())
    }
}

/// Writes a new trace file: the magic, then `dir`'s directories and files as the initial state
/// (which the models treat as durable: the caller prepared it before the server started).
pub fn prepare_trace(trace: &Path, dir: &Path) -> io::Result<()> {
    let state = DirState::read(dir)?;
    let mut out = MAGIC.to_vec();
    let rec = |op| Record {
        pid: std::process::id(),
        ret: 0,
        op,
    };
    for d in &state.dirs {
        rec(Op::InitDir {
            path: d.as_bytes().to_vec(),
        })
        .encode(&mut out);
    }
    for (p, data) in &state.files {
        rec(Op::InitFile {
            path: p.as_bytes().to_vec(),
            data: data.clone(),
        })
        .encode(&mut out);
    }
    fs::write(trace, out)
}
