//! Snapshots and rewrites: SAVE, BGSAVE, the `save` rules, BGREWRITEAOF, and the persistence
//! commands a client sends (SAVE, BGSAVE, BGREWRITEAOF, LASTSAVE, CONFIG GET/SET).
use super::clock::Clock;
use super::config::SaveRule;
use super::server::{Job, RewriteStart, Server};
use crate::aof::join;
use crate::format::aof::manifest::{FileType, Manifest};
use crate::keyspace::Reply;
use crate::storage::write_atomic;
use crate::storage::Storage;

impl<S: Storage, C: Clock> Server<S, C> {
    /// Handles the commands that act on persistence itself; `None` for every other command.
    pub(crate) fn admin(&mut self, lname: &str, argv: &[&[u8]]) -> Option<Reply> {
        let done = |r: Result<(), String>| match r {
            Ok(()) => Reply::Ok,
            Err(e) => Reply::Error(format!("ERR {e}")),
        };
        Some(match lname {
            "save" => done(self.save()),
            "bgsave" => match self.bgsave_start() {
                Ok(()) => Reply::Status("Background saving started".into()),
                Err(e) => Reply::Error(format!("ERR {e}")),
            },
            "bgrewriteaof" => match self.bgrewriteaof() {
                Ok(how) => Reply::Status(how.status().into()),
                Err(e) => Reply::Error(format!("ERR {e}")),
            },
            "lastsave" => Reply::Int(self.lastsave_ms / 1000),
            "config" => self.config_command(argv),
            _ => return None,
        })
    }

    fn config_command(&mut self, argv: &[&[u8]]) -> Reply {
        let text = |i: usize| argv.get(i).map(|a| String::from_utf8_lossy(a).into_owned());
        let sub = text(1).unwrap_or_default().to_ascii_lowercase();
        match (sub.as_str(), text(2), text(3)) {
            ("get", Some(name), None) => match self.cfg.get(&name) {
                Some(v) => {
                    Reply::Array(vec![Reply::Bulk(name.into_bytes()), Reply::Bulk(v.into())])
                }
                None => Reply::Array(Vec::new()),
            },
            ("set", Some(name), Some(value)) if argv.len() == 4 => {
                match self.config_set(&name, &value) {
                    Ok(()) => Reply::Ok,
                    Err(e) => Reply::Error(format!("ERR {e}")),
                }
            }
            _ => Reply::Error("ERR unsupported CONFIG form".into()),
        }
    }

    /// CONFIG SET: turning `appendonly` on writes a fresh AOF from the dataset at once (Redis does
    /// it with a rewrite); turning it off stops appending and leaves the files.
    pub fn config_set(&mut self, name: &str, value: &str) -> Result<(), String> {
        let was = self.cfg.appendonly;
        if name.eq_ignore_ascii_case("appendfsync") {
            // A weaker policy must not weaken what was promised to writes already acknowledged
            // (an `everysec` write must still be durable two seconds on): sync them now.
            let now = self.clock.now_ms();
            if let Some(aof) = &mut self.aof {
                if aof.unsynced {
                    aof.fsync(&mut self.storage, now)
                        .map_err(|e| e.to_string())?;
                }
            }
        }
        let mut next = self.cfg.clone();
        next.set(name, value)?;
        let thresholds = next.keyspace != self.cfg.keyspace;
        self.cfg = next;
        if thresholds {
            let mut k = self.cfg.keyspace.clone();
            k.loading = false;
            let ds = self.ks.to_dataset(None);
            self.ks = crate::keyspace::Keyspace::from_dataset_with(k, &ds);
            self.ks.set_expiry_log(true);
        }
        match (was, self.cfg.appendonly) {
            (false, true) => {
                self.abandon_rewrite();
                let now = self.clock.now_ms();
                self.aof = Some(crate::aof::AofFiles::new(
                    &self.cfg.appenddirname,
                    &self.cfg.appendfilename,
                    self.existing_manifest(),
                    now,
                ));
                let ds = self.ks.to_dataset(None);
                if let Err(e) = self.create_aof(&ds) {
                    // As Redis's CONFIG SET appendonly yes: on failure the AOF stays off.
                    self.cfg.appendonly = false;
                    self.aof = None;
                    return Err(format!("could not start the AOF: {e}"));
                }
                self.aof_write_error = false;
            }
            (true, false) => {
                self.aof = None;
                self.abandon_rewrite();
                self.aof_write_error = false;
            }
            _ => {}
        }
        Ok(())
    }

    /// The manifest an earlier AOF left on the storage, so a new one gets higher sequence numbers.
    fn existing_manifest(&self) -> Manifest {
        let path = join(
            &self.cfg.appenddirname,
            &format!("{}.manifest", self.cfg.appendfilename),
        );
        self.storage
            .read(&path)
            .ok()
            .and_then(|t| crate::format::aof::manifest::parse(&t).ok())
            .unwrap_or_default()
    }

