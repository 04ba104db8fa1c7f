//! The AOF command stream read from any `Read` through the one cursor (`format::source`): memory
//! O(largest command), every item with its exact offsets, a short read reported where its item began.
//!
//! Two grammars, as Redis has two readers: the server's loader (`atoi`/`strtol` on header lines,
//! a missing `\r` tolerated, an argument count below 1 refused, the two bytes after a payload
//! skipped unchecked) and `redis-check-aof` (`strtol` then `\r\n` right after the number, every
//! payload followed by `\r\n`, any count accepted, `*0` and `*-1` being empty commands). The
//! checker also counts its lines as the real one does: one per `\r\n` it consumed, annotations
//! not included, a failing item's complete lines included.
use super::command::{Strictness, LINE_MAX};
use crate::format::error::{Error, ErrorKind, Result};
use crate::format::source::Source;
use std::io::Read;

/// What the next item is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Next {
    /// A command, from offset `at` to `end`; its arguments are [`CommandReader::argv`].
    Command {
        /// Offset of its `*`.
        at: u64,
        /// Offset just after it.
        end: u64,
    },
    /// A `#` line, from `at` to `end`; its text (without `#`) is [`CommandReader::annotation`].
    Annotation {
        /// Offset of its `#`.
        at: u64,
        /// Offset just after its newline.
        end: u64,
    },
    /// The input ends inside the item that starts at `at` (a short read).
    Incomplete {
        /// Where the unfinished item starts.
        at: u64,
    },
    /// No more input.
    End,
}

/// Reads commands and annotations one at a time.
pub struct CommandReader<R> {
    src: Source<R>,
    strict: Strictness,
    /// The last command's arguments, back to back.
    arena: Vec<u8>,
    /// Each argument's (start in `arena`, length, file offset).
    spans: Vec<(usize, usize, u64)>,
    annotation: Vec<u8>,
    lines: u64,
}

fn corrupt(at: u64, what: &'static str, detail: impl Into<String>) -> Error {
    Error::corrupt(at, what, detail)
}

/// C's `strtol(s, &end, 10)`: leading white space, an optional sign, digits (saturating); the
/// value and how many bytes it used (0 when there is no digit, as `end` is then `s`).
fn strtol(s: &[u8]) -> (i64, usize) {
    let ws = s
        .iter()
        .take_while(|b| b" \t\n\x0b\x0c\r".contains(b))
        .count();
    let (neg, sign) = match s.get(ws) {
        Some(b'-') => (true, 1),
        Some(b'+') => (false, 1),
        _ => (false, 0),
    };
    let digits = s[ws + sign..]
        .iter()
        .take_while(|b| b.is_ascii_digit())
        .count();
    if digits == 0 {
        return (0, 0);
    }
    let v = s[ws + sign..ws + sign + digits].iter().fold(0i64, |v, &d| {
        v.saturating_mul(10).saturating_add((d - b'0') as i64)
    });
    (if neg { v.saturating_neg() } else { v }, ws + sign + digits)
}

/// A header number: as the server's loader reads it (`atoi` and `strtol`: anything after the
/// number ignored, 0 without a digit), or as the checker does (`\r` must follow the number: the
/// line's `\r\n`).
fn number(s: &[u8], strict: Strictness) -> Option<i64> {
    let (v, used) = strtol(s);
    match strict {
        Strictness::Server => Some(v),
        Strictness::Checker => (&s[used..] == b"\r").then_some(v),
    }
}

impl<'a> CommandReader<&'a [u8]> {
    /// Reads items from a whole input held in memory.
    pub fn from_slice(bytes: &'a [u8], strict: Strictness) -> CommandReader<&'a [u8]> {
        let src = Source::new(
            bytes,
            Some(bytes.len() as u64),
            crate::format::Limits::DEFAULT,
        );
        CommandReader::new(src, strict)
    }
}

impl<R: Read> CommandReader<R> {
    /// Reads items from `src` (its offsets are the file's).
    pub fn new(src: Source<R>, strict: Strictness) -> CommandReader<R> {
        CommandReader {
            src,
            strict,
            arena: Vec::new(),
            spans: Vec::new(),
            annotation: Vec::new(),
            lines: 0,
        }
    }

    /// Offset of the next byte.
    pub fn pos(&self) -> u64 {
        self.src.pos()
    }

