//! String commands: SET and its variants, reads, counters, ranges.
//! Integers are kept as their decimal text, exactly as a client would read them back.

use crate::args::{eq, float, int, parse_f64, parse_i64};
use crate::keyspace::{already_expired, cmd, Cmd, Ctx};
use crate::reply::{err, expire_time, fmt_human, not_int, syntax, Reply, Res};
use crate::value::Value;

pub(crate) const COMMANDS: &[Cmd] = &[
    cmd("set", -3, set),
    cmd("setex", 4, setex),
    cmd("psetex", 4, psetex),
    cmd("setnx", 3, setnx),
    cmd("get", 2, get),
    cmd("mget", -2, mget),
    cmd("getset", 3, getset),
    cmd("getdel", 2, getdel),
    cmd("getex", -2, getex),
    cmd("mset", -3, mset),
    cmd("msetnx", -3, msetnx),
    cmd("append", 3, append),
    cmd("incr", 2, incr),
    cmd("decr", 2, decr),
    cmd("incrby", 3, incrby),
    cmd("decrby", 3, decrby),
    cmd("incrbyfloat", 3, incrbyfloat),
    cmd("setrange", 4, setrange),
    cmd("getrange", 4, getrange),
    cmd("strlen", 2, strlen),
];

/// Redis's default proto-max-bulk-len, the largest string SETRANGE/APPEND may build.
const MAX_STRING: i64 = 512 * 1024 * 1024;

/// How an expiry argument is given: unit and whether it is relative to now.
#[derive(Clone, Copy, PartialEq)]
enum Ttl {
    Ex,
    Px,
    ExAt,
    PxAt,
}

/// Options shared by SET and GETEX (`parseExtendedStringArgumentsOrReply`).
#[derive(Default)]
struct StrOpts {
    nx: bool,
    xx: bool,
    get: bool,
    keepttl: bool,
    persist: bool,
    expire: Option<(Ttl, Vec<u8>)>,
}

fn parse_opts(a: &[Vec<u8>], from: usize, is_set: bool) -> Result<StrOpts, Reply> {
    let mut o = StrOpts::default();
    let mut j = from;
    while j < a.len() {
        let opt = &a[j];
        let next = a.get(j + 1);
        let ttl_free = o.expire.is_none() && !o.keepttl && !o.persist;
        let ttl = [
            ("ex", Ttl::Ex),
            ("px", Ttl::Px),
            ("exat", Ttl::ExAt),
            ("pxat", Ttl::PxAt),
        ]
        .into_iter()
        .find(|(n, _)| eq(opt, n));
        if is_set && eq(opt, "nx") && !o.xx {
            o.nx = true;
        } else if is_set && eq(opt, "xx") && !o.nx {
            o.xx = true;
        } else if is_set && eq(opt, "get") {
            o.get = true;
        } else if is_set && eq(opt, "keepttl") && ttl_free {
            o.keepttl = true;
        } else if !is_set && eq(opt, "persist") && ttl_free {
            o.persist = true;
        } else if let (Some((_, kind)), Some(v), true) = (ttl, next, ttl_free) {
            o.expire = Some((kind, v.clone()));
            j += 1;
        } else {
            return Err(syntax());
        }
        j += 1;
    }
    Ok(o)
}

/// `getExpireMillisecondsOrReply`: a positive amount, converted to absolute ms.
fn expire_ms(cx: &Ctx<'_>, (kind, arg): &(Ttl, Vec<u8>), name: &str) -> Result<i64, Reply> {
    let v = int(arg)?;
    let seconds = matches!(kind, Ttl::Ex | Ttl::ExAt);
    if v <= 0 || (seconds && v > i64::MAX / 1000) {
        return Err(expire_time(name));
    }
    let ms = if seconds { v * 1000 } else { v };
    let ms = if matches!(kind, Ttl::Ex | Ttl::Px) {
        ms.checked_add(cx.now)
    } else {
        Some(ms)
    };
    ms.filter(|&m| m > 0).ok_or_else(|| expire_time(name))
}

fn string_at(cx: &mut Ctx<'_>, key: &[u8]) -> Result<Option<Vec<u8>>, Reply> {
    Ok(cx.get::<Vec<u8>>(key)?.cloned())
}

