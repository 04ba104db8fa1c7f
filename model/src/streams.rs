//! Stream entry commands: XADD (with exact trimming), XDEL, XTRIM, XLEN, XRANGE, XSETID.
//! Also the ID parsing and reply helpers that the consumer-group commands share.

use crate::args::{eq, int, parse_u64};
use crate::keyspace::{cmd, Cmd, Ctx};
use crate::reply::{arity, err, no_such_key, syntax, Reply, Res};
use crate::value::{fmt_id, Stream, StreamId};

pub(crate) const COMMANDS: &[Cmd] = &[
    cmd("xadd", -5, xadd),
    cmd("xdel", -3, xdel),
    cmd("xtrim", -4, xtrim),
    cmd("xlen", 2, xlen),
    cmd("xrange", -4, xrange),
    cmd("xrevrange", -4, xrevrange),
    cmd("xsetid", -3, xsetid),
];

pub(crate) const MAX_ID: StreamId = (u64::MAX, u64::MAX);

pub(crate) fn invalid_id() -> Reply {
    err("Invalid stream ID specified as stream command argument")
}

/// Redis's `streamGenericParseIDOrReply`: `ms[-seq]`, a missing seq becomes `missing_seq`;
/// "-" and "+" are the extremes unless `strict`. With `star`, `ms-*` parses and the second
/// value says whether the sequence was given.
pub(crate) fn parse_id_ext(
    arg: &[u8],
    missing_seq: u64,
    strict: bool,
    star: bool,
) -> Result<(StreamId, bool), Reply> {
    if arg.len() > 127 || (strict && (arg == b"-" || arg == b"+")) {
        return Err(invalid_id());
    }
    match arg {
        b"-" => return Ok(((0, 0), true)),
        b"+" => return Ok((MAX_ID, true)),
        _ => {}
    }
    let (ms, seq) = match arg.iter().position(|&c| c == b'-') {
        None => (arg, None),
        Some(d) => (&arg[..d], Some(&arg[d + 1..])),
    };
    let ms = parse_u64(ms).ok_or_else(invalid_id)?;
    match seq {
        None => Ok(((ms, missing_seq), true)),
        Some(b"*") if star => Ok(((ms, 0), false)),
        Some(s) => Ok(((ms, parse_u64(s).ok_or_else(invalid_id)?), true)),
    }
}

/// A strict ID (no "-"/"+"), missing sequence 0: what most stream arguments accept.
pub(crate) fn parse_id(arg: &[u8]) -> Result<StreamId, Reply> {
    parse_id_ext(arg, 0, true, false).map(|(id, _)| id)
}

/// A range bound; "(" makes it exclusive, which is then folded into the ID.
pub(crate) fn parse_bound(arg: &[u8], missing_seq: u64) -> Result<(StreamId, bool), Reply> {
    match arg.split_first() {
        Some((b'(', rest)) if arg.len() > 1 => {
            Ok((parse_id_ext(rest, missing_seq, true, false)?.0, true))
        }
        _ => Ok((parse_id_ext(arg, missing_seq, false, false)?.0, false)),
    }
}

pub(crate) fn incr_id(id: StreamId) -> Option<StreamId> {
    match id {
        MAX_ID => None,
        (ms, u64::MAX) => Some((ms + 1, 0)),
        (ms, seq) => Some((ms, seq + 1)),
    }
}

fn decr_id(id: StreamId) -> Option<StreamId> {
    match id {
        (0, 0) => None,
        (ms, 0) => Some((ms - 1, u64::MAX)),
        (ms, seq) => Some((ms, seq - 1)),
    }
}

/// One entry as XRANGE replies it: `[id, [field, value, ...]]`.
pub(crate) fn entry_reply(id: StreamId, fields: &[(Vec<u8>, Vec<u8>)]) -> Reply {
    let flat = fields.iter().flat_map(|(f, v)| [f.clone(), v.clone()]);
    Reply::Array(vec![Reply::bulk(fmt_id(id)), Reply::bulks(flat)])
}

#[derive(Clone, Copy)]
enum Trim {
    MaxLen(u64),
    MinId(StreamId),
}

