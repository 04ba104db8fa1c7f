//! Codec laws as quickcheck properties: every primitive decodes what it encodes, at and around
//! every width boundary, and whole datasets survive a write and read at every target.
use quickcheck::{quickcheck, QuickCheck, TestResult};
use redis_persist_engine::format::bytes::Bytes;
use redis_persist_engine::format::lzf;
use redis_persist_engine::format::rdb::elem::Elem;
use redis_persist_engine::format::rdb::{intset, length, listpack, ziplist};
use redis_persist_engine::format::source::Source;
use redis_persist_engine::format::Limits;

fn src(b: &[u8]) -> Source<&[u8]> {
    Source::new(b, Some(b.len() as u64), Limits::DEFAULT)
}

/// Values on and around each length-prefix width boundary.
fn boundary(n: u64) -> u64 {
    const EDGES: [u64; 6] = [0, 63, 16383, u32::MAX as u64, u64::MAX, 1 << 40];
    let e = EDGES[(n % 6) as usize];
    e.wrapping_add((n >> 3) % 3).wrapping_sub(1)
}

quickcheck! {
    fn length_prefix_round_trips(n: u64, near_edge: bool) -> bool {
        let n = if near_edge { boundary(n) } else { n };
        let mut out = Vec::new();
        length::write(&mut out, n);
        let mut s = src(&out);
        length::read(&mut s, "len").unwrap() == n && s.pos() == out.len() as u64
    }

    fn rdb_strings_round_trip(s: Vec<u8>, int: i64, use_int: bool, compress: bool) -> bool {
        use redis_persist_engine::format::rdb::encode::Encoder;
        use redis_persist_engine::format::rdb::{Target, Thresholds};
        let s = if use_int { int.to_string().into_bytes() } else { s };
        let mut e = Encoder::new(Target::redis(10).unwrap(), Thresholds::default(), compress);
        let mut out = Vec::new();
        e.string(&mut out, &s);
        let mut scratch = redis_persist_engine::format::rdb::string::Scratch::default();
        let mut r = src(&out);
        let back = redis_persist_engine::format::rdb::string::read(&mut r, &mut scratch, "s").unwrap().bytes.to_vec();
        back == s && r.pos() == out.len() as u64
    }

    fn lzf_round_trips(data: Vec<u8>, repeat: u8) -> bool {
        // Repetition makes back-references likely; plain vectors cover literals.
        let input: Vec<u8> = data.iter().cycle().take(data.len() * (repeat as usize % 8 + 1)).copied().collect();
        let mut c = lzf::Compressor::new();
        let mut out = Vec::new();
        if !c.compress(&input, &mut out, input.len() + input.len() / 16 + 64) {
            return input.is_empty();
        }
        let mut back = Vec::new();
        lzf::decompress(&out, input.len(), &mut back).is_ok() && back == input
            && lzf::decompress(&out, input.len(), &mut Vec::new()).is_ok()
    }

    fn text_and_binary_doubles_round_trip(bits: u64) -> TestResult {
        let f = f64::from_bits(bits);
        if f.is_nan() {
            return TestResult::discard();
        }
        let text = redis_persist_engine::dataset::score_text(f);
        let back = redis_persist_engine::format::rdb::elem::parse_score(text.as_bytes()).unwrap();
        TestResult::from_bool(back.to_bits() == f.to_bits() && f64::from_le_bytes(f.to_le_bytes()).to_bits() == bits)
    }

    fn intsets_round_trip(members: Vec<i64>, width: u8) -> TestResult {
        let mut m: Vec<i64> = members.iter().map(|&v| match width % 3 { 0 => v as i16 as i64, 1 => v as i32 as i64, _ => v }).collect();
        m.sort_unstable();
        m.dedup();
        let Some(blob) = intset::build(&mut m.clone()) else { return TestResult::from_bool(m.is_empty()) };
        let mut back = Vec::new();
        intset::for_each(&blob, |v| { back.push(v); Ok(()) }).unwrap();
        TestResult::from_bool(back == m)
    }

    fn ziplists_round_trip(items: Vec<(Vec<u8>, i64, u8)>) -> bool {
        let items: Vec<Vec<u8>> = items.into_iter().map(|(s, i, pick)| match pick % 4 {
            0 => i.to_string().into_bytes(),
            // Entries around the 254-byte prevlen switch.
            1 => vec![b'x'; 250 + (pick as usize % 8)],
            2 => (i % 13).to_string().into_bytes(),
            _ => s,
        }).collect();
        let mut b = ziplist::Builder::new();
        items.iter().for_each(|i| b.push(i));
        let blob = b.finish();
        let mut back = Vec::new();
        ziplist::for_each(&blob, |e| { back.push(e.to_vec()); Ok(()) }).unwrap() as usize == items.len() && back == items
    }

    fn listpacks_round_trip(items: Vec<(Vec<u8>, i64, u16)>) -> bool {
        let items: Vec<Vec<u8>> = items.into_iter().map(|(s, i, pick)| match pick % 5 {
            0 => i.to_string().into_bytes(),
            1 => ((i % 9000) - 4500).to_string().into_bytes(),
            // Strings on the 6-bit, 12-bit and 32-bit length classes.
            2 => vec![b'y'; [63, 64, 4095, 4096][pick as usize % 4]],
            3 => vec![b'z'; pick as usize % 300],
            _ => s,
        }).collect();
        let mut b = listpack::Builder::new();
        items.iter().for_each(|i| b.push(i));
        let expected_len = b.len();
        let blob = b.finish();
        let mut back = Vec::new();
        listpack::for_each(&blob, |e| { back.push(e.to_vec()); Ok(()) }).unwrap();
        back == items && blob.len() == expected_len
    }

    fn listpack_entry_size_is_exact(s: Vec<u8>, i: i64, as_int: bool) -> bool {
        let s = if as_int { i.to_string().into_bytes() } else { s };
        let mut b = listpack::Builder::new();
        let before = b.len();
        b.push(&s);
        b.len() - before == listpack::Builder::entry_size(&s)
    }

    fn listpack_ints_keep_their_value(v: i64) -> bool {
        let mut b = listpack::Builder::new();
        b.push_int(v);
        let blob = b.finish();
        let mut c = Bytes::new(&blob);
        c.seek(6, "x").unwrap();
        let mut got = None;
        listpack::for_each(&blob, |e| { got = Some(e); Ok(()) }).unwrap();
        got == Some(Elem::Int(v))
    }
}

