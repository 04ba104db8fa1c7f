//! Consumer-group commands: XGROUP, XREADGROUP (non-blocking), XACK, XCLAIM, XAUTOCLAIM.
//! Delivery bookkeeping (last ID, entries_read, PEL, consumer times) follows t_stream.c.

use crate::args::{eq, int, int_in, lower};
use crate::keyspace::{Cmd, Ctx};
use crate::reply::{err, syntax, Reply, Res};
use crate::streams::{entry_reply, incr_id, parse_id, parse_id_ext};
use crate::value::{fmt_id, Consumer, Group, Stream, StreamId};

pub(crate) const COMMANDS: &[Cmd] = &[
    Cmd {
        name: "xgroup",
        arity: -2,
        run: xgroup,
        subs: &[
            ("create", -5),
            ("setid", -5),
            ("destroy", 4),
            ("createconsumer", 5),
            ("delconsumer", 5),
        ],
    },
    crate::keyspace::cmd("xreadgroup", -7, xreadgroup),
    crate::keyspace::cmd("xack", -4, xack),
];

pub(crate) fn text(b: &[u8]) -> String {
    String::from_utf8_lossy(b).into_owned()
}

fn sub_syntax(a: &[Vec<u8>]) -> Reply {
    err(format!(
        "unknown subcommand or wrong number of arguments for '{}'. Try XGROUP HELP.",
        text(&a[1])
    ))
}

/// Creates the consumer if needed and marks it seen, as every group command that names one does.
pub(crate) fn seen(g: &mut Group, name: &[u8], now: i64) {
    g.consumers
        .entry(name.to_vec())
        .or_insert(Consumer {
            seen_time: now,
            active_time: -1,
        })
        .seen_time = now;
}

fn xgroup(cx: &mut Ctx<'_>, a: &[Vec<u8>]) -> Res {
    let sub = lower(&a[1]);
    let (create, setid) = (sub == "create", sub == "setid");
    let (mut mkstream, mut entries_read) = (false, -1);
    let mut i = 5;
    while i < a.len() {
        if create && eq(&a[i], "mkstream") {
            mkstream = true;
            i += 1;
        } else if (create || setid) && eq(&a[i], "entriesread") && i + 1 < a.len() {
            entries_read = int(&a[i + 1])?;
            if entries_read < -1 {
                return Err(err("value for ENTRIESREAD must be positive or -1"));
            }
            i += 2;
        } else {
            return Err(sub_syntax(a));
        }
    }
    let (key, name) = (&a[2], &a[3]);
    cx.check::<Stream>(key)?;
    if !mkstream {
        let Some(s) = cx.get::<Stream>(key)? else {
            return Err(err("The XGROUP subcommand requires the key to exist. Note that for CREATE you may want to use the MKSTREAM option to create an empty stream automatically."));
        };
        if !s.groups.contains_key(name)
            && matches!(sub.as_str(), "setid" | "createconsumer" | "delconsumer")
        {
            return Err(err(format!(
                "-NOGROUP No such consumer group '{}' for key name '{}'",
                text(name),
                text(key)
            )));
        }
    }
    let entries_read = u64::try_from(entries_read).ok();
    let now = cx.now;
    match (sub.as_str(), a.len()) {
        ("create", 5..=8) => {
            let last = cx.get::<Stream>(key)?.map_or((0, 0), |s| s.last_id);
            let id = if a[4] == b"$" { last } else { parse_id(&a[4])? };
            let s = cx.get_or_create::<Stream>(key)?;
            if s.groups.contains_key(name) {
                return Err(err("-BUSYGROUP Consumer Group name already exists"));
            }
            let g = Group {
                last_delivered: id,
                entries_read,
                ..Group::default()
            };
            s.groups.insert(name.clone(), g);
            Ok(Reply::Ok)
        }
        ("setid", 5 | 7) => {
            let s = cx.get::<Stream>(key)?.expect("checked above");
            let id = if a[4] == b"$" {
                s.last_id
            } else {
                parse_id_ext(&a[4], 0, false, false)?.0
            };
            let g = s.groups.get_mut(name).expect("checked above");
            // Without ENTRIESREAD the counter becomes invalid (-1), as in Redis.
            (g.last_delivered, g.entries_read) = (id, entries_read);
            Ok(Reply::Ok)
        }
        ("destroy", 4) => {
            let s = cx.get::<Stream>(key)?.expect("checked above");
            Ok(Reply::Int(i64::from(s.groups.remove(name).is_some())))
        }
        ("createconsumer", 5) => {
            let g = cx
                .get::<Stream>(key)?
                .expect("checked")
                .groups
                .get_mut(name)
                .expect("checked");
            let fresh = !g.consumers.contains_key(&a[4]);
            if fresh {
                g.consumers.insert(
                    a[4].clone(),
                    Consumer {
                        seen_time: now,
                        active_time: -1,
                    },
                );
            }
            Ok(Reply::Int(i64::from(fresh)))
        }
        ("delconsumer", 5) => {
            let g = cx
                .get::<Stream>(key)?
                .expect("checked")
                .groups
                .get_mut(name)
                .expect("checked");
            if g.consumers.remove(&a[4]).is_none() {
                return Ok(Reply::Int(0));
            }
            let before = g.pel.len();
            g.pel.retain(|_, p| p.0 != a[4]);
            Ok(Reply::Int((before - g.pel.len()) as i64))
        }
        _ => Err(sub_syntax(a)),
    }
}

