//! A stream's expectation from `XINFO STREAM key FULL COUNT 0`: every entry, group, PEL row and
//! consumer; a field the server does not report (older versions) becomes `None`, as is a nil one.
use super::resp::{Client, Reply};
use crate::dataset::{Consumer, Group, PendingEntry, Stream, StreamEntry, StreamId};
use std::io;

fn bad(msg: impl Into<String>) -> io::Error {
    io::Error::new(io::ErrorKind::InvalidData, msg.into())
}

/// Named fields of one XINFO map, taken out by name so unknown fields are ignored.
struct Fields(Vec<(String, Reply)>);

impl Fields {
    fn new(r: Reply) -> io::Result<Fields> {
        Ok(Fields(r.into_pairs()?))
    }

    fn take(&mut self, name: &str) -> Option<Reply> {
        let i = self.0.iter().position(|(k, _)| k == name)?;
        Some(self.0.swap_remove(i).1)
    }

    fn need(&mut self, name: &str) -> io::Result<Reply> {
        self.take(name)
            .ok_or_else(|| bad(format!("XINFO STREAM FULL reply lacks {name:?}")))
    }

    fn int(&mut self, name: &str) -> io::Result<i64> {
        self.need(name)?.as_int()
    }

    fn id(&mut self, name: &str) -> io::Result<StreamId> {
        parse_id(self.need(name)?)
    }

    fn opt_id(&mut self, name: &str) -> io::Result<Option<StreamId>> {
        self.take(name)
            .filter(|r| !r.is_nil())
            .map(parse_id)
            .transpose()
    }

    fn opt_int(&mut self, name: &str) -> io::Result<Option<i64>> {
        self.take(name)
            .filter(|r| !r.is_nil())
            .map(|r| r.as_int())
            .transpose()
    }

    fn list(&mut self, name: &str) -> io::Result<Vec<Reply>> {
        match self.take(name) {
            None => Ok(Vec::new()),
            Some(r) => r.into_array(),
        }
    }
}

fn parse_id(r: Reply) -> io::Result<StreamId> {
    let text = r.into_text()?;
    text.parse().map_err(bad)
}

fn unsigned(v: i64, what: &str) -> io::Result<u64> {
    u64::try_from(v).map_err(|_| bad(format!("negative {what}: {v}")))
}

fn fixed<const N: usize>(r: Reply, what: &str) -> io::Result<[Reply; N]> {
    let v = r.into_array()?;
    let n = v.len();
    v.try_into()
        .map_err(|_| bad(format!("{what} has {n} elements, expected {N}")))
}

fn entry(r: Reply) -> io::Result<StreamEntry> {
    let [id, kv] = fixed(r, "stream entry")?;
    let flat = kv.into_array()?;
    if flat.len() % 2 != 0 {
        return Err(bad("stream entry has an odd number of field/value items"));
    }
    let mut fields = Vec::with_capacity(flat.len() / 2);
    let mut it = flat.into_iter();
    while let (Some(f), Some(v)) = (it.next(), it.next()) {
        fields.push((f.into_bytes()?, v.into_bytes()?));
    }
    Ok(StreamEntry {
        id: parse_id(id)?,
        fields,
    })
}

fn consumer(r: Reply) -> io::Result<Consumer> {
    let mut f = Fields::new(r)?;
    let pending = f
        .list("pending")?
        .into_iter()
        .map(|row| {
            let [id, _time, _count] = fixed(row, "consumer PEL row")?;
            parse_id(id)
        })
        .collect::<io::Result<Vec<_>>>()?;
    Ok(Consumer {
        name: f.need("name")?.into_bytes()?,
        seen_time_ms: f.int("seen-time")?,
        // Reported from 7.2 / Valkey on; the file carries it from RDB 11.
        active_time_ms: f.opt_int("active-time")?,
        pending,
    })
}

fn group(r: Reply) -> io::Result<Group> {
    let mut f = Fields::new(r)?;
    let pending = f
        .list("pending")?
        .into_iter()
        .map(|row| {
            let [id, consumer, time, count] = fixed(row, "group PEL row")?;
            Ok(PendingEntry {
                id: parse_id(id)?,
                consumer: consumer.into_bytes()?,
                delivery_time_ms: time.as_int()?,
                delivery_count: unsigned(count.as_int()?, "delivery count")?,
            })
        })
        .collect::<io::Result<Vec<_>>>()?;
    let consumers = f
        .list("consumers")?
        .into_iter()
        .map(consumer)
        .collect::<io::Result<Vec<_>>>()?;
    Ok(Group {
        name: f.need("name")?.into_bytes()?,
        last_delivered_id: f.id("last-delivered-id")?,
        // Absent before 7.0; nil where the server holds the "unknown" value.
        entries_read: f
            .opt_int("entries-read")?
            .map(|v| unsigned(v, "entries-read"))
            .transpose()?,
        pending,
        consumers,
        // Servers before Redis 8.8 have no NACK zones (and none runs here that has).
        nacked: None,
    })
}

/// Reads the whole stream at `key` (the current database) with all entries.
pub fn read_stream(client: &mut Client, key: &[u8]) -> io::Result<Stream> {
    // COUNT 0 lifts FULL's default limit of 10 entries and 10 PEL rows.
    let reply = client.call(&[b"XINFO", b"STREAM", key, b"FULL", b"COUNT", b"0"])?;
    let mut f = Fields::new(reply)?;
    let length = unsigned(f.int("length")?, "length")?;
    let entries = f
        .list("entries")?
        .into_iter()
        .map(entry)
        .collect::<io::Result<Vec<_>>>()?;
    if entries.len() as u64 != length {
        return Err(bad(format!(
            "XINFO reported length {length} but listed {} entries",
            entries.len()
        )));
    }
    let groups = f
        .list("groups")?
        .into_iter()
        .map(group)
        .collect::<io::Result<Vec<_>>>()?;
    Ok(Stream {
        length,
        last_id: f.id("last-generated-id")?,
        first_id: f.opt_id("recorded-first-entry-id")?,
        max_deleted_id: f.opt_id("max-deleted-entry-id")?,
        entries_added: f
            .opt_int("entries-added")?
            .map(|v| unsigned(v, "entries-added"))
            .transpose()?,
        entries,
        groups,
        idmp: None,
    })
}
