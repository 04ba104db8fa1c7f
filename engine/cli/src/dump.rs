//! The `dump` and `check` verbs: decode a file (or a stream), print its dataset or its summary,
//! and map refusals to exit code 1 with a one-line message (and the error object under --json).
use crate::out::plural;
use crate::safety::{Input, Shape, Stop};
use crate::{note, say, ReadFlags};
use redis_persist_engine::aof::{self, LoadOptions};
use redis_persist_engine::check::{self, checksum_phrase, Checked, Summary};
use redis_persist_engine::dataset::{self, Dataset, Value};
use redis_persist_engine::format::rdb::ReadOptions;
use redis_persist_engine::format::Error;
use serde_json::json;
use std::io::{Read, Write};
use std::path::Path;
use std::process::ExitCode;

fn error_json(e: &Error) -> serde_json::Value {
    json!({ "error": { "kind": e.kind.as_str(), "offset": e.offset, "message": e.message() } })
}

fn refuse(path: &Path, e: &Error, json_out: bool) -> ExitCode {
    if json_out {
        say!("{:#}", error_json(e));
    }
    note!("redis-persist: {}: {e}", shown(path));
    ExitCode::from(1)
}

/// A path as messages name it.
pub fn shown(path: &Path) -> String {
    if path.as_os_str() == "-" {
        "standard input".into()
    } else {
        path.display().to_string()
    }
}

/// Reader options for a verb's flags.
pub fn read_options(read: &ReadFlags) -> ReadOptions {
    ReadOptions {
        verify_checksum: !read.ignore_checksum,
        limits: crate::budget::limits(read.memory()),
        strict: read.strict,
        ..ReadOptions::default()
    }
}

fn now_ms() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_millis() as i64)
}

/// Loads whatever `path` holds: an RDB, an AOF (a stream, a directory or its manifest) or
/// Dataset JSON. A tail Redis would cut is reported on stderr; the input is never modified.
pub fn load_any(path: &Path, read: &ReadFlags, load_truncated: bool) -> Result<Dataset, LoadError> {
    let mut input = Input::open(path).map_err(LoadError::Stop)?;
    let opts = LoadOptions {
        load_truncated,
        now_ms: now_ms(),
        rdb: read_options(read),
        memory_limit: Some(read.memory()),
    };
    let loaded = match input.shape {
        Shape::Directory => aof::load(path, &opts),
        Shape::Manifest if input.is_regular() => aof::load(path, &opts),
        Shape::Manifest => {
            return Err(LoadError::Stop(Stop::Usage(format!(
                "{}: a manifest is read from its appendonly directory, not from a stream",
                shown(path)
            ))))
        }
        Shape::Json => {
            let mut text = String::new();
            let limit = read.memory();
            input
                .take_reader()
                .take(limit)
                .read_to_string(&mut text)
                .map_err(|e| LoadError::Stop(Stop::Usage(format!("{}: {e}", shown(path)))))?;
            input.done();
            let mut d = dataset::from_json_str(&text).map_err(|e| {
                LoadError::Stop(Stop::Refused(format!(
                    "{}: not a valid dataset: {e}",
                    shown(path)
                )))
            })?;
            d.canonicalize();
            return Ok(d);
        }
        Shape::Rdb | Shape::Aof | Shape::Unknown => {
            let len = input.len;
            let r = aof::load_stream(input.take_reader(), len, path, &opts);
            input.done();
            r
        }
    };
    let l = loaded.map_err(LoadError::Format)?;
    if let Some(t) = &l.truncated {
        note!(
            "redis-persist: {}: {} at byte {} of {}; Redis would truncate the file there (aof-load-truncated yes); this input was not modified",
            t.file.display(),
            t.reason,
            t.valid_len,
            t.file_len
        );
    }
    Ok(l.dataset)
}

/// Why an input could not be loaded.
pub enum LoadError {
    /// Before any decoding: a usage problem.
    Stop(Stop),
    /// The content was refused.
    Format(Error),
}

/// `redis-persist dump`.
pub fn dump(path: &Path, json_out: bool, load_truncated: bool, read: &ReadFlags) -> ExitCode {
    let ds = match load_any(path, read, load_truncated) {
        Ok(d) => d,
        Err(LoadError::Stop(s)) => return s.exit(),
        Err(LoadError::Format(e)) => return refuse(path, &e, json_out),
    };
    let mut out = crate::out::Stdout::new();
    let r = if json_out {
        dataset::write_json(&ds, &mut out)
    } else {
        listing(&ds, &mut out)
    };
    // Write errors end the process in `out`; anything else is a serializer's.
    if let Err(e) = r {
        note!("redis-persist: writing the output: {e}");
        return ExitCode::from(1);
    }
    out.finish();
    ExitCode::SUCCESS
}

const SHOWN: usize = 8;

/// Longest element shown whole in a listing; longer ones are cut and their length given.
const SHOWN_BYTES: usize = 64;

fn show(b: &[u8]) -> String {
    if b.len() > SHOWN_BYTES {
        return format!("{}...({} bytes)", show_all(&b[..SHOWN_BYTES]), b.len());
    }
    show_all(b)
}