/// `streamRangeHasTombstones` from `start` to the end of the stream.
fn tombstones_after(s: &Stream, start: StreamId) -> bool {
    !s.entries.is_empty() && s.max_deleted_id != (0, 0) && start <= s.max_deleted_id
}

/// `streamEstimateDistanceFromFirstEverEntry`: the logical read counter of `id`, if knowable.
fn estimate_read(s: &Stream, id: StreamId) -> Option<u64> {
    if s.entries_added == 0 {
        return Some(0);
    }
    if s.entries.is_empty() && id <= s.last_id {
        return Some(s.entries_added);
    }
    if id != (0, 0) && id < s.max_deleted_id {
        return None;
    }
    if id == s.last_id {
        return Some(s.entries_added);
    }
    if id > s.last_id {
        return None;
    }
    let (first, len) = (s.first_id(), s.entries.len() as u64);
    if s.max_deleted_id == (0, 0) || s.max_deleted_id < first {
        if id < first {
            return Some(s.entries_added - len);
        }
        if id == first {
            return Some(s.entries_added - len + 1);
        }
    }
    None
}

/// Delivers entries after the group's last ID (the `>` form) and returns them.
fn deliver_new(
    s: &mut Stream,
    group: &[u8],
    consumer: &[u8],
    count: usize,
    noack: bool,
    now: i64,
) -> Vec<Reply> {
    let Some(start) = incr_id(s.groups[group].last_delivered) else {
        return vec![];
    };
    let ids: Vec<StreamId> = s
        .entries
        .range(start..)
        .take(count)
        .map(|(id, _)| *id)
        .collect();
    let mut out = Vec::new();
    for id in ids {
        let g = &s.groups[group];
        if id > g.last_delivered {
            let read = if g.entries_read.is_some() && !tombstones_after(s, g.last_delivered) {
                g.entries_read.map(|n| n + 1)
            } else if s.entries_added != 0 {
                estimate_read(s, id)
            } else {
                g.entries_read
            };
            let g = s.groups.get_mut(group).expect("exists");
            (g.entries_read, g.last_delivered) = (read, id);
        }
        out.push(entry_reply(id, &s.entries[&id]));
        if !noack {
            // A new PEL entry, or one re-owned after XGROUP SETID rewound the group.
            let g = s.groups.get_mut(group).expect("exists");
            g.pel.insert(id, (consumer.to_vec(), now, 1));
            g.consumers
                .get_mut(consumer)
                .expect("created by caller")
                .active_time = now;
        }
    }
    out
}

/// Serves the consumer's own pending entries from `start` (an explicit XREADGROUP ID).
fn deliver_history(
    s: &mut Stream,
    group: &[u8],
    consumer: &[u8],
    start: StreamId,
    count: usize,
    now: i64,
) -> Vec<Reply> {
    let g = s.groups.get_mut(group).expect("exists");
    let mut out = Vec::new();
    for (id, p) in g
        .pel
        .range_mut(start..)
        .filter(|(_, p)| p.0 == consumer)
        .take(count)
    {
        match s.entries.get(id) {
            // A pending entry deleted from the stream comes back as [id, nil].
            None => out.push(Reply::Array(vec![
                Reply::bulk(fmt_id(*id)),
                Reply::NilArray,
            ])),
            Some(fields) => {
                out.push(entry_reply(*id, fields));
                (p.1, p.2) = (now, p.2 + 1);
            }
        }
    }
    out
}

