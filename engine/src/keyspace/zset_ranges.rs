//! Sorted-set ranges and algebra: ZREMRANGEBYSCORE/RANK/LEX, ZRANGE/ZRANGESTORE (rank, BYSCORE,
//! BYLEX, REV, LIMIT), ZUNIONSTORE/ZINTERSTORE (WEIGHTS, AGGREGATE), ZDIFFSTORE, ZCOUNT, ZRANK.
use super::args::{self, is, parse_i64};
use super::db::{Db, Obj, Slot};
use super::fxhash::FxHashMap;
use super::reply::{err, msg, CmdResult, Reply};
use super::zset_type::{ZsetLimits, ZsetObj};
use super::zsets::{with_scores, zset_mut};
use super::{readonly, spec, Cx, Keyspace, Spec};

pub(crate) const COMMANDS: &[Spec] = &[
    spec("zremrangebyscore", 4, zremrangebyscore),
    spec("zremrangebyrank", 4, zremrangebyrank),
    spec("zremrangebylex", 4, zremrangebylex),
    readonly("zrange", -4, zrange),
    spec("zrangestore", -5, zrangestore),
    spec("zunionstore", -4, zunionstore),
    spec("zinterstore", -4, zinterstore),
    spec("zdiffstore", -4, zdiffstore),
    readonly("zcount", 4, zcount),
    readonly("zrank", -3, zrank),
];

/// Selected members with scores, and whether WITHSCORES was asked.
type Selected = (Vec<(Vec<u8>, f64)>, bool);

/// A score bound: value and whether it is exclusive (`(`).
#[derive(Clone, Copy)]
struct ScoreBound(f64, bool);

fn score_bound(b: &[u8]) -> Option<ScoreBound> {
    match b.strip_prefix(b"(") {
        Some(rest) => args::parse_f64(rest).map(|v| ScoreBound(v, true)),
        None => args::parse_f64(b).map(|v| ScoreBound(v, false)),
    }
}

impl ScoreBound {
    fn above_min(self, s: f64) -> bool {
        if self.1 {
            s > self.0
        } else {
            s >= self.0
        }
    }
    fn below_max(self, s: f64) -> bool {
        if self.1 {
            s < self.0
        } else {
            s <= self.0
        }
    }
}

/// A lex bound: `-`, `+`, `[x` inclusive, `(x` exclusive.
#[derive(Clone)]
enum LexBound {
    Min,
    Max,
    Incl(Vec<u8>),
    Excl(Vec<u8>),
}

fn lex_bound(b: &[u8]) -> Option<LexBound> {
    match b.first()? {
        b'-' if b.len() == 1 => Some(LexBound::Min),
        b'+' if b.len() == 1 => Some(LexBound::Max),
        b'[' => Some(LexBound::Incl(b[1..].to_vec())),
        b'(' => Some(LexBound::Excl(b[1..].to_vec())),
        _ => None,
    }
}

impl LexBound {
    fn above_min(&self, m: &[u8]) -> bool {
        match self {
            LexBound::Min => true,
            LexBound::Max => false,
            LexBound::Incl(x) => m >= x.as_slice(),
            LexBound::Excl(x) => m > x.as_slice(),
        }
    }
    fn below_max(&self, m: &[u8]) -> bool {
        match self {
            LexBound::Min => false,
            LexBound::Max => true,
            LexBound::Incl(x) => m <= x.as_slice(),
            LexBound::Excl(x) => m < x.as_slice(),
        }
    }
}

