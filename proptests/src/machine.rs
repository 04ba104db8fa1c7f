//! The persistence state machine: random histories of commands, saves, rewrites, clock ticks,
//! settings, disk faults, rot and crashes, run through the engine's server and the model.
//!
//! Invariants: every reply equals the model's; the engine's dataset equals the model's after
//! every step; after a crash the server restarts into a state `redis_persist_model::durability`
//! allows; a server never starts from a damaged RDB; every file on the disk decodes. `run`
//! returns the first violation, typed by [`Kind`]; the proptest suite, `cargo test` and the
//! `engine_model` fuzz target all call it.
pub use crate::cmds::Cmd;
use crate::disk::{decode_all, dump_at, rdb_to_load, rot};
use crate::neutral::{diff, from_engine, from_model};
use crate::replies;
use crate::violation::{differences, violation};
pub use crate::violation::{Kind, Violation};
use arbitrary::Arbitrary;
use redis_persist_engine::format::rdb::VERIFY_CHECKSUMS;
use redis_persist_engine::keyspace::Session;
use redis_persist_engine::persist::{AppendFsync, PersistConfig, Sabotage, Server, SimClock};
use redis_persist_engine::storage::{CrashImage, Op, SimDisk};
use redis_persist_model::durability::{Durability, Fsync};

