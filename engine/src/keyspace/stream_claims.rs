//! Claiming pending entries: XCLAIM (including the propagated `TIME/RETRYCOUNT/FORCE/JUSTID/LASTID`
//! form every rewrite and XREADGROUP propagation uses) and XAUTOCLAIM, with Redis's clock rules.
use super::args::{is, parse_i64, text};
use super::reply::{err, msg, CmdResult, Reply};
use super::stream_type::{incr_id, parse_id, GroupObj, StreamObj};
use super::streams::{entry_reply, stream_mut};
use super::{spec, Cx, Keyspace, Spec};
use crate::dataset::StreamId;

pub(crate) const COMMANDS: &[Spec] = &[
    spec("xclaim", -6, xclaim),
    spec("xautoclaim", -6, xautoclaim),
];

fn no_group(key: &[u8], group: &[u8]) -> CmdResult {
    err(format!(
        "NOGROUP No such key '{}' or consumer group '{}'",
        text(key),
        text(group)
    ))
}

/// The stream and group a claim-like command works on, or its error reply.
fn stream_and_group<'a>(
    k: &'a mut Keyspace,
    cx: &Cx,
    key: &[u8],
    group: &[u8],
) -> Result<&'a mut StreamObj, CmdResult> {
    match stream_mut(k.db(cx.db), key, cx.clock) {
        Ok(Some(s)) if s.groups.contains_key(group) => Ok(s),
        Ok(_) => Err(no_group(key, group)),
        Err(e) => Err(Ok(e)),
    }
}

/// XCLAIM key group consumer min-idle id... [IDLE ms] [TIME ms] [RETRYCOUNT n] [FORCE] [JUSTID]
/// [LASTID id]. A delivery time in the future (or negative) becomes now, as in Redis.
fn xclaim(k: &mut Keyspace, cx: &mut Cx, a: &[&[u8]]) -> CmdResult {
    let now = cx.now;
    let s = match stream_and_group(k, cx, a[1], a[2]) {
        Ok(s) => s,
        Err(r) => return r,
    };
    let Some(minidle) = parse_i64(a[4]) else {
        return err("ERR Invalid min-idle-time argument for XCLAIM");
    };
    let minidle = minidle.max(0);
    let mut ids = Vec::new();
    let mut j = 5;
    while j < a.len() {
        match parse_id(a[j], 0, true) {
            Some(id) => ids.push(id),
            None => break,
        }
        j += 1;
    }
    let (mut force, mut justid, mut delivery, mut retry, mut lastid) =
        (false, false, None, None, StreamId::default());
    while j < a.len() {
        let more = a.len() - 1 - j;
        let int = |b: &[u8], what: &str| {
            parse_i64(b).ok_or_else(|| {
                Reply::Error(format!("ERR Invalid {what} option argument for XCLAIM"))
            })
        };
        match () {
            _ if is(a[j], "force") => force = true,
            _ if is(a[j], "justid") => justid = true,
            _ if is(a[j], "idle") && more > 0 => {
                j += 1;
                match int(a[j], "IDLE") {
                    Ok(v) => delivery = Some(now - v),
                    Err(e) => return Ok(e),
                }
            }
            _ if is(a[j], "time") && more > 0 => {
                j += 1;
                match int(a[j], "TIME") {
                    Ok(v) => delivery = Some(v),
                    Err(e) => return Ok(e),
                }
            }
            _ if is(a[j], "retrycount") && more > 0 => {
                j += 1;
                match int(a[j], "RETRYCOUNT") {
                    Ok(v) => retry = Some(v),
                    Err(e) => return Ok(e),
                }
            }
            _ if is(a[j], "lastid") && more > 0 => {
                j += 1;
                match parse_id(a[j], 0, true) {
                    Some(id) => lastid = id,
                    None => return err(msg::STREAM_ID),
                }
            }
            _ => return err(format!("ERR Unrecognized XCLAIM option '{}'", text(a[j]))),
        }
        j += 1;
    }
    let exists: Vec<bool> = ids.iter().map(|id| s.entries.contains_key(id)).collect();
    let g = s.groups.get_mut(a[2]).expect("checked");
    if lastid > g.last_id {
        g.last_id = lastid;
    }
    let delivery = match delivery {
        Some(t) if t >= 0 && t <= now => t,
        _ => now,
    };
    g.consumer(a[3], now).seen_time = now;
    let mut out = Vec::new();
    for (id, exists) in ids.into_iter().zip(exists) {
        if !exists {
            g.unpend(id);
            continue;
        }
        let (count, owner) = match g.pel.get(&id) {
            Some(n) => (
                n.delivery_count,
                Some((n.consumer.clone(), n.delivery_time)),
            ),
            None if force => (1, None),
            None => continue,
        };
        if let Some((_, t)) = &owner {
            if minidle > 0 && now - t < minidle {
                continue;
            }
        }
        let count = match retry {
            Some(r) if r >= 0 => r as u64,
            _ if !justid => count + 1,
            _ => count,
        };
        GroupObj::assign(g, id, a[3], delivery, count);
        if let Some(c) = g.consumers.get_mut(a[3]) {
            c.active_time = Some(now);
        }
        out.push(id);
    }
    Ok(Reply::Array(
        out.into_iter()
            .map(|id| {
                if justid {
                    Reply::Bulk(id.to_string().into_bytes())
                } else {
                    entry_reply(id, &s.entries[&id])
                }
            })
            .collect(),
    ))
}

