//! Streams (types 15, 19, 21, 26, 27): listpack nodes keyed by master ID, then metadata, consumer
//! groups, their pending entries and consumers; every cross-reference Redis checks is checked here.
//!
//! Type 26 (`RDB_TYPE_STREAM_LISTPACKS_4`, Redis 8.6+) adds the idempotent-producer (IDMP) state
//! after the groups; type 27 (`_5`, Redis 8.8+) adds each group's NACK zone after its consumers
//! (Redis `rdb.c` at upstream 221409788 (#14615) and 747dfe578 (#14797): `rdbSaveObject` stream
//! branch, `rdbSaveStreamIdmpEntries`, `rdbLoadStreamIdmpEntries`; checked against real type 26
//! files from librdb's tests and a real type 27 file from Rediscope's).
use super::irregular::{self, Irregularity};
use super::length;
use super::listpack::Listpack;
use super::opcode::ValueType;
use super::reader::RdbReader;
use super::string::{self, Stored};
use super::visit::{Note, StreamMeta, Visitor};
use crate::dataset::{Idmp, IdmpProducer, StreamId};
use crate::format::error::{Error, Result};
use std::collections::{HashMap, HashSet};
use std::io::Read;

const FLAG_DELETED: i64 = 1;
const FLAG_SAMEFIELDS: i64 = 2;

fn id_from_raw(b: &[u8; 16]) -> StreamId {
    StreamId {
        ms: u64::from_be_bytes(b[..8].try_into().expect("8 bytes")),
        seq: u64::from_be_bytes(b[8..].try_into().expect("8 bytes")),
    }
}

impl<R: Read> RdbReader<R> {
    fn stream_id(&mut self, what: &'static str) -> Result<StreamId> {
        let ms = length::read(&mut self.src, what)?;
        let seq = length::read(&mut self.src, what)?;
        Ok(StreamId { ms, seq })
    }

    pub(super) fn stream<V: Visitor + ?Sized>(&mut self, ty: ValueType, v: &mut V) -> Result<()> {
        let level = layout(ty);
        let v2 = level >= 2;
        let nodes = self.count("stream node count", 2)?;
        let mut last: Option<StreamId> = None;
        let mut live: u64 = 0;
        let mut strings: Vec<(usize, usize)> = Vec::new();
        let mut arena: Vec<u8> = Vec::new();
        for _ in 0..nodes {
            let at = self.src.pos();
            let k = string::read(&mut self.src, &mut self.scratch, "stream node key")?;
            let key: [u8; 16] = k.bytes.try_into().map_err(|_| {
                Error::corrupt(
                    at,
                    "stream node key",
                    format!("node key is {} bytes, not 16", k.bytes.len()),
                )
            })?;
            let master = id_from_raw(&key);
            let s = string::read(&mut self.src, &mut self.scratch, "stream node listpack")?;
            let (blob, base, stored) = (s.bytes, s.base, s.stored);
            let mut walk = NodeWalk {
                last: &mut last,
                live: &mut live,
                spans: &mut strings,
                arena: &mut arena,
                strict: self.opts.strict,
                // Valkey 9 checks a node's header count (its checker refuses a mismatch, seen on
                // a mutated VALKEY080 file); Redis 7.x does not.
                count_checked: self.header.magic == super::Magic::Valkey,
                // Warnings inside an LZF-compressed node point at the node, not into it.
                origin: match stored {
                    Stored::Raw => Some(base),
                    _ => None,
                },
                base,
            };
            let r = node(blob, master, &mut walk, v);
            r.map_err(|e| match stored {
                Stored::Raw => e.at_base(base),
                _ => Error {
                    offset: Some(base),
                    ..e
                },
            })?;
        }
        let meta_at = self.src.pos();
        let length = length::read(&mut self.src, "stream length")?;
        let last_id = self.stream_id("stream last ID")?;
        let (first_id, max_deleted_id, entries_added) = if v2 {
            let f = self.stream_id("stream first ID")?;
            let d = self.stream_id("stream max deleted ID")?;
            let a = length::read(&mut self.src, "stream entries added")?;
            (Some(f), Some(d), Some(a))
        } else {
            (None, None, None)
        };
        // Redis 5.0's XTRIM left `length` out of step with the live entries in real files, and
        // loaders accept them; only a length with no nodes at all is refused, as Redis does.
        if length != live {
            if nodes == 0 {
                return Err(Error::corrupt(
                    meta_at,
                    "stream length",
                    format!("length {length} but the stream has no nodes"),
                ));
            }
            v.note(Note::StreamLengthMismatch);
        }
        // Redis loads such a stream (the ID is only compared when XADD runs), so this is a
        // warning, refused only under --strict.
        if let Some(l) = last.filter(|l| *l > last_id) {
            irregular::report(
                v,
                self.opts.strict,
                Irregularity::StreamLastIdBelowEntry,
                meta_at,
                format!("last ID {last_id} is below entry {l}"),
            )?;
        }
        v.stream_meta(&StreamMeta {
            length,
            last_id,
            first_id,
            max_deleted_id,
            entries_added,
        })?;
        self.groups(level, v)?;
        if level >= 4 {
            let idmp = self.idmp(v)?;
            v.stream_idmp(&idmp)?;
        }
        Ok(())
    }

