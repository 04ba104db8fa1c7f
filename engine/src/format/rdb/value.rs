//! Object values by type byte: each encoding is decoded and validated, and its logical elements
//! are handed to the visitor one at a time (empty collections are passed through as empty).
use super::elem::Elem;
use super::irregular::{self, Irregularity};
use super::opcode::ValueType;
use super::reader::RdbReader;
use super::string::{self, Stored};
use super::visit::{ModuleId, Note, Visitor};
use super::{intset, length, listpack, ziplist, zipmap};
use crate::format::error::{Error, ErrorKind, Result};
use std::io::Read;

/// Maps an error found inside a blob to file terms: exact when the blob was stored raw, the
/// blob's own offset when it was decompressed first.
fn in_blob(e: Error, base: u64, stored: Stored) -> Error {
    match stored {
        Stored::Raw => e.at_base(base),
        _ => Error {
            offset: Some(base),
            ..e
        },
    }
}

impl<R: Read> RdbReader<R> {
    pub(super) fn read_value<V: Visitor + ?Sized>(
        &mut self,
        ty: ValueType,
        v: &mut V,
    ) -> Result<()> {
        self.dups.reset();
        match ty {
            ValueType::String if !v.wants_string_bytes() => {
                let (len, stored) = string::read_len(&mut self.src, "string value")?;
                match stored {
                    Stored::Int => v.note(Note::IntString),
                    Stored::Lzf => v.note(Note::LzfString),
                    Stored::Raw => {}
                }
                v.string_len(len)
            }
            ValueType::String => {
                let s = string::read(&mut self.src, &mut self.scratch, "string value")?;
                match s.stored {
                    Stored::Int => v.note(Note::IntString),
                    Stored::Lzf => v.note(Note::LzfString),
                    Stored::Raw => {}
                }
                v.string(s.bytes)
            }
            ValueType::List => {
                let n = self.count("list length", 1)?;
                for _ in 0..n {
                    let s = string::read(&mut self.src, &mut self.scratch, "list element")?;
                    v.list_item(s.bytes)?;
                }
                Ok(())
            }
            ValueType::Set => {
                let n = self.count("set size", 1)?;
                self.dups.reserve(n);
                for _ in 0..n {
                    let at = self.src.pos();
                    let s = string::read(&mut self.src, &mut self.scratch, "set member")?;
                    self.dups.insert(s.bytes, at, "set member")?;
                    v.set_member(s.bytes)?;
                }
                Ok(())
            }
            ValueType::Zset | ValueType::Zset2 => {
                let n = self.count("zset size", 2)?;
                self.dups.reserve(n);
                for _ in 0..n {
                    let at = self.src.pos();
                    let s = string::read(&mut self.src, &mut self.scratch, "zset member")?;
                    self.dups.insert(s.bytes, at, "zset member")?;
                    self.field.clear();
                    self.field.extend_from_slice(s.bytes);
                    let score = if ty == ValueType::Zset2 {
                        f64::from_le_bytes(self.src.array("zset score")?)
                    } else {
                        self.text_double(v)?
                    };
                    if score.is_nan() {
                        return Err(Error::corrupt(at, "zset score", "NaN score"));
                    }
                    v.zset_member(&self.field, score)?;
                }
                Ok(())
            }
            ValueType::Hash => {
                let n = self.count("hash size", 2)?;
                self.dups.reserve(n);
                for _ in 0..n {
                    self.hash_pair(None, v)?;
                }
                Ok(())
            }
            ValueType::HashMetadata | ValueType::HashMetadataPreGa => {
                let min_expire = if ty == ValueType::HashMetadata {
                    Some(i64::from_le_bytes(self.src.array("hash minExpire")?))
                } else {
                    None
                };
                let n = self.count("hash size", 3)?;
                for _ in 0..n {
                    let at = self.src.pos();
                    let ttl = length::read(&mut self.src, "hash field TTL")?;
                    let expire = match (ttl, min_expire) {
                        (0, _) => None,
                        (t, Some(m)) => Some((t as i64).wrapping_add(m).wrapping_sub(1)),
                        (t, None) => Some(t as i64),
                    };
                    check_field_expiry(expire, at)?;
                    if expire.is_some() {
                        v.note(Note::FieldExpiry);
                    }
                    self.hash_pair(expire, v)?;
                }
                Ok(())
            }
            ValueType::Hash2 => {
                let n = self.count("hash size", 10)?;
                for _ in 0..n {
                    let at = self.src.pos();
                    let s = string::read(&mut self.src, &mut self.scratch, "hash field")?;
                    self.dups.insert(s.bytes, at, "hash field")?;
                    self.field.clear();
                    self.field.extend_from_slice(s.bytes);
                    let val = string::read(&mut self.src, &mut self.scratch, "hash value")?;
                    self.payload.clear();
                    self.payload.extend_from_slice(val.bytes);
                    let t_at = self.src.pos();
                    let t = i64::from_le_bytes(self.src.array("hash field expiry")?);
                    let expire = match t {
                        -1 => None,
                        t if t < -1 => return Err(Error::corrupt(t_at, "hash field expiry", format!("invalid expiry {t}"))),
                        t => Some(t),
                    };
                    if expire.is_some() {
                        v.note(Note::FieldExpiry);
                    }
                    v.hash_field(&self.field, &self.payload, expire)?;
                }
                Ok(())
            }
            ValueType::ListQuicklist | ValueType::ListQuicklist2 => self.quicklist(ty, v),
            ValueType::HashListpackEx => {
                let _min_expire = i64::from_le_bytes(self.src.array("hash minExpire")?);
                self.blob_value(ty, v)
            }
            ValueType::HashZipmap
            | ValueType::ListZiplist
            | ValueType::SetIntset
            | ValueType::ZsetZiplist
            | ValueType::HashZiplist
            | ValueType::HashListpack
            | ValueType::ZsetListpack
            | ValueType::SetListpack
            | ValueType::HashListpackExPreGa => self.blob_value(ty, v),
            ValueType::StreamListpacks
            | ValueType::StreamListpacks2
            | ValueType::StreamListpacks3
            | ValueType::StreamListpacks4
            | ValueType::StreamListpacks5 => self.stream(ty, v),
            ValueType::Array => self.array(v),
            ValueType::HashTmplLp
            | ValueType::HashTmplLpRef
            | ValueType::HashTmplArray
            | ValueType::HashTmplArrayRef => self.template_value(ty, v),
            ValueType::Module2 => {
                let at = self.src.pos();
                let id = ModuleId::from_id(length::read(&mut self.src, "module id")?);
                let mut payload = std::mem::take(&mut self.payload);
                payload.clear();
                let strict = self.opts.strict;
                let r = super::module::copy_opcodes_lenient(&mut self.src, &mut payload, at)
                    .and_then(|unknown| match unknown {
                        Some((op_at, op)) => irregular::report(
                            v,
                            strict,
                            Irregularity::ModuleOpcode,
                            op_at,
                            format!("unknown module opcode {op}"),
                        ),
                        None => Ok(()),
                    })
                    .and_then(|_| v.module_value(&id, &payload));
                self.payload = payload;
                r
            }
            ValueType::ModulePreGa => Err(Error::new(
                ErrorKind::UnknownType,
                self.src.pos(),
                "module value",
                "type 6 (4.0-RC modules) stores module-private bytes without opcodes, so it cannot be read without the module; Redis also refuses it",
            )),
        }
    }

