//! What each persistence policy promises about a restart after power loss: the states a
//! recovery may produce, given the history of acknowledged writes and what made them durable.
//!
//! The history is a sequence of states (`states[k]` is the state after the first `k` writes of
//! this run). With the AOF on, a recovery must produce one of `states[lo..=hi]`: a prefix, never a
//! hole and never a write that was not made. `hi` is every acknowledged write, plus a last write
//! that was attempted but not acknowledged (it may have reached the disk). `lo` is the longest
//! prefix the policies promise:
//! * `always`: every write acknowledged under it (and so every write before it);
//! * `everysec`: every write acknowledged more than two seconds before the crash, unless the
//!   disk failed a write or fsync after it (the promise assumes a working disk);
//! * `no`: nothing by itself; only a completed rewrite (every write before it started) or a
//!   new AOF (every write so far);
//!
//! With the AOF off, a recovery reads the dump: the state when the last completed snapshot
//! began. A snapshot reported as failed may still have been put in place, so it joins the
//! candidates instead of replacing them.

/// `appendfsync`, as the model knows it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Fsync {
    /// fsync before acknowledging.
    Always,
    /// fsync within a second.
    Everysec,
    /// never fsync.
    No,
}

#[derive(Debug, Clone, Copy)]
struct Write {
    at_ms: i64,
    fsync: Fsync,
}

/// The durability promises of one run (from a start or restart to a crash).
#[derive(Debug, Clone)]
pub struct Durability<S> {
    states: Vec<S>,
    writes: Vec<Write>,
    in_flight: Option<S>,
    /// Writes `..floor` are durable in the AOF whatever the policy.
    floor: usize,
    last_fault_ms: Option<i64>,
    rewrite_from: Option<usize>,
    rdb: Vec<S>,
    aof_on: bool,
}

impl<S: Clone> Durability<S> {
    /// A run starting in `state`. `rdb` are the states the dump may hold (the empty state when
    /// there is no dump); `aof_on` whether the AOF is written.
    pub fn new(state: S, rdb: Vec<S>, aof_on: bool) -> Durability<S> {
        Durability {
            states: vec![state],
            writes: Vec::new(),
            in_flight: None,
            floor: 0,
            last_fault_ms: None,
            rewrite_from: None,
            rdb,
            aof_on,
        }
    }

    /// Writes acknowledged so far in this run.
    pub fn writes(&self) -> usize {
        self.writes.len()
    }

    /// The current state (after every acknowledged write).
    pub fn current(&self) -> &S {
        self.states.last().expect("never empty")
    }

    /// A write was acknowledged at `at_ms` under `fsync`, giving `state`.
    pub fn ack(&mut self, state: S, at_ms: i64, fsync: Fsync) {
        self.states.push(state);
        self.writes.push(Write { at_ms, fsync });
        if fsync == Fsync::Always && self.aof_on {
            self.floor = self.writes.len();
        }
    }

    /// A write was attempted and not acknowledged; it may still have reached the disk.
    pub fn unacknowledged(&mut self, state: S) {
        self.in_flight = Some(state);
    }

    /// The disk failed a write or an fsync at `at_ms`: time-based promises for writes
    /// acknowledged until then no longer hold.
    pub fn fault(&mut self, at_ms: i64) {
        self.last_fault_ms = Some(at_ms);
    }

    /// A new AOF was written from the current state (appendonly turned on): all of it is durable.
    pub fn aof_created(&mut self) {
        self.aof_on = true;
        self.floor = self.writes.len();
        self.rewrite_from = None;
    }

    /// Everything written so far was synced (a clean shutdown).
    pub fn aof_synced(&mut self) {
        if self.aof_on {
            self.floor = self.writes.len();
        }
    }

    /// The AOF was turned off: a restart reads the dump.
    pub fn aof_stopped(&mut self) {
        self.aof_on = false;
        self.rewrite_from = None;
    }

    /// A rewrite began now.
    pub fn rewrite_started(&mut self) {
        self.rewrite_from = Some(self.writes.len());
    }