    /// Writes the dump atomically: temp file, fsync, rename over `dbfilename`, directory fsync.
    fn write_dump(&mut self, bytes: &[u8]) -> std::io::Result<()> {
        self.save_attempts += 1;
        let name = self.cfg.dbfilename.clone();
        if self.cfg.sabotage.rename_before_fsync {
            let temp = format!("temp-{name}");
            self.storage.create(&temp)?;
            self.storage.append(&temp, bytes)?;
            self.storage.rename(&temp, &name)?;
            self.storage.fsync_dir("")?;
            return self.storage.fsync(&name);
        }
        write_atomic(&mut self.storage, "", &name, bytes).map_err(std::io::Error::from)
    }

    /// SAVE: the dataset now, written synchronously.
    pub fn save(&mut self) -> Result<(), String> {
        if self.bgsave.is_some() {
            return Err("Background save already in progress".into());
        }
        let now = self.clock.now_ms();
        let ds = self.ks.to_dataset(None);
        let bytes = crate::format::rdb::write_to_vec(&ds, &self.rdb_options(now))
            .map_err(|e| e.to_string())?;
        match self.write_dump(&bytes) {
            Ok(()) => {
                self.dirty = 0;
                self.lastsave_ms = now;
                self.last_bgsave_ok = true;
                Ok(())
            }
            Err(e) => {
                self.last_bgsave_ok = false;
                Err(format!("SAVE failed: {e}"))
            }
        }
    }

    /// BGSAVE: takes the snapshot now and encodes it on a thread; [`Server::bgsave_finish`] puts
    /// the file in place.
    pub fn bgsave_start(&mut self) -> Result<(), String> {
        if self.bgsave.is_some() {
            return Err("Background save already in progress".into());
        }
        if self.rewrite.is_some() {
            // Redis 7.0.15's words (observed); BGSAVE SCHEDULE is not built.
            return Err(
                "Another child process is active (AOF?): can't BGSAVE right now. \
                Use BGSAVE SCHEDULE in order to schedule a BGSAVE whenever possible."
                    .into(),
            );
        }
        let now = self.clock.now_ms();
        // The pause is one clone of the keyspace; turning it into a dataset and encoding it
        // happen on the job's thread.
        let snapshot = self.ks.clone();
        let opts = self.rdb_options(now);
        let handle = std::thread::Builder::new()
            .name("bgsave".into())
            .spawn(move || {
                let ds = snapshot.to_dataset(None);
                drop(snapshot);
                crate::format::rdb::write_to_vec(&ds, &opts).map_err(|e| e.to_string())
            })
            .map_err(|e| format!("cannot start the BGSAVE thread: {e}"))?;
        self.bgsave = Some(Job {
            handle,
            dirty_at_start: self.dirty,
            started_ms: now,
        });
        self.last_bgsave_try_ms = now;
        Ok(())
    }

    /// Waits for the BGSAVE thread and replaces the dump; a failure is recorded (and, with `save`
    /// rules, refuses writes until a save succeeds).
    pub fn bgsave_finish(&mut self) -> Result<(), String> {
        let Some(job) = self.bgsave.take() else {
            return Err("no BGSAVE in progress".into());
        };
        let written = job
            .handle
            .join()
            .map_err(|_| "the BGSAVE thread panicked".to_string())
            .and_then(|r| r)
            .and_then(|bytes| self.write_dump(&bytes).map_err(|e| e.to_string()));
        match written {
            Ok(()) => {
                self.dirty = self.dirty.saturating_sub(job.dirty_at_start);
                self.lastsave_ms = job.started_ms;
                self.last_bgsave_ok = true;
                Ok(())
            }
            Err(e) => {
                self.last_bgsave_ok = false;
                Err(format!("BGSAVE failed: {e}"))
            }
        }
    }

    /// The `save` rule due at `now`, as Redis's serverCron picks one: no background job running,
    /// at least the rule's changes (a rule of 0 changes fires with none: redis-server 7.0.15 with
    /// `save "1 0"` saved twice in 3.5 s of no writes), more than its seconds since the last save
    /// in whole seconds (`unixtime - lastsave > seconds`), and after a failed BGSAVE more than
    /// CONFIG_BGSAVE_RETRY_DELAY (5 s) since the last try.
    pub fn due_save_rule(&self, now: i64) -> Option<SaveRule> {
        if self.bgsave.is_some() || self.rewrite.is_some() {
            return None;
        }
        let secs = |ms: i64| ms.div_euclid(1000);
        let retry_ok = self.last_bgsave_ok || secs(now) - secs(self.last_bgsave_try_ms) > 5;
        let since = secs(now) - secs(self.lastsave_ms);
        let due = |r: &&SaveRule| self.dirty >= r.changes && since > r.secs as i64;
        self.cfg.save.iter().find(due).copied().filter(|_| retry_ok)
    }

