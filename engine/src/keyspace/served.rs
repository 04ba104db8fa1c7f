//! The read commands a served keyspace needs beyond what an AOF can hold: SCAN and its key
//! forms, KEYS, RANDOMKEY, OBJECT, DUMP, TOUCH, XREAD, XINFO STREAM, and common read forms
//! (HKEYS, HVALS, HSTRLEN, SMISMEMBER, SRANDMEMBER, ZMSCORE, ZREVRANK and the ZRANGEBY* family,
//! answered through ZRANGE). None of them changes the dataset.
//!
//! SCAN's cursor is a position in the order of a 63-bit hash of the keys: each call returns the
//! keys whose hash is at or after the cursor, `COUNT` of them (all keys sharing a hash together),
//! so a key present for the whole iteration is returned at least once, as Redis promises. The
//! collection scans (HSCAN, SSCAN, ZSCAN) return every element at once with cursor 0, which Redis
//! also does for compact encodings.
use super::args::{double_bytes, is, parse_i64};
use super::db::{Obj, Slot};
use super::reply::{err, msg, CmdResult, Reply};
use super::stream_type::{incr_id, parse_id, StreamObj};
use super::{readonly, Cx, Keyspace, Spec};
use crate::dataset::StreamId;
use std::hash::Hasher;

pub(crate) const COMMANDS: &[Spec] = &[
    readonly("scan", -2, scan),
    readonly("hscan", -3, hscan),
    readonly("sscan", -3, sscan),
    readonly("zscan", -3, zscan),
    readonly("keys", 2, keys),
    readonly("randomkey", 1, randomkey),
    readonly("object", -2, object),
    readonly("dump", 2, dump),
    readonly("touch", -2, touch),
    readonly("xread", -4, xread),
    readonly("xinfo", -2, xinfo),
    readonly("hkeys", 2, hkeys),
    readonly("hvals", 2, hvals),
    readonly("hstrlen", 3, hstrlen),
    readonly("smismember", -3, smismember),
    readonly("srandmember", -2, srandmember),
    readonly("zmscore", -3, zmscore),
    readonly("zrevrank", -3, zrevrank),
    readonly("zrevrange", -4, zrevrange),
    readonly("zrangebyscore", -4, zrangebyscore),
    readonly("zrevrangebyscore", -4, zrevrangebyscore),
    readonly("zrangebylex", -4, zrangebylex),
    readonly("zrevrangebylex", -4, zrevrangebylex),
    readonly("substr", 4, substr),
];

/// Redis's glob matching (`stringmatchlen`): `*`, `?`, `[...]` with ranges and `^`, `\` escapes.
pub fn glob_match(pat: &[u8], s: &[u8]) -> bool {
    fn m(p: &[u8], s: &[u8], nocase: bool) -> bool {
        let (mut pi, mut si) = (0, 0);
        while pi < p.len() {
            match p[pi] {
                b'*' => {
                    while pi + 1 < p.len() && p[pi + 1] == b'*' {
                        pi += 1;
                    }
                    if pi + 1 == p.len() {
                        return true;
                    }
                    for start in si..=s.len() {
                        if m(&p[pi + 1..], &s[start..], nocase) {
                            return true;
                        }
                    }
                    return false;
                }
                b'?' => {
                    if si >= s.len() {
                        return false;
                    }
                    si += 1;
                }
                b'[' => {
                    if si >= s.len() {
                        return false;
                    }
                    pi += 1;
                    let not = p.get(pi) == Some(&b'^');
                    if not {
                        pi += 1;
                    }
                    let mut matched = false;
                    loop {
                        if pi >= p.len() {
                            pi -= 1;
                            break;
                        }
                        if p[pi] == b'\\' && pi + 2 < p.len() {
                            pi += 1;
                            if p[pi] == s[si] {
                                matched = true;
                            }
                        } else if p[pi] == b']' {
                            break;
                        } else if pi + 2 < p.len() && p[pi + 1] == b'-' {
                            let (mut a, mut b) = (p[pi], p[pi + 2]);
                            if a > b {
                                std::mem::swap(&mut a, &mut b);
                            }
                            if (a..=b).contains(&s[si]) {
                                matched = true;
                            }
                            pi += 2;
                        } else if p[pi] == s[si] || (nocase && p[pi].eq_ignore_ascii_case(&s[si])) {
                            matched = true;
                        }
                        pi += 1;
                    }
                    if matched == not {
                        return false;
                    }
                    si += 1;
                }
                c => {
                    let c = if c == b'\\' && pi + 1 < p.len() {
                        pi += 1;
                        p[pi]
                    } else {
                        c
                    };
                    if si >= s.len() || !(c == s[si] || (nocase && c.eq_ignore_ascii_case(&s[si])))
                    {
                        return false;
                    }
                    si += 1;
                }
            }
            pi += 1;
        }
        si == s.len()
    }
    m(pat, s, false)
}

