//! Zipmaps (hash blobs of Redis 2.4): count byte, then length-prefixed keys and values with a free
//! byte of padding, then 0xff; always deep-validated, since Redis converts them on load.
use crate::format::bytes::Bytes;
use crate::format::error::{Error, Result};

const END: u8 = 0xff;
const BIGLEN: u8 = 254;

fn len(c: &mut Bytes<'_>, what: &'static str) -> Result<Option<usize>> {
    Ok(match c.u8(what)? {
        END => None,
        BIGLEN => Some(c.le_u32(what)? as usize),
        b => Some(b as usize),
    })
}

/// Walks a zipmap, calling `f` for each field and value; returns the pair count.
pub fn for_each<'a>(
    blob: &'a [u8],
    mut f: impl FnMut(&'a [u8], &'a [u8]) -> Result<()>,
) -> Result<u64> {
    let mut c = Bytes::new(blob);
    let declared = c.u8("zipmap count")?;
    let mut n: u64 = 0;
    loop {
        let at = c.pos();
        let Some(klen) = len(&mut c, "zipmap key length")? else {
            if c.remaining() != 0 {
                return Err(Error::corrupt(
                    at as u64,
                    "zipmap end",
                    "end byte before the end of the blob",
                ));
            }
            break;
        };
        let key = c.take(klen, "zipmap key")?;
        let vat = c.pos();
        let Some(vlen) = len(&mut c, "zipmap value length")? else {
            return Err(Error::corrupt(
                vat as u64,
                "zipmap value length",
                "end byte where a value was due",
            ));
        };
        let free = c.u8("zipmap free byte")? as usize;
        let value = c.take(vlen, "zipmap value")?;
        c.take(free, "zipmap padding")?;
        n += 1;
        f(key, value)?;
    }
    if n == 0 {
        return Err(Error::corrupt(0, "zipmap", "empty zipmap"));
    }
    if declared < BIGLEN && declared as u64 != n {
        return Err(Error::corrupt(
            0,
            "zipmap count",
            format!("count {declared} but {n} pairs"),
        ));
    }
    Ok(n)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The example from the format reference, section 7.4.
    #[test]
    fn reference_example() {
        let blob = b"\x02\x02f1\x02\x00v1\x02f2\x02\x00v2\xff";
        let mut got = vec![];
        assert_eq!(
            for_each(blob, |k, v| {
                got.push((k.to_vec(), v.to_vec()));
                Ok(())
            })
            .unwrap(),
            2
        );
        assert_eq!(got[1], (b"f2".to_vec(), b"v2".to_vec()));
    }

    /// `zipmapValidateIntegrity`: a count byte below 254 (`ZIPMAP_BIGLEN`) must be the pair
    /// count; 254 means "count them".
    #[test]
    fn a_count_byte_below_254_must_match_the_pairs() {
        let e = for_each(b"\x03\x02f1\x02\x00v1\x02f2\x02\x00v2\xff", |_, _| Ok(())).unwrap_err();
        assert!(e.to_string().contains("count 3 but 2 pairs"), "{e}");
        let n = for_each(b"\xfe\x02f1\x02\x00v1\x02f2\x02\x00v2\xff", |_, _| Ok(()));
        assert_eq!(n.unwrap(), 2);
    }
}
