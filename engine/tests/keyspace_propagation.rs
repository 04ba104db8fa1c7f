//! Propagated forms against a real server: a live Redis 7.4.1 with `appendonly yes` takes a seeded
//! command stream (including the commands that propagate as something else: relative expiries,
//! SPOP, XADD `*`, XREADGROUP, INCRBYFLOAT, blocking pops, scripts); replaying the AOF it wrote
//! through a loading-mode keyspace must give the dataset the server holds. Consumer clocks are
//! left out; everything else, delivery times included, must be equal.
mod keyspace_support;
use keyspace_support::gen::{command, without_clock, Rng};
use redis_persist_engine::dataset::{first_difference, Dataset, Value};
use redis_persist_engine::keyspace::{Config, Keyspace, Session};
use redis_persist_engine::live::{read_dataset, require_or_skip, RunningServer, TempDir};
use std::time::{SystemTime, UNIX_EPOCH};

/// Commands that only the server runs here, for what they propagate.
fn propagating(r: &mut Rng) -> Vec<String> {
    let keys = ["k0", "k1", "k2", "k3", "k4", "k5", "k6", "k7"];
    let k = r.pick(&keys).to_string();
    let k2 = r.pick(&keys).to_string();
    let m = r.pick(&["a", "b", "c", "d", "e"]).to_string();
    let v: Vec<&str> = match r.below(22) {
        0 => vec!["EXPIRE", &k, r.pick(&["1000", "-1", "2000"])],
        1 => vec!["PEXPIRE", &k, "3000000", r.pick(&["NX", "GT", "LT"])],
        2 => vec!["SETEX", &k, "1000", &m],
        3 => vec!["SET", &k, &m, r.pick(&["EX", "PX"]), "5000000"],
        4 => vec!["SPOP", &k],
        5 => vec!["SPOP", &k, r.pick(&["2", "10"])],
        6 => vec!["XADD", &k, "*", "f", &m],
        7 => vec!["XADD", &k, "MAXLEN", "~", "2", "*", "f", &m],
        8 => vec![
            "XREADGROUP",
            "GROUP",
            "g1",
            r.pick(&["alice", "bob"]),
            r.pick(&["NOACK", "COUNT"]),
            "1",
            "STREAMS",
            &k,
            ">",
        ],
        9 => vec![
            "XCLAIM",
            &k,
            "g1",
            "carol",
            "0",
            r.pick(&["0-1", "1-0", "2-1"]),
            "IDLE",
            "5",
        ],
        10 => vec!["INCRBYFLOAT", &k, "0.1"],
        11 => vec!["HINCRBYFLOAT", &k, &m, "0.1"],
        12 => vec!["GETEX", &k, "EX", "1000"],
        13 => vec!["BLMOVE", &k, &k2, "LEFT", "RIGHT", "0.01"],
        14 => vec!["BZPOPMIN", &k, &k2, "0.01"],
        15 => vec!["BLMPOP", "0.01", "2", &k, &k2, "LEFT", "COUNT", "3"],
        16 => vec!["HEXPIRE", &k, r.pick(&["1000", "0"]), "FIELDS", "1", &m],
        17 => vec![
            "EVAL",
            "redis.call('set', KEYS[1], ARGV[1]) return redis.call('incr', KEYS[2])",
            "2",
            &k,
            "cnt",
            &m,
        ],
        18 => vec![
            "EVAL",
            "return redis.call('lpush', KEYS[1], ARGV[1])",
            "1",
            &k,
            &m,
        ],
        19 => vec![
            "FUNCTION",
            "LOAD",
            "REPLACE",
            "#!lua name=lib\nredis.register_function('f', function(k, a) return 1 end)",
        ],
        20 => vec!["XAUTOCLAIM", &k, "g1", "dave", "0", "0-0", "COUNT", "2"],
        _ => vec!["ZMPOP", "2", &k, &k2, "MAX", "COUNT", "2"],
    };
    v.into_iter().map(String::from).collect()
}

