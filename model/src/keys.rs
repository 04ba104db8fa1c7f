//! Generic keyspace commands: selection, deletion, renaming, copying, TTLs, flushing.
//! They act on whole entries and never look inside a value.

use crate::args::{eq, int, int32};
use crate::keyspace::{already_expired, cmd, Cmd, Ctx};
use crate::reply::{err, expire_time, no_such_key, same_object, syntax, Reply, Res};

pub(crate) const COMMANDS: &[Cmd] = &[
    cmd("select", 2, select),
    cmd("del", -2, del),
    cmd("unlink", -2, del),
    cmd("exists", -2, exists),
    cmd("type", 2, type_),
    cmd("rename", 3, rename),
    cmd("renamenx", 3, renamenx),
    cmd("copy", -3, copy),
    cmd("move", 3, move_),
    cmd("expire", -3, expire),
    cmd("pexpire", -3, pexpire),
    cmd("expireat", -3, expireat),
    cmd("pexpireat", -3, pexpireat),
    cmd("persist", 2, persist),
    cmd("ttl", 2, ttl),
    cmd("pttl", 2, pttl),
    cmd("expiretime", 2, expiretime),
    cmd("pexpiretime", 2, pexpiretime),
    cmd("flushdb", -1, flushdb),
    cmd("flushall", -1, flushall),
    cmd("dbsize", 1, dbsize),
];

/// Parses a database index as SELECT/MOVE/COPY do.
fn db_index(cx: &Ctx<'_>, arg: &[u8]) -> Result<u64, Reply> {
    let id = int32(arg)?;
    u64::try_from(id)
        .ok()
        .filter(|&d| d < cx.ks.databases)
        .ok_or_else(|| err("DB index is out of range"))
}

fn select(cx: &mut Ctx<'_>, a: &[Vec<u8>]) -> Res {
    *cx.db = db_index(cx, &a[1])?;
    Ok(Reply::Ok)
}

fn del(cx: &mut Ctx<'_>, a: &[Vec<u8>]) -> Res {
    let n = a[1..].iter().filter(|k| cx.remove(k).is_some()).count();
    Ok(Reply::Int(n as i64))
}

fn exists(cx: &mut Ctx<'_>, a: &[Vec<u8>]) -> Res {
    // Each argument counts, so a key named twice counts twice.
    let n = a[1..]
        .iter()
        .filter(|k| cx.keys().contains_key(k.as_slice()))
        .count();
    Ok(Reply::Int(n as i64))
}

fn type_(cx: &mut Ctx<'_>, a: &[Vec<u8>]) -> Res {
    let name = cx.entry(&a[1]).map_or("none", |e| e.value.type_name());
    Ok(Reply::Status(name.to_string()))
}

fn rename_generic(cx: &mut Ctx<'_>, a: &[Vec<u8>], nx: bool) -> Res {
    let (src, dst) = (&a[1], &a[2]);
    if !cx.keys().contains_key(src.as_slice()) {
        return Err(no_such_key());
    }
    if src == dst {
        return Ok(if nx { Reply::Int(0) } else { Reply::Ok });
    }
    if nx && cx.keys().contains_key(dst.as_slice()) {
        return Ok(Reply::Int(0));
    }
    let moved = cx.remove(src).expect("checked above");
    cx.keys().insert(dst.clone(), moved);
    Ok(if nx { Reply::Int(1) } else { Reply::Ok })
}

fn rename(cx: &mut Ctx<'_>, a: &[Vec<u8>]) -> Res {
    rename_generic(cx, a, false)
}

fn renamenx(cx: &mut Ctx<'_>, a: &[Vec<u8>]) -> Res {
    rename_generic(cx, a, true)
}

fn copy(cx: &mut Ctx<'_>, a: &[Vec<u8>]) -> Res {
    let (src_db, mut dst_db, mut replace) = (*cx.db, *cx.db, false);
    let mut j = 3;
    while j < a.len() {
        if eq(&a[j], "replace") {
            replace = true;
        } else if eq(&a[j], "db") && j + 1 < a.len() {
            dst_db = db_index(cx, &a[j + 1])?;
            j += 1;
        } else {
            return Err(syntax());
        }
        j += 1;
    }
    let (src, dst) = (&a[1], &a[2]);
    if src_db == dst_db && src == dst {
        return Err(same_object());
    }
    let Some(entry) = cx.keys().get(src.as_slice()).cloned() else {
        return Ok(Reply::Int(0));
    };
    let target = cx.keys_in(dst_db);
    if target.contains_key(dst.as_slice()) && !replace {
        return Ok(Reply::Int(0));
    }
    // The copy keeps the key's TTL and, for hashes, every field's TTL.
    target.insert(dst.clone(), entry);
    Ok(Reply::Int(1))
}

