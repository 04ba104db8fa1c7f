//! Typed decoding errors: every failure names its kind, the byte offset where decoding stopped and
//! what was being read, so a caller can tell a truncated file from a corrupt one.
use std::fmt;

/// The error kinds of the Dataset JSON contract (`docs/dataset-json.md`), in its spelling.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum ErrorKind {
    /// The input ended inside a record.
    Truncated,
    /// The file does not start with `REDIS` or `VALKEY`.
    BadMagic,
    /// A version this reader does not know.
    UnsupportedVersion,
    /// The CRC-64 trailer does not match the bytes before it.
    ChecksumMismatch,
    /// An object type byte this reader does not know.
    UnknownType,
    /// An opcode this reader does not know.
    UnknownOpcode,
    /// Structurally invalid data.
    Corrupt,
    /// A length or count beyond the configured [`crate::format::Limits`].
    LimitExceeded,
    /// An invalid AOF manifest.
    BadManifest,
    /// The underlying reader failed.
    Io,
}

impl ErrorKind {
    /// Every kind, in contract order.
    pub const ALL: [ErrorKind; 10] = [
        ErrorKind::Truncated,
        ErrorKind::BadMagic,
        ErrorKind::UnsupportedVersion,
        ErrorKind::ChecksumMismatch,
        ErrorKind::UnknownType,
        ErrorKind::UnknownOpcode,
        ErrorKind::Corrupt,
        ErrorKind::LimitExceeded,
        ErrorKind::BadManifest,
        ErrorKind::Io,
    ];

    /// The contract's name for this kind (`truncated`, `checksum_mismatch`, ...).
    pub fn as_str(self) -> &'static str {
        match self {
            ErrorKind::Truncated => "truncated",
            ErrorKind::BadMagic => "bad_magic",
            ErrorKind::UnsupportedVersion => "unsupported_version",
            ErrorKind::ChecksumMismatch => "checksum_mismatch",
            ErrorKind::UnknownType => "unknown_type",
            ErrorKind::UnknownOpcode => "unknown_opcode",
            ErrorKind::Corrupt => "corrupt",
            ErrorKind::LimitExceeded => "limit_exceeded",
            ErrorKind::BadManifest => "bad_manifest",
            ErrorKind::Io => "io",
        }
    }

    /// Parses the contract's name of a kind.
    pub fn parse(name: &str) -> Option<ErrorKind> {
        ErrorKind::ALL.into_iter().find(|k| k.as_str() == name)
    }
}

impl fmt::Display for ErrorKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A decoding failure: kind, where, what was being read, and the particulars.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Error {
    /// What went wrong, by contract kind.
    pub kind: ErrorKind,
    /// Byte offset in the input where the failing read began (a line number for manifests).
    pub offset: Option<u64>,
    /// What was being read, as a noun phrase ("hash field", "ziplist entry header").
    pub what: &'static str,
    /// The particulars: values found, values expected.
    pub detail: String,
}

impl Error {
    /// Builds an error of `kind` at `offset` while reading `what`.
    pub fn new(
        kind: ErrorKind,
        offset: u64,
        what: &'static str,
        detail: impl Into<String>,
    ) -> Error {
        Error {
            kind,
            offset: Some(offset),
            what,
            detail: detail.into(),
        }
    }

    /// A structural error at `offset`.
    pub fn corrupt(offset: u64, what: &'static str, detail: impl Into<String>) -> Error {
        Error::new(ErrorKind::Corrupt, offset, what, detail)
    }

    /// The input ended at `offset` while `what` needed more bytes.
    pub fn truncated(offset: u64, what: &'static str, needed: u64, available: u64) -> Error {
        Error::new(
            ErrorKind::Truncated,
            offset,
            what,
            format!("needed {needed} bytes, {available} remain"),
        )
    }

    /// Shifts the offset by `base`: used when an error found inside a blob is reported in file terms.
    pub fn at_base(mut self, base: u64) -> Error {
        if let Some(o) = self.offset.as_mut() {
            *o += base;
        }
        self
    }

    /// The one-line message: what was being read and the particulars.
    pub fn message(&self) -> String {
        if self.detail.is_empty() {
            format!("while reading {}", self.what)
        } else {
            format!("while reading {}: {}", self.what, self.detail)
        }
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.offset {
            Some(o) => write!(f, "{} at offset {}: {}", self.kind, o, self.message()),
            None => write!(f, "{}: {}", self.kind, self.message()),
        }
    }
}

impl std::error::Error for Error {}

/// Result of a format operation.
pub type Result<T> = std::result::Result<T, Error>;
