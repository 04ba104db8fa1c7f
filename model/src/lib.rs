//! A pure, std-only model of the Redis keyspace: the same commands as the engine, run on
//! BTreeMaps and Vecs with Redis semantics, knowing nothing of any on-disk encoding.

#![forbid(unsafe_code)]
#![deny(missing_docs)]

mod args;
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