/// The 63-bit position of a key in SCAN order.
fn scan_hash(key: &[u8]) -> u64 {
    let mut h = super::FxHasher::default();
    h.write(key);
    h.finish() >> 1
}

/// MATCH / COUNT / TYPE options of the SCAN family from `a[from]` on.
struct ScanOpts<'a> {
    pattern: Option<&'a [u8]>,
    count: usize,
    kind: Option<&'a [u8]>,
}

fn scan_opts<'a>(a: &[&'a [u8]], from: usize, with_type: bool) -> Result<ScanOpts<'a>, Reply> {
    let mut o = ScanOpts {
        pattern: None,
        count: 10,
        kind: None,
    };
    let mut j = from;
    while j < a.len() {
        let more = a.len() - 1 - j;
        if is(a[j], "count") && more > 0 {
            match parse_i64(a[j + 1]) {
                Some(n) if n >= 1 => o.count = n as usize,
                Some(_) => return Err(Reply::Error(msg::SYNTAX.into())),
                None => return Err(Reply::Error(msg::NOT_INT.into())),
            }
        } else if is(a[j], "match") && more > 0 {
            o.pattern = Some(a[j + 1]).filter(|p| *p != b"*");
        } else if with_type && is(a[j], "type") && more > 0 {
            o.kind = Some(a[j + 1]);
        } else {
            return Err(Reply::Error(msg::SYNTAX.into()));
        }
        j += 2;
    }
    Ok(o)
}

fn parse_cursor(c: &[u8]) -> Result<u64, Reply> {
    std::str::from_utf8(c)
        .ok()
        .and_then(|t| t.parse::<u64>().ok())
        .ok_or_else(|| Reply::Error("ERR invalid cursor".into()))
}

fn scan_reply(cursor: u64, items: Vec<Reply>) -> Reply {
    Reply::Array(vec![
        Reply::Bulk(cursor.to_string().into_bytes()),
        Reply::Array(items),
    ])
}

fn scan(k: &mut Keyspace, cx: &mut Cx, a: &[&[u8]]) -> CmdResult {
    let cursor = match parse_cursor(a[1]) {
        Ok(c) => c,
        Err(e) => return Ok(e),
    };
    let o = match scan_opts(a, 2, true) {
        Ok(o) => o,
        Err(e) => return Ok(e),
    };
    let clock = cx.clock;
    let db = k.db(cx.db);
    let mut found: Vec<(u64, &[u8])> = db
        .map
        .iter()
        .filter(|(_, s)| !s.expired(clock))
        .map(|(key, _)| (scan_hash(key), &key[..]))
        .filter(|(h, _)| *h >= cursor)
        .collect();
    found.sort_unstable();
    let mut take = o.count.min(found.len());
    while take < found.len() && take > 0 && found[take].0 == found[take - 1].0 {
        take += 1;
    }
    let next = if take < found.len() {
        found[take - 1].0 + 1
    } else {
        0
    };
    let items = found[..take]
        .iter()
        .filter(|(_, key)| o.pattern.is_none_or(|p| glob_match(p, key)))
        .filter(|(_, key)| {
            o.kind.is_none_or(|t| {
                db.map
                    .get(*key)
                    .is_some_and(|s| t.eq_ignore_ascii_case(s.obj.type_name().as_bytes()))
            })
        })
        .map(|(_, key)| Reply::bulk(key))
        .collect();
    Ok(scan_reply(next, items))
}

/// The live value at `key` for a read: `Ok(None)` when absent.
fn live<'a>(k: &'a mut Keyspace, cx: &Cx, key: &[u8]) -> Option<&'a mut Slot> {
    k.db(cx.db).get(key, cx.clock)
}

fn wrongtype() -> CmdResult {
    err(msg::WRONGTYPE)
}

fn collection_scan(k: &mut Keyspace, cx: &mut Cx, a: &[&[u8]], want: &str) -> CmdResult {
    if let Err(e) = parse_cursor(a[2]) {
        return Ok(e);
    }
    let o = match scan_opts(a, 3, false) {
        Ok(o) => o,
        Err(e) => return Ok(e),
    };
    let now = cx.now;
    let Some(slot) = live(k, cx, a[1]) else {
        return Ok(scan_reply(0, Vec::new()));
    };
    let keep = |m: &[u8]| o.pattern.is_none_or(|p| glob_match(p, m));
    let items: Vec<Reply> = match (&slot.obj, want) {
        (Obj::Hash(h), "hash") => h
            .map
            .iter()
            .filter(|(f, (_, e))| keep(f) && !e.is_some_and(|e| e < now))
            .flat_map(|(f, (v, _))| [Reply::bulk(f), Reply::bulk(v)])
            .collect(),
        (Obj::Set(s), "set") => s
            .iter()
            .filter(|m| keep(m))
            .map(|m| Reply::bulk(m))
            .collect(),
        (Obj::Zset(z), "zset") => z
            .iter()
            .filter(|(m, _)| keep(m))
            .flat_map(|(m, s)| [Reply::bulk(m), Reply::Bulk(double_bytes(s))])
            .collect(),
        _ => return wrongtype(),
    };
    Ok(scan_reply(0, items))
}

