//! A crash campaign: seeded histories run under the recorder, killed, every crash image judged
//! by restarting the server on it; a violation is shrunk (replay shrinking, bounded in time) to
//! a short history and image that still reproduce it.
use crate::image::{crash_images, DirState, Image, Model, Options};
use crate::judge::{judge, recover, Finding};
use crate::launch::Launch;
use crate::recorder::Recorder;
use crate::run::{record, Recorded, RunDirs};
use crate::workload::{generate, History, Policy};
use redis_persist_engine::dataset::Dataset;
use redis_persist_engine::live::TempDir;
use std::collections::hash_map::DefaultHasher;
use std::collections::HashMap;
use std::hash::{Hash, Hasher};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Mutex;
use std::time::{Duration, Instant};

/// How the server dies.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum KillMode {
    /// A power loss: every crash image of the file-system model(s).
    Power,
    /// SIGKILL with the page cache intact: only the directory the kill left (the all-kept image).
    Process,
}

impl KillMode {
    /// The name the command line uses.
    pub fn name(self) -> &'static str {
        match self {
            KillMode::Power => "power",
            KillMode::Process => "process",
        }
    }
}

/// What to run.
#[derive(Debug, Clone)]
pub struct Config {
    /// The server.
    pub launch: Launch,
    /// History `i` runs under `policies[i % len]`.
    pub policies: Vec<Policy>,
    /// File-system models judged (power kills only).
    pub models: Vec<Model>,
    /// Power loss or process kill.
    pub kill: KillMode,
    /// How many histories.
    pub histories: usize,
    /// History `i` is generated from seed `seed + i`.
    pub seed: u64,
    /// Histories run at once.
    pub jobs: usize,
    /// No new history starts after this long (shrinking is cut to what is left, too).
    pub time_budget: Option<Duration>,
    /// At most this long shrinking each violation.
    pub shrink_budget: Duration,
    /// Shrink at most this many violations per file-system model (the rest are reported as
    /// found, with the command that reruns them).
    pub shrink_max: usize,
    /// Only these steps of each history (a shrunk reproducer).
    pub keep: Option<Vec<usize>>,
    /// Torn-tail and random images per model (the seed is the history's).
    pub images: Options,
    /// Where each history's data dir and trace live (`None`: the system's temp dir). The file
    /// system matters: on tmpfs every fsync returns at once, on a disk it takes milliseconds.
    pub work_dir: Option<std::path::PathBuf>,
}

/// A violation, shrunk.
#[derive(Debug, Clone)]
pub struct Violation {
    /// The history's seed.
    pub seed: u64,
    /// Its policy.
    pub policy: Policy,
    /// The file-system model of the image (`None` for a process kill).
    pub fs: Option<Model>,
    /// The image's name.
    pub image: String,
    /// What the image drops or keeps.
    pub image_description: Vec<String>,
    /// Expected states, what was recovered, the first difference.
    pub finding: Finding,
    /// The shrunk history, a line per step, numbered by generated index.
    pub history: Vec<String>,
    /// `--keep` for the shrunk history (`None` when nothing was dropped).
    pub keep: Option<String>,
    /// Steps of the generated history.
    pub original_steps: usize,
    /// Re-runs the shrinker made.
    pub shrink_runs: usize,
    /// The driver's log of the reproducing run (replies and times).
    pub log: Vec<String>,
}

impl Violation {
    /// Arguments that rerun it after `redis-persist crash --server BIN`.
    pub fn rerun_args(&self, kill: KillMode) -> Vec<String> {
        let mut v: Vec<String> = vec![
            "--seed".into(),
            self.seed.to_string(),
            "--histories".into(),
            "1".into(),
            "--policy".into(),
            self.policy.name().into(),
            "--kill".into(),
            kill.name().into(),
        ];
        if let Some(fs) = self.fs {
            v.extend(["--fs".into(), fs.name().into()]);
        }
        if let Some(k) = &self.keep {
            v.extend(["--keep".into(), k.clone()]);
        }
        v
    }
}

