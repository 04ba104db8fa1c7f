//! The multi-part AOF manifest of Redis 7+: `file <name> seq <n> type b|h|i` lines, tokenised like
//! redis-cli arguments, with every rule Redis enforces at startup; `write` mirrors `parse`.
use crate::format::error::{Error, ErrorKind, Result};

/// What a listed file is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FileType {
    /// `b`: the base (an RDB or a RESP rewrite).
    Base,
    /// `h`: history, kept until garbage-collected, never loaded.
    History,
    /// `i`: an incremental file, loaded after the base in sequence order.
    Incr,
}

impl FileType {
    fn letter(self) -> char {
        match self {
            FileType::Base => 'b',
            FileType::History => 'h',
            FileType::Incr => 'i',
        }
    }
}

/// One manifest line.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FileEntry {
    /// File name inside the AOF directory.
    pub name: Vec<u8>,
    /// Sequence number.
    pub seq: u64,
    /// Role.
    pub kind: FileType,
}

/// A parsed manifest.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Manifest {
    /// The base file, if any.
    pub base: Option<FileEntry>,
    /// History files, in file order.
    pub history: Vec<FileEntry>,
    /// Incremental files, in load order.
    pub incr: Vec<FileEntry>,
}

/// Longest manifest line Redis accepts, newline included.
pub const LINE_MAX: usize = 1024;

fn bad(line: usize, what: &'static str, detail: impl Into<String>) -> Error {
    Error::new(ErrorKind::BadManifest, line as u64, what, detail)
}

/// Splits a line into arguments as `sdssplitargs` does: spaces separate, `"..."` takes C escapes
/// (`\n \r \t \b \a \\ \" \xHH`), `'...'` takes only `\'`; a closing quote must be followed by a
/// space or the end. `None` on unbalanced quotes.
pub fn split_args(line: &[u8]) -> Option<Vec<Vec<u8>>> {
    let mut out = Vec::new();
    let mut i = 0;
    loop {
        while i < line.len() && line[i].is_ascii_whitespace() {
            i += 1;
        }
        if i >= line.len() {
            return Some(out);
        }
        let mut cur = Vec::new();
        let (mut dq, mut sq) = (false, false);
        loop {
            if dq {
                let c = *line.get(i)?;
                if c == b'\\'
                    && line.get(i + 1) == Some(&b'x')
                    && line.get(i + 2).is_some_and(u8::is_ascii_hexdigit)
                    && line.get(i + 3).is_some_and(u8::is_ascii_hexdigit)
                {
                    let h = std::str::from_utf8(&line[i + 2..i + 4]).ok()?;
                    cur.push(u8::from_str_radix(h, 16).ok()?);
                    i += 4;
                    continue;
                } else if c == b'\\' && i + 1 < line.len() {
                    cur.push(match line[i + 1] {
                        b'n' => b'\n',
                        b'r' => b'\r',
                        b't' => b'\t',
                        b'b' => 8,
                        b'a' => 7,
                        other => other,
                    });
                    i += 2;
                    continue;
                } else if c == b'"' {
                    if line.get(i + 1).is_some_and(|b| !b.is_ascii_whitespace()) {
                        return None;
                    }
                    i += 1;
                    break;
                }
                cur.push(c);
                i += 1;
            } else if sq {
                let c = *line.get(i)?;
                if c == b'\\' && line.get(i + 1) == Some(&b'\'') {
                    cur.push(b'\'');
                    i += 2;
                    continue;
                } else if c == b'\'' {
                    if line.get(i + 1).is_some_and(|b| !b.is_ascii_whitespace()) {
                        return None;
                    }
                    i += 1;
                    break;
                }
                cur.push(c);
                i += 1;
            } else {
                match line.get(i) {
                    None => break,
                    Some(c) if c.is_ascii_whitespace() => break,
                    Some(b'"') => dq = true,
                    Some(b'\'') => sq = true,
                    Some(&c) => cur.push(c),
                }
                i += 1;
            }
        }
        out.push(cur);
    }
}

