//! Real servers (Redis 7.0.15 and 6.2.14) under the recorder, SIGKILLed: the trace rebuilds the
//! directory the kill left byte for byte, and the crash models lose or keep what they should.
mod support;

use redis_persist_crash::{crash_images, final_state, DirState, Image, Model, Options, Trace};
use std::path::Path;
use support::Server;

/// The AOF bytes of `SET key value` as Redis appends them for a client that sent it so.
fn set_bytes(key: &str, value: &str) -> Vec<u8> {
    format!(
        "*3\r\n$3\r\nSET\r\n${}\r\n{key}\r\n${}\r\n{value}\r\n",
        key.len(),
        value.len()
    )
    .into_bytes()
}

fn contains(hay: &[u8], needle: &[u8]) -> bool {
    hay.windows(needle.len()).any(|w| w == needle)
}

fn holds(state: &DirState, needle: &[u8]) -> bool {
    state.files.values().any(|f| contains(f, needle))
}

/// Both models' images; checks what holds for every trace: no warnings, and the all-kept image
/// (and the plain replay) is exactly the directory the kill left.
fn images_checked(trace: &Trace, real: &DirState) -> (Vec<Image>, Vec<Image>) {
    let fin = final_state(trace).expect("the trace replays");
    assert_eq!(
        fin.diff(real),
        Vec::<String>::new(),
        "replay vs the real directory"
    );
    let build = |model| {
        let c = crash_images(trace, model, &Options::default()).expect("images");
        assert_eq!(c.warnings, Vec::<String>::new(), "{model:?}");
        assert_eq!(c.images[0].name, "all-kept");
        assert_eq!(
            c.images[0].state.diff(real),
            Vec::<String>::new(),
            "{model:?} all-kept vs real"
        );
        c.images
    };
    (build(Model::Posix), build(Model::Ordered))
}

fn lost(images: &[Image]) -> &Image {
    images
        .iter()
        .find(|i| i.name == "all-unsynced-lost")
        .expect("all-unsynced-lost")
}

/// SETs with `appendfsync always`, acknowledged, then SIGKILL; returns what the acks promise.
fn acked_sets(bin: &Path, tag: &str) -> (DirState, Trace, Vec<Vec<u8>>) {
    let mut s = Server::start(bin, &support::temp_root(tag));
    let mut acked = Vec::new();
    for i in 0..5 {
        let (k, v) = (format!("key:{i}"), format!("value-{i}"));
        s.ok(&["SET", &k, &v]);
        acked.push(set_bytes(&k, &v));
    }
    let (real, trace) = s.kill();
    (real, trace, acked)
}

#[test]
fn redis_7_acknowledged_sets_vanish_under_posix_because_appendonlydir_is_never_made_durable() {
    let Some(bin) = support::redis_7() else {
        return;
    };
    let (real, trace, acked) = acked_sets(&bin, "r7-sets");
    assert!(real.dirs.contains("appendonlydir"), "{real:?}");
    let (posix, ordered) = images_checked(&trace, &real);
    // 7.0.15 fsyncs appendonlydir but never the dir that holds it, so its mkdir may be lost.
    let l = lost(&posix);
    assert!(
        !l.state.dirs.contains("appendonlydir"),
        "{:?}",
        l.description
    );
    assert!(
        l.state
            .files
            .keys()
            .all(|p| !p.starts_with("appendonlydir/")),
        "{:?}",
        l.state.files.keys()
    );
    assert!(
        l.description
            .iter()
            .any(|d| d.starts_with("drops mkdir appendonlydir")),
        "{:?}",
        l.description
    );
    assert!(
        acked.iter().all(|a| !holds(&l.state, a)),
        "the acknowledged SETs are gone"
    );
    // Under ordered semantics each acknowledged SET was followed by a completed fdatasync.
    for im in &ordered {
        for a in &acked {
            assert!(
                holds(&im.state, a),
                "{} lacks {:?}: {:?}",
                im.name,
                String::from_utf8_lossy(a),
                im.description
            );
        }
    }
}

