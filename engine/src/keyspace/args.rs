//! Argument parsing and formatting with Redis's exact rules: `string2ll` integers (no sign `+`,
//! no leading zeros or spaces), `strtod` floats without NaN, case-insensitive option names.

/// Case-insensitive comparison of an argument with an ASCII option name.
#[inline]
pub(crate) fn is(arg: &[u8], name: &str) -> bool {
    arg.eq_ignore_ascii_case(name.as_bytes())
}

pub(crate) use crate::format::int::parse_i64;

/// Bytes as text for an error message (invalid UTF-8 replaced).
pub(crate) fn text(b: &[u8]) -> String {
    String::from_utf8_lossy(b).into_owned()
}

/// A double as `strtod` reads it for Redis (`getDoubleFromObject`): the whole argument, no
/// leading space, `inf`/`-inf`/`infinity` allowed, NaN refused.
pub(crate) fn parse_f64(b: &[u8]) -> Option<f64> {
    let s = std::str::from_utf8(b).ok()?;
    if s.is_empty() || s.starts_with(|c: char| c.is_ascii_whitespace()) {
        return None;
    }
    let v: f64 = s.parse().ok()?;
    if v.is_nan() {
        None
    } else {
        Some(v)
    }
}

/// Decimal text of an integer.
#[inline]
pub(crate) fn int_bytes(v: i64) -> Vec<u8> {
    crate::format::int::to_bytes(v)
}

/// A double as Redis 7.2+ replies it: the shortest text that round-trips, `inf` / `-inf`.
pub(crate) fn double_bytes(v: f64) -> Vec<u8> {
    if v.is_infinite() {
        return if v > 0.0 {
            b"inf".to_vec()
        } else {
            b"-inf".to_vec()
        };
    }
    let a = v.abs();
    if a != 0.0 && !(1e-5..1e17).contains(&a) {
        format!("{v:e}").into_bytes()
    } else {
        format!("{v}").into_bytes()
    }
}

/// The text INCRBYFLOAT/HINCRBYFLOAT store: positional notation, no exponent, no trailing zeros
/// (Redis's `ld2string` human mode). Computed on f64, where Redis uses `long double`.
pub(crate) fn human_double_bytes(v: f64) -> Vec<u8> {
    let v = if v == 0.0 { 0.0 } else { v };
    format!("{v}").into_bytes()
}

/// Parses a pair of `start stop` integer arguments.
pub(crate) fn parse_range(a: &[u8], b: &[u8]) -> Option<(i64, i64)> {
    Some((parse_i64(a)?, parse_i64(b)?))
}

/// Redis's list/rank range normalisation: negative indexes count from the end; returns the
/// inclusive index range within `0..len`, or `None` when empty.
pub(crate) fn clamp_range(start: i64, stop: i64, len: usize) -> Option<(usize, usize)> {
    let len = len as i64;
    let mut s = if start < 0 { len + start } else { start };
    let mut e = if stop < 0 { len + stop } else { stop };
    if s < 0 {
        s = 0;
    }
    if s > e || s >= len {
        return None;
    }
    if e >= len {
        e = len - 1;
    }
    Some((s as usize, e as usize))
}

/// The trailing `[COUNT n]` of LMPOP and ZMPOP (and their blocking forms), from `a[from]` on:
/// `Err` carries Redis's reply for a bad count or anything else after it.
pub(crate) fn mpop_count(a: &[&[u8]], from: usize) -> Result<Option<usize>, &'static str> {
    let mut count = None;
    let mut j = from;
    while j < a.len() {
        if count.is_none() && is(a[j], "count") && j + 1 < a.len() {
            match parse_i64(a[j + 1]) {
                Some(n) if n >= 1 => count = Some(n as usize),
                _ => return Err("ERR count should be greater than 0"),
            }
            j += 2;
        } else {
            return Err(super::reply::msg::SYNTAX);
        }
    }
    Ok(count)
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
            &b"+1"[..],
            b"01",
            b"-0",
            b" 1",
            b"1 ",
            b"",
            b"-",
            b"9223372036854775808",
        ] {
            assert_eq!(parse_i64(bad), None, "{bad:?}");
        }
    }

    #[test]
    fn floats_refuse_nan_and_spaces() {
        assert_eq!(parse_f64(b"1.5"), Some(1.5));
        assert_eq!(parse_f64(b"-inf"), Some(f64::NEG_INFINITY));
        assert_eq!(parse_f64(b"+inf"), Some(f64::INFINITY));
        assert_eq!(parse_f64(b"nan"), None);
        assert_eq!(parse_f64(b" 1"), None);
        assert_eq!(parse_f64(b"1x"), None);
    }

    #[test]
    fn ranges_clamp_like_lrange() {
        assert_eq!(clamp_range(0, -1, 3), Some((0, 2)));
        assert_eq!(clamp_range(-100, 100, 3), Some((0, 2)));
        assert_eq!(clamp_range(5, 10, 3), None);
        assert_eq!(clamp_range(2, 1, 3), None);
        assert_eq!(clamp_range(0, 0, 0), None);
    }
}
