//! The event loop, one thread owning the persisting server as Redis's does: accept, read, run
//! every complete command of every readable client, serve clients blocked on keys that became
//! ready, expire blocking timeouts, run the cron (`hz` 10: everysec fsync, `save` rules,
//! finished background jobs), and before sleeping write the turn's AOF bytes with one write and
//! (under `appendfsync always`) one fsync, and only then send the turn's replies.
use super::client::{Client, Stream};
use super::config::ServeConfig;
use super::log::Log;
use mio::net::{TcpListener, UnixListener};
use mio::{Events, Interest, Poll, Token};
use redis_persist_engine::persist::{Server, SystemClock};
use redis_persist_engine::storage::RealDir;
use std::collections::{BTreeSet, HashMap, HashSet, VecDeque};
use std::io::{self, Read};
use std::net::{SocketAddr, ToSocketAddrs};
use std::time::{Duration, Instant};

const SIGNAL: Token = Token(0);
const UNIX: Token = Token(1);
const TCP_BASE: usize = 2;
const CLIENT_BASE: usize = 64;
/// `hz`: how often the cron runs.
const CRON_EVERY: Duration = Duration::from_millis(100);

/// The persisting server this binary serves.
pub type Engine = Server<RealDir, SystemClock>;

/// Counters INFO reports.
#[derive(Debug, Default)]
pub struct Counters {
    pub connections: u64,
    pub commands: u64,
    pub rejected: u64,
    pub rdb_saves: u64,
    pub aof_rewrites: u64,
    pub last_bgrewrite_ok: bool,
    pub last_rewrite_secs: i64,
    pub last_bgsave_secs: i64,
}

/// How SHUTDOWN was asked for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ShutdownMode {
    /// Save when `save` rules exist (SIGTERM, SIGINT, plain SHUTDOWN).
    Default,
    Save,
    NoSave,
}

/// Everything the loop owns.
pub struct State {
    pub srv: Engine,
    pub cfg: ServeConfig,
    pub log: Log,
    pub clients: Vec<Option<Client>>,
    free: Vec<usize>,
    next_id: u64,
    pub started: Instant,
    pub counters: Counters,
    /// Clients blocked on each (db, key), in arrival order.
    pub blocked_on: HashMap<(u64, Vec<u8>), VecDeque<usize>>,
    /// Blocking deadlines: (when, client id, slot).
    pub deadlines: BTreeSet<(Instant, u64, usize)>,
    /// Keys with blocked clients that a write touched.
    pub ready: VecDeque<(u64, Vec<u8>)>,
    ready_set: HashSet<(u64, Vec<u8>)>,
    /// Watching clients of each (db, key).
    pub watched: HashMap<(u64, Vec<u8>), Vec<usize>>,
    /// Clients with input to run (read this turn, or just unblocked).
    pub to_process: Vec<usize>,
    /// Clients with replies to write.
    pub to_write: Vec<usize>,
    /// A shutdown was asked for (a signal or SHUTDOWN) and the client that asked, if any.
    pub shutdown: Option<(ShutdownMode, Option<usize>)>,
    /// CONFIG SET values of directives that are accepted and ignored.
    pub loose_config: Vec<(String, String)>,
    pub tcp_port: u16,
}

/// The addresses to listen on, each with whether it is optional (`-` prefix).
fn bind_addrs(cfg: &ServeConfig) -> io::Result<Vec<(SocketAddr, bool)>> {
    let mut out = Vec::new();
    for b in &cfg.bind {
        let (optional, b) = match b.strip_prefix('-') {
            Some(rest) => (true, rest),
            None => (false, b.as_str()),
        };
        let host = match b {
            "*" => "0.0.0.0",
            "::*" => "::",
            h => h,
        };
        match (host, cfg.port).to_socket_addrs() {
            Ok(addrs) => out.extend(addrs.map(|a| (a, optional))),
            Err(_) if optional => {}
            Err(e) => return Err(e),
        }
    }
    Ok(out)
}

