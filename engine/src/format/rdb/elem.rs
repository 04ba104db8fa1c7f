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
                f(decimal(&mut buf, v))
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
            Elem::Str(s) => super::string::parse_canonical_i64(s),
        }
    }

    /// The element as a zset score: integers exactly, strings parsed like `strtod`.
    pub fn as_score(&self) -> Option<f64> {
        match *self {
            Elem::Int(v) => Some(v as f64),
            Elem::Str(s) => parse_score(s),
        }
    }
}

/// Parses a score as Redis's `strtod`-based loaders do; NaN is refused.
pub fn parse_score(s: &[u8]) -> Option<f64> {
    let t = std::str::from_utf8(s).ok()?;
    let f: f64 = match t {
        "inf" | "+inf" | "infinity" | "+infinity" => f64::INFINITY,
        "-inf" | "-infinity" => f64::NEG_INFINITY,
        _ => t.parse().ok()?,
    };
    (!f.is_nan()).then_some(f)
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

#[cfg(test)]
mod tests {
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
            assert_eq!(super::decimal(&mut buf, v), v.to_string().as_bytes());
        }
    }
}
