//! How many changes one command makes for the `save` rules, as Redis's `server.dirty` counts
//! them (INFO's rdb_changes_since_last_save), from the command, its reply and its AOF forms.
//!
//! Observed per command on redis-server 7.0.15 (the delta of rdb_changes_since_last_save around
//! each): multi-element writes count their elements (MSET its pairs, DEL the keys deleted, RPUSH
//! the elements pushed, SADD the members added, HSET its pairs even when they only update, the
//! pops what they popped), and a write that changed nothing counts 0. Commands not listed here
//! count one change per form they propagate, which is Redis's count for most single-key writes.
//! ZADD (added plus updated), LTRIM (elements removed) and FLUSHDB/FLUSHALL (keys removed) would
//! need the state before the command; they count one per form too, a known difference.
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

#[cfg(test)]
mod tests {
    use super::changes;
    use crate::keyspace::Reply;

    fn bulks(items: &[&str]) -> Reply {
        Reply::Array(items.iter().map(|i| Reply::bulk(i.as_bytes())).collect())
    }

    /// Each count is the delta of rdb_changes_since_last_save that redis-server 7.0.15 showed
    /// around the same command, in the order run there (the live form of this check is
    /// `engine/tests/persist_live_dirty.rs`).
    #[test]
    fn counts_as_redis_7_0_counted_them() {
        let cases: &[(&str, Reply, u64)] = &[
            ("SET a 1", Reply::Ok, 1),
            ("MSET x 1 y 2 z 3", Reply::Ok, 3),
            ("MSETNX x 1 q 2", Reply::Int(0), 0),
            ("MSETNX n1 1 n2 2", Reply::Int(1), 2),
            ("DEL x y nosuch", Reply::Int(2), 2),
            ("RPUSH l a b c d", Reply::Int(4), 4),
            ("LPUSH l x", Reply::Int(5), 1),
            ("RPUSHX nolist x", Reply::Int(0), 0),
            ("LPOP l 2", bulks(&["x", "a"]), 2),
            ("RPOP l", Reply::bulk(b"d"), 1),
            ("LREM l 0 a", Reply::Int(0), 0),
            ("SADD s a b c", Reply::Int(3), 3),
            ("SADD s a", Reply::Int(0), 0),
            ("SREM s a nosuch", Reply::Int(1), 1),
            ("SPOP s 1", bulks(&["c"]), 1),
            ("HSET h a 1 b 2", Reply::Int(2), 2),
            ("HSET h a 1", Reply::Int(0), 1),
            ("HDEL h a nosuch", Reply::Int(1), 1),
            ("ZPOPMIN z 1", bulks(&["b", "2"]), 1),
            ("ZREMRANGEBYSCORE z 0 100", Reply::Int(1), 1),
            ("XDEL st 0-1", Reply::Int(0), 0),
            ("XTRIM st MAXLEN 0", Reply::Int(2), 2),
        ];
        for (cmd, reply, want) in cases {
            let argv: Vec<&[u8]> = cmd.split(' ').map(str::as_bytes).collect();
            assert_eq!(changes(&argv, reply, 1), *want, "{cmd}");
        }
        // Nothing propagated, nothing changed.
        assert_eq!(changes(&[b"SET", b"a", b"1"], &Reply::Ok, 0), 0);
    }
}