    /// The IDMP state as a loader keeps it: producers stored with no entries are skipped, a
    /// repeated IID keeps its first occurrence, and a repeated producer is refused.
    fn idmp<V: Visitor + ?Sized>(&mut self, v: &mut V) -> Result<Idmp> {
        let at = self.src.pos();
        let duration_s = length::read(&mut self.src, "stream IDMP duration")?;
        if !(1..=86400).contains(&duration_s) {
            return Err(Error::corrupt(
                at,
                "stream IDMP duration",
                format!("{duration_s} s is outside 1..86400"),
            ));
        }
        let at = self.src.pos();
        let max_entries = length::read(&mut self.src, "stream IDMP max entries")?;
        if !(1..=10000).contains(&max_entries) {
            return Err(Error::corrupt(
                at,
                "stream IDMP max entries",
                format!("{max_entries} is outside 1..10000"),
            ));
        }
        let n = self.count("stream IDMP producer count", 2)?;
        let mut producers: Vec<IdmpProducer> = Vec::new();
        let mut pids: HashSet<Vec<u8>> = HashSet::new();
        for _ in 0..n {
            let at = self.src.pos();
            let pid = string::read(&mut self.src, &mut self.scratch, "stream IDMP producer id")?
                .bytes
                .to_vec();
            let count = self.count("stream IDMP entry count", 3)?;
            if count > 0 && !pids.insert(pid.clone()) {
                return Err(Error::corrupt(
                    at,
                    "stream IDMP producer id",
                    "producer stored twice",
                ));
            }
            let mut iids: HashSet<Vec<u8>> = HashSet::new();
            let mut entries = Vec::new();
            for _ in 0..count {
                let iid = string::read(&mut self.src, &mut self.scratch, "stream IDMP iid")?
                    .bytes
                    .to_vec();
                let id = self.stream_id("stream IDMP entry ID")?;
                v.note(Note::IdmpEntry);
                if iids.insert(iid.clone()) {
                    entries.push((iid, id));
                }
            }
            if count > 0 {
                producers.push(IdmpProducer { pid, entries });
            }
        }
        let iids_added = length::read(&mut self.src, "stream IDMP iids added")?;
        let iids_duplicates = length::read(&mut self.src, "stream IDMP iids duplicates")?;
        producers.sort_by(|a, b| a.pid.cmp(&b.pid));
        Ok(Idmp {
            duration_s,
            max_entries,
            producers,
            iids_added,
            iids_duplicates,
        })
    }

