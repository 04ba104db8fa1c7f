//! Hash commands on a fast-hashed `field → (value, expiry)` map, with Redis 7.4 field expiration:
//! HSET/HMSET/HSETNX/HDEL/HINCRBY/HINCRBYFLOAT, HEXPIRE family, HPERSIST, and the reads.
use super::args::{self, is, parse_i64};
use super::db::{Db, Obj, Slot};
use super::hash_type::{field_expired, HashObj, HFE_MAX_ABS_TIME_MSEC};
use super::reply::{arity_reply, err, msg, CmdResult, CommandError, Reply};
use super::{readonly, spec, Cx, Keyspace, Spec};

pub(crate) const COMMANDS: &[Spec] = &[
    spec("hset", -4, hset),
    spec("hmset", -4, hmset),
    spec("hsetnx", 4, hsetnx),
    spec("hdel", -3, hdel),
    spec("hincrby", 4, hincrby),
    spec("hincrbyfloat", 4, hincrbyfloat),
    spec("hexpire", -6, hexpire),
    spec("hpexpire", -6, hpexpire),
    spec("hexpireat", -6, hexpireat),
    spec("hpexpireat", -6, hpexpireat),
    spec("hpersist", -5, hpersist),
    readonly("httl", -5, httl),
    readonly("hpttl", -5, hpttl),
    readonly("hexpiretime", -5, hexpiretime),
    readonly("hpexpiretime", -5, hpexpiretime),
    readonly("hget", 3, hget),
    readonly("hmget", -3, hmget),
    readonly("hgetall", 2, hgetall),
    readonly("hlen", 2, hlen),
    readonly("hexists", 3, hexists),
];

/// The hash at `key`; in live mode the named fields that have expired are deleted first (and the
/// key, if that empties it), as Redis's lazy field expiry does.
pub(crate) fn hash_mut<'a>(
    db: &'a mut Db,
    key: &[u8],
    cx: &Cx,
    fields: &[&[u8]],
) -> Result<Option<&'a mut HashObj>, Reply> {
    let emptied = match db.get(key, cx.clock) {
        None => return Ok(None),
        Some(Slot {
            obj: Obj::Hash(h), ..
        }) => {
            if !cx.loading {
                for f in fields {
                    if h.map
                        .get(*f)
                        .is_some_and(|(_, e)| field_expired(*e, cx.now))
                    {
                        h.map.remove(*f);
                    }
                }
            }
            h.map.is_empty()
        }
        Some(_) => return Err(Reply::Error(msg::WRONGTYPE.into())),
    };
    if emptied {
        db.map.remove(key);
        return Ok(None);
    }
    match db.map.get_mut(key) {
        Some(Slot {
            obj: Obj::Hash(h), ..
        }) => Ok(Some(h)),
        _ => unreachable!("checked above"),
    }
}

/// The hash at `key`, created empty when absent.
fn hash_or_create<'a>(
    db: &'a mut Db,
    key: &[u8],
    cx: &Cx,
    fields: &[&[u8]],
) -> Result<&'a mut HashObj, Reply> {
    if hash_mut(db, key, cx, fields)?.is_none() {
        db.map
            .insert(key.into(), Slot::new(Obj::Hash(Box::default())));
    }
    match db.map.get_mut(key) {
        Some(Slot {
            obj: Obj::Hash(h), ..
        }) => Ok(h),
        _ => unreachable!("just ensured"),
    }
}

fn set_pairs(
    k: &mut Keyspace,
    cx: &Cx,
    a: &[&[u8]],
    name: &str,
) -> Result<Result<i64, Reply>, CommandError> {
    if a.len() % 2 == 1 {
        return arity_reply(name).map(Err);
    }
    let h = match hash_or_create(k.db(cx.db), a[1], cx, &[]) {
        Ok(h) => h,
        Err(e) => return Ok(Err(e)),
    };
    let mut created = 0;
    for p in a[2..].chunks_exact(2) {
        if h.map.insert(p[0].to_vec(), (p[1].to_vec(), None)).is_none() {
            created += 1;
        }
    }
    Ok(Ok(created))
}

/// HSET: a field's TTL is dropped when HSET overwrites it.
fn hset(k: &mut Keyspace, cx: &mut Cx, a: &[&[u8]]) -> CmdResult {
    Ok(set_pairs(k, cx, a, "hset")?.map_or_else(|e| e, Reply::Int))
}

fn hmset(k: &mut Keyspace, cx: &mut Cx, a: &[&[u8]]) -> CmdResult {
    Ok(set_pairs(k, cx, a, "hmset")?.map_or_else(|e| e, |_| Reply::Ok))
}

