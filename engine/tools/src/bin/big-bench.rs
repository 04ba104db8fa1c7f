//! Benchmarks `redis-persist` check, dump and stats against `redis-check-rdb` 7.0.15 on large RDBs
//! that Redis 7.0.15 writes itself, in three shapes and one 4x file; prints a Markdown table.
//!
//! `cargo build --release -p redis-persist && cargo run --release -p redis-persist-tools --bin big-bench --
//! [--size-mb 1024] [--big-mb 4096] [--runs 3] [--regenerate] [--skip-json] [--bin PATH]`.
//! Files are cached in `~/.cache/redis-persist/big-bench/`, named by shape and target size.
use redis_persist_engine::live::{Reply, RunningServer, ServerBuild, TempDir};
use redis_persist_tools::harness::{best, measure, median, pipeline};
use redis_persist_tools::shapes::Shape;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Instant;

const REDIS_CHECK_RDB: &str = "/usr/bin/redis-check-rdb";
const TOOLS: [&str; 5] = [
    "redis-check-rdb",
    "check",
    "dump --jsonl",
    "dump --json",
    "stats",
];

struct Args {
    size_mb: u64,
    big_mb: u64,
    runs: usize,
    regenerate: bool,
    skip_json: bool,
    bin: PathBuf,
}

fn parse_args() -> Args {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let value = |name: &str| {
        let i = args.iter().position(|a| a == name)?;
        Some(
            args.get(i + 1)
                .unwrap_or_else(|| panic!("{name} needs a value"))
                .clone(),
        )
    };
    let number = |name: &str, default: u64| {
        value(name).map_or(default, |v| {
            v.parse().unwrap_or_else(|_| panic!("{name} {v}?"))
        })
    };
    // Where `cargo build --release` put the CLI: the workspace's target/ unless redirected.
    let target = std::env::var_os("CARGO_TARGET_DIR").map_or_else(
        || Path::new(env!("CARGO_MANIFEST_DIR")).join("../../target"),
        PathBuf::from,
    );
    Args {
        size_mb: number("--size-mb", 1024),
        big_mb: number("--big-mb", 4096),
        runs: number("--runs", 3).max(1) as usize,
        regenerate: args.iter().any(|a| a == "--regenerate"),
        skip_json: args.iter().any(|a| a == "--skip-json"),
        bin: value("--bin").map_or_else(|| target.join("release/redis-persist"), PathBuf::from),
    }
}

/// One benchmark input: where it is cached and what it holds.
struct Input {
    label: String,
    path: PathBuf,
    bytes: u64,
    keys: String,
}

fn cache_dir() -> PathBuf {
    let home = std::env::var_os("HOME").expect("HOME is not set");
    PathBuf::from(home).join(".cache/redis-persist/big-bench")
}

/// Has Redis 7.0.15 write a file of `shape` of about `target_mb` MB to `path`. The size is hit
/// by calibration: a pilot of units is saved once to learn bytes per unit, then the rest of
/// the units needed are sent and the final SAVE written. Writes `path.keys` beside it.
fn generate(build: &ServerBuild, shape: Shape, target_mb: u64, path: &Path) -> std::io::Result<()> {
    let tmp = TempDir::new("big-bench")?;
    let server = RunningServer::start(build, tmp.path(), &[])?;
    let mut c = server.client()?;
    let port = server.port();
    let t = Instant::now();
    let pilot = shape.pilot_units();
    let mut sent = pipeline(port, (0..pilot).flat_map(|i| shape.unit(i)))?;
    c.call(&[b"SAVE"])?;
    let pilot_bytes = std::fs::metadata(server.rdb_path())?.len().max(1);
    let units = (pilot as f64 * (target_mb as f64 * 1e6) / pilot_bytes as f64).ceil() as u64;
    eprintln!(
        "  {}: pilot of {pilot} units is {:.1} MB; sending {} units in all",
        shape.name(),
        pilot_bytes as f64 / 1e6,
        units.max(pilot)
    );
    sent += pipeline(port, (pilot..units).flat_map(|i| shape.unit(i)))?;
    let loaded = t.elapsed().as_secs_f64();
    let t = Instant::now();
    c.call(&[b"SAVE"])?;
    let keys = match c.call(&[b"DBSIZE"])? {
        Reply::Int(n) => n,
        r => return Err(std::io::Error::other(format!("DBSIZE: {r:?}"))),
    };
    eprintln!(
        "  {sent} commands in {loaded:.1} s, {keys} keys, SAVE {:.1} s",
        t.elapsed().as_secs_f64()
    );
    // Copied under a temporary name and renamed, so an interrupted run never leaves a cut file
    // in the cache that a later run would take for a finished one.
    let part = path.with_extension("rdb.part");
    std::fs::copy(server.rdb_path(), &part)?;
    std::fs::write(path.with_extension("keys"), keys.to_string())?;
    std::fs::rename(&part, path)
}

