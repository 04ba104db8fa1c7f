//! Generators of valid datasets from unstructured bytes (the fuzzer's or quickcheck's): small key
//! spaces so values collide, and sizes clustered at the encoding thresholds that matter.
use arbitrary::{Result, Unstructured};
use redis_persist_engine::dataset::*;

/// Lengths that sit on encoding boundaries: listpack 6/12-bit strings, the 64-byte listpack value
/// threshold, ziplist's 254-byte prevlen switch, LZF's 20-byte floor.
const EDGE_LENS: &[usize] = &[
    0, 1, 11, 12, 20, 21, 63, 64, 65, 127, 128, 252, 253, 254, 255, 4095, 4096,
];

fn bytes(u: &mut Unstructured<'_>) -> Result<Vec<u8>> {
    Ok(match u.int_in_range(0..=9)? {
        // Integers of every width, as text: the int encodings of strings, ziplists, listpacks.
        0..=2 => {
            let v: i64 = match u.int_in_range(0..=5)? {
                0 => u.int_in_range(-13..=13)?,
                1 => u.int_in_range(-5000..=5000)?,
                2 => u.int_in_range(i16::MIN as i64..=i16::MAX as i64)?,
                3 => u.int_in_range(-(1 << 24)..=(1 << 24))?,
                4 => u.int_in_range(i32::MIN as i64 - 1..=i32::MAX as i64 + 1)?,
                _ => u.arbitrary()?,
            };
            v.to_string().into_bytes()
        }
        // Short text from a tiny alphabet, so members and fields collide.
        3..=6 => {
            let n = u.int_in_range(0..=6)?;
            (0..n)
                .map(|_| u.choose(b"abc01-").copied())
                .collect::<Result<_>>()?
        }
        // Arbitrary bytes, binary included.
        7 => {
            let n = u.int_in_range(0..=24)?;
            u.bytes(n)?.to_vec()
        }
        // Lengths on the boundaries, compressible or not.
        _ => {
            let n = *u.choose(EDGE_LENS)?;
            let fill: u8 = u.arbitrary()?;
            if u.arbitrary()? {
                vec![fill; n]
            } else {
                (0..n).map(|i| (i as u8).wrapping_mul(31) ^ fill).collect()
            }
        }
    })
}

fn score(u: &mut Unstructured<'_>) -> Result<f64> {
    Ok(match u.int_in_range(0..=6)? {
        0 => u.int_in_range(-100..=100)? as f64,
        1 => f64::INFINITY,
        2 => f64::NEG_INFINITY,
        3 => u.int_in_range(-1000..=1000)? as f64 / 8.0,
        4 => {
            let f = f64::from_bits(u.arbitrary()?);
            if f.is_nan() {
                0.1
            } else {
                f
            }
        }
        5 => -0.0,
        _ => (1u64 << 53) as f64 + u.int_in_range(0..=4)? as f64 * 2.0,
    })
}

fn count(u: &mut Unstructured<'_>) -> Result<usize> {
    // Mostly small, sometimes across the listpack/intset/ziplist entry thresholds.
    Ok(match u.int_in_range(0..=9)? {
        0..=6 => u.int_in_range(1..=8)?,
        7 => u.int_in_range(9..=140)?,
        _ => u.int_in_range(500..=530)?,
    })
}

fn id(u: &mut Unstructured<'_>) -> Result<StreamId> {
    Ok(StreamId {
        ms: u.int_in_range(0..=3)? * 1_700_000_000_000 + u.int_in_range(0..=1000)?,
        seq: u.int_in_range(0..=3)?,
    })
}

