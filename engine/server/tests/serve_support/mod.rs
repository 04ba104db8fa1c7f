//! Starting `redis-persist-server` on 127.0.0.1 with a free port and a private directory, for
//! black-box tests; killed and reaped on drop.
#![allow(dead_code)]
pub mod history;

use redis_persist_engine::live::{Client, Reply, TempDir};
use std::net::{Ipv4Addr, TcpListener};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// The binary under test.
pub const BIN: &str = env!("CARGO_BIN_EXE_redis-persist-server");

/// A running `redis-persist-server`.
pub struct Served {
    pub child: Child,
    pub port: u16,
    pub dir: PathBuf,
    pub log: PathBuf,
}

pub fn free_port() -> u16 {
    TcpListener::bind((Ipv4Addr::LOCALHOST, 0))
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

impl Served {
    /// Starts the server in `dir` with `args` after the test defaults (`--save ""`, debug on).
    pub fn start(dir: &Path, args: &[&str]) -> Served {
        Served::start_env(dir, args, &[])
    }

    /// [`Served::start`] with extra environment.
    pub fn start_env(dir: &Path, args: &[&str], env: &[(&str, &str)]) -> Served {
        for _ in 0..3 {
            let port = free_port();
            let log = dir.join(format!("server-{port}.log"));
            let f = std::fs::File::create(&log).unwrap();
            let mut cmd = Command::new(BIN);
            cmd.args(["--port", &port.to_string(), "--bind", "127.0.0.1", "--dir"])
                .arg(dir)
                .args(["--save", "", "--enable-debug-command", "yes"])
                .args(args)
                .envs(env.iter().copied())
                .stdin(Stdio::null())
                .stdout(Stdio::from(f.try_clone().unwrap()))
                .stderr(Stdio::from(f));
            let child = cmd.spawn().expect("spawn redis-persist-server");
            let mut s = Served {
                child,
                port,
                dir: dir.to_path_buf(),
                log,
            };
            if s.wait_ready() {
                return s;
            }
            let text = s.log_text();
            if !text.contains("Address already in use") {
                panic!("redis-persist-server did not start:\n{text}");
            }
        }
        panic!("no free port");
    }

    fn wait_ready(&mut self) -> bool {
        let deadline = Instant::now() + Duration::from_secs(20);
        while Instant::now() < deadline {
            if let Ok(Some(_)) = self.child.try_wait() {
                return false;
            }
            if let Ok(mut c) = Client::connect(self.port) {
                if matches!(c.cmd(&[b"PING"]), Ok(Reply::Simple(s)) if s == "PONG") {
                    return true;
                }
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        false
    }

    pub fn client(&self) -> Client {
        Client::connect(self.port).unwrap()
    }

    pub fn log_text(&self) -> String {
        std::fs::read_to_string(&self.log).unwrap_or_default()
    }

    /// SIGKILL: the process dies with whatever the disk holds.
    pub fn kill9(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }

    /// Sends a signal by number and waits for the exit status.
    pub fn signal(&mut self, sig: &str) -> std::process::ExitStatus {
        let pid = self.child.id().to_string();
        Command::new("kill")
            .args([&format!("-{sig}"), &pid])
            .status()
            .unwrap();
        let deadline = Instant::now() + Duration::from_secs(20);
        loop {
            if let Some(st) = self.child.try_wait().unwrap() {
                return st;
            }
            assert!(Instant::now() < deadline, "no exit after SIG{sig}");
            std::thread::sleep(Duration::from_millis(20));
        }
    }
}

impl Drop for Served {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// A reply with set-like collections sorted: their order is each server's own.
pub fn normal(cmd: &str, r: Reply) -> Reply {
    match (cmd, r) {
        ("SMEMBERS", Reply::Array(Some(mut v))) => {
            v.sort_by_key(|x| format!("{x:?}"));
            Reply::Array(Some(v))
        }
        ("HGETALL", Reply::Array(Some(v))) => {
            let mut pairs: Vec<Vec<Reply>> = v.chunks(2).map(|p| p.to_vec()).collect();
            pairs.sort_by_key(|p| format!("{p:?}"));
            Reply::Array(Some(pairs.into_iter().flatten().collect()))
        }
        (_, r) => r,
    }
}

/// A temp dir for one server.
pub fn tmp(label: &str) -> TempDir {
    TempDir::new(label).unwrap()
}

/// A real tool at `path`, or `None` after printing `SKIP` (a failure under `CI=true`).
pub fn tool_or_skip(path: &str) -> Option<PathBuf> {
    let p = PathBuf::from(path);
    if p.is_file() {
        return Some(p);
    }
    redis_persist_engine::live::skip(&format!("{path} not installed"));
    None
}

/// Text arguments as a command.
pub fn argv(v: &[&str]) -> Vec<Vec<u8>> {
    v.iter().map(|a| a.as_bytes().to_vec()).collect()
}

/// Sends a command by text and returns the reply.
pub fn cmd(c: &mut Client, v: &[&str]) -> Reply {
    let a: Vec<&[u8]> = v.iter().map(|s| s.as_bytes()).collect();
    c.cmd(&a).unwrap()
}