    /// The `save` rules in process: a due rule's BGSAVE runs at once and finishes within the
    /// tick (the network server starts it and finishes it in a later turn instead).
    pub(crate) fn save_rules(&mut self, now: i64) {
        if self.due_save_rule(now).is_some() && self.bgsave_start().is_ok() {
            let _ = self.bgsave_finish();
        }
    }

    /// The BGREWRITEAOF command as Redis 7.0.15 answers it (observed): refused while a rewrite
    /// runs, scheduled while a BGSAVE runs (started by [`Server::start_scheduled_rewrite`] once
    /// it is done), else started.
    pub fn bgrewriteaof(&mut self) -> Result<RewriteStart, String> {
        if self.rewrite.is_none() && self.bgsave.is_some() {
            self.rewrite_scheduled = true;
            return Ok(RewriteStart::Scheduled);
        }
        self.bgrewriteaof_start().map(|()| RewriteStart::Started)
    }

    /// Starts the scheduled rewrite if nothing runs now, as Redis's serverCron does; `None` when
    /// there is none to start yet, else the start's result.
    pub fn start_scheduled_rewrite(&mut self) -> Option<Result<(), String>> {
        if !self.rewrite_scheduled || self.bgsave.is_some() || self.rewrite.is_some() {
            return None;
        }
        self.rewrite_scheduled = false;
        Some(self.bgrewriteaof_start())
    }

    /// BGREWRITEAOF: pending bytes flushed, a new incremental file opened and listed (writes
    /// from now on go there), the dataset snapshotted and encoded on a thread;
    /// [`Server::bgrewriteaof_finish`] installs the new base.
    pub fn bgrewriteaof_start(&mut self) -> Result<(), String> {
        if self.bgsave.is_some() || self.rewrite.is_some() {
            return Err("Background append only file rewriting already in progress".into());
        }
        let now = self.clock.now_ms();
        let Some(aof) = &mut self.aof else {
            return Err("the AOF is off (appendonly no)".into());
        };
        aof.write(&mut self.storage, &[])
            .map_err(|e| e.to_string())?;
        let before = aof.manifest.clone();
        aof.open_new_incr(&mut self.storage)
            .map_err(|e| e.to_string())?;
        let snapshot = self.ks.clone();
        let rdb = self.cfg.aof_use_rdb_preamble;
        let (opts, ts) = (self.rdb_options(now), self.cfg.aof_timestamp_enabled);
        let handle = std::thread::Builder::new()
            .name("bgrewriteaof".into())
            .spawn(move || {
                let ds = snapshot.to_dataset(None);
                drop(snapshot);
                super::server::encode_base(&ds, rdb, now, opts, ts)
            })
            .map_err(|e| format!("cannot start the rewrite thread: {e}"))?;
        self.rewrite = Some((
            Job {
                handle,
                dirty_at_start: self.dirty,
                started_ms: now,
            },
            before,
            rdb,
        ));
        Ok(())
    }

    /// Installs a finished rewrite: the base written and fsynced under its name, the manifest
    /// switched to it plus the incremental file opened at the start, the old files removed.
    pub fn bgrewriteaof_finish(&mut self) -> Result<(), String> {
        let Some((job, before, rdb)) = self.rewrite.take() else {
            return Err("no BGREWRITEAOF in progress".into());
        };
        let bytes = job
            .handle
            .join()
            .map_err(|_| "the rewrite thread panicked".to_string())
            .and_then(|r| r)?;
        let drop_writes = self.cfg.sabotage.drop_rewrite_writes;
        let Some(aof) = &mut self.aof else {
            return Err("the AOF was turned off during the rewrite".into());
        };
        let st = &mut self.storage;
        let base = aof.next(FileType::Base, rdb);
        let mut incr = aof
            .manifest
            .incr
            .last()
            .cloned()
            .ok_or("no incremental file")?;
        let result = (|| -> std::io::Result<()> {
            write_atomic(st, &aof.dir, &String::from_utf8_lossy(&base.name), &bytes)?;
            if drop_writes {
                incr = aof.next(FileType::Incr, false);
                st.create(&join(&aof.dir, &String::from_utf8_lossy(&incr.name)))?;
                aof.incr_len = 0;
                aof.selected_db = None;
            }
            let m = Manifest {
                base: Some(base.clone()),
                history: Vec::new(),
                incr: vec![incr.clone()],
            };
            aof.switch(st, m)?;
            let keep = [&base.name, &incr.name];
            for e in before.base.iter().chain(&before.incr) {
                if !keep.contains(&&e.name) {
                    let _ = st.remove(&join(&aof.dir, &String::from_utf8_lossy(&e.name)));
                }
            }
            st.fsync_dir(&aof.dir)
        })();
        result.map_err(|e| format!("BGREWRITEAOF failed: {e}"))
    }
}
