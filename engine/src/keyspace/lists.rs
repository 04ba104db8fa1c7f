//! List commands on a `VecDeque`: pushes, pops with counts, LSET/LREM/LTRIM/LINSERT, LMOVE and
//! LMPOP, the blocking forms run once without blocking, and the reads LRANGE/LLEN/LINDEX.
use super::args::{self, is, parse_i64};
use super::db::{Db, Obj, Slot};
use super::reply::{err, msg, CmdResult, Reply};
use super::{readonly, spec, Cx, Keyspace, Spec};
use std::collections::VecDeque;

pub(crate) const COMMANDS: &[Spec] = &[
    spec("lpush", -3, lpush),
    spec("rpush", -3, rpush),
    spec("lpushx", -3, lpushx),
    spec("rpushx", -3, rpushx),
    spec("lpop", -2, lpop),
    spec("rpop", -2, rpop),
    spec("lset", 4, lset),
    spec("lrem", 4, lrem),
    spec("ltrim", 4, ltrim),
    spec("linsert", 5, linsert),
    spec("lmove", 5, lmove),
    spec("rpoplpush", 3, rpoplpush),
    spec("lmpop", -4, lmpop),
    spec("blpop", -3, blpop),
    spec("brpop", -3, brpop),
    spec("blmove", 6, blmove),
    spec("brpoplpush", 4, brpoplpush),
    spec("blmpop", -5, blmpop),
    readonly("lrange", 4, lrange),
    readonly("llen", 2, llen),
    readonly("lindex", 3, lindex),
];

type List = VecDeque<Vec<u8>>;
/// A key and the elements popped from it.
type Popped = (Vec<u8>, Vec<Vec<u8>>);

/// The list at `key`: `Ok(None)` when absent, an error reply for another type.
pub(crate) fn list_mut<'a>(
    db: &'a mut Db,
    key: &[u8],
    clock: Option<i64>,
) -> Result<Option<&'a mut List>, Reply> {
    match db.get(key, clock) {
        None => Ok(None),
        Some(Slot {
            obj: Obj::List(l), ..
        }) => Ok(Some(l)),
        Some(_) => Err(Reply::Error(msg::WRONGTYPE.into())),
    }
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum End {
    Head,
    Tail,
}

fn end_arg(a: &[u8]) -> Option<End> {
    if is(a, "left") {
        Some(End::Head)
    } else if is(a, "right") {
        Some(End::Tail)
    } else {
        None
    }
}

fn push_generic(
    k: &mut Keyspace,
    cx: &Cx,
    a: &[&[u8]],
    end: End,
    only_existing: bool,
) -> CmdResult {
    let db = k.db(cx.db);
    let list = match list_mut(db, a[1], cx.clock) {
        Ok(Some(l)) => l,
        Ok(None) if only_existing => return Ok(Reply::Int(0)),
        Ok(None) => {
            db.map
                .insert(a[1].into(), Slot::new(Obj::List(VecDeque::new())));
            match db.map.get_mut(a[1]) {
                Some(Slot {
                    obj: Obj::List(l), ..
                }) => l,
                _ => unreachable!("just inserted"),
            }
        }
        Err(e) => return Ok(e),
    };
    for v in &a[2..] {
        match end {
            End::Head => list.push_front(v.to_vec()),
            End::Tail => list.push_back(v.to_vec()),
        }
    }
    Ok(Reply::Int(list.len() as i64))
}

fn lpush(k: &mut Keyspace, cx: &mut Cx, a: &[&[u8]]) -> CmdResult {
    push_generic(k, cx, a, End::Head, false)
}

fn rpush(k: &mut Keyspace, cx: &mut Cx, a: &[&[u8]]) -> CmdResult {
    push_generic(k, cx, a, End::Tail, false)
}

fn lpushx(k: &mut Keyspace, cx: &mut Cx, a: &[&[u8]]) -> CmdResult {
    push_generic(k, cx, a, End::Head, true)
}

fn rpushx(k: &mut Keyspace, cx: &mut Cx, a: &[&[u8]]) -> CmdResult {
    push_generic(k, cx, a, End::Tail, true)
}

fn pop_n(list: &mut List, end: End, n: usize) -> Vec<Vec<u8>> {
    let n = n.min(list.len());
    match end {
        End::Head => list.drain(..n).collect(),
        End::Tail => (0..n).filter_map(|_| list.pop_back()).collect(),
    }
}

