//! `redis-persist-server` over the wire: the Unix socket, pipelining, inline commands, protocol
//! errors, blocking commands woken by other clients or timing out, WATCH, CLIENT, COMMAND,
//! DEBUG, DUMP/RESTORE, SCAN, the config file and refused directives.
mod serve_support;

use redis_persist_engine::live::{Client, Reply};
use serve_support::{cmd, tmp, Served, BIN};
use std::io::{Read, Write};
use std::time::{Duration, Instant};

fn ok() -> Reply {
    Reply::Simple("OK".into())
}

fn bulk(s: &str) -> Reply {
    Reply::Bulk(Some(s.as_bytes().to_vec()))
}

/// Reads from a raw stream until `want` bytes arrived or the peer closed.
fn read_n(s: &mut impl Read, want: usize) -> Vec<u8> {
    let mut got = Vec::new();
    let mut buf = [0u8; 65536];
    while got.len() < want {
        let n = s.read(&mut buf).unwrap();
        if n == 0 {
            break;
        }
        got.extend_from_slice(&buf[..n]);
    }
    got
}

#[test]
fn unix_socket_pipelining_inline_and_protocol_errors() {
    let d = tmp("serve-proto");
    let sock = d.path().join("redis.sock");
    let s = Served::start(d.path(), &["--unixsocket", sock.to_str().unwrap()]);
    let mut u = std::os::unix::net::UnixStream::connect(&sock).unwrap();
    u.write_all(b"PING\r\n").unwrap();
    assert_eq!(read_n(&mut u, 7), b"+PONG\r\n");

    // 5000 commands in one write: 5000 replies, in order.
    let mut t = std::net::TcpStream::connect(("127.0.0.1", s.port)).unwrap();
    let mut batch = Vec::new();
    for i in 0..5000 {
        batch.extend_from_slice(
            format!("*3\r\n$3\r\nSET\r\n$5\r\nk{i:04}\r\n$1\r\nv\r\n").as_bytes(),
        );
    }
    batch.extend_from_slice(b"*1\r\n$6\r\nDBSIZE\r\n");
    t.write_all(&batch).unwrap();
    let want = 5000 * 5 + b":5000\r\n".len();
    let got = read_n(&mut t, want);
    assert_eq!(got.len(), want);
    assert!(got.ends_with(b":5000\r\n"));

    // Inline with quotes, then a protocol error that closes the connection.
    t.write_all(b"SET \"a b\" 'c d'\r\nGET \"a b\"\r\n")
        .unwrap();
    assert_eq!(read_n(&mut t, 5 + 9), b"+OK\r\n$3\r\nc d\r\n");
    t.write_all(b"*1\r\nx\r\n").unwrap();
    let got = read_n(&mut t, 1 << 20);
    assert_eq!(
        String::from_utf8_lossy(&got),
        "-ERR Protocol error: expected '$', got 'x'\r\n"
    );
}

