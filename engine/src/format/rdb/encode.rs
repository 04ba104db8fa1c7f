//! Value encoding for the writer, mirroring `value.rs`: for each value it picks the encoding the
//! target version's server would write (by Redis's thresholds) and emits it.
use super::length;
use super::opcode::ValueType;
use super::string;
use super::target::{Target, Thresholds};
use super::{intset, listpack, ziplist};
use crate::dataset::{Entry, HashField, Value, ZsetMember};
use crate::format::int::parse_i64;

/// Elements at least this large go to PLAIN quicklist nodes before Redis 7.4.
const PLAIN_THRESHOLD_OLD: usize = 1 << 30;

/// The writer's per-value state: target, thresholds and reused compression buffers.
pub struct Encoder {
    /// Version written.
    pub target: Target,
    /// Encoding thresholds.
    pub thresholds: Thresholds,
    /// How strings are written (`rdbcompression`, reused LZF buffers).
    pub strings: string::Writer,
    /// The listpack back-length form of the target (minimal from RDB 14).
    pub lp_form: listpack::Backlen,
    /// The file's hash template registry: template hashes are written by reference (types
    /// 30/32). Without one (DUMP payloads) they carry their names (types 29/31).
    pub templates: Option<std::sync::Arc<super::template::Registry>>,
    /// A planted bug for the test suite (see [`super::WriteOptions::narrow_listpack_ints`]).
    #[doc(hidden)]
    pub narrow_listpack_ints: bool,
}

impl Encoder {
    /// An encoder for `target`.
    pub fn new(target: Target, thresholds: Thresholds, compress: bool) -> Encoder {
        Encoder {
            target,
            thresholds,
            strings: string::Writer::new(compress),
            lp_form: target.backlen(),
            templates: None,
            narrow_listpack_ints: false,
        }
    }

    fn lp(&self) -> listpack::Builder {
        listpack::Builder::with_form(self.lp_form).planted_narrow_ints(self.narrow_listpack_ints)
    }

    /// Appends an RDB string (see [`string::Writer::write`]).
    pub fn string(&mut self, out: &mut Vec<u8>, s: &[u8]) {
        self.strings.write(out, s)
    }

    /// The type byte this target's server would write for `v`.
    pub fn choose(&self, v: &Value) -> ValueType {
        choose_type(self.target, &self.thresholds, v)
    }

    /// The type byte for a key: as [`Encoder::choose`], except that a hash marked
    /// `hash_template` is written by template where the target has them (RDB 15): by reference
    /// in a file, self-contained in a payload; as strings when a value does not fit a listpack.
    pub fn choose_key(&self, e: &Entry) -> ValueType {
        if !(e.attrs.hash_template
            && self.target.hash_templates()
            && super::template::eligible(&e.value))
        {
            return self.choose(&e.value);
        }
        let lp = match &e.value {
            Value::Hash(f) => {
                f.len() <= self.thresholds.hash_max_listpack_entries
                    && f.iter()
                        .all(|x| x.value.len() <= self.thresholds.hash_max_listpack_value)
            }
            _ => false,
        };
        match (self.templates.is_some(), lp) {
            (true, true) => ValueType::HashTmplLpRef,
            (true, false) => ValueType::HashTmplArrayRef,
            (false, true) => ValueType::HashTmplLp,
            (false, false) => ValueType::HashTmplArray,
        }
    }

    /// Appends a key's value: [`Encoder::value`], and the template encodings.
    pub fn key_value(&mut self, out: &mut Vec<u8>, ty: ValueType, e: &Entry) {
        match (ty.is_hash_template(), &e.value) {
            (true, Value::Hash(f)) => {
                let names: Vec<&[u8]> = super::template::template_order(f)
                    .iter()
                    .map(|x| x.field.as_slice())
                    .collect();
                let id = self
                    .templates
                    .as_ref()
                    .and_then(|r| r.id_of(&names))
                    .unwrap_or(0);
                let fit = names
                    .iter()
                    .all(|n| n.len() <= self.thresholds.hash_max_listpack_value);
                super::template::write(&mut self.strings, self.lp_form, fit, out, ty, f, id)
            }
            _ => self.value(out, ty, &e.value),
        }
    }
}

