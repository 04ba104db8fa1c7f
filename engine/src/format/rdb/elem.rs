//! One element of a compact blob (ziplist, listpack, intset): either bytes borrowed from the blob
//! or an integer, which readers render as its decimal text, as Redis does.

/// A blob element.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Elem<'a> {
    /// A string entry.
    Str(&'a [u8]),
    /// An integer entry.
    Int(i64),
}

impl<'a> Elem<'a> {
    /// Calls `f` with the element's bytes (integers as decimal text).
    #[inline]
    pub fn with_bytes<T>(&self, f: impl FnOnce(&[u8]) -> T) -> T {
        match *self {
            Elem::Str(s) => f(s),
            Elem::Int(v) => {
                let mut buf = [0u8; 20];
                f(crate::format::int::decimal(&mut buf, v))
            }
        }
    }

    /// The element's bytes, owned.
    pub fn to_vec(&self) -> Vec<u8> {
        self.with_bytes(<[u8]>::to_vec)
    }

    /// The element as an integer: integer entries, or strings holding canonical decimal text.
    pub fn as_int(&self) -> Option<i64> {
        match *self {
            Elem::Int(v) => Some(v),
            Elem::Str(s) => crate::format::int::parse_i64(s),
        }
    }

    /// The element as a listpack or ziplist zset score, read as Redis's `zzlStrtod` does (at most
    /// 127 bytes, up to a NUL, the `strtod` prefix; 0 when none), and whether it was clean: the
    /// whole text one number other than NaN.
    pub fn as_score(&self) -> (f64, bool) {
        match *self {
            Elem::Int(v) => (v as f64, true),
            Elem::Str(s) => {
                let t = &s[..s.len().min(127)];
                let t = t.split(|b| *b == 0).next().unwrap_or(t);
                let (f, used) = strtod(t);
                (f, used == s.len() && used > 0 && !f.is_nan())
            }
        }
    }
}

/// Parses a score that must be a whole number (Dataset text, writer input); NaN is refused.
pub fn parse_score(s: &[u8]) -> Option<f64> {
    match strtod(s) {
        (f, n) if n == s.len() && n > 0 && !f.is_nan() => Some(f),
        _ => None,
    }
}

/// C's `strtod` over `s` as glibc reads it: leading white space, a sign, then a decimal or
/// hexadecimal number, `inf`/`infinity` or `nan` (any case). Returns the value and the bytes
/// used; `(0.0, 0)` when no number starts the text, which is what Redis then loads.
pub fn strtod(s: &[u8]) -> (f64, usize) {
    let mut i = s
        .iter()
        .take_while(|b| matches!(b, b' ' | b'\t' | b'\n' | 0x0b | 0x0c | b'\r'))
        .count();
    let neg = match s.get(i) {
        Some(b'-') => {
            i += 1;
            true
        }
        Some(b'+') => {
            i += 1;
            false
        }
        _ => false,
    };
    let sign = |f: f64| if neg { -f } else { f };
    let rest = &s[i..];
    let starts =
        |word: &[u8]| rest.len() >= word.len() && rest[..word.len()].eq_ignore_ascii_case(word);
    if starts(b"infinity") {
        return (sign(f64::INFINITY), i + 8);
    }
    if starts(b"inf") {
        return (sign(f64::INFINITY), i + 3);
    }
    if starts(b"nan") {
        let mut n = i + 3;
        // "nan(chars)" takes the parenthesised part only when it is closed.
        if s.get(n) == Some(&b'(') {
            let inner = s[n + 1..]
                .iter()
                .take_while(|b| b.is_ascii_alphanumeric() || **b == b'_')
                .count();
            if s.get(n + 1 + inner) == Some(&b')') {
                n += inner + 2;
            }
        }
        return (f64::NAN, n);
    }
    if (starts(b"0x") || starts(b"0X")) && hex_digits_follow(&rest[2..]) {
        let (f, n) = hex(&rest[2..]);
        return (sign(f), i + 2 + n);
    }
    let digits = |from: usize| s[from..].iter().take_while(|b| b.is_ascii_digit()).count();
    let int = digits(i);
    let mut end = i + int;
    let mut frac = 0;
    if s.get(end) == Some(&b'.') {
        frac = digits(end + 1);
        if int + frac > 0 {
            end += 1 + frac;
        }
    }
    if int + frac == 0 {
        return (0.0, 0);
    }
    if matches!(s.get(end), Some(b'e' | b'E')) {
        let mut e = end + 1;
        if matches!(s.get(e), Some(b'+' | b'-')) {
            e += 1;
        }
        let d = digits(e);
        if d > 0 {
            end = e + d;
        }
    }
    // The span is plain ASCII digits, '.', 'e' and a sign: Rust's parser rounds it as glibc does.
    let text = std::str::from_utf8(&s[i..end]).unwrap_or("0");
    let f: f64 = text.parse().unwrap_or(0.0);
    (sign(f), end)
}