    fn groups<V: Visitor + ?Sized>(&mut self, level: u8, v: &mut V) -> Result<()> {
        let (v2, v3) = (level >= 2, level >= 3);
        let n = self.count("stream group count", 3)?;
        let mut names: HashSet<Vec<u8>> = HashSet::new();
        for _ in 0..n {
            let at = self.src.pos();
            let name = string::read(&mut self.src, &mut self.scratch, "stream group name")?
                .bytes
                .to_vec();
            if !names.insert(name.clone()) {
                return Err(Error::corrupt(at, "stream group name", "duplicate group"));
            }
            let last = self.stream_id("stream group last ID")?;
            let entries_read = if v2 {
                match length::read(&mut self.src, "stream group entries read")? {
                    u64::MAX => None,
                    n => Some(n),
                }
            } else {
                None
            };
            v.stream_group(&name, last, entries_read)?;
            let pel_n = self.count("group PEL size", 17)?;
            // Who owns each pending entry: filled in by the consumers that follow.
            let mut owned: HashMap<StreamId, bool> = HashMap::new();
            for _ in 0..pel_n {
                let at = self.src.pos();
                let id = id_from_raw(&self.src.array::<16>("PEL entry ID")?);
                let time = i64::from_le_bytes(self.src.array("PEL delivery time")?);
                let count = length::read(&mut self.src, "PEL delivery count")?;
                if owned.insert(id, false).is_some() {
                    return Err(Error::corrupt(
                        at,
                        "PEL entry ID",
                        format!("duplicate pending entry {id}"),
                    ));
                }
                v.stream_pending(id, time, count)?;
            }
            let cn = self.count("consumer count", 9)?;
            let mut consumers: HashSet<Vec<u8>> = HashSet::new();
            for _ in 0..cn {
                let at = self.src.pos();
                let cname = string::read(&mut self.src, &mut self.scratch, "consumer name")?
                    .bytes
                    .to_vec();
                if !consumers.insert(cname.clone()) {
                    return Err(Error::corrupt(at, "consumer name", "duplicate consumer"));
                }
                let seen = i64::from_le_bytes(self.src.array("consumer seen time")?);
                let active = if v3 {
                    Some(i64::from_le_bytes(self.src.array("consumer active time")?))
                } else {
                    None
                };
                v.stream_consumer(&cname, seen, active)?;
                let pn = self.count("consumer PEL size", 16)?;
                for _ in 0..pn {
                    let at = self.src.pos();
                    let id = id_from_raw(&self.src.array::<16>("consumer PEL entry")?);
                    match owned.get_mut(&id) {
                        None => {
                            return Err(Error::corrupt(
                                at,
                                "consumer PEL entry",
                                format!("{id} is not in the group's PEL"),
                            ))
                        }
                        Some(true) => {
                            return Err(Error::corrupt(
                                at,
                                "consumer PEL entry",
                                format!("{id} is owned twice"),
                            ))
                        }
                        Some(o) => *o = true,
                    }
                    v.stream_consumer_pending(id)?;
                }
            }
            if level >= 5 {
                let nn = self.count("stream NACK zone size", 16)?;
                let mut ids = Vec::with_capacity(nn as usize);
                for _ in 0..nn {
                    let at = self.src.pos();
                    let id = id_from_raw(&self.src.array::<16>("stream NACK zone entry")?);
                    let why = match owned.get(&id) {
                        None => Some("is not in the group's PEL"),
                        Some(true) => Some("has a consumer"),
                        Some(false) if ids.contains(&id) => Some("is listed twice"),
                        Some(false) => None,
                    };
                    if let Some(why) = why {
                        return Err(Error::corrupt(
                            at,
                            "stream NACK zone entry",
                            format!("{id} {why}"),
                        ));
                    }
                    v.note(Note::NackedEntry);
                    ids.push(id);
                }
                for id in &ids {
                    owned.insert(*id, true);
                }
                v.stream_nacked(&ids)?;
            }
            if let Some((id, _)) = owned.iter().find(|(_, o)| !**o) {
                return Err(Error::corrupt(
                    self.src.pos(),
                    "group PEL",
                    format!("pending entry {id} has no consumer"),
                ));
            }
        }
        Ok(())
    }
}

/// The state one stream's node walks share: the last entry ID, live entries, scratch space, and
/// how to report irregularities (strictly or not, at which absolute offset).
struct NodeWalk<'s> {
    last: &'s mut Option<StreamId>,
    live: &'s mut u64,
    spans: &'s mut Vec<(usize, usize)>,
    arena: &'s mut Vec<u8>,
    strict: bool,
    count_checked: bool,
    origin: Option<u64>,
    base: u64,
}

impl NodeWalk<'_> {
    /// Where to report something at `rel` within the node: a refusal stays relative (the caller
    /// rebases it onto the blob), a warning gets its absolute offset.
    fn at(&self, rel: u64) -> u64 {
        if self.strict {
            rel
        } else {
            self.origin.map_or(self.base, |o| o + rel)
        }
    }
}

