//! Consumer groups: XGROUP (CREATE/SETID with ENTRIESREAD, DESTROY, CREATECONSUMER, DELCONSUMER),
//! XACK and XREADGROUP (never blocking), keeping PEL, read counters and consumer times.
//!
//! As Redis 7.2+ does: `seen_time` on every interaction, `active_time` when something is
//! delivered or claimed (claims are in `stream_claims`). The only clock is the command's `now_ms`.
use super::args::{is, parse_i64, text};
use super::reply::{err, msg, CmdResult, CommandError, Reply};
use super::stream_type::{incr_id, parse_id, GroupObj, StreamObj};
use super::streams::{entry_reply, stream_mut};
use super::{arity_ok, spec, Cx, Keyspace, Spec};
use crate::dataset::StreamId;

pub(crate) const COMMANDS: &[Spec] = &[
    spec("xgroup", -2, xgroup),
    spec("xack", -4, xack),
    spec("xreadgroup", -7, xreadgroup),
];

/// XGROUP <sub> key group ... (`xgroupCommand`).
fn xgroup(k: &mut Keyspace, cx: &mut Cx, a: &[&[u8]]) -> CmdResult {
    let sub = a[1].to_ascii_lowercase();
    let arity = match sub.as_slice() {
        b"create" | b"setid" => -5,
        b"destroy" => 4,
        b"createconsumer" | b"delconsumer" => 5,
        _ => {
            return err(format!(
                "ERR unknown subcommand '{}'. Try XGROUP HELP.",
                text(a[1])
            ))
        }
    };
    if !arity_ok(arity, a.len()) {
        return Err(CommandError::WrongArity(format!("xgroup|{}", text(&sub))));
    }
    let sub_err = || {
        Reply::Error(format!(
            "ERR unknown subcommand or wrong number of arguments for '{}'. Try XGROUP HELP.",
            text(a[1])
        ))
    };
    let (create, setid) = (sub == b"create", sub == b"setid");
    let (mut mkstream, mut entries_read): (bool, Option<u64>) = (false, None);
    let mut i = 5;
    while i < a.len() {
        if create && is(a[i], "mkstream") {
            mkstream = true;
            i += 1;
        } else if (create || setid) && is(a[i], "entriesread") && i + 1 < a.len() {
            match parse_i64(a[i + 1]) {
                Some(-1) => entries_read = None,
                Some(n) if n >= 0 => entries_read = Some(n as u64),
                Some(_) => return err("ERR value for ENTRIESREAD must be positive or -1"),
                None => return err(msg::NOT_INT),
            }
            i += 2;
        } else {
            return Ok(sub_err());
        }
    }
    if (create && a.len() > 8) || (setid && a.len() != 5 && a.len() != 7) {
        return Ok(sub_err());
    }
    let db = k.db(cx.db);
    if create && mkstream && matches!(stream_mut(db, a[2], cx.clock), Ok(None)) {
        // Parse the ID first: a bad ID must not leave an empty stream behind.
        if a[4] != b"$" && parse_id(a[4], 0, true).is_none() {
            return err(msg::STREAM_ID);
        }
        let fresh = StreamObj {
            first_id: Some(StreamId::default()),
            max_deleted: Some(StreamId::default()),
            entries_added: Some(0),
            ..StreamObj::default()
        };
        db.put(
            a[2],
            super::db::Slot::new(super::db::Obj::Stream(Box::new(fresh))),
        );
    }
    let s = match stream_mut(db, a[2], cx.clock) {
        Ok(Some(s)) => s,
        Ok(None) => {
            return err("ERR The XGROUP subcommand requires the key to exist. Note that for CREATE you may want to use the MKSTREAM option to create an empty stream automatically.")
        }
        Err(e) => return Ok(e),
    };
    let group = a[3];
    if !create && sub != b"destroy" && !s.groups.contains_key(group) {
        return err(format!(
            "NOGROUP No such consumer group '{}' for key name '{}'",
            text(group),
            text(a[2])
        ));
    }
    match sub.as_slice() {
        b"create" => {
            let id = if a[4] == b"$" {
                s.last_id
            } else {
                match parse_id(a[4], 0, true) {
                    Some(id) => id,
                    None => return err(msg::STREAM_ID),
                }
            };
            if s.groups.contains_key(group) {
                return err("BUSYGROUP Consumer Group name already exists");
            }
            s.groups.insert(
                group.to_vec(),
                GroupObj {
                    last_id: id,
                    entries_read,
                    ..GroupObj::default()
                },
            );
            Ok(Reply::Ok)
        }
        b"setid" => {
            let id = if a[4] == b"$" {
                s.last_id
            } else {
                match parse_id(a[4], 0, false) {
                    Some(id) => id,
                    None => return err(msg::STREAM_ID),
                }
            };
            let g = s.groups.get_mut(group).expect("checked above");
            g.last_id = id;
            g.entries_read = entries_read;
            Ok(Reply::Ok)
        }
        b"destroy" => Ok(Reply::Int(s.groups.remove(group).is_some() as i64)),
        b"createconsumer" => {
            let g = s.groups.get_mut(group).expect("checked above");
            if g.consumers.contains_key(a[4]) {
                return Ok(Reply::Int(0));
            }
            g.consumer(a[4], cx.now);
            Ok(Reply::Int(1))
        }
        _ => {
            let g = s.groups.get_mut(group).expect("checked above");
            let Some(c) = g.consumers.remove(a[4]) else {
                return Ok(Reply::Int(0));
            };
            for id in &c.pel {
                g.pel.remove(id);
            }
            Ok(Reply::Int(c.pel.len() as i64))
        }
    }
}

