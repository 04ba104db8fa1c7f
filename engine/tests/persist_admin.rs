//! The persistence commands a client sends to the persisting server (LASTSAVE, BGSAVE, CONFIG
//! GET/SET, SHUTDOWN) and what a network server reads of it, against Redis 7.0.15's behaviour.
use redis_persist_engine::keyspace::{Reply, Session};
use redis_persist_engine::persist::{AppendFsync, PersistConfig, Server, SimClock};
use redis_persist_engine::storage::{SimDisk, Storage};

const T0: i64 = 1_800_000_000_250;

fn server(appendonly: bool, save: &str) -> (Server<SimDisk, SimClock>, SimClock) {
    let clock = SimClock::at(T0);
    let mut cfg = PersistConfig {
        appendonly,
        appendfsync: AppendFsync::Always,
        ..PersistConfig::default()
    };
    cfg.set("save", save).unwrap();
    let mut srv = Server::open(SimDisk::new(), clock.clone(), cfg).unwrap();
    srv.auto_finish = false;
    (srv, clock)
}

fn run(srv: &mut Server<SimDisk, SimClock>, args: &[&str]) -> Reply {
    let argv: Vec<&[u8]> = args.iter().map(|a| a.as_bytes()).collect();
    srv.execute(&mut Session::new(), &argv)
}

fn has_file(srv: &Server<SimDisk, SimClock>, suffix: &str) -> bool {
    srv.storage()
        .files()
        .iter()
        .any(|(n, _)| n.ends_with(suffix))
}

fn incr_len(srv: &Server<SimDisk, SimClock>) -> usize {
    let files = srv.storage().files();
    let (_, bytes) = files
        .iter()
        .find(|(n, _)| n.ends_with(".incr.aof"))
        .expect("an incremental file");
    bytes.len()
}

#[test]
fn lastsave_is_the_last_save_in_unix_seconds() {
    // LASTSAVE: "the UNIX TIME of the last DB save executed with success", in seconds.
    let (mut srv, clock) = server(false, "");
    clock.advance(7_900);
    assert_eq!(run(&mut srv, &["SAVE"]), Reply::Ok);
    clock.advance(60_000);
    assert_eq!(
        run(&mut srv, &["LASTSAVE"]),
        Reply::Int((T0 + 7_900) / 1000)
    );
    // Stats count every dump attempted: the SAVE above and this one.
    assert_eq!(run(&mut srv, &["SAVE"]), Reply::Ok);
    assert_eq!(srv.stats().save_attempts, 2);
}

#[test]
fn bgsave_answers_started_and_its_finish_writes_the_dump() {
    // rdb.c bgsaveCommand: addReplyStatus(c,"Background saving started").
    let (mut srv, _) = server(false, "");
    run(&mut srv, &["SET", "a", "1"]);
    assert_eq!(
        run(&mut srv, &["BGSAVE"]),
        Reply::Status("Background saving started".into())
    );
    assert_eq!(srv.jobs_started_ms(), (Some(T0), None));
    assert!(!has_file(&srv, "dump.rdb"));
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(20);
    while !srv.bgsave_finished() {
        assert!(std::time::Instant::now() < deadline, "BGSAVE thread ends");
        std::thread::sleep(std::time::Duration::from_millis(5));
    }
    srv.bgsave_finish().unwrap();
    assert!(has_file(&srv, "dump.rdb"));
    assert!(!srv.bgsave_finished(), "no job left once finished");
    assert_eq!(srv.jobs_started_ms(), (None, None));
}

#[test]
fn a_rewrite_reports_its_start_and_its_end() {
    let (mut srv, _) = server(true, "");
    assert!(!srv.rewrite_finished());
    srv.bgrewriteaof_start().unwrap();
    assert_eq!(srv.jobs_started_ms(), (None, Some(T0)));
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(20);
    while !srv.rewrite_finished() {
        assert!(std::time::Instant::now() < deadline, "rewrite thread ends");
        std::thread::sleep(std::time::Duration::from_millis(5));
    }
    srv.bgrewriteaof_finish().unwrap();
    assert!(!srv.rewrite_finished());
}

