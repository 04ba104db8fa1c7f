//! How much memory a replay holds, for its budget: this process's resident set as Linux reports it,
//! and what a command that grows a string by its arguments alone (SETRANGE, SETBIT) may add.
use crate::format::int::parse_i64;

/// Resident bytes of this process (`VmRSS` of `/proc/self/status`), where Linux reports it.
pub fn resident_bytes() -> Option<u64> {
    let text = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = text.lines().find(|l| l.starts_with("VmRSS:"))?;
    let kib: u64 = line.split_whitespace().nth(1)?.parse().ok()?;
    Some(kib * 1024)
}

/// The bytes a command may add beyond its own arguments, known before it runs: SETRANGE and
/// SETBIT can make a string of the size their offset says (up to 512 MB) from a few bytes.
pub fn growth_hint(argv: &[&[u8]]) -> u64 {
    let offset = |i: usize| argv.get(i).and_then(|a| parse_i64(a)).unwrap_or(0).max(0) as u64;
    match argv.first() {
        Some(n) if n.eq_ignore_ascii_case(b"setrange") => {
            offset(2) + argv.get(3).map_or(0, |v| v.len() as u64)
        }
        Some(n) if n.eq_ignore_ascii_case(b"setbit") => offset(2) / 8 + 1,
        _ => 0,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn amplifiers_are_priced_by_their_offsets() {
        assert_eq!(
            growth_hint(&[b"SETRANGE", b"k", b"536870000", b"x"]),
            536_870_001
        );
        assert_eq!(growth_hint(&[b"setbit", b"k", b"80", b"1"]), 11);
        assert_eq!(growth_hint(&[b"SET", b"k", b"v"]), 0);
        assert!(resident_bytes().is_none_or(|r| r > 0));
    }
}
