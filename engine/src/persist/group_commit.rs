//! Group commit, as Redis's event loop does it: the commands of one turn of the loop are appended
//! to an in-memory buffer, and before any of their replies is sent (`beforeSleep` in Redis) the
//! buffer is written with one `write` and, under `appendfsync always`, made durable with one
//! fsync. A server that serves many clients calls [`Server::set_group_commit`] once and then
//! [`Server::sync_turn`] at the end of every turn, sending the turn's replies only when it
//! returned `Ok`.
//!
//! Without group commit (the default, and what the tests of single commands use) each write is
//! appended and, under `always`, fsynced before `execute` returns.
use super::clock::Clock;
use super::server::{Server, Turn};
use crate::storage::Storage;

impl<S: Storage, C: Clock> Server<S, C> {
    /// Turns group commit on or off. Turning it off completes the current turn first.
    pub fn set_group_commit(&mut self, on: bool) -> Result<(), String> {
        if on {
            if self.group.is_none() {
                self.group = Some(Turn::default());
            }
            return Ok(());
        }
        let r = self.sync_turn();
        self.group = None;
        r
    }

    /// Whether group commit is on.
    pub fn group_commit(&self) -> bool {
        self.group.is_some()
    }

    /// Whether the current turn has AOF bytes not yet written.
    pub fn turn_pending(&self) -> bool {
        self.aof.as_ref().is_some_and(|a| !a.pending.is_empty())
    }

