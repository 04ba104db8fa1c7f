//! Real clients against `redis-persist-server`: Debian's `redis-cli` (RESP2 and `-3`), and the
//! `redis` crate's synchronous client (commands, pipelines, transactions, BLPOP with a timeout).
mod serve_support;

use serve_support::{tmp, tool_or_skip, Served};
use std::process::Command;

fn cli(cli: &std::path::Path, port: u16, args: &[&str]) -> String {
    let out = Command::new(cli)
        .args(["-p", &port.to_string()])
        .args(args)
        .output()
        .unwrap();
    assert!(out.status.success(), "redis-cli {args:?} failed");
    String::from_utf8_lossy(&out.stdout).into_owned()
}

#[test]
fn redis_cli_talks_to_it_in_resp2_and_resp3() {
    let Some(bin) = tool_or_skip("/usr/bin/redis-cli") else {
        return;
    };
    let d = tmp("serve-cli");
    let s = Served::start(d.path(), &["--appendonly", "yes"]);
    assert_eq!(cli(&bin, s.port, &["PING"]), "PONG\n");
    assert_eq!(
        cli(&bin, s.port, &["SET", "greeting", "hello world"]),
        "OK\n"
    );
    assert_eq!(cli(&bin, s.port, &["GET", "greeting"]), "hello world\n");
    assert_eq!(cli(&bin, s.port, &["RPUSH", "l", "a", "b", "c"]), "3\n");
    assert_eq!(cli(&bin, s.port, &["LRANGE", "l", "0", "-1"]), "a\nb\nc\n");
    assert_eq!(
        cli(&bin, s.port, &["NOSUCHCMD", "x"]),
        "ERR unknown command 'NOSUCHCMD', with args beginning with: 'x' \n\n"
    );
    // HELLO 3 through redis-cli -3 prints the map as redis-server 7.0.15's does (one
    // "name value" line per field when not on a terminal).
    let hello = cli(&bin, s.port, &["-3", "HELLO", "3"]);
    let lines: Vec<&str> = hello.lines().collect();
    assert_eq!(lines.len(), 7, "{hello}");
    assert_eq!(&lines[..3], ["server redis", "version 7.4.1", "proto 3"]);
    assert!(lines[3].starts_with("id "), "{hello}");
    assert_eq!(&lines[4..], ["mode standalone", "role master", "modules "]);
    cli(&bin, s.port, &["HSET", "h", "f", "v"]);
    assert_eq!(cli(&bin, s.port, &["-3", "HGETALL", "h"]), "f v\n");
    assert_eq!(cli(&bin, s.port, &["-3", "ZADD", "z", "1.5", "m"]), "1\n");
    assert_eq!(cli(&bin, s.port, &["-3", "ZSCORE", "z", "m"]), "1.5\n");
    let info = cli(&bin, s.port, &["INFO", "persistence"]);
    assert!(info.contains("aof_enabled:1"), "{info}");
    assert!(info.contains("rdb_changes_since_last_save:"), "{info}");
    assert_eq!(cli(&bin, s.port, &["DBSIZE"]), "4\n");
}

#[test]
fn the_redis_crate_works_with_it() {
    use redis::Commands;
    let d = tmp("serve-redis-rs");
    let s = Served::start(
        d.path(),
        &["--appendonly", "yes", "--appendfsync", "always"],
    );
    let client = redis::Client::open(format!("redis://127.0.0.1:{}/", s.port)).unwrap();
    let mut con = client.get_connection().unwrap();
    let _: () = con.set("k", "v").unwrap();
    let v: String = con.get("k").unwrap();
    assert_eq!(v, "v");
    let _: () = con.hset("h", "a", "1").unwrap();
    let _: () = con.hset("h", "b", "2").unwrap();
    let mut all: Vec<(String, String)> = con.hgetall("h").unwrap();
    all.sort();
    assert_eq!(
        all,
        vec![("a".into(), "1".into()), ("b".into(), "2".into())]
    );
    let missing: Option<String> = con.get("nope").unwrap();
    assert_eq!(missing, None);

    let (a, b, n): (i64, i64, i64) = redis::pipe()
        .incr("c", 1)
        .incr("c", 2)
        .rpush("list", "x")
        .query(&mut con)
        .unwrap();
    assert_eq!((a, b, n), (1, 3, 1));

    let (x, y): (i64, String) = redis::pipe()
        .atomic()
        .incr("c", 10)
        .get("k")
        .query(&mut con)
        .unwrap();
    assert_eq!((x, y), (13, "v".to_string()));

    // BLPOP on an empty list times out with nil after about the timeout.
    let t = std::time::Instant::now();
    let r: Option<(String, String)> = con.blpop("empty", 0.2).unwrap();
    assert_eq!(r, None);
    assert!(t.elapsed() >= std::time::Duration::from_millis(150));
    // And returns at once when there is something.
    let r: Option<(String, String)> = con.blpop("list", 1.0).unwrap();
    assert_eq!(r, Some(("list".into(), "x".into())));

    // A second connection's push wakes a blocked BLPOP.
    let port = s.port;
    let pusher = std::thread::spawn(move || {
        std::thread::sleep(std::time::Duration::from_millis(100));
        let c = redis::Client::open(format!("redis://127.0.0.1:{port}/")).unwrap();
        let mut con = c.get_connection().unwrap();
        let _: () = con.rpush("wake", "up").unwrap();
    });
    let r: Option<(String, String)> = con.blpop("wake", 5.0).unwrap();
    pusher.join().unwrap();
    assert_eq!(r, Some(("wake".into(), "up".into())));
    let e = redis::cmd("NOSUCHCMD").query::<()>(&mut con).unwrap_err();
    assert!(e.to_string().contains("unknown command"), "{e}");
}