/// Redis 7's upgrade of a single-file AOF: with `appendonly yes`, no manifest and an
/// `appendfilename` file in the directory, the file becomes the base of a new AOF directory
/// (moved into it and listed alone by a new manifest, so that a truncated tail is still the
/// last file's; the incremental file is opened after loading).
fn upgrade_legacy_aof(cfg: &ServeConfig, log: &mut Log) -> io::Result<()> {
    let p = &cfg.persist;
    if !p.appendonly {
        return Ok(());
    }
    let dir = cfg.dir.join(&p.appenddirname);
    let manifest = dir.join(format!("{}.manifest", p.appendfilename));
    let legacy = cfg.dir.join(&p.appendfilename);
    if manifest.exists() || !legacy.is_file() {
        return Ok(());
    }
    std::fs::create_dir_all(&dir)?;
    std::fs::rename(&legacy, dir.join(&p.appendfilename))?;
    let text = format!("file {} seq 1 type b\n", p.appendfilename);
    let temp = dir.join(format!("temp-{}.manifest", p.appendfilename));
    std::fs::write(&temp, text)?;
    std::fs::File::open(&temp)?.sync_all()?;
    std::fs::rename(&temp, &manifest)?;
    std::fs::File::open(&dir)?.sync_all()?;
    log.notice(&format!(
        "Successfully migrated an old-style AOF into the AOF directory {}",
        p.appenddirname
    ));
    Ok(())
}

/// Runs the server until SHUTDOWN or a signal; returns the process exit code.
pub fn run(cfg: ServeConfig) -> i32 {
    let mut log = match Log::open(cfg.logfile.as_deref()) {
        Ok(l) => l,
        Err(e) => {
            eprintln!("Can't open the log file: {e}");
            return 1;
        }
    };
    log.notice(&format!(
        "redis-persist-server {} starting (answers as Redis {}), pid={}",
        env!("CARGO_PKG_VERSION"),
        super::REDIS_VERSION,
        std::process::id()
    ));
    if !cfg.sabotage.is_empty() {
        log.warning(&format!(
            "WARNING: test mode, sabotage switches on: {}",
            cfg.sabotage.join(", ")
        ));
    }
    match run_inner(cfg, &mut log) {
        Ok(code) => code,
        Err(e) => {
            log.warning(&e);
            1
        }
    }
}

