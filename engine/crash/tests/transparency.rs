//! The recorder changes no result: a C program's calls (failing ones included) print the same
//! return values and errno with and without it, and its trace rebuilds what the program left.
mod support;

use redis_persist_crash::{crash_images, final_state, parse, DirState, Model, Options, Recorder};
use std::path::Path;
use std::process::Command;

/// Every interposed call, failing and succeeding, then a fork and two threads appending to one
/// file concurrently (the lock must serialise them without deadlock). Prints `expr = ret errno`.
const PROGRAM: &str = r#"
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/uio.h>
#include <sys/wait.h>
#include <unistd.h>
#define R(e) do { errno = 0; long r_ = (long)(e); printf("%s = %ld errno=%d\n", #e, r_, errno); } while (0)

static int shared;
static void *appender(void *arg) {
    for (int i = 0; i < 300; i++) write(shared, arg, 1);
    fdatasync(shared);
    return NULL;
}

int main(void) {
    R(open("missing", O_RDONLY));
    R(open("missing/x", O_WRONLY | O_CREAT, 0644));
    R(openat(12345, "x", O_RDONLY));
    R(open("/nonexistent-dir/x", O_RDONLY));
    R(mkdir("d", 0755));
    R(mkdir("d", 0755));
    R(rename("nothere", "d"));
    int fd = open("f", O_WRONLY | O_CREAT | O_TRUNC, 0644);
    R(fd);
    R(write(fd, "hello", 5));
    R(pwrite(fd, "J", 1, 0));
    struct iovec v[2] = {{"ab", 2}, {"cd", 2}};
    R(writev(fd, v, 2));
    R(fsync(fd));
    R(fdatasync(fd));
    R(sync_file_range(fd, 0, 0, 0));
    R(ftruncate(fd, 7));
    R(dup2(fd, 100));
    R(write(100, "!", 1));
    R(close(100));
    R(close(fd));
    R(close(fd));
    R(write(fd, "x", 1));
    R(fsync(fd));
    R(rename("f", "d"));
    R(mkdir("d2", 0755));
    R(close(open("d2/g", O_CREAT | O_WRONLY, 0600)));
    R(rename("d", "d2"));
    R(rmdir("d2"));
    R(unlink("missing"));
    R(unlink("d"));
    R(unlinkat(AT_FDCWD, "d2/g", 0));
    R(unlinkat(AT_FDCWD, "d2", AT_REMOVEDIR));
    R(truncate("missing", 0));
    R(truncate("f", 3));
    R(creat("c", 0644));
    R(renameat2(AT_FDCWD, "c", AT_FDCWD, "f", RENAME_NOREPLACE));
    R(renameat(AT_FDCWD, "c", AT_FDCWD, "c2"));
    R(mkdirat(AT_FDCWD, "sub", 0700));
    int dfd = open(".", O_RDONLY);
    R(fsync(dfd));
    R(syncfs(dfd));
    R(openat(dfd, "sub/../rel", O_WRONLY | O_CREAT | O_APPEND, 0644) >= 0);
    FILE *fp = fopen("missing/y", "r");
    printf("fopen missing: %d errno=%d\n", fp == NULL, errno);
    fp = fopen("s.rdb", "w");
    char big[10000];
    memset(big, 'B', sizeof big);
    R(fwrite("stdio", 1, 5, fp));
    R(fwrite(big, 1, sizeof big, fp));
    R(fflush(fp));
    R(fputs("++", fp));
    R(fputc('!', fp));
    R(putc('?', fp));
    R(fsync(fileno(fp)));
    R(fclose(fp));
    fp = fopen("s.rdb", "a");
    R(fwrite("tail", 1, 4, fp));
    R(fclose(fp));
    R(rename("s.rdb", "dump.rdb"));
    shared = open("shared.aof", O_WRONLY | O_CREAT | O_APPEND, 0644);
    pid_t child = fork();
    if (child == 0) {
        appender("c");
        _exit(0);
    }
    pthread_t t1, t2;
    pthread_create(&t1, NULL, appender, "1");
    pthread_create(&t2, NULL, appender, "2");
    pthread_join(t1, NULL);
    pthread_join(t2, NULL);
    int status;
    R(waitpid(child, &status, 0) == child);
    R(close(shared));
    sync();
    return 0;
}
"#;