fn hsetnx(k: &mut Keyspace, cx: &mut Cx, a: &[&[u8]]) -> CmdResult {
    let h = match hash_or_create(k.db(cx.db), a[1], cx, &a[2..3]) {
        Ok(h) => h,
        Err(e) => return Ok(e),
    };
    if h.live(a[2], cx.now).is_some() {
        return Ok(Reply::Int(0));
    }
    h.map.insert(a[2].to_vec(), (a[3].to_vec(), None));
    Ok(Reply::Int(1))
}

fn hdel(k: &mut Keyspace, cx: &mut Cx, a: &[&[u8]]) -> CmdResult {
    let db = k.db(cx.db);
    let h = match hash_mut(db, a[1], cx, &a[2..]) {
        Ok(Some(h)) => h,
        Ok(None) => return Ok(Reply::Int(0)),
        Err(e) => return Ok(e),
    };
    let n = a[2..]
        .iter()
        .filter(|f| h.map.remove(**f).is_some())
        .count();
    db.drop_if_empty(a[1]);
    Ok(Reply::Int(n as i64))
}

/// Sets a field keeping its TTL (HINCRBY/HINCRBYFLOAT use `HASH_SET_KEEP_TTL`).
fn set_keep_ttl(h: &mut HashObj, f: &[u8], v: Vec<u8>) {
    match h.map.get_mut(f) {
        Some(slot) => slot.0 = v,
        None => {
            h.map.insert(f.to_vec(), (v, None));
        }
    }
}

fn hincrby(k: &mut Keyspace, cx: &mut Cx, a: &[&[u8]]) -> CmdResult {
    let Some(by) = parse_i64(a[3]) else {
        return err(msg::NOT_INT);
    };
    let h = match hash_or_create(k.db(cx.db), a[1], cx, &a[2..3]) {
        Ok(h) => h,
        Err(e) => return Ok(e),
    };
    let cur = match h.live(a[2], cx.now) {
        Some((v, _)) => match parse_i64(v) {
            Some(n) => n,
            None => return err("ERR hash value is not an integer"),
        },
        None => 0,
    };
    let Some(n) = cur.checked_add(by) else {
        return err(msg::OVERFLOW);
    };
    set_keep_ttl(h, a[2], args::int_bytes(n));
    Ok(Reply::Int(n))
}

/// HINCRBYFLOAT in f64 (Redis: `long double`); Redis propagates the result as HSET.
fn hincrbyfloat(k: &mut Keyspace, cx: &mut Cx, a: &[&[u8]]) -> CmdResult {
    let Some(by) = args::parse_f64(a[3]) else {
        return err(msg::NOT_FLOAT);
    };
    if by.is_infinite() {
        return err("ERR value is NaN or Infinity");
    }
    let h = match hash_or_create(k.db(cx.db), a[1], cx, &a[2..3]) {
        Ok(h) => h,
        Err(e) => return Ok(e),
    };
    let cur = match h.live(a[2], cx.now) {
        Some((v, _)) => match args::parse_f64(v) {
            Some(n) => n,
            None => return err("ERR hash value is not a float"),
        },
        None => 0.0,
    };
    let n = cur + by;
    if !n.is_finite() {
        return err("ERR increment would produce NaN or Infinity");
    }
    let text = args::human_double_bytes(n);
    set_keep_ttl(h, a[2], text.clone());
    Ok(Reply::Bulk(text))
}

