//! Keyspace statistics in one streaming pass: keys, record bytes and elements per type, encoding,
//! database and key prefix, an expiry histogram and the largest keys, in memory O(top N + prefixes).
//!
//! Fed by the RDB reader as a [`Visitor`] (a key's bytes are its record's: type byte to value end),
//! or by a loaded [`Dataset`] for AOFs (bytes are then the key's and its elements' lengths).
use crate::dataset::{Dataset, Value};
use crate::format::rdb::{KeyInfo, ModuleId, Visitor};
use crate::format::Result;
use std::cmp::Reverse;
use std::collections::{BTreeMap, BinaryHeap, HashMap};

/// Counts for one group of keys.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Agg {
    /// Keys.
    pub keys: u64,
    /// Record bytes.
    pub bytes: u64,
    /// Elements (members, fields, items, entries; 1 for a string or module value).
    pub elements: u64,
    /// Keys with an expiry.
    pub expires: u64,
}

impl Agg {
    fn add(&mut self, k: &KeyStat) {
        self.keys += 1;
        self.bytes += k.bytes;
        self.elements += k.elements;
        self.expires += u64::from(k.expire_ms.is_some());
    }
}

/// One key as the tables rank it.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub struct KeyStat {
    /// Database.
    pub db: u64,
    /// Key bytes (the first [`KEY_SHOWN`] of them).
    pub key: Vec<u8>,
    /// Logical type.
    pub kind: &'static str,
    /// Record bytes.
    pub bytes: u64,
    /// Elements.
    pub elements: u64,
    /// Expiry, absolute ms.
    pub expire_ms: Option<i64>,
}

/// Keys kept in the top tables are cut to this many bytes.
pub const KEY_SHOWN: usize = 256;
/// Distinct prefixes kept; later ones are counted under [`OTHER_PREFIXES`].
pub const MAX_PREFIXES: usize = 100_000;
/// The bucket of prefixes past [`MAX_PREFIXES`].
pub const OTHER_PREFIXES: &[u8] = b"(other prefixes)";

/// Expiry buckets: upper bounds in ms from now, with their labels.
pub const EXPIRY_BUCKETS: [(i64, &str); 6] = [
    (0, "already expired"),
    (3_600_000, "within 1 hour"),
    (86_400_000, "within 1 day"),
    (7 * 86_400_000, "within 7 days"),
    (30 * 86_400_000, "within 30 days"),
    (i64::MAX, "later"),
];

/// The statistics of one file.
#[derive(Debug)]
pub struct Stats {
    /// Per logical type.
    pub by_type: BTreeMap<&'static str, Agg>,
    /// Per encoding (RDB type name; `replayed` for AOFs).
    pub by_encoding: BTreeMap<&'static str, Agg>,
    /// Per database.
    pub by_db: BTreeMap<u64, Agg>,
    /// Per key prefix (up to the separator), when asked for.
    pub by_prefix: HashMap<Vec<u8>, Agg>,
    /// Keys without expiry, then one count per [`EXPIRY_BUCKETS`] entry.
    pub expiry: (u64, [u64; 6]),
    /// All keys.
    pub total: Agg,
    /// The RDB says it is an AOF preamble or base (`aof-preamble`/`aof-base` 1): commands may
    /// follow that change what its keys hold.
    pub aof_preamble: bool,
    top_bytes: BinaryHeap<Reverse<(u64, KeyStat)>>,
    top_elements: BinaryHeap<Reverse<(u64, KeyStat)>>,
    top_n: usize,
    separator: Option<u8>,
    now_ms: i64,
    current: Option<(KeyStat, &'static str, u64, Option<Vec<u8>>)>,
}

impl Stats {
    /// Empty statistics keeping the `top_n` largest keys, grouping by prefix up to `separator`.
    pub fn new(top_n: usize, separator: Option<u8>, now_ms: i64) -> Stats {
        Stats {
            by_type: BTreeMap::new(),
            by_encoding: BTreeMap::new(),
            by_db: BTreeMap::new(),
            by_prefix: HashMap::new(),
            expiry: (0, [0; 6]),
            total: Agg::default(),
            aof_preamble: false,
            top_bytes: BinaryHeap::new(),
            top_elements: BinaryHeap::new(),
            top_n,
            separator,
            now_ms,
            current: None,
        }
    }

    /// The largest keys by record bytes, largest first.
    pub fn top_by_bytes(&self) -> Vec<KeyStat> {
        sorted_desc(&self.top_bytes)
    }

    /// The largest keys by element count, largest first.
    pub fn top_by_elements(&self) -> Vec<KeyStat> {
        sorted_desc(&self.top_elements)
    }

    /// Counts a finished key; `prefix` is its key up to the separator (when grouping by prefix).
    fn finish_key(&mut self, k: KeyStat, encoding: &'static str, prefix: Option<&[u8]>) {
        self.total.add(&k);
        self.by_type.entry(k.kind).or_default().add(&k);
        self.by_encoding.entry(encoding).or_default().add(&k);
        self.by_db.entry(k.db).or_default().add(&k);
        match k.expire_ms {
            None => self.expiry.0 += 1,
            Some(t) => {
                let left = t.saturating_sub(self.now_ms);
                let i = EXPIRY_BUCKETS
                    .iter()
                    .position(|(bound, _)| left <= *bound)
                    .unwrap_or(EXPIRY_BUCKETS.len() - 1);
                self.expiry.1[i] += 1;
            }
        }
        if let Some(prefix) = prefix {
            if let Some(a) = self.by_prefix.get_mut(prefix) {
                a.add(&k);
            } else if self.by_prefix.len() < MAX_PREFIXES {
                self.by_prefix.entry(prefix.to_vec()).or_default().add(&k);
            } else {
                self.by_prefix
                    .entry(OTHER_PREFIXES.to_vec())
                    .or_default()
                    .add(&k);
            }
        }
        if self.top_n > 0 {
            keep_top(&mut self.top_bytes, self.top_n, k.bytes, &k);
            keep_top(&mut self.top_elements, self.top_n, k.elements, &k);
        }
    }

