//! Writing Dataset JSON, version 1 (`docs/dataset-json.md`): the one encoder, a serde `Serialize`
//! that streams to any output with no intermediate tree; `to_json` and the diff's texts use it too.
use super::*;
use base64::Engine as _;
use serde::ser::{Serialize, SerializeMap, SerializeSeq, Serializer};

const B64: base64::engine::GeneralPurpose = base64::engine::general_purpose::STANDARD;

/// A byte string as the contract spells it: text when valid UTF-8, else `{"b64": ...}`.
pub struct Bytes<'a>(pub &'a [u8]);

impl Serialize for Bytes<'_> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        match std::str::from_utf8(self.0) {
            Ok(t) => s.serialize_str(t),
            Err(_) => {
                let mut m = s.serialize_map(Some(1))?;
                m.serialize_entry("b64", &B64.encode(self.0))?;
                m.end()
            }
        }
    }
}

struct Id(StreamId);

impl Serialize for Id {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(&self.0)
    }
}

/// A sequence serialized from an iterator of serializable items, without collecting it.
struct Seq<I>(std::cell::RefCell<Option<I>>);

fn seq<I: IntoIterator>(i: I) -> Seq<I::IntoIter> {
    Seq(std::cell::RefCell::new(Some(i.into_iter())))
}

impl<I: Iterator<Item = T>, T: Serialize> Serialize for Seq<I> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let it = self.0.borrow_mut().take().expect("serialized once");
        let mut q = s.serialize_seq(None)?;
        for x in it {
            q.serialize_element(&x)?;
        }
        q.end()
    }
}

/// Serializes a dataset as Dataset JSON.
pub struct DatasetJson<'a>(pub &'a Dataset);

impl Serialize for DatasetJson<'_> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let d = self.0;
        let mut m = s.serialize_map(None)?;
        m.serialize_entry("format", "dataset/1")?;
        if let Some(src) = &d.source {
            m.serialize_entry("source", &SourceJson(src))?;
        }
        m.serialize_entry("functions", &seq(d.functions.iter().map(|f| Bytes(f))))?;
        m.serialize_entry("keys", &seq(d.keys.iter().map(EntryJson)))?;
        m.end()
    }
}

pub(super) struct SourceJson<'a>(pub(super) &'a SourceInfo);

impl Serialize for SourceJson<'_> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let src = self.0;
        let mut m = s.serialize_map(None)?;
        m.serialize_entry("kind", &src.kind)?;
        if let Some(g) = &src.magic {
            m.serialize_entry("magic", g)?;
        }
        if let Some(v) = src.version {
            m.serialize_entry("version", &v)?;
        }
        m.serialize_entry(
            "aux",
            &seq(src.aux.iter().map(|(k, v)| (Bytes(k), Bytes(v)))),
        )?;
        m.end()
    }
}

pub(super) struct EntryJson<'a>(pub(super) &'a Entry);

impl Serialize for EntryJson<'_> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let e = self.0;
        let mut m = s.serialize_map(None)?;
        m.serialize_entry("db", &e.db)?;
        m.serialize_entry("key", &Bytes(&e.key))?;
        m.serialize_entry("type", e.value.type_name())?;
        m.serialize_entry("expire_ms", &e.expire_ms)?;
        m.serialize_entry("value", &ValueJson(&e.value))?;
        if let Some(i) = e.idle_s {
            m.serialize_entry("idle_s", &i)?;
        }
        if let Some(f) = e.freq {
            m.serialize_entry("freq", &f)?;
        }
        AttrsJson(&e.attrs).entries(&mut m)?;
        m.end()
    }
}

struct MetaJson<'a>(&'a KeyMeta);

impl Serialize for MetaJson<'_> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let k = self.0;
        let mut m = s.serialize_map(None)?;
        m.serialize_entry("class", &k.class)?;
        m.serialize_entry("version", &k.version)?;
        m.serialize_entry("flags", &k.flags)?;
        m.serialize_entry("payload", &Bytes(&k.payload))?;
        m.end()
    }
}

/// The key-level fields of an entry after `value` (`meta`, `hash_template`), for the payload
/// form, which shares them.
pub(super) struct AttrsJson<'a>(pub &'a KeyAttrs);

impl AttrsJson<'_> {
    pub(super) fn entries<M: SerializeMap>(&self, m: &mut M) -> Result<(), M::Error> {
        if !self.0.meta.is_empty() {
            m.serialize_entry("meta", &seq(self.0.meta.iter().map(MetaJson)))?;
        }
        if self.0.hash_template {
            m.serialize_entry("hash_template", &true)?;
        }
        Ok(())
    }
}

/// A value as Dataset JSON writes a key's `value`.
pub(super) struct ValueJson<'a>(pub &'a Value);

impl Serialize for ValueJson<'_> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        match self.0 {
            Value::String(v) => Bytes(v).serialize(s),
            Value::List(l) | Value::Set(l) => seq(l.iter().map(|x| Bytes(x))).serialize(s),
            Value::Hash(h) => seq(h.iter().map(FieldJson)).serialize(s),
            Value::Zset(z) => {
                seq(z.iter().map(|x| (Bytes(&x.member), score_text(x.score)))).serialize(s)
            }
            Value::Stream(st) => StreamJson(st).serialize(s),
            Value::Array(a) => {
                let mut m = s.serialize_map(None)?;
                m.serialize_entry("insert_idx", &a.insert_idx)?;
                let els = a.elements.iter().map(|(i, v)| (*i, Bytes(v)));
                m.serialize_entry("elements", &seq(els))?;
                m.end()
            }
            Value::Module(md) => {
                let mut m = s.serialize_map(None)?;
                m.serialize_entry("module", &md.name)?;
                m.serialize_entry("id", &md.id.to_string())?;
                m.serialize_entry("encver", &md.encver)?;
                m.serialize_entry("payload", &Bytes(&md.payload))?;
                m.end()
            }
        }
    }
}

