//! The persisting server on a simulated disk and clock: what survives a crash under each policy,
//! background jobs, failures, and expiry propagation. Expectations come from the policies' text
//! (Redis's documentation of `appendfsync`, SAVE and BGREWRITEAOF), not from the engine.
use redis_persist_engine::dataset::{Dataset, Value};
use redis_persist_engine::keyspace::{Reply, Session};
use redis_persist_engine::persist::{AppendFsync, PersistConfig, Refusal, Server, SimClock};
use redis_persist_engine::storage::{CrashImage, Op, SimDisk, Storage};

const T0: i64 = 1_800_000_000_000;

fn config(appendonly: bool, fsync: AppendFsync) -> PersistConfig {
    PersistConfig {
        appendonly,
        appendfsync: fsync,
        save: Vec::new(),
        ..PersistConfig::default()
    }
}

struct Rig {
    srv: Server<SimDisk, SimClock>,
    clock: SimClock,
    s: Session,
}

impl Rig {
    fn new(cfg: PersistConfig) -> Rig {
        let clock = SimClock::at(T0);
        let mut srv = Server::open(SimDisk::new(), clock.clone(), cfg).expect("opens");
        srv.auto_finish = false;
        Rig {
            srv,
            clock,
            s: Session::new(),
        }
    }

    fn run(&mut self, args: &[&str]) -> Reply {
        let argv: Vec<&[u8]> = args.iter().map(|a| a.as_bytes()).collect();
        self.srv.execute(&mut self.s, &argv)
    }

    fn ok(&mut self, args: &[&str]) {
        let r = self.run(args);
        assert!(!matches!(r, Reply::Error(_)), "{args:?}: {r:?}");
    }

    /// Power loss, then a restart with the same configuration on what survived.
    fn crash_restart(self, how: CrashImage) -> Rig {
        let cfg = self.srv.config().clone();
        let disk = self.srv.storage().crash(how);
        let mut srv = Server::open(disk, self.clock.clone(), cfg).expect("recovers");
        srv.auto_finish = false;
        Rig {
            srv,
            clock: self.clock,
            s: Session::new(),
        }
    }
}

fn strings(ds: &Dataset) -> Vec<(String, String)> {
    ds.keys
        .iter()
        .map(|e| {
            let v = match &e.value {
                Value::String(b) => String::from_utf8_lossy(b).into_owned(),
                other => format!("{other:?}"),
            };
            (String::from_utf8_lossy(&e.key).into_owned(), v)
        })
        .collect()
}

fn pairs(kv: &[(&str, &str)]) -> Vec<(String, String)> {
    kv.iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect()
}

#[test]
fn always_keeps_every_acknowledged_write_through_any_crash() {
    for how in [
        CrashImage::LoseUnsynced,
        CrashImage::KeepWritten,
        CrashImage::Torn { seed: 7 },
    ] {
        let mut r = Rig::new(config(true, AppendFsync::Always));
        r.ok(&["SET", "a", "1"]);
        r.ok(&["APPEND", "a", "2"]);
        r.ok(&["SET", "b", "x"]);
        let r = r.crash_restart(how);
        assert_eq!(
            strings(&r.srv.dataset()),
            pairs(&[("a", "12"), ("b", "x")]),
            "{how:?}"
        );
    }
}

#[test]
fn everysec_makes_writes_durable_within_a_second_or_two() {
    let mut r = Rig::new(config(true, AppendFsync::Everysec));
    r.ok(&["SET", "a", "1"]);
    // No tick yet: a crash may lose it.
    let lost = Rig {
        srv: Server::open(
            r.srv.storage().crash(CrashImage::LoseUnsynced),
            r.clock.clone(),
            r.srv.config().clone(),
        )
        .unwrap(),
        clock: r.clock.clone(),
        s: Session::new(),
    };
    assert!(lost.srv.dataset().keys.is_empty());
    r.clock.advance(1_000);
    r.srv.tick();
    let r = r.crash_restart(CrashImage::LoseUnsynced);
    assert_eq!(strings(&r.srv.dataset()), pairs(&[("a", "1")]));
}

#[test]
fn no_fsync_keeps_only_what_a_rewrite_made_durable() {
    let mut r = Rig::new(config(true, AppendFsync::No));
    r.ok(&["SET", "a", "1"]);
    r.clock.advance(5_000);
    r.srv.tick();
    r.srv.bgrewriteaof_start().unwrap();
    r.ok(&["SET", "b", "2"]);
    r.srv.bgrewriteaof_finish().unwrap();
    r.ok(&["SET", "c", "3"]);
    let r = r.crash_restart(CrashImage::LoseUnsynced);
    assert_eq!(strings(&r.srv.dataset()), pairs(&[("a", "1")]));
}

