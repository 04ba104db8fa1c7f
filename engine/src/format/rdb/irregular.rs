//! What a file may hold that Redis's own checks let through but a careful reader should flag:
//! each is a warning by default (the server's verdict stands) and a refusal under `--strict`.
use super::visit::Visitor;
use crate::format::error::{Error, Result};

/// A departure from what a server writes that its loader and `redis-check-rdb` still accept.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Irregularity {
    /// A stream's stored last ID is below one of its entries (Redis loads it; the next XADD
    /// without an explicit ID would then fail or go backwards).
    StreamLastIdBelowEntry,
    /// Stream entry IDs do not increase across the file's nodes (only a deep range check would see
    /// it; Redis validates each node's shape, not the order of IDs).
    StreamIdsNotIncreasing,
    /// A stream node listpack whose header element count disagrees with its elements (Redis
    /// checks only the node's byte size and end byte there).
    StreamNodeCount,
    /// A zset score stored as text that is not a clean number: Redis reads the longest `strtod`
    /// prefix (0 when there is none), so the loaded score may differ from what was meant.
    ScoreText,
    /// A module value with an opcode outside 0-5: `redis-check-rdb` skips it as if it had no
    /// operand; a server with the module loaded would hand the bytes to the module instead.
    ModuleOpcode,
}

impl Irregularity {
    /// Every kind, in declaration order (index = discriminant).
    pub const ALL: [Irregularity; 5] = [
        Irregularity::StreamLastIdBelowEntry,
        Irregularity::StreamIdsNotIncreasing,
        Irregularity::StreamNodeCount,
        Irregularity::ScoreText,
        Irregularity::ModuleOpcode,
    ];

    /// A stable machine name (used in `--json`).
    pub fn name(self) -> &'static str {
        match self {
            Irregularity::StreamLastIdBelowEntry => "stream_last_id_below_entry",
            Irregularity::StreamIdsNotIncreasing => "stream_ids_not_increasing",
            Irregularity::StreamNodeCount => "stream_node_count",
            Irregularity::ScoreText => "score_text",
            Irregularity::ModuleOpcode => "module_opcode",
        }
    }

    /// What was being read, as in error messages.
    pub fn what(self) -> &'static str {
        match self {
            Irregularity::StreamLastIdBelowEntry => "stream last ID",
            Irregularity::StreamIdsNotIncreasing => "stream entry ID",
            Irregularity::StreamNodeCount => "stream node listpack header",
            Irregularity::ScoreText => "zset score",
            Irregularity::ModuleOpcode => "module opcode",
        }
    }

    /// A phrase for people.
    pub fn describe(self) -> &'static str {
        match self {
            Irregularity::StreamLastIdBelowEntry => "stream last ID below one of its entries",
            Irregularity::StreamIdsNotIncreasing => "stream entry IDs not increasing",
            Irregularity::StreamNodeCount => {
                "stream node listpack header count differs from its elements"
            }
            Irregularity::ScoreText => "zset score text that is not a clean number",
            Irregularity::ModuleOpcode => "module value with an unknown opcode",
        }
    }
}

/// Reports `kind` at `at`: to the visitor as a warning, or as a refusal when `strict`.
pub(crate) fn report<V: Visitor + ?Sized>(
    v: &mut V,
    strict: bool,
    kind: Irregularity,
    at: u64,
    detail: impl Into<String>,
) -> Result<()> {
    if strict {
        return Err(Error::corrupt(
            at,
            kind.what(),
            format!("{} (refused under --strict)", detail.into()),
        ));
    }
    v.irregular(kind, at);
    Ok(())
}
