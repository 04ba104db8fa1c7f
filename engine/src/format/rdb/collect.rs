//! Collects the reader's records into a whole [`Dataset`]: the simple, materialising consumer
//! behind `dump`. It also finds what only a whole view can: duplicate keys and members.
use super::reader::{RdbReader, ReadOptions, Trailer};
use super::visit::{KeyInfo, ModuleId, StreamMeta, Visitor};
use crate::dataset::*;
use crate::format::error::{Error, ErrorKind, Result};
use crate::format::Limits;
use std::io::Read;

/// A visitor that builds a [`Dataset`].
#[derive(Debug, Default)]
pub struct Collector {
    /// What has been collected.
    pub dataset: Dataset,
    current: Option<Entry>,
    offsets: Vec<u64>,
    key_offset: u64,
    used: u64,
    /// `used` when the current key began: a key handed to the sink gives its budget back.
    used_before_key: u64,
    budget: u64,
    sink: Option<KeySink>,
}

/// Where each finished key goes instead of the dataset (see [`Collector::streaming`]): called
/// with the dataset so far (source, functions) and the key at its file offset.
pub type KeySinkFn = Box<dyn FnMut(&Dataset, Entry, u64) -> Result<()>>;

struct KeySink(KeySinkFn);

impl std::fmt::Debug for KeySink {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("KeySink")
    }
}

/// Bookkeeping cost of one stored string beyond its bytes.
const OVERHEAD: u64 = 32;

impl Collector {
    /// A collector that refuses to hold more than `limits.max_dataset_bytes`.
    pub fn new(limits: Limits) -> Collector {
        Collector {
            budget: limits.max_dataset_bytes,
            ..Collector::default()
        }
    }

    /// A collector that keeps no keys: each one, its value in canonical order and its members
    /// checked unique, goes to `sink` as soon as it ends, so memory holds one key at a time.
    /// Keys held twice are the caller's to find (they are not all kept here).
    pub fn streaming(limits: Limits, sink: KeySinkFn) -> Collector {
        Collector {
            sink: Some(KeySink(sink)),
            ..Collector::new(limits)
        }
    }

    fn charge(&mut self, bytes: usize) -> Result<()> {
        self.used += bytes as u64 + OVERHEAD;
        if self.used > self.budget {
            return Err(Error::new(
                ErrorKind::LimitExceeded,
                self.key_offset,
                "dataset",
                format!(
                    "the decoded dataset exceeds the budget of {} bytes",
                    self.budget
                ),
            ));
        }
        Ok(())
    }

    fn value(&mut self) -> &mut Value {
        &mut self
            .current
            .as_mut()
            .expect("elements arrive between begin_key and end_key")
            .value
    }

    fn stream(&mut self) -> &mut Stream {
        match self.value() {
            Value::Stream(s) => s,
            _ => unreachable!("stream records arrive for stream keys"),
        }
    }

    /// Canonical order, duplicate checks; returns the dataset.
    pub fn finish(mut self) -> Result<Dataset> {
        // One sort of the keys with their offsets, so a duplicate can be located; canonicalize
        // then finds them in order already.
        let keys = std::mem::take(&mut self.dataset.keys);
        let mut paired: Vec<(Entry, u64)> =
            keys.into_iter().zip(self.offsets.iter().copied()).collect();
        paired
            .sort_unstable_by(|(x, a), (y, b)| (x.db, &x.key).cmp(&(y.db, &y.key)).then(a.cmp(b)));
        for w in paired.windows(2) {
            let ((x, _), (y, off)) = (&w[0], &w[1]);
            if (x.db, &x.key) == (y.db, &y.key) {
                return Err(Error::corrupt(
                    *off,
                    "key",
                    format!(
                        "duplicate key {:?} in db {}",
                        String::from_utf8_lossy(&y.key),
                        y.db
                    ),
                ));
            }
        }
        for (e, off) in &paired {
            check_unique_members(&e.value).map_err(|m| Error::corrupt(*off, "key value", m))?;
        }
        self.dataset.keys = paired.into_iter().map(|(e, _)| e).collect();
        self.dataset.canonicalize();
        Ok(self.dataset)
    }
}

fn check_unique_members(v: &Value) -> std::result::Result<(), String> {
    let mut names: Vec<&[u8]> = match v {
        Value::Set(m) => m.iter().map(Vec::as_slice).collect(),
        Value::Hash(f) => f.iter().map(|f| f.field.as_slice()).collect(),
        Value::Zset(m) => m.iter().map(|m| m.member.as_slice()).collect(),
        _ => return Ok(()),
    };
    names.sort_unstable();
    match names.windows(2).find(|w| w[0] == w[1]) {
        Some(w) => Err(format!(
            "duplicate member or field {:?}",
            String::from_utf8_lossy(w[0])
        )),
        None => Ok(()),
    }
}