struct FieldJson<'a>(&'a HashField);

impl Serialize for FieldJson<'_> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let f = self.0;
        let mut q = s.serialize_seq(None)?;
        q.serialize_element(&Bytes(&f.field))?;
        q.serialize_element(&Bytes(&f.value))?;
        if let Some(t) = f.expire_ms {
            q.serialize_element(&t)?;
        }
        q.end()
    }
}

struct StreamJson<'a>(&'a Stream);

impl Serialize for StreamJson<'_> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let st = self.0;
        let mut m = s.serialize_map(None)?;
        m.serialize_entry("length", &st.length)?;
        m.serialize_entry("last_id", &Id(st.last_id))?;
        m.serialize_entry("first_id", &st.first_id.map(Id))?;
        m.serialize_entry("max_deleted_id", &st.max_deleted_id.map(Id))?;
        m.serialize_entry("entries_added", &st.entries_added)?;
        let entries = st.entries.iter().map(|e| {
            (
                Id(e.id),
                seq(e.fields.iter().map(|(f, v)| (Bytes(f), Bytes(v)))),
            )
        });
        m.serialize_entry("entries", &seq(entries))?;
        m.serialize_entry("groups", &seq(st.groups.iter().map(GroupJson)))?;
        if let Some(i) = &st.idmp {
            m.serialize_entry("idmp", &IdmpJson(i))?;
        }
        m.end()
    }
}

struct IdmpJson<'a>(&'a Idmp);

impl Serialize for IdmpJson<'_> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let i = self.0;
        let mut m = s.serialize_map(None)?;
        m.serialize_entry("duration_s", &i.duration_s)?;
        m.serialize_entry("max_entries", &i.max_entries)?;
        let producers = i.producers.iter().map(ProducerJson);
        m.serialize_entry("producers", &seq(producers))?;
        m.serialize_entry("iids_added", &i.iids_added)?;
        m.serialize_entry("iids_duplicates", &i.iids_duplicates)?;
        m.end()
    }
}

struct ProducerJson<'a>(&'a IdmpProducer);

impl Serialize for ProducerJson<'_> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let p = self.0;
        let mut m = s.serialize_map(Some(2))?;
        m.serialize_entry("pid", &Bytes(&p.pid))?;
        let entries = p.entries.iter().map(|(iid, id)| (Bytes(iid), Id(*id)));
        m.serialize_entry("entries", &seq(entries))?;
        m.end()
    }
}

struct GroupJson<'a>(&'a Group);

impl Serialize for GroupJson<'_> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let g = self.0;
        let mut m = s.serialize_map(None)?;
        m.serialize_entry("name", &Bytes(&g.name))?;
        m.serialize_entry("last_delivered_id", &Id(g.last_delivered_id))?;
        m.serialize_entry("entries_read", &g.entries_read)?;
        let nacked = |id: &StreamId| g.nacked.as_ref().is_some_and(|n| n.contains(id));
        let pending = g.pending.iter().map(|p| {
            (
                Id(p.id),
                (!nacked(&p.id)).then_some(Bytes(&p.consumer)),
                p.delivery_time_ms,
                p.delivery_count,
            )
        });
        m.serialize_entry("pending", &seq(pending))?;
        m.serialize_entry("consumers", &seq(g.consumers.iter().map(ConsumerJson)))?;
        if let Some(n) = &g.nacked {
            m.serialize_entry("nacked", &seq(n.iter().map(|i| Id(*i))))?;
        }
        m.end()
    }
}

struct ConsumerJson<'a>(&'a Consumer);

impl Serialize for ConsumerJson<'_> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let c = self.0;
        let mut m = s.serialize_map(None)?;
        m.serialize_entry("name", &Bytes(&c.name))?;
        m.serialize_entry("seen_time_ms", &c.seen_time_ms)?;
        m.serialize_entry("active_time_ms", &c.active_time_ms)?;
        m.serialize_entry("pending", &seq(c.pending.iter().map(|i| Id(*i))))?;
        m.end()
    }
}

/// The shortest decimal text that parses back to `score`, or `inf` / `-inf`.
pub fn score_text(score: f64) -> String {
    if score.is_infinite() {
        return if score > 0.0 {
            "inf".into()
        } else {
            "-inf".into()
        };
    }
    let a = score.abs();
    if a != 0.0 && !(1e-7..1e21).contains(&a) {
        format!("{score:e}")
    } else {
        format!("{score}")
    }
}

/// The JSON text of a byte string as the contract spells it (for messages).
pub fn bytes_text(b: &[u8]) -> String {
    serde_json::to_string(&Bytes(b)).unwrap_or_default()
}

/// The dataset as a JSON value (the same encoder as `write_json`).
pub fn to_json(d: &Dataset) -> serde_json::Value {
    serde_json::to_value(DatasetJson(d)).unwrap_or(serde_json::Value::Null)
}

/// Pretty-printed Dataset JSON with a trailing newline.
pub fn to_json_string(d: &Dataset) -> String {
    let mut out = Vec::new();
    // Writing to memory fails only on a serializer error, which this encoder never raises.
    let _ = write_json(d, &mut out);
    String::from_utf8(out).unwrap_or_default()
}

/// Writes pretty Dataset JSON with a trailing newline to `w`.
pub fn write_json<W: std::io::Write>(d: &Dataset, mut w: W) -> std::io::Result<()> {
    serde_json::to_writer_pretty(&mut w, &DatasetJson(d)).map_err(std::io::Error::other)?;
    w.write_all(b"\n")
}