fn hscan(k: &mut Keyspace, cx: &mut Cx, a: &[&[u8]]) -> CmdResult {
    collection_scan(k, cx, a, "hash")
}

fn sscan(k: &mut Keyspace, cx: &mut Cx, a: &[&[u8]]) -> CmdResult {
    collection_scan(k, cx, a, "set")
}

fn zscan(k: &mut Keyspace, cx: &mut Cx, a: &[&[u8]]) -> CmdResult {
    collection_scan(k, cx, a, "zset")
}

fn keys(k: &mut Keyspace, cx: &mut Cx, a: &[&[u8]]) -> CmdResult {
    let clock = cx.clock;
    let mut out: Vec<&[u8]> = k
        .db(cx.db)
        .map
        .iter()
        .filter(|(key, s)| !s.expired(clock) && glob_match(a[1], key))
        .map(|(key, _)| &key[..])
        .collect();
    out.sort_unstable();
    Ok(Reply::Array(out.into_iter().map(Reply::bulk).collect()))
}

fn randomkey(k: &mut Keyspace, cx: &mut Cx, _: &[&[u8]]) -> CmdResult {
    let clock = cx.clock;
    Ok(k.db(cx.db)
        .map
        .iter()
        .find(|(_, s)| !s.expired(clock))
        .map_or(Reply::Nil, |(key, _)| Reply::bulk(key)))
}

fn touch(k: &mut Keyspace, cx: &mut Cx, a: &[&[u8]]) -> CmdResult {
    let db = k.db(cx.db);
    Ok(Reply::Int(
        a[1..].iter().filter(|key| db.exists(key, cx.clock)).count() as i64,
    ))
}

/// Redis's `string2ll` in strict form: what a string stored as an integer looks like.
fn canonical_int(s: &[u8]) -> bool {
    s.len() <= 20 && parse_i64(s).is_some_and(|v| v.to_string().as_bytes() == s)
}

/// The encoding OBJECT ENCODING reports, by Redis 7.4's default thresholds.
fn encoding(slot: &Slot) -> &'static str {
    let small = |items: &mut dyn Iterator<Item = usize>, n: usize| {
        n <= 128 && items.max().unwrap_or(0) <= 64
    };
    match &slot.obj {
        Obj::Str(s) if canonical_int(s) => "int",
        Obj::Str(s) if s.len() <= 44 => "embstr",
        Obj::Str(_) => "raw",
        Obj::List(l) => {
            let bytes: usize = l.iter().map(|e| e.len() + 2).sum::<usize>() + 7;
            if bytes <= 8192 {
                "listpack"
            } else {
                "quicklist"
            }
        }
        Obj::Set(s) => {
            if s.len() <= 512 && s.iter().all(|m| canonical_int(m)) {
                "intset"
            } else if small(&mut s.iter().map(Vec::len), s.len()) {
                "listpack"
            } else {
                "hashtable"
            }
        }
        Obj::Hash(h) => {
            let mut lens = h.map.iter().flat_map(|(f, (v, _))| [f.len(), v.len()]);
            if !small(&mut lens, h.map.len()) {
                "hashtable"
            } else if h.map.values().any(|(_, e)| e.is_some()) {
                "listpackex"
            } else {
                "listpack"
            }
        }
        Obj::Zset(z) if z.listpack => "listpack",
        Obj::Zset(_) => "skiplist",
        Obj::Stream(_) => "stream",
        Obj::Module(_) => "raw",
        // Redis 8.10's name for an array's encoding is not in any source at hand (no 8.10 build
        // runs here); the type's name stands in.
        Obj::Array(_) => "array",
    }
}

const OBJECT_HELP: &[&str] = &[
    "OBJECT <subcommand> [<arg> [value] [opt] ...]. Subcommands are:",
    "ENCODING <key>",
    "    Return the kind of internal representation used in order to store the value",
    "    associated with a <key>.",
    "FREQ <key>",
    "    Return the access frequency index of the <key>. The returned integer is",
    "    proportional to the logarithm of the recent access frequency of the key.",
    "IDLETIME <key>",
    "    Return the idle time of the <key>, that is the approximated number of",
    "    seconds elapsed since the last access to the key.",
    "REFCOUNT <key>",
    "    Return the number of references of the value associated with the specified",
    "    <key>.",
    "HELP",
    "    Print this help.",
];

