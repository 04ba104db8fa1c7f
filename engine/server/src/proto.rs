//! The wire: requests parsed as Redis's `processMultibulkBuffer` and `processInlineBuffer` do
//! (with their protocol-error texts), and replies encoded in RESP2 or RESP3.
//!
//! The keyspace's [`Reply`] is RESP2-shaped (a map is a flat array, a score a bulk string, one
//! nil for both nulls). [`Shape`] says how a command's reply is drawn: which nil a RESP2 client
//! sees (`$-1` or `*-1`) and, under RESP3, where Redis 7 answers with a map, a set, a double or
//! pairs. [`shape_of`] gives each command's shape from its name and arguments.
use redis_persist_engine::keyspace::Reply;

/// Redis's limits: `proto-max-bulk-len` (512 MB), the multibulk count, the inline line.
const MAX_BULK: i64 = 512 << 20;
const MAX_MULTIBULK: i64 = 1024 * 1024;
const MAX_INLINE: usize = 64 * 1024;

/// One parsed request.
#[derive(Debug, PartialEq, Eq)]
pub enum Request {
    /// A multibulk request: argument ranges in the buffer.
    Ranges(Vec<(usize, usize)>),
    /// An inline request: its arguments, unquoted.
    Owned(Vec<Vec<u8>>),
    /// An empty line or `*0`: nothing to run.
    Empty,
}

/// A protocol error: the reply text; the connection is closed after it.
pub type ProtoError = String;

fn line_end(buf: &[u8], from: usize) -> Option<usize> {
    buf.get(from..)?
        .iter()
        .position(|&b| b == b'\r')
        .map(|p| from + p)
}

fn parse_int(b: &[u8]) -> Option<i64> {
    if b.is_empty() || b.len() > 20 {
        return None;
    }
    std::str::from_utf8(b).ok()?.parse().ok()
}

/// Parses one request at `buf[at..]`: `Ok(None)` when it is not complete yet, else the request
/// and the offset after it.
pub fn parse_request(buf: &[u8], at: usize) -> Result<Option<(Request, usize)>, ProtoError> {
    let Some(&first) = buf.get(at) else {
        return Ok(None);
    };
    if first != b'*' {
        return parse_inline(buf, at);
    }
    let Some(cr) = line_end(buf, at) else {
        if buf.len() - at > MAX_INLINE {
            return Err("ERR Protocol error: too big mbulk count string".into());
        }
        return Ok(None);
    };
    if cr + 1 >= buf.len() {
        return Ok(None);
    }
    let n = match parse_int(&buf[at + 1..cr]) {
        Some(n) if n <= MAX_MULTIBULK => n,
        _ => return Err("ERR Protocol error: invalid multibulk length".into()),
    };
    let mut pos = cr + 2;
    if n <= 0 {
        return Ok(Some((Request::Empty, pos)));
    }
    let mut args = Vec::with_capacity(n as usize);
    for _ in 0..n {
        let Some(&tag) = buf.get(pos) else {
            return Ok(None);
        };
        if tag != b'$' {
            return Err(format!(
                "ERR Protocol error: expected '$', got '{}'",
                tag as char
            ));
        }
        let Some(cr) = line_end(buf, pos) else {
            if buf.len() - pos > MAX_INLINE {
                return Err("ERR Protocol error: too big bulk count string".into());
            }
            return Ok(None);
        };
        let len = match parse_int(&buf[pos + 1..cr]) {
            Some(l) if (0..=MAX_BULK).contains(&l) => l as usize,
            _ => return Err("ERR Protocol error: invalid bulk length".into()),
        };
        let start = cr + 2;
        if buf.len() < start + len + 2 {
            return Ok(None);
        }
        args.push((start, start + len));
        pos = start + len + 2;
    }
    Ok(Some((Request::Ranges(args), pos)))
}