#[test]
fn redis_6_acknowledged_sets_vanish_under_posix_because_the_dir_is_never_fsynced() {
    let Some(bin) = support::redis_6() else {
        return;
    };
    let (real, trace, acked) = acked_sets(&bin, "r6-sets");
    assert!(real.files.contains_key("appendonly.aof"), "{real:?}");
    let (posix, ordered) = images_checked(&trace, &real);
    let l = lost(&posix);
    assert!(
        !l.state.files.contains_key("appendonly.aof"),
        "{:?}",
        l.description
    );
    assert!(acked.iter().all(|a| !holds(&l.state, a)));
    for im in &ordered {
        assert!(
            acked.iter().all(|a| holds(&im.state, a)),
            "{}: {:?}",
            im.name,
            im.description
        );
    }
}

/// SETs, SAVE, BGSAVE, BGREWRITEAOF, AOF off and on again, everysec, then SIGKILL: forked
/// children write the RDB files through stdio, the parent renames them, a thread fsyncs; all of it
/// must be in the trace.
fn background_jobs(bin: &Path, tag: &str) -> (DirState, Trace) {
    let mut s = Server::start(bin, &support::temp_root(tag));
    for i in 0..20 {
        s.ok(&["SET", &format!("k{i}"), &"v".repeat(i * 50)]);
    }
    s.ok(&["SAVE"]);
    s.ok(&["SET", "after-save", "1"]);
    assert!(matches!(s.cmd(&["BGSAVE"]), support::Reply::Status(_)));
    s.wait_idle();
    assert!(matches!(
        s.cmd(&["BGREWRITEAOF"]),
        support::Reply::Status(_)
    ));
    s.wait_idle();
    s.ok(&["SET", "after-rewrite", "2"]);
    s.ok(&["CONFIG", "SET", "appendonly", "no"]);
    s.ok(&["SET", "aof-off", "3"]);
    s.ok(&["CONFIG", "SET", "appendonly", "yes"]);
    s.wait_idle();
    s.ok(&["SET", "aof-on-again", "4"]);
    // everysec: the bio thread fdatasyncs while the main thread appends.
    s.ok(&["CONFIG", "SET", "appendfsync", "everysec"]);
    for i in 0..5 {
        s.ok(&["SET", &format!("everysec:{i}"), "5"]);
        std::thread::sleep(std::time::Duration::from_millis(300));
    }
    s.kill()
}

fn pids(trace: &Trace) -> usize {
    let mut p: Vec<u32> = trace.records.iter().map(|r| r.pid).collect();
    p.sort_unstable();
    p.dedup();
    p.len()
}

#[test]
fn redis_7_background_save_and_rewrite_are_rebuilt_byte_for_byte() {
    let Some(bin) = support::redis_7() else {
        return;
    };
    let (real, trace) = background_jobs(&bin, "r7-bg");
    assert!(
        real.files.contains_key("dump.rdb") && real.dirs.contains("appendonlydir"),
        "{real:?}"
    );
    assert!(
        pids(&trace) >= 4,
        "parent, BGSAVE, BGREWRITEAOF and the AOF-on rewrite children"
    );
    let (posix, _) = images_checked(&trace, &real);
    // SAVE fsyncs the dir, so appendonlydir's mkdir is durable here; the rewrite's rename of its
    // base into appendonlydir is durable in its target half (appendonlydir is fsynced after it),
    // while the temp names in the dir itself never were.
    let l = lost(&posix);
    assert!(
        l.state.dirs.contains("appendonlydir"),
        "{:?}",
        l.description
    );
    let names: Vec<&String> = l.state.files.keys().collect();
    assert!(
        names
            .iter()
            .any(|k| k.starts_with("appendonlydir/") && k.ends_with(".base.rdb")),
        "{names:?}"
    );
    assert!(names.iter().all(|k| !k.starts_with("temp-")), "{names:?}");
}

#[test]
fn redis_6_background_save_and_rewrite_are_rebuilt_byte_for_byte() {
    let Some(bin) = support::redis_6() else {
        return;
    };
    let (real, trace) = background_jobs(&bin, "r6-bg");
    assert!(
        real.files.contains_key("dump.rdb") && real.files.contains_key("appendonly.aof"),
        "{real:?}"
    );
    assert!(pids(&trace) >= 4);
    let (posix, _) = images_checked(&trace, &real);
    // 6.2.14 renames (dump.rdb, the rewritten AOF) but never fsyncs the directory.
    let l = lost(&posix);
    assert!(l.state.files.is_empty(), "{:?}", l.description);
    assert!(
        l.description
            .iter()
            .any(|d| d.starts_with("drops rename temp-rewriteaof-bg-")),
        "{:?}",
        l.description
    );
}
