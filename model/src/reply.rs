//! RESP2-shaped replies, and the Redis error texts the model emits verbatim.
//! Doubles are formatted here once, so every command renders scores the same way.

/// What Redis answers to one command (RESP2 shapes).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Reply {
    /// `+OK`.
    Ok,
    /// Any other simple string, e.g. TYPE's `+string`.
    Status(String),
    /// `:n`.
    Int(i64),
    /// `$len bytes`, or `$-1` for `None`.
    Bulk(Option<Vec<u8>>),
    /// `*n` followed by the elements.
    Array(Vec<Reply>),
    /// `*-1`: the null array (e.g. EXEC after WATCH failure, LMPOP with nothing to pop).
    NilArray,
    /// `-TEXT`: the full error text including its prefix ("ERR ...", "WRONGTYPE ...").
    Error(String),
    /// `+QUEUED`, a command accepted inside MULTI.
    Queued,
}

impl Reply {
    /// A bulk string.
    pub fn bulk(bytes: impl Into<Vec<u8>>) -> Reply {
        Reply::Bulk(Some(bytes.into()))
    }

    /// The null bulk string.
    pub fn nil() -> Reply {
        Reply::Bulk(None)
    }

    /// An array of bulk strings.
    pub fn bulks<I: IntoIterator<Item = Vec<u8>>>(items: I) -> Reply {
        Reply::Array(items.into_iter().map(Reply::bulk).collect())
    }

    /// True for an error reply.
    pub fn is_error(&self) -> bool {
        matches!(self, Reply::Error(_))
    }
}

/// The command result type: `Err` carries an error reply so `?` can short-circuit.
pub(crate) type Res = Result<Reply, Reply>;

/// Builds an error as Redis's `addReplyError` does: text starting with '-' keeps its own
/// prefix (e.g. "-NOGROUP ..."), anything else is prefixed with "ERR ".
pub(crate) fn err(msg: impl AsRef<str>) -> Reply {
    let msg = msg.as_ref();
    match msg.strip_prefix('-') {
        Some(own) => Reply::Error(own.to_string()),
        None => Reply::Error(format!("ERR {msg}")),
    }
}

pub(crate) fn wrong_type() -> Reply {
    Reply::Error("WRONGTYPE Operation against a key holding the wrong kind of value".into())
}

pub(crate) fn syntax() -> Reply {
    err("syntax error")
}

pub(crate) fn not_int() -> Reply {
    err("value is not an integer or out of range")
}

pub(crate) fn not_float() -> Reply {
    err("value is not a valid float")
}

pub(crate) fn arity(name: &str) -> Reply {
    err(format!("wrong number of arguments for '{name}' command"))
}

pub(crate) fn expire_time(name: &str) -> Reply {
    err(format!("invalid expire time in '{name}' command"))
}

pub(crate) fn no_such_key() -> Reply {
    err("no such key")
}

pub(crate) fn same_object() -> Reply {
    err("source and destination objects are the same")
}

/// Renders a score as Redis's `d2string` does for the cases that matter to the model:
/// "inf"/"-inf", "0"/"-0", integers without a fraction, otherwise the shortest decimal
/// that round-trips. Redis's `fpconv_dtoa` switches to exponent form (`1e+21`) for very
/// large or small magnitudes; Rust's `Display` never does. Tests keep scores moderate.
pub(crate) fn fmt_double(v: f64) -> Vec<u8> {
    if v.is_infinite() {
        return if v > 0.0 {
            b"inf".to_vec()
        } else {
            b"-inf".to_vec()
        };
    }
    format!("{v}").into_bytes()
}

/// Renders INCRBYFLOAT / HINCRBYFLOAT results. Redis prints a `long double` with `%.17Lf`
/// and strips trailing zeros; the model uses f64's shortest round-trip form instead, which
/// agrees for values that are short decimals in both (10.5, 3.0e3) but not always in the
/// last digit (Redis's 0.1+0.2 is "0.3", the model's "0.30000000000000004"). "-0" → "0".
pub(crate) fn fmt_human(v: f64) -> Vec<u8> {
    if v == 0.0 {
        return b"0".to_vec();
    }
    fmt_double(v)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn err_prefixes_like_add_reply_error() {
        assert_eq!(err("syntax error"), Reply::Error("ERR syntax error".into()));
        assert_eq!(err("-NOGROUP x"), Reply::Error("NOGROUP x".into()));
        assert_eq!(
            arity("get"),
            Reply::Error("ERR wrong number of arguments for 'get' command".into())
        );
    }

    #[test]
    fn doubles_render_like_redis_for_common_values() {
        assert_eq!(fmt_double(3.0), b"3");
        assert_eq!(fmt_double(-0.0), b"-0");
        assert_eq!(fmt_double(1.5), b"1.5");
        assert_eq!(fmt_double(f64::NEG_INFINITY), b"-inf");
        assert_eq!(fmt_human(-0.0), b"0");
        assert_eq!(fmt_human(10.6), b"10.6");
        assert_eq!(fmt_human(5000.0), b"5000");
    }
}
