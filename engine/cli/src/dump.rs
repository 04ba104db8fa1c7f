//! The `dump` and `check` verbs: decode a file, print its dataset or its summary, and map
//! refusals to exit code 1 with a one-line message (and the error object under --json).
use crate::input;
use redis_persist_engine::check::{check as check_rdb, checksum_phrase, Summary};
use redis_persist_engine::dataset::{self, Dataset, Value};
use redis_persist_engine::format::rdb::{read_dataset_from, ReadOptions};
use redis_persist_engine::format::Error;
use serde_json::json;
use std::io::Write;
use std::path::Path;
use std::process::ExitCode;

fn error_json(e: &Error) -> serde_json::Value {
    json!({ "error": { "kind": e.kind.as_str(), "offset": e.offset, "message": e.message() } })
}

fn refuse(path: &Path, e: &Error, json_out: bool) -> ExitCode {
    if json_out {
        println!(
            "{}",
            serde_json::to_string_pretty(&error_json(e)).expect("JSON values serialize")
        );
    }
    eprintln!("redis-persist: {}: {e}", path.display());
    ExitCode::from(1)
}

fn opts(ignore_checksum: bool, len: Option<u64>) -> ReadOptions {
    ReadOptions {
        verify_checksum: !ignore_checksum,
        total_len: len,
        ..ReadOptions::default()
    }
}

/// Why an input could not be loaded.
pub enum Refusal {
    /// The path could not be opened: a usage error.
    Usage(std::io::Error),
    /// The content was refused.
    Format(Error),
}

/// Loads an RDB or an AOF (single file, preamble AOF, directory or manifest) into a dataset.
/// For an AOF, a tail Redis would cut is reported on stderr; the input is never modified.
pub fn load_any(
    path: &Path,
    ignore_checksum: bool,
    load_truncated: bool,
) -> Result<Dataset, Refusal> {
    let mut rdb: Option<Result<(Dataset, u64), Refusal>> = None;
    let aof = input::is_aof(path, || {
        let r = read_rdb(path, ignore_checksum);
        let end = r.as_ref().ok().map(|(_, e)| *e);
        rdb = Some(r);
        end
    });
    if !aof {
        return rdb
            .unwrap_or_else(|| read_rdb(path, ignore_checksum))
            .map(|(d, _)| d);
    }
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_millis() as i64);
    let lo = redis_persist_engine::aof::LoadOptions {
        load_truncated,
        now_ms: now,
        rdb: opts(ignore_checksum, None),
    };
    let l = redis_persist_engine::aof::load(path, &lo).map_err(Refusal::Format)?;
    if let Some(t) = &l.truncated {
        eprintln!(
            "redis-persist: {}: {} at byte {} of {}; Redis would truncate the file there (aof-load-truncated yes); this input was not modified",
            t.file.display(),
            t.reason,
            t.valid_len,
            t.file_len
        );
    }
    Ok(l.dataset)
}

fn read_rdb(path: &Path, ignore_checksum: bool) -> Result<(Dataset, u64), Refusal> {
    let inp = input::open(path).map_err(Refusal::Usage)?;
    let result = read_dataset_from(inp.reader, opts(ignore_checksum, inp.len));
    if let Some(p) = inp.progress {
        p.finish_and_clear();
    }
    result
        .map(|(d, t)| (d, t.end_offset))
        .map_err(Refusal::Format)
}

fn usage_error(path: &Path, e: std::io::Error) -> ExitCode {
    eprintln!("redis-persist: cannot open {}: {e}", path.display());
    ExitCode::from(2)
}

