//! AOF benchmark against real Redis 7.0.15: the server writes a ~500 MB append-only file from a
//! write mix, then its own load time is set beside our RESP parse and our parse + replay.
//!
//! `cargo build --release -p redis-persist && cargo run --release -p redis-persist-tools --bin aof-bench --
//! [--regenerate] [--runs N]`. The AOF is cached under `target/bench-data/aof-7.0.15/`.
use redis_persist_engine::aof::{load, replay, LoadOptions};
use redis_persist_engine::format::rdb::ReadOptions;
use redis_persist_engine::format::resp::{CommandReader, Next, Strictness};
use redis_persist_engine::keyspace::{Config, Keyspace, Session};
use redis_persist_engine::live::{Client, RunningServer, ServerBuild, TempDir};
use std::path::{Path, PathBuf};
use std::time::Instant;

const COMMANDS: u64 = 3_300_000;

// The same allocator as the `redis-persist` binary (Redis itself ships with jemalloc).
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

use redis_persist_engine::rng::Rng;
use redis_persist_tools::harness::{best, median, pipeline};

/// The i-th command of the mix: strings (with absolute expiries and counters), lists, hashes,
/// sets, sorted sets and streams, on a key space where collections grow.
fn command(i: u64, rng: &mut Rng) -> Vec<Vec<u8>> {
    let s = |t: &str| t.as_bytes().to_vec();
    let coll = i % 20_000;
    match i % 20 {
        0..=7 => vec![
            s("SET"),
            s(&format!("key:{i:09}")),
            rng.text(90 + (i % 40) as usize),
        ],
        8 | 9 => vec![s("RPUSH"), s(&format!("list:{coll}")), rng.text(100)],
        10 | 11 => vec![
            s("HSET"),
            s(&format!("hash:{coll}")),
            s(&format!("field:{i}")),
            rng.text(90),
        ],
        12 | 13 => vec![
            s("ZADD"),
            s(&format!("zset:{coll}")),
            s(&format!("{}", (rng.next_u64() % 1_000_000) as f64 / 7.0)),
            rng.text(80),
        ],
        14 | 15 => vec![s("SADD"), s(&format!("set:{coll}")), rng.text(90)],
        16 => vec![s("INCRBY"), s(&format!("counter:{}", i % 1000)), s("7")],
        17 => vec![
            s("PEXPIREAT"),
            s(&format!("key:{:09}", i - 17)),
            s("4102444800000"),
        ],
        18 => vec![
            s("XADD"),
            s(&format!("stream:{}", i % 100)),
            s(&format!("{}-1", i + 1)),
            s("field"),
            rng.text(80),
        ],
        _ => vec![s("APPEND"), s(&format!("key:{:09}", i - 19)), rng.text(20)],
    }
}

/// Sends the mix pipelined, checking that no reply is an error.
fn populate(port: u16) -> std::io::Result<()> {
    let mut rng = Rng::new(0x9e37_79b9_7f4a_7c15);
    pipeline(port, (0..COMMANDS).map(|i| command(i, &mut rng))).map(|_| ())
}

fn copy_dir(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).unwrap();
    for e in std::fs::read_dir(from).unwrap().flatten() {
        std::fs::copy(e.path(), to.join(e.file_name())).unwrap();
    }
}

fn dir_size(d: &Path) -> u64 {
    std::fs::read_dir(d)
        .unwrap()
        .flatten()
        .map(|e| e.metadata().unwrap().len())
        .sum()
}

const SERVER_ARGS: &[&str] = &[
    "--appendonly",
    "yes",
    "--appenddirname",
    "appendonlydir",
    "--aof-use-rdb-preamble",
    "no",
    "--appendfsync",
    "no",
    // One base and one incremental file: no automatic rewrite while the mix is written.
    "--auto-aof-rewrite-percentage",
    "0",
];

/// Seconds from spawn to serving (PING answered) for the build on a copy of `aof` (or empty).
fn server_start(build: &ServerBuild, aof: Option<&Path>) -> f64 {
    let tmp = TempDir::new("aof-bench-load").unwrap();
    if let Some(a) = aof {
        copy_dir(a, &tmp.path().join("appendonlydir"));
    }
    let t = Instant::now();
    let s = RunningServer::start(build, tmp.path(), SERVER_ARGS).expect("server loads the AOF");
    let secs = t.elapsed().as_secs_f64();
    drop(s);
    secs
}

fn spread(v: &[f64]) -> String {
    let hi = v.iter().copied().fold(0.0, f64::max);
    format!("{:.2}-{hi:.2}, median {:.2}", best(v), median(v))
}

/// `--replay-once FILE`: one replay in this process; prints seconds and commands.
fn replay_once(file: &Path) {
    let opts = LoadOptions {
        load_truncated: true,
        now_ms: 0,
        rdb: ReadOptions::default(),
        memory_limit: None,
    };
    let t = Instant::now();
    let mut ks = Keyspace::with_config(Config::replay());
    let mut session = Session::new();
    // Streamed from the file, as a server load reads it.
    let f = std::fs::File::open(file).unwrap();
    let len = f.metadata().unwrap().len();
    let r = replay(f, Some(len), &mut ks, &mut session, &opts, true).unwrap();
    println!("{} {}", t.elapsed().as_secs_f64(), r.commands);
    // The process exits without freeing the keyspace, as a server never frees it either.
    std::mem::forget(ks);
}

