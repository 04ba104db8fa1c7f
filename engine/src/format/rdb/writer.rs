//! The RDB writer, mirroring `reader.rs`: header, aux fields, functions, then per database
//! SELECTDB, RESIZEDB and key records, then EOF and the CRC-64 trailer, streamed to any `Write`.
use super::encode::Encoder;
use super::length;
use super::opcode::{Magic, Opcode};
use super::target::{assess, Report, Target, Thresholds};
use crate::dataset::{Dataset, Value};
use crate::format::crc64::Crc64;
use std::io::Write;

/// How to write.
#[derive(Debug, Clone, Copy)]
pub struct WriteOptions {
    /// Version and dialect.
    pub target: Target,
    /// Encoding thresholds.
    pub thresholds: Thresholds,
    /// `rdbcompression`.
    pub compression: bool,
    /// `rdbchecksum`: without it the trailer is written as zero.
    pub checksum: bool,
    /// Unix seconds for the `ctime` aux field.
    pub ctime: i64,
    /// Write what the target can hold when it cannot hold everything.
    pub allow_loss: bool,
    /// Mark the file as an AOF base (`aof-base 1`, or `aof-preamble 1` before RDB 10).
    pub aof_base: bool,
    /// Encoding threads: 0 picks one per core (up to 8). The bytes written never depend on it.
    pub threads: usize,
    /// A planted bug, never set outside the test suite's hunts: listpack integers that need
    /// 24 bits are written in the 16-bit form (the value silently truncated).
    #[doc(hidden)]
    pub narrow_listpack_ints: bool,
}

impl WriteOptions {
    /// Redis's defaults for `target`, with `ctime` as given.
    pub fn new(target: Target, ctime: i64) -> WriteOptions {
        WriteOptions {
            target,
            thresholds: Thresholds::default(),
            compression: true,
            checksum: true,
            ctime,
            allow_loss: false,
            aof_base: false,
            threads: 0,
            narrow_listpack_ints: false,
        }
    }
}

/// Why writing failed.
#[derive(Debug)]
pub enum WriteError {
    /// The target cannot hold the dataset and `allow_loss` is off.
    Refused(Report),
    /// The dataset breaks an invariant no RDB can hold (names the key and the problem).
    Invalid(String),
    /// The output failed.
    Io(std::io::Error),
}

impl std::fmt::Display for WriteError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            WriteError::Refused(r) => write!(
                f,
                "the target cannot hold {} part(s) of the dataset",
                r.lost.len()
            ),
            WriteError::Invalid(m) => write!(f, "invalid dataset: {m}"),
            WriteError::Io(e) => write!(f, "write failed: {e}"),
        }
    }
}

impl std::error::Error for WriteError {}

impl From<std::io::Error> for WriteError {
    fn from(e: std::io::Error) -> Self {
        WriteError::Io(e)
    }
}

/// What was written.
#[derive(Debug, Clone, Default)]
pub struct Written {
    /// Bytes written.
    pub bytes: u64,
    /// Keys written.
    pub keys: u64,
    /// What was lost or filled in (empty when the target holds the dataset exactly).
    pub report: Report,
}

/// Output is handed to the `Write` in chunks of about this size.
const CHUNK: usize = 1 << 16;
/// Keys per parallel batch, and the smallest dataset worth spreading over threads.
const BATCH_KEYS: usize = 4096;
const PARALLEL_MIN_KEYS: usize = 2 * BATCH_KEYS;
const MAX_THREADS: usize = 8;

/// Appends one key record: expiry, LRU/LFU metadata where the version has them, type, key, value.
fn encode_key(enc: &mut Encoder, out: &mut Vec<u8>, e: &crate::dataset::Entry, lvl: u32) {
    if let Some(t) = e.expire_ms {
        out.push(Opcode::ExpireTimeMs.byte());
        out.extend_from_slice(&t.to_le_bytes());
    }
    if lvl >= 9 {
        if let Some(idle) = e.idle_s {
            out.push(Opcode::Idle.byte());
            length::write(out, idle);
        }
        if let Some(f) = e.freq {
            out.push(Opcode::Freq.byte());
            out.push(f);
        }
    }
    if enc.target.key_meta() {
        super::keymeta::write(out, &e.attrs.meta);
    }
    let ty = enc.choose_key(e);
    out.push(ty.byte());
    enc.string(out, &e.key);
    enc.key_value(out, ty, e);
}

struct Sink<W> {
    w: W,
    buf: Vec<u8>,
    crc: Crc64,
    written: u64,
}

