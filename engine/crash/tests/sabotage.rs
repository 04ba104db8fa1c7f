//! Our own server under the campaign: each durability sabotage switch is caught (the one that
//! needs a failing disk by the campaign's injected fault), by the same histories that pass with
//! the switch off; clean, it keeps every promise under posix and ordered alike.
mod support;

use redis_persist_crash::campaign::{run, Config, KillMode, Outcome};
use redis_persist_crash::launch::Launch;
use redis_persist_crash::report;
use redis_persist_crash::workload::Policy;
use redis_persist_crash::{Model, Options};
use std::path::Path;
use std::time::Duration;

fn config(bin: &Path, sabotage: Option<&str>, policy: &[Policy], seed: u64, n: usize) -> Config {
    let mut args = Vec::new();
    if let Some(s) = sabotage {
        args = vec!["--sabotage".to_string(), s.to_string()];
    }
    Config {
        launch: Launch {
            program: bin.to_path_buf(),
            env: vec![("REDIS_PERSIST_TEST_MODE".into(), "1".into())],
            name: "redis-persist-server".into(),
            args,
        },
        policies: policy.to_vec(),
        models: vec![Model::Posix, Model::Ordered],
        kill: KillMode::Power,
        histories: n,
        seed,
        jobs: 2,
        time_budget: None,
        shrink_budget: Duration::from_secs(10),
        // Shrinking is covered by campaign.rs; here it would only cost time.
        shrink_max: 0,
        keep: None,
        images: Options {
            torn: 3,
            samples: 3,
            seed: 0,
        },
        work_dir: None,
    }
}

const AHEAD: &str = "the trace's end differs from the directory";

fn campaign(cfg: &Config) -> Outcome {
    let o = run(cfg, &|_| {}).expect("the campaign runs");
    for r in &o.results {
        assert_eq!(r.error, None, "history {} could not be run", r.seed);
        assert_eq!(r.divergences, Vec::<String>::new(), "seed {}", r.seed);
        // A kill timed at a flush often lands between the server's next operation and its
        // record (the README's known gap): the directory is then one operation ahead of the
        // trace, and the images, built from the trace, are a crash just before that operation.
        let odd = r.warnings.iter().filter(|w| !w.starts_with(AHEAD));
        assert_eq!(odd.count(), 0, "seed {}: {:?}", r.seed, r.warnings);
    }
    o
}

fn show(o: &Outcome) -> String {
    let v: Vec<String> = o
        .violations()
        .map(|v| report::text(v, KillMode::Power, "redis-persist crash --server BIN"))
        .collect();
    v.join("\n")
}

/// A switch, the history that exposes it (policy, seed), and what its violation shows: the
/// file-system models it shows under, and a phrase of the report.
struct Case {
    switch: &'static str,
    policy: Policy,
    seed: u64,
    models: &'static [Model],
    shows: &'static str,
}

const CASES: &[Case] = &[
    // Every third fsync is skipped: the last write, acknowledged, is lost with its unsynced bytes.
    Case {
        switch: "skip-fsync-always",
        policy: Policy::Always,
        seed: 13,
        models: &[Model::Posix, Model::Ordered],
        shows: "drops write 43 bytes at 479 of appendonlydir/appendonly.aof.1.incr.aof",
    },
    // A write made while the rewrite runs is missing from the new AOF, even with every byte kept.
    Case {
        switch: "drop-rewrite-writes",
        policy: Policy::Always,
        seed: 9,
        models: &[Model::Posix, Model::Ordered],
        shows: "keeps every operation",
    },
    // The dump is renamed over the old one before its bytes are synced: killed at the first flush
    // of the BGSAVE (the directory's), the new name survives without (all) its content, and the
    // server refuses the file. Only posix shows it: an ordered file system commits the bytes
    // before the rename.
    Case {
        switch: "rename-before-fsync",
        policy: Policy::Rdb,
        seed: 9,
        models: &[Model::Posix],
        shows: "unsynced bytes of dump.rdb",
    },
    // The last write meets a full disk (the recorder fails its append with ENOSPC) and is
    // acknowledged all the same: nothing of it is in the AOF. Redis and Valkey exit instead
    // ("Can't recover from AOF write error"), our server without the switch too.
    Case {
        switch: "ack-before-append",
        policy: Policy::Always,
        seed: 6,
        models: &[Model::Posix, Model::Ordered],
        shows: "with the next write to the data dir failing (ENOSPC)",
    },
];