#[test]
fn rdb_only_recovers_the_state_when_the_last_snapshot_began() {
    let mut r = Rig::new(config(false, AppendFsync::Everysec));
    r.ok(&["SET", "a", "1"]);
    r.srv.bgsave_start().unwrap();
    r.ok(&["SET", "b", "2"]);
    r.srv.bgsave_finish().unwrap();
    r.ok(&["SET", "c", "3"]);
    let r = r.crash_restart(CrashImage::KeepWritten);
    assert_eq!(strings(&r.srv.dataset()), pairs(&[("a", "1")]));
}

#[test]
fn a_rewrite_keeps_the_writes_made_while_it_ran_and_leaves_two_files() {
    let mut r = Rig::new(config(true, AppendFsync::Always));
    r.ok(&["SET", "a", "1"]);
    r.ok(&["RPUSH", "l", "x", "y"]);
    r.srv.bgrewriteaof_start().unwrap();
    r.ok(&["SET", "b", "2"]);
    r.ok(&["LPOP", "l"]);
    r.srv.bgrewriteaof_finish().unwrap();
    r.ok(&["SET", "c", "3"]);
    let files: Vec<String> = r.srv.storage().list("appendonlydir").unwrap();
    assert_eq!(
        files,
        [
            "appendonly.aof.2.base.rdb",
            "appendonly.aof.2.incr.aof",
            "appendonly.aof.manifest"
        ]
    );
    let r = r.crash_restart(CrashImage::LoseUnsynced);
    let ds = r.srv.dataset();
    let keys: Vec<String> = ds
        .keys
        .iter()
        .map(|e| String::from_utf8_lossy(&e.key).into_owned())
        .collect();
    assert_eq!(keys, ["a", "b", "c", "l"]);
}

#[test]
fn a_failed_append_under_always_is_not_acknowledged_and_stops_the_server() {
    let mut r = Rig::new(config(true, AppendFsync::Always));
    r.ok(&["SET", "a", "1"]);
    assert_eq!(r.srv.last_refusal(), None);
    r.srv.storage_mut().fail_next(Op::Write, 1);
    assert!(matches!(r.run(&["SET", "b", "2"]), Reply::Error(_)));
    assert_eq!(
        r.srv.last_refusal(),
        Some(Refusal::Stopped),
        "run, not acknowledged"
    );
    assert!(r.srv.stopped().is_some());
    assert!(matches!(r.run(&["GET", "a"]), Reply::Error(_)));
    assert_eq!(r.srv.last_refusal(), Some(Refusal::Stopped));
    let r = r.crash_restart(CrashImage::KeepWritten);
    assert_eq!(strings(&r.srv.dataset()), pairs(&[("a", "1")]));
}

#[test]
fn a_failed_append_under_everysec_is_retried_before_the_next_write() {
    let mut r = Rig::new(config(true, AppendFsync::Everysec));
    r.srv.storage_mut().fail_next(Op::Write, 1);
    r.ok(&["SET", "a", "1"]);
    assert!(r.srv.stats().aof_write_error);
    // The half-written command was cut back: the file holds whole commands only.
    let incr = r
        .srv
        .storage()
        .read("appendonlydir/appendonly.aof.1.incr.aof")
        .unwrap();
    assert!(incr.is_empty(), "{:?}", String::from_utf8_lossy(&incr));
    r.ok(&["SET", "b", "2"]);
    assert!(!r.srv.stats().aof_write_error);
    r.clock.advance(1_000);
    r.srv.tick();
    let r = r.crash_restart(CrashImage::LoseUnsynced);
    assert_eq!(strings(&r.srv.dataset()), pairs(&[("a", "1"), ("b", "2")]));
}

