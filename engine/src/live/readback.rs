//! The expected dataset of a live server, read key by key over RESP: the expectation a corpus file
//! is checked against comes from here and never from the project's own decoder.
use super::info::ServerInfo;
use super::module::module_value_from_dump;
use super::resp::{Client, Reply};
use super::stream::read_stream;
use crate::dataset::{Dataset, Entry, HashField, Value, ZsetMember};
use std::collections::{BTreeMap, BTreeSet};
use std::io;
use std::time::{SystemTime, UNIX_EPOCH};

/// How far `now + PTTL` may drift from a recorded absolute expiry (round trip plus clock rounding).
const PTTL_TOLERANCE_MS: i64 = 2_000;
/// SAVE is retried this often when an idle time or frequency changes across it.
const STABLE_SAVE_ATTEMPTS: usize = 20;

fn bad(msg: impl Into<String>) -> io::Error {
    io::Error::new(io::ErrorKind::InvalidData, msg.into())
}

/// What to read and what the caller already knows.
#[derive(Debug, Clone, Default)]
pub struct ReadOptions<'a> {
    /// Databases to read.
    pub dbs: &'a [u64],
    /// Absolute expiries (ms) the caller set, by (db, key). Needed on servers without PEXPIRETIME
    /// (6.2), where only a relative PTTL can be read; elsewhere cross-checked when given.
    pub known_expiries: Option<&'a BTreeMap<(u64, Vec<u8>), i64>>,
}

/// Reads every key of `dbs` (and the function libraries) into a canonical dataset.
pub fn read_dataset(client: &mut Client, dbs: &[u64]) -> io::Result<Dataset> {
    read_dataset_with(
        client,
        &ReadOptions {
            dbs,
            known_expiries: None,
        },
    )
}

/// [`read_dataset`] with options.
pub fn read_dataset_with(client: &mut Client, opts: &ReadOptions<'_>) -> io::Result<Dataset> {
    let info = ServerInfo::query(client)?;
    let mut ds = Dataset::default();
    if info.has_functions() {
        ds.functions = read_functions(client)?;
    }
    for &db in opts.dbs {
        select(client, db)?;
        for key in scan_keys(client)? {
            if let Some(e) = read_entry(client, &info, db, key, opts)? {
                ds.keys.push(e);
            }
        }
    }
    select(client, 0)?;
    ds.canonicalize();
    Ok(ds)
}

/// Databases holding at least one key, from `INFO keyspace`.
pub fn all_nonempty_dbs(client: &mut Client) -> io::Result<Vec<u64>> {
    let text = client.call_str(&["INFO", "keyspace"])?.into_text()?;
    let mut dbs: Vec<u64> = text
        .lines()
        .filter_map(|l| l.strip_prefix("db")?.split(':').next()?.parse().ok())
        .collect();
    dbs.sort_unstable();
    Ok(dbs)
}

fn select(client: &mut Client, db: u64) -> io::Result<()> {
    client.call(&[b"SELECT", db.to_string().as_bytes()])?;
    Ok(())
}

fn scan_keys(client: &mut Client) -> io::Result<BTreeSet<Vec<u8>>> {
    // SCAN may return a key twice but never misses one that exists throughout.
    let mut keys = BTreeSet::new();
    let mut cursor = b"0".to_vec();
    loop {
        let [next, batch] = <[Reply; 2]>::try_from(
            client
                .call(&[b"SCAN", &cursor, b"COUNT", b"1000"])?
                .into_array()?,
        )
        .map_err(|_| bad("SCAN reply is not [cursor, keys]"))?;
        for k in batch.into_array()? {
            keys.insert(k.into_bytes()?);
        }
        cursor = next.into_bytes()?;
        if cursor == b"0" {
            return Ok(keys);
        }
    }
}

/// The source of every function library, sorted.
pub fn read_functions(client: &mut Client) -> io::Result<Vec<Vec<u8>>> {
    let mut out = Vec::new();
    for lib in client
        .call_str(&["FUNCTION", "LIST", "WITHCODE"])?
        .into_array()?
    {
        let code = lib
            .into_pairs()?
            .into_iter()
            .find(|(k, _)| k == "library_code")
            .ok_or_else(|| bad("FUNCTION LIST WITHCODE entry lacks library_code"))?;
        out.push(code.1.into_bytes()?);
    }
    out.sort();
    Ok(out)
}

fn now_ms() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_millis() as i64)
        .unwrap_or(0)
}

