//! The persisting server: a keyspace whose writes reach the AOF before they are acknowledged,
//! with SAVE/BGSAVE, `save` rules, `appendfsync`, BGREWRITEAOF and Redis's startup recovery.
//!
//! Background work (BGSAVE, BGREWRITEAOF) snapshots the dataset at its start and encodes it on
//! another thread; its files are put in place by `*_finish` (or by `tick` when `auto_finish`), so a
//! test decides exactly which writes happen while a job runs.
use super::clock::Clock;
use super::config::{AppendFsync, PersistConfig};
use crate::aof::{join, AofFiles};
use crate::aof::{LoadOptions, StorageDir};
use crate::dataset::Dataset;
use crate::format::aof::manifest::{self, Manifest};
use crate::storage::Storage;

use crate::format::error::{Error, ErrorKind, Result};
use crate::format::rdb::{read_dataset, ReadOptions};
use crate::keyspace::Keyspace;
use std::thread::JoinHandle;

/// A background job: its thread encodes a snapshot taken when it started.
pub(crate) struct Job {
    pub(crate) handle: JoinHandle<std::result::Result<Vec<u8>, String>>,
    /// Changes counted when it started (a successful save subtracts them).
    pub(crate) dirty_at_start: u64,
    pub(crate) started_ms: i64,
}

/// What the current turn owes the disk under group commit (see `group_commit.rs`).
#[derive(Debug, Default, Clone)]
pub(crate) struct Turn {
    /// A write was buffered under `always`: the turn ends with an fsync.
    pub(crate) fsync_owed: bool,
}

/// Why the server answered a command with a refusal instead of its reply.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Refusal {
    /// The server stopped after an AOF write failed under `appendfsync always`: nothing runs,
    /// and the command that hit the failure was not acknowledged.
    Stopped,
    /// A `MISCONF` error: writes are refused while the AOF cannot be written, or while the last
    /// background save failed and save rules are set.
    Misconf,
}

/// What a BGREWRITEAOF did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RewriteStart {
    /// The rewrite runs.
    Started,
    /// A BGSAVE runs; the rewrite starts when it is done.
    Scheduled,
}

impl RewriteStart {
    /// Redis's status reply for it.
    pub fn status(self) -> &'static str {
        match self {
            RewriteStart::Started => "Background append only file rewriting started",
            RewriteStart::Scheduled => "Background append only file rewriting scheduled",
        }
    }
}

/// What tests and tools can see of the server's persistence state.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Stats {
    /// Changes since the last successful save.
    pub dirty: u64,
    /// When the last successful save's snapshot was taken (Unix ms; 0: never).
    pub lastsave_ms: i64,
    /// Whether the last background save succeeded.
    pub last_bgsave_ok: bool,
    /// Whether the AOF's last write failed (writes are refused until one succeeds).
    pub aof_write_error: bool,
    /// Whether a BGSAVE / BGREWRITEAOF is running.
    pub bgsave_in_progress: bool,
    /// Whether a rewrite is running.
    pub rewrite_in_progress: bool,
    /// Whether a BGREWRITEAOF waits for the running BGSAVE (INFO's aof_rewrite_scheduled).
    pub rewrite_scheduled: bool,
    /// Dumps attempted (SAVE, finished BGSAVEs, `save` rules), failed ones included.
    pub save_attempts: u64,
}

