//! Judging a crash image: restart the server on a copy of it, read its dataset back over RESP,
//! and check that it is one of the states the model allows (`durability::Durability`).
//!
//! The model's states are converted to the engine's `Dataset`, so a violation is reported with
//! `dataset::first_difference` against the promised state.
use crate::image::DirState;
use crate::launch::{Launch, Proc, StartConfig};
use redis_persist_engine::dataset::{
    first_difference, Dataset, Entry, HashField, Stream, StreamEntry, StreamId, Value, ZsetMember,
};
use redis_persist_engine::live::{all_nonempty_dbs, read_dataset, Client};
use redis_persist_model::durability::Durability;
use redis_persist_model::{Keyspace, Value as M};
use std::path::Path;

/// The model's state as the engine's dataset (canonical order).
pub fn dataset_of(k: &Keyspace) -> Dataset {
    let mut ds = Dataset::default();
    for ((db, key), (value, expire_ms)) in k.snapshot(0) {
        let value = match value {
            M::String(b) => Value::String(b),
            M::List(l) => Value::List(l.into_iter().collect()),
            M::Set(s) => Value::Set(s.into_iter().collect()),
            M::Hash(h) => Value::Hash(
                h.into_iter()
                    .map(|(field, (value, expire_ms))| HashField {
                        field,
                        value,
                        expire_ms,
                    })
                    .collect(),
            ),
            M::Zset(z) => Value::Zset(
                z.into_iter()
                    .map(|(member, score)| ZsetMember { member, score })
                    .collect(),
            ),
            M::Stream(s) => {
                let id = |(ms, seq): (u64, u64)| StreamId { ms, seq };
                Value::Stream(Box::new(Stream {
                    length: s.entries.len() as u64,
                    last_id: id(s.last_id),
                    entries: s
                        .entries
                        .into_iter()
                        .map(|(i, fields)| StreamEntry { id: id(i), fields })
                        .collect(),
                    ..Stream::default()
                }))
            }
        };
        ds.keys.push(Entry {
            db,
            key,
            expire_ms,
            idle_s: None,
            freq: None,
            value,
            attrs: Default::default(),
        });
    }
    ds.canonicalize();
    ds
}

/// What a comparison looks at: stream metadata that only some versions report
/// (first ID, max deleted ID, entries added) is left out, as are LRU/LFU statistics.
pub fn comparable(ds: &Dataset) -> Dataset {
    let mut ds = ds.clone();
    ds.source = None;
    for e in &mut ds.keys {
        e.idle_s = None;
        e.freq = None;
        if let Value::Stream(s) = &mut e.value {
            s.first_id = None;
            s.max_deleted_id = None;
            s.entries_added = None;
        }
    }
    ds
}

/// Restarts `launch` on a copy of `state` in `scratch` (AOF on or off as at the kill) and reads
/// its whole dataset back; an error says why the server did not start or answer.
pub fn recover(
    launch: &Launch,
    state: &DirState,
    aof_on: bool,
    scratch: &Path,
) -> Result<Dataset, String> {
    let data = scratch.join("data");
    let _ = std::fs::remove_dir_all(&data);
    state
        .write_to(&data)
        .map_err(|e| format!("materializing the image: {e}"))?;
    let cfg = StartConfig {
        appendonly: aof_on,
        appendfsync: "everysec".into(),
    };
    let log = scratch.join("restart.log");
    let proc = Proc::start(launch, &data, &log, &cfg, None)
        .map_err(|e| format!("the server did not start on the image: {e}"))?;
    let read = || -> std::io::Result<Dataset> {
        let mut c = Client::connect(proc.port)?;
        let dbs = all_nonempty_dbs(&mut c)?;
        read_dataset(&mut c, &dbs)
    };
    let ds = read().map_err(|e| format!("reading the recovered dataset: {e}"));
    drop(proc);
    let _ = std::fs::remove_dir_all(&data);
    ds.map(|d| comparable(&d))
}

/// A recovered state the policy does not allow.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Finding {
    /// The states the policy allows, in words.
    pub expected: String,
    /// What was recovered, in words (which state of the history it equals, if any).
    pub recovered: String,
    /// The first difference from the promised state (or why nothing was recovered).
    pub difference: String,
    /// Acknowledged writes the recovery lost beyond the promise (0 when it is not a prefix).
    pub lost: usize,
}

/// Index of the last state of the history equal to `want`.
fn index_of(states: &[Keyspace], want: &Keyspace) -> Option<usize> {
    states.iter().rposition(|s| s == want)
}