/// Decodes one node listpack, handing live entries to the visitor.
fn node<V: Visitor + ?Sized>(
    blob: &[u8],
    master: StreamId,
    w: &mut NodeWalk<'_>,
    v: &mut V,
) -> Result<()> {
    // Redis checks a node's header only for its byte size (streamValidateListpackIntegrity runs
    // the shallow listpack check), so its element count is a warning here.
    let mut lp = Listpack::new_shallow(blob)?;
    let count = lp.expect_int("stream master count")?;
    let deleted = lp.expect_int("stream master deleted count")?;
    let nfields = lp.expect_int("stream master field count")?;
    if count < 0 || deleted < 0 || nfields < 0 {
        return Err(Error::corrupt(6, "stream master entry", "negative count"));
    }
    let mut master_fields = Vec::with_capacity((nfields as usize).min(blob.len()));
    for _ in 0..nfields {
        master_fields.push(lp.expect("stream master field")?);
    }
    let at = lp.pos() as u64;
    if lp.expect_int("stream master terminator")? != 0 {
        return Err(Error::corrupt(at, "stream master terminator", "expected 0"));
    }
    let mut entries: i64 = 0;
    let mut fields = Vec::new();
    while let Some(flags) = lp.next_elem()? {
        let at = lp.pos() as u64;
        let flags = flags
            .as_int()
            .ok_or_else(|| Error::corrupt(at, "stream entry flags", "not an integer"))?;
        let ms = lp.expect_int("stream entry ms delta")?;
        let seq = lp.expect_int("stream entry seq delta")?;
        let id = StreamId {
            ms: master.ms.wrapping_add(ms as u64),
            seq: master.seq.wrapping_add(seq as u64),
        };
        if let Some(l) = w.last.filter(|l| *l >= id) {
            let at = w.at(at);
            irregular::report(
                v,
                w.strict,
                Irregularity::StreamIdsNotIncreasing,
                at,
                format!("{id} is not above the previous entry {l}"),
            )?;
        }
        *w.last = Some(id);
        fields.clear();
        let n = if flags & FLAG_SAMEFIELDS != 0 {
            for f in &master_fields {
                fields.push((*f, lp.expect("stream entry value")?));
            }
            master_fields.len() as i64
        } else {
            let n = lp.expect_int("stream entry field count")?;
            if n < 0 {
                return Err(Error::corrupt(at, "stream entry field count", "negative"));
            }
            for _ in 0..n {
                let f = lp.expect("stream entry field")?;
                fields.push((f, lp.expect("stream entry value")?));
            }
            n
        };
        let lp_count = lp.expect_int("stream entry lp-count")?;
        let expected = if flags & FLAG_SAMEFIELDS != 0 {
            n + 3
        } else {
            2 * n + 4
        };
        if lp_count != expected {
            return Err(Error::corrupt(
                at,
                "stream entry lp-count",
                format!("lp-count {lp_count}, expected {expected}"),
            ));
        }
        entries += 1;
        if flags & FLAG_DELETED != 0 {
            v.note(Note::DeletedStreamEntry);
            continue;
        }
        *w.live += 1;
        // Integers must become text before slices can be lent; render them into one arena.
        w.arena.clear();
        w.spans.clear();
        for (f, val) in &fields {
            for e in [f, val] {
                let s = w.arena.len();
                e.with_bytes(|b| w.arena.extend_from_slice(b));
                w.spans.push((s, w.arena.len()));
            }
        }
        let arena = &w.arena;
        let pairs: Vec<(&[u8], &[u8])> = w
            .spans
            .chunks(2)
            .map(|c| (&arena[c[0].0..c[0].1], &arena[c[1].0..c[1].1]))
            .collect();
        v.stream_entry(id, &pairs)?;
    }
    if entries == 0 {
        return Err(Error::corrupt(0, "stream node", "empty node"));
    }
    if lp.count_mismatch() && w.count_checked {
        return Err(Error::corrupt(
            4,
            "stream node listpack header",
            "num_elements in the header differs from the elements",
        ));
    }
    if lp.count_mismatch() {
        let at = w.at(4);
        irregular::report(
            v,
            w.strict,
            Irregularity::StreamNodeCount,
            at,
            "num_elements in the header differs from the elements",
        )?;
    }
    if entries != count + deleted {
        return Err(Error::corrupt(
            6,
            "stream master entry",
            format!("count {count} + deleted {deleted} but {entries} entries"),
        ));
    }
    Ok(())
}

