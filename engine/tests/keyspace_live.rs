//! Differential test against a real server: a seeded stream of commands over a few keys of every
//! type runs on a live Redis 7.4.1 and on the keyspace; every reply and the final dataset must be
//! the same. Only what depends on the server's clock is left out (stream delivery and consumer
//! times); expiries use absolute times. A missing build skips (fails under `CI=true`).
mod keyspace_support;
use keyspace_support::gen::{command, from_wire, without_clock, Rng};
use redis_persist_engine::dataset::first_difference;
use redis_persist_engine::keyspace::{Keyspace, Reply, Session};
use redis_persist_engine::live::{read_dataset, require_or_skip, RunningServer, TempDir};
use std::time::{SystemTime, UNIX_EPOCH};

fn differential(build: &str, seed: u64, steps: usize, wide: bool) {
    let Some(build) = require_or_skip(build) else {
        return;
    };
    let dir = TempDir::new("keyspace-live").expect("temp dir");
    let mut build = build;
    build.modules.clear();
    let server = RunningServer::start(&build, dir.path(), &[]).expect("server starts");
    let mut wire = server.client().expect("connect");
    let mut k = Keyspace::new();
    let mut s = Session::new();
    let mut r = Rng::new(seed);
    let mut stream_ms = 1;
    let mut mismatches = Vec::new();
    let mut multi_left: Option<u64> = None;
    for step in 0..steps {
        // Now and then a transaction of 1 to 4 commands, ended by EXEC (or DISCARD).
        let last = step + 1 == steps;
        let args = match multi_left {
            Some(_) if last => vec!["EXEC".to_string()],
            None if r.below(60) == 0 && !last => {
                multi_left = Some(1 + r.below(4));
                vec!["MULTI".to_string()]
            }
            Some(0) => {
                multi_left = None;
                vec![if r.below(4) == 0 { "DISCARD" } else { "EXEC" }.to_string()]
            }
            Some(n) => {
                multi_left = Some(n - 1);
                command(&mut r, &mut stream_ms, wide)
            }
            None => command(&mut r, &mut stream_ms, wide),
        };
        let argv: Vec<&[u8]> = args.iter().map(|a| a.as_bytes()).collect();
        let want = from_wire(wire.cmd(&argv).expect("server reply"));
        let now = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .unwrap()
            .as_millis() as i64;
        let got = match k.execute(&mut s, now, &argv) {
            Ok(r) => r,
            Err(e) => Reply::Error(format!("ERR {e}")),
        };
        if got != want && mismatches.len() < 20 {
            mismatches.push(format!(
                "step {step}: {args:?}\n  redis: {want:?}\n  here:  {got:?}"
            ));
        }
    }
    assert!(
        mismatches.is_empty(),
        "{}: replies differ:\n{}",
        build.name,
        mismatches.join("\n")
    );
    let theirs = without_clock(read_dataset(&mut wire, &[0, 1]).expect("read back"));
    let mut ours = without_clock(k.to_dataset(None));
    ours.keys.retain(|e| e.db <= 1);
    if let Some(diff) = first_difference(&theirs, &ours) {
        panic!("{}: datasets differ: {diff}", build.name);
    }
}

#[test]
fn same_replies_and_data_as_redis_7_4() {
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
        differential("redis-7.4.1", seed, 4000, seed.is_multiple_of(2));
    }
}

/// HyperLogLog values are strings whose bytes Redis defines (sparse opcodes, dense registers,
/// cached cardinality): after every PFADD/PFMERGE/PFCOUNT the value must be the server's.
#[test]
fn hyperloglog_bytes_match_redis_7_4() {
    let Some(mut build) = require_or_skip("redis-7.4.1") else {
        return;
    };
    build.modules.clear();
    let dir = TempDir::new("keyspace-hll").expect("temp dir");
    let server = RunningServer::start(&build, dir.path(), &[]).expect("server starts");
    let mut wire = server.client().expect("connect");
    let mut k = Keyspace::new();
    let mut s = Session::new();
    let mut r = Rng::new(42);
    let keys = ["h0", "h1", "h2"];
    let mut seen = [false; 2];
    for step in 0..1500 {
        let key = r.pick(&keys);
        let mut args: Vec<String> = match r.below(10) {
            0..=5 => {
                let n = if r.below(8) == 0 { 300 } else { 1 + r.below(5) };
                let spread = [50, 5_000, 1_000_000][r.below(3) as usize];
                let mut v = vec!["PFADD".to_string(), key.to_string()];
                v.extend((0..n).map(|_| format!("x{}", r.below(spread))));
                v
            }
            6 | 7 => vec!["PFCOUNT".into(), key.into()],
            8 => vec!["PFCOUNT".into(), key.into(), r.pick(&keys).into()],
            _ => vec![
                "PFMERGE".into(),
                key.into(),
                r.pick(&keys).into(),
                r.pick(&keys).into(),
            ],
        };
        if r.below(200) == 0 {
            args = vec!["DEL".into(), key.into()];
        }
        for cmd in [args, vec!["GET".to_string(), key.to_string()]] {
            let argv: Vec<&[u8]> = cmd.iter().map(|a| a.as_bytes()).collect();
            let want = from_wire(wire.cmd(&argv).expect("server reply"));
            let got = k.execute(&mut s, 0, &argv).expect("known command");
            assert!(
                got == want,
                "step {step}: {:?}\n  redis: {want:?}\n  here:  {got:?}",
                &cmd[..cmd.len().min(3)]
            );
            if let Reply::Bulk(v) = &got {
                seen[v[4] as usize & 1] = true;
            }
        }
    }
    assert_eq!(
        seen,
        [true, true],
        "both the dense and the sparse encoding were exercised"
    );
}