fn parse_inline(buf: &[u8], at: usize) -> Result<Option<(Request, usize)>, ProtoError> {
    let Some(nl) = buf[at..].iter().position(|&b| b == b'\n').map(|p| at + p) else {
        if buf.len() - at > MAX_INLINE {
            return Err("ERR Protocol error: too big inline request".into());
        }
        return Ok(None);
    };
    let mut end = nl;
    if end > at && buf[end - 1] == b'\r' {
        end -= 1;
    }
    let text = String::from_utf8_lossy(&buf[at..end]);
    let args = super::config::split_args(&text)
        .map_err(|_| "ERR Protocol error: unbalanced quotes in request".to_string())?;
    let req = if args.is_empty() {
        Request::Empty
    } else {
        Request::Owned(args.into_iter().map(String::into_bytes).collect())
    };
    Ok(Some((req, nl + 1)))
}

/// How a command's reply is drawn (see the module documentation).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Shape {
    /// As the reply says; nil is the null bulk.
    Plain,
    /// Nil is the null array in RESP2.
    NilArray,
    /// A flat array of name/value pairs is a map in RESP3.
    Map,
    /// An array is a set in RESP3.
    Set,
    /// A bulk (or each bulk of an array) is a double in RESP3.
    Double,
    /// A flat `a b a b` array is an array of pairs in RESP3; with `true` the second of each pair
    /// is a double (scores).
    Pairs(bool),
    /// ZPOPMIN without a count: `[member, score]` with the score a double.
    PopOne,
    /// BZPOPMIN: `[key, member, score]`, the null array on timeout.
    KeyMemberScore,
    /// ZMPOP / LMPOP: `[key, items]`, items `[member, score]` pairs for sorted sets.
    Mpop(bool),
    /// XREAD / XREADGROUP: `[[key, entries], ...]` is a map in RESP3, nil the null array.
    Xread,
    /// XINFO: maps at every level where Redis has them.
    Xinfo,
    /// FUNCTION LIST: an array of maps, each with a list of function maps.
    FunctionList,
    /// INFO, CLIENT LIST / INFO: a verbatim string in RESP3.
    Verbatim,
    /// COMMAND DOCS: a map whose values are maps.
    MapOfMaps,
}

fn is(a: &[u8], w: &str) -> bool {
    a.eq_ignore_ascii_case(w.as_bytes())
}

/// The shape of `argv`'s reply; `name` is the lower-cased command name.
pub fn shape_of(name: &str, argv: &[&[u8]]) -> Shape {
    let has = |w: &str| argv.iter().skip(1).any(|a| is(a, w));
    match name {
        "hgetall" | "hello" => Shape::Map,
        "config" if argv.get(1).is_some_and(|a| is(a, "get")) => Shape::Map,
        "smembers" | "sinter" | "sunion" | "sdiff" => Shape::Set,
        "spop" if argv.len() > 2 => Shape::Set,
        "zscore" | "zincrby" | "zmscore" => Shape::Double,
        "zadd" if has("incr") => Shape::Double,
        "zrange" | "zrevrange" | "zrangebyscore" | "zrevrangebyscore" | "zrandmember"
        | "zunion" | "zinter" | "zdiff"
            if has("withscores") =>
        {
            Shape::Pairs(true)
        }
        "hrandfield" if has("withvalues") => Shape::Pairs(false),
        "zpopmin" | "zpopmax" if argv.len() > 2 => Shape::Pairs(true),
        "zpopmin" | "zpopmax" => Shape::PopOne,
        "bzpopmin" | "bzpopmax" => Shape::KeyMemberScore,
        "zmpop" | "bzmpop" => Shape::Mpop(true),
        "lmpop" | "blmpop" | "blpop" | "brpop" => Shape::NilArray,
        "lpop" | "rpop" if argv.len() > 2 => Shape::NilArray,
        "xread" | "xreadgroup" => Shape::Xread,
        "xinfo" => Shape::Xinfo,
        "function" if argv.get(1).is_some_and(|a| is(a, "list")) => Shape::FunctionList,
        "info" => Shape::Verbatim,
        "command" if argv.get(1).is_some_and(|a| is(a, "docs")) => Shape::MapOfMaps,
        "memory" if argv.get(1).is_some_and(|a| is(a, "stats")) => Shape::Map,
        "client" if argv.get(1).is_some_and(|a| is(a, "list") || is(a, "info")) => Shape::Verbatim,
        _ => Shape::Plain,
    }
}

