//! How many changes one command makes for the `save` rules, as Redis's `server.dirty` counts
//! them (INFO's rdb_changes_since_last_save), from the command, its reply and its AOF forms.
//!
//! Observed per command on redis-server 7.0.15 (the delta of rdb_changes_since_last_save around
//! each): multi-element writes count their elements (MSET its pairs, DEL the keys deleted, RPUSH
//! the elements pushed, SADD the members added, HSET its pairs even when they only update, the
//! pops what they popped), and a write that changed nothing counts 0. Commands not listed here
//! count one change per form they propagate, which is Redis's count for most single-key writes;
//! ZADD (added plus updated), LTRIM (elements removed) and FLUSHDB/FLUSHALL (keys removed) need
//! the state before the command and are counted that way too, a known difference.
use crate::keyspace::Reply;

/// The changes `argv` made, given its `reply` and the number of forms it propagated.
pub(super) fn changes(argv: &[&[u8]], reply: &Reply, forms: usize) -> u64 {
    if forms == 0 {
        return 0;
    }
    let argc = argv.len() as u64;
    let count = match reply {
        Reply::Int(n) => (*n).max(0) as u64,
        _ => 0,
    };
    let popped = match reply {
        Reply::Array(items) => items.len() as u64,
        Reply::Nil => 0,
        _ => 1,
    };
    let name = String::from_utf8_lossy(argv[0]).to_ascii_lowercase();
    match name.as_str() {
        "mset" => (argc - 1) / 2,
        "msetnx" if count == 1 => (argc - 1) / 2,
        "msetnx" => 0,
        "del" | "unlink" | "sadd" | "srem" | "lrem" | "hdel" | "zrem" | "zremrangebyscore"
        | "zremrangebyrank" | "zremrangebylex" | "xdel" | "xtrim" => count,
        "rpush" | "lpush" | "rpushx" | "lpushx" if count > 0 => argc - 2,
        "rpushx" | "lpushx" => 0,
        "hset" | "hmset" => (argc - 2) / 2,
        "lpop" | "rpop" | "spop" => popped,
        // A flat member, score list: one change per pair.
        "zpopmin" | "zpopmax" => popped / 2,
        _ => forms as u64,
    }
}
