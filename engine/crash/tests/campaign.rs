//! The driver, judge and shrinker against real servers: Redis 7.0.15 keeps every promise on an
//! ordered file system and breaks them under posix (appendonlydir's mkdir is never made durable);
//! Redis 6.2.14 loses the AOF's creation and renames (no directory fsync); a server whose fsync
//! does nothing loses acknowledged writes even on an ordered file system.
mod support;

use redis_persist_crash::campaign::{run, Config, KillMode, Outcome, Violation};
use redis_persist_crash::launch::Launch;
use redis_persist_crash::report;
use redis_persist_crash::workload::Policy;
use redis_persist_crash::{Model, Options};
use redis_persist_engine::live::ServerBuild;
use std::path::Path;
use std::process::Command;
use std::time::Duration;

fn config(bin: &Path, policies: &[Policy], model: Model, histories: usize, seed: u64) -> Config {
    let build = ServerBuild::from_binary(bin).expect("a server build");
    Config {
        launch: Launch::from_build(&build),
        policies: policies.to_vec(),
        models: vec![model],
        kill: KillMode::Power,
        histories,
        seed,
        jobs: 2,
        time_budget: None,
        shrink_budget: Duration::from_secs(20),
        shrink_max: 2,
        keep: None,
        images: Options {
            torn: 3,
            samples: 3,
            seed: 0,
        },
        work_dir: None,
    }
}

fn campaign(cfg: &Config) -> Outcome {
    let o = run(cfg, &|_| {}).expect("the campaign runs");
    for r in &o.results {
        assert_eq!(r.error, None, "history {} could not be run", r.seed);
        assert_eq!(r.divergences, Vec::<String>::new(), "seed {}", r.seed);
        assert_eq!(r.warnings, Vec::<String>::new(), "seed {}", r.seed);
    }
    o
}

fn show(o: &Outcome, kill: KillMode) -> String {
    let v: Vec<String> = o
        .violations()
        .map(|v| report::text(v, kill, "redis-persist crash --server BIN"))
        .collect();
    v.join("\n")
}

/// A violation that lost acknowledged writes and whose image says it dropped `what`.
fn lost_by<'a>(o: &'a Outcome, what: &[&str]) -> Option<&'a Violation> {
    o.violations().find(|v| {
        v.finding.lost > 0
            && v.image_description
                .iter()
                .any(|d| what.iter().any(|w| d.starts_with(w)))
    })
}

#[test]
fn redis_7_keeps_every_promise_on_an_ordered_file_system() {
    let Some(bin) = support::redis_7() else {
        return;
    };
    let cfg = config(&bin, &Policy::ALL, Model::Ordered, 8, 100);
    let o = campaign(&cfg);
    assert_eq!(o.results.len(), 8);
    assert!(o.results.iter().all(|r| r.writes > 0 && r.images > 0));
    assert_eq!(o.violations().count(), 0, "{}", show(&o, cfg.kill));
}

#[test]
fn redis_7_keeps_every_acknowledged_write_across_a_process_kill() {
    let Some(bin) = support::redis_7() else {
        return;
    };
    let mut cfg = config(&bin, &Policy::ALL, Model::Ordered, 4, 500);
    cfg.kill = KillMode::Process;
    let o = campaign(&cfg);
    assert!(o.results.iter().all(|r| r.images == 1));
    assert_eq!(o.violations().count(), 0, "{}", show(&o, cfg.kill));
}

#[test]
fn redis_7_under_posix_loses_acknowledged_writes_with_the_appendonlydir_mkdir() {
    let Some(bin) = support::redis_7() else {
        return;
    };
    let cfg = config(&bin, &[Policy::Always], Model::Posix, 1, 13);
    let o = campaign(&cfg);
    let text = show(&o, cfg.kill);
    let v = lost_by(&o, &["drops mkdir appendonlydir"]).unwrap_or_else(|| panic!("{text}"));
    // Shrunk: the generated history had 11 steps; the rerun names the kept ones.
    assert!(v.history.len() - 1 < v.original_steps, "{text}");
    let rerun = report::rerun("redis-persist crash --server BIN", v, cfg.kill);
    assert!(
        rerun.contains("--seed 13 --histories 1 --policy always --kill power --fs posix"),
        "{rerun}"
    );
    assert!(v.finding.difference.contains("missing db 0 key"), "{text}");
}

#[test]
fn redis_6_under_posix_loses_a_created_or_renamed_aof_without_a_directory_fsync() {
    let Some(bin) = support::redis_6() else {
        return;
    };
    let cfg = config(&bin, &[Policy::Always], Model::Posix, 2, 304);
    let o = campaign(&cfg);
    let text = show(&o, cfg.kill);
    let v = lost_by(
        &o,
        &[
            "drops create appendonly.aof (the dir itself never fsynced after it)",
            "drops rename temp-rewriteaof-bg-",
        ],
    );
    assert!(v.is_some(), "{text}");
}

/// A preload library whose fsync and fdatasync succeed without syncing, and a wrapper script
/// that puts it first in LD_PRELOAD (ahead of the recorder) before running the real server.
fn no_fsync_wrapper(bin: &Path, dir: &Path) -> Option<std::path::PathBuf> {
    let source =
        "int fsync(int fd) { (void)fd; return 0; }\nint fdatasync(int fd) { (void)fd; return 0; }\n";
    let so = support::gcc(dir, "libnofsync.so", source, &["-shared", "-fPIC", "-O2"])?;
    let wrapper = dir.join("redis-server-nofsync");
    let script = format!(
        "#!/bin/sh\nLD_PRELOAD={}${{LD_PRELOAD:+:$LD_PRELOAD}}\nexport LD_PRELOAD\nexec {} \"$@\"\n",
        so.display(),
        bin.display()
    );
    std::fs::write(&wrapper, script).expect("write wrapper");
    let chmod = Command::new("chmod").arg("+x").arg(&wrapper).status();
    assert!(chmod.is_ok_and(|s| s.success()));
    Some(wrapper)
}

#[test]
fn a_server_whose_fsync_does_nothing_loses_acknowledged_writes_under_always_and_ordered() {
    let Some(bin) = support::redis_7() else {
        return;
    };
    let dir = support::temp_root("nofsync");
    let Some(wrapper) = no_fsync_wrapper(&bin, &dir) else {
        return;
    };
    let cfg = config(&wrapper, &[Policy::Always], Model::Ordered, 1, 13);
    let o = campaign(&cfg);
    let text = show(&o, cfg.kill);
    let v = o.violations().next().unwrap_or_else(|| panic!("{text}"));
    assert!(v.finding.lost > 0, "{text}");
    assert!(v.finding.expected.contains("the AOF"), "{text}");
    let _ = std::fs::remove_dir_all(&dir);
}
