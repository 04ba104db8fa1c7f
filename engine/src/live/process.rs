//! Starting a real server on 127.0.0.1 with a private directory and a free port, and always
//! stopping it: `Drop` kills and reaps the process; a `TempDir` removes itself.
use super::resp::{Client, Reply};
use super::ServerBuild;
use std::fmt::Display;
use std::fs::File;
use std::io;
use std::net::{Ipv4Addr, TcpListener};
use std::path::{Path, PathBuf};
use std::process::{Child, Stdio};
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

/// How long a server may take to answer PING (the stack build loads four modules first).
const START_TIMEOUT: Duration = Duration::from_secs(30);
/// Port races are possible between picking a free port and the server binding it.
const START_ATTEMPTS: usize = 3;

/// A directory under the system temp dir, unique to this process, removed with its contents on drop.
#[derive(Debug)]
pub struct TempDir {
    path: PathBuf,
}

impl TempDir {
    /// Creates a fresh directory whose name contains `label`, in the system's temp dir.
    pub fn new(label: &str) -> io::Result<TempDir> {
        TempDir::new_in(&std::env::temp_dir(), label)
    }

    /// Creates a fresh directory whose name contains `label`, inside `base`.
    pub fn new_in(base: &Path, label: &str) -> io::Result<TempDir> {
        static COUNTER: AtomicU64 = AtomicU64::new(0);
        loop {
            let nanos = SystemTime::now()
                .duration_since(UNIX_EPOCH)
                .map(|d| d.subsec_nanos())
                .unwrap_or(0);
            let n = COUNTER.fetch_add(1, Ordering::Relaxed);
            let path = base.join(format!(
                "redis-persist-{label}-{}-{n}-{nanos}",
                std::process::id()
            ));
            match std::fs::create_dir(&path) {
                Ok(()) => return Ok(TempDir { path }),
                Err(e) if e.kind() == io::ErrorKind::AlreadyExists => continue,
                Err(e) => return Err(e),
            }
        }
    }

    /// The directory.
    pub fn path(&self) -> &Path {
        &self.path
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.path);
    }
}

/// A running server process; killed and reaped on drop.
#[derive(Debug)]
pub struct RunningServer {
    build: ServerBuild,
    child: Child,
    port: u16,
    dir: PathBuf,
    log: PathBuf,
}

fn free_port() -> io::Result<u16> {
    let l = TcpListener::bind((Ipv4Addr::LOCALHOST, 0))?;
    Ok(l.local_addr()?.port())
}

impl RunningServer {
    /// Starts `build` with its data in `dir` on a free 127.0.0.1 port and waits until it answers
    /// PING. Persistence is off (`save ""`, `appendonly no`) so only an explicit SAVE writes a file.
    pub fn start(
        build: &ServerBuild,
        dir: &Path,
        extra_args: &[&str],
    ) -> io::Result<RunningServer> {
        let mut last = None;
        for _ in 0..START_ATTEMPTS {
            let port = free_port()?;
            match Self::start_on(build, dir, extra_args, port) {
                Ok(s) => return Ok(s),
                Err((e, retry)) => {
                    if !retry {
                        return Err(e);
                    }
                    last = Some(e);
                }
            }
        }
        Err(last.unwrap_or_else(|| io::Error::other("server did not start")))
    }

    fn start_on(
        build: &ServerBuild,
        dir: &Path,
        extra_args: &[&str],
        port: u16,
    ) -> Result<RunningServer, (io::Error, bool)> {
        let log = dir.join(format!("{}-{port}.log", build.name));
        let log_file = File::create(&log).map_err(|e| (e, false))?;
        let log_err = log_file.try_clone().map_err(|e| (e, false))?;
        let mut cmd = build.command(&build.binary);
        cmd.arg("--port")
            .arg(port.to_string())
            .args(["--bind", "127.0.0.1", "--dir"])
            .arg(dir)
            .args(["--save", "", "--appendonly", "no", "--daemonize", "no"]);
        if build.has_enable_debug_command() {
            cmd.args(["--enable-debug-command", "yes"]);
        }
        for m in &build.modules {
            cmd.arg("--loadmodule").arg(m);
        }
        cmd.args(extra_args)
            .stdin(Stdio::null())
            .stdout(Stdio::from(log_file))
            .stderr(Stdio::from(log_err));
        let child = cmd.spawn().map_err(|e| {
            let msg = format!("{}: cannot run {}: {e}", build.name, build.binary.display());
            (io::Error::new(e.kind(), msg), false)
        })?;
        let mut server = RunningServer {
            build: build.clone(),
            child,
            port,
            dir: dir.to_path_buf(),
            log,
        };
        match server.wait_ready() {
            Ok(()) => Ok(server),
            Err(e) => {
                let tail = server.log_tail();
                let retry = tail.contains("Address already in use")
                    || e.to_string().contains("Address already in use");
                Err((server.fail(format!("did not start: {e}")), retry))
            }
        }
    }

