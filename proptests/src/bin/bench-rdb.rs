//! bench-rdb: `redis-persist check` and `redis-persist dump --json` against the real
//! `redis-check-rdb` 7.0.15 on one large RDB written by real Redis 7.0.15: median wall time, MB/s
//! and peak RSS of each tool, side by side.
//!
//! ```text
//! cargo build --release -p engine --bin redis-persist
//! cargo run --release -p proptests --bin bench-rdb -- [--file PATH] [--runs N] [--regenerate]
//!     [--redis-persist PATH]
//! ```
//!
//! Without `--file`, the dataset is `target/bench-data/dump-7.0.15.rdb`, made once (and again with
//! `--regenerate`) by filling a Redis 7.0.15 on 127.0.0.1 over pipelined RESP and `SAVE`: millions of
//! small strings (incompressible bytes, compressible text, integers, some with a TTL), small
//! listpack hashes/zsets and single-node lists, intsets, and large collections (hashtable hashes and
//! sets, quicklists, skiplist zsets of 100k+ members) and streams with consumer groups and pending
//! entries. A stamp file next to it records which generator made it, so a file left there by another
//! tool is not mistaken for this dataset.
//!
//! Each tool runs once to warm the page cache, then `--runs` times (3 by default); the child is
//! reaped with `wait4`, which gives its peak RSS (`ru_maxrss`) and CPU time.
use engine::server::{Client, Reply, ReplyReader, RunningServer, ServerBuild, TempDir};
use serde_json::Value as J;
use std::fs::File;
use std::io::{self, BufWriter, Write};
use std::net::TcpStream;
use std::path::{Path, PathBuf};
use std::process::{Command, ExitCode, Stdio};
use std::thread::JoinHandle;
use std::time::Instant;

/// Bumped whenever the generated dataset changes, so a cached file from an older plan is remade.
const GENERATOR: &str = "bench-rdb dataset v1";
const BUILD: &str = "redis-7.0.15";
const USAGE: &str =
    "usage: bench-rdb [--file PATH] [--runs N] [--regenerate] [--redis-persist PATH]

  --file PATH            benchmark this RDB instead of the generated one
  --runs N               measured runs per tool after one warm-up run (default 3)
  --regenerate           remake target/bench-data/dump-7.0.15.rdb even if it exists
  --redis-persist PATH   the CLI to measure (default target/release/redis-persist)";

struct Args {
    file: Option<PathBuf>,
    runs: usize,
    regenerate: bool,
    persist: Option<PathBuf>,
}

fn parse_args() -> Result<Option<Args>, String> {
    let mut args = Args {
        file: None,
        runs: 3,
        regenerate: false,
        persist: None,
    };
    let mut it = std::env::args().skip(1);
    while let Some(a) = it.next() {
        let mut value = |name: &str| it.next().ok_or_else(|| format!("{name} needs a value"));
        match a.as_str() {
            "--file" => args.file = Some(value("--file")?.into()),
            "--runs" => {
                let v = value("--runs")?;
                args.runs = v
                    .parse()
                    .ok()
                    .filter(|&n| n > 0)
                    .ok_or_else(|| format!("--runs wants a positive integer, got {v:?}"))?;
            }
            "--regenerate" => args.regenerate = true,
            "--redis-persist" => args.persist = Some(value("--redis-persist")?.into()),
            "-h" | "--help" => return Ok(None),
            other => return Err(format!("unknown argument {other:?}")),
        }
    }
    if args.file.is_some() && args.regenerate {
        return Err("--regenerate and --file exclude each other".into());
    }
    Ok(Some(args))
}

/// xorshift64*: fast, deterministic, and its bytes do not compress.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }

    /// Uniform in `lo..=hi`.
    fn range(&mut self, lo: u64, hi: u64) -> u64 {
        lo + self.next() % (hi - lo + 1)
    }

    fn bytes(&mut self, n: usize) -> Vec<u8> {
        let mut v = Vec::with_capacity(n + 8);
        while v.len() < n {
            v.extend_from_slice(&self.next().to_le_bytes());
        }
        v.truncate(n);
        v
    }
}