fn input(build: &ServerBuild, shape: Shape, mb: u64, regenerate: bool) -> Input {
    let dir = cache_dir();
    std::fs::create_dir_all(&dir).expect("create the cache directory");
    let path = dir.join(format!("{}-{mb}mb-7.0.15.rdb", shape.name()));
    if regenerate || !path.exists() {
        eprintln!("generating {} with redis 7.0.15", path.display());
        generate(build, shape, mb, &path).expect("generate the file");
    }
    let keys = std::fs::read_to_string(path.with_extension("keys")).unwrap_or_else(|_| "?".into());
    Input {
        label: format!("{} ~{mb} MB", shape.name()),
        bytes: std::fs::metadata(&path).expect("cached file").len(),
        path,
        keys: keys.trim().to_string(),
    }
}

fn command(tool: &str, bin: &Path, file: &Path) -> Command {
    let mut c = if tool == "redis-check-rdb" {
        Command::new(REDIS_CHECK_RDB)
    } else {
        let mut c = Command::new(bin);
        c.args(tool.split(' '));
        c
    };
    c.arg(file);
    c
}

/// Results of one tool on one file: (seconds, peak RSS KiB) per run.
struct Timings {
    runs: Vec<(f64, u64)>,
}

impl Timings {
    fn secs(&self) -> Vec<f64> {
        self.runs.iter().map(|r| r.0).collect()
    }
    fn median(&self) -> f64 {
        median(&self.secs())
    }
    /// The highest peak over the runs: the bound a user would have to provision for.
    fn rss_mib(&self) -> f64 {
        self.runs.iter().map(|r| r.1).max().unwrap_or(0) as f64 / 1024.0
    }
}

/// Times every tool on `input`, `runs` times, the tools interleaved within each run so that a
/// slow spell on the shared machine spreads over all of them rather than hitting one.
fn bench(input: &Input, args: &Args, skip_json: bool) -> Vec<(&'static str, Option<Timings>)> {
    // Read once so every tool, the first included, starts from a warm page cache.
    std::io::copy(
        &mut std::fs::File::open(&input.path).expect("open"),
        &mut std::io::sink(),
    )
    .expect("read the file");
    let mut out: Vec<(&str, Option<Timings>)> = TOOLS
        .iter()
        .map(|&t| {
            let skipped = skip_json && t == "dump --json";
            (t, (!skipped).then(|| Timings { runs: Vec::new() }))
        })
        .collect();
    for run in 0..args.runs {
        for (tool, timings) in out.iter_mut() {
            if let Some(t) = timings {
                let m = measure(&mut command(tool, &args.bin, &input.path));
                eprintln!("  run {run}: {tool}: {:.2} s, {} KiB", m.0, m.1);
                t.runs.push(m);
            }
        }
    }
    out
}

fn verdict(met: bool) -> &'static str {
    if met {
        "met"
    } else {
        "**missed**"
    }
}

