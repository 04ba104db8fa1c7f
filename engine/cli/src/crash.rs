//! `crash`: power-loss (or process-kill) testing of a server binary; the work is in
//! `redis_persist_crash::campaign`, this only parses, shows progress and writes the reports.
use indicatif::{ProgressBar, ProgressStyle};
use redis_persist_crash::campaign::{self, Config, KillMode, Progress};
use redis_persist_crash::launch::Launch;
use redis_persist_crash::workload::{parse_keep, Policy};
use redis_persist_crash::{report, Model, Options as ImageOptions};
use redis_persist_engine::live::ServerBuild;
use std::io::IsTerminal;
use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Duration;

/// The flags of `redis-persist crash`.
#[derive(clap::Args)]
pub struct Args {
    /// The server binary (any program taking redis-server's command line), or a known build's
    /// name (redis-6.2.14, redis-7.0.15, redis-7.4.1, valkey-8.1.8, valkey-9.1.2).
    #[arg(long, value_name = "BIN")]
    server: PathBuf,
    /// One more argument for the server, after the standard ones (repeat it:
    /// `--server-arg=--sabotage --server-arg=skip-fsync-always`); also used on every restart.
    #[arg(long, value_name = "ARG", allow_hyphen_values = true)]
    server_arg: Vec<String>,
    /// Persistence policy the histories start under (`all` cycles through the four).
    #[arg(long, default_value = "all", value_parser = ["always", "everysec", "no", "rdb", "all"])]
    policy: String,
    /// File-system model of a power loss: posix (pessimistic), ordered (ext4 data=ordered), both.
    #[arg(long, default_value = "ordered", value_parser = ["posix", "ordered", "both"])]
    fs: String,
    /// power: every crash image; process: SIGKILL with the page cache kept (one image).
    #[arg(long, default_value = "power", value_parser = ["power", "process"])]
    kill: String,
    /// How many histories. The default is what it takes to catch each of our own server's
    /// sabotage switches that a healthy disk exposes (README, "Power-loss testing").
    #[arg(long, default_value_t = 100)]
    histories: usize,
    /// History i is generated from seed S+i.
    #[arg(long, default_value_t = 1)]
    seed: u64,
    /// Histories run at once.
    #[arg(long, default_value_t = 2)]
    jobs: usize,
    /// Start no history after this many seconds.
    #[arg(long, value_name = "SECS")]
    time_budget: Option<u64>,
    /// Shrink each violation for at most this many seconds.
    #[arg(long, value_name = "SECS", default_value_t = 90)]
    shrink_budget: u64,
    /// Shrink at most this many violations per file-system model (others are reported unshrunk).
    #[arg(long, value_name = "N", default_value_t = 3)]
    shrink_max: usize,
    /// Run only these steps of each history (as a reproducer prints them: 0,3,5-7).
    #[arg(long, value_name = "LIST")]
    keep: Option<String>,
    /// Torn-tail images per model.
    #[arg(long, default_value_t = 4)]
    torn: usize,
    /// Run each history's server in a fresh directory under DIR (default: the system's temp
    /// dir). Choose the file system you care about: on tmpfs fsync is instant.
    #[arg(long, value_name = "DIR")]
    work_dir: Option<std::path::PathBuf>,
    /// Random images per model.
    #[arg(long, default_value_t = 4)]
    samples: usize,
    /// Also write the results as JSON.
    #[arg(long, value_name = "FILE")]
    report_json: Option<PathBuf>,
    /// Also write the results as JUnit XML.
    #[arg(long, value_name = "FILE")]
    junit: Option<PathBuf>,
}

fn usage(msg: impl std::fmt::Display) -> ExitCode {
    crate::note!("crash: {msg}");
    ExitCode::from(2)
}