const LOREM: &[u8] =
    b"Lorem ipsum dolor sit amet, consectetur adipiscing elit, sed do eiusmod tempor \
incididunt ut labore et dolore magna aliqua. Ut enim ad minim veniam, quis nostrud exercitation \
ullamco laboris nisi ut aliquip ex ea commodo consequat.";
const WORDS: &[&str] = &[
    "status:active;",
    "{\"ok\":true},",
    "GET /index.html ",
    "aaaaaaaa",
    "user=guest&",
    "0000",
];

/// Text of `len` bytes: half repetitive (LZF shrinks it), half prose (LZF leaves it).
fn text(rng: &mut Rng, len: usize) -> Vec<u8> {
    let mut v = Vec::with_capacity(len + 16);
    if rng.next().is_multiple_of(2) {
        let w = WORDS[(rng.next() % WORDS.len() as u64) as usize].as_bytes();
        while v.len() < len {
            v.extend_from_slice(w);
        }
    } else {
        let start = (rng.next() % (LOREM.len() as u64 - 100)) as usize;
        v.extend_from_slice(&LOREM[start..start + len.min(100)]);
    }
    v.truncate(len);
    v
}

/// An integer as text, spread over the widths the RDB encodes differently (8/16/32-bit, and raw).
fn int_text(rng: &mut Rng) -> Vec<u8> {
    let n = rng.next() as i64;
    let v = match rng.next() % 4 {
        0 => n % 128,
        1 => n % 32_768,
        2 => n % 2_000_000_000,
        _ => n,
    };
    v.to_string().into_bytes()
}

/// Commands written to one connection while a thread reads the replies: the socket never stalls
/// and nothing is buffered beyond the kernel's windows.
struct Pipe {
    w: BufWriter<TcpStream>,
    sent: u64,
    reader: Option<JoinHandle<io::Result<u64>>>,
}

const SENTINEL: &[u8] = b"bench-rdb:end-of-pipeline";

impl Pipe {
    fn open(port: u16) -> io::Result<Pipe> {
        let s = TcpStream::connect(("127.0.0.1", port))?;
        s.set_nodelay(true)?;
        let r = s.try_clone()?;
        let reader = std::thread::spawn(move || -> io::Result<u64> {
            let mut rr = ReplyReader::new(r);
            let (mut n, mut errors, mut first) = (0u64, 0u64, None);
            loop {
                match rr.read_reply()? {
                    Reply::Bulk(Some(b)) if b == SENTINEL => break,
                    Reply::Error(e) => {
                        errors += 1;
                        first.get_or_insert(e);
                    }
                    _ => {}
                }
                n += 1;
            }
            match first {
                None => Ok(n),
                Some(e) => Err(io::Error::other(format!(
                    "{errors} of {n} pipelined commands failed, the first with: {e}"
                ))),
            }
        });
        Ok(Pipe {
            w: BufWriter::with_capacity(1 << 20, s),
            sent: 0,
            reader: Some(reader),
        })
    }

    fn send(&mut self, args: &[&[u8]]) -> io::Result<()> {
        write!(self.w, "*{}\r\n", args.len())?;
        for a in args {
            write!(self.w, "${}\r\n", a.len())?;
            self.w.write_all(a)?;
            self.w.write_all(b"\r\n")?;
        }
        self.sent += 1;
        Ok(())
    }

    /// Sends `cmd` followed by `args` (for the variadic commands built in loops).
    fn send_vec(&mut self, cmd: &[&[u8]], args: &[Vec<u8>]) -> io::Result<()> {
        let mut v: Vec<&[u8]> = cmd.to_vec();
        v.extend(args.iter().map(Vec::as_slice));
        self.send(&v)
    }