/// SET with all options, also serving SETEX/PSETEX/SETNX.
fn set_generic(cx: &mut Ctx<'_>, key: &[u8], val: &[u8], o: &StrOpts, name: &str) -> Res {
    let when = o
        .expire
        .as_ref()
        .map(|e| expire_ms(cx, e, name))
        .transpose()?;
    let old = if o.get {
        Some(string_at(cx, key)?)
    } else {
        None
    };
    let found = cx.keys().contains_key(key);
    let reply = |done: bool| match &old {
        Some(old) => Reply::Bulk(old.clone()),
        None if done => Reply::Ok,
        None => Reply::nil(),
    };
    if (o.nx && found) || (o.xx && !found) {
        return Ok(reply(false));
    }
    let keep = if o.keepttl {
        cx.entry(key).and_then(|e| e.expire_ms)
    } else {
        None
    };
    cx.put(key, Value::String(val.to_vec()));
    if let Some(e) = cx.entry(key) {
        e.expire_ms = when.or(keep);
    }
    Ok(reply(true))
}

fn set(cx: &mut Ctx<'_>, a: &[Vec<u8>]) -> Res {
    let o = parse_opts(a, 3, true)?;
    set_generic(cx, &a[1], &a[2], &o, "set")
}

fn setex(cx: &mut Ctx<'_>, a: &[Vec<u8>]) -> Res {
    let o = StrOpts {
        expire: Some((Ttl::Ex, a[2].clone())),
        ..StrOpts::default()
    };
    set_generic(cx, &a[1], &a[3], &o, "setex")
}

fn psetex(cx: &mut Ctx<'_>, a: &[Vec<u8>]) -> Res {
    let o = StrOpts {
        expire: Some((Ttl::Px, a[2].clone())),
        ..StrOpts::default()
    };
    set_generic(cx, &a[1], &a[3], &o, "psetex")
}

fn setnx(cx: &mut Ctx<'_>, a: &[Vec<u8>]) -> Res {
    let o = StrOpts {
        nx: true,
        ..StrOpts::default()
    };
    let r = set_generic(cx, &a[1], &a[2], &o, "setnx")?;
    Ok(Reply::Int(i64::from(r == Reply::Ok)))
}

fn get(cx: &mut Ctx<'_>, a: &[Vec<u8>]) -> Res {
    Ok(Reply::Bulk(string_at(cx, &a[1])?))
}

fn mget(cx: &mut Ctx<'_>, a: &[Vec<u8>]) -> Res {
    // MGET answers nil for a key of another type instead of WRONGTYPE.
    let vals = a[1..]
        .iter()
        .map(|k| Reply::Bulk(string_at(cx, k).ok().flatten()))
        .collect();
    Ok(Reply::Array(vals))
}

fn getset(cx: &mut Ctx<'_>, a: &[Vec<u8>]) -> Res {
    let old = string_at(cx, &a[1])?;
    cx.put(&a[1], Value::String(a[2].clone()));
    Ok(Reply::Bulk(old))
}

fn getdel(cx: &mut Ctx<'_>, a: &[Vec<u8>]) -> Res {
    let old = string_at(cx, &a[1])?;
    cx.remove(&a[1]);
    Ok(Reply::Bulk(old))
}

fn getex(cx: &mut Ctx<'_>, a: &[Vec<u8>]) -> Res {
    let o = parse_opts(a, 2, false)?;
    let Some(val) = string_at(cx, &a[1])? else {
        return Ok(Reply::nil());
    };
    let when = o
        .expire
        .as_ref()
        .map(|e| expire_ms(cx, e, "getex"))
        .transpose()?;
    let absolute = matches!(o.expire, Some((Ttl::ExAt | Ttl::PxAt, _)));
    let now = cx.now;
    match when {
        Some(w) if absolute && already_expired(w, now) => {
            cx.remove(&a[1]);
        }
        Some(w) => cx.entry(&a[1]).expect("read above").expire_ms = Some(w),
        None if o.persist => cx.entry(&a[1]).expect("read above").expire_ms = None,
        None => {}
    }
    Ok(Reply::bulk(val))
}

fn mset_generic(cx: &mut Ctx<'_>, a: &[Vec<u8>], nx: bool, name: &str) -> Res {
    if a.len().is_multiple_of(2) {
        return Err(crate::reply::arity(name));
    }
    let pairs = a[1..].chunks(2);
    if nx
        && pairs
            .clone()
            .any(|p| cx.keys().contains_key(p[0].as_slice()))
    {
        return Ok(Reply::Int(0));
    }
    for p in pairs {
        cx.put(&p[0], Value::String(p[1].clone()));
    }
    Ok(if nx { Reply::Int(1) } else { Reply::Ok })
}

fn mset(cx: &mut Ctx<'_>, a: &[Vec<u8>]) -> Res {
    mset_generic(cx, a, false, "mset")
}