fn main() {
    let args: Vec<String> = std::env::args().collect();
    if let Some(i) = args.iter().position(|a| a == "--replay-once") {
        return replay_once(Path::new(&args[i + 1]));
    }
    if args.iter().any(|a| a == "-h" || a == "--help") {
        println!("usage: aof-bench [--regenerate] [--runs N]\n\nMakes (once) a ~500 MB AOF with real redis-server 7.0.15 from a {COMMANDS}-command\nwrite mix, then times: our RESP parse, our load (parse + replay), and the server's own\nload of the same files (spawn to first PONG, minus an empty start). Best of N runs (3).");
        return;
    }
    let regenerate = args.iter().any(|a| a == "--regenerate");
    let runs: usize = args
        .iter()
        .position(|a| a == "--runs")
        .and_then(|i| args.get(i + 1)?.parse().ok())
        .unwrap_or(3);
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../..");
    let data: PathBuf = root.join("target/bench-data/aof-7.0.15");
    let build = ServerBuild::by_name("redis-7.0.15")
        .expect("Debian's redis-server 7.0.15 (apt-get install redis-server)");
    if regenerate || !data.join("appendonly.aof.manifest").exists() {
        let tmp = TempDir::new("aof-bench-write").unwrap();
        let server = RunningServer::start(&build, tmp.path(), SERVER_ARGS).unwrap();
        let t = Instant::now();
        populate(server.port()).expect("populate");
        let mut c: Client = server.client().unwrap();
        c.call(&[b"PING"]).unwrap();
        drop(c);
        drop(server);
        eprintln!(
            "the server wrote the AOF in {:.1} s",
            t.elapsed().as_secs_f64()
        );
        let _ = std::fs::remove_dir_all(&data);
        copy_dir(&tmp.path().join("appendonlydir"), &data);
    }
    let size = dir_size(&data);
    let incr = std::fs::read_dir(&data)
        .unwrap()
        .flatten()
        .map(|e| e.path())
        .find(|p| p.to_string_lossy().ends_with(".incr.aof"))
        .unwrap();
    let bytes = std::fs::read(&incr).unwrap();

    let (mut parse, mut ours, mut theirs) = (Vec::new(), Vec::new(), Vec::new());
    let mut replays = Vec::new();
    let mut commands = 0u64;
    for _ in 0..runs {
        let t = Instant::now();
        let mut n = 0u64;
        let mut r = CommandReader::from_slice(&bytes, Strictness::Server);
        loop {
            match r.next_item().unwrap() {
                Next::Command { .. } => {
                    std::hint::black_box(r.argv());
                    n += 1;
                }
                Next::Annotation { .. } => {}
                Next::End => break,
                Next::Incomplete { .. } => panic!("the server's AOF ends mid-command"),
            }
        }
        parse.push(t.elapsed().as_secs_f64());
        commands = n;

        let opts = LoadOptions {
            load_truncated: true,
            now_ms: 0,
            rdb: ReadOptions::default(),
            memory_limit: None,
        };
        // What the server does: read the files and execute every command into a keyspace, in a
        // fresh process as a server load is (a second load in one process would reuse memory the
        // first one already faulted in).
        let out = std::process::Command::new(std::env::current_exe().unwrap())
            .arg("--replay-once")
            .arg(&incr)
            .output()
            .expect("runs itself");
        let text = String::from_utf8_lossy(&out.stdout);
        let (secs, cmds) = text
            .trim()
            .split_once(' ')
            .and_then(|(a, b)| Some((a.parse::<f64>().ok()?, b.parse::<u64>().ok()?)))
            .unwrap_or_else(|| panic!("--replay-once printed {text:?}"));
        replays.push(secs);
        assert_eq!(cmds, n, "every command replayed");

        // The CLI's path: the same, then the keyspace turned into a canonical dataset.
        let t = Instant::now();
        let loaded = load(&data, &opts).unwrap();
        ours.push(t.elapsed().as_secs_f64());
        assert_eq!(loaded.commands, n, "every command replayed");
        drop(loaded);

        let empty = server_start(&build, None);
        theirs.push(server_start(&build, Some(&data)) - empty);
    }
    let mb = size as f64 / 1e6;
    let m = commands as f64 / 1e6;
    println!(
        "AOF: {mb:.0} MB, {commands} commands (written by redis-server 7.0.15), best of {runs}"
    );
    println!("| what | seconds (range) | MB/s | M commands/s |");
    println!("|---|---|---|---|");
    let row = |name: &str, v: &[f64]| {
        let s = best(v);
        println!("| {name} | {} | {:.0} | {:.2} |", spread(v), mb / s, m / s);
    };
    row("redis-server 7.0.15 load", &theirs);
    row("our RESP parse", &parse);
    row("our replay (read + parse + execute)", &replays);
    row("our load to a dataset (replay + canonical dataset)", &ours);
    println!(
        "ratios to the server's load (best / median): parse {:.1}x / {:.1}x, replay {:.1}x / {:.1}x, load to a dataset {:.1}x / {:.1}x",
        best(&theirs) / best(&parse),
        median(&theirs) / median(&parse),
        best(&theirs) / best(&replays),
        median(&theirs) / median(&replays),
        best(&theirs) / best(&ours),
        median(&theirs) / median(&ours),
    );
}
