//! RESTORE (a DUMP payload decoded with the engine's own RDB reader) and the script-cache commands
//! an old AOF may hold (SCRIPT LOAD/FLUSH), which leave the data untouched.
use super::args::{is, parse_i64};
use super::dataset::obj_from_value;
use super::db::{Slot, Stats};
use super::reply::{err, msg, CmdResult, CommandError, Reply};
use super::{arity_ok, spec, Cx, Keyspace, Spec};
use crate::format::rdb::{read_dataset, ReadOptions};

pub(crate) const COMMANDS: &[Spec] = &[spec("restore", -4, restore), spec("script", -2, script)];

/// The newest RDB version a Redis-magic payload may carry (Redis 7.4 writes 12).
const MAX_REDIS_VERSION: u16 = 12;
/// Valkey 9's RDB version, written with the `VALKEY` magic.
const VALKEY_VERSION: u16 = 80;

/// Decodes a DUMP payload (`type, value, RDB version u16 LE, CRC-64 LE`; a zero CRC is accepted)
/// by wrapping it in a one-key RDB file.
pub(crate) fn decode_dump(payload: &[u8]) -> Result<crate::dataset::Value, String> {
    let bad = || "ERR DUMP payload version or checksum are wrong".to_string();
    if payload.len() < 10 {
        return Err(bad());
    }
    let (body, footer) = payload.split_at(payload.len() - 10);
    let ver = u16::from_le_bytes([footer[0], footer[1]]);
    let crc = u64::from_le_bytes(footer[2..].try_into().map_err(|_| bad())?);
    let computed = crate::format::crc64::checksum(&payload[..payload.len() - 8]);
    if (crc != 0 && crc != computed) || !(ver <= MAX_REDIS_VERSION || ver == VALKEY_VERSION) {
        return Err(bad());
    }
    let (&ty, value) = body.split_first().ok_or_else(bad)?;
    let mut rdb = if ver == VALKEY_VERSION {
        format!("VALKEY{ver:03}").into_bytes()
    } else {
        format!("REDIS{ver:04}").into_bytes()
    };
    rdb.push(ty);
    rdb.extend_from_slice(&[1, b'k']);
    rdb.extend_from_slice(value);
    rdb.push(0xFF);
    if ver >= 5 {
        rdb.extend_from_slice(&[0; 8]);
    }
    match read_dataset(&rdb, ReadOptions::default()) {
        Ok((mut d, _)) if d.keys.len() == 1 => Ok(d.keys.remove(0).value),
        _ => Err("ERR Bad data format".into()),
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
    let value = match decode_dump(a[3]) {
        Ok(v) => v,
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
    let stats = (stats.idle_s.is_some() || stats.freq.is_some()).then(|| Box::new(stats));
    let slot = Slot {
        obj: obj_from_value(&value, &cfg),
        expire,
        stats,
    };
    db.put(a[1], slot);
    Ok(Reply::Ok)
}

/// SCRIPT LOAD|FLUSH|EXISTS: Redis 6.2 and older propagated SCRIPT LOAD; the script cache is not
/// data, so nothing is kept. LOAD replies with the script's SHA-1 as Redis does.
fn script(_: &mut Keyspace, _: &mut Cx, a: &[&[u8]]) -> CmdResult {
    let sub = a[1].to_ascii_lowercase();
    let arity = match sub.as_slice() {
        b"load" => 3,
        b"flush" => -2,
        b"exists" => -3,
        _ => {
            return err(format!(
                "ERR unknown subcommand '{}'. Try SCRIPT HELP.",
                String::from_utf8_lossy(a[1])
            ))
        }
    };
    if !arity_ok(arity, a.len()) {
        return Err(CommandError::WrongArity(format!(
            "script|{}",
            String::from_utf8_lossy(&sub)
        )));
    }
    Ok(match sub.as_slice() {
        b"load" => Reply::Bulk(sha1_hex(a[2]).into_bytes()),
        b"flush" => Reply::Ok,
        _ => Reply::Array(a[2..].iter().map(|_| Reply::Int(0)).collect()),
    })
}

/// SHA-1 (FIPS 180-4) in lower-case hex.
pub(crate) fn sha1_hex(data: &[u8]) -> String {
    let mut h: [u32; 5] = [
        0x6745_2301,
        0xEFCD_AB89,
        0x98BA_DCFE,
        0x1032_5476,
        0xC3D2_E1F0,
    ];
    let mut msg = data.to_vec();
    msg.push(0x80);
    while msg.len() % 64 != 56 {
        msg.push(0);
    }
    msg.extend_from_slice(&((data.len() as u64).wrapping_mul(8)).to_be_bytes());
    for block in msg.chunks_exact(64) {
        let mut w = [0u32; 80];
        for (i, c) in block.chunks_exact(4).enumerate() {
            w[i] = u32::from_be_bytes([c[0], c[1], c[2], c[3]]);
        }
        for i in 16..80 {
            w[i] = (w[i - 3] ^ w[i - 8] ^ w[i - 14] ^ w[i - 16]).rotate_left(1);
        }
        let [mut a, mut b, mut c, mut d, mut e] = h;
        for (i, wi) in w.iter().enumerate() {
            let (f, k) = match i {
                0..=19 => ((b & c) | (!b & d), 0x5A82_7999),
                20..=39 => (b ^ c ^ d, 0x6ED9_EBA1),
                40..=59 => ((b & c) | (b & d) | (c & d), 0x8F1B_BCDC),
                _ => (b ^ c ^ d, 0xCA62_C1D6),
            };
            let t = a
                .rotate_left(5)
                .wrapping_add(f)
                .wrapping_add(e)
                .wrapping_add(k)
                .wrapping_add(*wi);
            e = d;
            d = c;
            c = b.rotate_left(30);
            b = a;
            a = t;
        }
        for (x, y) in h.iter_mut().zip([a, b, c, d, e]) {
            *x = x.wrapping_add(y);
        }
    }
    h.iter().map(|x| format!("{x:08x}")).collect()
}

#[cfg(test)]
mod tests {
    use super::sha1_hex;

    #[test]
    fn sha1_known_answers() {
        assert_eq!(sha1_hex(b""), "da39a3ee5e6b4b0d3255bfef95601890afd80709");
        assert_eq!(sha1_hex(b"abc"), "a9993e364706816aba3e25717850c26c9cd0d89d");
        assert_eq!(
            sha1_hex(b"abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq"),
            "84983e441c3bd26ebaae4aa1f95129e5e54670f1"
        );
    }
}