    /// Lines the checker grammar consumed so far, as `redis-check-aof` counts them (each `\r\n`
    /// of a command, those of an item that failed or ended short included; always 0 for the
    /// server grammar).
    pub fn lines(&self) -> u64 {
        self.lines
    }

    /// The last command's arguments.
    pub fn argv(&self) -> Vec<&[u8]> {
        self.spans
            .iter()
            .map(|&(s, n, _)| &self.arena[s..s + n])
            .collect()
    }

    /// The last command's `i`-th argument and its file offset.
    pub fn arg_at(&self, i: usize) -> Option<(&[u8], u64)> {
        let &(s, n, off) = self.spans.get(i)?;
        Some((&self.arena[s..s + n], off))
    }

    /// The last annotation's text, without its `#`.
    pub fn annotation(&self) -> &[u8] {
        &self.annotation
    }

    /// A header line up to its `\n` (a `\r` before it kept): `Ok(None)` when the input ends
    /// inside it.
    fn header(&mut self, what: &'static str) -> Result<Option<Vec<u8>>> {
        let at = self.src.pos();
        match self.src.line(LINE_MAX, what) {
            Ok(Some(l)) => Ok(Some(l.to_vec())),
            Ok(None) => Err(corrupt(at, what, "line longer than 1024 bytes")),
            Err(e) if e.kind == ErrorKind::Truncated => Ok(None),
            Err(e) => Err(e),
        }
    }

    /// The number on a header line, or the error the grammar gives for it (only the checker's
    /// can fail).
    fn header_number(&self, l: &[u8], at: u64, what: &'static str) -> Result<i64> {
        number(&l[1..], self.strict).ok_or_else(|| {
            let after = &l[1 + strtol(&l[1..]).1..];
            let got = format!(
                "expected \\r\\n after the number, got {:?}",
                String::from_utf8_lossy(&after[..after.len().min(2)])
            );
            corrupt(
                at,
                what,
                format!("{got} in {:?}", String::from_utf8_lossy(l)),
            )
        })
    }

    /// Reads the next item.
    pub fn next_item(&mut self) -> Result<Next> {
        let at = self.src.pos();
        let first = match self.src.peek(1, "command")?.first() {
            None => return Ok(Next::End),
            Some(&b) => b,
        };
        match first {
            b'#' => {
                let Some(l) = self.header("annotation")? else {
                    return Ok(Next::Incomplete { at });
                };
                self.annotation.clear();
                let text = l.strip_suffix(b"\r").unwrap_or(&l);
                self.annotation.extend_from_slice(&text[1..]);
                Ok(Next::Annotation {
                    at,
                    end: self.src.pos(),
                })
            }
            b'*' => match self.command(at)? {
                true => Ok(Next::Command {
                    at,
                    end: self.src.pos(),
                }),
                false => Ok(Next::Incomplete { at }),
            },
            other => Err(Error::new(
                ErrorKind::Corrupt,
                at,
                "command",
                format!(
                    "bad file format: expected '*' or '#', found {:?}",
                    other as char
                ),
            )),
        }
    }

