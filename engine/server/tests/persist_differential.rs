//! The same random command sequences go over RESP to Debian's redis-server 7.0.15 and to
//! `redis-persist-server`, both `appendonly yes`, `appendfsync always`: every reply must be equal
//! (sets and hashes sorted). At each checkpoint (after SAVE; after BGREWRITEAOF with writes
//! around it) both servers' whole datasets are read back over RESP and must be equal; then each
//! server's files are restarted on, `dump.rdb` alone and the AOF alone, by the same server, and
//! what each restart holds, read back over RESP, must equal what redis-server held live. This
//! project's decoder judges nothing here.
mod serve_support;

use redis_persist_engine::dataset::{first_difference, Dataset};
use redis_persist_engine::live::{
    read_dataset, require_or_skip, Client, Reply, RunningServer, ServerBuild, TempDir,
};
use serve_support::history::{command, read, Rng};
use serve_support::{normal, Served};
use std::path::Path;
use std::time::{Duration, Instant};

/// The databases the histories write (`SELECT 0` / `SELECT 1`).
const DBS: [u64; 2] = [0, 1];

fn send(c: &mut Client, cmd: &[String]) -> Reply {
    let a: Vec<&[u8]> = cmd.iter().map(|s| s.as_bytes()).collect();
    normal(cmd[0].as_str(), c.cmd(&a).unwrap())
}

/// Sends `n` random writes (and reads, one in three) to both; every reply must be equal.
fn history(redis: &mut Client, ours: &mut Client, rng: &mut Rng, n: usize, steps: &mut usize) {
    for _ in 0..n {
        // Auto IDs would differ in time between the two servers: both get `0-*`.
        let cmd: Vec<String> = if rng.below(3) == 0 {
            read(rng)
        } else {
            command(rng)
                .into_iter()
                .map(|a| if a == "*" { "0-*".into() } else { a })
                .collect()
        };
        *steps += 1;
        let theirs = send(redis, &cmd);
        let mine = send(ours, &cmd);
        assert_eq!(
            theirs, mine,
            "step {steps} {cmd:?}: redis-server 7.0.15 answered {theirs:?}, \
             redis-persist-server {mine:?}"
        );
    }
}

/// One command to both; the replies must be equal.
fn both(redis: &mut Client, ours: &mut Client, cmd: &[&str]) {
    let cmd: Vec<String> = cmd.iter().map(|s| s.to_string()).collect();
    let (theirs, mine) = (send(redis, &cmd), send(ours, &cmd));
    assert_eq!(
        theirs, mine,
        "{cmd:?}: redis-server 7.0.15 answered {theirs:?}, redis-persist-server {mine:?}"
    );
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

fn live(c: &mut Client) -> Dataset {
    read_dataset(c, &DBS).expect("readback over RESP")
}

/// Copies `what` (a file or the AOF directory) from `from` into a fresh directory.
fn copy_out(from: &Path, what: &str) -> TempDir {
    let dir = TempDir::new("diff-restart").unwrap();
    let src = from.join(what);
    if src.is_dir() {
        std::fs::create_dir(dir.path().join(what)).unwrap();
        for e in std::fs::read_dir(&src).unwrap().flatten() {
            std::fs::copy(e.path(), dir.path().join(what).join(e.file_name())).unwrap();
        }
    } else {
        std::fs::copy(&src, dir.path().join(what)).unwrap();
    }
    dir
}

/// Restarts on `dump.rdb` alone and on the AOF alone: what each server holds after each.
fn restarts(build: &ServerBuild, redis_dir: &Path, our_dir: &Path) -> Vec<(String, Dataset)> {
    let mut out = Vec::new();
    for (what, args) in [
        ("dump.rdb", ["--appendonly", "no"]),
        ("appendonlydir", ["--appendonly", "yes"]),
    ] {
        let d = copy_out(redis_dir, what);
        let s = RunningServer::start(build, d.path(), &args)
            .unwrap_or_else(|e| panic!("redis-server 7.0.15 on its {what}: {e}"));
        out.push((
            format!("redis-server 7.0.15 restarted on its {what}"),
            live(&mut s.client().unwrap()),
        ));
        let d = copy_out(our_dir, what);
        let s = Served::start(d.path(), &args);
        out.push((
            format!("redis-persist-server restarted on its {what}"),
            live(&mut s.client()),
        ));
    }
    out
}

/// Both live states equal, and every restart holds what redis-server held live.
fn checkpoint(
    what: &str,
    build: &ServerBuild,
    (redis, redis_dir): (&mut Client, &Path),
    (ours, our_dir): (&mut Client, &Path),
) -> usize {
    let want = live(redis);
    assert!(!want.keys.is_empty(), "{what}: the history left no key");
    if let Some(d) = first_difference(&want, &live(ours)) {
        panic!("{what}: redis-persist-server holds otherwise than redis-server 7.0.15: {d}");
    }
    let restarted = restarts(build, redis_dir, our_dir);
    for (who, got) in &restarted {
        if let Some(d) = first_difference(&want, got) {
            panic!("{what}: {who} differs from redis-server 7.0.15 live: {d}");
        }
    }
    want.keys.len()
}

#[test]
fn replies_and_restarted_states_match_redis_server_7_0_15() {
    let Some(build) = require_or_skip("redis-7.0.15") else {
        return;
    };
    let started = Instant::now();
    let (mut steps, mut checkpoints, mut keys) = (0, 0, 0);
    for seed in [1u64, 2, 3] {
        let args = [
            "--appendonly",
            "yes",
            "--appendfsync",
            "always",
            "--aof-use-rdb-preamble",
            if seed == 2 { "no" } else { "yes" },
        ];
        let rdir = TempDir::new("diff-redis").unwrap();
        let redis = RunningServer::start(&build, rdir.path(), &args).unwrap();
        let mut c = redis.client().unwrap();
        let odir = TempDir::new("diff-engine").unwrap();
        let ours = Served::start(odir.path(), &args);
        let mut o = ours.client();
        let mut rng = Rng::new(0x9e37_79b9_7f4a_7c15 ^ seed);
        history(&mut c, &mut o, &mut rng, 1500, &mut steps);
        both(&mut c, &mut o, &["SAVE"]);
        both(&mut c, &mut o, &["SELECT", "0"]);
        keys += checkpoint(
            &format!("seed {seed} after SAVE"),
            &build,
            (&mut c, rdir.path()),
            (&mut o, odir.path()),
        );

        // A rewrite with writes while it runs and after it: the AOF alone must still hold all.
        both(&mut c, &mut o, &["BGREWRITEAOF"]);
        history(&mut c, &mut o, &mut rng, 300, &mut steps);
        wait_rewrite(&mut c);
        wait_rewrite(&mut o);
        history(&mut c, &mut o, &mut rng, 300, &mut steps);
        both(&mut c, &mut o, &["SELECT", "0"]);
        // SAVE again so the RDB restart sees the same moment as the AOF one.
        both(&mut c, &mut o, &["SAVE"]);
        keys += checkpoint(
            &format!("seed {seed} after BGREWRITEAOF"),
            &build,
            (&mut c, rdir.path()),
            (&mut o, odir.path()),
        );
        checkpoints += 2;
    }
    eprintln!(
        "{steps} commands answered alike; {checkpoints} checkpoints, {keys} keys read back equal \
         live and after 4 restarts each, {:.1} s",
        started.elapsed().as_secs_f64()
    );
}
