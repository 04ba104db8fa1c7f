//! What a target version can hold: the encodings its server writes, the thresholds that choose
//! them, and the loss report for a dataset written to a version that cannot hold all of it.
use super::opcode::{Header, Magic};
use crate::dataset::{Dataset, Value};
use std::fmt;

/// A version to write, named by the header it carries.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Target(pub Header);

impl Target {
    /// `REDIS00NN`, for NN from 6 to 15.
    pub fn redis(version: u32) -> Option<Target> {
        (6..=15).contains(&version).then_some(Target(Header {
            magic: Magic::Redis,
            version,
        }))
    }

    /// `VALKEY080`.
    pub const VALKEY_80: Target = Target(Header {
        magic: Magic::Valkey,
        version: 80,
    });

    /// Every target the writer supports, oldest first.
    pub fn all() -> Vec<Target> {
        (6..=15)
            .filter_map(Target::redis)
            .chain([Target::VALKEY_80])
            .collect()
    }

    /// The Redis-lineage feature level: Valkey 80 writes what Redis 7.2 (RDB 11) writes, plus its
    /// own hash field TTLs.
    pub fn level(self) -> u32 {
        match self.0.magic {
            Magic::Redis => self.0.version,
            Magic::Valkey => 11,
        }
    }

    /// Whether this is a Valkey dialect.
    pub fn is_valkey(self) -> bool {
        self.0.magic == Magic::Valkey
    }

    /// Whether hash fields may carry their own expiry.
    pub fn field_ttls(self) -> bool {
        self.is_valkey() || self.level() >= 12
    }

    /// Whether keys may carry metadata (opcode 243, Redis 8.6+) and streams IDMP state.
    pub fn key_meta(self) -> bool {
        self.level() >= 13
    }

    /// Whether arrays and consumer-group NACK zones exist (Redis 8.8+).
    pub fn arrays(self) -> bool {
        self.level() >= 14
    }

    /// Whether hashes may be stored by template (Redis 8.10+).
    pub fn hash_templates(self) -> bool {
        self.level() >= 15
    }

    /// The listpack back-length form its server writes (Redis 8.8+ the minimal one).
    pub fn backlen(self) -> super::listpack::Backlen {
        if self.level() >= 14 {
            super::listpack::Backlen::Minimal
        } else {
            super::listpack::Backlen::Wide
        }
    }

    /// The server release whose writer this target imitates (written as the version aux field).
    pub fn server_version(self) -> &'static str {
        match (self.0.magic, self.0.version) {
            (Magic::Valkey, _) => "9.1.2",
            (_, 6) => "3.0.7",
            (_, 7) => "3.2.13",
            (_, 8) => "4.0.14",
            (_, 9) => "6.2.14",
            (_, 10) => "7.0.15",
            (_, 11) => "7.2.4",
            (_, 12) => "7.4.1",
            (_, 13) => "8.6.0",
            (_, 14) => "8.8.0",
            _ => "8.10.0",
        }
    }
}

impl fmt::Display for Target {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.0.magic {
            Magic::Redis => write!(f, "REDIS{:04}", self.0.version),
            Magic::Valkey => write!(f, "VALKEY{:03}", self.0.version),
        }
    }
}

/// Encoding thresholds, with Redis's defaults.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Thresholds {
    /// `hash-max-listpack-entries` (`hash-max-ziplist-entries` before 7.0).
    pub hash_max_listpack_entries: usize,
    /// `hash-max-listpack-value`.
    pub hash_max_listpack_value: usize,
    /// `zset-max-listpack-entries`.
    pub zset_max_listpack_entries: usize,
    /// `zset-max-listpack-value`.
    pub zset_max_listpack_value: usize,
    /// `set-max-intset-entries`.
    pub set_max_intset_entries: usize,
    /// `set-max-listpack-entries` (7.2+).
    pub set_max_listpack_entries: usize,
    /// `set-max-listpack-value` (7.2+).
    pub set_max_listpack_value: usize,
    /// `list-max-ziplist-entries` (before quicklists: RDB 6).
    pub list_max_ziplist_entries: usize,
    /// `list-max-ziplist-value` (RDB 6).
    pub list_max_ziplist_value: usize,
    /// Bytes per quicklist node (`list-max-listpack-size -2` is 8 KiB).
    pub list_node_bytes: usize,
    /// `stream-node-max-entries`.
    pub stream_node_max_entries: usize,
    /// `stream-node-max-bytes`.
    pub stream_node_max_bytes: usize,
}

