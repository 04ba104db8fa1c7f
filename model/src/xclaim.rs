//! XCLAIM and XAUTOCLAIM: moving pending entries between consumers of a group.
//! Every form AOF propagation emits (IDLE/TIME/RETRYCOUNT/FORCE/JUSTID/LASTID) is modelled.

use crate::args::{eq, int_in};
use crate::keyspace::{cmd, Cmd, Ctx};
use crate::reply::{err, syntax, Reply, Res};
use crate::streams::{entry_reply, incr_id, parse_bound, parse_id};
use crate::value::{fmt_id, Stream, StreamId};
use crate::xgroups::{seen, text};

pub(crate) const COMMANDS: &[Cmd] = &[cmd("xclaim", -6, xclaim), cmd("xautoclaim", -6, xautoclaim)];

fn no_group(a: &[Vec<u8>]) -> Reply {
    err(format!(
        "-NOGROUP No such key '{}' or consumer group '{}'",
        text(&a[1]),
        text(&a[2])
    ))
}

/// XCLAIM in every form AOF propagation uses (IDLE/TIME/RETRYCOUNT/FORCE/JUSTID/LASTID).
fn xclaim(cx: &mut Ctx<'_>, a: &[Vec<u8>]) -> Res {
    if !cx
        .get::<Stream>(&a[1])?
        .is_some_and(|s| s.groups.contains_key(&a[2]))
    {
        return Err(no_group(a));
    }
    let now = cx.now;
    let min_idle = int_in(
        &a[4],
        i64::MIN,
        i64::MAX,
        Some("Invalid min-idle-time argument for XCLAIM"),
    )?
    .max(0);
    let mut j = 5;
    let mut ids = Vec::new();
    while let Some(id) = a.get(j).and_then(|x| parse_id(x).ok()) {
        ids.push(id);
        j += 1;
    }
    let (mut force, mut justid, mut time, mut retry, mut last_id) =
        (false, false, None, -1, (0, 0));
    while j < a.len() {
        let (opt, more) = (&a[j], a.len() - 1 - j);
        let num = |what: &str| {
            int_in(
                &a[j + 1],
                i64::MIN,
                i64::MAX,
                Some(&format!("Invalid {what} option argument for XCLAIM")),
            )
        };
        if eq(opt, "force") {
            force = true;
        } else if eq(opt, "justid") {
            justid = true;
        } else if eq(opt, "idle") && more > 0 {
            time = Some(now.saturating_sub(num("IDLE")?));
            j += 1;
        } else if eq(opt, "time") && more > 0 {
            time = Some(num("TIME")?);
            j += 1;
        } else if eq(opt, "retrycount") && more > 0 {
            retry = num("RETRYCOUNT")?;
            j += 1;
        } else if eq(opt, "lastid") && more > 0 {
            last_id = parse_id(&a[j + 1])?;
            j += 1;
        } else {
            return Err(err(format!("Unrecognized XCLAIM option '{}'", text(opt))));
        }
        j += 1;
    }
    // A bogus delivery time (negative or in the future) silently becomes now.
    let time = time.filter(|t| (0..=now).contains(t)).unwrap_or(now);
    let s = cx.get::<Stream>(&a[1])?.expect("checked above");
    let g = s.groups.get_mut(&a[2]).expect("checked above");
    g.last_delivered = g.last_delivered.max(last_id);
    seen(g, &a[3], now);
    let mut out = Vec::new();
    for id in ids {
        let Some(fields) = s.entries.get(&id) else {
            g.pel.remove(&id); // the entry is gone, so is its pending record
            continue;
        };
        let fresh = force && !g.pel.contains_key(&id);
        if fresh {
            g.pel.insert(id, (Vec::new(), now, 1));
        }
        let Some(p) = g.pel.get_mut(&id) else {
            continue;
        };
        if !fresh && min_idle > 0 && now - p.1 < min_idle {
            continue;
        }
        p.1 = time;
        if retry >= 0 {
            p.2 = retry as u64;
        } else if !justid {
            p.2 += 1;
        }
        p.0 = a[3].clone();
        out.push(if justid {
            Reply::bulk(fmt_id(id))
        } else {
            entry_reply(id, fields)
        });
        g.consumers.get_mut(&a[3]).expect("seen").active_time = now;
    }
    Ok(Reply::Array(out))
}