/// Parses a manifest; errors carry the 1-based line number as their offset.
pub fn parse(text: &[u8]) -> Result<Manifest> {
    let mut m = Manifest::default();
    let mut lines = 0usize;
    let mut rest = text;
    while !rest.is_empty() {
        lines += 1;
        let (raw, next) = match rest.iter().position(|&b| b == b'\n') {
            Some(p) => (&rest[..p + 1], &rest[p + 1..]),
            None => (rest, &rest[rest.len()..]),
        };
        rest = next;
        if raw.len() > LINE_MAX {
            return Err(bad(
                lines,
                "manifest line",
                "the AOF manifest file contains too long line",
            ));
        }
        if raw.first() == Some(&b'#') {
            continue;
        }
        let trimmed = trim(raw);
        if trimmed.is_empty() {
            return Err(bad(
                lines,
                "manifest line",
                "invalid AOF manifest file format (blank line)",
            ));
        }
        let args = split_args(trimmed).ok_or_else(|| {
            bad(
                lines,
                "manifest line",
                "invalid AOF manifest file format (unbalanced quotes)",
            )
        })?;
        if args.len() < 6 || args.len() % 2 != 0 {
            return Err(bad(
                lines,
                "manifest line",
                format!("invalid AOF manifest file format ({} tokens)", args.len()),
            ));
        }
        let (mut name, mut seq, mut kind) = (None, None, None);
        for pair in args.chunks(2) {
            match pair[0].to_ascii_lowercase().as_slice() {
                b"file" => name = Some(pair[1].clone()),
                b"seq" => seq = Some(atoll(&pair[1])),
                b"type" => kind = pair[1].first().copied(),
                _ => {} // Unknown pairs are ignored, for forward compatibility.
            }
        }
        let name = name.ok_or_else(|| {
            bad(
                lines,
                "manifest line",
                "invalid AOF manifest file format (no file)",
            )
        })?;
        if name.iter().any(|&b| b == b'/' || b == b'\\') {
            return Err(bad(
                lines,
                "manifest file name",
                "file names must not contain path separators",
            ));
        }
        let seq = match seq {
            Some(s) if s > 0 => s as u64,
            _ => {
                return Err(bad(
                    lines,
                    "manifest line",
                    "invalid AOF manifest file format (no or zero seq)",
                ))
            }
        };
        let kind = match kind {
            Some(b'b') => FileType::Base,
            Some(b'h') => FileType::History,
            Some(b'i') => FileType::Incr,
            Some(c) => {
                return Err(bad(
                    lines,
                    "manifest file type",
                    format!("unknown AOF file type {:?}", c as char),
                ))
            }
            None => {
                return Err(bad(
                    lines,
                    "manifest line",
                    "invalid AOF manifest file format (no type)",
                ))
            }
        };
        let e = FileEntry { name, seq, kind };
        match kind {
            FileType::Base if m.base.is_some() => {
                return Err(bad(
                    lines,
                    "manifest line",
                    "found duplicate base file information",
                ))
            }
            FileType::Base => m.base = Some(e),
            FileType::History => m.history.push(e),
            FileType::Incr => {
                if m.incr.last().is_some_and(|l| l.seq >= seq) {
                    return Err(bad(
                        lines,
                        "manifest line",
                        "found a non-monotonic sequence number",
                    ));
                }
                m.incr.push(e);
            }
        }
    }
    if lines == 0 {
        return Err(bad(0, "manifest", "found an empty AOF manifest"));
    }
    Ok(m)
}

fn trim(s: &[u8]) -> &[u8] {
    let ws = |b: &u8| matches!(b, b' ' | b'\t' | b'\r' | b'\n');
    let start = s.iter().position(|b| !ws(b)).unwrap_or(s.len());
    let end = s.iter().rposition(|b| !ws(b)).map_or(start, |e| e + 1);
    &s[start..end]
}

/// C's `atoll`: leading digits with an optional sign, 0 when there are none.
fn atoll(s: &[u8]) -> i64 {
    let (neg, d) = match s.first() {
        Some(b'-') => (true, &s[1..]),
        Some(b'+') => (false, &s[1..]),
        _ => (false, s),
    };
    let v = d
        .iter()
        .take_while(|b| b.is_ascii_digit())
        .fold(0i64, |v, &c| {
            v.saturating_mul(10).saturating_add((c - b'0') as i64)
        });
    if neg {
        -v
    } else {
        v
    }
}

/// A name as Redis writes it: bare when it is plain, else quoted with C escapes (`sdscatrepr`).
fn quote(name: &[u8]) -> Vec<u8> {
    let plain = !name.is_empty()
        && name
            .iter()
            .all(|&b| b.is_ascii_graphic() && b != b'"' && b != b'\'' && b != b'\\');
    if plain {
        return name.to_vec();
    }
    let mut out = vec![b'"'];
    for &b in name {
        match b {
            b'\\' => out.extend_from_slice(b"\\\\"),
            b'"' => out.extend_from_slice(b"\\\""),
            b'\n' => out.extend_from_slice(b"\\n"),
            b'\r' => out.extend_from_slice(b"\\r"),
            b'\t' => out.extend_from_slice(b"\\t"),
            7 => out.extend_from_slice(b"\\a"),
            8 => out.extend_from_slice(b"\\b"),
            b if b.is_ascii_graphic() || b == b' ' => out.push(b),
            b => out.extend_from_slice(format!("\\x{b:02x}").as_bytes()),
        }
    }
    out.push(b'"');
    out
}

