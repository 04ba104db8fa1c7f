//! The collector's budget: `Limits::max_dataset_bytes` counts each stored string's bytes plus
//! a fixed overhead per string, so what an element costs follows from its strings.
use super::*;
use crate::format::rdb::opcode::ValueType;

fn stream_key(c: &mut Collector) {
    c.begin_key(&KeyInfo {
        db: 0,
        key: b"s",
        value_type: ValueType::StreamListpacks,
        expire_ms: None,
        idle_s: None,
        freq: None,
        offset: 0,
    })
    .unwrap();
}

/// What `stream_entry` with these fields adds to the budget.
fn entry_cost(fields: &[(&[u8], &[u8])]) -> u64 {
    let mut c = Collector::new(Limits::DEFAULT);
    stream_key(&mut c);
    let before = c.used;
    c.stream_entry(StreamId { ms: 1, seq: 0 }, fields).unwrap();
    c.used - before
}

/// Each byte of a field or a value counts once, and each field and value string adds the same
/// overhead whatever its length.
#[test]
fn a_stream_entry_costs_each_byte_once_and_an_overhead_per_string() {
    let base = entry_cost(&[(b"f", b"v")]);
    assert_eq!(entry_cost(&[(b"f234567890", b"v")]), base + 9);
    assert_eq!(entry_cost(&[(b"f", b"v234567890")]), base + 9);
    assert_eq!(entry_cost(&[(b"f234567890", b"v234567890")]), base + 18);
    assert_eq!(entry_cost(&[(b"f", b"v"), (b"", b"")]), base + 2 * OVERHEAD);
    assert_eq!(
        entry_cost(&[(b"f", b"v"), (b"g", b"w")]),
        base + 2 * OVERHEAD + 2
    );
    assert!(base >= 2 + 2 * OVERHEAD, "{base}");
}

/// The cost is what the budget refuses: a budget one byte short of an entry's cost fails.
#[test]
fn the_budget_refuses_the_entry_that_passes_it() {
    let mut c = Collector::new(Limits::DEFAULT);
    stream_key(&mut c);
    let fields: &[(&[u8], &[u8])] = &[(b"field", b"value")];
    let need = c.used + entry_cost(fields);
    for (budget, ok) in [(need, true), (need - 1, false)] {
        let mut c = Collector::new(Limits {
            max_dataset_bytes: budget,
            ..Limits::DEFAULT
        });
        stream_key(&mut c);
        let r = c.stream_entry(StreamId { ms: 1, seq: 0 }, fields);
        assert_eq!(r.is_ok(), ok, "budget {budget}");
    }
}

/// The collector holds a key's members unique whoever drives it: a set member given twice
/// fails `finish`, as Redis refuses a duplicate when it loads a set.
#[test]
fn a_member_given_twice_fails_finish() {
    let mut c = Collector::new(Limits::DEFAULT);
    c.begin_key(&KeyInfo {
        db: 0,
        key: b"set",
        value_type: ValueType::Set,
        expire_ms: None,
        idle_s: None,
        freq: None,
        offset: 9,
    })
    .unwrap();
    c.set_member(b"a").unwrap();
    c.set_member(b"a").unwrap();
    c.end_key().unwrap();
    let e = c.finish().unwrap_err();
    assert_eq!(e.offset, Some(9));
    assert!(e.to_string().contains("duplicate member"), "{e}");
}

/// The streaming collector keeps no key: each goes to the sink as it ends, with its offset and
/// its members in canonical order, and gives its budget back, so a budget that holds one key
/// holds any number of them.
#[test]
fn a_streaming_collector_hands_each_key_to_the_sink() {
    use std::cell::RefCell;
    use std::rc::Rc;
    fn set_key(c: &mut Collector, key: &[u8], offset: u64) -> Result<()> {
        c.begin_key(&KeyInfo {
            db: 0,
            key,
            value_type: ValueType::Set,
            expire_ms: None,
            idle_s: None,
            freq: None,
            offset,
        })?;
        c.set_member(b"b")?;
        c.set_member(b"a")?;
        c.end_key()
    }
    let mut whole = Collector::new(Limits::DEFAULT);
    set_key(&mut whole, b"s0", 0).unwrap();
    let limits = Limits {
        max_dataset_bytes: whole.used,
        ..Limits::DEFAULT
    };
    // The materialising collector refuses a second key within that budget.
    let mut whole = Collector::new(limits);
    set_key(&mut whole, b"s0", 0).unwrap();
    assert!(set_key(&mut whole, b"s1", 100).is_err());
    let seen: Rc<RefCell<Vec<(Entry, u64)>>> = Rc::default();
    let log = seen.clone();
    let mut c = Collector::streaming(
        limits,
        Box::new(move |_, e, at| {
            log.borrow_mut().push((e, at));
            Ok(())
        }),
    );
    for i in 0..3u64 {
        set_key(&mut c, format!("s{i}").as_bytes(), 100 * i).unwrap();
    }
    assert!(c.finish().unwrap().keys.is_empty());
    let seen = seen.borrow();
    let got: Vec<_> = seen.iter().map(|(e, at)| (e.key.clone(), *at)).collect();
    assert_eq!(
        got,
        [
            (b"s0".to_vec(), 0),
            (b"s1".to_vec(), 100),
            (b"s2".to_vec(), 200)
        ]
    );
    assert_eq!(
        seen[0].0.value,
        Value::Set(vec![b"a".to_vec(), b"b".to_vec()])
    );
}
