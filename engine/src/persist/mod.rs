//! Redis's persistence policies over two seams: a [`crate::storage::Storage`] (a real directory,
//! or a simulated disk that keeps written and durable state apart and injects faults) and a [`Clock`].
//!
//! [`Server`] runs commands on a keyspace and persists them as Redis 7 does: the AOF directory
//! (manifest, base, incremental files) appended before each reply and fsynced per `appendfsync`,
//! BGREWRITEAOF, SAVE/BGSAVE and `save` rules with atomic dump replacement, and startup recovery.
//! Paths are relative and `/`-separated; one level of subdirectory is all Redis uses.
mod clock;
mod commands;
mod config;
mod dirty;
mod group_commit;
mod jobs;
mod propagate;
mod served;
mod server;

pub use clock::{Clock, SimClock, SystemClock};
pub use config::{parse_save, AppendFsync, PersistConfig, Sabotage, SaveRule};
pub use propagate::{is_write, propagate};
pub use server::{Refusal, RewriteStart, Server, Stats};