fn pop_generic(k: &mut Keyspace, cx: &Cx, a: &[&[u8]], end: End) -> CmdResult {
    if a.len() > 3 {
        return super::reply::arity_reply(if end == End::Head { "lpop" } else { "rpop" });
    }
    let count = match a.get(2) {
        Some(c) => match parse_i64(c) {
            Some(n) if n >= 0 => Some(n as usize),
            _ => return err("ERR value is out of range, must be positive"),
        },
        None => None,
    };
    let db = k.db(cx.db);
    let list = match list_mut(db, a[1], cx.clock) {
        Ok(Some(l)) => l,
        Ok(None) => return Ok(Reply::Nil),
        Err(e) => return Ok(e),
    };
    let reply = match count {
        Some(0) => return Ok(Reply::Array(vec![])),
        Some(n) => Reply::bulks(pop_n(list, end, n)),
        None => pop_n(list, end, 1).pop().map_or(Reply::Nil, Reply::Bulk),
    };
    db.drop_if_empty(a[1]);
    Ok(reply)
}

fn lpop(k: &mut Keyspace, cx: &mut Cx, a: &[&[u8]]) -> CmdResult {
    pop_generic(k, cx, a, End::Head)
}

fn rpop(k: &mut Keyspace, cx: &mut Cx, a: &[&[u8]]) -> CmdResult {
    pop_generic(k, cx, a, End::Tail)
}

fn lset(k: &mut Keyspace, cx: &mut Cx, a: &[&[u8]]) -> CmdResult {
    let Some(idx) = parse_i64(a[2]) else {
        return err(msg::NOT_INT);
    };
    let list = match list_mut(k.db(cx.db), a[1], cx.clock) {
        Ok(Some(l)) => l,
        Ok(None) => return err(msg::NO_KEY),
        Err(e) => return Ok(e),
    };
    let i = if idx < 0 {
        list.len() as i64 + idx
    } else {
        idx
    };
    match usize::try_from(i).ok().and_then(|i| list.get_mut(i)) {
        Some(slot) => {
            *slot = a[3].to_vec();
            Ok(Reply::Ok)
        }
        None => err(msg::OUT_OF_RANGE),
    }
}

fn lrem(k: &mut Keyspace, cx: &mut Cx, a: &[&[u8]]) -> CmdResult {
    let Some(count) = parse_i64(a[2]) else {
        return err(msg::NOT_INT);
    };
    let db = k.db(cx.db);
    let list = match list_mut(db, a[1], cx.clock) {
        Ok(Some(l)) => l,
        Ok(None) => return Ok(Reply::Int(0)),
        Err(e) => return Ok(e),
    };
    let limit = if count == 0 {
        u64::MAX
    } else {
        count.unsigned_abs()
    };
    let mut removed = 0u64;
    let mut keep = |v: &Vec<u8>| {
        if removed < limit && v.as_slice() == a[3] {
            removed += 1;
            false
        } else {
            true
        }
    };
    if count >= 0 {
        list.retain(|v| keep(v));
    } else {
        let mut kept: List = VecDeque::with_capacity(list.len());
        while let Some(v) = list.pop_back() {
            if keep(&v) {
                kept.push_front(v);
            }
        }
        *list = kept;
    }
    db.drop_if_empty(a[1]);
    Ok(Reply::Int(removed as i64))
}

fn ltrim(k: &mut Keyspace, cx: &mut Cx, a: &[&[u8]]) -> CmdResult {
    let Some((s, e)) = args::parse_range(a[2], a[3]) else {
        return err(msg::NOT_INT);
    };
    let db = k.db(cx.db);
    let list = match list_mut(db, a[1], cx.clock) {
        Ok(Some(l)) => l,
        Ok(None) => return Ok(Reply::Ok),
        Err(e) => return Ok(e),
    };
    match args::clamp_range(s, e, list.len()) {
        Some((s, e)) => {
            list.truncate(e + 1);
            list.drain(..s);
        }
        None => list.clear(),
    }
    db.drop_if_empty(a[1]);
    Ok(Reply::Ok)
}

