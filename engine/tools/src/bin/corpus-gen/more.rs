//! Scenarios beyond plain collections: streams with groups, functions, LFU/LRU statistics, module
//! values, checksum-less files and cluster-mode files.
use crate::collections::variadic;
use crate::ctx::FAR_MS;
use crate::ctx::{r, Ctx};
use redis_persist_engine::dataset::Dataset;
use std::io;
use std::time::{Duration, Instant};

/// Stream IDs are explicit (not `*`) wherever possible, so files differ only where time must show.
const BASE_MS: u64 = 1_700_000_000_000;

fn id(ms_offset: u64, seq: u64) -> String {
    format!("{}-{seq}", BASE_MS + ms_offset)
}

/// Streams with same/different field sets, deletions, trimming, empty streams, groups, PELs,
/// claimed entries, idle consumers, and known and unknown `entries_read`.
pub fn streams(x: &mut Ctx) -> io::Result<()> {
    for i in 0..10 {
        r!(
            x,
            "XADD",
            "stream:basic",
            id(0, i),
            "name",
            format!("v{i}"),
            "n",
            i.to_string()
        )?;
    }
    r!(x, "XADD", "stream:basic", id(1, 0), "other", "x")?;
    r!(
        x,
        "XADD",
        "stream:basic",
        id(1, 1),
        "name",
        "v",
        "extra",
        "e"
    )?;
    r!(
        x,
        "XADD",
        "stream:basic",
        id(2, 0),
        "name",
        "again",
        "n",
        "7"
    )?;
    x.pexpireat("stream:basic", FAR_MS + 9)?;

    for i in 0..8 {
        r!(x, "XADD", "stream:deleted", id(0, i), "f", i.to_string())?;
    }
    r!(x, "XDEL", "stream:deleted", id(0, 0), id(0, 3), id(0, 7))?;
    x.feature("stream-deleted-entries");

    for i in 0..12 {
        r!(x, "XADD", "stream:trimmed", id(0, i), "f", i.to_string())?;
    }
    r!(x, "XTRIM", "stream:trimmed", "MAXLEN", "5")?;

    r!(x, "XADD", "stream:emptied", id(0, 0), "a", "1")?;
    r!(x, "XADD", "stream:emptied", id(0, 1), "a", "2")?;
    r!(x, "XDEL", "stream:emptied", id(0, 0), id(0, 1))?;
    r!(
        x,
        "XGROUP",
        "CREATE",
        "stream:mkstream",
        "g",
        "$",
        "MKSTREAM"
    )?;

    let s = "stream:groups";
    for i in 0..6 {
        r!(x, "XADD", s, id(0, i), "f", i.to_string())?;
    }
    r!(x, "XGROUP", "CREATE", s, "g1", "0")?;
    r!(
        x,
        "XREADGROUP",
        "GROUP",
        "g1",
        "alice",
        "COUNT",
        "3",
        "STREAMS",
        s,
        ">"
    )?;
    r!(
        x,
        "XREADGROUP",
        "GROUP",
        "g1",
        "bob",
        "COUNT",
        "2",
        "STREAMS",
        s,
        ">"
    )?;
    r!(x, "XCLAIM", s, "g1", "bob", "0", id(0, 0))?;
    r!(x, "XACK", s, "g1", id(0, 2))?;
    r!(x, "XGROUP", "CREATECONSUMER", s, "g1", "carol")?;
    r!(x, "XGROUP", "CREATE", s, "g2", "$")?;
    if x.info.has_entries_read() {
        r!(x, "XGROUP", "CREATE", s, "g3", "0", "ENTRIESREAD", "2")?;
        // SETID without ENTRIESREAD leaves the group's read counter unknown.
        r!(x, "XGROUP", "CREATE", s, "g4", "0")?;
        r!(x, "XGROUP", "SETID", s, "g4", id(0, 3))?;
    } else {
        r!(x, "XGROUP", "SETID", s, "g2", id(0, 3))?;
    }

    r!(
        x,
        "XADD",
        "stream:binary",
        id(0, 0),
        b"\x00f",
        b"\xffv",
        "",
        ""
    )?;
    r!(x, "XADD", "stream:auto-id", "*", "a", "1")?;
    Ok(())
}

/// Two Lua libraries (one with flags) and a key.
pub fn functions(x: &mut Ctx) -> io::Result<()> {
    let lib1 = "#!lua name=corpuslib\n\
                redis.register_function('echo_first', function(keys, args) return args[1] end)\n";
    let lib2 = "#!lua name=corpuslib2\n\
                local function get(keys, args)\n  return redis.call('GET', keys[1])\nend\n\
                redis.register_function{function_name='get_key', callback=get, flags={'no-writes'}}\n";
    r!(x, "FUNCTION", "LOAD", lib1)?;
    r!(x, "FUNCTION", "LOAD", lib2)?;
    r!(x, "SET", "fkey", "value")?;
    let got = r!(x, "FCALL", "get_key", "1", "fkey")?.into_bytes()?;
    if got != b"value" {
        return Err(io::Error::other(
            "FCALL get_key did not return the key's value",
        ));
    }
    Ok(())
}

