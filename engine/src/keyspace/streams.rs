//! Stream entry commands: XADD (explicit, `*`, `ms-*`, NOMKSTREAM, MAXLEN/MINID with `=`/`~` and
//! LIMIT), XTRIM, XDEL, XSETID (ENTRIESADDED, MAXDELETEDID), and the reads XLEN/XRANGE/XREVRANGE.
use super::args::{is, parse_i64};
use super::db::{Db, Obj, Slot};
use super::reply::{arity_reply, err, msg, CmdResult, Reply};
use super::stream_type::{decr_id, incr_id, parse_id, Fields, NodeLimits, StreamObj};
use super::{readonly, spec, Cx, Keyspace, Spec};
use crate::dataset::StreamId;

pub(crate) const COMMANDS: &[Spec] = &[
    spec("xadd", -5, xadd),
    spec("xtrim", -4, xtrim),
    spec("xdel", -3, xdel),
    spec("xsetid", -3, xsetid),
    readonly("xlen", 2, xlen),
    readonly("xrange", -4, xrange),
    readonly("xrevrange", -4, xrevrange),
];

/// The stream at `key` (metadata materialised for modification): `Ok(None)` when absent.
pub(crate) fn stream_mut<'a>(
    db: &'a mut Db,
    key: &[u8],
    clock: Option<i64>,
) -> Result<Option<&'a mut StreamObj>, Reply> {
    match db.get(key, clock) {
        None => Ok(None),
        Some(Slot {
            obj: Obj::Stream(s),
            ..
        }) => {
            s.materialize();
            Ok(Some(s))
        }
        Some(_) => Err(Reply::Error(msg::WRONGTYPE.into())),
    }
}

/// The node limits of the configuration.
pub(crate) fn node_limits(k: &Keyspace) -> NodeLimits {
    NodeLimits {
        max_entries: k.cfg.stream_node_max_entries,
        max_bytes: k.cfg.stream_node_max_bytes,
    }
}

/// Parsed XADD/XTRIM options (`streamAddTrimArgs`).
#[derive(Default)]
struct TrimArgs {
    /// `Ok(maxlen)` or `Err(minid)`.
    strat: Option<Result<u64, StreamId>>,
    approx: bool,
    limit: Option<u64>,
    nomkstream: bool,
    /// XADD's ID: `(id, seq_given)`; `None` for `*`.
    id: Option<(StreamId, bool)>,
}