/// XREADGROUP without blocking: BLOCK is accepted, but an empty result is returned at once.
fn xreadgroup(cx: &mut Ctx<'_>, a: &[Vec<u8>]) -> Res {
    let (mut count, mut noack, mut group, mut streams_at) = (0usize, false, None, 0);
    let mut i = 1;
    while i < a.len() {
        let more = a.len() - 1 - i;
        if eq(&a[i], "block") && more > 0 {
            let ms = int_in(
                &a[i + 1],
                i64::MIN,
                i64::MAX,
                Some("timeout is not an integer or out of range"),
            )?;
            if ms < 0 {
                return Err(err("timeout is negative"));
            }
            i += 1;
        } else if eq(&a[i], "count") && more > 0 {
            count = int(&a[i + 1])?.max(0) as usize;
            i += 1;
        } else if eq(&a[i], "streams") && more > 0 {
            streams_at = i + 1;
            if !(a.len() - streams_at).is_multiple_of(2) {
                return Err(err("Unbalanced 'xreadgroup' list of streams: for each stream key an ID or '>' must be specified."));
            }
            break;
        } else if eq(&a[i], "group") && more >= 2 {
            group = Some((a[i + 1].clone(), a[i + 2].clone()));
            i += 2;
        } else if eq(&a[i], "noack") {
            noack = true;
        } else {
            return Err(syntax());
        }
        i += 1;
    }
    if streams_at == 0 {
        return Err(syntax());
    }
    let Some((gname, cname)) = group else {
        return Err(err("Missing GROUP option for XREADGROUP"));
    };
    let n = (a.len() - streams_at) / 2;
    let mut ids = Vec::with_capacity(n);
    for k in 0..n {
        let (key, arg) = (&a[streams_at + k], &a[streams_at + n + k]);
        if !cx
            .get::<Stream>(key)?
            .is_some_and(|s| s.groups.contains_key(&gname))
        {
            return Err(err(format!(
                "-NOGROUP No such key '{}' or consumer group '{}' in XREADGROUP with GROUP option",
                text(key),
                text(&gname)
            )));
        }
        let meaningless = |id: &str| {
            err(format!("The {id} ID is meaningless in the context of XREADGROUP: you want to read the history of this consumer by specifying a proper ID, or use the > ID to get new messages. The {id} ID would just return an empty result set."))
        };
        ids.push(match arg.as_slice() {
            b"$" => return Err(meaningless("$")),
            b"+" => return Err(meaningless("+")),
            b">" => None,
            _ => Some(parse_id(arg)?),
        });
    }
    let (now, limit) = (cx.now, if count == 0 { usize::MAX } else { count });
    let mut served = Vec::new();
    for (k, id) in ids.into_iter().enumerate() {
        let key = &a[streams_at + k];
        let s = cx.get::<Stream>(key)?.expect("checked above");
        seen(s.groups.get_mut(&gname).expect("checked"), &cname, now);
        let entries = match id {
            Some(after) => deliver_history(
                s,
                &gname,
                &cname,
                incr_id(after).unwrap_or((0, 0)),
                limit,
                now,
            ),
            None => {
                let behind = s
                    .entries
                    .last_key_value()
                    .is_some_and(|(top, _)| *top > s.groups[&gname].last_delivered);
                if !behind {
                    continue;
                }
                deliver_new(s, &gname, &cname, limit, noack, now)
            }
        };
        served.push(Reply::Array(vec![
            Reply::bulk(key.clone()),
            Reply::Array(entries),
        ]));
    }
    Ok(if served.is_empty() {
        Reply::NilArray
    } else {
        Reply::Array(served)
    })
}

