//! The in-memory keyspace that executes Redis commands with Redis's semantics: databases, values
//! with absolute-ms expiries, functions, MULTI/EXEC, conversion to and from [`crate::dataset`].
//!
//! [`Keyspace::execute`] runs one command (`argv[0]` is the name, any case) in a [`Session`] (the
//! selected database and an open MULTI queue). Command-level failures that Redis sends to a
//! client (WRONGTYPE, syntax errors, ...) are `Ok(Reply::Error(..))`; only an unknown command or a
//! wrong argument count is an `Err(CommandError)`, which is what makes an AOF load fail.
//!
//! Two clock regimes exist, as in Redis:
//! * live ([`Config::loading`] false, the default): a key whose expiry has passed (`now > expire`)
//!   is gone when a command looks it up, and EXPIRE-family commands or hash-field expiries set in
//!   the past delete at once;
//! * loading (true): what a server does while it replays an AOF. Nothing expires during the
//!   replay and past expiry times are stored as given; [`Keyspace::to_dataset`] with `Some(now)`
//!   then leaves expired keys out, as the server's first expiry cycle would.
//!
//! Commands whose effect depends on chance or on the node layout of a server are made
//! deterministic and documented at their handler (SPOP takes the smallest members; approximate
//! stream trimming follows a node layout rebuilt by entry counts and listpack sizes). Encodings
//! are modelled where they change a value: a sorted set Redis would keep as a listpack stores a
//! score of -0 as 0. INCRBYFLOAT/HINCRBYFLOAT compute in f64 where Redis uses `long double`
//! (their propagated forms, SET and HSET, replay exactly). Checked command for command against a
//! live Redis 7.4.1 by `tests/keyspace_live.rs`.
mod args;
mod bits;
mod control;
mod dataset;
mod db;
mod functions;
mod fxhash;
mod hash_setex;
mod hash_type;
mod hashes;
mod hll;
mod keys;
mod lists;
mod redis8;
mod reply;
mod restore;
mod scripts;
mod served;
mod sets;
mod stream_claims;
mod stream_groups;
mod stream_type;
mod streams;
mod strings;
mod zset_ranges;
mod zset_type;
mod zsets;

pub use fxhash::{FxBuild, FxHashMap, FxHashSet, FxHasher};
pub use reply::{CommandError, Reply};
pub use served::glob_match;

use db::Db;
use reply::CmdResult;
use std::collections::BTreeMap;
use std::sync::OnceLock;

/// Server settings the keyspace honours.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Config {
    /// `databases`: SELECT, MOVE, COPY DB and SWAPDB refuse indexes at or above it (default 16).
    pub databases: u64,
    /// Loading semantics (see the module documentation): no expiry while commands run.
    pub loading: bool,
    /// `stream-node-max-entries` (default 100), for approximate (`~`) stream trimming.
    pub stream_node_max_entries: u64,
    /// `stream-node-max-bytes` (default 4096), for approximate (`~`) stream trimming.
    pub stream_node_max_bytes: u64,
    /// `zset-max-listpack-entries` (default 128): while a sorted set is that small (and its
    /// members short) Redis keeps it as a listpack, where a score of -0 is stored as 0.
    pub zset_max_listpack_entries: u64,
    /// `zset-max-listpack-value` (default 64).
    pub zset_max_listpack_value: u64,
    /// `hll-sparse-max-bytes` (default 3000): a sparse HyperLogLog that would grow past it
    /// becomes dense.
    pub hll_sparse_max_bytes: u64,
}

impl Default for Config {
    fn default() -> Config {
        Config {
            databases: 16,
            loading: false,
            stream_node_max_entries: 100,
            stream_node_max_bytes: 4096,
            zset_max_listpack_entries: 128,
            zset_max_listpack_value: 64,
            hll_sparse_max_bytes: 3000,
        }
    }
}

impl Config {
    /// The defaults with loading semantics, for replaying an AOF.
    pub fn replay() -> Config {
        Config {
            loading: true,
            ..Config::default()
        }
    }
}

/// A client's state: the selected database and an open MULTI queue.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Session {
    /// The selected database.
    pub db: u64,
    /// Commands queued since MULTI (each an owned argv), `None` outside a transaction.
    pub multi: Option<Vec<Vec<Vec<u8>>>>,
}

impl Session {
    /// A session on database 0 with no transaction.
    pub fn new() -> Session {
        Session::default()
    }
}

