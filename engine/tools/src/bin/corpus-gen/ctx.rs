//! The scenario side of one live server: commands with mixed text/binary arguments, expiries the
//! generator sets (recorded, since 6.2 cannot report absolute ones), and the features a case shows.
use redis_persist_engine::dataset::{Dataset, Value};
use redis_persist_engine::live::{Client, Flavor, Reply, ServerInfo};
use std::collections::{BTreeMap, BTreeSet};
use std::io;

/// Anything usable as one command argument.
pub trait Arg {
    /// The argument's bytes.
    fn to_arg(&self) -> Vec<u8>;
}

impl Arg for str {
    fn to_arg(&self) -> Vec<u8> {
        self.as_bytes().to_vec()
    }
}
impl Arg for String {
    fn to_arg(&self) -> Vec<u8> {
        self.as_bytes().to_vec()
    }
}
impl Arg for [u8] {
    fn to_arg(&self) -> Vec<u8> {
        self.to_vec()
    }
}
impl<const N: usize> Arg for [u8; N] {
    fn to_arg(&self) -> Vec<u8> {
        self.to_vec()
    }
}
impl Arg for Vec<u8> {
    fn to_arg(&self) -> Vec<u8> {
        self.clone()
    }
}
impl Arg for i64 {
    fn to_arg(&self) -> Vec<u8> {
        self.to_string().into_bytes()
    }
}
impl Arg for i32 {
    fn to_arg(&self) -> Vec<u8> {
        self.to_string().into_bytes()
    }
}
impl Arg for u64 {
    fn to_arg(&self) -> Vec<u8> {
        self.to_string().into_bytes()
    }
}
impl Arg for usize {
    fn to_arg(&self) -> Vec<u8> {
        self.to_string().into_bytes()
    }
}
impl<T: Arg + ?Sized> Arg for &T {
    fn to_arg(&self) -> Vec<u8> {
        (**self).to_arg()
    }
}

/// `r!(ctx, "SET", key, value)`: runs one command, a server error being an `Err`.
macro_rules! r {
    ($ctx:expr, $($a:expr),+ $(,)?) => {
        $ctx.call(vec![$($crate::ctx::Arg::to_arg(&$a)),+])
    };
}
pub(crate) use r;

/// State of one scenario run against one server.
pub struct Ctx {
    /// The connection.
    pub c: Client,
    /// What the server says it is.
    pub info: ServerInfo,
    db: u64,
    /// Absolute expiries set by the scenario, by (db, key).
    pub expiries: BTreeMap<(u64, Vec<u8>), i64>,
    /// Features of the case.
    pub features: BTreeSet<String>,
}

impl Ctx {
    /// Wraps a fresh connection (in db 0).
    pub fn new(mut c: Client) -> io::Result<Ctx> {
        let info = ServerInfo::query(&mut c)?;
        Ok(Ctx {
            c,
            info,
            db: 0,
            expiries: BTreeMap::new(),
            features: BTreeSet::new(),
        })
    }

    /// Runs a command given as owned arguments.
    pub fn call(&mut self, args: Vec<Vec<u8>>) -> io::Result<Reply> {
        self.c.call_vec(&args)
    }

    /// Notes a feature.
    pub fn feature(&mut self, f: &str) {
        self.features.insert(f.to_owned());
    }

    /// Switches database.
    pub fn select(&mut self, db: u64) -> io::Result<()> {
        r!(self, "SELECT", db.to_string())?;
        self.db = db;
        Ok(())
    }

    /// `PEXPIREAT key ms`, remembered for readback.
    pub fn pexpireat(&mut self, key: impl Arg, ms: i64) -> io::Result<()> {
        let key = key.to_arg();
        let set = r!(self, "PEXPIREAT", key, ms)?.as_int()?;
        if set != 1 {
            return Err(io::Error::other("PEXPIREAT did not set an expiry"));
        }
        self.expiries.insert((self.db, key), ms);
        Ok(())
    }

    /// `EXPIREAT key s` (seconds precision), remembered in ms.
    pub fn expireat_s(&mut self, key: impl Arg, s: i64) -> io::Result<()> {
        let key = key.to_arg();
        r!(self, "EXPIREAT", key, s)?;
        self.expiries.insert((self.db, key), s * 1000);
        Ok(())
    }

    /// `CONFIG GET name` as text.
    pub fn config_get(&mut self, name: &str) -> io::Result<String> {
        let v = r!(self, "CONFIG", "GET", name)?.into_array()?;
        match v.into_iter().nth(1) {
            Some(r) => r.into_text(),
            None => Err(io::Error::other(format!("unknown config {name}"))),
        }
    }

    /// Whether compact encodings are ziplists (6.2) rather than listpacks.
    pub fn ziplists(&self) -> bool {
        self.info.uses_ziplists()
    }

    /// Records `<type>-<encoding>` for every key (from `OBJECT ENCODING` at creation time), plus
    /// node counts of lists and streams where the server reports them.
    pub fn encoding_features(&mut self, dbs: &[u64]) -> io::Result<()> {
        for &db in dbs {
            self.select(db)?;
            let mut cursor = b"0".to_vec();
            loop {
                let v = r!(self, "SCAN", cursor, "COUNT", "1000")?.into_array()?;
                let mut it = v.into_iter();
                let (Some(next), Some(keys)) = (it.next(), it.next()) else {
                    return Err(io::Error::other("bad SCAN reply"));
                };
                for k in keys.into_array()? {
                    self.key_features(&k.into_bytes()?)?;
                }
                cursor = next.into_bytes()?;
                if cursor == b"0" {
                    break;
                }
            }
        }
        self.select(0)
    }

