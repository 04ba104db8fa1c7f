//! Sorting more fixed-size records than memory should hold: sorted runs of at most a budget's
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

const REC_BYTES: usize = 24;

impl Rec {
    fn to_bytes(self) -> [u8; REC_BYTES] {
        let mut out = [0u8; REC_BYTES];
        out[..8].copy_from_slice(&self.key.to_le_bytes());
        out[8..16].copy_from_slice(&self.b.to_le_bytes());
        out[16..].copy_from_slice(&self.c.to_le_bytes());
        out
    }

    fn from_bytes(b: &[u8; REC_BYTES]) -> Rec {
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
fn anonymous_file() -> io::Result<File> {
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
