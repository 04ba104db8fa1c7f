//! DUMP and RESTORE against a live server: every key's payload, and payloads put back.
use super::resp::{Client, Reply};
use crate::corpus::RecordedDump;
use std::io;

fn select(c: &mut Client, db: u64) -> io::Result<()> {
    c.call(&[b"SELECT", db.to_string().as_bytes()]).map(drop)
}

/// `DUMP` of every key of every non-empty database, sorted by db and key.
pub fn record_dumps(c: &mut Client) -> io::Result<Vec<RecordedDump>> {
    let mut out = Vec::new();
    for db in super::all_nonempty_dbs(c)? {
        select(c, db)?;
        let mut keys = std::collections::BTreeSet::new();
        let mut cursor = b"0".to_vec();
        loop {
            let r = c
                .call(&[b"SCAN", &cursor, b"COUNT", b"1000"])?
                .into_array()?;
            let [next, batch] = <[Reply; 2]>::try_from(r)
                .map_err(|_| io::Error::other("SCAN reply is not [cursor, keys]"))?;
            for k in batch.into_array()? {
                keys.insert(k.into_bytes()?);
            }
            cursor = next.into_bytes()?;
            if cursor == b"0" {
                break;
            }
        }
        for key in keys {
            let payload = c.call(&[b"DUMP", &key])?.into_bytes()?;
            out.push(RecordedDump { db, key, payload });
        }
    }
    Ok(out)
}

/// `RESTORE key ttl payload REPLACE` (with `ABSTTL` when an absolute expiry is given) in the
/// payload's database; a refusal comes back as the server's error text.
pub fn restore(
    c: &mut Client,
    db: u64,
    key: &[u8],
    payload: &[u8],
    expire_ms: Option<i64>,
) -> io::Result<Result<(), String>> {
    select(c, db)?;
    let ttl = expire_ms.unwrap_or(0).to_string();
    let mut args: Vec<&[u8]> = vec![b"RESTORE", key, ttl.as_bytes(), payload, b"REPLACE"];
    if expire_ms.is_some() {
        args.push(b"ABSTTL");
    }
    Ok(match c.cmd(&args)? {
        Reply::Error(e) => Err(e),
        _ => Ok(()),
    })
}