    /// Waits for every reply; fails if any was an error. Returns the number of commands.
    fn finish(mut self) -> io::Result<u64> {
        self.send(&[b"ECHO", SENTINEL])?;
        self.w.flush()?;
        let got = self
            .reader
            .take()
            .expect("reader")
            .join()
            .map_err(|_| io::Error::other("reply reader panicked"))??;
        let sent = self.sent - 1;
        if got != sent {
            return Err(io::Error::other(format!(
                "sent {sent} commands, {got} replies"
            )));
        }
        Ok(sent)
    }
}

/// One phase of the fill, timed and reported to stderr.
fn phase(name: &str, port: u16, f: impl FnOnce(&mut Pipe, &mut Rng) -> io::Result<()>) {
    let t = Instant::now();
    let seed = name.bytes().fold(0x9e37_79b9_7f4a_7c15u64, |h, b| {
        (h ^ b as u64).wrapping_mul(0x100_0000_01b3)
    });
    let mut rng = Rng(seed | 1);
    let mut p = Pipe::open(port).unwrap_or_else(|e| die(format!("connect: {e}")));
    if let Err(e) = f(&mut p, &mut rng) {
        die(format!("{name}: {e}"));
    }
    let n = p.finish().unwrap_or_else(|e| die(format!("{name}: {e}")));
    eprintln!(
        "  {name:<40} {n:>9} commands in {:>5.1} s",
        t.elapsed().as_secs_f64()
    );
}

const STRINGS: u64 = 3_000_000;
/// 2100-01-01: far enough that no key ever expires before it is read.
const PXAT: &[u8] = b"4102444800000";