fn linsert(k: &mut Keyspace, cx: &mut Cx, a: &[&[u8]]) -> CmdResult {
    let after = if is(a[2], "after") {
        true
    } else if is(a[2], "before") {
        false
    } else {
        return err(msg::SYNTAX);
    };
    let list = match list_mut(k.db(cx.db), a[1], cx.clock) {
        Ok(Some(l)) => l,
        Ok(None) => return Ok(Reply::Int(0)),
        Err(e) => return Ok(e),
    };
    match list.iter().position(|v| v.as_slice() == a[3]) {
        Some(i) => {
            list.insert(if after { i + 1 } else { i }, a[4].to_vec());
            Ok(Reply::Int(list.len() as i64))
        }
        None => Ok(Reply::Int(-1)),
    }
}

/// `lmoveGenericCommand`: source and destination may be the same list (a rotation).
fn lmove_generic(
    k: &mut Keyspace,
    cx: &Cx,
    src: &[u8],
    dst: &[u8],
    from: End,
    to: End,
) -> CmdResult {
    let db = k.db(cx.db);
    match list_mut(db, src, cx.clock) {
        Ok(Some(_)) => {}
        Ok(None) => return Ok(Reply::Nil),
        Err(e) => return Ok(e),
    }
    if let Err(e) = list_mut(db, dst, cx.clock) {
        return Ok(e);
    }
    let Ok(Some(list)) = list_mut(db, src, cx.clock) else {
        unreachable!("checked above")
    };
    let Some(v) = pop_n(list, from, 1).pop() else {
        return Ok(Reply::Nil);
    };
    db.drop_if_empty(src);
    let dl = match db.map.get_mut(dst) {
        Some(Slot {
            obj: Obj::List(l), ..
        }) => l,
        _ => {
            db.map
                .insert(dst.into(), Slot::new(Obj::List(VecDeque::new())));
            match db.map.get_mut(dst) {
                Some(Slot {
                    obj: Obj::List(l), ..
                }) => l,
                _ => unreachable!("just inserted"),
            }
        }
    };
    match to {
        End::Head => dl.push_front(v.clone()),
        End::Tail => dl.push_back(v.clone()),
    }
    Ok(Reply::Bulk(v))
}

fn lmove(k: &mut Keyspace, cx: &mut Cx, a: &[&[u8]]) -> CmdResult {
    match (end_arg(a[3]), end_arg(a[4])) {
        (Some(f), Some(t)) => lmove_generic(k, cx, a[1], a[2], f, t),
        _ => err(msg::SYNTAX),
    }
}

fn rpoplpush(k: &mut Keyspace, cx: &mut Cx, a: &[&[u8]]) -> CmdResult {
    lmove_generic(k, cx, a[1], a[2], End::Tail, End::Head)
}

/// BLMOVE run once: as LMOVE when the source has elements, else a nil reply (no blocking).
fn blmove(k: &mut Keyspace, cx: &mut Cx, a: &[&[u8]]) -> CmdResult {
    if args::parse_f64(a[5]).is_none_or(|t| t < 0.0) {
        return err("ERR timeout is not a float or out of range");
    }
    lmove(k, cx, &a[..5])
}

fn brpoplpush(k: &mut Keyspace, cx: &mut Cx, a: &[&[u8]]) -> CmdResult {
    if args::parse_f64(a[3]).is_none_or(|t| t < 0.0) {
        return err("ERR timeout is not a float or out of range");
    }
    lmove_generic(k, cx, a[1], a[2], End::Tail, End::Head)
}

/// Pops from the first non-empty list among `keys`: `(key, elements)`.
fn mpop(
    k: &mut Keyspace,
    cx: &Cx,
    keys: &[&[u8]],
    end: End,
    count: usize,
) -> Result<Option<Popped>, Reply> {
    let db = k.db(cx.db);
    for key in keys {
        if let Some(list) = list_mut(db, key, cx.clock)? {
            let out = pop_n(list, end, count);
            db.drop_if_empty(key);
            return Ok(Some((key.to_vec(), out)));
        }
    }
    Ok(None)
}