fn run_inner(cfg: ServeConfig, log: &mut Log) -> Result<i32, String> {
    upgrade_legacy_aof(&cfg, log).map_err(|e| format!("Can't upgrade the old-style AOF: {e}"))?;
    let storage = RealDir::new(&cfg.dir)
        .map_err(|e| format!("Can't chdir to '{}': {e}", cfg.dir.display()))?;
    let t0 = Instant::now();
    let mut srv = Server::open(storage, SystemClock, cfg.persist.clone())
        .map_err(|e| format!("Fatal error loading the DB: {e}. Exiting."))?;
    let what = if cfg.persist.appendonly {
        "append only file"
    } else {
        "disk"
    };
    log.notice(&format!(
        "DB loaded from {what}: {:.3} seconds",
        t0.elapsed().as_secs_f64()
    ));
    srv.ensure_incr_file()
        .map_err(|e| format!("Can't open the append-only file: {e}"))?;
    srv.auto_finish = false;
    srv.set_group_commit(true)?;

    let mut poll = Poll::new().map_err(|e| e.to_string())?;
    let mut tcp = Vec::new();
    if cfg.port != 0 {
        for (addr, optional) in bind_addrs(&cfg).map_err(|e| e.to_string())? {
            let mut l = match TcpListener::bind(addr) {
                Ok(l) => l,
                // A `-`-prefixed bind address may be unavailable, as in Redis.
                Err(e) if optional => {
                    log.notice(&format!("Skipping the optional bind address {addr}: {e}"));
                    continue;
                }
                Err(e) => {
                    return Err(format!(
                        "Warning: Could not create server TCP listening socket {addr}: bind: {e}"
                    ))
                }
            };
            poll.registry()
                .register(&mut l, Token(TCP_BASE + tcp.len()), Interest::READABLE)
                .map_err(|e| e.to_string())?;
            tcp.push(l);
        }
    }
    let tcp_port = tcp
        .first()
        .and_then(|l| l.local_addr().ok())
        .map_or(cfg.port, |a| a.port());
    let mut unix = match &cfg.unixsocket {
        Some(p) => {
            let _ = std::fs::remove_file(p);
            let mut l = UnixListener::bind(p)
                .map_err(|e| format!("Failed opening Unix socket {}: {e}", p.display()))?;
            poll.registry()
                .register(&mut l, UNIX, Interest::READABLE)
                .map_err(|e| e.to_string())?;
            Some(l)
        }
        None => None,
    };
    let (sig_read, sig_write) =
        std::os::unix::net::UnixStream::pair().map_err(|e| e.to_string())?;
    sig_read.set_nonblocking(true).map_err(|e| e.to_string())?;
    sig_write.set_nonblocking(true).map_err(|e| e.to_string())?;
    for sig in [signal_hook::consts::SIGTERM, signal_hook::consts::SIGINT] {
        let w = sig_write.try_clone().map_err(|e| e.to_string())?;
        signal_hook::low_level::pipe::register(sig, w).map_err(|e| e.to_string())?;
    }
    let mut sig_read = mio::net::UnixStream::from_std(sig_read);
    poll.registry()
        .register(&mut sig_read, SIGNAL, Interest::READABLE)
        .map_err(|e| e.to_string())?;
    if let Some(p) = &cfg.pidfile {
        let _ = std::fs::write(p, format!("{}\n", std::process::id()));
    }
    log.notice("Server initialized");
    if cfg.port != 0 {
        log.notice(&format!(
            "Ready to accept connections tcp on port {tcp_port}"
        ));
    }
    if let Some(p) = &cfg.unixsocket {
        log.notice(&format!(
            "Ready to accept connections unix at {}",
            p.display()
        ));
    }
    let mut st = State {
        srv,
        cfg,
        log: Log::open(None).map_err(|e| e.to_string())?,
        clients: Vec::new(),
        free: Vec::new(),
        next_id: 1,
        started: Instant::now(),
        counters: Counters {
            last_bgrewrite_ok: true,
            last_rewrite_secs: -1,
            last_bgsave_secs: -1,
            ..Counters::default()
        },
        blocked_on: HashMap::new(),
        deadlines: BTreeSet::new(),
        ready: VecDeque::new(),
        ready_set: HashSet::new(),
        watched: HashMap::new(),
        to_process: Vec::new(),
        to_write: Vec::new(),
        shutdown: None,
        loose_config: Vec::new(),
        tcp_port,
    };
    std::mem::swap(&mut st.log, log);
    let code = st.serve(&mut poll, &mut tcp, unix.as_mut(), &mut sig_read);
    std::mem::swap(&mut st.log, log);
    if let Some(p) = &st.cfg.unixsocket {
        let _ = std::fs::remove_file(p);
    }
    if let Some(p) = &st.cfg.pidfile {
        let _ = std::fs::remove_file(p);
    }
    Ok(code)
}