    /// Whether the server answering on our port works in our directory (`CONFIG GET dir`).
    fn serves_our_dir(&self, c: &mut Client) -> bool {
        let ours = self.dir.canonicalize().unwrap_or_else(|_| self.dir.clone());
        match c.cmd(&[b"CONFIG", b"GET", b"dir"]) {
            Ok(Reply::Array(Some(items))) => items.iter().any(|r| match r {
                Reply::Bulk(Some(b)) => std::path::Path::new(&*String::from_utf8_lossy(b)) == ours,
                _ => false,
            }),
            // A server without CONFIG (or a reply shape we do not know) is taken at its word.
            _ => true,
        }
    }

    fn wait_ready(&mut self) -> io::Result<()> {
        let deadline = Instant::now() + START_TIMEOUT;
        loop {
            if let Some(status) = self.child.try_wait()? {
                return Err(io::Error::other(format!("exited with {status}")));
            }
            if let Ok(mut c) = Client::connect(self.port) {
                match c.cmd(&[b"PING"]) {
                    // Another test's server may hold the port this one was given (the port is
                    // free when picked, not when bound): only a server in our directory counts.
                    Ok(Reply::Simple(s)) if s == "PONG" => {
                        return if self.serves_our_dir(&mut c) {
                            Ok(())
                        } else {
                            let _ = self.child.kill();
                            let _ = self.child.wait();
                            Err(io::Error::new(
                                io::ErrorKind::AddrInUse,
                                "Address already in use: another server answered on the port",
                            ))
                        };
                    }
                    // LOADING and similar: the server is up but not serving yet.
                    Ok(_) | Err(_) => {}
                }
            }
            if Instant::now() > deadline {
                return Err(io::Error::new(
                    io::ErrorKind::TimedOut,
                    format!("no PONG within {START_TIMEOUT:?}"),
                ));
            }
            std::thread::sleep(Duration::from_millis(30));
        }
    }

    /// The TCP port on 127.0.0.1.
    pub fn port(&self) -> u16 {
        self.port
    }

    /// A new connection to it.
    pub fn client(&self) -> io::Result<Client> {
        Client::connect(self.port).map_err(|e| self.fail(format!("connect failed: {e}")))
    }

    /// The build it runs.
    pub fn build(&self) -> &ServerBuild {
        &self.build
    }

    /// Its data directory.
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// Where its stdout/stderr log goes.
    pub fn log_path(&self) -> &Path {
        &self.log
    }

    /// Where `SAVE` writes (the default `dbfilename` in its directory).
    pub fn rdb_path(&self) -> PathBuf {
        self.dir.join("dump.rdb")
    }

    /// The last lines of its log.
    pub fn log_tail(&self) -> String {
        let text = std::fs::read_to_string(&self.log).unwrap_or_default();
        let lines: Vec<&str> = text.lines().collect();
        lines[lines.len().saturating_sub(12)..].join("\n")
    }

    /// An error that names the build and its log, with the log's tail, for any failure around it.
    pub fn fail(&self, what: impl Display) -> io::Error {
        io::Error::other(format!(
            "{} on port {}: {what}\n  log {}:\n{}",
            self.build.name,
            self.port,
            self.log.display(),
            self.log_tail()
        ))
    }
}

impl Drop for RunningServer {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Copies a file, or a directory and everything under it, to `to`.
pub fn copy_tree(from: &Path, to: &Path) -> io::Result<()> {
    if from.is_dir() {
        std::fs::create_dir_all(to)?;
        for e in std::fs::read_dir(from)? {
            let e = e?;
            copy_tree(&e.path(), &to.join(e.file_name()))?;
        }
        Ok(())
    } else {
        std::fs::copy(from, to).map(drop)
    }
}