fn stream(u: &mut Unstructured<'_>, meta: bool, active: bool) -> Result<Stream> {
    let mut ids: Vec<StreamId> = (0..u.int_in_range(0..=130)?)
        .map(|_| id(u))
        .collect::<Result<_>>()?;
    ids.sort();
    ids.dedup();
    let entries: Vec<StreamEntry> = ids
        .iter()
        .map(|&id| {
            let same = u.ratio(2, 3)?;
            let fields = if same {
                vec![(b"f".to_vec(), bytes(u)?), (b"g".to_vec(), bytes(u)?)]
            } else {
                (0..u.int_in_range(1..=3)?)
                    .map(|_| Ok((bytes(u)?, bytes(u)?)))
                    .collect::<Result<_>>()?
            };
            Ok(StreamEntry { id, fields })
        })
        .collect::<Result<_>>()?;
    let last_id = ids.last().copied().unwrap_or_default().max(id(u)?);
    let mut groups = Vec::new();
    for g in 0..u.int_in_range(0..=2)? {
        let consumers: Vec<Vec<u8>> = (0..u.int_in_range(0..=2)?)
            .map(|c| format!("c{c}").into_bytes())
            .collect();
        let mut pending = Vec::new();
        let mut owned: Vec<Vec<StreamId>> = vec![Vec::new(); consumers.len()];
        if !consumers.is_empty() {
            for e in &entries {
                if u.ratio(1, 3)? {
                    let c = u.choose_index(consumers.len())?;
                    owned[c].push(e.id);
                    pending.push(PendingEntry {
                        id: e.id,
                        consumer: consumers[c].clone(),
                        delivery_time_ms: u.int_in_range(0..=2_000_000_000_000)?,
                        delivery_count: u.int_in_range(0..=5)?,
                    });
                }
            }
        }
        let consumers = consumers
            .into_iter()
            .zip(owned)
            .map(|(name, pending)| {
                let seen = u.int_in_range(0..=2_000_000_000_000)?;
                let a = if u.arbitrary()? { -1 } else { seen };
                Ok(Consumer {
                    name,
                    seen_time_ms: seen,
                    active_time_ms: active.then_some(a),
                    pending,
                })
            })
            .collect::<Result<_>>()?;
        groups.push(Group {
            name: format!("g{g}").into_bytes(),
            last_delivered_id: id(u)?,
            entries_read: if meta && u.arbitrary()? {
                Some(u.int_in_range(0..=200)?)
            } else {
                None
            },
            pending,
            consumers,
            nacked: None,
        });
    }
    Ok(Stream {
        length: entries.len() as u64,
        last_id,
        first_id: meta.then(|| entries.first().map(|e| e.id).unwrap_or_default()),
        max_deleted_id: meta.then_some(StreamId::default()),
        entries_added: meta.then_some(entries.len() as u64 + u.int_in_range(0..=3).unwrap_or(0)),
        entries,
        groups,
        idmp: None,
    })
}

/// The Redis 8.6+ parts of a stream a target holds exactly: IDMP state on every stream (RDB
/// 13+), and a NACK zone on every group (RDB 14+) made of unowned pending entries.
fn redis8_stream(u: &mut Unstructured<'_>, s: &mut Stream, f: Features) -> Result<()> {
    if f.arrays {
        let ids: Vec<StreamId> = s.entries.iter().map(|e| e.id).collect();
        for g in &mut s.groups {
            let mut zone = Vec::new();
            for id in &ids {
                if !g.pending.iter().any(|p| p.id == *id) && u.ratio(1, 4)? {
                    g.pending.push(PendingEntry {
                        id: *id,
                        consumer: Vec::new(),
                        delivery_time_ms: 0,
                        delivery_count: u.int_in_range(0..=5)?,
                    });
                    zone.push(*id);
                }
            }
            g.pending.sort_by_key(|p| p.id);
            // The zone keeps its stored order, whatever it is.
            if u.arbitrary()? {
                zone.reverse();
            }
            g.nacked = Some(zone);
        }
    }
    if f.key_meta {
        let mut producers = Vec::new();
        for p in 0..u.int_in_range(0..=2)? {
            let mut entries = Vec::new();
            for i in 0..u.int_in_range(1..=3)? {
                entries.push((format!("iid{i}").into_bytes(), id(u)?));
            }
            producers.push(IdmpProducer {
                pid: format!("p{p}").into_bytes(),
                entries,
            });
        }
        s.idmp = Some(Idmp {
            duration_s: u.int_in_range(1..=86400)?,
            max_entries: u.int_in_range(1..=10000)?,
            producers,
            iids_added: u.int_in_range(0..=1 << 40)?,
            iids_duplicates: u.int_in_range(0..=100)?,
        });
    }
    Ok(())
}

