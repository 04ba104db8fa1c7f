//! Argument parsing with Redis's exact acceptance rules and error texts.
//! Integers follow `string2ll` (no '+', no leading zeros, no spaces); floats `strtod`-like.

use crate::reply::{err, not_float, not_int, Reply};

/// ASCII case-insensitive comparison of an argument with an option name.
pub(crate) fn eq(arg: &[u8], name: &str) -> bool {
    arg.eq_ignore_ascii_case(name.as_bytes())
}

/// Lowercase text of a command name, for lookups and error messages.
pub(crate) fn lower(arg: &[u8]) -> String {
    String::from_utf8_lossy(arg).to_ascii_lowercase()
}

/// Redis's `string2ll`: optional '-', then "0" alone or a digit string without leading
/// zeros, within i64. "-0", "+1", "01", " 1" and "" are all rejected.
pub(crate) fn parse_i64(s: &[u8]) -> Option<i64> {
    if s == b"0" {
        return Some(0);
    }
    let (neg, digits) = match s.split_first() {
        Some((b'-', rest)) => (true, rest),
        _ => (false, s),
    };
    match digits.first() {
        Some(b'1'..=b'9') => {}
        _ => return None,
    }
    let mut v: i64 = 0;
    for &c in digits {
        if !c.is_ascii_digit() {
            return None;
        }
        let d = i64::from(c - b'0');
        // Accumulate negatively so i64::MIN parses without overflow.
        v = v.checked_mul(10)?.checked_sub(d)?;
    }
    if neg {
        Some(v)
    } else {
        v.checked_neg()
    }
}

/// Stream ID parts, like Redis's `string2ull`: digits within u64, leading zeros allowed.
/// Redis falls back to `strtoull`, which also takes a leading space, '+' or "-0"; the model
/// refuses those oddities rather than imitate them.
pub(crate) fn parse_u64(s: &[u8]) -> Option<u64> {
    if s.is_empty() || !s.iter().all(u8::is_ascii_digit) {
        return None;
    }
    std::str::from_utf8(s).ok()?.parse().ok()
}

/// Redis's `string2d`/`string2ld`: a full-string float, no leading space, no NaN, and no
/// finite literal that overflows to ±inf or underflows to 0 (ERANGE). "inf" is accepted.
/// Hex floats, which `strtod` accepts, are not: nothing in the suite sends them.
pub(crate) fn parse_f64(s: &[u8]) -> Option<f64> {
    let text = std::str::from_utf8(s).ok()?;
    if text.is_empty() || text.starts_with(|c: char| c.is_ascii_whitespace()) {
        return None;
    }
    let v: f64 = text.parse().ok()?;
    if v.is_nan() {
        return None;
    }
    let lower = text.to_ascii_lowercase();
    if v.is_infinite() && !lower.contains("inf") {
        return None;
    }
    let mantissa = lower.split('e').next().unwrap_or("");
    if v == 0.0 && mantissa.bytes().any(|c| (b'1'..=b'9').contains(&c)) {
        return None;
    }
    Some(v)
}

/// An integer argument, with Redis's generic error.
pub(crate) fn int(arg: &[u8]) -> Result<i64, Reply> {
    parse_i64(arg).ok_or_else(not_int)
}

/// An integer argument within `[min, max]`; `msg` replaces both errors when given, as in
/// `getRangeLongFromObjectOrReply`.
pub(crate) fn int_in(arg: &[u8], min: i64, max: i64, msg: Option<&str>) -> Result<i64, Reply> {
    let fail = || match msg {
        Some(m) => err(m),
        None => err(format!(
            "value is out of range, value must between {min} and {max}"
        )),
    };
    match parse_i64(arg) {
        None => Err(msg.map_or_else(not_int, err)),
        Some(v) if v < min || v > max => Err(fail()),
        Some(v) => Ok(v),
    }
}

/// `getPositiveLongFromObjectOrReply`: 0..=i64::MAX, one message for every failure.
pub(crate) fn non_negative(arg: &[u8]) -> Result<i64, Reply> {
    int_in(
        arg,
        0,
        i64::MAX,
        Some("value is out of range, must be positive"),
    )
}

