//! Sorted sets as a member→score map plus a `(score, member)` ordered index (with -0 == 0):
//! ZADD with all flags, ZINCRBY, ZREM, ZPOPMIN/ZPOPMAX, ZMPOP and the blocking pops run once.
use super::args::{self, is, parse_i64};
use super::db::{Db, Obj, Slot};
use super::reply::{err, msg, CmdResult, Reply};
use super::zset_type::{ZsetLimits, ZsetObj};
use super::{readonly, spec, Cx, Keyspace, Spec};

pub(crate) const COMMANDS: &[Spec] = &[
    spec("zadd", -4, zadd),
    spec("zincrby", 4, zincrby),
    spec("zrem", -3, zrem),
    spec("zpopmin", -2, zpopmin),
    spec("zpopmax", -2, zpopmax),
    spec("zmpop", -4, zmpop),
    spec("bzpopmin", -3, bzpopmin),
    spec("bzpopmax", -3, bzpopmax),
    spec("bzmpop", -5, bzmpop),
    readonly("zscore", 3, zscore),
    readonly("zcard", 2, zcard),
];

/// The sorted set at `key`: `Ok(None)` when absent, an error reply for another type.
pub(crate) fn zset_mut<'a>(
    db: &'a mut Db,
    key: &[u8],
    clock: Option<i64>,
) -> Result<Option<&'a mut ZsetObj>, Reply> {
    match db.get(key, clock) {
        None => Ok(None),
        Some(Slot {
            obj: Obj::Zset(z), ..
        }) => Ok(Some(z)),
        Some(_) => Err(Reply::Error(msg::WRONGTYPE.into())),
    }
}

/// Flattened `member, score` replies.
pub(crate) fn with_scores(items: Vec<(Vec<u8>, f64)>) -> Vec<Reply> {
    items
        .into_iter()
        .flat_map(|(m, s)| [Reply::Bulk(m), Reply::Bulk(args::double_bytes(s))])
        .collect()
}

/// A key and the members popped from it.
type Popped = (Vec<u8>, Vec<(Vec<u8>, f64)>);

#[derive(Default)]
struct AddFlags {
    nx: bool,
    xx: bool,
    gt: bool,
    lt: bool,
    ch: bool,
    incr: bool,
}

/// `zaddGenericCommand` (ZINCRBY is ZADD INCR).
fn zadd_generic(k: &mut Keyspace, cx: &Cx, a: &[&[u8]], mut f: AddFlags) -> CmdResult {
    let mut i = 2;
    while i < a.len() {
        let o = a[i];
        let flag = match () {
            _ if is(o, "nx") => &mut f.nx,
            _ if is(o, "xx") => &mut f.xx,
            _ if is(o, "gt") => &mut f.gt,
            _ if is(o, "lt") => &mut f.lt,
            _ if is(o, "ch") => &mut f.ch,
            _ if is(o, "incr") => &mut f.incr,
            _ => break,
        };
        *flag = true;
        i += 1;
    }
    let rest = &a[i..];
    if rest.is_empty() || rest.len() % 2 == 1 {
        return err(msg::SYNTAX);
    }
    if f.nx && f.xx {
        return err("ERR XX and NX options at the same time are not compatible");
    }
    if (f.nx && (f.gt || f.lt)) || (f.gt && f.lt) {
        return err("ERR GT, LT, and/or NX options at the same time are not compatible");
    }
    if f.incr && rest.len() > 2 {
        return err("ERR INCR option supports a single increment-element pair");
    }
    let mut pairs = Vec::with_capacity(rest.len() / 2);
    for p in rest.chunks_exact(2) {
        match args::parse_f64(p[0]) {
            Some(s) => pairs.push((s, p[1])),
            None => return err(msg::NOT_FLOAT),
        }
    }
    let lim = ZsetLimits::of(k);
    let db = k.db(cx.db);
    let z = match zset_mut(db, a[1], cx.clock) {
        Ok(Some(z)) => {
            z.maybe_convert(pairs.len(), lim);
            z
        }
        Ok(None) if f.xx => return Ok(if f.incr { Reply::Nil } else { Reply::Int(0) }),
        Ok(None) => {
            let fresh = ZsetObj::create(pairs.len(), pairs[0].1.len(), lim);
            db.map
                .insert(a[1].into(), Slot::new(Obj::Zset(Box::new(fresh))));
            match db.map.get_mut(a[1]) {
                Some(Slot {
                    obj: Obj::Zset(z), ..
                }) => z,
                _ => unreachable!("just inserted"),
            }
        }
        Err(e) => return Ok(e),
    };
    let (mut added, mut changed) = (0, 0);
    let mut incr_result = None;
    for (score, m) in pairs {
        match z.dict.get(m).copied() {
            Some(cur) => {
                if f.nx {
                    continue;
                }
                let new = if f.incr { cur + score } else { score };
                if new.is_nan() {
                    return err(msg::NAN);
                }
                if (f.gt && new <= cur) || (f.lt && new >= cur) {
                    continue;
                }
                incr_result = Some(new);
                if new != cur {
                    z.insert(m, new);
                    changed += 1;
                }
            }
            None => {
                if f.xx {
                    continue;
                }
                z.before_add(m.len(), lim);
                z.add_new(m, score);
                incr_result = Some(score);
                added += 1;
            }
        }
    }
    db.drop_if_empty(a[1]);
    Ok(if f.incr {
        incr_result.map_or(Reply::Nil, |s| Reply::Bulk(args::double_bytes(s)))
    } else {
        Reply::Int(if f.ch { added + changed } else { added })
    })
}

