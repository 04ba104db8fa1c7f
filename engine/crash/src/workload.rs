//! Seeded random histories: writes on a few colliding keys across two databases, transactions,
//! snapshots, rewrites, configuration changes and waits, ending in a kill at a chosen point.
//!
//! A history depends only on its seed and policy, so `--seed S --histories 1 --policy P` rebuilds
//! history `S` exactly; a shrunk history is that one with only the steps listed by `keep`.
use crate::state::range;
use redis_persist_engine::rng::Rng;
use std::fmt;

/// The persistence configuration a history starts under.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Policy {
    /// `appendonly yes`, `appendfsync always`.
    Always,
    /// `appendonly yes`, `appendfsync everysec`.
    Everysec,
    /// `appendonly yes`, `appendfsync no`.
    No,
    /// `appendonly no`: only snapshots (SAVE, BGSAVE, `save` rules) persist.
    Rdb,
}

impl Policy {
    /// Every policy, in the order `--policy all` runs them.
    pub const ALL: [Policy; 4] = [Policy::Always, Policy::Everysec, Policy::No, Policy::Rdb];

    /// The name the command line uses.
    pub fn name(self) -> &'static str {
        match self {
            Policy::Always => "always",
            Policy::Everysec => "everysec",
            Policy::No => "no",
            Policy::Rdb => "rdb",
        }
    }

    /// Parses a name of [`Policy::name`].
    pub fn parse(s: &str) -> Option<Policy> {
        Policy::ALL.into_iter().find(|p| p.name() == s)
    }

    /// Whether the AOF is on at the start.
    pub fn aof(self) -> bool {
        self != Policy::Rdb
    }

    /// The `appendfsync` value the server starts with.
    pub fn appendfsync(self) -> &'static str {
        match self {
            Policy::Always => "always",
            Policy::Everysec | Policy::Rdb => "everysec",
            Policy::No => "no",
        }
    }
}

/// One step of a history.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Step {
    /// One write command (it may fail, e.g. WRONGTYPE; the model says the same).
    Write(Vec<String>),
    /// MULTI, the commands, EXEC.
    Multi(Vec<Vec<String>>),
    /// SELECT a database (0 or 1).
    Select(u8),
    /// SAVE.
    Save,
    /// BGSAVE (not waited for).
    Bgsave,
    /// BGREWRITEAOF (not waited for).
    Rewrite,
    /// CONFIG SET name value (`appendonly yes` waits for the rewrite it starts).
    Config(String, String),
    /// Sleep this many milliseconds (lets everysec fsync and background jobs run).
    Sleep(u32),
    /// Wait until no BGSAVE or rewrite runs or is scheduled.
    WaitIdle,
}

impl fmt::Display for Step {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Step::Write(c) => write!(f, "{}", show_cmd(c)),
            Step::Multi(cs) => {
                let inner: Vec<String> = cs.iter().map(|c| show_cmd(c)).collect();
                write!(f, "MULTI; {}; EXEC", inner.join("; "))
            }
            Step::Select(db) => write!(f, "SELECT {db}"),
            Step::Save => write!(f, "SAVE"),
            Step::Bgsave => write!(f, "BGSAVE"),
            Step::Rewrite => write!(f, "BGREWRITEAOF"),
            Step::Config(n, v) => write!(f, "CONFIG SET {n} {v:?}"),
            Step::Sleep(ms) => write!(f, "sleep {ms} ms"),
            Step::WaitIdle => write!(f, "wait for background jobs"),
        }
    }
}

/// A command for display: long arguments are cut.
pub fn show_cmd(c: &[String]) -> String {
    let parts: Vec<String> = c
        .iter()
        .map(|a| {
            if a.len() > 24 {
                format!("<{} bytes>", a.len())
            } else {
                a.clone()
            }
        })
        .collect();
    parts.join(" ")
}