impl Default for Thresholds {
    fn default() -> Self {
        Thresholds {
            hash_max_listpack_entries: 512,
            hash_max_listpack_value: 64,
            zset_max_listpack_entries: 128,
            zset_max_listpack_value: 64,
            set_max_intset_entries: 512,
            set_max_listpack_entries: 128,
            set_max_listpack_value: 64,
            list_max_ziplist_entries: 512,
            list_max_ziplist_value: 64,
            list_node_bytes: 8192,
            stream_node_max_entries: 100,
            stream_node_max_bytes: 4096,
        }
    }
}

/// Something a target cannot hold exactly.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Loss {
    /// Database of the key, or `None` for dataset-wide parts (functions).
    pub db: Option<u64>,
    /// The key, if any.
    pub key: Option<Vec<u8>>,
    /// What the target cannot hold (or, in `filled`, what the dataset lacks).
    pub what: String,
    /// What the writer puts in its place: under `allow_loss` for a loss (`dropped`, `the key is
    /// not written`), always for a fill-in. A refusal writes nothing, so it shows `what` alone.
    pub instead: String,
}

impl Loss {
    /// `db N key "k": what`, without what is written instead: the form for a refusal, which
    /// writes nothing.
    pub fn subject(&self) -> String {
        match (&self.db, &self.key) {
            (Some(db), Some(k)) => format!(
                "db {db} key {:?}: {}",
                String::from_utf8_lossy(k),
                self.what
            ),
            _ => self.what.clone(),
        }
    }
}

/// `db N key "k": what; instead`: the form for a file that was written.
impl fmt::Display for Loss {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}; {}", self.subject(), self.instead)
    }
}

/// What writing a dataset at a target would lose (`lost`) or have to make up (`filled`:
/// defaults a loader of that version would also assume, such as a stream's `entries_added`).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Report {
    /// Information the target cannot store.
    pub lost: Vec<Loss>,
    /// Values the target needs and the dataset lacks; the writer supplies the loader's default.
    pub filled: Vec<Loss>,
}

impl Report {
    /// Whether the target holds the dataset exactly: nothing lost, nothing made up.
    pub fn exact(&self) -> bool {
        self.lost.is_empty() && self.filled.is_empty()
    }
}