#[test]
fn a_failed_bgsave_refuses_writes_while_save_rules_are_set() {
    let mut cfg = config(false, AppendFsync::Everysec);
    cfg.save = redis_persist_engine::persist::parse_save("1 1").unwrap();
    let mut r = Rig::new(cfg);
    r.ok(&["SET", "a", "1"]);
    r.srv.storage_mut().fail_next(Op::Rename, 1);
    r.srv.bgsave_start().unwrap();
    assert!(r.srv.bgsave_finish().is_err());
    assert!(matches!(r.run(&["SET", "b", "2"]), Reply::Error(e) if e.starts_with("MISCONF")));
    assert_eq!(r.srv.last_refusal(), Some(Refusal::Misconf));
    r.ok(&["SAVE"]);
    r.ok(&["SET", "b", "2"]);
    assert_eq!(r.srv.last_refusal(), None);
}

#[test]
fn save_rules_fire_on_the_clock() {
    let mut cfg = config(false, AppendFsync::Everysec);
    cfg.save = redis_persist_engine::persist::parse_save("60 2").unwrap();
    let mut r = Rig::new(cfg);
    r.ok(&["SET", "a", "1"]);
    r.clock.advance(61_000);
    r.srv.tick();
    assert!(
        !r.srv.storage().exists("dump.rdb"),
        "one change is below the rule"
    );
    r.ok(&["SET", "b", "2"]);
    r.srv.tick();
    assert!(r.srv.storage().exists("dump.rdb"));
    assert_eq!(r.srv.stats().dirty, 0);
}

#[test]
fn keys_expired_on_access_are_deleted_in_the_aof_too() {
    let mut r = Rig::new(config(true, AppendFsync::Always));
    r.ok(&["SET", "k", "old", "PX", "100"]);
    r.clock.advance(200);
    r.ok(&["APPEND", "k", "new"]);
    r.ok(&["SET", "t", "v", "EX", "1000"]);
    r.ok(&["EXPIRE", "k", "50"]);
    let r = r.crash_restart(CrashImage::LoseUnsynced);
    let ds = r.srv.dataset();
    assert_eq!(strings(&ds), pairs(&[("k", "new"), ("t", "v")]));
    let when: Vec<Option<i64>> = ds.keys.iter().map(|e| e.expire_ms).collect();
    assert_eq!(when, [Some(T0 + 200 + 50_000), Some(T0 + 200 + 1_000_000)]);
}

#[test]
fn every_file_the_server_leaves_decodes() {
    let mut r = Rig::new(config(true, AppendFsync::Always));
    for i in 0..20 {
        r.ok(&["HSET", "h", &format!("f{i}"), "v"]);
        r.ok(&["ZADD", "z", &i.to_string(), &format!("m{i}")]);
    }
    r.ok(&["SAVE"]);
    r.srv.bgrewriteaof_start().unwrap();
    r.srv.bgrewriteaof_finish().unwrap();
    for (name, bytes) in r.srv.storage().files() {
        if name.ends_with(".rdb") {
            redis_persist_engine::format::rdb::read_dataset(&bytes, Default::default())
                .unwrap_or_else(|e| panic!("{name}: {e}"));
        } else if name.ends_with(".manifest") {
            redis_persist_engine::format::aof::manifest::parse(&bytes)
                .unwrap_or_else(|e| panic!("{name}: {e}"));
        }
    }
    let want = r.srv.dataset();
    let r = r.crash_restart(CrashImage::LoseUnsynced);
    assert_eq!(
        redis_persist_engine::dataset::first_difference(&want, &r.srv.dataset()),
        None
    );
}

/// The incremental AOF file's bytes (the one file named `*.incr.aof` right after opening).
fn incr_aof(r: &Rig) -> Vec<u8> {
    let files = r.srv.storage().files();
    let mut incr = files.iter().filter(|(n, _)| n.ends_with(".incr.aof"));
    let (_, bytes) = incr.next().expect("an incremental file");
    assert!(incr.next().is_none(), "one incremental file");
    bytes.clone()
}