/// `zzlIsInLexRange`: false for a range that is empty by its bounds, or when the last member is
/// below the minimum or the first above the maximum. With members of different scores the lex
/// order is not monotonic and this early answer decides (Redis calls the result unspecified; this
/// follows its listpack code, and the skiplist code when its levels agree).
fn lex_in_range(z: &ZsetObj, min: &LexBound, max: &LexBound) -> bool {
    let empty = match (min, max) {
        (LexBound::Max, _) | (_, LexBound::Min) => true,
        (LexBound::Min, _) | (_, LexBound::Max) => false,
        (LexBound::Incl(a) | LexBound::Excl(a), LexBound::Incl(b) | LexBound::Excl(b)) => {
            let either_excl = matches!(min, LexBound::Excl(_)) || matches!(max, LexBound::Excl(_));
            a > b || (a == b && either_excl)
        }
    };
    let (Some((first, _)), Some((last, _))) = (z.iter().next(), z.iter().next_back()) else {
        return false;
    };
    !empty && min.above_min(last) && max.below_max(first)
}

/// What a range selects.
enum Range {
    Rank(i64, i64),
    Score(ScoreBound, ScoreBound),
    Lex(LexBound, LexBound),
}

/// The selected (member, score) pairs in reply order; `limit` is `(offset, count)` with a
/// negative count meaning all.
fn select(z: &ZsetObj, r: &Range, rev: bool, limit: Option<(i64, i64)>) -> Vec<(Vec<u8>, f64)> {
    let items: Box<dyn Iterator<Item = (&[u8], f64)>> = if rev {
        Box::new(z.iter().rev())
    } else {
        Box::new(z.iter())
    };
    let picked: Vec<(&[u8], f64)> = match r {
        Range::Rank(s, e) => match args::clamp_range(*s, *e, z.dict.len()) {
            Some((s, e)) => items.skip(s).take(e - s + 1).collect(),
            None => vec![],
        },
        Range::Score(min, max) => {
            let (lo, hi) = (*min, *max);
            if rev {
                items
                    .skip_while(|(_, s)| !hi.below_max(*s))
                    .take_while(|(_, s)| lo.above_min(*s))
                    .collect()
            } else {
                items
                    .skip_while(|(_, s)| !lo.above_min(*s))
                    .take_while(|(_, s)| hi.below_max(*s))
                    .collect()
            }
        }
        Range::Lex(min, max) if !lex_in_range(z, min, max) => vec![],
        Range::Lex(min, max) => {
            if rev {
                items
                    .skip_while(|(m, _)| !max.below_max(m))
                    .take_while(|(m, _)| min.above_min(m))
                    .collect()
            } else {
                items
                    .skip_while(|(m, _)| !min.above_min(m))
                    .take_while(|(m, _)| max.below_max(m))
                    .collect()
            }
        }
    };
    let (off, count) = limit.unwrap_or((0, -1));
    if off < 0 {
        return vec![];
    }
    let count = if count < 0 {
        usize::MAX
    } else {
        count as usize
    };
    picked
        .into_iter()
        .skip(off as usize)
        .take(count)
        .map(|(m, s)| (m.to_vec(), s))
        .collect()
}

fn rank_range(a: &[u8], b: &[u8]) -> Result<Range, Reply> {
    args::parse_range(a, b)
        .map(|(s, e)| Range::Rank(s, e))
        .ok_or_else(|| Reply::Error(msg::NOT_INT.into()))
}

fn score_range(a: &[u8], b: &[u8]) -> Result<Range, Reply> {
    match (score_bound(a), score_bound(b)) {
        (Some(x), Some(y)) => Ok(Range::Score(x, y)),
        _ => Err(Reply::Error("ERR min or max is not a float".into())),
    }
}

fn lex_range(a: &[u8], b: &[u8]) -> Result<Range, Reply> {
    match (lex_bound(a), lex_bound(b)) {
        (Some(x), Some(y)) => Ok(Range::Lex(x, y)),
        _ => Err(Reply::Error(
            "ERR min or max not valid string range item".into(),
        )),
    }
}

