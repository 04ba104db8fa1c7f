//! RESP commands (multibulk requests) and the AOF's `#` annotation lines between them, written:
//! the one encoder. `stream.rs` reads them back, with the grammar of each of Redis's two readers.

/// How strictly to parse.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Strictness {
    /// As the server loads: header lines end at `\n` (`atoi`/`strtol` ignore a missing `\r`), the
    /// two bytes after each payload are skipped unchecked.
    Server,
    /// As `redis-check-aof` checks: every line and payload must end in `\r\n`.
    Checker,
}

/// Longest header line Redis reads (`AOF_ANNOTATION_LINE_MAX_LEN`).
pub const LINE_MAX: usize = 1024;

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

    #[test]
    fn commands_are_binary_safe_and_timestamps_round_trip() {
        assert_eq!(
            encode_command(&[b"SET", b"k\r\n\x00", b""]),
            b"*3\r\n$3\r\nSET\r\n$4\r\nk\r\n\x00\r\n$0\r\n\r\n"
        );
        let mut t = Vec::new();
        write_timestamp(&mut t, 1_700_000_000);
        assert_eq!(t, b"#TS:1700000000\r\n");
        assert_eq!(timestamp(b"TS:1700000000"), Some(1_700_000_000));
        assert_eq!(timestamp(b"other"), None);
    }
}