#[test]
fn a_transaction_reaches_the_aof_inside_multi_exec_and_only_at_exec() {
    // Redis 7.0 multi.c and server.c: a command sent inside MULTI is answered +QUEUED and not run;
    // EXEC answers each command's reply in order and propagates the writes wrapped in MULTI/EXEC,
    // the SELECT before the MULTI (propagatePendingCommands takes the first op's database).
    let mut r = Rig::new(config(true, AppendFsync::Always));
    r.ok(&["MULTI"]);
    assert_eq!(r.run(&["SET", "a", "1"]), Reply::Queued);
    assert_eq!(r.run(&["INCR", "n"]), Reply::Queued);
    assert_eq!(incr_aof(&r), b"", "nothing is written before EXEC");
    assert!(r.srv.dataset().keys.is_empty(), "nothing runs before EXEC");
    assert_eq!(
        r.run(&["EXEC"]),
        Reply::Array(vec![Reply::Ok, Reply::Int(1)])
    );
    let want: &[u8] = b"*2\r\n$6\r\nSELECT\r\n$1\r\n0\r\n*1\r\n$5\r\nMULTI\r\n\
        *3\r\n$3\r\nSET\r\n$1\r\na\r\n$1\r\n1\r\n*2\r\n$4\r\nINCR\r\n$1\r\nn\r\n*1\r\n$4\r\nEXEC\r\n";
    assert_eq!(incr_aof(&r), want);
    // A transaction of reads propagates nothing (propagatePendingCommands returns on no ops).
    r.ok(&["MULTI"]);
    r.ok(&["GET", "a"]);
    r.ok(&["EXEC"]);
    assert_eq!(incr_aof(&r), want);
    // EXEC outside MULTI is refused (multi.c: "EXEC without MULTI") and writes nothing.
    assert!(matches!(r.run(&["EXEC"]), Reply::Error(_)));
    assert_eq!(incr_aof(&r), want);
}

#[test]
fn the_skip_fsync_sabotage_skips_exactly_every_third_fsync() {
    // The sabotage's contract (config.rs): under `always`, every third AOF fsync is skipped, so
    // the third and sixth of six acknowledged writes go without one.
    let mut cfg = config(true, AppendFsync::Always);
    cfg.sabotage.skip_fsync_always = true;
    let mut r = Rig::new(cfg);
    let before = r.srv.storage().op_counts()[1];
    let mut fsyncs = Vec::new();
    for i in 0..6 {
        r.ok(&["SET", &format!("k{i}"), "v"]);
        fsyncs.push(r.srv.storage().op_counts()[1] - before);
    }
    assert_eq!(fsyncs, [1, 2, 2, 3, 4, 4]);
}

/// Observed on redis-server 7.4.1 (`DEBUG SET-ACTIVE-EXPIRE` toggled, INFO's
/// rdb_changes_since_last_save and the incremental AOF read after each step): a field removed by
/// the cron's active expiry is propagated as HDEL and a key found expired on access as DEL, and
/// neither counts as a change for the save rules; 7.0.15 counts a transaction of one SET as one
/// change, not three.
#[test]
fn expiry_deletions_reach_the_aof_but_are_not_changes() {
    let mut r = Rig::new(config(true, AppendFsync::Always));
    r.ok(&["HSET", "h", "f", "v"]);
    r.ok(&["HSET", "h", "g", "w"]);
    r.ok(&["HPEXPIRE", "h", "100", "FIELDS", "1", "f"]);
    r.ok(&["SET", "k", "v", "PX", "100"]);
    let changes = r.srv.stats().dirty;
    assert_eq!(changes, 4);
    r.clock.advance(200);
    r.srv.tick();
    assert!(
        incr_aof(&r).ends_with(b"*3\r\n$4\r\nHDEL\r\n$1\r\nh\r\n$1\r\nf\r\n"),
        "{:?}",
        String::from_utf8_lossy(&incr_aof(&r))
    );
    assert_eq!(r.srv.stats().dirty, changes);
    assert_eq!(r.run(&["GET", "k"]), Reply::Nil);
    assert!(incr_aof(&r).ends_with(b"*2\r\n$3\r\nDEL\r\n$1\r\nk\r\n"));
    assert_eq!(r.srv.stats().dirty, changes);
    r.ok(&["MULTI"]);
    r.ok(&["SET", "a", "1"]);
    r.ok(&["EXEC"]);
    assert_eq!(r.srv.stats().dirty, changes + 1);
    let r = r.crash_restart(CrashImage::LoseUnsynced);
    let ds = r.srv.dataset();
    let hash = ds.keys.iter().find(|e| e.key == b"h").map(|e| &e.value);
    let Some(Value::Hash(fields)) = hash else {
        panic!("no hash h: {hash:?}")
    };
    let names: Vec<&[u8]> = fields.iter().map(|f| f.field.as_slice()).collect();
    assert_eq!(names, [b"g"]);
}

