//! Sorted-set commands: ZADD with every flag, ranges by rank/score/lex, pops, removals,
//! and the ZUNIONSTORE/ZINTERSTORE algebra. Rank order is (score, member bytes).

use std::cmp::Ordering;

use crate::args::{eq, float, int, non_negative};
use crate::keyspace::{cmd, Cmd, Ctx};
use crate::reply::{err, fmt_double, syntax, wrong_type, Reply, Res};
use crate::value::{Set, Value, Zset};

pub(crate) const COMMANDS: &[Cmd] = &[
    cmd("zadd", -4, zadd),
    cmd("zincrby", 4, zincrby),
    cmd("zrem", -3, zrem),
    cmd("zscore", 3, zscore),
    cmd("zcard", 2, zcard),
    cmd("zpopmin", -2, zpopmin),
    cmd("zpopmax", -2, zpopmax),
    cmd("zunionstore", -4, zunionstore),
    cmd("zinterstore", -4, zinterstore),
];

const NAN_ERR: &str = "resulting score is not a number (NaN)";

/// Members in rank order. Scores are never NaN, and -0 compares equal to 0.
pub(crate) fn ranked(z: &Zset) -> Vec<(Vec<u8>, f64)> {
    let mut v: Vec<_> = z.iter().map(|(m, s)| (m.clone(), *s)).collect();
    v.sort_by(|a, b| {
        a.1.partial_cmp(&b.1)
            .unwrap_or(Ordering::Equal)
            .then_with(|| a.0.cmp(&b.0))
    });
    v
}

pub(crate) fn with_scores(items: &[(Vec<u8>, f64)], scores: bool) -> Reply {
    let mut out = Vec::new();
    for (m, s) in items {
        out.push(Reply::bulk(m.clone()));
        if scores {
            out.push(Reply::bulk(fmt_double(*s)));
        }
    }
    Reply::Array(out)
}

fn zadd_generic(cx: &mut Ctx<'_>, a: &[Vec<u8>], mut incr: bool) -> Res {
    let (mut nx, mut xx, mut gt, mut lt, mut ch) = (false, false, false, false, false);
    let mut idx = 2;
    while idx < a.len() {
        let o = &a[idx];
        match () {
            _ if eq(o, "nx") => nx = true,
            _ if eq(o, "xx") => xx = true,
            _ if eq(o, "ch") => ch = true,
            _ if eq(o, "incr") => incr = true,
            _ if eq(o, "gt") => gt = true,
            _ if eq(o, "lt") => lt = true,
            _ => break,
        }
        idx += 1;
    }
    let rest = &a[idx..];
    if rest.is_empty() || rest.len() % 2 == 1 {
        return Err(syntax());
    }
    if nx && xx {
        return Err(err("XX and NX options at the same time are not compatible"));
    }
    if (nx && (gt || lt)) || (gt && lt) {
        return Err(err(
            "GT, LT, and/or NX options at the same time are not compatible",
        ));
    }
    if incr && rest.len() > 2 {
        return Err(err("INCR option supports a single increment-element pair"));
    }
    let scores = rest
        .chunks(2)
        .map(|p| float(&p[0]))
        .collect::<Result<Vec<_>, _>>()?;
    let exists = cx.get::<Zset>(&a[1])?.is_some();
    let (mut added, mut updated, mut processed, mut last) = (0, 0, 0, 0.0);
    if exists || !xx {
        let z = cx.get_or_create::<Zset>(&a[1])?;
        for (pair, &score) in rest.chunks(2).zip(&scores) {
            let member = &pair[1];
            let Some(&cur) = z.get(member) else {
                if !xx {
                    z.insert(member.clone(), score);
                    (added, processed, last) = (added + 1, processed + 1, score);
                }
                continue;
            };
            if nx {
                continue;
            }
            let new = if incr { cur + score } else { score };
            if new.is_nan() {
                return Err(err(NAN_ERR));
            }
            if (lt && new >= cur) || (gt && new <= cur) {
                continue;
            }
            (processed, last) = (processed + 1, new);
            // An equal score (including -0 vs 0) is not an update and keeps the old value.
            if new != cur {
                z.insert(member.clone(), new);
                updated += 1;
            }
        }
    }
    Ok(match (incr, processed) {
        (true, 0) => Reply::nil(),
        (true, _) => Reply::bulk(fmt_double(last)),
        (false, _) => Reply::Int(if ch { added + updated } else { added }),
    })
}

