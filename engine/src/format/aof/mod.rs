//! The AOF formats: the RESP command stream with annotations and the multi-part manifest. Loading
//! whole AOFs (files, preambles, directories) needs a keyspace and lives in `engine::aof`.
pub mod manifest;
pub mod resp;
pub mod rewrite;
