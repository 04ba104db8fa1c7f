//! The persistence state machine: random histories of commands, saves, rewrites, clock ticks,
//! configuration changes, injected disk faults and crashes, run through `redis_persist_engine::persist::Server`
//! on a simulated disk and through the model, which must agree after every step.
//!
//! Invariants: the engine's dataset equals the model's after every step; after a crash and
//! restart the recovered dataset is one `redis_persist_model::durability` allows; every file on the disk decodes.
//! `run` returns the first violation as text; the proptest suite, `cargo test` and the
//! `engine_model` fuzz target all call it.
use crate::neutral::{from_engine, from_model, Neutral};
use arbitrary::Arbitrary;
use redis_persist_engine::keyspace::Session;
use redis_persist_engine::persist::{AppendFsync, PersistConfig, Sabotage, Server, SimClock};
use redis_persist_engine::storage::{CrashImage, Op, SimDisk};
use redis_persist_model::durability::{Durability, Fsync};

/// Clock start: 2027-01-15.
const T0: i64 = 1_800_000_000_000;

/// A data command on a small key space (three keys, so commands collide).
#[derive(Debug, Clone, Arbitrary)]
pub enum Cmd {
    /// SET k v, optionally with PX.
    Set(u8, u8, Option<u16>),
    /// INCR k.
    Incr(u8),
    /// APPEND k v.
    Append(u8, u8),
    /// DEL k.
    Del(u8),
    /// RPUSH k v.
    Rpush(u8, u8),
    /// LPOP k.
    Lpop(u8),
    /// SADD k m.
    Sadd(u8, u8),
    /// SREM k m.
    Srem(u8, u8),
    /// HSET k f v.
    Hset(u8, u8, u8),
    /// HDEL k f.
    Hdel(u8, u8),
    /// ZADD k score m.
    Zadd(u8, i8, u8),
    /// ZREM k m.
    Zrem(u8, u8),
    /// EXPIRE k seconds.
    Expire(u8, u8),
    /// PERSIST k.
    Persist(u8),
    /// GET k (a read).
    Get(u8),
    /// FLUSHDB.
    Flushdb,
}

/// A setting the machine changes.
#[derive(Debug, Clone, Copy, Arbitrary)]
pub enum Setting {
    /// appendfsync always / everysec / no.
    Fsync(u8),
    /// appendonly yes / no.
    Appendonly(bool),
    /// aof-use-rdb-preamble.
    Preamble(bool),
    /// save "1 1" or "".
    SaveRules(bool),
    /// zset-max-listpack-entries 1 or 128 (an encoding threshold).
    ZsetEntries(bool),
}

/// One transition.
#[derive(Debug, Clone, Arbitrary)]
pub enum Step {
    /// A command in the current database.
    Cmd(Cmd),
    /// MULTI, the commands, EXEC.
    Multi(Vec<Cmd>),
    /// SELECT 0 or 1.
    Select(bool),
    /// SAVE.
    Save,
    /// BGSAVE started (its snapshot is the state now).
    BgsaveStart,
    /// The running BGSAVE finished.
    BgsaveFinish,
    /// BGREWRITEAOF started.
    RewriteStart,
    /// The running rewrite finished.
    RewriteFinish,
    /// Time passes (ms, up to 4 s), then the server's clock work runs.
    Tick(u16),
    /// CONFIG SET.
    Config(Setting),
    /// The n-th next write / fsync / rename fails.
    FailNext(u8, u8),
    /// SHUTDOWN, then power loss (nothing unsynced survives) and a restart.
    Restart,
    /// Power loss with a crash image (0: lose unsynced, 1: keep written, else torn by the
    /// value), then a restart.
    Crash(u8),
}

fn key(k: u8) -> String {
    format!("k{}", k % 3)
}

fn small(v: u8) -> String {
    format!("{}", v % 5)
}