fn remrange(k: &mut Keyspace, cx: &Cx, a: &[&[u8]], r: Result<Range, Reply>) -> CmdResult {
    let r = match r {
        Ok(r) => r,
        Err(e) => return Ok(e),
    };
    let db = k.db(cx.db);
    let z = match zset_mut(db, a[1], cx.clock) {
        Ok(Some(z)) => z,
        Ok(None) => return Ok(Reply::Int(0)),
        Err(e) => return Ok(e),
    };
    let doomed = select(z, &r, false, None);
    for (m, _) in &doomed {
        z.remove(m);
    }
    db.drop_if_empty(a[1]);
    Ok(Reply::Int(doomed.len() as i64))
}

fn zremrangebyscore(k: &mut Keyspace, cx: &mut Cx, a: &[&[u8]]) -> CmdResult {
    remrange(k, cx, a, score_range(a[2], a[3]))
}

fn zremrangebyrank(k: &mut Keyspace, cx: &mut Cx, a: &[&[u8]]) -> CmdResult {
    remrange(k, cx, a, rank_range(a[2], a[3]))
}

fn zremrangebylex(k: &mut Keyspace, cx: &mut Cx, a: &[&[u8]]) -> CmdResult {
    remrange(k, cx, a, lex_range(a[2], a[3]))
}

/// `zrangeGenericCommand`: `src` is the index of the source key; `store` forbids WITHSCORES.
fn zrange_generic(
    k: &mut Keyspace,
    cx: &Cx,
    a: &[&[u8]],
    src: usize,
    store: bool,
) -> Result<Selected, Reply> {
    let (mut by, mut rev, mut withscores, mut limit) = (0u8, false, false, None);
    let mut j = src + 3;
    while j < a.len() {
        let left = a.len() - j - 1;
        if !store && is(a[j], "withscores") {
            withscores = true;
        } else if is(a[j], "limit") && left >= 2 {
            match args::parse_range(a[j + 1], a[j + 2]) {
                Some(l) => limit = Some(l),
                None => return Err(Reply::Error(msg::NOT_INT.into())),
            }
            j += 2;
        } else if is(a[j], "byscore") && by == 0 {
            by = 1;
        } else if is(a[j], "bylex") && by == 0 {
            by = 2;
        } else if is(a[j], "rev") {
            rev = true;
        } else {
            return Err(Reply::Error(msg::SYNTAX.into()));
        }
        j += 1;
    }
    if limit.is_some() && by == 0 {
        return Err(Reply::Error(
            "ERR syntax error, LIMIT is only supported in combination with either BYSCORE or BYLEX"
                .into(),
        ));
    }
    if withscores && by == 2 {
        return Err(Reply::Error(
            "ERR syntax error, WITHSCORES not supported in combination with BYLEX".into(),
        ));
    }
    let (lo, hi) = if rev && by != 0 {
        (a[src + 2], a[src + 1])
    } else {
        (a[src + 1], a[src + 2])
    };
    let r = match by {
        0 => rank_range(lo, hi)?,
        1 => score_range(lo, hi)?,
        _ => lex_range(lo, hi)?,
    };
    let out = match zset_mut(k.db(cx.db), a[src], cx.clock)? {
        Some(z) => select(z, &r, rev, limit),
        None => vec![],
    };
    Ok((out, withscores))
}

fn zrange(k: &mut Keyspace, cx: &mut Cx, a: &[&[u8]]) -> CmdResult {
    match zrange_generic(k, cx, a, 1, false) {
        Ok((items, true)) => Ok(Reply::Array(with_scores(items))),
        Ok((items, false)) => Ok(Reply::bulks(items.into_iter().map(|(m, _)| m))),
        Err(e) => Ok(e),
    }
}

/// Replaces `dst` with `z` (deleting it when empty).
fn store_zset(db: &mut Db, dst: &[u8], z: ZsetObj) -> i64 {
    let n = z.dict.len() as i64;
    db.map.remove(dst);
    if n > 0 {
        db.map.insert(dst.into(), Slot::new(Obj::Zset(Box::new(z))));
    }
    n
}

