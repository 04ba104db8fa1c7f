//! One recorded run: start the server under the recorder, drive the history through `Driver`,
//! end it as the history's kill says (at a flush, after a disk fault), SIGKILL, collect what is left.
use crate::drive::Driver;
use crate::image::DirState;
use crate::launch::{Launch, Proc, StartConfig};
use crate::recorder::Recorder;
use crate::trace::{Op, SyncKind};
use crate::workload::{show_cmd, History};
use crate::{parse_killed, Trace};
use redis_persist_model::durability::Durability;
use redis_persist_model::Keyspace;
use std::path::Path;
use std::time::{Duration, Instant};

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
    let mut d = Driver::new(conn, &cfg);
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
