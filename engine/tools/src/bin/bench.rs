//! Benchmarks against real Redis 7.0.15 on one large RDB written by it: `check` and `dump` versus
//! `redis-check-rdb` (MB/s, peak RSS), and the writer versus the server's own `SAVE`.
//!
//! `cargo build --release -p redis-persist && cargo run --release -p redis-persist-tools --bin bench -- [--regenerate] [--runs N]`
use redis_persist_engine::format::rdb::{
    read_dataset_from, write_dataset, ReadOptions, Target, WriteOptions,
};
use redis_persist_engine::live::Client;
use redis_persist_engine::live::ServerBuild;
use redis_persist_engine::live::{Reply, RunningServer, TempDir};
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Instant;

use redis_persist_engine::rng::Rng;
use redis_persist_tools::harness::{measure, median, median_by_time, pipeline};

fn populate(port: u16) -> std::io::Result<u64> {
    let mut rng = Rng::new(0x9e37_79b9_7f4a_7c15);
    let mut n = 0;
    // 3M small strings: a third random bytes, a third compressible text, a third integers.
    n += pipeline(
        port,
        (0..3_000_000u64).map(|i| {
            let v = match i % 3 {
                0 => rng.bytes(20 + (i % 80) as usize),
                1 => format!("user:{i}:profile:{}", "x".repeat((i % 60) as usize)).into_bytes(),
                _ => (i * 7919).to_string().into_bytes(),
            };
            vec![b"SET".to_vec(), format!("key:{i:08}").into_bytes(), v]
        }),
    )?;
    let mut rng = Rng::new(0x2545_f491_4f6c_dd1d);
    // Large collections: lists, hashtable hashes, hashtable and intset sets, skiplist zsets.
    for k in 0..16u64 {
        n += pipeline(
            port,
            (0..1000u64).map(|b| {
                let mut c = vec![b"RPUSH".to_vec(), format!("list:{k}").into_bytes()];
                c.extend((0..100).map(|j| {
                    if j % 2 == 0 {
                        rng.bytes(16)
                    } else {
                        format!("item-{b}-{j}").into_bytes()
                    }
                }));
                c
            }),
        )?;
        n += pipeline(
            port,
            (0..1000u64).map(|b| {
                let mut c = vec![b"HSET".to_vec(), format!("hash:{k}").into_bytes()];
                for j in 0..100 {
                    c.push(format!("field:{b}:{j}").into_bytes());
                    c.push(rng.bytes(24));
                }
                c
            }),
        )?;
        n += pipeline(
            port,
            (0..1000u64).map(|b| {
                let mut c = vec![b"SADD".to_vec(), format!("set:{k}").into_bytes()];
                c.extend((0..100).map(|j| format!("member:{b}:{j}").into_bytes()));
                c
            }),
        )?;
        n += pipeline(
            port,
            (0..1000u64).map(|b| {
                let mut c = vec![b"ZADD".to_vec(), format!("zset:{k}").into_bytes()];
                for j in 0..100 {
                    c.push(format!("{}", (b * 100 + j) as f64 / 7.0).into_bytes());
                    c.push(format!("m:{b}:{j}").into_bytes());
                }
                c
            }),
        )?;
    }
    Ok(n)
}

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let regenerate = args.iter().any(|a| a == "--regenerate");
    let runs: usize = args
        .iter()
        .position(|a| a == "--runs")
        .and_then(|i| args.get(i + 1)?.parse().ok())
        .unwrap_or(3);
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../..");
    let persist = root.join("target/release/redis-persist");
    assert!(
        persist.exists(),
        "build it first: cargo build --release -p redis-persist"
    );
    let data_dir = root.join("target/bench-data");
    std::fs::create_dir_all(&data_dir).unwrap();
    let file: PathBuf = data_dir.join("dump-7.0.15.rdb");
    let build = ServerBuild::by_name("redis-7.0.15")
        .expect("Debian's redis-server 7.0.15 (apt-get install redis-server)");

    let tmp = TempDir::new("bench").unwrap();
    let server = RunningServer::start(&build, tmp.path(), &[]).expect("start redis-7.0.15");
    let mut c: Client = server.client().unwrap();
    if regenerate || !file.exists() {
        let t = Instant::now();
        let n = populate(server.port()).expect("populate");
        eprintln!(
            "populated with {n} commands in {:.1} s",
            t.elapsed().as_secs_f64()
        );
    } else {
        // Load the cached file into the server so SAVE can be timed on the same dataset.
        drop(c);
        drop(server);
        std::fs::copy(&file, tmp.path().join("dump.rdb")).unwrap();
        let server2 =
            RunningServer::start(&build, tmp.path(), &["--dbfilename", "dump.rdb"]).unwrap();
        return run(server2, &file, &persist, runs);
    }
    let t = Instant::now();
    c.call(&[b"SAVE"]).unwrap();
    eprintln!("first SAVE {:.2} s", t.elapsed().as_secs_f64());
    std::fs::copy(tmp.path().join("dump.rdb"), &file).unwrap();
    run(server, &file, &persist, runs);
}