#[test]
fn config_get_and_set_over_the_command_path() {
    let (mut srv, _) = server(true, "");
    let pair =
        |n: &str, v: &str| Reply::Array(vec![Reply::bulk(n.as_bytes()), Reply::bulk(v.as_bytes())]);
    assert_eq!(
        run(&mut srv, &["CONFIG", "GET", "appendfsync"]),
        pair("appendfsync", "always")
    );
    // An unknown name matches nothing: an empty array.
    assert_eq!(
        run(&mut srv, &["CONFIG", "GET", "no-such-parameter"]),
        Reply::Array(Vec::new())
    );
    assert_eq!(
        run(&mut srv, &["CONFIG", "SET", "appendfsync", "no"]),
        Reply::Ok
    );
    assert_eq!(srv.config().appendfsync, AppendFsync::No);
    // A name without its value pair is refused (config.c: wrong number of arguments), and
    // changes nothing.
    assert!(matches!(
        run(
            &mut srv,
            &["CONFIG", "SET", "appendfsync", "always", "rdbcompression"]
        ),
        Reply::Error(_)
    ));
    assert_eq!(srv.config().appendfsync, AppendFsync::No);
}

#[test]
fn config_set_appendonly_no_stops_appending() {
    // aof.c stopAppendOnly: the AOF is closed and later writes no longer reach it.
    let (mut srv, _) = server(true, "");
    run(&mut srv, &["SET", "a", "1"]);
    let len = incr_len(&srv);
    assert!(len > 0);
    assert_eq!(
        run(&mut srv, &["CONFIG", "SET", "appendonly", "no"]),
        Reply::Ok
    );
    assert_eq!(srv.aof_lengths(), None);
    run(&mut srv, &["SET", "b", "2"]);
    assert_eq!(incr_len(&srv), len);
}

/// redis-server 7.0.15, observed: SET a 1, CONFIG SET appendonly no, SET b 2, CONFIG SET
/// appendonly yes, SET c 3 leaves `file appendonly.aof.2.base.rdb seq 2 type b` and
/// `file appendonly.aof.2.incr.aof seq 2 type i`: the new AOF continues the old manifest's
/// numbers, its base holds the whole dataset, and later writes go to the new incremental file.
#[test]
fn config_set_appendonly_yes_starts_a_fresh_aof_numbered_after_the_old_one() {
    let (mut srv, clock) = server(true, "");
    run(&mut srv, &["SET", "a", "1"]);
    run(&mut srv, &["CONFIG", "SET", "appendonly", "no"]);
    run(&mut srv, &["SET", "b", "2"]);
    assert_eq!(
        run(&mut srv, &["CONFIG", "SET", "appendonly", "yes"]),
        Reply::Ok
    );
    run(&mut srv, &["SET", "c", "3"]);
    let manifest = srv
        .storage()
        .read("appendonlydir/appendonly.aof.manifest")
        .unwrap();
    assert_eq!(
        String::from_utf8_lossy(&manifest),
        "file appendonly.aof.2.base.rdb seq 2 type b\n\
         file appendonly.aof.2.incr.aof seq 2 type i\n"
    );
    let cfg = srv.config().clone();
    let disk = srv.into_storage();
    let srv = Server::open(disk, clock, cfg).unwrap();
    assert_eq!(srv.dataset().keys.len(), 3);
}

/// BGREWRITEAOF with nothing running starts at once (Redis 7.0.15's reply).
#[test]
fn bgrewriteaof_with_nothing_running_starts() {
    let (mut srv, _) = server(true, "");
    assert_eq!(
        run(&mut srv, &["BGREWRITEAOF"]),
        Reply::Status("Background append only file rewriting started".into())
    );
    assert!(srv.stats().rewrite_in_progress && !srv.stats().rewrite_scheduled);
    srv.bgrewriteaof_finish().unwrap();
}

#[test]
fn the_aof_length_is_what_the_incremental_file_holds() {
    // SELECT 0 (23 bytes in RESP) then SET a 1 (27 bytes), written and nothing pending.
    let (mut srv, _) = server(true, "");
    assert_eq!(srv.aof_lengths(), Some((0, 0)));
    run(&mut srv, &["SET", "a", "1"]);
    assert_eq!(srv.aof_lengths(), Some((50, 0)));
    assert_eq!(incr_len(&srv), 50);
    assert_eq!(srv.now_ms(), T0);
    assert_eq!(srv.keyspace().to_dataset(None).keys.len(), 1);
}

