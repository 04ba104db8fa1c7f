//! Set commands, including the *STORE algebra. Members are kept in byte order.
//! SPOP is deterministic here (smallest members first) where Redis picks at random.

use crate::args::non_negative;
use crate::keyspace::{cmd, Cmd, Ctx};
use crate::reply::{syntax, Reply, Res};
use crate::value::{Set, Value};

pub(crate) const COMMANDS: &[Cmd] = &[
    cmd("sadd", -3, sadd),
    cmd("srem", -3, srem),
    cmd("smembers", 2, smembers),
    cmd("sismember", 3, sismember),
    cmd("scard", 2, scard),
    cmd("spop", -2, spop),
    cmd("smove", 4, smove),
    cmd("sinterstore", -3, sinterstore),
    cmd("sunionstore", -3, sunionstore),
    cmd("sdiffstore", -3, sdiffstore),
];

fn sadd(cx: &mut Ctx<'_>, a: &[Vec<u8>]) -> Res {
    let s = cx.get_or_create::<Set>(&a[1])?;
    let added = a[2..].iter().filter(|m| s.insert(m.to_vec())).count();
    Ok(Reply::Int(added as i64))
}

fn srem(cx: &mut Ctx<'_>, a: &[Vec<u8>]) -> Res {
    let Some(s) = cx.get::<Set>(&a[1])? else {
        return Ok(Reply::Int(0));
    };
    Ok(Reply::Int(
        a[2..].iter().filter(|m| s.remove(m.as_slice())).count() as i64,
    ))
}

fn smembers(cx: &mut Ctx<'_>, a: &[Vec<u8>]) -> Res {
    Ok(Reply::bulks(
        cx.get::<Set>(&a[1])?
            .map(|s| s.iter().cloned().collect::<Vec<_>>())
            .unwrap_or_default(),
    ))
}

fn sismember(cx: &mut Ctx<'_>, a: &[Vec<u8>]) -> Res {
    Ok(Reply::Int(i64::from(
        cx.get::<Set>(&a[1])?.is_some_and(|s| s.contains(&a[2])),
    )))
}

fn scard(cx: &mut Ctx<'_>, a: &[Vec<u8>]) -> Res {
    Ok(Reply::Int(
        cx.get::<Set>(&a[1])?.map_or(0, |s| s.len() as i64),
    ))
}

/// SPOP: Redis removes random members and propagates them as SREM, so the model cannot
/// predict which. It takes the smallest members instead; use it only where the outcome
/// does not depend on the choice (count >= size, one-member sets) or replay the SREMs.
fn spop(cx: &mut Ctx<'_>, a: &[Vec<u8>]) -> Res {
    if a.len() > 3 {
        return Err(syntax());
    }
    let count = a.get(2).map(|c| non_negative(c)).transpose()?;
    let Some(s) = cx.get::<Set>(&a[1])? else {
        return Ok(if count.is_some() {
            Reply::Array(vec![])
        } else {
            Reply::nil()
        });
    };
    Ok(match count {
        None => Reply::Bulk(s.pop_first()),
        Some(n) => Reply::bulks((0..n).map_while(|_| s.pop_first()).collect::<Vec<_>>()),
    })
}

fn smove(cx: &mut Ctx<'_>, a: &[Vec<u8>]) -> Res {
    let (src, dst, member) = (&a[1], &a[2], &a[3]);
    if cx.get::<Set>(src)?.is_none() {
        return Ok(Reply::Int(0));
    }
    cx.check::<Set>(dst)?;
    if src == dst {
        return Ok(Reply::Int(i64::from(
            cx.get::<Set>(src)?.is_some_and(|s| s.contains(member)),
        )));
    }
    if !cx.get::<Set>(src)?.is_some_and(|s| s.remove(member)) {
        return Ok(Reply::Int(0));
    }
    cx.get_or_create::<Set>(dst)?.insert(member.clone());
    Ok(Reply::Int(1))
}

/// Reads every source set, WRONGTYPE on the first non-set; a missing key is an empty set.
fn sources(cx: &mut Ctx<'_>, keys: &[Vec<u8>]) -> Result<Vec<Option<Set>>, Reply> {
    keys.iter()
        .map(|k| Ok(cx.get::<Set>(k)?.cloned()))
        .collect()
}

/// Stores `result` at `dst` (replacing value and TTL) or deletes `dst` if it is empty.
fn store(cx: &mut Ctx<'_>, dst: &[u8], result: Set) -> Res {
    let n = result.len() as i64;
    if result.is_empty() {
        cx.remove(dst);
    } else {
        cx.put(dst, Value::Set(result));
    }
    Ok(Reply::Int(n))
}

fn sinterstore(cx: &mut Ctx<'_>, a: &[Vec<u8>]) -> Res {
    let sets = sources(cx, &a[2..])?;
    let result = match sets.iter().map(|s| s.as_ref()).collect::<Option<Vec<_>>>() {
        None => Set::new(),
        Some(all) => all[0]
            .iter()
            .filter(|m| all[1..].iter().all(|s| s.contains(*m)))
            .cloned()
            .collect(),
    };
    store(cx, &a[1], result)
}

