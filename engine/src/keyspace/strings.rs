//! String commands: SET and its option grammar, SETEX/PSETEX/SETNX/GETSET/GETDEL/GETEX, APPEND,
//! SETRANGE, the INCR family, MSET/MSETNX, and the reads GET/MGET/STRLEN/GETRANGE.
use super::args::{self, is, parse_i64};
use super::db::{Db, Obj, Slot};
use super::reply::{arity_reply, err, msg, CmdResult, Reply};
use super::{readonly, spec, Cx, Keyspace, Spec};
use std::collections::hash_map::Entry;

pub(crate) const COMMANDS: &[Spec] = &[
    spec("set", -3, set),
    spec("setex", 4, setex),
    spec("psetex", 4, psetex),
    spec("setnx", 3, setnx),
    spec("getset", 3, getset),
    spec("getdel", 2, getdel),
    spec("getex", -2, getex),
    spec("append", 3, append),
    spec("setrange", 4, setrange),
    spec("incr", 2, incr),
    spec("decr", 2, decr),
    spec("incrby", 3, incrby),
    spec("decrby", 3, decrby),
    spec("incrbyfloat", 3, incrbyfloat),
    spec("mset", -3, mset),
    spec("msetnx", -3, msetnx),
    readonly("get", 2, get),
    readonly("mget", -2, mget),
    readonly("strlen", 2, strlen),
    readonly("getrange", 4, getrange),
];

/// `proto-max-bulk-len`: the largest string APPEND/SETRANGE may build.
const MAX_STRING: usize = 512 * 1024 * 1024;

/// The string at `key`: `Ok(None)` when absent, `Err` reply when another type.
fn read<'a>(
    db: &'a mut Db,
    key: &[u8],
    clock: Option<i64>,
) -> Result<Option<&'a mut Vec<u8>>, Reply> {
    match db.get(key, clock) {
        None => Ok(None),
        Some(Slot {
            obj: Obj::Str(s), ..
        }) => Ok(Some(s)),
        Some(_) => Err(Reply::Error(msg::WRONGTYPE.into())),
    }
}

/// Stores a string: the TTL is kept (`None`) or set to `Some(expire)`.
fn store(db: &mut Db, key: &[u8], val: &[u8], ttl: Option<Option<i64>>) {
    // One probe whether the key is new (the common case in a replay) or not.
    match db.map.entry(key.into()) {
        Entry::Occupied(mut o) => {
            let slot = o.get_mut();
            slot.obj = Obj::Str(val.to_vec());
            slot.stats = None;
            if let Some(e) = ttl {
                slot.expire = e;
            }
        }
        Entry::Vacant(v) => {
            let mut slot = Slot::new(Obj::Str(val.to_vec()));
            slot.expire = ttl.flatten();
            v.insert(slot);
        }
    }
}

/// Stores a string without TTL.
fn put(db: &mut Db, key: &[u8], val: &[u8]) {
    store(db, key, val, Some(None));
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Unit {
    /// EX / PX: relative.
    Rel(i64),
    /// EXAT / PXAT: absolute.
    Abs(i64),
}

/// Converts an expiry argument to absolute ms (`getExpireMillisecondsOrReply`).
fn expire_ms(arg: &[u8], unit: Unit, now: i64, cmd: &str) -> Result<i64, Reply> {
    let bad = || Reply::Error(format!("ERR invalid expire time in '{cmd}' command"));
    let v = parse_i64(arg).ok_or_else(|| Reply::Error(msg::NOT_INT.into()))?;
    let (mult, base) = match unit {
        Unit::Rel(m) => (m, now),
        Unit::Abs(m) => (m, 0),
    };
    if v <= 0 || v.checked_mul(mult).is_none() {
        return Err(bad());
    }
    match (v * mult).checked_add(base) {
        Some(ms) if ms > 0 => Ok(ms),
        _ => Err(bad()),
    }
}

/// Parsed SET / GETEX options.
#[derive(Default)]
struct Opts<'a> {
    nx: bool,
    xx: bool,
    get: bool,
    keepttl: bool,
    persist: bool,
    expire: Option<(Unit, &'a [u8])>,
}

/// `parseExtendedStringArgumentsOrReply`: `set` selects SET's options, else GETEX's.
fn parse_opts<'a>(a: &[&'a [u8]], from: usize, set: bool) -> Result<Opts<'a>, Reply> {
    let mut o = Opts::default();
    let mut j = from;
    while j < a.len() {
        let opt = a[j];
        let next = a.get(j + 1).copied();
        let exp_kind = [
            ("ex", Unit::Rel(1000)),
            ("px", Unit::Rel(1)),
            ("exat", Unit::Abs(1000)),
            ("pxat", Unit::Abs(1)),
        ]
        .into_iter()
        .find(|(n, _)| is(opt, n));
        if set && is(opt, "nx") && !o.xx {
            o.nx = true;
        } else if set && is(opt, "xx") && !o.nx {
            o.xx = true;
        } else if set && is(opt, "get") {
            o.get = true;
        } else if set && is(opt, "keepttl") && !o.persist && o.expire.is_none() {
            o.keepttl = true;
        } else if !set && is(opt, "persist") && !o.keepttl && o.expire.is_none() {
            o.persist = true;
        } else if let (Some((_, unit)), Some(v)) = (exp_kind, next) {
            let same_kind = o.expire.is_none_or(|(u, _)| u == unit);
            if o.keepttl || o.persist || !same_kind {
                return Err(Reply::Error(msg::SYNTAX.into()));
            }
            o.expire = Some((unit, v));
            j += 1;
        } else {
            return Err(Reply::Error(msg::SYNTAX.into()));
        }
        j += 1;
    }
    Ok(o)
}