#[test]
fn each_sabotage_switch_is_caught_by_a_history_that_passes_without_it() {
    let Some(bin) = support::our_server() else {
        return;
    };
    for c in CASES {
        let cfg = config(&bin, Some(c.switch), &[c.policy], c.seed, 1);
        let o = campaign(&cfg);
        let text = show(&o);
        let models: Vec<Model> = o.violations().filter_map(|v| v.fs).collect();
        assert_eq!(models, c.models, "{}: {text}", c.switch);
        assert!(text.contains(c.shows), "{}: {text}", c.switch);
        let clean = campaign(&config(&bin, None, &[c.policy], c.seed, 1));
        assert_eq!(
            clean.violations().count(),
            0,
            "{}: {}",
            c.switch,
            show(&clean)
        );
    }
}

/// Regression (CI failure of stop 20): on a file system where fsync returns at once (tmpfs, as
/// on some CI runners) the driver, polling the trace, killed the server only after the dump's
/// own fsync, and `rename-before-fsync` went unseen. The recorder now stops the server at the
/// awaited flush, so the kill lands in the window however short it is.
#[test]
fn rename_before_fsync_is_caught_where_fsync_is_instant() {
    let Some(bin) = support::our_server() else {
        return;
    };
    // Without a tmpfs the check this test exists for cannot be made: a skip (a failure in CI).
    let shm = Path::new("/dev/shm");
    if !shm.is_dir() {
        support::missing("/dev/shm (a tmpfs, where fsync is instant)");
        return;
    }
    let c = CASES
        .iter()
        .find(|c| c.switch == "rename-before-fsync")
        .expect("the case");
    let mut cfg = config(&bin, Some(c.switch), &[c.policy], c.seed, 1);
    cfg.work_dir = Some(shm.to_path_buf());
    let o = campaign(&cfg);
    let models: Vec<Model> = o.violations().filter_map(|v| v.fs).collect();
    assert_eq!(models, c.models, "{}", show(&o));
}

/// Regression: a violation shrunk to no step at all (only the faulted write of the kill is
/// left) printed a rerun without `--keep`, which reran the whole history.
#[test]
fn a_history_shrunk_to_no_step_reruns_with_an_empty_keep_list() {
    let Some(bin) = support::our_server() else {
        return;
    };
    let mut cfg = config(&bin, Some("ack-before-append"), &[Policy::Always], 6, 1);
    cfg.models = vec![Model::Ordered];
    cfg.shrink_max = 1;
    let o = campaign(&cfg);
    let v = o.violations().next().expect("ack-before-append is caught");
    assert_eq!(v.keep.as_deref(), Some(""), "{}", show(&o));
    let rerun = report::rerun("redis-persist crash --server BIN", v, KillMode::Power);
    assert!(rerun.ends_with("--keep ''"), "{rerun}");
    cfg.keep = Some(Vec::new());
    cfg.shrink_max = 0;
    assert_eq!(campaign(&cfg).violations().count(), 1);
}

#[test]
fn our_server_keeps_every_promise_under_posix_and_ordered() {
    let Some(bin) = support::our_server() else {
        return;
    };
    let cfg = config(&bin, None, &Policy::ALL, 1, 12);
    let o = campaign(&cfg);
    assert_eq!(o.results.len(), 12);
    assert!(o.results.iter().all(|r| r.writes > 0 && r.images > 0));
    assert_eq!(o.violations().count(), 0, "{}", show(&o));
}