fn populate(port: u16) {
    phase("strings (3M: bytes/text/int, 1/8 TTL)", port, |p, rng| {
        for i in 0..STRINGS {
            let key = format!("string:{i:08}");
            let val = match rng.next() % 10 {
                0..=3 => {
                    let n = rng.range(20, 100) as usize;
                    rng.bytes(n)
                }
                4..=6 => {
                    let n = rng.range(20, 100) as usize;
                    text(rng, n)
                }
                _ => int_text(rng),
            };
            if i % 8 == 0 {
                p.send(&[b"SET", key.as_bytes(), &val, b"PXAT", PXAT])?;
            } else {
                p.send(&[b"SET", key.as_bytes(), &val])?;
            }
        }
        Ok(())
    });
    phase("small hashes (100k, listpack)", port, |p, rng| {
        for i in 0..100_000u64 {
            let fields = rng.range(4, 12);
            let mut a = Vec::new();
            for j in 0..fields {
                a.push(format!("field{j}").into_bytes());
                a.push(if j % 3 == 0 {
                    int_text(rng)
                } else {
                    let n = rng.range(4, 16) as usize;
                    text(rng, n)
                });
            }
            p.send_vec(&[b"HSET", format!("hash:small:{i}").as_bytes()], &a)?;
        }
        Ok(())
    });
    phase("small zsets (50k, listpack)", port, |p, rng| {
        for i in 0..50_000u64 {
            let mut a = Vec::new();
            for j in 0..rng.range(3, 10) {
                a.push(format!("{}", rng.range(0, 1_000_000) as f64 / 8.0).into_bytes());
                a.push(format!("member{j}").into_bytes());
            }
            p.send_vec(&[b"ZADD", format!("zset:small:{i}").as_bytes()], &a)?;
        }
        Ok(())
    });
    phase("small lists (50k, one quicklist node)", port, |p, rng| {
        for i in 0..50_000u64 {
            let mut a = Vec::new();
            for _ in 0..rng.range(3, 10) {
                a.push(if rng.next().is_multiple_of(2) {
                    int_text(rng)
                } else {
                    text(rng, 10)
                });
            }
            p.send_vec(&[b"RPUSH", format!("list:small:{i}").as_bytes()], &a)?;
        }
        Ok(())
    });
    phase("intsets (20k, 16..400 ints)", port, |p, rng| {
        for i in 0..20_000u64 {
            // Widths by key: int16, int32 and int64 intsets.
            let modulus: i64 = match i % 3 {
                0 => 30_000,
                1 => 2_000_000_000,
                _ => i64::MAX,
            };
            let a: Vec<Vec<u8>> = (0..rng.range(16, 400))
                .map(|_| ((rng.next() as i64) % modulus).to_string().into_bytes())
                .collect();
            p.send_vec(&[b"SADD", format!("set:int:{i}").as_bytes()], &a)?;
        }
        Ok(())
    });
    phase(
        "large hashes (16 x 100k fields, hashtable)",
        port,
        |p, rng| {
            for k in 0..16 {
                let key = format!("hash:large:{k}");
                for b in 0..200u64 {
                    let mut a = Vec::with_capacity(1000);
                    for j in 0..500 {
                        a.push(format!("f:{:06}", b * 500 + j).into_bytes());
                        a.push(match rng.next() % 3 {
                            0 => int_text(rng),
                            1 => {
                                let n = rng.range(8, 40) as usize;
                                text(rng, n)
                            }
                            _ => {
                                let n = rng.range(8, 40) as usize;
                                rng.bytes(n)
                            }
                        });
                    }
                    p.send_vec(&[b"HSET", key.as_bytes()], &a)?;
                }
            }
            Ok(())
        },
    );
    phase("large lists (12 x 150k, quicklist)", port, |p, rng| {
        for k in 0..12 {
            let key = format!("list:large:{k}");
            for _ in 0..300 {
                let a: Vec<Vec<u8>> = (0..500)
                    .map(|_| match rng.next() % 3 {
                        0 => int_text(rng),
                        1 => {
                            let n = rng.range(8, 24) as usize;
                            text(rng, n)
                        }
                        _ => {
                            let n = rng.range(8, 24) as usize;
                            rng.bytes(n)
                        }
                    })
                    .collect();
                p.send_vec(&[b"RPUSH", key.as_bytes()], &a)?;
            }
        }
        Ok(())
    });
    phase(
        "large sets (8 x 100k text, 4 x 100k int)",
        port,
        |p, rng| {
            for k in 0..12u64 {
                let key = format!("set:large:{k}");
                for b in 0..200u64 {
                    let a: Vec<Vec<u8>> = (0..500u64)
                        .map(|j| {
                            if k < 8 {
                                format!("member:{}:{:x}", b * 500 + j, rng.next() >> 40)
                                    .into_bytes()
                            } else {
                                ((rng.next() >> 1) as i64 - (1 << 62))
                                    .to_string()
                                    .into_bytes()
                            }
                        })
                        .collect();
                    p.send_vec(&[b"SADD", key.as_bytes()], &a)?;
                }
            }
            Ok(())
        },
    );
    phase("large zsets (12 x 120k, skiplist)", port, |p, rng| {
        for k in 0..12 {
            let key = format!("zset:large:{k}");
            for b in 0..240u64 {
                let mut a = Vec::with_capacity(1000);
                for j in 0..500u64 {
                    let score = match rng.next() % 3 {
                        0 => (rng.next() % 1_000_000).to_string(),
                        1 => format!("{}", (rng.next() % 10_000_000) as f64 / 7.0 - 500_000.0),
                        _ => format!("{:e}", (rng.next() >> 11) as f64 * 1e-3),
                    };
                    a.push(score.into_bytes());
                    a.push(format!("m:{}:{:x}", b * 500 + j, rng.next() >> 48).into_bytes());
                }
                p.send_vec(&[b"ZADD", key.as_bytes()], &a)?;
            }
        }
        Ok(())
    });
    phase("streams (4 x 200k entries)", port, |p, rng| {
        for k in 0..4u64 {
            let key = format!("stream:{k}");
            for i in 0..200_000u64 {
                let id = format!("{}-{}", 1_700_000_000_000 + i / 4, i % 4);
                let temp = format!("{:.2}", (rng.next() % 10_000) as f64 / 100.0);
                let n = rng.range(8, 16) as usize;
                let payload = rng.bytes(n);
                let sensor = format!("sensor-{}", rng.next() % 64);
                if i % 1000 == 999 {
                    // A different field set now and then: entries that do not share the master's.
                    p.send(&[
                        b"XADD",
                        key.as_bytes(),
                        id.as_bytes(),
                        b"event",
                        b"calibration",
                        b"by",
                        sensor.as_bytes(),
                    ])?;
                } else {
                    p.send(&[
                        b"XADD",
                        key.as_bytes(),
                        id.as_bytes(),
                        b"sensor",
                        sensor.as_bytes(),
                        b"temp",
                        temp.as_bytes(),
                        b"payload",
                        &payload,
                    ])?;
                }
            }
            // Deleted entries inside nodes.
            for i in (0..200_000u64).step_by(50) {
                let id = format!("{}-{}", 1_700_000_000_000 + i / 4, i % 4);
                p.send(&[b"XDEL", key.as_bytes(), id.as_bytes()])?;
            }
            // Two groups, three consumers each with 10k pending, half of them acknowledged.
            for g in ["g1", "g2"] {
                p.send(&[b"XGROUP", b"CREATE", key.as_bytes(), g.as_bytes(), b"0"])?;
                for c in ["alice", "bob", "carol"] {
                    p.send(&[
                        b"XREADGROUP",
                        b"GROUP",
                        g.as_bytes(),
                        c.as_bytes(),
                        b"COUNT",
                        b"10000",
                        b"STREAMS",
                        key.as_bytes(),
                        b">",
                    ])?;
                }
            }
            for i in (0..30_000u64).step_by(2) {
                let id = format!("{}-{}", 1_700_000_000_000 + i / 4, i % 4);
                p.send(&[b"XACK", key.as_bytes(), b"g1", id.as_bytes()])?;
            }
        }
        Ok(())
    });
}

