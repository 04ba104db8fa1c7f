//! The sorted-set value type: members by score and by name, and the listpack limits that decide
//! its encoding as Redis's do. The commands on it live in `zsets.rs` and `zset_ranges.rs`.
use super::fxhash::FxHashMap;
use super::{Config, Keyspace};
use std::cmp::Ordering;
use std::collections::BTreeSet;

/// A score with a total order in which -0.0 equals 0.0 (scores are never NaN).
#[derive(Debug, Clone, Copy)]
pub(crate) struct ScoreKey(f64);

impl ScoreKey {
    /// The key for `s`, with -0 folded into 0.
    #[inline]
    pub(crate) fn new(s: f64) -> ScoreKey {
        ScoreKey(if s == 0.0 { 0.0 } else { s })
    }
}

impl PartialEq for ScoreKey {
    fn eq(&self, o: &Self) -> bool {
        self.cmp(o) == Ordering::Equal
    }
}
impl Eq for ScoreKey {}
impl PartialOrd for ScoreKey {
    fn partial_cmp(&self, o: &Self) -> Option<Ordering> {
        Some(self.cmp(o))
    }
}
impl Ord for ScoreKey {
    fn cmp(&self, o: &Self) -> Ordering {
        self.0.total_cmp(&o.0)
    }
}

/// A sorted set.
#[derive(Debug, Clone, Default)]
pub(crate) struct ZsetObj {
    /// Member → score (the exact score stored: -0 is kept outside the listpack encoding).
    pub(crate) dict: FxHashMap<Vec<u8>, f64>,
    /// Members in (score, member-bytes) order.
    pub(crate) index: BTreeSet<(ScoreKey, Vec<u8>)>,
    /// Whether Redis would hold it as a listpack, which stores an integral score as an integer
    /// (so -0 becomes 0). Follows `zsetTypeCreate`, the conversions on growth, and
    /// `zsetConvertToListpackIfNeeded` for STORE results.
    pub(crate) listpack: bool,
}

/// The `zset-max-listpack-*` settings.
#[derive(Debug, Clone, Copy)]
pub(crate) struct ZsetLimits {
    pub(crate) entries: usize,
    pub(crate) value: usize,
}

impl ZsetLimits {
    /// The limits of a keyspace's configuration.
    pub(crate) fn of(k: &Keyspace) -> ZsetLimits {
        ZsetLimits::from_config(k.config())
    }

    /// The limits of a configuration.
    pub(crate) fn from_config(c: &Config) -> ZsetLimits {
        let clamp = |v: u64| usize::try_from(v).unwrap_or(usize::MAX);
        ZsetLimits {
            entries: clamp(c.zset_max_listpack_entries),
            value: clamp(c.zset_max_listpack_value),
        }
    }
}

impl ZsetObj {
    /// An empty set encoded as `zsetTypeCreate(size_hint, value_len_hint)` would choose.
    pub(crate) fn create(size_hint: usize, value_len_hint: usize, lim: ZsetLimits) -> ZsetObj {
        ZsetObj {
            listpack: size_hint <= lim.entries && value_len_hint <= lim.value,
            ..ZsetObj::default()
        }
    }

    /// `zsetTypeMaybeConvert`: too many incoming elements leave the listpack.
    pub(crate) fn maybe_convert(&mut self, size_hint: usize, lim: ZsetLimits) {
        if size_hint > lim.entries {
            self.listpack = false;
        }
    }

    /// Before adding a new member: a listpack that would grow too long, or a member too large
    /// for it, converts to a skiplist first.
    pub(crate) fn before_add(&mut self, member_len: usize, lim: ZsetLimits) {
        if self.listpack && (self.dict.len() + 1 > lim.entries || member_len > lim.value) {
            self.listpack = false;
        }
    }

    /// `zsetConvertToListpackIfNeeded`: a small enough set becomes a listpack (scores of -0
    /// become 0 on the way).
    pub(crate) fn listpack_if_small(&mut self, lim: ZsetLimits) {
        let small =
            self.dict.len() <= lim.entries && self.dict.keys().all(|m| m.len() <= lim.value);
        if small && !self.listpack {
            self.listpack = true;
            for s in self.dict.values_mut().filter(|s| **s == 0.0) {
                *s = 0.0;
            }
        }
    }

    /// The score as stored: in a listpack an integral score is an integer, so -0 is 0.
    #[inline]
    fn listpack_score(&self, s: f64) -> f64 {
        if self.listpack && s == 0.0 {
            0.0
        } else {
            s
        }
    }

    /// Inserts or re-scores a member.
    pub(crate) fn insert(&mut self, m: &[u8], score: f64) {
        let score = self.listpack_score(score);
        match self.dict.get_mut(m) {
            Some(old) => {
                let prev = *old;
                *old = score;
                if ScoreKey::new(prev) != ScoreKey::new(score) {
                    let mut key = (ScoreKey::new(prev), m.to_vec());
                    self.index.remove(&key);
                    key.0 = ScoreKey::new(score);
                    self.index.insert(key);
                }
            }
            None => {
                self.dict.insert(m.to_vec(), score);
                self.index.insert((ScoreKey::new(score), m.to_vec()));
            }
        }
    }

    /// Adds a member known to be absent.
    #[inline]
    pub(crate) fn add_new(&mut self, m: &[u8], score: f64) {
        let score = self.listpack_score(score);
        self.dict.insert(m.to_vec(), score);
        self.index.insert((ScoreKey::new(score), m.to_vec()));
    }

    /// Removes a member; true when it was there.
    pub(crate) fn remove(&mut self, m: &[u8]) -> bool {
        match self.dict.remove(m) {
            Some(s) => {
                self.index.remove(&(ScoreKey::new(s), m.to_vec()));
                true
            }
            None => false,
        }
    }

    /// Pops the lowest (`max` false) or highest member.
    pub(crate) fn pop(&mut self, max: bool) -> Option<(Vec<u8>, f64)> {
        let (_, m) = if max {
            self.index.pop_last()?
        } else {
            self.index.pop_first()?
        };
        let s = self.dict.remove(&m)?;
        Some((m, s))
    }

    /// Members and scores in order.
    pub(crate) fn iter(&self) -> impl DoubleEndedIterator<Item = (&[u8], f64)> + '_ {
        self.index
            .iter()
            .map(move |(_, m)| (m.as_slice(), self.dict[m]))
    }
}
