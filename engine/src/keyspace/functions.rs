//! Function libraries keyed by the `name=` of their `#!<engine> name=<lib>` shebang: FUNCTION
//! LOAD [REPLACE], DELETE, FLUSH, RESTORE (from a FUNCTION DUMP payload) and LIST (names only).
use super::args::is;
use super::reply::{err, CmdResult, CommandError, Reply};
use super::{arity_ok, spec, Cx, Keyspace, Spec};
use crate::format::rdb::{payload, ReadOptions};
use std::collections::BTreeMap;

pub(crate) const COMMANDS: &[Spec] = &[spec("function", -2, function)];

/// A FUNCTION subcommand handler.
type Sub = fn(&mut Keyspace, &[&[u8]]) -> Reply;

/// Newest RDB version whose function payloads this engine reads (Redis 7.4 writes 12).
const MAX_RDB_VERSION: u16 = 12;

/// The library name in a source's shebang (`functionExtractLibMetaData`), or the error text.
pub(crate) fn library_name(code: &[u8]) -> Result<Vec<u8>, String> {
    if !code.starts_with(b"#!") {
        return Err("ERR Missing library metadata".into());
    }
    let Some(end) = code.iter().position(|&b| b == b'\n') else {
        return Err("ERR Invalid library metadata".into());
    };
    let mut parts = code[..end]
        .split(|b| b.is_ascii_whitespace())
        .filter(|p| !p.is_empty());
    let engine = &parts.next().ok_or("ERR Invalid library metadata")?[2..];
    let mut name: Option<Vec<u8>> = None;
    for p in parts {
        if p.len() >= 5 && p[..5].eq_ignore_ascii_case(b"name=") {
            if name.is_some() {
                return Err(
                    "ERR Invalid metadata value, name argument was given multiple times".into(),
                );
            }
            name = Some(p[5..].to_vec());
        } else {
            return Err(format!(
                "ERR Invalid metadata value given: {}",
                String::from_utf8_lossy(p)
            ));
        }
    }
    let name = name.ok_or("ERR Library name was not given")?;
    if name.is_empty() || !name.iter().all(|b| b.is_ascii_alphanumeric() || *b == b'_') {
        return Err("ERR Library names can only contain letters, numbers, or underscores(_) and must be at least one character long".into());
    }
    if !engine.eq_ignore_ascii_case(b"lua") {
        return Err(format!(
            "ERR Engine '{}' not found",
            String::from_utf8_lossy(engine)
        ));
    }
    Ok(name)
}

/// FUNCTION <sub> ...: the code itself is not compiled (no Lua here), so a library that a
/// server would refuse for a script error or a duplicate function name is accepted.
fn function(k: &mut Keyspace, _: &mut Cx, a: &[&[u8]]) -> CmdResult {
    let sub = a[1].to_ascii_lowercase();
    let (arity, run): (i32, Sub) = match sub.as_slice() {
        b"load" => (-3, load),
        b"delete" => (3, delete),
        b"flush" => (-2, flush),
        b"restore" => (-3, restore),
        b"list" => (-2, list),
        _ => {
            return err(format!(
                "ERR unknown subcommand '{}'. Try FUNCTION HELP.",
                String::from_utf8_lossy(a[1])
            ))
        }
    };
    if !arity_ok(arity, a.len()) {
        return Err(CommandError::WrongArity(format!(
            "function|{}",
            String::from_utf8_lossy(&sub)
        )));
    }
    Ok(run(k, a))
}

/// FUNCTION LOAD [REPLACE] code: replies with the library name.
fn load(k: &mut Keyspace, a: &[&[u8]]) -> Reply {
    let (replace, code) = match a.len() {
        3 => (false, a[2]),
        4 if is(a[2], "replace") => (true, a[3]),
        _ => {
            return Reply::Error(format!(
                "ERR Unknown option given: {}",
                String::from_utf8_lossy(a[2])
            ))
        }
    };
    let name = match library_name(code) {
        Ok(n) => n,
        Err(e) => return Reply::Error(e),
    };
    if !replace && k.functions.contains_key(&name) {
        return Reply::Error(format!(
            "ERR Library '{}' already exists",
            String::from_utf8_lossy(&name)
        ));
    }
    k.functions.insert(name.clone(), code.to_vec());
    Reply::Bulk(name)
}

fn delete(k: &mut Keyspace, a: &[&[u8]]) -> Reply {
    match k.functions.remove(a[2]) {
        Some(_) => Reply::Ok,
        None => Reply::Error("ERR Library not found".into()),
    }
}

fn flush(k: &mut Keyspace, a: &[&[u8]]) -> Reply {
    match a.len() {
        2 => {}
        3 if is(a[2], "async") || is(a[2], "sync") => {}
        _ => return Reply::Error("ERR FUNCTION FLUSH only supports SYNC|ASYNC option".into()),
    }
    k.functions.clear();
    Reply::Ok
}

/// FUNCTION LIST (names only, sorted; options ignored).
fn list(k: &mut Keyspace, _: &[&[u8]]) -> Reply {
    Reply::bulks(k.functions.keys().cloned())
}

/// The library sources in a FUNCTION DUMP payload (`format::rdb::payload`), with RESTORE's
/// reply texts: the footer is checked first (a zero CRC is accepted, as with `rdbchecksum no`).
pub(crate) fn parse_dump(payload: &[u8]) -> Result<Vec<Vec<u8>>, String> {
    let bad = || "ERR DUMP payload version or checksum are wrong".to_string();
    match payload::split(payload) {
        Ok((_, f)) if f.version <= MAX_RDB_VERSION && f.crc_ok() => {}
        _ => return Err(bad()),
    }
    match payload::decode_functions(payload, ReadOptions::default()) {
        Ok((libs, _)) => Ok(libs),
        Err(e) if e.what == "function record" => Err("ERR given type is not a function".into()),
        Err(_) => Err("ERR failed loading the given functions payload".into()),
    }
}

/// FUNCTION RESTORE payload [FLUSH|APPEND|REPLACE] (APPEND by default).
fn restore(k: &mut Keyspace, a: &[&[u8]]) -> Reply {
    if a.len() > 4 {
        return Reply::Error(
            "ERR unknown subcommand or wrong number of arguments for 'restore'".into(),
        );
    }
    let policy = a.get(3).map(|p| p.to_ascii_lowercase());
    if !matches!(
        policy.as_deref(),
        None | Some(b"append" | b"replace" | b"flush")
    ) {
        return Reply::Error(
            "ERR Wrong restore policy given, value should be either FLUSH, APPEND or REPLACE."
                .into(),
        );
    }
    let libs = match parse_dump(a[2]) {
        Ok(l) => l,
        Err(e) => return Reply::Error(e),
    };
    let mut incoming = BTreeMap::new();
    for code in libs {
        match library_name(&code) {
            Ok(name) => {
                incoming.insert(name, code);
            }
            Err(e) => return Reply::Error(e),
        }
    }
    match policy.as_deref() {
        Some(b"flush") => k.functions = incoming,
        Some(b"replace") => k.functions.extend(incoming),
        _ => {
            if let Some(name) = incoming.keys().find(|n| k.functions.contains_key(*n)) {
                return Reply::Error(format!(
                    "ERR Library {} already exists",
                    String::from_utf8_lossy(name)
                ));
            }
            k.functions.extend(incoming);
        }
    }
    Reply::Ok
}