fn push_len(out: &mut Vec<u8>, tag: u8, n: usize) {
    out.push(tag);
    redis_persist_engine::format::int::write_decimal(out, n as i64);
    out.extend_from_slice(b"\r\n");
}

/// A simple-string or error line, with CR/LF replaced by spaces as Redis does.
fn push_line(out: &mut Vec<u8>, tag: u8, text: &str) {
    out.push(tag);
    out.extend(
        text.bytes()
            .map(|b| if b == b'\r' || b == b'\n' { b' ' } else { b }),
    );
    out.extend_from_slice(b"\r\n");
}

/// Writes a bulk string.
pub fn push_bulk(out: &mut Vec<u8>, b: &[u8]) {
    push_len(out, b'$', b.len());
    out.extend_from_slice(b);
    out.extend_from_slice(b"\r\n");
}

/// Writes an error reply (`text` starts with its code, e.g. `ERR`).
pub fn push_error(out: &mut Vec<u8>, text: &str) {
    push_line(out, b'-', text);
}

/// Writes the null of `proto` (RESP2: the null bulk, or the null array when `array`).
pub fn push_null(out: &mut Vec<u8>, proto: u8, array: bool) {
    out.extend_from_slice(match (proto, array) {
        (3, _) => b"_\r\n" as &[u8],
        (_, true) => b"*-1\r\n",
        _ => b"$-1\r\n",
    });
}

/// Writes a map header (`%n` in RESP3, `*2n` in RESP2).
pub fn push_map_len(out: &mut Vec<u8>, proto: u8, pairs: usize) {
    if proto == 3 {
        push_len(out, b'%', pairs);
    } else {
        push_len(out, b'*', pairs * 2);
    }
}

/// Writes a verbatim text (RESP3 `=`), a bulk string in RESP2.
pub fn push_verbatim(out: &mut Vec<u8>, proto: u8, text: &[u8]) {
    if proto == 3 {
        push_len(out, b'=', text.len() + 4);
        out.extend_from_slice(b"txt:");
        out.extend_from_slice(text);
        out.extend_from_slice(b"\r\n");
    } else {
        push_bulk(out, text);
    }
}

fn push_double(out: &mut Vec<u8>, proto: u8, r: &Reply) {
    match (proto, r) {
        (3, Reply::Bulk(b)) => {
            out.push(b',');
            out.extend_from_slice(b);
            out.extend_from_slice(b"\r\n");
        }
        _ => encode(out, r, proto, Shape::Plain),
    }
}