    /// A multibulk command; `Ok(false)` when the input ends inside it.
    fn command(&mut self, at: u64) -> Result<bool> {
        self.arena.clear();
        self.spans.clear();
        let checker = self.strict == Strictness::Checker;
        let Some(l) = self.header("multibulk header")? else {
            return Ok(false);
        };
        let argc = self.header_number(&l, at, "multibulk header")?;
        if checker {
            self.lines += 1;
        } else if argc < 1 {
            return Err(corrupt(
                at,
                "multibulk header",
                format!("invalid argument count {:?}", String::from_utf8_lossy(&l)),
            ));
        }
        // The checker takes a count below 1 as an empty command, as `redis-check-aof` does.
        let argc = argc.max(0) as u64;
        // A count is trusted only as far as the bytes could hold it (4 bytes per argument at
        // least); past that, the file ends inside this command.
        if self.src.remaining().is_some_and(|rem| argc > rem / 4 + 1) {
            return Ok(false);
        }
        if argc > self.src.limits().max_collection_len {
            return Err(Error::new(
                ErrorKind::LimitExceeded,
                at,
                "multibulk header",
                format!(
                    "{argc} arguments exceed the limit {}",
                    self.src.limits().max_collection_len
                ),
            ));
        }
        for _ in 0..argc {
            let p = self.src.pos();
            match self.src.peek(1, "bulk header")?.first() {
                None => return Ok(false),
                Some(b'$') => {}
                Some(&b) => {
                    return Err(corrupt(
                        p,
                        "bulk header",
                        format!("expected '$', found {:?}", b as char),
                    ))
                }
            }
            let Some(l) = self.header("bulk header")? else {
                return Ok(false);
            };
            let len = self.header_number(&l, p, "bulk header")?;
            if checker {
                self.lines += 1;
            }
            if len < 0 {
                return Err(corrupt(
                    p,
                    "bulk header",
                    format!("invalid bulk length {:?}", String::from_utf8_lossy(&l)),
                ));
            }
            let len = len as u64;
            let q = self.src.pos();
            // A length beyond what remains is a short read, whatever the limits (Redis's loader
            // finds the same when its read comes up short).
            if self
                .src
                .remaining()
                .is_some_and(|rem| len.saturating_add(2) > rem)
            {
                return Ok(false);
            }
            let payload = match self.src.take(len.saturating_add(2), "bulk payload") {
                Ok(b) => b,
                Err(e) if e.kind == ErrorKind::Truncated => return Ok(false),
                Err(e) => return Err(e),
            };
            let n = len as usize;
            if checker {
                if &payload[n..] != b"\r\n" {
                    return Err(corrupt(
                        q,
                        "bulk payload",
                        format!(
                            "expected \\r\\n after {len} bytes, got {:02x}{:02x}",
                            payload[n],
                            payload[n + 1]
                        ),
                    ));
                }
                self.lines += 1;
            }
            let start = self.arena.len();
            self.arena.extend_from_slice(&payload[..n]);
            self.spans.push((start, n, q));
        }
        Ok(true)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::format::resp::write_command;
    use crate::format::Limits;

    fn reader(bytes: &[u8], strict: Strictness) -> CommandReader<&[u8]> {
        CommandReader::new(
            Source::new(bytes, Some(bytes.len() as u64), Limits::DEFAULT),
            strict,
        )
    }

    #[test]
    fn commands_and_annotations_come_with_their_offsets() {
        let mut b = b"#TS:1700000000\r\n".to_vec();
        write_command(&mut b, &[b"SET", b"k\r\n", b""]);
        let mut r = reader(&b, Strictness::Checker);
        assert_eq!(r.next_item().unwrap(), Next::Annotation { at: 0, end: 16 });
        assert_eq!(r.annotation(), b"TS:1700000000");
        let n = r.next_item().unwrap();
        assert_eq!(
            n,
            Next::Command {
                at: 16,
                end: b.len() as u64
            }
        );
        assert_eq!(r.argv(), vec![&b"SET"[..], b"k\r\n", b""]);
        assert_eq!(r.arg_at(1).map(|(_, o)| o), Some(33));
        assert_eq!(r.next_item().unwrap(), Next::End);
    }

    #[test]
    fn every_proper_prefix_is_incomplete_at_the_item_start() {
        let mut b = Vec::new();
        write_command(&mut b, &[b"SET", b"a", b"1"]);
        let first = b.len() as u64;
        write_command(&mut b, &[b"RPUSH", b"list", b"x"]);
        for cut in first as usize + 1..b.len() {
            let mut r = reader(&b[..cut], Strictness::Server);
            assert!(matches!(r.next_item().unwrap(), Next::Command { .. }));
            assert_eq!(
                r.next_item().unwrap(),
                Next::Incomplete { at: first },
                "cut {cut}"
            );
        }
    }

    #[test]
    fn the_checker_refuses_what_the_server_tolerates() {
        for bad in [
            &b"*1\n$4\nPING\r\n"[..],
            b"*1\r\n$4\r\nPINGxx",
            b"*1x\r\n$4\r\nPING\r\n",
            b"*1\r\n$4x\r\nPING\r\n",
        ] {
            assert!(matches!(
                reader(bad, Strictness::Server).next_item().unwrap(),
                Next::Command { .. }
            ));
            assert!(
                reader(bad, Strictness::Checker).next_item().is_err(),
                "{:?}",
                String::from_utf8_lossy(bad)
            );
        }
        let e = reader(b"!!!\r\n", Strictness::Server)
            .next_item()
            .unwrap_err();
        assert_eq!((e.kind, e.offset), (ErrorKind::Corrupt, Some(0)));
    }

    /// The server's loader reads a header number with `atoi` (count) and `strtol` (length),
    /// which give 0 when no digit starts it: `*x` is a count below 1 (refused), `$x` an empty
    /// argument, the two bytes after its line discarded as the CRLF. The checker wants digits.
    #[test]
    fn a_header_without_digits_is_zero_to_the_server() {
        let b = b"*2\r\n$4\r\nPING\r\n$x\r\n\r\n";
        let mut r = reader(b, Strictness::Server);
        let end = b.len() as u64;
        assert_eq!(r.next_item().unwrap(), Next::Command { at: 0, end });
        assert_eq!(r.argv(), vec![&b"PING"[..], b""]);
        assert!(reader(b, Strictness::Checker).next_item().is_err());
        let e = reader(b"*x\r\n", Strictness::Server)
            .next_item()
            .unwrap_err();
        assert!(e.detail.contains("invalid argument count"), "{e}");
    }

    /// `strtol` reads a sign: `redis-check-aof` takes `*-1` as a command of no arguments (its
    /// `readArgc` loop runs no time), while the server's loader refuses a count below 1.
    #[test]
    fn a_negative_count_is_an_empty_command_to_the_checker_only() {
        let b = b"*-1\r\n*1\r\n$4\r\nPING\r\n";
        let mut r = reader(b, Strictness::Checker);
        assert_eq!(r.next_item().unwrap(), Next::Command { at: 0, end: 5 });
        assert!(r.argv().is_empty());
        assert!(matches!(
            r.next_item().unwrap(),
            Next::Command { at: 5, .. }
        ));
        assert_eq!(r.argv(), vec![&b"PING"[..]]);
        let e = reader(b, Strictness::Server).next_item().unwrap_err();
        assert!(e.detail.contains("invalid argument count"), "{e}");
        assert_eq!(strtol(b" -12x"), (-12, 4));
        assert_eq!(strtol(b"+7"), (7, 2));
        assert_eq!(strtol(b"-"), (0, 0));
    }

    #[test]
    fn a_huge_count_or_length_is_a_short_read_not_an_allocation() {
        let mut r = reader(b"*2000000000\r\n$3\r\nSET\r\n", Strictness::Server);
        assert_eq!(r.next_item().unwrap(), Next::Incomplete { at: 0 });
        let mut r = reader(b"*1\r\n$900000000000\r\nSET\r\n", Strictness::Server);
        assert_eq!(r.next_item().unwrap(), Next::Incomplete { at: 0 });
        // Of unknown length (a pipe): the limits bound what one item may take.
        let mut r = CommandReader::new(
            Source::new(&b"*1\r\n$900000000000\r\nSET\r\n"[..], None, Limits::TIGHT),
            Strictness::Server,
        );
        assert_eq!(r.next_item().unwrap_err().kind, ErrorKind::LimitExceeded);
    }

    /// A count the remaining bytes cannot hold (at least 4 bytes an argument) means the file ends
    /// inside this command, a truncated tail as Redis's loader finds it, even when the count also
    /// exceeds the limit; a count the bytes can hold is held to the limit.
    #[test]
    fn a_count_past_the_remaining_bytes_is_a_short_read_before_the_limit() {
        let limits = Limits {
            max_collection_len: 3,
            ..Limits::DEFAULT
        };
        let rd = |b: &'static [u8]| {
            CommandReader::new(
                Source::new(b, Some(b.len() as u64), limits),
                Strictness::Server,
            )
        };
        // 9 bytes after the header hold at most 9 / 4 + 1 = 3 arguments, not 5.
        assert_eq!(
            rd(b"*5\r\n$3\r\nSET\r\n").next_item().unwrap(),
            Next::Incomplete { at: 0 }
        );
        let e = rd(b"*4\r\n$1\r\na\r\n$1\r\nb\r\n$1\r\nc\r\n$1\r\nd\r\n")
            .next_item()
            .unwrap_err();
        assert_eq!((e.kind, e.offset), (ErrorKind::LimitExceeded, Some(0)));
        // The bound itself: 14 bytes hold 14 / 4 + 1 = 4 arguments, so a count of 4 is held to
        // the limit (3), not taken for a truncated tail.
        let e = rd(b"*4\r\n$1\r\na\r\n$1\r\nb\r\n").next_item().unwrap_err();
        assert_eq!((e.kind, e.offset), (ErrorKind::LimitExceeded, Some(0)));
    }
}