/// A command that propagates more than one form goes to the AOF inside MULTI/EXEC; one form goes
/// alone. Observed in the incremental AOFs of redis-server 7.0.15 and 7.4.1 (active expiry off):
/// `APPEND k x` on a key past its time writes MULTI, DEL k, APPEND k x, EXEC; `HEXPIREAT h 1
/// FIELDS 2 b c` writes MULTI, HDEL h b, HDEL h c, EXEC; a one-field HEXPIREAT a bare HDEL.
#[test]
fn a_command_with_several_forms_reaches_the_aof_as_a_transaction() {
    let mut r = Rig::new(config(true, AppendFsync::Always));
    r.ok(&["SET", "k", "v", "PX", "50"]);
    r.ok(&["HSET", "h", "a", "1", "b", "2", "c", "3"]);
    r.clock.advance(200);
    let before = incr_aof(&r).len();
    r.ok(&["APPEND", "k", "x"]);
    r.ok(&["HEXPIREAT", "h", "1", "FIELDS", "1", "a"]);
    r.ok(&["HEXPIREAT", "h", "1", "FIELDS", "2", "b", "c"]);
    let want: &[u8] = b"*1\r\n$5\r\nMULTI\r\n*2\r\n$3\r\nDEL\r\n$1\r\nk\r\n\
        *3\r\n$6\r\nAPPEND\r\n$1\r\nk\r\n$1\r\nx\r\n*1\r\n$4\r\nEXEC\r\n\
        *3\r\n$4\r\nHDEL\r\n$1\r\nh\r\n$1\r\na\r\n\
        *1\r\n$5\r\nMULTI\r\n*3\r\n$4\r\nHDEL\r\n$1\r\nh\r\n$1\r\nb\r\n\
        *3\r\n$4\r\nHDEL\r\n$1\r\nh\r\n$1\r\nc\r\n*1\r\n$4\r\nEXEC\r\n";
    let aof = incr_aof(&r);
    assert_eq!(
        String::from_utf8_lossy(&aof[before..]),
        String::from_utf8_lossy(want)
    );
}

/// A manifest that lists only a base: redis-server 7.0.15 started on one (base `SET k v`, manifest
/// `file appendonly.aof.1.base.aof seq 1 type b`) opened `appendonly.aof.1.incr.aof`, listed it
/// as `seq 1 type i`, and the next SET went there (observed).
#[test]
fn a_manifest_with_only_a_base_gets_an_incremental_file_at_start() {
    let mut disk = SimDisk::new();
    disk.mkdir("appendonlydir").unwrap();
    let base = "appendonlydir/appendonly.aof.1.base.aof";
    disk.create(base).unwrap();
    disk.append(base, b"*3\r\n$3\r\nSET\r\n$1\r\nk\r\n$1\r\nv\r\n")
        .unwrap();
    let manifest = "appendonlydir/appendonly.aof.manifest";
    disk.create(manifest).unwrap();
    disk.append(manifest, b"file appendonly.aof.1.base.aof seq 1 type b\n")
        .unwrap();
    for path in [base, manifest] {
        disk.fsync(path).unwrap();
    }
    disk.fsync_dir("appendonlydir").unwrap();
    disk.fsync_dir("").unwrap();
    let clock = SimClock::at(T0);
    let cfg = config(true, AppendFsync::Always);
    let mut srv = Server::open(disk, clock.clone(), cfg.clone()).expect("opens");
    srv.ensure_incr_file().unwrap();
    let listed = srv.storage().read(manifest).unwrap();
    assert!(
        String::from_utf8_lossy(&listed).contains("file appendonly.aof.1.incr.aof seq 1 type i"),
        "{}",
        String::from_utf8_lossy(&listed)
    );
    srv.execute(&mut Session::new(), &[b"SET", b"j", b"w"]);
    let incr = srv
        .storage()
        .read("appendonlydir/appendonly.aof.1.incr.aof")
        .unwrap();
    assert!(incr.ends_with(b"*3\r\n$3\r\nSET\r\n$1\r\nj\r\n$1\r\nw\r\n"));
    let disk = srv.into_storage().crash(CrashImage::LoseUnsynced);
    let srv = Server::open(disk, clock, cfg).expect("reopens");
    assert_eq!(strings(&srv.dataset()), pairs(&[("j", "w"), ("k", "v")]));
}