fn xack(cx: &mut Ctx<'_>, a: &[Vec<u8>]) -> Res {
    let Some(g) = cx
        .get::<Stream>(&a[1])?
        .and_then(|s| s.groups.get_mut(&a[2]))
    else {
        return Ok(Reply::Int(0));
    };
    let ids = a[3..]
        .iter()
        .map(|x| parse_id(x))
        .collect::<Result<Vec<_>, _>>()?;
    Ok(Reply::Int(
        ids.iter().filter(|id| g.pel.remove(id).is_some()).count() as i64,
    ))
}

#[cfg(test)]
pub(crate) mod tests {
    use crate::keyspace::testkit::*;
    use crate::{Consumer, Group, Reply, Stream, Value};

    pub(crate) fn stream(t: &T) -> Stream {
        match &t.ks.dbs[&0][&b"s".to_vec()].value {
            Value::Stream(s) => s.clone(),
            v => panic!("{v:?}"),
        }
    }

    pub(crate) fn group(t: &T) -> Group {
        stream(t).groups[&b"g".to_vec()].clone()
    }

    pub(crate) fn entry(id: &str, fv: &[&str]) -> Reply {
        Reply::Array(vec![b(id), arr(fv)])
    }

    fn read(stream_key: &str, entries: Vec<Reply>) -> Reply {
        Reply::Array(vec![Reply::Array(vec![
            b(stream_key),
            Reply::Array(entries),
        ])])
    }

    pub(crate) fn three(t: &mut T) {
        for n in 1..=3 {
            t.ok(&format!("XADD s {n}-0 f {n}"));
        }
    }

    #[test]
    fn xgroup_lifecycle() {
        let mut t = T::new();
        assert!(
            t.run("XGROUP CREATE s g $").is_error(),
            "key must exist without MKSTREAM"
        );
        assert_eq!(t.run("XGROUP CREATE s g $ MKSTREAM"), Reply::Ok);
        assert_eq!(
            stream(&t).entries.len(),
            0,
            "MKSTREAM makes an empty stream"
        );
        assert_eq!(
            t.run("XGROUP CREATE s g $"),
            e("BUSYGROUP Consumer Group name already exists")
        );
        three(&mut t);
        assert_eq!(t.run("XGROUP CREATE s h $ ENTRIESREAD 3"), Reply::Ok);
        let h = &stream(&t).groups[&b"h".to_vec()];
        assert_eq!((h.last_delivered, h.entries_read), ((3, 0), Some(3)));
        assert_eq!(
            t.run("XGROUP CREATE s x 0 ENTRIESREAD -2"),
            e("ERR value for ENTRIESREAD must be positive or -1")
        );
        assert_eq!(t.run("XGROUP CREATE s x 0 BOGUS"), e("ERR unknown subcommand or wrong number of arguments for 'CREATE'. Try XGROUP HELP."));
        assert_eq!(t.run("XGROUP SETID s g 2"), Reply::Ok);
        assert_eq!(
            (group(&t).last_delivered, group(&t).entries_read),
            ((2, 0), None)
        );
        assert_eq!(
            t.run("XGROUP SETID s nope 0"),
            e("NOGROUP No such consumer group 'nope' for key name 's'")
        );
        assert_eq!(t.run("XGROUP CREATECONSUMER s g alice"), i(1));
        assert_eq!(t.run("XGROUP CREATECONSUMER s g alice"), i(0));
        assert_eq!(
            group(&t).consumers[&b"alice".to_vec()],
            Consumer {
                seen_time: t.now,
                active_time: -1
            }
        );
        assert_eq!(t.run("XGROUP DESTROY s h"), i(1));
        assert_eq!(t.run("XGROUP DESTROY s h"), i(0));
        t.ok("SET str v");
        assert_eq!(t.run("XGROUP CREATE str g $"), e(WRONGTYPE));
    }

