//! Keyspace-wide commands: DEL/UNLINK, RENAME/RENAMENX, COPY, MOVE, the EXPIRE family and
//! PERSIST, FLUSHDB/FLUSHALL/SWAPDB, and the reads EXISTS/TYPE/TTL/PTTL/EXPIRETIME/DBSIZE.
use super::args::{is, parse_i64};
use super::db::Obj;
use super::reply::{err, msg, CmdResult, Reply};
use super::{readonly, spec, Cx, Keyspace, Spec};

pub(crate) const COMMANDS: &[Spec] = &[
    spec("del", -2, del),
    spec("unlink", -2, del),
    spec("rename", 3, rename),
    spec("renamenx", 3, renamenx),
    spec("copy", -3, copy),
    spec("move", 3, move_),
    spec("expire", -3, expire),
    spec("pexpire", -3, pexpire),
    spec("expireat", -3, expireat),
    spec("pexpireat", -3, pexpireat),
    spec("persist", 2, persist),
    spec("flushdb", -1, flushdb),
    spec("flushall", -1, flushall),
    spec("swapdb", 3, swapdb),
    readonly("exists", -2, exists),
    readonly("type", 2, type_),
    readonly("ttl", 2, ttl),
    readonly("pttl", 2, pttl),
    readonly("expiretime", 2, expiretime),
    readonly("pexpiretime", 2, pexpiretime),
    readonly("dbsize", 1, dbsize),
];

fn del(k: &mut Keyspace, cx: &mut Cx, a: &[&[u8]]) -> CmdResult {
    let db = k.db(cx.db);
    let n = a[1..]
        .iter()
        .filter(|key| db.take(key, cx.clock).is_some())
        .count();
    Ok(Reply::Int(n as i64))
}

fn rename_generic(k: &mut Keyspace, cx: &Cx, a: &[&[u8]], nx: bool) -> CmdResult {
    let db = k.db(cx.db);
    if !db.exists(a[1], cx.clock) {
        return err(msg::NO_KEY);
    }
    if a[1] == a[2] {
        return Ok(if nx { Reply::Int(0) } else { Reply::Ok });
    }
    if nx && db.exists(a[2], cx.clock) {
        return Ok(Reply::Int(0));
    }
    let slot = db.map.remove(a[1]).expect("checked above");
    db.map.insert(a[2].into(), slot);
    Ok(if nx { Reply::Int(1) } else { Reply::Ok })
}

/// RENAME: the value moves with its TTL, replacing the destination.
fn rename(k: &mut Keyspace, cx: &mut Cx, a: &[&[u8]]) -> CmdResult {
    rename_generic(k, cx, a, false)
}

fn renamenx(k: &mut Keyspace, cx: &mut Cx, a: &[&[u8]]) -> CmdResult {
    rename_generic(k, cx, a, true)
}

/// Parses a DB index argument: `Err` reply when not an int or out of range.
fn db_arg(k: &Keyspace, arg: &[u8], parse_msg: &str) -> Result<u64, Reply> {
    match parse_i64(arg).filter(|v| i32::try_from(*v).is_ok()) {
        None => Err(Reply::Error(parse_msg.into())),
        Some(v) if !k.valid_db(v) => Err(Reply::Error(msg::DB_RANGE.into())),
        Some(v) => Ok(v as u64),
    }
}

/// COPY source destination [DB n] [REPLACE]: the copy keeps the TTL. Module values are cloned
/// as opaque payloads (a server needs the module's copy callback).
fn copy(k: &mut Keyspace, cx: &mut Cx, a: &[&[u8]]) -> CmdResult {
    let (mut dst_db, mut replace) = (cx.db, false);
    let mut j = 3;
    while j < a.len() {
        if is(a[j], "replace") {
            replace = true;
        } else if is(a[j], "db") && j + 1 < a.len() {
            match db_arg(k, a[j + 1], msg::NOT_INT) {
                Ok(d) => dst_db = d,
                Err(e) => return Ok(e),
            }
            j += 1;
        } else {
            return err(msg::SYNTAX);
        }
        j += 1;
    }
    if dst_db == cx.db && a[1] == a[2] {
        return err("ERR source and destination objects are the same");
    }
    let Some(src) = k.db(cx.db).get(a[1], cx.clock) else {
        return Ok(Reply::Int(0));
    };
    let mut dup = src.clone();
    dup.stats = None;
    let dst = k.db(dst_db);
    if dst.exists(a[2], cx.clock) && !replace {
        return Ok(Reply::Int(0));
    }
    dst.put(a[2], dup);
    Ok(Reply::Int(1))
}