/// `setGenericCommand`.
fn set_generic(k: &mut Keyspace, cx: &Cx, key: &[u8], val: &[u8], o: &Opts, cmd: &str) -> Reply {
    let ms = match o.expire {
        Some((unit, arg)) => match expire_ms(arg, unit, cx.now, cmd) {
            Ok(ms) => Some(ms),
            Err(e) => return e,
        },
        None => None,
    };
    let db = k.db(cx.db);
    let old = if o.get {
        match read(db, key, cx.clock) {
            Ok(v) => Some(v.map(|v| v.clone())),
            Err(e) => return e,
        }
    } else {
        None
    };
    if o.nx || o.xx || (o.keepttl && cx.clock.is_some()) {
        // The lookup also drops an expired key, so KEEPTTL cannot revive its old TTL.
        let found = db.exists(key, cx.clock);
        if (o.nx && found) || (o.xx && !found) {
            return match old {
                Some(Some(v)) => Reply::Bulk(v),
                _ => Reply::Nil,
            };
        }
    }
    let ttl = match ms {
        Some(ms) => Some(Some(ms)),
        None if o.keepttl => None,
        None => Some(None),
    };
    store(db, key, val, ttl);
    match old {
        Some(Some(v)) => Reply::Bulk(v),
        Some(None) => Reply::Nil,
        None => Reply::Ok,
    }
}

fn set(k: &mut Keyspace, cx: &mut Cx, a: &[&[u8]]) -> CmdResult {
    match parse_opts(a, 3, true) {
        Ok(o) => Ok(set_generic(k, cx, a[1], a[2], &o, "set")),
        Err(e) => Ok(e),
    }
}

fn setex_generic(k: &mut Keyspace, cx: &Cx, a: &[&[u8]], unit: Unit, cmd: &str) -> CmdResult {
    let o = Opts {
        expire: Some((unit, a[2])),
        ..Opts::default()
    };
    Ok(set_generic(k, cx, a[1], a[3], &o, cmd))
}

fn setex(k: &mut Keyspace, cx: &mut Cx, a: &[&[u8]]) -> CmdResult {
    setex_generic(k, cx, a, Unit::Rel(1000), "setex")
}

fn psetex(k: &mut Keyspace, cx: &mut Cx, a: &[&[u8]]) -> CmdResult {
    setex_generic(k, cx, a, Unit::Rel(1), "psetex")
}

fn setnx(k: &mut Keyspace, cx: &mut Cx, a: &[&[u8]]) -> CmdResult {
    let db = k.db(cx.db);
    if db.exists(a[1], cx.clock) {
        return Ok(Reply::Int(0));
    }
    put(db, a[1], a[2]);
    Ok(Reply::Int(1))
}

fn getset(k: &mut Keyspace, cx: &mut Cx, a: &[&[u8]]) -> CmdResult {
    let db = k.db(cx.db);
    let old = match read(db, a[1], cx.clock) {
        Ok(v) => v.map(std::mem::take),
        Err(e) => return Ok(e),
    };
    put(db, a[1], a[2]);
    Ok(old.map_or(Reply::Nil, Reply::Bulk))
}

