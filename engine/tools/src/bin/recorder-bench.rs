//! The crash recorder's overhead: `redis-benchmark -t set` against Redis 7.0.15 with the AOF on,
//! under `appendfsync always` and `everysec`, with and without the recorder preloaded.
//!
//! `cargo run --release -p redis-persist-tools --bin recorder-bench -- [--requests N] [--rounds R]`
//! Each round runs the four configurations back to back (without, then with, per policy), so
//! that load from elsewhere on the machine falls on both sides alike; the median of the rounds is
//! printed. Data lives in temp dirs under the system temp directory, on the disk a server's would.
use redis_persist_crash::launch::{Launch, Proc, StartConfig};
use redis_persist_crash::Recorder;
use redis_persist_engine::live::{ServerBuild, TempDir};
use redis_persist_tools::harness::{median, number_arg};
use std::process::Command;

/// One benchmark: requests per second, and the trace's size in bytes (0 without the recorder).
fn run(launch: &Launch, fsync: &str, recorded: bool, requests: usize) -> (f64, u64) {
    let tmp = TempDir::new("recorder-bench").expect("temp dir");
    let data = tmp.path().join("data");
    std::fs::create_dir_all(&data).expect("data dir");
    let trace = tmp.path().join("trace.bin");
    let recorder = Recorder::install(tmp.path()).expect("install the recorder");
    let cfg = StartConfig {
        appendonly: true,
        appendfsync: fsync.into(),
    };
    let rec = recorded.then_some((&recorder, trace.as_path()));
    let log = tmp.path().join("server.log");
    let mut proc = Proc::start(launch, &data, &log, &cfg, rec).expect("server starts");
    let out = Command::new("redis-benchmark")
        .args(["-p", &proc.port.to_string(), "-t", "set", "-q"])
        .args(["-n", &requests.to_string()])
        .output()
        .expect("run redis-benchmark (apt-get install redis-tools)");
    proc.kill();
    // `-q` prints "SET: 12345.67 requests per second, p50=..." after carriage-return progress.
    let text = String::from_utf8_lossy(&out.stdout);
    let rps = text
        .rsplit('\r')
        .find_map(|l| l.trim().strip_prefix("SET: "))
        .and_then(|l| l.split_whitespace().next()?.parse().ok())
        .unwrap_or_else(|| panic!("no SET figure in redis-benchmark's output: {text}"));
    let size = std::fs::metadata(&trace).map_or(0, |m| m.len());
    (rps, size)
}

fn main() {
    let requests = number_arg("--requests", 100_000);
    let rounds = number_arg("--rounds", 3).max(1);
    let build = ServerBuild::by_name("redis-7.0.15").unwrap_or_else(|e| panic!("{e}"));
    let launch = Launch::from_build(&build);
    let configs = [
        ("always", false),
        ("always", true),
        ("everysec", false),
        ("everysec", true),
    ];
    let mut rps: Vec<Vec<f64>> = vec![Vec::new(); configs.len()];
    let mut trace = [0u64; 4];
    for r in 0..rounds {
        for (i, &(fsync, recorded)) in configs.iter().enumerate() {
            let (x, size) = run(&launch, fsync, recorded, requests);
            eprintln!("round {r}: {fsync:8} recorder {recorded:5}: {x:10.0} SET/s");
            rps[i].push(x);
            trace[i] = trace[i].max(size);
        }
    }
    println!(
        "redis-benchmark -t set -n {requests} against {} (appendonly yes), median of {rounds}",
        build.name
    );
    println!("appendfsync  without recorder  with recorder  ratio  trace");
    for p in 0..2 {
        let (without, with) = (median(&rps[2 * p]), median(&rps[2 * p + 1]));
        println!(
            "{:11}  {:>10.0} SET/s  {:>9.0} SET/s  {:5.2}  {:.1} MB",
            configs[2 * p].0,
            without,
            with,
            with / without,
            trace[2 * p + 1] as f64 / 1e6
        );
    }
}
