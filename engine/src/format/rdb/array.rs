//! Arrays (type 28 `RDB_TYPE_ARRAY`, Redis 8.8+): sparse values at 64-bit indexes.
//!
//! Layout (Redis `rdb.c` at upstream 0d9576435, #15162: `rdbSaveObject`'s `OBJ_ARRAY` branch and
//! `rdbSaveArrayElement`, `rdbLoadObject`'s `RDB_TYPE_ARRAY` branch; `sparsearray.c` for the
//! value kinds): `len count (> 0), len insert_idx_flag (0 or 1), [len insert_idx], then count
//! times: len idx (a plain length, not 2^64-1), len tag, payload` where tag 0 SDS and 3 SMALLSTR
//! (at most 7 bytes) are RDB strings, 1 INT an 8-byte little-endian signed integer, 2 FLOAT an
//! 8-byte little-endian double. Elements are written in index order.
use super::length::{self, Length};
use super::reader::RdbReader;
use super::string;
use super::visit::Visitor;
use crate::dataset::Array;
use crate::format::error::{Error, Result};
use std::io::Read;

/// `AR_RDB_TAG_SDS`
pub const TAG_SDS: u64 = 0;
/// `AR_RDB_TAG_INT`
pub const TAG_INT: u64 = 1;
/// `AR_RDB_TAG_FLOAT`
pub const TAG_FLOAT: u64 = 2;
/// `AR_RDB_TAG_SMALLSTR`
pub const TAG_SMALLSTR: u64 = 3;
/// `AR_SMALLSTR_MAXLEN` on 64-bit builds.
pub const SMALLSTR_MAX: usize = 7;
/// Integers a 64-bit server holds inline (`arIntFits`): 62-bit signed.
const INT_BITS: u32 = 61;

impl<R: Read> RdbReader<R> {
    pub(super) fn array<V: Visitor + ?Sized>(&mut self, v: &mut V) -> Result<()> {
        let at = self.src.pos();
        let count = self.count("array element count", 3)?;
        if count == 0 {
            return Err(Error::corrupt(at, "array element count", "empty array"));
        }
        let f_at = self.src.pos();
        let insert_idx = match length::read(&mut self.src, "array insert_idx flag")? {
            0 => None,
            1 => Some(length::read(&mut self.src, "array insert_idx")?),
            f => {
                return Err(Error::corrupt(
                    f_at,
                    "array insert_idx flag",
                    format!("flag {f} is neither 0 nor 1"),
                ))
            }
        };
        v.array_meta(count, insert_idx)?;
        let mut text = Vec::with_capacity(32);
        for _ in 0..count {
            let i_at = self.src.pos();
            let idx = match length::read_any(&mut self.src, "array index")? {
                Length::Len(n) if n != u64::MAX => n,
                Length::Len(_) => {
                    return Err(Error::corrupt(i_at, "array index", "index 2^64-1"));
                }
                Length::Encoded(_) => {
                    return Err(Error::corrupt(
                        i_at,
                        "array index",
                        "an encoded length is not an index",
                    ))
                }
            };
            let t_at = self.src.pos();
            match length::read(&mut self.src, "array element tag")? {
                TAG_INT => {
                    let n = i64::from_le_bytes(self.src.array("array integer")?);
                    text.clear();
                    crate::format::int::write_decimal(&mut text, n);
                    v.array_element(idx, &text)?;
                }
                TAG_FLOAT => {
                    let d = f64::from_le_bytes(self.src.array("array float")?);
                    float_text(d, &mut text);
                    v.array_element(idx, &text)?;
                }
                tag @ (TAG_SDS | TAG_SMALLSTR) => {
                    let s_at = self.src.pos();
                    let s = string::read(&mut self.src, &mut self.scratch, "array string")?;
                    if tag == TAG_SMALLSTR && s.bytes.len() > SMALLSTR_MAX {
                        return Err(Error::corrupt(
                            s_at,
                            "array small string",
                            format!("{} bytes, at most {SMALLSTR_MAX}", s.bytes.len()),
                        ));
                    }
                    v.array_element(idx, s.bytes)?;
                }
                tag => {
                    return Err(Error::corrupt(
                        t_at,
                        "array element tag",
                        format!("unknown tag {tag}"),
                    ))
                }
            }
        }
        Ok(())
    }
}