fn show_all(b: &[u8]) -> String {
    let mut s = String::from("\"");
    for c in b.utf8_chunks() {
        for ch in c.valid().chars() {
            match ch {
                '"' => s.push_str("\\\""),
                '\\' => s.push_str("\\\\"),
                c if c.is_control() => s.push_str(&format!("\\x{:02x}", c as u32)),
                c => s.push(c),
            }
        }
        for &x in c.invalid() {
            s.push_str(&format!("\\x{x:02x}"));
        }
    }
    s.push('"');
    s
}

fn more(n: usize) -> String {
    if n > SHOWN {
        format!(", ... {} more", n - SHOWN)
    } else {
        String::new()
    }
}

fn listing(d: &Dataset, out: &mut impl Write) -> std::io::Result<()> {
    // The first line is the result (what was read, how many keys), with or without a source.
    let counts = format!(
        "{}, {}",
        plural(d.keys.len(), "key", "keys"),
        plural(d.functions.len(), "function", "functions")
    );
    let Some(s) = &d.source else {
        return writeln!(out, "# {counts}").and_then(|()| body(d, out));
    };
    match (&s.magic, s.version) {
        (Some(m), Some(v)) => {
            let w = if m == "VALKEY" { 3 } else { 4 };
            writeln!(out, "# {m}{v:0w$} ({}), {counts}", s.kind)?
        }
        _ => writeln!(out, "# {}, {counts}", s.kind)?,
    }
    for (k, v) in &s.aux {
        writeln!(out, "# aux {} = {}", show(k), show(v))?;
    }
    body(d, out)
}

/// The listing's functions and keys, one line each.
fn body(d: &Dataset, out: &mut impl Write) -> std::io::Result<()> {
    for f in &d.functions {
        let first = f.split(|&b| b == b'\n').next().unwrap_or_default();
        writeln!(out, "function {}", show(first))?;
    }
    for e in &d.keys {
        let mut line = format!("db {} {} {}", e.db, e.value.type_name(), show(&e.key));
        if let Some(t) = e.expire_ms {
            line.push_str(&format!(" expire_ms={t}"));
        }
        if let Some(i) = e.idle_s {
            line.push_str(&format!(" idle_s={i}"));
        }
        if let Some(f) = e.freq {
            line.push_str(&format!(" freq={f}"));
        }
        let body = match &e.value {
            Value::String(s) => show(s),
            Value::List(l) | Value::Set(l) => {
                let items: Vec<String> = l.iter().take(SHOWN).map(|x| show(x)).collect();
                format!(
                    "[{}{}] ({})",
                    items.join(", "),
                    more(l.len()),
                    plural(l.len(), "element", "elements")
                )
            }
            Value::Hash(h) => {
                let items: Vec<String> = h
                    .iter()
                    .take(SHOWN)
                    .map(|f| match f.expire_ms {
                        Some(t) => {
                            format!("{}: {} (expire_ms={t})", show(&f.field), show(&f.value))
                        }
                        None => format!("{}: {}", show(&f.field), show(&f.value)),
                    })
                    .collect();
                format!(
                    "{{{}{}}} ({})",
                    items.join(", "),
                    more(h.len()),
                    plural(h.len(), "field", "fields")
                )
            }
            Value::Zset(z) => {
                let items: Vec<String> = z
                    .iter()
                    .take(SHOWN)
                    .map(|m| format!("{} {}", show(&m.member), dataset::score_text(m.score)))
                    .collect();
                format!(
                    "[{}{}] ({})",
                    items.join(", "),
                    more(z.len()),
                    plural(z.len(), "member", "members")
                )
            }
            Value::Stream(s) => format!(
                "length={} last_id={} entries={} groups={}",
                s.length,
                s.last_id,
                s.entries.len(),
                s.groups.len()
            ),
            Value::Array(a) => {
                let items: Vec<String> = a
                    .elements
                    .iter()
                    .take(SHOWN)
                    .map(|(i, v)| format!("{i}: {}", show(v)))
                    .collect();
                format!(
                    "[{}{}] ({})",
                    items.join(", "),
                    more(a.elements.len()),
                    plural(a.elements.len(), "element", "elements")
                )
            }
            Value::Module(m) => format!(
                "module {} encver {} ({} payload bytes)",
                m.name,
                m.encver,
                m.payload.len()
            ),
        };
        writeln!(out, "{line} = {body}")?;
    }
    Ok(())
}

/// `check`'s flags beyond reading.
pub struct CheckArgs {
    pub json: bool,
    pub fix: bool,
    pub yes: bool,
    pub truncate_to: Option<i64>,
}