/// The type byte a target's server would write for `v` under the thresholds `th`.
pub fn choose_type(t: Target, th: &Thresholds, v: &Value) -> ValueType {
    let lvl = t.level();
    match v {
        Value::String(_) => ValueType::String,
        Value::List(items) => match lvl {
            ..=6 if items.len() <= th.list_max_ziplist_entries
                && items.iter().all(|i| i.len() <= th.list_max_ziplist_value) =>
            {
                ValueType::ListZiplist
            }
            ..=6 => ValueType::List,
            7..=9 => ValueType::ListQuicklist,
            _ => ValueType::ListQuicklist2,
        },
        Value::Set(m) => {
            if m.len() <= th.set_max_intset_entries && m.iter().all(|x| parse_i64(x).is_some()) {
                ValueType::SetIntset
            } else if lvl >= 11
                && m.len() <= th.set_max_listpack_entries
                && m.iter().all(|x| x.len() <= th.set_max_listpack_value)
            {
                ValueType::SetListpack
            } else {
                ValueType::Set
            }
        }
        Value::Hash(f) => {
            let small = f.len() <= th.hash_max_listpack_entries
                && f.iter().all(|x| {
                    x.field.len() <= th.hash_max_listpack_value
                        && x.value.len() <= th.hash_max_listpack_value
                });
            let ttls = t.field_ttls() && f.iter().any(|x| x.expire_ms.is_some());
            match (ttls, t.is_valkey(), small) {
                (true, true, _) => ValueType::Hash2,
                (true, false, true) => ValueType::HashListpackEx,
                (true, false, false) => ValueType::HashMetadata,
                (false, _, true) if lvl >= 10 => ValueType::HashListpack,
                (false, _, true) => ValueType::HashZiplist,
                (false, _, false) => ValueType::Hash,
            }
        }
        Value::Zset(m) => {
            // A listpack stores an integral score as an integer, so it cannot hold -0 (Redis
            // 7.0+ turns it into 0); such a zset is written as a skiplist, which keeps the
            // double's bits and which every version loads whatever its size.
            let negative_zero = |x: &ZsetMember| x.score == 0.0 && x.score.is_sign_negative();
            let small = m.len() <= th.zset_max_listpack_entries
                && m.iter()
                    .all(|x| x.member.len() <= th.zset_max_listpack_value)
                && !(lvl >= 10 && m.iter().any(negative_zero));
            match (small, lvl) {
                (true, 10..) => ValueType::ZsetListpack,
                (true, _) => ValueType::ZsetZiplist,
                (false, 8..) => ValueType::Zset2,
                (false, _) => ValueType::Zset,
            }
        }
        Value::Stream(_) => match lvl {
            ..=9 => ValueType::StreamListpacks,
            10 => ValueType::StreamListpacks2,
            11 | 12 => ValueType::StreamListpacks3,
            13 => ValueType::StreamListpacks4,
            _ => ValueType::StreamListpacks5,
        },
        Value::Array(_) => ValueType::Array,
        Value::Module(_) => ValueType::Module2,
    }
}