/// One history's result.
#[derive(Debug, Clone)]
pub struct HistoryResult {
    /// Its index in the campaign.
    pub index: usize,
    /// Its seed.
    pub seed: u64,
    /// Its policy.
    pub policy: Policy,
    /// Steps run.
    pub steps: usize,
    /// Acknowledged writes.
    pub writes: usize,
    /// Distinct images judged.
    pub images: usize,
    /// The violations found, one per file-system model that showed one.
    pub violations: Vec<Violation>,
    /// Why the history could not be run or judged (not a violation).
    pub error: Option<String>,
    /// Replies where the server and the model disagree.
    pub divergences: Vec<String>,
    /// What the trace replay found odd (e.g. a record lost to a re-entrant signal handler).
    pub warnings: Vec<String>,
    /// Wall time, shrinking included.
    pub seconds: f64,
    /// The driver's log of the first run (each step with its reply and time).
    pub log: Vec<String>,
}

/// What a campaign found.
#[derive(Debug, Clone, Default)]
pub struct Outcome {
    /// Every history run, by index.
    pub results: Vec<HistoryResult>,
    /// Histories not started because the time budget ran out.
    pub not_run: usize,
}

impl Outcome {
    /// The violations found.
    pub fn violations(&self) -> impl Iterator<Item = &Violation> {
        self.results.iter().flat_map(|r| r.violations.iter())
    }
}

/// Progress of a campaign, for a progress bar.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Progress {
    /// History `index` found a violation and is being shrunk.
    Shrinking(usize),
    /// History `index` is done.
    Done(usize, bool),
}

/// A violating image: its model (`None` for a process kill), the image and the finding.
#[derive(Clone)]
struct Found {
    fs: Option<Model>,
    image: Image,
    finding: Finding,
}

/// A violation with the driver's log of the run that showed it.
struct Repro {
    found: Found,
    log: Vec<String>,
}

/// One run of a history: the violating images under the judged models.
struct Attempt {
    rec: Recorded,
    found: Vec<Found>,
    images: usize,
    warnings: Vec<String>,
}

struct Ctx<'a> {
    cfg: &'a Config,
    recorder: &'a Recorder,
    /// Violations shrunk so far, per model (posix, ordered, process kill).
    shrunk: [AtomicUsize; 3],
}

fn slot(m: Option<Model>) -> usize {
    match m {
        Some(Model::Posix) => 0,
        Some(Model::Ordered) => 1,
        None => 2,
    }
}

fn state_key(s: &DirState) -> u64 {
    let mut h = DefaultHasher::new();
    s.dirs.hash(&mut h);
    s.files.hash(&mut h);
    h.finish()
}

