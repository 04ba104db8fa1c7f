//! Runs one history against a server under the recorder: every command is sent over RESP and
//! its reply timed; acknowledged writes go to the model (`redis_persist_model::Keyspace`) and to
//! the promises of `durability::Durability`; then the whole process group is SIGKILLed.
use crate::image::DirState;
use crate::launch::{Conn, Launch, Proc, StartConfig};
use crate::recorder::Recorder;
use crate::trace::{Op, SyncKind};
use crate::workload::{show_cmd, History, Step};
use crate::{parse_killed, Trace};
use redis_persist_engine::format::resp::Reply;
use redis_persist_model::durability::{Durability, Fsync};
use redis_persist_model::{Keyspace, Reply as MReply, Session};
use std::path::Path;
use std::time::{Duration, Instant};

/// How long a BGSAVE or rewrite may take before the history gives up on it.
const IDLE_TIMEOUT: Duration = Duration::from_secs(30);
/// How long the reply to a write that met a disk fault is awaited.
const FAULT_REPLY_WAIT: Duration = Duration::from_secs(2);

/// What a recorded run left: the trace, the real directory, and what the model says may be
/// recovered from it.
pub struct Recorded {
    /// The recorder's trace, cut at the kill.
    pub trace: Trace,
    /// The data directory as the kill left it.
    pub real: DirState,
    /// The promises after a power loss.
    pub power: Durability<Keyspace>,
    /// The promises after a process kill: every write the server made before replying.
    pub process: Durability<Keyspace>,
    /// Every state of the run in order: `states[k]` follows the first `k` acknowledged writes.
    pub states: Vec<Keyspace>,
    /// The state the in-flight write would give, if it changes anything.
    pub in_flight: Option<Keyspace>,
    /// Whether the AOF was on at the kill (a restart uses it).
    pub aof_on: bool,
    /// Milliseconds from the start of the history to the kill.
    pub crash_ms: i64,
    /// Each step with its reply and time.
    pub log: Vec<String>,
    /// Replies where the server and the model disagree (the model is then not a sound oracle).
    pub divergences: Vec<String>,
}

fn fsync_of(v: &str) -> Fsync {
    match v {
        "always" => Fsync::Always,
        "no" => Fsync::No,
        _ => Fsync::Everysec,
    }
}

/// Whether a server reply agrees with the model's: errors with errors, integers and bulks by value.
fn agrees(got: &Reply, want: &MReply) -> bool {
    match (got, want) {
        (Reply::Error(_), MReply::Error(_)) => true,
        (Reply::Error(_), _) | (_, MReply::Error(_)) => false,
        (Reply::Int(a), MReply::Int(b)) => a == b,
        (Reply::Bulk(a), MReply::Bulk(b)) => a == b,
        (Reply::Array(Some(a)), MReply::Array(b)) => {
            a.len() == b.len() && a.iter().zip(b).all(|(x, y)| agrees(x, y))
        }
        _ => true,
    }
}

fn show_reply(r: &Reply) -> String {
    match r {
        Reply::Simple(s) => s.clone(),
        Reply::Error(e) => format!("-{e}"),
        Reply::Int(i) => format!(":{i}"),
        Reply::Bulk(None) | Reply::Array(None) => "nil".into(),
        Reply::Bulk(Some(b)) if b.len() > 24 => format!("<{} bytes>", b.len()),
        Reply::Bulk(Some(b)) => format!("{:?}", String::from_utf8_lossy(b)),
        Reply::Array(Some(v)) => format!("[{} replies]", v.len()),
    }
}

struct Driver {
    conn: Conn,
    t0: Instant,
    model: Keyspace,
    session: Session,
    fsync: String,
    aof_on: bool,
    save_rules: bool,
    power: Durability<Keyspace>,
    process: Durability<Keyspace>,
    states: Vec<Keyspace>,
    bgsave: Option<Keyspace>,
    /// Rule-driven snapshot candidates noted while `bgsave` was pending: a rule may snapshot
    /// them after that BGSAVE ends, so settling it must not discard them.
    after_bgsave: Vec<Keyspace>,
    rewrite: bool,
    log: Vec<String>,
    divergences: Vec<String>,
}

impl Driver {
    fn now_ms(&self) -> i64 {
        self.t0.elapsed().as_millis() as i64
    }

    fn call(&mut self, argv: &[String]) -> Result<Reply, String> {
        self.conn
            .call(argv)
            .map_err(|e| format!("{}: {e}", show_cmd(argv)))
    }