/// Runs the campaign; exit 0 without violations, 1 with one, 2 on usage errors or when no
/// history could be run.
pub fn crash(a: Args) -> ExitCode {
    // A known build's name (`redis-7.4.1`) finds it where `.ci/install-servers` put it.
    let by_name = (!a.server.exists())
        .then(|| ServerBuild::by_name(&a.server.to_string_lossy()).ok())
        .flatten();
    let build = match by_name.map_or_else(|| ServerBuild::from_binary(&a.server), Ok) {
        Ok(b) => b,
        Err(e) => return usage(e),
    };
    let keep = match a.keep.as_deref().map(parse_keep).transpose() {
        Ok(k) => k,
        Err(e) => return usage(e),
    };
    let policies = match a.policy.as_str() {
        "all" => Policy::ALL.to_vec(),
        p => Policy::parse(p).into_iter().collect(),
    };
    let models = match a.fs.as_str() {
        "posix" => vec![Model::Posix],
        "ordered" => vec![Model::Ordered],
        _ => vec![Model::Posix, Model::Ordered],
    };
    let kill = if a.kill == "process" {
        KillMode::Process
    } else {
        KillMode::Power
    };
    let mut launch = Launch::from_build(&build);
    launch.args = a.server_arg.clone();
    let cfg = Config {
        launch,
        policies,
        models,
        kill,
        histories: a.histories,
        seed: a.seed,
        jobs: a.jobs,
        time_budget: a.time_budget.map(Duration::from_secs),
        shrink_budget: Duration::from_secs(a.shrink_budget),
        shrink_max: a.shrink_max,
        keep,
        images: ImageOptions {
            torn: a.torn,
            samples: a.samples,
            seed: 0,
        },
        work_dir: a.work_dir.clone(),
    };
    let bar = if std::io::stderr().is_terminal() {
        let b = ProgressBar::new(a.histories as u64);
        b.set_style(
            ProgressStyle::with_template("{bar:40} {pos}/{len} {elapsed} {wide_msg}")
                .unwrap_or_else(|_| ProgressStyle::default_bar()),
        );
        b
    } else {
        ProgressBar::hidden()
    };
    let found = std::sync::atomic::AtomicUsize::new(0);
    let progress = |p: Progress| match p {
        Progress::Shrinking(i) => bar.set_message(format!("shrinking history {i}")),
        Progress::Done(_, v) => {
            if v {
                found.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
            }
            let n = found.load(std::sync::atomic::Ordering::SeqCst);
            bar.set_message(format!("{n} violations"));
            bar.inc(1);
        }
    };
    let outcome = match campaign::run(&cfg, &progress) {
        Ok(o) => o,
        Err(e) => return usage(e),
    };
    bar.finish_and_clear();
    let mut prefix = format!("redis-persist crash --server {}", a.server.display());
    for arg in &a.server_arg {
        prefix.push_str(&format!(" --server-arg={arg}"));
    }
    let fs = match kill {
        KillMode::Power => format!(", fs {}", a.fs),
        KillMode::Process => String::new(),
    };
    crate::say!(
        "crash: {} histories against {} ({}), kill {}{fs}",
        outcome.results.len(),
        cfg.launch.name,
        a.server.display(),
        a.kill,
    );
    for r in &outcome.results {
        let extra = match (r.violations.is_empty(), &r.error) {
            (false, _) => {
                let v: Vec<String> = r
                    .violations
                    .iter()
                    .map(|v| format!("{} image {}", v.fs.map_or("process", |m| m.name()), v.image))
                    .collect();
                v.join(", ")
            }
            (true, Some(e)) => e.lines().next().unwrap_or_default().to_string(),
            _ => String::new(),
        };
        crate::say!(
            "{:9}  seed {:<6} {:8} {:3} steps {:3} writes {:3} images {:5.1}s  {extra}",
            report::verdict(r),
            r.seed,
            r.policy.name(),
            r.steps,
            r.writes,
            r.images,
            r.seconds
        );
        for d in r.divergences.iter().take(3) {
            crate::say!("           model divergence: {d}");
        }
        for w in r.warnings.iter().take(3) {
            crate::say!("           trace warning: {w}");
        }
    }
    for v in outcome.violations() {
        crate::say!("");
        print!("{}", report::text(v, kill, &prefix));
    }
    let count = |s: &str| {
        outcome
            .results
            .iter()
            .filter(|r| report::verdict(r) == s)
            .count()
    };
    let (pass, bad, err) = (count("pass"), count("violation"), count("error"));
    crate::say!(
        "\n{pass} passed, {bad} violations, {err} errors, {} not run (time budget)",
        outcome.not_run
    );
    if let Some(path) = &a.report_json {
        let doc = report::to_json(&cfg, &outcome, &prefix);
        if let Err(e) = std::fs::write(path, format!("{doc:#}\n")) {
            return usage(format!("{}: {e}", path.display()));
        }
    }
    if let Some(path) = &a.junit {
        if let Err(e) = std::fs::write(path, report::junit(&cfg, &outcome, &prefix)) {
            return usage(format!("{}: {e}", path.display()));
        }
    }
    if bad > 0 {
        ExitCode::from(1)
    } else if pass == 0 && err > 0 {
        ExitCode::from(2)
    } else {
        ExitCode::SUCCESS
    }
}
