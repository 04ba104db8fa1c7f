//! The same random command sequences go to Debian's redis-server 7.0.15 (`appendonly yes`,
//! `appendfsync always`) and to `persist::Server` on a real directory; after SAVE, and after
//! BGREWRITEAOF plus more writes, the datasets decoded from both servers' files must be equal.
use redis_persist_engine::aof::{load, LoadOptions};
use redis_persist_engine::dataset::{first_difference, Dataset};
use redis_persist_engine::format::rdb::{read_dataset, ReadOptions};
use redis_persist_engine::keyspace::{Reply, Session};
use redis_persist_engine::live::{require_or_skip, Client, RunningServer, TempDir};
use redis_persist_engine::persist::{AppendFsync, PersistConfig, Server, SystemClock};
use redis_persist_engine::storage::RealDir;
use std::path::Path;
use std::time::{Duration, Instant};

#[path = "serve_support/history.rs"]
mod history;
use history::{command, Rng};

/// Sends `n` random commands to both; they must agree on which ones fail.
fn send(
    c: &mut Client,
    srv: &mut Server<RealDir, SystemClock>,
    session: &mut Session,
    rng: &mut Rng,
    n: usize,
) {
    for _ in 0..n {
        // Auto IDs would differ in time between the two servers: both get `0-*`.
        let cmd: Vec<String> = command(rng)
            .into_iter()
            .map(|a| if a == "*" { "0-*".into() } else { a })
            .collect();
        let argv: Vec<&[u8]> = cmd.iter().map(|a| a.as_bytes()).collect();
        let theirs = c.cmd(&argv).unwrap();
        let ours = srv.execute(session, &argv);
        let t_err = matches!(theirs, redis_persist_engine::live::Reply::Error(_));
        let o_err = matches!(ours, Reply::Error(_));
        assert_eq!(t_err, o_err, "{cmd:?}: redis {theirs:?}, engine {ours:?}");
    }
}

fn wait_rewrite(c: &mut Client) {
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        let info = c
            .call_str(&["INFO", "persistence"])
            .unwrap()
            .into_text()
            .unwrap();
        let busy = info
            .lines()
            .any(|l| l == "aof_rewrite_in_progress:1" || l == "aof_rewrite_scheduled:1");
        if !busy {
            return;
        }
        assert!(Instant::now() < deadline, "BGREWRITEAOF did not finish");
        std::thread::sleep(Duration::from_millis(20));
    }
}

fn aof_of(dir: &Path) -> Dataset {
    let opts = LoadOptions {
        load_truncated: false,
        now_ms: 0,
        rdb: ReadOptions::default(),
        memory_limit: None,
    };
    load(&dir.join("appendonlydir"), &opts)
        .unwrap_or_else(|e| panic!("{}: {e}", dir.display()))
        .dataset
}

fn rdb_of(dir: &Path) -> Dataset {
    read_dataset(
        &std::fs::read(dir.join("dump.rdb")).unwrap(),
        ReadOptions::default(),
    )
    .unwrap()
    .0
}

fn same(what: &str, redis: &Dataset, ours: &Dataset) {
    if let Some(d) = first_difference(redis, ours) {
        panic!("{what}: redis-server 7.0.15 and the engine differ: {d}");
    }
}

#[test]
fn files_of_both_servers_decode_to_the_same_dataset() {
    let Some(build) = require_or_skip("redis-7.0.15") else {
        return;
    };
    for seed in [1u64, 2, 3] {
        let rdir = TempDir::new("diff-redis").unwrap();
        let args = [
            "--appendonly",
            "yes",
            "--appendfsync",
            "always",
            "--aof-use-rdb-preamble",
            if seed == 2 { "no" } else { "yes" },
        ];
        let redis = RunningServer::start(&build, rdir.path(), &args).unwrap();
        let mut c = redis.client().unwrap();
        let edir = TempDir::new("diff-engine").unwrap();
        let cfg = PersistConfig {
            appendonly: true,
            appendfsync: AppendFsync::Always,
            aof_use_rdb_preamble: seed != 2,
            save: Vec::new(),
            ..PersistConfig::default()
        };
        let storage = RealDir::new(edir.path()).unwrap();
        let mut srv = Server::open(storage, SystemClock, cfg).unwrap();
        let mut session = Session::new();
        let mut rng = Rng(0x9e37_79b9_7f4a_7c15 ^ seed);
        send(&mut c, &mut srv, &mut session, &mut rng, 1500);
        c.call_str(&["SAVE"]).unwrap();
        assert!(matches!(srv.execute(&mut session, &[b"SAVE"]), Reply::Ok));
        same(
            "dump.rdb after SAVE",
            &rdb_of(rdir.path()),
            &rdb_of(edir.path()),
        );
        same(
            "AOF before a rewrite",
            &aof_of(rdir.path()),
            &aof_of(edir.path()),
        );

        c.call_str(&["BGREWRITEAOF"]).unwrap();
        srv.bgrewriteaof_start().unwrap();
        send(&mut c, &mut srv, &mut session, &mut rng, 300);
        wait_rewrite(&mut c);
        srv.bgrewriteaof_finish().unwrap();
        send(&mut c, &mut srv, &mut session, &mut rng, 300);
        same(
            "AOF after BGREWRITEAOF",
            &aof_of(rdir.path()),
            &aof_of(edir.path()),
        );
    }
}