/// The text a 64-bit Redis returns for a stored FLOAT (`arFormatFloat` of the double with its low
/// 2 mantissa bits cleared): `d2string`'s form with `.0` added to integral finite values.
pub fn float_text(d: f64, out: &mut Vec<u8>) {
    out.clear();
    let d = f64::from_bits(d.to_bits() & !3);
    d2string(d, out);
    if d.is_finite() && !out.iter().any(|c| matches!(c, b'.' | b'e' | b'E')) {
        out.extend_from_slice(b".0");
    }
}

/// Redis's `d2string`: `nan`, `inf`/`-inf`, `0`/`-0`, integers that fit `long long / 2` as
/// integers, everything else as `fpconv_dtoa` lays out the shortest round-trip digits
/// (positional when the decimal exponent is in -7..21, `1.5e+300` style otherwise).
pub fn d2string(d: f64, out: &mut Vec<u8>) {
    if d.is_nan() {
        out.extend_from_slice(b"nan");
    } else if d.is_infinite() {
        out.extend_from_slice(if d < 0.0 { b"-inf" } else { b"inf" });
    } else if d == 0.0 {
        out.extend_from_slice(if d.is_sign_negative() { b"-0" } else { b"0" });
    } else if d.abs() <= (i64::MAX / 2) as f64 && d.fract() == 0.0 {
        crate::format::int::write_decimal(out, d as i64);
    } else {
        fpconv(d, out);
    }
}

/// `fpconv_dtoa`'s layout of the shortest digits (`emit_digits`).
fn fpconv(d: f64, out: &mut Vec<u8>) {
    let neg = d < 0.0;
    // `{:e}` gives the shortest round-trip digits as `d.ddde<exp>`.
    let sci = format!("{:e}", d.abs());
    let (mant, exp) = sci.split_once('e').expect("`{:e}` has an exponent");
    let exp: i32 = exp.parse().expect("an integer exponent");
    let digits: Vec<u8> = mant.bytes().filter(u8::is_ascii_digit).collect();
    let nd = digits.len() as i32;
    // The value is digits * 10^k.
    let k = exp - (nd - 1);
    if neg {
        out.push(b'-');
    }
    let e = (k + nd - 1).abs();
    if k >= 0 && e < nd + 7 {
        out.extend_from_slice(&digits);
        out.extend(std::iter::repeat_n(b'0', k as usize));
        return;
    }
    if k < 0 && (k > -7 || e < 4) {
        let offset = nd - k.abs();
        if offset <= 0 {
            out.extend_from_slice(b"0.");
            out.extend(std::iter::repeat_n(b'0', (-offset) as usize));
            out.extend_from_slice(&digits);
        } else {
            out.extend_from_slice(&digits[..offset as usize]);
            out.push(b'.');
            out.extend_from_slice(&digits[offset as usize..]);
        }
        return;
    }
    let nd = (nd as usize).min(18 - neg as usize);
    out.push(digits[0]);
    if nd > 1 {
        out.push(b'.');
        out.extend_from_slice(&digits[1..nd]);
    }
    out.push(b'e');
    out.push(if k + digits.len() as i32 - 1 < 0 {
        b'-'
    } else {
        b'+'
    });
    out.extend_from_slice(e.to_string().as_bytes());
}

/// Appends an array value. Each element is written as the tag a server's `arEncode` of its text
/// would give, except floats: a 62-bit canonical integer as INT, other text as SMALLSTR (at most
/// 7 bytes) or SDS, and text that might be a float always as SDS, which a loader re-encodes
/// itself (Redis decides floats with its Grisu2 formatter, which this writer does not imitate).
pub fn write(strings: &mut string::Writer, out: &mut Vec<u8>, a: &Array) {
    length::write(out, a.elements.len() as u64);
    match a.insert_idx {
        None => length::write(out, 0),
        Some(i) => {
            length::write(out, 1);
            length::write(out, i);
        }
    }
    for (idx, val) in &a.elements {
        length::write(out, *idx);
        match crate::format::int::parse_i64(val) {
            Some(n) if (-(1i64 << INT_BITS)..(1i64 << INT_BITS)).contains(&n) => {
                length::write(out, TAG_INT);
                out.extend_from_slice(&n.to_le_bytes());
            }
            _ => {
                let tag = if val.len() <= SMALLSTR_MAX && !float_like(val) {
                    TAG_SMALLSTR
                } else {
                    TAG_SDS
                };
                length::write(out, tag);
                strings.write(out, val);
            }
        }
    }
}