#[test]
fn shutdown_saves_only_when_save_rules_are_set() {
    // server.c prepareForShutdown: rdbSave when saveparamslen > 0 (and no NOSAVE).
    let (mut srv, _) = server(true, "");
    run(&mut srv, &["SET", "a", "1"]);
    srv.shutdown().unwrap();
    assert!(!has_file(&srv, "dump.rdb"));
    assert_eq!(srv.stopped(), Some("shut down"));
    let (mut srv, _) = server(true, "3600 1");
    run(&mut srv, &["SET", "a", "1"]);
    srv.shutdown().unwrap();
    assert!(has_file(&srv, "dump.rdb"));
    // prepareForShutdown kills a running BGSAVE child ("There is a child saving an .rdb.
    // Killing it!") and then saves: the job is abandoned, not in the way of the final SAVE.
    let (mut srv, _) = server(true, "3600 1");
    run(&mut srv, &["SET", "a", "1"]);
    run(&mut srv, &["BGSAVE"]);
    srv.shutdown().unwrap();
    assert!(has_file(&srv, "dump.rdb"));
    assert!(!srv.stats().bgsave_in_progress);
}

#[test]
fn config_set_of_a_threshold_governs_the_keys_written_after_it() {
    // t_zset.c zsetTypeCreate: a new sorted set is a listpack only while its size hint is within
    // zset-max-listpack-entries; at 0 even a one-member ZADD creates a skiplist.
    let (mut srv, _) = server(false, "");
    run(&mut srv, &["ZADD", "before", "1", "a"]);
    assert_eq!(
        run(&mut srv, &["OBJECT", "ENCODING", "before"]),
        Reply::bulk(b"listpack")
    );
    assert_eq!(
        run(
            &mut srv,
            &["CONFIG", "SET", "zset-max-listpack-entries", "0"]
        ),
        Reply::Ok
    );
    run(&mut srv, &["ZADD", "after", "1", "a"]);
    assert_eq!(
        run(&mut srv, &["OBJECT", "ENCODING", "after"]),
        Reply::bulk(b"skiplist")
    );
}

#[test]
fn a_save_rule_waits_for_its_seconds() {
    // server.c serverCron: a rule fires once dirty >= changes and more than its seconds have
    // passed since the last save; half-way through them nothing is saved.
    let (mut srv, clock) = server(false, "60 1");
    run(&mut srv, &["SET", "a", "1"]);
    clock.advance(30_000);
    srv.tick();
    assert!(!has_file(&srv, "dump.rdb"));
    clock.advance(31_000);
    srv.tick();
    assert!(has_file(&srv, "dump.rdb"));
}

/// Redis 7.0.15, observed with `rdb-key-save-delay` keeping each job running: BGREWRITEAOF during
/// a BGSAVE is scheduled and starts once the BGSAVE is done (INFO aof_rewrite_scheduled 1, then
/// aof_rewrite_in_progress 1); BGSAVE during a rewrite, and a second BGREWRITEAOF, are refused
/// with these words.
#[test]
fn a_rewrite_asked_for_during_a_bgsave_is_scheduled_and_a_bgsave_during_a_rewrite_refused() {
    let (mut srv, _) = server(true, "");
    run(&mut srv, &["SET", "k", "v"]);
    assert_eq!(
        run(&mut srv, &["BGSAVE"]),
        Reply::Status("Background saving started".into())
    );
    assert!(
        srv.bgrewriteaof_start().is_err(),
        "no rewrite beside a BGSAVE"
    );
    assert_eq!(
        run(&mut srv, &["BGREWRITEAOF"]),
        Reply::Status("Background append only file rewriting scheduled".into())
    );
    let st = srv.stats();
    assert!(st.rewrite_scheduled && !st.rewrite_in_progress);
    assert_eq!(srv.start_scheduled_rewrite(), None, "the BGSAVE still runs");
    srv.bgsave_finish().unwrap();
    assert_eq!(srv.start_scheduled_rewrite(), Some(Ok(())));
    let st = srv.stats();
    assert!(!st.rewrite_scheduled && st.rewrite_in_progress);
    assert_eq!(srv.start_scheduled_rewrite(), None, "started once");
    assert_eq!(
        run(&mut srv, &["BGSAVE"]),
        Reply::Error(
            "ERR Another child process is active (AOF?): can't BGSAVE right now. \
             Use BGSAVE SCHEDULE in order to schedule a BGSAVE whenever possible."
                .into()
        )
    );
    assert_eq!(
        run(&mut srv, &["BGREWRITEAOF"]),
        Reply::Error("ERR Background append only file rewriting already in progress".into())
    );
    srv.bgrewriteaof_finish().unwrap();
}

