//! RDB strings: raw bytes, INT8/16/32 integers (little-endian, read back as decimal text) and LZF
//! blobs; the reader lends each string from a reused buffer so nothing is allocated per string.
use super::length::{self, Length};
use crate::format::error::{Error, ErrorKind, Result};
use crate::format::lzf;
use crate::format::source::Source;
use std::io::Read;

/// `RDB_ENC_INT8`
pub const ENC_INT8: u8 = 0;
/// `RDB_ENC_INT16`
pub const ENC_INT16: u8 = 1;
/// `RDB_ENC_INT32`
pub const ENC_INT32: u8 = 2;
/// `RDB_ENC_LZF`
pub const ENC_LZF: u8 = 3;

/// How a string was stored, for `check`'s statistics.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Stored {
    /// Raw bytes.
    Raw,
    /// An integer encoding.
    Int,
    /// LZF-compressed.
    Lzf,
}

/// Reused buffers that back the strings lent by [`read`].
#[derive(Debug, Default)]
pub struct Scratch {
    lzf: Vec<u8>,
    num: Vec<u8>,
}

/// A string lent by [`read`].
#[derive(Debug, Clone, Copy)]
pub struct Str<'a> {
    /// The decoded bytes.
    pub bytes: &'a [u8],
    /// File offset of `bytes[0]` when stored raw; otherwise the offset of the string's prefix
    /// (errors found inside a decoded blob are then reported there).
    pub base: u64,
    /// How it was stored.
    pub stored: Stored,
}

/// Reads one RDB string.
pub fn read<'a, R: Read>(
    src: &'a mut Source<R>,
    scratch: &'a mut Scratch,
    what: &'static str,
) -> Result<Str<'a>> {
    let at = src.pos();
    match length::read_any(src, what)? {
        Length::Len(n) => {
            let base = src.pos();
            Ok(Str {
                bytes: src.take(n, what)?,
                base,
                stored: Stored::Raw,
            })
        }
        Length::Encoded(e) => {
            let v: i64 = match e {
                ENC_INT8 => i8::from_le_bytes(src.array(what)?) as i64,
                ENC_INT16 => i16::from_le_bytes(src.array(what)?) as i64,
                ENC_INT32 => i32::from_le_bytes(src.array(what)?) as i64,
                ENC_LZF => {
                    let clen = length::read(src, what)?;
                    let ulen = length::read(src, what)?;
                    let (data_at, comp) = lzf_body(src, at, clen, ulen, what)?;
                    lzf::decompress(comp, ulen as usize, &mut scratch.lzf)
                        .map_err(|e| lzf_error(data_at, what, e))?;
                    return Ok(Str {
                        bytes: &scratch.lzf,
                        base: at,
                        stored: Stored::Lzf,
                    });
                }
                other => {
                    return Err(Error::corrupt(
                        at,
                        what,
                        format!("unknown string encoding {other}"),
                    ));
                }
            };
            scratch.num.clear();
            crate::format::int::write_decimal(&mut scratch.num, v);
            Ok(Str {
                bytes: &scratch.num,
                base: at,
                stored: Stored::Int,
            })
        }
    }
}

/// Skips one RDB string without decompressing it.
pub fn skip<R: Read>(src: &mut Source<R>, what: &'static str) -> Result<()> {
    let at = src.pos();
    match length::read_any(src, what)? {
        Length::Len(n) => src.skip(n, what),
        Length::Encoded(ENC_INT8) => src.skip(1, what),
        Length::Encoded(ENC_INT16) => src.skip(2, what),
        Length::Encoded(ENC_INT32) => src.skip(4, what),
        Length::Encoded(ENC_LZF) => {
            let clen = length::read(src, what)?;
            let _ulen = length::read(src, what)?;
            src.skip(clen, what)
        }
        Length::Encoded(other) => Err(Error::corrupt(
            at,
            what,
            format!("unknown string encoding {other}"),
        )),
    }
}

/// Reads one RDB string for its length only: the verdict of [`read`] (the same guards, LZF data
/// checked to expand to exactly its stated length) without materialising the bytes.
pub fn read_len<R: Read>(src: &mut Source<R>, what: &'static str) -> Result<(u64, Stored)> {
    let at = src.pos();
    match length::read_any(src, what)? {
        Length::Len(n) => {
            // `take`, not `skip`: the same length checks as `read`, so the same verdict.
            src.take(n, what)?;
            Ok((n, Stored::Raw))
        }
        Length::Encoded(e @ (ENC_INT8 | ENC_INT16 | ENC_INT32)) => {
            let v: i64 = match e {
                ENC_INT8 => i8::from_le_bytes(src.array(what)?) as i64,
                ENC_INT16 => i16::from_le_bytes(src.array(what)?) as i64,
                _ => i32::from_le_bytes(src.array(what)?) as i64,
            };
            let mut buf = [0u8; 20];
            Ok((
                crate::format::int::decimal(&mut buf, v).len() as u64,
                Stored::Int,
            ))
        }
        Length::Encoded(ENC_LZF) => {
            let clen = length::read(src, what)?;
            let ulen = length::read(src, what)?;
            let (data_at, comp) = lzf_body(src, at, clen, ulen, what)?;
            lzf::validate(comp, ulen as usize).map_err(|e| lzf_error(data_at, what, e))?;
            Ok((ulen, Stored::Lzf))
        }
        Length::Encoded(other) => Err(Error::corrupt(
            at,
            what,
            format!("unknown string encoding {other}"),
        )),
    }
}

