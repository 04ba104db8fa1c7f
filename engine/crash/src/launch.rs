//! Starting a server for a crash test: any binary that takes redis-server's command line
//! (`BIN --port N --bind 127.0.0.1 --dir D --appendonly .. --appendfsync .. --save ..`), in its
//! own process group on a free loopback port, its output in a log outside the data directory;
//! a RESP connection that can send without waiting; and a SIGKILL of the whole group.
use crate::recorder::Recorder;
use redis_persist_engine::format::resp::{encode_command, Reply, ReplyReader};
use redis_persist_engine::live::ServerBuild;
use rustix::process::{kill_process_group, Pid, Signal};
use std::io::{self, Write};
use std::net::{Ipv4Addr, SocketAddr, TcpListener, TcpStream};
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// How long a server may take to answer PING after it starts.
const START_TIMEOUT: Duration = Duration::from_secs(30);

/// How to start the server under test.
#[derive(Debug, Clone)]
pub struct Launch {
    /// The executable.
    pub program: PathBuf,
    /// Extra environment (e.g. `LD_LIBRARY_PATH` of a packaged build).
    pub env: Vec<(String, String)>,
    /// A short name for reports (`redis-7.0.15`).
    pub name: String,
    /// Arguments after the standard ones (e.g. `--sabotage skip-fsync-always` for our server),
    /// on every start: the recorded run and each restart on a crash image.
    pub args: Vec<String>,
}

impl Launch {
    /// A known or described build, started without its modules.
    pub fn from_build(b: &ServerBuild) -> Launch {
        Launch {
            program: b.binary.clone(),
            env: b.env.clone(),
            name: b.name.to_string(),
            args: Vec::new(),
        }
    }
}

/// The persistence settings a server starts with.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StartConfig {
    /// `--appendonly yes|no`.
    pub appendonly: bool,
    /// `--appendfsync`.
    pub appendfsync: String,
}

/// A server process in its own process group; SIGKILLed with its children on drop.
#[derive(Debug)]
pub struct Proc {
    child: Option<Child>,
    /// Its port on 127.0.0.1.
    pub port: u16,
    /// Where its stdout and stderr go.
    pub log: PathBuf,
}

fn free_port() -> io::Result<u16> {
    let l = TcpListener::bind((Ipv4Addr::LOCALHOST, 0))?;
    Ok(l.local_addr()?.port())
}

/// The last lines of a log file.
pub fn log_tail(log: &Path, lines: usize) -> String {
    let text = std::fs::read_to_string(log).unwrap_or_default();
    let all: Vec<&str> = text.lines().collect();
    all[all.len().saturating_sub(lines)..].join("\n")
}

impl Proc {
    /// Starts `launch` on `dir` with `cfg`, under `recorder` writing to `trace` when given, and
    /// waits until it answers PING (retrying on another port when the port was taken).
    pub fn start(
        launch: &Launch,
        dir: &Path,
        log: &Path,
        cfg: &StartConfig,
        recorder: Option<(&Recorder, &Path)>,
    ) -> Result<Proc, String> {
        let mut last = String::new();
        for _ in 0..3 {
            let port = free_port().map_err(|e| format!("no free port: {e}"))?;
            let file = std::fs::File::create(log).map_err(|e| format!("{}: {e}", log.display()))?;
            let err = file.try_clone().map_err(|e| e.to_string())?;
            let mut cmd = Command::new(&launch.program);
            cmd.envs(launch.env.iter().map(|(k, v)| (k, v)))
                .arg("--port")
                .arg(port.to_string())
                .args(["--bind", "127.0.0.1", "--dir"])
                .arg(dir)
                .args(["--appendonly", if cfg.appendonly { "yes" } else { "no" }])
                .args(["--appendfsync", &cfg.appendfsync])
                .args(["--save", ""])
                .args(&launch.args)
                .stdin(Stdio::null())
                .stdout(Stdio::from(file))
                .stderr(Stdio::from(err))
                .process_group(0);
            if let Some((rec, trace)) = recorder {
                rec.attach(&mut cmd, trace, dir)
                    .map_err(|e| format!("attaching the recorder: {e}"))?;
            }
            let child = cmd
                .spawn()
                .map_err(|e| format!("cannot run {}: {e}", launch.program.display()))?;
            let mut p = Proc {
                child: Some(child),
                port,
                log: log.to_path_buf(),
            };
            match p.wait_ready() {
                Ok(()) => return Ok(p),
                Err(e) => {
                    p.kill();
                    let tail = log_tail(log, 8);
                    last = format!("{} did not start: {e}\n{tail}", launch.name);
                    if !tail.contains("Address already in use") {
                        break;
                    }
                }
            }
        }
        Err(last)
    }

