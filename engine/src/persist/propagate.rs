//! What a command writes into the AOF: nothing for reads and failures, else the command in a form
//! whose replay (in loading mode, at any later time) reaches the same state.
//!
//! Redis's rules: relative expiries become absolute (`PEXPIREAT`, `SET ... PXAT`), a time already
//! past becomes `DEL`, `INCRBYFLOAT` becomes `SET ... KEEPTTL`, `XADD *` carries the ID it got,
//! `RESTORE` a relative TTL becomes `ABSTTL`. The engine's other commands are deterministic, so
//! they replay as issued. Stream consumer commands (XREADGROUP, XCLAIM, XAUTOCLAIM) replay with
//! the load's clock for delivery and seen times: their entries and ownership replay exactly,
//! those times do not.
use crate::keyspace::{Keyspace, Reply, Session};

/// An owned command.
pub type Argv = Vec<Vec<u8>>;

fn lower(name: &[u8]) -> String {
    String::from_utf8_lossy(name).to_ascii_lowercase()
}

fn is(a: &[u8], word: &str) -> bool {
    a.eq_ignore_ascii_case(word.as_bytes())
}

/// Whether `name` can change the dataset (and so is written to the AOF when it succeeds): the
/// keyspace's command table says; a command it does not know is refused, never propagated.
pub fn is_write(name: &[u8]) -> bool {
    crate::keyspace::command_writes(name).unwrap_or(false)
}

/// The absolute expiry of `key` after the command, or `None` when the key is gone (-2) or has
/// none (-1 is `Some(-1)`).
fn pexpiretime(ks: &mut Keyspace, db: u64, now: i64, key: &[u8]) -> Option<i64> {
    let mut s = Session {
        db,
        ..Session::default()
    };
    match ks.execute(&mut s, now, &[b"PEXPIRETIME", key]) {
        Ok(Reply::Int(-2)) => None,
        Ok(Reply::Int(t)) => Some(t),
        _ => None,
    }
}

fn num(n: i64) -> Vec<u8> {
    n.to_string().into_bytes()
}

/// The AOF form of `argv`, which ran in database `db` at `now` and answered `reply`; `ks` is the
/// keyspace after it ran (read to learn the expiries it set).
pub fn propagate(ks: &mut Keyspace, db: u64, now: i64, argv: &[&[u8]], reply: &Reply) -> Vec<Argv> {
    if matches!(reply, Reply::Error(_)) || argv.is_empty() || !is_write(argv[0]) {
        return Vec::new();
    }
    let owned = || argv.iter().map(|a| a.to_vec()).collect::<Argv>();
    let key = argv.get(1).copied().unwrap_or_default();
    // The key's state after the command, as an absolute expiry command or a DEL.
    let expiry_of = |ks: &mut Keyspace| -> Argv {
        match pexpiretime(ks, db, now, key) {
            None => vec![b"DEL".to_vec(), key.to_vec()],
            Some(-1) => vec![b"PERSIST".to_vec(), key.to_vec()],
            Some(t) => vec![b"PEXPIREAT".to_vec(), key.to_vec(), num(t)],
        }
    };
    match lower(argv[0]).as_str() {
        "expire" | "pexpire" | "expireat" | "pexpireat" => match reply {
            Reply::Int(1) => vec![expiry_of(ks)],
            _ => Vec::new(),
        },
        // GETEX without an option changes nothing, and Redis propagates nothing for it
        // (redis-server 7.4.1's AOF, observed).
        "getex" => match reply {
            Reply::Nil => Vec::new(),
            _ if argv.len() > 2 => vec![expiry_of(ks)],
            _ => Vec::new(),
        },
        // SETEX goes through Redis's setGenericCommand with its EX flag: the same rewrite as SET.
        "setex" | "psetex" => {
            let n = std::str::from_utf8(argv[2])
                .ok()
                .and_then(|v| v.parse::<i64>().ok())
                .unwrap_or(0);
            let ms = if lower(argv[0]) == "setex" {
                n.saturating_mul(1000)
            } else {
                n
            };
            set_pxat(key, argv[3], ms.saturating_add(now), now)
        }
        "set" => set_form(now, argv, reply),
        "hexpire" | "hpexpire" | "hexpireat" | "hpexpireat" => hexpire_form(now, argv, reply),
        "incrbyfloat" => match reply {
            Reply::Bulk(v) => vec![vec![
                b"SET".to_vec(),
                key.to_vec(),
                v.clone(),
                b"KEEPTTL".to_vec(),
            ]],
            _ => Vec::new(),
        },
        "xadd" => match reply {
            Reply::Bulk(id) => {
                let mut v = owned();
                // A reply with an ID means the command parsed: its ID argument is there.
                if let Some(at) = v.get_mut(xadd_id_index(argv)) {
                    *at = id.clone();
                }
                vec![v]
            }
            _ => Vec::new(),
        },
        "restore" => {
            let abs = argv.iter().skip(4).any(|a| is(a, "absttl"));
            let ttl: i64 = std::str::from_utf8(argv[2])
                .ok()
                .and_then(|t| t.parse().ok())
                .unwrap_or(0);
            let mut v = owned();
            if ttl > 0 && !abs {
                v[2] = num(now + ttl);
                v.push(b"ABSTTL".to_vec());
            }
            vec![v]
        }
        _ => vec![owned()],
    }
}