fn raw_id(out: &mut Vec<u8>, id: StreamId) {
    out.extend_from_slice(&id.ms.to_be_bytes());
    out.extend_from_slice(&id.seq.to_be_bytes());
}

fn len_id(out: &mut Vec<u8>, id: StreamId) {
    length::write(out, id.ms);
    length::write(out, id.seq);
}

/// The stream layout of a type byte: 1 to 5 for types 15, 19, 21, 26, 27.
fn layout(ty: ValueType) -> u8 {
    match ty {
        ValueType::StreamListpacks => 1,
        ValueType::StreamListpacks2 => 2,
        ValueType::StreamListpacks3 => 3,
        ValueType::StreamListpacks4 => 4,
        _ => 5,
    }
}

/// Appends a stream in layout `ty` (15, 19, 21, 26 or 27): nodes of at most
/// `stream-node-max-entries` entries and about `stream-node-max-bytes` bytes, each keyed by its
/// first ID, whose fields become the master fields that later entries may share. Listpacks use
/// the back-length form of `lp` (see [`super::listpack::Builder::with_form`]). Below layout 5
/// NACKed pending entries (which have no consumer) are left out of the PEL.
pub fn write(
    strings: &mut string::Writer,
    th: &super::target::Thresholds,
    lp_form: super::listpack::Backlen,
    out: &mut Vec<u8>,
    ty: ValueType,
    s: &crate::dataset::Stream,
) {
    let level = layout(ty);
    let (v2, v3) = (level >= 2, level >= 3);
    let mut nodes: Vec<(StreamId, Vec<u8>)> = Vec::new();
    let mut i = 0;
    while i < s.entries.len() {
        let master = &s.entries[i];
        let master_fields: Vec<&[u8]> = master.fields.iter().map(|(f, _)| f.as_slice()).collect();
        let mut body = super::listpack::Builder::with_form(lp_form);
        let mut count = 0usize;
        let mut j = i;
        while j < s.entries.len()
            && count < th.stream_node_max_entries
            && (count == 0 || body.len() < th.stream_node_max_bytes)
        {
            let e = &s.entries[j];
            let same = e.fields.len() == master_fields.len()
                && e.fields
                    .iter()
                    .zip(&master_fields)
                    .all(|((f, _), m)| f == m);
            body.push_int(if same { FLAG_SAMEFIELDS } else { 0 });
            body.push_int(e.id.ms.wrapping_sub(master.id.ms) as i64);
            body.push_int(e.id.seq.wrapping_sub(master.id.seq) as i64);
            let n = e.fields.len() as i64;
            if same {
                for (_, v) in &e.fields {
                    body.push(v);
                }
                body.push_int(n + 3);
            } else {
                body.push_int(n);
                for (f, v) in &e.fields {
                    body.push(f);
                    body.push(v);
                }
                body.push_int(2 * n + 4);
            }
            count += 1;
            j += 1;
        }
        // The master entry comes first in the listpack; it is built once the count is known.
        let mut lp = super::listpack::Builder::with_form(lp_form);
        lp.push_int(count as i64);
        lp.push_int(0);
        lp.push_int(master_fields.len() as i64);
        for f in &master_fields {
            lp.push(f);
        }
        lp.push_int(0);
        let mut blob = lp.finish();
        let entries = body.finish();
        // Splice: master entry (without its end byte) + entries (without their header).
        blob.pop();
        blob.extend_from_slice(&entries[6..]);
        let total = blob.len() as u32;
        blob[..4].copy_from_slice(&total.to_le_bytes());
        let n = 4 + master_fields.len();
        let elements = n + entries_count(&entries);
        let n16 = if elements >= 65535 {
            65535
        } else {
            elements as u16
        };
        blob[4..6].copy_from_slice(&n16.to_le_bytes());
        nodes.push((master.id, blob));
        i = j;
    }
    length::write(out, nodes.len() as u64);
    for (id, blob) in &nodes {
        let mut key = Vec::with_capacity(16);
        raw_id(&mut key, *id);
        strings.write(out, &key);
        strings.write(out, blob);
    }
    length::write(out, s.length);
    len_id(out, s.last_id);
    if v2 {
        let first = s
            .first_id
            .unwrap_or_else(|| s.entries.first().map(|e| e.id).unwrap_or_default());
        len_id(out, first);
        len_id(out, s.max_deleted_id.unwrap_or_default());
        length::write(out, s.entries_added.unwrap_or(s.length));
    }
    length::write(out, s.groups.len() as u64);
    for g in &s.groups {
        strings.write(out, &g.name);
        len_id(out, g.last_delivered_id);
        if v2 {
            length::write(out, g.entries_read.unwrap_or(u64::MAX));
        }
        let nacked: &[StreamId] = g.nacked.as_deref().unwrap_or(&[]);
        let kept = |p: &&crate::dataset::PendingEntry| level >= 5 || !nacked.contains(&p.id);
        length::write(out, g.pending.iter().filter(kept).count() as u64);
        for p in g.pending.iter().filter(kept) {
            raw_id(out, p.id);
            out.extend_from_slice(&p.delivery_time_ms.to_le_bytes());
            length::write(out, p.delivery_count);
        }
        length::write(out, g.consumers.len() as u64);
        for c in &g.consumers {
            strings.write(out, &c.name);
            out.extend_from_slice(&c.seen_time_ms.to_le_bytes());
            if v3 {
                out.extend_from_slice(&c.active_time_ms.unwrap_or(c.seen_time_ms).to_le_bytes());
            }
            length::write(out, c.pending.len() as u64);
            for id in &c.pending {
                raw_id(out, *id);
            }
        }
        if level >= 5 {
            length::write(out, nacked.len() as u64);
            for id in nacked {
                raw_id(out, *id);
            }
        }
    }
    if level >= 4 {
        let default = Idmp::default();
        let i = s.idmp.as_ref().unwrap_or(&default);
        length::write(out, i.duration_s);
        length::write(out, i.max_entries);
        length::write(out, i.producers.len() as u64);
        for p in &i.producers {
            strings.write(out, &p.pid);
            length::write(out, p.entries.len() as u64);
            for (iid, id) in &p.entries {
                strings.write(out, iid);
                len_id(out, *id);
            }
        }
        length::write(out, i.iids_added);
        length::write(out, i.iids_duplicates);
    }
}