fn object(k: &mut Keyspace, cx: &mut Cx, a: &[&[u8]]) -> CmdResult {
    let sub = String::from_utf8_lossy(a[1]).to_ascii_lowercase();
    if sub == "help" && a.len() == 2 {
        return Ok(Reply::Array(
            OBJECT_HELP
                .iter()
                .map(|l| Reply::Status((*l).into()))
                .collect(),
        ));
    }
    if !matches!(
        sub.as_str(),
        "encoding" | "freq" | "idletime" | "refcount" | "help"
    ) {
        return err(format!(
            "ERR unknown subcommand '{}'. Try OBJECT HELP.",
            String::from_utf8_lossy(a[1])
        ));
    }
    if a.len() != 3 {
        return err(format!(
            "ERR wrong number of arguments for 'object|{sub}' command"
        ));
    }
    let Some(slot) = live(k, cx, a[2]) else {
        return Ok(Reply::Nil);
    };
    Ok(match sub.as_str() {
        "encoding" => Reply::Bulk(encoding(slot).as_bytes().to_vec()),
        "idletime" => Reply::Int(slot.stats.as_ref().and_then(|s| s.idle_s).unwrap_or(0) as i64),
        "refcount" => Reply::Int(match &slot.obj {
            Obj::Str(s)
                if canonical_int(s) && parse_i64(s).is_some_and(|v| (0..10000).contains(&v)) =>
            {
                i32::MAX as i64
            }
            _ => 1,
        }),
        _ => Reply::Error(
            "ERR An LFU maxmemory policy is not selected, access frequency not tracked. Please \
             note that when switching between policies at runtime LRU and LFU data will take \
             some time to adjust."
                .into(),
        ),
    })
}

/// A DUMP payload of `obj` for RDB `version` (12): type, value, version, CRC-64.
pub(crate) fn dump_payload(obj: &Obj, now: Option<i64>) -> Vec<u8> {
    use crate::format::rdb::encode::Encoder;
    use crate::format::rdb::{Target, Thresholds};
    let value = super::dataset::value_of(obj, now);
    let target = Target::redis(12).expect("RDB 12 is a target");
    let mut enc = Encoder::new(target, Thresholds::default(), true);
    let ty = enc.choose(&value);
    let mut out = vec![ty.byte()];
    enc.value(&mut out, ty, &value);
    out.extend_from_slice(&12u16.to_le_bytes());
    let crc = crate::format::crc64::checksum(&out);
    out.extend_from_slice(&crc.to_le_bytes());
    out
}

fn dump(k: &mut Keyspace, cx: &mut Cx, a: &[&[u8]]) -> CmdResult {
    let clock = cx.clock;
    Ok(match live(k, cx, a[1]) {
        None => Reply::Nil,
        Some(slot) => Reply::Bulk(dump_payload(&slot.obj, clock)),
    })
}

/// The "DEBUG OBJECT" line of a key: encoding and serialized length.
pub(crate) fn debug_object(slot: &Slot, now: Option<i64>) -> String {
    let len = dump_payload(&slot.obj, now).len().saturating_sub(11);
    format!(
        "Value at:0x7f0000000000 refcount:1 encoding:{} serializedlength:{len} lru:0 \
         lru_seconds_idle:{}",
        encoding(slot),
        slot.stats.as_ref().and_then(|s| s.idle_s).unwrap_or(0)
    )
}

impl Keyspace {
    /// DEBUG OBJECT's line for `key` in `db`, `None` when it does not exist.
    pub fn debug_object(&mut self, db: u64, key: &[u8], now: i64) -> Option<String> {
        let slot = self.db(db).get(key, Some(now))?;
        Some(debug_object(slot, Some(now)))
    }

    /// The last ID of the stream at `key` in `db` (what XREAD's `$` means now), if it is one.
    pub fn stream_last_id(&mut self, db: u64, key: &[u8], now: i64) -> Option<StreamId> {
        match self.db(db).get(key, Some(now)) {
            Some(Slot {
                obj: Obj::Stream(s),
                ..
            }) => Some(s.last_id),
            _ => None,
        }
    }

    /// Keys and keys with an expiry in each non-empty database, as INFO keyspace lists them.
    pub fn db_counts(&self) -> Vec<(u64, usize, usize)> {
        let dbs = self.dbs.iter().enumerate().map(|(i, d)| (i as u64, d));
        dbs.chain(self.extra.iter().map(|(&i, d)| (i, d)))
            .filter(|(_, d)| !d.map.is_empty())
            .map(|(i, d)| {
                let expires = d.map.values().filter(|s| s.expire.is_some()).count();
                (i, d.map.len(), expires)
            })
            .collect()
    }
}

