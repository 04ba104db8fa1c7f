//! Duplicate detection for set members, hash fields and zset members within one key, as Redis
//! finds them when it loads the key: exact (bytes are compared when fingerprints meet), with the
//! key's members held up to the memory budget, past which the key is refused as too large.
use crate::format::error::{Error, ErrorKind, Result};
use std::collections::HashMap;
use std::hash::{BuildHasher, BuildHasherDefault, Hasher};

/// Tables up to this many members are kept between keys.
const SMALL: usize = 16384;

/// Member bytes up to this much are kept between keys (with their list of members).
const KEEP_BYTES: usize = 4 << 20;

/// Per-member bookkeeping beyond its bytes: an entry and a table slot.
const OVERHEAD: u64 = 32;

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

/// One member seen: where its bytes are, and the previous member with the same fingerprint.
struct Seen {
    at: usize,
    len: u32,
    next: u32,
}

const NONE: u32 = u32::MAX;

/// The members of the current key.
pub struct Dups {
    heads: HashMap<u64, u32, BuildHasherDefault<Identity>>,
    seen: Vec<Seen>,
    bytes: Vec<u8>,
    budget: u64,
    /// Mixed into every fingerprint, so that colliding members cannot be crafted in advance
    /// (a collision only costs a comparison; this keeps comparisons rare).
    seed: u64,
}

impl Default for Dups {
    fn default() -> Dups {
        Dups::new(u64::MAX)
    }
}

fn dup(at: u64, what: &'static str) -> Error {
    Error::corrupt(at, what, "duplicate detected within one key")
}

impl Dups {
    /// A tracker whose members may take `budget` bytes.
    pub fn new(budget: u64) -> Dups {
        Dups {
            heads: HashMap::default(),
            seen: Vec::new(),
            bytes: Vec::new(),
            budget,
            seed: std::collections::hash_map::RandomState::new().hash_one(0u64),
        }
    }

    /// Forgets the previous key. A table grown for a large key is dropped rather than cleared:
    /// clearing costs its whole capacity, and small keys after it would pay that every time. The
    /// member lists clear at no cost and are kept up to `KEEP_BYTES`, so that a file of many
    /// mid-sized keys does not allocate and free them for every key (freed memory the allocator
    /// keeps for a while is most of `check`'s footprint otherwise).
    pub fn reset(&mut self) {
        if self.heads.capacity() > SMALL {
            self.heads = HashMap::default();
        } else if !self.seen.is_empty() {
            self.heads.clear();
        }
        if self.bytes.capacity() > KEEP_BYTES {
            self.seen = Vec::new();
            self.bytes = Vec::new();
        } else {
            self.seen.clear();
            self.bytes.clear();
        }
    }

    /// Makes room for `n` members up front, so a large key does not rehash as it grows.
    pub fn reserve(&mut self, n: u64) {
        let want = (n as usize).min(1 << 20);
        if want > self.heads.capacity() {
            self.heads.reserve(want - self.heads.len());
        }
    }

    /// Records the member `b` read at `at`; a duplicate of one seen in this key is refused as
    /// Redis refuses it, a key past the budget as too large to check.
    #[inline]
    pub fn insert(&mut self, b: &[u8], at: u64, what: &'static str) -> Result<()> {
        let fp = fingerprint(b, self.seed);
        let head = self.heads.get(&fp).copied().unwrap_or(NONE);
        let mut i = head;
        while i != NONE {
            let s = &self.seen[i as usize];
            if s.len as usize == b.len() && &self.bytes[s.at..s.at + b.len()] == b {
                return Err(dup(at, what));
            }
            i = s.next;
        }
        let used = (self.bytes.len() + b.len()) as u64 + OVERHEAD * (self.seen.len() as u64 + 1);
        if used > self.budget || self.seen.len() >= NONE as usize - 1 {
            return Err(Error::new(
                ErrorKind::LimitExceeded,
                at,
                what,
                format!(
                    "checking this key for duplicates takes more than the memory budget of {} bytes",
                    self.budget
                ),
            ));
        }
        self.seen.push(Seen {
            at: self.bytes.len(),
            len: b.len() as u32,
            next: head,
        });
        self.bytes.extend_from_slice(b);
        self.heads.insert(fp, (self.seen.len() - 1) as u32);
        Ok(())
    }
}