    /// A model's new state was acknowledged now.
    fn acked(&mut self, state: Keyspace) {
        let at = self.now_ms();
        let f = fsync_of(&self.fsync);
        self.power.ack(state.clone(), at, f);
        // Before replying the server has written (not synced) the AOF, under every policy but
        // everysec while a background fsync is slow (then it may postpone the write up to 2 s).
        let pf = if f == Fsync::Everysec {
            Fsync::Everysec
        } else {
            Fsync::Always
        };
        self.process.ack(state.clone(), at, pf);
        if self.save_rules {
            // A `save` rule may snapshot any later state at a time the driver does not see.
            self.rule_candidate(state.clone());
        }
        self.states.push(state);
    }

    fn snapshot(&mut self, state: Keyspace, ok: bool) {
        self.power.snapshot(state.clone(), ok);
        self.process.snapshot(state, ok);
    }

    /// A state a `save` rule may snapshot unseen.
    fn rule_candidate(&mut self, state: Keyspace) {
        if self.bgsave.is_some() {
            self.after_bgsave.push(state.clone());
        }
        self.snapshot(state, false);
    }

    /// The pending BGSAVE ended (as `ok` or not). The rule-driven candidates noted since it
    /// started stay candidates: a rule may have snapshotted them after it.
    fn bgsave_ended(&mut self, ok: bool) {
        if let Some(state) = self.bgsave.take() {
            self.snapshot(state, ok);
        }
        for s in std::mem::take(&mut self.after_bgsave) {
            self.snapshot(s, false);
        }
    }

    /// Commands (one, or a transaction) on the server and the model.
    fn commands(&mut self, cmds: &[Vec<String>], multi: bool) -> Result<String, String> {
        let mut wrap: Vec<Vec<String>> = Vec::new();
        if multi {
            wrap.push(vec!["MULTI".into()]);
        }
        wrap.extend(cmds.iter().cloned());
        if multi {
            wrap.push(vec!["EXEC".into()]);
        }
        let before = self.model.clone();
        let now = self.now_ms();
        let mut replies = Vec::new();
        for c in &wrap {
            let got = self.call(c)?;
            let argv: Vec<Vec<u8>> = c.iter().map(|a| a.clone().into_bytes()).collect();
            let want = self.model.apply(&mut self.session, now, &argv);
            if !agrees(&got, &want) {
                self.divergences.push(format!(
                    "{}: server {}, model {want:?}",
                    show_cmd(c),
                    show_reply(&got)
                ));
            }
            replies.push(show_reply(&got));
        }
        if self.model != before {
            let s = self.model.clone();
            self.acked(s);
        }
        Ok(replies.join(" "))
    }

    fn info(&mut self) -> Result<String, String> {
        let r = self.call(&["INFO".into(), "persistence".into()])?;
        r.into_text().map_err(|e| format!("INFO: {e}"))
    }

    /// Settles a BGSAVE that has finished, so that a later snapshot is not overtaken by it.
    fn settle_bgsave(&mut self) -> Result<(), String> {
        if self.bgsave.is_some() {
            let info = self.info()?;
            if info.contains("rdb_bgsave_in_progress:0") {
                self.bgsave_ended(info.contains("rdb_last_bgsave_status:ok"));
            }
        }
        Ok(())
    }

    /// Waits until no background job runs or is scheduled; settles the pending BGSAVE and rewrite.
    fn wait_idle(&mut self) -> Result<String, String> {
        let deadline = Instant::now() + IDLE_TIMEOUT;
        let info = loop {
            let info = self.info()?;
            let busy = [
                "rdb_bgsave_in_progress:1",
                "aof_rewrite_in_progress:1",
                "aof_rewrite_scheduled:1",
            ];
            if !busy.iter().any(|b| info.contains(b)) {
                break info;
            }
            if Instant::now() > deadline {
                return Err(format!(
                    "background jobs still running after {IDLE_TIMEOUT:?}"
                ));
            }
            std::thread::sleep(Duration::from_millis(5));
        };
        let mut out = Vec::new();
        if self.bgsave.is_some() {
            let ok = info.contains("rdb_last_bgsave_status:ok");
            self.bgsave_ended(ok);
            out.push(format!("bgsave {}", if ok { "ok" } else { "failed" }));
        }
        if std::mem::take(&mut self.rewrite) {
            let ok = info.contains("aof_last_bgrewrite_status:ok");
            self.power.rewrite_finished(ok);
            self.process.rewrite_finished(ok);
            out.push(format!("rewrite {}", if ok { "ok" } else { "failed" }));
        }
        Ok(out.join(", "))
    }

