//! Hash commands, with per-field expiry (HEXPIRE family, HPERSIST, HTTL family).
//! Expired fields are purged before every command, so handlers only see live fields.

use crate::args::{eq, float, int, int_in, parse_f64, parse_i64};
use crate::keyspace::{already_expired, cmd, Cmd, Ctx};
use crate::reply::{arity, err, expire_time, fmt_human, Reply, Res};
use crate::value::Hash;

pub(crate) const COMMANDS: &[Cmd] = &[
    cmd("hset", -4, hset),
    cmd("hmset", -4, hmset),
    cmd("hsetnx", 4, hsetnx),
    cmd("hdel", -3, hdel),
    cmd("hget", 3, hget),
    cmd("hmget", -3, hmget),
    cmd("hgetall", 2, hgetall),
    cmd("hlen", 2, hlen),
    cmd("hexists", 3, hexists),
    cmd("hincrby", 4, hincrby),
    cmd("hincrbyfloat", 4, hincrbyfloat),
    cmd("hexpire", -6, hexpire),
    cmd("hpexpire", -6, hpexpire),
    cmd("hexpireat", -6, hexpireat),
    cmd("hpexpireat", -6, hpexpireat),
    cmd("hpersist", -5, hpersist),
    cmd("httl", -5, httl),
    cmd("hpttl", -5, hpttl),
    cmd("hexpiretime", -5, hexpiretime),
    cmd("hpexpiretime", -5, hpexpiretime),
];

/// The largest absolute field expiry Redis accepts (`EB_EXPIRE_TIME_MAX >> 2`).
const MAX_FIELD_EXPIRE_MS: i64 = ((1 << 48) - 1) >> 2;

fn hset_generic(cx: &mut Ctx<'_>, a: &[Vec<u8>], name: &str) -> Result<i64, Reply> {
    if a.len() % 2 == 1 {
        return Err(arity(name));
    }
    let h = cx.get_or_create::<Hash>(&a[1])?;
    // Overwriting a field clears its TTL, as Redis's hashTypeSet does without KEEP_TTL.
    let created = a[2..]
        .chunks(2)
        .filter(|p| h.insert(p[0].clone(), (p[1].clone(), None)).is_none())
        .count();
    Ok(created as i64)
}

fn hset(cx: &mut Ctx<'_>, a: &[Vec<u8>]) -> Res {
    Ok(Reply::Int(hset_generic(cx, a, "hset")?))
}

fn hmset(cx: &mut Ctx<'_>, a: &[Vec<u8>]) -> Res {
    hset_generic(cx, a, "hmset").map(|_| Reply::Ok)
}

fn hsetnx(cx: &mut Ctx<'_>, a: &[Vec<u8>]) -> Res {
    let h = cx.get_or_create::<Hash>(&a[1])?;
    if h.contains_key(&a[2]) {
        return Ok(Reply::Int(0));
    }
    h.insert(a[2].clone(), (a[3].clone(), None));
    Ok(Reply::Int(1))
}

fn hdel(cx: &mut Ctx<'_>, a: &[Vec<u8>]) -> Res {
    let Some(h) = cx.get::<Hash>(&a[1])? else {
        return Ok(Reply::Int(0));
    };
    Ok(Reply::Int(
        a[2..]
            .iter()
            .filter(|f| h.remove(f.as_slice()).is_some())
            .count() as i64,
    ))
}

fn field(cx: &mut Ctx<'_>, key: &[u8], f: &[u8]) -> Result<Option<Vec<u8>>, Reply> {
    Ok(cx
        .get::<Hash>(key)?
        .and_then(|h| h.get(f))
        .map(|(v, _)| v.clone()))
}

fn hget(cx: &mut Ctx<'_>, a: &[Vec<u8>]) -> Res {
    Ok(Reply::Bulk(field(cx, &a[1], &a[2])?))
}

