//! Decoder properties over arbitrary bytes: decoding is total (a dataset or a typed error, never a
//! panic), the streaming check agrees with the full decode, and input chunking changes nothing.
use redis_persist_engine::check::check;
use redis_persist_engine::format::rdb::{read_dataset, read_dataset_from, ReadOptions};
use redis_persist_engine::format::{ErrorKind, Limits};
use std::io::Read;

/// A reader that hands out one byte per call: the worst chunking a source can have.
pub struct OneByte<'a>(pub &'a [u8]);

impl Read for OneByte<'_> {
    fn read(&mut self, out: &mut [u8]) -> std::io::Result<usize> {
        match (self.0.split_first(), out.first_mut()) {
            (Some((b, rest)), Some(o)) => {
                *o = *b;
                self.0 = rest;
                Ok(1)
            }
            _ => Ok(0),
        }
    }
}

/// Options used on hostile input: tight limits, checksums verified (except under `cfg(fuzzing)`,
/// where the reader itself skips them).
pub fn hostile_options(len: usize) -> ReadOptions {
    ReadOptions {
        limits: Limits::TIGHT,
        verify_checksum: true,
        total_len: Some(len as u64),
        strict: false,
    }
}

/// Decoding any bytes ends in a dataset or a typed error, and three independent ways of
/// decoding agree: the whole-buffer decode, the streaming `check`, and a decode fed one byte
/// at a time without knowing the length.
pub fn rdb_decode_is_total(data: &[u8]) {
    let opts = hostile_options(data.len());
    let whole = read_dataset(data, opts);
    let summary = check(data, opts);
    match (&whole, &summary) {
        (Ok(_), Ok(_)) | (Err(_), Err(_)) => {}
        // Only the whole decode sees every key at once, so only it finds a duplicate key or a
        // duplicate member beyond what the streaming check fingerprints.
        (Err(e), Ok(_))
            if e.kind == ErrorKind::Corrupt && (e.what == "key" || e.what == "key value") => {}
        _ => panic!(
            "decode and check disagree: decode {:?}, check {:?}",
            whole.as_ref().map(|_| ()),
            summary.as_ref().map(|_| ())
        ),
    }
    if let Err(e) = &whole {
        assert!(
            e.offset.is_none_or(|o| o <= data.len() as u64),
            "error offset {:?} beyond input of {} bytes: {e}",
            e.offset,
            data.len()
        );
    }
    let chunked = read_dataset_from(
        OneByte(data),
        ReadOptions {
            total_len: None,
            ..opts
        },
    );
    match (&whole, &chunked) {
        (Ok((a, _)), Ok((b, _))) => assert_eq!(a, b, "one-byte reads changed the dataset"),
        (Err(_), Err(_)) => {}
        _ => panic!(
            "one-byte reads changed the verdict: whole {:?}, chunked {:?}",
            whole.as_ref().err(),
            chunked.as_ref().err()
        ),
    }
}

/// Any dataset, duplicates included, written at any target: the writer refuses it with a typed
/// error (what no server loads, or what the target cannot hold) and writes nothing, or what it
/// writes our reader accepts and decodes to the same dataset (or, with loss allowed, what the
/// loss report says).
pub fn dataset_write(u: &mut arbitrary::Unstructured<'_>) -> arbitrary::Result<()> {
    use redis_persist_engine::format::rdb::validate::validate;
    use redis_persist_engine::format::rdb::{write_to_vec, Target, WriteError, WriteOptions};
    let targets = Target::all();
    let target = *u.choose(&targets)?;
    let ds = crate::gen::raw_dataset(u, crate::gen::Features::for_target(target))?;
    let mut opts = WriteOptions::new(target, 1_700_000_000);
    opts.allow_loss = u.arbitrary()?;
    match write_to_vec(&ds, &opts) {
        Err(WriteError::Invalid(why)) => {
            assert!(
                validate(&ds).is_err(),
                "{target}: refused as invalid ({why}) but valid"
            );
        }
        Err(WriteError::Refused(r)) => {
            assert!(
                !opts.allow_loss && !r.lost.is_empty(),
                "{target}: refused without a loss"
            );
        }
        Err(e) => panic!("{target}: an untyped failure: {e}"),
        Ok(bytes) => {
            if let Err(why) = validate(&ds) {
                panic!("{target}: wrote a dataset no server loads ({why})");
            }
            let (back, _) = read_dataset(&bytes, ReadOptions::default())
                .unwrap_or_else(|e| panic!("{target}: what the writer wrote does not read: {e}"));
            let report = redis_persist_engine::format::rdb::assess(&ds, target);
            if report.exact() {
                if let Some(d) = redis_persist_engine::dataset::first_difference(&ds, &back) {
                    panic!("{target}: round trip changed the dataset: {d}");
                }
            }
        }
    }
    Ok(())
}