fn xautoclaim(cx: &mut Ctx<'_>, a: &[Vec<u8>]) -> Res {
    let now = cx.now;
    let min_idle = int_in(
        &a[4],
        i64::MIN,
        i64::MAX,
        Some("Invalid min-idle-time argument for XAUTOCLAIM"),
    )?
    .max(0);
    let (start, ex) = parse_bound(&a[5], 0)?;
    let start = if ex {
        incr_id(start).ok_or_else(|| err("invalid start ID for the interval"))?
    } else {
        start
    };
    let (mut count, mut justid) = (100i64, false);
    let mut j = 6;
    while j < a.len() {
        if eq(&a[j], "count") && j + 1 < a.len() {
            count = int_in(&a[j + 1], 1, i64::MAX / 16, Some("COUNT must be > 0"))?;
            j += 1;
        } else if eq(&a[j], "justid") {
            justid = true;
        } else {
            return Err(syntax());
        }
        j += 1;
    }
    if !cx
        .get::<Stream>(&a[1])?
        .is_some_and(|s| s.groups.contains_key(&a[2]))
    {
        return Err(no_group(a));
    }
    let s = cx.get::<Stream>(&a[1])?.expect("checked above");
    let g = s.groups.get_mut(&a[2]).expect("checked above");
    seen(g, &a[3], now);
    let (mut attempts, mut claimed, mut deleted, mut last) =
        (count * 10, Vec::new(), Vec::new(), None);
    let candidates: Vec<StreamId> = g.pel.range(start..).map(|(id, _)| *id).collect();
    for id in candidates {
        if attempts == 0 || count == 0 {
            break;
        }
        attempts -= 1;
        last = Some(id);
        let Some(fields) = s.entries.get(&id) else {
            g.pel.remove(&id);
            deleted.push(Reply::bulk(fmt_id(id)));
            count -= 1;
            continue;
        };
        let p = g.pel.get_mut(&id).expect("listed above");
        if min_idle > 0 && now - p.1 < min_idle {
            continue;
        }
        (p.0, p.1) = (a[3].clone(), now);
        if !justid {
            p.2 += 1;
        }
        claimed.push(if justid {
            Reply::bulk(fmt_id(id))
        } else {
            entry_reply(id, fields)
        });
        count -= 1;
        g.consumers.get_mut(&a[3]).expect("seen").active_time = now;
    }
    // The cursor is the next pending ID after the last one examined, or 0-0 at the end.
    let next = last
        .and_then(incr_id)
        .and_then(|n| g.pel.range(n..).next().map(|(id, _)| *id));
    let cursor = next.unwrap_or((0, 0));
    Ok(Reply::Array(vec![
        Reply::bulk(fmt_id(cursor)),
        Reply::Array(claimed),
        Reply::Array(deleted),
    ]))
}

#[cfg(test)]
mod tests {
    use crate::keyspace::testkit::*;
    use crate::xgroups::tests::{entry, group, three};
    use crate::Reply;

    #[test]
    fn xclaim_forms() {
        let mut t = T::new();
        three(&mut t);
        t.ok("XGROUP CREATE s g 0");
        t.ok("XREADGROUP GROUP g a STREAMS s >");
        t.now += 100;
        assert_eq!(
            t.run("XCLAIM s g b 200 1-0"),
            arr(&[]),
            "not idle long enough"
        );
        assert_eq!(
            t.run("XCLAIM s g b 50 1-0"),
            Reply::Array(vec![entry("1-0", &["f", "1"])])
        );
        assert_eq!(group(&t).pel[&(1, 0)], (b"b".to_vec(), t.now, 2));
        assert_eq!(
            t.run("XCLAIM s g c 0 2-0 IDLE 30 RETRYCOUNT 7 JUSTID"),
            arr(&["2-0"])
        );
        assert_eq!(group(&t).pel[&(2, 0)], (b"c".to_vec(), t.now - 30, 7));
        assert_eq!(t.run("XCLAIM s g c 0 3-0 TIME 5 JUSTID"), arr(&["3-0"]));
        assert_eq!(
            group(&t).pel[&(3, 0)],
            (b"c".to_vec(), 5, 1),
            "JUSTID does not count a delivery"
        );
        t.ok("XACK s g 3-0");
        assert_eq!(
            t.run("XCLAIM s g c 0 3-0 FORCE LASTID 9-0"),
            Reply::Array(vec![entry("3-0", &["f", "3"])])
        );
        assert_eq!(
            group(&t).pel[&(3, 0)],
            (b"c".to_vec(), t.now, 2),
            "FORCE creates, then the claim counts"
        );
        assert_eq!(group(&t).last_delivered, (9, 0));
        t.ok("XDEL s 3-0");
        assert_eq!(t.run("XCLAIM s g c 0 3-0"), arr(&[]));
        assert!(
            !group(&t).pel.contains_key(&(3, 0)),
            "claiming a deleted entry drops its PEL record"
        );
        assert_eq!(
            t.run("XCLAIM s g c 0 1-0 BOGUS"),
            e("ERR Unrecognized XCLAIM option 'BOGUS'")
        );
        assert_eq!(
            t.run("XCLAIM s nope c 0 1-0"),
            e("NOGROUP No such key 's' or consumer group 'nope'")
        );
        assert_eq!(
            t.run("XCLAIM s g c x 1-0"),
            e("ERR Invalid min-idle-time argument for XCLAIM")
        );
    }

    #[test]
    fn xautoclaim_pages_and_reports_deleted_ids() {
        let mut t = T::new();
        three(&mut t);
        t.ok("XADD s 4-0 f 4");
        t.ok("XGROUP CREATE s g 0");
        t.ok("XREADGROUP GROUP g a STREAMS s >");
        t.ok("XDEL s 2-0");
        t.now += 100;
        let r = t.run("XAUTOCLAIM s g b 10 0 COUNT 2");
        assert_eq!(
            r,
            Reply::Array(vec![
                b("3-0"),
                Reply::Array(vec![entry("1-0", &["f", "1"])]),
                arr(&["2-0"])
            ])
        );
        let r = t.run("XAUTOCLAIM s g b 10 (2-0 JUSTID");
        assert_eq!(
            r,
            Reply::Array(vec![b("0-0"), arr(&["3-0", "4-0"]), arr(&[])])
        );
        assert_eq!(group(&t).pel[&(4, 0)], (b"b".to_vec(), t.now, 1));
        assert_eq!(
            t.run("XAUTOCLAIM s g b 10 0 COUNT 0"),
            e("ERR COUNT must be > 0")
        );
        assert_eq!(
            t.run("XAUTOCLAIM s x b 10 0"),
            e("NOGROUP No such key 's' or consumer group 'x'")
        );
    }
}