    /// Reads a collection count, bounded by the limits and by what remains (each element takes
    /// at least `min_bytes`).
    pub(super) fn count(&mut self, what: &'static str, min_bytes: u64) -> Result<u64> {
        let n = length::read(&mut self.src, what)?;
        self.src.check_count(n, min_bytes, what)?;
        Ok(n)
    }

    /// Type 3's text double: a length byte (253 NaN, 254 +inf, 255 -inf) then ASCII, read as
    /// Redis's `sscanf("%lg")` does: a number must start the text; what follows it is a warning.
    fn text_double<V: Visitor + ?Sized>(&mut self, v: &mut V) -> Result<f64> {
        let at = self.src.pos();
        let n = self.src.u8("zset text score")?;
        Ok(match n {
            253 => f64::NAN,
            254 => f64::INFINITY,
            255 => f64::NEG_INFINITY,
            n => {
                let s = self.src.take(n as u64, "zset text score")?;
                let t = s.split(|b| *b == 0).next().unwrap_or(s);
                let (f, used) = super::elem::strtod(t);
                if used == 0 {
                    return Err(Error::corrupt(
                        at,
                        "zset text score",
                        format!("{:?} is not a number", String::from_utf8_lossy(s)),
                    ));
                }
                if used != s.len() {
                    irregular::report(
                        v,
                        self.opts.strict,
                        Irregularity::ScoreText,
                        at,
                        format!("{:?} read as {f}", String::from_utf8_lossy(s)),
                    )?;
                }
                f
            }
        })
    }