    /// Ends a turn: the turn's AOF bytes written at once and, if any of them was written under
    /// `appendfsync always`, fsynced. `Err` means the server stopped (a failure under `always`,
    /// where Redis exits): none of the turn's replies may be sent. A write failure under the other
    /// policies keeps the bytes pending, to be retried at the next turn or tick, and refuses
    /// writes (MISCONF) until then, as Redis does.
    pub fn sync_turn(&mut self) -> Result<(), String> {
        let Some(turn) = &mut self.group else {
            return Ok(());
        };
        let fsync = std::mem::take(&mut turn.fsync_owed);
        if let Some(why) = &self.stopped {
            return Err(why.clone());
        }
        let now = self.clock.now_ms();
        let sabotage = self.cfg.sabotage;
        let Some(aof) = &mut self.aof else {
            return Ok(());
        };
        if aof.pending.is_empty() && !fsync {
            return Ok(());
        }
        let result = aof.write(&mut self.storage, &[]).and_then(|()| {
            if !fsync {
                Ok(())
            } else if sabotage.skip_fsync_always && (aof.fsyncs + 1) % 3 == 0 {
                aof.fsyncs += 1;
                Ok(())
            } else {
                aof.fsync(&mut self.storage, now)
            }
        });
        let Err(e) = result else {
            self.aof_write_error = false;
            return Ok(());
        };
        if sabotage.ack_before_append {
            aof.pending.clear();
            return Ok(());
        }
        if fsync {
            let why =
                format!("can't recover from an AOF write error under appendfsync always: {e}");
            self.stopped = Some(why.clone());
            return Err(why);
        }
        self.aof_write_error = true;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::super::{AppendFsync, PersistConfig, SimClock};
    use super::*;
    use crate::keyspace::{Reply, Session};
    use crate::storage::{CrashImage, Op, SimDisk};

    fn server(fsync: AppendFsync) -> Server<SimDisk, SimClock> {
        let cfg = PersistConfig {
            appendonly: true,
            appendfsync: fsync,
            save: Vec::new(),
            ..PersistConfig::default()
        };
        let mut s = Server::open(SimDisk::new(), SimClock::at(1_800_000_000_000), cfg).unwrap();
        s.set_group_commit(true).unwrap();
        s
    }

    fn keys(srv: &Server<SimDisk, SimClock>, how: CrashImage) -> usize {
        let disk = srv.storage().crash(how);
        let cfg = srv.config().clone();
        Server::open(disk, SimClock::at(1_800_000_000_000), cfg)
            .unwrap()
            .dataset()
            .keys
            .len()
    }

    #[test]
    fn one_turn_of_writes_shares_one_write_and_one_fsync() {
        let mut srv = server(AppendFsync::Always);
        let before = srv.storage().op_counts();
        let mut sessions: Vec<Session> = (0..5).map(|_| Session::new()).collect();
        for (i, s) in sessions.iter_mut().enumerate() {
            let k = format!("k{i}");
            assert_eq!(srv.execute(s, &[b"SET", k.as_bytes(), b"v"]), Reply::Ok);
        }
        assert_eq!(
            srv.storage().op_counts(),
            before,
            "nothing written mid-turn"
        );
        assert!(srv.turn_pending());
        // Not acknowledged yet: a crash now may lose all five.
        assert_eq!(keys(&srv, CrashImage::LoseUnsynced), 0);
        srv.sync_turn().unwrap();
        assert!(!srv.turn_pending(), "the turn's bytes are written");
        let after = srv.storage().op_counts();
        assert_eq!(after[0] - before[0], 1, "one write");
        assert_eq!(after[1] - before[1], 1, "one fsync");
        assert_eq!(keys(&srv, CrashImage::LoseUnsynced), 5);
        // A turn with only reads costs nothing.
        srv.execute(&mut sessions[0], &[b"GET", b"k0"]);
        srv.sync_turn().unwrap();
        assert_eq!(srv.storage().op_counts(), after);
    }

    #[test]
    fn group_commit_is_off_until_turned_on_and_after_turned_off() {
        let mut srv = server(AppendFsync::Always);
        assert!(srv.group_commit());
        srv.set_group_commit(false).unwrap();
        assert!(!srv.group_commit());
        assert!(!srv.turn_pending());
    }

    #[test]
    fn everysec_turns_write_without_fsync_and_the_tick_syncs() {
        let mut srv = server(AppendFsync::Everysec);
        let mut s = Session::new();
        srv.execute(&mut s, &[b"SET", b"a", b"1"]);
        let before = srv.storage().op_counts();
        srv.sync_turn().unwrap();
        let after = srv.storage().op_counts();
        assert_eq!((after[0] - before[0], after[1] - before[1]), (1, 0));
        assert_eq!(keys(&srv, CrashImage::KeepWritten), 1);
        assert_eq!(keys(&srv, CrashImage::LoseUnsynced), 0);
        srv.clock.advance(1_000);
        srv.tick();
        assert_eq!(keys(&srv, CrashImage::LoseUnsynced), 1);
    }

    #[test]
    fn a_failed_fsync_under_always_stops_the_server_before_any_reply() {
        let mut srv = server(AppendFsync::Always);
        let mut s = Session::new();
        srv.execute(&mut s, &[b"SET", b"a", b"1"]);
        srv.storage_mut().fail_next(Op::Fsync, 1);
        assert!(srv.sync_turn().is_err());
        assert!(srv.stopped().is_some());
        assert!(matches!(
            srv.execute(&mut s, &[b"GET", b"a"]),
            Reply::Error(_)
        ));
    }

    #[test]
    fn a_failed_write_under_everysec_refuses_writes_until_a_retry_succeeds() {
        let mut srv = server(AppendFsync::Everysec);
        let mut s = Session::new();
        srv.execute(&mut s, &[b"SET", b"a", b"1"]);
        srv.storage_mut().fail_next(Op::Write, 1);
        srv.sync_turn().unwrap();
        let r = srv.execute(&mut s, &[b"SET", b"b", b"2"]);
        assert!(r.error().is_some_and(|e| e.starts_with("MISCONF")), "{r:?}");
        srv.sync_turn().unwrap();
        assert_eq!(srv.execute(&mut s, &[b"SET", b"b", b"2"]), Reply::Ok);
        srv.sync_turn().unwrap();
        assert_eq!(keys(&srv, CrashImage::KeepWritten), 2);
    }

    #[test]
    fn the_skip_fsync_sabotage_applies_to_group_commit_too() {
        let mut srv = server(AppendFsync::Always);
        srv.cfg.sabotage.skip_fsync_always = true;
        let mut s = Session::new();
        let mut lost = false;
        let before = srv.storage().op_counts()[1];
        let mut fsyncs = Vec::new();
        for i in 0..6 {
            let k = format!("k{i}");
            srv.execute(&mut s, &[b"SET", k.as_bytes(), b"v"]);
            srv.sync_turn().unwrap();
            fsyncs.push(srv.storage().op_counts()[1] - before);
            lost |= keys(&srv, CrashImage::LoseUnsynced) < i + 1;
        }
        assert!(
            lost,
            "a skipped fsync leaves an acknowledged write undurable"
        );
        // The sabotage's contract (config.rs): every third fsync skipped, the third turn's and
        // the sixth's.
        assert_eq!(fsyncs, [1, 2, 2, 3, 4, 4]);
    }
}