impl<W: Write> Sink<W> {
    fn flush_if_full(&mut self) -> std::io::Result<()> {
        if self.buf.len() >= CHUNK {
            self.flush()?;
        }
        Ok(())
    }
    /// Writes `bytes` after whatever is buffered, keeping the CRC in step.
    fn put(&mut self, bytes: &[u8]) -> std::io::Result<()> {
        self.flush()?;
        self.crc.update(bytes);
        self.w.write_all(bytes)?;
        self.written += bytes.len() as u64;
        Ok(())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        self.crc.update(&self.buf);
        self.w.write_all(&self.buf)?;
        self.written += self.buf.len() as u64;
        self.buf.clear();
        Ok(())
    }
}

pub use super::validate::validate;

/// Writes `ds` (in canonical order) as an RDB of `opts.target` to `w`.
pub fn write_dataset<W: Write>(
    ds: &Dataset,
    opts: &WriteOptions,
    w: W,
) -> Result<Written, WriteError> {
    validate(ds).map_err(WriteError::Invalid)?;
    let report = assess(ds, opts.target);
    if !report.lost.is_empty() && !opts.allow_loss {
        return Err(WriteError::Refused(report));
    }
    let t = opts.target;
    let lvl = t.level();
    let mut enc = Encoder::new(t, opts.thresholds, opts.compression);
    enc.narrow_listpack_ints = opts.narrow_listpack_ints;
    let mut s = Sink {
        w,
        buf: Vec::with_capacity(CHUNK * 2),
        crc: Crc64::new(),
        written: 0,
    };
    s.buf.extend_from_slice(&t.0.bytes());
    if lvl >= 7 {
        let ver_key: &[u8] = if t.0.magic == Magic::Valkey {
            b"valkey-ver"
        } else {
            b"redis-ver"
        };
        let mut aux = |s: &mut Sink<W>, k: &[u8], v: &[u8]| {
            s.buf.push(Opcode::Aux.byte());
            enc.string(&mut s.buf, k);
            enc.string(&mut s.buf, v);
        };
        aux(&mut s, ver_key, t.server_version().as_bytes());
        aux(&mut s, b"redis-bits", b"64");
        aux(&mut s, b"ctime", opts.ctime.to_string().as_bytes());
        aux(&mut s, b"used-mem", b"0");
        if lvl >= 10 {
            aux(&mut s, b"aof-base", if opts.aof_base { b"1" } else { b"0" });
        } else if lvl >= 8 {
            aux(
                &mut s,
                b"aof-preamble",
                if opts.aof_base { b"1" } else { b"0" },
            );
        }
    }
    if lvl >= 10 {
        for f in &ds.functions {
            s.buf.push(Opcode::Function2.byte());
            enc.string(&mut s.buf, f);
        }
    }
    if t.hash_templates() {
        let reg = std::sync::Arc::new(super::template::Registry::build(ds));
        reg.write_records(&mut enc.strings, &mut s.buf);
        enc.templates = Some(reg);
    }
    let mut keys = 0u64;
    let threads = match opts.threads {
        0 => std::thread::available_parallelism()
            .map_or(1, |n| n.get())
            .min(MAX_THREADS),
        n => n,
    };
    let mut workers: Vec<(Encoder, Vec<u8>)> = if threads > 1 && ds.keys.len() >= PARALLEL_MIN_KEYS
    {
        (0..threads)
            .map(|_| {
                let mut w = Encoder::new(t, opts.thresholds, opts.compression);
                w.narrow_listpack_ints = opts.narrow_listpack_ints;
                w.templates = enc.templates.clone();
                (w, Vec::new())
            })
            .collect()
    } else {
        Vec::new()
    };
    let mut i = 0;
    while i < ds.keys.len() {
        let db = ds.keys[i].db;
        let end = i + ds.keys[i..].iter().take_while(|e| e.db == db).count();
        let writable = |e: &&crate::dataset::Entry| match &e.value {
            Value::Stream(_) => lvl >= 9,
            Value::Module(_) => lvl >= 8,
            Value::Array(a) => t.arrays() && !a.elements.is_empty(),
            v => !v.is_empty_collection(),
        };
        let db_keys: Vec<_> = ds.keys[i..end].iter().filter(writable).collect();
        i = end;
        if db_keys.is_empty() {
            continue;
        }
        s.buf.push(Opcode::SelectDb.byte());
        length::write(&mut s.buf, db);
        if lvl >= 7 {
            s.buf.push(Opcode::ResizeDb.byte());
            length::write(&mut s.buf, db_keys.len() as u64);
            length::write(
                &mut s.buf,
                db_keys.iter().filter(|e| e.expire_ms.is_some()).count() as u64,
            );
        }
        keys += db_keys.len() as u64;
        if workers.is_empty() || db_keys.len() < PARALLEL_MIN_KEYS {
            for e in db_keys {
                encode_key(&mut enc, &mut s.buf, e, lvl);
                s.flush_if_full()?;
            }
            continue;
        }
        // Keys are encoded in parallel batches, each worker with its own encoder and buffer,
        // and the batches are written in order: the bytes are the same as a sequential write.
        for window in db_keys.chunks(BATCH_KEYS * workers.len()) {
            std::thread::scope(|sc| {
                for ((wenc, wbuf), chunk) in workers.iter_mut().zip(window.chunks(BATCH_KEYS)) {
                    sc.spawn(move || {
                        wbuf.clear();
                        for e in chunk {
                            encode_key(wenc, wbuf, e, lvl);
                        }
                    });
                }
            });
            for (_, wbuf) in workers.iter().take(window.len().div_ceil(BATCH_KEYS)) {
                s.put(wbuf)?;
            }
        }
    }
    s.buf.push(Opcode::Eof.byte());
    if t.0.has_checksum() {
        s.crc.update(&s.buf);
        let crc = if opts.checksum { s.crc.value() } else { 0 };
        s.w.write_all(&s.buf)?;
        s.written += s.buf.len() as u64;
        s.buf.clear();
        s.buf.extend_from_slice(&crc.to_le_bytes());
    }
    s.w.write_all(&s.buf)?;
    s.written += s.buf.len() as u64;
    s.w.flush()?;
    Ok(Written {
        bytes: s.written,
        keys,
        report,
    })
}