impl Visitor for Collector {
    fn aux(&mut self, key: &[u8], value: &[u8]) -> Result<()> {
        if let Some(s) = self.dataset.source.as_mut() {
            s.aux.push((key.to_vec(), value.to_vec()));
        }
        Ok(())
    }

    fn function(&mut self, code: &[u8]) -> Result<()> {
        self.charge(code.len())?;
        self.dataset.functions.push(code.to_vec());
        Ok(())
    }

    fn begin_key(&mut self, k: &KeyInfo<'_>) -> Result<()> {
        self.key_offset = k.offset;
        self.used_before_key = self.used;
        self.charge(k.key.len() + 4 * OVERHEAD as usize)?;
        use super::opcode::Kind;
        let value = match k.value_type.kind() {
            Kind::String => Value::String(Vec::new()),
            Kind::List => Value::List(Vec::new()),
            Kind::Set => Value::Set(Vec::new()),
            Kind::Zset => Value::Zset(Vec::new()),
            Kind::Hash => Value::Hash(Vec::new()),
            Kind::Stream => Value::Stream(Box::default()),
            Kind::Array => Value::Array(Array::default()),
            Kind::Module => Value::Module(ModuleValue {
                name: String::new(),
                id: 0,
                encver: 0,
                payload: Vec::new(),
            }),
        };
        self.key_offset = k.offset;
        self.current = Some(Entry {
            db: k.db,
            key: k.key.to_vec(),
            expire_ms: k.expire_ms,
            idle_s: k.idle_s,
            freq: k.freq,
            value,
            attrs: KeyAttrs {
                meta: Vec::new(),
                hash_template: k.value_type.is_hash_template(),
            },
        });
        Ok(())
    }

    fn key_meta(&mut self, m: &KeyMeta) -> Result<()> {
        self.charge(m.payload.len() + m.class.len())?;
        if let Some(e) = self.current.as_mut() {
            e.attrs.meta.push(m.clone());
        }
        Ok(())
    }

    fn array_meta(&mut self, _count: u64, insert_idx: Option<u64>) -> Result<()> {
        if let Value::Array(a) = self.value() {
            a.insert_idx = insert_idx;
        }
        Ok(())
    }

    fn array_element(&mut self, idx: u64, v: &[u8]) -> Result<()> {
        self.charge(v.len() + 8)?;
        if let Value::Array(a) = self.value() {
            a.elements.push((idx, v.to_vec()));
        }
        Ok(())
    }

    fn stream_nacked(&mut self, ids: &[StreamId]) -> Result<()> {
        self.charge(16 * ids.len())?;
        let g = self
            .stream()
            .groups
            .last_mut()
            .expect("the NACK zone follows its group");
        g.nacked = Some(ids.to_vec());
        Ok(())
    }

    fn stream_idmp(&mut self, i: &Idmp) -> Result<()> {
        let bytes: usize = i
            .producers
            .iter()
            .map(|p| p.pid.len() + p.entries.iter().map(|e| e.0.len() + 16).sum::<usize>())
            .sum();
        self.charge(bytes)?;
        self.stream().idmp = Some(i.clone());
        Ok(())
    }

    fn string(&mut self, v: &[u8]) -> Result<()> {
        self.charge(v.len())?;
        if let Value::String(s) = self.value() {
            s.extend_from_slice(v);
        }
        Ok(())
    }

    fn list_item(&mut self, item: &[u8]) -> Result<()> {
        self.charge(item.len())?;
        if let Value::List(l) = self.value() {
            l.push(item.to_vec());
        }
        Ok(())
    }

    fn set_member(&mut self, m: &[u8]) -> Result<()> {
        self.charge(m.len())?;
        if let Value::Set(s) = self.value() {
            s.push(m.to_vec());
        }
        Ok(())
    }

    fn hash_field(&mut self, field: &[u8], value: &[u8], expire_ms: Option<i64>) -> Result<()> {
        self.charge(field.len() + value.len() + OVERHEAD as usize)?;
        if let Value::Hash(h) = self.value() {
            h.push(HashField {
                field: field.to_vec(),
                value: value.to_vec(),
                expire_ms,
            });
        }
        Ok(())
    }

    fn zset_member(&mut self, member: &[u8], score: f64) -> Result<()> {
        self.charge(member.len() + 8)?;
        if let Value::Zset(z) = self.value() {
            z.push(ZsetMember {
                member: member.to_vec(),
                score,
            });
        }
        Ok(())
    }

    fn stream_entry(&mut self, id: StreamId, fields: &[(&[u8], &[u8])]) -> Result<()> {
        self.charge(
            fields
                .iter()
                .map(|(f, v)| f.len() + v.len() + 2 * OVERHEAD as usize)
                .sum::<usize>()
                + 16,
        )?;
        let fields = fields
            .iter()
            .map(|(f, v)| (f.to_vec(), v.to_vec()))
            .collect();
        self.stream().entries.push(StreamEntry { id, fields });
        Ok(())
    }

