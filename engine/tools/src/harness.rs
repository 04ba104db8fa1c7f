//! Drives a live server and times child processes: `pipeline` loads commands fast, `measure`
//! returns wall seconds and the kernel's peak-RSS figure for one run of a tool.
use redis_persist_engine::format::resp::{write_command, ReplyReader};
use redis_persist_engine::live::Reply;
use std::io::Write;
use std::net::TcpStream;
use std::process::{Command, Stdio};
use std::time::Instant;

/// Commands sent before their replies are read; large enough to hide the round trip.
const BATCH_COMMANDS: u64 = 10_000;
/// Bytes buffered before a flush, so batches of wide commands (big HSETs) stay bounded.
const BATCH_BYTES: usize = 8 << 20;

/// Sends `cmds` to 127.0.0.1:`port` pipelined in batches, checks that no reply is an error, and
/// returns how many commands were sent.
pub fn pipeline(port: u16, cmds: impl Iterator<Item = Vec<Vec<u8>>>) -> std::io::Result<u64> {
    let mut w = TcpStream::connect(("127.0.0.1", port))?;
    let mut r = ReplyReader::new(w.try_clone()?);
    let (mut buf, mut pending, mut sent) = (Vec::new(), 0u64, 0u64);
    let mut flush = |buf: &mut Vec<u8>, pending: &mut u64| -> std::io::Result<()> {
        w.write_all(buf)?;
        buf.clear();
        for _ in 0..*pending {
            if let Reply::Error(e) = r.read_reply()? {
                return Err(std::io::Error::other(e));
            }
        }
        *pending = 0;
        Ok(())
    };
    for c in cmds {
        let args: Vec<&[u8]> = c.iter().map(Vec::as_slice).collect();
        write_command(&mut buf, &args);
        pending += 1;
        sent += 1;
        if pending == BATCH_COMMANDS || buf.len() >= BATCH_BYTES {
            flush(&mut buf, &mut pending)?;
        }
    }
    flush(&mut buf, &mut pending)?;
    Ok(sent)
}

/// Runs `cmd` with stdout discarded and returns (seconds, peak RSS in KiB). Panics if the tool
/// does not exit 0: a benchmark of a failing run would time the wrong thing.
// The child is reaped by `wait4`, which also reports its peak RSS; `Child::wait` would not.
#[allow(clippy::zombie_processes)]
pub fn measure(cmd: &mut Command) -> (f64, u64) {
    let t = Instant::now();
    let child = cmd.stdout(Stdio::null()).spawn().expect("spawn");
    let pid = child.id() as i32;
    let mut status = 0i32;
    // SAFETY: `rusage` is plain data the kernel fills; `pid` is our own unwaited child.
    let mut ru: libc::rusage = unsafe { std::mem::zeroed() };
    let r = unsafe { libc::wait4(pid, &mut status, 0, &mut ru) };
    let secs = t.elapsed().as_secs_f64();
    assert!(
        r == pid && libc::WIFEXITED(status) && libc::WEXITSTATUS(status) == 0,
        "{cmd:?} failed"
    );
    (secs, ru.ru_maxrss as u64)
}

/// The number after `name` on the command line (`--rounds 5`), or `default`.
pub fn number_arg(name: &str, default: usize) -> usize {
    let args: Vec<String> = std::env::args().collect();
    args.iter()
        .position(|a| a == name)
        .and_then(|i| args.get(i + 1)?.parse().ok())
        .unwrap_or(default)
}

/// The smallest value (the run least disturbed by other work on the machine).
pub fn best(v: &[f64]) -> f64 {
    v.iter().copied().fold(f64::INFINITY, f64::min)
}

/// The upper median of `v`, which must not be empty.
pub fn median(v: &[f64]) -> f64 {
    let mut s = v.to_vec();
    s.sort_by(f64::total_cmp);
    s[s.len() / 2]
}

/// The upper-median run of `v` by its seconds, with what was recorded beside them (bytes
/// written, peak RSS), so the figures reported together come from one run.
pub fn median_by_time<T: Copy>(v: &[(f64, T)]) -> (f64, T) {
    let mut s = v.to_vec();
    s.sort_by(|a, b| a.0.total_cmp(&b.0));
    s[s.len() / 2]
}