impl Encoder {
    /// Appends `v` in encoding `ty` (from [`Encoder::choose`]); hash field TTLs are dropped where
    /// the encoding cannot hold them (the loss report says so beforehand).
    pub fn value(&mut self, out: &mut Vec<u8>, ty: ValueType, v: &Value) {
        match (ty, v) {
            (ValueType::String, Value::String(s)) => self.string(out, s),
            (ValueType::List, Value::List(items)) | (ValueType::Set, Value::Set(items)) => {
                length::write(out, items.len() as u64);
                for i in items {
                    self.string(out, i);
                }
            }
            (ValueType::ListZiplist, Value::List(items)) => {
                let mut zl = ziplist::Builder::new();
                items.iter().for_each(|i| zl.push(i));
                self.string(out, &zl.finish());
            }
            (ValueType::ListQuicklist | ValueType::ListQuicklist2, Value::List(items)) => {
                self.quicklist(out, ty, items)
            }
            (ValueType::SetIntset, Value::Set(m)) => {
                let mut ints: Vec<i64> = m.iter().filter_map(|x| parse_i64(x)).collect();
                let blob = intset::build(&mut ints).expect("sets written are never empty");
                self.string(out, &blob);
            }
            (ValueType::SetListpack, Value::Set(m)) => {
                let mut lp = self.lp();
                m.iter().for_each(|x| lp.push(x));
                self.string(out, &lp.finish());
            }
            (ValueType::Hash, Value::Hash(f)) => {
                length::write(out, f.len() as u64);
                for x in f {
                    self.string(out, &x.field);
                    self.string(out, &x.value);
                }
            }
            (ValueType::HashZiplist, Value::Hash(f)) => {
                let mut zl = ziplist::Builder::new();
                for x in f {
                    zl.push(&x.field);
                    zl.push(&x.value);
                }
                self.string(out, &zl.finish());
            }
            (ValueType::HashListpack, Value::Hash(f)) => {
                let mut lp = self.lp();
                for x in f {
                    lp.push(&x.field);
                    lp.push(&x.value);
                }
                self.string(out, &lp.finish());
            }
            (ValueType::HashListpackEx, Value::Hash(f)) => self.hash_listpack_ex(out, f),
            (ValueType::HashMetadata, Value::Hash(f)) => {
                let min = f.iter().filter_map(|x| x.expire_ms).min().unwrap_or(0);
                out.extend_from_slice(&min.to_le_bytes());
                length::write(out, f.len() as u64);
                for x in f {
                    // A TTL is stored relative to the minimum, plus one so that 0 can mean none.
                    length::write(out, x.expire_ms.map_or(0, |e| (e - min + 1) as u64));
                    self.string(out, &x.field);
                    self.string(out, &x.value);
                }
            }
            (ValueType::Hash2, Value::Hash(f)) => {
                length::write(out, f.len() as u64);
                for x in f {
                    self.string(out, &x.field);
                    self.string(out, &x.value);
                    out.extend_from_slice(&x.expire_ms.unwrap_or(-1).to_le_bytes());
                }
            }
            (ValueType::ZsetZiplist | ValueType::ZsetListpack, Value::Zset(m)) => {
                let mut text = Vec::new();
                if ty == ValueType::ZsetZiplist {
                    let mut zl = ziplist::Builder::new();
                    for x in m {
                        zl.push(&x.member);
                        score_entry(x.score, &mut text, true);
                        zl.push(&text);
                    }
                    self.string(out, &zl.finish());
                } else {
                    let mut lp = self.lp();
                    for x in m {
                        lp.push(&x.member);
                        score_entry(x.score, &mut text, false);
                        lp.push(&text);
                    }
                    self.string(out, &lp.finish());
                }
            }
            (ValueType::Zset2 | ValueType::Zset, Value::Zset(m)) => self.skiplist(out, ty, m),
            (
                ValueType::StreamListpacks
                | ValueType::StreamListpacks2
                | ValueType::StreamListpacks3
                | ValueType::StreamListpacks4
                | ValueType::StreamListpacks5,
                Value::Stream(s),
            ) => super::stream::write(
                &mut self.strings,
                &self.thresholds,
                self.lp_form,
                out,
                ty,
                s,
            ),
            (ValueType::Array, Value::Array(a)) => super::array::write(&mut self.strings, out, a),
            (ValueType::Module2, Value::Module(m)) => {
                length::write(out, m.id);
                out.extend_from_slice(&m.payload);
            }
            (ty, v) => unreachable!(
                "encoding {ty:?} was not chosen for a {} value",
                v.type_name()
            ),
        }
    }