#[test]
fn blocking_commands_wake_on_writes_and_time_out() {
    let d = tmp("serve-block");
    let s = Served::start(d.path(), &["--appendonly", "yes"]);
    let port = s.port;
    let spawn = |args: Vec<&'static str>| {
        std::thread::spawn(move || {
            let mut c = Client::connect(port).unwrap();
            let t = Instant::now();
            let r = cmd(&mut c, &args);
            (r, t.elapsed())
        })
    };
    let blpop = spawn(vec!["BLPOP", "q1", "q2", "5"]);
    let blmove = spawn(vec!["BLMOVE", "src", "dst", "LEFT", "RIGHT", "5"]);
    let bzpop = spawn(vec!["BZPOPMIN", "z", "5"]);
    let xread = spawn(vec!["XREAD", "BLOCK", "5000", "STREAMS", "s", "$"]);
    let timeout = spawn(vec!["BRPOP", "never", "0.2"]);
    std::thread::sleep(Duration::from_millis(300));
    let mut c = s.client();
    let info = c
        .call_str(&["INFO", "clients"])
        .unwrap()
        .into_text()
        .unwrap();
    assert!(info.contains("blocked_clients:4"), "{info}");
    cmd(&mut c, &["RPUSH", "q2", "a"]);
    cmd(&mut c, &["RPUSH", "src", "m"]);
    cmd(&mut c, &["ZADD", "z", "2", "two", "1", "one"]);
    cmd(&mut c, &["XADD", "s", "5-1", "f", "v"]);
    let (r, _) = blpop.join().unwrap();
    assert_eq!(r, Reply::Array(Some(vec![bulk("q2"), bulk("a")])));
    let (r, _) = blmove.join().unwrap();
    assert_eq!(r, bulk("m"));
    assert_eq!(
        cmd(&mut c, &["LRANGE", "dst", "0", "-1"]),
        Reply::Array(Some(vec![bulk("m")]))
    );
    let (r, _) = bzpop.join().unwrap();
    assert_eq!(
        r,
        Reply::Array(Some(vec![bulk("z"), bulk("one"), bulk("1")]))
    );
    let (r, _) = xread.join().unwrap();
    let entry = Reply::Array(Some(vec![
        bulk("5-1"),
        Reply::Array(Some(vec![bulk("f"), bulk("v")])),
    ]));
    assert_eq!(
        r,
        Reply::Array(Some(vec![Reply::Array(Some(vec![
            bulk("s"),
            Reply::Array(Some(vec![entry]))
        ]))]))
    );
    let (r, took) = timeout.join().unwrap();
    assert_eq!(r, Reply::Array(None), "a timed-out BRPOP is the null array");
    assert!(took >= Duration::from_millis(180), "{took:?}");
    // A consumer group read blocks for new entries too.
    cmd(&mut c, &["XGROUP", "CREATE", "s", "g", "$"]);
    let group = spawn(vec![
        "XREADGROUP",
        "GROUP",
        "g",
        "alice",
        "BLOCK",
        "5000",
        "STREAMS",
        "s",
        ">",
    ]);
    std::thread::sleep(Duration::from_millis(200));
    cmd(&mut c, &["XADD", "s", "6-1", "f", "w"]);
    let (r, _) = group.join().unwrap();
    assert!(
        format!("{r:?}").contains("[54, 45, 49]"),
        "entry 6-1 expected: {r:?}"
    );
    // Inside MULTI a blocking command does not block.
    cmd(&mut c, &["MULTI"]);
    cmd(&mut c, &["BLPOP", "empty", "0"]);
    assert_eq!(
        cmd(&mut c, &["EXEC"]),
        Reply::Array(Some(vec![Reply::Array(None)]))
    );
}

#[test]
fn watch_multi_exec_and_client_commands() {
    let d = tmp("serve-tx");
    let s = Served::start(d.path(), &[]);
    let (mut a, mut b) = (s.client(), s.client());
    assert_eq!(cmd(&mut a, &["WATCH", "w"]), ok());
    assert_eq!(cmd(&mut b, &["SET", "w", "1"]), ok());
    assert_eq!(cmd(&mut a, &["MULTI"]), ok());
    assert_eq!(cmd(&mut a, &["INCR", "w"]), Reply::Simple("QUEUED".into()));
    assert_eq!(cmd(&mut a, &["EXEC"]), Reply::Array(None));
    assert_eq!(cmd(&mut a, &["WATCH", "w"]), ok());
    cmd(&mut a, &["MULTI"]);
    cmd(&mut a, &["INCR", "w"]);
    cmd(&mut a, &["PING"]);
    cmd(&mut a, &["CLIENT", "ID"]);
    let r = cmd(&mut a, &["EXEC"]);
    let Reply::Array(Some(v)) = r else {
        panic!("{r:?}")
    };
    assert_eq!(v[0], Reply::Int(2));
    assert_eq!(v[1], Reply::Simple("PONG".into()));
    assert!(matches!(v[2], Reply::Int(_)));
    cmd(&mut a, &["MULTI"]);
    assert!(matches!(cmd(&mut a, &["GET"]), Reply::Error(e) if e.contains("wrong number")));
    assert!(matches!(cmd(&mut a, &["EXEC"]), Reply::Error(e) if e.starts_with("EXECABORT")));
    assert_eq!(cmd(&mut a, &["CLIENT", "SETNAME", "alice"]), ok());
    assert_eq!(cmd(&mut a, &["CLIENT", "GETNAME"]), bulk("alice"));
    let list = cmd(&mut b, &["CLIENT", "LIST"]);
    let Reply::Bulk(Some(text)) = list else {
        panic!()
    };
    let text = String::from_utf8(text).unwrap();
    assert_eq!(text.lines().count(), 2, "{text}");
    assert!(text.contains("name=alice"), "{text}");
    assert!(matches!(
        cmd(&mut a, &["CLIENT", "SETNAME", "a b"]),
        Reply::Error(e) if e.contains("cannot contain spaces")
    ));
    assert!(matches!(cmd(&mut a, &["COMMAND", "COUNT"]), Reply::Int(n) if n > 150));
    let info = cmd(&mut a, &["COMMAND", "INFO", "get"]);
    assert!(format!("{info:?}").contains("readonly"), "{info:?}");
    assert_eq!(cmd(&mut a, &["SELECT", "3"]), ok());
    assert_eq!(cmd(&mut a, &["SET", "in3", "x"]), ok());
    let ks = a
        .call_str(&["INFO", "keyspace"])
        .unwrap()
        .into_text()
        .unwrap();
    assert!(ks.contains("db3:keys=1,expires=0"), "{ks}");
}

