//! HyperLogLog (PFADD, PFCOUNT, PFMERGE) byte for byte as Redis's `hyperloglog.c`: the value is a
//! string (`HYLL` header, sparse or dense registers), so every operation must leave the same bytes.
use super::db::{Obj, Slot};
use super::reply::{err, msg, CmdResult, Reply};
use super::{readonly, spec, Cx, Keyspace, Spec};

pub(crate) const COMMANDS: &[Spec] = &[
    spec("pfadd", -2, pfadd),
    readonly("pfcount", -2, pfcount),
    spec("pfmerge", -2, pfmerge),
];

const HDR: usize = 16;
const P: u32 = 14;
const Q: u32 = 64 - P;
const REGISTERS: usize = 1 << P;
const DENSE_SIZE: usize = HDR + (REGISTERS * 6).div_ceil(8);
const SPARSE: u8 = 1;
const DENSE: u8 = 0;
const VAL_MAX_VALUE: u8 = 32;
const VAL_MAX_LEN: usize = 4;
const ZERO_MAX_LEN: usize = 64;
const XZERO_MAX_LEN: usize = 16384;
/// `HLL_ALPHA_INF`, 0.5/ln(2), with the digits of Redis's literal.
#[allow(clippy::excessive_precision)]
const ALPHA_INF: f64 = 0.721347520444481703680;
const NOT_HLL: &str = "WRONGTYPE Key is not a valid HyperLogLog string value.";
const CORRUPT: &str = "INVALIDOBJ Corrupted HLL object detected";

/// MurmurHash64A, as Redis uses it (little-endian words).
fn murmur64a(key: &[u8], seed: u64) -> u64 {
    const M: u64 = 0xc6a4_a793_5bd1_e995;
    let mut h = seed ^ (key.len() as u64).wrapping_mul(M);
    let mut chunks = key.chunks_exact(8);
    for c in &mut chunks {
        let mut k = u64::from_le_bytes(c.try_into().expect("8 bytes"));
        k = k.wrapping_mul(M);
        k ^= k >> 47;
        k = k.wrapping_mul(M);
        h ^= k;
        h = h.wrapping_mul(M);
    }
    let rest = chunks.remainder();
    if !rest.is_empty() {
        for (i, b) in rest.iter().enumerate() {
            h ^= (*b as u64) << (8 * i);
        }
        h = h.wrapping_mul(M);
    }
    h ^= h >> 47;
    h = h.wrapping_mul(M);
    h ^ (h >> 47)
}

/// `hllPatLen`: the register and the run length of zeroes plus one.
fn pat_len(ele: &[u8]) -> (usize, u8) {
    let hash = murmur64a(ele, 0xadc8_3b19);
    let index = (hash & (REGISTERS as u64 - 1)) as usize;
    let rest = (hash >> P) | (1u64 << Q);
    (index, rest.trailing_zeros() as u8 + 1)
}

fn dense_get(regs: &[u8], i: usize) -> u8 {
    let byte = i * 6 / 8;
    let fb = (i * 6) & 7;
    let b0 = regs[byte] as u32;
    let b1 = regs.get(byte + 1).copied().unwrap_or(0) as u32;
    (((b0 >> fb) | (b1 << (8 - fb))) & 63) as u8
}

fn dense_put(regs: &mut [u8], i: usize, v: u8) {
    let byte = i * 6 / 8;
    let fb = (i * 6) & 7;
    let v = v as u32;
    regs[byte] &= !((63u32 << fb) as u8);
    regs[byte] |= (v << fb) as u8;
    if let Some(b) = regs.get_mut(byte + 1) {
        *b &= !((63u32 >> (8 - fb)) as u8);
        *b |= (v >> (8 - fb)) as u8;
    }
}

/// `hllDenseSet`: true when the register grew.
fn dense_set(s: &mut [u8], i: usize, count: u8) -> bool {
    let regs = &mut s[HDR..];
    if count > dense_get(regs, i) {
        dense_put(regs, i, count);
        true
    } else {
        false
    }
}

/// A decoded sparse opcode: (registers covered, value, opcode bytes).
fn op(s: &[u8], p: usize) -> (usize, u8, usize) {
    let b = s[p];
    match b & 0xc0 {
        0x00 => ((b & 0x3f) as usize + 1, 0, 1),
        0x40 => (
            ((((b & 0x3f) as usize) << 8) | *s.get(p + 1).unwrap_or(&0) as usize) + 1,
            0,
            2,
        ),
        _ => ((b & 3) as usize + 1, ((b >> 2) & 0x1f) + 1, 1),
    }
}

