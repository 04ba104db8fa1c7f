//! AOF files, owned in one place: how an append-only file or a Redis 7 appendonly directory is laid
//! out (manifest, base, incremental files, RDB preamble), loading it as Redis does, and the live
//! directory a persisting server appends to, switches and rewrites.
mod files;
mod load;

pub use files::join;
pub(crate) use files::AofFiles;
pub use load::{
    files, layout, load, looks_like_manifest, replay, Layout, LoadOptions, Loaded, Replayed,
    Truncation,
};
