//! The crash-image builder on hand-written traces: what each model may lose (a name whose
//! directory was never fsynced, bytes after the last fsync) and what it must keep.
use redis_persist_crash::trace::{FdKind, Op, Record, SyncKind};
use redis_persist_crash::{crash_images, final_state, DirState, Image, Model, Options, Trace};

/// Builds traces the way the recorder writes them, one call at a time.
#[derive(Default)]
struct T {
    records: Vec<Record>,
    token: u64,
}

const CREATE: u32 = 0o1101; // O_WRONLY|O_CREAT|O_TRUNC
const APPEND: u32 = 0o2101; // O_WRONLY|O_CREAT|O_APPEND

impl T {
    fn push(&mut self, ret: i64, op: Op) -> &mut T {
        self.records.push(Record { pid: 1, ret, op });
        self
    }
    fn init_file(&mut self, path: &str, data: &[u8]) -> &mut T {
        self.push(
            0,
            Op::InitFile {
                path: path.into(),
                data: data.to_vec(),
            },
        )
    }
    fn open(&mut self, path: &str, ino: u64, flags: u32, size: u64) -> &mut T {
        let kind = if ino >= 1000 {
            FdKind::Dir
        } else {
            FdKind::File
        };
        self.push(
            3,
            Op::Open {
                path: path.into(),
                ino,
                flags,
                mode: 0o644,
                size,
                kind,
                stdio: false,
            },
        )
    }
    fn write(&mut self, ino: u64, offset: u64, data: &[u8]) -> &mut T {
        self.push(
            data.len() as i64,
            Op::Write {
                ino,
                offset,
                data: data.to_vec(),
                from_stdio: false,
            },
        )
    }
    fn sync_as(&mut self, kind: SyncKind, ino: u64, size: u64, complete: bool) -> &mut T {
        self.token += 1;
        let token = self.token;
        self.push(
            0,
            Op::SyncBegin {
                kind,
                ino,
                token,
                size,
            },
        );
        if complete {
            self.push(0, Op::SyncEnd { kind, ino, token });
        }
        self
    }
    fn fsync(&mut self, ino: u64, size: u64) -> &mut T {
        self.sync_as(SyncKind::Fsync, ino, size, true)
    }
    fn rename(&mut self, from: &str, to: &str) -> &mut T {
        self.push(
            0,
            Op::Rename {
                from: from.into(),
                to: to.into(),
                flags: 0,
            },
        )
    }
    fn mkdir(&mut self, path: &str) -> &mut T {
        self.push(
            0,
            Op::Mkdir {
                path: path.into(),
                mode: 0o755,
            },
        )
    }
    fn unlink(&mut self, path: &str) -> &mut T {
        self.push(
            0,
            Op::Unlink {
                path: path.into(),
                flags: 0,
            },
        )
    }
    fn trace(&self) -> Trace {
        Trace {
            records: self.records.clone(),
        }
    }
}

fn images(t: &T, model: Model) -> Vec<Image> {
    let c = crash_images(&t.trace(), model, &Options::default()).expect("builds");
    assert_eq!(c.warnings, Vec::<String>::new());
    c.images
}

fn named<'a>(images: &'a [Image], name: &str) -> &'a Image {
    images
        .iter()
        .find(|i| i.name == name)
        .unwrap_or_else(|| panic!("no image {name}"))
}

fn file<'a>(im: &'a Image, path: &str) -> Option<&'a [u8]> {
    im.state.files.get(path).map(Vec::as_slice)
}

/// A new file created, written and fsynced, but its directory never fsynced.
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

/// Redis's SAVE: write a temp file, fsync it, rename it over dump.rdb.
fn save_over(t: &mut T, dir_fsync: bool) {
    t.init_file("dump.rdb", b"old");
    t.open("temp-1.rdb", 2, CREATE, 0)
        .write(2, 0, b"new!")
        .fsync(2, 4)
        .rename("temp-1.rdb", "dump.rdb");
    if dir_fsync {
        t.open("", 1000, 0, 4096).fsync(1000, 4096);
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

/// Redis 7.0.15 at startup: mkdir appendonlydir, files in it, fsync of appendonlydir only.
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

/// A rename across directories has two halves; the target's directory fsync makes the new name
/// durable while the old name may survive too (as Redis 7's rewrite into appendonlydir does).
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
            reason: redis_persist_crash::trace::LostReason::Reentrant,
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