fn die(msg: impl std::fmt::Display) -> ! {
    eprintln!("bench-rdb: {msg}");
    std::process::exit(1)
}

fn stamp_path(file: &Path) -> PathBuf {
    let mut s = file.as_os_str().to_owned();
    s.push(".bench-rdb");
    PathBuf::from(s)
}

/// The stamp's text when it says this generator made `file` as it is now.
fn valid_stamp(file: &Path) -> Option<String> {
    let size = std::fs::metadata(file).ok()?.len();
    let stamp = std::fs::read_to_string(stamp_path(file)).ok()?;
    let ok = stamp
        .lines()
        .any(|l| l == format!("generator: {GENERATOR}"))
        && stamp.lines().any(|l| l == format!("size: {size}"));
    ok.then_some(stamp)
}

/// Fills a fresh Redis 7.0.15, SAVEs, and moves the file to `file`.
fn generate(build: &ServerBuild, file: &Path) {
    let t0 = Instant::now();
    let tmp = TempDir::new("bench-rdb").unwrap_or_else(|e| die(format!("temp dir: {e}")));
    let server = RunningServer::start(build, tmp.path(), &[])
        .unwrap_or_else(|e| die(format!("start {BUILD}: {e}")));
    eprintln!(
        "generating with {} on port {} in {}",
        build.binary.display(),
        server.port(),
        tmp.path().display()
    );
    populate(server.port());
    let fill = t0.elapsed().as_secs_f64();
    let mut c: Client = server
        .client()
        .unwrap_or_else(|e| die(format!("connect: {e}")));
    let info = |c: &mut Client, section: &str| -> String {
        c.call_str(&["INFO", section])
            .and_then(Reply::into_text)
            .unwrap_or_else(|e| die(format!("INFO {section}: {e}")))
    };
    let keyspace = info(&mut c, "keyspace");
    let memory = info(&mut c, "memory");
    let used = memory
        .lines()
        .find(|l| l.starts_with("used_memory_human:"))
        .unwrap_or("used_memory_human:?")
        .trim()
        .to_owned();
    let t = Instant::now();
    c.call_str(&["SAVE"])
        .unwrap_or_else(|e| die(format!("SAVE: {e}")));
    let save = t.elapsed().as_secs_f64();
    drop(c);
    let dump = server.rdb_path();
    drop(server);
    let partial = file.with_extension("rdb.partial");
    if std::fs::rename(&dump, &partial).is_err() {
        std::fs::copy(&dump, &partial).unwrap_or_else(|e| die(format!("copy {dump:?}: {e}")));
    }
    std::fs::rename(&partial, file).unwrap_or_else(|e| die(format!("rename: {e}")));
    let size = std::fs::metadata(file).map(|m| m.len()).unwrap_or(0);
    let total = t0.elapsed().as_secs_f64();
    let keyspace: Vec<&str> = keyspace
        .lines()
        .filter(|l| l.starts_with("db"))
        .map(str::trim)
        .collect();
    let stamp = format!(
        "generator: {GENERATOR}\nsize: {size}\nserver: {BUILD} ({})\nkeyspace: {}\n{used}\n\
         generation: fill {fill:.1} s, SAVE {save:.1} s, total {total:.1} s\n",
        build.binary.display(),
        keyspace.join(" "),
    );
    std::fs::write(stamp_path(file), &stamp).unwrap_or_else(|e| die(format!("stamp: {e}")));
    eprintln!("{stamp}");
}