    fn quicklist(&mut self, out: &mut Vec<u8>, ty: ValueType, items: &[Vec<u8>]) {
        let v2 = ty == ValueType::ListQuicklist2;
        let plain_over = if self.target.level() >= 12 {
            self.thresholds.list_node_bytes
        } else {
            PLAIN_THRESHOLD_OLD
        };
        // Nodes are planned first: the node count precedes them.
        enum Node {
            Packed(Vec<u8>),
            Plain(usize),
        }
        let mut nodes: Vec<Node> = Vec::new();
        let form = self.lp_form;
        let narrow = self.narrow_listpack_ints;
        let new_lp = || listpack::Builder::with_form(form).planted_narrow_ints(narrow);
        let mut lp: Option<listpack::Builder> = None;
        let mut zl: Option<ziplist::Builder> = None;
        for (i, item) in items.iter().enumerate() {
            if v2 {
                if item.len() > plain_over {
                    if let Some(b) = lp.take() {
                        nodes.push(Node::Packed(b.finish()));
                    }
                    nodes.push(Node::Plain(i));
                    continue;
                }
                let b = lp.get_or_insert_with(new_lp);
                if !b.is_empty()
                    && b.len() + b.entry_size_of(item) > self.thresholds.list_node_bytes
                {
                    nodes.push(Node::Packed(lp.take().expect("present").finish()));
                }
                lp.get_or_insert_with(new_lp).push(item);
            } else {
                let b = zl.get_or_insert_with(ziplist::Builder::new);
                if !b.is_empty() && b.len() + item.len() + 11 > self.thresholds.list_node_bytes {
                    nodes.push(Node::Packed(zl.take().expect("present").finish()));
                }
                zl.get_or_insert_with(ziplist::Builder::new).push(item);
            }
        }
        if let Some(b) = lp {
            nodes.push(Node::Packed(b.finish()));
        }
        if let Some(b) = zl {
            nodes.push(Node::Packed(b.finish()));
        }
        length::write(out, nodes.len() as u64);
        for n in nodes {
            match n {
                Node::Packed(blob) => {
                    if v2 {
                        length::write(out, 2);
                    }
                    self.string(out, &blob);
                }
                Node::Plain(i) => {
                    length::write(out, 1);
                    self.string(out, &items[i]);
                }
            }
        }
    }

    fn hash_listpack_ex(&mut self, out: &mut Vec<u8>, f: &[HashField]) {
        // Fields with a TTL come first in TTL order, then the rest, as deep validation requires.
        let mut order: Vec<&HashField> = f.iter().collect();
        order.sort_by_key(|x| (x.expire_ms.is_none(), x.expire_ms.unwrap_or(0)));
        let min = f.iter().filter_map(|x| x.expire_ms).min().unwrap_or(0);
        out.extend_from_slice(&min.to_le_bytes());
        let mut lp = self.lp();
        for x in order {
            lp.push(&x.field);
            lp.push(&x.value);
            lp.push_int(x.expire_ms.unwrap_or(0));
        }
        self.string(out, &lp.finish());
    }

    fn skiplist(&mut self, out: &mut Vec<u8>, ty: ValueType, m: &[ZsetMember]) {
        length::write(out, m.len() as u64);
        // Redis walks the skiplist from the tail: highest score first.
        for x in m.iter().rev() {
            self.string(out, &x.member);
            if ty == ValueType::Zset2 {
                out.extend_from_slice(&x.score.to_le_bytes());
            } else if x.score == f64::INFINITY {
                out.push(254);
            } else if x.score == f64::NEG_INFINITY {
                out.push(255);
            } else {
                let s = crate::dataset::score_text(x.score);
                out.push(s.len() as u8);
                out.extend_from_slice(s.as_bytes());
            }
        }
    }
}

/// A score as a compact-encoding entry: integral values that a double holds exactly become
/// integer text (so the blob stores an integer), others shortest text. Servers differ on -0:
/// Redis 6.2's ziplists keep the text "-0", Redis 7.0+ listpacks store the integer 0, and
/// `ziplist` chooses which of the two to imitate.
fn score_entry(score: f64, out: &mut Vec<u8>, ziplist: bool) {
    out.clear();
    if ziplist && score == 0.0 && score.is_sign_negative() {
        out.extend_from_slice(b"-0");
        return;
    }
    if score.fract() == 0.0 && score.abs() < (1u64 << 53) as f64 {
        crate::format::int::write_decimal(out, score as i64);
    } else {
        out.extend_from_slice(crate::dataset::score_text(score).as_bytes());
    }
}
