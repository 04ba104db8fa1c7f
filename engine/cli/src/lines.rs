//! `dump --jsonl`: Dataset JSON lines, streamed. An RDB goes out key by key as it is read, with
//! memory for one key (plus `check`'s spilled key fingerprints); other inputs are loaded first.
use crate::dump::{load_any, read_options, shown, LoadError};
use crate::out::Stdout;
use crate::safety::{Input, Shape};
use crate::{note, say, ReadFlags};
use redis_persist_engine::check::KeyTracker;
use redis_persist_engine::dataset::{self, Dataset, LinesWriter, SourceInfo};
use redis_persist_engine::format::rdb::{Collector, RdbReader};
use redis_persist_engine::format::{Error, ErrorKind};
use std::cell::RefCell;
use std::path::Path;
use std::process::ExitCode;
use std::rc::Rc;

/// Marks a file the streaming path hands back: an AOF with an RDB preamble, whose commands
/// must be replayed over the whole dataset before any key is final.
const PREAMBLE: &str = "an AOF preamble: replayed, not streamed";

/// `redis-persist dump --jsonl`.
pub fn dump_lines(path: &Path, read: &ReadFlags, load_truncated: bool) -> ExitCode {
    let mut input = match Input::open(path) {
        Ok(i) => i,
        Err(s) => return s.exit(),
    };
    if input.shape == Shape::Rdb {
        match stream_rdb(path, &mut input, read) {
            Err(e) if e.message().ends_with(PREAMBLE) && input.is_regular() => {}
            Err(e) if e.message().ends_with(PREAMBLE) => {
                note!(
                    "redis-persist: {}: an AOF with an RDB preamble is replayed before it can be printed; give it as a file, not a stream",
                    shown(path)
                );
                return ExitCode::from(2);
            }
            Err(e) => return refused(path, &e),
            Ok(()) => return ExitCode::SUCCESS,
        }
    }
    drop(input);
    let ds = match load_any(path, read, load_truncated) {
        Ok(d) => d,
        Err(LoadError::Stop(s)) => return s.exit(),
        Err(LoadError::Format(e)) => return refused(path, &e),
    };
    let mut out = Stdout::new();
    if let Err(e) = dataset::write_lines(&ds, &mut out) {
        note!("redis-persist: writing the output: {e}");
        return ExitCode::from(1);
    }
    out.finish();
    ExitCode::SUCCESS
}

/// The refusal as the last line (after the keys already printed, with no end line) and on stderr.
fn refused(path: &Path, e: &Error) -> ExitCode {
    say!(
        "{}",
        serde_json::json!({ "error": { "kind": e.kind.as_str(), "offset": e.offset, "message": e.message() } })
    );
    note!("redis-persist: {}: {e}", shown(path));
    ExitCode::from(1)
}

fn is_preamble(d: &Dataset) -> bool {
    d.source.as_ref().is_some_and(|s| {
        s.aux
            .iter()
            .any(|(k, v)| (k == b"aof-preamble" || k == b"aof-base") && v == b"1")
    })
}

fn stream_rdb(path: &Path, input: &mut Input, read: &ReadFlags) -> Result<(), Error> {
    let opts = redis_persist_engine::format::rdb::ReadOptions {
        total_len: input.len,
        ..read_options(read)
    };
    let mut reader = RdbReader::new(input.take_reader(), opts)?;
    let h = reader.header();
    let out = Rc::new(RefCell::new(Some(LinesWriter::new(Stdout::new()))));
    let tracker = Rc::new(RefCell::new(KeyTracker::default()));
    let (w, t) = (out.clone(), tracker.clone());
    let io = |e: std::io::Error| Error::new(ErrorKind::Io, 0, "output", e.to_string());
    let mut c = Collector::streaming(
        opts.limits,
        Box::new(move |d, e, offset| {
            if is_preamble(d) {
                return Err(Error::new(ErrorKind::Io, offset, "file", PREAMBLE));
            }
            t.borrow_mut().record(e.db, &e.key, offset);
            let mut w = w.borrow_mut();
            w.as_mut().map_or(Ok(()), |w| w.key(d, &e)).map_err(io)
        }),
    );
    c.dataset.source = Some(SourceInfo {
        kind: "rdb".into(),
        magic: Some(h.magic.as_str().into()),
        version: Some(h.version),
        aux: Vec::new(),
    });
    reader.read_all(&mut c)?;
    input.done();
    if is_preamble(&c.dataset) {
        return Err(Error::new(ErrorKind::Io, 0, "file", PREAMBLE));
    }
    let tracker = std::mem::take(&mut *tracker.borrow_mut());
    tracker.finish(input.is_regular().then_some(path), opts)?;
    let w = out.borrow_mut().take().expect("the writer is taken once");
    let stdout = w.finish(&c.dataset).map_err(io)?;
    stdout.finish();
    Ok(())
}