fn hex_digits_follow(s: &[u8]) -> bool {
    match s.first() {
        Some(b) if b.is_ascii_hexdigit() => true,
        Some(b'.') => s.get(1).is_some_and(u8::is_ascii_hexdigit),
        _ => false,
    }
}

/// A hexadecimal float's mantissa and optional binary exponent; returns the value and bytes used.
fn hex(s: &[u8]) -> (f64, usize) {
    let mut mant: u128 = 0;
    let mut exp: i64 = 0;
    let mut sticky = false;
    let mut i = 0;
    let mut seen_dot = false;
    while let Some(&b) = s.get(i) {
        if b == b'.' && !seen_dot {
            seen_dot = true;
        } else if let Some(d) = (b as char).to_digit(16) {
            // Past 120 bits only whether anything non-zero followed matters (for rounding).
            if mant >> 120 == 0 {
                mant = mant << 4 | d as u128;
                if seen_dot {
                    exp -= 4;
                }
            } else {
                sticky |= d != 0;
                if !seen_dot {
                    exp += 4;
                }
            }
        } else {
            break;
        }
        i += 1;
    }
    if matches!(s.get(i), Some(b'p' | b'P')) {
        let mut e = i + 1;
        let neg = match s.get(e) {
            Some(b'-') => {
                e += 1;
                true
            }
            Some(b'+') => {
                e += 1;
                false
            }
            _ => false,
        };
        let d = s[e..].iter().take_while(|b| b.is_ascii_digit()).count();
        if d > 0 {
            let v = s[e..e + d]
                .iter()
                .fold(0i64, |a, b| (a * 10 + (b - b'0') as i64).min(1 << 20));
            exp += if neg { -v } else { v };
            i = e + d;
        }
    }
    if sticky {
        mant |= 1;
    }
    // `as f64` rounds to nearest; the power of two is exact unless the result leaves f64's range.
    // Two steps, so a large mantissa with a very negative exponent does not underflow early.
    let e = exp.clamp(-2400, 2400) as i32;
    let f = mant as f64 * 2f64.powi(e / 2) * 2f64.powi(e - e / 2);
    (f, i)
}

#[cfg(test)]
mod tests {
    use super::*;

    // Expected values are what C's strtod returns for these texts (glibc 2.36, checked with a
    // one-line C program: printf("%.17g %ld", strtod(s, &end), end - s)).
    #[test]
    fn strtod_reads_the_longest_number_prefix() {
        assert_eq!(strtod(b"1.5"), (1.5, 3));
        assert_eq!(strtod(b"  -2e3xyz"), (-2000.0, 6));
        assert_eq!(strtod(b"1e"), (1.0, 1));
        assert_eq!(strtod(b"1e+"), (1.0, 1));
        assert_eq!(strtod(b".5"), (0.5, 2));
        assert_eq!(strtod(b"5."), (5.0, 2));
        assert_eq!(strtod(b"."), (0.0, 0));
        assert_eq!(strtod(b"abc"), (0.0, 0));
        assert_eq!(strtod(b""), (0.0, 0));
        assert_eq!(strtod(b"-"), (0.0, 0));
        assert_eq!(strtod(b"INF"), (f64::INFINITY, 3));
        assert_eq!(strtod(b"-Infinity!"), (f64::NEG_INFINITY, 9));
        assert_eq!(strtod(b"0x1p3"), (8.0, 5));
        assert_eq!(strtod(b"0x1.8p1"), (3.0, 7));
        assert_eq!(strtod(b"0x10"), (16.0, 4));
        assert_eq!(strtod(b"0x.8"), (0.5, 4));
        assert_eq!(strtod(b"0x1P-2z"), (0.25, 6));
        assert_eq!(strtod(b"0xg"), (0.0, 1));
        assert_eq!(strtod(b"1e400"), (f64::INFINITY, 5));
        let (n, used) = strtod(b"nan(123)x");
        assert!(n.is_nan());
        assert_eq!(used, 8);
        let (n, used) = strtod(b"nan(");
        assert!(n.is_nan());
        assert_eq!(used, 3);
    }

    #[test]
    fn listpack_scores_are_read_as_redis_loads_them() {
        assert_eq!(Elem::Str(b"2.5").as_score(), (2.5, true));
        assert_eq!(Elem::Int(-3).as_score(), (-3.0, true));
        // No number: Redis loads 0 (zzlStrtod), flagged as not clean.
        assert_eq!(Elem::Str(b"abc").as_score(), (0.0, false));
        assert_eq!(Elem::Str(b"7 ").as_score(), (7.0, false));
        // The text ends at a NUL for C.
        assert_eq!(Elem::Str(b"4\x005").as_score(), (4.0, false));
        let (n, clean) = Elem::Str(b"nan").as_score();
        assert!(n.is_nan() && !clean);
        assert_eq!(parse_score(b"nan"), None);
        assert_eq!(parse_score(b"1x"), None);
        assert_eq!(parse_score(b"-inf"), Some(f64::NEG_INFINITY));
    }
}
