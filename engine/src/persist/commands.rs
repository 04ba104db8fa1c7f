//! The command path of the persisting server: a command runs on the keyspace, its propagated
//! form reaches the AOF before the reply, fsynced per policy; failures refuse or stop as Redis does.
use super::clock::Clock;
use super::config::AppendFsync;
use super::propagate::{is_write, propagate, Argv};
use super::server::{Refusal, Server};
use crate::keyspace::{Reply, Session};
use crate::storage::Storage;

impl<S: Storage, C: Clock> Server<S, C> {
    /// Runs one command as a client would (see the module documentation).
    pub fn execute(&mut self, s: &mut Session, argv: &[&[u8]]) -> Reply {
        self.last_refusal = None;
        if let Some(why) = &self.stopped {
            self.last_refusal = Some(Refusal::Stopped);
            return Reply::Error(format!("ERR server stopped: {why}"));
        }
        let Some(name) = argv.first() else {
            return Reply::Error("ERR empty command".into());
        };
        let lname = String::from_utf8_lossy(name).to_ascii_lowercase();
        if let Some(r) = self.admin(&lname, argv) {
            return r;
        }
        let now = self.clock.now_ms();
        if self.group.is_none() {
            self.retry_pending(now);
        }
        let exec = lname == "exec" && s.multi.is_some();
        let writes = exec || (s.multi.is_none() && is_write(name));
        if writes {
            if let Some(r) = self.refuse_writes() {
                if exec {
                    s.multi = None;
                }
                self.last_refusal = Some(Refusal::Misconf);
                return r;
            }
        }
        // `changes` counts what Redis's `server.dirty` would for the save rules (dirty.rs): the
        // commands' own writes, not the DELs of keys found expired nor a transaction's MULTI/EXEC
        // (both observed on redis-server 7.0.15 and 7.4.1 through rdb_changes_since_last_save).
        let (reply, forms, changes) = if exec {
            self.run_exec(s, now)
        } else {
            let db = s.db;
            let r = match self.ks.execute(s, now, argv) {
                Ok(r) => r,
                Err(e) => Reply::Error(format!("ERR {e}")),
            };
            let mut forms = self.expired_dels();
            let expired = forms.len();
            if !matches!(r, Reply::Queued) {
                forms.extend(
                    propagate(&mut self.ks, db, now, argv, &r)
                        .into_iter()
                        .map(|f| (db, f)),
                );
            }
            let changes = super::dirty::changes(argv, &r, forms.len() - expired);
            // One command that propagates more than one form (a key found expired and the
            // write, or several fields' HDELs) reaches the AOF as a transaction, as Redis's
            // propagatePendingCommands wraps it (7.0.15 and 7.4.1, observed).
            if forms.len() > 1 {
                wrap_in_multi(&mut forms);
            }
            (r, forms, changes)
        };
        if forms.is_empty() {
            return reply;
        }
        self.dirty += changes;
        match self.append(&forms, now) {
            Ok(()) => reply,
            Err(e) => {
                self.last_refusal = Some(Refusal::Stopped);
                e
            }
        }
    }

    /// Why the last command was refused (not run, or run but not acknowledged), if it was: typed,
    /// so callers need not read error texts.
    pub fn last_refusal(&self) -> Option<Refusal> {
        self.last_refusal
    }

    /// EXEC run command by command, so each one's propagated form is known; the AOF gets them
    /// inside MULTI/EXEC. Also returns the changes the commands made (see `dirty.rs`).
    fn run_exec(&mut self, s: &mut Session, now: i64) -> (Reply, Vec<(u64, Argv)>, u64) {
        let queued = s.multi.take().unwrap_or_default();
        let mut replies = Vec::with_capacity(queued.len());
        let mut forms = Vec::new();
        let mut changes = 0;
        for cmd in &queued {
            let argv: Vec<&[u8]> = cmd.iter().map(Vec::as_slice).collect();
            let db = s.db;
            let r = match self.ks.execute(s, now, &argv) {
                Ok(r) => r,
                Err(e) => Reply::Error(format!("ERR {e}")),
            };
            forms.extend(self.expired_dels());
            let own = propagate(&mut self.ks, db, now, &argv, &r);
            changes += super::dirty::changes(&argv, &r, own.len());
            forms.extend(own.into_iter().map(|f| (db, f)));
            replies.push(r);
        }
        if !forms.is_empty() {
            wrap_in_multi(&mut forms);
        }
        (Reply::Array(replies), forms, changes)
    }

