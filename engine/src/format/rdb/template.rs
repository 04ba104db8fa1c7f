//! Hash templates (Redis 8.10+, RDB 15): opcode 242 `RDB_OPCODE_HASH_TEMPLATE` registers a field
//! set under an id; types 30 `HASH_TMPL_LP_REF` and 32 `HASH_TMPL_ARRAY_REF` store only a hash's
//! values and name a registered template; types 29 `HASH_TMPL_LP` and 31 `HASH_TMPL_ARRAY` carry
//! their own field names (DUMP payloads, which cannot refer to a file's registry).
//!
//! From source only, not yet checked against a server (no 8.10 binary runs here): the layouts
//! follow librdb's parser (`src/lib/parser.c` at b7889d64, `elementHashTemplate`,
//! `elementHashTmplLpRef`, `elementHashTmplArrayRef`, `elementHashTmplSelfContained`) and the
//! literal payloads of Redis's `tests/unit/type/hash-templates.tcl`; Redis's own 8.10 `rdb.c` was
//! not available. An earlier 8.10 development layout of types 29/31 (no `fields_fmt`, names and
//! values interleaved in 31) is not read. Records:
//!
//! - 242: `len id, len field_count (> 0), field_count strings` (names strictly ascending,
//!   shorter first, then bytewise: `sdscmplen`);
//! - 30: one listpack string: an integer entry (the id, >= 0), then the values in template order;
//! - 32: `len id`, then field_count value strings;
//! - 29/31: `len fields_fmt` (0: the names as one listpack string; 1: `len n` then n strings),
//!   then 29: a values listpack whose first entry is an integer (the source template id,
//!   ignored), 31: n value strings.
use super::length;
use super::listpack::{self, Listpack};
use super::reader::RdbReader;
use super::string::{self, Stored};
use super::visit::{Note, Visitor};
use crate::dataset::{Dataset, HashField, Value};
use crate::format::error::{Error, Result};
use std::collections::HashMap;
use std::io::Read;

/// `sdscmplen` order: shorter first, then bytewise.
pub fn name_cmp(a: &[u8], b: &[u8]) -> std::cmp::Ordering {
    a.len().cmp(&b.len()).then_with(|| a.cmp(b))
}

fn check_sorted(names: &[Vec<u8>], at: u64, what: &'static str) -> Result<()> {
    if names.is_empty() {
        return Err(Error::corrupt(at, what, "a template with zero fields"));
    }
    match names.windows(2).find(|w| name_cmp(&w[0], &w[1]).is_ge()) {
        Some(_) => Err(Error::corrupt(
            at,
            what,
            "template fields are not strictly sorted",
        )),
        None => Ok(()),
    }
}

/// Maps a blob-relative error to file terms (exact when the blob was stored raw).
fn in_blob(e: Error, base: u64, stored: Stored) -> Error {
    match stored {
        Stored::Raw => e.at_base(base),
        _ => Error {
            offset: Some(base),
            ..e
        },
    }
}

fn lookup(t: &HashMap<u64, Vec<Vec<u8>>>, id: u64, at: u64) -> Result<Vec<Vec<u8>>> {
    t.get(&id).cloned().ok_or_else(|| {
        Error::corrupt(
            at,
            "hash template id",
            format!("invalid hash template id {id} (not registered)"),
        )
    })
}

impl<R: Read> RdbReader<R> {
    /// Opcode 242, after its byte.
    pub(super) fn hash_template_record<V: Visitor + ?Sized>(
        &mut self,
        at: u64,
        v: &mut V,
    ) -> Result<()> {
        let id = length::read(&mut self.src, "hash template id")?;
        let n_at = self.src.pos();
        let n = self.count("hash template field count", 1)?;
        let mut names = Vec::with_capacity(n as usize);
        for _ in 0..n {
            names.push(
                string::read(&mut self.src, &mut self.scratch, "hash template field")?
                    .bytes
                    .to_vec(),
            );
        }
        check_sorted(&names, n_at, "hash template field count")?;
        if self.templates.contains_key(&id) {
            return Err(Error::corrupt(
                at,
                "hash template id",
                format!("duplicate hash template id {id}"),
            ));
        }
        v.note(Note::HashTemplate);
        v.hash_template(id, &names)?;
        self.templates.insert(id, names);
        Ok(())
    }