fn xread(k: &mut Keyspace, cx: &mut Cx, a: &[&[u8]]) -> CmdResult {
    let (mut count, mut streams_at) = (0usize, None);
    let mut i = 1;
    while i < a.len() {
        let more = a.len() - 1 - i;
        if is(a[i], "block") && more > 0 {
            if parse_i64(a[i + 1]).is_none() {
                return err("ERR timeout is not an integer or out of range");
            }
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
        } else {
            return err(msg::SYNTAX);
        }
        i += 1;
    }
    let Some(at) = streams_at else {
        return err(msg::SYNTAX);
    };
    if !(a.len() - at).is_multiple_of(2) {
        return err("ERR Unbalanced 'xread' list of streams: for each stream key an ID or '$' must be specified.");
    }
    let n = (a.len() - at) / 2;
    let (keys, ids) = (&a[at..at + n], &a[at + n..]);
    let mut starts = Vec::with_capacity(n);
    for (key, id) in keys.iter().zip(ids) {
        let last = match live(k, cx, key) {
            None => None,
            Some(Slot {
                obj: Obj::Stream(s),
                ..
            }) => Some(s.last_id),
            Some(_) => return wrongtype(),
        };
        starts.push(if *id == b"$" {
            last.unwrap_or_default()
        } else {
            match parse_id(id, 0, true) {
                Some(id) => id,
                None => return err(msg::STREAM_ID),
            }
        });
    }
    let limit = if count == 0 { usize::MAX } else { count };
    let mut out = Vec::new();
    for (key, start) in keys.iter().zip(starts) {
        let Some(Slot {
            obj: Obj::Stream(s),
            ..
        }) = live(k, cx, key)
        else {
            continue;
        };
        let Some(from) = incr_id(start) else { continue };
        let entries: Vec<Reply> = s
            .entries
            .range(from..)
            .take(limit)
            .map(|(id, f)| super::streams::entry_reply(*id, f))
            .collect();
        if !entries.is_empty() {
            out.push(Reply::Array(vec![Reply::bulk(key), Reply::Array(entries)]));
        }
    }
    Ok(if out.is_empty() {
        Reply::Nil
    } else {
        Reply::Array(out)
    })
}

fn id_bulk(id: StreamId) -> Reply {
    Reply::Bulk(id.to_string().into_bytes())
}

fn field(name: &str, v: Reply) -> [Reply; 2] {
    [Reply::Bulk(name.as_bytes().to_vec()), v]
}

/// The metadata Redis 7 reports for a stream a pre-RDB-10 file left without it.
fn meta(s: &StreamObj) -> (StreamId, StreamId, u64) {
    let first = s
        .first_id
        .unwrap_or_else(|| s.entries.keys().next().copied().unwrap_or_default());
    (
        first,
        s.max_deleted.unwrap_or_default(),
        s.entries_added.unwrap_or(s.length),
    )
}

fn group_lag(s: &StreamObj, g: &super::stream_type::GroupObj) -> Reply {
    let added = meta(s).2;
    match g.entries_read {
        Some(r) if !s.tombstones_after(g.last_id) => Reply::Int(added.saturating_sub(r) as i64),
        _ if s.length == 0 || g.last_id >= s.last_id => Reply::Int(0),
        _ => Reply::Nil,
    }
}