/// Writes a manifest as Redis does: base, then history, then incremental files. A name whose
/// quoted form would make its line longer than Redis reads is refused: the file could not be
/// loaded back (the error's offset is the 1-based line).
pub fn write(m: &Manifest) -> Result<Vec<u8>> {
    let mut out = Vec::new();
    for (i, e) in m.base.iter().chain(&m.history).chain(&m.incr).enumerate() {
        let start = out.len();
        out.extend_from_slice(b"file ");
        out.extend_from_slice(&quote(&e.name));
        out.extend_from_slice(format!(" seq {} type {}\n", e.seq, e.kind.letter()).as_bytes());
        if out.len() - start > LINE_MAX {
            return Err(bad(
                i + 1,
                "manifest file name",
                "the quoted name makes the line longer than 1024 bytes",
            ));
        }
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The example manifest of the format reference, section 15.3.
    #[test]
    fn reference_example() {
        let text = b"file appendonly.aof.2.base.rdb seq 2 type b\nfile appendonly.aof.1.incr.aof seq 1 type h\nfile appendonly.aof.2.incr.aof seq 2 type h\nfile appendonly.aof.3.incr.aof seq 3 type i\nfile appendonly.aof.4.incr.aof seq 4 type i\n";
        let m = parse(text).unwrap();
        assert_eq!(m.base.as_ref().unwrap().name, b"appendonly.aof.2.base.rdb");
        assert_eq!(m.history.len(), 2);
        assert_eq!(m.incr.iter().map(|e| e.seq).collect::<Vec<_>>(), vec![3, 4]);
        assert_eq!(write(&m).unwrap(), text.to_vec());
    }

    /// The refusals Redis's aof-multi-part.tcl pins, each with its reason.
    #[test]
    fn every_refusal_redis_pins() {
        let cases: &[(&[u8], &str)] = &[
            (
                b"file a seq 1 type b\nfile b seq 2 type i\nfile c seq 1 type i\n",
                "non-monotonic",
            ),
            (
                b"file a seq 1 type b\n\nfile b seq 2 type i\n",
                "blank line",
            ),
            (
                b"file a seq 1 type b\nfile b seq 2 type b\n",
                "duplicate base",
            ),
            (b"file a seq 1 type x\n", "unknown AOF file type"),
            (b"filx a seq 1 type b\n", "no file"),
            (b"file a seq 1\n", "4 tokens"),
            (b"file a seq 1 type b extra\n", "7 tokens"),
            (b"", "empty AOF manifest"),
        ];
        for (text, why) in cases {
            let e = parse(text).unwrap_err();
            assert_eq!(e.kind, ErrorKind::BadManifest);
            assert!(e.detail.contains(why), "{why}: {e}");
        }
        let long = format!("file {} seq 1 type b\n", "a".repeat(1100));
        assert!(parse(long.as_bytes())
            .unwrap_err()
            .detail
            .contains("too long"));
    }

    /// `sdssplitargs` takes a backslash only before another byte; one ending the line inside
    /// double quotes is an ordinary byte, and the quotes are then unterminated.
    #[test]
    fn a_backslash_ending_a_quoted_argument_leaves_it_unterminated() {
        assert_eq!(split_args(b"file \"a\\"), None);
        assert_eq!(split_args(b"'a\\"), None);
        assert_eq!(
            split_args(b"\"a\\\\\" b"),
            Some(vec![b"a\\".to_vec(), b"b".to_vec()])
        );
    }

    /// `sdssplitargs`'s escapes: `\xHH` (two hex digits right after the `\x`) in double quotes,
    /// `\'` in single quotes.
    #[test]
    fn hex_and_quote_escapes_read_as_sdssplitargs() {
        assert_eq!(split_args(b"\"\\x41b\""), Some(vec![b"Ab".to_vec()]));
        assert_eq!(split_args(b"\"\\x4g\""), Some(vec![b"x4g".to_vec()]));
        assert_eq!(split_args(b"'it\\'s'"), Some(vec![b"it's".to_vec()]));
    }

    /// C's `atoll`: an optional sign, then digits up to the first other byte.
    #[test]
    fn atoll_reads_a_signed_prefix() {
        assert_eq!(atoll(b"-12x"), -12);
        assert_eq!(atoll(b"+7"), 7);
        assert_eq!(atoll(b"x1"), 0);
    }

    /// A name too long to load back is refused with the 1-based line it would have had.
    #[test]
    fn write_refuses_an_overlong_line_naming_it() {
        let entry = |name: Vec<u8>, seq| FileEntry {
            name,
            seq,
            kind: FileType::Base,
        };
        let m = Manifest {
            base: Some(entry(vec![b'a'; 1100], 1)),
            history: vec![],
            incr: vec![],
        };
        assert_eq!(write(&m).unwrap_err().offset, Some(1));
    }

    #[test]
    fn tolerated_variations() {
        let m = parse(b"# comment\nfile a seq 1 type b newkey newvalue\nfile b seq 3 type i\n")
            .unwrap();
        assert_eq!(m.incr[0].seq, 3);
        let odd = b" file \" file seq \\n\\n.aof .2.base.rdb\" seq 2 type b\n";
        let m = parse(odd).unwrap();
        assert_eq!(
            m.base.as_ref().unwrap().name,
            b" file seq \n\n.aof .2.base.rdb"
        );
        assert_eq!(parse(&write(&m).unwrap()).unwrap(), m);
    }
}