/// `streamParseAddOrTrimArgsOrReply`: returns the options and the index of XADD's ID.
fn parse_trim(
    a: &[&[u8]],
    xadd: bool,
    loading: bool,
    node_max: u64,
) -> Result<(TrimArgs, usize), Reply> {
    let syntax = |m: &str| Reply::Error(m.into());
    let mut t = TrimArgs::default();
    let mut i = 2;
    while i < a.len() {
        let more = a.len() - 1 - i;
        let opt = a[i];
        if xadd && opt == b"*" {
            break;
        } else if (is(opt, "maxlen") || is(opt, "minid")) && more > 0 {
            if t.strat.is_some() {
                return Err(syntax("ERR syntax error, MAXLEN and MINID options at the same time are not compatible"));
            }
            t.approx = false;
            if more >= 2 && (a[i + 1] == b"~" || a[i + 1] == b"=") {
                t.approx = a[i + 1] == b"~";
                i += 1;
            }
            let arg = a[i + 1];
            t.strat = Some(if is(opt, "maxlen") {
                match parse_i64(arg) {
                    Some(n) if n >= 0 => Ok(n as u64),
                    Some(_) => return Err(syntax("ERR The MAXLEN argument must be >= 0.")),
                    None => return Err(syntax(msg::NOT_INT)),
                }
            } else {
                Err(parse_id(arg, 0, true).ok_or_else(|| syntax(msg::STREAM_ID))?)
            });
            i += 1;
        } else if is(opt, "limit") && more > 0 {
            match parse_i64(a[i + 1]) {
                Some(n) if n >= 0 => t.limit = Some(n as u64),
                Some(_) => return Err(syntax("ERR The LIMIT argument must be >= 0.")),
                None => return Err(syntax(msg::NOT_INT)),
            }
            i += 1;
        } else if xadd && is(opt, "nomkstream") {
            t.nomkstream = true;
        } else if xadd {
            let (id, seq_given) = match opt.strip_suffix(b"-*") {
                Some(ms) => (parse_id(ms, 0, true).filter(|_| !ms.contains(&b'-')), false),
                None => (parse_id(opt, 0, true), true),
            };
            t.id = Some((id.ok_or_else(|| syntax(msg::STREAM_ID))?, seq_given));
            break;
        } else {
            return Err(syntax(msg::SYNTAX));
        }
        i += 1;
    }
    if t.limit.is_some_and(|l| l > 0) && t.strat.is_none() {
        return Err(syntax(
            "ERR syntax error, LIMIT cannot be used without specifying a trimming strategy",
        ));
    }
    if !xadd && t.strat.is_none() {
        return Err(syntax(
            "ERR syntax error, XTRIM must be called with a trimming strategy",
        ));
    }
    if loading {
        // A command from the AOF (or a master) trims without a work limit.
        t.limit = Some(0);
    } else if t.limit.is_some() && !t.approx {
        return Err(syntax(
            "ERR syntax error, LIMIT cannot be used without the special ~ option",
        ));
    } else if t.limit.is_none() {
        t.limit = Some(if t.approx {
            (100 * node_max).clamp(1, 1_000_000)
        } else {
            0
        });
        if t.approx && node_max == 0 {
            t.limit = Some(10_000);
        }
    }
    Ok((t, i))
}

/// XADD: replies with the new ID. `*` takes `now_ms` as the clock.
fn xadd(k: &mut Keyspace, cx: &mut Cx, a: &[&[u8]]) -> CmdResult {
    let (t, idpos) = match parse_trim(a, true, cx.loading, k.cfg.stream_node_max_entries) {
        Ok(r) => r,
        Err(e) => return Ok(e),
    };
    let nfields = a.len().saturating_sub(idpos + 1);
    if nfields < 2 || nfields % 2 == 1 {
        return arity_reply("xadd");
    }
    if let Some((id, true)) = t.id {
        if id == (StreamId { ms: 0, seq: 0 }) {
            return err("ERR The ID specified in XADD must be greater than 0-0");
        }
    }
    let lim = node_limits(k);
    let db = k.db(cx.db);
    let s = match stream_mut(db, a[1], cx.clock) {
        Ok(Some(s)) => s,
        Ok(None) if t.nomkstream => return Ok(Reply::Nil),
        Ok(None) => {
            let fresh = StreamObj {
                first_id: Some(StreamId::default()),
                max_deleted: Some(StreamId::default()),
                entries_added: Some(0),
                ..StreamObj::default()
            };
            db.map
                .insert(a[1].into(), Slot::new(Obj::Stream(Box::new(fresh))));
            match db.map.get_mut(a[1]) {
                Some(Slot {
                    obj: Obj::Stream(s),
                    ..
                }) => s,
                _ => unreachable!("just inserted"),
            }
        }
        Err(e) => return Ok(e),
    };
    if s.last_id
        == (StreamId {
            ms: u64::MAX,
            seq: u64::MAX,
        })
    {
        return err("ERR The stream has exhausted the last possible ID, unable to add more items");
    }
    let id = match t.id {
        None => s.next_id(cx.now),
        Some((id, true)) => Some(id),
        Some((id, false)) if id.ms == s.last_id.ms => incr_id(s.last_id).filter(|n| n.ms == id.ms),
        Some((id, false)) => Some(id),
    };
    let Some(id) = id.filter(|id| *id > s.last_id) else {
        return err(
            "ERR The ID specified in XADD is equal or smaller than the target stream top item",
        );
    };
    let fields: Fields = a[idpos + 1..]
        .chunks_exact(2)
        .map(|p| (p[0].to_vec(), p[1].to_vec()))
        .collect();
    s.append(id, fields, lim);
    if let Some(strat) = t.strat {
        s.trim(strat, t.approx, t.limit.unwrap_or(0));
    }
    Ok(Reply::Bulk(id.to_string().into_bytes()))
}

