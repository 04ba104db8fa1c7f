//! Sorted-set ranges: ZRANGE (by rank, score or lex, REV, LIMIT), ZRANGESTORE, and the
//! ZREMRANGEBY* removals, with Redis's bound syntax ("(" exclusive, "-inf", "[a", "-", "+").

use crate::args::{eq, int, parse_f64, window};
use crate::keyspace::{cmd, Cmd, Ctx};
use crate::reply::{err, syntax, Reply, Res};
use crate::value::{Value, Zset};
use crate::zsets::{ranked, with_scores};

pub(crate) const COMMANDS: &[Cmd] = &[
    cmd("zrange", -4, zrange),
    cmd("zrangestore", -5, zrangestore),
    cmd("zremrangebyscore", 4, zremrangebyscore),
    cmd("zremrangebyrank", 4, zremrangebyrank),
];

/// A score bound: value and exclusiveness. Redis parses it with bare `strtod`, so an
/// empty bound (or a lone "(") reads as 0 and leading spaces are allowed.
fn score_bound(arg: &[u8]) -> Option<(f64, bool)> {
    let (excl, text) = match arg.split_first() {
        Some((b'(', rest)) => (true, rest),
        _ => (false, arg),
    };
    let text = std::str::from_utf8(text).ok()?.trim_start();
    let v = if text.is_empty() {
        0.0
    } else {
        parse_f64(text.as_bytes())?
    };
    Some((v, excl))
}

fn score_range(min: &[u8], max: &[u8]) -> Result<impl Fn(f64) -> bool, Reply> {
    let bad = || err("min or max is not a float");
    let ((lo, lox), (hi, hix)) = (
        score_bound(min).ok_or_else(bad)?,
        score_bound(max).ok_or_else(bad)?,
    );
    Ok(move |s: f64| (if lox { s > lo } else { s >= lo }) && (if hix { s < hi } else { s <= hi }))
}

#[derive(Clone)]
enum Lex {
    Min,
    Max,
    Incl(Vec<u8>),
    Excl(Vec<u8>),
}

fn lex_bound(arg: &[u8]) -> Option<Lex> {
    match arg.split_first() {
        Some((b'-', [])) => Some(Lex::Min),
        Some((b'+', [])) => Some(Lex::Max),
        Some((b'[', rest)) => Some(Lex::Incl(rest.to_vec())),
        Some((b'(', rest)) => Some(Lex::Excl(rest.to_vec())),
        _ => None,
    }
}

fn lex_range(min: &[u8], max: &[u8]) -> Result<impl Fn(&[u8]) -> bool, Reply> {
    let bad = || err("min or max not valid string range item");
    let (lo, hi) = (
        lex_bound(min).ok_or_else(bad)?,
        lex_bound(max).ok_or_else(bad)?,
    );
    Ok(move |m: &[u8]| {
        let above = match &lo {
            Lex::Min => true,
            Lex::Max => false,
            Lex::Incl(v) => m >= v.as_slice(),
            Lex::Excl(v) => m > v.as_slice(),
        };
        let below = match &hi {
            Lex::Min => false,
            Lex::Max => true,
            Lex::Incl(v) => m <= v.as_slice(),
            Lex::Excl(v) => m < v.as_slice(),
        };
        above && below
    })
}

/// ZRANGE and ZRANGESTORE: `src` is the index of the source key; `store` the destination.
fn zrange_generic(cx: &mut Ctx<'_>, a: &[Vec<u8>], src: usize, store: Option<&[u8]>) -> Res {
    let (mut scores, mut rev, mut by) = (false, false, "rank");
    let mut limit: Option<(i64, i64)> = None;
    let mut j = src + 3;
    while j < a.len() {
        let o = &a[j];
        if store.is_none() && eq(o, "withscores") {
            scores = true;
        } else if eq(o, "limit") && j + 2 < a.len() {
            limit = Some((int(&a[j + 1])?, int(&a[j + 2])?));
            j += 2;
        } else if !rev && eq(o, "rev") {
            rev = true;
        } else if by == "rank" && eq(o, "bylex") {
            by = "lex";
        } else if by == "rank" && eq(o, "byscore") {
            by = "score";
        } else {
            return Err(syntax());
        }
        j += 1;
    }
    if limit.is_some() && by == "rank" {
        return Err(err(
            "syntax error, LIMIT is only supported in combination with either BYSCORE or BYLEX",
        ));
    }
    if scores && by == "lex" {
        return Err(err(
            "syntax error, WITHSCORES not supported in combination with BYLEX",
        ));
    }
    let (mut lo, mut hi) = (&a[src + 1], &a[src + 2]);
    if rev && by != "rank" {
        // Reverse score and lex ranges are written max first.
        std::mem::swap(&mut lo, &mut hi);
    }
    let mut items = match by {
        "rank" => {
            let (start, stop) = (int(lo)?, int(hi)?);
            let mut all = cx
                .get::<Zset>(&a[src])?
                .map(|z| ranked(z))
                .unwrap_or_default();
            if rev {
                all.reverse();
            }
            match window(start, stop, all.len()) {
                None => vec![],
                Some((s, e)) => all[s..=e].to_vec(),
            }
        }
        "score" => {
            let keep = score_range(lo, hi)?;
            filtered(cx, &a[src], rev, |(_, s)| keep(*s))?
        }
        _ => {
            let keep = lex_range(lo, hi)?;
            filtered(cx, &a[src], rev, |(m, _)| keep(m))?
        }
    };
    if let Some((offset, count)) = limit {
        // A negative offset selects nothing (Redis's listpack walk); a negative count is no limit.
        let skip = usize::try_from(offset).unwrap_or(usize::MAX);
        let take = usize::try_from(count).unwrap_or(usize::MAX);
        items = items.into_iter().skip(skip).take(take).collect();
    }
    let Some(dst) = store else {
        return Ok(with_scores(&items, scores));
    };
    let n = items.len() as i64;
    if items.is_empty() {
        cx.remove(dst);
    } else {
        cx.put(dst, Value::Zset(items.into_iter().collect()));
    }
    Ok(Reply::Int(n))
}