/// How the history ends.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Kill {
    /// A write sent without waiting for its reply just before the kill (it may or may not land).
    pub in_flight: Option<Vec<String>>,
    /// Milliseconds between the last step (or the in-flight write) and the SIGKILL.
    pub delay_ms: u32,
    /// Kill instead as soon as the trace shows this many flushes (fsync, fdatasync, syncfs,
    /// sync) completed since the last step began, or after `delay_ms` at the latest. A window
    /// between two flushes of a background job lasts a few milliseconds; a wall-clock delay
    /// rarely lands in it, a kill timed by the trace does. The recorder stops the server at that
    /// flush (when it comes after the last step's reply), so the kill lands there on any machine.
    pub after_flushes: Option<u32>,
    /// The in-flight write meets a full disk: the recorder fails the server's next write to a
    /// file in its directory (ENOSPC), and the driver waits for the reply (up to 2 s). A server
    /// that acknowledges it owes it like any other write; refusing it or exiting is the right
    /// answer under `appendfsync always`. Armed only while that policy is in force.
    pub disk_fault: bool,
}

impl fmt::Display for Kill {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.in_flight {
            Some(c) if self.disk_fault => write!(
                f,
                "send {} with the next write to the data dir failing (ENOSPC), await its reply \
                 (at most 2 s), then ",
                show_cmd(c)
            )?,
            Some(c) => write!(f, "send {} without waiting, then ", show_cmd(c))?,
            None => {}
        }
        if let Some(n) = self.after_flushes {
            return write!(
                f,
                "SIGKILL once {n} flushes completed since the last step began (at most {} ms)",
                self.delay_ms
            );
        }
        write!(f, "SIGKILL after {} ms", self.delay_ms)
    }
}

/// A history: its origin, its steps (with their indices in the generated history) and its end.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct History {
    /// The seed it was generated from.
    pub seed: u64,
    /// The policy the server starts under.
    pub policy: Policy,
    /// The steps, in order.
    pub steps: Vec<Step>,
    /// Each step's index in the generated history (they differ after shrinking).
    pub ids: Vec<usize>,
    /// The kill.
    pub kill: Kill,
}

impl History {
    /// Only the steps whose generated index is in `keep` (in order).
    pub fn keep(&self, keep: &[usize]) -> History {
        let mut h = self.clone();
        let (mut steps, mut ids) = (Vec::new(), Vec::new());
        for (s, &i) in self.steps.iter().zip(&self.ids) {
            if keep.contains(&i) {
                steps.push(s.clone());
                ids.push(i);
            }
        }
        h.steps = steps;
        h.ids = ids;
        h
    }

    /// The kept indices as ranges, `0,3,5-7`.
    pub fn keep_list(&self) -> String {
        let mut out: Vec<String> = Vec::new();
        let mut i = 0;
        while i < self.ids.len() {
            let start = self.ids[i];
            let mut end = start;
            while i + 1 < self.ids.len() && self.ids[i + 1] == end + 1 {
                i += 1;
                end += 1;
            }
            out.push(if start == end {
                start.to_string()
            } else {
                format!("{start}-{end}")
            });
            i += 1;
        }
        out.join(",")
    }

    /// The steps and the kill, one line each, numbered by generated index.
    pub fn lines(&self) -> Vec<String> {
        let mut v: Vec<String> = self
            .steps
            .iter()
            .zip(&self.ids)
            .map(|(s, i)| format!("{i}: {s}"))
            .collect();
        v.push(format!("end: {}", self.kill));
        v
    }
}

/// Parses a keep list such as `0,3,5-7`.
pub fn parse_keep(s: &str) -> Result<Vec<usize>, String> {
    let mut out = Vec::new();
    for part in s.split(',').filter(|p| !p.is_empty()) {
        let bad = || format!("bad step list {s:?} (want e.g. 0,3,5-7)");
        match part.split_once('-') {
            Some((a, b)) => {
                let (a, b): (usize, usize) =
                    (a.parse().map_err(|_| bad())?, b.parse().map_err(|_| bad())?);
                out.extend(a..=b);
            }
            None => out.push(part.parse().map_err(|_| bad())?),
        }
    }
    Ok(out)
}

struct Gen {
    rng: Rng,
    next_id: u64,
    sleep_left: u32,
}

