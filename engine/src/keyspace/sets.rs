//! Set commands on a fast-hashed `HashSet`: SADD/SREM/SMOVE, SPOP (deterministic: the smallest
//! members by bytes), the STORE algebra, and the reads SMEMBERS/SISMEMBER/SCARD/SINTER/SUNION/SDIFF.
use super::args::parse_i64;
use super::db::{Db, Obj, Slot};
use super::fxhash::FxHashSet;
use super::reply::{err, msg, CmdResult, Reply};
use super::{readonly, spec, Cx, Keyspace, Spec};

pub(crate) const COMMANDS: &[Spec] = &[
    spec("sadd", -3, sadd),
    spec("srem", -3, srem),
    spec("smove", 4, smove),
    spec("spop", -2, spop),
    spec("sinterstore", -3, sinterstore),
    spec("sunionstore", -3, sunionstore),
    spec("sdiffstore", -3, sdiffstore),
    readonly("smembers", 2, smembers),
    readonly("sismember", 3, sismember),
    readonly("scard", 2, scard),
    readonly("sinter", -2, sinter),
    readonly("sunion", -2, sunion),
    readonly("sdiff", -2, sdiff),
];

type Set = FxHashSet<Vec<u8>>;

/// The set at `key`: `Ok(None)` when absent, an error reply for another type.
pub(crate) fn set_mut<'a>(
    db: &'a mut Db,
    key: &[u8],
    clock: Option<i64>,
) -> Result<Option<&'a mut Set>, Reply> {
    match db.get(key, clock) {
        None => Ok(None),
        Some(Slot {
            obj: Obj::Set(s), ..
        }) => Ok(Some(s)),
        Some(_) => Err(Reply::Error(msg::WRONGTYPE.into())),
    }
}

fn sadd(k: &mut Keyspace, cx: &mut Cx, a: &[&[u8]]) -> CmdResult {
    let db = k.db(cx.db);
    let set = match set_mut(db, a[1], cx.clock) {
        Ok(Some(s)) => s,
        Ok(None) => {
            let mut s = Set::default();
            s.reserve(a.len() - 2);
            db.map.insert(a[1].into(), Slot::new(Obj::Set(s)));
            match db.map.get_mut(a[1]) {
                Some(Slot {
                    obj: Obj::Set(s), ..
                }) => s,
                _ => unreachable!("just inserted"),
            }
        }
        Err(e) => return Ok(e),
    };
    let mut added = 0;
    for m in &a[2..] {
        if !set.contains(*m) {
            set.insert(m.to_vec());
            added += 1;
        }
    }
    Ok(Reply::Int(added))
}

fn srem(k: &mut Keyspace, cx: &mut Cx, a: &[&[u8]]) -> CmdResult {
    let db = k.db(cx.db);
    let set = match set_mut(db, a[1], cx.clock) {
        Ok(Some(s)) => s,
        Ok(None) => return Ok(Reply::Int(0)),
        Err(e) => return Ok(e),
    };
    let removed = a[2..].iter().filter(|m| set.remove(**m)).count();
    db.drop_if_empty(a[1]);
    Ok(Reply::Int(removed as i64))
}

fn smove(k: &mut Keyspace, cx: &mut Cx, a: &[&[u8]]) -> CmdResult {
    let (src, dst, m) = (a[1], a[2], a[3]);
    let db = k.db(cx.db);
    let has = match set_mut(db, src, cx.clock) {
        Ok(Some(s)) => s.contains(m),
        Ok(None) => return Ok(Reply::Int(0)),
        Err(e) => return Ok(e),
    };
    if let Err(e) = set_mut(db, dst, cx.clock) {
        return Ok(e);
    }
    if src == dst || !has {
        return Ok(Reply::Int(has as i64));
    }
    if let Ok(Some(s)) = set_mut(db, src, cx.clock) {
        s.remove(m);
    }
    db.drop_if_empty(src);
    match set_mut(db, dst, cx.clock) {
        Ok(Some(d)) => {
            d.insert(m.to_vec());
        }
        _ => {
            let mut d = Set::default();
            d.insert(m.to_vec());
            db.map.insert(dst.into(), Slot::new(Obj::Set(d)));
        }
    }
    Ok(Reply::Int(1))
}

/// The `n` smallest members by bytes (the deterministic stand-in for a random pick).
fn smallest(set: &Set, n: usize) -> Vec<Vec<u8>> {
    let mut all: Vec<&Vec<u8>> = set.iter().collect();
    if n < all.len() {
        all.select_nth_unstable(n);
        all.truncate(n);
    }
    all.sort();
    all.into_iter().cloned().collect()
}