fn move_(cx: &mut Ctx<'_>, a: &[Vec<u8>]) -> Res {
    let dst_db = db_index(cx, &a[2])?;
    if dst_db == *cx.db {
        return Err(same_object());
    }
    let key = &a[1];
    if !cx.keys().contains_key(key.as_slice()) || cx.keys_in(dst_db).contains_key(key.as_slice()) {
        return Ok(Reply::Int(0));
    }
    let entry = cx.remove(key).expect("checked above");
    cx.keys_in(dst_db).insert(key.clone(), entry);
    Ok(Reply::Int(1))
}

/// EXPIRE, PEXPIRE, EXPIREAT, PEXPIREAT: `base` is now for relative forms, 0 for absolute.
fn expire_generic(cx: &mut Ctx<'_>, a: &[Vec<u8>], name: &str, base: i64, seconds: bool) -> Res {
    let (mut nx, mut xx, mut gt, mut lt) = (false, false, false, false);
    for opt in &a[3..] {
        match () {
            _ if eq(opt, "nx") => nx = true,
            _ if eq(opt, "xx") => xx = true,
            _ if eq(opt, "gt") => gt = true,
            _ if eq(opt, "lt") => lt = true,
            _ => {
                return Err(err(format!(
                    "Unsupported option {}",
                    String::from_utf8_lossy(opt)
                )))
            }
        }
    }
    if nx && (xx || gt || lt) {
        return Err(err(
            "NX and XX, GT or LT options at the same time are not compatible",
        ));
    }
    if gt && lt {
        return Err(err("GT and LT options at the same time are not compatible"));
    }
    let mut when = int(&a[2])?;
    if seconds {
        when = when.checked_mul(1000).ok_or_else(|| expire_time(name))?;
    }
    let when = when.checked_add(base).ok_or_else(|| expire_time(name))?;
    let now = cx.now;
    let Some(entry) = cx.entry(&a[1]) else {
        return Ok(Reply::Int(0));
    };
    let current = entry.expire_ms;
    // A key without TTL counts as expiring never: GT can't beat it, LT always does.
    let refused = (nx && current.is_some())
        || (xx && current.is_none())
        || (gt && current.is_none_or(|c| when <= c))
        || (lt && current.is_some_and(|c| when >= c));
    if refused {
        return Ok(Reply::Int(0));
    }
    if already_expired(when, now) {
        cx.remove(&a[1]);
    } else {
        entry.expire_ms = Some(when);
    }
    Ok(Reply::Int(1))
}

fn expire(cx: &mut Ctx<'_>, a: &[Vec<u8>]) -> Res {
    let now = cx.now;
    expire_generic(cx, a, "expire", now, true)
}

fn pexpire(cx: &mut Ctx<'_>, a: &[Vec<u8>]) -> Res {
    let now = cx.now;
    expire_generic(cx, a, "pexpire", now, false)
}

fn expireat(cx: &mut Ctx<'_>, a: &[Vec<u8>]) -> Res {
    expire_generic(cx, a, "expireat", 0, true)
}

fn pexpireat(cx: &mut Ctx<'_>, a: &[Vec<u8>]) -> Res {
    expire_generic(cx, a, "pexpireat", 0, false)
}

fn persist(cx: &mut Ctx<'_>, a: &[Vec<u8>]) -> Res {
    let had = cx.entry(&a[1]).and_then(|e| e.expire_ms.take()).is_some();
    Ok(Reply::Int(i64::from(had)))
}

/// TTL, PTTL, EXPIRETIME, PEXPIRETIME: -2 missing, -1 no TTL; seconds round half up.
fn ttl_generic(cx: &mut Ctx<'_>, a: &[Vec<u8>], ms: bool, absolute: bool) -> Res {
    let now = cx.now;
    let Some(entry) = cx.entry(&a[1]) else {
        return Ok(Reply::Int(-2));
    };
    let Some(when) = entry.expire_ms else {
        return Ok(Reply::Int(-1));
    };
    let ttl = if absolute {
        when
    } else {
        when.saturating_sub(now)
    }
    .max(0);
    Ok(Reply::Int(if ms {
        ttl
    } else {
        ttl.saturating_add(500) / 1000
    }))
}

fn ttl(cx: &mut Ctx<'_>, a: &[Vec<u8>]) -> Res {
    ttl_generic(cx, a, false, false)
}