impl Cmd {
    /// The command's arguments.
    pub fn argv(&self) -> Vec<String> {
        let s = |v: &[String]| v.to_vec();
        match *self {
            Cmd::Set(k, v, None) => s(&["SET".into(), key(k), small(v)]),
            Cmd::Set(k, v, Some(ms)) => s(&[
                "SET".into(),
                key(k),
                small(v),
                "PX".into(),
                (ms as u64 % 5000 + 1).to_string(),
            ]),
            Cmd::Incr(k) => s(&["INCR".into(), key(k)]),
            Cmd::Append(k, v) => s(&["APPEND".into(), key(k), small(v)]),
            Cmd::Del(k) => s(&["DEL".into(), key(k)]),
            Cmd::Rpush(k, v) => s(&["RPUSH".into(), key(k), small(v)]),
            Cmd::Lpop(k) => s(&["LPOP".into(), key(k)]),
            Cmd::Sadd(k, m) => s(&["SADD".into(), key(k), small(m)]),
            Cmd::Srem(k, m) => s(&["SREM".into(), key(k), small(m)]),
            Cmd::Hset(k, f, v) => s(&["HSET".into(), key(k), small(f), small(v)]),
            Cmd::Hdel(k, f) => s(&["HDEL".into(), key(k), small(f)]),
            Cmd::Zadd(k, sc, m) => s(&["ZADD".into(), key(k), (sc % 4).to_string(), small(m)]),
            Cmd::Zrem(k, m) => s(&["ZREM".into(), key(k), small(m)]),
            Cmd::Expire(k, secs) => s(&["EXPIRE".into(), key(k), (secs % 6).to_string()]),
            Cmd::Persist(k) => s(&["PERSIST".into(), key(k)]),
            Cmd::Get(k) => s(&["GET".into(), key(k)]),
            Cmd::Flushdb => s(&["FLUSHDB".into()]),
        }
    }
}

/// The machine's state: engine, model, and the durability bookkeeping.
struct Machine {
    srv: Option<Server<SimDisk, SimClock>>,
    cfg: PersistConfig,
    clock: SimClock,
    session: Session,
    model: redis_persist_model::Keyspace,
    msession: redis_persist_model::Session,
    dur: Durability<redis_persist_model::Keyspace>,
    bgsave: Option<redis_persist_model::Keyspace>,
    log: Vec<String>,
}

fn fsync_of(cfg: &PersistConfig) -> Fsync {
    match cfg.appendfsync {
        AppendFsync::Always => Fsync::Always,
        AppendFsync::Everysec => Fsync::Everysec,
        AppendFsync::No => Fsync::No,
    }
}

impl Machine {
    fn new(sabotage: Sabotage) -> Result<Machine, String> {
        let cfg = PersistConfig {
            appendonly: true,
            appendfsync: AppendFsync::Always,
            save: Vec::new(),
            sabotage,
            ..PersistConfig::default()
        };
        let clock = SimClock::at(T0);
        let mut srv = Server::open(SimDisk::new(), clock.clone(), cfg.clone())
            .map_err(|e| format!("first start failed: {e}"))?;
        srv.auto_finish = false;
        let model = redis_persist_model::Keyspace::new();
        Ok(Machine {
            srv: Some(srv),
            dur: Durability::new(model.clone(), vec![model.clone()], true),
            cfg,
            clock,
            session: Session::new(),
            model,
            msession: redis_persist_model::Session::default(),
            bgsave: None,
            log: Vec::new(),
        })
    }

    fn srv(&mut self) -> &mut Server<SimDisk, SimClock> {
        self.srv.as_mut().expect("running")
    }

    fn now(&self) -> i64 {
        use redis_persist_engine::persist::Clock;
        self.clock.now_ms()
    }