/// MOVE key db: the value moves with its TTL unless the key exists in the target.
fn move_(k: &mut Keyspace, cx: &mut Cx, a: &[&[u8]]) -> CmdResult {
    let target = match db_arg(k, a[2], msg::NOT_INT) {
        Ok(d) => d,
        Err(e) => return Ok(e),
    };
    if target == cx.db {
        return err("ERR source and destination objects are the same");
    }
    let (src, dst) = k.two_dbs(cx.db, target);
    if !src.exists(a[1], cx.clock) || dst.exists(a[1], cx.clock) {
        return Ok(Reply::Int(0));
    }
    let slot = src.map.remove(a[1]).expect("checked above");
    dst.map.insert(a[1].into(), slot);
    Ok(Reply::Int(1))
}

/// `expireGenericCommand`: `base` is added (relative forms), `secs` scales seconds to ms.
fn expire_generic(
    k: &mut Keyspace,
    cx: &Cx,
    a: &[&[u8]],
    base: i64,
    secs: bool,
    name: &str,
) -> CmdResult {
    let (mut nx, mut xx, mut gt, mut lt) = (false, false, false, false);
    for o in &a[3..] {
        match () {
            _ if is(o, "nx") => nx = true,
            _ if is(o, "xx") => xx = true,
            _ if is(o, "gt") => gt = true,
            _ if is(o, "lt") => lt = true,
            _ => {
                return err(format!(
                    "ERR Unsupported option {}",
                    String::from_utf8_lossy(o)
                ))
            }
        }
    }
    if nx && (xx || gt || lt) {
        return err("ERR NX and XX, GT or LT options at the same time are not compatible");
    }
    if gt && lt {
        return err("ERR GT and LT options at the same time are not compatible");
    }
    let Some(mut when) = parse_i64(a[2]) else {
        return err(msg::NOT_INT);
    };
    let bad = format!("ERR invalid expire time in '{name}' command");
    if secs {
        match when.checked_mul(1000) {
            Some(w) => when = w,
            None => return err(bad),
        }
    }
    match when.checked_add(base) {
        Some(w) => when = w,
        None => return err(bad),
    }
    let db = k.db(cx.db);
    let Some(slot) = db.get(a[1], cx.clock) else {
        return Ok(Reply::Int(0));
    };
    let cur = slot.expire;
    let refused = (nx && cur.is_some())
        || (xx && cur.is_none())
        || (gt && cur.is_none_or(|c| when <= c))
        || (lt && cur.is_some_and(|c| when >= c));
    if refused {
        return Ok(Reply::Int(0));
    }
    if !cx.loading && when <= cx.now {
        db.map.remove(a[1]);
    } else {
        slot.expire = Some(when);
    }
    Ok(Reply::Int(1))
}

fn expire(k: &mut Keyspace, cx: &mut Cx, a: &[&[u8]]) -> CmdResult {
    expire_generic(k, cx, a, cx.now, true, "expire")
}

fn pexpire(k: &mut Keyspace, cx: &mut Cx, a: &[&[u8]]) -> CmdResult {
    expire_generic(k, cx, a, cx.now, false, "pexpire")
}

fn expireat(k: &mut Keyspace, cx: &mut Cx, a: &[&[u8]]) -> CmdResult {
    expire_generic(k, cx, a, 0, true, "expireat")
}

/// PEXPIREAT: the form every relative expiry is propagated in, and what a rewrite emits.
fn pexpireat(k: &mut Keyspace, cx: &mut Cx, a: &[&[u8]]) -> CmdResult {
    expire_generic(k, cx, a, 0, false, "pexpireat")
}