/// The `accept_bad_crc` sabotage's contract (config.rs): the server loads a dump whose CRC-64
/// is wrong, which it otherwise refuses as Redis does (`rdbchecksum yes`).
#[test]
fn the_accept_bad_crc_sabotage_loads_what_the_checksum_refuses() {
    let mut r = Rig::new(config(false, AppendFsync::Everysec));
    r.ok(&["SET", "k", "v"]);
    r.ok(&["SAVE"]);
    let mut dump = r.srv.storage().read("dump.rdb").unwrap();
    let last = dump.len() - 1;
    dump[last] ^= 0x01;
    let mut disk = SimDisk::new();
    disk.create("dump.rdb").unwrap();
    disk.append("dump.rdb", &dump).unwrap();
    let clock = SimClock::at(T0);
    let honest = config(false, AppendFsync::Everysec);
    assert!(Server::open(disk.clone(), clock.clone(), honest.clone()).is_err());
    let mut sabotaged = honest;
    sabotaged.sabotage.accept_bad_crc = true;
    let srv = Server::open(disk, clock, sabotaged).expect("the sabotage loads it");
    assert_eq!(strings(&srv.dataset()), pairs(&[("k", "v")]));
}

/// `everysec` (redis.conf): the AOF is fsynced once a second has passed since the last fsync,
/// and only when there is something to sync.
#[test]
fn everysec_fsyncs_once_a_second_and_only_what_is_unsynced() {
    let mut r = Rig::new(config(true, AppendFsync::Everysec));
    let fsyncs = |r: &Rig| r.srv.storage().op_counts()[1];
    r.ok(&["SET", "a", "1"]);
    let before = fsyncs(&r);
    r.clock.advance(999);
    r.srv.tick();
    assert_eq!(fsyncs(&r), before, "not yet a second");
    r.clock.advance(1);
    r.srv.tick();
    assert_eq!(fsyncs(&r), before + 1, "a second on");
    r.clock.advance(5_000);
    r.srv.tick();
    assert_eq!(fsyncs(&r), before + 1, "nothing left to sync");
}

/// The creation time a dump carries (aux `ctime`, Unix seconds, as rdbSaveInfoAuxFields
/// writes it) is the save's time.
#[test]
fn a_dump_carries_its_creation_time_in_seconds() {
    let mut r = Rig::new(config(false, AppendFsync::Everysec));
    r.clock.advance(12_345);
    r.ok(&["SAVE"]);
    let dump = r.srv.storage().read("dump.rdb").unwrap();
    let (ds, _) =
        redis_persist_engine::format::rdb::read_dataset(&dump, Default::default()).unwrap();
    let aux = ds.source.map(|s| s.aux).unwrap_or_default();
    let ctime = aux.iter().find(|(k, _)| k == b"ctime").map(|(_, v)| v);
    assert_eq!(
        ctime,
        Some(&((T0 + 12_345) / 1000).to_string().into_bytes())
    );
}

/// `aof-timestamp-enabled yes` with a RESP base (`aof-use-rdb-preamble no`): the rewrite's base
/// opens with the `#TS:<unix seconds>` annotation Redis writes.
#[test]
fn a_resp_base_with_timestamps_opens_with_the_rewrite_time() {
    let mut cfg = config(true, AppendFsync::Always);
    cfg.aof_use_rdb_preamble = false;
    cfg.aof_timestamp_enabled = true;
    let mut r = Rig::new(cfg);
    r.ok(&["SET", "k", "v"]);
    r.clock.advance(7_777);
    r.srv.bgrewriteaof_start().unwrap();
    r.srv.bgrewriteaof_finish().unwrap();
    let files = r.srv.storage().files();
    let (_, base) = files
        .iter()
        .rfind(|(n, _)| n.ends_with(".base.aof"))
        .expect("a RESP base");
    let want = format!("#TS:{}\r\n", (T0 + 7_777) / 1000);
    assert!(
        base.starts_with(want.as_bytes()),
        "{:?}",
        String::from_utf8_lossy(base)
    );
}

/// An expiry set in another database is propagated with that database's time: the key in db 1
/// keeps its TTL through a restart from the AOF (Redis writes SELECT 1 then PEXPIREAT).
#[test]
fn an_expiry_in_another_database_survives_a_restart() {
    let mut r = Rig::new(config(true, AppendFsync::Always));
    r.ok(&["SELECT", "1"]);
    r.ok(&["SET", "k", "v"]);
    r.ok(&["EXPIRE", "k", "100"]);
    let r = r.crash_restart(CrashImage::LoseUnsynced);
    let ds = r.srv.dataset();
    let got: Vec<(u64, Option<i64>)> = ds.keys.iter().map(|e| (e.db, e.expire_ms)).collect();
    assert_eq!(got, [(1, Some(T0 + 100_000))]);
}