/// `Ok(None)` when the key vanished meanwhile, else `Ok(Some(absolute expiry ms or none))`.
fn read_expiry(
    client: &mut Client,
    info: &ServerInfo,
    db: u64,
    key: &[u8],
    opts: &ReadOptions<'_>,
) -> io::Result<Option<Option<i64>>> {
    let known = opts
        .known_expiries
        .map(|m| m.get(&(db, key.to_vec())).copied());
    let show = || String::from_utf8_lossy(key).into_owned();
    if info.has_pexpiretime() {
        let at = client.call(&[b"PEXPIRETIME", key])?.as_int()?;
        let at = match at {
            -2 => return Ok(None),
            -1 => None,
            t => Some(t),
        };
        if let Some(k) = known {
            if k != at {
                return Err(bad(format!(
                    "db {db} key {:?}: server expiry {at:?} differs from the one set, {k:?}",
                    show()
                )));
            }
        }
        return Ok(Some(at));
    }
    let ttl = client.call(&[b"PTTL", key])?.as_int()?;
    match (ttl, known.flatten()) {
        (-2, _) => Ok(None),
        (-1, None) => Ok(Some(None)),
        (-1, Some(k)) => Err(bad(format!(
            "db {db} key {:?}: expiry {k} was set but the server has none",
            show()
        ))),
        (t, Some(k)) if (now_ms() + t - k).abs() <= PTTL_TOLERANCE_MS => Ok(Some(Some(k))),
        (t, Some(k)) => Err(bad(format!(
            "db {db} key {:?}: PTTL {t} does not match the expiry set, {k}",
            show()
        ))),
        (t, None) => Err(bad(format!(
            "db {db} key {:?} has PTTL {t}, but this server has no PEXPIRETIME and no absolute \
             expiry was recorded for it",
            show()
        ))),
    }
}

fn bulks(r: Reply) -> io::Result<Vec<Vec<u8>>> {
    r.into_array()?.into_iter().map(Reply::into_bytes).collect()
}

fn parse_score(text: &[u8]) -> io::Result<f64> {
    let s = std::str::from_utf8(text).map_err(|_| bad("score is not text"))?;
    // Rust's parser accepts Redis's `inf`/`-inf` spellings; NaN never occurs in a zset.
    match s.parse::<f64>() {
        Ok(v) if !v.is_nan() => Ok(v),
        _ => Err(bad(format!("unparsable score {s:?}"))),
    }
}

fn read_hash(client: &mut Client, info: &ServerInfo, key: &[u8]) -> io::Result<Vec<HashField>> {
    let flat = bulks(client.call(&[b"HGETALL", key])?)?;
    let mut fields: Vec<HashField> = flat
        .chunks_exact(2)
        .map(|p| HashField {
            field: p[0].clone(),
            value: p[1].clone(),
            expire_ms: None,
        })
        .collect();
    if info.has_hash_field_ttl() && !fields.is_empty() {
        let n = fields.len().to_string();
        let mut args: Vec<&[u8]> = vec![b"HPEXPIRETIME", key, b"FIELDS", n.as_bytes()];
        args.extend(fields.iter().map(|f| f.field.as_slice()));
        let times = client.call(&args)?.into_array()?;
        if times.len() != fields.len() {
            return Err(bad(
                "HPEXPIRETIME answered for a different number of fields",
            ));
        }
        for (f, t) in fields.iter_mut().zip(times) {
            f.expire_ms = match t.as_int()? {
                -1 => None,
                t if t >= 0 => Some(t),
                t => {
                    return Err(bad(format!(
                        "HPEXPIRETIME gave {t} for a field HGETALL listed"
                    )))
                }
            };
        }
    }
    Ok(fields)
}

fn read_value(client: &mut Client, info: &ServerInfo, key: &[u8], ty: &str) -> io::Result<Value> {
    Ok(match ty {
        "string" => Value::String(client.call(&[b"GET", key])?.into_bytes()?),
        "list" => Value::List(bulks(client.call(&[b"LRANGE", key, b"0", b"-1"])?)?),
        "set" => Value::Set(bulks(client.call(&[b"SMEMBERS", key])?)?),
        "hash" => Value::Hash(read_hash(client, info, key)?),
        "zset" => {
            let flat = bulks(client.call(&[b"ZRANGE", key, b"0", b"-1", b"WITHSCORES"])?)?;
            let members = flat
                .chunks_exact(2)
                .map(|p| {
                    Ok(ZsetMember {
                        member: p[0].clone(),
                        score: parse_score(&p[1])?,
                    })
                })
                .collect::<io::Result<Vec<_>>>()?;
            Value::Zset(members)
        }
        "stream" => Value::Stream(Box::new(read_stream(client, key)?)),
        // Anything else is a module type name (TYPE answers e.g. "ReJSON-RL").
        _ => {
            let dump = client.call(&[b"DUMP", key])?.into_bytes()?;
            Value::Module(module_value_from_dump(&dump).map_err(|e| {
                bad(format!(
                    "module key {:?}: {e}",
                    String::from_utf8_lossy(key)
                ))
            })?)
        }
    })
}

