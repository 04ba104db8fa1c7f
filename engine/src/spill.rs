//! Sorting more records than memory should hold (fixed-size ones, or keyed byte blobs): sorted runs of at most a budget's
//! worth are spilled to temp files (unlinked at once, so nothing outlives the process) and merged.
use std::cmp::Reverse;
use std::collections::BinaryHeap;
use std::fs::File;
use std::io::{self, BufReader, BufWriter, Read, Seek, SeekFrom, Write};

/// A record: compared by `key`, then `b`, then `c`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Default)]
pub struct Rec {
    /// The sort key.
    pub key: u64,
    /// A second word.
    pub b: u64,
    /// A third word.
    pub c: u64,
}

/// A record's size on disk.
pub(crate) const REC_BYTES: usize = 24;

impl Rec {
    pub(crate) fn to_bytes(self) -> [u8; REC_BYTES] {
        let mut out = [0u8; REC_BYTES];
        out[..8].copy_from_slice(&self.key.to_le_bytes());
        out[8..16].copy_from_slice(&self.b.to_le_bytes());
        out[16..].copy_from_slice(&self.c.to_le_bytes());
        out
    }

    pub(crate) fn from_bytes(b: &[u8; REC_BYTES]) -> Rec {
        let w = |i: usize| {
            let mut x = [0u8; 8];
            x.copy_from_slice(&b[i..i + 8]);
            u64::from_le_bytes(x)
        };
        Rec {
            key: w(0),
            b: w(8),
            c: w(16),
        }
    }
}

/// Records pushed in any order, given back sorted.
pub struct Spill {
    buf: Vec<Rec>,
    cap: usize,
    runs: Vec<File>,
}

/// A temp file that no name points to.
pub(crate) fn anonymous_file() -> io::Result<File> {
    let dir = std::env::temp_dir();
    for attempt in 0..100u32 {
        let nanos = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.subsec_nanos());
        let path = dir.join(format!(
            ".redis-persist-spill-{}-{nanos:x}-{attempt}",
            std::process::id()
        ));
        match std::fs::OpenOptions::new()
            .read(true)
            .write(true)
            .create_new(true)
            .open(&path)
        {
            Ok(f) => {
                let _ = std::fs::remove_file(&path);
                return Ok(f);
            }
            Err(e) if e.kind() == io::ErrorKind::AlreadyExists => continue,
            Err(e) => return Err(e),
        }
    }
    Err(io::Error::other("no free temp file name"))
}

impl Spill {
    /// A sorter holding at most about `memory` bytes of records before it spills.
    pub fn new(memory: usize) -> Spill {
        Spill {
            buf: Vec::new(),
            cap: (memory / std::mem::size_of::<Rec>()).max(1024),
            runs: Vec::new(),
        }
    }

    /// Adds a record.
    pub fn push(&mut self, r: Rec) -> io::Result<()> {
        self.buf.push(r);
        if self.buf.len() >= self.cap {
            self.spill()?;
        }
        Ok(())
    }

    fn spill(&mut self) -> io::Result<()> {
        self.buf.sort_unstable();
        let mut f = anonymous_file()?;
        {
            let mut w = BufWriter::with_capacity(1 << 16, &mut f);
            for r in &self.buf {
                w.write_all(&r.to_bytes())?;
            }
            w.flush()?;
        }
        f.seek(SeekFrom::Start(0))?;
        self.runs.push(f);
        self.buf.clear();
        Ok(())
    }

    /// Every record, in order.
    pub fn sorted(mut self) -> io::Result<Sorted> {
        self.buf.sort_unstable();
        let mut runs: Vec<Run> = self
            .runs
            .into_iter()
            .map(|f| Run::File(BufReader::with_capacity(1 << 16, f)))
            .collect();
        runs.push(Run::Memory(std::mem::take(&mut self.buf).into_iter()));
        let mut heap = BinaryHeap::new();
        for (i, r) in runs.iter_mut().enumerate() {
            if let Some(rec) = r.next()? {
                heap.push(Reverse((rec, i)));
            }
        }
        Ok(Sorted { runs, heap })
    }
}

enum Run {
    File(BufReader<File>),
    Memory(std::vec::IntoIter<Rec>),
}

impl Run {
    fn next(&mut self) -> io::Result<Option<Rec>> {
        match self {
            Run::Memory(it) => Ok(it.next()),
            Run::File(r) => {
                let mut b = [0u8; REC_BYTES];
                match r.read_exact(&mut b) {
                    Ok(()) => Ok(Some(Rec::from_bytes(&b))),
                    Err(e) if e.kind() == io::ErrorKind::UnexpectedEof => Ok(None),
                    Err(e) => Err(e),
                }
            }
        }
    }
}

/// The merged records.
pub struct Sorted {
    runs: Vec<Run>,
    heap: BinaryHeap<Reverse<(Rec, usize)>>,
}