    fn hash_pair<V: Visitor + ?Sized>(&mut self, expire: Option<i64>, v: &mut V) -> Result<()> {
        let at = self.src.pos();
        let s = string::read(&mut self.src, &mut self.scratch, "hash field")?;
        self.dups.insert(s.bytes, at, "hash field")?;
        self.field.clear();
        self.field.extend_from_slice(s.bytes);
        let val = string::read(&mut self.src, &mut self.scratch, "hash value")?;
        v.hash_field(&self.field, val.bytes, expire)
    }

    fn quicklist<V: Visitor + ?Sized>(&mut self, ty: ValueType, v: &mut V) -> Result<()> {
        let n = self.count("quicklist node count", 2)?;
        for _ in 0..n {
            let container = if ty == ValueType::ListQuicklist2 {
                let at = self.src.pos();
                match length::read(&mut self.src, "quicklist node container")? {
                    c @ (1 | 2) => c,
                    c => {
                        return Err(Error::corrupt(
                            at,
                            "quicklist node container",
                            format!("container {c} is neither 1 (plain) nor 2 (packed)"),
                        ))
                    }
                }
            } else {
                2
            };
            let at = self.src.pos();
            let s = string::read(&mut self.src, &mut self.scratch, "quicklist node")?;
            if s.bytes.is_empty() {
                return Err(Error::corrupt(at, "quicklist node", "empty node"));
            }
            if s.stored == Stored::Lzf {
                v.note(Note::CompressedNode);
            }
            if container == 1 {
                v.note(Note::PlainNode);
                v.list_item(s.bytes)?;
                continue;
            }
            let (base, stored) = (s.base, s.stored);
            let r = if ty == ValueType::ListQuicklist2 {
                v.note(Note::PackedNode);
                listpack::for_each(s.bytes, |e| e.with_bytes(|b| v.list_item(b)))
            } else {
                ziplist::for_each(s.bytes, |e| e.with_bytes(|b| v.list_item(b)))
            };
            r.map_err(|e| in_blob(e, base, stored))?;
        }
        Ok(())
    }