/// The trimming options XADD and XTRIM share. Approximate (`~`) trimming depends on how
/// Redis packs entries into nodes, which the model does not know, so it is refused; Redis
/// itself propagates it to the AOF as the exact `=` form.
fn parse_trim(a: &[Vec<u8>], xadd: bool) -> Result<(Option<Trim>, usize, bool), Reply> {
    let (mut trim, mut limit, mut approx, mut nomkstream) = (None, None, false, false);
    let mut i = 2;
    while i < a.len() {
        let (opt, more) = (&a[i], a.len() - 1 - i);
        if xadd && opt.as_slice() == b"*" {
            break;
        } else if (eq(opt, "maxlen") || eq(opt, "minid")) && more > 0 {
            if trim.is_some() {
                return Err(err(
                    "syntax error, MAXLEN and MINID options at the same time are not compatible",
                ));
            }
            approx = false;
            if more >= 2 && (a[i + 1] == b"~" || a[i + 1] == b"=") {
                approx = a[i + 1] == b"~";
                i += 1;
            }
            let arg = &a[i + 1];
            trim = Some(if eq(opt, "maxlen") {
                let n = int(arg)?;
                Trim::MaxLen(
                    u64::try_from(n).map_err(|_| err("The MAXLEN argument must be >= 0."))?,
                )
            } else {
                Trim::MinId(parse_id(arg)?)
            });
            i += 1;
        } else if eq(opt, "limit") && more > 0 {
            let n = int(&a[i + 1])?;
            if n < 0 {
                return Err(err("The LIMIT argument must be >= 0."));
            }
            limit = Some(n);
            i += 1;
        } else if xadd && eq(opt, "nomkstream") {
            nomkstream = true;
        } else if xadd {
            break; // the entry ID
        } else {
            return Err(syntax());
        }
        i += 1;
    }
    if limit.is_some_and(|l| l != 0) && trim.is_none() {
        return Err(err(
            "syntax error, LIMIT cannot be used without specifying a trimming strategy",
        ));
    }
    if !xadd && trim.is_none() {
        return Err(err(
            "syntax error, XTRIM must be called with a trimming strategy",
        ));
    }
    if limit.is_some() && !approx {
        return Err(err(
            "syntax error, LIMIT cannot be used without the special ~ option",
        ));
    }
    if approx {
        return Err(err(
            "model: approximate trimming (~) is not modelled; use =",
        ));
    }
    Ok((trim, i, nomkstream))
}

fn trim(s: &mut Stream, how: Trim) -> i64 {
    let before = s.entries.len();
    match how {
        Trim::MaxLen(n) => {
            while s.entries.len() as u64 > n {
                s.entries.pop_first();
            }
        }
        Trim::MinId(min) => s.entries.retain(|id, _| *id >= min),
    }
    (before - s.entries.len()) as i64
}

fn xadd(cx: &mut Ctx<'_>, a: &[Vec<u8>]) -> Res {
    let (how, idpos, nomkstream) = parse_trim(a, true)?;
    let nfields = a.len().saturating_sub(idpos + 1);
    if idpos >= a.len() || nfields < 2 || nfields % 2 == 1 {
        return Err(arity("xadd"));
    }
    let given = match a[idpos].as_slice() {
        b"*" => None,
        arg => Some(parse_id_ext(arg, 0, true, true)?),
    };
    if given == Some(((0, 0), true)) {
        return Err(err("The ID specified in XADD must be greater than 0-0"));
    }
    let last = match cx.get::<Stream>(&a[1])? {
        None if nomkstream => return Ok(Reply::nil()),
        None => (0, 0),
        Some(s) => s.last_id,
    };
    if last == MAX_ID {
        return Err(err(
            "The stream has exhausted the last possible ID, unable to add more items",
        ));
    }
    let id = next_id(last, given, cx.now)?;
    let s = cx.get_or_create::<Stream>(&a[1])?;
    let fields = a[idpos + 1..]
        .chunks(2)
        .map(|p| (p[0].clone(), p[1].clone()))
        .collect();
    s.entries.insert(id, fields);
    s.last_id = id;
    s.entries_added += 1;
    if let Some(how) = how {
        trim(s, how);
    }
    Ok(Reply::bulk(fmt_id(id)))
}