/// The server.
pub struct Server<S: Storage, C: Clock> {
    pub(crate) storage: S,
    pub(crate) clock: C,
    pub(crate) cfg: PersistConfig,
    pub(crate) ks: Keyspace,
    pub(crate) aof: Option<AofFiles>,
    pub(crate) dirty: u64,
    pub(crate) lastsave_ms: i64,
    pub(crate) last_bgsave_ok: bool,
    pub(crate) aof_write_error: bool,
    pub(crate) bgsave: Option<Job>,
    /// The running rewrite, the manifest before it, and whether its base is an RDB.
    pub(crate) rewrite: Option<(Job, Manifest, bool)>,
    /// A BGREWRITEAOF asked for while a BGSAVE ran: `tick` starts it once the BGSAVE is done.
    pub(crate) rewrite_scheduled: bool,
    pub(crate) stopped: Option<String>,
    /// Why the last command was refused, if it was.
    pub(crate) last_refusal: Option<Refusal>,
    pub(crate) save_attempts: u64,
    /// When the last BGSAVE started (Unix ms; Redis's lastbgsave_try), for the retry delay.
    pub(crate) last_bgsave_try_ms: i64,
    /// Whether `tick` completes finished background jobs (real use); tests finish them by hand.
    pub auto_finish: bool,
    /// Group commit (see `group_commit.rs`): AOF bytes wait for [`Server::sync_turn`].
    pub(crate) group: Option<Turn>,
}

fn io_error(what: &'static str, e: std::io::Error) -> Error {
    Error {
        kind: ErrorKind::Io,
        offset: None,
        what,
        detail: e.to_string(),
    }
}

impl<S: Storage, C: Clock> Server<S, C> {
    /// Starts on `storage` as Redis does: with `appendonly` the AOF (created, from the empty
    /// dataset, when there is none; an RDB is then not loaded, as in Redis 7), else the RDB if one
    /// exists. Truncated AOF tails follow `aof-load-truncated` and are cut in place; keys already
    /// expired are gone for clients (skipped from an RDB; from an AOF, deleted, and the delete
    /// propagated, when first looked up).
    pub fn open(storage: S, clock: C, cfg: PersistConfig) -> Result<Server<S, C>> {
        let mut srv = Server {
            storage,
            clock,
            ks: Keyspace::with_config(cfg.keyspace.clone()),
            cfg,
            aof: None,
            dirty: 0,
            lastsave_ms: 0,
            last_bgsave_ok: true,
            aof_write_error: false,
            bgsave: None,
            rewrite: None,
            rewrite_scheduled: false,
            stopped: None,
            last_refusal: None,
            save_attempts: 0,
            last_bgsave_try_ms: 0,
            auto_finish: true,
            group: None,
        };
        let now = srv.clock.now_ms();
        srv.lastsave_ms = now;
        let mut loading = srv.cfg.keyspace.clone();
        loading.loading = true;
        let mut ks = Keyspace::with_config(loading);
        if srv.cfg.appendonly {
            let files = AofFiles::new(
                &srv.cfg.appenddirname,
                &srv.cfg.appendfilename,
                Manifest::default(),
                now,
            );
            let mpath = files.manifest_path();
            if srv.storage.exists(&mpath) {
                let text = srv
                    .storage
                    .read(&mpath)
                    .map_err(|e| io_error("manifest", e))?;
                let m = manifest::parse(&text)?;
                srv.aof = Some(AofFiles {
                    manifest: m,
                    ..files
                });
                srv.load_aof(&mut ks, now)?;
            } else {
                srv.aof = Some(files);
            }
        } else if srv.storage.exists(&srv.cfg.dbfilename) {
            let bytes = srv
                .storage
                .read(&srv.cfg.dbfilename)
                .map_err(|e| io_error("RDB file", e))?;
            let (ds, _) = read_dataset(&bytes, srv.read_options())?;
            ks = Keyspace::from_dataset_with(srv.cfg.keyspace.clone(), &ds);
        }
        let live = ks.to_dataset(Some(now));
        if srv.aof.as_ref().is_some_and(|a| a.manifest.base.is_some()) {
            // Keys the AOF left expired stay until a lookup deletes them, and that delete is
            // propagated, as Redis's expiry does: dropping them silently here would let a later
            // write to the same key replay onto the old value.
            ks.set_loading(false);
            srv.ks = ks;
        } else {
            // An RDB's expired keys are skipped at load, as Redis does.
            srv.ks = Keyspace::from_dataset_with(srv.cfg.keyspace.clone(), &live);
        }
        srv.ks.set_expiry_log(true);
        if srv.aof.as_ref().is_some_and(|a| a.manifest.base.is_none()) {
            srv.create_aof(&live).map_err(|e| io_error("new AOF", e))?;
        }
        // The first cron cycle: hash fields the load kept past their time go now (and their
        // HDELs are appended), or a command on the key would still find a hash there.
        srv.expire_fields(now);
        Ok(srv)
    }