/// One key of each type, for the LFU and LRU scenarios.
pub fn eviction_keys(x: &mut Ctx) -> io::Result<()> {
    r!(x, "SET", "ev:string", "hello")?;
    r!(x, "SET", "ev:int", "42")?;
    r!(x, "RPUSH", "ev:list", "a", "b")?;
    r!(x, "SADD", "ev:set", "x", "y")?;
    r!(x, "HSET", "ev:hash", "f", "v")?;
    r!(x, "ZADD", "ev:zset", "1", "m")?;
    r!(x, "XADD", "ev:stream", "1-1", "f", "v")?;
    r!(x, "SET", "ev:expiring", "v")?;
    x.pexpireat("ev:expiring", FAR_MS + 11)?;
    x.select(3)?;
    r!(x, "SET", "ev:db3", "v")?;
    x.select(0)
}

/// Re-creates every key with `RESTORE ... REPLACE <option> n`, the only way to give a key a chosen
/// idle time or frequency; the readback already done touched every key.
fn restore_with(x: &mut Ctx, ds: &Dataset, option: &str, values: &[u64]) -> io::Result<()> {
    for (i, e) in ds.keys.iter().enumerate() {
        x.select(e.db)?;
        let dump = r!(x, "DUMP", e.key)?.into_bytes()?;
        let n = values[i % values.len()];
        match e.expire_ms {
            Some(at) => r!(x, "RESTORE", e.key, at, dump, "REPLACE", "ABSTTL", option, n)?,
            None => r!(x, "RESTORE", e.key, "0", dump, "REPLACE", option, n)?,
        };
    }
    x.select(0)
}

/// LFU counters across the range, 255 included.
pub fn set_frequencies(x: &mut Ctx, ds: &Dataset) -> io::Result<()> {
    restore_with(x, ds, "FREQ", &[0, 1, 5, 100, 255, 3, 7, 42])
}

/// Idle times from zero to 30 days (the LRU clock wraps after about 194 days).
pub fn set_idle_times(x: &mut Ctx, ds: &Dataset) -> io::Result<()> {
    restore_with(
        x,
        ds,
        "IDLETIME",
        &[0, 1, 59, 3600, 86_400, 2_592_000, 7, 12_345],
    )
}

/// Values of every module type the stack build ships, and a search index (whose module writes
/// MODULE_AUX records).
pub fn modules(x: &mut Ctx) -> io::Result<()> {
    let doc =
        r#"{"name":"corpus","n":[1,2.5,-3],"nested":{"t":true,"f":false,"z":null},"s":"é😀"}"#;
    r!(x, "JSON.SET", "json:doc", "$", doc)?;
    r!(x, "JSON.SET", "json:scalar", "$", r#""just a string""#)?;
    r!(x, "BF.RESERVE", "bf:small", "0.01", "100")?;
    r!(x, "BF.MADD", "bf:small", "a", "b", "c")?;
    r!(x, "BF.ADD", "bf:default", "hello")?;
    r!(x, "CF.ADD", "cf:one", "x")?;
    r!(x, "CMS.INITBYDIM", "cms:one", "16", "3")?;
    r!(x, "CMS.INCRBY", "cms:one", "a", "3", "b", "1")?;
    r!(x, "TOPK.RESERVE", "topk:one", "3")?;
    r!(x, "TOPK.ADD", "topk:one", "a", "b", "a")?;
    r!(x, "TDIGEST.CREATE", "td:one", "COMPRESSION", "100")?;
    r!(x, "TDIGEST.ADD", "td:one", "1", "2", "3.5")?;
    r!(
        x,
        "TS.CREATE",
        "ts:one",
        "RETENTION",
        "0",
        "LABELS",
        "sensor",
        "a"
    )?;
    r!(x, "TS.ADD", "ts:one", "1700000000000", "1.5")?;
    r!(x, "TS.ADD", "ts:one", "1700000001000", "-2")?;
    r!(x, "TS.CREATE", "ts:empty")?;
    r!(
        x,
        "FT.CREATE",
        "idx:docs",
        "ON",
        "HASH",
        "PREFIX",
        "1",
        "doc:",
        "SCHEMA",
        "title",
        "TEXT"
    )?;
    r!(x, "HSET", "doc:1", "title", "hello")?;
    x.pexpireat("json:scalar", FAR_MS + 12)?;
    Ok(())
}

/// A few keys of several types, saved with `rdbchecksum no`.
pub fn checksum_off(x: &mut Ctx) -> io::Result<()> {
    r!(x, "SET", "k", "v")?;
    r!(x, "SET", "n", "12345")?;
    variadic(x, "RPUSH", "l", vec![b"a".to_vec(), b"b".to_vec()])?;
    r!(x, "HSET", "h", "f", "v")?;
    r!(x, "ZADD", "z", "1.5", "m")?;
    Ok(())
}

/// One node owning every slot, keys in several slots (one slot holding three keys).
pub fn cluster(x: &mut Ctx) -> io::Result<()> {
    r!(x, "CLUSTER", "ADDSLOTSRANGE", "0", "16383")?;
    let deadline = Instant::now() + Duration::from_secs(20);
    while !r!(x, "CLUSTER", "INFO")?
        .into_text()?
        .contains("cluster_state:ok")
    {
        if Instant::now() > deadline {
            return Err(io::Error::other("cluster_state did not become ok"));
        }
        std::thread::sleep(Duration::from_millis(100));
    }
    r!(x, "SET", "{user1}:name", "alice")?;
    r!(x, "SET", "{user1}:age", "30")?;
    r!(x, "HSET", "{user1}:h", "a", "1")?;
    r!(x, "SET", "alpha", "1")?;
    r!(x, "SET", "beta", "2")?;
    x.pexpireat("beta", FAR_MS + 13)?;
    r!(x, "RPUSH", "gamma", "a", "b")?;
    x.feature("cluster");
    Ok(())
}