fn getdel(k: &mut Keyspace, cx: &mut Cx, a: &[&[u8]]) -> CmdResult {
    let db = k.db(cx.db);
    match read(db, a[1], cx.clock) {
        Ok(None) => Ok(Reply::Nil),
        Ok(Some(_)) => match db.map.remove(a[1]) {
            Some(Slot {
                obj: Obj::Str(v), ..
            }) => Ok(Reply::Bulk(v)),
            _ => Ok(Reply::Nil),
        },
        Err(e) => Ok(e),
    }
}

fn getex(k: &mut Keyspace, cx: &mut Cx, a: &[&[u8]]) -> CmdResult {
    let o = match parse_opts(a, 2, false) {
        Ok(o) => o,
        Err(e) => return Ok(e),
    };
    let ms = match o.expire {
        Some((unit, arg)) => match expire_ms(arg, unit, cx.now, "getex") {
            Ok(ms) => Some(ms),
            Err(e) => return Ok(e),
        },
        None => None,
    };
    let (loading, now) = (cx.loading, cx.now);
    let db = k.db(cx.db);
    let val = match read(db, a[1], cx.clock) {
        Ok(Some(v)) => v.clone(),
        Ok(None) => return Ok(Reply::Nil),
        Err(e) => return Ok(e),
    };
    if let Some(ms) = ms {
        if !loading && ms <= now {
            db.map.remove(a[1]);
        } else if let Some(s) = db.map.get_mut(a[1]) {
            s.expire = Some(ms);
        }
    } else if o.persist {
        if let Some(s) = db.map.get_mut(a[1]) {
            s.expire = None;
        }
    }
    Ok(Reply::Bulk(val))
}

fn append(k: &mut Keyspace, cx: &mut Cx, a: &[&[u8]]) -> CmdResult {
    let db = k.db(cx.db);
    match read(db, a[1], cx.clock) {
        Ok(Some(v)) => {
            if v.len() + a[2].len() > MAX_STRING {
                return err("ERR string exceeds maximum allowed size (proto-max-bulk-len)");
            }
            v.extend_from_slice(a[2]);
            Ok(Reply::Int(v.len() as i64))
        }
        Ok(None) => {
            put(db, a[1], a[2]);
            Ok(Reply::Int(a[2].len() as i64))
        }
        Err(e) => Ok(e),
    }
}

fn setrange(k: &mut Keyspace, cx: &mut Cx, a: &[&[u8]]) -> CmdResult {
    let Some(off) = parse_i64(a[2]) else {
        return err(msg::NOT_INT);
    };
    if off < 0 {
        return err("ERR offset is out of range");
    }
    let off = off as usize;
    let val = a[3];
    if !val.is_empty() && off.saturating_add(val.len()) > MAX_STRING {
        return err("ERR string exceeds maximum allowed size (proto-max-bulk-len)");
    }
    let db = k.db(cx.db);
    let cur = match read(db, a[1], cx.clock) {
        Ok(Some(v)) => v,
        Ok(None) if val.is_empty() => return Ok(Reply::Int(0)),
        Ok(None) => {
            put(db, a[1], b"");
            match db.map.get_mut(a[1]) {
                Some(Slot {
                    obj: Obj::Str(v), ..
                }) => v,
                _ => unreachable!("just stored"),
            }
        }
        Err(e) => return Ok(e),
    };
    if !val.is_empty() {
        if cur.len() < off + val.len() {
            cur.resize(off + val.len(), 0);
        }
        cur[off..off + val.len()].copy_from_slice(val);
    }
    Ok(Reply::Int(cur.len() as i64))
}

/// `incrDecrCommand`: the TTL is kept.
fn incr_by(k: &mut Keyspace, cx: &Cx, key: &[u8], by: i64) -> CmdResult {
    let db = k.db(cx.db);
    match read(db, key, cx.clock) {
        Ok(Some(v)) => {
            let Some(cur) = parse_i64(v) else {
                return err(msg::NOT_INT);
            };
            let Some(n) = cur.checked_add(by) else {
                return err(msg::OVERFLOW);
            };
            *v = args::int_bytes(n);
            Ok(Reply::Int(n))
        }
        Ok(None) => {
            put(db, key, &args::int_bytes(by));
            Ok(Reply::Int(by))
        }
        Err(e) => Ok(e),
    }
}

fn incr(k: &mut Keyspace, cx: &mut Cx, a: &[&[u8]]) -> CmdResult {
    incr_by(k, cx, a[1], 1)
}

fn decr(k: &mut Keyspace, cx: &mut Cx, a: &[&[u8]]) -> CmdResult {
    incr_by(k, cx, a[1], -1)
}

