//! Intsets (set blobs of integers): width 2, 4 or 8, count, members little-endian and strictly
//! ascending; an empty intset is an error, as in Redis.
use crate::format::bytes::Bytes;
use crate::format::error::{Error, Result};

/// Walks an intset, calling `f` for each member; returns the member count.
pub fn for_each(blob: &[u8], mut f: impl FnMut(i64) -> Result<()>) -> Result<u64> {
    let mut c = Bytes::new(blob);
    let width = c.le_u32("intset encoding")?;
    let len = c.le_u32("intset length")? as u64;
    if !matches!(width, 2 | 4 | 8) {
        return Err(Error::corrupt(
            0,
            "intset encoding",
            format!("width {width} is not 2, 4 or 8"),
        ));
    }
    if 8 + len * width as u64 != blob.len() as u64 {
        return Err(Error::corrupt(
            4,
            "intset length",
            format!(
                "{len} members of {width} bytes do not fill {} bytes",
                blob.len()
            ),
        ));
    }
    if len == 0 {
        return Err(Error::corrupt(4, "intset length", "empty intset"));
    }
    let mut prev: Option<i64> = None;
    for _ in 0..len {
        let at = c.pos();
        let v = match width {
            2 => i16::from_le_bytes(c.array("intset member")?) as i64,
            4 => i32::from_le_bytes(c.array("intset member")?) as i64,
            _ => i64::from_le_bytes(c.array("intset member")?),
        };
        if prev.is_some_and(|p| p >= v) {
            return Err(Error::corrupt(
                at as u64,
                "intset member",
                "members not strictly ascending",
            ));
        }
        prev = Some(v);
        f(v)?;
    }
    Ok(len)
}

/// Builds an intset of `members` (sorted and of the smallest width that holds them all), or
/// `None` when there are none (an empty intset is invalid).
pub fn build(members: &mut [i64]) -> Option<Vec<u8>> {
    if members.is_empty() {
        return None;
    }
    members.sort_unstable();
    let (lo, hi) = (members[0], members[members.len() - 1]);
    let width: u32 = if i16::try_from(lo).is_ok() && i16::try_from(hi).is_ok() {
        2
    } else if i32::try_from(lo).is_ok() && i32::try_from(hi).is_ok() {
        4
    } else {
        8
    };
    let mut out = Vec::with_capacity(8 + members.len() * width as usize);
    out.extend_from_slice(&width.to_le_bytes());
    out.extend_from_slice(&(members.len() as u32).to_le_bytes());
    for &m in members.iter() {
        out.extend_from_slice(&m.to_le_bytes()[..width as usize]);
    }
    Some(out)
}
