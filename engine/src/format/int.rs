//! Integers as Redis writes and reads them in text: `string2ll` (the one parser; no `+`, no
//! leading zeros or spaces, no `-0`) and `ll2string` (decimal text without allocating).
//!
//! The same rule decides whether a writer may store a string as an integer encoding, whether a
//! command argument is an integer, and how RESP lengths and stream IDs are spelled.

/// Redis's `string2ll`: optional `-`, then `0` alone or a digit 1-9 followed by digits, within
/// `i64`.
pub fn parse_i64(s: &[u8]) -> Option<i64> {
    if s.is_empty() || s.len() > 20 {
        return None;
    }
    if s == b"0" {
        return Some(0);
    }
    let (neg, digits) = match s[0] {
        b'-' => (true, &s[1..]),
        _ => (false, s),
    };
    if digits.is_empty() || !(b'1'..=b'9').contains(&digits[0]) {
        return None;
    }
    let mut v: u64 = 0;
    for &d in digits {
        if !d.is_ascii_digit() {
            return None;
        }
        v = v.checked_mul(10)?.checked_add((d - b'0') as u64)?;
    }
    if neg {
        (v <= i64::MAX as u64 + 1).then(|| (v as i64).wrapping_neg())
    } else {
        i64::try_from(v).ok()
    }
}

/// Renders `v` as decimal text into `buf` (20 bytes hold every i64) without allocating.
pub fn decimal(buf: &mut [u8; 20], v: i64) -> &[u8] {
    let mut i = buf.len();
    let mut u = v.unsigned_abs();
    loop {
        i -= 1;
        buf[i] = b'0' + (u % 10) as u8;
        u /= 10;
        if u == 0 {
            break;
        }
    }
    if v < 0 {
        i -= 1;
        buf[i] = b'-';
    }
    &buf[i..]
}

/// Appends the decimal text of `v`.
pub fn write_decimal(out: &mut Vec<u8>, v: i64) {
    let mut buf = [0u8; 20];
    out.extend_from_slice(decimal(&mut buf, v));
}

/// The decimal text of `v`, owned.
pub fn to_bytes(v: i64) -> Vec<u8> {
    let mut buf = [0u8; 20];
    decimal(&mut buf, v).to_vec()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn decimal_matches_std_formatting() {
        for v in [
            0i64,
            7,
            -7,
            10,
            -10,
            12345,
            i64::MAX,
            i64::MIN,
            i64::MIN + 1,
        ] {
            let mut buf = [0u8; 20];
            assert_eq!(decimal(&mut buf, v), v.to_string().as_bytes());
            assert_eq!(parse_i64(&to_bytes(v)), Some(v), "{v}");
        }
    }

    #[test]
    fn only_canonical_text_parses() {
        for bad in [
            &b""[..],
            b"-",
            b"+1",
            b"01",
            b"-0",
            b" 1",
            b"1 ",
            b"1.0",
            b"9223372036854775808",
            b"-9223372036854775809",
            b"123456789012345678901",
        ] {
            assert_eq!(parse_i64(bad), None, "{:?}", String::from_utf8_lossy(bad));
        }
        assert_eq!(parse_i64(b"-9223372036854775808"), Some(i64::MIN));
        assert_eq!(parse_i64(b"0"), Some(0));
        assert_eq!(parse_i64(b"-12"), Some(-12));
    }
}
