//! The same seeded random histories, over RESP, to Debian's redis-server 7.0.15 and to
//! `redis-persist-server`, both with `appendonly yes` and `appendfsync always`: every reply must
//! be the same (sets and hashes compared as sorted, since their order is each server's own),
//! including transactions, WATCH conflicts from a second client and blocking pops that find
//! data; after SAVE, and after BGREWRITEAOF with writes around it, both servers' files must
//! decode to the same dataset.
mod serve_support;

use redis_persist_engine::aof::{load, LoadOptions};
use redis_persist_engine::dataset::{first_difference, Dataset};
use redis_persist_engine::format::rdb::{read_dataset, ReadOptions};
use redis_persist_engine::live::{require_or_skip, Client, Reply, RunningServer, TempDir};
use serve_support::history::{command, read, Rng};
use serve_support::{normal, Served};
use std::path::Path;
use std::time::{Duration, Instant};

fn send(c: &mut Client, cmd: &[String]) -> Reply {
    let a: Vec<&[u8]> = cmd.iter().map(|s| s.as_bytes()).collect();
    normal(cmd[0].as_str(), c.cmd(&a).unwrap())
}

/// Two clients per server; each step goes to both servers and the replies must match.
struct Pair {
    redis: [Client; 2],
    ours: [Client; 2],
    steps: usize,
}

impl Pair {
    fn both(&mut self, who: usize, cmd: &[String]) {
        self.steps += 1;
        let theirs = send(&mut self.redis[who], cmd);
        let mine = send(&mut self.ours[who], cmd);
        assert_eq!(
            theirs, mine,
            "step {} client {who} {cmd:?}: redis-server 7.0.15 answered {theirs:?}, \
             redis-persist-server {mine:?}",
            self.steps
        );
    }

    fn s(&mut self, who: usize, v: &[&str]) {
        let cmd: Vec<String> = v.iter().map(|x| x.to_string()).collect();
        self.both(who, &cmd);
    }

    fn history(&mut self, rng: &mut Rng, n: usize) {
        for _ in 0..n {
            // Auto IDs would differ in time between the servers: both get `0-*`.
            let pick = |rng: &mut Rng| -> Vec<String> {
                command(rng)
                    .into_iter()
                    .map(|a| if a == "*" { "0-*".into() } else { a })
                    .collect()
            };
            match rng.below(20) {
                0 => {
                    // A transaction of one to three commands.
                    self.s(0, &["MULTI"]);
                    for _ in 0..=rng.below(3) {
                        let c = pick(rng);
                        self.both(0, &c);
                    }
                    self.s(0, &["EXEC"]);
                }
                1 => {
                    // WATCH, a write by the other client (or not), then a transaction.
                    let k = format!("k{}", rng.below(12));
                    self.s(0, &["WATCH", &k]);
                    match rng.below(5) {
                        0 => self.s(1, &["SET", &k, "changed"]),
                        // Writes that change nothing do not touch the key.
                        1 => self.s(1, &["PERSIST", &k]),
                        2 => self.s(1, &["SREM", &k, "never-a-member"]),
                        3 => self.s(1, &["HDEL", &k, "never-a-field"]),
                        _ => {}
                    }
                    self.s(0, &["MULTI"]);
                    self.s(0, &["SET", &k, "in-tx"]);
                    self.s(0, &["EXEC"]);
                }
                2 => {
                    let k = format!("k{}", rng.below(12));
                    self.s(1, &["BLPOP", &k, "0.01"]);
                }
                3..=8 => {
                    let c = read(rng);
                    self.both(rng.below(2) as usize, &c);
                }
                _ => {
                    let c = pick(rng);
                    self.both(0, &c);
                }
            }
        }
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
        panic!("{what}: redis-server 7.0.15 and redis-persist-server differ: {d}");
    }
}