fn zrangestore(k: &mut Keyspace, cx: &mut Cx, a: &[&[u8]]) -> CmdResult {
    match zrange_generic(k, cx, a, 2, true) {
        Ok((items, _)) => {
            // `zrangeResultBeginStore`: created for the result's size, then added to in order.
            let lim = ZsetLimits::of(k);
            let mut z = ZsetObj::create(items.len(), 0, lim);
            for (m, s) in items {
                z.before_add(m.len(), lim);
                z.insert(&m, s);
            }
            Ok(Reply::Int(store_zset(k.db(cx.db), a[1], z)))
        }
        Err(e) => Ok(e),
    }
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Op {
    Union,
    Inter,
    Diff,
}

/// An input of the algebra: members with scores (a plain set scores 1).
fn input(db: &mut Db, key: &[u8], clock: Option<i64>) -> Result<Vec<(Vec<u8>, f64)>, Reply> {
    match db.get(key, clock) {
        None => Ok(vec![]),
        Some(Slot {
            obj: Obj::Zset(z), ..
        }) => Ok(z.iter().map(|(m, s)| (m.to_vec(), s)).collect()),
        Some(Slot {
            obj: Obj::Set(s), ..
        }) => Ok(s.iter().map(|m| (m.clone(), 1.0)).collect()),
        Some(_) => Err(Reply::Error(msg::WRONGTYPE.into())),
    }
}

fn aggregate(target: &mut f64, v: f64, agg: u8) {
    match agg {
        0 => {
            *target += v;
            if target.is_nan() {
                *target = 0.0;
            }
        }
        1 => *target = if v < *target { v } else { *target },
        _ => *target = if v > *target { v } else { *target },
    }
}

/// `zunionInterDiffGenericCommand` for the STORE forms.
fn algebra(k: &mut Keyspace, cx: &Cx, a: &[&[u8]], op: Op, name: &str) -> CmdResult {
    let numkeys = match parse_i64(a[2]) {
        Some(n) if n >= 1 => n as usize,
        Some(_) => {
            return err(format!(
                "ERR at least 1 input key is needed for '{name}' command"
            ))
        }
        None => return err(msg::NOT_INT),
    };
    if numkeys > a.len() - 3 {
        return err(msg::SYNTAX);
    }
    let keys = &a[3..3 + numkeys];
    let (mut weights, mut agg) = (vec![1.0; numkeys], 0u8);
    let mut j = 3 + numkeys;
    while j < a.len() && op != Op::Diff {
        let left = a.len() - j - 1;
        if is(a[j], "weights") && left >= numkeys {
            for (w, arg) in weights.iter_mut().zip(&a[j + 1..j + 1 + numkeys]) {
                match args::parse_f64(arg) {
                    Some(v) => *w = v,
                    None => return err("ERR weight value is not a float"),
                }
            }
            j += numkeys + 1;
        } else if is(a[j], "aggregate") && left >= 1 {
            agg = match () {
                _ if is(a[j + 1], "sum") => 0,
                _ if is(a[j + 1], "min") => 1,
                _ if is(a[j + 1], "max") => 2,
                _ => return err(msg::SYNTAX),
            };
            j += 2;
        } else {
            return err(msg::SYNTAX);
        }
    }
    if j < a.len() {
        return err(msg::SYNTAX);
    }
    let lim = ZsetLimits::of(k);
    let db = k.db(cx.db);
    let mut srcs = Vec::with_capacity(numkeys);
    for (key, w) in keys.iter().zip(weights) {
        match input(db, key, cx.clock) {
            Ok(items) => srcs.push((items, w)),
            Err(e) => return Ok(e),
        }
    }
    let weighted = |s: f64, w: f64| if (s * w).is_nan() { 0.0 } else { s * w };
    let mut out: Vec<(Vec<u8>, f64)> = Vec::new();
    match op {
        Op::Diff => {
            let mut it = srcs.into_iter();
            let (first, _) = it.next().unwrap_or_default();
            let rest: Vec<FxHashMap<Vec<u8>, f64>> =
                it.map(|(s, _)| s.into_iter().collect()).collect();
            out = first
                .into_iter()
                .filter(|(m, _)| !rest.iter().any(|r| r.contains_key(m)))
                .collect();
        }
        Op::Inter => {
            // Smallest input first, as Redis orders them (a stable sort keeps ties in key order).
            srcs.sort_by_key(|(s, _)| s.len());
            let maps: Vec<(FxHashMap<Vec<u8>, f64>, f64)> = srcs[1..]
                .iter()
                .map(|(s, w)| (s.iter().cloned().collect(), *w))
                .collect();
            let (first, w0) = &srcs[0];
            'members: for (m, s) in first {
                let mut score = weighted(*s, *w0);
                for (map, w) in &maps {
                    match map.get(m) {
                        Some(v) => aggregate(&mut score, v * w, agg),
                        None => continue 'members,
                    }
                }
                out.push((m.clone(), score));
            }
        }
        Op::Union => {
            srcs.sort_by_key(|(s, _)| s.len());
            let mut acc: FxHashMap<Vec<u8>, f64> = FxHashMap::default();
            let mut order = Vec::new();
            for (items, w) in srcs {
                for (m, s) in items {
                    let v = weighted(s, w);
                    match acc.get_mut(&m) {
                        Some(t) => aggregate(t, v, agg),
                        None => {
                            acc.insert(m.clone(), v);
                            order.push(m);
                        }
                    }
                }
            }
            out = order
                .into_iter()
                .map(|m| {
                    let s = acc[&m];
                    (m, s)
                })
                .collect();
        }
    }
    // Built as a skiplist, then `zsetConvertToListpackIfNeeded`.
    let mut z = ZsetObj::default();
    for (m, s) in out {
        z.insert(&m, s);
    }
    z.listpack_if_small(lim);
    Ok(Reply::Int(store_zset(db, a[1], z)))
}

