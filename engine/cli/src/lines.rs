//! `dump --jsonl` and `dump --json` of an RDB without holding its dataset: keys go out as lines
//! as they are read, or through sorted runs on disk into canonical Dataset JSON; other inputs
//! (AOFs, which must be replayed whole) are loaded first.
use crate::dump::{load_any, read_options, shown, LoadError};
use crate::out::Stdout;
use crate::safety::{Input, Shape};
use crate::{note, say, ReadFlags};
use redis_persist_engine::check::KeyTracker;
use redis_persist_engine::dataset::{self, Dataset, LinesWriter, SortedJson, SourceInfo};
use redis_persist_engine::format::rdb::{Collector, RdbReader};
use redis_persist_engine::format::{Error, ErrorKind};
use std::cell::RefCell;
use std::path::Path;
use std::process::ExitCode;
use std::rc::Rc;

/// Marks a file the streaming path hands back: an AOF with an RDB preamble, whose commands
/// must be replayed over the whole dataset before any key is final.
const PREAMBLE: &str = "an AOF preamble: replayed, not streamed";

/// How a streamed dump is printed.
#[derive(Clone, Copy, PartialEq, Eq)]
pub enum Form {
    /// Dataset JSON lines, in file order.
    Lines,
    /// Canonical (sorted) Dataset JSON.
    Json,
}

/// Where the keys go while the file is read.
enum Keys {
    Lines(LinesWriter<Stdout>),
    Sorted(SortedJson),
}

/// At most this much serialized JSON is held before a sorted run goes to disk (less under a
/// smaller --memory-limit).
const SORT_MEMORY: u64 = 256 << 20;

/// `redis-persist dump --jsonl`, or `dump --json`.
pub fn dump_streamed(path: &Path, read: &ReadFlags, load_truncated: bool, form: Form) -> ExitCode {
    let mut input = match Input::open(path) {
        Ok(i) => i,
        Err(s) => return s.exit(),
    };
    if input.shape == Shape::Rdb {
        match stream_rdb(path, &mut input, read, form) {
            Err(e) if e.message().ends_with(PREAMBLE) && input.is_regular() => {}
            Err(e) if e.message().ends_with(PREAMBLE) => {
                note!(
                    "redis-persist: {}: an AOF with an RDB preamble is replayed before it can be printed; give it as a file, not a stream",
                    shown(path)
                );
                return ExitCode::from(2);
            }
            Err(e) => return refused(path, &e, form),
            Ok(()) => return ExitCode::SUCCESS,
        }
    }
    drop(input);
    let ds = match load_any(path, read, load_truncated) {
        Ok(d) => d,
        Err(LoadError::Stop(s)) => return s.exit(),
        Err(LoadError::Format(e)) => return refused(path, &e, form),
    };
    let mut out = Stdout::new();
    let r = match form {
        Form::Lines => dataset::write_lines(&ds, &mut out),
        Form::Json => dataset::write_json(&ds, &mut out),
    };
    if let Err(e) = r {
        note!("redis-persist: writing the output: {e}");
        return ExitCode::from(1);
    }
    out.finish();
    ExitCode::SUCCESS
}

/// The refusal as the last line (after the keys already printed, with no end line), or as the
/// error object of --json, and on stderr.
fn refused(path: &Path, e: &Error, form: Form) -> ExitCode {
    let v = serde_json::json!({ "error": { "kind": e.kind.as_str(), "offset": e.offset, "message": e.message() } });
    match form {
        Form::Lines => say!("{v}"),
        Form::Json => say!("{v:#}"),
    }
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

fn stream_rdb(path: &Path, input: &mut Input, read: &ReadFlags, form: Form) -> Result<(), Error> {
    let opts = redis_persist_engine::format::rdb::ReadOptions {
        total_len: input.len,
        ..read_options(read)
    };
    let mut reader = RdbReader::new(input.take_reader(), opts)?;
    let h = reader.header();
    let keys = match form {
        Form::Lines => Keys::Lines(LinesWriter::new(Stdout::new())),
        Form::Json => Keys::Sorted(SortedJson::new(
            (read.memory() / 2).min(SORT_MEMORY) as usize
        )),
    };
    let out = Rc::new(RefCell::new(Some(keys)));
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
            match w.borrow_mut().as_mut() {
                Some(Keys::Lines(w)) => w.key(d, &e).map_err(io),
                Some(Keys::Sorted(s)) => s.push(&e).map_err(io),
                None => Ok(()),
            }
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
    match out.borrow_mut().take().expect("the writer is taken once") {
        Keys::Lines(w) => w.finish(&c.dataset).map_err(io)?.finish(),
        Keys::Sorted(s) => {
            let mut stdout = Stdout::new();
            s.finish(&c.dataset, &mut stdout).map_err(io)?;
            stdout.finish();
        }
    }
    Ok(())
}
