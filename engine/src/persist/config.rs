//! Persistence settings under Redis's names and defaults, settable as `CONFIG SET` strings, plus
//! the deliberately broken variants the test suite must catch.
use crate::keyspace;

/// One `save <seconds> <changes>` rule.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SaveRule {
    /// Seconds since the last successful save.
    pub secs: u64,
    /// Changes since then.
    pub changes: u64,
}

/// `appendfsync`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AppendFsync {
    /// fsync before every reply that follows a write.
    Always,
    /// fsync at most once a second, from the clock.
    Everysec,
    /// never fsync the AOF (the system flushes when it likes; in the simulation, never).
    No,
}

/// Deliberately broken behaviours, off by default, that exist so tests can prove the suite
/// notices them. Never turn one on outside a test.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Sabotage {
    /// Under `always`, every third AOF fsync is skipped.
    pub skip_fsync_always: bool,
    /// The new dump is renamed over the old one before it is fsynced.
    pub rename_before_fsync: bool,
    /// Writes made while BGREWRITEAOF runs are left out of the new AOF.
    pub drop_rewrite_writes: bool,
    /// The reply is given even when appending to the AOF failed (and the server goes on).
    pub ack_before_append: bool,
    /// The RDB writer (dumps and preamble bases) stores listpack integers that need 24 bits in
    /// the 16-bit form: an encoding detail dropped, the value truncated.
    pub narrow_listpack_ints: bool,
    /// RDBs (the dump and a preamble base) are loaded without verifying their CRC-64.
    pub accept_bad_crc: bool,
    /// The AOF loader runs the commands of a MULTI block as they come (MULTI and EXEC
    /// skipped), so a block a crash cut short is half applied.
    pub aof_ignores_multi: bool,
}

/// The settings.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PersistConfig {
    /// `save`: snapshot rules (empty: none).
    pub save: Vec<SaveRule>,
    /// `appendonly`.
    pub appendonly: bool,
    /// `appendfsync`.
    pub appendfsync: AppendFsync,
    /// `aof-use-rdb-preamble`: a rewrite's base is an RDB, else RESP commands.
    pub aof_use_rdb_preamble: bool,
    /// `aof-load-truncated`.
    pub aof_load_truncated: bool,
    /// `aof-timestamp-enabled`: `#TS:` annotations in the AOF.
    pub aof_timestamp_enabled: bool,
    /// `rdbcompression`.
    pub rdbcompression: bool,
    /// `rdbchecksum`.
    pub rdbchecksum: bool,
    /// `dbfilename`.
    pub dbfilename: String,
    /// `appendfilename`: the stem of the AOF file names.
    pub appendfilename: String,
    /// `appenddirname`.
    pub appenddirname: String,
    /// The keyspace's settings (encoding thresholds, databases).
    pub keyspace: keyspace::Config,
    /// Test-only broken variants.
    #[doc(hidden)]
    pub sabotage: Sabotage,
}

impl Default for PersistConfig {
    fn default() -> PersistConfig {
        PersistConfig {
            save: parse_save("3600 1 300 100 60 10000").unwrap_or_default(),
            appendonly: false,
            appendfsync: AppendFsync::Everysec,
            aof_use_rdb_preamble: true,
            aof_load_truncated: true,
            aof_timestamp_enabled: false,
            rdbcompression: true,
            rdbchecksum: true,
            dbfilename: "dump.rdb".into(),
            appendfilename: "appendonly.aof".into(),
            appenddirname: "appendonlydir".into(),
            keyspace: keyspace::Config::default(),
            sabotage: Sabotage::default(),
        }
    }
}

/// Parses a `save` value: pairs of numbers, or `""` for none.
pub fn parse_save(v: &str) -> Result<Vec<SaveRule>, String> {
    let nums: Vec<u64> = v
        .split_whitespace()
        .map(|n| n.parse().map_err(|_| format!("invalid save value {v:?}")))
        .collect::<Result<_, _>>()?;
    if nums.len() % 2 == 1 {
        return Err(format!("invalid save value {v:?}: an odd count of numbers"));
    }
    Ok(nums
        .chunks_exact(2)
        .map(|p| SaveRule {
            secs: p[0],
            changes: p[1],
        })
        .collect())
}

fn yes_no(v: &str) -> Result<bool, String> {
    match v.to_ascii_lowercase().as_str() {
        "yes" => Ok(true),
        "no" => Ok(false),
        _ => Err(format!("argument must be 'yes' or 'no', not {v:?}")),
    }
}