    /// Awaits the reply to `c`, sent while a disk fault was armed. An acknowledgement makes it a
    /// write like any other (true); an error, a closed connection or silence leave it in flight.
    fn faulted_reply(&mut self, c: &[String], trace: &Path) -> bool {
        let at = self.now_ms();
        let got = self
            .conn
            .set_read_timeout(FAULT_REPLY_WAIT)
            .and_then(|()| self.conn.recv());
        let fired = if crate::recorder::fault_fired(trace) {
            "the fault fired"
        } else {
            "the fault did not fire"
        };
        let cmd = show_cmd(c);
        match got {
            Ok(r) if !matches!(r, Reply::Error(_)) => {
                let before = self.model.clone();
                let argv: Vec<Vec<u8>> = c.iter().map(|a| a.clone().into_bytes()).collect();
                let want = self.model.apply(&mut self.session, at, &argv);
                if !agrees(&r, &want) {
                    let got = show_reply(&r);
                    self.divergences
                        .push(format!("{cmd}: server {got}, model {want:?}"));
                }
                if self.model != before {
                    let s = self.model.clone();
                    self.acked(s);
                }
                let got = show_reply(&r);
                self.log.push(format!(
                    "{at:>6} ms  {cmd} under a disk fault -> {got} ({fired}; acknowledged)"
                ));
                true
            }
            Ok(r) => {
                let got = show_reply(&r);
                self.log.push(format!(
                    "{at:>6} ms  {cmd} under a disk fault -> {got} ({fired}; refused)"
                ));
                false
            }
            Err(e) => {
                self.log.push(format!(
                    "{at:>6} ms  {cmd} under a disk fault -> no reply: {e} ({fired})"
                ));
                false
            }
        }
    }

    fn step(&mut self, step: &Step) -> Result<String, String> {
        match step {
            Step::Write(c) => self.commands(std::slice::from_ref(c), false),
            Step::Multi(cs) => self.commands(cs, true),
            Step::Select(db) => self.commands(&[vec!["SELECT".into(), db.to_string()]], false),
            Step::Save => {
                self.settle_bgsave()?;
                let r = self.call(&["SAVE".into()])?;
                if !matches!(r, Reply::Error(_)) {
                    let s = self.model.clone();
                    self.snapshot(s, true);
                }
                Ok(show_reply(&r))
            }
            Step::Bgsave => {
                self.settle_bgsave()?;
                let r = self.call(&["BGSAVE".into()])?;
                if matches!(&r, Reply::Simple(s) if s.contains("started")) {
                    self.bgsave_ended(false);
                    self.bgsave = Some(self.model.clone());
                }
                Ok(show_reply(&r))
            }
            Step::Rewrite => {
                let r = self.call(&["BGREWRITEAOF".into()])?;
                if matches!(r, Reply::Simple(_)) && !self.rewrite {
                    // Scheduled rewrites start later: starting the promise now is the lenient side.
                    self.power.rewrite_started();
                    self.process.rewrite_started();
                    self.rewrite = true;
                }
                Ok(show_reply(&r))
            }
            Step::Config(name, value) => {
                let argv = vec!["CONFIG".into(), "SET".into(), name.clone(), value.clone()];
                let r = self.call(&argv)?;
                if matches!(r, Reply::Error(_)) {
                    return Ok(show_reply(&r));
                }
                match (name.as_str(), value.as_str()) {
                    ("appendfsync", v) => self.fsync = v.to_string(),
                    ("save", v) => {
                        self.save_rules = v == "1 1";
                        if self.save_rules {
                            // The first rule-driven snapshot may hold the state of right now.
                            let s = self.model.clone();
                            self.rule_candidate(s);
                        }
                    }
                    ("appendonly", "no") if self.aof_on => {
                        self.aof_on = false;
                        self.rewrite = false;
                        self.power.aof_stopped();
                        self.process.aof_stopped();
                    }
                    ("appendonly", "yes") if !self.aof_on => {
                        // The AOF is on once the rewrite it starts has finished: wait for it.
                        self.rewrite = false;
                        let done = self.wait_idle()?;
                        let info = self.info()?;
                        if info.contains("aof_last_bgrewrite_status:ok")
                            && info.contains("aof_enabled:1")
                        {
                            self.aof_on = true;
                            self.power.aof_created();
                            self.process.aof_created();
                        } else {
                            return Err(format!("appendonly yes did not finish: {done}"));
                        }
                    }
                    _ => {}
                }
                Ok(show_reply(&r))
            }
            Step::Sleep(ms) => {
                std::thread::sleep(Duration::from_millis(u64::from(*ms)));
                Ok(String::new())
            }
            Step::WaitIdle => self.wait_idle(),
        }
    }
}

/// Where one recorded run keeps its files.
pub struct RunDirs<'a> {
    /// The server's data directory (empty at the start).
    pub data: &'a Path,
    /// The trace file.
    pub trace: &'a Path,
    /// The server's log.
    pub log: &'a Path,
}