fn zunionstore(k: &mut Keyspace, cx: &mut Cx, a: &[&[u8]]) -> CmdResult {
    algebra(k, cx, a, Op::Union, "zunionstore")
}

fn zinterstore(k: &mut Keyspace, cx: &mut Cx, a: &[&[u8]]) -> CmdResult {
    algebra(k, cx, a, Op::Inter, "zinterstore")
}

fn zdiffstore(k: &mut Keyspace, cx: &mut Cx, a: &[&[u8]]) -> CmdResult {
    algebra(k, cx, a, Op::Diff, "zdiffstore")
}

fn zcount(k: &mut Keyspace, cx: &mut Cx, a: &[&[u8]]) -> CmdResult {
    let r = match score_range(a[2], a[3]) {
        Ok(r) => r,
        Err(e) => return Ok(e),
    };
    match zset_mut(k.db(cx.db), a[1], cx.clock) {
        Ok(z) => Ok(Reply::Int(
            z.map_or(0, |z| select(z, &r, false, None).len() as i64),
        )),
        Err(e) => Ok(e),
    }
}

/// ZRANK key member [WITHSCORE].
fn zrank(k: &mut Keyspace, cx: &mut Cx, a: &[&[u8]]) -> CmdResult {
    let with = match a.len() {
        3 => false,
        4 if is(a[3], "withscore") => true,
        _ => return err(msg::SYNTAX),
    };
    let z = match zset_mut(k.db(cx.db), a[1], cx.clock) {
        Ok(Some(z)) => z,
        Ok(None) => return Ok(Reply::Nil),
        Err(e) => return Ok(e),
    };
    let Some(&s) = z.dict.get(a[2]) else {
        return Ok(Reply::Nil);
    };
    let rank = z.iter().position(|(m, _)| m == a[2]).unwrap_or(0) as i64;
    Ok(if with {
        Reply::Array(vec![Reply::Int(rank), Reply::Bulk(args::double_bytes(s))])
    } else {
        Reply::Int(rank)
    })
}
