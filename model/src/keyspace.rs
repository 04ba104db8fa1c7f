//! The keyspace, the per-client session, and the dispatcher that runs one command.
//! Owns the expiry rule, MULTI/EXEC queueing, arity checks and the canonical-state sweep.

use std::collections::BTreeMap;

use crate::args::{eq, lower};
use crate::reply::{arity, err, wrong_type, Reply, Res};
use crate::value::{Kind, Value};

/// Databases a server has unless told otherwise (`databases 16`).
pub const DEFAULT_DATABASES: u64 = 16;

/// A key's value and its absolute expiry in Unix milliseconds, if any.
#[derive(Debug, Clone, PartialEq)]
pub struct Entry {
    /// The value.
    pub value: Value,
    /// When the key expires; it is gone once `now_ms > expire_ms`.
    pub expire_ms: Option<i64>,
}

/// Live keys flattened for comparison: (db, key) → (value, expiry).
pub type Snapshot = BTreeMap<(u64, Vec<u8>), (Value, Option<i64>)>;

/// The whole logical dataset: every database plus the function libraries.
///
/// It is the suite's independent oracle. [`Keyspace::apply`] runs one command (`argv` as a
/// client sends it) for a [`Session`] at a caller-supplied `now_ms` and returns the
/// [`Reply`] Redis would give; [`Keyspace::snapshot`] flattens the live state for
/// comparison with whatever the engine loaded. Choices shared by every command:
///
/// * Time only moves between calls, never inside one (Redis's `commandTimeSnapshot`), so a
///   whole EXEC sees one `now_ms`. Callers must not make `now_ms` go backwards, and it is
///   assumed non-negative (it seeds `XADD *` IDs).
/// * A key whose absolute expiry is `when` is expired once `now_ms > when`, as in Redis's
///   `keyIsExpired` (`now > when`): a key expiring exactly at `now_ms` is still visible.
///   Commands that *set* an expiry delete at once when `when <= now_ms`, as Redis's
///   `checkAlreadyExpired` does for a client (AOF loading and replicas keep the key).
///   Hash fields follow the same two rules (`hashTypeIsExpired`, `hashTypeSetEx`).
/// * Everything due is expired before each command. Redis expires lazily on access (plus
///   an active cycle), which no command can tell apart, except DBSIZE and HLEN that in
///   Redis may still count expired-but-unreclaimed keys and fields.
/// * Empty lists, sets, hashes and sorted sets never exist (a hash whose last field
///   expires disappears); empty streams may.
/// * Unordered collections (SMEMBERS, HGETALL, SPOP) reply in byte order, where Redis's
///   order is unspecified: compare such replies as sets.
#[derive(Debug, Clone, PartialEq)]
pub struct Keyspace {
    /// Databases by index; a database with no keys is absent.
    pub dbs: BTreeMap<u64, BTreeMap<Vec<u8>, Entry>>,
    /// Function libraries: library name → the source given to FUNCTION LOAD.
    pub functions: BTreeMap<Vec<u8>, Vec<u8>>,
    /// How many databases SELECT, MOVE and COPY accept (0..databases).
    pub databases: u64,
}

/// One client's connection state: the selected database and an open transaction.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Session {
    /// The selected database.
    pub db: u64,
    /// Commands queued since MULTI; `None` outside a transaction.
    pub pending: Option<Vec<Vec<Vec<u8>>>>,
    /// Set when a queued command was rejected, so EXEC must answer EXECABORT.
    pub aborted: bool,
}

impl Default for Keyspace {
    fn default() -> Self {
        Keyspace {
            dbs: BTreeMap::new(),
            functions: BTreeMap::new(),
            databases: DEFAULT_DATABASES,
        }
    }
}

/// The expiry rule for keys and hash fields: Redis's `keyIsExpired` is `now > when`, so a
/// key whose expiry equals the current time is still readable during that millisecond.
pub(crate) fn expired(when: i64, now_ms: i64) -> bool {
    now_ms > when
}