fn hmget(cx: &mut Ctx<'_>, a: &[Vec<u8>]) -> Res {
    let h = cx.get::<Hash>(&a[1])?.cloned().unwrap_or_default();
    Ok(Reply::Array(
        a[2..]
            .iter()
            .map(|f| Reply::Bulk(h.get(f).map(|(v, _)| v.clone())))
            .collect(),
    ))
}

fn hgetall(cx: &mut Ctx<'_>, a: &[Vec<u8>]) -> Res {
    let h = cx.get::<Hash>(&a[1])?.cloned().unwrap_or_default();
    Ok(Reply::bulks(h.into_iter().flat_map(|(f, (v, _))| [f, v])))
}

fn hlen(cx: &mut Ctx<'_>, a: &[Vec<u8>]) -> Res {
    // Redis's HLEN may still count expired-but-unreclaimed fields; the model has none.
    Ok(Reply::Int(
        cx.get::<Hash>(&a[1])?.map_or(0, |h| h.len() as i64),
    ))
}

fn hexists(cx: &mut Ctx<'_>, a: &[Vec<u8>]) -> Res {
    Ok(Reply::Int(i64::from(field(cx, &a[1], &a[2])?.is_some())))
}

fn hincrby(cx: &mut Ctx<'_>, a: &[Vec<u8>]) -> Res {
    let by = int(&a[3])?;
    let h = cx.get_or_create::<Hash>(&a[1])?;
    let cur = match h.get(&a[2]) {
        None => 0,
        Some((v, _)) => parse_i64(v).ok_or_else(|| err("hash value is not an integer"))?,
    };
    let new = cur
        .checked_add(by)
        .ok_or_else(|| err("increment or decrement would overflow"))?;
    let ttl = h.get(&a[2]).and_then(|(_, t)| *t);
    h.insert(a[2].clone(), (new.to_string().into_bytes(), ttl));
    Ok(Reply::Int(new))
}

fn hincrbyfloat(cx: &mut Ctx<'_>, a: &[Vec<u8>]) -> Res {
    let by = float(&a[3])?;
    if !by.is_finite() {
        return Err(err("value is NaN or Infinity"));
    }
    let h = cx.get_or_create::<Hash>(&a[1])?;
    let cur = match h.get(&a[2]) {
        None => 0.0,
        Some((v, _)) => parse_f64(v).ok_or_else(|| err("hash value is not a float"))?,
    };
    let new = cur + by;
    if !new.is_finite() {
        return Err(err("increment would produce NaN or Infinity"));
    }
    let text = fmt_human(new);
    let ttl = h.get(&a[2]).and_then(|(_, t)| *t);
    h.insert(a[2].clone(), (text.clone(), ttl));
    Ok(Reply::bulk(text))
}

/// Parses `FIELDS numfields field...` where `FIELDS` sits at `a[at - 1]`.
fn fields<'a>(a: &'a [Vec<u8>], at: usize, count_msg: &str) -> Result<&'a [Vec<u8>], Reply> {
    if !a.get(at - 1).is_some_and(|f| eq(f, "fields")) {
        return Err(err(
            "Mandatory argument FIELDS is missing or not at the right position",
        ));
    }
    let n = int_in(
        a.get(at).map_or(&b""[..], |v| v),
        1,
        i64::MAX,
        Some(count_msg),
    )?;
    if usize::try_from(n).ok() != a.len().checked_sub(at + 1) {
        return Err(err(
            "The `numfields` parameter must match the number of arguments",
        ));
    }
    Ok(&a[at + 1..])
}