    #[test]
    fn readgroup_delivers_new_entries_and_tracks_the_pel() {
        let mut t = T::new();
        three(&mut t);
        t.ok("XGROUP CREATE s g 0");
        let r = t.run("XREADGROUP GROUP g alice COUNT 2 STREAMS s >");
        assert_eq!(
            r,
            read(
                "s",
                vec![entry("1-0", &["f", "1"]), entry("2-0", &["f", "2"])]
            )
        );
        let g = group(&t);
        assert_eq!((g.last_delivered, g.entries_read), ((2, 0), Some(2)));
        assert_eq!(g.pel[&(1, 0)], (b"alice".to_vec(), t.now, 1));
        assert_eq!(
            g.consumers[&b"alice".to_vec()],
            Consumer {
                seen_time: t.now,
                active_time: t.now
            }
        );
        t.now += 10;
        let r = t.run("XREADGROUP GROUP g bob NOACK STREAMS s >");
        assert_eq!(r, read("s", vec![entry("3-0", &["f", "3"])]));
        assert!(
            !group(&t).pel.contains_key(&(3, 0)),
            "NOACK leaves no pending entry"
        );
        assert_eq!(group(&t).consumers[&b"bob".to_vec()].active_time, -1);
        assert_eq!(t.run("XREADGROUP GROUP g bob STREAMS s >"), Reply::NilArray);
        assert_eq!(
            t.run("XREADGROUP GROUP g alice STREAMS s 0"),
            read(
                "s",
                vec![entry("1-0", &["f", "1"]), entry("2-0", &["f", "2"])]
            )
        );
        assert_eq!(
            group(&t).pel[&(2, 0)],
            (b"alice".to_vec(), t.now, 2),
            "history re-delivery counts"
        );
        t.ok("XDEL s 1-0");
        assert_eq!(
            t.run("XREADGROUP GROUP g alice COUNT 1 STREAMS s 0"),
            read("s", vec![Reply::Array(vec![b("1-0"), Reply::NilArray])])
        );
        assert_eq!(
            t.run("XREADGROUP GROUP g carol STREAMS s 0"),
            read("s", vec![])
        );
    }

    #[test]
    fn readgroup_errors() {
        let mut t = T::new();
        three(&mut t);
        t.ok("XGROUP CREATE s g 0");
        assert_eq!(t.run("XREADGROUP GROUP g a STREAMS s $"), e("ERR The $ ID is meaningless in the context of XREADGROUP: you want to read the history of this consumer by specifying a proper ID, or use the > ID to get new messages. The $ ID would just return an empty result set."));
        assert_eq!(
            t.run("XREADGROUP GROUP x a STREAMS s >"),
            e("NOGROUP No such key 's' or consumer group 'x' in XREADGROUP with GROUP option")
        );
        assert_eq!(t.run("XREADGROUP GROUP g a STREAMS s t >"), e("ERR Unbalanced 'xreadgroup' list of streams: for each stream key an ID or '>' must be specified."));
        assert_eq!(
            t.run("XREADGROUP COUNT 1 NOACK STREAMS s >"),
            e("ERR Missing GROUP option for XREADGROUP")
        );
        assert_eq!(
            t.run("XREADGROUP GROUP g a BLOCK -1 STREAMS s >"),
            e("ERR timeout is negative")
        );
    }

    #[test]
    fn entries_read_is_estimated_across_tombstones() {
        let mut t = T::new();
        three(&mut t);
        t.ok("XGROUP CREATE s g 0");
        t.ok("XREADGROUP GROUP g a COUNT 1 STREAMS s >");
        assert_eq!(
            group(&t).entries_read,
            Some(1),
            "estimated from the first entry"
        );
        t.ok("XDEL s 2-0");
        t.ok("XREADGROUP GROUP g a STREAMS s >");
        let g = group(&t);
        assert_eq!(
            (g.last_delivered, g.entries_read),
            ((3, 0), Some(3)),
            "the last ID's counter is exact"
        );
    }

    #[test]
    fn xack_and_delconsumer() {
        let mut t = T::new();
        three(&mut t);
        t.ok("XGROUP CREATE s g 0");
        t.ok("XREADGROUP GROUP g a STREAMS s >");
        assert_eq!(t.run("XACK s g 1-0 1-0 9-0"), i(1));
        assert_eq!(
            t.run("XACK s g x"),
            e("ERR Invalid stream ID specified as stream command argument")
        );
        assert_eq!(
            t.run("XACK s nope x"),
            i(0),
            "no group: nothing to ack, IDs unchecked"
        );
        assert_eq!(t.run("XGROUP DELCONSUMER s g a"), i(2));
        assert!(group(&t).pel.is_empty() && group(&t).consumers.is_empty());
    }
}