/// `redis-persist dump`.
pub fn dump(path: &Path, json_out: bool, ignore_checksum: bool, load_truncated: bool) -> ExitCode {
    let ds = match load_any(path, ignore_checksum, load_truncated) {
        Ok(d) => d,
        Err(Refusal::Usage(e)) => return usage_error(path, e),
        Err(Refusal::Format(e)) => return refuse(path, &e, json_out),
    };
    let out = std::io::stdout();
    let mut out = std::io::BufWriter::new(out.lock());
    let r = if json_out {
        dataset::write_json(&ds, &mut out)
    } else {
        listing(&ds, &mut out)
    };
    match r.and_then(|_| out.flush()) {
        Ok(()) => ExitCode::SUCCESS,
        // A closed pipe (`| head`) is the reader's choice, not a failure of ours.
        Err(e) if e.kind() == std::io::ErrorKind::BrokenPipe => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("redis-persist: writing output: {e}");
            ExitCode::from(1)
        }
    }
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
    if let Some(s) = &d.source {
        match (&s.magic, s.version) {
            (Some(m), Some(v)) => {
                let w = if m == "VALKEY" { 3 } else { 4 };
                writeln!(
                    out,
                    "# {m}{v:0w$} ({}), {} keys, {} functions",
                    s.kind,
                    d.keys.len(),
                    d.functions.len()
                )?
            }
            _ => writeln!(
                out,
                "# {}, {} keys, {} functions",
                s.kind,
                d.keys.len(),
                d.functions.len()
            )?,
        }
        for (k, v) in &s.aux {
            writeln!(out, "# aux {} = {}", show(k), show(v))?;
        }
    }
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
                    "[{}{}] ({} elements)",
                    items.join(", "),
                    more(l.len()),
                    l.len()
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
                    "{{{}{}}} ({} fields)",
                    items.join(", "),
                    more(h.len()),
                    h.len()
                )
            }
            Value::Zset(z) => {
                let items: Vec<String> = z
                    .iter()
                    .take(SHOWN)
                    .map(|m| format!("{} {}", show(&m.member), dataset::score_text(m.score)))
                    .collect();
                format!(
                    "[{}{}] ({} members)",
                    items.join(", "),
                    more(z.len()),
                    z.len()
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
                    "[{}{}] ({} elements)",
                    items.join(", "),
                    more(a.elements.len()),
                    a.elements.len()
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

/// What `check` of an RDB found.
pub enum Checked {
    /// Finished, with this exit code.
    Done(ExitCode),
    /// A valid RDB followed by a RESP tail: the file is a preamble AOF.
    Tail,
}

/// `redis-persist check` of an RDB.
pub fn check(path: &Path, json_out: bool, ignore_checksum: bool) -> Checked {
    let inp = match input::open(path) {
        Ok(i) => i,
        Err(e) => return Checked::Done(usage_error(path, e)),
    };
    let started = std::time::Instant::now();
    let result = check_rdb(inp.reader, opts(ignore_checksum, inp.len));
    if let Some(p) = inp.progress {
        p.finish_and_clear();
    }
    Checked::Done(match result {
        Ok(s) => {
            if s.trailing_bytes > 0 && resp_follows(path, s.trailer.map_or(0, |t| t.end_offset)) {
                println!("RDB preamble is OK, proceeding with AOF tail");
                return Checked::Tail;
            }
            if json_out {
                println!(
                    "{}",
                    serde_json::to_string_pretty(&summary_json(&s)).expect("JSON values serialize")
                );
            } else {
                print_summary(path, &s, inp.len, started.elapsed());
            }
            ExitCode::SUCCESS
        }
        Err(e) => {
            if json_out {
                println!(
                    "{}",
                    serde_json::to_string_pretty(&error_json(&e)).expect("JSON values serialize")
                );
            } else {
                println!("invalid: {e}");
            }
            ExitCode::from(1)
        }
    })
}

/// Whether the byte at `offset` of the file at `path` starts RESP (`*`) or an annotation (`#`).
fn resp_follows(path: &Path, offset: u64) -> bool {
    use std::io::{Read, Seek, SeekFrom};
    let mut b = [0u8; 1];
    std::fs::File::open(path)
        .and_then(|mut f| {
            f.seek(SeekFrom::Start(offset))
                .and_then(|_| f.read_exact(&mut b))
        })
        .is_ok()
        && matches!(b[0], b'*' | b'#')
}

fn summary_json(s: &Summary) -> serde_json::Value {
    let keys: serde_json::Map<String, serde_json::Value> = s
        .keys
        .iter()
        .map(|(db, m)| (db.to_string(), json!(m)))
        .collect();
    json!({
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
        "largest_element": s.largest_element,
        "checksum": s.trailer.map(|t| checksum_phrase(t.checksum)),
        "trailing_bytes": s.trailing_bytes,
    })
}

fn print_summary(path: &Path, s: &Summary, len: Option<u64>, took: std::time::Duration) {
    println!("{}: valid {}{:04}", path.display(), s.magic, s.version);
    for (k, v) in &s.aux {
        println!("  aux {} = {}", show(k.as_bytes()), show(v.as_bytes()));
    }
    for (db, m) in &s.keys {
        let parts: Vec<String> = m.iter().map(|(t, n)| format!("{n} {t}")).collect();
        println!(
            "  db {db}: {} keys ({})",
            m.values().sum::<u64>(),
            parts.join(", ")
        );
    }
    println!(
        "  keys: {} total, {} with expiry, {} empty (skipped by servers)",
        s.total_keys(),
        s.expires,
        s.empty_keys
    );
    if s.functions > 0 {
        println!("  functions: {}", s.functions);
    }
    for (m, n) in &s.module_aux {
        println!("  module aux: {m} ({n})");
    }
    for (e, n) in &s.encodings {
        println!("  encoding {e}: {n}");
    }
    for (e, n) in &s.notes {
        println!("  {e}: {n}");
    }
    println!("  largest element: {} bytes", s.largest_element);
    if let Some(t) = s.trailer {
        println!("  checksum: {}", checksum_phrase(t.checksum));
    }
    if s.trailing_bytes > 0 {
        println!(
            "  {} bytes after the checksum (ignored, as Redis does)",
            s.trailing_bytes
        );
    }
    if let Some(l) = len {
        let secs = took.as_secs_f64().max(1e-9);
        println!(
            "  read {l} bytes in {:.3} s ({:.0} MB/s)",
            secs,
            l as f64 / secs / 1e6
        );
    }
}