/// A 64-bit fingerprint (multiply-xorshift over 8-byte words, seeded by length and `seed`).
#[inline]
pub fn fingerprint(bytes: &[u8], seed: u64) -> u64 {
    const K: u64 = 0x9e37_79b9_7f4a_7c15;
    let mut h = (bytes.len() as u64).wrapping_mul(K) ^ 0x2545_f491_4f6c_dd1d ^ seed;
    let mut chunks = bytes.chunks_exact(8);
    for c in &mut chunks {
        let mut w = [0u8; 8];
        w.copy_from_slice(c);
        h = (h ^ u64::from_le_bytes(w)).wrapping_mul(K);
        h ^= h >> 29;
    }
    let mut tail = [0u8; 8];
    let rest = chunks.remainder();
    tail[..rest.len()].copy_from_slice(rest);
    h = (h ^ u64::from_le_bytes(tail)).wrapping_mul(K);
    h ^= h >> 32;
    h.wrapping_mul(0xff51_afd7_ed55_8ccd) ^ (h >> 29)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn colliding_fingerprints_are_told_apart_by_their_bytes() {
        // The two members of the issue collided under the old unseeded fingerprint: both must
        // be accepted, and each refused the second time.
        let (a, b) = (&b"member-AAAAAAAA1"[..], &b"member-BAAAICAAp"[..]);
        assert_eq!(
            fingerprint(a, 0),
            fingerprint(b, 0),
            "the collision this test is about"
        );
        let mut d = Dups::default();
        d.insert(a, 1, "set member").unwrap();
        d.insert(b, 2, "set member").unwrap();
        assert_eq!(d.insert(a, 3, "set member").unwrap_err().offset, Some(3));
        assert!(d.insert(b, 4, "set member").is_err());
        d.reset();
        d.insert(a, 5, "set member").unwrap();
    }

    /// The seed is what keeps a collision from being crafted in advance: the pair that collides
    /// under seed 0 must not collide under another seed, and distinct members of one length
    /// must not share a fingerprint (a constant one would make every check a full scan).
    #[test]
    fn fingerprints_depend_on_the_seed_and_on_every_byte() {
        let (a, b) = (&b"member-AAAAAAAA1"[..], &b"member-BAAAICAAp"[..]);
        assert_ne!(fingerprint(a, 1), fingerprint(b, 1));
        assert_ne!(fingerprint(a, 0), fingerprint(a, 1));
        let mut seen = std::collections::HashSet::new();
        for len in 0..20usize {
            for i in 0..len {
                let mut m = vec![b'x'; len];
                m[i] = b'y';
                assert!(seen.insert(fingerprint(&m, 7)), "{m:?}");
            }
        }
    }

    /// `reserve` makes the room it promises, bounded so a lying count cannot claim memory.
    #[test]
    fn reserve_makes_room_up_front_up_to_a_bound() {
        let mut d = Dups::default();
        d.reserve(1000);
        assert!(d.heads.capacity() >= 1000, "{}", d.heads.capacity());
        let mut d = Dups::default();
        d.reserve(u64::MAX);
        let cap = d.heads.capacity();
        assert!(((1 << 20)..(1 << 22)).contains(&cap), "{cap}");
    }

    /// A member costs its bytes plus `OVERHEAD` (its entry and slot): 4-byte members cost 36
    /// each, so a budget of 1000 holds 27 of them (972 bytes) and refuses the 28th (1008).
    #[test]
    fn the_budget_counts_each_member_its_bytes_plus_the_overhead() {
        let mut d = Dups::new(1000);
        for i in 0..27u32 {
            d.insert(&i.to_le_bytes(), i as u64, "set member").unwrap();
        }
        let e = d
            .insert(&27u32.to_le_bytes(), 27, "set member")
            .unwrap_err();
        assert_eq!((e.kind, e.offset), (ErrorKind::LimitExceeded, Some(27)));
    }

    #[test]
    fn a_key_beyond_the_budget_is_refused_not_half_checked() {
        let mut d = Dups::new(1000);
        let e = (0..100u32)
            .map(|i| d.insert(&i.to_le_bytes(), i as u64, "set member"))
            .find_map(|r| r.err())
            .expect("the budget ends the check");
        assert_eq!(e.kind, ErrorKind::LimitExceeded);
    }
}