impl Gen {
    fn pick<'a>(&mut self, xs: &[&'a str]) -> &'a str {
        xs[range(&mut self.rng, 0, xs.len() as u64 - 1) as usize]
    }

    fn chance(&mut self, percent: u64) -> bool {
        range(&mut self.rng, 0, 99) < percent
    }

    /// The key for a command on `own`: usually its own, sometimes one every type shares.
    fn key(&mut self, own: &[&str]) -> String {
        if self.chance(20) {
            self.pick(&["shared", "other"]).into()
        } else {
            self.pick(own).into()
        }
    }

    fn value(&mut self) -> String {
        let n = if self.chance(10) {
            range(&mut self.rng, 200, 3000)
        } else {
            range(&mut self.rng, 1, 12)
        } as usize;
        let c = (b'a' + range(&mut self.rng, 0, 25) as u8) as char;
        let tag = range(&mut self.rng, 0, 999);
        let mut s = format!("{tag}");
        while s.len() < n {
            s.push(c);
        }
        s
    }

    fn member(&mut self) -> String {
        format!("m{}", range(&mut self.rng, 0, 5))
    }

    fn command(&mut self) -> Vec<String> {
        let s = |v: &[&str]| v.iter().map(|x| x.to_string()).collect::<Vec<String>>();
        let kind = range(&mut self.rng, 0, 15);
        match kind {
            0 | 1 => {
                let k = self.key(&["str", "str2"]);
                let v = self.value();
                s(&["SET", &k, &v])
            }
            2 => {
                let k = self.key(&["num"]);
                s(&["INCR", &k])
            }
            3 => {
                let k = self.key(&["str", "str2"]);
                let v = self.value();
                s(&["APPEND", &k, &v])
            }
            4 => {
                let k = self.key(&["str", "list", "hash", "set", "zset", "stream", "num"]);
                s(&["DEL", &k])
            }
            5 | 6 => {
                let k = self.key(&["list"]);
                let (a, b) = (self.value(), self.value());
                if self.chance(50) {
                    s(&["RPUSH", &k, &a, &b])
                } else {
                    s(&["RPUSH", &k, &a])
                }
            }
            7 => {
                let k = self.key(&["list"]);
                s(&["LPOP", &k])
            }
            8 => {
                let k = self.key(&["hash"]);
                let (f, v) = (self.member(), self.value());
                s(&["HSET", &k, &f, &v])
            }
            9 => {
                let k = self.key(&["hash"]);
                let f = self.member();
                s(&["HDEL", &k, &f])
            }
            10 => {
                let k = self.key(&["set"]);
                let (a, b) = (self.member(), self.member());
                s(&["SADD", &k, &a, &b])
            }
            11 => {
                let k = self.key(&["set"]);
                let m = self.member();
                s(&["SREM", &k, &m])
            }
            12 => {
                let k = self.key(&["zset"]);
                let m = self.member();
                let score = match range(&mut self.rng, 0, 3) {
                    0 => format!("{}", range(&mut self.rng, 0, 100)),
                    1 => format!("{}.5", range(&mut self.rng, 0, 100)),
                    2 => format!("-{}.25", range(&mut self.rng, 1, 100)),
                    _ => "1e300".to_string(),
                };
                s(&["ZADD", &k, &score, &m])
            }
            13 => {
                let k = self.key(&["zset"]);
                let m = self.member();
                s(&["ZREM", &k, &m])
            }
            _ => {
                let k = self.key(&["stream"]);
                self.next_id += range(&mut self.rng, 1, 3);
                let id = format!("{}-{}", self.next_id, range(&mut self.rng, 0, 2));
                let (f, v) = (self.member(), self.value());
                s(&["XADD", &k, &id, &f, &v])
            }
        }
    }

    fn sleep(&mut self, lo: u32, hi: u32) -> Option<Step> {
        let ms = range(&mut self.rng, u64::from(lo), u64::from(hi)) as u32;
        if ms > self.sleep_left {
            return None;
        }
        self.sleep_left -= ms;
        Some(Step::Sleep(ms))
    }

    fn step(&mut self, policy: Policy) -> Step {
        let roll = range(&mut self.rng, 0, 99);
        match roll {
            0..=54 => Step::Write(self.command()),
            55..=62 => {
                let n = range(&mut self.rng, 2, 4);
                Step::Multi((0..n).map(|_| self.command()).collect())
            }
            63..=67 => Step::Select(range(&mut self.rng, 0, 1) as u8),
            68..=70 => Step::Save,
            71..=74 => Step::Bgsave,
            75..=78 if policy.aof() => Step::Rewrite,
            75..=78 => Step::Bgsave,
            79..=84 => Step::WaitIdle,
            85..=92 => self.sleep(5, 300).unwrap_or(Step::WaitIdle),
            93..=94 => self.sleep(1100, 2600).unwrap_or(Step::WaitIdle),
            95 if policy.aof() => {
                let v = self.pick(&["always", "everysec", "no"]);
                Step::Config("appendfsync".into(), v.into())
            }
            96 if policy.aof() => Step::Config("appendonly".into(), "no".into()),
            97 if policy.aof() => Step::Config("appendonly".into(), "yes".into()),
            _ => {
                let v = self.pick(&["", "1 1", "3600 1"]);
                Step::Config("save".into(), v.into())
            }
        }
    }
}