fn incrby(k: &mut Keyspace, cx: &mut Cx, a: &[&[u8]]) -> CmdResult {
    match parse_i64(a[2]) {
        Some(by) => incr_by(k, cx, a[1], by),
        None => err(msg::NOT_INT),
    }
}

fn decrby(k: &mut Keyspace, cx: &mut Cx, a: &[&[u8]]) -> CmdResult {
    match parse_i64(a[2]) {
        Some(i64::MIN) => err("ERR decrement would overflow"),
        Some(by) => incr_by(k, cx, a[1], -by),
        None => err(msg::NOT_INT),
    }
}

/// INCRBYFLOAT keeps the TTL (Redis propagates it as `SET key <result> KEEPTTL`). Computed in
/// f64 where Redis uses `long double`: results can differ in the last digits.
fn incrbyfloat(k: &mut Keyspace, cx: &mut Cx, a: &[&[u8]]) -> CmdResult {
    let Some(by) = args::parse_f64(a[2]) else {
        return err(msg::NOT_FLOAT);
    };
    let db = k.db(cx.db);
    let cur = match read(db, a[1], cx.clock) {
        Ok(Some(v)) => match args::parse_f64(v) {
            Some(c) => c,
            None => return err(msg::NOT_FLOAT),
        },
        Ok(None) => 0.0,
        Err(e) => return Ok(e),
    };
    let n = cur + by;
    if !n.is_finite() {
        return err("ERR increment would produce NaN or Infinity");
    }
    let text = args::human_double_bytes(n);
    store(db, a[1], &text, None);
    Ok(Reply::Bulk(text))
}

fn mset(k: &mut Keyspace, cx: &mut Cx, a: &[&[u8]]) -> CmdResult {
    if a.len().is_multiple_of(2) {
        return arity_reply("mset");
    }
    let db = k.db(cx.db);
    for p in a[1..].chunks_exact(2) {
        put(db, p[0], p[1]);
    }
    Ok(Reply::Ok)
}

fn msetnx(k: &mut Keyspace, cx: &mut Cx, a: &[&[u8]]) -> CmdResult {
    if a.len().is_multiple_of(2) {
        return arity_reply("msetnx");
    }
    let db = k.db(cx.db);
    if a[1..].chunks_exact(2).any(|p| db.exists(p[0], cx.clock)) {
        return Ok(Reply::Int(0));
    }
    for p in a[1..].chunks_exact(2) {
        put(db, p[0], p[1]);
    }
    Ok(Reply::Int(1))
}

fn get(k: &mut Keyspace, cx: &mut Cx, a: &[&[u8]]) -> CmdResult {
    match read(k.db(cx.db), a[1], cx.clock) {
        Ok(v) => Ok(v.map_or(Reply::Nil, |v| Reply::bulk(v))),
        Err(e) => Ok(e),
    }
}

fn mget(k: &mut Keyspace, cx: &mut Cx, a: &[&[u8]]) -> CmdResult {
    let db = k.db(cx.db);
    let out = a[1..]
        .iter()
        .map(|key| match read(db, key, cx.clock) {
            Ok(Some(v)) => Reply::bulk(v),
            _ => Reply::Nil,
        })
        .collect();
    Ok(Reply::Array(out))
}

fn strlen(k: &mut Keyspace, cx: &mut Cx, a: &[&[u8]]) -> CmdResult {
    match read(k.db(cx.db), a[1], cx.clock) {
        Ok(v) => Ok(Reply::Int(v.map_or(0, |v| v.len() as i64))),
        Err(e) => Ok(e),
    }
}

fn getrange(k: &mut Keyspace, cx: &mut Cx, a: &[&[u8]]) -> CmdResult {
    let Some((s, e)) = args::parse_range(a[2], a[3]) else {
        return err(msg::NOT_INT);
    };
    let v = match read(k.db(cx.db), a[1], cx.clock) {
        Ok(Some(v)) => v,
        Ok(None) => return Ok(Reply::bulk(b"")),
        Err(e) => return Ok(e),
    };
    // `getrangeCommand`: both negative with start > end is empty; negatives count from the end
    // and clamp to 0; the end clamps to the last byte.
    if s < 0 && e < 0 && s > e {
        return Ok(Reply::bulk(b""));
    }
    let len = v.len() as i64;
    let s = if s < 0 { (len + s).max(0) } else { s };
    let e = if e < 0 {
        (len + e).max(0)
    } else {
        e.min(len - 1)
    };
    if len == 0 || s > e {
        return Ok(Reply::bulk(b""));
    }
    Ok(Reply::bulk(&v[s as usize..=e as usize]))
}