fn msetnx(cx: &mut Ctx<'_>, a: &[Vec<u8>]) -> Res {
    mset_generic(cx, a, true, "msetnx")
}

fn check_len(total: i64) -> Result<(), Reply> {
    if total > MAX_STRING {
        return Err(err(
            "string exceeds maximum allowed size (proto-max-bulk-len)",
        ));
    }
    Ok(())
}

fn append(cx: &mut Ctx<'_>, a: &[Vec<u8>]) -> Res {
    let cur_len = cx.get::<Vec<u8>>(&a[1])?.map_or(0, |s| s.len());
    check_len((cur_len + a[2].len()) as i64)?;
    // APPEND keeps the key's TTL.
    let s = cx.get_or_create::<Vec<u8>>(&a[1])?;
    s.extend_from_slice(&a[2]);
    Ok(Reply::Int(s.len() as i64))
}

/// INCR family: the stored text must be a `string2ll` integer; the TTL is kept.
fn incr_by(cx: &mut Ctx<'_>, key: &[u8], by: i64) -> Res {
    let cur = match cx.get::<Vec<u8>>(key)? {
        None => 0,
        Some(s) => parse_i64(s).ok_or_else(not_int)?,
    };
    let new = cur
        .checked_add(by)
        .ok_or_else(|| err("increment or decrement would overflow"))?;
    *cx.get_or_create::<Vec<u8>>(key)? = new.to_string().into_bytes();
    Ok(Reply::Int(new))
}

fn incr(cx: &mut Ctx<'_>, a: &[Vec<u8>]) -> Res {
    incr_by(cx, &a[1], 1)
}

fn decr(cx: &mut Ctx<'_>, a: &[Vec<u8>]) -> Res {
    incr_by(cx, &a[1], -1)
}

fn incrby(cx: &mut Ctx<'_>, a: &[Vec<u8>]) -> Res {
    let by = int(&a[2])?;
    incr_by(cx, &a[1], by)
}

fn decrby(cx: &mut Ctx<'_>, a: &[Vec<u8>]) -> Res {
    let by = int(&a[2])?;
    let neg = by
        .checked_neg()
        .ok_or_else(|| err("decrement would overflow"))?;
    incr_by(cx, &a[1], neg)
}

fn incrbyfloat(cx: &mut Ctx<'_>, a: &[Vec<u8>]) -> Res {
    let cur = match cx.get::<Vec<u8>>(&a[1])? {
        None => 0.0,
        Some(s) => parse_f64(s).ok_or_else(crate::reply::not_float)?,
    };
    let new = cur + float(&a[2])?;
    if !new.is_finite() {
        return Err(err("increment would produce NaN or Infinity"));
    }
    let text = fmt_human(new);
    *cx.get_or_create::<Vec<u8>>(&a[1])? = text.clone();
    Ok(Reply::bulk(text))
}

fn setrange(cx: &mut Ctx<'_>, a: &[Vec<u8>]) -> Res {
    let offset = int(&a[2])?;
    if offset < 0 {
        return Err(err("offset is out of range"));
    }
    let val = &a[3];
    let Some(cur) = cx.get::<Vec<u8>>(&a[1])? else {
        if val.is_empty() {
            return Ok(Reply::Int(0));
        }
        check_len(offset.saturating_add(val.len() as i64))?;
        let s = cx.get_or_create::<Vec<u8>>(&a[1])?;
        return Ok(Reply::Int(write_at(s, offset as usize, val)));
    };
    if val.is_empty() {
        return Ok(Reply::Int(cur.len() as i64));
    }
    check_len(offset.saturating_add(val.len() as i64))?;
    Ok(Reply::Int(write_at(cur, offset as usize, val)))
}

fn write_at(s: &mut Vec<u8>, offset: usize, val: &[u8]) -> i64 {
    if s.len() < offset + val.len() {
        s.resize(offset + val.len(), 0);
    }
    s[offset..offset + val.len()].copy_from_slice(val);
    s.len() as i64
}

fn getrange(cx: &mut Ctx<'_>, a: &[Vec<u8>]) -> Res {
    let (start, end) = (int(&a[2])?, int(&a[3])?);
    let s = string_at(cx, &a[1])?.unwrap_or_default();
    let len = s.len() as i64;
    let start = if start < 0 {
        start.saturating_add(len)
    } else {
        start
    };
    let end = if end < 0 {
        end.saturating_add(len)
    } else {
        end
    };
    // Unlike LRANGE, an end that is still negative after adding len means empty.
    if len == 0 || start >= len || end < 0 || start > end {
        return Ok(Reply::bulk(Vec::new()));
    }
    let (start, end) = (start.max(0) as usize, end.min(len - 1) as usize);
    Ok(Reply::bulk(s[start..=end].to_vec()))
}