/// With `auto_finish` (real use), `tick` finishes the BGSAVE and starts the scheduled rewrite.
#[test]
fn tick_starts_the_scheduled_rewrite_once_the_bgsave_is_done() {
    let bases = |srv: &Server<SimDisk, SimClock>| -> Vec<String> {
        let files = srv.storage().files();
        let names = files.iter().map(|(n, _)| n);
        names.filter(|n| n.contains(".base.")).cloned().collect()
    };
    let (mut srv, _) = server(true, "");
    srv.auto_finish = true;
    run(&mut srv, &["SET", "k", "v"]);
    let before = bases(&srv);
    run(&mut srv, &["BGSAVE"]);
    run(&mut srv, &["BGREWRITEAOF"]);
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(20);
    loop {
        let st = srv.stats();
        if !(st.bgsave_in_progress || st.rewrite_scheduled || st.rewrite_in_progress) {
            break;
        }
        assert!(std::time::Instant::now() < deadline, "the jobs move on");
        std::thread::sleep(std::time::Duration::from_millis(5));
        srv.tick();
    }
    assert!(has_file(&srv, "dump.rdb"));
    assert_ne!(bases(&srv), before, "the scheduled rewrite made a new base");
}

/// Redis's serverCron (server.c): a rule fires when `unixtime - lastsave > seconds`, in whole
/// seconds, and a rule of 0 changes fires with none: redis-server 7.0.15 started with
/// `save "1 0"` and given no write saved twice in 3.5 s (INFO rdb_saves 0, then 2).
#[test]
fn a_rule_of_no_changes_saves_every_time_its_seconds_have_passed() {
    let (mut srv, clock) = server(false, "1 0");
    assert_eq!(srv.due_save_rule(srv.now_ms()), None, "no second yet");
    // The last save was at T0 (second T0 / 1000, 250 ms into it).
    clock.advance(1_000);
    assert_eq!(
        srv.due_save_rule(srv.now_ms()),
        None,
        "one whole second: not more"
    );
    clock.advance(750);
    srv.tick();
    assert!(has_file(&srv, "dump.rdb"));
    assert_eq!(srv.stats().save_attempts, 1);
    clock.advance(1_000);
    srv.tick();
    assert_eq!(srv.stats().save_attempts, 1);
    clock.advance(1_000);
    srv.tick();
    assert_eq!(srv.stats().save_attempts, 2);
}

/// server.c: after a failed BGSAVE the rules wait CONFIG_BGSAVE_RETRY_DELAY (5 s) from the last
/// try (`unixtime - lastbgsave_try > 5`) before the next one.
#[test]
fn a_failed_rule_save_is_retried_only_after_five_seconds() {
    let (mut srv, clock) = server(false, "1 1");
    run(&mut srv, &["SET", "a", "1"]);
    clock.advance(2_000);
    srv.storage_mut()
        .fail_next(redis_persist_engine::storage::Op::Rename, 1);
    srv.tick();
    assert_eq!(srv.stats().save_attempts, 1);
    assert!(!srv.stats().last_bgsave_ok);
    clock.advance(5_000);
    srv.tick();
    assert_eq!(srv.stats().save_attempts, 1, "5 s is not more than 5");
    clock.advance(1_000);
    srv.tick();
    assert_eq!(srv.stats().save_attempts, 2);
    assert!(srv.stats().last_bgsave_ok && has_file(&srv, "dump.rdb"));
}

/// serverCron checks the save rules only when no child runs (hasActiveChildProcess): with a
/// BGSAVE or a rewrite running, no rule is due however many changes wait.
#[test]
fn no_save_rule_is_due_while_a_job_runs() {
    let (mut srv, clock) = server(true, "1 1");
    run(&mut srv, &["SET", "a", "1"]);
    clock.advance(5_000);
    assert!(srv.due_save_rule(srv.now_ms()).is_some());
    srv.bgsave_start().unwrap();
    run(&mut srv, &["SET", "b", "2"]);
    assert_eq!(srv.due_save_rule(srv.now_ms()), None, "a BGSAVE runs");
    srv.bgsave_finish().unwrap();
    run(&mut srv, &["SET", "c", "3"]);
    clock.advance(5_000);
    srv.bgrewriteaof_start().unwrap();
    assert_eq!(srv.due_save_rule(srv.now_ms()), None, "a rewrite runs");
    srv.bgrewriteaof_finish().unwrap();
    assert!(srv.due_save_rule(srv.now_ms()).is_some());
}