/// One run of a tool: wall time, CPU time, and the child's peak RSS.
#[derive(Clone, Copy)]
struct Sample {
    wall: f64,
    cpu: f64,
    rss_kib: u64,
}

/// Runs `cmd` with stdout to /dev/null, reaps it with `wait4` for its rusage, and insists on exit 0.
// The child is reaped by `wait4` (which reports its peak RSS), never by `Child::wait`.
#[allow(clippy::zombie_processes)]
fn measure(cmd: &mut Command, stderr_log: &Path) -> Sample {
    let log = File::create(stderr_log).unwrap_or_else(|e| die(format!("{stderr_log:?}: {e}")));
    let t = Instant::now();
    let child = cmd
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::from(log))
        .spawn()
        .unwrap_or_else(|e| die(format!("cannot run {cmd:?}: {e}")));
    let pid = child.id() as libc::pid_t;
    let mut status = 0;
    // SAFETY: `rusage` is plain data for the kernel to fill; `pid` is our own child, not yet waited.
    let mut ru: libc::rusage = unsafe { std::mem::zeroed() };
    let r = loop {
        let r = unsafe { libc::wait4(pid, &mut status, 0, &mut ru) };
        if r == -1 && io::Error::last_os_error().kind() == io::ErrorKind::Interrupted {
            continue;
        }
        break r;
    };
    let wall = t.elapsed().as_secs_f64();
    if r != pid {
        die(format!("wait4 for {cmd:?}: {}", io::Error::last_os_error()));
    }
    if !(libc::WIFEXITED(status) && libc::WEXITSTATUS(status) == 0) {
        let how = if libc::WIFEXITED(status) {
            format!("exit status {}", libc::WEXITSTATUS(status))
        } else {
            format!("signal {}", libc::WTERMSIG(status))
        };
        let err = std::fs::read_to_string(stderr_log).unwrap_or_default();
        die(format!("{cmd:?} failed with {how}; stderr:\n{err}"));
    }
    let tv = |t: libc::timeval| t.tv_sec as f64 + t.tv_usec as f64 / 1e6;
    Sample {
        wall,
        cpu: tv(ru.ru_utime) + tv(ru.ru_stime),
        rss_kib: ru.ru_maxrss as u64,
    }
}

fn median_by<T: Copy>(
    v: &[Sample],
    key: impl Fn(&Sample) -> T,
    cmp: fn(&T, &T) -> std::cmp::Ordering,
) -> T {
    let mut k: Vec<T> = v.iter().map(key).collect();
    k.sort_by(cmp);
    k[k.len() / 2]
}