/// H(P)EXPIRE(AT), as Redis's `hexpireGenericCommand` propagates it: each field its time deleted
/// (reply 2) becomes an `HDEL`, the fields that got the time (reply 1) one `HPEXPIREAT` with the
/// absolute time in ms, and fields left alone (0, -2) are dropped. Replayed verbatim, a relative
/// time would restart at the load's clock and a past one would keep the field (loading keeps what
/// is already expired).
fn hexpire_form(now: i64, argv: &[&[u8]], reply: &Reply) -> Vec<Argv> {
    let Reply::Array(codes) = reply else {
        return Vec::new();
    };
    let name = lower(argv[0]);
    let parsed = std::str::from_utf8(argv[2])
        .ok()
        .and_then(|t| t.parse::<i64>().ok());
    let Some(mut when) = parsed else {
        return Vec::new();
    };
    if name == "hexpire" || name == "hexpireat" {
        when = when.saturating_mul(1000);
    }
    if name == "hexpire" || name == "hpexpire" {
        when = when.saturating_add(now);
    }
    // The fields follow FIELDS and their count, after an optional NX/XX/GT/LT.
    let Some(at) = argv.iter().position(|a| is(a, "fields")) else {
        return Vec::new();
    };
    let fields = argv.get(at + 2..).unwrap_or_default();
    let mut out = Vec::new();
    let mut timed = Vec::new();
    for (f, code) in fields.iter().zip(codes) {
        match code {
            Reply::Int(2) => out.push(vec![b"HDEL".to_vec(), argv[1].to_vec(), f.to_vec()]),
            Reply::Int(1) => timed.push(f.to_vec()),
            _ => {}
        }
    }
    if !timed.is_empty() {
        let mut form = vec![b"HPEXPIREAT".to_vec(), argv[1].to_vec(), num(when)];
        // The condition is kept: it held when the command ran, and holds again on replay.
        form.extend(argv[3..at].iter().map(|a| a.to_vec()));
        form.push(b"FIELDS".to_vec());
        form.push(num(timed.len() as i64));
        form.extend(timed);
        out.push(form);
    }
    out
}

/// SET as redis-server 7.0.15 and 7.4.1 write it (observed): nothing when NX/XX was not met;
/// with EX/PX/EXAT/PXAT the five words `SET key value PXAT <absolute ms>` (NX, XX and GET
/// dropped), or DEL for a time already past (Redis writes the SET with its past time, which
/// loads as the same absent key); else as sent, without GET.
fn set_form(now: i64, argv: &[&[u8]], reply: &Reply) -> Vec<Argv> {
    let key = argv[1];
    let mut plain: Argv = vec![b"SET".to_vec(), key.to_vec(), argv[2].to_vec()];
    let (mut nx, mut xx, mut get) = (false, false, false);
    let mut at = None;
    let mut i = 3;
    while i < argv.len() {
        let a = argv[i];
        let n = argv
            .get(i + 1)
            .and_then(|v| std::str::from_utf8(v).ok())
            .and_then(|v| v.parse::<i64>().ok())
            .unwrap_or(0);
        let when = match lower(a).as_str() {
            "ex" => Some(n.saturating_mul(1000).saturating_add(now)),
            "px" => Some(n.saturating_add(now)),
            "exat" => Some(n.saturating_mul(1000)),
            "pxat" => Some(n),
            _ => None,
        };
        if when.is_some() {
            at = when;
            i += 2;
            continue;
        }
        nx |= is(a, "nx");
        xx |= is(a, "xx");
        if is(a, "get") {
            get = true;
        } else {
            plain.push(a.to_vec());
        }
        i += 1;
    }
    // Whether the value was set: without GET the reply says (OK or nil); with GET it is the old
    // value, nil exactly when there was none.
    let set = match (get, reply) {
        (false, r) => *r == Reply::Ok,
        (true, Reply::Nil) => !xx,
        (true, _) => !nx,
    };
    match at {
        _ if !set => Vec::new(),
        None => vec![plain],
        Some(t) => set_pxat(key, argv[2], t, now),
    }
}

/// A SET with an absolute time as Redis propagates it, `SET key value PXAT t`, or DEL when `t`
/// is already past at `now` (Redis writes the SET with its past time; both load as no key).
fn set_pxat(key: &[u8], value: &[u8], t: i64, now: i64) -> Vec<Argv> {
    if t <= now {
        return vec![vec![b"DEL".to_vec(), key.to_vec()]];
    }
    vec![vec![
        b"SET".to_vec(),
        key.to_vec(),
        value.to_vec(),
        b"PXAT".to_vec(),
        num(t),
    ]]
}

/// The index of XADD's ID argument, after the key and the NOMKSTREAM/MAXLEN/MINID/LIMIT options.
fn xadd_id_index(argv: &[&[u8]]) -> usize {
    let mut i = 2;
    while i < argv.len() {
        let a = argv[i];
        if is(a, "nomkstream") {
            i += 1;
        } else if is(a, "maxlen") || is(a, "minid") {
            i += 1;
            if argv.get(i).is_some_and(|m| *m == b"=" || *m == b"~") {
                i += 1;
            }
            i += 1;
        } else if is(a, "limit") {
            i += 2;
        } else {
            break;
        }
    }
    i
}
