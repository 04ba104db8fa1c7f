//! Keys a file holds twice, found in bounded memory: each key's fingerprints fall into one of 256
//! partitions, spilled in chunks to one temp file, and each partition is sorted on its own.
//!
//! One external sort of every record (sorted runs, then a heap merge) cost `check` about 40% of
//! its time on files of small keys (perf, 2026-12-05). Partitioning by the fingerprint's top byte
//! writes and reads each record once and sorts pieces that fit in cache; a partition too large
//! for the budget (a file of hundreds of millions of keys) still goes through the external sort.
use crate::spill::{anonymous_file, Rec, Spill, REC_BYTES};
use std::fs::File;
use std::io::{self, Read, Seek, SeekFrom, Write};

/// Partitions, by a fingerprint's top byte.
const PARTS: usize = 256;
/// Records a partition holds in memory before its chunk goes to the temp file (256 partitions of
/// 8 KiB: 2 MiB in all).
const CHUNK: usize = 8192 / REC_BYTES;
/// The largest partition sorted in memory; a larger one goes through [`Spill`].
const PART_MEMORY: usize = 4 << 20;

/// Each key's database, two independent fingerprints and offset: equal fingerprints in one
/// database are the candidates for a key the file holds twice.
#[derive(Default)]
pub(crate) struct KeyLog {
    parts: Vec<Vec<Rec>>,
    /// Chunks written to `file`: partition, offset, records.
    chunks: Vec<(u8, u64, u32)>,
    file: Option<File>,
    file_len: u64,
    seeds: (u64, u64),
    error: Option<String>,
}

impl std::fmt::Debug for KeyLog {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("KeyLog")
    }
}

/// A key two records of the file hold: its database and both records' offsets.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DuplicateKey {
    /// The database.
    pub db: u64,
    /// The first record's offset.
    pub first: u64,
    /// The second record's offset.
    pub second: u64,
}

impl KeyLog {
    pub(crate) fn record(&mut self, db: u64, key: &[u8], offset: u64) {
        use std::hash::BuildHasher;
        if self.parts.is_empty() {
            // Seeds drawn per run: no file can be built to collide on purpose.
            let s = std::collections::hash_map::RandomState::new();
            self.seeds = (s.hash_one(1u8), s.hash_one(2u8));
            self.parts = (0..PARTS).map(|_| Vec::new()).collect();
        }
        let fp = |seed: u64| {
            crate::format::rdb::dups::fingerprint(
                key,
                seed ^ db.wrapping_mul(0x9e37_79b9_7f4a_7c15),
            )
        };
        let rec = Rec {
            key: fp(self.seeds.0),
            b: (db << 32) | (fp(self.seeds.1) >> 32),
            c: offset,
        };
        let p = (rec.key >> 56) as usize;
        let part = &mut self.parts[p];
        if part.capacity() == 0 {
            part.reserve_exact(CHUNK);
        }
        part.push(rec);
        if part.len() == CHUNK && self.error.is_none() {
            if let Err(e) = self.spill(p) {
                self.error = Some(e.to_string());
            }
        }
    }

    fn spill(&mut self, p: usize) -> io::Result<()> {
        let mut bytes = Vec::with_capacity(CHUNK * REC_BYTES);
        for r in self.parts[p].drain(..) {
            bytes.extend_from_slice(&r.to_bytes());
        }
        let file = match &mut self.file {
            Some(f) => f,
            None => self.file.insert(anonymous_file()?),
        };
        file.write_all(&bytes)?;
        self.chunks
            .push((p as u8, self.file_len, (bytes.len() / REC_BYTES) as u32));
        self.file_len += bytes.len() as u64;
        Ok(())
    }