/// The table rows for one file, then the ratios and goals below it as list items.
fn report(input: &Input, results: &[(&str, Option<Timings>)], big: bool) -> (String, String) {
    let mb = input.bytes as f64 / 1e6;
    let mut rows = String::new();
    for (tool, t) in results {
        let name = if *tool == "redis-check-rdb" {
            "`redis-check-rdb` 7.0.15".to_string()
        } else {
            format!("`redis-persist {tool}`")
        };
        rows += &match t {
            Some(t) => format!(
                "| {} ({mb:.0} MB, {} keys) | {name} | {:.2} | {:.2} | {:.0} | {:.1} |\n",
                input.label,
                input.keys,
                best(&t.secs()),
                t.median(),
                mb / t.median(),
                t.rss_mib()
            ),
            None => format!(
                "| {} ({mb:.0} MB, {} keys) | {name} | skipped (`--skip-json`) | | | |\n",
                input.label, input.keys
            ),
        };
    }
    let get = |name: &str| {
        results
            .iter()
            .find(|(t, _)| *t == name)
            .and_then(|(_, t)| t.as_ref())
    };
    let (theirs, check) = (get("redis-check-rdb").unwrap(), get("check").unwrap());
    let (jsonl, stats) = (get("dump --jsonl").unwrap(), get("stats").unwrap());
    let speedup = theirs.median() / check.median();
    let jl = jsonl.median() / check.median();
    let st = stats.median() / check.median();
    let mut goals = format!(
        "- {}: check is {speedup:.1}x `redis-check-rdb` (goal >= 10x: {}), check peak RSS \
         {:.1} MiB (goal < 16 MiB: {}); dump --jsonl / check = {jl:.2} (goal <= 3: {}), jsonl \
         peak RSS {:.1} MiB (goal < 64 MiB + largest element: {}); stats / check = {st:.2} \
         (goal <= 2: {})",
        input.label,
        verdict(speedup >= 10.0),
        check.rss_mib(),
        verdict(check.rss_mib() < 16.0),
        verdict(jl <= 3.0),
        jsonl.rss_mib(),
        verdict(jsonl.rss_mib() < 64.0),
        verdict(st <= 2.0),
    );
    if big {
        goals += &match get("dump --json") {
            Some(j) => format!(
                "; dump --json peak RSS {:.0} MiB (goal < 512 MiB on the big file: {})",
                j.rss_mib(),
                verdict(j.rss_mib() < 512.0)
            ),
            None => "; dump --json skipped (`--skip-json`), its goal is unmeasured".to_string(),
        };
    }
    (rows, goals + "\n")
}

fn main() {
    let args = parse_args();
    assert!(
        args.bin.exists(),
        "{} is missing: cargo build --release -p redis-persist (or pass --bin PATH)",
        args.bin.display()
    );
    assert!(
        Path::new(REDIS_CHECK_RDB).exists(),
        "{REDIS_CHECK_RDB} is missing"
    );
    let build = ServerBuild::by_name("redis-7.0.15")
        .expect("Debian's redis-server 7.0.15 (bash .ci/install-servers)");
    let mut inputs: Vec<(Input, bool)> = Shape::ALL
        .iter()
        .map(|&s| (input(&build, s, args.size_mb, args.regenerate), false))
        .collect();
    inputs.push((
        input(&build, Shape::Strings, args.big_mb, args.regenerate),
        true,
    ));

    let mut rows = String::new();
    let mut goals = String::new();
    for (input, big) in &inputs {
        eprintln!(
            "benchmarking {} ({} bytes)",
            input.path.display(),
            input.bytes
        );
        let results = bench(input, &args, args.skip_json && *big);
        let (r, g) = report(input, &results, *big);
        rows += &r;
        goals += &g;
    }
    println!(
        "{} runs per tool, interleaved; warm page cache; peak RSS is the highest of the runs.\n",
        args.runs
    );
    println!("| file | tool | best s | median s | MB/s (median) | peak RSS MiB |");
    println!("|---|---|---|---|---|---|");
    print!("{rows}\nRatios of medians:\n\n{goals}");
}