/// Generates the history of `seed` under `policy`: 10 to 60 steps (at most 4 s of sleeps in
/// all), then a kill right after the last step, during a BGSAVE or rewrite it just started (after
/// a delay, or at its first to third completed flush), with a write in flight, or after a pause.
pub fn generate(seed: u64, policy: Policy) -> History {
    let mut g = Gen {
        rng: Rng::new(seed ^ 0x6a09_e667_f3bc_c908),
        next_id: 1,
        sleep_left: 4000,
    };
    let n = range(&mut g.rng, 10, 60) as usize;
    let mut steps: Vec<Step> = (0..n).map(|_| g.step(policy)).collect();
    // Seed the first steps with writes, so that every history has something to lose.
    steps[0] = Step::Write(g.command());
    let kill = match range(&mut g.rng, 0, 9) {
        0..=3 => Kill {
            in_flight: None,
            delay_ms: range(&mut g.rng, 0, 5) as u32,
            after_flushes: None,
            disk_fault: false,
        },
        4..=6 => {
            let bg = if policy.aof() && g.chance(60) {
                Step::Rewrite
            } else {
                Step::Bgsave
            };
            steps.push(bg);
            let delay_ms = range(&mut g.rng, 0, 40) as u32;
            // Drawn last, so that the steps and delays of earlier seeds stay as they were. The
            // first flush is the likeliest: a job's first window (e.g. a file renamed before it
            // is synced) is where its ordering mistakes show.
            let first = g.chance(50);
            let n = if first {
                1
            } else {
                range(&mut g.rng, 2, 3) as u32
            };
            match g.chance(75).then_some(n) {
                Some(n) => Kill {
                    in_flight: None,
                    delay_ms: 500,
                    after_flushes: Some(n),
                    disk_fault: false,
                },
                None => Kill {
                    in_flight: None,
                    delay_ms,
                    after_flushes: None,
                    disk_fault: false,
                },
            }
        }
        7..=8 => {
            let in_flight = Some(g.command());
            let delay_ms = range(&mut g.rng, 0, 2) as u32;
            // Drawn last, as above, and only where it means something: a failed append under
            // `always` must not be acknowledged.
            let disk_fault = policy == Policy::Always && g.chance(75);
            Kill {
                in_flight,
                delay_ms,
                after_flushes: None,
                disk_fault,
            }
        }
        _ => Kill {
            in_flight: None,
            delay_ms: range(&mut g.rng, 100, 1500) as u32,
            after_flushes: None,
            disk_fault: false,
        },
    };
    let ids = (0..steps.len()).collect();
    History {
        seed,
        policy,
        steps,
        ids,
        kill,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn histories_are_deterministic_and_keep_lists_round_trip() {
        let a = generate(7, Policy::Always);
        assert_eq!(a, generate(7, Policy::Always));
        assert_ne!(a, generate(8, Policy::Always));
        let k = a.keep(&[0, 2, 3, 4]);
        assert_eq!(k.keep_list(), "0,2-4");
        assert_eq!(parse_keep(&k.keep_list()).unwrap(), vec![0, 2, 3, 4]);
        assert_eq!(
            parse_keep(&a.keep(&[]).keep_list()).unwrap(),
            Vec::<usize>::new()
        );
    }
}