fn zadd(cx: &mut Ctx<'_>, a: &[Vec<u8>]) -> Res {
    zadd_generic(cx, a, false)
}

fn zincrby(cx: &mut Ctx<'_>, a: &[Vec<u8>]) -> Res {
    zadd_generic(cx, a, true)
}

fn zrem(cx: &mut Ctx<'_>, a: &[Vec<u8>]) -> Res {
    let Some(z) = cx.get::<Zset>(&a[1])? else {
        return Ok(Reply::Int(0));
    };
    Ok(Reply::Int(
        a[2..]
            .iter()
            .filter(|m| z.remove(m.as_slice()).is_some())
            .count() as i64,
    ))
}

fn zscore(cx: &mut Ctx<'_>, a: &[Vec<u8>]) -> Res {
    let score = cx.get::<Zset>(&a[1])?.and_then(|z| z.get(&a[2]).copied());
    Ok(Reply::Bulk(score.map(fmt_double)))
}

fn zcard(cx: &mut Ctx<'_>, a: &[Vec<u8>]) -> Res {
    Ok(Reply::Int(
        cx.get::<Zset>(&a[1])?.map_or(0, |z| z.len() as i64),
    ))
}

fn zpop(cx: &mut Ctx<'_>, a: &[Vec<u8>], max: bool) -> Res {
    if a.len() > 3 {
        return Err(syntax());
    }
    let count = a.get(2).map(|c| non_negative(c)).transpose()?.unwrap_or(1) as usize;
    let Some(z) = cx.get::<Zset>(&a[1])? else {
        return Ok(Reply::Array(vec![]));
    };
    let mut order = ranked(z);
    if max {
        order.reverse();
    }
    order.truncate(count);
    for (m, _) in &order {
        z.remove(m);
    }
    Ok(with_scores(&order, true))
}

fn zpopmin(cx: &mut Ctx<'_>, a: &[Vec<u8>]) -> Res {
    zpop(cx, a, false)
}

fn zpopmax(cx: &mut Ctx<'_>, a: &[Vec<u8>]) -> Res {
    zpop(cx, a, true)
}

#[derive(Clone, Copy)]
enum Agg {
    Sum,
    Min,
    Max,
}

fn aggregate(acc: f64, v: f64, agg: Agg) -> f64 {
    match agg {
        Agg::Sum => {
            let s = acc + v;
            if s.is_nan() {
                0.0
            } else {
                s
            }
        }
        Agg::Min => acc.min(v),
        Agg::Max => acc.max(v),
    }
}