    /// Statistics of a loaded dataset (an AOF's final state).
    pub fn of_dataset(d: &Dataset, top_n: usize, separator: Option<u8>, now_ms: i64) -> Stats {
        let mut s = Stats::new(top_n, separator, now_ms);
        for e in &d.keys {
            let (elements, bytes): (u64, u64) = match &e.value {
                Value::String(v) => (1, v.len() as u64),
                Value::List(l) | Value::Set(l) => {
                    (l.len() as u64, l.iter().map(|x| x.len() as u64).sum())
                }
                Value::Hash(h) => (
                    h.len() as u64,
                    h.iter()
                        .map(|f| (f.field.len() + f.value.len()) as u64)
                        .sum(),
                ),
                Value::Zset(z) => (
                    z.len() as u64,
                    z.iter().map(|m| m.member.len() as u64 + 8).sum(),
                ),
                Value::Stream(st) => (
                    st.entries.len() as u64,
                    st.entries
                        .iter()
                        .flat_map(|x| &x.fields)
                        .map(|(f, v)| (f.len() + v.len()) as u64 + 16)
                        .sum(),
                ),
                Value::Array(a) => (
                    a.elements.len() as u64,
                    a.elements.iter().map(|(_, v)| v.len() as u64 + 8).sum(),
                ),
                Value::Module(m) => (1, m.payload.len() as u64),
            };
            let k = KeyStat {
                db: e.db,
                key: e.key[..e.key.len().min(KEY_SHOWN)].to_vec(),
                kind: e.value.type_name(),
                bytes: bytes + e.key.len() as u64,
                elements,
                expire_ms: e.expire_ms,
            };
            let prefix = separator.map(|sep| e.key.split(|b| *b == sep).next().unwrap_or(&e.key));
            s.finish_key(k, "replayed", prefix);
        }
        s
    }
}

fn keep_top(heap: &mut BinaryHeap<Reverse<(u64, KeyStat)>>, n: usize, measure: u64, k: &KeyStat) {
    if heap.len() < n {
        heap.push(Reverse((measure, k.clone())));
    } else if heap.peek().is_some_and(|Reverse((m, _))| *m < measure) {
        heap.pop();
        heap.push(Reverse((measure, k.clone())));
    }
}

fn sorted_desc(heap: &BinaryHeap<Reverse<(u64, KeyStat)>>) -> Vec<KeyStat> {
    let mut v: Vec<(u64, KeyStat)> = heap.iter().map(|Reverse(x)| x.clone()).collect();
    v.sort_by(|a, b| b.0.cmp(&a.0).then_with(|| a.1.cmp(&b.1)));
    v.into_iter().map(|(_, k)| k).collect()
}

impl Visitor for Stats {
    fn aux(&mut self, key: &[u8], value: &[u8]) -> Result<()> {
        if (key == b"aof-preamble" || key == b"aof-base") && value == b"1" {
            self.aof_preamble = true;
        }
        Ok(())
    }
    fn begin_key(&mut self, k: &KeyInfo<'_>) -> Result<()> {
        let stat = KeyStat {
            db: k.db,
            key: k.key[..k.key.len().min(KEY_SHOWN)].to_vec(),
            kind: k.value_type.kind().as_str(),
            bytes: 0,
            elements: 0,
            expire_ms: k.expire_ms,
        };
        // The prefix comes from the whole key, which the kept (cut) copy may not hold.
        let prefix = self
            .separator
            .map(|sep| k.key.split(|b| *b == sep).next().unwrap_or(k.key).to_vec());
        self.current = Some((stat, k.value_type.name(), k.offset, prefix));
        Ok(())
    }
    fn string(&mut self, _v: &[u8]) -> Result<()> {
        self.elem();
        Ok(())
    }
    fn wants_string_bytes(&self) -> bool {
        false
    }
    fn string_len(&mut self, _len: u64) -> Result<()> {
        self.elem();
        Ok(())
    }
    fn list_item(&mut self, _v: &[u8]) -> Result<()> {
        self.elem();
        Ok(())
    }
    fn set_member(&mut self, _v: &[u8]) -> Result<()> {
        self.elem();
        Ok(())
    }
    fn hash_field(&mut self, _f: &[u8], _v: &[u8], _t: Option<i64>) -> Result<()> {
        self.elem();
        Ok(())
    }
    fn zset_member(&mut self, _m: &[u8], _s: f64) -> Result<()> {
        self.elem();
        Ok(())
    }
    fn stream_entry(&mut self, _id: crate::dataset::StreamId, _f: &[(&[u8], &[u8])]) -> Result<()> {
        self.elem();
        Ok(())
    }
    fn module_value(&mut self, _m: &ModuleId, _p: &[u8]) -> Result<()> {
        self.elem();
        Ok(())
    }
    fn array_element(&mut self, _i: u64, _v: &[u8]) -> Result<()> {
        self.elem();
        Ok(())
    }
    fn value_end(&mut self, at: u64) {
        if let Some((s, _, offset, _)) = self.current.as_mut() {
            s.bytes = at.saturating_sub(*offset);
        }
    }
    fn end_key(&mut self) -> Result<()> {
        if let Some((k, encoding, _, prefix)) = self.current.take() {
            self.finish_key(k, encoding, prefix.as_deref());
        }
        Ok(())
    }
}

impl Stats {
    fn elem(&mut self) {
        if let Some((s, _, _, _)) = self.current.as_mut() {
            s.elements += 1;
        }
    }
}
