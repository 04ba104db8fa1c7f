//! The trace parser: every record round-trips, and any byte string (random, mutated, cut) gives
//! records or a typed error with an offset inside the input, never a panic.
use proptest::prelude::*;
use redis_persist_crash::trace::{FdKind, LostReason, Op, Record, SyncKind, MAGIC};
use redis_persist_crash::{parse, parse_killed, parse_prefix, ParseErrorKind};

fn every_kind() -> Vec<Record> {
    let p = |s: &str| s.as_bytes().to_vec();
    let ops = vec![
        Op::Start {
            ppid: 7,
            dir: p("/tmp/d"),
        },
        Op::InitDir {
            path: p("appendonlydir"),
        },
        Op::InitFile {
            path: p("dump.rdb"),
            data: b"REDIS0010\xff".to_vec(),
        },
        Op::Open {
            path: p("a"),
            ino: 9,
            flags: 0o1101,
            mode: 0o644,
            size: 0,
            kind: FdKind::File,
            stdio: true,
        },
        Op::Open {
            path: p(""),
            ino: 2,
            flags: 0,
            mode: 0,
            size: 4096,
            kind: FdKind::Dir,
            stdio: false,
        },
        Op::Open {
            path: p("gone"),
            ino: 0,
            flags: 0,
            mode: 0,
            size: 0,
            kind: FdKind::Other,
            stdio: false,
        },
        Op::Write {
            ino: 9,
            offset: 3,
            data: b"*1\r\n".to_vec(),
            from_stdio: false,
        },
        Op::Write {
            ino: 9,
            offset: 0,
            data: vec![],
            from_stdio: true,
        },
        Op::Truncate {
            ino: 9,
            path: vec![],
            len: 2,
        },
        Op::Truncate {
            ino: 0,
            path: p("a"),
            len: 0,
        },
        Op::SyncBegin {
            kind: SyncKind::Fdatasync,
            ino: 9,
            token: 1,
            size: 7,
        },
        Op::SyncEnd {
            kind: SyncKind::Fdatasync,
            ino: 9,
            token: 1,
        },
        Op::SyncBegin {
            kind: SyncKind::SyncFileRange,
            ino: 9,
            token: 2,
            size: 7,
        },
        Op::SyncBegin {
            kind: SyncKind::Syncfs,
            ino: 0,
            token: 3,
            size: 0,
        },
        Op::SyncEnd {
            kind: SyncKind::Sync,
            ino: 0,
            token: 4,
        },
        Op::SyncBegin {
            kind: SyncKind::Fsync,
            ino: 9,
            token: 5,
            size: 0,
        },
        Op::Rename {
            from: p("temp-1.rdb"),
            to: p("dump.rdb"),
            flags: 0,
        },
        Op::Rename {
            from: vec![],
            to: p("/outside"),
            flags: 1,
        },
        Op::Unlink {
            path: p("x"),
            flags: 0x200,
        },
        Op::Mkdir {
            path: p("appendonlydir"),
            mode: 0o755,
        },
        Op::Lost {
            reason: LostReason::FdOutOfRange,
            detail: 70000,
        },
        Op::Lost {
            reason: LostReason::Reentrant,
            detail: 0,
        },
        Op::Lost {
            reason: LostReason::OwnerDied,
            detail: 0,
        },
        Op::Lost {
            reason: LostReason::Other(99),
            detail: 1,
        },
    ];
    ops.into_iter()
        .enumerate()
        .map(|(i, op)| Record {
            pid: 100 + i as u32,
            ret: i as i64 - 3,
            op,
        })
        .collect()
}

fn encode(records: &[Record]) -> Vec<u8> {
    let mut out = MAGIC.to_vec();
    records.iter().for_each(|r| r.encode(&mut out));
    out
}

#[test]
fn every_record_kind_round_trips() {
    let records = every_kind();
    let trace = parse(&encode(&records)).expect("parses");
    assert_eq!(trace.records, records);
}