fn xinfo_stream(s: &StreamObj, full: Option<usize>) -> Reply {
    let (first, max_del, added) = meta(s);
    let mut v = Vec::new();
    v.extend(field("length", Reply::Int(s.length as i64)));
    v.extend(field(
        "radix-tree-keys",
        Reply::Int(s.nodes.len().max(1) as i64),
    ));
    v.extend(field(
        "radix-tree-nodes",
        Reply::Int(s.nodes.len().max(1) as i64 + 1),
    ));
    v.extend(field("last-generated-id", id_bulk(s.last_id)));
    v.extend(field("max-deleted-entry-id", id_bulk(max_del)));
    v.extend(field("entries-added", Reply::Int(added as i64)));
    v.extend(field("recorded-first-entry-id", id_bulk(first)));
    let entry =
        |(id, f): (&StreamId, &super::stream_type::Fields)| super::streams::entry_reply(*id, f);
    let Some(count) = full else {
        v.extend(field("groups", Reply::Int(s.groups.len() as i64)));
        v.extend(field(
            "first-entry",
            s.entries.iter().next().map_or(Reply::Nil, entry),
        ));
        v.extend(field(
            "last-entry",
            s.entries.iter().next_back().map_or(Reply::Nil, entry),
        ));
        return Reply::Array(v);
    };
    let limit = if count == 0 { usize::MAX } else { count };
    v.extend(field(
        "entries",
        Reply::Array(s.entries.iter().take(limit).map(entry).collect()),
    ));
    let groups = s
        .groups
        .iter()
        .map(|(name, g)| {
            let mut gv = Vec::new();
            gv.extend(field("name", Reply::bulk(name)));
            gv.extend(field("last-delivered-id", id_bulk(g.last_id)));
            gv.extend(field(
                "entries-read",
                g.entries_read.map_or(Reply::Nil, |r| Reply::Int(r as i64)),
            ));
            gv.extend(field("lag", group_lag(s, g)));
            gv.extend(field("pel-count", Reply::Int(g.pel.len() as i64)));
            let pel = g
                .pel
                .iter()
                .take(limit)
                .map(|(id, n)| {
                    Reply::Array(vec![
                        id_bulk(*id),
                        Reply::bulk(&n.consumer),
                        Reply::Int(n.delivery_time),
                        Reply::Int(n.delivery_count as i64),
                    ])
                })
                .collect();
            gv.extend(field("pending", Reply::Array(pel)));
            let consumers = g
                .consumers
                .iter()
                .map(|(cname, c)| {
                    let mut cv = Vec::new();
                    cv.extend(field("name", Reply::bulk(cname)));
                    cv.extend(field("seen-time", Reply::Int(c.seen_time)));
                    cv.extend(field(
                        "active-time",
                        Reply::Int(c.active_time.unwrap_or(c.seen_time)),
                    ));
                    cv.extend(field("pel-count", Reply::Int(c.pel.len() as i64)));
                    let pel = c
                        .pel
                        .iter()
                        .take(limit)
                        .filter_map(|id| {
                            let n = g.pel.get(id)?;
                            Some(Reply::Array(vec![
                                id_bulk(*id),
                                Reply::Int(n.delivery_time),
                                Reply::Int(n.delivery_count as i64),
                            ]))
                        })
                        .collect();
                    cv.extend(field("pending", Reply::Array(pel)));
                    Reply::Array(cv)
                })
                .collect();
            gv.extend(field("consumers", Reply::Array(consumers)));
            Reply::Array(gv)
        })
        .collect();
    v.extend(field("groups", Reply::Array(groups)));
    Reply::Array(v)
}

fn xinfo(k: &mut Keyspace, cx: &mut Cx, a: &[&[u8]]) -> CmdResult {
    let sub = String::from_utf8_lossy(a[1]).to_ascii_lowercase();
    let key = match (sub.as_str(), a.len()) {
        ("stream", 3..) | ("groups", 3) | ("consumers", 4) => a[2],
        ("stream" | "groups" | "consumers", _) => {
            return err(format!(
                "ERR wrong number of arguments for 'xinfo|{sub}' command"
            ))
        }
        _ => {
            return err(format!(
                "ERR unknown subcommand '{}'. Try XINFO HELP.",
                String::from_utf8_lossy(a[1])
            ))
        }
    };
    let now = cx.now;
    let s = match live(k, cx, key) {
        None => return err("ERR no such key"),
        Some(Slot {
            obj: Obj::Stream(s),
            ..
        }) => s,
        Some(_) => return wrongtype(),
    };
    match sub.as_str() {
        "stream" => {
            let full = match &a[3..] {
                [] => None,
                [f] if is(f, "full") => Some(10),
                [f, c, n] if is(f, "full") && is(c, "count") => match parse_i64(n) {
                    Some(n) => Some(n.max(0) as usize),
                    None => return err(msg::NOT_INT),
                },
                _ => return err(msg::SYNTAX),
            };
            Ok(xinfo_stream(s, full))
        }
        "groups" => Ok(Reply::Array(
            s.groups
                .iter()
                .map(|(name, g)| {
                    let mut gv = Vec::new();
                    gv.extend(field("name", Reply::bulk(name)));
                    gv.extend(field("consumers", Reply::Int(g.consumers.len() as i64)));
                    gv.extend(field("pending", Reply::Int(g.pel.len() as i64)));
                    gv.extend(field("last-delivered-id", id_bulk(g.last_id)));
                    gv.extend(field(
                        "entries-read",
                        g.entries_read.map_or(Reply::Nil, |r| Reply::Int(r as i64)),
                    ));
                    gv.extend(field("lag", group_lag(s, g)));
                    Reply::Array(gv)
                })
                .collect(),
        )),
        _ => {
            let Some(g) = s.groups.get(a[3]) else {
                return err(format!(
                    "NOGROUP No such consumer group '{}' for key name '{}'",
                    String::from_utf8_lossy(a[3]),
                    String::from_utf8_lossy(key)
                ));
            };
            Ok(Reply::Array(
                g.consumers
                    .iter()
                    .map(|(cname, c)| {
                        let mut cv = Vec::new();
                        cv.extend(field("name", Reply::bulk(cname)));
                        cv.extend(field("pending", Reply::Int(c.pel.len() as i64)));
                        cv.extend(field("idle", Reply::Int((now - c.seen_time).max(0))));
                        let active = c.active_time.unwrap_or(c.seen_time);
                        cv.extend(field(
                            "inactive",
                            Reply::Int(if active < 0 {
                                -1
                            } else {
                                (now - active).max(0)
                            }),
                        ));
                        Reply::Array(cv)
                    })
                    .collect(),
            ))
        }
    }
}

