//! `redis-persist-server`: the persisting engine served over TCP and a Unix socket with Redis's
//! protocol (RESP2 and RESP3), command line and configuration file.
//!
//! One thread owns the [`redis_persist_engine::persist::Server`] and runs an event loop as Redis does
//! (`event_loop`): every complete command of every client is run as it is read, and before the
//! loop sleeps the turn's AOF bytes are written at once and, under `appendfsync always`, fsynced
//! once (group commit) before any reply of the turn is sent. Clients may pipeline, open
//! transactions (MULTI/EXEC/WATCH), and block on lists, sorted sets and streams with timeouts.
//! Commands the engine does not run get Redis's exact "unknown command" error.
//!
//! Test mode: `--sabotage NAME` turns on one of [`redis_persist_engine::persist::Sabotage`]'s deliberately
//! broken behaviours (`skip-fsync-always`, `rename-before-fsync`, `drop-rewrite-writes`,
//! `ack-before-append`), and is refused unless the environment has `REDIS_PERSIST_TEST_MODE=1`,
//! so that black-box tools can be shown to catch each bug.
mod admin;
mod client;
pub mod config;
mod dispatch;
mod event_loop;
mod info;
pub mod log;
pub mod proto;
mod table;

pub use config::{parse_command_line, Invocation, ServeConfig};
pub use event_loop::run;

/// The Redis version this server answers as (INFO, HELLO, `--version`): the engine follows
/// Redis 7.4's commands and writes RDB 12, as Redis 7.4 does.
pub const REDIS_VERSION: &str = "7.4.1";

/// What `--version` prints: Redis's form (`Redis server v=...`), which tools parse, with this
/// server's own name in the build field.
pub fn version_line() -> String {
    format!(
        "Redis server v={REDIS_VERSION} sha=00000000:0 malloc=mimalloc bits=64 \
         build=redis-persist-server-{}",
        env!("CARGO_PKG_VERSION")
    )
}

/// The environment variable that must be `1` for `--sabotage` to be accepted.
pub const TEST_MODE_ENV: &str = "REDIS_PERSIST_TEST_MODE";
