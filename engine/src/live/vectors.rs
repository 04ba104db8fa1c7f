//! The optional folder of test files other projects publish (`../shared/vectors` beside the
//! workspace): where tests look for it, and the skip message that says what it is and how to fill it.

use std::path::PathBuf;

/// What the folder holds and where such files come from, for skip messages and the README.
pub const VECTORS_HELP: &str = "it holds test files other projects publish, each subfolder with \
     its project's license: RDB and AOF files and their JSON goldens from redis/librdb \
     (librdb/), HDT3213/rdb (hdt3213/), sripathikrishnan/redis-rdb-tools (rdbtools/), \
     leonchen83/redis-replicator (replicator/) and valkey-io/valkey's tests/assets \
     (valkey-assets/); it is kept beside the checkout, never in it. To run these tests, copy \
     those projects' test files there (README, \"Third-party test files\")";

/// The vectors folder, `shared/vectors` beside the workspace directory (the same path for every
/// crate of the workspace), whether or not it exists.
pub fn vectors_path() -> PathBuf {
    // This crate is `<workspace>/engine`: the folder is `<workspace>/../shared/vectors`, spelled
    // without `..` so the skip message shows a path one can create.
    let engine = std::path::Path::new(env!("CARGO_MANIFEST_DIR"));
    let beside = engine.parent().and_then(|w| w.parent());
    beside.map_or_else(
        || engine.join("../../shared/vectors"),
        |d| d.join("shared/vectors"),
    )
}

/// For tests: the vectors folder, or `None` after a [`skip`](super::skip) that says what the
/// folder holds and where to get such files.
pub fn vectors_or_skip() -> Option<PathBuf> {
    let root = vectors_path();
    if root.is_dir() {
        return Some(root);
    }
    super::skip(&format!(
        "the vectors folder {} does not exist here: {VECTORS_HELP}",
        root.display()
    ));
    None
}