fn sunionstore(cx: &mut Ctx<'_>, a: &[Vec<u8>]) -> Res {
    let result = sources(cx, &a[2..])?
        .into_iter()
        .flatten()
        .flatten()
        .collect();
    store(cx, &a[1], result)
}

fn sdiffstore(cx: &mut Ctx<'_>, a: &[Vec<u8>]) -> Res {
    let mut sets = sources(cx, &a[2..])?.into_iter();
    let mut result = sets.next().flatten().unwrap_or_default();
    for s in sets.flatten() {
        result.retain(|m| !s.contains(m));
    }
    store(cx, &a[1], result)
}

#[cfg(test)]
mod tests {
    use crate::keyspace::testkit::*;
    use crate::Reply;

    #[test]
    fn add_remove_and_membership() {
        let mut t = T::new();
        assert_eq!(t.run("SADD s b a b"), i(2));
        assert_eq!(t.run("SADD s c"), i(1));
        assert_eq!(t.run("SMEMBERS s"), arr(&["a", "b", "c"]));
        assert_eq!(t.run("SISMEMBER s a"), i(1));
        assert_eq!(t.run("SISMEMBER s z"), i(0));
        assert_eq!(t.run("SCARD s"), i(3));
        assert_eq!(t.run("SREM s a z"), i(1));
        assert_eq!(t.run("SREM s b c"), i(2));
        assert_eq!(
            t.run("EXISTS s"),
            i(0),
            "removing the last member deletes the set"
        );
        assert_eq!(t.run("SMEMBERS s"), arr(&[]));
        t.ok("SET str v");
        assert_eq!(t.run("SADD str a"), e(WRONGTYPE));
        assert_eq!(t.run("SCARD str"), e(WRONGTYPE));
    }

    #[test]
    fn spop_is_deterministic_in_the_model() {
        let mut t = T::new();
        t.ok("SADD s c a b d");
        assert_eq!(t.run("SPOP s"), b("a"));
        assert_eq!(t.run("SPOP s 2"), arr(&["b", "c"]));
        assert_eq!(t.run("SPOP s 0"), arr(&[]));
        assert_eq!(t.run("SPOP s 5"), arr(&["d"]));
        assert_eq!(t.run("EXISTS s"), i(0));
        assert_eq!(t.run("SPOP s"), Reply::nil());
        assert_eq!(t.run("SPOP s 1"), arr(&[]));
        assert_eq!(t.run("SPOP s 1 2"), e("ERR syntax error"));
        assert_eq!(
            t.run("SPOP s -1"),
            e("ERR value is out of range, must be positive")
        );
    }

    #[test]
    fn smove_cases() {
        let mut t = T::new();
        t.ok("SADD a x y");
        t.ok("SET str v");
        assert_eq!(t.run("SMOVE a str x"), e(WRONGTYPE));
        assert_eq!(
            t.run("SMOVE nope str x"),
            i(0),
            "missing source wins over a bad destination"
        );
        assert_eq!(t.run("SMOVE a a x"), i(1));
        assert_eq!(t.run("SMOVE a a q"), i(0));
        assert_eq!(t.run("SMOVE a b x"), i(1));
        assert_eq!(t.run("SMOVE a b q"), i(0));
        assert_eq!(t.run("SMOVE a b y"), i(1));
        assert_eq!(t.run("EXISTS a"), i(0));
        assert_eq!(t.run("SMEMBERS b"), arr(&["x", "y"]));
    }

    #[test]
    fn store_commands_replace_or_delete_the_destination() {
        let mut t = T::new();
        t.ok("SADD a 1 2 3");
        t.ok("SADD b 2 3 4");
        t.ok("SET d old EX 100");
        assert_eq!(t.run("SINTERSTORE d a b"), i(2));
        assert_eq!(t.run("SMEMBERS d"), arr(&["2", "3"]));
        assert_eq!(t.run("TTL d"), i(-1), "the stored result has no TTL");
        assert_eq!(t.run("SUNIONSTORE d a b nope"), i(4));
        assert_eq!(t.run("SDIFFSTORE d a b"), i(1));
        assert_eq!(t.run("SMEMBERS d"), arr(&["1"]));
        assert_eq!(t.run("SINTERSTORE d a nope"), i(0));
        assert_eq!(
            t.run("EXISTS d"),
            i(0),
            "an empty result deletes the destination"
        );
        assert_eq!(t.run("SDIFFSTORE c a"), i(3));
        assert_eq!(t.run("SDIFFSTORE c a a"), i(0));
        t.ok("SET str v");
        assert_eq!(t.run("SINTERSTORE d nope str"), e(WRONGTYPE));
        assert_eq!(t.run("SUNIONSTORE d str"), e(WRONGTYPE));
    }
}