/// XTRIM: replies with the number of entries removed.
fn xtrim(k: &mut Keyspace, cx: &mut Cx, a: &[&[u8]]) -> CmdResult {
    let (t, _) = match parse_trim(a, false, cx.loading, k.cfg.stream_node_max_entries) {
        Ok(r) => r,
        Err(e) => return Ok(e),
    };
    let s = match stream_mut(k.db(cx.db), a[1], cx.clock) {
        Ok(Some(s)) => s,
        Ok(None) => return Ok(Reply::Int(0)),
        Err(e) => return Ok(e),
    };
    let strat = t.strat.expect("XTRIM requires a strategy");
    Ok(Reply::Int(
        s.trim(strat, t.approx, t.limit.unwrap_or(0)) as i64
    ))
}

/// XDEL: deleted entries raise the max deleted ID; the first ID is recomputed.
fn xdel(k: &mut Keyspace, cx: &mut Cx, a: &[&[u8]]) -> CmdResult {
    let mut ids = Vec::with_capacity(a.len() - 2);
    for arg in &a[2..] {
        match parse_id(arg, 0, true) {
            Some(id) => ids.push(id),
            None => return err(msg::STREAM_ID),
        }
    }
    let s = match stream_mut(k.db(cx.db), a[1], cx.clock) {
        Ok(Some(s)) => s,
        Ok(None) => return Ok(Reply::Int(0)),
        Err(e) => return Ok(e),
    };
    let (mut deleted, mut first_entry) = (0, false);
    for id in ids {
        if s.delete(id) {
            first_entry |= id == s.first();
            if id > s.max_deleted() {
                s.max_deleted = Some(id);
            }
            deleted += 1;
        }
    }
    if deleted > 0 {
        if s.length == 0 {
            s.first_id = Some(StreamId::default());
        } else if first_entry {
            s.first_id = Some(s.entries.keys().next().copied().unwrap_or_default());
        }
    }
    Ok(Reply::Int(deleted))
}

/// XSETID key last-id [ENTRIESADDED n] [MAXDELETEDID id] (`xsetidCommand`).
fn xsetid(k: &mut Keyspace, cx: &mut Cx, a: &[&[u8]]) -> CmdResult {
    let Some(id) = parse_id(a[2], 0, true) else {
        return err(msg::STREAM_ID);
    };
    let (mut added, mut maxdel) = (None, StreamId::default());
    let mut i = 3;
    while i < a.len() {
        let more = a.len() - 1 - i;
        if is(a[i], "entriesadded") && more > 0 {
            match parse_i64(a[i + 1]) {
                Some(n) if n >= 0 => added = Some(n as u64),
                Some(_) => return err("ERR entries_added must be positive"),
                None => return err(msg::NOT_INT),
            }
        } else if is(a[i], "maxdeletedid") && more > 0 {
            match parse_id(a[i + 1], 0, true) {
                Some(m) if m <= id => maxdel = m,
                Some(_) => return err("ERR The ID specified in XSETID is smaller than the provided max_deleted_entry_id"),
                None => return err(msg::STREAM_ID),
            }
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
    if id < s.max_deleted() {
        return err("ERR The ID specified in XSETID is smaller than current max_deleted_entry_id");
    }
    if s.length > 0 {
        let top = s.entries.keys().next_back().copied().unwrap_or_default();
        if id < top {
            return err(
                "ERR The ID specified in XSETID is smaller than the target stream top item",
            );
        }
        if added.is_some_and(|n| s.length > n) {
            return err("ERR The entries_added specified in XSETID is smaller than the target stream length");
        }
    }
    s.last_id = id;
    if let Some(n) = added {
        s.entries_added = Some(n);
    }
    if maxdel != StreamId::default() {
        s.max_deleted = Some(maxdel);
    }
    Ok(Reply::Ok)
}

/// A stream for reading (no metadata change).
fn stream_ref<'a>(
    db: &'a mut Db,
    key: &[u8],
    clock: Option<i64>,
) -> Result<Option<&'a StreamObj>, Reply> {
    match db.get(key, clock) {
        None => Ok(None),
        Some(Slot {
            obj: Obj::Stream(s),
            ..
        }) => Ok(Some(s)),
        Some(_) => Err(Reply::Error(msg::WRONGTYPE.into())),
    }
}

