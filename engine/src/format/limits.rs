//! The allocation budget every decoder honours: no length prefix is trusted beyond these bounds
//! or beyond the bytes that remain, whichever is smaller.
//!
//! Nesting needs no budget: RDB encodings nest at most two deep (a blob inside a possibly
//! LZF-compressed string, inside a quicklist or stream node) and the decoder has no recursion.

/// Bounds on what one input may make a decoder hold.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limits {
    /// Largest single string (key, value, element, blob, decompressed LZF) in bytes.
    pub max_string_len: u64,
    /// Largest element count of one collection (list, set, hash, zset, stream, PEL).
    pub max_collection_len: u64,
    /// Largest dataset a materialising decoder (`dump`) may build, counting each stored string's
    /// bytes plus 32 bytes of overhead. Compact encodings expand (an LZF listpack of small
    /// integers grows thousands of times), so this, not the input size, bounds `dump`'s memory.
    pub max_dataset_bytes: u64,
}

impl Limits {
    /// Defaults that no file written by a real server reaches: 4 GiB strings, 2^32 elements, and
    /// no dataset bound beyond 1 TiB.
    pub const DEFAULT: Limits = Limits {
        max_string_len: 1 << 32,
        max_collection_len: 1 << 32,
        max_dataset_bytes: 1 << 40,
    };

    /// Tight limits for fuzzing and hostile inputs: 1 MiB strings, 64 Ki elements, 64 MiB datasets.
    pub const TIGHT: Limits = Limits {
        max_string_len: 1 << 20,
        max_collection_len: 1 << 16,
        max_dataset_bytes: 64 << 20,
    };
}

impl Default for Limits {
    fn default() -> Self {
        Limits::DEFAULT
    }
}