/// XACK key group id...: replies with the number of pending entries removed.
fn xack(k: &mut Keyspace, cx: &mut Cx, a: &[&[u8]]) -> CmdResult {
    let s = match stream_mut(k.db(cx.db), a[1], cx.clock) {
        Ok(Some(s)) => s,
        Ok(None) => return Ok(Reply::Int(0)),
        Err(e) => return Ok(e),
    };
    let Some(g) = s.groups.get_mut(a[2]) else {
        return Ok(Reply::Int(0));
    };
    let mut ids = Vec::with_capacity(a.len() - 3);
    for arg in &a[3..] {
        match parse_id(arg, 0, true) {
            Some(id) => ids.push(id),
            None => return err(msg::STREAM_ID),
        }
    }
    Ok(Reply::Int(
        ids.into_iter().filter(|id| g.unpend(*id).is_some()).count() as i64,
    ))
}

/// Serves new entries to a consumer (`streamReplyWithRange` with a group).
fn serve_new(
    s: &mut StreamObj,
    group: &[u8],
    consumer: &[u8],
    count: usize,
    noack: bool,
    now: i64,
) -> Vec<Reply> {
    let from = s.groups[group].last_id;
    let Some(start) = incr_id(from) else {
        return vec![];
    };
    let ids: Vec<StreamId> = s
        .entries
        .range(start..)
        .take(count)
        .map(|(id, _)| *id)
        .collect();
    let mut out = Vec::with_capacity(ids.len());
    for id in ids {
        let g_last = s.groups[group].last_id;
        let g_read = s.groups[group].entries_read;
        if id > g_last {
            let read = match g_read {
                Some(r) if !s.tombstones_after(g_last) => Some(r + 1),
                _ if s.added() > 0 => s.estimate_read(id),
                r => r,
            };
            let g = s.groups.get_mut(group).expect("exists");
            g.entries_read = read;
            g.last_id = id;
        }
        out.push(entry_reply(id, &s.entries[&id]));
        if !noack {
            let g = s.groups.get_mut(group).expect("exists");
            GroupObj::assign(g, id, consumer, now, 1);
            if let Some(c) = g.consumers.get_mut(consumer) {
                c.active_time = Some(now);
            }
        }
    }
    out
}