#[test]
fn an_empty_trace_is_the_magic_alone() {
    assert_eq!(parse(MAGIC).expect("parses").records, vec![]);
    let e = parse(b"").unwrap_err();
    assert!(e.is_truncation(), "{e}");
    let e = parse(b"NOTATRACE").unwrap_err();
    assert_eq!((e.offset, e.kind), (0, ParseErrorKind::BadMagic));
}

/// A SIGKILL can stop the trace anywhere: each cut keeps exactly the records wholly before it.
#[test]
fn a_cut_anywhere_keeps_the_whole_records_before_it() {
    let records = every_kind();
    let bytes = encode(&records);
    let mut ends = vec![MAGIC.len()];
    for r in &records {
        let mut one = Vec::new();
        r.encode(&mut one);
        ends.push(ends.last().unwrap() + one.len());
    }
    for cut in 0..=bytes.len() {
        let t = parse_killed(&bytes[..cut]).unwrap_or_else(|e| panic!("cut at {cut}: {e}"));
        let whole = ends.iter().filter(|&&e| e <= cut).count().saturating_sub(1);
        assert_eq!(t.records, records[..whole], "cut at {cut}");
        let strict = parse(&bytes[..cut]);
        assert_eq!(strict.is_ok(), ends.contains(&cut), "cut at {cut}");
    }
}

#[test]
fn corruption_is_a_typed_error_at_its_offset() {
    let records = every_kind();
    let mut bytes = encode(&records[..3]);
    let second = MAGIC.len() + {
        let mut one = Vec::new();
        records[0].encode(&mut one);
        one.len()
    };
    bytes[second + 4] = 200; // kind byte of the second record
    let e = parse(&bytes).unwrap_err();
    assert_eq!(e.offset, second);
    assert!(matches!(e.kind, ParseErrorKind::Record(_)), "{e}");
    assert!(!e.is_truncation());
    assert!(parse_killed(&bytes).is_err(), "corruption is not a kill");
    let (t, _) = parse_prefix(&bytes);
    assert_eq!(t.records, records[..1]);
}

/// Checks the parser's contract on one input: no panic, an error's offset lies within the input
/// at a record boundary after the records it returned, and a clean parse re-encodes to the input.
fn check_total(bytes: &[u8]) {
    let (t, err) = parse_prefix(bytes);
    let mut reencoded = MAGIC.to_vec();
    t.records.iter().for_each(|r| r.encode(&mut reencoded));
    match err {
        Some(e) => {
            assert!(e.offset <= bytes.len());
            if e.offset > 0 {
                assert_eq!(
                    e.offset,
                    reencoded.len(),
                    "error offset is right after the good records"
                );
            }
            let _ = e.to_string();
        }
        None => assert_eq!(reencoded.len(), bytes.len()),
    }
}

proptest! {
    #[test]
    fn arbitrary_bytes_never_panic(tail in proptest::collection::vec(any::<u8>(), 0..512), magic in any::<bool>()) {
        let bytes = if magic { [MAGIC.as_slice(), &tail].concat() } else { tail };
        check_total(&bytes);
    }

    #[test]
    fn mutated_traces_never_panic(flips in proptest::collection::vec((any::<usize>(), any::<u8>()), 1..8), cut in any::<usize>()) {
        let mut bytes = encode(&every_kind());
        for (at, v) in flips {
            let n = bytes.len();
            bytes[at % n] = v;
        }
        let n = bytes.len();
        bytes.truncate(cut % (n + 1));
        check_total(&bytes);
    }

    /// Length fields that claim huge sizes must not make the parser allocate or read past the end.
    #[test]
    fn huge_length_fields_are_errors(len in any::<u32>(), kind in 0u8..20) {
        let mut bytes = MAGIC.to_vec();
        bytes.extend_from_slice(&len.to_le_bytes());
        bytes.push(kind);
        bytes.extend_from_slice(&[0; 60]);
        check_total(&bytes);
    }
}