impl Features {
    /// Everything a target holds exactly.
    pub fn for_target(t: redis_persist_engine::format::rdb::Target) -> Features {
        let l = t.level();
        Features {
            field_ttls: t.field_ttls(),
            streams: l >= 9,
            stream_meta: l >= 10,
            active_times: l >= 11,
            functions: l >= 10,
            modules: l >= 8,
            lru: l >= 9,
            key_meta: t.key_meta(),
            arrays: t.arrays(),
            templates: t.hash_templates(),
        }
    }
}

/// Which optional parts a generated dataset may use, so it fits a given target exactly.
#[derive(Debug, Clone, Copy)]
pub struct Features {
    /// Hash field TTLs (RDB 12, VALKEY080).
    pub field_ttls: bool,
    /// Streams (RDB 9+).
    pub streams: bool,
    /// Stream metadata of RDB 10 (first ID, max deleted ID, entries added, entries read).
    pub stream_meta: bool,
    /// Consumer active times of RDB 11.
    pub active_times: bool,
    /// Function libraries (RDB 10+).
    pub functions: bool,
    /// Module values (RDB 8+).
    pub modules: bool,
    /// IDLE/FREQ (RDB 9+).
    pub lru: bool,
    /// Key metadata and stream IDMP state (RDB 13+).
    pub key_meta: bool,
    /// Arrays and consumer-group NACK zones (RDB 14+).
    pub arrays: bool,
    /// Template hashes (RDB 15).
    pub templates: bool,
}

/// A valid dataset in canonical order.
pub fn dataset(u: &mut Unstructured<'_>, f: Features) -> Result<Dataset> {
    let mut d = raw_dataset(u, f)?;
    dedup(&mut d);
    d.canonicalize();
    Ok(d)
}

