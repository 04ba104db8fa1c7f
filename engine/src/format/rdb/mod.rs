//! RDB snapshots.
pub mod opcode;
