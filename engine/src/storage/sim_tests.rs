//! The simulated disk's durability rules, each stated as what a crash must and must not keep.
use super::*;

fn disk_with(path: &str, synced: &[u8], unsynced: &[u8]) -> SimDisk {
    let mut d = SimDisk::new();
    if let Some((dir, _)) = path.split_once('/') {
        d.mkdir(dir).unwrap();
        d.fsync_dir("").unwrap();
    }
    d.create(path).unwrap();
    d.append(path, synced).unwrap();
    d.fsync(path).unwrap();
    d.fsync_dir(parent(path)).unwrap();
    d.append(path, unsynced).unwrap();
    d
}

#[test]
fn fsynced_bytes_survive_and_unsynced_ones_may_not() {
    let d = disk_with("appendonlydir/a.aof", b"synced;", b"later");
    assert_eq!(d.read("appendonlydir/a.aof").unwrap(), b"synced;later");
    let lost = d.crash(CrashImage::LoseUnsynced);
    assert_eq!(lost.read("appendonlydir/a.aof").unwrap(), b"synced;");
    let kept = d.crash(CrashImage::KeepWritten);
    assert_eq!(kept.read("appendonlydir/a.aof").unwrap(), b"synced;later");
}

#[test]
fn a_torn_crash_keeps_a_prefix_of_the_unsynced_suffix_and_every_length_occurs() {
    let d = disk_with("f", b"abc", b"0123456789");
    let mut seen = std::collections::BTreeSet::new();
    for seed in 0..400 {
        let got = d.crash(CrashImage::Torn { seed }).read("f").unwrap();
        assert!(got.starts_with(b"abc"), "lost synced bytes: {got:?}");
        assert!(b"abc0123456789".starts_with(&got), "not a prefix: {got:?}");
        seen.insert(got.len());
    }
    assert_eq!(seen.len(), 11, "cut points reached: {seen:?}");
}

#[test]
fn a_created_file_needs_its_directory_fsynced_to_survive() {
    let mut d = SimDisk::new();
    d.create("dump.rdb").unwrap();
    d.append("dump.rdb", b"x").unwrap();
    d.fsync("dump.rdb").unwrap();
    assert!(!d.crash(CrashImage::LoseUnsynced).exists("dump.rdb"));
    d.fsync_dir("").unwrap();
    assert_eq!(
        d.crash(CrashImage::LoseUnsynced).read("dump.rdb").unwrap(),
        b"x"
    );
}

#[test]
fn a_rename_before_fsync_can_leave_an_empty_file_under_the_new_name() {
    // The bug Redis avoids by fsyncing the temp file before renaming it over the dump.
    let mut d = disk_with("dump.rdb", b"old snapshot", b"");
    d.create("temp.rdb").unwrap();
    d.append("temp.rdb", b"new snapshot").unwrap();
    d.rename("temp.rdb", "dump.rdb").unwrap();
    d.fsync_dir("").unwrap();
    let after = d.crash(CrashImage::LoseUnsynced);
    assert_eq!(after.read("dump.rdb").unwrap(), b"");
    assert!(!after.exists("temp.rdb"));
}

#[test]
fn an_unsynced_rename_reverts_and_the_old_file_stays() {
    let mut d = disk_with("dump.rdb", b"old", b"");
    d.create("temp.rdb").unwrap();
    d.append("temp.rdb", b"new").unwrap();
    d.fsync("temp.rdb").unwrap();
    d.rename("temp.rdb", "dump.rdb").unwrap();
    assert_eq!(d.read("dump.rdb").unwrap(), b"new");
    let lost = d.crash(CrashImage::LoseUnsynced);
    assert_eq!(lost.read("dump.rdb").unwrap(), b"old");
    let kept = d.crash(CrashImage::KeepWritten);
    assert_eq!(kept.read("dump.rdb").unwrap(), b"new");
    assert!(!kept.exists("temp.rdb"));
}

#[test]
fn a_directory_not_made_durable_takes_its_files_with_it() {
    let mut d = SimDisk::new();
    d.mkdir("appendonlydir").unwrap();
    d.create("appendonlydir/m").unwrap();
    d.fsync("appendonlydir/m").unwrap();
    d.fsync_dir("appendonlydir").unwrap();
    let lost = d.crash(CrashImage::LoseUnsynced);
    assert!(lost.list("appendonlydir").is_err());
    assert!(lost.files().is_empty());
}

#[test]
fn injected_faults_hit_exactly_the_nth_operation_of_their_kind() {
    let mut d = disk_with("f", b"", b"");
    d.fail_next(Op::Write, 2);
    d.fail_next(Op::Rename, 1);
    d.append("f", b"one;").unwrap();
    let e = d.append("f", b"twotwo").unwrap_err();
    assert!(e.to_string().contains("injected"), "{e}");
    // A short write: half of the failed append's bytes reached the file.
    assert_eq!(d.read("f").unwrap(), b"one;two");
    d.append("f", b"three").unwrap();
    assert!(d.rename("f", "g").is_err());
    assert!(d.exists("f") && !d.exists("g"));
    d.rename("f", "g").unwrap();
    d.fail_next(Op::Fsync, 1);
    assert!(d.fsync("g").is_err());
    d.fsync("g").unwrap();
    // Writes: two in disk_with, then one;, twotwo, three. Fsyncs: two in disk_with, then two.
    assert_eq!(d.op_counts(), [5, 4, 2]);
}

#[test]
fn after_a_crash_everything_present_is_durable() {
    let d = disk_with("f", b"a", b"b");
    let once = d.crash(CrashImage::KeepWritten);
    let twice = once.crash(CrashImage::LoseUnsynced);
    assert_eq!(twice.read("f").unwrap(), b"ab");
    assert_eq!(twice.durable("f"), Some(&b"ab"[..]));
}
