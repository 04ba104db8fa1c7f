//! RESTORE: a DUMP payload (as MIGRATE propagates it, or a client sends it) decoded with the
//! engine's own RDB reader into a key, with its TTL and LRU/LFU hints.
use super::args::{is, parse_i64};
use super::dataset::obj_from_value;
use super::db::{Slot, Stats};
use super::reply::{err, msg, CmdResult, Reply};
use super::{spec, Cx, Keyspace, Spec};
use crate::format::rdb::{payload, ReadOptions};

pub(crate) const COMMANDS: &[Spec] = &[spec("restore", -4, restore)];

/// The newest RDB version a Redis-magic payload may carry: 15, the newest this engine reads
/// (Redis 8.10 writes it; a server accepts its own version and below).
const MAX_REDIS_VERSION: u16 = 15;
/// Valkey 9's RDB version, written with the `VALKEY` magic.
const VALKEY_VERSION: u16 = 80;

/// Decodes a DUMP payload (`format::rdb::payload`) with RESTORE's rules and reply texts: the
/// footer's version must be one this engine reads and its CRC must match (zero is accepted).
/// Also returns the key attributes (key metadata, template flag) the payload carries.
pub(crate) fn decode_dump_entry(
    payload: &[u8],
) -> Result<(crate::dataset::Value, crate::dataset::KeyAttrs), String> {
    match payload::split(payload) {
        Ok((_, f))
            if (f.version <= MAX_REDIS_VERSION || f.version == VALKEY_VERSION) && f.crc_ok() => {}
        _ => return Err("ERR DUMP payload version or checksum are wrong".into()),
    }
    match payload::decode_entry(payload, ReadOptions::default()) {
        Ok((_, v, a, _)) => Ok((v, a)),
        Err(_) => Err("ERR Bad data format".into()),
    }
}

/// RESTORE key ttl payload [REPLACE] [ABSTTL] [IDLETIME s] [FREQ f]: a TTL already past (live
/// semantics) restores nothing, as Redis does. IDLETIME and FREQ are kept as the dataset's LRU
/// idle time and LFU counter.
fn restore(k: &mut Keyspace, cx: &mut Cx, a: &[&[u8]]) -> CmdResult {
    let (mut replace, mut absttl, mut stats) = (
        false,
        false,
        Stats {
            idle_s: None,
            freq: None,
            attrs: Default::default(),
        },
    );
    let mut j = 4;
    while j < a.len() {
        let more = a.len() - 1 - j;
        if is(a[j], "replace") {
            replace = true;
        } else if is(a[j], "absttl") {
            absttl = true;
        } else if is(a[j], "idletime") && more > 0 && stats.freq.is_none() {
            j += 1;
            match parse_i64(a[j]) {
                Some(n) if n >= 0 => stats.idle_s = Some(n as u64),
                Some(_) => return err("ERR Invalid IDLETIME value, must be >= 0"),
                None => return err(msg::NOT_INT),
            }
        } else if is(a[j], "freq") && more > 0 && stats.idle_s.is_none() {
            j += 1;
            match parse_i64(a[j]) {
                Some(n) if (0..=255).contains(&n) => stats.freq = Some(n as u8),
                Some(_) => return err("ERR Invalid FREQ value, must be >= 0 and <= 255"),
                None => return err(msg::NOT_INT),
            }
        } else {
            return err(msg::SYNTAX);
        }
        j += 1;
    }
    let ttl = match parse_i64(a[2]) {
        Some(t) if t >= 0 => t,
        Some(_) => return err("ERR Invalid TTL value, must be >= 0"),
        None => return err(msg::NOT_INT),
    };
    if !replace && k.db(cx.db).exists(a[1], cx.clock) {
        return err("BUSYKEY Target key name already exists.");
    }
    let value = match decode_dump_entry(a[3]) {
        Ok((v, attrs)) => {
            stats.attrs = attrs;
            v
        }
        Err(e) => return err(e),
    };
    let expire = match ttl {
        0 => None,
        t if absttl => Some(t),
        t => Some(t.saturating_add(cx.now)),
    };
    let cfg = k.config().clone();
    let db = k.db(cx.db);
    if let Some(e) = expire {
        if !cx.loading && e <= cx.now {
            db.map.remove(a[1]);
            return Ok(Reply::Ok);
        }
    }
    if value.is_empty_collection() {
        return err("ERR Bad data format");
    }
    let stats = (stats.idle_s.is_some() || stats.freq.is_some() || !stats.attrs.is_empty())
        .then(|| Box::new(stats));
    let slot = Slot {
        obj: obj_from_value(&value, &cfg),
        expire,
        stats,
    };
    db.put(a[1], slot);
    Ok(Reply::Ok)
}
