//! The memory budget every verb holds to: what a decoded dataset or a replayed AOF may take,
//! and the largest single string. Typed refusals past it, never an allocation failure.
//!
//! The default is the smallest of 4 GiB and half of what this process may have: its address-space
//! limit (`ulimit -v`, from `/proc/self/limits`), its cgroup's `memory.max`, and the machine's
//! memory. `--memory-limit` sets it outright.
use redis_persist_engine::format::Limits;

const GIB: u64 = 1 << 30;

fn proc_limit(name: &str) -> Option<u64> {
    let text = std::fs::read_to_string("/proc/self/limits").ok()?;
    let line = text.lines().find(|l| l.starts_with(name))?;
    // "Max address space  unlimited  unlimited  bytes": the soft limit is the first value.
    line[name.len()..].split_whitespace().next()?.parse().ok()
}

fn cgroup_limit() -> Option<u64> {
    let text = std::fs::read_to_string("/sys/fs/cgroup/memory.max").ok()?;
    text.trim().parse().ok()
}

fn mem_total() -> Option<u64> {
    let text = std::fs::read_to_string("/proc/meminfo").ok()?;
    let line = text.lines().find(|l| l.starts_with("MemTotal:"))?;
    let kib: u64 = line.split_whitespace().nth(1)?.parse().ok()?;
    Some(kib * 1024)
}

/// The default budget in bytes.
pub fn default_bytes() -> u64 {
    let room = [
        proc_limit("Max address space"),
        proc_limit("Max data size"),
        cgroup_limit(),
        mem_total(),
    ]
    .into_iter()
    .flatten()
    .min();
    room.map_or(4 * GIB, |r| (r / 2).min(4 * GIB)).max(64 << 20)
}

/// Parses `--memory-limit`: bytes, or a number with `K`, `M`, `G` (powers of 1024).
pub fn parse(s: &str) -> Result<u64, String> {
    let s = s.trim();
    let (num, mult) = match s.char_indices().last() {
        Some((i, c)) if c.is_ascii_alphabetic() => {
            let m = match c.to_ascii_uppercase() {
                'K' => 1 << 10,
                'M' => 1 << 20,
                'G' => GIB,
                _ => return Err(format!("{s:?}: use a number of bytes, or K, M or G")),
            };
            (&s[..i], m)
        }
        _ => (s, 1),
    };
    let n: u64 = num
        .parse()
        .map_err(|_| format!("{s:?} is not a size (bytes, or a number with K, M or G)"))?;
    n.checked_mul(mult)
        .filter(|&b| b >= 1 << 20)
        .ok_or_else(|| format!("{s:?}: the limit must be at least 1M"))
}

/// The decoder limits for a budget: no string and no dataset beyond it.
pub fn limits(bytes: u64) -> Limits {
    Limits {
        max_string_len: Limits::DEFAULT.max_string_len.min(bytes),
        max_dataset_bytes: bytes,
        ..Limits::DEFAULT
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sizes_parse_with_binary_suffixes() {
        assert_eq!(parse("64M"), Ok(64 << 20));
        assert_eq!(parse("2g"), Ok(2 << 30));
        assert_eq!(parse("1048576"), Ok(1 << 20));
        assert!(parse("10").is_err() && parse("5X").is_err() && parse("").is_err());
        let d = default_bytes();
        assert!((64 << 20..=4 * GIB).contains(&d), "{d}");
    }
}