impl State {
    fn serve(
        &mut self,
        poll: &mut Poll,
        tcp: &mut [TcpListener],
        mut unix: Option<&mut UnixListener>,
        sig: &mut mio::net::UnixStream,
    ) -> i32 {
        let mut events = Events::with_capacity(1024);
        let mut next_cron = Instant::now() + CRON_EVERY;
        loop {
            let now = Instant::now();
            let mut wake = next_cron;
            if let Some((d, _, _)) = self.deadlines.first() {
                wake = wake.min(*d);
            }
            let timeout = wake.saturating_duration_since(now);
            if let Err(e) = poll.poll(&mut events, Some(timeout)) {
                if e.kind() != io::ErrorKind::Interrupted {
                    self.log.warning(&format!("poll failed: {e}"));
                    return 1;
                }
            }
            for ev in events.iter() {
                match ev.token() {
                    SIGNAL => {
                        let mut b = [0u8; 64];
                        while matches!(sig.read(&mut b), Ok(n) if n > 0) {}
                        self.log
                            .warning("Received SIGTERM or SIGINT scheduling shutdown...");
                        self.shutdown = Some((ShutdownMode::Default, None));
                    }
                    UNIX => {
                        if let Some(l) = unix.as_deref_mut() {
                            self.accept_unix(poll, l);
                        }
                    }
                    Token(t) if t < CLIENT_BASE => {
                        if let Some(l) = tcp.get_mut(t - TCP_BASE) {
                            self.accept_tcp(poll, l);
                        }
                    }
                    Token(t) => {
                        let slot = t - CLIENT_BASE;
                        let Some(c) = self.clients.get_mut(slot).and_then(Option::as_mut) else {
                            continue;
                        };
                        if ev.is_readable() || ev.is_read_closed() {
                            if !c.read_available() {
                                c.dead = true;
                            }
                            self.to_process.push(slot);
                        }
                        if ev.is_writable() && c.has_output() {
                            self.to_write.push(slot);
                        }
                    }
                }
            }
            self.process_pending();
            let now = Instant::now();
            self.expire_blocked(now);
            if now >= next_cron {
                self.cron();
                next_cron = now + CRON_EVERY;
            }
            self.process_pending();
            if let Some((mode, asker)) = self.shutdown.take() {
                match self.prepare_shutdown(mode) {
                    Ok(()) => return 0,
                    Err(e) => {
                        self.log.warning(&format!(
                            "Errors trying to shut down the server: {e}. Check the logs for \
                             more information."
                        ));
                        if let Some(c) = asker.and_then(|s| self.clients.get_mut(s)?.as_mut()) {
                            super::proto::push_error(
                                &mut c.out,
                                "ERR Errors trying to SHUTDOWN. Check logs.",
                            );
                            self.to_write.push(c.slot);
                        }
                    }
                }
            }
            // beforeSleep: the turn's AOF bytes are written (and fsynced under always) before
            // any reply of the turn is sent.
            if let Err(why) = self.srv.sync_turn() {
                self.log.warning(&format!(
                    "Can't recover from AOF write error when the AOF fsync policy is 'always': \
                     {why}. Exiting..."
                ));
                return 1;
            }
            self.write_replies(poll);
        }
    }

    fn new_client(&mut self, poll: &Poll, mut stream: Stream, addr: String, laddr: String) {
        let slot = self.free.pop().unwrap_or_else(|| {
            self.clients.push(None);
            self.clients.len() - 1
        });
        if poll
            .registry()
            .register(
                &mut stream,
                Token(CLIENT_BASE + slot),
                Interest::READABLE | Interest::WRITABLE,
            )
            .is_err()
        {
            self.free.push(slot);
            return;
        }
        let id = self.next_id;
        self.next_id += 1;
        self.counters.connections += 1;
        self.clients[slot] = Some(Client::new(id, slot, stream, addr, laddr));
    }

    fn accept_tcp(&mut self, poll: &Poll, l: &mut TcpListener) {
        loop {
            match l.accept() {
                Ok((s, peer)) => {
                    let _ = s.set_nodelay(true);
                    let local = s.local_addr().map(|a| a.to_string()).unwrap_or_default();
                    self.new_client(poll, Stream::Tcp(s), peer.to_string(), local);
                }
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => return,
                Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                Err(e) => {
                    self.counters.rejected += 1;
                    self.log
                        .warning(&format!("Accepting client connection: {e}"));
                    return;
                }
            }
        }
    }