#[test]
fn replies_and_files_match_redis_server_7_0_15() {
    let Some(build) = require_or_skip("redis-7.0.15") else {
        return;
    };
    for seed in [11u64, 12, 13] {
        let preamble = if seed == 12 { "no" } else { "yes" };
        let args = [
            "--appendonly",
            "yes",
            "--appendfsync",
            "always",
            "--aof-use-rdb-preamble",
            preamble,
        ];
        let rdir = TempDir::new("sdiff-redis").unwrap();
        let redis = RunningServer::start(&build, rdir.path(), &args).unwrap();
        let odir = TempDir::new("sdiff-ours").unwrap();
        let ours = Served::start(odir.path(), &args);
        let mut p = Pair {
            redis: [redis.client().unwrap(), redis.client().unwrap()],
            ours: [ours.client(), ours.client()],
            steps: 0,
        };
        let mut rng = Rng::new(0x9e37_79b9_7f4a_7c15 ^ seed);
        p.history(&mut rng, 1500);
        p.s(0, &["SAVE"]);
        same(
            "dump.rdb after SAVE",
            &rdb_of(rdir.path()),
            &rdb_of(odir.path()),
        );
        same(
            "AOF before a rewrite",
            &aof_of(rdir.path()),
            &aof_of(odir.path()),
        );
        p.s(0, &["BGREWRITEAOF"]);
        p.history(&mut rng, 200);
        wait_rewrite(&mut p.redis[0]);
        wait_rewrite(&mut p.ours[0]);
        p.history(&mut rng, 200);
        same(
            "AOF after BGREWRITEAOF",
            &aof_of(rdir.path()),
            &aof_of(odir.path()),
        );
        eprintln!("seed {seed}: {} steps, every reply the same", p.steps);
    }
}

/// The length of the first complete RESP2/RESP3 reply in `buf`, if it is all there.
fn reply_len(buf: &[u8], at: usize) -> Option<usize> {
    let tag = *buf.get(at)?;
    let nl = buf[at..].windows(2).position(|w| w == b"\r\n")? + at;
    let line = std::str::from_utf8(&buf[at + 1..nl]).ok()?;
    let next = nl + 2;
    match tag {
        b'$' | b'=' | b'!' => {
            let n: i64 = line.parse().ok()?;
            if n < 0 {
                return Some(next);
            }
            let end = next + n as usize + 2;
            (buf.len() >= end).then_some(end)
        }
        b'*' | b'~' | b'>' | b'%' | b'|' => {
            let n: i64 = line.parse().ok()?;
            let items = match tag {
                b'%' => n * 2,
                b'|' => n * 2 + 1,
                _ => n,
            };
            let mut pos = next;
            for _ in 0..items.max(0) {
                pos = reply_len(buf, pos)?;
            }
            Some(pos)
        }
        _ => Some(next),
    }
}

/// One raw RESP3 connection.
struct Raw {
    s: std::net::TcpStream,
    buf: Vec<u8>,
}

impl Raw {
    fn connect(port: u16) -> Raw {
        let s = std::net::TcpStream::connect(("127.0.0.1", port)).unwrap();
        s.set_read_timeout(Some(Duration::from_secs(30))).unwrap();
        Raw { s, buf: Vec::new() }
    }

    fn call(&mut self, cmd: &[String]) -> Vec<u8> {
        use std::io::{Read, Write};
        let a: Vec<&[u8]> = cmd.iter().map(|s| s.as_bytes()).collect();
        self.s
            .write_all(&redis_persist_engine::format::resp::encode_command(&a))
            .unwrap();
        loop {
            if let Some(end) = reply_len(&self.buf, 0) {
                return self.buf.drain(..end).collect();
            }
            let mut chunk = [0u8; 65536];
            let n = self.s.read(&mut chunk).unwrap();
            assert!(n > 0, "connection closed");
            self.buf.extend_from_slice(&chunk[..n]);
        }
    }
}

