//! Validation, like Redis's own checkers: `rdb` checks an RDB as `redis-check-rdb` does (deeply,
//! keeping only counts), `aof` an AOF file or directory as `redis-check-aof` does, with its figures.
pub mod aof;
pub mod rdb;

pub use rdb::{check, checksum_phrase, Summary};