fn read_entry(
    client: &mut Client,
    info: &ServerInfo,
    db: u64,
    key: Vec<u8>,
    opts: &ReadOptions<'_>,
) -> io::Result<Option<Entry>> {
    let ty = client.call(&[b"TYPE", &key])?.into_text()?;
    if ty == "none" {
        return Ok(None);
    }
    let Some(expire_ms) = read_expiry(client, info, db, &key, opts)? else {
        return Ok(None);
    };
    let value = read_value(client, info, &key, &ty)?;
    Ok(Some(Entry {
        db,
        key,
        expire_ms,
        idle_s: None,
        freq: None,
        value,
        attrs: Default::default(),
    }))
}

/// A per-key statistic that a file records when the eviction policy uses it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ObjectStat {
    /// `OBJECT IDLETIME` (LRU policies), recorded as the IDLE opcode in whole seconds.
    IdleTime,
    /// `OBJECT FREQ` (LFU policies), recorded as the FREQ opcode.
    Freq,
}

fn read_stats(client: &mut Client, ds: &Dataset, stat: ObjectStat) -> io::Result<Vec<u64>> {
    let sub: &[u8] = match stat {
        ObjectStat::IdleTime => b"IDLETIME",
        ObjectStat::Freq => b"FREQ",
    };
    let mut db = None;
    let mut out = Vec::with_capacity(ds.keys.len());
    for e in &ds.keys {
        if db != Some(e.db) {
            select(client, e.db)?;
            db = Some(e.db);
        }
        let v = client.call(&[b"OBJECT", sub, &e.key])?.as_int()?;
        out.push(u64::try_from(v).map_err(|_| bad(format!("OBJECT gave {v}")))?);
    }
    select(client, 0)?;
    Ok(out)
}

/// Runs `SAVE`; with a statistic, reads it for every key of `ds` right before and right after and
/// retries until both agree, then stores it in `ds` (the file records it at save time).
pub fn save_recording(
    client: &mut Client,
    ds: &mut Dataset,
    stat: Option<ObjectStat>,
) -> io::Result<()> {
    let Some(stat) = stat else {
        client.call(&[b"SAVE"])?;
        return Ok(());
    };
    for _ in 0..STABLE_SAVE_ATTEMPTS {
        let before = read_stats(client, ds, stat)?;
        client.call(&[b"SAVE"])?;
        let after = read_stats(client, ds, stat)?;
        if before != after {
            continue;
        }
        for (e, v) in ds.keys.iter_mut().zip(after) {
            match stat {
                ObjectStat::IdleTime => e.idle_s = Some(v),
                ObjectStat::Freq => {
                    e.freq = Some(u8::try_from(v).map_err(|_| bad(format!("FREQ {v} > 255")))?)
                }
            }
        }
        return Ok(());
    }
    Err(io::Error::other(format!(
        "{stat:?} kept changing across SAVE in {STABLE_SAVE_ATTEMPTS} attempts"
    )))
}

/// Everything a started server holds, read to compare with `written`, the dataset it was given:
/// every database `written` uses or the server reports, and, on servers without PEXPIRETIME
/// (before 7.0), the absolute expiries taken from `written` (only a relative PTTL is readable).
pub fn read_server_dataset(
    server: &super::RunningServer,
    written: &Dataset,
) -> Result<Dataset, String> {
    let mut c = server.client().map_err(|e| e.to_string())?;
    let mut dbs: BTreeSet<u64> = written.keys.iter().map(|e| e.db).collect();
    dbs.extend(all_nonempty_dbs(&mut c).map_err(|e| e.to_string())?);
    let dbs: Vec<u64> = dbs.into_iter().collect();
    let known: BTreeMap<(u64, Vec<u8>), i64> = written
        .keys
        .iter()
        .filter_map(|e| Some(((e.db, e.key.clone()), e.expire_ms?)))
        .collect();
    let opts = ReadOptions {
        dbs: &dbs,
        known_expiries: (server.build().version() < (7, 0, 0)).then_some(&known),
    };
    read_dataset_with(&mut c, &opts).map_err(|e| server.fail(format!("readback: {e}")).to_string())
}
