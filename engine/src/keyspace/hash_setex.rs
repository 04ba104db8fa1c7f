//! HSETEX (Redis 8, Valkey 9): set fields with one expiry option; Valkey 9.1 rewrites a hash with
//! field TTLs into it, so AOF replay needs it in exactly its propagated form.
use super::args::{is, parse_i64};
use super::db::{Obj, Slot};
use super::hash_type::{HashObj, HFE_MAX_ABS_TIME_MSEC};
use super::hashes::hash_mut;
use super::reply::{err, CmdResult, Reply};
use super::{spec, Cx, Keyspace, Spec};

pub(crate) const COMMANDS: &[Spec] = &[spec("hsetex", -6, hsetex)];

/// The expiry option: none (fields lose their TTL), KEEPTTL, or an absolute time in ms.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Ttl {
    Clear,
    Keep,
    At(i64),
}

/// `HSETEX key [NX|XX] [FNX|FXX] [EX s|PX ms|EXAT s|PXAT ms|KEEPTTL] FIELDS n f v [f v ...]`:
/// 1 when the fields were set, 0 when a condition was not met.
fn hsetex(k: &mut Keyspace, cx: &mut Cx, a: &[&[u8]]) -> CmdResult {
    let (mut key_cond, mut field_cond, mut ttl) = (None, None, Ttl::Clear);
    let mut i = 2;
    let syntax = || err("ERR syntax error");
    while i < a.len() && !is(a[i], "fields") {
        let opt = a[i];
        if is(opt, "nx") || is(opt, "xx") {
            if key_cond.is_some() {
                return syntax();
            }
            key_cond = Some(is(opt, "nx"));
        } else if is(opt, "fnx") || is(opt, "fxx") {
            if field_cond.is_some() {
                return syntax();
            }
            field_cond = Some(is(opt, "fnx"));
        } else if is(opt, "keepttl") {
            if ttl != Ttl::Clear {
                return syntax();
            }
            ttl = Ttl::Keep;
        } else {
            let unit: (i64, i64) = if is(opt, "ex") {
                (1000, cx.now)
            } else if is(opt, "px") {
                (1, cx.now)
            } else if is(opt, "exat") {
                (1000, 0)
            } else if is(opt, "pxat") {
                (1, 0)
            } else {
                return syntax();
            };
            if ttl != Ttl::Clear {
                return syntax();
            }
            i += 1;
            let Some(n) = a.get(i).and_then(|v| parse_i64(v)) else {
                return err("ERR value is not an integer or out of range");
            };
            let when = n
                .checked_mul(unit.0)
                .and_then(|ms| ms.checked_add(unit.1))
                .filter(|&ms| n >= 0 && ms <= HFE_MAX_ABS_TIME_MSEC);
            let Some(when) = when else {
                return err("ERR invalid expire time in 'hsetex' command");
            };
            ttl = Ttl::At(when);
        }
        i += 1;
    }
    let n = match a.get(i + 1).and_then(|n| parse_i64(n)) {
        Some(n) if n >= 1 => n as usize,
        _ => return err("ERR invalid number of fields"),
    };
    let pairs = &a[(i + 2).min(a.len())..];
    if i >= a.len() || pairs.len() != n * 2 {
        return err("ERR wrong number of arguments for 'hsetex' command");
    }
    let fields: Vec<&[u8]> = pairs.iter().step_by(2).copied().collect();
    let db = k.db(cx.db);
    let exists = match hash_mut(db, a[1], cx, &fields) {
        Ok(h) => h.is_some(),
        Err(e) => return Ok(e),
    };
    if key_cond.is_some_and(|nx| nx == exists) {
        return Ok(Reply::Int(0));
    }
    if !exists {
        db.map
            .insert(a[1].into(), Slot::new(Obj::Hash(Box::default())));
    }
    let Some(Slot {
        obj: Obj::Hash(h), ..
    }) = db.map.get_mut(a[1])
    else {
        unreachable!("ensured above")
    };
    let h: &mut HashObj = h;
    if let Some(fnx) = field_cond {
        let present = fields.iter().filter(|f| h.map.contains_key(**f)).count();
        let met = if fnx { present == 0 } else { present == n };
        if !met {
            db.drop_if_empty(a[1]);
            return Ok(Reply::Int(0));
        }
    }
    let gone = matches!(ttl, Ttl::At(t) if !cx.loading && t <= cx.now);
    for p in pairs.chunks_exact(2) {
        if gone {
            h.map.remove(p[0]);
            continue;
        }
        let exp = match ttl {
            Ttl::Clear => None,
            Ttl::Keep => h.map.get(p[0]).and_then(|(_, e)| *e),
            Ttl::At(t) => Some(t),
        };
        h.map.insert(p[0].to_vec(), (p[1].to_vec(), exp));
    }
    db.drop_if_empty(a[1]);
    Ok(Reply::Int(1))
}
