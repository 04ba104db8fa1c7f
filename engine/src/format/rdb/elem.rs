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