/// Redis's `checkAlreadyExpired` for a client command: setting an expiry at or before now
/// deletes at once (AOF loading and replicas keep the key instead; the model does not).
pub(crate) fn already_expired(when: i64, now_ms: i64) -> bool {
    when <= now_ms
}

pub(crate) type Handler = fn(&mut Ctx<'_>, &[Vec<u8>]) -> Res;

/// A command table row: Redis's name and arity (negative = at least), and for container
/// commands (XGROUP, FUNCTION) the subcommands with their own arities.
pub(crate) struct Cmd {
    pub name: &'static str,
    pub arity: i32,
    pub run: Handler,
    pub subs: &'static [(&'static str, i32)],
}

pub(crate) const fn cmd(name: &'static str, arity: i32, run: Handler) -> Cmd {
    Cmd {
        name,
        arity,
        run,
        subs: &[],
    }
}

const TABLES: &[&[Cmd]] = &[
    crate::keys::COMMANDS,
    crate::strings::COMMANDS,
    crate::lists::COMMANDS,
    crate::sets::COMMANDS,
    crate::hashes::COMMANDS,
    crate::zsets::COMMANDS,
    crate::zranges::COMMANDS,
    crate::streams::COMMANDS,
    crate::xgroups::COMMANDS,
    crate::xclaim::COMMANDS,
    crate::functions::COMMANDS,
    TRANSACTION,
];

// MULTI/EXEC/DISCARD act on the session and are intercepted before dispatch; their rows
// exist so that arity errors and queue-time checks treat them like any command.
const TRANSACTION: &[Cmd] = &[
    cmd("multi", 1, unreachable),
    cmd("exec", 1, unreachable),
    cmd("discard", 1, unreachable),
];

fn unreachable(_: &mut Ctx<'_>, _: &[Vec<u8>]) -> Res {
    Err(err("transaction commands are handled by the session"))
}

fn arity_ok(arity: i32, argc: usize) -> bool {
    let argc = i64::try_from(argc).unwrap_or(i64::MAX);
    let arity = i64::from(arity);
    if arity >= 0 {
        argc == arity
    } else {
        argc >= -arity
    }
}

fn clip(bytes: &[u8], max: usize) -> String {
    let s = String::from_utf8_lossy(&bytes[..bytes.len().min(max)]).into_owned();
    s.replace(['\r', '\n'], " ")
}

/// The checks Redis's `processCommand` makes before running or queueing a command:
/// the command exists, the subcommand exists, and the argument count fits.
fn lookup(argv: &[Vec<u8>]) -> Result<&'static Cmd, Reply> {
    let name = lower(&argv[0]);
    let Some(c) = TABLES
        .iter()
        .flat_map(|t| t.iter())
        .find(|c| c.name == name)
    else {
        let mut args = String::new();
        for a in &argv[1..] {
            if args.len() >= 128 {
                break;
            }
            args.push_str(&format!("'{}' ", clip(a, 128 - args.len())));
        }
        return Err(err(format!(
            "unknown command '{}', with args beginning with: {args}",
            clip(&argv[0], 128)
        )));
    };
    if !c.subs.is_empty() && argv.len() >= 2 {
        let sub = lower(&argv[1]);
        let Some(&(sname, sarity)) = c.subs.iter().find(|(n, _)| *n == sub) else {
            return Err(err(format!(
                "unknown subcommand '{}'. Try {} HELP.",
                clip(&argv[1], 128),
                c.name.to_ascii_uppercase()
            )));
        };
        if !arity_ok(sarity, argv.len()) {
            return Err(arity(&format!("{}|{sname}", c.name)));
        }
        return Ok(c);
    }
    if !arity_ok(c.arity, argv.len()) {
        return Err(arity(c.name));
    }
    Ok(c)
}

impl Keyspace {
    /// An empty keyspace with [`DEFAULT_DATABASES`] databases.
    pub fn new() -> Keyspace {
        Keyspace::default()
    }