/// Encodes `r` for a client speaking `proto` (2 or 3), drawn as `shape`.
pub fn encode(out: &mut Vec<u8>, r: &Reply, proto: u8, shape: Shape) {
    match (r, shape) {
        (Reply::Ok, _) => out.extend_from_slice(b"+OK\r\n"),
        (Reply::Queued, _) => out.extend_from_slice(b"+QUEUED\r\n"),
        (Reply::Status(s), _) => push_line(out, b'+', s),
        (Reply::Error(e), _) => push_line(out, b'-', e),
        (Reply::Int(i), _) => {
            out.push(b':');
            redis_persist_engine::format::int::write_decimal(out, *i);
            out.extend_from_slice(b"\r\n");
        }
        (Reply::Nil, s) => push_null(
            out,
            proto,
            matches!(
                s,
                Shape::NilArray
                    | Shape::KeyMemberScore
                    | Shape::Mpop(_)
                    | Shape::Xread
                    | Shape::Pairs(_)
            ),
        ),
        (Reply::Bulk(b), Shape::Double) => push_double(out, proto, &Reply::Bulk(b.clone())),
        (Reply::Bulk(b), Shape::Verbatim) => push_verbatim(out, proto, b),
        (Reply::Bulk(b), _) => push_bulk(out, b),
        (Reply::Array(v), _) if proto == 2 => {
            push_len(out, b'*', v.len());
            for x in v {
                encode(out, x, 2, Shape::Plain);
            }
        }
        (Reply::Array(v), Shape::Map) if v.len() % 2 == 0 => {
            push_len(out, b'%', v.len() / 2);
            for x in v {
                encode(out, x, 3, Shape::Plain);
            }
        }
        (Reply::Array(v), Shape::Set) => {
            push_len(out, b'~', v.len());
            for x in v {
                encode(out, x, 3, Shape::Plain);
            }
        }
        (Reply::Array(v), Shape::Double) => {
            push_len(out, b'*', v.len());
            for x in v {
                push_double(out, 3, x);
            }
        }
        (Reply::Array(v), Shape::Pairs(score)) if v.len() % 2 == 0 => {
            push_len(out, b'*', v.len() / 2);
            for p in v.chunks_exact(2) {
                out.extend_from_slice(b"*2\r\n");
                encode(out, &p[0], 3, Shape::Plain);
                if score {
                    push_double(out, 3, &p[1]);
                } else {
                    encode(out, &p[1], 3, Shape::Plain);
                }
            }
        }
        (Reply::Array(v), Shape::PopOne) if v.len() == 2 => {
            out.extend_from_slice(b"*2\r\n");
            encode(out, &v[0], 3, Shape::Plain);
            push_double(out, 3, &v[1]);
        }
        (Reply::Array(v), Shape::KeyMemberScore) if v.len() == 3 => {
            out.extend_from_slice(b"*3\r\n");
            encode(out, &v[0], 3, Shape::Plain);
            encode(out, &v[1], 3, Shape::Plain);
            push_double(out, 3, &v[2]);
        }
        (Reply::Array(v), Shape::Mpop(true)) if v.len() == 2 => {
            out.extend_from_slice(b"*2\r\n");
            encode(out, &v[0], 3, Shape::Plain);
            match &v[1] {
                Reply::Array(items) => {
                    push_len(out, b'*', items.len());
                    for it in items {
                        encode(out, it, 3, Shape::PopOne);
                    }
                }
                other => encode(out, other, 3, Shape::Plain),
            }
        }
        (Reply::Array(v), Shape::Xread) => {
            push_len(out, b'%', v.len());
            for kv in v {
                match kv {
                    Reply::Array(p) if p.len() == 2 => {
                        encode(out, &p[0], 3, Shape::Plain);
                        encode(out, &p[1], 3, Shape::Plain);
                    }
                    other => {
                        encode(out, other, 3, Shape::Plain);
                        push_null(out, 3, false);
                    }
                }
            }
        }
        (Reply::Array(v), Shape::Xinfo) => encode_xinfo(out, v),
        (Reply::Array(v), Shape::MapOfMaps) if v.len() % 2 == 0 => {
            push_len(out, b'%', v.len() / 2);
            for p in v.chunks_exact(2) {
                encode(out, &p[0], 3, Shape::Plain);
                encode(out, &p[1], 3, Shape::Map);
            }
        }
        (Reply::Array(v), Shape::FunctionList) => {
            push_len(out, b'*', v.len());
            for lib in v {
                encode_nested_map(out, lib, &["functions"]);
            }
        }
        (Reply::Array(v), _) => {
            push_len(out, b'*', v.len());
            for x in v {
                encode(out, x, 3, Shape::Plain);
            }
        }
    }
}

/// Whether `v` is a flat array of pairs whose names are bulk strings.
fn flat_map(v: &[Reply]) -> bool {
    v.len().is_multiple_of(2) && v.chunks_exact(2).all(|p| matches!(p[0], Reply::Bulk(_)))
}

