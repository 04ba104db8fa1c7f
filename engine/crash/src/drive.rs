//! Runs one history against a server under the recorder: every command is sent over RESP and
//! its reply timed; acknowledged writes go to the model (`redis_persist_model::Keyspace`) and to
//! the promises of `durability::Durability`. `run.rs` starts the server and kills it.
use crate::launch::{Conn, StartConfig};
use crate::workload::{show_cmd, Step};
use redis_persist_engine::format::resp::Reply;
use redis_persist_model::durability::{Durability, Fsync};
use redis_persist_model::{Keyspace, Reply as MReply, Session};
use std::path::Path;
use std::time::{Duration, Instant};

/// How long a BGSAVE or rewrite may take before the history gives up on it.
const IDLE_TIMEOUT: Duration = Duration::from_secs(30);
/// How long the reply to a write that met a disk fault is awaited.
const FAULT_REPLY_WAIT: Duration = Duration::from_secs(2);

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

pub(crate) struct Driver {
    pub(crate) conn: Conn,
    pub(crate) t0: Instant,
    pub(crate) model: Keyspace,
    pub(crate) session: Session,
    pub(crate) fsync: String,
    pub(crate) aof_on: bool,
    pub(crate) save_rules: bool,
    pub(crate) power: Durability<Keyspace>,
    pub(crate) process: Durability<Keyspace>,
    pub(crate) states: Vec<Keyspace>,
    pub(crate) bgsave: Option<Keyspace>,
    /// Rule-driven snapshot candidates noted while `bgsave` was pending: a rule may snapshot
    /// them after that BGSAVE ends, so settling it must not discard them.
    pub(crate) after_bgsave: Vec<Keyspace>,
    pub(crate) rewrite: bool,
    pub(crate) log: Vec<String>,
    pub(crate) divergences: Vec<String>,
}

impl Driver {
    /// A driver for a server just started under `cfg`, with an empty dataset.
    pub(crate) fn new(conn: Conn, cfg: &StartConfig) -> Driver {
        let empty = Keyspace::new();
        let dur = Durability::new(empty.clone(), vec![empty.clone()], cfg.appendonly);
        Driver {
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
        }
    }

    pub(crate) fn now_ms(&self) -> i64 {
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
    pub(crate) fn bgsave_ended(&mut self, ok: bool) {
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
            self.model_reply(c, &got, now);
            replies.push(show_reply(&got));
        }
        if self.model != before {
            let s = self.model.clone();
            self.acked(s);
        }
        Ok(replies.join(" "))
    }

    /// Applies `c` to the model as the server replied `got` at `now`; a reply the model does not
    /// agree with is a divergence.
    fn model_reply(&mut self, c: &[String], got: &Reply, now: i64) {
        let argv: Vec<Vec<u8>> = c.iter().map(|a| a.clone().into_bytes()).collect();
        let want = self.model.apply(&mut self.session, now, &argv);
        if !agrees(got, &want) {
            self.divergences.push(format!(
                "{}: server {}, model {want:?}",
                show_cmd(c),
                show_reply(got)
            ));
        }
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
    pub(crate) fn faulted_reply(&mut self, c: &[String], trace: &Path) -> bool {
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
                self.model_reply(c, &r, at);
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

    pub(crate) fn step(&mut self, step: &Step) -> Result<String, String> {
        match step {
            Step::Write(c) => self.commands(std::slice::from_ref(c), false),
            Step::Multi(cs) => self.commands(cs, true),
            Step::Select(db) => self.commands(&[vec!["SELECT".into(), db.to_string()]], false),
            Step::Save => {
                self.settle_bgsave()?;
                let r = self.call(&["SAVE".into()])?;
                if !matches!(r, Reply::Error(_)) {
                    // A server refuses SAVE while a BGSAVE runs: one still pending here ended
                    // between the INFO above and the SAVE, so it comes before this snapshot.
                    if self.bgsave.is_some() {
                        self.bgsave_ended(false);
                    }
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

#[cfg(test)]
#[path = "drive_tests.rs"]
mod tests;