struct Row {
    name: &'static str,
    wall: f64,
    min: f64,
    max: f64,
    cpu: f64,
    rss_mib: f64,
}

/// Keys per type, expiries and totals from `redis-persist check --json`, cross-checked against the
/// "keys read" line of `redis-check-rdb`.
fn describe(persist: &Path, check_rdb: &Path, file: &Path) -> String {
    let out = Command::new(persist)
        .args(["check", "--json"])
        .arg(file)
        .output()
        .unwrap_or_else(|e| die(format!("cannot run {}: {e}", persist.display())));
    if !out.status.success() {
        die(format!(
            "redis-persist check refused {}: {}{}",
            file.display(),
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        ));
    }
    let j: J = serde_json::from_slice(&out.stdout)
        .unwrap_or_else(|e| die(format!("check --json output is not JSON: {e}")));
    let theirs = Command::new(check_rdb)
        .arg(file)
        .output()
        .unwrap_or_else(|e| die(format!("cannot run {}: {e}", check_rdb.display())));
    let text = String::from_utf8_lossy(&theirs.stdout).into_owned();
    if !theirs.status.success() || !text.contains("RDB looks OK") {
        die(format!(
            "redis-check-rdb refused {}:\n{text}",
            file.display()
        ));
    }
    let their_keys: Option<u64> = text.lines().find_map(|l| {
        l.strip_prefix("[info] ")?
            .strip_suffix(" keys read")?
            .parse()
            .ok()
    });
    let total = j["total_keys"].as_u64().unwrap_or(0);
    let mut s = format!(
        "RDB version {} ({}), {} keys ({} with expiry)",
        j["version"],
        j["aux"]
            .as_array()
            .and_then(|a| a.iter().find(|p| p[0] == "redis-ver"))
            .map(|p| format!("redis-ver {}", p[1].as_str().unwrap_or("?")))
            .unwrap_or_else(|| "no redis-ver".into()),
        total,
        j["expires"],
    );
    match their_keys {
        Some(n) if n == total => s.push_str(", redis-check-rdb agrees"),
        Some(n) => s.push_str(&format!(", BUT redis-check-rdb read {n} keys")),
        None => s.push_str(", redis-check-rdb printed no key count"),
    }
    if let Some(dbs) = j["keys"].as_object() {
        for (db, types) in dbs {
            let t: Vec<String> = types
                .as_object()
                .map(|m| m.iter().map(|(k, v)| format!("{v} {k}")).collect())
                .unwrap_or_default();
            s.push_str(&format!("\n  db {db}: {}", t.join(", ")));
        }
    }
    if let Some(enc) = j["encodings"].as_object() {
        let e: Vec<String> = enc.iter().map(|(k, v)| format!("{k}: {v}")).collect();
        s.push_str(&format!("\n  encodings: {}", e.join(", ")));
    }
    s
}

