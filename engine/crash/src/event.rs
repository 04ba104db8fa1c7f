//! The state changes a trace replays to: names made, moved and removed, bytes written, lengths
//! set, each file known by an identity that survives renames.

/// A file's identity across renames: index into the files the trace created or found.
pub type FileId = usize;

/// One state change, in trace order (failed calls and reads are not events).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Event<'a> {
    /// A directory was made.
    Mkdir(String),
    /// A new name for a new, empty file.
    Create(String, FileId),
    /// A name moved (and replaced what was at the target); the file it names, if not a directory.
    Rename(String, String, Option<FileId>),
    /// A file's name was removed.
    Unlink(String),
    /// An empty directory was removed.
    Rmdir(String),
    /// Bytes landed in a file at an offset.
    Write(FileId, u64, &'a [u8]),
    /// A file's length was set.
    Truncate(FileId, u64),
}