    /// Types 29 to 32.
    pub(super) fn template_value<V: Visitor + ?Sized>(
        &mut self,
        ty: super::opcode::ValueType,
        v: &mut V,
    ) -> Result<()> {
        use super::opcode::ValueType::*;
        let names = match ty {
            HashTmplLpRef | HashTmplArrayRef => None,
            _ => Some(self.self_contained_names()?),
        };
        match ty {
            HashTmplArrayRef | HashTmplArray => {
                let names = match names {
                    Some(n) => n,
                    None => {
                        let at = self.src.pos();
                        let id = length::read(&mut self.src, "hash template id")?;
                        lookup(&self.templates, id, at)?
                    }
                };
                for name in &names {
                    let val =
                        string::read(&mut self.src, &mut self.scratch, "template hash value")?;
                    v.hash_field(name, val.bytes, None)?;
                }
                Ok(())
            }
            _ => {
                let at = self.src.pos();
                let s = string::read(&mut self.src, &mut self.scratch, "template hash values")?;
                let (blob, base, stored) = (s.bytes, s.base, s.stored);
                let mut lp = Listpack::new(blob).map_err(|e| in_blob(e, base, stored))?;
                let first = lp
                    .next_elem()
                    .map_err(|e| in_blob(e, base, stored))?
                    .ok_or_else(|| Error::corrupt(at, "template hash values", "empty listpack"))?;
                let id = match first {
                    super::elem::Elem::Int(i) => i,
                    _ => {
                        return Err(Error::corrupt(
                            at,
                            "template hash values",
                            "the first entry is not an integer",
                        ))
                    }
                };
                let names = match names {
                    Some(n) => n,
                    None if id < 0 => {
                        return Err(Error::corrupt(
                            at,
                            "hash template id",
                            format!("negative template id {id}"),
                        ))
                    }
                    None => lookup(&self.templates, id as u64, at)?,
                };
                let mut vals = Vec::with_capacity(names.len());
                while let Some(e) = lp.next_elem().map_err(|e| in_blob(e, base, stored))? {
                    vals.push(e.to_vec());
                }
                if vals.len() != names.len() {
                    return Err(Error::corrupt(
                        at,
                        "template hash values",
                        format!(
                            "{} values for a template of {} fields",
                            vals.len(),
                            names.len()
                        ),
                    ));
                }
                for (name, val) in names.iter().zip(&vals) {
                    v.hash_field(name, val, None)?;
                }
                Ok(())
            }
        }
    }

    /// The `fields_fmt` and field names of types 29/31.
    fn self_contained_names(&mut self) -> Result<Vec<Vec<u8>>> {
        let at = self.src.pos();
        let names = match length::read(&mut self.src, "hash template fields format")? {
            0 => {
                let b_at = self.src.pos();
                let s = string::read(&mut self.src, &mut self.scratch, "hash template fields")?;
                let (base, stored) = (s.base, s.stored);
                let mut names = Vec::new();
                listpack::for_each(s.bytes, |e| {
                    names.push(e.to_vec());
                    Ok(())
                })
                .map_err(|e| in_blob(e, base, stored))?;
                check_sorted(&names, b_at, "hash template fields")?;
                names
            }
            1 => {
                let n_at = self.src.pos();
                let n = self.count("hash template field count", 1)?;
                let mut names = Vec::with_capacity(n as usize);
                for _ in 0..n {
                    names.push(
                        string::read(&mut self.src, &mut self.scratch, "hash template field")?
                            .bytes
                            .to_vec(),
                    );
                }
                check_sorted(&names, n_at, "hash template field count")?;
                names
            }
            f => {
                return Err(Error::corrupt(
                    at,
                    "hash template fields format",
                    format!("unknown fields format {f}"),
                ))
            }
        };
        Ok(names)
    }
}

/// Whether a hash can be written by template at all: a non-empty hash without field TTLs.
pub fn eligible(v: &Value) -> bool {
    matches!(v, Value::Hash(f) if !f.is_empty() && f.iter().all(|x| x.expire_ms.is_none()))
}

/// A hash's fields in template order.
pub fn template_order(f: &[HashField]) -> Vec<&HashField> {
    let mut o: Vec<&HashField> = f.iter().collect();
    o.sort_by(|a, b| name_cmp(&a.field, &b.field));
    o
}

/// The templates a file writer registers: one per distinct field set of the template hashes,
/// ids from 0 in order of first use (Redis's own id assignment is not known; ids are opaque).
#[derive(Debug, Default)]
pub struct Registry {
    ids: HashMap<Vec<Vec<u8>>, u64>,
    order: Vec<Vec<Vec<u8>>>,
}