fn hash_read(
    k: &mut Keyspace,
    cx: &mut Cx,
    key: &[u8],
    f: impl Fn(&[u8], &[u8]) -> Reply,
) -> CmdResult {
    let now = cx.now;
    Ok(match live(k, cx, key) {
        None => Reply::Array(Vec::new()),
        Some(Slot {
            obj: Obj::Hash(h), ..
        }) => Reply::Array(
            h.map
                .iter()
                .filter(|(_, (_, e))| !e.is_some_and(|e| e < now))
                .map(|(field, (v, _))| f(field, v))
                .collect(),
        ),
        Some(_) => return wrongtype(),
    })
}

fn hkeys(k: &mut Keyspace, cx: &mut Cx, a: &[&[u8]]) -> CmdResult {
    hash_read(k, cx, a[1], |f, _| Reply::bulk(f))
}

fn hvals(k: &mut Keyspace, cx: &mut Cx, a: &[&[u8]]) -> CmdResult {
    hash_read(k, cx, a[1], |_, v| Reply::bulk(v))
}

fn hstrlen(k: &mut Keyspace, cx: &mut Cx, a: &[&[u8]]) -> CmdResult {
    let now = cx.now;
    Ok(match live(k, cx, a[1]) {
        None => Reply::Int(0),
        Some(Slot {
            obj: Obj::Hash(h), ..
        }) => Reply::Int(
            h.map
                .get(a[2])
                .filter(|(_, e)| !e.is_some_and(|e| e < now))
                .map_or(0, |(v, _)| v.len() as i64),
        ),
        Some(_) => return wrongtype(),
    })
}

fn smismember(k: &mut Keyspace, cx: &mut Cx, a: &[&[u8]]) -> CmdResult {
    Ok(match live(k, cx, a[1]) {
        None => Reply::Array(a[2..].iter().map(|_| Reply::Int(0)).collect()),
        Some(Slot {
            obj: Obj::Set(s), ..
        }) => Reply::Array(
            a[2..]
                .iter()
                .map(|m| Reply::Int(s.contains(*m) as i64))
                .collect(),
        ),
        Some(_) => return wrongtype(),
    })
}

/// SRANDMEMBER: deterministic, as SPOP is here: the smallest members in byte order.
fn srandmember(k: &mut Keyspace, cx: &mut Cx, a: &[&[u8]]) -> CmdResult {
    let count = match a.len() {
        2 => None,
        3 => match parse_i64(a[2]) {
            Some(n) => Some(n),
            None => return err(msg::NOT_INT),
        },
        _ => return err(msg::SYNTAX),
    };
    let set = match live(k, cx, a[1]) {
        None => None,
        Some(Slot {
            obj: Obj::Set(s), ..
        }) => Some(s),
        Some(_) => return wrongtype(),
    };
    let mut members: Vec<&Vec<u8>> = set.map(|s| s.iter().collect()).unwrap_or_default();
    members.sort_unstable();
    Ok(match count {
        None => members.first().map_or(Reply::Nil, |m| Reply::bulk(m)),
        Some(n) if n >= 0 => Reply::Array(
            members
                .iter()
                .take(n as usize)
                .map(|m| Reply::bulk(m))
                .collect(),
        ),
        Some(n) => match members.first() {
            None => Reply::Array(Vec::new()),
            Some(m) => Reply::Array((0..n.unsigned_abs()).map(|_| Reply::bulk(m)).collect()),
        },
    })
}

fn zmscore(k: &mut Keyspace, cx: &mut Cx, a: &[&[u8]]) -> CmdResult {
    Ok(match live(k, cx, a[1]) {
        None => Reply::Array(a[2..].iter().map(|_| Reply::Nil).collect()),
        Some(Slot {
            obj: Obj::Zset(z), ..
        }) => Reply::Array(
            a[2..]
                .iter()
                .map(|m| {
                    z.dict
                        .get(*m)
                        .map_or(Reply::Nil, |s| Reply::Bulk(double_bytes(*s)))
                })
                .collect(),
        ),
        Some(_) => return wrongtype(),
    })
}