#[test]
fn debug_dump_restore_scan_and_object() {
    let d = tmp("serve-debug");
    let s = Served::start(d.path(), &["--appendonly", "yes"]);
    let mut c = s.client();
    for i in 0..300 {
        cmd(&mut c, &["SET", &format!("user:{i}"), &i.to_string()]);
    }
    cmd(&mut c, &["RPUSH", "list", "a", "b"]);
    assert_eq!(cmd(&mut c, &["OBJECT", "ENCODING", "user:7"]), bulk("int"));
    assert_eq!(
        cmd(&mut c, &["OBJECT", "ENCODING", "list"]),
        bulk("listpack")
    );
    let dbg = cmd(&mut c, &["DEBUG", "OBJECT", "list"]);
    assert!(format!("{dbg:?}").contains("encoding:listpack"), "{dbg:?}");
    let dump = cmd(&mut c, &["DUMP", "list"]);
    let Reply::Bulk(Some(payload)) = dump else {
        panic!()
    };
    let r = c.cmd(&[b"RESTORE", b"copy", b"0", &payload]).unwrap();
    assert_eq!(r, ok());
    assert_eq!(
        cmd(&mut c, &["LRANGE", "copy", "0", "-1"]),
        Reply::Array(Some(vec![bulk("a"), bulk("b")]))
    );
    // SCAN with MATCH visits every matching key.
    let mut seen = std::collections::BTreeSet::new();
    let mut cursor = "0".to_string();
    loop {
        let r = cmd(
            &mut c,
            &["SCAN", &cursor, "MATCH", "user:1*", "COUNT", "50"],
        );
        let Reply::Array(Some(v)) = r else { panic!() };
        let mut it = v.into_iter();
        cursor = it.next().unwrap().into_text().unwrap();
        for k in it.next().unwrap().into_array().unwrap() {
            seen.insert(k.into_text().unwrap());
        }
        if cursor == "0" {
            break;
        }
    }
    assert_eq!(seen.len(), 111);
    assert_eq!(cmd(&mut c, &["DEBUG", "RELOAD"]), ok());
    assert_eq!(cmd(&mut c, &["DBSIZE"]), Reply::Int(302));
    assert_eq!(cmd(&mut c, &["GET", "user:42"]), bulk("42"));
    drop(s);

    // enable-debug-command no refuses DEBUG with Redis's text.
    let d = tmp("serve-nodebug");
    let s = Served::start(d.path(), &["--enable-debug-command", "no"]);
    let mut c = s.client();
    assert!(matches!(
        cmd(&mut c, &["DEBUG", "RELOAD"]),
        Reply::Error(e) if e.starts_with("ERR DEBUG command not allowed")
    ));
}