/// ZUNIONSTORE / ZINTERSTORE. Plain sets join with score 1. Sources are processed from
/// smallest to largest as Redis does, which fixes the order of floating-point sums; ties
/// keep argument order, where Redis's qsort leaves it unspecified.
fn zsetop(cx: &mut Ctx<'_>, a: &[Vec<u8>], union: bool, name: &str) -> Res {
    let n = int(&a[2])?;
    if n < 1 {
        return Err(err(format!(
            "at least 1 input key is needed for '{name}' command"
        )));
    }
    let n = n as usize;
    if n > a.len() - 3 {
        return Err(syntax());
    }
    let mut srcs: Vec<(Zset, f64)> = Vec::with_capacity(n);
    for key in &a[3..3 + n] {
        let z = match cx.entry(key).map(|e| &e.value) {
            None => Zset::new(),
            Some(Value::Zset(z)) => z.clone(),
            Some(Value::Set(s)) => set_as_zset(s),
            Some(_) => return Err(wrong_type()),
        };
        srcs.push((z, 1.0));
    }
    let mut agg = Agg::Sum;
    let mut j = 3 + n;
    while j < a.len() {
        if eq(&a[j], "weights") && a.len() - j > n {
            for (k, src) in srcs.iter_mut().enumerate() {
                src.1 = crate::args::parse_f64(&a[j + 1 + k])
                    .ok_or_else(|| err("weight value is not a float"))?;
            }
            j += n + 1;
        } else if eq(&a[j], "aggregate") && a.len() - j >= 2 {
            agg = match () {
                _ if eq(&a[j + 1], "sum") => Agg::Sum,
                _ if eq(&a[j + 1], "min") => Agg::Min,
                _ if eq(&a[j + 1], "max") => Agg::Max,
                _ => return Err(syntax()),
            };
            j += 2;
        } else {
            return Err(syntax());
        }
    }
    srcs.sort_by_key(|(z, _)| z.len());
    let weighted = |s: f64, w: f64| if (s * w).is_nan() { 0.0 } else { s * w };
    let mut out = Zset::new();
    if union {
        for (z, w) in &srcs {
            for (m, &s) in z {
                let v = weighted(s, *w);
                out.entry(m.clone())
                    .and_modify(|acc| *acc = aggregate(*acc, v, agg))
                    .or_insert(v);
            }
        }
    } else {
        let (first, rest) = srcs.split_first().expect("at least one source");
        'members: for (m, &s) in &first.0 {
            let mut acc = weighted(s, first.1);
            for (z, w) in rest {
                let Some(&v) = z.get(m) else {
                    continue 'members;
                };
                acc = aggregate(acc, weighted(v, *w), agg);
            }
            out.insert(m.clone(), acc);
        }
    }
    let count = out.len() as i64;
    if out.is_empty() {
        cx.remove(&a[1]);
    } else {
        cx.put(&a[1], Value::Zset(out));
    }
    Ok(Reply::Int(count))
}

fn set_as_zset(s: &Set) -> Zset {
    s.iter().map(|m| (m.clone(), 1.0)).collect()
}

fn zunionstore(cx: &mut Ctx<'_>, a: &[Vec<u8>]) -> Res {
    zsetop(cx, a, true, "zunionstore")
}

fn zinterstore(cx: &mut Ctx<'_>, a: &[Vec<u8>]) -> Res {
    zsetop(cx, a, false, "zinterstore")
}

#[cfg(test)]
mod tests {
    use crate::keyspace::testkit::*;
    use crate::Reply;

    #[test]
    fn zadd_flags() {
        let mut t = T::new();
        assert_eq!(t.run("ZADD z 1 a 2 b"), i(2));
        assert_eq!(t.run("ZADD z XX 5 a 9 new"), i(0));
        assert_eq!(t.run("ZSCORE z a"), b("5"));
        assert_eq!(t.run("ZSCORE z new"), Reply::nil());
        assert_eq!(t.run("ZADD z NX 7 a 3 c"), i(1));
        assert_eq!(t.run("ZSCORE z a"), b("5"));
        assert_eq!(t.run("ZADD z GT CH 4 a 6 b"), i(1), "only b moved up");
        assert_eq!(t.run("ZADD z LT CH 1 a 10 b"), i(1));
        assert_eq!(
            t.run("ZADD z CH 1 a 6 b 0 d"),
            i(1),
            "a unchanged, b same, d added"
        );
        assert_eq!(t.run("ZADD z INCR 2.5 a"), b("3.5"));
        assert_eq!(t.run("ZADD z INCR GT -1 a"), Reply::nil());
        assert_eq!(t.run("ZADD z XX INCR 1 nope"), Reply::nil());
        assert_eq!(t.run("ZINCRBY z -0.5 a"), b("3"));
        assert_eq!(
            t.run("ZADD z NX XX 1 a"),
            e("ERR XX and NX options at the same time are not compatible")
        );
        assert_eq!(
            t.run("ZADD z NX GT 1 a"),
            e("ERR GT, LT, and/or NX options at the same time are not compatible")
        );
        assert_eq!(
            t.run("ZADD z INCR 1 a 2 b"),
            e("ERR INCR option supports a single increment-element pair")
        );
        assert_eq!(t.run("ZADD z 1 a 2"), e("ERR syntax error"));
        assert_eq!(t.run("ZADD z nan a"), e("ERR value is not a valid float"));
        assert_eq!(t.run("ZADD z 1 a x b"), e("ERR value is not a valid float"));
        assert_eq!(t.run("ZSCORE z a"), b("3"), "a parse error changes nothing");
        assert_eq!(t.run("ZADD x XX 1 a"), i(0));
        assert_eq!(t.run("EXISTS x"), i(0));
    }

