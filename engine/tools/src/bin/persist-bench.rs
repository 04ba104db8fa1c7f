//! Persistence benchmark against real Redis 7.0.15 on a real directory: BGSAVE pause and total time
//! for 1 M keys, and SET throughput under each `appendfsync` policy.
//!
//! `cargo run --release -p redis-persist-tools --bin persist-bench -- [--keys N] [--ops N]`. Data lives in
//! temp dirs under the system temp directory (on the same disk as a server's would be).
use redis_persist_engine::keyspace::Session;
use redis_persist_engine::live::{Client, RunningServer, ServerBuild, TempDir};
use redis_persist_engine::persist::{AppendFsync, PersistConfig, Server, SystemClock};
use redis_persist_engine::storage::RealDir;
use redis_persist_tools::harness::number_arg;
use std::process::Command;
use std::time::{Duration, Instant};

fn info(c: &mut Client, field: &str) -> String {
    let text = c.call_str(&["INFO", "all"]).unwrap().into_text().unwrap();
    text.lines()
        .find_map(|l| l.strip_prefix(&format!("{field}:")))
        .unwrap_or_default()
        .trim()
        .to_owned()
}

/// Redis: DEBUG POPULATE, then BGSAVE; pause = the fork time it reports, total = until done.
fn redis_bgsave(build: &ServerBuild, keys: usize) -> (f64, f64) {
    let tmp = TempDir::new("pbench-redis").unwrap();
    let s = RunningServer::start(build, tmp.path(), &[]).unwrap();
    let mut c = s.client().unwrap();
    c.call_str(&["DEBUG", "POPULATE", &keys.to_string()])
        .unwrap();
    let t = Instant::now();
    c.call_str(&["BGSAVE"]).unwrap();
    loop {
        if info(&mut c, "rdb_bgsave_in_progress") == "0" {
            break;
        }
        std::thread::sleep(Duration::from_millis(2));
    }
    let total = t.elapsed().as_secs_f64();
    let fork_us: f64 = info(&mut c, "latest_fork_usec").parse().unwrap_or(f64::NAN);
    assert_eq!(info(&mut c, "rdb_last_bgsave_status"), "ok");
    (fork_us / 1e6, total)
}

fn engine_server(dir: &TempDir, cfg: PersistConfig) -> Server<RealDir, SystemClock> {
    let mut srv = Server::open(RealDir::new(dir.path()).unwrap(), SystemClock, cfg).unwrap();
    srv.auto_finish = false;
    srv
}

/// Ours: the same keys through SET, then BGSAVE; pause = `bgsave_start`, total = until the dump
/// is in place.
fn engine_bgsave(keys: usize) -> (f64, f64) {
    let tmp = TempDir::new("pbench-engine").unwrap();
    let cfg = PersistConfig {
        save: Vec::new(),
        ..PersistConfig::default()
    };
    let mut srv = engine_server(&tmp, cfg);
    let mut s = Session::new();
    for i in 0..keys {
        let (k, v) = (format!("key:{i}"), format!("value:{i}"));
        srv.execute(&mut s, &[b"SET", k.as_bytes(), v.as_bytes()]);
    }
    let t = Instant::now();
    srv.bgsave_start().unwrap();
    let pause = t.elapsed().as_secs_f64();
    srv.bgsave_finish().unwrap();
    (pause, t.elapsed().as_secs_f64())
}

fn policy_name(p: AppendFsync) -> &'static str {
    match p {
        AppendFsync::Always => "always",
        AppendFsync::Everysec => "everysec",
        AppendFsync::No => "no",
    }
}

/// Ours: SETs in process, one after another, `appendonly yes` under `policy`.
fn engine_sets(policy: AppendFsync, ops: usize) -> f64 {
    let tmp = TempDir::new("pbench-aof").unwrap();
    let cfg = PersistConfig {
        appendonly: true,
        appendfsync: policy,
        save: Vec::new(),
        ..PersistConfig::default()
    };
    let mut srv = engine_server(&tmp, cfg);
    let mut s = Session::new();
    let value = vec![b'x'; 3];
    let t = Instant::now();
    for i in 0..ops {
        let k = format!("key:{:012}", i % 100_000);
        srv.execute(&mut s, &[b"SET", k.as_bytes(), &value]);
        if i % 1024 == 0 {
            srv.tick();
        }
    }
    ops as f64 / t.elapsed().as_secs_f64()
}

/// Redis: `redis-benchmark -t set` with `clients` connections, `appendonly yes` under `policy`.
fn redis_sets(build: &ServerBuild, policy: AppendFsync, ops: usize, clients: usize) -> f64 {
    let tmp = TempDir::new("pbench-redis-aof").unwrap();
    let args = ["--appendonly", "yes", "--appendfsync", policy_name(policy)];
    let s = RunningServer::start(build, tmp.path(), &args).unwrap();
    let out = Command::new("/usr/bin/redis-benchmark")
        .args([
            "-h",
            "127.0.0.1",
            "-p",
            &s.port().to_string(),
            "-t",
            "set",
            "-q",
        ])
        .args([
            "-n",
            &ops.to_string(),
            "-c",
            &clients.to_string(),
            "-r",
            "100000",
        ])
        .output()
        .expect("redis-benchmark (Debian's redis-tools) runs");
    let text = String::from_utf8_lossy(&out.stdout);
    // "SET: 12345.67 requests per second, p50=..."
    text.rsplit("SET: ")
        .next()
        .and_then(|t| t.split_whitespace().next())
        .and_then(|n| n.parse().ok())
        .unwrap_or_else(|| panic!("unexpected redis-benchmark output: {text}"))
}

fn main() {
    if std::env::args().any(|a| a == "-h" || a == "--help") {
        println!("usage: persist-bench [--keys N (1000000)] [--ops N (200000)]\n\nBGSAVE pause and total time for N keys, and SET throughput under each appendfsync\npolicy on a real directory, for the engine and for redis-server 7.0.15 (DEBUG POPULATE,\nINFO latest_fork_usec, redis-benchmark with 1 and 50 clients).");
        return;
    }
    let keys = number_arg("--keys", 1_000_000);
    let ops = number_arg("--ops", 200_000);
    let build = ServerBuild::by_name("redis-7.0.15").expect("Debian's redis-server 7.0.15");
    let (rp, rt) = redis_bgsave(&build, keys);
    let (ep, et) = engine_bgsave(keys);
    println!("BGSAVE of {keys} keys (key:N = value:N)");
    println!("| server | pause (ms) | total (s) |");
    println!("|---|---|---|");
    println!("| redis-server 7.0.15 (fork) | {:.1} | {rt:.2} |", rp * 1e3);
    println!("| engine (snapshot clone) | {:.1} | {et:.2} |", ep * 1e3);
    println!();
    println!("SET throughput, appendonly yes, ops/s ({ops} SETs, 3-byte values, 100 000 keys)");
    println!("| appendfsync | engine, in process | redis-benchmark -c 1 | redis-benchmark -c 50 |");
    println!("|---|---|---|---|");
    for p in [AppendFsync::Always, AppendFsync::Everysec, AppendFsync::No] {
        let n = if p == AppendFsync::Always {
            ops / 10
        } else {
            ops
        };
        let ours = engine_sets(p, n);
        let one = redis_sets(&build, p, n, 1);
        let fifty = redis_sets(&build, p, n, 50);
        println!("| {} | {ours:.0} | {one:.0} | {fifty:.0} |", policy_name(p));
    }
}