#[test]
fn config_file_command_line_and_refusals() {
    let d = tmp("serve-conf");
    let conf = d.path().join("redis.conf");
    std::fs::write(
        &conf,
        "# a comment\nappendonly yes\nappendfsync always\nsave 900 1\nsave 300 10\n\
         loglevel warning\ndbfilename \"my dump.rdb\"\n",
    )
    .unwrap();
    let port = serve_support::free_port();
    let mut child = std::process::Command::new(BIN)
        .arg(&conf)
        .args(["--port", &port.to_string(), "--dir"])
        .arg(d.path())
        .stdout(std::process::Stdio::null())
        .spawn()
        .unwrap();
    let mut c = None;
    for _ in 0..200 {
        if let Ok(x) = Client::connect(port) {
            c = Some(x);
            break;
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    let mut c = c.expect("server up");
    let r = cmd(&mut c, &["CONFIG", "GET", "save"]);
    assert_eq!(
        r,
        Reply::Array(Some(vec![bulk("save"), bulk("900 1 300 10")]))
    );
    let r = cmd(&mut c, &["CONFIG", "GET", "appendfsync"]);
    assert_eq!(
        r,
        Reply::Array(Some(vec![bulk("appendfsync"), bulk("always")]))
    );
    assert_eq!(
        cmd(&mut c, &["CONFIG", "GET", "dbfilename"]),
        Reply::Array(Some(vec![bulk("dbfilename"), bulk("my dump.rdb")]))
    );
    assert_eq!(
        cmd(&mut c, &["CONFIG", "SET", "appendfsync", "everysec"]),
        ok()
    );
    assert!(matches!(
        cmd(&mut c, &["CONFIG", "SET", "nosuch", "1"]),
        Reply::Error(e) if e == "ERR Unknown option or number of arguments for CONFIG SET - 'nosuch'"
    ));
    assert_eq!(cmd(&mut c, &["SAVE"]), ok());
    assert!(d.path().join("my dump.rdb").is_file());
    let _ = child.kill();
    let _ = child.wait();

    let out = std::process::Command::new(BIN)
        .args(["--port", "0", "--no-such-directive", "1"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("Bad directive or wrong number of arguments"),
        "{err}"
    );
    assert!(err.contains(">>> 'no-such-directive \"1\"'"), "{err}");
    let out = std::process::Command::new(BIN)
        .arg("--version")
        .output()
        .unwrap();
    let v = String::from_utf8_lossy(&out.stdout);
    assert!(v.starts_with("Redis server v=7.4.1 "), "{v}");
    assert!(v.contains("redis-persist-server"), "{v}");
}

fn info_field(c: &mut Client, name: &str) -> String {
    let text = c
        .call_str(&["INFO", "persistence"])
        .unwrap()
        .into_text()
        .unwrap();
    text.lines()
        .find_map(|l| l.strip_prefix(name)?.strip_prefix(':'))
        .unwrap_or_else(|| panic!("INFO persistence lacks {name}: {text}"))
        .to_owned()
}

fn wait_field(c: &mut Client, name: &str, want: &str) {
    let deadline = Instant::now() + Duration::from_secs(20);
    while info_field(c, name) != want {
        assert!(Instant::now() < deadline, "{name} never became {want}");
        std::thread::sleep(Duration::from_millis(20));
    }
}

#[test]
fn background_jobs_multi_key_blocking_and_shutdown_save() {
    let d = tmp("serve-admin");
    let mut s = Served::start(d.path(), &["--appendonly", "yes"]);
    let mut c = s.client();
    for i in 0..100 {
        cmd(&mut c, &["SET", &format!("k{i}"), "v"]);
    }
    assert_eq!(info_field(&mut c, "rdb_changes_since_last_save"), "100");
    // BGSAVE, and a BGREWRITEAOF asked for meanwhile is scheduled, then runs.
    let r = cmd(&mut c, &["BGSAVE"]);
    assert_eq!(r, Reply::Simple("Background saving started".into()));
    let r = cmd(&mut c, &["BGREWRITEAOF"]);
    assert!(
        matches!(&r, Reply::Simple(t) if t.starts_with("Background append only file rewriting")),
        "{r:?}"
    );
    wait_field(&mut c, "rdb_bgsave_in_progress", "0");
    wait_field(&mut c, "aof_rewrite_scheduled", "0");
    wait_field(&mut c, "aof_rewrite_in_progress", "0");
    assert_eq!(info_field(&mut c, "rdb_last_bgsave_status"), "ok");
    assert_eq!(info_field(&mut c, "aof_last_bgrewrite_status"), "ok");
    assert_eq!(info_field(&mut c, "rdb_changes_since_last_save"), "0");
    assert!(d.path().join("dump.rdb").is_file());
    let last = cmd(&mut c, &["LASTSAVE"]);
    assert!(
        matches!(last, Reply::Int(t) if t > 1_700_000_000),
        "{last:?}"
    );

    // OBJECT statistics.
    assert_eq!(cmd(&mut c, &["OBJECT", "IDLETIME", "k1"]), Reply::Int(0));
    assert!(matches!(
        cmd(&mut c, &["OBJECT", "FREQ", "k1"]),
        Reply::Error(e) if e.starts_with("ERR An LFU maxmemory policy is not selected")
    ));
    // Collection scans.
    cmd(&mut c, &["HSET", "h", "a", "1", "b", "2"]);
    cmd(&mut c, &["SADD", "s", "x"]);
    cmd(&mut c, &["ZADD", "z", "1", "m"]);
    let r = cmd(&mut c, &["HSCAN", "h", "0", "MATCH", "a"]);
    assert_eq!(
        r,
        Reply::Array(Some(vec![
            bulk("0"),
            Reply::Array(Some(vec![bulk("a"), bulk("1")]))
        ]))
    );
    let r = cmd(&mut c, &["SSCAN", "s", "0"]);
    assert_eq!(
        r,
        Reply::Array(Some(vec![bulk("0"), Reply::Array(Some(vec![bulk("x")]))]))
    );
    let r = cmd(&mut c, &["ZSCAN", "z", "0"]);
    assert_eq!(
        r,
        Reply::Array(Some(vec![
            bulk("0"),
            Reply::Array(Some(vec![bulk("m"), bulk("1")]))
        ]))
    );

    // BLMPOP and BZMPOP wake on pushes to any of their keys.
    let port = s.port;
    let lm = std::thread::spawn(move || {
        let mut c = Client::connect(port).unwrap();
        cmd(
            &mut c,
            &["BLMPOP", "5", "2", "la", "lb", "LEFT", "COUNT", "2"],
        )
    });
    let zm = std::thread::spawn(move || {
        let mut c = Client::connect(port).unwrap();
        cmd(&mut c, &["BZMPOP", "5", "1", "zq", "MAX"])
    });
    std::thread::sleep(Duration::from_millis(200));
    cmd(&mut c, &["RPUSH", "lb", "1", "2", "3"]);
    cmd(&mut c, &["ZADD", "zq", "1", "low", "9", "high"]);
    assert_eq!(
        lm.join().unwrap(),
        Reply::Array(Some(vec![
            bulk("lb"),
            Reply::Array(Some(vec![bulk("1"), bulk("2")]))
        ]))
    );
    assert_eq!(
        zm.join().unwrap(),
        Reply::Array(Some(vec![
            bulk("zq"),
            Reply::Array(Some(vec![Reply::Array(Some(vec![
                bulk("high"),
                bulk("9")
            ]))]))
        ]))
    );

    // QUIT answers OK and closes.
    let mut raw = std::net::TcpStream::connect(("127.0.0.1", s.port)).unwrap();
    raw.write_all(b"QUIT\r\nPING\r\n").unwrap();
    assert_eq!(read_n(&mut raw, 1 << 16), b"+OK\r\n");

    // SHUTDOWN SAVE writes a dump even without save rules, then exits 0.
    std::fs::remove_file(d.path().join("dump.rdb")).unwrap();
    cmd(&mut c, &["SET", "last", "1"]);
    let _ = c.cmd(&[b"SHUTDOWN", b"SAVE"]);
    let deadline = Instant::now() + Duration::from_secs(10);
    let status = loop {
        if let Some(st) = s.child.try_wait().unwrap() {
            break st;
        }
        assert!(Instant::now() < deadline);
        std::thread::sleep(Duration::from_millis(20));
    };
    assert!(status.success());
    let rdb = std::fs::read(d.path().join("dump.rdb")).unwrap();
    let (ds, _) = redis_persist_engine::format::rdb::read_dataset(
        &rdb,
        redis_persist_engine::format::rdb::ReadOptions::default(),
    )
    .unwrap();
    assert_eq!(ds.keys.len(), 100 + 3 + 2 + 1, "{:?}", ds.keys.len());
}

#[test]
fn save_rules_start_a_background_save_from_the_cron() {
    let d = tmp("serve-rules");
    // Test defaults put `--save ""` first; this later `save` line sets the rule.
    let s = Served::start(d.path(), &["--save", "1 1"]);
    let mut c = s.client();
    cmd(&mut c, &["SET", "a", "1"]);
    let deadline = Instant::now() + Duration::from_secs(20);
    while info_field(&mut c, "rdb_changes_since_last_save") != "0" {
        assert!(Instant::now() < deadline, "no save by the rule");
        std::thread::sleep(Duration::from_millis(50));
    }
    assert!(d.path().join("dump.rdb").is_file());
    let log = s.log_text();
    assert!(log.contains("1 changes in 1 seconds. Saving..."), "{log}");
    assert!(
        log.contains("Background saving terminated with success"),
        "{log}"
    );
}