    /// Runs one command for `session` at time `now_ms` and returns Redis's reply.
    ///
    /// Inside MULTI, commands that pass the existence and arity checks are queued
    /// (`Reply::Queued`); one that fails them is answered with its error and dooms the
    /// transaction to EXECABORT, as in Redis.
    pub fn apply(&mut self, session: &mut Session, now_ms: i64, argv: &[Vec<u8>]) -> Reply {
        if argv.is_empty() {
            return err("empty command");
        }
        if let Err(e) = lookup(argv) {
            if session.pending.is_some() {
                session.aborted = true;
            }
            return e;
        }
        let name = &argv[0];
        if eq(name, "multi") {
            if session.pending.is_some() {
                return err("MULTI calls can not be nested");
            }
            session.pending = Some(Vec::new());
            session.aborted = false;
            return Reply::Ok;
        }
        if eq(name, "discard") {
            return match session.pending.take() {
                None => err("DISCARD without MULTI"),
                Some(_) => {
                    session.aborted = false;
                    Reply::Ok
                }
            };
        }
        if eq(name, "exec") {
            let Some(queued) = session.pending.take() else {
                return err("EXEC without MULTI");
            };
            if std::mem::take(&mut session.aborted) {
                return Reply::Error(
                    "EXECABORT Transaction discarded because of previous errors.".into(),
                );
            }
            let replies = queued
                .iter()
                .map(|argv| self.execute(&mut session.db, now_ms, argv));
            return Reply::Array(replies.collect());
        }
        if let Some(queue) = session.pending.as_mut() {
            queue.push(argv.to_vec());
            return Reply::Queued;
        }
        self.execute(&mut session.db, now_ms, argv)
    }

    fn execute(&mut self, db: &mut u64, now_ms: i64, argv: &[Vec<u8>]) -> Reply {
        let command = match lookup(argv) {
            Ok(c) => c,
            Err(e) => return e,
        };
        // Expiring everything due before the command is indistinguishable from lazy expiry
        // (expired data is never observable) and keeps the stored state canonical.
        self.settle(now_ms);
        let mut cx = Ctx {
            ks: self,
            db,
            now: now_ms,
        };
        let reply = (command.run)(&mut cx, argv).unwrap_or_else(|e| e);
        self.settle(now_ms);
        reply
    }

    /// Removes expired keys and hash fields, empty collections, and empty databases.
    fn settle(&mut self, now_ms: i64) {
        for keys in self.dbs.values_mut() {
            keys.retain(|_, e| {
                if e.expire_ms.is_some_and(|w| expired(w, now_ms)) {
                    return false;
                }
                e.value.purge_fields(now_ms);
                !e.value.is_empty_collection()
            });
        }
        self.dbs.retain(|_, keys| !keys.is_empty());
    }

    /// Every key live at `now_ms`, with expired hash fields removed.
    pub fn snapshot(&self, now_ms: i64) -> Snapshot {
        let mut live = self.clone();
        live.settle(now_ms);
        let mut out = Snapshot::new();
        for (db, keys) in live.dbs {
            for (key, e) in keys {
                out.insert((db, key), (e.value, e.expire_ms));
            }
        }
        out
    }
}

/// What a command handler sees: the keyspace, the session's selected db, and the time.
pub(crate) struct Ctx<'a> {
    pub ks: &'a mut Keyspace,
    pub db: &'a mut u64,
    pub now: i64,
}