fn strlen(cx: &mut Ctx<'_>, a: &[Vec<u8>]) -> Res {
    Ok(Reply::Int(
        string_at(cx, &a[1])?.map_or(0, |s| s.len() as i64),
    ))
}

#[cfg(test)]
mod tests {
    use crate::keyspace::testkit::*;
    use crate::Reply;

    #[test]
    fn set_options_and_ttls() {
        let mut t = T::new();
        assert_eq!(t.run("SET k v EX 10"), Reply::Ok);
        assert_eq!(t.run("PTTL k"), i(10_000));
        assert_eq!(t.run("SET k v2 KEEPTTL"), Reply::Ok);
        assert_eq!(t.run("PTTL k"), i(10_000));
        assert_eq!(t.run("SET k v3"), Reply::Ok);
        assert_eq!(t.run("PTTL k"), i(-1), "plain SET clears the TTL");
        assert_eq!(t.run("SET k v NX"), Reply::nil());
        assert_eq!(t.run("SET n v XX"), Reply::nil());
        assert_eq!(t.run("SET k v4 XX GET"), b("v3"));
        assert_eq!(t.run("SET n v NX GET"), Reply::nil());
        assert_eq!(t.run("GET n"), b("v"));
        assert_eq!(
            t.run("SET k v NX GET"),
            b("v4"),
            "GET replies the old value even when NX refuses"
        );
        assert_eq!(t.run("SET k v EX 1 PX 1"), e("ERR syntax error"));
        assert_eq!(t.run("SET k v NX XX"), e("ERR syntax error"));
        assert_eq!(t.run("SET k v KEEPTTL EX 1"), e("ERR syntax error"));
        assert_eq!(t.run("SET k v EX"), e("ERR syntax error"));
        assert_eq!(
            t.run("SET k v EX 0"),
            e("ERR invalid expire time in 'set' command")
        );
        assert_eq!(
            t.run("SET k v PX -5"),
            e("ERR invalid expire time in 'set' command")
        );
        assert_eq!(
            t.run("SET k v EX x"),
            e("ERR value is not an integer or out of range")
        );
        assert_eq!(t.run("SET k v EXAT 2000"), Reply::Ok);
        assert_eq!(t.run("PEXPIRETIME k"), i(2_000_000));
        assert_eq!(
            t.run("SETEX k 0 v"),
            e("ERR invalid expire time in 'setex' command")
        );
        assert_eq!(t.run("PSETEX k 250 v"), Reply::Ok);
        assert_eq!(t.run("PTTL k"), i(250));
        assert_eq!(t.run("SETNX k w"), i(0));
        assert_eq!(t.run("SETNX z w"), i(1));
    }

    #[test]
    fn set_pxat_in_the_past_stores_an_invisible_key() {
        let mut t = T::new();
        assert_eq!(t.run("SET k v PXAT 5"), Reply::Ok);
        assert_eq!(t.run("GET k"), Reply::nil());
    }

    #[test]
    fn wrongtype_on_strings() {
        let mut t = T::new();
        t.ok("LPUSH l a");
        for cmd in [
            "GET l",
            "INCR l",
            "APPEND l x",
            "SET l v GET",
            "GETDEL l",
            "STRLEN l",
            "GETRANGE l 0 1",
        ] {
            assert_eq!(t.run(cmd), e(WRONGTYPE), "{cmd}");
        }
        assert_eq!(t.run("MGET l"), Reply::Array(vec![Reply::nil()]));
        assert_eq!(t.run("SET l v"), Reply::Ok, "SET overwrites any type");
    }

    #[test]
    fn getex_and_getdel() {
        let mut t = T::new();
        t.ok("SET k v");
        assert_eq!(t.run("GETEX k PX 100"), b("v"));
        assert_eq!(t.run("PTTL k"), i(100));
        assert_eq!(t.run("GETEX k PERSIST"), b("v"));
        assert_eq!(t.run("PTTL k"), i(-1));
        assert_eq!(t.run("GETEX k PERSIST EX 1"), e("ERR syntax error"));
        assert_eq!(t.run("GETEX k NX"), e("ERR syntax error"));
        assert_eq!(
            t.run("GETEX k EX 0"),
            e("ERR invalid expire time in 'getex' command")
        );
        assert_eq!(
            t.run("GETEX nope EX 0"),
            Reply::nil(),
            "missing key wins over a bad expire"
        );
        assert_eq!(t.run(&format!("GETEX k PXAT {}", t.now)), b("v"));
        assert_eq!(t.run("EXISTS k"), i(0), "absolute time at now deletes");
        t.ok("SET k v");
        assert_eq!(t.run("GETDEL k"), b("v"));
        assert_eq!(t.run("GETDEL k"), Reply::nil());
    }