/// HEXPIRE family. Per field: -2 no such field, 0 condition not met, 1 set, 2 deleted
/// because the time is not in the future. `base` is now for relative forms, else 0.
fn hexpire_generic(cx: &mut Ctx<'_>, a: &[Vec<u8>], name: &str, base: i64, seconds: bool) -> Res {
    cx.check::<Hash>(&a[1])?;
    let mut when = int(&a[2])?;
    if when < 0 {
        return Err(err("invalid expire time, must be >= 0"));
    }
    if seconds {
        if when > MAX_FIELD_EXPIRE_MS / 1000 {
            return Err(expire_time(name));
        }
        when *= 1000;
    }
    if when > MAX_FIELD_EXPIRE_MS - base {
        return Err(expire_time(name));
    }
    let when = when + base;
    let cond = ["nx", "xx", "gt", "lt"].into_iter().find(|c| eq(&a[3], c));
    let names = fields(
        a,
        if cond.is_some() { 5 } else { 4 },
        "Parameter `numFields` should be greater than 0",
    )?;
    let now = cx.now;
    let Some(h) = cx.get::<Hash>(&a[1])? else {
        return Ok(Reply::Array(names.iter().map(|_| Reply::Int(-2)).collect()));
    };
    let mut out = Vec::with_capacity(names.len());
    for f in names {
        let Some((_, ttl)) = h.get_mut(f) else {
            out.push(Reply::Int(-2));
            continue;
        };
        // A field without TTL expires never: XX and GT fail on it, LT and NX pass.
        let refused = match (cond, *ttl) {
            (Some("xx" | "gt"), None) => true,
            (Some("nx"), Some(_)) => true,
            (Some("gt"), Some(prev)) => prev >= when,
            (Some("lt"), Some(prev)) => prev <= when,
            _ => false,
        };
        if refused {
            out.push(Reply::Int(0));
        } else if already_expired(when, now) {
            h.remove(f);
            out.push(Reply::Int(2));
        } else {
            *ttl = Some(when);
            out.push(Reply::Int(1));
        }
    }
    Ok(Reply::Array(out))
}

fn hexpire(cx: &mut Ctx<'_>, a: &[Vec<u8>]) -> Res {
    let now = cx.now;
    hexpire_generic(cx, a, "hexpire", now, true)
}

fn hpexpire(cx: &mut Ctx<'_>, a: &[Vec<u8>]) -> Res {
    let now = cx.now;
    hexpire_generic(cx, a, "hpexpire", now, false)
}

fn hexpireat(cx: &mut Ctx<'_>, a: &[Vec<u8>]) -> Res {
    hexpire_generic(cx, a, "hexpireat", 0, true)
}

fn hpexpireat(cx: &mut Ctx<'_>, a: &[Vec<u8>]) -> Res {
    hexpire_generic(cx, a, "hpexpireat", 0, false)
}

const COUNT_MSG: &str = "Number of fields must be a positive integer";

fn hpersist(cx: &mut Ctx<'_>, a: &[Vec<u8>]) -> Res {
    cx.check::<Hash>(&a[1])?;
    let names = fields(a, 3, COUNT_MSG)?;
    let mut h = cx.get::<Hash>(&a[1])?;
    let out = names
        .iter()
        .map(|f| match h.as_mut().and_then(|h| h.get_mut(f)) {
            None => Reply::Int(-2),
            Some((_, None)) => Reply::Int(-1),
            Some((_, ttl)) => {
                *ttl = None;
                Reply::Int(1)
            }
        });
    Ok(Reply::Array(out.collect()))
}

/// HTTL family: -2 no such field, -1 no TTL. Seconds round *up* here (`(t + 999) / 1000`),
/// unlike key TTL which rounds half up.
fn httl_generic(cx: &mut Ctx<'_>, a: &[Vec<u8>], ms: bool, absolute: bool) -> Res {
    cx.check::<Hash>(&a[1])?;
    let names = fields(a, 3, COUNT_MSG)?;
    let base = if absolute { 0 } else { cx.now };
    let h = cx.get::<Hash>(&a[1])?.cloned().unwrap_or_default();
    let out = names.iter().map(|f| match h.get(f) {
        None => Reply::Int(-2),
        Some((_, None)) => Reply::Int(-1),
        Some((_, Some(when))) if ms => Reply::Int(when - base),
        Some((_, Some(when))) => Reply::Int((when + 999 - base) / 1000),
    });
    Ok(Reply::Array(out.collect()))
}

