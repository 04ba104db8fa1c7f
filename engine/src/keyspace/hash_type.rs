//! The hash value type: field to value and absolute-ms field expiry, with Redis's rule for when
//! an expiring field is gone. The commands on it live in `hashes.rs` and `hash_setex.rs`.
use super::fxhash::FxHashMap;

/// The largest absolute field expiry Redis accepts (`EB_EXPIRE_TIME_MAX >> 2`).
pub(crate) const HFE_MAX_ABS_TIME_MSEC: i64 = ((1i64 << 48) - 1) >> 2;

/// A hash: field → (value, absolute-ms expiry).
#[derive(Debug, Clone, Default)]
pub(crate) struct HashObj {
    pub(crate) map: FxHashMap<Vec<u8>, (Vec<u8>, Option<i64>)>,
}

/// Whether a field expiring at `exp` is gone at `now` (Redis: `expireAt < now`).
#[inline]
pub(crate) fn field_expired(exp: Option<i64>, now: i64) -> bool {
    exp.is_some_and(|e| e < now)
}

impl HashObj {
    /// The value of a field that has not expired at `now`.
    pub(crate) fn live(&self, f: &[u8], now: i64) -> Option<&(Vec<u8>, Option<i64>)> {
        self.map.get(f).filter(|(_, e)| !field_expired(*e, now))
    }
}