fn xlen(k: &mut Keyspace, cx: &mut Cx, a: &[&[u8]]) -> CmdResult {
    match stream_ref(k.db(cx.db), a[1], cx.clock) {
        Ok(s) => Ok(Reply::Int(s.map_or(0, |s| s.length as i64))),
        Err(e) => Ok(e),
    }
}

/// One entry as XRANGE replies it.
pub(crate) fn entry_reply(id: StreamId, fields: &Fields) -> Reply {
    Reply::Array(vec![
        Reply::Bulk(id.to_string().into_bytes()),
        Reply::Array(
            fields
                .iter()
                .flat_map(|(f, v)| [Reply::bulk(f), Reply::bulk(v)])
                .collect(),
        ),
    ])
}

/// An interval bound: `(` exclusive, `-`/`+`, incomplete IDs completed with `missing_seq`.
fn interval(b: &[u8], missing_seq: u64, start: bool) -> Result<StreamId, Reply> {
    let bad = || Reply::Error(msg::STREAM_ID.into());
    match b.strip_prefix(b"(").filter(|r| !r.is_empty()) {
        Some(rest) => {
            let id = parse_id(rest, missing_seq, true).ok_or_else(bad)?;
            let moved = if start { incr_id(id) } else { decr_id(id) };
            moved.ok_or_else(|| {
                Reply::Error(format!(
                    "ERR invalid {} ID for the interval",
                    if start { "start" } else { "end" }
                ))
            })
        }
        None => parse_id(b, missing_seq, false).ok_or_else(bad),
    }
}

fn range_generic(k: &mut Keyspace, cx: &Cx, a: &[&[u8]], rev: bool) -> CmdResult {
    let (sa, ea) = if rev { (a[3], a[2]) } else { (a[2], a[3]) };
    let (start, end) = match (interval(sa, 0, true), interval(ea, u64::MAX, false)) {
        (Ok(s), Ok(e)) => (s, e),
        (Err(e), _) | (_, Err(e)) => return Ok(e),
    };
    let mut count = None;
    let mut j = 4;
    while j < a.len() {
        if is(a[j], "count") && j + 1 < a.len() {
            match parse_i64(a[j + 1]) {
                Some(n) => count = Some(n.max(0) as usize),
                None => return err(msg::NOT_INT),
            }
            j += 2;
        } else {
            return err(msg::SYNTAX);
        }
    }
    let s = match stream_ref(k.db(cx.db), a[1], cx.clock) {
        Ok(Some(s)) => s,
        Ok(None) => return Ok(Reply::Array(vec![])),
        Err(e) => return Ok(e),
    };
    if count == Some(0) || start > end {
        return Ok(Reply::Array(vec![]));
    }
    let it = s.entries.range(start..=end);
    let take = count.unwrap_or(usize::MAX);
    let out: Vec<Reply> = if rev {
        it.rev()
            .take(take)
            .map(|(id, f)| entry_reply(*id, f))
            .collect()
    } else {
        it.take(take).map(|(id, f)| entry_reply(*id, f)).collect()
    };
    Ok(Reply::Array(out))
}

fn xrange(k: &mut Keyspace, cx: &mut Cx, a: &[&[u8]]) -> CmdResult {
    range_generic(k, cx, a, false)
}

fn xrevrange(k: &mut Keyspace, cx: &mut Cx, a: &[&[u8]]) -> CmdResult {
    range_generic(k, cx, a, true)
}