/// A dataset in canonical order that may hold what no server loads: keys, members and fields
/// twice (what `dataset` removes), for writers to refuse.
pub fn raw_dataset(u: &mut Unstructured<'_>, f: Features) -> Result<Dataset> {
    let mut keys = Vec::new();
    let n = u.int_in_range(0..=12)?;
    for _ in 0..n {
        let key = bytes(u)?;
        let db = *u.choose(&[0u64, 0, 0, 1, 15])?;
        let value = match u.int_in_range(0..=8)? {
            0 | 1 => Value::String(bytes(u)?),
            2 => Value::List((0..count(u)?).map(|_| bytes(u)).collect::<Result<_>>()?),
            3 => Value::Set((0..count(u)?).map(|_| bytes(u)).collect::<Result<_>>()?),
            4 => Value::Hash(
                (0..count(u)?)
                    .map(|_| {
                        let ttl = f.field_ttls && u.ratio(1, 3)?;
                        Ok(HashField {
                            field: bytes(u)?,
                            value: bytes(u)?,
                            expire_ms: if ttl {
                                Some(u.int_in_range(1..=(1i64 << 48) - 1)?)
                            } else {
                                None
                            },
                        })
                    })
                    .collect::<Result<_>>()?,
            ),
            5 => Value::Zset(
                (0..count(u)?)
                    .map(|_| {
                        Ok(ZsetMember {
                            member: bytes(u)?,
                            score: score(u)?,
                        })
                    })
                    .collect::<Result<_>>()?,
            ),
            6 if f.streams => {
                let mut s = stream(u, f.stream_meta, f.active_times)?;
                redis8_stream(u, &mut s, f)?;
                Value::Stream(Box::new(s))
            }
            8 if f.arrays => {
                let mut elements = Vec::new();
                for _ in 0..u.int_in_range(1..=5)? {
                    let idx = match u.int_in_range(0..=2)? {
                        0 => u.int_in_range(0..=10)?,
                        1 => u.int_in_range(0..=u64::MAX - 1)?,
                        _ => u64::MAX - 1,
                    };
                    elements.push((idx, bytes(u)?));
                }
                elements.sort_by_key(|e| e.0);
                elements.dedup_by_key(|e| e.0);
                Value::Array(Array {
                    insert_idx: if u.arbitrary()? {
                        Some(u.int_in_range(0..=u64::MAX - 1)?)
                    } else {
                        None
                    },
                    elements,
                })
            }
            7 if f.modules => Value::Module(ModuleValue {
                name: "AAAAAAAAA".into(),
                id: 1023,
                encver: 1023,
                payload: vec![2, u.int_in_range(0..=63)?, 0],
            }),
            _ => Value::String(bytes(u)?),
        };
        let expire_ms = if u.ratio(1, 4)? {
            Some(u.arbitrary()?)
        } else {
            None
        };
        let (idle_s, freq) = match (f.lru, u.int_in_range(0..=5)?) {
            (true, 0) => (Some(u.int_in_range(0..=1 << 40)?), None),
            (true, 1) => (None, Some(u.arbitrary()?)),
            _ => (None, None),
        };
        let mut attrs = KeyAttrs::default();
        if f.key_meta && u.ratio(1, 5)? {
            for _ in 0..u.int_in_range(1..=2)? {
                let name: String = (0..4)
                    .map(|_| Ok(*u.choose(b"AZaz09_-")? as char))
                    .collect::<Result<_>>()?;
                attrs.meta.push(KeyMeta {
                    class: name,
                    version: u.int_in_range(0..=31)?,
                    flags: u.int_in_range(0..=7)?,
                    payload: vec![2, u.int_in_range(0..=63)?, 0],
                });
            }
        }
        attrs.hash_template = f.templates && matches!(value, Value::Hash(_)) && u.arbitrary()?;
        keys.push(Entry {
            db,
            key,
            expire_ms,
            idle_s,
            freq,
            value,
            attrs,
        });
    }
    let mut functions = Vec::new();
    if f.functions {
        for i in 0..u.int_in_range(0..=2)? {
            functions.push(
                format!(
                    "#!lua name=lib{i}\nredis.register_function('f{i}', function() return {i} end)"
                )
                .into_bytes(),
            );
        }
    }
    let mut d = Dataset {
        source: None,
        functions,
        keys,
    };
    // Duplicates come from colliding draws; a few more are made on purpose.
    if u.ratio(1, 3)? {
        if let Some(e) = d.keys.first().cloned() {
            d.keys.push(e);
        }
    }
    d.canonicalize();
    Ok(d)
}

/// Makes keys, members and fields unique, as every dataset must hold them.
fn dedup(d: &mut Dataset) {
    let mut seen = std::collections::BTreeSet::new();
    d.keys.retain(|e| seen.insert((e.db, e.key.clone())));
    for e in &mut d.keys {
        match &mut e.value {
            Value::Set(m) => {
                m.sort();
                m.dedup();
            }
            Value::Hash(h) => {
                let mut s = std::collections::BTreeSet::new();
                h.retain(|x| s.insert(x.field.clone()));
                // Only a non-empty hash without field TTLs can be stored by template.
                if h.is_empty() || h.iter().any(|x| x.expire_ms.is_some()) {
                    e.attrs.hash_template = false;
                }
            }
            Value::Zset(z) => {
                let mut s = std::collections::BTreeSet::new();
                z.retain(|x| s.insert(x.member.clone()));
            }
            _ => {}
        }
    }
}