#[test]
fn resp3_replies_match_redis_server_7_0_15_byte_for_byte() {
    let Some(build) = require_or_skip("redis-7.0.15") else {
        return;
    };
    let rdir = TempDir::new("sdiff3-redis").unwrap();
    let redis = RunningServer::start(&build, rdir.path(), &["--appendonly", "yes"]).unwrap();
    let odir = TempDir::new("sdiff3-ours").unwrap();
    let ours = Served::start(odir.path(), &["--appendonly", "yes"]);
    let (mut r, mut o) = (Raw::connect(redis.port()), Raw::connect(ours.port));
    let hello = ["HELLO".to_string(), "3".to_string()];
    assert!(r.call(&hello).starts_with(b"%7\r\n"));
    assert!(o.call(&hello).starts_with(b"%7\r\n"));
    let mut rng = Rng::new(0x5eed_0003);
    let mut steps = 0;
    let extra: &[&[&str]] = &[
        &["ZADD", "zz", "1", "a", "2.5", "b", "3", "c"],
        &["ZPOPMIN", "zz"],
        &["ZPOPMAX", "zz", "2"],
        &["ZADD", "zz", "1", "a", "2", "b"],
        &["ZMPOP", "1", "zz", "MIN", "COUNT", "2"],
        &["ZMPOP", "1", "zz", "MIN"],
        &["BZPOPMIN", "zz", "0.01"],
        &["ZADD", "zz", "INCR", "4", "x"],
        &["LPOP", "nolist", "2"],
        &["CONFIG", "GET", "appendonly"],
        &["XADD", "st", "1-1", "f", "v"],
        &["XREAD", "STREAMS", "st", "0"],
        &["XREAD", "COUNT", "1", "STREAMS", "st", "nost", "0", "0"],
        &["XRANGE", "st", "-", "+"],
        &["EXEC"],
        &["MULTI"],
        &["ZSCORE", "zz", "x"],
        &["LPOP", "nolist", "2"],
        &["WATCH", "a"],
        &["NOSUCH", "a"],
        &["GET"],
        &["EXEC"],
        &["DISCARD"],
        &["OBJECT", "FREQ", "zz"],
        &["OBJECT", "ENCODING", "nokey"],
        &["OBJECT", "NOPE", "zz"],
        &["CONFIG", "SET", "nosuch", "1"],
        &["CONFIG", "GET", "appendfsync"],
        &["CONFIG", "NOPE"],
        &["CLIENT", "GETNAME"],
        &["CLIENT", "SETNAME", "a b"],
        &["CLIENT", "NOPE"],
        &["HELLO", "4"],
        &["AUTH", "x"],
        &["SELECT", "99"],
        &["ECHO", "hi"],
        &["PING", "x"],
        &["DEBUG", "OBJECT", "nokey"],
        &["XINFO", "STREAM", "nost"],
        &["XREAD", "STREAMS", "st"],
        &["BLPOP", "l", "-1"],
        &["BLPOP", "l", "x"],
        &["DBSIZE"],
        &["FLUSHALL"],
        &["DBSIZE"],
        &["SCAN", "0"],
        &["HSCAN", "nokey", "0"],
        &["RPUSH", "l", "1"],
        &["HSCAN", "l", "0"],
    ];
    for e in extra {
        let cmd: Vec<String> = e.iter().map(|s| s.to_string()).collect();
        assert_eq!(
            String::from_utf8_lossy(&r.call(&cmd)),
            String::from_utf8_lossy(&o.call(&cmd)),
            "{cmd:?}"
        );
    }
    for _ in 0..2000 {
        let cmd: Vec<String> = if rng.below(3) == 0 {
            read(&mut rng)
        } else {
            command(&mut rng)
                .into_iter()
                .map(|a| if a == "*" { "0-*".into() } else { a })
                .collect()
        };
        // Sets and hashes come in each server's own order.
        if cmd[0] == "SMEMBERS" || cmd[0] == "HGETALL" {
            continue;
        }
        steps += 1;
        let (theirs, mine) = (r.call(&cmd), o.call(&cmd));
        assert_eq!(
            String::from_utf8_lossy(&theirs),
            String::from_utf8_lossy(&mine),
            "step {steps} {cmd:?}"
        );
    }
    eprintln!("{steps} RESP3 replies byte for byte the same");
}