/// The element count of a finished listpack (its header, or a walk when it says "unknown").
fn entries_count(lp: &[u8]) -> usize {
    let n = u16::from_le_bytes([lp[4], lp[5]]);
    if n != super::listpack::UNKNOWN_COUNT {
        return n as usize;
    }
    super::listpack::for_each(lp, |_| Ok(())).map_or(0, |n| n as usize)
}

#[cfg(test)]
mod tests {
    use crate::format::error::ErrorKind;
    use crate::format::rdb::opcode::ValueType;

    fn read(body: &[u8]) -> crate::format::error::Error {
        crate::format::rdb::reader::object_error(body, 9)
    }

    /// An error inside a node's listpack is exact when the node is stored raw and names the
    /// node string's prefix when it was LZF-compressed. The node's master entry starts with a
    /// count of -1 (13-bit int 0xdf 0xff), refused at the listpack's first element (offset 6).
    #[test]
    fn an_error_in_a_compressed_node_points_at_the_node() {
        // 14 bytes: header (total 14, 3 elements), count -1, deleted 0, fields 0, end.
        let lp = [14, 0, 0, 0, 3, 0, 0xdf, 0xff, 2, 0, 1, 0, 1, 0xff];
        // Type 15, one node, its 16-byte master ID key (length 16 at offset 2, ID from 3).
        let mut head = vec![ValueType::StreamListpacks.byte(), 1, 16];
        head.extend_from_slice(&[0; 16]);
        assert_eq!(head.len(), 19);
        // Raw: length 14 at offset 19, the listpack from offset 20.
        let mut raw = head.clone();
        raw.push(14);
        raw.extend_from_slice(&lp);
        let e = read(&raw);
        assert_eq!((e.kind, e.offset), (ErrorKind::Corrupt, Some(20 + 6)));
        // RDB_ENC_LZF from offset 19: 0xc3, clen 15, ulen 14, one literal run of 14 bytes.
        let mut lzf = head;
        lzf.extend_from_slice(&[0xc3, 15, 14, 13]);
        lzf.extend_from_slice(&lp);
        let e = read(&lzf);
        assert_eq!((e.kind, e.offset), (ErrorKind::Corrupt, Some(19)));
    }
}
