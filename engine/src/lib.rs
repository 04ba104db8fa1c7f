//! The reference engine for Redis persistence: a pure format layer for RDB (and, later, AOF), the
//! logical dataset it decodes to, and the tools built on them.
#![forbid(unsafe_code)]
#![deny(missing_docs)]

pub mod aof;
pub mod check;
pub mod corpus;
pub mod dataset;
pub mod format;
pub mod keyspace;
pub mod live;
pub mod persist;
pub mod rng;
pub mod spill;
pub mod stats;
pub mod storage;
