//! Shared helpers for the keyspace tests: a client that runs string commands at a settable clock,
//! and short constructors for expected replies.
#![allow(dead_code)]
pub mod gen;
use redis_persist_engine::dataset::{Dataset, Entry, Value};
use redis_persist_engine::keyspace::{CommandError, Config, Keyspace, Reply, Session};

/// The clock every test starts at (Unix ms).
pub const T0: i64 = 1_700_000_000_000;

/// A keyspace with one session and a clock.
pub struct Client {
    pub k: Keyspace,
    pub s: Session,
    pub now: i64,
}

impl Client {
    /// Live (client) semantics.
    pub fn new() -> Client {
        Client {
            k: Keyspace::new(),
            s: Session::new(),
            now: T0,
        }
    }

    /// Loading (AOF replay) semantics.
    pub fn replay() -> Client {
        Client {
            k: Keyspace::with_config(Config::replay()),
            s: Session::new(),
            now: T0,
        }
    }

    /// Runs a command; a structural error is returned as is.
    pub fn try_run<A: AsRef<[u8]>>(&mut self, args: &[A]) -> Result<Reply, CommandError> {
        let argv: Vec<&[u8]> = args.iter().map(|a| a.as_ref()).collect();
        self.k.execute(&mut self.s, self.now, &argv)
    }

    /// Runs a command that must be structurally valid.
    pub fn run<A: AsRef<[u8]>>(&mut self, args: &[A]) -> Reply {
        let argv: Vec<String> = args
            .iter()
            .map(|a| String::from_utf8_lossy(a.as_ref()).into_owned())
            .collect();
        self.try_run(args)
            .unwrap_or_else(|e| panic!("{argv:?}: {e}"))
    }

    /// Runs a command and asserts its reply.
    #[track_caller]
    pub fn check<A: AsRef<[u8]>>(&mut self, args: &[A], want: Reply) {
        let got = self.run(args);
        assert_eq!(
            got,
            want,
            "{:?}",
            args.iter()
                .map(|a| String::from_utf8_lossy(a.as_ref()).into_owned())
                .collect::<Vec<_>>()
        );
    }

    /// Runs a command that must reply with an error starting with `prefix`.
    #[track_caller]
    pub fn check_err<A: AsRef<[u8]>>(&mut self, args: &[A], prefix: &str) {
        match self.run(args) {
            Reply::Error(e) => assert!(
                e.starts_with(prefix),
                "error {e:?} does not start with {prefix:?}"
            ),
            other => panic!("expected an error starting with {prefix:?}, got {other:?}"),
        }
    }

    /// The dataset now (nothing dropped).
    pub fn dataset(&self) -> Dataset {
        self.k.to_dataset(None)
    }

    /// The entry of `key` in database `db`.
    pub fn entry(&self, db: u64, key: &str) -> Option<Entry> {
        self.dataset()
            .keys
            .into_iter()
            .find(|e| e.db == db && e.key == key.as_bytes())
    }

    /// The value of `key` in the selected database.
    pub fn value(&self, key: &str) -> Option<Value> {
        self.entry(self.s.db, key).map(|e| e.value)
    }
}

pub fn ok() -> Reply {
    Reply::Ok
}

pub fn int(i: i64) -> Reply {
    Reply::Int(i)
}

pub fn bulk(s: &str) -> Reply {
    Reply::Bulk(s.as_bytes().to_vec())
}

pub fn nil() -> Reply {
    Reply::Nil
}

/// An array of bulk strings.
pub fn bulks(items: &[&str]) -> Reply {
    Reply::Array(items.iter().map(|s| bulk(s)).collect())
}

/// An array of integers.
pub fn ints(items: &[i64]) -> Reply {
    Reply::Array(items.iter().map(|i| int(*i)).collect())
}

pub fn arr(items: Vec<Reply>) -> Reply {
    Reply::Array(items)
}
