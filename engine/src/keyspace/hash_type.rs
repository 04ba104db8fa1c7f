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

impl super::Keyspace {
    /// Redis's active expiry of hash fields (`activeExpireHashFieldCycle`, run by the server's
    /// cron): every field due at `now` is removed, and a hash left empty with it. Returns
    /// (db, key, field) for each, in the order removed, for the caller to propagate as HDEL.
    /// Without it a hash whose fields have all expired would outlive any time passing, and a
    /// command on its key (SET NX, INCR) would still find a hash there.
    pub fn expire_hash_fields(&mut self, now: i64) -> Vec<(u64, Vec<u8>, Vec<u8>)> {
        let mut out = Vec::new();
        let dbs = self.dbs.iter_mut().enumerate().map(|(i, d)| (i as u64, d));
        for (i, d) in dbs.chain(self.extra.iter_mut().map(|(&i, d)| (i, d))) {
            let mut emptied = Vec::new();
            for (key, slot) in d.map.iter_mut() {
                let super::db::Obj::Hash(h) = &mut slot.obj else {
                    continue;
                };
                let mut due: Vec<Vec<u8>> = h
                    .map
                    .iter()
                    .filter(|(_, (_, e))| field_expired(*e, now))
                    .map(|(f, _)| f.clone())
                    .collect();
                // Sorted so the AOF does not depend on the hash table's order.
                due.sort();
                for f in due {
                    h.map.remove(&f);
                    out.push((i, key.to_vec(), f));
                }
                if h.map.is_empty() {
                    emptied.push(key.clone());
                }
            }
            for k in emptied {
                d.map.remove(&k);
            }
        }
        out
    }
}