    /// Runs commands (one, or a MULTI block) on both sides; the model applies them only when
    /// the engine acknowledged them.
    fn commands(&mut self, cmds: &[Vec<String>], multi: bool) -> Result<(), String> {
        let now = self.now();
        let pending = self.srv().storage().pending_faults();
        let mut wrap = Vec::new();
        if multi {
            wrap.push(vec!["MULTI".to_owned()]);
        }
        wrap.extend(cmds.iter().cloned());
        if multi {
            wrap.push(vec!["EXEC".to_owned()]);
        }
        let mut trial = self.model.clone();
        let mut tsession = self.msession.clone();
        for c in &wrap {
            let argv: Vec<&[u8]> = c.iter().map(|a| a.as_bytes()).collect();
            let mut s = std::mem::take(&mut self.session);
            self.srv().execute(&mut s, &argv);
            self.session = s;
            let margv: Vec<Vec<u8>> = c.iter().map(|a| a.clone().into_bytes()).collect();
            trial.apply(&mut tsession, now, &margv);
        }
        let fired = self.srv().storage().pending_faults() < pending;
        if fired {
            self.dur.fault(now);
        }
        let refused = self.srv().last_refusal().is_some();
        let changed = from_model(&trial.snapshot(now)) != from_model(&self.model.snapshot(now));
        if self.srv().stopped().is_some() {
            if changed {
                self.dur.unacknowledged(trial);
            }
            // A stopped server only restarts: power goes now, as if it exited.
            return self.crash(CrashImage::KeepWritten);
        }
        if refused {
            return Ok(());
        }
        self.model = trial;
        self.msession = tsession;
        if changed {
            self.dur.ack(self.model.clone(), now, fsync_of(&self.cfg));
        }
        Ok(())
    }

    fn crash(&mut self, how: CrashImage) -> Result<(), String> {
        let srv = self.srv.take().expect("running");
        let disk = srv.into_storage().crash(how);
        let now = self.now();
        decode_all(&disk)?;
        let mut srv = Server::open(disk, self.clock.clone(), self.cfg.clone())
            .map_err(|e| format!("restart after {how:?} failed: {e}"))?;
        srv.auto_finish = false;
        let got = from_engine(&srv.dataset());
        let allowed = self.dur.recoverable(now);
        let Some(state) = allowed
            .iter()
            .find(|m| from_model(&m.snapshot(now)) == got)
            .map(|m| (*m).clone())
        else {
            let options: Vec<Neutral> = allowed
                .iter()
                .map(|m| from_model(&m.snapshot(now)))
                .collect();
            return Err(format!(
                "after {how:?} the server recovered {got:?}, but the policy allows only one of {options:?}"
            ));
        };
        let rdb = self.dur.rdb_candidates().to_vec();
        self.dur = Durability::new(state.clone(), rdb, self.cfg.appendonly);
        self.model = state;
        self.msession = redis_persist_model::Session::default();
        self.session = Session::new();
        self.bgsave = None;
        self.srv = Some(srv);
        Ok(())
    }

    fn setting(&mut self, s: Setting) -> Result<(), String> {
        let (name, value) = match s {
            Setting::Fsync(n) => ("appendfsync", ["always", "everysec", "no"][n as usize % 3]),
            Setting::Appendonly(on) => ("appendonly", if on { "yes" } else { "no" }),
            Setting::Preamble(on) => ("aof-use-rdb-preamble", if on { "yes" } else { "no" }),
            Setting::SaveRules(on) => ("save", if on { "1 1" } else { "" }),
            Setting::ZsetEntries(small) => {
                ("zset-max-listpack-entries", if small { "1" } else { "128" })
            }
        };
        let was = self.cfg.appendonly;
        let r = self.srv().config_set(name, value);
        let now_on = self.srv().config().appendonly;
        self.cfg = self.srv().config().clone();
        if r.is_ok() {
            match (was, now_on) {
                (false, true) => self.dur.aof_created(),
                (true, false) => self.dur.aof_stopped(),
                _ => {}
            }
        }
        Ok(())
    }