    #[test]
    fn counters() {
        let mut t = T::new();
        assert_eq!(t.run("INCR c"), i(1));
        assert_eq!(t.run("INCRBY c 41"), i(42));
        assert_eq!(t.run("DECRBY c 50"), i(-8));
        assert_eq!(t.run("DECR c"), i(-9));
        assert_eq!(t.run("GET c"), b("-9"));
        t.ok("SET c 9223372036854775807");
        assert_eq!(
            t.run("INCR c"),
            e("ERR increment or decrement would overflow")
        );
        assert_eq!(
            t.run("DECRBY c -9223372036854775808"),
            e("ERR decrement would overflow")
        );
        t.ok("SET c 012");
        assert_eq!(
            t.run("INCR c"),
            e("ERR value is not an integer or out of range")
        );
        t.ok("SET c 5 EX 100");
        t.ok("INCR c");
        assert_eq!(t.run("TTL c"), i(100), "INCR keeps the TTL");
        assert_eq!(t.run("INCRBYFLOAT f 10.5"), b("10.5"));
        assert_eq!(t.run("INCRBYFLOAT f 0.1"), b("10.6"));
        assert_eq!(t.run("INCRBYFLOAT f -10.6"), b("0"));
        assert_eq!(t.run("INCRBYFLOAT f 3e3"), b("3000"));
        assert_eq!(
            t.run("INCRBYFLOAT f x"),
            e("ERR value is not a valid float")
        );
        assert_eq!(
            t.run("INCRBYFLOAT f inf"),
            e("ERR increment would produce NaN or Infinity")
        );
        t.ok("SET s abc");
        assert_eq!(
            t.run("INCRBYFLOAT s 1"),
            e("ERR value is not a valid float")
        );
    }

    #[test]
    fn mset_and_msetnx() {
        let mut t = T::new();
        assert_eq!(
            t.run("MSET a 1 b"),
            e("ERR wrong number of arguments for 'mset' command")
        );
        assert_eq!(t.run("MSET a 1 b 2"), Reply::Ok);
        assert_eq!(t.run("MSETNX b 3 c 4"), i(0));
        assert_eq!(t.run("EXISTS c"), i(0));
        assert_eq!(t.run("MSETNX c 3 d 4"), i(1));
        assert_eq!(
            t.run("MGET a b c d x"),
            Reply::Array(vec![b("1"), b("2"), b("3"), b("4"), Reply::nil()])
        );
    }

    #[test]
    fn ranges_and_append() {
        let mut t = T::new();
        assert_eq!(t.run("APPEND s Hello"), i(5));
        assert_eq!(t.run("APPEND s World"), i(10));
        assert_eq!(t.run("GETRANGE s 0 4"), b("Hello"));
        assert_eq!(t.run("GETRANGE s -5 -1"), b("World"));
        assert_eq!(t.run("GETRANGE s 5 100"), b("World"));
        assert_eq!(t.run("GETRANGE s -100 -50"), b(""));
        assert_eq!(t.run("GETRANGE s -100 0"), b("H"));
        assert_eq!(t.run("GETRANGE nope 0 -1"), b(""));
        assert_eq!(t.run("SETRANGE s 5 ,"), i(10));
        assert_eq!(t.run("GET s"), b("Hello,orld"));
        assert_eq!(t.run("SETRANGE n 3 x"), i(4));
        assert_eq!(t.run("GET n"), Reply::bulk(b"\0\0\0x".to_vec()));
        assert_eq!(t.run_args(&[b"SETRANGE", b"e", b"3", b""]), i(0));
        assert_eq!(t.run("EXISTS e"), i(0), "an empty SETRANGE creates nothing");
        assert_eq!(t.run("SETRANGE s -1 x"), e("ERR offset is out of range"));
        assert_eq!(
            t.run("SETRANGE s 536870912 x"),
            e("ERR string exceeds maximum allowed size (proto-max-bulk-len)")
        );
        assert_eq!(t.run("STRLEN s"), i(10));
        assert_eq!(t.run("STRLEN nope"), i(0));
        assert_eq!(t.run("GETSET s new"), b("Hello,orld"));
        assert_eq!(t.run("GET s"), b("new"));
    }
}