/// `1, 3 to 5 or 7`: sorted indices as ranges.
fn ranges(idx: &[usize]) -> String {
    let mut parts: Vec<String> = Vec::new();
    let mut i = 0;
    while i < idx.len() {
        let mut j = i;
        while j + 1 < idx.len() && idx[j + 1] == idx[j] + 1 {
            j += 1;
        }
        parts.push(if i == j {
            idx[i].to_string()
        } else {
            format!("{} to {}", idx[i], idx[j])
        });
        i = j + 1;
    }
    match parts.len() {
        0 => "?".into(),
        1 => parts.remove(0),
        n => format!("{} or {}", parts[..n - 1].join(", "), parts[n - 1]),
    }
}

/// Judges `recovered` against `dur`'s promise at `crash_ms`; `None` when it is allowed.
pub fn judge(
    recovered: &Result<Dataset, String>,
    dur: &Durability<Keyspace>,
    states: &[Keyspace],
    in_flight: Option<&Keyspace>,
    aof_on: bool,
    crash_ms: i64,
) -> Option<Finding> {
    let allowed = dur.recoverable(crash_ms);
    let sets: Vec<Dataset> = allowed.iter().map(|k| comparable(&dataset_of(k))).collect();
    let acked = states.len() - 1;
    let expected = if aof_on {
        let lo = dur.promised(crash_ms);
        let tail = if in_flight.is_some() {
            " or the write in flight"
        } else {
            ""
        };
        format!("the AOF: the state after {lo} to {acked} of the {acked} acknowledged writes{tail}")
    } else {
        let mut idx: Vec<usize> = allowed.iter().filter_map(|k| index_of(states, k)).collect();
        idx.sort_unstable();
        idx.dedup();
        format!(
            "a snapshot: the state after {} of the {acked} acknowledged writes",
            ranges(&idx)
        )
    };
    let got = match recovered {
        Err(e) => {
            return Some(Finding {
                expected,
                recovered: "nothing".into(),
                difference: e.clone(),
                lost: 0,
            })
        }
        Ok(got) => got,
    };
    if sets.iter().any(|s| s == got) {
        return None;
    }
    let found = (0..states.len())
        .rev()
        .find(|&i| comparable(&dataset_of(&states[i])) == *got);
    let promised = allowed
        .first()
        .and_then(|k| index_of(states, k))
        .unwrap_or(0);
    let (recovered, lost) = match found {
        Some(i) => (
            format!("the state after {i} of the {acked} acknowledged writes"),
            promised.saturating_sub(i),
        ),
        None => ("a state that is no prefix of the history".into(), 0),
    };
    let difference = first_difference(&sets[0], got)
        .unwrap_or_else(|| "equal to the promised state (no difference)".into());
    Some(Finding {
        expected,
        recovered,
        difference,
        lost,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use redis_persist_model::Session;

    fn run(k: &mut Keyspace, line: &str) {
        let argv: Vec<Vec<u8>> = line.split(' ').map(|a| a.as_bytes().to_vec()).collect();
        k.apply(&mut Session::default(), 1, &argv);
    }

    #[test]
    fn indices_read_as_ranges() {
        assert_eq!(ranges(&[1, 3, 4, 5, 7]), "1, 3 to 5 or 7");
        assert_eq!(ranges(&[2]), "2");
    }

    #[test]
    fn model_states_convert_to_canonical_datasets() {
        let mut k = Keyspace::new();
        run(&mut k, "SADD s b a");
        run(&mut k, "XADD x 5-1 f v");
        run(&mut k, "ZADD z 2 b 1 c");
        let ds = dataset_of(&k);
        let keys: Vec<&[u8]> = ds.keys.iter().map(|e| e.key.as_slice()).collect();
        assert_eq!(keys, vec![&b"s"[..], b"x", b"z"]);
        assert_eq!(
            ds.keys[0].value,
            Value::Set(vec![b"a".to_vec(), b"b".to_vec()])
        );
        let Value::Stream(s) = &ds.keys[1].value else {
            panic!("stream")
        };
        assert_eq!((s.length, s.last_id), (1, StreamId { ms: 5, seq: 1 }));
    }

    #[test]
    fn a_lost_acknowledged_write_is_a_finding_and_a_promised_prefix_is_not() {
        let mut states = vec![Keyspace::new()];
        let mut dur = Durability::new(Keyspace::new(), vec![Keyspace::new()], true);
        for i in 0..3 {
            let mut k = states.last().unwrap().clone();
            run(&mut k, &format!("SET k{i} v"));
            dur.ack(k.clone(), 0, redis_persist_model::durability::Fsync::Always);
            states.push(k);
        }
        let all = Ok(dataset_of(&states[3]));
        assert_eq!(judge(&all, &dur, &states, None, true, 10), None);
        let one = Ok(dataset_of(&states[1]));
        let f = judge(&one, &dur, &states, None, true, 10).expect("a finding");
        assert_eq!(f.lost, 2);
        assert!(f.recovered.contains("after 1 of the 3"), "{f:?}");
        assert!(f.difference.contains("missing db 0 key"), "{f:?}");
    }
}