impl Ctx<'_> {
    /// Records `h` and judges its images. With `focus`, only that model is judged, the image
    /// named first, and judging stops at the first violation (the shrinker's question).
    fn attempt(
        &self,
        h: &History,
        focus: Option<(Option<Model>, &str)>,
    ) -> Result<Attempt, String> {
        let tmp = match &self.cfg.work_dir {
            Some(base) => TempDir::new_in(base, "crash"),
            None => TempDir::new("crash"),
        }
        .map_err(|e| format!("temp dir: {e}"))?;
        let data = tmp.path().join("data");
        std::fs::create_dir(&data).map_err(|e| format!("data dir: {e}"))?;
        let dirs = RunDirs {
            data: &data,
            trace: &tmp.path().join("trace.bin"),
            log: &tmp.path().join("server.log"),
        };
        let rec = record(&self.cfg.launch, self.recorder, &dirs, h)?;
        let scratch = tmp.path().join("restart");
        std::fs::create_dir(&scratch).map_err(|e| format!("scratch dir: {e}"))?;
        let mut cache: HashMap<u64, Result<Dataset, String>> = HashMap::new();
        let mut found = Vec::new();
        let opts = Options {
            seed: h.seed,
            ..self.cfg.images
        };
        let mut sets: Vec<(Option<Model>, Vec<Image>)> = Vec::new();
        let mut warnings: Vec<String> = Vec::new();
        match self.cfg.kill {
            KillMode::Process => sets.push((
                None,
                vec![Image {
                    model: Model::Ordered,
                    name: "process-kill".into(),
                    description: vec!["keeps everything the server wrote (process kill)".into()],
                    state: rec.real.clone(),
                }],
            )),
            KillMode::Power => {
                for &m in &self.cfg.models {
                    if focus.is_some_and(|(f, _)| f != Some(m)) {
                        continue;
                    }
                    let c = crash_images(&rec.trace, m, &opts)
                        .map_err(|e| format!("the trace does not replay: {e}"))?;
                    for w in c.warnings {
                        if !warnings.contains(&w) {
                            warnings.push(w);
                        }
                    }
                    // The all-kept image is the replay of the whole trace: it must be what the
                    // kill left (a kill between an operation and its record can put it one behind).
                    let diff = c.images[0].state.diff(&rec.real);
                    if !diff.is_empty() {
                        let w = format!(
                            "the trace's end differs from the directory: {}",
                            diff.join("; ")
                        );
                        if !warnings.contains(&w) {
                            warnings.push(w);
                        }
                    }
                    sets.push((Some(m), c.images));
                }
            }
        }
        let dur = match self.cfg.kill {
            KillMode::Power => &rec.power,
            KillMode::Process => &rec.process,
        };
        for (model, mut images) in sets {
            if let Some((_, name)) = focus {
                images.sort_by_key(|i| i.name != name);
            }
            for im in images {
                let key = state_key(&im.state);
                let got = cache
                    .entry(key)
                    .or_insert_with(|| recover(&self.cfg.launch, &im.state, rec.aof_on, &scratch));
                let f = judge(
                    got,
                    dur,
                    &rec.states,
                    rec.in_flight.as_ref(),
                    rec.aof_on,
                    rec.crash_ms,
                );
                if let Some(finding) = f {
                    found.push(Found {
                        fs: model,
                        image: im,
                        finding,
                    });
                    if focus.is_some() {
                        break;
                    }
                }
            }
        }
        Ok(Attempt {
            images: cache.len(),
            rec,
            found,
            warnings,
        })
    }

    /// The violation to report per model: the image that drops the least.
    fn pick(att: &Attempt) -> Vec<Found> {
        let mut out: Vec<Found> = Vec::new();
        for f in &att.found {
            match out.iter_mut().find(|o| o.fs == f.fs) {
                Some(o) if f.image.description.len() < o.image.description.len() => *o = f.clone(),
                Some(_) => {}
                None => out.push(f.clone()),
            }
        }
        out
    }

    /// Drops chunks of steps while the violation (same model) reproduces, until `deadline`.
    /// Returns the shortest history found, its violation, and the number of re-runs.
    fn shrink(&self, h: &History, first: Repro, deadline: Instant) -> (History, Repro, usize) {
        let (mut cur, mut best, mut runs) = (h.clone(), first, 0);
        let mut chunk = cur.steps.len().div_ceil(2).max(1);
        loop {
            let mut i = 0;
            while i < cur.steps.len() && Instant::now() < deadline {
                let mut cand = cur.clone();
                let end = (i + chunk).min(cand.steps.len());
                cand.steps.drain(i..end);
                cand.ids.drain(i..end);
                runs += 1;
                let focus = (best.found.fs, best.found.image.name.as_str());
                match self.attempt(&cand, Some(focus)) {
                    Ok(mut att) if !att.found.is_empty() => {
                        best = Repro {
                            found: att.found.swap_remove(0),
                            log: att.rec.log,
                        };
                        cur = cand;
                    }
                    _ => i += chunk,
                }
            }
            if chunk == 1 || Instant::now() >= deadline {
                break;
            }
            chunk = chunk.div_ceil(2);
        }
        (cur, best, runs)
    }

    fn history(
        &self,
        index: usize,
        deadline: Option<Instant>,
        progress: &dyn Fn(Progress),
    ) -> HistoryResult {
        let t = Instant::now();
        let seed = self.cfg.seed.wrapping_add(index as u64);
        let policy = self.cfg.policies[index % self.cfg.policies.len()];
        let mut h = generate(seed, policy);
        if let Some(k) = &self.cfg.keep {
            h = h.keep(k);
        }
        let mut r = HistoryResult {
            index,
            seed,
            policy,
            steps: h.steps.len(),
            writes: 0,
            images: 0,
            violations: Vec::new(),
            error: None,
            divergences: Vec::new(),
            warnings: Vec::new(),
            seconds: 0.0,
            log: Vec::new(),
        };
        match self.attempt(&h, None) {
            Err(e) => r.error = Some(e),
            Ok(att) => {
                r.writes = att.rec.states.len() - 1;
                r.images = att.images;
                r.divergences = att.rec.divergences.clone();
                r.log = att.rec.log.clone();
                r.warnings = att.warnings.clone();
                for found in Self::pick(&att) {
                    let first = Repro {
                        found,
                        log: att.rec.log.clone(),
                    };
                    let n = self.shrunk[slot(first.found.fs)].fetch_add(1, Ordering::SeqCst);
                    let (small, Repro { found, log }, runs) = if n < self.cfg.shrink_max {
                        progress(Progress::Shrinking(index));
                        let mut until = Instant::now() + self.cfg.shrink_budget;
                        if let Some(d) = deadline {
                            until = until.min(d);
                        }
                        self.shrink(&h, first, until)
                    } else {
                        (h.clone(), first, 0)
                    };
                    r.violations.push(Violation {
                        seed,
                        policy,
                        fs: found.fs,
                        image: found.image.name.clone(),
                        image_description: found.image.description.clone(),
                        finding: found.finding,
                        history: small.lines(),
                        // Compared with the original: a history shrunk to no step at all is shrunk too.
                        keep: (small.ids != h.ids).then(|| small.keep_list()),
                        original_steps: h.steps.len(),
                        shrink_runs: runs,
                        log,
                    });
                }
            }
        }
        r.seconds = t.elapsed().as_secs_f64();
        progress(Progress::Done(index, !r.violations.is_empty()));
        r
    }
}

