//! RESP2 replies as a client reads them: the value, a parser that says exactly how many bytes a
//! reply used (or that more are needed), and a reader over any byte stream. Bounded by limits.
use std::io::{self, Read};

/// Nesting deeper than this is refused rather than recursed into (XINFO FULL nests 5 levels).
const MAX_DEPTH: usize = 64;
/// A single reply larger than this is refused: the corpus never needs one, a runaway would OOM.
const MAX_REPLY_BYTES: usize = 512 << 20;

/// One RESP2 reply.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Reply {
    /// `+...` status line.
    Simple(String),
    /// `-...` error line.
    Error(String),
    /// `:...` integer.
    Int(i64),
    /// `$...` bulk string; `None` for the nil bulk.
    Bulk(Option<Vec<u8>>),
    /// `*...` array; `None` for the nil array.
    Array(Option<Vec<Reply>>),
}

fn proto(msg: impl Into<String>) -> io::Error {
    io::Error::new(io::ErrorKind::InvalidData, msg.into())
}

impl Reply {
    /// Whether this is a nil bulk or nil array.
    pub fn is_nil(&self) -> bool {
        matches!(self, Reply::Bulk(None) | Reply::Array(None))
    }

    /// The bytes of a bulk or status reply.
    pub fn into_bytes(self) -> io::Result<Vec<u8>> {
        match self {
            Reply::Bulk(Some(b)) => Ok(b),
            Reply::Simple(s) => Ok(s.into_bytes()),
            other => Err(proto(format!("expected a bulk string, got {other:?}"))),
        }
    }

    /// A bulk or status reply as UTF-8 text.
    pub fn into_text(self) -> io::Result<String> {
        let b = self.into_bytes()?;
        String::from_utf8(b).map_err(|e| proto(format!("reply is not UTF-8: {e}")))
    }

    /// An integer reply, or a bulk holding a decimal integer (RESP2 spells some numbers that way).
    pub fn as_int(&self) -> io::Result<i64> {
        match self {
            Reply::Int(i) => Ok(*i),
            Reply::Bulk(Some(b)) => std::str::from_utf8(b)
                .ok()
                .and_then(|s| s.parse().ok())
                .ok_or_else(|| proto(format!("expected an integer, got {self:?}"))),
            other => Err(proto(format!("expected an integer, got {other:?}"))),
        }
    }

    /// The elements of a non-nil array reply.
    pub fn into_array(self) -> io::Result<Vec<Reply>> {
        match self {
            Reply::Array(Some(v)) => Ok(v),
            other => Err(proto(format!("expected an array, got {other:?}"))),
        }
    }

    /// A RESP2 map (flat array of name/value pairs) as pairs with text names.
    pub fn into_pairs(self) -> io::Result<Vec<(String, Reply)>> {
        let v = self.into_array()?;
        if v.len() % 2 != 0 {
            return Err(proto("map reply has an odd number of elements"));
        }
        let mut out = Vec::with_capacity(v.len() / 2);
        let mut it = v.into_iter();
        while let (Some(k), Some(val)) = (it.next(), it.next()) {
            out.push((k.into_text()?, val));
        }
        Ok(out)
    }
}

/// Parses one reply from the front of `buf`: `Ok(None)` when more bytes are needed, else the reply
/// and how many bytes it used.
pub fn parse_reply(buf: &[u8]) -> io::Result<Option<(Reply, usize)>> {
    parse_at(buf, 0, 0)
}

fn line(buf: &[u8], at: usize) -> Option<(&[u8], usize)> {
    let rest = buf.get(at..)?;
    let nl = rest.windows(2).position(|w| w == b"\r\n")?;
    Some((&rest[..nl], at + nl + 2))
}

fn int_of(text: &[u8]) -> io::Result<i64> {
    std::str::from_utf8(text)
        .ok()
        .and_then(|s| s.parse().ok())
        .ok_or_else(|| {
            proto(format!(
                "bad RESP integer {:?}",
                String::from_utf8_lossy(text)
            ))
        })
}

fn parse_at(buf: &[u8], at: usize, depth: usize) -> io::Result<Option<(Reply, usize)>> {
    if depth > MAX_DEPTH {
        return Err(proto("RESP reply nested too deeply"));
    }
    let Some(&tag) = buf.get(at) else {
        return Ok(None);
    };
    let Some((text, next)) = line(buf, at + 1) else {
        return Ok(None);
    };
    let as_string = || String::from_utf8_lossy(text).into_owned();
    Ok(Some(match tag {
        b'+' => (Reply::Simple(as_string()), next),
        b'-' => (Reply::Error(as_string()), next),
        b':' => (Reply::Int(int_of(text)?), next),
        b'$' => {
            let n = int_of(text)?;
            if n < 0 {
                return Ok(Some((Reply::Bulk(None), next)));
            }
            let n = usize::try_from(n).map_err(|_| proto("bulk length overflows"))?;
            if n > MAX_REPLY_BYTES {
                return Err(proto(format!(
                    "bulk of {n} bytes exceeds the client's limit"
                )));
            }
            let end = next + n;
            if buf.len() < end + 2 {
                return Ok(None);
            }
            if &buf[end..end + 2] != b"\r\n" {
                return Err(proto("bulk string not terminated by CRLF"));
            }
            (Reply::Bulk(Some(buf[next..end].to_vec())), end + 2)
        }
        b'*' => {
            let n = int_of(text)?;
            if n < 0 {
                return Ok(Some((Reply::Array(None), next)));
            }
            let n = usize::try_from(n).map_err(|_| proto("array length overflows"))?;
            // Each element takes at least 3 bytes, so a count beyond what could fit is a lie.
            if n > MAX_REPLY_BYTES / 3 {
                return Err(proto(format!(
                    "array of {n} elements exceeds the client's limit"
                )));
            }
            let mut items = Vec::with_capacity(n.min(1024));
            let mut pos = next;
            for _ in 0..n {
                match parse_at(buf, pos, depth + 1)? {
                    Some((r, p)) => {
                        items.push(r);
                        pos = p;
                    }
                    None => return Ok(None),
                }
            }
            (Reply::Array(Some(items)), pos)
        }
        other => return Err(proto(format!("unknown RESP type byte 0x{other:02x}"))),
    }))
}

/// Reads whole replies from a byte stream that may deliver them in arbitrary pieces.
#[derive(Debug)]
pub struct ReplyReader<R> {
    inner: R,
    buf: Vec<u8>,
}

impl<R: Read> ReplyReader<R> {
    /// Wraps a byte stream.
    pub fn new(inner: R) -> Self {
        ReplyReader {
            inner,
            buf: Vec::new(),
        }
    }

    /// The next complete reply; `UnexpectedEof` if the stream ends inside or before one.
    pub fn read_reply(&mut self) -> io::Result<Reply> {
        let mut chunk = [0u8; 64 * 1024];
        loop {
            if let Some((reply, used)) = parse_reply(&self.buf)? {
                self.buf.drain(..used);
                return Ok(reply);
            }
            if self.buf.len() > MAX_REPLY_BYTES {
                return Err(proto("reply exceeds the client's limit"));
            }
            let n = self.inner.read(&mut chunk)?;
            if n == 0 {
                return Err(io::Error::new(
                    io::ErrorKind::UnexpectedEof,
                    "connection closed before a complete reply",
                ));
            }
            self.buf.extend_from_slice(&chunk[..n]);
        }
    }
}

#[cfg(test)]
#[path = "reply_tests.rs"]
mod tests;
