//! A pure, std-only model of the Redis keyspace (the same commands as the engine, on BTreeMaps and
//! Vecs, knowing nothing of any encoding) and of what each persistence policy promises.

#![forbid(unsafe_code)]
#![deny(missing_docs)]

mod args;
pub mod durability;
mod functions;
mod hashes;
mod keys;
mod keyspace;
mod lists;
mod reply;
mod sets;
mod streams;
mod strings;
mod value;
mod xclaim;
mod xgroups;
mod zranges;
mod zsets;

pub use keyspace::{Entry, Keyspace, Session, Snapshot, DEFAULT_DATABASES};
pub use reply::Reply;
pub use value::{Consumer, Fields, Group, Hash, List, Pending, Set, Stream, StreamId, Value, Zset};