fn pttl(cx: &mut Ctx<'_>, a: &[Vec<u8>]) -> Res {
    ttl_generic(cx, a, true, false)
}

fn expiretime(cx: &mut Ctx<'_>, a: &[Vec<u8>]) -> Res {
    ttl_generic(cx, a, false, true)
}

fn pexpiretime(cx: &mut Ctx<'_>, a: &[Vec<u8>]) -> Res {
    ttl_generic(cx, a, true, true)
}

fn flush_mode(a: &[Vec<u8>]) -> Result<(), Reply> {
    match a.get(1) {
        None => Ok(()),
        Some(m) if a.len() == 2 && (eq(m, "sync") || eq(m, "async")) => Ok(()),
        Some(_) => Err(syntax()),
    }
}

fn flushdb(cx: &mut Ctx<'_>, a: &[Vec<u8>]) -> Res {
    flush_mode(a)?;
    cx.keys().clear();
    Ok(Reply::Ok)
}

fn flushall(cx: &mut Ctx<'_>, a: &[Vec<u8>]) -> Res {
    flush_mode(a)?;
    // FLUSHALL keeps function libraries (Redis passes EMPTYDB_NOFUNCTIONS).
    cx.ks.dbs.clear();
    Ok(Reply::Ok)
}

fn dbsize(cx: &mut Ctx<'_>, _: &[Vec<u8>]) -> Res {
    // Redis counts keys that expired but were not reclaimed yet; the model has none.
    Ok(Reply::Int(cx.keys().len() as i64))
}

#[cfg(test)]
mod tests {
    use crate::keyspace::testkit::*;
    use crate::Reply;

    #[test]
    fn select_and_db_errors() {
        let mut t = T::new();
        assert_eq!(t.run("SELECT 16"), e("ERR DB index is out of range"));
        assert_eq!(t.run("SELECT -1"), e("ERR DB index is out of range"));
        assert_eq!(
            t.run("SELECT x"),
            e("ERR value is not an integer or out of range")
        );
        t.ok("SELECT 15");
        t.ok("SET k v");
        t.ok("SELECT 0");
        assert_eq!(t.run("EXISTS k"), i(0));
        assert_eq!(t.run("DBSIZE"), i(0));
    }

    #[test]
    fn del_exists_type() {
        let mut t = T::new();
        t.ok("SET a 1");
        t.ok("RPUSH l x");
        assert_eq!(t.run("EXISTS a a l nope"), i(3));
        assert_eq!(t.run("TYPE l"), Reply::Status("list".into()));
        assert_eq!(t.run("TYPE nope"), Reply::Status("none".into()));
        assert_eq!(t.run("DEL a a nope"), i(1));
        assert_eq!(t.run("UNLINK l"), i(1));
        assert_eq!(t.run("DBSIZE"), i(0));
    }

    #[test]
    fn rename_carries_ttl_and_overwrites() {
        let mut t = T::new();
        t.ok("SET a 1 PX 5000");
        t.ok("SET b 2");
        assert_eq!(t.run("RENAMENX a b"), i(0));
        assert_eq!(t.run("RENAME a b"), Reply::Ok);
        assert_eq!(t.run("GET b"), b("1"));
        assert_eq!(t.run("PTTL b"), i(5000));
        assert_eq!(t.run("RENAME a c"), e("ERR no such key"));
        assert_eq!(t.run("RENAME b b"), Reply::Ok);
        assert_eq!(t.run("RENAMENX b b"), i(0));
        assert_eq!(t.run("RENAMENX b c"), i(1));
        assert_eq!(t.run("EXISTS b c"), i(1));
    }

    #[test]
    fn copy_and_move_between_dbs() {
        let mut t = T::new();
        t.ok("SET a 1 EX 100");
        assert_eq!(
            t.run("COPY a a"),
            e("ERR source and destination objects are the same")
        );
        assert_eq!(t.run("COPY a b DB 16"), e("ERR DB index is out of range"));
        assert_eq!(t.run("COPY a b FOO"), e("ERR syntax error"));
        assert_eq!(t.run("COPY a a DB 2"), i(1));
        assert_eq!(t.run("COPY a b"), i(1));
        t.ok("SET b 2");
        assert_eq!(t.run("COPY a b"), i(0));
        assert_eq!(t.run("COPY a b REPLACE"), i(1));
        assert_eq!(t.run("GET b"), b("1"));
        assert_eq!(t.run("TTL b"), i(100));
        assert_eq!(t.run("COPY nope c"), i(0));
        assert_eq!(
            t.run("MOVE a 0"),
            e("ERR source and destination objects are the same")
        );
        assert_eq!(t.run("MOVE a 2"), i(0), "already exists in db 2");
        assert_eq!(t.run("MOVE b 2"), i(1));
        assert_eq!(t.run("EXISTS b"), i(0));
        t.ok("SELECT 2");
        assert_eq!(t.run("MGET a b"), Reply::Array(vec![b("1"), b("1")]));
        assert_eq!(t.run("TTL b"), i(100));
    }

