//! What each writer snapshot case is expected to lose (or have filled in) at each target, listed
//! by hand from the format's history; checks that the writer reports exactly that and decodes.
use redis_persist_engine::dataset::{first_difference, forget_unreported, Dataset};
use redis_persist_engine::format::rdb::{read_dataset, Loss, ReadOptions, Report, Target};
use std::collections::BTreeSet;

/// Which targets an expected loss applies to, by Redis lineage version (Valkey's `VALKEY080`
/// writes what Redis 7.2's RDB 11 does, plus hash field TTLs).
#[derive(Clone, Copy)]
pub enum When {
    /// Targets below this RDB version.
    Below(u32),
    /// Targets at or above this RDB version.
    From(u32),
    /// Targets with no per-field hash TTLs: `REDIS` below 12 (Valkey has its own).
    NoFieldTtls,
}

/// One expected entry of a loss report.
pub struct Expected {
    pub case: &'static str,
    /// The key, or `None` for a dataset-wide part (function libraries).
    pub key: Option<&'static str>,
    /// Lost (`true`) or filled in with the loader's defaults (`false`).
    pub lost: bool,
    /// A phrase the report's description must contain.
    pub what: &'static str,
    pub when: When,
    /// The key is not written at all (the target has no such type).
    pub gone: bool,
}

const fn e(case: &'static str, key: &'static str, what: &'static str, when: When) -> Expected {
    Expected {
        case,
        key: Some(key),
        lost: true,
        what,
        when,
        gone: false,
    }
}

const fn gone(case: &'static str, key: &'static str, what: &'static str, v: u32) -> Expected {
    Expected {
        gone: true,
        ..e(case, key, what, When::Below(v))
    }
}

const fn fill(case: &'static str, key: &'static str, what: &'static str, v: u32) -> Expected {
    Expected {
        lost: false,
        ..e(case, key, what, When::From(v))
    }
}

use When::*;

/// Functions came in RDB 10 (Redis 7.0), IDLE/FREQ in 9, module values in 8, streams in 9 and
/// their counters in 10, consumer active times in 11, hash field TTLs in 12 (Valkey: VALKEY080),
/// key metadata and stream IDMP state in 13, arrays and NACK zones in 14, hash templates in 15.
pub const EXPECTED: &[Expected] = &[
    Expected {
        case: "string-raw",
        key: None,
        lost: true,
        what: "function libraries",
        when: Below(10),
        gone: false,
    },
    e("hash-field-ttl-small", "h", "hash field TTLs", NoFieldTtls),
    e("hash-field-ttl-large", "h", "hash field TTLs", NoFieldTtls),
    gone("stream", "x", "stream (needs RDB 9+)", 9),
    e("stream", "x", "stream metadata", Below(10)),
    e("stream", "x", "consumer active times", Below(11)),
    fill("stream", "x", "IDMP state absent", 13),
    fill("stream", "x", "NACK zones absent", 14),
    gone("module", "m", "module value (RDB 8+)", 8),
    gone("stream-8x", "x", "stream (needs RDB 9+)", 9),
    e("stream-8x", "x", "stream metadata", Below(10)),
    e("stream-8x", "x", "consumer active times", Below(11)),
    e("stream-8x", "x", "NACKed pending entries", Below(14)),
    e("stream-8x", "x", "IDMP state (RDB 13+", Below(13)),
    gone("array", "a", "array (RDB 14+", 14),
    e("key-meta", "k", "key metadata", Below(13)),
    e("hash-template", "h1", "hash template encoding", Below(15)),
    e("hash-template", "h2", "hash template encoding", Below(15)),
    e("lru-lfu", "i", "LRU/LFU metadata", Below(9)),
    e("lru-lfu", "j", "LRU/LFU metadata", Below(9)),
];

/// The Redis lineage version of a target, as this table counts (not the writer's own notion).
fn lineage(t: Target) -> u32 {
    if t.to_string().starts_with("VALKEY") {
        11
    } else {
        t.0.version
    }
}

impl Expected {
    pub fn applies(&self, case: &str, t: Target) -> bool {
        let v = lineage(t);
        let valkey = t.to_string().starts_with("VALKEY");
        self.case == case
            && match self.when {
                Below(n) => v < n,
                From(n) => v >= n,
                NoFieldTtls => !valkey && v < 12,
            }
            // Below RDB 9 the stream is not written, and nothing else of it is reported.
            && !(self.case.starts_with("stream") && !self.gone && v < 9)
    }

    fn matches(&self, l: &Loss, lost: bool) -> bool {
        self.lost == lost
            && l.key.as_deref() == self.key.map(str::as_bytes)
            && l.db == self.key.map(|_| 0)
            && l.what.contains(self.what)
    }
}

/// The expected entries of `case` at `t`.
pub fn expected(case: &str, t: Target) -> Vec<&'static Expected> {
    EXPECTED.iter().filter(|x| x.applies(case, t)).collect()
}

/// Checks that `report` holds exactly the expected entries, each once.
pub fn check(case: &str, t: Target, report: &Report) -> Result<(), String> {
    let want = expected(case, t);
    let got: Vec<(&Loss, bool)> = report
        .lost
        .iter()
        .map(|l| (l, true))
        .chain(report.filled.iter().map(|l| (l, false)))
        .collect();
    let mut problems = Vec::new();
    for x in &want {
        let n = got.iter().filter(|(l, lost)| x.matches(l, *lost)).count();
        if n != 1 {
            problems.push(format!(
                "expected once, reported {n} times: {:?} {}",
                x.key, x.what
            ));
        }
    }
    for (l, lost) in &got {
        if !want.iter().any(|x| x.matches(l, *lost)) {
            let kind = if *lost { "lost" } else { "filled" };
            problems.push(format!("not expected: {kind} {l}"));
        }
    }
    if problems.is_empty() {
        Ok(())
    } else {
        Err(format!("{case} at {t}: {}", problems.join("; ")))
    }
}

/// Decodes `bytes` and compares with `input`, leaving out the keys (and functions) the loss
/// report names; keys of a type the target lacks must be absent.
pub fn decodes_to_input(
    name: &str,
    t: Target,
    input: &Dataset,
    bytes: &[u8],
) -> Result<(), String> {
    let (mut got, _) =
        read_dataset(bytes, ReadOptions::default()).map_err(|e| format!("unreadable: {e}"))?;
    let expected = expected(name, t);
    let named: BTreeSet<&[u8]> = expected
        .iter()
        .filter(|x| x.lost)
        .filter_map(|x| x.key.map(str::as_bytes))
        .collect();
    for x in expected.iter().filter(|x| x.gone) {
        let k = x.key.expect("a key").as_bytes();
        if got.keys.iter().any(|e| e.key == k) {
            return Err(format!("key {k:?} written, but {t} has no such type"));
        }
    }
    let mut want = input.clone();
    if expected.iter().any(|x| x.lost && x.key.is_none()) {
        want.functions.clear();
    }
    want.keys.retain(|e| !named.contains(e.key.as_slice()));
    got.keys.retain(|e| !named.contains(e.key.as_slice()));
    // Filled-in parts are the loader's defaults where the input has none.
    forget_unreported(&want, &mut got);
    match first_difference(&want, &got) {
        None => Ok(()),
        Some(d) => Err(d),
    }
}