    fn accept_unix(&mut self, poll: &Poll, l: &mut UnixListener) {
        loop {
            match l.accept() {
                Ok((s, _)) => {
                    let path = self
                        .cfg
                        .unixsocket
                        .as_ref()
                        .map(|p| p.display().to_string())
                        .unwrap_or_default();
                    self.new_client(poll, Stream::Unix(s), format!("{path}:0"), path);
                }
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => return,
                Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                Err(_) => return,
            }
        }
    }

    /// Runs the clients with input until nothing more is ready (unblocked clients go on with
    /// their pipelines, which may make more keys ready).
    fn process_pending(&mut self) {
        loop {
            let work = std::mem::take(&mut self.to_process);
            if work.is_empty() && self.ready.is_empty() {
                return;
            }
            for slot in work {
                self.process_client(slot);
            }
            self.serve_ready_keys();
        }
    }

    /// Parses and runs every complete command a client sent (stopping when it blocks).
    fn process_client(&mut self, slot: usize) {
        let Some(mut c) = self.clients.get_mut(slot).and_then(Option::take) else {
            return;
        };
        let buf = std::mem::take(&mut c.qbuf);
        let mut pos = c.qpos;
        while c.blocked.is_none() && !c.close_after_reply && self.shutdown.is_none() {
            match super::proto::parse_request(&buf, pos) {
                Ok(None) => break,
                Ok(Some((req, end))) => {
                    pos = end;
                    match req {
                        super::proto::Request::Ranges(r) => {
                            let argv: Vec<&[u8]> = r.iter().map(|&(a, b)| &buf[a..b]).collect();
                            self.call(&mut c, &argv);
                        }
                        super::proto::Request::Owned(v) => {
                            let argv: Vec<&[u8]> = v.iter().map(Vec::as_slice).collect();
                            self.call(&mut c, &argv);
                        }
                        super::proto::Request::Empty => {}
                    }
                }
                Err(e) => {
                    super::proto::push_error(&mut c.out, &e);
                    c.close_after_reply = true;
                    pos = buf.len();
                }
            }
        }
        c.qbuf = buf;
        if pos >= c.qbuf.len() {
            c.qbuf.clear();
            c.qpos = 0;
        } else if pos > 64 * 1024 {
            c.qbuf.drain(..pos);
            c.qpos = 0;
        } else {
            c.qpos = pos;
        }
        if c.has_output() || c.dead || c.close_after_reply {
            self.to_write.push(slot);
        }
        self.clients[slot] = Some(c);
    }

    /// Sends every pending reply; frees dead clients and closes those that asked to be.
    fn write_replies(&mut self, poll: &Poll) {
        let mut slots = std::mem::take(&mut self.to_write);
        slots.sort_unstable();
        slots.dedup();
        for slot in slots {
            let Some(c) = self.clients.get_mut(slot).and_then(Option::as_mut) else {
                continue;
            };
            // A peer that only half-closed still reads the replies to what it sent.
            if !c.flush() {
                c.dead = true;
            }
            if c.dead || (c.close_after_reply && !c.has_output()) {
                self.free_client(poll, slot);
            }
        }
    }

    fn free_client(&mut self, poll: &Poll, slot: usize) {
        let Some(mut c) = self.clients.get_mut(slot).and_then(Option::take) else {
            return;
        };
        let _ = poll.registry().deregister(&mut c.stream);
        self.unblock(&mut c);
        self.unwatch_all(&mut c);
        self.free.push(slot);
    }

    /// Marks a key touched by a write as ready for the clients blocked on it.
    pub fn signal_ready(&mut self, db: u64, key: &[u8]) {
        let k = (db, key.to_vec());
        if self.blocked_on.contains_key(&k) && self.ready_set.insert(k.clone()) {
            self.ready.push_back(k);
        }
    }