impl Registry {
    /// The registry for the template hashes of `ds`.
    pub fn build(ds: &Dataset) -> Registry {
        let mut r = Registry::default();
        for e in &ds.keys {
            if !e.attrs.hash_template || !eligible(&e.value) {
                continue;
            }
            if let Value::Hash(f) = &e.value {
                let names: Vec<Vec<u8>> =
                    template_order(f).iter().map(|x| x.field.clone()).collect();
                if !r.ids.contains_key(&names) {
                    r.ids.insert(names.clone(), r.order.len() as u64);
                    r.order.push(names);
                }
            }
        }
        r
    }

    /// Whether no template is registered.
    pub fn is_empty(&self) -> bool {
        self.order.is_empty()
    }

    /// The id of a field set (in template order).
    pub fn id_of(&self, names: &[&[u8]]) -> Option<u64> {
        let key: Vec<Vec<u8>> = names.iter().map(|n| n.to_vec()).collect();
        self.ids.get(&key).copied()
    }

    /// Appends the opcode 242 records.
    pub fn write_records(&self, strings: &mut string::Writer, out: &mut Vec<u8>) {
        for (id, names) in self.order.iter().enumerate() {
            out.push(242);
            length::write(out, id as u64);
            length::write(out, names.len() as u64);
            for n in names {
                strings.write(out, n);
            }
        }
    }
}

/// Appends a template hash value in layout `ty` (29 to 32). `id` is the registered template for
/// 30/32; 29 stores 0 as its (ignored) source id.
pub fn write(
    strings: &mut string::Writer,
    lp_form: listpack::Backlen,
    names_fit_listpack: bool,
    out: &mut Vec<u8>,
    ty: super::opcode::ValueType,
    f: &[HashField],
    id: u64,
) {
    use super::opcode::ValueType::*;
    let order = template_order(f);
    if matches!(ty, HashTmplLp | HashTmplArray) {
        if names_fit_listpack {
            length::write(out, 0);
            let mut lp = listpack::Builder::with_form(lp_form);
            order.iter().for_each(|x| lp.push(&x.field));
            strings.write(out, &lp.finish());
        } else {
            length::write(out, 1);
            length::write(out, order.len() as u64);
            for x in &order {
                strings.write(out, &x.field);
            }
        }
    }
    match ty {
        HashTmplLp | HashTmplLpRef => {
            let mut lp = listpack::Builder::with_form(lp_form);
            lp.push_int(if ty == HashTmplLp { 0 } else { id as i64 });
            order.iter().for_each(|x| lp.push(&x.value));
            strings.write(out, &lp.finish());
        }
        _ => {
            if ty == HashTmplArrayRef {
                length::write(out, id);
            }
            for x in &order {
                strings.write(out, &x.value);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Type 29's field names as a listpack (`fields_fmt` 0): an error inside it is exact when the
    /// listpack is stored raw and names the string's prefix when it was LZF-compressed. The
    /// listpack holds "a" with a back-length of 3 (the element is 2 bytes), at its offset 8.
    #[test]
    fn an_error_in_a_compressed_names_listpack_points_at_the_string() {
        use crate::format::rdb::opcode::ValueType;
        let lp = [10, 0, 0, 0, 1, 0, 0x81, b'a', 3, 0xff];
        let read = |body: &[u8]| crate::format::rdb::reader::object_error(body, 15);
        let ty = ValueType::HashTmplLp.byte();
        // Type, fields_fmt 0, length 10, the listpack from offset 3.
        let mut raw = vec![ty, 0, 10];
        raw.extend_from_slice(&lp);
        assert_eq!(read(&raw).offset, Some(3 + 8));
        // RDB_ENC_LZF from offset 2: 0xc3, clen 11, ulen 10, one literal run of ten bytes.
        let mut lzf = vec![ty, 0, 0xc3, 11, 10, 9];
        lzf.extend_from_slice(&lp);
        assert_eq!(read(&lzf).offset, Some(2));
    }

    #[test]
    fn names_sort_shorter_first() {
        let mut v = vec![
            b"name".to_vec(),
            b"age".to_vec(),
            b"email".to_vec(),
            b"city".to_vec(),
        ];
        v.sort_by(|a, b| name_cmp(a, b));
        assert_eq!(
            v,
            vec![
                b"age".to_vec(),
                b"city".to_vec(),
                b"name".to_vec(),
                b"email".to_vec()
            ]
        );
    }
}
