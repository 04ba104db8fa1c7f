//! Hostile inputs made from real files: every prefix of every corpus and vector RDB is refused as
//! `truncated`, every single-byte change of the small ones ends in a dataset or a typed error, and
//! no decode allocates beyond the stated budget.
use proptests::check::{hostile_options, rdb_decode_is_total};
use redis_persist_engine::check::check;
use redis_persist_engine::format::rdb::{read_dataset, ReadOptions};
use redis_persist_engine::format::ErrorKind;
use std::alloc::{GlobalAlloc, Layout, System};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Mutex;

struct Counting;

static CURRENT: AtomicUsize = AtomicUsize::new(0);
static PEAK: AtomicUsize = AtomicUsize::new(0);
static SERIAL: Mutex<()> = Mutex::new(());

unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, l: Layout) -> *mut u8 {
        let now = CURRENT.fetch_add(l.size(), Ordering::Relaxed) + l.size();
        PEAK.fetch_max(now, Ordering::Relaxed);
        unsafe { System.alloc(l) }
    }
    unsafe fn dealloc(&self, p: *mut u8, l: Layout) {
        CURRENT.fetch_sub(l.size(), Ordering::Relaxed);
        unsafe { System.dealloc(p, l) }
    }
}

#[global_allocator]
static ALLOC: Counting = Counting;

/// The budget under `Limits::TIGHT`: the dataset bound (64 MiB) plus two strings at the string
/// bound (1 MiB each) plus the reader's buffers.
const BUDGET: usize = (64 << 20) + (2 << 20) + (1 << 20);

/// Runs `f` and returns the peak heap growth it caused.
fn peak<T>(f: impl FnOnce() -> T) -> (T, usize) {
    let base = CURRENT.load(Ordering::Relaxed);
    PEAK.store(base, Ordering::Relaxed);
    let r = f();
    (r, PEAK.load(Ordering::Relaxed).saturating_sub(base))
}

fn rdb_files() -> Vec<PathBuf> {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
    let mut out = Vec::new();
    let mut dirs = vec![root.join("corpus")];
    if let Some(vectors) = redis_persist_engine::live::vectors_or_skip() {
        dirs.push(vectors);
    }
    while let Some(d) = dirs.pop() {
        let Ok(rd) = std::fs::read_dir(&d) else {
            continue;
        };
        for e in rd.flatten() {
            let p = e.path();
            if p.is_dir() {
                dirs.push(p);
            } else if p.extension().is_some_and(|x| x == "rdb") {
                out.push(p);
            }
        }
    }
    out.sort();
    out
}

/// Every offset of files up to 32 KiB; for larger files (whose every-prefix run is quadratic),
/// every offset in the first and last 4 KiB and every 61st offset between.
fn cuts(end: usize) -> Vec<usize> {
    const EDGE: usize = 4096;
    if end <= 32 << 10 {
        return (0..end).collect();
    }
    (0..EDGE)
        .chain((EDGE..end - EDGE).step_by(61))
        .chain(end - EDGE..end)
        .collect()
}

#[test]
fn every_prefix_is_truncated_and_within_budget() {
    let _g = SERIAL.lock().unwrap_or_else(|e| e.into_inner());
    let mut failures = Vec::new();
    let mut files = 0;
    for path in rdb_files() {
        let data = std::fs::read(&path).unwrap();
        let Ok((_, trailer)) = read_dataset(&data, ReadOptions::default()) else {
            continue;
        };
        files += 1;
        for cut in cuts(trailer.end_offset as usize) {
            let prefix = &data[..cut];
            let opts = hostile_options(cut);
            let (r, used) = peak(|| read_dataset(prefix, opts).map(drop));
            let c = check(prefix, opts).map(drop);
            let bad = match (&r, &c) {
                (Err(a), Err(b))
                    if a.kind == ErrorKind::Truncated && b.kind == ErrorKind::Truncated =>
                {
                    None
                }
                _ => Some(format!(
                    "decode {:?}, check {:?}",
                    r.as_ref().err().map(|e| e.to_string()),
                    c.as_ref().err().map(|e| e.to_string())
                )),
            };
            if let Some(b) = bad {
                failures.push(format!("{} cut at {cut}: {b}", path.display()));
                break;
            }
            if used > BUDGET {
                failures.push(format!(
                    "{} cut at {cut}: {used} bytes allocated",
                    path.display()
                ));
                break;
            }
        }
    }
    assert!(files > 0, "no decodable RDB files found");
    assert!(
        failures.is_empty(),
        "{} failures:\n{}",
        failures.len(),
        failures.join("\n")
    );
}