fn httl(cx: &mut Ctx<'_>, a: &[Vec<u8>]) -> Res {
    httl_generic(cx, a, false, false)
}

fn hpttl(cx: &mut Ctx<'_>, a: &[Vec<u8>]) -> Res {
    httl_generic(cx, a, true, false)
}

fn hexpiretime(cx: &mut Ctx<'_>, a: &[Vec<u8>]) -> Res {
    httl_generic(cx, a, false, true)
}

fn hpexpiretime(cx: &mut Ctx<'_>, a: &[Vec<u8>]) -> Res {
    httl_generic(cx, a, true, true)
}

#[cfg(test)]
mod tests {
    use crate::keyspace::testkit::*;
    use crate::Reply;

    fn ints(v: &[i64]) -> Reply {
        Reply::Array(v.iter().map(|&n| i(n)).collect())
    }

    #[test]
    fn set_get_delete() {
        let mut t = T::new();
        assert_eq!(t.run("HSET h a 1 b 2"), i(2));
        assert_eq!(t.run("HSET h a 9 c 3"), i(1));
        assert_eq!(
            t.run("HSET h a"),
            e("ERR wrong number of arguments for 'hset' command")
        );
        assert_eq!(t.run("HMSET h d 4"), Reply::Ok);
        assert_eq!(t.run("HSETNX h a x"), i(0));
        assert_eq!(t.run("HSETNX h e 5"), i(1));
        assert_eq!(t.run("HGET h a"), b("9"));
        assert_eq!(t.run("HGET h z"), Reply::nil());
        assert_eq!(
            t.run("HMGET h a z"),
            Reply::Array(vec![b("9"), Reply::nil()])
        );
        assert_eq!(t.run("HLEN h"), i(5));
        assert_eq!(t.run("HEXISTS h e"), i(1));
        assert_eq!(t.run("HDEL h a b z"), i(2));
        assert_eq!(t.run("HGETALL h"), arr(&["c", "3", "d", "4", "e", "5"]));
        assert_eq!(t.run("HDEL h c d e"), i(3));
        assert_eq!(
            t.run("EXISTS h"),
            i(0),
            "deleting the last field deletes the hash"
        );
        t.ok("SET s v");
        assert_eq!(t.run("HSET s a 1"), e(WRONGTYPE));
        assert_eq!(t.run("HGETALL s"), e(WRONGTYPE));
    }

    #[test]
    fn increments() {
        let mut t = T::new();
        assert_eq!(t.run("HINCRBY h n 5"), i(5));
        assert_eq!(t.run("HINCRBY h n -7"), i(-2));
        assert_eq!(
            t.run("HINCRBY h n x"),
            e("ERR value is not an integer or out of range")
        );
        t.ok("HSET h s abc");
        assert_eq!(
            t.run("HINCRBY h s 1"),
            e("ERR hash value is not an integer")
        );
        assert_eq!(
            t.run("HINCRBYFLOAT h s 1"),
            e("ERR hash value is not a float")
        );
        assert_eq!(t.run("HINCRBYFLOAT h f 1.5"), b("1.5"));
        assert_eq!(
            t.run("HINCRBYFLOAT h f inf"),
            e("ERR value is NaN or Infinity")
        );
        assert_eq!(
            t.run("HINCRBYFLOAT new f x"),
            e("ERR value is not a valid float")
        );
        assert_eq!(t.run("HINCRBY new f 1 "), i(1));
        t.ok("HSET h m 9223372036854775807");
        assert_eq!(
            t.run("HINCRBY h m 1"),
            e("ERR increment or decrement would overflow")
        );
    }