/// Serves a consumer's own pending entries from `start` (`streamReplyWithRangeFromConsumerPEL`).
fn serve_history(
    s: &mut StreamObj,
    group: &[u8],
    consumer: &[u8],
    start: StreamId,
    count: usize,
    now: i64,
) -> Vec<Reply> {
    let ids: Vec<StreamId> = s.groups[group].consumers[consumer]
        .pel
        .range(start..)
        .take(count)
        .copied()
        .collect();
    let g = s.groups.get_mut(group).expect("exists");
    ids.into_iter()
        .map(|id| match s.entries.get(&id) {
            Some(f) => {
                if let Some(n) = g.pel.get_mut(&id) {
                    n.delivery_time = now;
                    n.delivery_count += 1;
                }
                entry_reply(id, f)
            }
            None => Reply::Array(vec![Reply::Bulk(id.to_string().into_bytes()), Reply::Nil]),
        })
        .collect()
}

/// XREADGROUP GROUP g c [COUNT n] [BLOCK ms] [NOACK] STREAMS key... id...: served at once;
/// BLOCK never waits (nothing to serve gives a nil reply).
fn xreadgroup(k: &mut Keyspace, cx: &mut Cx, a: &[&[u8]]) -> CmdResult {
    let (mut count, mut noack, mut group, mut streams_at) = (0usize, false, None, None);
    let mut i = 1;
    while i < a.len() {
        let more = a.len() - 1 - i;
        if is(a[i], "block") && more > 0 {
            i += 1;
        } else if is(a[i], "count") && more > 0 {
            i += 1;
            match parse_i64(a[i]) {
                Some(n) => count = n.max(0) as usize,
                None => return err(msg::NOT_INT),
            }
        } else if is(a[i], "streams") && more > 0 {
            streams_at = Some(i + 1);
            break;
        } else if is(a[i], "group") && more >= 2 {
            group = Some((a[i + 1], a[i + 2]));
            i += 2;
        } else if is(a[i], "noack") {
            noack = true;
        } else {
            return err(msg::SYNTAX);
        }
        i += 1;
    }
    let Some(at) = streams_at else {
        return err(msg::SYNTAX);
    };
    if !(a.len() - at).is_multiple_of(2) {
        return err("ERR Unbalanced 'xreadgroup' list of streams: for each stream key an ID or '>' must be specified.");
    }
    let Some((gname, cname)) = group else {
        return err("ERR Missing GROUP option for XREADGROUP");
    };
    let n = (a.len() - at) / 2;
    let (keys, ids) = (&a[at..at + n], &a[at + n..]);
    let mut starts = Vec::with_capacity(n);
    for (key, id) in keys.iter().zip(ids) {
        match stream_mut(k.db(cx.db), key, cx.clock) {
            Ok(Some(s)) if s.groups.contains_key(gname) => {}
            Err(e) => return Ok(e),
            _ => {
                return err(format!(
                "NOGROUP No such key '{}' or consumer group '{}' in XREADGROUP with GROUP option",
                text(key),
                text(gname)
            ))
            }
        }
        starts.push(match *id {
            b">" => None,
            b"$" | b"+" => return err(format!("ERR The {} ID is meaningless in the context of XREADGROUP: you want to read the history of this consumer by specifying a proper ID, or use the > ID to get new messages. The {} ID would just return an empty result set.", text(id), text(id))),
            _ => match parse_id(id, 0, true) {
                Some(id) => Some(id),
                None => return err(msg::STREAM_ID),
            },
        });
    }
    let limit = if count == 0 { usize::MAX } else { count };
    let mut out = Vec::new();
    for (key, start) in keys.iter().zip(starts) {
        let Ok(Some(s)) = stream_mut(k.db(cx.db), key, cx.clock) else {
            continue;
        };
        let g = s.groups.get_mut(gname).expect("checked");
        g.consumer(cname, cx.now).seen_time = cx.now;
        let served = match start {
            Some(id) => Some(serve_history(
                s,
                gname,
                cname,
                incr_id(id).unwrap_or(id),
                limit,
                cx.now,
            )),
            None => {
                let pending_new = s
                    .entries
                    .keys()
                    .next_back()
                    .is_some_and(|top| *top > s.groups[gname].last_id);
                pending_new.then(|| serve_new(s, gname, cname, limit, noack, cx.now))
            }
        };
        if let Some(entries) = served {
            out.push(Reply::Array(vec![Reply::bulk(key), Reply::Array(entries)]));
        }
    }
    Ok(if out.is_empty() {
        Reply::Nil
    } else {
        Reply::Array(out)
    })
}