fn val_op(v: u8, len: usize) -> u8 {
    (((v - 1) << 2) | (len as u8 - 1)) | 0x80
}

fn zero_ops(len: usize, out: &mut Vec<u8>) {
    if len > ZERO_MAX_LEN {
        let l = len - 1;
        out.extend_from_slice(&[((l >> 8) as u8) | 0x40, (l & 0xff) as u8]);
    } else {
        out.push((len - 1) as u8);
    }
}

/// `hllSparseToDense`; `None` when the sparse data does not cover exactly every register.
fn to_dense(s: &[u8]) -> Option<Vec<u8>> {
    if s[4] == DENSE {
        return Some(s.to_vec());
    }
    let mut d = vec![0u8; DENSE_SIZE];
    d[..HDR].copy_from_slice(&s[..HDR]);
    d[4] = DENSE;
    let (mut idx, mut p) = (0, HDR);
    while p < s.len() {
        let (run, v, len) = op(s, p);
        if v > 0 {
            if run + idx > REGISTERS {
                break;
            }
            for r in idx..idx + run {
                dense_put(&mut d[HDR..], r, v);
            }
        }
        idx += run;
        p += len;
    }
    (idx == REGISTERS).then_some(d)
}

/// `hllSparseSet`: `Some(true)` when a register grew, `None` for corrupt data.
fn sparse_set(s: &mut Vec<u8>, index: usize, count: u8, max_bytes: usize) -> Option<bool> {
    if count <= VAL_MAX_VALUE {
        let (mut p, mut first, mut prev, mut span) = (HDR, 0usize, None, 0usize);
        while p < s.len() {
            let (run, _, len) = op(s, p);
            span = run;
            if index < first + span {
                break;
            }
            prev = Some(p);
            p += len;
            first += span;
        }
        if span == 0 || p >= s.len() {
            return None;
        }
        let (run, val, oplen) = op(s, p);
        let mut done = false;
        if val > 0 {
            if val >= count {
                return Some(false);
            }
            if run == 1 {
                s[p] = val_op(count, 1);
                done = true;
            }
        } else if oplen == 1 && run == 1 {
            s[p] = val_op(count, 1);
            done = true;
        }
        if !done {
            let last = first + span - 1;
            let mut seq = Vec::with_capacity(5);
            if val == 0 {
                if index != first {
                    zero_ops(index - first, &mut seq);
                }
                seq.push(val_op(count, 1));
                if index != last {
                    zero_ops(last - index, &mut seq);
                }
            } else {
                if index != first {
                    seq.push(val_op(val, index - first));
                }
                seq.push(val_op(count, 1));
                if index != last {
                    seq.push(val_op(val, last - index));
                }
            }
            if seq.len() > oplen && s.len() + seq.len() - oplen > max_bytes {
                return promote(s, index, count);
            }
            s.splice(p..p + oplen, seq);
        }
        // Merge adjacent VAL opcodes of the same value, scanning up to 5 opcodes from prev.
        let mut p = prev.unwrap_or(HDR);
        let mut scan = 5;
        while p < s.len() {
            if scan == 0 {
                break;
            }
            scan -= 1;
            match s[p] & 0xc0 {
                0x40 => p += 2,
                0x00 => p += 1,
                _ => {
                    if p + 1 < s.len() && s[p + 1] & 0x80 != 0 {
                        let (l1, v1, _) = op(s, p);
                        let (l2, v2, _) = op(s, p + 1);
                        if v1 == v2 && l1 + l2 <= VAL_MAX_LEN {
                            s[p + 1] = val_op(v1, l1 + l2);
                            s.remove(p);
                            continue;
                        }
                    }
                    p += 1;
                }
            }
        }
        s[15] |= 0x80;
        return Some(true);
    }
    promote(s, index, count)
}

fn promote(s: &mut Vec<u8>, index: usize, count: u8) -> Option<bool> {
    *s = to_dense(s)?;
    Some(dense_set(s, index, count))
}

/// A new, empty sparse HLL: the header and XZERO opcodes for every register.
fn empty_hll() -> Vec<u8> {
    let mut s = vec![0u8; HDR];
    s[..4].copy_from_slice(b"HYLL");
    s[4] = SPARSE;
    let mut left = REGISTERS;
    while left > 0 {
        let n = left.min(XZERO_MAX_LEN);
        let l = n - 1;
        s.extend_from_slice(&[((l >> 8) as u8) | 0x40, (l & 0xff) as u8]);
        left -= n;
    }
    s
}