/// SPOP: Redis picks at random and propagates the removal as SREM (or UNLINK when the whole set
/// goes); a replay never sees SPOP itself. Here it removes the smallest members by bytes.
fn spop(k: &mut Keyspace, cx: &mut Cx, a: &[&[u8]]) -> CmdResult {
    if a.len() > 3 {
        return err(msg::SYNTAX);
    }
    let count = match a.get(2) {
        Some(c) => match parse_i64(c) {
            Some(n) if n >= 0 => Some(n as usize),
            _ => return err("ERR value is out of range, must be positive"),
        },
        None => None,
    };
    let db = k.db(cx.db);
    let set = match set_mut(db, a[1], cx.clock) {
        Ok(Some(s)) => s,
        Ok(None) => {
            return Ok(if count.is_some() {
                Reply::Array(vec![])
            } else {
                Reply::Nil
            })
        }
        Err(e) => return Ok(e),
    };
    let picked = smallest(set, count.unwrap_or(1));
    for m in &picked {
        set.remove(m);
    }
    db.drop_if_empty(a[1]);
    Ok(match count {
        Some(_) => Reply::bulks(picked),
        None => picked.into_iter().next().map_or(Reply::Nil, Reply::Bulk),
    })
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Op {
    Inter,
    Union,
    Diff,
}

/// Computes the algebra over `keys` (missing keys are empty sets; any other type is an error).
fn compute(db: &mut Db, keys: &[&[u8]], clock: Option<i64>, op: Op) -> Result<Set, Reply> {
    let mut sets: Vec<Option<Set>> = Vec::with_capacity(keys.len());
    for key in keys {
        sets.push(set_mut(db, key, clock)?.map(|s| s.clone()));
    }
    Ok(match op {
        Op::Inter => {
            if sets.iter().any(Option::is_none) {
                return Ok(Set::default());
            }
            let mut sets: Vec<Set> = sets.into_iter().flatten().collect();
            sets.sort_by_key(|s| s.len());
            let mut it = sets.into_iter();
            let first = it.next().unwrap_or_default();
            let rest: Vec<Set> = it.collect();
            first
                .into_iter()
                .filter(|m| rest.iter().all(|s| s.contains(m)))
                .collect()
        }
        Op::Union => sets.into_iter().flatten().flatten().collect(),
        Op::Diff => {
            let mut it = sets.into_iter();
            let mut first = it.next().flatten().unwrap_or_default();
            for s in it.flatten() {
                first.retain(|m| !s.contains(m));
            }
            first
        }
    })
}

fn store(k: &mut Keyspace, cx: &Cx, a: &[&[u8]], op: Op) -> CmdResult {
    let db = k.db(cx.db);
    let result = match compute(db, &a[2..], cx.clock, op) {
        Ok(s) => s,
        Err(e) => return Ok(e),
    };
    let n = result.len() as i64;
    db.map.remove(a[1]);
    if n > 0 {
        db.map.insert(a[1].into(), Slot::new(Obj::Set(result)));
    }
    Ok(Reply::Int(n))
}

fn sinterstore(k: &mut Keyspace, cx: &mut Cx, a: &[&[u8]]) -> CmdResult {
    store(k, cx, a, Op::Inter)
}

fn sunionstore(k: &mut Keyspace, cx: &mut Cx, a: &[&[u8]]) -> CmdResult {
    store(k, cx, a, Op::Union)
}

fn sdiffstore(k: &mut Keyspace, cx: &mut Cx, a: &[&[u8]]) -> CmdResult {
    store(k, cx, a, Op::Diff)
}

fn sorted(s: Set) -> Reply {
    let mut v: Vec<Vec<u8>> = s.into_iter().collect();
    v.sort();
    Reply::bulks(v)
}

fn read_op(k: &mut Keyspace, cx: &Cx, keys: &[&[u8]], op: Op) -> CmdResult {
    match compute(k.db(cx.db), keys, cx.clock, op) {
        Ok(s) => Ok(sorted(s)),
        Err(e) => Ok(e),
    }
}

/// SMEMBERS, with members sorted by bytes (Redis's order is unspecified).
fn smembers(k: &mut Keyspace, cx: &mut Cx, a: &[&[u8]]) -> CmdResult {
    read_op(k, cx, &a[1..2], Op::Union)
}

fn sinter(k: &mut Keyspace, cx: &mut Cx, a: &[&[u8]]) -> CmdResult {
    read_op(k, cx, &a[1..], Op::Inter)
}

fn sunion(k: &mut Keyspace, cx: &mut Cx, a: &[&[u8]]) -> CmdResult {
    read_op(k, cx, &a[1..], Op::Union)
}

fn sdiff(k: &mut Keyspace, cx: &mut Cx, a: &[&[u8]]) -> CmdResult {
    read_op(k, cx, &a[1..], Op::Diff)
}

fn sismember(k: &mut Keyspace, cx: &mut Cx, a: &[&[u8]]) -> CmdResult {
    match set_mut(k.db(cx.db), a[1], cx.clock) {
        Ok(s) => Ok(Reply::Int(s.is_some_and(|s| s.contains(a[2])) as i64)),
        Err(e) => Ok(e),
    }
}

fn scard(k: &mut Keyspace, cx: &mut Cx, a: &[&[u8]]) -> CmdResult {
    match set_mut(k.db(cx.db), a[1], cx.clock) {
        Ok(s) => Ok(Reply::Int(s.map_or(0, |s| s.len() as i64))),
        Err(e) => Ok(e),
    }
}