/// The keyspace: databases, function libraries and settings.
#[derive(Debug, Clone)]
pub struct Keyspace {
    dbs: Vec<Db>,
    /// Databases at or beyond `dbs.len()` (only a dataset can put keys there).
    extra: BTreeMap<u64, Db>,
    /// Library name → source.
    functions: BTreeMap<Vec<u8>, Vec<u8>>,
    /// The script cache (SHA-1 hex → body): not data, never in a dataset.
    scripts: FxHashMap<String, Vec<u8>>,
    cfg: Config,
}

impl Default for Keyspace {
    fn default() -> Keyspace {
        Keyspace::new()
    }
}

/// What a handler sees besides the arguments.
pub(crate) struct Cx {
    /// Selected database (SELECT changes it).
    pub(crate) db: u64,
    /// The command's time, Unix ms.
    pub(crate) now: i64,
    /// The expiry clock: `Some(now)` live, `None` while loading.
    pub(crate) clock: Option<i64>,
    /// Loading semantics.
    pub(crate) loading: bool,
}

type Handler = fn(&mut Keyspace, &mut Cx, &[&[u8]]) -> CmdResult;

/// A command: name, Redis arity (positive exact, negative minimum), handler, and whether it may
/// change the dataset (Redis's `write` flag: such a command is propagated to the AOF).
pub(crate) struct Spec {
    pub(crate) name: &'static str,
    pub(crate) arity: i32,
    pub(crate) run: Handler,
    pub(crate) tx: Tx,
    pub(crate) write: bool,
}

/// The transaction role of a command.
#[derive(Clone, Copy, PartialEq, Eq)]
pub(crate) enum Tx {
    /// Runs (or is queued inside MULTI).
    No,
    Multi,
    Exec,
    Discard,
}

/// Builds the [`Spec`] of a command that may write.
pub(crate) const fn spec(name: &'static str, arity: i32, run: Handler) -> Spec {
    Spec {
        name,
        arity,
        run,
        tx: Tx::No,
        write: true,
    }
}

/// Builds the [`Spec`] of a read-only command (Redis's `readonly` flag).
pub(crate) const fn readonly(name: &'static str, arity: i32, run: Handler) -> Spec {
    Spec {
        write: false,
        ..spec(name, arity, run)
    }
}

/// Whether the command `name` (any case) may change the dataset, from the command table:
/// `None` for a command the keyspace does not know.
pub fn command_writes(name: &[u8]) -> Option<bool> {
    lookup(name).map(|s| s.write)
}

/// The command table: open addressing over a case-insensitive hash, so that a name is found
/// without copying or lower-casing it.
struct Table {
    slots: Vec<Option<&'static Spec>>,
}

const TABLE_BITS: u32 = 10;

/// A hash of `name` that ignores ASCII case (every byte gets bit 0x20 set).
#[inline]
fn name_hash(name: &[u8]) -> u64 {
    const LOWER: u64 = 0x2020_2020_2020_2020;
    let mut h: u64 = name.len() as u64;
    let mut mix =
        |w: u64| h = (h.rotate_left(5) ^ (w | LOWER)).wrapping_mul(0x51_7c_c1_b7_27_22_0a_95);
    let mut rest = name;
    while let Some((w, r)) = rest.split_first_chunk::<8>() {
        mix(u64::from_le_bytes(*w));
        rest = r;
    }
    if !rest.is_empty() {
        mix(rest
            .iter()
            .rev()
            .fold(0u64, |acc, &b| (acc << 8) | b as u64));
    }
    h ^ (h >> 29)
}

fn table() -> &'static Table {
    static TABLE: OnceLock<Table> = OnceLock::new();
    TABLE.get_or_init(|| {
        let mut slots: Vec<Option<&'static Spec>> = vec![None; 1 << TABLE_BITS];
        let mask = slots.len() - 1;
        for family in [
            control::COMMANDS,
            strings::COMMANDS,
            lists::COMMANDS,
            sets::COMMANDS,
            hashes::COMMANDS,
            hash_setex::COMMANDS,
            zsets::COMMANDS,
            zset_ranges::COMMANDS,
            streams::COMMANDS,
            stream_groups::COMMANDS,
            stream_claims::COMMANDS,
            keys::COMMANDS,
            functions::COMMANDS,
            restore::COMMANDS,
            bits::COMMANDS,
            hll::COMMANDS,
            scripts::COMMANDS,
            served::COMMANDS,
            redis8::COMMANDS,
        ] {
            for s in family {
                let mut i = name_hash(s.name.as_bytes()) as usize & mask;
                while let Some(other) = slots[i] {
                    assert_ne!(other.name, s.name, "command registered twice");
                    i = (i + 1) & mask;
                }
                slots[i] = Some(s);
            }
        }
        Table { slots }
    })
}

