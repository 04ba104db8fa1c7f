//! Dataset JSON lines (`dataset-lines/1`, `docs/dataset-json.md`): the streaming form of the
//! contract, one object per line in file order, written and read here and nowhere else.
//!
//! A header line `{"format": "dataset-lines/1", "source": ...}`, then `{"function": <bytes>}` and
//! key lines (the key objects of Dataset JSON), then `{"end": {"keys": N, "functions": M}}`, whose
//! absence marks an output cut short.
use super::json_read::{bytes_of, entry_of, get, obj, JsonError, Path};
use super::json_write::{Bytes, EntryJson, SourceJson};
use super::*;
use serde_json::{json, Value as J};
use std::io::{self, Write};

/// The `format` of the header line.
pub const LINES_FORMAT: &str = "dataset-lines/1";

/// Writes Dataset JSON lines as keys arrive: header first (with whatever functions are known by
/// then), each key on its own line, the end line last.
pub struct LinesWriter<W: Write> {
    w: W,
    header_done: bool,
    functions_written: usize,
    keys: u64,
}

impl<W: Write> LinesWriter<W> {
    /// A writer onto `w`.
    pub fn new(w: W) -> LinesWriter<W> {
        LinesWriter {
            w,
            header_done: false,
            functions_written: 0,
            keys: 0,
        }
    }

    fn line(&mut self, v: &impl serde::Serialize) -> io::Result<()> {
        serde_json::to_writer(&mut self.w, v).map_err(io::Error::other)?;
        self.w.write_all(b"\n")
    }

    /// The header, then the functions of `d` not yet written.
    fn catch_up(&mut self, d: &Dataset) -> io::Result<()> {
        if !self.header_done {
            self.header_done = true;
            let header = Header {
                source: d.source.as_ref(),
            };
            self.line(&header)?;
        }
        while self.functions_written < d.functions.len() {
            let f = &d.functions[self.functions_written];
            self.functions_written += 1;
            self.line(&FunctionLine(f))?;
        }
        Ok(())
    }

    /// One key; `d` holds the source and functions read so far.
    pub fn key(&mut self, d: &Dataset, e: &Entry) -> io::Result<()> {
        self.catch_up(d)?;
        self.keys += 1;
        self.line(&EntryJson(e))
    }

    /// The end line; gives the output back.
    pub fn finish(mut self, d: &Dataset) -> io::Result<W> {
        self.catch_up(d)?;
        let end = json!({"end": {"keys": self.keys, "functions": self.functions_written}});
        self.line(&end)?;
        self.w.flush()?;
        Ok(self.w)
    }
}

struct Header<'a> {
    source: Option<&'a SourceInfo>,
}

impl serde::Serialize for Header<'_> {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        use serde::ser::SerializeMap;
        let mut m = s.serialize_map(None)?;
        m.serialize_entry("format", LINES_FORMAT)?;
        if let Some(src) = self.source {
            m.serialize_entry("source", &SourceJson(src))?;
        }
        m.end()
    }
}

struct FunctionLine<'a>(&'a [u8]);

impl serde::Serialize for FunctionLine<'_> {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        use serde::ser::SerializeMap;
        let mut m = s.serialize_map(Some(1))?;
        m.serialize_entry("function", &Bytes(self.0))?;
        m.end()
    }
}

/// A whole dataset as lines (keys in its order).
pub fn write_lines<W: Write>(d: &Dataset, w: W) -> io::Result<()> {
    let mut lw = LinesWriter::new(w);
    for e in &d.keys {
        lw.key(d, e)?;
    }
    lw.finish(d).map(drop)
}

/// Whether `text` starts like Dataset JSON lines (its first line a `dataset-lines/1` header).
pub fn is_json_lines(text: &str) -> bool {
    let first = text.lines().find(|l| !l.trim().is_empty()).unwrap_or("");
    serde_json::from_str::<J>(first)
        .ok()
        .and_then(|v| {
            v.get("format")
                .and_then(J::as_str)
                .map(|f| f == LINES_FORMAT)
        })
        .unwrap_or(false)
}

/// Reads Dataset JSON lines into a dataset in canonical order. The end line must be there and
/// agree with what came before it, so a cut output is refused, not taken for a smaller dataset.
pub fn from_json_lines(text: &str) -> Result<Dataset, JsonError> {
    let mut d = Dataset::default();
    let mut ended = false;
    let mut header = false;
    for (n, line) in text
        .lines()
        .enumerate()
        .filter(|(_, l)| !l.trim().is_empty())
    {
        let mut p = Path(vec![format!("line {}", n + 1)]);
        if ended {
            return Err(p.err("a line after the end line"));
        }
        let v: J = serde_json::from_str(line).map_err(|e| p.err(format!("invalid JSON: {e}")))?;
        let o = obj(&p, &v)?;
        if !header {
            match o.get("format").and_then(J::as_str) {
                Some(LINES_FORMAT) => header = true,
                other => {
                    let found = super::json_read::shown_format(other);
                    return Err(p.err(format!("format must be {LINES_FORMAT:?}, found {found}")));
                }
            }
            if let Some(s) = o.get("source").filter(|s| !s.is_null()) {
                d.source = Some(p.with(".source", |p| super::json_read::source_of(p, s))?);
            }
        } else if let Some(f) = o.get("function") {
            d.functions.push(p.with(".function", |p| bytes_of(p, f))?);
        } else if let Some(end) = o.get("end") {
            let e = obj(&p, end)?;
            let keys = get(&p, e, "keys")?.as_u64();
            let functions = get(&p, e, "functions")?.as_u64();
            if keys != Some(d.keys.len() as u64) || functions != Some(d.functions.len() as u64) {
                return Err(p.err(format!(
                    "the end line counts {keys:?} keys and {functions:?} functions, the lines hold {} and {}",
                    d.keys.len(),
                    d.functions.len()
                )));
            }
            ended = true;
        } else {
            d.keys.push(entry_of(&mut p, &v)?);
        }
    }
    if !ended {
        return Err(JsonError {
            path: String::new(),
            message: "no end line: the lines were cut short".into(),
        });
    }
    d.canonicalize();
    Ok(d)
}
