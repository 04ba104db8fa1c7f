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
    let src = root.join("prog.c");
    let exe = root.join("prog");
    std::fs::write(&src, PROGRAM).unwrap();
    let cc = Command::new("gcc")
        .arg("-O1")
        .arg("-pthread")
        .arg("-o")
        .arg(&exe)
        .arg(&src)
        .status();
    if !cc.is_ok_and(|s| s.success()) {
        support::missing("gcc");
        return;
    }
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
