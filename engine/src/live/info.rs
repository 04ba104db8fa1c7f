//! What a live server says it is (`INFO server`) and which commands and file fields that implies,
//! so readback asks each version only what it can answer.
use super::resp::Client;
use std::io;

/// Which project built the server.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Flavor {
    /// Redis (any edition).
    Redis,
    /// Valkey.
    Valkey,
}

/// A server's identity as reported over RESP.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ServerInfo {
    /// Redis or Valkey.
    pub flavor: Flavor,
    /// Parsed `major.minor.patch`.
    pub version: (u32, u32, u32),
    /// The version text as reported (`valkey_version` on Valkey, else `redis_version`).
    pub version_string: String,
}

/// Parses `7.4.1` (or the `7.4.1` in `redis-7.4.1`) into numbers.
pub fn parse_version(text: &str) -> Option<(u32, u32, u32)> {
    let v = text.rsplit('-').next()?;
    let mut it = v.split('.').map(|p| p.parse::<u32>().ok());
    Some((it.next()??, it.next()??, it.next().unwrap_or(Some(0))?))
}

impl ServerInfo {
    /// Asks the server (`INFO server`).
    pub fn query(client: &mut Client) -> io::Result<ServerInfo> {
        let text = client.call_str(&["INFO", "server"])?.into_text()?;
        Self::from_info_text(&text)
    }

    /// Parses the text of `INFO server`.
    pub fn from_info_text(text: &str) -> io::Result<ServerInfo> {
        let field = |name: &str| {
            text.lines()
                .find_map(|l| l.trim_end().strip_prefix(name)?.strip_prefix(':'))
                .map(str::to_owned)
        };
        // Valkey also reports a frozen `redis_version:7.2.4` for client compatibility.
        let (flavor, version_string) = match field("valkey_version") {
            Some(v) => (Flavor::Valkey, v),
            None => (
                Flavor::Redis,
                field("redis_version").ok_or_else(|| {
                    io::Error::new(
                        io::ErrorKind::InvalidData,
                        "INFO server lacks redis_version",
                    )
                })?,
            ),
        };
        let version = parse_version(&version_string).ok_or_else(|| {
            io::Error::new(
                io::ErrorKind::InvalidData,
                format!("unparsable server version {version_string:?}"),
            )
        })?;
        Ok(ServerInfo {
            flavor,
            version,
            version_string,
        })
    }

    fn redis_at_least(&self, v: (u32, u32, u32)) -> bool {
        self.flavor == Flavor::Redis && self.version >= v
    }

    fn valkey_at_least(&self, v: (u32, u32, u32)) -> bool {
        self.flavor == Flavor::Valkey && self.version >= v
    }

    /// `PEXPIRETIME` exists (Redis 7.0+, every Valkey).
    pub fn has_pexpiretime(&self) -> bool {
        self.redis_at_least((7, 0, 0)) || self.flavor == Flavor::Valkey
    }

    /// Functions and `FUNCTION LIST WITHCODE` exist (Redis 7.0+, every Valkey).
    pub fn has_functions(&self) -> bool {
        self.has_pexpiretime()
    }

    /// Hash fields can carry their own expiry (Redis 7.4+, Valkey 9.0+).
    pub fn has_hash_field_ttl(&self) -> bool {
        self.redis_at_least((7, 4, 0)) || self.valkey_at_least((9, 0, 0))
    }

    /// Small lists and sets are kept as listpacks (Redis 7.2+, every Valkey).
    pub fn has_listpack_lists_and_sets(&self) -> bool {
        self.redis_at_least((7, 2, 0)) || self.flavor == Flavor::Valkey
    }

    /// Compact encodings are ziplists rather than listpacks (before Redis 7.0).
    pub fn uses_ziplists(&self) -> bool {
        self.flavor == Flavor::Redis && self.version < (7, 0, 0)
    }

    /// Stream groups can be given an `ENTRIESREAD` value (Redis 7.0+, every Valkey).
    pub fn has_entries_read(&self) -> bool {
        self.has_pexpiretime()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn valkey_wins_over_its_compat_redis_version() {
        let i = ServerInfo::from_info_text(
            "# Server\r\nredis_version:7.2.4\r\nserver_name:valkey\r\nvalkey_version:9.1.2\r\n",
        )
        .unwrap();
        assert_eq!((i.flavor, i.version), (Flavor::Valkey, (9, 1, 2)));
        assert!(i.has_hash_field_ttl());
        let r = ServerInfo::from_info_text("redis_version:6.2.14\r\n").unwrap();
        assert!(!r.has_pexpiretime() && r.uses_ziplists());
        assert_eq!(parse_version("redis-7.4.1"), Some((7, 4, 1)));
    }
}