/// The ID XADD assigns: explicit, `ms-*` (next sequence within that ms), or `*` (now).
fn next_id(last: StreamId, given: Option<(StreamId, bool)>, now: i64) -> Result<StreamId, Reply> {
    let too_small =
        || err("The ID specified in XADD is equal or smaller than the target stream top item");
    let id = match given {
        Some((id, true)) => id,
        Some(((ms, _), false)) if ms == last.0 => {
            (ms, last.1.checked_add(1).ok_or_else(too_small)?)
        }
        Some(((ms, _), false)) => (ms, 0),
        None => match u64::try_from(now).unwrap_or(0) {
            ms if ms > last.0 => (ms, 0),
            _ => incr_id(last).unwrap_or((0, 0)),
        },
    };
    if id <= last {
        return Err(too_small());
    }
    Ok(id)
}

fn xdel(cx: &mut Ctx<'_>, a: &[Vec<u8>]) -> Res {
    let Some(s) = cx.get::<Stream>(&a[1])? else {
        return Ok(Reply::Int(0));
    };
    let ids = a[2..]
        .iter()
        .map(|x| parse_id(x))
        .collect::<Result<Vec<_>, _>>()?;
    let mut deleted = 0;
    for id in ids {
        if s.entries.remove(&id).is_some() {
            s.max_deleted_id = s.max_deleted_id.max(id);
            deleted += 1;
        }
    }
    Ok(Reply::Int(deleted))
}

fn xtrim(cx: &mut Ctx<'_>, a: &[Vec<u8>]) -> Res {
    let (how, _, _) = parse_trim(a, false)?;
    let Some(s) = cx.get::<Stream>(&a[1])? else {
        return Ok(Reply::Int(0));
    };
    Ok(Reply::Int(trim(s, how.expect("XTRIM requires a strategy"))))
}

fn xlen(cx: &mut Ctx<'_>, a: &[Vec<u8>]) -> Res {
    Ok(Reply::Int(
        cx.get::<Stream>(&a[1])?
            .map_or(0, |s| s.entries.len() as i64),
    ))
}

fn xrange_generic(cx: &mut Ctx<'_>, a: &[Vec<u8>], rev: bool) -> Res {
    let (start_arg, end_arg) = if rev { (&a[3], &a[2]) } else { (&a[2], &a[3]) };
    let (start, ex) = parse_bound(start_arg, 0)?;
    let start = if ex {
        incr_id(start).ok_or_else(|| err("invalid start ID for the interval"))?
    } else {
        start
    };
    let (end, ex) = parse_bound(end_arg, u64::MAX)?;
    let end = if ex {
        decr_id(end).ok_or_else(|| err("invalid end ID for the interval"))?
    } else {
        end
    };
    let mut count: Option<usize> = None;
    let mut j = 4;
    while j < a.len() {
        if eq(&a[j], "count") && j + 1 < a.len() {
            count = Some(int(&a[j + 1])?.max(0) as usize);
            j += 2;
        } else {
            return Err(syntax());
        }
    }
    let Some(s) = cx.get::<Stream>(&a[1])? else {
        return Ok(Reply::Array(vec![]));
    };
    if count == Some(0) {
        return Ok(Reply::NilArray);
    }
    if start > end {
        return Ok(Reply::Array(vec![]));
    }
    let range = s.entries.range(start..=end);
    let items: Vec<Reply> = if rev {
        range
            .rev()
            .take(count.unwrap_or(usize::MAX))
            .map(|(id, f)| entry_reply(*id, f))
            .collect()
    } else {
        range
            .take(count.unwrap_or(usize::MAX))
            .map(|(id, f)| entry_reply(*id, f))
            .collect()
    };
    Ok(Reply::Array(items))
}

fn xrange(cx: &mut Ctx<'_>, a: &[Vec<u8>]) -> Res {
    xrange_generic(cx, a, false)
}

fn xrevrange(cx: &mut Ctx<'_>, a: &[Vec<u8>]) -> Res {
    xrange_generic(cx, a, true)
}

