//! Live-server smoke tests: a real build starts on 127.0.0.1, takes a write, and reads back as the
//! dataset it holds. Missing builds skip with a message, except under `CI=true`, where they fail.
use redis_persist_engine::dataset::{Dataset, Entry, Value};
use redis_persist_engine::live::{read_dataset, require_or_skip, RunningServer, TempDir};

fn set_and_read_back(name: &str) {
    let Some(build) = require_or_skip(name) else {
        return;
    };
    let dir = TempDir::new("smoke").expect("temp dir");
    let server = RunningServer::start(&build, dir.path(), &[]).expect("server starts");
    let mut c = server.client().expect("connect");
    c.call(&[b"SET", b"greeting\xff", b"hello\0world"])
        .expect("SET");
    let got = read_dataset(&mut c, &[0]).expect("read back");
    let want = Dataset {
        keys: vec![Entry {
            db: 0,
            key: b"greeting\xff".to_vec(),
            expire_ms: None,
            idle_s: None,
            freq: None,
            value: Value::String(b"hello\0world".to_vec()),
            attrs: Default::default(),
        }],
        ..Dataset::default()
    };
    assert_eq!(
        redis_persist_engine::dataset::first_difference(&want, &got),
        None,
        "{name}: log {}",
        server.log_path().display()
    );
    c.call(&[b"SAVE"]).expect("SAVE");
    let header = std::fs::read(server.rdb_path()).expect("dump.rdb written");
    let magic = format!(
        "{}{:0>width$}",
        build.magic,
        build.rdb_version,
        width = 9 - build.magic.len()
    );
    assert_eq!(&header[..9], magic.as_bytes(), "{name} header");
}

#[test]
fn redis_7_0_15_set_and_read_back() {
    set_and_read_back("redis-7.0.15");
}

#[test]
fn every_known_build_starts_and_reads_back() {
    for name in redis_persist_engine::live::ServerBuild::known_names() {
        set_and_read_back(name);
    }
}