/// Expands a seed into `len` pseudo-random bytes, the generator's raw material.
fn expand(state: u64, len: usize) -> Vec<u8> {
    redis_persist_engine::rng::Rng::new(state).bytes(len)
}

/// A whole arbitrary dataset at every target that holds it: see `proptests::check::rdb_roundtrip`.
#[test]
fn arbitrary_datasets_round_trip_at_every_target() {
    fn prop(seed: u64, len: u16) -> TestResult {
        let bytes = expand(seed, len as usize);
        let mut u = arbitrary::Unstructured::new(&bytes);
        match proptests::check::rdb_roundtrip(&mut u) {
            Ok(()) => TestResult::passed(),
            Err(_) => TestResult::discard(),
        }
    }
    let cases = std::env::var("QUICKCHECK_TESTS")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(300);
    QuickCheck::new()
        .tests(cases)
        .max_tests(cases * 10)
        .quickcheck(prop as fn(u64, u16) -> TestResult);
}

/// Any dataset, duplicates included: written and read back, or refused with a type and nothing
/// written (`proptests::check::dataset_write`). At least some of each must happen, so that
/// neither half of the law is vacuous.
#[test]
fn arbitrary_datasets_are_written_or_refused_with_a_reason() {
    use redis_persist_engine::format::rdb::validate::validate;
    let (mut refused, mut written) = (0, 0);
    for seed in 0..400u64 {
        let bytes = expand(seed, 4096);
        let mut u = arbitrary::Unstructured::new(&bytes);
        if proptests::check::dataset_write(&mut u).is_ok() {
            let mut u = arbitrary::Unstructured::new(&bytes);
            let t = redis_persist_engine::format::rdb::Target::all();
            let _ = u.choose(&t);
            match proptests::gen::raw_dataset(&mut u, proptests::gen::Features::for_target(t[0])) {
                Ok(d) if validate(&d).is_err() => refused += 1,
                Ok(_) => written += 1,
                Err(_) => {}
            }
        }
    }
    assert!(
        refused > 20 && written > 20,
        "refused {refused}, written {written}"
    );
}

/// The dataset generator reaches every type and, at each target, every encoding the writer picks;
/// otherwise the round-trip law above would be vacuous.
#[test]
fn generator_reaches_every_type_and_encoding() {
    use redis_persist_engine::format::rdb::encode::Encoder;
    use redis_persist_engine::format::rdb::{Target, Thresholds};
    use std::collections::BTreeSet;
    let mut state = 0x2545_f491_4f6c_dd1du64;
    let mut types = BTreeSet::new();
    let mut encodings = BTreeSet::new();
    for t in Target::all() {
        let enc = Encoder::new(t, Thresholds::default(), true);
        for _ in 0..150 {
            state = state.wrapping_mul(6364136223846793005).wrapping_add(1);
            let bytes = expand(state, 16384);
            let mut u = arbitrary::Unstructured::new(&bytes);
            let Ok(ds) = proptests::gen::dataset(&mut u, proptests::gen::Features::for_target(t))
            else {
                continue;
            };
            for e in &ds.keys {
                types.insert(e.value.type_name());
                encodings.insert(enc.choose_key(e).name());
            }
        }
    }
    assert_eq!(types.len(), 8, "{types:?}");
    assert!(
        encodings.len() >= 25,
        "only {} encodings reached: {encodings:?}",
        encodings.len()
    );
}