fn xsetid(cx: &mut Ctx<'_>, a: &[Vec<u8>]) -> Res {
    let id = parse_id(&a[2])?;
    let (mut added, mut maxdel) = (None, None);
    let mut i = 3;
    while i < a.len() {
        let more = a.len() - 1 - i;
        if eq(&a[i], "entriesadded") && more > 0 {
            let n = int(&a[i + 1])?;
            added = Some(u64::try_from(n).map_err(|_| err("entries_added must be positive"))?);
        } else if eq(&a[i], "maxdeletedid") && more > 0 {
            let m = parse_id(&a[i + 1])?;
            if id < m {
                return Err(err(
                    "The ID specified in XSETID is smaller than the provided max_deleted_entry_id",
                ));
            }
            maxdel = Some(m);
        } else {
            return Err(syntax());
        }
        i += 2;
    }
    let s = cx.get::<Stream>(&a[1])?.ok_or_else(no_such_key)?;
    if id < s.max_deleted_id {
        return Err(err(
            "The ID specified in XSETID is smaller than current max_deleted_entry_id",
        ));
    }
    if let Some((&top, _)) = s.entries.last_key_value() {
        if id < top {
            return Err(err(
                "The ID specified in XSETID is smaller than the target stream top item",
            ));
        }
        if added.is_some_and(|n| (s.entries.len() as u64) > n) {
            return Err(err(
                "The entries_added specified in XSETID is smaller than the target stream length",
            ));
        }
    }
    s.last_id = id;
    if let Some(n) = added {
        s.entries_added = n;
    }
    if let Some(m) = maxdel.filter(|&m| m != (0, 0)) {
        s.max_deleted_id = m;
    }
    Ok(Reply::Ok)
}

#[cfg(test)]
mod tests {
    use crate::keyspace::testkit::*;
    use crate::{Reply, Value};

    fn entry(id: &str, fv: &[&str]) -> Reply {
        Reply::Array(vec![b(id), arr(fv)])
    }

    fn stream(t: &T, key: &str) -> crate::Stream {
        match &t.ks.dbs[&0][key.as_bytes()].value {
            Value::Stream(s) => s.clone(),
            v => panic!("{v:?}"),
        }
    }

    #[test]
    fn xadd_ids() {
        let mut t = T::new();
        assert_eq!(t.run("XADD s * f v"), b("1000000-0"));
        assert_eq!(
            t.run("XADD s * f v"),
            b("1000000-1"),
            "same ms bumps the sequence"
        );
        t.now = 999;
        assert_eq!(
            t.run("XADD s * f v"),
            b("1000000-2"),
            "a clock behind last_id never goes back"
        );
        assert_eq!(
            t.run("XADD s 1000000-2 f v"),
            e("ERR The ID specified in XADD is equal or smaller than the target stream top item")
        );
        assert_eq!(t.run("XADD s 1000000-* f v"), b("1000000-3"));
        assert_eq!(t.run("XADD s 2000000-* f v"), b("2000000-0"));
        assert_eq!(t.run("XADD s 3000000 f v"), b("3000000-0"));
        assert_eq!(
            t.run("XADD n 0-0 f v"),
            e("ERR The ID specified in XADD must be greater than 0-0")
        );
        assert_eq!(t.run("XADD n 0-* f v"), b("0-1"));
        assert_eq!(
            t.run("XADD n 1-x f v"),
            e("ERR Invalid stream ID specified as stream command argument")
        );
        assert_eq!(
            t.run("XADD n * f"),
            e("ERR wrong number of arguments for 'xadd' command")
        );
        assert_eq!(t.run("XADD m NOMKSTREAM * f v"), Reply::nil());
        assert_eq!(t.run("EXISTS m"), i(0));
        let s = stream(&t, "s");
        assert_eq!(
            (s.last_id, s.entries_added, s.entries.len()),
            ((3_000_000, 0), 6, 6)
        );
        t.ok("SET str v");
        assert_eq!(t.run("XADD str * f v"), e(WRONGTYPE));
    }

    #[test]
    fn exact_trimming_and_refused_approximation() {
        let mut t = T::new();
        for n in 1..=5 {
            t.ok(&format!("XADD s {n}-0 f {n}"));
        }
        assert_eq!(t.run("XADD s MAXLEN = 3 6-0 f 6"), b("6-0"));
        assert_eq!(t.run("XLEN s"), i(3));
        assert_eq!(t.run("XTRIM s MINID 5"), i(1));
        assert_eq!(t.run("XTRIM s MAXLEN 0"), i(2));
        assert_eq!(t.run("EXISTS s"), i(1), "an empty stream stays");
        let s = stream(&t, "s");
        assert_eq!(
            (s.entries_added, s.max_deleted_id, s.last_id),
            (6, (0, 0), (6, 0))
        );
        assert_eq!(
            t.run("XTRIM s MAXLEN ~ 1"),
            e("ERR model: approximate trimming (~) is not modelled; use =")
        );
        assert_eq!(
            t.run("XTRIM s MAXLEN 1 LIMIT 10"),
            e("ERR syntax error, LIMIT cannot be used without the special ~ option")
        );
        assert_eq!(
            t.run("XTRIM s MAXLEN -1"),
            e("ERR The MAXLEN argument must be >= 0.")
        );
        assert_eq!(
            t.run("XTRIM s MAXLEN 1 MINID 1"),
            e("ERR syntax error, MAXLEN and MINID options at the same time are not compatible")
        );
        assert_eq!(t.run("XTRIM s FOO 1"), e("ERR syntax error"));
        assert_eq!(t.run("XTRIM nope MAXLEN 1"), i(0));
    }