/// XAUTOCLAIM key group consumer min-idle start [COUNT n] [JUSTID]: `[next, claimed, deleted]`.
fn xautoclaim(k: &mut Keyspace, cx: &mut Cx, a: &[&[u8]]) -> CmdResult {
    let now = cx.now;
    let Some(minidle) = parse_i64(a[4]) else {
        return err("ERR Invalid min-idle-time argument for XAUTOCLAIM");
    };
    let minidle = minidle.max(0);
    let start = match a[5].strip_prefix(b"(") {
        Some(rest) => match parse_id(rest, 0, true).map(incr_id) {
            Some(Some(id)) => id,
            Some(None) => return err("ERR invalid start ID for the interval"),
            None => return err(msg::STREAM_ID),
        },
        None => match parse_id(a[5], 0, false) {
            Some(id) => id,
            None => return err(msg::STREAM_ID),
        },
    };
    let (mut count, mut justid) = (100usize, false);
    let mut j = 6;
    while j < a.len() {
        if is(a[j], "count") && j + 1 < a.len() {
            match parse_i64(a[j + 1]) {
                Some(n) if (1..=i64::MAX / 16).contains(&n) => count = n as usize,
                _ => return err("ERR COUNT must be > 0"),
            }
            j += 1;
        } else if is(a[j], "justid") {
            justid = true;
        } else {
            return err(msg::SYNTAX);
        }
        j += 1;
    }
    let s = match stream_and_group(k, cx, a[1], a[2]) {
        Ok(s) => s,
        Err(r) => return r,
    };
    let g = s.groups.get_mut(a[2]).expect("checked");
    g.consumer(a[3], now).seen_time = now;
    let mut attempts = count.saturating_mul(10);
    let (mut claimed, mut deleted) = (Vec::new(), Vec::new());
    let mut cursor = start;
    let mut next = StreamId::default();
    while let Some((&id, nack)) = g.pel.range(cursor..).next() {
        if attempts == 0 || count == 0 {
            next = id;
            break;
        }
        attempts -= 1;
        let (t, c) = (nack.delivery_time, nack.delivery_count);
        cursor = match incr_id(id) {
            Some(n) => n,
            None => StreamId {
                ms: u64::MAX,
                seq: u64::MAX,
            },
        };
        if !s.entries.contains_key(&id) {
            g.unpend(id);
            deleted.push(id);
            count -= 1;
        } else if minidle == 0 || now - t >= minidle {
            GroupObj::assign(g, id, a[3], now, if justid { c } else { c + 1 });
            if let Some(cons) = g.consumers.get_mut(a[3]) {
                cons.active_time = Some(now);
            }
            claimed.push(id);
            count -= 1;
        }
        if id
            == (StreamId {
                ms: u64::MAX,
                seq: u64::MAX,
            })
        {
            break;
        }
    }
    let ids = |v: Vec<StreamId>| {
        Reply::Array(
            v.into_iter()
                .map(|id| Reply::Bulk(id.to_string().into_bytes()))
                .collect(),
        )
    };
    let claimed_reply = if justid {
        ids(claimed)
    } else {
        Reply::Array(
            claimed
                .into_iter()
                .map(|id| entry_reply(id, &s.entries[&id]))
                .collect(),
        )
    };
    Ok(Reply::Array(vec![
        Reply::Bulk(next.to_string().into_bytes()),
        claimed_reply,
        ids(deleted),
    ]))
}
