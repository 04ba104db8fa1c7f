//! `redis-persist stats`: keyspace statistics of an RDB in one streaming pass (an AOF is replayed
//! first), as tables or JSON; the counting itself is `engine::stats`.
use crate::dump::{load_any, read_options, shown, LoadError};
use crate::out::plural;
use crate::safety::{Input, Shape, Stop};
use crate::{note, say, ReadFlags};
use redis_persist_engine::dataset::bytes_text;
use redis_persist_engine::format::rdb::RdbReader;
use redis_persist_engine::stats::{Agg, KeyStat, Stats, EXPIRY_BUCKETS};
use serde_json::json;
use std::path::Path;
use std::process::ExitCode;

/// Which grouping leads the report.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum By {
    /// Logical type.
    Type,
    /// Database.
    Db,
    /// RDB encoding.
    Encoding,
    /// Key prefix up to a separator byte.
    Prefix(u8),
}

/// Parses `type`, `db`, `encoding`, `prefix` (separator `:`) or `prefix:SEP` (one byte).
pub fn parse_by(s: &str) -> Result<By, String> {
    match s {
        "type" => Ok(By::Type),
        "db" => Ok(By::Db),
        "encoding" => Ok(By::Encoding),
        "prefix" => Ok(By::Prefix(b':')),
        _ => match s.strip_prefix("prefix:").map(str::as_bytes) {
            Some([sep]) => Ok(By::Prefix(*sep)),
            _ => Err("expected type, db, encoding, prefix or prefix:SEP (one byte)".into()),
        },
    }
}

fn now_ms() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_millis() as i64)
}

/// `redis-persist stats FILE`.
pub fn stats(path: &Path, by: By, top: usize, json_out: bool, read: &ReadFlags) -> ExitCode {
    let sep = match by {
        By::Prefix(s) => Some(s),
        _ => None,
    };
    let mut input = match Input::open(path) {
        Ok(i) => i,
        Err(s) => return s.exit(),
    };
    let mut result = None;
    if input.shape == Shape::Rdb {
        let opts = redis_persist_engine::format::rdb::ReadOptions {
            total_len: input.len,
            ..read_options(read)
        };
        let mut s = Stats::new(top, sep, now_ms());
        let r = RdbReader::new(input.take_reader(), opts).and_then(|mut rd| rd.read_all(&mut s));
        input.done();
        match r {
            Ok(_) => result = Some(s),
            Err(e) => return refused(path, &e.to_string(), json_out),
        }
    }
    // An RDB followed by AOF commands, and every other input, is loaded (replayed) first.
    let s = match result {
        Some(s) if !s.aof_preamble => s,
        Some(_) if !input.is_regular() => {
            return Stop::Usage(format!(
            "{}: an AOF with an RDB preamble is replayed first; give it as a file, not a stream",
            shown(path)
        ))
            .exit()
        }
        _ => {
            drop(input);
            match load_any(path, read, true) {
                Ok(d) => Stats::of_dataset(&d, top, sep, now_ms()),
                Err(LoadError::Stop(s)) => return s.exit(),
                Err(LoadError::Format(e)) => return refused(path, &e.to_string(), json_out),
            }
        }
    };
    if json_out {
        say!("{:#}", to_json(&s, sep.is_some()));
    } else {
        print(path, &s, by, top);
    }
    ExitCode::SUCCESS
}

fn refused(path: &Path, e: &str, json_out: bool) -> ExitCode {
    if json_out {
        say!("{:#}", json!({ "error": { "message": e } }));
    }
    note!("redis-persist: {}: {e}", shown(path));
    ExitCode::from(1)
}

fn agg_json(a: &Agg) -> serde_json::Value {
    json!({"keys": a.keys, "bytes": a.bytes, "elements": a.elements, "expires": a.expires})
}