/// `isHLLObjectOrReply`.
fn is_hll(s: &[u8]) -> bool {
    s.len() >= HDR
        && &s[..4] == b"HYLL"
        && s[4] <= SPARSE
        && (s[4] != DENSE || s.len() == DENSE_SIZE)
}

/// Folds an HLL into `max` (`hllMerge`); `false` for corrupt sparse data.
fn merge(max: &mut [u8], s: &[u8]) -> bool {
    if s[4] == DENSE {
        for (i, m) in max.iter_mut().enumerate() {
            *m = (*m).max(dense_get(&s[HDR..], i));
        }
        return true;
    }
    let (mut i, mut p) = (0, HDR);
    while p < s.len() {
        let (run, v, len) = op(s, p);
        if v > 0 {
            if run + i > REGISTERS {
                break;
            }
            for m in &mut max[i..i + run] {
                *m = (*m).max(v);
            }
        }
        i += run;
        p += len;
    }
    i == REGISTERS
}

fn sigma(mut x: f64) -> f64 {
    if x == 1.0 {
        return f64::INFINITY;
    }
    let (mut y, mut z) = (1.0, x);
    loop {
        x *= x;
        let prev = z;
        z += x * y;
        y += y;
        if prev == z {
            return z;
        }
    }
}

fn tau(mut x: f64) -> f64 {
    if x == 0.0 || x == 1.0 {
        return 0.0;
    }
    let (mut y, mut z) = (1.0, 1.0 - x);
    loop {
        x = x.sqrt();
        let prev = z;
        y *= 0.5;
        z -= (1.0 - x).powf(2.0) * y;
        if prev == z {
            return z / 3.0;
        }
    }
}

/// `hllCount` from a register histogram.
fn count(histo: &[u32; 64]) -> u64 {
    let m = REGISTERS as f64;
    let mut z = m * tau((m - histo[Q as usize + 1] as f64) / m);
    for j in (1..=Q as usize).rev() {
        z += histo[j] as f64;
        z *= 0.5;
    }
    z += m * sigma(histo[0] as f64 / m);
    (ALPHA_INF * m * m / z).round() as u64
}

fn histogram(regs: impl Iterator<Item = u8>) -> [u32; 64] {
    let mut h = [0u32; 64];
    for r in regs {
        h[r as usize & 63] += 1;
    }
    h
}

/// The HLL bytes at a looked-up slot: `Ok(None)` when absent, an error text for another type or
/// a string that is not an HLL.
fn hll_of(slot: Option<&mut Slot>) -> Result<Option<&mut Vec<u8>>, &'static str> {
    match slot {
        None => Ok(None),
        Some(Slot {
            obj: Obj::Str(s), ..
        }) if is_hll(s) => Ok(Some(s)),
        Some(Slot {
            obj: Obj::Str(_), ..
        }) => Err(NOT_HLL),
        Some(_) => Err(msg::WRONGTYPE),
    }
}

fn pfadd(k: &mut Keyspace, cx: &mut Cx, a: &[&[u8]]) -> CmdResult {
    let max_bytes = k.config().hll_sparse_max_bytes.min(usize::MAX as u64) as usize;
    let db = k.db(cx.db);
    let mut updated = 0;
    if db.get(a[1], cx.clock).is_none() {
        db.map.insert(a[1].into(), Slot::new(Obj::Str(empty_hll())));
        updated += 1;
    }
    let s = match hll_of(db.map.get_mut(a[1])) {
        Ok(Some(s)) => s,
        Ok(None) => unreachable!("created above"),
        Err(e) => return err(e),
    };
    for ele in &a[2..] {
        let (i, c) = pat_len(ele);
        let grew = if s[4] == DENSE {
            Some(dense_set(s, i, c))
        } else {
            sparse_set(s, i, c, max_bytes)
        };
        match grew {
            Some(true) => updated += 1,
            Some(false) => {}
            None => return err(CORRUPT),
        }
    }
    if updated > 0 {
        s[15] |= 0x80;
    }
    Ok(Reply::Int((updated > 0) as i64))
}