fn run(server: RunningServer, file: &Path, persist: &Path, runs: usize) {
    let size = std::fs::metadata(file).unwrap().len();
    let mb = size as f64 / 1e6;
    let mut c = server.client().unwrap();
    let keys = match c.call(&[b"DBSIZE"]).unwrap() {
        Reply::Int(n) => n,
        r => panic!("DBSIZE: {r:?}"),
    };
    println!(
        "file: {} ({:.1} MB, {keys} keys, written by redis 7.0.15)\n",
        file.display(),
        mb
    );
    let tools: Vec<(&str, Command)> = vec![
        ("redis-check-rdb 7.0.15", {
            let mut c = Command::new("/usr/bin/redis-check-rdb");
            c.arg(file);
            c
        }),
        ("redis-persist check", {
            let mut c = Command::new(persist);
            c.arg("check").arg(file);
            c
        }),
        ("redis-persist dump --json", {
            let mut c = Command::new(persist);
            c.args(["dump", "--json"]).arg(file);
            c
        }),
    ];
    println!("| tool | seconds | MB/s | peak RSS MB |\n|---|---|---|---|");
    let mut base = 0.0;
    for (name, mut cmd) in tools {
        measure(&mut cmd); // warm the page cache
        let times: Vec<(f64, u64)> = (0..runs).map(|_| measure(&mut cmd)).collect();
        let (s, rss) = median_by_time(&times);
        if base == 0.0 {
            base = s;
        }
        println!(
            "| {name} | {s:.2} | {:.0} | {:.1} |  ({:.1}x)",
            mb / s,
            rss as f64 / 1024.0,
            base / s
        );
    }
    // The writer against SAVE: the same dataset, in memory on both sides.
    let saves: Vec<f64> = (0..runs)
        .map(|_| {
            let t = Instant::now();
            c.call(&[b"SAVE"]).unwrap();
            t.elapsed().as_secs_f64()
        })
        .collect();
    let save = median(&saves);
    let bytes = std::fs::read(file).unwrap();
    let (ds, _) = read_dataset_from(
        &bytes[..],
        ReadOptions {
            total_len: Some(size),
            ..ReadOptions::default()
        },
    )
    .unwrap();
    drop(bytes);
    let out_path = file.with_extension("ours.rdb");
    let writes: Vec<(f64, u64)> = (0..runs)
        .map(|_| {
            let t = Instant::now();
            let f = std::io::BufWriter::new(std::fs::File::create(&out_path).unwrap());
            let w = write_dataset(
                &ds,
                &WriteOptions::new(Target::redis(10).unwrap(), 1_700_000_000),
                f,
            )
            .unwrap();
            (t.elapsed().as_secs_f64(), w.bytes)
        })
        .collect();
    let (ws, wbytes) = median_by_time(&writes);
    println!("\n| writer | seconds | MB/s | keys/s |\n|---|---|---|---|");
    println!(
        "| redis-server 7.0.15 SAVE | {save:.2} | {:.0} | {:.2} M |",
        mb / save,
        keys as f64 / save / 1e6
    );
    println!(
        "| redis-persist writer (RDB 10, LZF, CRC) | {ws:.2} | {:.0} | {:.2} M |  ({:.1}x SAVE)",
        wbytes as f64 / 1e6 / ws,
        keys as f64 / ws / 1e6,
        save / ws
    );
    let _ = std::fs::remove_file(out_path);
}