#[test]
fn every_byte_flip_of_small_files_is_total_and_within_budget() {
    let _g = SERIAL.lock().unwrap_or_else(|e| e.into_inner());
    let mut flips = 0;
    let mut failures = Vec::new();
    for path in rdb_files() {
        let mut data = std::fs::read(&path).unwrap();
        if data.len() > 4096 {
            continue;
        }
        for i in 0..data.len() {
            for mask in [0x01u8, 0x80, 0xff] {
                data[i] ^= mask;
                let d = &data;
                let (r, used) = peak(|| std::panic::catch_unwind(|| rdb_decode_is_total(d)));
                if let Err(p) = r {
                    let msg = p.downcast_ref::<String>().cloned().unwrap_or_default();
                    failures.push(format!("{} byte {i} ^ {mask:#04x}: {msg}", path.display()));
                }
                if used > 3 * BUDGET {
                    failures.push(format!(
                        "{} byte {i} ^ {mask:#04x}: {used} bytes allocated",
                        path.display()
                    ));
                }
                data[i] ^= mask;
                flips += 1;
            }
        }
    }
    eprintln!("{flips} flipped inputs decoded");
    assert!(
        failures.is_empty(),
        "{} failures:\n{}",
        failures.len(),
        failures.join("\n")
    );
}

/// A hand-built RDB 9 file holding one list of `n` elements of `size` bytes each.
fn big_list_rdb(n: usize, size: usize) -> Vec<u8> {
    use redis_persist_engine::format::rdb::length::write as len;
    let mut f = b"REDIS0009".to_vec();
    f.extend_from_slice(&[0xfe, 0x00, 0x01]); // SELECTDB 0, type LIST
    len(&mut f, 4);
    f.extend_from_slice(b"big!");
    len(&mut f, n as u64);
    for i in 0..n {
        len(&mut f, size as u64);
        let tag = i.to_le_bytes();
        f.extend((0..size).map(|k| tag[k % tag.len()] ^ k as u8));
    }
    f.push(0xff);
    let crc = redis_persist_engine::format::crc64::checksum(&f);
    f.extend_from_slice(&crc.to_le_bytes());
    f
}

#[test]
fn check_memory_is_bounded_by_the_largest_element_not_the_key() {
    let _g = SERIAL.lock().unwrap_or_else(|e| e.into_inner());
    let file = big_list_rdb(400_000, 24);
    let opts = |f: &[u8]| ReadOptions {
        total_len: Some(f.len() as u64),
        ..ReadOptions::default()
    };
    let (summary, used) = peak(|| check(&file[..], opts(&file)).unwrap());
    assert_eq!(summary.total_keys(), 1);
    assert!(
        used < 1 << 20,
        "check of a {}-byte list allocated {used} bytes",
        file.len()
    );
    // The materialising decoder holds the whole key: the measurement sees it.
    let (ds, used_dump) = peak(|| read_dataset(&file, ReadOptions::default()).unwrap().0);
    assert!(
        used_dump > file.len(),
        "dump allocated only {used_dump} bytes"
    );
    drop(ds);
    // One element larger than the read buffer: memory grows with that element only.
    let file = big_list_rdb(3, 8 << 20);
    let (_, used) = peak(|| check(&file[..], opts(&file)).unwrap());
    assert!(
        used < 10 << 20,
        "check with 8 MiB elements allocated {used} bytes"
    );
}
