//! What a command returns: a [`Reply`] (including the error texts Redis sends a client), or a
//! structural [`CommandError`] (unknown command, wrong arity) that makes an AOF load fail.
use std::fmt;

/// A command's reply, as a RESP2 client would see it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Reply {
    /// `+OK`.
    Ok,
    /// Another simple string, such as `PONG` or a TYPE name.
    Status(String),
    /// An integer.
    Int(i64),
    /// A bulk string.
    Bulk(Vec<u8>),
    /// An array.
    Array(Vec<Reply>),
    /// The null bulk string or null array.
    Nil,
    /// `+QUEUED`, inside MULTI.
    Queued,
    /// A command-level error a client receives (WRONGTYPE, syntax errors...): the full text,
    /// starting with its code (`ERR`, `WRONGTYPE`, `NOGROUP`...). It never stops an AOF load.
    Error(String),
}

impl Reply {
    /// A bulk string from a slice.
    pub fn bulk(b: &[u8]) -> Reply {
        Reply::Bulk(b.to_vec())
    }

    /// The error text, if this is an error reply.
    pub fn error(&self) -> Option<&str> {
        match self {
            Reply::Error(e) => Some(e),
            _ => None,
        }
    }

    /// An array of bulk strings.
    pub fn bulks<I: IntoIterator<Item = Vec<u8>>>(items: I) -> Reply {
        Reply::Array(items.into_iter().map(Reply::Bulk).collect())
    }
}

/// A structural failure: the command cannot run at all. Loading an AOF stops on these.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CommandError {
    /// No such command (the lower-cased name).
    UnknownCommand(String),
    /// The argument count does not fit the command (lower-cased name, `cmd|sub` for subcommands).
    WrongArity(String),
    /// A known command in a form this engine does not model, so replaying it would lose state
    /// (lower-cased name, and what is not modelled).
    Unsupported(String, String),
}

impl fmt::Display for CommandError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            CommandError::UnknownCommand(c) => write!(f, "unknown command '{c}'"),
            CommandError::WrongArity(c) => {
                write!(f, "wrong number of arguments for '{c}' command")
            }
            CommandError::Unsupported(c, why) => {
                write!(f, "'{c}' in a form this engine does not replay: {why}")
            }
        }
    }
}

impl std::error::Error for CommandError {}

/// What every command handler returns.
pub(crate) type CmdResult = Result<Reply, CommandError>;

/// Redis's error texts, shared by the command families.
pub(crate) mod msg {
    pub const WRONGTYPE: &str = "WRONGTYPE Operation against a key holding the wrong kind of value";
    pub const SYNTAX: &str = "ERR syntax error";
    pub const NOT_INT: &str = "ERR value is not an integer or out of range";
    pub const NOT_FLOAT: &str = "ERR value is not a valid float";
    pub const OVERFLOW: &str = "ERR increment or decrement would overflow";
    pub const NO_KEY: &str = "ERR no such key";
    pub const OUT_OF_RANGE: &str = "ERR index out of range";
    pub const DB_RANGE: &str = "ERR DB index is out of range";
    pub const NAN: &str = "ERR resulting score is not a number (NaN)";
    pub const STREAM_ID: &str = "ERR Invalid stream ID specified as stream command argument";
}

/// The reply of a command whose arguments, once parsed, do not add up (an odd MSET, XADD fields
/// without values): Redis answers with an arity *reply* here, which never stops an AOF load.
pub(crate) fn arity_reply(name: &str) -> CmdResult {
    err(format!(
        "ERR wrong number of arguments for '{name}' command"
    ))
}

/// An error reply from one of [`msg`]'s texts or a formatted one.
#[inline]
pub(crate) fn err(text: impl Into<String>) -> CmdResult {
    Ok(Reply::Error(text.into()))
}