/// Copies one RDB string verbatim (prefix and payload) into `out`.
pub fn copy_raw<R: Read>(src: &mut Source<R>, out: &mut Vec<u8>, what: &'static str) -> Result<()> {
    let at = src.pos();
    let n = match length::copy_raw(src, out, what)? {
        Length::Len(n) => n,
        Length::Encoded(ENC_INT8) => 1,
        Length::Encoded(ENC_INT16) => 2,
        Length::Encoded(ENC_INT32) => 4,
        Length::Encoded(ENC_LZF) => {
            let clen = plain(length::copy_raw(src, out, what)?);
            let ulen = plain(length::copy_raw(src, out, what)?);
            // Copied verbatim, but still decompressed once: Redis's loader (and so
            // redis-check-rdb) refuses a module string whose LZF data does not expand to `ulen`.
            let lim = src.limits().max_string_len;
            let (data_at, comp) = lzf_body(src, at, clen, ulen, what)?;
            lzf::validate(comp, ulen as usize).map_err(|e| lzf_error(data_at, what, e))?;
            if (out.len() as u64).saturating_add(clen) > lim {
                return Err(Error::new(
                    ErrorKind::LimitExceeded,
                    at,
                    what,
                    "verbatim payload exceeds the string limit",
                ));
            }
            out.extend_from_slice(comp);
            return Ok(());
        }
        Length::Encoded(other) => {
            return Err(Error::corrupt(
                at,
                what,
                format!("unknown string encoding {other}"),
            ));
        }
    };
    if (out.len() as u64).saturating_add(n) > src.limits().max_string_len {
        return Err(Error::new(
            ErrorKind::LimitExceeded,
            at,
            what,
            "verbatim payload exceeds the string limit",
        ));
    }
    out.extend_from_slice(src.take(n, what)?);
    Ok(())
}

/// The compressed bytes of an LZF string whose lengths were read (the string starts at `at`),
/// after the guards every reader applies: the declared length within the limit, and a ratio LZF
/// can reach (a 2-byte back-reference yields at most 264 bytes: a larger ratio is a lie that must
/// not be allowed to reserve memory). Returns where the bytes start, for error offsets.
fn lzf_body<'s, R: Read>(
    src: &'s mut Source<R>,
    at: u64,
    clen: u64,
    ulen: u64,
    what: &'static str,
) -> Result<(u64, &'s [u8])> {
    let lim = src.limits().max_string_len;
    if ulen > lim {
        return Err(Error::new(
            ErrorKind::LimitExceeded,
            at,
            what,
            format!("LZF string of {ulen} bytes exceeds limit {lim}"),
        ));
    }
    if ulen > clen.saturating_mul(132).saturating_add(64) {
        return Err(Error::corrupt(
            at,
            what,
            format!("LZF declares {ulen} bytes from {clen} compressed bytes"),
        ));
    }
    let data_at = src.pos();
    Ok((data_at, src.take(clen, what)?))
}

/// An LZF stream's refusal, located in the file.
fn lzf_error(data_at: u64, what: &'static str, e: lzf::LzfError) -> Error {
    Error::corrupt(
        data_at + e.offset as u64,
        what,
        format!("invalid LZF data: {}", e.reason),
    )
}

fn plain(l: Length) -> u64 {
    match l {
        Length::Len(n) => n,
        Length::Encoded(e) => e as u64,
    }
}

/// The writing side of RDB strings: `rdbcompression` and reused LZF buffers.
#[derive(Debug)]
pub struct Writer {
    /// `rdbcompression`: LZF for strings over 20 bytes when it saves space.
    pub compress: bool,
    lzf: lzf::Compressor,
    lzf_out: Vec<u8>,
}

impl Writer {
    /// A writer that compresses (or not) as `rdbcompression` says.
    pub fn new(compress: bool) -> Writer {
        Writer {
            compress,
            lzf: lzf::Compressor::new(),
            lzf_out: Vec::new(),
        }
    }

    /// Appends an RDB string as `rdbSaveRawString` does: short canonical integers fitting 32
    /// bits as INT8/16/32, strings over 20 bytes LZF-compressed when that saves at least 4 bytes,
    /// raw otherwise.
    pub fn write(&mut self, out: &mut Vec<u8>, s: &[u8]) {
        if s.len() <= 11 {
            if let Some(v) = crate::format::int::parse_i64(s) {
                if let Ok(b) = i8::try_from(v) {
                    length::write_encoded(out, ENC_INT8);
                    out.push(b as u8);
                    return;
                } else if let Ok(h) = i16::try_from(v) {
                    length::write_encoded(out, ENC_INT16);
                    out.extend_from_slice(&h.to_le_bytes());
                    return;
                } else if let Ok(w) = i32::try_from(v) {
                    length::write_encoded(out, ENC_INT32);
                    out.extend_from_slice(&w.to_le_bytes());
                    return;
                }
            }
        }
        if self.compress && s.len() > 20 && self.lzf.compress(s, &mut self.lzf_out, s.len() - 4) {
            length::write_encoded(out, ENC_LZF);
            length::write(out, self.lzf_out.len() as u64);
            length::write(out, s.len() as u64);
            out.extend_from_slice(&self.lzf_out);
            return;
        }
        length::write(out, s.len() as u64);
        out.extend_from_slice(s);
    }
}