/// BLPOP/BRPOP run once: `[key, element]` from the first non-empty list, else nil.
fn bpop(k: &mut Keyspace, cx: &Cx, a: &[&[u8]], end: End) -> CmdResult {
    if args::parse_f64(a[a.len() - 1]).is_none_or(|t| t < 0.0) {
        return err("ERR timeout is not a float or out of range");
    }
    match mpop(k, cx, &a[1..a.len() - 1], end, 1) {
        Ok(Some((key, mut v))) => Ok(Reply::Array(vec![
            Reply::Bulk(key),
            Reply::Bulk(v.remove(0)),
        ])),
        Ok(None) => Ok(Reply::Nil),
        Err(e) => Ok(e),
    }
}

fn blpop(k: &mut Keyspace, cx: &mut Cx, a: &[&[u8]]) -> CmdResult {
    bpop(k, cx, a, End::Head)
}

fn brpop(k: &mut Keyspace, cx: &mut Cx, a: &[&[u8]]) -> CmdResult {
    bpop(k, cx, a, End::Tail)
}

/// `lmpopGenericCommand` from `numkeys_idx`.
fn lmpop_generic(k: &mut Keyspace, cx: &Cx, a: &[&[u8]], numkeys_idx: usize) -> CmdResult {
    let numkeys = match parse_i64(a[numkeys_idx]) {
        Some(n) if n >= 1 => n as usize,
        _ => return err("ERR numkeys should be greater than 0"),
    };
    let where_idx = numkeys_idx.saturating_add(numkeys).saturating_add(1);
    if where_idx >= a.len() {
        return err(msg::SYNTAX);
    }
    let Some(end) = end_arg(a[where_idx]) else {
        return err(msg::SYNTAX);
    };
    let count = match args::mpop_count(a, where_idx + 1) {
        Ok(c) => c,
        Err(e) => return err(e),
    };
    let keys = &a[numkeys_idx + 1..where_idx];
    match mpop(k, cx, keys, end, count.unwrap_or(1)) {
        Ok(Some((key, v))) => Ok(Reply::Array(vec![Reply::Bulk(key), Reply::bulks(v)])),
        Ok(None) => Ok(Reply::Nil),
        Err(e) => Ok(e),
    }
}

fn lmpop(k: &mut Keyspace, cx: &mut Cx, a: &[&[u8]]) -> CmdResult {
    lmpop_generic(k, cx, a, 1)
}

/// BLMPOP run once (`BLMPOP timeout numkeys key... LEFT|RIGHT [COUNT n]`).
fn blmpop(k: &mut Keyspace, cx: &mut Cx, a: &[&[u8]]) -> CmdResult {
    if args::parse_f64(a[1]).is_none_or(|t| t < 0.0) {
        return err("ERR timeout is not a float or out of range");
    }
    lmpop_generic(k, cx, a, 2)
}

fn lrange(k: &mut Keyspace, cx: &mut Cx, a: &[&[u8]]) -> CmdResult {
    let Some((s, e)) = args::parse_range(a[2], a[3]) else {
        return err(msg::NOT_INT);
    };
    let list = match list_mut(k.db(cx.db), a[1], cx.clock) {
        Ok(Some(l)) => l,
        Ok(None) => return Ok(Reply::Array(vec![])),
        Err(e) => return Ok(e),
    };
    Ok(match args::clamp_range(s, e, list.len()) {
        Some((s, e)) => Reply::bulks(list.range(s..=e).cloned()),
        None => Reply::Array(vec![]),
    })
}

fn llen(k: &mut Keyspace, cx: &mut Cx, a: &[&[u8]]) -> CmdResult {
    match list_mut(k.db(cx.db), a[1], cx.clock) {
        Ok(l) => Ok(Reply::Int(l.map_or(0, |l| l.len() as i64))),
        Err(e) => Ok(e),
    }
}

fn lindex(k: &mut Keyspace, cx: &mut Cx, a: &[&[u8]]) -> CmdResult {
    let Some(idx) = parse_i64(a[2]) else {
        return err(msg::NOT_INT);
    };
    let list = match list_mut(k.db(cx.db), a[1], cx.clock) {
        Ok(Some(l)) => l,
        Ok(None) => return Ok(Reply::Nil),
        Err(e) => return Ok(e),
    };
    let i = if idx < 0 {
        list.len() as i64 + idx
    } else {
        idx
    };
    Ok(usize::try_from(i)
        .ok()
        .and_then(|i| list.get(i))
        .map_or(Reply::Nil, |v| Reply::bulk(v)))
}