/// Flushes (all but `sync_file_range`, which makes nothing durable) that completed so far.
fn flushes_done(trace: &Path) -> usize {
    let bytes = std::fs::read(trace).unwrap_or_default();
    let (t, _) = crate::parse::parse_prefix(&bytes);
    t.records
        .iter()
        .filter(|r| {
            r.ret == 0
                && matches!(r.op, Op::SyncEnd { kind, .. } if kind != SyncKind::SyncFileRange)
        })
        .count()
}

/// Runs `h` against `launch` under `recorder`, kills it, and returns what it left.
pub fn record(
    launch: &Launch,
    recorder: &Recorder,
    dirs: &RunDirs<'_>,
    h: &History,
) -> Result<Recorded, String> {
    let cfg = StartConfig {
        appendonly: h.policy.aof(),
        appendfsync: h.policy.appendfsync().into(),
    };
    let mut proc = Proc::start(
        launch,
        dirs.data,
        dirs.log,
        &cfg,
        Some((recorder, dirs.trace)),
    )?;
    let conn = proc.connect()?;
    let empty = Keyspace::new();
    let dur = Durability::new(empty.clone(), vec![empty.clone()], cfg.appendonly);
    let mut d = Driver {
        conn,
        t0: Instant::now(),
        model: empty.clone(),
        session: Session::default(),
        fsync: cfg.appendfsync.clone(),
        aof_on: cfg.appendonly,
        save_rules: false,
        power: dur.clone(),
        process: dur,
        states: vec![empty],
        bgsave: None,
        after_bgsave: Vec::new(),
        rewrite: false,
        log: Vec::new(),
        divergences: Vec::new(),
    };
    let mut flush_base = 0;
    for (i, (step, id)) in h.steps.iter().zip(&h.ids).enumerate() {
        if i + 1 == h.steps.len() && h.kill.after_flushes.is_some() {
            flush_base = flushes_done(dirs.trace);
        }
        let at = d.now_ms();
        let out = d.step(step).map_err(|e| {
            let tail = crate::launch::log_tail(dirs.log, 6);
            format!("step {id} ({step}): {e}\n{tail}")
        })?;
        d.log.push(format!("{at:>6} ms  {id}: {step} -> {out}"));
    }
    if let Some(n) = h.kill.after_flushes {
        // Armed only now: a server stopped before it replied would leave the driver waiting.
        crate::recorder::arm_stop(dirs.trace, flush_base + n as usize)
            .map_err(|e| format!("writing the stop file: {e}"))?;
    }
    let mut in_flight = None;
    if let Some(c) = &h.kill.in_flight {
        let at = d.now_ms();
        // A disk fault means something only where a failed append must be refused.
        let fault = h.kill.disk_fault && d.aof_on && d.fsync == "always";
        if fault {
            crate::recorder::arm_fault(dirs.trace)
                .map_err(|e| format!("writing the fault file: {e}"))?;
        }
        d.conn.send(c).map_err(|e| format!("sending {c:?}: {e}"))?;
        let mut trial = d.model.clone();
        let argv: Vec<Vec<u8>> = c.iter().map(|a| a.clone().into_bytes()).collect();
        trial.apply(&mut d.session.clone(), at, &argv);
        let acked = if fault {
            d.faulted_reply(c, dirs.trace)
        } else {
            d.log
                .push(format!("{at:>6} ms  sent {} (in flight)", show_cmd(c)));
            false
        };
        if !acked && trial != d.model {
            d.power.unacknowledged(trial.clone());
            d.process.unacknowledged(trial.clone());
            in_flight = Some(trial);
        }
    }
    let wait = Duration::from_millis(u64::from(h.kill.delay_ms));
    let mut seen = String::new();
    match h.kill.after_flushes {
        Some(n) => {
            let deadline = Instant::now() + wait;
            let mut done = 0;
            while done < n as usize && Instant::now() < deadline {
                std::thread::sleep(Duration::from_micros(100));
                done = flushes_done(dirs.trace).saturating_sub(flush_base);
            }
            seen = format!(" ({done} of {n} flushes seen)");
        }
        None => std::thread::sleep(wait),
    }
    // The crash time is taken before the signal: a promise measured from it is the smaller one.
    let crash_ms = d.now_ms();
    proc.kill();
    d.log.push(format!("{crash_ms:>6} ms  SIGKILL{seen}"));
    // It may have finished and renamed its file before the kill.
    d.bgsave_ended(false);
    let bytes = std::fs::read(dirs.trace).map_err(|e| format!("reading the trace: {e}"))?;
    let trace = parse_killed(&bytes).map_err(|e| format!("the trace does not parse: {e}"))?;
    let real = DirState::read(dirs.data).map_err(|e| format!("reading the data dir: {e}"))?;
    Ok(Recorded {
        trace,
        real,
        power: d.power,
        process: d.process,
        states: d.states,
        in_flight,
        aof_on: d.aof_on,
        crash_ms,
        log: d.log,
        divergences: d.divergences,
    })
}