fn main() -> ExitCode {
    let args = match parse_args() {
        Ok(Some(a)) => a,
        Ok(None) => {
            println!("{USAGE}");
            return ExitCode::SUCCESS;
        }
        Err(e) => {
            eprintln!("bench-rdb: {e}\n{USAGE}");
            return ExitCode::from(2);
        }
    };
    let root = Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("workspace root")
        .to_path_buf();
    let persist = args
        .persist
        .clone()
        .unwrap_or_else(|| root.join("target/release/redis-persist"));
    if !persist.is_file() {
        die(format!(
            "{} not found: build it first with `cargo build --release -p engine` \
             (or pass --redis-persist PATH)",
            persist.display()
        ));
    }
    let build = ServerBuild::by_name(BUILD).unwrap_or_else(|e| {
        die(format!(
            "{e}\n(Debian's Redis 7.0.15 is expected at /usr/bin: apt-get install redis-server redis-tools)"
        ))
    });
    let check_rdb = build
        .check_rdb
        .clone()
        .unwrap_or_else(|| die("/usr/bin/redis-check-rdb not found (apt-get install redis-tools)"));
    let data_dir = root.join("target/bench-data");
    std::fs::create_dir_all(&data_dir).unwrap_or_else(|e| die(format!("{data_dir:?}: {e}")));

    let file = match &args.file {
        Some(f) => {
            if !f.is_file() {
                die(format!("{} is not a file", f.display()));
            }
            f.clone()
        }
        None => {
            let file = data_dir.join("dump-7.0.15.rdb");
            let stamp = valid_stamp(&file);
            match (&stamp, args.regenerate, file.exists()) {
                (Some(s), false, _) => {
                    eprintln!("reusing {} (--regenerate to remake)\n{s}", file.display())
                }
                (_, true, _) | (None, _, false) => generate(&build, &file),
                (None, false, true) => {
                    eprintln!(
                        "{} exists but was not made by {GENERATOR} (no matching stamp): regenerating",
                        file.display()
                    );
                    generate(&build, &file);
                }
            }
            file
        }
    };

    let size = std::fs::metadata(&file)
        .unwrap_or_else(|e| die(format!("{}: {e}", file.display())))
        .len();
    let mb = size as f64 / 1e6;
    println!("file: {}", file.display());
    println!("size: {size} bytes ({mb:.1} MB)");
    println!("{}", describe(&persist, &check_rdb, &file));
    println!(
        "runs: 1 warm-up + {} measured per tool; median shown; MB = 10^6 bytes, RSS in MiB\n",
        args.runs
    );

    let mut tools: Vec<(&'static str, Command)> = Vec::new();
    let mut c = build.command(&check_rdb);
    c.arg(&file);
    tools.push(("redis-check-rdb 7.0.15", c));
    let mut c = Command::new(&persist);
    c.arg("check").arg(&file);
    tools.push(("redis-persist check", c));
    let mut c = Command::new(&persist);
    c.arg("dump").arg(&file).arg("--json");
    tools.push(("redis-persist dump --json", c));

    let stderr_log = data_dir.join("bench-rdb.stderr");
    let mut results = Vec::new();
    for (name, mut cmd) in tools {
        measure(&mut cmd, &stderr_log);
        let samples: Vec<Sample> = (0..args.runs)
            .map(|_| measure(&mut cmd, &stderr_log))
            .collect();
        let walls: Vec<f64> = samples.iter().map(|s| s.wall).collect();
        let r = Row {
            name,
            wall: median_by(&samples, |s| s.wall, f64::total_cmp),
            min: walls.iter().copied().fold(f64::INFINITY, f64::min),
            max: walls.iter().copied().fold(0.0, f64::max),
            cpu: median_by(&samples, |s| s.cpu, f64::total_cmp),
            rss_mib: median_by(&samples, |s| s.rss_kib, u64::cmp) as f64 / 1024.0,
        };
        eprintln!("  {name}: {:.3} s, {:.1} MiB", r.wall, r.rss_mib);
        results.push(r);
    }
    let _ = std::fs::remove_file(&stderr_log);

    println!("| tool | seconds (median) | min–max s | MB/s | CPU s | peak RSS MiB |");
    println!("|---|---:|---:|---:|---:|---:|");
    for r in &results {
        println!(
            "| {} | {:.3} | {:.3}–{:.3} | {:.0} | {:.3} | {:.1} |",
            r.name,
            r.wall,
            r.min,
            r.max,
            mb / r.wall,
            r.cpu,
            r.rss_mib
        );
    }
    let base = &results[0];
    println!();
    for r in &results[1..] {
        let speed = base.wall / r.wall;
        println!(
            "{} vs {}: {:.2}x the speed ({}), {:.2}x the peak RSS",
            r.name,
            base.name,
            speed,
            if speed >= 1.0 { "faster" } else { "slower" },
            r.rss_mib / base.rss_mib
        );
    }
    ExitCode::SUCCESS
}
