//! Duplicate detection for set members, hash fields and zset members within one key, by 64-bit
//! fingerprint and up to a fixed number of members, so memory stays bounded whatever the key.
use std::collections::HashSet;
use std::hash::{BuildHasherDefault, Hasher};

/// Members tracked per key; beyond this, duplicates go undetected by the streaming check (the
/// dataset builder still finds them, since it holds the whole key).
pub const TRACKED: usize = 1 << 17;

/// Tables up to this capacity are kept between keys.
const SMALL: usize = 4096;

#[derive(Default)]
struct Identity(u64);

impl Hasher for Identity {
    fn finish(&self) -> u64 {
        self.0
    }
    fn write(&mut self, _: &[u8]) {
        unreachable!("only u64 fingerprints are hashed")
    }
    fn write_u64(&mut self, v: u64) {
        self.0 = v;
    }
}

/// Fingerprints seen in the current key.
#[derive(Default)]
pub struct Dups {
    seen: HashSet<u64, BuildHasherDefault<Identity>>,
}

impl Dups {
    /// Forgets the previous key. A table grown for a large key is dropped rather than cleared:
    /// clearing costs its whole capacity, and small keys after it would pay that every time.
    pub fn reset(&mut self) {
        if self.seen.capacity() > SMALL {
            self.seen = HashSet::default();
        } else if !self.seen.is_empty() {
            self.seen.clear();
        }
    }

    /// Makes room for `n` members up front, so a large key does not rehash as it grows.
    pub fn reserve(&mut self, n: u64) {
        let want = (n as usize).min(TRACKED);
        if want > self.seen.capacity() {
            self.seen.reserve(want - self.seen.len());
        }
    }

    /// Records `bytes`; false when it was seen before in this key.
    #[inline]
    pub fn insert(&mut self, bytes: &[u8]) -> bool {
        if self.seen.len() >= TRACKED {
            return true;
        }
        self.seen.insert(fingerprint(bytes))
    }
}

/// A 64-bit fingerprint (multiply-xorshift over 8-byte words, seeded by length).
#[inline]
pub fn fingerprint(bytes: &[u8]) -> u64 {
    const K: u64 = 0x9e37_79b9_7f4a_7c15;
    let mut h = (bytes.len() as u64).wrapping_mul(K) ^ 0x2545_f491_4f6c_dd1d;
    let mut chunks = bytes.chunks_exact(8);
    for c in &mut chunks {
        let w = u64::from_le_bytes(c.try_into().expect("8-byte chunk"));
        h = (h ^ w).wrapping_mul(K);
        h ^= h >> 29;
    }
    let mut tail = [0u8; 8];
    let rest = chunks.remainder();
    tail[..rest.len()].copy_from_slice(rest);
    h = (h ^ u64::from_le_bytes(tail)).wrapping_mul(K);
    h ^= h >> 32;
    h.wrapping_mul(0xff51_afd7_ed55_8ccd) ^ (h >> 29)
}