    /// The rewrite ended; when it succeeded, every write before its start is durable.
    pub fn rewrite_finished(&mut self, ok: bool) {
        if let Some(from) = self.rewrite_from.take() {
            if ok && self.aof_on {
                self.floor = self.floor.max(from);
            }
        }
    }

    /// A snapshot of `state` (the state when it began) ended, reported as `ok` or not.
    pub fn snapshot(&mut self, state: S, ok: bool) {
        if ok {
            self.rdb = vec![state];
        } else {
            self.rdb.push(state);
        }
    }

    /// The states the dump may hold.
    pub fn rdb_candidates(&self) -> &[S] {
        &self.rdb
    }

    /// The longest prefix promised at a crash at `crash_ms`.
    pub fn promised(&self, crash_ms: i64) -> usize {
        let mut lo = self.floor;
        for (i, w) in self.writes.iter().enumerate() {
            let old = w.at_ms < crash_ms - 2000;
            let disk_ok = self.last_fault_ms.is_none_or(|f| w.at_ms > f);
            if w.fsync == Fsync::Everysec && old && disk_ok {
                lo = lo.max(i + 1);
            }
        }
        lo
    }

    /// The states a restart after a crash at `crash_ms` may recover, given whether the AOF is
    /// on at the restart.
    pub fn recoverable(&self, crash_ms: i64) -> Vec<&S> {
        if !self.aof_on {
            return self.rdb.iter().collect();
        }
        let lo = self.promised(crash_ms);
        let mut v: Vec<&S> = self.states[lo..].iter().collect();
        v.extend(self.in_flight.iter());
        v
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn run(aof: bool) -> Durability<u32> {
        Durability::new(0, vec![0], aof)
    }

    #[test]
    fn always_promises_every_acknowledged_write() {
        let mut d = run(true);
        d.ack(1, 1_000, Fsync::Always);
        d.ack(2, 1_001, Fsync::Always);
        assert_eq!(d.recoverable(1_002), vec![&2]);
        d.unacknowledged(3);
        assert_eq!(d.recoverable(1_002), vec![&2, &3]);
    }

    #[test]
    fn everysec_promises_what_is_older_than_two_seconds() {
        let mut d = run(true);
        d.ack(1, 1_000, Fsync::Everysec);
        d.ack(2, 2_500, Fsync::Everysec);
        assert_eq!(d.recoverable(3_000), vec![&0, &1, &2]);
        assert_eq!(d.recoverable(3_001), vec![&1, &2]);
        assert_eq!(d.recoverable(9_000), vec![&2]);
    }

    #[test]
    fn a_disk_fault_voids_the_time_promise_for_earlier_writes_only() {
        let mut d = run(true);
        d.ack(1, 1_000, Fsync::Everysec);
        d.fault(1_500);
        d.ack(2, 2_000, Fsync::Everysec);
        assert_eq!(
            d.recoverable(9_000),
            vec![&2],
            "write 2 came after the fault"
        );
        let mut e = run(true);
        e.ack(1, 1_000, Fsync::Everysec);
        e.fault(1_500);
        assert_eq!(e.recoverable(9_000), vec![&0, &1]);
    }

    #[test]
    fn no_promises_only_what_a_completed_rewrite_covers() {
        let mut d = run(true);
        d.ack(1, 0, Fsync::No);
        d.rewrite_started();
        d.ack(2, 0, Fsync::No);
        assert_eq!(d.recoverable(99_000), vec![&0, &1, &2]);
        d.rewrite_finished(true);
        assert_eq!(d.recoverable(99_000), vec![&1, &2]);
        d.rewrite_started();
        d.rewrite_finished(false);
        assert_eq!(d.recoverable(99_000), vec![&1, &2]);
    }

    #[test]
    fn without_the_aof_the_dump_decides() {
        let mut d = run(false);
        d.ack(1, 0, Fsync::Always);
        assert_eq!(d.recoverable(5), vec![&0]);
        d.snapshot(1, true);
        d.ack(2, 0, Fsync::Always);
        assert_eq!(d.recoverable(5), vec![&1]);
        d.snapshot(2, false);
        assert_eq!(d.recoverable(5), vec![&1, &2]);
        d.aof_created();
        assert_eq!(d.recoverable(5), vec![&2]);
    }
}
