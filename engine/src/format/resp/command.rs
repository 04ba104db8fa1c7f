//! RESP commands (multibulk requests) and the AOF's `#` annotation lines between them: the one
//! encoder, and a parser that reports the exact bytes consumed, so a truncated tail is located to the byte.
use crate::format::error::{Error, ErrorKind, Result};

/// How strictly to parse.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Strictness {
    /// As the server loads: header lines end at `\n` (`atoi`/`strtol` ignore a missing `\r`), the
    /// two bytes after each payload are skipped unchecked.
    Server,
    /// As `redis-check-aof` checks: every line and payload must end in `\r\n`.
    Checker,
}

/// One item of the stream.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Item<'a> {
    /// A command: its arguments, borrowed from the input.
    Command(Vec<&'a [u8]>),
    /// An annotation line (`#TS:<unix-seconds>` or any other `#` line), without the `#`.
    Annotation(&'a [u8]),
}

/// The result of parsing at one offset.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Parsed<'a> {
    /// An item and the offset just after it.
    Item(Item<'a>, usize),
    /// The input ends inside an item (a short read): more bytes are needed.
    Incomplete,
    /// Nothing left.
    End,
}

/// Longest header line Redis reads (`AOF_ANNOTATION_LINE_MAX_LEN`).
pub const LINE_MAX: usize = 1024;

fn line<'a>(
    buf: &'a [u8],
    at: usize,
    strict: Strictness,
    what: &'static str,
) -> Result<Option<(&'a [u8], usize)>> {
    let window = &buf[at..buf.len().min(at + LINE_MAX + 1)];
    let Some(nl) = window.iter().position(|&b| b == b'\n') else {
        if window.len() > LINE_MAX {
            return Err(Error::corrupt(
                at as u64,
                what,
                "line longer than 1024 bytes",
            ));
        }
        return Ok(None);
    };
    let mut l = &window[..nl];
    if let Some(stripped) = l.strip_suffix(b"\r") {
        l = stripped;
    } else if strict == Strictness::Checker {
        return Err(Error::corrupt(
            at as u64,
            what,
            "line does not end in \\r\\n",
        ));
    }
    Ok(Some((l, at + nl + 1)))
}

/// Parses a decimal as C's `atoi`/`strtol` do on Redis's header lines: optional sign, digits,
/// anything after them ignored; `None` when no digit is present.
fn number(s: &[u8]) -> Option<i64> {
    let (neg, rest) = match s.first() {
        Some(b'-') => (true, &s[1..]),
        Some(b'+') => (false, &s[1..]),
        _ => (false, s),
    };
    let digits = rest.iter().take_while(|b| b.is_ascii_digit()).count();
    if digits == 0 {
        return None;
    }
    let mut v: i64 = 0;
    for &d in &rest[..digits] {
        v = v.saturating_mul(10).saturating_add((d - b'0') as i64);
    }
    Some(if neg { -v } else { v })
}

/// Parses the item at `at`.
pub fn parse(buf: &[u8], at: usize, strict: Strictness) -> Result<Parsed<'_>> {
    if at >= buf.len() {
        return Ok(Parsed::End);
    }
    match buf[at] {
        b'#' => match line(buf, at, strict, "annotation")? {
            Some((l, end)) => Ok(Parsed::Item(Item::Annotation(&l[1..]), end)),
            None => Ok(Parsed::Incomplete),
        },
        b'*' => {
            let Some((l, mut p)) = line(buf, at, strict, "multibulk header")? else {
                return Ok(Parsed::Incomplete);
            };
            let argc = match number(&l[1..]) {
                Some(n) if n >= 1 => n as usize,
                _ => {
                    return Err(Error::corrupt(
                        at as u64,
                        "multibulk header",
                        format!("invalid argument count {:?}", String::from_utf8_lossy(l)),
                    ))
                }
            };
            // A count is trusted only as far as the bytes could hold it (4 bytes per argument at least).
            if argc > (buf.len() - p) / 4 + 1 {
                return Ok(Parsed::Incomplete);
            }
            let mut argv = Vec::with_capacity(argc);
            for _ in 0..argc {
                if p >= buf.len() {
                    return Ok(Parsed::Incomplete);
                }
                if buf[p] != b'$' {
                    return Err(Error::corrupt(
                        p as u64,
                        "bulk header",
                        format!("expected '$', found {:?}", buf[p] as char),
                    ));
                }
                let Some((l, q)) = line(buf, p, strict, "bulk header")? else {
                    return Ok(Parsed::Incomplete);
                };
                let len = match number(&l[1..]) {
                    Some(n) if n >= 0 => n as usize,
                    _ => {
                        return Err(Error::corrupt(
                            p as u64,
                            "bulk header",
                            format!("invalid bulk length {:?}", String::from_utf8_lossy(l)),
                        ))
                    }
                };
                if buf.len() - q < len.saturating_add(2) {
                    return Ok(Parsed::Incomplete);
                }
                argv.push(&buf[q..q + len]);
                if strict == Strictness::Checker && &buf[q + len..q + len + 2] != b"\r\n" {
                    return Err(Error::corrupt(
                        (q + len) as u64,
                        "bulk payload",
                        "payload does not end in \\r\\n",
                    ));
                }
                p = q + len + 2;
            }
            Ok(Parsed::Item(Item::Command(argv), p))
        }
        other => Err(Error::new(
            ErrorKind::Corrupt,
            at as u64,
            "command",
            format!(
                "bad file format: expected '*' or '#', found {:?}",
                other as char
            ),
        )),
    }
}

