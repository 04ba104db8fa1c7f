//! The AOF formats beyond the RESP command stream (`format::resp`): the multi-part manifest and the
//! rewrite form of a dataset. Loading whole AOFs needs a keyspace and lives in `engine::aof`.
pub mod manifest;
pub mod rewrite;