    /// DELs for keys lookups found expired, as Redis propagates them.
    fn expired_dels(&mut self) -> Vec<(u64, Argv)> {
        self.ks
            .take_expired()
            .into_iter()
            .map(|(db, k)| (db, vec![b"DEL".to_vec(), k.into_vec()]))
            .collect()
    }

    /// The cron's active expiry of hash fields: each field removed is propagated as HDEL, as
    /// Redis's `propagateHashFieldDeletion` does (a failed append stops the server as any write).
    /// Not a change for the save rules: redis-server 7.4.1's rdb_changes_since_last_save stays.
    pub(super) fn expire_fields(&mut self, now: i64) {
        let forms: Vec<(u64, Argv)> = self
            .ks
            .expire_hash_fields(now)
            .into_iter()
            .map(|(db, k, f)| (db, vec![b"HDEL".to_vec(), k, f]))
            .collect();
        if forms.is_empty() || self.refuse_writes().is_some() {
            return;
        }
        let _ = self.append(&forms, now);
    }

    /// Why writes are refused now, as Redis's MISCONF errors.
    fn refuse_writes(&self) -> Option<Reply> {
        if self.aof.is_some() && self.aof_write_error {
            return Some(Reply::Error(
                "MISCONF Errors writing to the AOF file: the last write failed".into(),
            ));
        }
        if !self.last_bgsave_ok && !self.cfg.save.is_empty() {
            return Some(Reply::Error(
                "MISCONF Redis is configured to save RDB snapshots, but it's currently unable \
                 to persist to disk"
                    .into(),
            ));
        }
        None
    }

    /// Appends propagated commands to the AOF, then fsyncs under `always`. A failure under
    /// `always` stops the server (the write is not acknowledged); under the other policies the
    /// bytes stay pending and writes are refused until a retry succeeds.
    fn append(&mut self, forms: &[(u64, Argv)], now: i64) -> std::result::Result<(), Reply> {
        let ts = self.cfg.aof_timestamp_enabled;
        let always = self.cfg.appendfsync == AppendFsync::Always;
        let sabotage = self.cfg.sabotage;
        let Some(aof) = &mut self.aof else {
            return Ok(());
        };
        let mut bytes = Vec::new();
        if let Some(turn) = &mut self.group {
            // Group commit: the bytes wait in `pending` for `sync_turn`, which writes the turn's
            // commands at once and fsyncs under `always` before any of their replies is sent.
            let mut pending = std::mem::take(&mut aof.pending);
            aof.encode(&mut pending, forms, now, ts);
            aof.pending = pending;
            turn.fsync_owed |= always;
            return Ok(());
        }
        aof.encode(&mut bytes, forms, now, ts);
        let result = aof.write(&mut self.storage, &bytes).and_then(|()| {
            if always && !(sabotage.skip_fsync_always && (aof.fsyncs + 1) % 3 == 0) {
                aof.fsync(&mut self.storage, now)
            } else {
                if always {
                    aof.fsyncs += 1;
                }
                Ok(())
            }
        });
        let Err(e) = result else {
            return Ok(());
        };
        if sabotage.ack_before_append {
            aof.pending.clear();
            return Ok(());
        }
        if always {
            let why =
                format!("can't recover from an AOF write error under appendfsync always: {e}");
            self.stopped = Some(why.clone());
            return Err(Reply::Error(format!("ERR {why}")));
        }
        self.aof_write_error = true;
        Ok(())
    }

    /// Retries bytes whose write failed.
    pub(crate) fn retry_pending(&mut self, now: i64) {
        let Some(aof) = &mut self.aof else { return };
        if aof.pending.is_empty() {
            self.aof_write_error = false;
            return;
        }
        self.aof_write_error = aof.write(&mut self.storage, &[]).is_err();
        let _ = now;
    }
}

/// `forms` between MULTI (in the first form's database) and EXEC (in the last one's), so the
/// loader applies them together or, torn at the tail, not at all.
fn wrap_in_multi(forms: &mut Vec<(u64, Argv)>) {
    let first_db = forms[0].0;
    let last_db = forms[forms.len() - 1].0;
    forms.insert(0, (first_db, vec![b"MULTI".to_vec()]));
    forms.push((last_db, vec![b"EXEC".to_vec()]));
}