#[inline]
fn lookup(name: &[u8]) -> Option<&'static Spec> {
    let t = table();
    let mask = t.slots.len() - 1;
    let mut i = name_hash(name) as usize & mask;
    while let Some(s) = t.slots[i] {
        if s.name.len() == name.len() && s.name.as_bytes().eq_ignore_ascii_case(name) {
            return Some(s);
        }
        i = (i + 1) & mask;
    }
    None
}

/// Checks a command's or subcommand's argument count against a Redis arity.
pub(crate) fn arity_ok(arity: i32, argc: usize) -> bool {
    if arity >= 0 {
        argc == arity as usize
    } else {
        argc >= arity.unsigned_abs() as usize
    }
}

impl Keyspace {
    /// An empty keyspace with default settings (16 databases, live semantics).
    pub fn new() -> Keyspace {
        Keyspace::with_config(Config::default())
    }

    /// An empty keyspace with these settings.
    pub fn with_config(cfg: Config) -> Keyspace {
        let n = cfg.databases.min(1 << 16) as usize;
        Keyspace {
            dbs: (0..n).map(|_| Db::default()).collect(),
            extra: BTreeMap::new(),
            functions: BTreeMap::new(),
            scripts: FxHashMap::default(),
            cfg,
        }
    }

    /// The settings.
    pub fn config(&self) -> &Config {
        &self.cfg
    }

    /// Switches loading semantics on or off (see the module documentation).
    pub fn set_loading(&mut self, loading: bool) {
        self.cfg.loading = loading;
    }

    /// Starts or stops recording the keys that lookups delete because they expired (in live
    /// mode), for [`Keyspace::take_expired`]; a persistence layer writes a DEL for each.
    pub fn set_expiry_log(&mut self, on: bool) {
        for d in self.dbs.iter_mut().chain(self.extra.values_mut()) {
            d.expired = on.then(Vec::new);
        }
    }

    /// The keys deleted on lookup because they had expired since the last call, by database,
    /// in the order they went.
    pub fn take_expired(&mut self) -> Vec<(u64, Box<[u8]>)> {
        let mut out = Vec::new();
        let dbs = self.dbs.iter_mut().enumerate().map(|(i, d)| (i as u64, d));
        for (i, d) in dbs.chain(self.extra.iter_mut().map(|(&i, d)| (i, d))) {
            if let Some(log) = &mut d.expired {
                out.extend(log.drain(..).map(|k| (i, k)));
            }
        }
        out
    }

    /// Number of keys in database `db`, expired ones included.
    pub fn db_len(&self, db: u64) -> usize {
        self.db_ref(db).map_or(0, |d| d.map.len())
    }

    /// Total number of keys, expired ones included.
    pub fn len(&self) -> usize {
        self.dbs
            .iter()
            .chain(self.extra.values())
            .map(|d| d.map.len())
            .sum()
    }

    /// Whether no database holds a key.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Function libraries, as (name, source), by name.
    pub fn functions(&self) -> impl Iterator<Item = (&[u8], &[u8])> {
        self.functions
            .iter()
            .map(|(k, v)| (k.as_slice(), v.as_slice()))
    }

    fn db_ref(&self, idx: u64) -> Option<&Db> {
        match usize::try_from(idx).ok().and_then(|i| self.dbs.get(i)) {
            Some(d) => Some(d),
            None => self.extra.get(&idx),
        }
    }

    /// Database `idx`, created on demand beyond the configured count.
    #[inline]
    pub(crate) fn db(&mut self, idx: u64) -> &mut Db {
        if let Some(i) = usize::try_from(idx).ok().filter(|&i| i < self.dbs.len()) {
            return &mut self.dbs[i];
        }
        self.extra.entry(idx).or_default()
    }