    fn load_aof(&mut self, ks: &mut Keyspace, now: i64) -> Result<()> {
        let Some(aof) = &self.aof else { return Ok(()) };
        let m = aof.manifest.clone();
        let dir = aof.dir.clone();
        let opts = LoadOptions {
            load_truncated: self.cfg.aof_load_truncated,
            now_ms: now,
            rdb: self.read_options(),
            memory_limit: None,
        };
        let names: Vec<Vec<u8>> = m
            .base
            .iter()
            .chain(&m.incr)
            .map(|e| e.name.clone())
            .collect();
        let src = StorageDir {
            storage: &self.storage,
            dir: dir.clone(),
        };
        let planted = self.cfg.sabotage.aof_ignores_multi;
        let done = crate::aof::load::replay_files_planted(&src, &names, ks, &opts, planted)?;
        if let (Some(r), Some(name)) = (done.last(), names.last()) {
            let path = join(&dir, &String::from_utf8_lossy(name));
            if let Some((valid, _)) = r.cut {
                // Redis cuts the file in place before it goes on.
                self.storage
                    .truncate(&path, valid)
                    .map_err(|e| io_error("AOF file", e))?;
            }
            if let Some(a) = &mut self.aof {
                a.incr_len = r.cut.map_or(r.len, |(v, _)| v);
            }
        }
        Ok(())
    }

    /// Makes a fresh AOF from `ds`: a base, an empty incremental file, the manifest; history
    /// files of an earlier AOF are removed.
    pub(crate) fn create_aof(&mut self, ds: &Dataset) -> std::io::Result<()> {
        let rdb = self.cfg.aof_use_rdb_preamble;
        let now = self.clock.now_ms();
        let bytes = self
            .encode_base(ds, rdb, now)
            .map_err(std::io::Error::other)?;
        let Some(aof) = &mut self.aof else {
            return Ok(());
        };
        aof.create_fresh(&mut self.storage, &bytes, rdb, now)?;
        Ok(())
    }

    /// A base file's bytes under this configuration.
    pub(crate) fn encode_base(
        &self,
        ds: &Dataset,
        rdb: bool,
        now: i64,
    ) -> std::result::Result<Vec<u8>, String> {
        encode_base(
            ds,
            rdb,
            now,
            self.rdb_options(now),
            self.cfg.aof_timestamp_enabled,
        )
    }

    /// The RDB writer's options under this configuration.
    pub(crate) fn rdb_options(&self, now: i64) -> crate::format::rdb::WriteOptions {
        let target = crate::format::rdb::Target::redis(12).expect("RDB 12 is a target");
        let mut o = crate::format::rdb::WriteOptions::new(target, now / 1000);
        o.compression = self.cfg.rdbcompression;
        o.checksum = self.cfg.rdbchecksum;
        o.threads = 1;
        o.narrow_listpack_ints = self.cfg.sabotage.narrow_listpack_ints;
        o
    }

    /// How this server reads an RDB it loads.
    pub(crate) fn read_options(&self) -> ReadOptions {
        ReadOptions {
            verify_checksum: !self.cfg.sabotage.accept_bad_crc,
            ..ReadOptions::default()
        }
    }

    /// Clock-driven work: pending AOF bytes retried, the `everysec` fsync, finished background
    /// jobs completed (with `auto_finish`), and `save` rules.
    pub fn tick(&mut self) {
        if self.stopped.is_some() {
            return;
        }
        let now = self.clock.now_ms();
        self.retry_pending(now);
        self.expire_fields(now);
        if self.cfg.appendfsync == AppendFsync::Everysec {
            if let Some(aof) = &mut self.aof {
                if aof.unsynced && now - aof.last_fsync_ms >= 1000 {
                    let _ = aof.fsync(&mut self.storage, now);
                }
            }
        }
        if self.auto_finish {
            if self.bgsave.as_ref().is_some_and(|j| j.handle.is_finished()) {
                let _ = self.bgsave_finish();
            }
            if self
                .rewrite
                .as_ref()
                .is_some_and(|(j, _, _)| j.handle.is_finished())
            {
                let _ = self.bgrewriteaof_finish();
            }
        }
        if self.auto_finish {
            let _ = self.start_scheduled_rewrite();
        }
        self.save_rules(now);
    }