    /// The pairs of records whose database and 96 bits of fingerprint agree: keys held twice,
    /// unless fingerprints collided (the caller compares the bytes where it can re-read them).
    pub(crate) fn candidates(&mut self) -> io::Result<Vec<DuplicateKey>> {
        if let Some(e) = self.error.take() {
            return Err(io::Error::other(e));
        }
        let parts = std::mem::take(&mut self.parts);
        let chunks = std::mem::take(&mut self.chunks);
        let mut file = self.file.take();
        let mut out = Vec::new();
        let mut by_part: Vec<Vec<(u64, u32)>> = vec![Vec::new(); parts.len()];
        for (p, at, n) in chunks {
            by_part[usize::from(p)].push((at, n));
        }
        for (held, mine) in parts.into_iter().zip(by_part) {
            let total = held.len() + mine.iter().map(|c| c.1 as usize).sum::<usize>();
            if total < 2 {
                continue;
            }
            if total * REC_BYTES <= PART_MEMORY {
                let mut recs = held;
                recs.reserve_exact(total - recs.len());
                for &(at, n) in &mine {
                    read_chunk(file.as_mut(), at, n, |r| recs.push(r))?;
                }
                recs.sort_unstable();
                pairs(recs.into_iter().map(Ok), &mut out)?;
            } else {
                let mut s = Spill::new(PART_MEMORY);
                for r in held {
                    s.push(r)?;
                }
                for &(at, n) in &mine {
                    let mut err = Ok(());
                    read_chunk(file.as_mut(), at, n, |r| {
                        if err.is_ok() {
                            err = s.push(r);
                        }
                    })?;
                    err?;
                }
                pairs(s.sorted()?, &mut out)?;
            }
        }
        Ok(out)
    }
}

/// Reads `n` records at `at` of the spill file.
fn read_chunk(
    file: Option<&mut File>,
    at: u64,
    n: u32,
    mut each: impl FnMut(Rec),
) -> io::Result<()> {
    let f = file.ok_or_else(|| io::Error::other("key index: a chunk without its file"))?;
    f.seek(SeekFrom::Start(at))?;
    let mut bytes = vec![0u8; n as usize * REC_BYTES];
    f.read_exact(&mut bytes)?;
    for c in bytes.chunks_exact(REC_BYTES) {
        let mut b = [0u8; REC_BYTES];
        b.copy_from_slice(c);
        each(Rec::from_bytes(&b));
    }
    Ok(())
}

/// Adjacent sorted records with the same database and fingerprints, as duplicates.
fn pairs(
    sorted: impl Iterator<Item = io::Result<Rec>>,
    out: &mut Vec<DuplicateKey>,
) -> io::Result<()> {
    let mut prev: Option<Rec> = None;
    for r in sorted {
        let r = r?;
        if let Some(p) = prev.filter(|p| (p.key, p.b) == (r.key, r.b)) {
            out.push(DuplicateKey {
                db: r.b >> 32,
                first: p.c,
                second: r.c,
            });
            continue;
        }
        prev = Some(r);
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Every key held twice is found, and only those, whether the log stays in memory, spills
    /// chunks, or has a partition too large to sort in memory.
    fn finds_exactly_the_repeats(keys: u64, repeats: &[u64]) {
        let mut log = KeyLog::default();
        let mut offset = 0;
        let mut want = Vec::new();
        for i in 0..keys {
            log.record(i % 3, format!("key:{i}").as_bytes(), offset);
            offset += 10;
        }
        for &i in repeats {
            log.record(i % 3, format!("key:{i}").as_bytes(), offset);
            want.push(DuplicateKey {
                db: i % 3,
                first: i * 10,
                second: offset,
            });
            offset += 10;
        }
        // The same key in another database is not a repeat.
        log.record(7, b"key:0", offset);
        let mut got = log.candidates().unwrap();
        got.sort_by_key(|d| d.second);
        assert_eq!(got, want);
    }

    #[test]
    fn small_logs_stay_in_memory() {
        finds_exactly_the_repeats(1000, &[3, 999, 0]);
    }

    #[test]
    fn spilled_chunks_are_read_back() {
        // 256 partitions of 341 records: 300 000 keys spill most chunks several times.
        finds_exactly_the_repeats(300_000, &[1, 150_000, 299_999]);
    }

    #[test]
    fn a_partition_past_its_memory_goes_through_the_external_sort() {
        // 256 x 4 MiB / 24 bytes: about 45 M keys would fill every partition; one partition
        // filled by hand stands for that.
        let mut log = KeyLog::default();
        log.record(0, b"seed", 0);
        let n = PART_MEMORY / REC_BYTES + 10;
        for i in 0..n as u64 {
            log.parts[0].push(Rec { key: i, b: 0, c: i });
            if log.parts[0].len() == CHUNK {
                log.spill(0).unwrap();
            }
        }
        log.parts[0].push(Rec {
            key: 5,
            b: 0,
            c: 999_999_999,
        });
        let got = log.candidates().unwrap();
        assert_eq!(
            got,
            vec![DuplicateKey {
                db: 0,
                first: 5,
                second: 999_999_999
            }]
        );
    }
}
