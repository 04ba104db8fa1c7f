//! Parsing a whole trace file: total (any byte string gives records or a typed error with the
//! offset where decoding stopped, never a panic), and tolerant of a tail cut short by a SIGKILL.
use crate::trace::{decode, Record, RecordError, MAGIC};
use std::fmt;

/// Why a trace does not parse, and where.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ParseError {
    /// Byte offset of the record (or magic) that does not decode.
    pub offset: usize,
    /// What is wrong there.
    pub kind: ParseErrorKind,
}

/// What is wrong at a [`ParseError`]'s offset.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ParseErrorKind {
    /// The file does not start with [`MAGIC`].
    BadMagic,
    /// The record there does not decode.
    Record(RecordError),
}

impl ParseError {
    /// True when the bytes simply stop inside the last record: what a writer killed in the middle
    /// of appending leaves, as opposed to corruption.
    pub fn is_truncation(&self) -> bool {
        match &self.kind {
            ParseErrorKind::Record(RecordError::Truncated { .. }) => true,
            ParseErrorKind::BadMagic => false,
            ParseErrorKind::Record(_) => false,
        }
    }
}

impl fmt::Display for ParseError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.kind {
            ParseErrorKind::BadMagic => {
                write!(f, "offset {}: not a trace (bad magic)", self.offset)
            }
            ParseErrorKind::Record(RecordError::Truncated { needed, available }) => write!(
                f,
                "offset {}: truncated record ({needed} bytes needed, {available} available)",
                self.offset
            ),
            ParseErrorKind::Record(RecordError::BadLength(n)) => {
                write!(
                    f,
                    "offset {}: record length {n} is below the header size",
                    self.offset
                )
            }
            ParseErrorKind::Record(RecordError::UnknownKind(k)) => {
                write!(f, "offset {}: unknown record kind {k}", self.offset)
            }
            ParseErrorKind::Record(RecordError::BadField(what)) => {
                write!(f, "offset {}: bad {what}", self.offset)
            }
        }
    }
}

impl std::error::Error for ParseError {}

/// A parsed trace: the records in the order the recorder serialised them.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Trace {
    /// Every record, in order.
    pub records: Vec<Record>,
}

/// Every whole record before the first one that does not decode, and that error if any.
pub fn parse_prefix(bytes: &[u8]) -> (Trace, Option<ParseError>) {
    let mut records = Vec::new();
    if !bytes.starts_with(MAGIC) {
        // A file shorter than the magic but agreeing with it is a trace cut before its header.
        let kind = if MAGIC.starts_with(bytes) {
            ParseErrorKind::Record(RecordError::Truncated {
                needed: 8,
                available: bytes.len(),
            })
        } else {
            ParseErrorKind::BadMagic
        };
        return (Trace { records }, Some(ParseError { offset: 0, kind }));
    }
    let mut at = MAGIC.len();
    while at < bytes.len() {
        match decode(&bytes[at..]) {
            Ok((r, n)) => {
                records.push(r);
                at += n;
            }
            Err(e) => {
                let err = ParseError {
                    offset: at,
                    kind: ParseErrorKind::Record(e),
                };
                return (Trace { records }, Some(err));
            }
        }
    }
    (Trace { records }, None)
}

/// Strict parse: the whole byte string must be records.
pub fn parse(bytes: &[u8]) -> Result<Trace, ParseError> {
    match parse_prefix(bytes) {
        (t, None) => Ok(t),
        (_, Some(e)) => Err(e),
    }
}

/// Parse of a trace whose writer may have been killed mid-append: a truncated last record is
/// dropped (its call's effect is then unrecorded), any other defect is an error.
pub fn parse_killed(bytes: &[u8]) -> Result<Trace, ParseError> {
    match parse_prefix(bytes) {
        (t, None) => Ok(t),
        (t, Some(e)) if e.is_truncation() => Ok(t),
        (_, Some(e)) => Err(e),
    }
}