/// `redis-persist check`: an RDB as redis-check-rdb checks it, an AOF as redis-check-aof does.
pub fn check(path: &Path, a: CheckArgs, read: &ReadFlags) -> ExitCode {
    let mut input = match Input::open(path) {
        Ok(i) => i,
        Err(s) => return s.exit(),
    };
    let aof_only = a.fix || a.truncate_to.is_some();
    match input.shape {
        Shape::Directory | Shape::Manifest
            if input.shape == Shape::Directory || input.is_regular() =>
        {
            return crate::check_aof::check(path, &a, read);
        }
        Shape::Json => {
            return Stop::Usage(format!(
                "{}: Dataset JSON; check reads RDB and AOF files (convert validates a dataset)",
                shown(path)
            ))
            .exit()
        }
        _ => {}
    }
    let started = std::time::Instant::now();
    let len = input.len;
    let result = check::check_stream(input.take_reader(), len, path, read_options(read));
    input.done();
    match result {
        Ok(Checked::Rdb(s)) => {
            if aof_only {
                return Stop::Usage(format!(
                    "{}: an RDB file; --fix and --truncate-to-timestamp apply to AOFs only",
                    shown(path)
                ))
                .exit();
            }
            if a.json {
                say!("{:#}", summary_json(path, &s));
            } else {
                print_summary(path, &s, len, started.elapsed());
            }
            ExitCode::SUCCESS
        }
        Ok(Checked::Aof(..)) if input.is_regular() => crate::check_aof::check(path, &a, read),
        Ok(Checked::Aof(f, _)) => {
            if aof_only {
                return Stop::Usage(format!(
                    "{}: a stream cannot be cut; --fix and --truncate-to-timestamp need the file",
                    shown(path)
                ))
                .exit();
            }
            crate::check_aof::report_stream(path, &f, a.json)
        }
        Err(e) => {
            if a.json {
                // As for an AOF: the file named, beside the error `dump --json` prints.
                let mut doc = json!({"file": shown(path), "valid": false});
                doc["error"] = error_json(&e)["error"].take();
                say!("{doc:#}");
            } else {
                say!("{}: invalid: {e}", shown(path));
            }
            ExitCode::from(1)
        }
    }
}

fn summary_json(path: &Path, s: &Summary) -> serde_json::Value {
    let keys: serde_json::Map<String, serde_json::Value> = s
        .keys
        .iter()
        .map(|(db, m)| (db.to_string(), json!(m)))
        .collect();
    json!({
        "file": shown(path),
        "valid": true,
        "magic": s.magic,
        "version": s.version,
        "aux": s.aux,
        "keys": keys,
        "total_keys": s.total_keys(),
        "expires": s.expires,
        "empty_keys": s.empty_keys,
        "functions": s.functions,
        "module_aux": s.module_aux,
        "encodings": s.encodings,
        "notes": s.notes,
        "warnings": warnings_json(s),
        "largest_element": s.largest_element,
        "checksum": s.trailer.map(|t| checksum_phrase(t.checksum)),
        "trailing_bytes": s.trailing_bytes,
        "trailing_bytes_more": s.trailing_more,
    })
}

/// Warnings as `[{"kind", "count", "first_offset", "message"}]`, in a fixed order.
fn warnings_json(s: &Summary) -> serde_json::Value {
    s.warnings
        .iter()
        .map(|(k, (n, at))| {
            json!({"kind": k.name(), "count": n, "first_offset": at, "message": k.describe()})
        })
        .collect()
}

fn print_summary(path: &Path, s: &Summary, len: Option<u64>, took: std::time::Duration) {
    say!("{}: valid {}{:04}", shown(path), s.magic, s.version);
    for (k, v) in &s.aux {
        say!("  aux {} = {}", show(k.as_bytes()), show(v.as_bytes()));
    }
    for (db, m) in &s.keys {
        let parts: Vec<String> = m.iter().map(|(t, n)| format!("{n} {t}")).collect();
        say!(
            "  db {db}: {} keys ({})",
            m.values().sum::<u64>(),
            parts.join(", ")
        );
    }
    say!(
        "  keys: {} total, {} with expiry, {} empty (skipped by servers)",
        s.total_keys(),
        s.expires,
        s.empty_keys
    );
    if s.functions > 0 {
        say!("  functions: {}", s.functions);
    }
    for (m, n) in &s.module_aux {
        say!("  module aux: {m} ({n})");
    }
    for (e, n) in &s.encodings {
        say!("  encoding {e}: {n}");
    }
    for (e, n) in &s.notes {
        say!("  {e}: {n}");
    }
    say!("  largest element: {} bytes", s.largest_element);
    for (k, (n, at)) in &s.warnings {
        say!(
            "  warning: {} ({n}, first at byte {at}); Redis loads this, --strict refuses it",
            k.describe()
        );
    }
    if let Some(t) = s.trailer {
        say!("  checksum: {}", checksum_phrase(t.checksum));
    }
    if s.trailing_bytes > 0 {
        let more = if s.trailing_more {
            " (at least; counting stopped there)"
        } else {
            ""
        };
        say!(
            "  {} bytes after the checksum{more} (ignored, as Redis does)",
            s.trailing_bytes
        );
    }
    if let Some(l) = len {
        let secs = took.as_secs_f64().max(1e-9);
        say!(
            "  read {l} bytes in {:.3} s ({:.0} MB/s)",
            secs,
            l as f64 / secs / 1e6
        );
    }
}