impl Iterator for Sorted {
    type Item = io::Result<Rec>;
    fn next(&mut self) -> Option<io::Result<Rec>> {
        let Reverse((rec, i)) = self.heap.pop()?;
        match self.runs[i].next() {
            Ok(Some(n)) => self.heap.push(Reverse((n, i))),
            Ok(None) => {}
            Err(e) => return Some(Err(e)),
        }
        Some(Ok(rec))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn many_runs_merge_in_order() {
        let mut rng = crate::rng::Rng::new(5);
        let mut s = Spill::new(0);
        let mut all = Vec::new();
        for i in 0..10_000u64 {
            let r = Rec {
                key: rng.below(3000),
                b: i,
                c: 7,
            };
            all.push(r);
            s.push(r).unwrap();
        }
        all.sort_unstable();
        let got: Vec<Rec> = s.sorted().unwrap().map(Result::unwrap).collect();
        assert_eq!(got, all);
    }
}

/// Variable-sized records (a sort key and a payload, both bytes) pushed in any order, given back
/// sorted by key with at most about `memory` bytes held: what `dump --json` sorts keys with.
pub struct BlobSpill {
    buf: Vec<(Vec<u8>, Vec<u8>)>,
    held: usize,
    memory: usize,
    runs: Vec<File>,
}

/// Bookkeeping per held record beyond its bytes.
const BLOB_OVERHEAD: usize = 64;

impl BlobSpill {
    /// A sorter holding about `memory` bytes before it spills a sorted run to a temp file.
    pub fn new(memory: usize) -> BlobSpill {
        BlobSpill {
            buf: Vec::new(),
            held: 0,
            memory,
            runs: Vec::new(),
        }
    }

    /// Adds a record.
    pub fn push(&mut self, key: Vec<u8>, payload: Vec<u8>) -> io::Result<()> {
        self.held += key.len() + payload.len() + BLOB_OVERHEAD;
        self.buf.push((key, payload));
        if self.held >= self.memory {
            self.spill()?;
        }
        Ok(())
    }

    /// How many runs went to disk so far.
    pub fn runs(&self) -> usize {
        self.runs.len()
    }

    fn spill(&mut self) -> io::Result<()> {
        self.buf.sort_unstable_by(|a, b| a.0.cmp(&b.0));
        let mut f = anonymous_file()?;
        {
            let mut w = BufWriter::with_capacity(1 << 16, &mut f);
            for (k, v) in self.buf.drain(..) {
                w.write_all(&(k.len() as u32).to_le_bytes())?;
                w.write_all(&(v.len() as u64).to_le_bytes())?;
                w.write_all(&k)?;
                w.write_all(&v)?;
            }
            w.flush()?;
        }
        f.seek(SeekFrom::Start(0))?;
        self.runs.push(f);
        self.held = 0;
        Ok(())
    }

    /// Calls `f` with every record, in key order (equal keys in no set order).
    pub fn for_each_sorted(
        mut self,
        mut f: impl FnMut(&[u8], &[u8]) -> io::Result<()>,
    ) -> io::Result<()> {
        self.buf.sort_unstable_by(|a, b| a.0.cmp(&b.0));
        let mut readers: Vec<BufReader<File>> = self
            .runs
            .into_iter()
            .map(|r| BufReader::with_capacity(1 << 16, r))
            .collect();
        let mut memory = std::mem::take(&mut self.buf).into_iter();
        let mem_run = readers.len();
        let mut heap = BinaryHeap::new();
        for (i, r) in readers.iter_mut().enumerate() {
            if let Some(rec) = read_blob(r)? {
                heap.push(Reverse((rec, i)));
            }
        }
        if let Some(rec) = memory.next() {
            heap.push(Reverse((rec, mem_run)));
        }
        while let Some(Reverse(((k, v), i))) = heap.pop() {
            f(&k, &v)?;
            let next = if i == mem_run {
                memory.next()
            } else {
                read_blob(&mut readers[i])?
            };
            if let Some(rec) = next {
                heap.push(Reverse((rec, i)));
            }
        }
        Ok(())
    }
}

fn read_blob(r: &mut BufReader<File>) -> io::Result<Option<(Vec<u8>, Vec<u8>)>> {
    let mut kl = [0u8; 4];
    match r.read_exact(&mut kl) {
        Ok(()) => {}
        Err(e) if e.kind() == io::ErrorKind::UnexpectedEof => return Ok(None),
        Err(e) => return Err(e),
    }
    let mut vl = [0u8; 8];
    r.read_exact(&mut vl)?;
    let mut k = vec![0u8; u32::from_le_bytes(kl) as usize];
    r.read_exact(&mut k)?;
    let mut v = vec![0u8; u64::from_le_bytes(vl) as usize];
    r.read_exact(&mut v)?;
    Ok(Some((k, v)))
}

#[cfg(test)]
mod blob_tests {
    use super::*;

    #[test]
    fn blob_spill_sorts_across_runs() {
        let mut rng = crate::rng::Rng::new(7);
        let mut s = BlobSpill::new(4096);
        let mut all = Vec::new();
        for i in 0..3000u32 {
            let n = rng.below(12) as usize;
            let k = rng.bytes(n);
            let v = i.to_le_bytes().to_vec();
            all.push((k.clone(), v.clone()));
            s.push(k, v).unwrap();
        }
        assert!(s.runs() > 10, "the test must spill: {}", s.runs());
        let mut got = Vec::new();
        s.for_each_sorted(|k, v| {
            got.push((k.to_vec(), v.to_vec()));
            Ok(())
        })
        .unwrap();
        assert!(got.windows(2).all(|w| w[0].0 <= w[1].0), "not in key order");
        // Equal keys come in no set order: compare as multisets.
        all.sort();
        got.sort();
        assert_eq!(got, all);
    }
}