/// Folds the HLLs at `keys` into one register array (missing keys are empty).
fn union(k: &mut Keyspace, cx: &Cx, keys: &[&[u8]]) -> Result<(Vec<u8>, bool), &'static str> {
    let db = k.db(cx.db);
    let (mut max, mut any_dense) = (vec![0u8; REGISTERS], false);
    for key in keys {
        if let Some(s) = hll_of(db.get(key, cx.clock))? {
            any_dense |= s[4] == DENSE;
            if !merge(&mut max, s) {
                return Err(CORRUPT);
            }
        }
    }
    Ok((max, any_dense))
}

/// PFCOUNT: one key returns (and caches in the value) its estimate; several keys estimate
/// their union without changing anything.
fn pfcount(k: &mut Keyspace, cx: &mut Cx, a: &[&[u8]]) -> CmdResult {
    if a.len() > 2 {
        return match union(k, cx, &a[1..]) {
            Ok((max, _)) => Ok(Reply::Int(count(&histogram(max.into_iter())) as i64)),
            Err(e) => err(e),
        };
    }
    let s = match hll_of(k.db(cx.db).get(a[1], cx.clock)) {
        Ok(Some(s)) => s,
        Ok(None) => return Ok(Reply::Int(0)),
        Err(e) => return err(e),
    };
    if s[15] & 0x80 == 0 {
        let cached = u64::from_le_bytes(s[8..16].try_into().expect("8 bytes"));
        return Ok(Reply::Int(cached as i64));
    }
    let card = if s[4] == DENSE {
        count(&histogram((0..REGISTERS).map(|i| dense_get(&s[HDR..], i))))
    } else {
        // `hllSparseRegHisto`: opcodes counted as they are; a wrong total is corrupt.
        let (mut h, mut idx, mut p) = ([0u32; 64], 0usize, HDR);
        while p < s.len() {
            let (run, v, len) = op(s, p);
            h[v as usize] += run as u32;
            idx += run;
            p += len;
        }
        if idx != REGISTERS {
            return err(CORRUPT);
        }
        count(&h)
    };
    s[8..16].copy_from_slice(&card.to_le_bytes());
    Ok(Reply::Int(card as i64))
}

/// PFMERGE dest src...: the destination (itself an input) takes the maximum of every register;
/// it turns dense when any input is dense.
fn pfmerge(k: &mut Keyspace, cx: &mut Cx, a: &[&[u8]]) -> CmdResult {
    let max_bytes = k.config().hll_sparse_max_bytes.min(usize::MAX as u64) as usize;
    let (max, use_dense) = match union(k, cx, &a[1..]) {
        Ok(r) => r,
        Err(e) => return err(e),
    };
    let db = k.db(cx.db);
    if !db.map.contains_key(a[1]) {
        db.map.insert(a[1].into(), Slot::new(Obj::Str(empty_hll())));
    }
    let Ok(Some(s)) = hll_of(db.map.get_mut(a[1])) else {
        return err(NOT_HLL);
    };
    if use_dense {
        match to_dense(s) {
            Some(d) => *s = d,
            None => return err(CORRUPT),
        }
    }
    for (j, &m) in max.iter().enumerate().filter(|(_, m)| **m > 0) {
        if s[4] == DENSE {
            dense_set(s, j, m);
        } else {
            sparse_set(s, j, m, max_bytes);
        }
    }
    s[15] |= 0x80;
    Ok(Reply::Ok)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The registers of a valid HLL, `None` for corrupt sparse data.
    fn registers(s: &[u8]) -> Option<Vec<u8>> {
        let mut max = vec![0u8; REGISTERS];
        merge(&mut max, s).then_some(max)
    }

    #[test]
    fn an_empty_hll_is_two_xzero_opcodes() {
        let s = empty_hll();
        assert_eq!(s.len(), 18);
        assert_eq!(&s[16..], &[0x7f, 0xff]);
        assert!(is_hll(&s));
        assert_eq!(count(&histogram(registers(&s).unwrap().into_iter())), 0);
    }

    #[test]
    fn dense_registers_pack_six_bits() {
        let mut regs = vec![0u8; DENSE_SIZE - HDR];
        for i in [0, 1, 2, 3, 16383] {
            dense_put(&mut regs, i, (i % 63) as u8 + 1);
        }
        for i in [0, 1, 2, 3, 16383] {
            assert_eq!(dense_get(&regs, i), (i % 63) as u8 + 1);
        }
        assert_eq!(dense_get(&regs, 4), 0);
    }
}