fn run_as(k: &mut Keyspace, cx: &mut Cx, argv: &[&[u8]]) -> CmdResult {
    let spec = super::lookup(argv[0]).expect("a keyspace command");
    (spec.run)(k, cx, argv)
}

fn zrevrank(k: &mut Keyspace, cx: &mut Cx, a: &[&[u8]]) -> CmdResult {
    let mut argv = a.to_vec();
    argv[0] = b"zrank";
    let card = match live(k, cx, a[1]) {
        Some(Slot {
            obj: Obj::Zset(z), ..
        }) => z.dict.len() as i64,
        _ => 0,
    };
    Ok(match run_as(k, cx, &argv)? {
        Reply::Int(r) => Reply::Int(card - 1 - r),
        Reply::Array(mut v) if v.len() == 2 => {
            if let Reply::Int(r) = v[0] {
                v[0] = Reply::Int(card - 1 - r);
            }
            Reply::Array(v)
        }
        other => other,
    })
}

/// A ZRANGE form of the older range commands: `by` (BYSCORE/BYLEX or none), reversed or not.
fn zrange_as(
    k: &mut Keyspace,
    cx: &mut Cx,
    a: &[&[u8]],
    by: Option<&'static [u8]>,
    rev: bool,
) -> CmdResult {
    let mut argv: Vec<&[u8]> = vec![b"zrange", a[1], a[2], a[3]];
    argv.extend(by);
    if rev {
        argv.push(b"REV");
    }
    let rest = &a[4..];
    if by.is_none() {
        match rest {
            [] => {}
            [w] if is(w, "withscores") => argv.push(b"WITHSCORES"),
            _ => return err(msg::SYNTAX),
        }
    } else {
        argv.extend_from_slice(rest);
    }
    run_as(k, cx, &argv)
}

fn zrevrange(k: &mut Keyspace, cx: &mut Cx, a: &[&[u8]]) -> CmdResult {
    zrange_as(k, cx, a, None, true)
}

fn zrangebyscore(k: &mut Keyspace, cx: &mut Cx, a: &[&[u8]]) -> CmdResult {
    zrange_as(k, cx, a, Some(b"BYSCORE"), false)
}

fn zrevrangebyscore(k: &mut Keyspace, cx: &mut Cx, a: &[&[u8]]) -> CmdResult {
    zrange_as(k, cx, a, Some(b"BYSCORE"), true)
}

fn zrangebylex(k: &mut Keyspace, cx: &mut Cx, a: &[&[u8]]) -> CmdResult {
    zrange_as(k, cx, a, Some(b"BYLEX"), false)
}

fn zrevrangebylex(k: &mut Keyspace, cx: &mut Cx, a: &[&[u8]]) -> CmdResult {
    zrange_as(k, cx, a, Some(b"BYLEX"), true)
}

fn substr(k: &mut Keyspace, cx: &mut Cx, a: &[&[u8]]) -> CmdResult {
    let argv = [b"getrange" as &[u8], a[1], a[2], a[3]];
    run_as(k, cx, &argv)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn glob_matches_like_redis() {
        for (p, s, want) in [
            ("*", "anything", true),
            ("h?llo", "hello", true),
            ("h?llo", "hllo", false),
            ("h*llo", "heeeello", true),
            ("h[ae]llo", "hallo", true),
            ("h[ae]llo", "hillo", false),
            ("h[^e]llo", "hallo", true),
            ("h[^e]llo", "hello", false),
            ("h[a-b]llo", "hbllo", true),
            ("k\\*", "k*", true),
            ("k\\*", "kx", false),
            ("user:*:name", "user:12:name", true),
        ] {
            assert_eq!(glob_match(p.as_bytes(), s.as_bytes()), want, "{p} {s}");
        }
    }

    #[test]
    fn scan_visits_every_key_once_in_cursor_order() {
        let mut k = Keyspace::new();
        let mut s = super::super::Session::new();
        for i in 0..100 {
            let key = format!("key{i}");
            k.execute(&mut s, 0, &[b"SET", key.as_bytes(), b"v"])
                .unwrap();
        }
        let mut seen = std::collections::BTreeSet::new();
        let mut cursor = b"0".to_vec();
        loop {
            let r = k
                .execute(&mut s, 0, &[b"SCAN", &cursor, b"COUNT", b"7"])
                .unwrap();
            let Reply::Array(v) = r else { panic!() };
            let (Reply::Bulk(c), Reply::Array(keys)) = (&v[0], &v[1]) else {
                panic!()
            };
            for key in keys {
                let Reply::Bulk(b) = key else { panic!() };
                assert!(seen.insert(b.clone()), "twice");
            }
            cursor = c.clone();
            if cursor == b"0" {
                break;
            }
        }
        assert_eq!(seen.len(), 100);
    }
}
