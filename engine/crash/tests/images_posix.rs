//! The posix model on hand-written traces: what a power loss may take when a name's directory
//! was never fsynced after it, or bytes came after a file's last fsync.
mod support;

use redis_persist_crash::trace::{Op, SyncKind};
use redis_persist_crash::{DirState, Model};
use support::traces::{file, images, named, save_over, APPEND, T};

fn created_not_dir_synced() -> T {
    let mut t = T::default();
    t.open("appendonly.aof", 1, APPEND, 0)
        .write(1, 0, b"*1\r\n$4\r\nPING\r\n")
        .fsync(1, 14);
    t
}

#[test]
fn a_file_whose_directory_was_never_fsynced_may_vanish_under_posix_only() {
    let t = created_not_dir_synced();
    let posix = images(&t, Model::Posix);
    assert_eq!(
        file(named(&posix, "all-kept"), "appendonly.aof"),
        Some(&b"*1\r\n$4\r\nPING\r\n"[..])
    );
    let lost = named(&posix, "all-unsynced-lost");
    assert_eq!(lost.state, DirState::default(), "{:?}", lost.description);
    assert!(
        lost.description
            .iter()
            .any(|d| d.contains("drops create appendonly.aof")),
        "{:?}",
        lost.description
    );
    for im in images(&t, Model::Ordered) {
        assert_eq!(
            file(&im, "appendonly.aof"),
            Some(&b"*1\r\n$4\r\nPING\r\n"[..]),
            "{}",
            im.name
        );
    }
}

#[test]
fn a_directory_fsync_makes_the_name_durable() {
    let mut t = created_not_dir_synced();
    t.open("", 1000, 0, 4096).fsync(1000, 4096);
    for im in images(&t, Model::Posix) {
        assert_eq!(
            file(&im, "appendonly.aof"),
            Some(&b"*1\r\n$4\r\nPING\r\n"[..]),
            "{}",
            im.name
        );
    }
}

#[test]
fn a_rename_without_directory_fsync_may_be_lost_under_posix() {
    let mut t = T::default();
    save_over(&mut t, false);
    let posix = images(&t, Model::Posix);
    let lost = named(&posix, "all-unsynced-lost");
    assert_eq!(file(lost, "dump.rdb"), Some(&b"old"[..]));
    assert_eq!(
        lost.state.files.len(),
        1,
        "the temp file's name was never durable either"
    );
    assert_eq!(
        file(named(&posix, "all-kept"), "dump.rdb"),
        Some(&b"new!"[..])
    );
    // The rename came after the last fsync began: ordered may lose it too, but never tear dump.rdb.
    for im in images(&t, Model::Ordered) {
        let d = file(&im, "dump.rdb").expect("dump.rdb always exists");
        assert!(d == b"old" || d == b"new!", "{}: {d:?}", im.name);
    }
    let mut t = T::default();
    save_over(&mut t, true);
    for model in [Model::Posix, Model::Ordered] {
        for im in images(&t, model) {
            assert_eq!(
                file(&im, "dump.rdb"),
                Some(&b"new!"[..]),
                "{model:?} {}",
                im.name
            );
            assert_eq!(im.state.files.len(), 1);
        }
    }
}

#[test]
fn a_directory_made_without_fsync_of_its_parent_may_vanish_with_everything_in_it() {
    let mut t = T::default();
    t.mkdir("appendonlydir")
        .open("appendonlydir/appendonly.aof.1.incr.aof", 1, APPEND, 0);
    t.open("appendonlydir", 1001, 0, 4096).fsync(1001, 4096);
    t.write(1, 0, b"*1\r\n$3\r\nSET\r\n")
        .sync_as(SyncKind::Fdatasync, 1, 13, true);
    let posix = images(&t, Model::Posix);
    let lost = named(&posix, "all-unsynced-lost");
    assert!(
        lost.state.dirs.is_empty() && lost.state.files.is_empty(),
        "{lost:?}"
    );
    assert!(lost
        .description
        .iter()
        .any(|d| d.starts_with("drops mkdir appendonlydir (the dir itself never fsynced")));
    for im in images(&t, Model::Ordered) {
        assert!(im.state.dirs.contains("appendonlydir"), "{}", im.name);
        assert_eq!(
            file(&im, "appendonlydir/appendonly.aof.1.incr.aof"),
            Some(&b"*1\r\n$3\r\nSET\r\n"[..])
        );
    }
}

#[test]
fn a_cross_directory_rename_is_durable_half_by_half() {
    let mut t = T::default();
    t.push(
        0,
        Op::InitDir {
            path: "appendonlydir".into(),
        },
    )
    .init_file("temp-bg.aof", b"base");
    t.rename("temp-bg.aof", "appendonlydir/base.rdb")
        .open("appendonlydir", 1001, 0, 4096)
        .fsync(1001, 4096);
    let lost = named(&images(&t, Model::Posix), "all-unsynced-lost").clone();
    assert_eq!(file(&lost, "appendonlydir/base.rdb"), Some(&b"base"[..]));
    assert_eq!(
        file(&lost, "temp-bg.aof"),
        Some(&b"base"[..]),
        "{:?}",
        lost.description
    );
    assert!(lost
        .description
        .iter()
        .any(|d| d.starts_with("keeps temp-bg.aof as well as appendonlydir/base.rdb")));
}

#[test]
fn unsynced_appended_bytes_survive_in_any_prefix_under_posix() {
    let mut t = T::default();
    t.open("a.aof", 1, APPEND, 0)
        .write(1, 0, b"synced")
        .fsync(1, 6)
        .write(1, 6, b"0123456789");
    t.open("", 1000, 0, 4096).fsync(1000, 4096);
    let posix = images(&t, Model::Posix);
    assert_eq!(
        file(named(&posix, "all-unsynced-lost"), "a.aof"),
        Some(&b"synced"[..])
    );
    let torn = named(&posix, "torn-1");
    assert_eq!(file(torn, "a.aof"), Some(&b"synced01234"[..]));
    assert_eq!(
        torn.description,
        vec!["keeps 5 of 10 unsynced bytes of a.aof".to_string()]
    );
    for im in &posix {
        let a = file(im, "a.aof").expect("the name is durable");
        assert!(
            a.starts_with(b"synced") && b"synced0123456789".starts_with(a),
            "{}: {a:?}",
            im.name
        );
    }
}

#[test]
fn an_overwrite_after_fsync_reverts_whole_under_posix() {
    let mut t = T::default();
    t.init_file("m", b"abcdef")
        .open("m", 1, 0o1001, 0)
        .write(1, 0, b"XY");
    let lost = named(&images(&t, Model::Posix), "all-unsynced-lost").clone();
    assert_eq!(
        file(&lost, "m"),
        Some(&b"abcdef"[..]),
        "O_TRUNC and the rewrite are unsynced"
    );
    assert!(
        lost.description
            .iter()
            .any(|d| d == "reverts m to its last fsync (6 bytes)"),
        "{:?}",
        lost.description
    );
}