/// `getIntFromObjectOrReply`: a C int.
pub(crate) fn int32(arg: &[u8]) -> Result<i64, Reply> {
    int_in(arg, i64::from(i32::MIN), i64::from(i32::MAX), None)
}

/// A float argument, with Redis's generic error.
pub(crate) fn float(arg: &[u8]) -> Result<f64, Reply> {
    parse_f64(arg).ok_or_else(not_float)
}

/// Redis's inclusive index window over a sequence of `len` items (LRANGE, LTRIM, ZRANGE,
/// ZREMRANGEBYRANK): negative indices count from the end; `None` is an empty window.
pub(crate) fn window(start: i64, stop: i64, len: usize) -> Option<(usize, usize)> {
    let len = i64::try_from(len).unwrap_or(i64::MAX);
    let mut start = if start < 0 {
        start.saturating_add(len)
    } else {
        start
    };
    let mut stop = if stop < 0 {
        stop.saturating_add(len)
    } else {
        stop
    };
    if start < 0 {
        start = 0;
    }
    if start > stop || start >= len {
        return None;
    }
    if stop >= len {
        stop = len - 1;
    }
    Some((start as usize, stop as usize))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn integers_follow_string2ll() {
        assert_eq!(parse_i64(b"0"), Some(0));
        assert_eq!(parse_i64(b"-12"), Some(-12));
        assert_eq!(parse_i64(b"9223372036854775807"), Some(i64::MAX));
        assert_eq!(parse_i64(b"-9223372036854775808"), Some(i64::MIN));
        for bad in [
            &b""[..],
            b"-0",
            b"+1",
            b"01",
            b" 1",
            b"1 ",
            b"9223372036854775808",
            b"1.0",
        ] {
            assert_eq!(parse_i64(bad), None, "{:?}", String::from_utf8_lossy(bad));
        }
    }

    #[test]
    fn floats_follow_strtod_with_redis_guards() {
        assert_eq!(parse_f64(b"1.5"), Some(1.5));
        assert_eq!(parse_f64(b"+inf"), Some(f64::INFINITY));
        assert_eq!(parse_f64(b"-inf"), Some(f64::NEG_INFINITY));
        assert_eq!(parse_f64(b"1e3"), Some(1000.0));
        assert_eq!(parse_f64(b"0.0"), Some(0.0));
        for bad in [&b"nan"[..], b"", b" 1", b"1x", b"1e400", b"1e-400"] {
            assert_eq!(parse_f64(bad), None, "{:?}", String::from_utf8_lossy(bad));
        }
    }

    #[test]
    fn range_errors_use_the_given_message() {
        assert_eq!(
            non_negative(b"-1"),
            Err(err("value is out of range, must be positive"))
        );
        assert_eq!(
            non_negative(b"x"),
            Err(err("value is out of range, must be positive"))
        );
        assert_eq!(int32(b"x"), Err(not_int()));
        assert_eq!(
            int32(b"2147483648"),
            Err(err(
                "value is out of range, value must between -2147483648 and 2147483647"
            ))
        );
    }

    #[test]
    fn window_matches_lrange_rules() {
        assert_eq!(window(0, -1, 3), Some((0, 2)));
        assert_eq!(window(-2, 10, 3), Some((1, 2)));
        assert_eq!(window(-10, 0, 3), Some((0, 0)));
        assert_eq!(window(2, 1, 3), None);
        assert_eq!(window(3, 5, 3), None);
        assert_eq!(window(0, -4, 3), None);
        assert_eq!(window(0, 0, 0), None);
    }

    #[test]
    fn stream_id_parts_accept_digits_only() {
        assert_eq!(parse_u64(b"007"), Some(7));
        assert_eq!(parse_u64(b"18446744073709551615"), Some(u64::MAX));
        assert_eq!(parse_u64(b"-1"), None);
        assert_eq!(parse_u64(b"18446744073709551616"), None);
    }
}
