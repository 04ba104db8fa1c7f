//! AOF files, owned in one place: how an append-only file or a Redis 7 appendonly directory is laid
//! out (manifest, base, incremental files, RDB preamble), loading it as Redis does, and the live
//! directory a persisting server appends to, switches and rewrites.
mod files;
mod layout;
pub(crate) mod load;
pub mod memory;

pub use files::AofFiles;
pub use layout::{looks_like_manifest, AofSource, FsDir, Layout, StorageDir};
pub use load::{
    load, load_stream, replay, replay_files, LoadOptions, Loaded, Replayed, Truncation,
};

/// `<dir>/<name>` (just `name` in the root).
pub fn join(dir: &str, name: &str) -> String {
    if dir.is_empty() {
        name.to_owned()
    } else {
        format!("{dir}/{name}")
    }
}