    #[test]
    fn field_expiry_conditions_and_replies() {
        let mut t = T::new();
        t.ok("HSET h a 1 b 2 c 3");
        assert_eq!(t.run("HEXPIRE h 100 FIELDS 2 a z"), ints(&[1, -2]));
        assert_eq!(t.run("HEXPIRE h 50 GT FIELDS 2 a b"), ints(&[0, 0]));
        assert_eq!(t.run("HEXPIRE h 50 LT FIELDS 2 a b"), ints(&[1, 1]));
        assert_eq!(t.run("HEXPIRE h 70 NX FIELDS 2 a c"), ints(&[0, 1]));
        assert_eq!(t.run("HEXPIRE h 80 XX FIELDS 1 c"), ints(&[1]));
        assert_eq!(t.run("HTTL h FIELDS 4 a b c z"), ints(&[50, 50, 80, -2]));
        assert_eq!(t.run("HPEXPIRETIME h FIELDS 1 a"), ints(&[1_050_000]));
        assert_eq!(t.run("HPERSIST h FIELDS 2 a z"), ints(&[1, -2]));
        assert_eq!(t.run("HPERSIST h FIELDS 1 a"), ints(&[-1]));
        assert_eq!(t.run("HPEXPIRE h 0 FIELDS 1 a"), ints(&[2]));
        assert_eq!(t.run("HEXISTS h a"), i(0));
        assert_eq!(t.run("HTTL nope FIELDS 1 a"), ints(&[-2]));
        assert_eq!(t.run("HEXPIRE nope 10 FIELDS 1 a"), ints(&[-2]));
        assert_eq!(t.run("HPEXPIRE h 1500 FIELDS 1 b"), ints(&[1]));
        assert_eq!(
            t.run("HTTL h FIELDS 1 b"),
            ints(&[2]),
            "field TTL seconds round up"
        );
        assert_eq!(t.run("HPTTL h FIELDS 1 b"), ints(&[1500]));
        t.ok("HSET h b new");
        assert_eq!(
            t.run("HTTL h FIELDS 1 b"),
            ints(&[-1]),
            "HSET clears a field's TTL"
        );
    }

    #[test]
    fn field_expiry_argument_errors() {
        let mut t = T::new();
        t.ok("HSET h a 1");
        assert_eq!(
            t.run("HEXPIRE h 10 FIELDZ 1 a"),
            e("ERR Mandatory argument FIELDS is missing or not at the right position")
        );
        assert_eq!(
            t.run("HEXPIRE h 10 FIELDS 2 a"),
            e("ERR The `numfields` parameter must match the number of arguments")
        );
        assert_eq!(
            t.run("HEXPIRE h 10 FIELDS 0 a"),
            e("ERR Parameter `numFields` should be greater than 0")
        );
        assert_eq!(
            t.run("HTTL h FIELDS 0 a"),
            e("ERR Number of fields must be a positive integer")
        );
        assert_eq!(
            t.run("HEXPIRE h -1 FIELDS 1 a"),
            e("ERR invalid expire time, must be >= 0")
        );
        assert_eq!(
            t.run("HEXPIRE h 70368744177664 FIELDS 1 a"),
            e("ERR invalid expire time in 'hexpire' command")
        );
        assert_eq!(
            t.run("HPEXPIREAT h 70368744177664 FIELDS 1 a"),
            e("ERR invalid expire time in 'hpexpireat' command")
        );
        t.ok("SET s v");
        assert_eq!(t.run("HEXPIRE s 10 FIELDS 1 a"), e(WRONGTYPE));
    }

    #[test]
    fn expired_fields_vanish_and_take_the_hash_with_them() {
        let mut t = T::new();
        t.ok("HSET h a 1 b 2");
        t.ok("HPEXPIRE h 100 FIELDS 2 a b");
        t.now += 100;
        assert_eq!(
            t.run("HLEN h"),
            i(2),
            "a field expiring exactly now is still there"
        );
        t.now += 1;
        assert_eq!(t.run("HGET h a"), Reply::nil());
        assert_eq!(t.run("EXISTS h"), i(0));
        assert_eq!(
            t.run("HINCRBY h a 1"),
            i(1),
            "an expired field counts as absent"
        );
    }
}