fn zadd(k: &mut Keyspace, cx: &mut Cx, a: &[&[u8]]) -> CmdResult {
    zadd_generic(k, cx, a, AddFlags::default())
}

fn zincrby(k: &mut Keyspace, cx: &mut Cx, a: &[&[u8]]) -> CmdResult {
    let f = AddFlags {
        incr: true,
        ..AddFlags::default()
    };
    zadd_generic(k, cx, a, f)
}

fn zrem(k: &mut Keyspace, cx: &mut Cx, a: &[&[u8]]) -> CmdResult {
    let db = k.db(cx.db);
    let z = match zset_mut(db, a[1], cx.clock) {
        Ok(Some(z)) => z,
        Ok(None) => return Ok(Reply::Int(0)),
        Err(e) => return Ok(e),
    };
    let n = a[2..].iter().filter(|m| z.remove(m)).count();
    db.drop_if_empty(a[1]);
    Ok(Reply::Int(n as i64))
}

/// Pops up to `count` members from the first non-empty sorted set among `keys`.
fn mpop(
    k: &mut Keyspace,
    cx: &Cx,
    keys: &[&[u8]],
    max: bool,
    count: usize,
) -> Result<Option<Popped>, Reply> {
    let db = k.db(cx.db);
    for key in keys {
        if let Some(z) = zset_mut(db, key, cx.clock)? {
            let out: Vec<_> = (0..count).map_while(|_| z.pop(max)).collect();
            db.drop_if_empty(key);
            return Ok(Some((key.to_vec(), out)));
        }
    }
    Ok(None)
}

fn pop_generic(k: &mut Keyspace, cx: &Cx, a: &[&[u8]], max: bool) -> CmdResult {
    if a.len() > 3 {
        return err(msg::SYNTAX);
    }
    let count = match a.get(2) {
        Some(c) => match parse_i64(c) {
            Some(n) if n >= 0 => n as usize,
            _ => return err("ERR value is out of range, must be positive"),
        },
        None => 1,
    };
    match mpop(k, cx, &a[1..2], max, count) {
        Ok(Some((_, items))) => Ok(Reply::Array(with_scores(items))),
        Ok(None) => Ok(Reply::Array(vec![])),
        Err(e) => Ok(e),
    }
}

fn zpopmin(k: &mut Keyspace, cx: &mut Cx, a: &[&[u8]]) -> CmdResult {
    pop_generic(k, cx, a, false)
}

fn zpopmax(k: &mut Keyspace, cx: &mut Cx, a: &[&[u8]]) -> CmdResult {
    pop_generic(k, cx, a, true)
}