fn run(exe: &Path, dir: &Path, recorder: Option<(&Recorder, &Path)>) -> String {
    let mut cmd = Command::new(exe);
    cmd.current_dir(dir);
    if let Some((r, trace)) = recorder {
        r.attach(&mut cmd, trace, dir).expect("attach");
    }
    let out = cmd.output().expect("run the program");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).expect("utf-8")
}

#[test]
fn the_recorder_changes_no_result_and_its_trace_rebuilds_the_directory() {
    let root = support::temp_root("transparency");
    let Some(exe) = support::gcc(&root, "prog", PROGRAM, &["-O1", "-pthread"]) else {
        return;
    };
    let (plain, recorded) = (root.join("plain"), root.join("recorded"));
    std::fs::create_dir_all(&plain).unwrap();
    std::fs::create_dir_all(&recorded).unwrap();
    let expected = run(&exe, &plain, None);
    let recorder = Recorder::install(&root).expect("install");
    let trace_path = root.join("trace.bin");
    let got = run(&exe, &recorded, Some((&recorder, &trace_path)));
    assert_eq!(got, expected, "results differ under the recorder");
    assert!(
        expected.contains("errno=2") && expected.contains("errno=21"),
        "{expected}"
    );

    let real = DirState::read(&recorded).unwrap();
    let mut plain_state = DirState::read(&plain).unwrap();
    // Concurrent appends interleave differently from run to run: compare that file by length.
    assert_eq!(real.files["shared.aof"].len(), 900);
    assert_eq!(plain_state.files["shared.aof"].len(), 900);
    plain_state
        .files
        .insert("shared.aof".into(), real.files["shared.aof"].clone());
    assert_eq!(
        real.diff(&plain_state),
        Vec::<String>::new(),
        "the program left the same files"
    );
    let trace = parse(&std::fs::read(&trace_path).unwrap())
        .expect("a finished writer leaves a clean trace");
    assert_eq!(
        final_state(&trace).unwrap().diff(&real),
        Vec::<String>::new()
    );
    for model in [Model::Posix, Model::Ordered] {
        let c = crash_images(&trace, model, &Options::default()).expect("images");
        assert_eq!(c.warnings, Vec::<String>::new());
        // sync() at the end made everything durable: no image may differ from the final state.
        for im in &c.images {
            assert_eq!(
                im.state.diff(&real),
                Vec::<String>::new(),
                "{model:?} {}",
                im.name
            );
        }
    }
    let _ = std::fs::remove_dir_all(&root);
}

/// A parent and its forked child each fsync one file five times, then print and exit.
const FLUSHER: &str = r#"
#include <fcntl.h>
#include <stdio.h>
#include <sys/wait.h>
#include <unistd.h>
static void flush5(const char *name) {
    int fd = open(name, O_WRONLY | O_CREAT | O_APPEND, 0644);
    for (int i = 0; i < 5; i++) { write(fd, "x", 1); fsync(fd); usleep(20000); }
    close(fd);
}
int main(void) {
    pid_t child = fork();
    if (child == 0) { flush5("child"); _exit(0); }
    flush5("parent");
    waitpid(child, NULL, 0);
    puts("finished");
    return 0;
}
"#;

/// Process state letters ('T' stopped) of a process group's members, read from /proc.
fn group_states(pgid: u32) -> Vec<char> {
    let mut out = Vec::new();
    for e in std::fs::read_dir("/proc").unwrap().flatten() {
        let Ok(stat) = std::fs::read_to_string(e.path().join("stat")) else {
            continue;
        };
        // "pid (comm) S ppid pgrp ...": comm may hold spaces, so split after its ')'.
        let Some(rest) = stat.rsplit_once(')').map(|(_, r)| r) else {
            continue;
        };
        let f: Vec<&str> = rest.split_whitespace().collect();
        if f.len() > 2 && f[2] == pgid.to_string() {
            out.push(f[0].chars().next().unwrap_or('?'));
        }
    }
    out
}

