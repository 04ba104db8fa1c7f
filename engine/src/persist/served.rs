//! What a network server needs of the persisting server beyond `execute`: whether background
//! jobs have finished (it completes them from its own cron, to report their outcome), the
//! keyspace for introspection, DEBUG RELOAD, and the AOF's size.
use super::clock::Clock;
use super::server::Server;
use crate::format::rdb::{read_dataset, ReadOptions};
use crate::keyspace::Keyspace;
use crate::storage::Storage;

impl<S: Storage, C: Clock> Server<S, C> {
    /// Whether a BGSAVE is running and its thread has finished (call `bgsave_finish`).
    pub fn bgsave_finished(&self) -> bool {
        self.bgsave.as_ref().is_some_and(|j| j.handle.is_finished())
    }

    /// Whether a BGREWRITEAOF is running and its thread has finished (call
    /// `bgrewriteaof_finish`).
    pub fn rewrite_finished(&self) -> bool {
        self.rewrite
            .as_ref()
            .is_some_and(|(j, _, _)| j.handle.is_finished())
    }

    /// When the running BGSAVE and BGREWRITEAOF started (Unix ms).
    pub fn jobs_started_ms(&self) -> (Option<i64>, Option<i64>) {
        (
            self.bgsave.as_ref().map(|j| j.started_ms),
            self.rewrite.as_ref().map(|(j, _, _)| j.started_ms),
        )
    }

    /// The keyspace, for reads that are not commands (INFO keyspace).
    pub fn keyspace(&self) -> &Keyspace {
        &self.ks
    }

    /// The keyspace, for lookups that may expire keys (DEBUG OBJECT): a key found expired is
    /// deleted and its DEL propagated with the next command, as any lookup's.
    pub fn keyspace_mut(&mut self) -> &mut Keyspace {
        &mut self.ks
    }

    /// The clock's time (Unix ms).
    pub fn now_ms(&self) -> i64 {
        self.clock.now_ms()
    }

    /// DEBUG RELOAD: SAVE, then the keyspace replaced by what the dump holds.
    pub fn debug_reload(&mut self) -> Result<(), String> {
        self.save()?;
        let bytes = self
            .storage
            .read(&self.cfg.dbfilename)
            .map_err(|e| e.to_string())?;
        let (ds, _) = read_dataset(&bytes, ReadOptions::default()).map_err(|e| e.to_string())?;
        self.ks = Keyspace::from_dataset_with(self.cfg.keyspace.clone(), &ds);
        self.ks.set_expiry_log(true);
        Ok(())
    }

    /// Opens an incremental AOF file when the manifest lists none (an AOF upgraded from Redis's
    /// single-file form lists only its base, as Redis 7 does before it opens one).
    pub fn ensure_incr_file(&mut self) -> std::io::Result<()> {
        if let Some(aof) = &mut self.aof {
            if aof.manifest.incr.is_empty() {
                aof.open_new_incr(&mut self.storage)?;
            }
        }
        Ok(())
    }

    /// The incremental AOF file's length so far, and bytes waiting to be written.
    pub fn aof_lengths(&self) -> Option<(u64, usize)> {
        self.aof.as_ref().map(|a| (a.incr_len, a.pending.len()))
    }
}