    fn wait_ready(&mut self) -> Result<(), String> {
        let deadline = Instant::now() + START_TIMEOUT;
        loop {
            if let Some(child) = self.child.as_mut() {
                if let Ok(Some(status)) = child.try_wait() {
                    return Err(format!("exited with {status}"));
                }
            }
            if let Ok(mut c) = Conn::connect(self.port) {
                if let Ok(Reply::Simple(s)) = c.call(&["PING"]) {
                    if s == "PONG" {
                        return Ok(());
                    }
                }
            }
            if Instant::now() > deadline {
                return Err(format!("no PONG within {START_TIMEOUT:?}"));
            }
            std::thread::sleep(Duration::from_millis(10));
        }
    }

    /// A new connection.
    pub fn connect(&self) -> Result<Conn, String> {
        Conn::connect(self.port).map_err(|e| format!("connect to port {}: {e}", self.port))
    }

    /// SIGKILLs the process group (the server and any BGSAVE or rewrite child) and reaps the
    /// server.
    pub fn kill(&mut self) {
        if let Some(mut child) = self.child.take() {
            // The group's id is the server's pid (`process_group(0)`).
            let group = i32::try_from(child.id()).ok().and_then(Pid::from_raw);
            if let Some(g) = group {
                let _ = kill_process_group(g, Signal::KILL);
            }
            let _ = child.kill();
            let _ = child.wait();
        }
    }
}

impl Drop for Proc {
    fn drop(&mut self) {
        self.kill();
    }
}

/// A RESP2 connection that can send a command without reading its reply.
pub struct Conn {
    writer: TcpStream,
    reader: ReplyReader<TcpStream>,
}

impl Conn {
    /// Connects to 127.0.0.1:`port`.
    pub fn connect(port: u16) -> io::Result<Conn> {
        let addr = SocketAddr::from((Ipv4Addr::LOCALHOST, port));
        let s = TcpStream::connect_timeout(&addr, Duration::from_secs(5))?;
        s.set_read_timeout(Some(Duration::from_secs(60)))?;
        s.set_nodelay(true)?;
        Ok(Conn {
            writer: s.try_clone()?,
            reader: ReplyReader::new(s),
        })
    }

    /// Sends one command.
    pub fn send<S: AsRef<[u8]>>(&mut self, argv: &[S]) -> io::Result<()> {
        let v: Vec<&[u8]> = argv.iter().map(|a| a.as_ref()).collect();
        self.writer.write_all(&encode_command(&v))
    }

    /// How long `recv` waits before failing (60 s from `connect`).
    pub fn set_read_timeout(&mut self, d: Duration) -> io::Result<()> {
        self.writer.set_read_timeout(Some(d))
    }

    /// Reads one reply.
    pub fn recv(&mut self) -> io::Result<Reply> {
        self.reader.read_reply()
    }

    /// Sends one command and reads its reply.
    pub fn call<S: AsRef<[u8]>>(&mut self, argv: &[S]) -> io::Result<Reply> {
        self.send(argv)?;
        self.recv()
    }
}