    #[test]
    fn expire_options_follow_redis() {
        let mut t = T::new();
        t.ok("SET k v");
        assert_eq!(t.run("EXPIRE k 10 XX"), i(0));
        assert_eq!(t.run("EXPIRE k 10 GT"), i(0), "no TTL counts as infinite");
        assert_eq!(t.run("EXPIRE k 10 LT"), i(1));
        assert_eq!(t.run("EXPIRE k 20 NX"), i(0));
        assert_eq!(t.run("EXPIRE k 5 GT"), i(0));
        assert_eq!(t.run("EXPIRE k 20 GT"), i(1));
        assert_eq!(t.run("TTL k"), i(20));
        assert_eq!(
            t.run("EXPIRE k 1 NX XX"),
            e("ERR NX and XX, GT or LT options at the same time are not compatible")
        );
        assert_eq!(
            t.run("EXPIRE k 1 GT LT"),
            e("ERR GT and LT options at the same time are not compatible")
        );
        assert_eq!(t.run("EXPIRE k 1 FOO"), e("ERR Unsupported option FOO"));
        assert_eq!(
            t.run("EXPIRE k x"),
            e("ERR value is not an integer or out of range")
        );
        assert_eq!(
            t.run("EXPIRE k 9223372036854775807"),
            e("ERR invalid expire time in 'expire' command")
        );
        assert_eq!(t.run("EXPIRE nope 10"), i(0));
        assert_eq!(t.run("PERSIST k"), i(1));
        assert_eq!(t.run("PERSIST k"), i(0));
        assert_eq!(t.run("TTL k"), i(-1));
        assert_eq!(t.run("TTL nope"), i(-2));
    }

    #[test]
    fn expire_at_or_before_now_deletes_immediately() {
        let mut t = T::new();
        t.ok("SET k v");
        assert_eq!(t.run(&format!("PEXPIREAT k {}", t.now)), i(1));
        assert_eq!(
            t.run("EXISTS k"),
            i(0),
            "when == now is already expired for a setter"
        );
        t.ok("SET k v");
        assert_eq!(t.run("EXPIRE k -1"), i(1));
        assert_eq!(t.run("EXISTS k"), i(0));
        t.ok("SET k v");
        assert_eq!(t.run(&format!("PEXPIREAT k {}", t.now + 1)), i(1));
        assert_eq!(t.run("EXISTS k"), i(1));
    }

    #[test]
    fn ttl_rounding_and_absolute_times() {
        let mut t = T::new();
        t.ok("SET k v PX 1499");
        assert_eq!(t.run("TTL k"), i(1));
        assert_eq!(t.run("PTTL k"), i(1499));
        t.ok("PEXPIRE k 1500");
        assert_eq!(t.run("TTL k"), i(2));
        assert_eq!(t.run("PEXPIRETIME k"), i(1_001_500));
        assert_eq!(t.run("EXPIRETIME k"), i(1002), "EXPIRETIME rounds like TTL");
        assert_eq!(t.run("EXPIRETIME nope"), i(-2));
        t.ok("SET p v");
        assert_eq!(t.run("PEXPIRETIME p"), i(-1));
    }

    #[test]
    fn flush_keeps_functions_and_rejects_bad_modes() {
        let mut t = T::new();
        t.ok("SET a 1");
        t.ok("SELECT 1");
        t.ok("SET b 1");
        t.run_args(&[b"FUNCTION", b"LOAD", b"#!lua name=lib\nreturn 1"]);
        assert_eq!(t.run("FLUSHDB x"), e("ERR syntax error"));
        assert_eq!(t.run("FLUSHDB ASYNC"), Reply::Ok);
        assert_eq!(t.run("DBSIZE"), i(0));
        t.ok("SELECT 0");
        assert_eq!(t.run("DBSIZE"), i(1));
        assert_eq!(t.run("FLUSHALL SYNC"), Reply::Ok);
        assert!(t.ks.dbs.is_empty());
        assert_eq!(t.ks.functions.len(), 1);
    }
}