/// `arTryEncodeFloat`'s first filter: an optional `-`, digits and exactly one `.`.
fn float_like(s: &[u8]) -> bool {
    let body = s.strip_prefix(b"-").unwrap_or(s);
    !body.is_empty()
        && body.iter().filter(|c| **c == b'.').count() == 1
        && body.iter().all(|c| c.is_ascii_digit() || *c == b'.')
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ft(d: f64) -> String {
        let mut v = Vec::new();
        float_text(d, &mut v);
        String::from_utf8(v).unwrap()
    }

    #[test]
    fn floats_read_as_redis_formats_them() {
        assert_eq!(ft(1.5), "1.5");
        assert_eq!(ft(1.0), "1.0");
        assert_eq!(ft(-0.0), "-0.0");
        assert_eq!(ft(0.0), "0.0");
        assert_eq!(ft(f64::INFINITY), "inf");
        assert_eq!(ft(0.125), "0.125");
        assert_eq!(ft(1e300), "1e+300");
        assert_eq!(ft(2f64.powi(-30)), "9.313225746154785e-10");
        // The low 2 mantissa bits are cleared, as a 64-bit server holds the double.
        assert_eq!(ft(1.5e-8), "1.499999999999999e-8");
        assert_eq!(ft(0.000125), "0.000125");
        assert_eq!(ft(1e19), "1e+19");
        assert_eq!(ft(4e18), "4000000000000000000.0");
        assert_eq!(ft(123456.75), "123456.75");
    }

    /// `emit_digits` writes a fraction positionally only while the exponent of its last digit is
    /// above -7 or the decimal exponent is below 4; at exactly 4 it turns scientific, above 1 as
    /// below (12 digits of 12345.6789012 end at 10^-7, 4 of 0.0001234 too).
    #[test]
    fn decimal_exponent_4_with_digits_past_1e_minus_7_is_scientific() {
        let d2s = |d: f64| {
            let mut v = Vec::new();
            d2string(d, &mut v);
            String::from_utf8(v).unwrap()
        };
        assert_eq!(d2s(12345.6789012), "1.23456789012e+4");
        assert_eq!(d2s(0.0001234), "1.234e-4");
        assert_eq!(d2s(-0.0001234), "-1.234e-4");
        assert_eq!(d2s(f64::NEG_INFINITY), "-inf");
        // One digit fewer past the point: the last digit's exponent is -6, positional.
        assert_eq!(d2s(12345.678901), "12345.678901");
        // An integer too large for `double2ll` with 11 digits and 8 zeros: `emit_digits` writes
        // integers plainly only while the exponent is below digits + 7 (18 is not below 18).
        assert_eq!(d2s(4611686018500000000.0), "4.6116860185e+18");
        // Decimal exponent 3: positional whatever the digits.
        assert_eq!(d2s(1234.56789012), "1234.56789012");
    }

    #[test]
    fn elements_are_tagged_like_ar_encode_without_floats() {
        let a = Array {
            insert_idx: Some(7),
            elements: vec![
                (0, b"12".to_vec()),
                (1, b"abc".to_vec()),
                (2, b"1.5".to_vec()),
                (3, b"a longer value".to_vec()),
                (4, b"-5".to_vec()),
            ],
        };
        let mut out = Vec::new();
        write(&mut string::Writer::new(false), &mut out, &a);
        let mut want = vec![5, 1, 7, 0, 1];
        want.extend_from_slice(&12i64.to_le_bytes());
        want.extend_from_slice(&[1, 3, 3, b'a', b'b', b'c']);
        want.extend_from_slice(&[2, 0, 3, b'1', b'.', b'5']);
        want.extend_from_slice(&[3, 0, 14]);
        want.extend_from_slice(b"a longer value");
        want.extend_from_slice(&[4, 1]);
        want.extend_from_slice(&(-5i64).to_le_bytes());
        assert_eq!(out, want);
    }
}