    /// Values stored as one blob string.
    fn blob_value<V: Visitor + ?Sized>(&mut self, ty: ValueType, v: &mut V) -> Result<()> {
        let s = string::read(&mut self.src, &mut self.scratch, ty.name())?;
        let (blob, base, stored) = (s.bytes, s.base, s.stored);
        let dups = &mut self.dups;
        // Score warnings point at the blob: inside an LZF-compressed one there is no file offset.
        let warn = (self.opts.strict, base);
        // Every error below is relative to the blob until `in_blob` maps it, so the arms run in a
        // closure: a `?` must not skip that mapping.
        let r = (|| match ty {
            ValueType::HashZipmap => zipmap::for_each(blob, |f, val| {
                dups.insert(f, 0, "zipmap field")?;
                v.hash_field(f, val, None)
            })
            .map(drop),
            ValueType::ListZiplist => {
                ziplist::for_each(blob, |e| e.with_bytes(|b| v.list_item(b))).map(drop)
            }
            ValueType::SetIntset => {
                intset::for_each(blob, |i| Elem::Int(i).with_bytes(|b| v.set_member(b))).map(drop)
            }
            ValueType::SetListpack => listpack::for_each(blob, |e| {
                e.with_bytes(|b| {
                    dups.insert(b, 0, "set listpack member")?;
                    v.set_member(b)
                })
            })
            .map(drop),
            ValueType::ZsetZiplist | ValueType::HashZiplist => {
                let mut first: Option<Elem<'_>> = None;
                let zset = ty == ValueType::ZsetZiplist;
                let n = ziplist::for_each(blob, |e| match first.take() {
                    None => {
                        first = Some(e);
                        Ok(())
                    }
                    Some(f) => pair(f, e, zset, dups, warn, v),
                })?;
                if n % 2 != 0 {
                    Err(Error::corrupt(
                        0,
                        "ziplist pairs",
                        format!("odd number of entries ({n})"),
                    ))
                } else {
                    Ok(())
                }
            }
            ValueType::HashListpack | ValueType::ZsetListpack => {
                let zset = ty == ValueType::ZsetListpack;
                let mut lp = listpack::Listpack::new(blob)?;
                while let Some(f) = lp.next_elem()? {
                    let val = lp.expect("listpack pair value")?;
                    pair(f, val, zset, dups, warn, v)?;
                }
                Ok(())
            }
            ValueType::HashListpackEx | ValueType::HashListpackExPreGa => {
                let mut lp = listpack::Listpack::new(blob)?;
                let mut prev_ttl: Option<i64> = None;
                while let Some(f) = lp.next_elem()? {
                    let val = lp.expect("hash listpack value")?;
                    let at = lp.pos() as u64;
                    let ttl = lp.expect_int("hash listpack field TTL")?;
                    let expire = match ttl {
                        0 => None,
                        t => Some(t),
                    };
                    check_field_expiry(expire, at)?;
                    // Fields with a TTL come first in TTL order, then fields without one.
                    match (prev_ttl, expire) {
                        (Some(0), Some(_)) => {
                            return Err(Error::corrupt(
                                at,
                                "hash listpack field TTL",
                                "a field with a TTL follows one without",
                            ))
                        }
                        (Some(p), Some(t)) if p > t => {
                            return Err(Error::corrupt(
                                at,
                                "hash listpack field TTL",
                                "TTLs out of order",
                            ))
                        }
                        _ => {}
                    }
                    prev_ttl = Some(ttl);
                    if expire.is_some() {
                        v.note(Note::FieldExpiry);
                    }
                    f.with_bytes(|fb| {
                        dups.insert(fb, at, "hash field")?;
                        val.with_bytes(|vb| v.hash_field(fb, vb, expire))
                    })?;
                }
                Ok(())
            }
            _ => unreachable!("only blob types are routed here"),
        })();
        r.map_err(|e| in_blob(e, base, stored))
    }
}

fn pair<V: Visitor + ?Sized>(
    f: Elem<'_>,
    val: Elem<'_>,
    zset: bool,
    dups: &mut super::dups::Dups,
    (strict, at): (bool, u64),
    v: &mut V,
) -> Result<()> {
    f.with_bytes(|fb| {
        dups.insert(fb, 0, if zset { "zset member" } else { "hash field" })?;
        if zset {
            // Redis loads any text here (zzlStrtod reads a prefix, 0 when none): never a refusal.
            let (score, clean) = val.as_score();
            if !clean {
                let text = val.to_vec();
                irregular::report(
                    v,
                    strict,
                    Irregularity::ScoreText,
                    // A refusal is rebased onto the blob by the caller; a warning is not.
                    if strict { 0 } else { at },
                    format!("{:?} read as {score}", String::from_utf8_lossy(&text)),
                )?;
            }
            v.zset_member(fb, score)
        } else {
            val.with_bytes(|vb| v.hash_field(fb, vb, None))
        }
    })
}

/// Hash field TTLs are bounded by `EB_EXPIRE_TIME_MAX` (2^48 - 1 ms).
fn check_field_expiry(expire: Option<i64>, at: u64) -> Result<()> {
    match expire {
        Some(t) if !(0..(1i64 << 48)).contains(&t) => Err(Error::corrupt(
            at,
            "hash field TTL",
            format!("expiry {t} outside 0..2^48"),
        )),
        _ => Ok(()),
    }
}

#[cfg(test)]
#[path = "value_tests.rs"]
mod tests;