/// Works out what writing `ds` at `t` would lose or fill in.
pub fn assess(ds: &Dataset, t: Target) -> Report {
    let mut r = Report::default();
    let lvl = t.level();
    if !ds.functions.is_empty() && lvl < 10 {
        r.lost.push(Loss {
            db: None,
            key: None,
            what: format!("function libraries (RDB 10+): {}", ds.functions.len()),
            instead: "not written".into(),
        });
    }
    for e in &ds.keys {
        let mut note = |lost: bool, what: String, instead: &str| {
            let l = Loss {
                db: Some(e.db),
                key: Some(e.key.clone()),
                what,
                instead: instead.into(),
            };
            if lost {
                r.lost.push(l)
            } else {
                r.filled.push(l)
            }
        };
        if !e.attrs.meta.is_empty() && !t.key_meta() {
            note(
                true,
                format!(
                    "key metadata classes (RDB 13+, Redis 8.6): {}",
                    e.attrs.meta.len()
                ),
                "dropped",
            );
        }
        if e.attrs.hash_template && !super::template::eligible(&e.value) {
            note(
                true,
                "hash_template on a value that is not a non-empty hash without field TTLs".into(),
                "written without a template",
            );
        } else if e.attrs.hash_template && !t.hash_templates() {
            note(
                true,
                "hash template encoding (RDB 15, Redis 8.10)".into(),
                "written as a plain hash",
            );
        }
        if (e.idle_s.is_some() || e.freq.is_some()) && lvl < 9 {
            note(
                true,
                "LRU/LFU metadata (IDLE/FREQ need RDB 9+)".into(),
                "dropped",
            );
        }
        match &e.value {
            Value::Hash(fields) if !t.field_ttls() => {
                let n = fields.iter().filter(|f| f.expire_ms.is_some()).count();
                if n > 0 {
                    note(
                        true,
                        format!("hash field TTLs (need RDB 12 or VALKEY080): {n}"),
                        "fields written without TTL",
                    );
                }
            }
            Value::Stream(s) => {
                if lvl < 9 {
                    note(true, "stream (needs RDB 9+)".into(), "key not written");
                    continue;
                }
                let meta =
                    s.first_id.is_some() || s.max_deleted_id.is_some() || s.entries_added.is_some();
                let read = s.groups.iter().any(|g| g.entries_read.is_some());
                let active = s
                    .groups
                    .iter()
                    .flat_map(|g| &g.consumers)
                    .any(|c| c.active_time_ms.is_some());
                let no_active = s
                    .groups
                    .iter()
                    .flat_map(|g| &g.consumers)
                    .any(|c| c.active_time_ms.is_none());
                if lvl < 10 && (meta || read) {
                    note(
                        true,
                        "stream metadata first_id/max_deleted_id/entries_added/entries_read (RDB 10+)"
                            .into(),
                        "dropped",
                    );
                }
                if lvl >= 10
                    && (s.first_id.is_none()
                        || s.max_deleted_id.is_none()
                        || s.entries_added.is_none())
                {
                    note(
                        false,
                        "stream first_id/max_deleted_id/entries_added absent".into(),
                        "the RDB 9 loader's defaults are written",
                    );
                }
                if lvl < 11 && active {
                    note(true, "consumer active times (RDB 11+)".into(), "dropped");
                }
                if lvl >= 11 && no_active {
                    note(
                        false,
                        "consumer active times absent".into(),
                        "seen times are written, as loaders assume",
                    );
                }
                let nacked: usize = s
                    .groups
                    .iter()
                    .filter_map(|g| g.nacked.as_ref())
                    .map(Vec::len)
                    .sum();
                if nacked > 0 && !t.arrays() {
                    note(
                        true,
                        format!("NACKed pending entries (XNACK, RDB 14+, Redis 8.8): {nacked}"),
                        "left out of their group's PEL",
                    );
                }
                if lvl >= 14 && s.groups.iter().any(|g| g.nacked.is_none()) {
                    note(
                        false,
                        "group NACK zones absent".into(),
                        "empty ones are written",
                    );
                }
                match &s.idmp {
                    Some(i) if !t.key_meta() && *i != crate::dataset::Idmp::default() => note(
                        true,
                        "stream IDMP state (RDB 13+, Redis 8.6)".into(),
                        "dropped",
                    ),
                    None if t.key_meta() => note(
                        false,
                        "stream IDMP state absent".into(),
                        "the defaults (100 s, 100 entries, no producers) are written",
                    ),
                    _ => {}
                }
            }
            Value::Array(_) if !t.arrays() => {
                note(true, "array (RDB 14+, Redis 8.8)".into(), "key not written")
            }
            Value::Module(_) if lvl < 8 => {
                note(true, "module value (RDB 8+)".into(), "key not written")
            }
            _ => {}
        }
    }
    r
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::dataset::*;

    /// A stream of one entry (1-0) and one group that has read it, with no PEL or consumers.
    fn one_entry_stream() -> Stream {
        let id = StreamId { ms: 1, seq: 0 };
        Stream {
            length: 1,
            last_id: id,
            first_id: Some(id),
            max_deleted_id: Some(StreamId::default()),
            entries_added: Some(1),
            entries: vec![StreamEntry {
                id,
                fields: vec![(b"f".to_vec(), b"v".to_vec())],
            }],
            groups: vec![Group {
                name: b"g".to_vec(),
                last_delivered_id: id,
                entries_read: Some(1),
                pending: vec![],
                consumers: vec![],
                nacked: None,
            }],
            idmp: None,
        }
    }

    /// Each Redis 8 part is lost below the version that holds it, and filled in (defaults) where
    /// a newer version needs it and the dataset has none.
    #[test]
    fn redis8_parts_are_reported_per_target() {
        let id = StreamId { ms: 1, seq: 0 };
        let mut stream = one_entry_stream();
        let g = &mut stream.groups[0];
        g.pending = vec![PendingEntry {
            id,
            consumer: vec![],
            delivery_time_ms: 0,
            delivery_count: 1,
        }];
        g.nacked = Some(vec![id]);
        stream.idmp = Some(Idmp {
            duration_s: 5,
            ..Idmp::default()
        });
        let key = |k: &str, value: Value, attrs: KeyAttrs| Entry {
            db: 0,
            key: k.as_bytes().to_vec(),
            expire_ms: None,
            idle_s: None,
            freq: None,
            value,
            attrs,
        };
        let meta = KeyAttrs {
            meta: vec![KeyMeta {
                class: "KMT1".into(),
                version: 0,
                flags: 1,
                payload: vec![0],
            }],
            hash_template: false,
        };
        let tmpl = KeyAttrs {
            meta: vec![],
            hash_template: true,
        };
        let hash = Value::Hash(vec![HashField {
            field: b"f".to_vec(),
            value: b"v".to_vec(),
            expire_ms: None,
        }]);
        let ds = Dataset {
            source: None,
            functions: vec![],
            keys: vec![
                key(
                    "a",
                    Value::Array(Array {
                        insert_idx: None,
                        elements: vec![(0, b"x".to_vec())],
                    }),
                    KeyAttrs::default(),
                ),
                key("h", hash, tmpl),
                key("m", Value::String(b"v".to_vec()), meta),
                key("s", Value::Stream(Box::new(stream)), KeyAttrs::default()),
            ],
        };
        let lost = |v: u32| {
            assess(&ds, Target::redis(v).unwrap())
                .lost
                .iter()
                .map(|l| {
                    format!(
                        "{} {}",
                        String::from_utf8_lossy(l.key.as_deref().unwrap_or(b"")),
                        l.what
                    )
                })
                .collect::<Vec<_>>()
        };
        assert!(lost(15).is_empty(), "{:?}", lost(15));
        assert_eq!(lost(14).len(), 1, "{:?}", lost(14)); // the template
        assert_eq!(lost(13).len(), 3, "{:?}", lost(13)); // + array, NACKed entry
        assert_eq!(lost(12).len(), 5, "{:?}", lost(12)); // + key meta, IDMP
        assert!(assess(&ds, Target::redis(15).unwrap()).exact());
    }

    /// Each older part is lost exactly below the RDB version that added it: IDLE and FREQ
    /// (each alone) and streams in 9 (Redis 5.0), functions and stream metadata in 10 (7.0),
    /// consumer active times in 11 (7.2).
    #[test]
    fn older_parts_are_lost_below_the_version_that_added_them() {
        let mut stream = one_entry_stream();
        stream.groups[0].consumers = vec![Consumer {
            name: b"c".to_vec(),
            seen_time_ms: 5,
            active_time_ms: Some(5),
            pending: vec![],
        }];
        let key = |k: &str, value: Value, idle_s: Option<u64>, freq: Option<u8>| Entry {
            db: 0,
            key: k.as_bytes().to_vec(),
            expire_ms: None,
            idle_s,
            freq,
            value,
            attrs: KeyAttrs::default(),
        };
        let string = || Value::String(b"v".to_vec());
        let ds = Dataset {
            source: None,
            functions: vec![b"#!lua name=lib\n".to_vec()],
            keys: vec![
                key("idle", string(), Some(10), None),
                key("freq", string(), None, Some(5)),
                key("s", Value::Stream(Box::new(stream)), None, None),
            ],
        };
        let lost = |v: u32| {
            let mut l: Vec<String> = assess(&ds, Target::redis(v).unwrap())
                .lost
                .iter()
                .map(|l| {
                    let key = String::from_utf8_lossy(l.key.as_deref().unwrap_or(b"-"));
                    let what = l.what.split_whitespace().next().unwrap_or("");
                    format!("{key} {what}")
                })
                .collect();
            l.sort();
            l
        };
        assert_eq!(lost(11), Vec::<String>::new());
        assert_eq!(lost(10), vec!["s consumer"]);
        assert_eq!(
            lost(9),
            vec!["- function", "s consumer", "s stream"],
            "functions, stream metadata, active times"
        );
        assert_eq!(
            lost(8),
            vec!["- function", "freq LRU/LFU", "idle LRU/LFU", "s stream"],
            "the whole stream goes, with it its parts"
        );
    }
}