fn persist(k: &mut Keyspace, cx: &mut Cx, a: &[&[u8]]) -> CmdResult {
    match k.db(cx.db).get(a[1], cx.clock) {
        Some(s) if s.expire.is_some() => {
            s.expire = None;
            Ok(Reply::Int(1))
        }
        _ => Ok(Reply::Int(0)),
    }
}

fn flush_mode_ok(a: &[&[u8]]) -> bool {
    match a.len() {
        1 => true,
        2 => is(a[1], "async") || is(a[1], "sync"),
        _ => false,
    }
}

fn flushdb(k: &mut Keyspace, cx: &mut Cx, a: &[&[u8]]) -> CmdResult {
    if !flush_mode_ok(a) {
        return err(msg::SYNTAX);
    }
    k.db(cx.db).map.clear();
    Ok(Reply::Ok)
}

/// FLUSHALL empties every database; function libraries stay (that is FUNCTION FLUSH).
fn flushall(k: &mut Keyspace, _: &mut Cx, a: &[&[u8]]) -> CmdResult {
    if !flush_mode_ok(a) {
        return err(msg::SYNTAX);
    }
    for d in k.dbs.iter_mut().chain(k.extra.values_mut()) {
        d.map.clear();
    }
    Ok(Reply::Ok)
}

fn swapdb(k: &mut Keyspace, _: &mut Cx, a: &[&[u8]]) -> CmdResult {
    let x = match db_arg(k, a[1], "ERR invalid first DB index") {
        Ok(d) => d,
        Err(e) => return Ok(e),
    };
    let y = match db_arg(k, a[2], "ERR invalid second DB index") {
        Ok(d) => d,
        Err(e) => return Ok(e),
    };
    if x != y {
        let (dx, dy) = k.two_dbs(x, y);
        std::mem::swap(dx, dy);
    }
    Ok(Reply::Ok)
}

fn exists(k: &mut Keyspace, cx: &mut Cx, a: &[&[u8]]) -> CmdResult {
    let db = k.db(cx.db);
    Ok(Reply::Int(
        a[1..].iter().filter(|key| db.exists(key, cx.clock)).count() as i64,
    ))
}

/// TYPE: a module value reports its 9-character type name.
fn type_(k: &mut Keyspace, cx: &mut Cx, a: &[&[u8]]) -> CmdResult {
    Ok(Reply::Status(match k.db(cx.db).get(a[1], cx.clock) {
        None => "none".into(),
        Some(s) => match &s.obj {
            Obj::Module(m) => m.name.clone(),
            o => o.type_name().into(),
        },
    }))
}

/// `ttlGenericCommand`: -2 no key, -1 no expiry.
fn ttl_generic(k: &mut Keyspace, cx: &Cx, key: &[u8], ms: bool, abs: bool) -> CmdResult {
    let Some(slot) = k.db(cx.db).get(key, cx.clock) else {
        return Ok(Reply::Int(-2));
    };
    let Some(e) = slot.expire else {
        return Ok(Reply::Int(-1));
    };
    let t = if abs { e } else { (e - cx.now).max(0) };
    Ok(Reply::Int(if ms { t } else { (t + 500) / 1000 }))
}

fn ttl(k: &mut Keyspace, cx: &mut Cx, a: &[&[u8]]) -> CmdResult {
    ttl_generic(k, cx, a[1], false, false)
}

fn pttl(k: &mut Keyspace, cx: &mut Cx, a: &[&[u8]]) -> CmdResult {
    ttl_generic(k, cx, a[1], true, false)
}

fn expiretime(k: &mut Keyspace, cx: &mut Cx, a: &[&[u8]]) -> CmdResult {
    ttl_generic(k, cx, a[1], false, true)
}

fn pexpiretime(k: &mut Keyspace, cx: &mut Cx, a: &[&[u8]]) -> CmdResult {
    ttl_generic(k, cx, a[1], true, true)
}

fn dbsize(k: &mut Keyspace, cx: &mut Cx, _: &[&[u8]]) -> CmdResult {
    Ok(Reply::Int(k.db(cx.db).map.len() as i64))
}