/// `zmpopGenericCommand` from `numkeys_idx`: `[key, [[member, score]...]]` or nil.
fn zmpop_generic(k: &mut Keyspace, cx: &Cx, a: &[&[u8]], numkeys_idx: usize) -> CmdResult {
    let numkeys = match parse_i64(a[numkeys_idx]) {
        Some(n) if n >= 1 => n as usize,
        _ => return err("ERR numkeys should be greater than 0"),
    };
    let where_idx = numkeys_idx.saturating_add(numkeys).saturating_add(1);
    if where_idx >= a.len() {
        return err(msg::SYNTAX);
    }
    let max = if is(a[where_idx], "max") {
        true
    } else if is(a[where_idx], "min") {
        false
    } else {
        return err(msg::SYNTAX);
    };
    let count = match args::mpop_count(a, where_idx + 1) {
        Ok(c) => c,
        Err(e) => return err(e),
    };
    match mpop(
        k,
        cx,
        &a[numkeys_idx + 1..where_idx],
        max,
        count.unwrap_or(1),
    ) {
        Ok(Some((key, items))) => {
            let rows = items
                .into_iter()
                .map(|(m, s)| {
                    Reply::Array(vec![Reply::Bulk(m), Reply::Bulk(args::double_bytes(s))])
                })
                .collect();
            Ok(Reply::Array(vec![Reply::Bulk(key), Reply::Array(rows)]))
        }
        Ok(None) => Ok(Reply::Nil),
        Err(e) => Ok(e),
    }
}

fn zmpop(k: &mut Keyspace, cx: &mut Cx, a: &[&[u8]]) -> CmdResult {
    zmpop_generic(k, cx, a, 1)
}

fn timeout_ok(t: &[u8]) -> bool {
    args::parse_f64(t).is_some_and(|t| t >= 0.0)
}

/// BZPOPMIN/BZPOPMAX run once: `[key, member, score]` from the first non-empty set, else nil.
fn bzpop(k: &mut Keyspace, cx: &Cx, a: &[&[u8]], max: bool) -> CmdResult {
    if !timeout_ok(a[a.len() - 1]) {
        return err("ERR timeout is not a float or out of range");
    }
    match mpop(k, cx, &a[1..a.len() - 1], max, 1) {
        Ok(Some((key, mut items))) => {
            let (m, s) = items.remove(0);
            Ok(Reply::Array(vec![
                Reply::Bulk(key),
                Reply::Bulk(m),
                Reply::Bulk(args::double_bytes(s)),
            ]))
        }
        Ok(None) => Ok(Reply::Nil),
        Err(e) => Ok(e),
    }
}

fn bzpopmin(k: &mut Keyspace, cx: &mut Cx, a: &[&[u8]]) -> CmdResult {
    bzpop(k, cx, a, false)
}

fn bzpopmax(k: &mut Keyspace, cx: &mut Cx, a: &[&[u8]]) -> CmdResult {
    bzpop(k, cx, a, true)
}

fn bzmpop(k: &mut Keyspace, cx: &mut Cx, a: &[&[u8]]) -> CmdResult {
    if !timeout_ok(a[1]) {
        return err("ERR timeout is not a float or out of range");
    }
    zmpop_generic(k, cx, a, 2)
}

fn zscore(k: &mut Keyspace, cx: &mut Cx, a: &[&[u8]]) -> CmdResult {
    match zset_mut(k.db(cx.db), a[1], cx.clock) {
        Ok(z) => Ok(z
            .and_then(|z| z.dict.get(a[2]).copied())
            .map_or(Reply::Nil, |s| Reply::Bulk(args::double_bytes(s)))),
        Err(e) => Ok(e),
    }
}

fn zcard(k: &mut Keyspace, cx: &mut Cx, a: &[&[u8]]) -> CmdResult {
    match zset_mut(k.db(cx.db), a[1], cx.clock) {
        Ok(z) => Ok(Reply::Int(z.map_or(0, |z| z.dict.len() as i64))),
        Err(e) => Ok(e),
    }
}