/// The commands of a multi-bulk AOF body (no annotations are written by default).
fn parse_aof(bytes: &[u8]) -> Vec<Vec<Vec<u8>>> {
    let mut out = Vec::new();
    let mut i = 0;
    let line = |i: &mut usize| -> usize {
        let end = bytes[*i..]
            .iter()
            .position(|&b| b == b'\n')
            .expect("line end")
            + *i;
        let n = std::str::from_utf8(&bytes[*i + 1..end - 1])
            .unwrap()
            .parse()
            .unwrap();
        *i = end + 1;
        n
    };
    while i < bytes.len() {
        assert_eq!(bytes[i], b'*', "multi-bulk at {i}");
        let argc = line(&mut i);
        let mut argv = Vec::with_capacity(argc);
        for _ in 0..argc {
            let len = line(&mut i);
            argv.push(bytes[i..i + len].to_vec());
            i += len + 2;
        }
        out.push(argv);
    }
    out
}

/// Redis creates a consumer when XREADGROUP (without NOACK), XCLAIM or XAUTOCLAIM names it, but
/// propagates nothing when nothing was delivered or claimed: such consumers (never active, no
/// pending entries) exist on the server only. They are left out on both sides.
fn without_idle_consumers(mut d: Dataset) -> Dataset {
    for e in &mut d.keys {
        if let Value::Stream(s) = &mut e.value {
            for g in &mut s.groups {
                g.consumers
                    .retain(|c| !(c.pending.is_empty() && c.active_time_ms == Some(-1)));
            }
        }
    }
    d
}

fn propagation(seed: u64, steps: usize) {
    let Some(mut build) = require_or_skip("redis-7.4.1") else {
        return;
    };
    build.modules.clear();
    let dir = TempDir::new("keyspace-aof").expect("temp dir");
    let args = [
        "--appendonly",
        "yes",
        "--appendfsync",
        "always",
        "--aof-use-rdb-preamble",
        "no",
    ];
    let server = RunningServer::start(&build, dir.path(), &args).expect("server starts");
    let mut wire = server.client().expect("connect");
    let mut r = Rng::new(seed);
    let mut stream_ms = 1;
    for _ in 0..steps {
        let args = if r.below(4) == 0 {
            propagating(&mut r)
        } else {
            command(&mut r, &mut stream_ms, seed.is_multiple_of(2))
        };
        let argv: Vec<&[u8]> = args.iter().map(|a| a.as_bytes()).collect();
        wire.cmd(&argv).expect("server reply");
    }
    let theirs = without_idle_consumers(without_clock(
        read_dataset(&mut wire, &[0, 1]).expect("read back"),
    ));
    let aof_dir = dir.path().join("appendonlydir");
    let mut incr: Vec<_> = std::fs::read_dir(&aof_dir)
        .expect("appendonlydir")
        .map(|e| e.unwrap().path())
        .filter(|p| p.to_string_lossy().ends_with(".incr.aof"))
        .collect();
    incr.sort();
    let mut k = Keyspace::with_config(Config::replay());
    let mut s = Session::new();
    let now = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_millis() as i64;
    let mut replayed = 0;
    for f in incr {
        for argv in parse_aof(&std::fs::read(&f).unwrap()) {
            let refs: Vec<&[u8]> = argv.iter().map(Vec::as_slice).collect();
            let reply = k
                .execute(&mut s, now, &refs)
                .unwrap_or_else(|e| panic!("{}: {e}", String::from_utf8_lossy(&argv[0])));
            assert!(
                reply.error().is_none(),
                "seed {seed}: {:?} -> {reply:?}",
                refs.iter()
                    .map(|a| String::from_utf8_lossy(a))
                    .collect::<Vec<_>>()
            );
            replayed += 1;
        }
    }
    assert!(s.multi.is_none(), "seed {seed}: the AOF ends inside MULTI");
    assert!(
        replayed > steps / 10,
        "seed {seed}: only {replayed} commands in the AOF"
    );
    let mut ours = without_idle_consumers(without_clock(k.to_dataset(Some(now))));
    ours.keys.retain(|e| e.db <= 1);
    if let Some(diff) = first_difference(&theirs, &ours) {
        panic!("seed {seed}: replay differs from the server: {diff}");
    }
}

#[test]
fn replaying_redis_7_4_aofs_gives_the_server_dataset() {
    // A value that runs no seed (0, or not a number) fails rather than passing on nothing.
    let seeds: u64 = match std::env::var("KEYSPACE_LIVE_SEEDS") {
        Err(_) => 4,
        Ok(s) => s
            .parse()
            .ok()
            .filter(|&n| n > 0)
            .unwrap_or_else(|| panic!("KEYSPACE_LIVE_SEEDS={s:?} selects no seed")),
    };
    for seed in 1..=seeds {
        propagation(seed, 3000);
    }
}