impl PersistConfig {
    /// `CONFIG SET name value` for the persistence names and the keyspace thresholds.
    pub fn set(&mut self, name: &str, value: &str) -> Result<(), String> {
        let num = || -> Result<u64, String> {
            value
                .parse()
                .map_err(|_| format!("argument couldn't be parsed into an integer: {value:?}"))
        };
        match name.to_ascii_lowercase().as_str() {
            "save" => self.save = parse_save(value)?,
            "appendonly" => self.appendonly = yes_no(value)?,
            "appendfsync" => {
                self.appendfsync = match value.to_ascii_lowercase().as_str() {
                    "always" => AppendFsync::Always,
                    "everysec" => AppendFsync::Everysec,
                    "no" => AppendFsync::No,
                    _ => return Err(format!("invalid appendfsync {value:?}")),
                }
            }
            "aof-use-rdb-preamble" => self.aof_use_rdb_preamble = yes_no(value)?,
            "aof-load-truncated" => self.aof_load_truncated = yes_no(value)?,
            "aof-timestamp-enabled" => self.aof_timestamp_enabled = yes_no(value)?,
            "rdbcompression" => self.rdbcompression = yes_no(value)?,
            "rdbchecksum" => self.rdbchecksum = yes_no(value)?,
            "zset-max-listpack-entries" | "zset-max-ziplist-entries" => {
                self.keyspace.zset_max_listpack_entries = num()?
            }
            "zset-max-listpack-value" | "zset-max-ziplist-value" => {
                self.keyspace.zset_max_listpack_value = num()?
            }
            "stream-node-max-entries" => self.keyspace.stream_node_max_entries = num()?,
            "stream-node-max-bytes" => self.keyspace.stream_node_max_bytes = num()?,
            "hll-sparse-max-bytes" => self.keyspace.hll_sparse_max_bytes = num()?,
            other => return Err(format!("unsupported CONFIG parameter: {other}")),
        }
        Ok(())
    }

    /// `CONFIG GET name` for the names `set` knows.
    pub fn get(&self, name: &str) -> Option<String> {
        let yn = |b: bool| if b { "yes" } else { "no" }.to_owned();
        Some(match name.to_ascii_lowercase().as_str() {
            "save" => self
                .save
                .iter()
                .map(|r| format!("{} {}", r.secs, r.changes))
                .collect::<Vec<_>>()
                .join(" "),
            "appendonly" => yn(self.appendonly),
            "appendfsync" => match self.appendfsync {
                AppendFsync::Always => "always",
                AppendFsync::Everysec => "everysec",
                AppendFsync::No => "no",
            }
            .to_owned(),
            "aof-use-rdb-preamble" => yn(self.aof_use_rdb_preamble),
            "aof-load-truncated" => yn(self.aof_load_truncated),
            "aof-timestamp-enabled" => yn(self.aof_timestamp_enabled),
            "rdbcompression" => yn(self.rdbcompression),
            "rdbchecksum" => yn(self.rdbchecksum),
            "dbfilename" => self.dbfilename.clone(),
            "appendfilename" => self.appendfilename.clone(),
            "appenddirname" => self.appenddirname.clone(),
            _ => return None,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults_are_redis_7s() {
        let c = PersistConfig::default();
        assert_eq!(c.get("save").as_deref(), Some("3600 1 300 100 60 10000"));
        assert_eq!(c.get("appendfsync").as_deref(), Some("everysec"));
        assert_eq!(c.get("appendonly").as_deref(), Some("no"));
        assert_eq!(c.get("aof-use-rdb-preamble").as_deref(), Some("yes"));
        assert_eq!(c.sabotage, Sabotage::default());
        // The rest of config.c's defaults (createBoolConfig / createStringConfig, 7.0.15).
        for (name, want) in [
            ("aof-load-truncated", "yes"),
            ("aof-timestamp-enabled", "no"),
            ("rdbcompression", "yes"),
            ("rdbchecksum", "yes"),
            ("dbfilename", "dump.rdb"),
            ("appendfilename", "appendonly.aof"),
            ("appenddirname", "appendonlydir"),
        ] {
            assert_eq!(c.get(name).as_deref(), Some(want), "{name}");
        }
        assert_eq!(c.get("no-such-parameter"), None);
    }

    #[test]
    fn get_gives_back_what_set_took() {
        // CONFIG GET answers the value CONFIG SET stored, in Redis's spelling.
        let mut c = PersistConfig::default();
        for name in [
            "appendonly",
            "aof-use-rdb-preamble",
            "aof-load-truncated",
            "aof-timestamp-enabled",
            "rdbcompression",
            "rdbchecksum",
        ] {
            for v in ["yes", "no", "YES", "No"] {
                c.set(name, v).unwrap();
                assert_eq!(c.get(name), Some(v.to_ascii_lowercase()), "{name} {v}");
            }
        }
        for v in ["always", "no", "everysec"] {
            c.set("appendfsync", v).unwrap();
            assert_eq!(c.get("appendfsync").as_deref(), Some(v));
        }
        c.set("save", "900 1 10 5").unwrap();
        assert_eq!(c.get("save").as_deref(), Some("900 1 10 5"));
    }

    #[test]
    fn set_takes_redis_values_and_refuses_others() {
        let mut c = PersistConfig::default();
        c.set("save", "").unwrap();
        assert!(c.save.is_empty());
        c.set("SAVE", "900 1 10 5").unwrap();
        assert_eq!(
            c.save[1],
            SaveRule {
                secs: 10,
                changes: 5
            }
        );
        c.set("appendfsync", "ALWAYS").unwrap();
        assert_eq!(c.appendfsync, AppendFsync::Always);
        assert!(c.set("save", "900").is_err());
        assert!(c.set("appendonly", "maybe").is_err());
        assert!(c.set("appendfsync", "sometimes").is_err());
        assert!(c.set("no-such-thing", "1").is_err());
    }
}