/// Writes `ds` into a byte vector.
pub fn write_to_vec(ds: &Dataset, opts: &WriteOptions) -> Result<Vec<u8>, WriteError> {
    let mut out = Vec::new();
    write_dataset(ds, opts, &mut out)?;
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::dataset::{Entry, Value};

    /// Bytes after the checksum (which Redis ignores) are drained and counted, up to the bound.
    #[test]
    fn trailing_bytes_after_the_checksum_are_counted() {
        let ds = Dataset::default();
        let mut rdb = write_to_vec(&ds, &WriteOptions::new(Target::redis(11).unwrap(), 1)).unwrap();
        rdb.extend_from_slice(b"junk");
        let read = |max| {
            let opts = crate::format::rdb::ReadOptions::default();
            let mut r = crate::format::rdb::RdbReader::new(&rdb[..], opts).unwrap();
            r.read_all(&mut crate::format::rdb::visit::Discard).unwrap();
            r.drain_trailing(max).unwrap()
        };
        assert_eq!(read(100), (4, false));
        assert_eq!(read(3), (3, true));
    }

    /// Parallel batches must write exactly the bytes a single thread writes.
    #[test]
    fn threads_do_not_change_the_bytes() {
        let keys = (0..3 * PARALLEL_MIN_KEYS as u64)
            .map(|i| Entry {
                db: i % 3,
                key: format!("key:{i:07}").into_bytes(),
                expire_ms: (i % 5 == 0).then_some(1_700_000_000_000 + i as i64),
                idle_s: None,
                freq: None,
                value: match i % 3 {
                    0 => Value::String(
                        format!("value {i} {}", "abc".repeat((i % 20) as usize)).into_bytes(),
                    ),
                    1 => Value::List(vec![
                        i.to_string().into_bytes(),
                        b"x".repeat((i % 70) as usize),
                    ]),
                    _ => Value::Set(vec![
                        i.to_string().into_bytes(),
                        (i * 3).to_string().into_bytes(),
                    ]),
                },
                attrs: Default::default(),
            })
            .collect();
        let mut ds = Dataset {
            source: None,
            functions: vec![],
            keys,
        };
        ds.canonicalize();
        let mut one = WriteOptions::new(Target::redis(11).expect("11"), 1);
        one.threads = 1;
        let mut many = one;
        many.threads = 3;
        assert_eq!(
            write_to_vec(&ds, &one).unwrap(),
            write_to_vec(&ds, &many).unwrap()
        );
        // What was written counts every key of every database.
        for opts in [one, many] {
            let w = write_dataset(&ds, &opts, std::io::sink()).unwrap();
            assert_eq!(w.keys, ds.keys.len() as u64);
        }
    }
}