    /// Two distinct databases at once (for MOVE/COPY).
    pub(crate) fn two_dbs(&mut self, a: u64, b: u64) -> (&mut Db, &mut Db) {
        let n = self.dbs.len() as u64;
        if a < n && b < n {
            let (a, b) = (a as usize, b as usize);
            if a < b {
                let (lo, hi) = self.dbs.split_at_mut(b);
                (&mut lo[a], &mut hi[0])
            } else {
                let (lo, hi) = self.dbs.split_at_mut(a);
                (&mut hi[0], &mut lo[b])
            }
        } else {
            // Rare: one index beyond the configured count (a dataset-only database).
            self.extra.entry(a).or_default();
            self.extra.entry(b).or_default();
            if a >= n && b >= n {
                let mut it = self.extra.iter_mut().filter(|(k, _)| **k == a || **k == b);
                let (k1, d1) = it.next().expect("present");
                let (_, d2) = it.next().expect("present");
                if *k1 == a {
                    (d1, d2)
                } else {
                    (d2, d1)
                }
            } else if a < n {
                (
                    &mut self.dbs[a as usize],
                    self.extra.get_mut(&b).expect("present"),
                )
            } else {
                (
                    self.extra.get_mut(&a).expect("present"),
                    &mut self.dbs[b as usize],
                )
            }
        }
    }

    /// Whether `idx` is a database SELECT/MOVE/COPY/SWAPDB may name.
    pub(crate) fn valid_db(&self, idx: i64) -> bool {
        idx >= 0 && (idx as u64) < self.cfg.databases
    }

    /// Runs one command. `now_ms` is the command's time (Unix ms): it resolves relative expiries,
    /// `*` stream IDs and consumer times, and (in live mode) decides what has expired.
    ///
    /// Inside MULTI every command but EXEC/DISCARD/MULTI is checked (name, arity) and queued;
    /// EXEC runs the queue in order without interleaving and returns the replies as an array.
    pub fn execute(
        &mut self,
        s: &mut Session,
        now_ms: i64,
        argv: &[&[u8]],
    ) -> Result<Reply, CommandError> {
        let Some(name) = argv.first() else {
            return Err(CommandError::UnknownCommand(String::new()));
        };
        let Some(spec) = lookup(name) else {
            return Err(CommandError::UnknownCommand(
                String::from_utf8_lossy(name).into_owned(),
            ));
        };
        if !arity_ok(spec.arity, argv.len()) {
            return Err(CommandError::WrongArity(spec.name.to_owned()));
        }
        match (spec.tx, s.multi.is_some()) {
            (Tx::Multi, true) => Ok(Reply::Error("ERR MULTI calls can not be nested".into())),
            (Tx::Multi, false) => {
                s.multi = Some(Vec::new());
                Ok(Reply::Ok)
            }
            (Tx::Discard, true) => {
                s.multi = None;
                Ok(Reply::Ok)
            }
            (Tx::Discard, false) => Ok(Reply::Error("ERR DISCARD without MULTI".into())),
            (Tx::Exec, false) => Ok(Reply::Error("ERR EXEC without MULTI".into())),
            (Tx::Exec, true) => {
                let queued = s.multi.take().unwrap_or_default();
                let mut replies = Vec::with_capacity(queued.len());
                for cmd in &queued {
                    let argv: Vec<&[u8]> = cmd.iter().map(Vec::as_slice).collect();
                    // A subcommand's arity is only known when it runs; inside EXEC that is
                    // an error reply like any other.
                    replies.push(match self.run(s, now_ms, &argv) {
                        Ok(r) => r,
                        Err(e) => Reply::Error(format!("ERR {e}")),
                    });
                }
                Ok(Reply::Array(replies))
            }
            (_, true) => {
                if let Some(q) = s.multi.as_mut() {
                    q.push(argv.iter().map(|a| a.to_vec()).collect());
                }
                Ok(Reply::Queued)
            }
            (_, false) => {
                let mut cx = Cx {
                    db: s.db,
                    now: now_ms,
                    clock: (!self.cfg.loading).then_some(now_ms),
                    loading: self.cfg.loading,
                };
                let r = (spec.run)(self, &mut cx, argv);
                s.db = cx.db;
                r
            }
        }
    }

    /// Runs a queued command (already validated).
    fn run(&mut self, s: &mut Session, now_ms: i64, argv: &[&[u8]]) -> CmdResult {
        let spec = lookup(argv[0]).expect("validated when queued");
        let mut cx = Cx {
            db: s.db,
            now: now_ms,
            clock: (!self.cfg.loading).then_some(now_ms),
            loading: self.cfg.loading,
        };
        let r = (spec.run)(self, &mut cx, argv);
        s.db = cx.db;
        r
    }
}