    /// SHUTDOWN as Redis does it: pending AOF bytes written and fsynced, and with `save` rules
    /// a final SAVE. Background jobs are abandoned. The server is stopped afterwards.
    pub fn shutdown(&mut self) -> std::result::Result<(), String> {
        self.abandon_jobs();
        let now = self.clock.now_ms();
        if let Some(aof) = &mut self.aof {
            aof.write(&mut self.storage, &[])
                .and_then(|()| aof.fsync(&mut self.storage, now))
                .map_err(|e| format!("SHUTDOWN could not sync the AOF: {e}"))?;
        }
        if !self.cfg.save.is_empty() {
            self.save()?;
        }
        self.stopped = Some("shut down".into());
        Ok(())
    }

    /// The dataset as a client sees it now (expired keys left out).
    pub fn dataset(&self) -> Dataset {
        self.ks.to_dataset(Some(self.clock.now_ms()))
    }

    /// The storage.
    pub fn storage(&self) -> &S {
        &self.storage
    }

    /// Mutable storage (to inject faults).
    pub fn storage_mut(&mut self) -> &mut S {
        &mut self.storage
    }

    /// The storage, ending the server (a crash or shutdown; background jobs are abandoned).
    pub fn into_storage(mut self) -> S {
        self.abandon_jobs();
        self.storage
    }

    /// Drops running background jobs, as a crash or SHUTDOWN does, waiting for their threads so
    /// that no encoding outlives the server (found by the `engine_model` fuzz target under
    /// LeakSanitizer: a BGSAVE thread still running when a crash dropped its handle).
    pub(crate) fn abandon_jobs(&mut self) {
        if let Some(j) = self.bgsave.take() {
            let _ = j.handle.join();
        }
        self.abandon_rewrite();
    }

    /// Drops a running rewrite (the AOF was turned off or recreated), waiting for its thread.
    pub(crate) fn abandon_rewrite(&mut self) {
        if let Some((j, _, _)) = self.rewrite.take() {
            let _ = j.handle.join();
        }
    }

    /// The configuration.
    pub fn config(&self) -> &PersistConfig {
        &self.cfg
    }

    /// Why the server stopped, if it did.
    pub fn stopped(&self) -> Option<&str> {
        self.stopped.as_deref()
    }

    /// Persistence state.
    pub fn stats(&self) -> Stats {
        Stats {
            dirty: self.dirty,
            lastsave_ms: self.lastsave_ms,
            last_bgsave_ok: self.last_bgsave_ok,
            aof_write_error: self.aof_write_error,
            bgsave_in_progress: self.bgsave.is_some(),
            rewrite_in_progress: self.rewrite.is_some(),
            rewrite_scheduled: self.rewrite_scheduled,
            save_attempts: self.save_attempts,
        }
    }
}

/// A base file's bytes: an RDB preamble, or RESP rewrite commands (after a `#TS` annotation when
/// `timestamps`).
pub(crate) fn encode_base(
    ds: &Dataset,
    rdb: bool,
    now: i64,
    mut opts: crate::format::rdb::WriteOptions,
    timestamps: bool,
) -> std::result::Result<Vec<u8>, String> {
    if rdb {
        opts.aof_base = true;
        crate::format::rdb::write_to_vec(ds, &opts).map_err(|e| e.to_string())
    } else {
        let mut out = Vec::new();
        let ts = timestamps.then_some(now / 1000);
        crate::format::aof::rewrite::write_dataset(&mut out, ds, ts);
        Ok(out)
    }
}