    #[test]
    fn xdel_tracks_the_max_deleted_id() {
        let mut t = T::new();
        t.ok("XADD s 1-0 a 1");
        t.ok("XADD s 2-0 b 2");
        t.ok("XADD s 3-0 c 3");
        assert_eq!(t.run("XDEL s 2-0 2-0 9-9"), i(1));
        assert_eq!(t.run("XDEL s 1-0"), i(1));
        assert_eq!(
            t.run("XDEL s x"),
            e("ERR Invalid stream ID specified as stream command argument")
        );
        assert_eq!(stream(&t, "s").max_deleted_id, (2, 0));
        assert_eq!(
            t.run("XRANGE s - +"),
            Reply::Array(vec![entry("3-0", &["c", "3"])])
        );
    }

    #[test]
    fn xrange_bounds_and_count() {
        let mut t = T::new();
        for n in 1..=4 {
            t.ok(&format!("XADD s {n}-1 f {n}"));
        }
        assert_eq!(
            t.run("XRANGE s 2 3"),
            Reply::Array(vec![entry("2-1", &["f", "2"]), entry("3-1", &["f", "3"])])
        );
        assert_eq!(
            t.run("XRANGE s (2-1 + COUNT 1"),
            Reply::Array(vec![entry("3-1", &["f", "3"])])
        );
        assert_eq!(
            t.run("XREVRANGE s + - COUNT 2"),
            Reply::Array(vec![entry("4-1", &["f", "4"]), entry("3-1", &["f", "3"])])
        );
        assert_eq!(t.run("XRANGE s - + COUNT 0"), Reply::NilArray);
        assert_eq!(t.run("XRANGE s 5 1"), Reply::Array(vec![]));
        assert_eq!(
            t.run("XRANGE s (- +"),
            e("ERR Invalid stream ID specified as stream command argument")
        );
        assert_eq!(t.run("XRANGE s - +  FOO"), e("ERR syntax error"));
        assert_eq!(t.run("XRANGE nope - +"), Reply::Array(vec![]));
    }

    #[test]
    fn xsetid_checks() {
        let mut t = T::new();
        t.ok("XADD s 5-0 f v");
        assert_eq!(
            t.run("XSETID s 4-0"),
            e("ERR The ID specified in XSETID is smaller than the target stream top item")
        );
        assert_eq!(t.run("XSETID s 9-0 ENTRIESADDED 0"), e("ERR The entries_added specified in XSETID is smaller than the target stream length"));
        assert_eq!(
            t.run("XSETID s 9-0 MAXDELETEDID 10-0"),
            e("ERR The ID specified in XSETID is smaller than the provided max_deleted_entry_id")
        );
        assert_eq!(
            t.run("XSETID s 9-0 ENTRIESADDED 7 MAXDELETEDID 3-0"),
            Reply::Ok
        );
        let s = stream(&t, "s");
        assert_eq!(
            (s.last_id, s.entries_added, s.max_deleted_id),
            ((9, 0), 7, (3, 0))
        );
        assert_eq!(
            t.run("XSETID s 2-0"),
            e("ERR The ID specified in XSETID is smaller than current max_deleted_entry_id")
        );
        assert_eq!(
            t.run("XSETID s 4-0"),
            e("ERR The ID specified in XSETID is smaller than the target stream top item")
        );
        assert_eq!(
            t.run("XADD s 8-0 f v"),
            e("ERR The ID specified in XADD is equal or smaller than the target stream top item")
        );
        assert_eq!(t.run("XSETID nope 1-0"), e("ERR no such key"));
    }
}