impl Ctx<'_> {
    /// The keys of database `db`.
    pub fn keys_in(&mut self, db: u64) -> &mut BTreeMap<Vec<u8>, Entry> {
        self.ks.dbs.entry(db).or_default()
    }

    /// The keys of the selected database.
    pub fn keys(&mut self) -> &mut BTreeMap<Vec<u8>, Entry> {
        let db = *self.db;
        self.keys_in(db)
    }

    pub fn entry(&mut self, key: &[u8]) -> Option<&mut Entry> {
        self.keys().get_mut(key)
    }

    /// The value at `key` as type `T`: `Ok(None)` if absent, WRONGTYPE if another type.
    pub fn get<T: Kind>(&mut self, key: &[u8]) -> Result<Option<&mut T>, Reply> {
        match self.entry(key) {
            None => Ok(None),
            Some(e) => T::of(&mut e.value).map(Some).ok_or_else(wrong_type),
        }
    }

    /// The value at `key` as type `T`, created empty (without TTL) if absent.
    pub fn get_or_create<T: Kind>(&mut self, key: &[u8]) -> Result<&mut T, Reply> {
        let e = self.keys().entry(key.to_vec()).or_insert_with(|| Entry {
            value: T::default().into_value(),
            expire_ms: None,
        });
        T::of(&mut e.value).ok_or_else(wrong_type)
    }

    /// Checks that `key` is absent or of type `T`, without creating it.
    pub fn check<T: Kind>(&mut self, key: &[u8]) -> Result<(), Reply> {
        self.get::<T>(key).map(|_| ())
    }

    /// Stores `value` at `key` replacing any old value and TTL (Redis's `setKey`).
    pub fn put(&mut self, key: &[u8], value: Value) {
        self.keys().insert(
            key.to_vec(),
            Entry {
                value,
                expire_ms: None,
            },
        );
    }

    pub fn remove(&mut self, key: &[u8]) -> Option<Entry> {
        self.keys().remove(key)
    }
}

#[cfg(test)]
pub(crate) mod testkit {
    use super::{Keyspace, Session};
    use crate::reply::Reply;

    /// A keyspace, a session and a clock, driven by whitespace-separated command lines.
    pub struct T {
        pub ks: Keyspace,
        pub s: Session,
        pub now: i64,
    }

    impl T {
        pub fn new() -> T {
            T {
                ks: Keyspace::new(),
                s: Session::default(),
                now: 1_000_000,
            }
        }

        pub fn run(&mut self, line: &str) -> Reply {
            let argv: Vec<Vec<u8>> = line
                .split_whitespace()
                .map(|a| a.as_bytes().to_vec())
                .collect();
            self.ks.apply(&mut self.s, self.now, &argv)
        }

        pub fn run_args(&mut self, args: &[&[u8]]) -> Reply {
            let argv: Vec<Vec<u8>> = args.iter().map(|a| a.to_vec()).collect();
            self.ks.apply(&mut self.s, self.now, &argv)
        }

        /// Runs `line`, failing the test if it answers with an error.
        pub fn ok(&mut self, line: &str) -> Reply {
            let r = self.run(line);
            assert!(!r.is_error(), "{line}: {r:?}");
            r
        }
    }

    pub fn b(s: &str) -> Reply {
        Reply::bulk(s.as_bytes())
    }

    pub fn i(n: i64) -> Reply {
        Reply::Int(n)
    }

    pub fn arr(items: &[&str]) -> Reply {
        Reply::Array(items.iter().map(|s| b(s)).collect())
    }

    pub fn e(s: &str) -> Reply {
        Reply::Error(s.to_string())
    }

    pub const WRONGTYPE: &str = "WRONGTYPE Operation against a key holding the wrong kind of value";
}

#[cfg(test)]
mod tests {
    use super::testkit::*;
    use super::*;

    #[test]
    fn unknown_command_and_arity_errors_use_redis_text() {
        let mut t = T::new();
        assert_eq!(
            t.run("FOO a b"),
            e("ERR unknown command 'FOO', with args beginning with: 'a' 'b' ")
        );
        assert_eq!(
            t.run("nosuch"),
            e("ERR unknown command 'nosuch', with args beginning with: ")
        );
        assert_eq!(
            t.run("GET"),
            e("ERR wrong number of arguments for 'get' command")
        );
        assert_eq!(
            t.run("get a b"),
            e("ERR wrong number of arguments for 'get' command")
        );
        assert_eq!(
            t.run("XGROUP"),
            e("ERR wrong number of arguments for 'xgroup' command")
        );
        assert_eq!(
            t.run("XGROUP NOPE k"),
            e("ERR unknown subcommand 'NOPE'. Try XGROUP HELP.")
        );
        assert_eq!(
            t.run("XGROUP DESTROY k"),
            e("ERR wrong number of arguments for 'xgroup|destroy' command")
        );
    }

