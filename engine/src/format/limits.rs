//! The allocation budget every decoder honours: no length prefix is trusted beyond these bounds
//! or beyond the bytes that remain, whichever is smaller.

/// Bounds on what one input may make a decoder hold.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limits {
    /// Largest single string (key, value, element, blob, decompressed LZF) in bytes.
    pub max_string_len: u64,
    /// Largest element count of one collection (list, set, hash, zset, stream, PEL).
    pub max_collection_len: u64,
    /// Deepest nesting of encodings (a listpack inside an LZF string inside a quicklist node ...).
    pub max_nesting: u32,
}

impl Limits {
    /// Defaults that no file written by a real server reaches: 4 GiB strings, 2^32 elements.
    pub const DEFAULT: Limits = Limits {
        max_string_len: 1 << 32,
        max_collection_len: 1 << 32,
        max_nesting: 8,
    };

    /// Tight limits for fuzzing and hostile inputs: 1 MiB strings, 64 Ki elements.
    pub const TIGHT: Limits = Limits {
        max_string_len: 1 << 20,
        max_collection_len: 1 << 16,
        max_nesting: 8,
    };
}

impl Default for Limits {
    fn default() -> Self {
        Limits::DEFAULT
    }
}