    fn serve_ready_keys(&mut self) {
        while let Some(k) = self.ready.pop_front() {
            self.ready_set.remove(&k);
            let waiting: Vec<usize> = self
                .blocked_on
                .get(&k)
                .map(|q| q.iter().copied().collect())
                .unwrap_or_default();
            for slot in waiting {
                self.retry_blocked(slot);
            }
        }
    }

    fn expire_blocked(&mut self, now: Instant) {
        while let Some(&(d, id, slot)) = self.deadlines.first() {
            if d > now {
                return;
            }
            self.deadlines.pop_first();
            let Some(mut c) = self.clients.get_mut(slot).and_then(Option::take) else {
                continue;
            };
            if c.id == id {
                if let Some(b) = c.blocked.clone() {
                    self.unblock(&mut c);
                    let array = !matches!(b.name.as_str(), "blmove" | "brpoplpush");
                    super::proto::push_null(&mut c.out, c.resp, array);
                    self.to_write.push(slot);
                    self.to_process.push(slot);
                }
            }
            self.clients[slot] = Some(c);
        }
    }

    fn cron(&mut self) {
        // `save` rules start a BGSAVE that finishes in a later cron, as Redis's fork does
        // (the persisting server's own tick would save synchronously, stalling every client).
        if let Some(rule) = self.srv.due_save_rule(self.srv.now_ms()) {
            self.log.notice(&format!(
                "{} changes in {} seconds. Saving...",
                rule.changes, rule.secs
            ));
            if let Err(e) = self.srv.bgsave_start() {
                self.log.warning(&format!("Can't save in background: {e}"));
            } else {
                self.log.notice("Background saving started");
            }
        }
        self.srv.tick();
        if self.srv.bgsave_finished() {
            let started = self.srv.jobs_started_ms().0.unwrap_or(0);
            match self.srv.bgsave_finish() {
                Ok(()) => {
                    self.counters.rdb_saves += 1;
                    self.log.notice("Background saving terminated with success");
                }
                Err(e) => self.log.warning(&format!("Background saving error: {e}")),
            }
            self.counters.last_bgsave_secs = (self.srv.now_ms() - started) / 1000;
        }
        match self.srv.start_scheduled_rewrite() {
            Some(Ok(())) => self
                .log
                .notice("Background append only file rewriting started"),
            Some(Err(e)) => self
                .log
                .warning(&format!("Can't start the scheduled rewrite: {e}")),
            None => {}
        }
        if self.srv.rewrite_finished() {
            let started = self.srv.jobs_started_ms().1.unwrap_or(0);
            let r = self.srv.bgrewriteaof_finish();
            self.counters.last_bgrewrite_ok = r.is_ok();
            self.counters.last_rewrite_secs = (self.srv.now_ms() - started) / 1000;
            match r {
                Ok(()) => {
                    self.counters.aof_rewrites += 1;
                    self.log
                        .notice("Background AOF rewrite finished successfully");
                }
                Err(e) => self
                    .log
                    .warning(&format!("Background AOF rewrite failed: {e}")),
            }
        }
    }

    /// SHUTDOWN: the AOF written and fsynced, a final SAVE per `mode`; background jobs dropped.
    fn prepare_shutdown(&mut self, mode: ShutdownMode) -> Result<(), String> {
        self.log.warning("User requested shutdown...");
        match mode {
            ShutdownMode::NoSave => {
                let _ = self.srv.config_set("save", "");
            }
            ShutdownMode::Save => {
                self.log
                    .notice("Saving the final RDB snapshot before exiting.");
                self.srv.save()?;
            }
            ShutdownMode::Default => {
                if !self.srv.config().save.is_empty() {
                    self.log
                        .notice("Saving the final RDB snapshot before exiting.");
                }
            }
        }
        if self.srv.config().appendonly {
            self.log.notice("Calling fsync() on the AOF file.");
        }
        self.srv.shutdown()?;
        self.log.warning("Redis is now ready to exit, bye bye...");
        Ok(())
    }
}