    #[test]
    fn infinities_nan_and_negative_zero() {
        let mut t = T::new();
        t.ok("ZADD z +inf a -inf b");
        assert_eq!(
            t.run("ZINCRBY z -inf a"),
            e("ERR resulting score is not a number (NaN)")
        );
        assert_eq!(t.run("ZSCORE z a"), b("inf"));
        assert_eq!(t.run("ZADD z -0 c"), i(1));
        assert_eq!(t.run("ZSCORE z c"), b("-0"));
        assert_eq!(t.run("ZADD z CH 0 c"), i(0), "0 == -0, so not an update");
        assert_eq!(t.run("ZSCORE z c"), b("-0"));
        assert_eq!(
            t.run("ZRANGE z 0 -1 WITHSCORES"),
            arr(&["b", "-inf", "c", "-0", "a", "inf"])
        );
    }

    #[test]
    fn removals_and_pops() {
        let mut t = T::new();
        t.ok("ZADD z 1 a 2 b 3 c 4 d 5 e");
        assert_eq!(t.run("ZREMRANGEBYSCORE z (4 +inf"), i(1));
        assert_eq!(t.run("ZREMRANGEBYRANK z 0 0"), i(1));
        assert_eq!(
            t.run("ZREMRANGEBYSCORE z x 1"),
            e("ERR min or max is not a float")
        );
        assert_eq!(t.run("ZPOPMAX z"), arr(&["d", "4"]));
        assert_eq!(t.run("ZPOPMIN z 5"), arr(&["b", "2", "c", "3"]));
        assert_eq!(
            t.run("EXISTS z"),
            i(0),
            "popping everything deletes the key"
        );
        assert_eq!(t.run("ZPOPMIN z"), arr(&[]));
        assert_eq!(t.run("ZPOPMIN z 1 2"), e("ERR syntax error"));
        t.ok("ZADD y 1 a");
        assert_eq!(t.run("ZREM y a b"), i(1));
        assert_eq!(t.run("EXISTS y"), i(0));
        t.ok("SET s v");
        assert_eq!(t.run("ZADD s 1 a"), e(WRONGTYPE));
        assert_eq!(t.run("ZRANGE s 0 -1"), e(WRONGTYPE));
    }

    #[test]
    fn union_and_inter_store() {
        let mut t = T::new();
        t.ok("ZADD a 1 x 2 y");
        t.ok("ZADD b 10 y 20 z");
        t.ok("SADD s y");
        assert_eq!(t.run("ZUNIONSTORE d 2 a b"), i(3));
        assert_eq!(
            t.run("ZRANGE d 0 -1 WITHSCORES"),
            arr(&["x", "1", "y", "12", "z", "20"])
        );
        assert_eq!(
            t.run("ZINTERSTORE d 3 a b s WEIGHTS 2 1 100 AGGREGATE MAX"),
            i(1)
        );
        assert_eq!(t.run("ZRANGE d 0 -1 WITHSCORES"), arr(&["y", "100"]));
        assert_eq!(t.run("ZUNIONSTORE d 2 a b AGGREGATE MIN"), i(3));
        assert_eq!(t.run("ZSCORE d y"), b("2"));
        assert_eq!(t.run("ZINTERSTORE d 2 a nope"), i(0));
        assert_eq!(t.run("EXISTS d"), i(0));
        assert_eq!(
            t.run("ZUNIONSTORE d 0 a"),
            e("ERR at least 1 input key is needed for 'zunionstore' command")
        );
        assert_eq!(t.run("ZUNIONSTORE d 3 a b"), e("ERR syntax error"));
        assert_eq!(
            t.run("ZUNIONSTORE d 1 a WEIGHTS x"),
            e("ERR weight value is not a float")
        );
        assert_eq!(
            t.run("ZUNIONSTORE d 1 a AGGREGATE avg"),
            e("ERR syntax error")
        );
        t.ok("SET str v");
        assert_eq!(t.run("ZUNIONSTORE d 2 a str"), e(WRONGTYPE));
    }
}