    fn key_features(&mut self, key: &[u8]) -> io::Result<()> {
        let ty = r!(self, "TYPE", key)?.into_text()?;
        if !["string", "list", "set", "hash", "zset", "stream"].contains(&ty.as_str()) {
            self.feature("module");
            self.feature(&format!("module-{ty}"));
            return Ok(());
        }
        let enc = r!(self, "OBJECT", "ENCODING", key)?.into_text()?;
        // 6.2 saves quicklists as type 14 (ziplist nodes), 7.0+ as type 18 (listpack nodes).
        let enc = match (ty.as_str(), enc.as_str()) {
            ("list", "quicklist") if !self.ziplists() => "quicklist2".to_owned(),
            _ => enc,
        };
        if ty == "stream" {
            self.feature("stream");
        } else {
            self.feature(&format!("{ty}-{enc}"));
        }
        if ty == "list" && enc.starts_with("quicklist") {
            let dbg = r!(self, "DEBUG", "OBJECT", key)?.into_text()?;
            let nodes = dbg
                .split_whitespace()
                .find_map(|w| w.strip_prefix("ql_nodes:")?.parse::<u64>().ok())
                .unwrap_or(1);
            if nodes > 1 {
                self.feature("list-multi-node");
            }
            // Depth-1 compression leaves head and tail raw; a third node is compressible.
            if nodes > 2 && self.config_get("list-compress-depth")? != "0" {
                self.feature("list-compressed");
            }
        }
        if ty == "stream" {
            let info = r!(self, "XINFO", "STREAM", key)?.into_pairs()?;
            let nodes = info
                .into_iter()
                .find(|(k, _)| k == "radix-tree-keys")
                .map(|(_, v)| v.as_int())
                .transpose()?
                .unwrap_or(0);
            if nodes > 1 {
                self.feature("stream-multi-node");
            }
        }
        if ty == "set" && enc == "intset" {
            let members = r!(self, "SMEMBERS", key)?.into_array()?;
            let mut width = 16;
            for m in members {
                let v: i64 = m.into_text()?.parse().unwrap_or(0);
                if i16::try_from(v).is_err() {
                    width = width.max(32);
                }
                if i32::try_from(v).is_err() {
                    width = 64;
                }
            }
            self.feature(&format!("set-intset{width}"));
        }
        Ok(())
    }
}

/// Features visible in the expected dataset itself.
pub fn dataset_features(ds: &Dataset, info: &ServerInfo, out: &mut BTreeSet<String>) {
    let mut add = |f: &str| {
        out.insert(f.to_owned());
    };
    let dbs: BTreeSet<u64> = ds.keys.iter().map(|e| e.db).collect();
    if dbs.len() > 1 {
        add("multi-db");
    }
    if !ds.functions.is_empty() {
        add("function");
    }
    for e in &ds.keys {
        if let Some(ms) = e.expire_ms {
            add("expire");
            if ms / 1000 > i64::from(u32::MAX) {
                add("expire-beyond-32bit-seconds");
            }
        }
        if std::str::from_utf8(&e.key).is_err() {
            add("binary-key");
        }
        if e.key.is_empty() {
            add("empty-key");
        }
        match &e.value {
            Value::String(v) if std::str::from_utf8(v).is_err() => add("binary-value"),
            Value::String(v) if v.len() >= 16384 => add("string-len-32bit"),
            Value::Hash(f) if f.iter().any(|f| f.expire_ms.is_some()) => add("hash-field-ttl"),
            Value::Zset(m) => {
                if m.iter().any(|m| m.score.is_infinite()) {
                    add("zset-inf");
                }
                if m.iter()
                    .any(|m| m.score == 0.0 && m.score.is_sign_negative())
                {
                    add("zset-negative-zero");
                }
            }
            Value::List(v) if v.iter().any(|x| x.len() > 8192) => {
                add("list-big-element");
                // From Redis 7.4 an element above the 8 KB node limit gets a PLAIN node.
                if info.flavor == Flavor::Redis && info.version >= (7, 4, 0) {
                    add("list-plain-node");
                }
            }
            Value::Stream(s) => {
                if s.length == 0 {
                    add("stream-empty");
                }
                if !s.groups.is_empty() {
                    add("stream-groups");
                }
                for g in &s.groups {
                    if !g.pending.is_empty() {
                        add("stream-pel");
                    }
                    if g.consumers.iter().any(|c| c.pending.is_empty()) {
                        add("stream-consumer-without-pel");
                    }
                    if g.entries_read.is_none() && info.has_entries_read() {
                        add("stream-entries-read-unknown");
                    }
                }
            }
            _ => {}
        }
    }
    // Valkey 9 writes its own header; every other build writes REDIS.
    if info.flavor == Flavor::Valkey && info.version >= (9, 0, 0) {
        add("valkey-magic");
    }
}

/// 2100-01-01T00:00:00Z: far enough that nothing expires between readback and SAVE.
pub const FAR_MS: i64 = 4_102_444_800_000;
/// An expiry whose seconds do not fit 32 bits (2106+), to catch 32-bit truncation.
pub const BEYOND_U32_SECONDS_MS: i64 = 4_294_967_296_000 + 12_345;
/// 9999-12-31T23:59:59.999Z.
pub const YEAR_9999_MS: i64 = 253_402_300_799_999;
/// The largest field expiry Redis 7.4 accepts (`EB_EXPIRE_TIME_MAX >> 2`, year 4199).
pub const FIELD_TTL_MAX_MS: i64 = 70_368_744_177_663;