/// Any valid dataset written at any target that holds it exactly reads back equal, and the
/// streaming `check` accepts the file. `u` drives the dataset generator and the choice of target
/// and writer options.
pub fn rdb_roundtrip(u: &mut arbitrary::Unstructured<'_>) -> arbitrary::Result<()> {
    use redis_persist_engine::format::rdb::{write_to_vec, Target, WriteOptions};
    let targets = Target::all();
    let target = *u.choose(&targets)?;
    let ds = crate::gen::dataset(u, crate::gen::Features::for_target(target))?;
    let mut opts = WriteOptions::new(target, 1_700_000_000);
    opts.compression = u.arbitrary()?;
    opts.checksum = u.ratio(7, 8)?;
    let bytes = write_to_vec(&ds, &opts)
        .unwrap_or_else(|e| panic!("{target}: writing a dataset it holds failed: {e}"));
    let (back, _) = read_dataset(&bytes, ReadOptions::default())
        .unwrap_or_else(|e| panic!("{target}: reading back failed: {e}"));
    if let Some(d) = redis_persist_engine::dataset::first_difference(&ds, &back) {
        panic!("{target}: round trip changed the dataset: {d}");
    }
    check(
        &bytes[..],
        ReadOptions {
            total_len: Some(bytes.len() as u64),
            ..ReadOptions::default()
        },
    )
    .unwrap_or_else(|e| panic!("{target}: check refused the written file: {e}"));
    // Every key also survives as its DUMP payload at the target.
    use redis_persist_engine::format::rdb::{payload, Thresholds};
    for e in &ds.keys {
        let (p, _) =
            payload::encode_value(&e.value, &e.attrs, target, Thresholds::default(), false)
                .unwrap_or_else(|err| panic!("{target}: payload of {:?} refused: {err}", e.key));
        let (_, v, a, f) = payload::decode_entry(&p, ReadOptions::default())
            .unwrap_or_else(|err| panic!("{target}: payload of {:?} unreadable: {err}", e.key));
        assert_eq!(f.version as u32, target.0.version);
        assert!(
            v == e.value && a == e.attrs,
            "{target}: payload of {:?} changed",
            e.key
        );
    }
    Ok(())
}

/// Reading arbitrary bytes as an AOF command stream never panics, always makes progress, stays
/// inside the input, and where the server's and the checker's grammars both read an item, it is the same.
pub fn aof_parse_is_total(data: &[u8]) {
    use redis_persist_engine::format::resp::{CommandReader, Next, Strictness};
    let mut server = CommandReader::from_slice(data, Strictness::Server);
    let mut checker = CommandReader::from_slice(data, Strictness::Checker);
    let mut checker_ok = true;
    loop {
        let at = server.pos();
        let s = server.next_item();
        // Where both grammars read an item, they read the same item. They may disagree on
        // whether there is one: `redis-check-aof` takes `*0` as an empty command, the loader
        // refuses it; the loader takes `*1x` and a missing `\r`, the checker does not.
        if checker_ok {
            match checker.next_item() {
                Ok(c @ (Next::Command { .. } | Next::Annotation { .. })) => {
                    if let Ok(n @ (Next::Command { .. } | Next::Annotation { .. })) = &s {
                        assert_eq!(n, &c, "the two grammars read different items at {at}");
                        assert_eq!(checker.argv(), server.argv(), "arguments differ at {at}");
                    } else {
                        checker_ok = false;
                    }
                }
                _ => checker_ok = false,
            }
        }
        match s {
            Ok(Next::Command { at: a, end } | Next::Annotation { at: a, end }) => {
                assert!(
                    a == at && end > at && end <= data.len() as u64,
                    "no progress or overrun at {at}: end {end}"
                );
            }
            Ok(Next::End) | Ok(Next::Incomplete { .. }) => return,
            Err(e) => {
                assert!(
                    e.offset.is_some_and(|o| o as usize <= data.len()),
                    "error offset beyond input: {e}"
                );
                return;
            }
        }
    }
}

/// Parsing arbitrary bytes as a manifest never panics, and whatever parses is written back to
/// text that parses to the same manifest (or is refused by the writer as too long). A manifest of comments only is valid and empty (Redis
/// counts comment lines), but no server writes one, and its written form (no lines) is refused as
/// empty: the round trip covers manifests that list files.
pub fn manifest_parse_is_total(data: &[u8]) {
    use redis_persist_engine::format::aof::manifest::{parse, write};
    if let Ok(m) = parse(data).map_err(drop).and_then(|m| {
        if m == Default::default() {
            Err(())
        } else {
            Ok(m)
        }
    }) {
        // A name too long once quoted is refused by the writer, never written unreadable.
        let Ok(text) = write(&m) else { return };
        let back = parse(&text).unwrap_or_else(|e| {
            panic!(
                "written manifest does not parse: {e}\n{}",
                String::from_utf8_lossy(&text)
            )
        });
        assert_eq!(back, m, "manifest changed in a write and read");
    }
}
