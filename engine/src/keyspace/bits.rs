//! Bit commands on strings (bit 0 is the most significant bit of the first byte): SETBIT, GETBIT,
//! BITCOUNT and BITOP AND/OR/XOR/NOT, all propagated to an AOF as issued.
use super::args::{is, parse_i64};
use super::db::{Obj, Slot};
use super::reply::{err, msg, CmdResult, Reply};
use super::{readonly, spec, Cx, Keyspace, Spec};

pub(crate) const COMMANDS: &[Spec] = &[
    spec("setbit", 4, setbit),
    readonly("getbit", 3, getbit),
    readonly("bitcount", -2, bitcount),
    spec("bitop", -4, bitop),
];

/// Offsets address at most 2^32 bits (512 MB, `proto-max-bulk-len`).
const MAX_BIT_OFFSET: i64 = (1 << 32) - 1;

fn bit_offset(b: &[u8]) -> Option<u64> {
    parse_i64(b)
        .filter(|o| (0..=MAX_BIT_OFFSET).contains(o))
        .map(|o| o as u64)
}

fn setbit(k: &mut Keyspace, cx: &mut Cx, a: &[&[u8]]) -> CmdResult {
    let Some(off) = bit_offset(a[2]) else {
        return err("ERR bit offset is not an integer or out of range");
    };
    let on = match a[3] {
        b"0" => false,
        b"1" => true,
        _ => return err("ERR bit is not an integer or out of range"),
    };
    let db = k.db(cx.db);
    let s = match db.get(a[1], cx.clock) {
        Some(Slot {
            obj: Obj::Str(s), ..
        }) => s,
        Some(_) => return err(msg::WRONGTYPE),
        None => {
            db.map.insert(a[1].into(), Slot::new(Obj::Str(Vec::new())));
            match db.map.get_mut(a[1]) {
                Some(Slot {
                    obj: Obj::Str(s), ..
                }) => s,
                _ => unreachable!("just inserted"),
            }
        }
    };
    let byte = (off / 8) as usize;
    let mask = 0x80u8 >> (off % 8);
    if s.len() <= byte {
        s.resize(byte + 1, 0);
    }
    let old = s[byte] & mask != 0;
    if on {
        s[byte] |= mask;
    } else {
        s[byte] &= !mask;
    }
    Ok(Reply::Int(old as i64))
}

fn getbit(k: &mut Keyspace, cx: &mut Cx, a: &[&[u8]]) -> CmdResult {
    let Some(off) = bit_offset(a[2]) else {
        return err("ERR bit offset is not an integer or out of range");
    };
    match k.db(cx.db).get(a[1], cx.clock) {
        None => Ok(Reply::Int(0)),
        Some(Slot {
            obj: Obj::Str(s), ..
        }) => {
            let byte = (off / 8) as usize;
            Ok(Reply::Int(
                s.get(byte).is_some_and(|b| b & (0x80 >> (off % 8)) != 0) as i64,
            ))
        }
        Some(_) => err(msg::WRONGTYPE),
    }
}

/// BITCOUNT key [start end [BYTE|BIT]].
fn bitcount(k: &mut Keyspace, cx: &mut Cx, a: &[&[u8]]) -> CmdResult {
    let range = match a.len() {
        2 => None,
        4 | 5 => {
            let Some((s, e)) = super::args::parse_range(a[2], a[3]) else {
                return err(msg::NOT_INT);
            };
            let bits = match a.get(4) {
                None => false,
                Some(u) if is(u, "byte") => false,
                Some(u) if is(u, "bit") => true,
                Some(_) => return err(msg::SYNTAX),
            };
            Some((s, e, bits))
        }
        _ => return err(msg::SYNTAX),
    };
    let s = match k.db(cx.db).get(a[1], cx.clock) {
        None => return Ok(Reply::Int(0)),
        Some(Slot {
            obj: Obj::Str(s), ..
        }) => s,
        Some(_) => return err(msg::WRONGTYPE),
    };
    let Some((start, end, bits)) = range else {
        return Ok(Reply::Int(s.iter().map(|b| b.count_ones() as i64).sum()));
    };
    let total = if bits {
        s.len() as i64 * 8
    } else {
        s.len() as i64
    };
    let fix = |v: i64| if v < 0 { (total + v).max(0) } else { v };
    let (start, end) = (fix(start), fix(end).min(total - 1));
    if start > end || total == 0 {
        return Ok(Reply::Int(0));
    }
    let n = if bits {
        (start..=end)
            .filter(|i| s[(i / 8) as usize] & (0x80 >> (i % 8)) != 0)
            .count() as i64
    } else {
        s[start as usize..=end as usize]
            .iter()
            .map(|b| b.count_ones() as i64)
            .sum()
    };
    Ok(Reply::Int(n))
}

/// BITOP AND|OR|XOR|NOT destkey key...: shorter inputs count as zero-padded; an empty result
/// deletes the destination. Replies with the result's length.
fn bitop(k: &mut Keyspace, cx: &mut Cx, a: &[&[u8]]) -> CmdResult {
    let op = match () {
        _ if is(a[1], "and") => 0,
        _ if is(a[1], "or") => 1,
        _ if is(a[1], "xor") => 2,
        _ if is(a[1], "not") => 3,
        _ => return err(msg::SYNTAX),
    };
    if op == 3 && a.len() != 4 {
        return err("ERR BITOP NOT must be called with a single source key.");
    }
    let db = k.db(cx.db);
    let mut srcs: Vec<Vec<u8>> = Vec::with_capacity(a.len() - 3);
    for key in &a[3..] {
        match db.get(key, cx.clock) {
            None => srcs.push(Vec::new()),
            Some(Slot {
                obj: Obj::Str(s), ..
            }) => srcs.push(s.clone()),
            Some(_) => return err(msg::WRONGTYPE),
        }
    }
    let len = srcs.iter().map(Vec::len).max().unwrap_or(0);
    let byte = |s: &Vec<u8>, i: usize| s.get(i).copied().unwrap_or(0);
    let out: Vec<u8> = (0..len)
        .map(|i| match op {
            0 => srcs.iter().fold(0xFF, |acc, s| acc & byte(s, i)),
            1 => srcs.iter().fold(0, |acc, s| acc | byte(s, i)),
            2 => srcs.iter().fold(0, |acc, s| acc ^ byte(s, i)),
            _ => !byte(&srcs[0], i),
        })
        .collect();
    db.map.remove(a[2]);
    if !out.is_empty() {
        db.map.insert(a[2].into(), Slot::new(Obj::Str(out)));
    }
    Ok(Reply::Int(len as i64))
}