/// Clock start: 2027-01-15.
const T0: i64 = 1_800_000_000_000;

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
    /// Power loss (keep written); one byte of the RDB the restart would load is flipped in a
    /// copy of the disk, which must not start; then the intact disk restarts.
    Rot(u16),
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

    /// Runs commands (one, or a MULTI block) on both sides, replies compared; the model applies
    /// them only when the engine acknowledged them.
    fn commands(&mut self, cmds: &[Vec<Vec<u8>>], multi: bool) -> Result<(), Violation> {
        let now = self.now();
        let pending = self.srv().storage().pending_faults();
        let mut wrap = Vec::new();
        if multi {
            wrap.push(vec![b"MULTI".to_vec()]);
        }
        wrap.extend(cmds.iter().cloned());
        if multi {
            wrap.push(vec![b"EXEC".to_vec()]);
        }
        let mut trial = self.model.clone();
        let mut tsession = self.msession.clone();
        let mut said = Vec::with_capacity(wrap.len());
        for c in &wrap {
            self.log.push(format!("  > {}", crate::cmds::show(c)));
            let argv: Vec<&[u8]> = c.iter().map(Vec::as_slice).collect();
            let mut s = std::mem::take(&mut self.session);
            let ours = self.srv().execute(&mut s, &argv);
            self.session = s;
            let theirs = trial.apply(&mut tsession, now, c);
            said.push((replies::engine(&ours), replies::model(&theirs)));
        }
        let fired = self.srv().storage().pending_faults() < pending;
        if fired {
            self.dur.fault(now);
        }
        let refused = self.srv().last_refusal().is_some();
        let changed = from_model(&trial, now) != from_model(&self.model, now);
        if self.srv().stopped().is_some() {
            if changed {
                self.dur.unacknowledged(trial);
            }
            // A stopped server only restarts: power goes now, as if it exited.
            return self.crash(CrashImage::KeepWritten, None);
        }
        if refused {
            return Ok(());
        }
        for (c, (ours, theirs)) in wrap.iter().zip(said) {
            let ours = replies::settle(c, cmds, ours);
            let theirs = replies::settle(c, cmds, theirs);
            if ours != theirs {
                return Err(Violation {
                    kind: Kind::Reply,
                    detail: format!(
                        "{} replied {}, the model {}",
                        crate::cmds::show(c),
                        replies::show(&ours),
                        replies::show(&theirs)
                    ),
                });
            }
        }
        self.model = trial;
        self.msession = tsession;
        if changed {
            self.dur.ack(self.model.clone(), now, fsync_of(&self.cfg));
        }
        Ok(())
    }

    /// Power loss with `how`, then a restart that must recover a state the durability model
    /// allows; with `rotten`, a copy of the disk with one byte of its RDB flipped is started
    /// first and must be refused. Every file left on the disk must decode.
    fn crash(&mut self, how: CrashImage, rotten: Option<u16>) -> Result<(), Violation> {
        let srv = self.srv.take().expect("running");
        let disk = srv.into_storage().crash(how);
        let now = self.now();
        // A fuzzing build skips CRC checks (`VERIFY_CHECKSUMS`), so a flipped byte the CRC alone
        // would catch is loaded there by design: rot is judged only where checksums are verified.
        if let Some(at) = rotten.filter(|_| VERIFY_CHECKSUMS) {
            let path = rdb_to_load(&disk, &self.cfg);
            if let Some(path) = path {
                let mut bad = disk.clone();
                if rot(&mut bad, &path, at).is_some()
                    && Server::open(bad, self.clock.clone(), self.cfg.clone()).is_ok()
                {
                    return Err(Violation {
                        kind: Kind::DamageLoaded,
                        detail: format!("the server started from {path} with a byte flipped"),
                    });
                }
            }
        }
        let files = disk.clone();
        let mut srv = Server::open(disk, self.clock.clone(), self.cfg.clone())
            .map_err(|e| format!("restart after {how:?} failed: {e}"))
            .map_err(violation(Kind::Durability))?;
        srv.auto_finish = false;
        let got = from_engine(&srv.dataset());
        let allowed = self.dur.recoverable(now);
        let Some(state) = allowed
            .iter()
            .find(|m| from_model(m, now) == got)
            .map(|m| (*m).clone())
        else {
            return Err(Violation {
                kind: Kind::Durability,
                detail: format!(
                    "after {how:?} the server recovered a state the policy does not allow:\n  {}",
                    differences(&got, allowed.iter().map(|m| from_model(m, now)))
                ),
            });
        };
        // The dump must hold a snapshot the model allows even when this start did not read it
        // (the AOF is on): a later start without the AOF will.
        let rdb = self.dur.rdb_candidates().to_vec();
        if let Some(dump) = dump_at(&files, &self.cfg, now) {
            let ok = dump
                .as_ref()
                .is_ok_and(|d| rdb.iter().any(|m| from_model(m, now) == *d));
            if !ok {
                let held = match dump {
                    Ok(d) => differences(&d, rdb.iter().map(|m| from_model(m, now))),
                    Err(e) => format!("it does not decode: {e}"),
                };
                return Err(Violation {
                    kind: Kind::Durability,
                    detail: format!("after {how:?} the dump holds no snapshot allowed:\n  {held}"),
                });
            }
        }
        // Every other file must decode too: a later start may need it.
        decode_all(&files).map_err(violation(Kind::Undecodable))?;
        self.dur = Durability::new(state.clone(), rdb, self.cfg.appendonly);
        self.model = state;
        self.msession = redis_persist_model::Session::default();
        self.session = Session::new();
        self.bgsave = None;
        self.srv = Some(srv);
        Ok(())
    }

    fn setting(&mut self, s: Setting) -> Result<(), Violation> {
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

    fn step(&mut self, step: &Step) -> Result<(), Violation> {
        self.log.push(format!("{step:?}"));
        match step {
            Step::Cmd(c) => self.commands(&[c.argv()], false)?,
            Step::Multi(cs) => {
                let cmds: Vec<Vec<Vec<u8>>> = cs.iter().take(4).map(Cmd::argv).collect();
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
                self.crash(CrashImage::LoseUnsynced, None)?;
            }
            Step::Crash(how) => {
                let how = match how {
                    0 => CrashImage::LoseUnsynced,
                    1 => CrashImage::KeepWritten,
                    n => CrashImage::Torn {
                        seed: u64::from(*n),
                    },
                };
                self.crash(how, None)?;
            }
            Step::Rot(at) => self.crash(CrashImage::KeepWritten, Some(*at))?,
        }
        self.agree()
    }

    /// The engine's dataset is the model's.
    fn agree(&mut self) -> Result<(), Violation> {
        let now = self.now();
        let ours = from_engine(&self.srv().dataset());
        let theirs = from_model(&self.model, now);
        if ours != theirs {
            return Err(Violation {
                kind: Kind::State,
                detail: format!("engine / model: {}", diff(&ours, &theirs)),
            });
        }
        Ok(())
    }
}

/// Runs `steps` from a fresh server (AOF on, `always`) with `sabotage`; the first violated
/// invariant is returned with the steps that led to it.
pub fn run(steps: &[Step], sabotage: Sabotage) -> Result<(), Violation> {
    let mut m = Machine::new(sabotage).map_err(violation(Kind::Durability))?;
    let with_log = |m: &Machine, e: Violation, then: &str| Violation {
        detail: format!("{}\nsteps{then}:\n  {}", e.detail, m.log.join("\n  ")),
        ..e
    };
    for step in steps {
        if let Err(e) = m.step(step) {
            return Err(with_log(&m, e, ""));
        }
    }
    m.crash(CrashImage::LoseUnsynced, None)
        .map_err(|e| with_log(&m, e, " (then a final crash)"))
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
