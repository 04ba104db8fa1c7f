//! The commands Redis 8.6+ emits when it rewrites an AOF, in the forms it emits them, so a
//! replay keeps what they carry (`rewriteStreamObject` and `rewriteArrayObject` in Redis
//! `aof.c` at upstream e58041978, lines 2200-2260, 2387-2460, 2500-2630):
//!
//! - `ARMSET key idx value [idx value ...]` and `ARSEEK key idx` (Redis 8.8 arrays);
//! - `XCFGSET key IDMP-DURATION d IDMP-MAXSIZE m` and `XIDMPRECORD key pid iid id` (8.6 stream
//!   IDMP state);
//! - `XNACK key group FAIL IDS n id... RETRYCOUNT count FORCE` (8.8 NACK zones).
//!
//! Only these forms are modelled (from source, not yet checked against a server: no 8.x binary
//! runs here); any other XNACK form is a [`CommandError::Unsupported`], which stops a replay
//! instead of losing state silently. Array values are kept as the strings given (`ARGET`
//! returns them so); IDMP counters are not carried by an AOF in Redis either.
use super::args::{is, parse_i64};
use super::db::{ArrayObj, Obj, Slot};
use super::reply::{arity_reply, err, msg, CmdResult, CommandError, Reply};
use super::stream_type::{parse_id, Nack};
use super::streams::stream_mut;
use super::{spec, Cx, Keyspace, Spec};
use crate::dataset::{Idmp, IdmpProducer};

pub(crate) const COMMANDS: &[Spec] = &[
    spec("armset", -4, armset),
    spec("arseek", 3, arseek),
    spec("xcfgset", -4, xcfgset),
    spec("xidmprecord", 5, xidmprecord),
    spec("xnack", -8, xnack),
];

/// An array index: an unsigned 64-bit decimal (2^64-1 only where `allow_max`).
fn index(b: &[u8], allow_max: bool) -> Option<u64> {
    let s = std::str::from_utf8(b).ok()?;
    if s.is_empty() || s.starts_with('+') || (s.len() > 1 && s.starts_with('0')) {
        return None;
    }
    let v: u64 = s.parse().ok()?;
    (allow_max || v != u64::MAX).then_some(v)
}

fn armset(k: &mut Keyspace, cx: &mut Cx, a: &[&[u8]]) -> CmdResult {
    if !(a.len() - 2).is_multiple_of(2) {
        return arity_reply("armset");
    }
    let mut pairs = Vec::new();
    for p in a[2..].chunks(2) {
        match index(p[0], false) {
            Some(i) => pairs.push((i, p[1].to_vec())),
            None => return err("ERR invalid array index"),
        }
    }
    let db = k.db(cx.db);
    let ar = match db.get(a[1], cx.clock) {
        Some(Slot {
            obj: Obj::Array(ar),
            ..
        }) => ar,
        Some(_) => return err(msg::WRONGTYPE),
        None => {
            db.put(a[1], Slot::new(Obj::Array(Box::default())));
            match db.get(a[1], cx.clock) {
                Some(Slot {
                    obj: Obj::Array(ar),
                    ..
                }) => ar,
                _ => unreachable!("just stored"),
            }
        }
    };
    let before = ar.map.len();
    ar.map.extend(pairs);
    Ok(Reply::Int((ar.map.len() - before) as i64))
}

fn arseek(k: &mut Keyspace, cx: &mut Cx, a: &[&[u8]]) -> CmdResult {
    let Some(idx) = index(a[2], true) else {
        return err("ERR invalid array index");
    };
    match k.db(cx.db).get(a[1], cx.clock) {
        None => Ok(Reply::Int(0)),
        Some(Slot {
            obj: Obj::Array(ar),
            ..
        }) => {
            let ar: &mut ArrayObj = ar;
            ar.insert_idx = idx.checked_sub(1);
            Ok(Reply::Int(1))
        }
        Some(_) => err(msg::WRONGTYPE),
    }
}