    fn step(&mut self, step: &Step) -> Result<(), String> {
        self.log.push(format!("{step:?}"));
        match step {
            Step::Cmd(c) => self.commands(&[c.argv()], false)?,
            Step::Multi(cs) => {
                let cmds: Vec<Vec<String>> = cs.iter().take(4).map(Cmd::argv).collect();
                self.commands(&cmds, true)?;
            }
            Step::Select(one) => {
                let db = u64::from(*one);
                self.session.db = db;
                self.msession.db = db;
            }
            Step::Save => {
                let ok = self.srv().save().is_ok();
                self.dur.snapshot(self.model.clone(), ok);
            }
            Step::BgsaveStart => {
                if self.srv().bgsave_start().is_ok() {
                    self.bgsave = Some(self.model.clone());
                }
            }
            Step::BgsaveFinish => {
                if let Some(state) = self.bgsave.take() {
                    let ok = self.srv().bgsave_finish().is_ok();
                    self.dur.snapshot(state, ok);
                }
            }
            Step::RewriteStart => {
                if self.srv().bgrewriteaof_start().is_ok() {
                    self.dur.rewrite_started();
                }
            }
            Step::RewriteFinish => {
                if self.srv().stats().rewrite_in_progress {
                    let ok = self.srv().bgrewriteaof_finish().is_ok();
                    self.dur.rewrite_finished(ok);
                }
            }
            Step::Tick(ms) => {
                let pending = self.srv().storage().pending_faults();
                let before = self.srv().stats().save_attempts;
                self.clock.advance(i64::from(*ms % 4000) + 1);
                self.srv().tick();
                let now = self.now();
                if self.srv().storage().pending_faults() < pending {
                    self.dur.fault(now);
                }
                let stats = self.srv().stats();
                if stats.save_attempts != before {
                    // A `save` rule fired; a failed dump may still have been put in place.
                    self.dur.snapshot(self.model.clone(), stats.last_bgsave_ok);
                }
            }
            Step::Config(s) => self.setting(*s)?,
            Step::FailNext(op, n) => {
                let op = [Op::Write, Op::Fsync, Op::Rename][*op as usize % 3];
                self.srv()
                    .storage_mut()
                    .fail_next(op, u32::from(*n % 4) + 1);
            }
            Step::Restart => {
                let ok = self.srv().shutdown().is_ok();
                if ok {
                    // A clean shutdown keeps every acknowledged write, and saves with rules.
                    self.dur.aof_synced();
                    if !self.cfg.save.is_empty() {
                        self.dur.snapshot(self.model.clone(), true);
                    }
                }
                self.crash(CrashImage::LoseUnsynced)?;
            }
            Step::Crash(how) => {
                let how = match how {
                    0 => CrashImage::LoseUnsynced,
                    1 => CrashImage::KeepWritten,
                    n => CrashImage::Torn {
                        seed: u64::from(*n),
                    },
                };
                self.crash(how)?;
            }
        }
        self.agree()
    }

    /// The engine's dataset is the model's.
    fn agree(&mut self) -> Result<(), String> {
        let now = self.now();
        let ours = from_engine(&self.srv().dataset());
        let theirs = from_model(&self.model.snapshot(now));
        if ours != theirs {
            return Err(format!("engine {ours:?}\n  model {theirs:?}"));
        }
        Ok(())
    }
}

/// Every file on the disk decodes with the format layer.
fn decode_all(disk: &SimDisk) -> Result<(), String> {
    for (name, bytes) in disk.files() {
        // A save or rewrite cut short by the crash leaves its temp file; no loader reads it.
        if name
            .rsplit('/')
            .next()
            .is_some_and(|n| n.starts_with("temp-"))
        {
            continue;
        }
        let r = if name.ends_with(".rdb") {
            redis_persist_engine::format::rdb::read_dataset(&bytes, Default::default()).map(drop)
        } else if name.ends_with(".manifest") {
            redis_persist_engine::format::aof::manifest::parse(&bytes).map(drop)
        } else {
            Ok(())
        };
        r.map_err(|e| format!("{name} does not decode: {e}"))?;
    }
    Ok(())
}

/// Runs `steps` from a fresh server (AOF on, `always`) with `sabotage`; the first violated
/// invariant is returned with the steps that led to it.
pub fn run(steps: &[Step], sabotage: Sabotage) -> Result<(), String> {
    let mut m = Machine::new(sabotage)?;
    for step in steps {
        if let Err(e) = m.step(step) {
            return Err(format!("{e}\nsteps:\n  {}", m.log.join("\n  ")));
        }
    }
    m.crash(CrashImage::LoseUnsynced)
        .map_err(|e| format!("{e}\nsteps (then a final crash):\n  {}", m.log.join("\n  ")))
}

/// The fuzz target's entry: the steps decoded from bytes, with no sabotage, must pass.
pub fn engine_agrees_with_model(data: &[u8]) {
    let mut u = arbitrary::Unstructured::new(data);
    let Ok(steps) = Vec::<Step>::arbitrary(&mut u) else {
        return;
    };
    if let Err(e) = run(&steps[..steps.len().min(64)], Sabotage::default()) {
        panic!("{e}");
    }
}