/// Parses `FIELDS numfields field...` starting at `at` (the FIELDS keyword).
fn fields_arg<'a, 'b>(
    a: &'b [&'a [u8]],
    at: usize,
    count_msg: &str,
) -> Result<&'b [&'a [u8]], Reply> {
    if a.get(at).is_none_or(|f| !is(f, "fields")) {
        return Err(Reply::Error(
            "ERR Mandatory argument FIELDS is missing or not at the right position".into(),
        ));
    }
    let n = match a.get(at + 1).and_then(|n| parse_i64(n)) {
        Some(n) if n >= 1 => n as usize,
        _ => return Err(Reply::Error(format!("ERR {count_msg}"))),
    };
    if n != a.len() - at - 2 {
        return Err(Reply::Error(
            "ERR The `numfields` parameter must match the number of arguments".into(),
        ));
    }
    Ok(&a[at + 2..])
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Cond {
    None,
    Nx,
    Xx,
    Gt,
    Lt,
}

/// `hexpireGenericCommand`: per field -2 no field, 0 condition not met, 1 set, 2 deleted (a time
/// already past, live mode only).
fn hexpire_generic(
    k: &mut Keyspace,
    cx: &Cx,
    a: &[&[u8]],
    name: &str,
    relative: bool,
    secs: bool,
) -> CmdResult {
    let db = k.db(cx.db);
    if let Err(e) = hash_mut(db, a[1], cx, &[]) {
        return Ok(e);
    }
    let Some(mut when) = parse_i64(a[2]) else {
        return err(msg::NOT_INT);
    };
    if when < 0 {
        return err("ERR invalid expire time, must be >= 0");
    }
    let bad = || Reply::Error(format!("ERR invalid expire time in '{name}' command"));
    if secs {
        if when > HFE_MAX_ABS_TIME_MSEC / 1000 {
            return Ok(bad());
        }
        when *= 1000;
    }
    let base = if relative { cx.now } else { 0 };
    if when > HFE_MAX_ABS_TIME_MSEC - base {
        return Ok(bad());
    }
    when += base;
    let cond = [
        ("nx", Cond::Nx),
        ("xx", Cond::Xx),
        ("gt", Cond::Gt),
        ("lt", Cond::Lt),
    ]
    .into_iter()
    .find(|(n, _)| is(a[3], n))
    .map_or(Cond::None, |(_, c)| c);
    let at = if cond == Cond::None { 3 } else { 4 };
    let fields = match fields_arg(a, at, "Parameter `numFields` should be greater than 0") {
        Ok(f) => f,
        Err(e) => return Ok(e),
    };
    let h = match hash_mut(db, a[1], cx, fields) {
        Ok(Some(h)) => h,
        _ => {
            return Ok(Reply::Array(
                fields.iter().map(|_| Reply::Int(-2)).collect(),
            ))
        }
    };
    let mut out = Vec::with_capacity(fields.len());
    for f in fields {
        let Some((_, prev)) = h.map.get_mut(*f) else {
            out.push(Reply::Int(-2));
            continue;
        };
        let unmet = match (*prev, cond) {
            (None, Cond::Xx | Cond::Gt) => true,
            (Some(_), Cond::Nx) => true,
            (Some(p), Cond::Gt) => p >= when,
            (Some(p), Cond::Lt) => p <= when,
            _ => false,
        };
        if unmet {
            out.push(Reply::Int(0));
        } else if !cx.loading && when <= cx.now {
            h.map.remove(*f);
            out.push(Reply::Int(2));
        } else {
            *prev = Some(when);
            out.push(Reply::Int(1));
        }
    }
    db.drop_if_empty(a[1]);
    Ok(Reply::Array(out))
}

fn hexpire(k: &mut Keyspace, cx: &mut Cx, a: &[&[u8]]) -> CmdResult {
    hexpire_generic(k, cx, a, "hexpire", true, true)
}

fn hpexpire(k: &mut Keyspace, cx: &mut Cx, a: &[&[u8]]) -> CmdResult {
    hexpire_generic(k, cx, a, "hpexpire", true, false)
}

fn hexpireat(k: &mut Keyspace, cx: &mut Cx, a: &[&[u8]]) -> CmdResult {
    hexpire_generic(k, cx, a, "hexpireat", false, true)
}

/// HPEXPIREAT: what a rewrite emits per volatile field (`HPEXPIREAT key ms FIELDS 1 field`).
fn hpexpireat(k: &mut Keyspace, cx: &mut Cx, a: &[&[u8]]) -> CmdResult {
    hexpire_generic(k, cx, a, "hpexpireat", false, false)
}

/// HPERSIST: per field -2 no field, -1 no TTL, 1 TTL removed.
fn hpersist(k: &mut Keyspace, cx: &mut Cx, a: &[&[u8]]) -> CmdResult {
    let db = k.db(cx.db);
    if let Err(e) = hash_mut(db, a[1], cx, &[]) {
        return Ok(e);
    }
    let fields = match fields_arg(a, 2, "Number of fields must be a positive integer") {
        Ok(f) => f,
        Err(e) => return Ok(e),
    };
    let Ok(Some(h)) = hash_mut(db, a[1], cx, fields) else {
        return Ok(Reply::Array(
            fields.iter().map(|_| Reply::Int(-2)).collect(),
        ));
    };
    let out = fields
        .iter()
        .map(|f| match h.map.get_mut(*f) {
            None => Reply::Int(-2),
            Some((_, None)) => Reply::Int(-1),
            Some((_, e)) => {
                *e = None;
                Reply::Int(1)
            }
        })
        .collect();
    Ok(Reply::Array(out))
}

/// HTTL family: per field -2 no field, -1 no TTL, else the remaining time or the expiry time.
fn ttl_generic(k: &mut Keyspace, cx: &Cx, a: &[&[u8]], relative: bool, secs: bool) -> CmdResult {
    let db = k.db(cx.db);
    if let Err(e) = hash_mut(db, a[1], cx, &[]) {
        return Ok(e);
    }
    let fields = match fields_arg(a, 2, "Number of fields must be a positive integer") {
        Ok(f) => f,
        Err(e) => return Ok(e),
    };
    let Ok(Some(h)) = hash_mut(db, a[1], cx, fields) else {
        return Ok(Reply::Array(
            fields.iter().map(|_| Reply::Int(-2)).collect(),
        ));
    };
    let out = fields
        .iter()
        .map(|f| match h.live(f, cx.now) {
            None => Reply::Int(-2),
            Some((_, None)) => Reply::Int(-1),
            Some((_, Some(e))) => {
                let base = if relative { cx.now } else { 0 };
                Reply::Int(if secs {
                    (e + 999 - base) / 1000
                } else {
                    e - base
                })
            }
        })
        .collect();
    Ok(Reply::Array(out))
}

fn httl(k: &mut Keyspace, cx: &mut Cx, a: &[&[u8]]) -> CmdResult {
    ttl_generic(k, cx, a, true, true)
}

fn hpttl(k: &mut Keyspace, cx: &mut Cx, a: &[&[u8]]) -> CmdResult {
    ttl_generic(k, cx, a, true, false)
}

fn hexpiretime(k: &mut Keyspace, cx: &mut Cx, a: &[&[u8]]) -> CmdResult {
    ttl_generic(k, cx, a, false, true)
}

fn hpexpiretime(k: &mut Keyspace, cx: &mut Cx, a: &[&[u8]]) -> CmdResult {
    ttl_generic(k, cx, a, false, false)
}

fn hget(k: &mut Keyspace, cx: &mut Cx, a: &[&[u8]]) -> CmdResult {
    match hash_mut(k.db(cx.db), a[1], cx, &a[2..3]) {
        Ok(h) => Ok(h
            .and_then(|h| h.live(a[2], cx.now))
            .map_or(Reply::Nil, |(v, _)| Reply::bulk(v))),
        Err(e) => Ok(e),
    }
}

fn hmget(k: &mut Keyspace, cx: &mut Cx, a: &[&[u8]]) -> CmdResult {
    match hash_mut(k.db(cx.db), a[1], cx, &a[2..]) {
        Ok(h) => Ok(Reply::Array(
            a[2..]
                .iter()
                .map(|f| {
                    h.as_ref()
                        .and_then(|h| h.live(f, cx.now))
                        .map_or(Reply::Nil, |(v, _)| Reply::bulk(v))
                })
                .collect(),
        )),
        Err(e) => Ok(e),
    }
}

/// HGETALL, fields sorted by bytes (Redis's order is unspecified); expired fields are skipped.
fn hgetall(k: &mut Keyspace, cx: &mut Cx, a: &[&[u8]]) -> CmdResult {
    let h = match hash_mut(k.db(cx.db), a[1], cx, &[]) {
        Ok(Some(h)) => h,
        Ok(None) => return Ok(Reply::Array(vec![])),
        Err(e) => return Ok(e),
    };
    let mut pairs: Vec<_> = h
        .map
        .iter()
        .filter(|(_, (_, e))| !field_expired(*e, cx.now))
        .collect();
    pairs.sort_by(|x, y| x.0.cmp(y.0));
    Ok(Reply::Array(
        pairs
            .into_iter()
            .flat_map(|(f, (v, _))| [Reply::bulk(f), Reply::bulk(v)])
            .collect(),
    ))
}

fn hlen(k: &mut Keyspace, cx: &mut Cx, a: &[&[u8]]) -> CmdResult {
    match hash_mut(k.db(cx.db), a[1], cx, &[]) {
        Ok(h) => Ok(Reply::Int(h.map_or(0, |h| h.map.len() as i64))),
        Err(e) => Ok(e),
    }
}

fn hexists(k: &mut Keyspace, cx: &mut Cx, a: &[&[u8]]) -> CmdResult {
    match hash_mut(k.db(cx.db), a[1], cx, &a[2..3]) {
        Ok(h) => Ok(Reply::Int(
            h.and_then(|h| h.live(a[2], cx.now)).is_some() as i64
        )),
        Err(e) => Ok(e),
    }
}