fn xcfgset(k: &mut Keyspace, cx: &mut Cx, a: &[&[u8]]) -> CmdResult {
    let (mut duration, mut max) = (None, None);
    let mut i = 2;
    while i < a.len() {
        let Some(v) = a.get(i + 1).and_then(|v| parse_i64(v)) else {
            return err(msg::SYNTAX);
        };
        if is(a[i], "idmp-duration") && (1..=86400).contains(&v) {
            duration = Some(v as u64);
        } else if is(a[i], "idmp-maxsize") && (1..=10000).contains(&v) {
            max = Some(v as u64);
        } else {
            return err(msg::SYNTAX);
        }
        i += 2;
    }
    let s = match stream_mut(k.db(cx.db), a[1], cx.clock) {
        Ok(Some(s)) => s,
        Ok(None) => return err(msg::NO_KEY),
        Err(e) => return Ok(e),
    };
    let idmp = s.idmp.get_or_insert_with(Idmp::default);
    if let Some(d) = duration {
        idmp.duration_s = d;
    }
    if let Some(m) = max {
        idmp.max_entries = m;
    }
    Ok(Reply::Ok)
}

fn xidmprecord(k: &mut Keyspace, cx: &mut Cx, a: &[&[u8]]) -> CmdResult {
    let Some(id) = parse_id(a[4], 0, true) else {
        return err(msg::STREAM_ID);
    };
    let s = match stream_mut(k.db(cx.db), a[1], cx.clock) {
        Ok(Some(s)) => s,
        Ok(None) => return err(msg::NO_KEY),
        Err(e) => return Ok(e),
    };
    if !s.entries.contains_key(&id) {
        return err("ERR the stream ID does not exist");
    }
    let idmp = s.idmp.get_or_insert_with(Idmp::default);
    let at = match idmp
        .producers
        .binary_search_by(|p| p.pid.as_slice().cmp(a[2]))
    {
        Ok(i) => i,
        Err(i) => {
            idmp.producers.insert(
                i,
                IdmpProducer {
                    pid: a[2].to_vec(),
                    entries: Vec::new(),
                },
            );
            i
        }
    };
    let p = &mut idmp.producers[at];
    if !p.entries.iter().any(|(iid, _)| iid == a[3]) {
        p.entries.push((a[3].to_vec(), id));
    }
    Ok(Reply::Ok)
}

/// Only the rewrite's form: `XNACK key group FAIL IDS n id... RETRYCOUNT count FORCE`.
fn xnack(k: &mut Keyspace, cx: &mut Cx, a: &[&[u8]]) -> CmdResult {
    let unsupported = || {
        Err(CommandError::Unsupported(
            "xnack".into(),
            "only the AOF rewrite's form XNACK key group FAIL IDS n id... RETRYCOUNT count FORCE is modelled".into(),
        ))
    };
    let n = match (is(a[3], "fail"), is(a[4], "ids"), parse_i64(a[5])) {
        (true, true, Some(n)) if n > 0 => n as usize,
        _ => return unsupported(),
    };
    let rest = &a[6..];
    if rest.len() != n + 3 || !is(rest[n], "retrycount") || !is(rest[n + 2], "force") {
        return unsupported();
    }
    let Some(count) = parse_i64(rest[n + 1]).filter(|c| *c >= 0) else {
        return err(msg::NOT_INT);
    };
    let mut ids = Vec::with_capacity(n);
    for b in &rest[..n] {
        match parse_id(b, 0, true) {
            Some(id) => ids.push(id),
            None => return err(msg::STREAM_ID),
        }
    }
    let s = match stream_mut(k.db(cx.db), a[1], cx.clock) {
        Ok(Some(s)) => s,
        Ok(None) => return err(msg::NO_KEY),
        Err(e) => return Ok(e),
    };
    let Some(g) = s.groups.get_mut(a[2]) else {
        return err(format!(
            "NOGROUP No such consumer group '{}' for key name '{}'",
            String::from_utf8_lossy(a[2]),
            String::from_utf8_lossy(a[1])
        ));
    };
    let zone = g.nacked.get_or_insert_with(Vec::new);
    for id in &ids {
        // The entry leaves its owner (if any) and joins the end of the NACK zone, its delivery
        // time zeroed (`pelListInsertNacked`).
        if let Some(old) = g.pel.insert(
            *id,
            Nack {
                consumer: Vec::new(),
                delivery_time: 0,
                delivery_count: count as u64,
            },
        ) {
            if let Some(c) = g.consumers.get_mut(&old.consumer) {
                c.pel.remove(id);
            }
        }
        zone.retain(|z| z != id);
        zone.push(*id);
    }
    Ok(Reply::Int(ids.len() as i64))
}
