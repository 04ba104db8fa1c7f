//! The ordered model and what both models share, on hand-written traces: the minimum prefix,
//! torn writes, failed and incomplete calls, errors, reproducibility and materialising.
mod support;

use redis_persist_crash::trace::{FdKind, LostReason, Op, SyncKind};
use redis_persist_crash::{crash_images, final_state, DirState, Model, Options};
use support::traces::{file, images, named, save_over, APPEND, T};
/// A new file created, written and fsynced, but its directory never fsynced.
/// Redis's SAVE: write a temp file, fsync it, rename it over dump.rdb.
/// Redis 7.0.15 at startup: mkdir appendonlydir, files in it, fsync of appendonlydir only.
/// A rename across directories has two halves; the target's directory fsync makes the new name
/// durable while the old name may survive too (as Redis 7's rewrite into appendonlydir does).
#[test]
fn ordered_keeps_everything_before_the_last_flush_and_may_tear_the_last_write_after_it() {
    let mut t = T::default();
    t.open("a.aof", 1, APPEND, 0)
        .write(1, 0, b"one;")
        .sync_as(SyncKind::Fdatasync, 1, 4, true);
    t.write(1, 4, b"two;").write(1, 8, b"three;");
    let ordered = images(&t, Model::Ordered);
    assert_eq!(
        file(named(&ordered, "all-unsynced-lost"), "a.aof"),
        Some(&b"one;"[..])
    );
    assert_eq!(
        file(named(&ordered, "all-kept"), "a.aof"),
        Some(&b"one;two;three;"[..])
    );
    let torn: Vec<&[u8]> = ordered
        .iter()
        .filter(|i| i.name.starts_with("torn"))
        .filter_map(|i| file(i, "a.aof"))
        .collect();
    assert!(
        torn.contains(&&b"one;two;thr"[..]) && torn.contains(&&b"one;tw"[..]),
        "{torn:?}"
    );
    for im in &ordered {
        let a = file(im, "a.aof").expect("created before the flush");
        assert!(
            a.starts_with(b"one;") && b"one;two;three;".starts_with(a),
            "{}: {a:?}",
            im.name
        );
    }
}

#[test]
fn sync_file_range_and_unfinished_fsyncs_make_nothing_durable() {
    for (kind, complete) in [(SyncKind::SyncFileRange, true), (SyncKind::Fsync, false)] {
        let mut t = T::default();
        t.open("", 1000, 0, 4096)
            .fsync(1000, 4096)
            .open("x", 1, APPEND, 0)
            .write(1, 0, b"data");
        t.open("", 1000, 0, 4096)
            .fsync(1000, 4096)
            .sync_as(kind, 1, 4, complete);
        let posix = images(&t, Model::Posix);
        assert_eq!(
            file(named(&posix, "all-unsynced-lost"), "x"),
            Some(&b""[..]),
            "{kind:?}"
        );
        let ordered = images(&t, Model::Ordered);
        assert_eq!(
            file(named(&ordered, "all-unsynced-lost"), "x"),
            Some(&b"data"[..]),
            "the dir fsync flushed it"
        );
    }
}

#[test]
fn all_kept_is_the_final_state_and_random_images_are_reproducible() {
    let mut t = T::default();
    save_over(&mut t, false);
    t.mkdir("d")
        .open("d/f", 3, APPEND, 0)
        .write(3, 0, b"xyz")
        .unlink("temp-none")
        .rename("d/f", "g");
    t.records.retain(|r| !matches!(&r.op, Op::Unlink { .. })); // an unlink of nothing would not be recorded as success
    let fin = final_state(&t.trace()).expect("replays");
    for model in [Model::Posix, Model::Ordered] {
        let a = images(&t, model);
        assert_eq!(a[0].name, "all-kept");
        assert_eq!(a[0].state, fin);
        assert_eq!(a, images(&t, model), "same seed, same images");
        let other = crash_images(
            &t.trace(),
            model,
            &Options {
                seed: 99,
                ..Options::default()
            },
        )
        .unwrap();
        assert!(other.images.len() >= 2);
    }
}

#[test]
fn traces_the_replay_cannot_explain_are_errors() {
    let mut t = T::default();
    t.write(5, 0, b"x");
    let e = crash_images(&t.trace(), Model::Posix, &Options::default()).unwrap_err();
    assert_eq!(e.record, 0);
    assert!(e.message.contains("unknown inode"), "{e}");
    let mut t = T::default();
    t.open("never-made", 1, 0o1, 0);
    let e = crash_images(&t.trace(), Model::Ordered, &Options::default()).unwrap_err();
    assert!(e.message.contains("never made"), "{e}");
    let mut t = T::default();
    t.push(
        0,
        Op::Lost {
            reason: LostReason::Reentrant,
            detail: 0,
        },
    );
    assert!(crash_images(&t.trace(), Model::Posix, &Options::default()).is_err());
}

#[test]
fn failed_calls_change_nothing_and_sizes_are_checked() {
    let mut t = T::default();
    t.push(
        -2,
        Op::Open {
            path: "missing".into(),
            ino: 0,
            flags: 0,
            mode: 0,
            size: 0,
            kind: FdKind::Other,
            stdio: false,
        },
    );
    t.push(
        -21,
        Op::Rename {
            from: "a".into(),
            to: "b".into(),
            flags: 0,
        },
    );
    t.open("x", 1, APPEND, 0)
        .sync_as(SyncKind::Fsync, 1, 99, true);
    let c = crash_images(&t.trace(), Model::Posix, &Options::default()).unwrap();
    assert_eq!(
        c.warnings.len(),
        1,
        "fsync saw 99 bytes the trace never wrote: {:?}",
        c.warnings
    );
}

#[test]
fn images_materialise_into_fresh_directories() {
    let mut t = T::default();
    t.mkdir("appendonlydir")
        .open("appendonlydir/a", 1, APPEND, 0)
        .write(1, 0, b"bytes");
    let im = &images(&t, Model::Ordered)[0];
    let dir = std::env::temp_dir().join(format!("crash-images-test-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    im.materialize(&dir).expect("materialises");
    assert_eq!(DirState::read(&dir).unwrap(), im.state);
    assert!(
        im.materialize(&dir).is_err(),
        "refuses a non-empty directory"
    );
    std::fs::remove_dir_all(&dir).unwrap();
}