/// A flat name/value array as a map; the values of the fields in `lists` are arrays of maps.
fn encode_nested_map(out: &mut Vec<u8>, r: &Reply, lists: &[&str]) {
    let Reply::Array(v) = r else {
        return encode(out, r, 3, Shape::Plain);
    };
    if !flat_map(v) {
        return encode(out, r, 3, Shape::Plain);
    }
    push_len(out, b'%', v.len() / 2);
    for p in v.chunks_exact(2) {
        encode(out, &p[0], 3, Shape::Plain);
        let name = match &p[0] {
            Reply::Bulk(b) => b.as_slice(),
            _ => b"",
        };
        match &p[1] {
            Reply::Array(items) if lists.iter().any(|l| l.as_bytes() == name) => {
                push_len(out, b'*', items.len());
                for it in items {
                    encode_nested_map(out, it, lists);
                }
            }
            other => encode(out, other, 3, Shape::Plain),
        }
    }
}

fn encode_xinfo(out: &mut Vec<u8>, v: &[Reply]) {
    if flat_map(v) {
        // XINFO STREAM: a map; with FULL, its groups and their consumers are maps too.
        return encode_nested_map(out, &Reply::Array(v.to_vec()), &["groups", "consumers"]);
    }
    // XINFO GROUPS / CONSUMERS: an array of maps.
    push_len(out, b'*', v.len());
    for x in v {
        encode_nested_map(out, x, &[]);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn enc(r: &Reply, proto: u8, s: Shape) -> String {
        let mut out = Vec::new();
        encode(&mut out, r, proto, s);
        String::from_utf8(out).unwrap()
    }

    #[test]
    fn multibulk_and_inline_requests_parse_incrementally() {
        let buf = b"*2\r\n$3\r\nGET\r\n$1\r\nk\r\nPING\r\n";
        let (r, end) = parse_request(buf, 0).unwrap().unwrap();
        assert_eq!(r, Request::Ranges(vec![(8, 11), (17, 18)]));
        let (r, end2) = parse_request(buf, end).unwrap().unwrap();
        assert_eq!(r, Request::Owned(vec![b"PING".to_vec()]));
        assert_eq!(end2, buf.len());
        for cut in 1..buf.len() - 6 {
            assert_eq!(parse_request(&buf[..cut], 0).unwrap(), None, "cut {cut}");
        }
        assert!(parse_request(b"*1\r\nx", 0)
            .unwrap_err()
            .contains("expected '$'"));
        assert!(parse_request(b"*x\r\n", 0)
            .unwrap_err()
            .contains("multibulk length"));
        assert!(parse_request(b"set \"a\r\n", 0)
            .unwrap_err()
            .contains("unbalanced"));
    }

    #[test]
    fn replies_take_redis_7_shapes_under_resp3() {
        let pairs = Reply::Array(vec![
            Reply::bulk(b"a"),
            Reply::bulk(b"1"),
            Reply::bulk(b"b"),
            Reply::bulk(b"2.5"),
        ]);
        assert_eq!(
            enc(&pairs, 3, Shape::Map),
            "%2\r\n$1\r\na\r\n$1\r\n1\r\n$1\r\nb\r\n$3\r\n2.5\r\n"
        );
        assert_eq!(
            enc(&pairs, 3, Shape::Pairs(true)),
            "*2\r\n*2\r\n$1\r\na\r\n,1\r\n*2\r\n$1\r\nb\r\n,2.5\r\n"
        );
        assert_eq!(enc(&pairs, 2, Shape::Map), enc(&pairs, 2, Shape::Plain));
        assert_eq!(enc(&Reply::Nil, 2, Shape::NilArray), "*-1\r\n");
        assert_eq!(enc(&Reply::Nil, 2, Shape::Plain), "$-1\r\n");
        assert_eq!(enc(&Reply::Nil, 3, Shape::NilArray), "_\r\n");
        assert_eq!(enc(&Reply::bulk(b"2.5"), 3, Shape::Double), ",2.5\r\n");
        assert_eq!(
            enc(&Reply::Error("ERR a\r\nb".into()), 2, Shape::Plain),
            "-ERR a  b\r\n"
        );
    }
}