    fn stream_meta(&mut self, m: &StreamMeta) -> Result<()> {
        let s = self.stream();
        s.length = m.length;
        s.last_id = m.last_id;
        s.first_id = m.first_id;
        s.max_deleted_id = m.max_deleted_id;
        s.entries_added = m.entries_added;
        Ok(())
    }

    fn stream_group(
        &mut self,
        name: &[u8],
        last: StreamId,
        entries_read: Option<u64>,
    ) -> Result<()> {
        self.stream().groups.push(Group {
            name: name.to_vec(),
            last_delivered_id: last,
            entries_read,
            pending: Vec::new(),
            consumers: Vec::new(),
            nacked: None,
        });
        Ok(())
    }

    fn stream_pending(&mut self, id: StreamId, time: i64, count: u64) -> Result<()> {
        self.charge(32)?;
        let g = self
            .stream()
            .groups
            .last_mut()
            .expect("pending rows follow their group");
        g.pending.push(PendingEntry {
            id,
            consumer: Vec::new(),
            delivery_time_ms: time,
            delivery_count: count,
        });
        Ok(())
    }

    fn stream_consumer(&mut self, name: &[u8], seen: i64, active: Option<i64>) -> Result<()> {
        self.charge(name.len() + 64)?;
        let g = self
            .stream()
            .groups
            .last_mut()
            .expect("consumers follow their group");
        g.consumers.push(Consumer {
            name: name.to_vec(),
            seen_time_ms: seen,
            active_time_ms: active,
            pending: Vec::new(),
        });
        Ok(())
    }

    fn stream_consumer_pending(&mut self, id: StreamId) -> Result<()> {
        self.charge(16)?;
        let g = self
            .stream()
            .groups
            .last_mut()
            .expect("consumer PEL follows its group");
        let c = g
            .consumers
            .last_mut()
            .expect("consumer PEL follows its consumer");
        c.pending.push(id);
        Ok(())
    }

    fn module_value(&mut self, m: &ModuleId, payload: &[u8]) -> Result<()> {
        self.charge(payload.len())?;
        *self.value() = Value::Module(ModuleValue {
            name: m.name_str().to_owned(),
            id: m.id,
            encver: m.encver,
            payload: payload.to_vec(),
        });
        Ok(())
    }

    fn end_key(&mut self) -> Result<()> {
        let mut e = self.current.take().expect("end_key follows begin_key");
        if let Value::Stream(s) = &mut e.value {
            // The file keeps owners in the consumers; the dataset names them in each PEL row.
            for g in &mut s.groups {
                g.pending.sort_by_key(|p| p.id);
                for c in &g.consumers {
                    for id in &c.pending {
                        if let Ok(i) = g.pending.binary_search_by_key(id, |p| p.id) {
                            g.pending[i].consumer = c.name.clone();
                        }
                    }
                }
            }
        }
        if let Some(KeySink(sink)) = self.sink.as_mut() {
            self.used = self.used_before_key;
            if e.value.is_empty_collection() {
                return Ok(());
            }
            check_unique_members(&e.value)
                .map_err(|m| Error::corrupt(self.key_offset, "key value", m))?;
            e.value.canonicalize();
            return sink(&self.dataset, e, self.key_offset);
        }
        self.dataset.keys.push(e);
        self.offsets.push(self.key_offset);
        Ok(())
    }
}

/// Decodes a whole RDB held in memory.
pub fn read_dataset(bytes: &[u8], opts: ReadOptions) -> Result<(Dataset, Trailer)> {
    read_dataset_from(
        bytes,
        ReadOptions {
            total_len: Some(bytes.len() as u64),
            ..opts
        },
    )
}

/// Decodes a whole RDB from any reader.
pub fn read_dataset_from<R: Read>(r: R, opts: ReadOptions) -> Result<(Dataset, Trailer)> {
    let mut reader = RdbReader::new(r, opts)?;
    collect_all(&mut reader, opts)
}

/// Reads the rest of an RDB (header already read) into a dataset with its source information.
pub fn collect_all<R: Read>(
    reader: &mut RdbReader<R>,
    opts: ReadOptions,
) -> Result<(Dataset, Trailer)> {
    let h = reader.header();
    let mut c = Collector::new(opts.limits);
    c.dataset.source = Some(SourceInfo {
        kind: "rdb".into(),
        magic: Some(h.magic.as_str().into()),
        version: Some(h.version),
        aux: Vec::new(),
    });
    let t = reader.read_all(&mut c)?;
    Ok((c.finish()?, t))
}

#[cfg(test)]
#[path = "collect_tests.rs"]
mod tests;