#[test]
fn an_armed_stop_file_freezes_the_whole_group_at_that_flush() {
    use std::os::unix::process::CommandExt;
    let root = support::temp_root("stop");
    let Some(exe) = support::gcc(&root, "flusher", FLUSHER, &[]) else {
        return;
    };
    let dir = root.join("data");
    std::fs::create_dir_all(&dir).unwrap();
    let recorder = Recorder::install(&root).expect("install");
    let trace_path = root.join("trace.bin");
    let mut cmd = Command::new(&exe);
    // Its own group: the stop is sent to the caller's group, which must not be the test's.
    cmd.current_dir(&dir)
        .process_group(0)
        .stdout(std::process::Stdio::piped());
    recorder
        .attach(&mut cmd, &trace_path, &dir)
        .expect("attach");
    redis_persist_crash::recorder::arm_stop(&trace_path, 3).expect("arm");
    let mut child = cmd.spawn().expect("spawn");
    let pid = child.id();
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(20);
    let mut states = group_states(pid);
    while !(states.len() == 2 && states.iter().all(|&s| s == 'T')) {
        assert!(
            std::time::Instant::now() < deadline,
            "the group never stopped: {states:?}"
        );
        std::thread::sleep(std::time::Duration::from_millis(5));
        states = group_states(pid);
    }
    // Frozen: the trace holds exactly three completed fsyncs, and stays so.
    let flushes = || {
        let bytes = std::fs::read(&trace_path).unwrap();
        let (t, _) = redis_persist_crash::parse_prefix(&bytes);
        t.records
            .iter()
            .filter(|r| matches!(r.op, redis_persist_crash::trace::Op::SyncEnd { .. }))
            .count()
    };
    assert_eq!(flushes(), 3);
    std::thread::sleep(std::time::Duration::from_millis(100));
    assert_eq!(flushes(), 3, "a stopped group made progress");
    let _ = rustix::process::kill_process_group(
        rustix::process::Pid::from_raw(pid as i32).unwrap(),
        rustix::process::Signal::KILL,
    );
    let status = child.wait().unwrap();
    assert!(!status.success());
    let _ = std::fs::remove_dir_all(&root);
}

/// Three writes to one file, each result printed.
const WRITER: &str = r#"
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <unistd.h>
int main(void) {
    int fd = open("f", O_WRONLY | O_CREAT | O_APPEND, 0644);
    for (int i = 0; i < 3; i++) {
        errno = 0;
        long r = write(fd, "ab", 2);
        printf("%ld %d\n", r, errno);
    }
    return 0;
}
"#;

#[test]
fn an_armed_fault_fails_exactly_one_write_with_enospc_and_the_trace_says_so() {
    let root = support::temp_root("fault");
    let Some(exe) = support::gcc(&root, "writer", WRITER, &[]) else {
        return;
    };
    let dir = root.join("data");
    std::fs::create_dir_all(&dir).unwrap();
    let recorder = Recorder::install(&root).expect("install");
    let trace_path = root.join("trace.bin");
    let mut cmd = Command::new(&exe);
    cmd.current_dir(&dir);
    recorder
        .attach(&mut cmd, &trace_path, &dir)
        .expect("attach");
    use redis_persist_crash::recorder::{arm_fault, fault_fired};
    arm_fault(&trace_path).expect("arm");
    assert!(!fault_fired(&trace_path));
    let out = cmd.output().expect("run");
    // ENOSPC is 28 on Linux; the two later writes go through.
    assert_eq!(String::from_utf8_lossy(&out.stdout), "-1 28\n2 0\n2 0\n");
    assert!(fault_fired(&trace_path));
    assert_eq!(std::fs::read(dir.join("f")).unwrap(), b"abab");
    let trace = parse(&std::fs::read(&trace_path).unwrap()).expect("trace");
    let writes: Vec<i64> = trace
        .records
        .iter()
        .filter(|r| matches!(r.op, redis_persist_crash::trace::Op::Write { .. }))
        .map(|r| r.ret)
        .collect();
    assert_eq!(writes, [-28, 2, 2]);
    assert_eq!(final_state(&trace).unwrap().files["f"], b"abab");
    let _ = std::fs::remove_dir_all(&root);
}