    #[test]
    fn key_expiring_exactly_now_is_still_visible_and_gone_one_ms_later() {
        let mut t = T::new();
        t.ok("SET k v PXAT 1000500");
        t.now = 1_000_500;
        assert_eq!(t.run("GET k"), b("v"));
        assert_eq!(t.run("PTTL k"), i(0));
        t.now = 1_000_501;
        assert_eq!(t.run("GET k"), Reply::nil());
        assert_eq!(t.run("EXISTS k"), i(0));
        assert!(
            t.ks.dbs.is_empty(),
            "expired key must be removed, not just hidden"
        );
    }

    #[test]
    fn multi_queues_and_exec_runs_everything_in_order() {
        let mut t = T::new();
        assert_eq!(t.run("MULTI"), Reply::Ok);
        assert_eq!(t.run("SET a 1"), Reply::Queued);
        assert_eq!(t.run("INCR a"), Reply::Queued);
        assert_eq!(t.run("LPUSH a x"), Reply::Queued);
        assert_eq!(t.run("GET missing"), Reply::Queued);
        assert_eq!(t.run("GET a"), Reply::Queued);
        assert_eq!(t.run("MULTI"), e("ERR MULTI calls can not be nested"));
        let r = t.run("EXEC");
        assert_eq!(
            r,
            Reply::Array(vec![Reply::Ok, i(2), e(WRONGTYPE), Reply::nil(), b("2")]),
            "runtime errors stay in the array and nothing is rolled back"
        );
        assert_eq!(t.run("EXEC"), e("ERR EXEC without MULTI"));
        assert_eq!(t.run("DISCARD"), e("ERR DISCARD without MULTI"));
    }

    #[test]
    fn queue_time_errors_abort_the_whole_transaction() {
        let mut t = T::new();
        t.ok("MULTI");
        assert_eq!(t.run("SET a 1"), Reply::Queued);
        assert_eq!(
            t.run("SET a"),
            e("ERR wrong number of arguments for 'set' command")
        );
        assert_eq!(
            t.run("EXEC"),
            e("EXECABORT Transaction discarded because of previous errors.")
        );
        assert_eq!(t.run("GET a"), Reply::nil());
        t.ok("MULTI");
        t.run("SET a 1");
        assert_eq!(t.run("DISCARD"), Reply::Ok);
        assert_eq!(t.run("GET a"), Reply::nil());
        t.ok("MULTI");
        assert_eq!(t.run("EXEC"), Reply::Array(vec![]));
    }

    #[test]
    fn select_inside_exec_changes_the_session_db() {
        let mut t = T::new();
        t.ok("MULTI");
        t.run("SELECT 3");
        t.run("SET k v");
        t.ok("EXEC");
        assert_eq!(t.s.db, 3);
        assert!(t.ks.dbs[&3].contains_key(b"k".as_slice()));
        assert!(!t.ks.dbs.contains_key(&0));
    }

    #[test]
    fn snapshot_drops_expired_keys_and_fields() {
        let mut t = T::new();
        t.ok("SET live v");
        t.ok("SET dying v PX 10");
        t.ok("HSET h f1 a f2 b");
        t.ok("HPEXPIRE h 10 FIELDS 1 f1");
        t.ok("HSET h2 f a");
        t.ok("HPEXPIRE h2 10 FIELDS 1 f");
        let snap = t.ks.snapshot(t.now + 11);
        let keys: Vec<&[u8]> = snap.keys().map(|(_, k)| k.as_slice()).collect();
        assert_eq!(keys, [&b"h"[..], b"live"]);
        let (Value::Hash(h), None) = &snap[&(0, b"h".to_vec())] else {
            panic!()
        };
        assert_eq!(h.len(), 1);
        assert!(h.contains_key(&b"f2".to_vec()));
        assert_eq!(t.ks.snapshot(t.now).len(), 4, "nothing is due yet");
    }
}