/// The unix seconds of a `#TS:<seconds>` annotation, if it is one.
pub fn timestamp(annotation: &[u8]) -> Option<i64> {
    let s = annotation.strip_prefix(b"TS:")?;
    std::str::from_utf8(s).ok()?.trim().parse().ok()
}

/// Appends one command in RESP multibulk form.
pub fn write_command(out: &mut Vec<u8>, argv: &[&[u8]]) {
    out.push(b'*');
    crate::format::int::write_decimal(out, argv.len() as i64);
    out.extend_from_slice(b"\r\n");
    for a in argv {
        out.push(b'$');
        crate::format::int::write_decimal(out, a.len() as i64);
        out.extend_from_slice(b"\r\n");
        out.extend_from_slice(a);
        out.extend_from_slice(b"\r\n");
    }
}

/// One command in RESP multibulk form.
pub fn encode_command(argv: &[&[u8]]) -> Vec<u8> {
    let mut out = Vec::with_capacity(16 + argv.iter().map(|a| a.len() + 16).sum::<usize>());
    write_command(&mut out, argv);
    out
}

/// Appends a `#TS:<seconds>` annotation.
pub fn write_timestamp(out: &mut Vec<u8>, unix_seconds: i64) {
    out.extend_from_slice(format!("#TS:{unix_seconds}\r\n").as_bytes());
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cmd(argv: &[&[u8]]) -> Vec<u8> {
        let mut v = Vec::new();
        write_command(&mut v, argv);
        v
    }

    #[test]
    fn writes_and_reads_back_binary_commands() {
        let argv: [&[u8]; 3] = [b"SET", b"k\r\n\x00", b""];
        let bytes = cmd(&argv);
        assert_eq!(bytes, b"*3\r\n$3\r\nSET\r\n$4\r\nk\r\n\x00\r\n$0\r\n\r\n");
        for s in [Strictness::Server, Strictness::Checker] {
            assert_eq!(
                parse(&bytes, 0, s).unwrap(),
                Parsed::Item(Item::Command(argv.to_vec()), bytes.len())
            );
        }
    }

    #[test]
    fn every_proper_prefix_is_incomplete() {
        let mut bytes = b"#TS:1700000000\r\n".to_vec();
        bytes.extend(cmd(&[b"RPUSH", b"list", b"a"]));
        let first = parse(&bytes, 0, Strictness::Checker).unwrap();
        assert_eq!(first, Parsed::Item(Item::Annotation(b"TS:1700000000"), 16));
        assert_eq!(timestamp(b"TS:1700000000"), Some(1700000000));
        for cut in 17..bytes.len() {
            assert_eq!(
                parse(&bytes[..cut], 16, Strictness::Server).unwrap(),
                Parsed::Incomplete,
                "cut {cut}"
            );
        }
    }

    #[test]
    fn garbage_is_a_format_error_with_offset() {
        let mut bytes = cmd(&[b"SET", b"a", b"1"]);
        let at = bytes.len();
        bytes.extend_from_slice(b"!!!\r\n");
        let Parsed::Item(_, end) = parse(&bytes, 0, Strictness::Server).unwrap() else {
            panic!()
        };
        let e = parse(&bytes, end, Strictness::Server).unwrap_err();
        assert_eq!((e.kind, e.offset), (ErrorKind::Corrupt, Some(at as u64)));
    }

    #[test]
    fn server_tolerates_what_the_checker_refuses() {
        let lf_only = b"*1\n$4\nPING\r\n";
        assert!(matches!(
            parse(lf_only, 0, Strictness::Server).unwrap(),
            Parsed::Item(..)
        ));
        assert!(parse(lf_only, 0, Strictness::Checker).is_err());
        let bad_crlf = b"*1\r\n$4\r\nPINGxx";
        assert!(matches!(
            parse(bad_crlf, 0, Strictness::Server).unwrap(),
            Parsed::Item(..)
        ));
        assert!(parse(bad_crlf, 0, Strictness::Checker).is_err());
    }
}