fn key_json(k: &KeyStat) -> serde_json::Value {
    json!({"db": k.db, "key": serde_json::from_str::<serde_json::Value>(&bytes_text(&k.key)).unwrap_or_default(),
           "type": k.kind, "bytes": k.bytes, "elements": k.elements, "expire_ms": k.expire_ms})
}

fn prefixes_desc(s: &Stats) -> Vec<(&Vec<u8>, &Agg)> {
    let mut v: Vec<_> = s.by_prefix.iter().collect();
    v.sort_by(|a, b| b.1.bytes.cmp(&a.1.bytes).then_with(|| a.0.cmp(b.0)));
    v
}

fn to_json(s: &Stats, prefixes: bool) -> serde_json::Value {
    let mut v = json!({
        "total": agg_json(&s.total),
        "by_type": s.by_type.iter().map(|(k, a)| (k.to_string(), agg_json(a))).collect::<serde_json::Map<_, _>>(),
        "by_encoding": s.by_encoding.iter().map(|(k, a)| (k.to_string(), agg_json(a))).collect::<serde_json::Map<_, _>>(),
        "by_db": s.by_db.iter().map(|(k, a)| (k.to_string(), agg_json(a))).collect::<serde_json::Map<_, _>>(),
        "expiry": {
            "none": s.expiry.0,
            "buckets": EXPIRY_BUCKETS.iter().zip(s.expiry.1).map(|((_, l), n)| json!({"when": l, "keys": n})).collect::<Vec<_>>(),
        },
        "top_by_bytes": s.top_by_bytes().iter().map(key_json).collect::<Vec<_>>(),
        "top_by_elements": s.top_by_elements().iter().map(key_json).collect::<Vec<_>>(),
    });
    if prefixes {
        v["by_prefix"] = prefixes_desc(s)
            .into_iter()
            .map(|(p, a)| {
                let mut o = agg_json(a);
                o["prefix"] = serde_json::from_str(&bytes_text(p)).unwrap_or_default();
                o
            })
            .collect();
    }
    v
}

fn row(name: &str, a: &Agg) {
    say!(
        "  {name:<24} {:>12} {:>16} {:>14} {:>12}",
        a.keys,
        a.bytes,
        a.elements,
        a.expires
    );
}

fn print(path: &Path, s: &Stats, by: By, top: usize) {
    say!(
        "{}: {}, {} in key records",
        shown(path),
        plural(s.total.keys, "key", "keys"),
        plural(s.total.bytes, "byte", "bytes")
    );
    say!(
        "  {:<24} {:>12} {:>16} {:>14} {:>12}",
        "",
        "keys",
        "bytes",
        "elements",
        "expires"
    );
    match by {
        By::Type => s.by_type.iter().for_each(|(k, a)| row(k, a)),
        By::Encoding => s.by_encoding.iter().for_each(|(k, a)| row(k, a)),
        By::Db => s.by_db.iter().for_each(|(k, a)| row(&format!("db {k}"), a)),
        By::Prefix(_) => {
            let all = prefixes_desc(s);
            for (p, a) in all.iter().take(top.max(1)) {
                row(&bytes_text(p), a);
            }
            if all.len() > top.max(1) {
                say!("  ... {} more prefixes", all.len() - top.max(1));
            }
        }
    }
    say!("expiry: {} without", s.expiry.0);
    for ((_, label), n) in EXPIRY_BUCKETS.iter().zip(s.expiry.1) {
        if n > 0 {
            say!("  {label}: {n}");
        }
    }
    for (title, keys) in [
        ("largest by bytes", s.top_by_bytes()),
        ("largest by elements", s.top_by_elements()),
    ] {
        if keys.is_empty() {
            continue;
        }
        say!("{title}:");
        for k in keys {
            say!(
                "  db {} {} {} ({}, {})",
                k.db,
                k.kind,
                bytes_text(&k.key),
                plural(k.bytes, "byte", "bytes"),
                plural(k.elements, "element", "elements")
            );
        }
    }
}