fn filtered(
    cx: &mut Ctx<'_>,
    key: &[u8],
    rev: bool,
    keep: impl Fn(&(Vec<u8>, f64)) -> bool,
) -> Result<Vec<(Vec<u8>, f64)>, Reply> {
    let mut all = cx.get::<Zset>(key)?.map(|z| ranked(z)).unwrap_or_default();
    if rev {
        all.reverse();
    }
    Ok(all.into_iter().filter(keep).collect())
}

fn zrange(cx: &mut Ctx<'_>, a: &[Vec<u8>]) -> Res {
    zrange_generic(cx, a, 1, None)
}

fn zrangestore(cx: &mut Ctx<'_>, a: &[Vec<u8>]) -> Res {
    let dst = a[1].clone();
    zrange_generic(cx, a, 2, Some(&dst))
}

fn zremrangebyscore(cx: &mut Ctx<'_>, a: &[Vec<u8>]) -> Res {
    let keep = score_range(&a[2], &a[3])?;
    let Some(z) = cx.get::<Zset>(&a[1])? else {
        return Ok(Reply::Int(0));
    };
    let before = z.len();
    z.retain(|_, s| !keep(*s));
    Ok(Reply::Int((before - z.len()) as i64))
}

fn zremrangebyrank(cx: &mut Ctx<'_>, a: &[Vec<u8>]) -> Res {
    let (start, stop) = (int(&a[2])?, int(&a[3])?);
    let Some(z) = cx.get::<Zset>(&a[1])? else {
        return Ok(Reply::Int(0));
    };
    let Some((s, e)) = window(start, stop, z.len()) else {
        return Ok(Reply::Int(0));
    };
    for (m, _) in &ranked(z)[s..=e] {
        z.remove(m);
    }
    Ok(Reply::Int((e - s + 1) as i64))
}

#[cfg(test)]
mod tests {
    use crate::keyspace::testkit::*;

    #[test]
    fn ranges() {
        let mut t = T::new();
        t.ok("ZADD z 1 a 2 b 2 c 3 d");
        assert_eq!(t.run("ZRANGE z 0 -1"), arr(&["a", "b", "c", "d"]));
        assert_eq!(
            t.run("ZRANGE z 0 1 REV WITHSCORES"),
            arr(&["d", "3", "c", "2"])
        );
        assert_eq!(t.run("ZRANGE z (1 2 BYSCORE"), arr(&["b", "c"]));
        assert_eq!(
            t.run("ZRANGE z +inf (1 BYSCORE REV LIMIT 1 5"),
            arr(&["c", "b"])
        );
        assert_eq!(t.run("ZRANGE z - [b BYLEX"), arr(&["a", "b"]));
        assert_eq!(t.run("ZRANGE z 0 -1 LIMIT 0 1"), e("ERR syntax error, LIMIT is only supported in combination with either BYSCORE or BYLEX"));
        assert_eq!(
            t.run("ZRANGE z a b BYSCORE"),
            e("ERR min or max is not a float")
        );
        assert_eq!(
            t.run("ZRANGE z a b BYLEX"),
            e("ERR min or max not valid string range item")
        );
        assert_eq!(t.run("ZRANGE nope 0 -1"), arr(&[]));
        assert_eq!(t.run("ZRANGESTORE dst z 1 2"), i(2));
        assert_eq!(
            t.run("ZRANGE dst 0 -1 WITHSCORES"),
            arr(&["b", "2", "c", "2"])
        );
        assert_eq!(t.run("ZRANGESTORE dst z 10 20"), i(0));
        assert_eq!(t.run("EXISTS dst"), i(0));
        assert_eq!(t.run("ZCARD z"), i(4));
    }
}