/// Runs the campaign; `progress` hears about each history (from several threads).
pub fn run(cfg: &Config, progress: &(dyn Fn(Progress) + Sync)) -> Result<Outcome, String> {
    if cfg.policies.is_empty() || (cfg.kill == KillMode::Power && cfg.models.is_empty()) {
        return Err("nothing to run: no policy or no file-system model".into());
    }
    let lib = TempDir::new("crash-recorder").map_err(|e| format!("temp dir: {e}"))?;
    let recorder = Recorder::install(lib.path()).map_err(|e| format!("recorder: {e}"))?;
    let ctx = Ctx {
        cfg,
        recorder: &recorder,
        shrunk: Default::default(),
    };
    let start = Instant::now();
    let deadline = cfg.time_budget.map(|b| start + b);
    let next = AtomicUsize::new(0);
    let results: Mutex<Vec<HistoryResult>> = Mutex::new(Vec::new());
    let skipped = AtomicUsize::new(0);
    std::thread::scope(|s| {
        for _ in 0..cfg.jobs.max(1) {
            s.spawn(|| loop {
                let i = next.fetch_add(1, Ordering::SeqCst);
                if i >= cfg.histories {
                    break;
                }
                if deadline.is_some_and(|d| Instant::now() >= d) {
                    skipped.fetch_add(1, Ordering::SeqCst);
                    continue;
                }
                let r = ctx.history(i, deadline, &|p| progress(p));
                if let Ok(mut v) = results.lock() {
                    v.push(r);
                }
            });
        }
    });
    let mut results = results.into_inner().unwrap_or_default();
    results.sort_by_key(|r| r.index);
    Ok(Outcome {
        results,
        not_run: skipped.into_inner(),
    })
}
