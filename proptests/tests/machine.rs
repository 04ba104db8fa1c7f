//! Random histories through the persisting engine and the model (see `proptests::machine`), and
//! proof that the suite has teeth: each deliberately broken variant is caught and shrunk.
//! `PROPTEST_CASES` scales the clean run (default 64 histories of up to 40 steps).
use proptest::prelude::*;
use proptest::test_runner::{Config, TestCaseError, TestError, TestRunner};
use proptests::machine::{run, Cmd, Setting, Step};
use redis_persist_engine::persist::Sabotage;

fn cmd() -> impl Strategy<Value = Cmd> {
    let k = 0u8..3;
    let v = 0u8..5;
    prop_oneof![
        (k.clone(), v.clone(), proptest::option::of(0u16..3000))
            .prop_map(|(k, v, t)| Cmd::Set(k, v, t)),
        k.clone().prop_map(Cmd::Incr),
        (k.clone(), v.clone()).prop_map(|(k, v)| Cmd::Append(k, v)),
        k.clone().prop_map(Cmd::Del),
        (k.clone(), v.clone()).prop_map(|(k, v)| Cmd::Rpush(k, v)),
        k.clone().prop_map(Cmd::Lpop),
        (k.clone(), v.clone()).prop_map(|(k, v)| Cmd::Sadd(k, v)),
        (k.clone(), v.clone()).prop_map(|(k, v)| Cmd::Srem(k, v)),
        (k.clone(), v.clone(), v.clone()).prop_map(|(k, f, v)| Cmd::Hset(k, f, v)),
        (k.clone(), v.clone()).prop_map(|(k, f)| Cmd::Hdel(k, f)),
        (k.clone(), -3i8..4, v.clone()).prop_map(|(k, s, m)| Cmd::Zadd(k, s, m)),
        (k.clone(), v.clone()).prop_map(|(k, m)| Cmd::Zrem(k, m)),
        (k.clone(), 0u8..6).prop_map(|(k, s)| Cmd::Expire(k, s)),
        k.clone().prop_map(Cmd::Persist),
        k.prop_map(Cmd::Get),
        Just(Cmd::Flushdb),
    ]
}

fn step() -> impl Strategy<Value = Step> {
    prop_oneof![
        12 => cmd().prop_map(Step::Cmd),
        2 => proptest::collection::vec(cmd(), 1..4).prop_map(Step::Multi),
        1 => any::<bool>().prop_map(Step::Select),
        1 => Just(Step::Save),
        1 => Just(Step::BgsaveStart),
        1 => Just(Step::BgsaveFinish),
        1 => Just(Step::RewriteStart),
        1 => Just(Step::RewriteFinish),
        3 => (0u16..4000).prop_map(Step::Tick),
        2 => prop_oneof![
            (0u8..3).prop_map(Setting::Fsync),
            any::<bool>().prop_map(Setting::Appendonly),
            any::<bool>().prop_map(Setting::Preamble),
            any::<bool>().prop_map(Setting::SaveRules),
            any::<bool>().prop_map(Setting::ZsetEntries),
        ].prop_map(Step::Config),
        1 => (0u8..3, 0u8..3).prop_map(|(o, n)| Step::FailNext(o, n)),
        3 => any::<u8>().prop_map(Step::Crash),
        1 => Just(Step::Restart),
    ]
}

fn history() -> impl Strategy<Value = Vec<Step>> {
    proptest::collection::vec(step(), 1..40)
}

fn cases(default: u32) -> u32 {
    std::env::var("PROPTEST_CASES")
        .ok()
        .and_then(|c| c.parse().ok())
        .unwrap_or(default)
}

/// Runs the machine with `sabotage` until the budget is spent; `Err` carries the shrunk failure
/// and the number of cases it took to find it.
fn hunt(sabotage: Sabotage, budget: u32) -> Result<(), (String, u32, Vec<Step>)> {
    let mut runner = TestRunner::new(Config {
        cases: budget,
        failure_persistence: None,
        ..Config::default()
    });
    let tried = std::cell::Cell::new(0u32);
    let found = std::cell::Cell::new(0u32);
    let r = runner.run(&history(), |steps| {
        tried.set(tried.get() + 1);
        run(&steps, sabotage).map_err(|e| {
            if found.get() == 0 {
                found.set(tried.get());
            }
            TestCaseError::fail(e)
        })
    });
    match r {
        Ok(()) => Ok(()),
        Err(TestError::Fail(why, steps)) => Err((why.to_string(), found.get(), steps)),
        Err(e) => Err((e.to_string(), found.get(), Vec::new())),
    }
}

#[test]
fn the_engine_keeps_every_promise_the_model_makes() {
    if let Err((why, _, _)) = hunt(Sabotage::default(), cases(64)) {
        panic!("{why}");
    }
}

fn must_catch(name: &str, sabotage: Sabotage) {
    match hunt(sabotage, 2_000) {
        Ok(()) => panic!("{name}: 2000 histories passed with the bug in place"),
        Err((why, n, steps)) => {
            // The reproducer must fail because of the bug: without it, the same steps pass.
            if let Err(e) = run(&steps, Sabotage::default()) {
                panic!("{name}: the reproducer fails without the bug too:\n{e}");
            }
            eprintln!(
                "{name}: caught after {n} case(s); shrunk to {} step(s):\n{why}\n",
                steps.len()
            );
        }
    }
}

#[test]
fn a_skipped_fsync_under_always_is_caught() {
    must_catch(
        "skip_fsync_always",
        Sabotage {
            skip_fsync_always: true,
            ..Sabotage::default()
        },
    );
}

#[test]
fn renaming_the_dump_before_its_fsync_is_caught() {
    must_catch(
        "rename_before_fsync",
        Sabotage {
            rename_before_fsync: true,
            ..Sabotage::default()
        },
    );
}

#[test]
fn dropping_writes_made_during_a_rewrite_is_caught() {
    must_catch(
        "drop_rewrite_writes",
        Sabotage {
            drop_rewrite_writes: true,
            ..Sabotage::default()
        },
    );
}

#[test]
fn acknowledging_before_appending_is_caught() {
    must_catch(
        "ack_before_append",
        Sabotage {
            ack_before_append: true,
            ..Sabotage::default()
        },
    );
}

/// The fuzz target's check on fixed inputs (the same patterns `fuzz/seed.sh engine_model` seeds).
#[test]
fn the_fuzz_entry_accepts_its_seed_patterns() {
    for i in [1u32, 2, 3, 5, 7, 11, 13, 17] {
        let data: Vec<u8> = (0..600u32).map(|j| ((j * i + j / 7) % 256) as u8).collect();
        proptests::machine::engine_agrees_with_model(&data);
    }
}
