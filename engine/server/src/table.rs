//! The command table as Redis 7.0.15 reports it (`commands.txt`, taken from its COMMAND INFO and
//! COMMAND DOCS), restricted to the commands this server runs: for COMMAND COUNT/INFO/DOCS/LIST,
//! arity checks of queued commands, and the keys a command touches (WATCH, blocked clients).
use std::collections::HashMap;
use std::sync::OnceLock;

/// One command's metadata.
#[derive(Debug, Clone)]
pub struct CmdInfo {
    pub name: &'static str,
    pub arity: i64,
    pub flags: Vec<&'static str>,
    pub first: i64,
    pub last: i64,
    pub step: i64,
    pub acl: Vec<&'static str>,
    pub group: &'static str,
    pub since: &'static str,
    pub summary: &'static str,
}

impl CmdInfo {
    /// Whether the command may change the dataset.
    pub fn is_write(&self) -> bool {
        self.flags.contains(&"write")
    }
}

/// Commands the server itself answers (not the keyspace).
pub const SERVER_COMMANDS: &[&str] = &[
    "hello",
    "client",
    "info",
    "command",
    "config",
    "debug",
    "shutdown",
    "quit",
    "reset",
    "auth",
    "time",
    "wait",
    "role",
    "save",
    "bgsave",
    "bgrewriteaof",
    "lastsave",
    "watch",
    "unwatch",
    "multi",
    "exec",
    "discard",
    "memory",
    "lolwut",
];

/// Whether this server runs `name` (lower-case).
pub fn supported(name: &str) -> bool {
    SERVER_COMMANDS.contains(&name)
        || redis_persist_engine::keyspace::command_writes(name.as_bytes()).is_some()
}

/// The table, by lower-case name.
pub fn table() -> &'static HashMap<&'static str, CmdInfo> {
    static T: OnceLock<HashMap<&'static str, CmdInfo>> = OnceLock::new();
    T.get_or_init(|| {
        let split = |s: &'static str| -> Vec<&'static str> {
            s.split(',').filter(|x| !x.is_empty()).collect()
        };
        include_str!("commands.txt")
            .lines()
            .filter_map(|l| {
                let f: Vec<&'static str> = l.splitn(10, '|').collect();
                if f.len() < 10 || !supported(f[0]) {
                    return None;
                }
                let n = |s: &str| s.parse::<i64>().unwrap_or(0);
                Some((
                    f[0],
                    CmdInfo {
                        name: f[0],
                        arity: n(f[1]),
                        flags: split(f[2]),
                        first: n(f[3]),
                        last: n(f[4]),
                        step: n(f[5]),
                        acl: split(f[6]),
                        group: f[7],
                        since: f[8],
                        summary: f[9],
                    },
                ))
            })
            .collect()
    })
}

/// The command `name` (lower-case), if this server runs it.
pub fn info(name: &str) -> Option<&'static CmdInfo> {
    table().get(name)
}

/// Whether `argc` fits a Redis arity.
pub fn arity_ok(arity: i64, argc: usize) -> bool {
    if arity >= 0 {
        argc as i64 == arity
    } else {
        argc as i64 >= -arity
    }
}

fn numkeys_at<'a>(argv: &[&'a [u8]], at: usize) -> Vec<&'a [u8]> {
    let n = argv
        .get(at)
        .and_then(|a| std::str::from_utf8(a).ok())
        .and_then(|t| t.parse::<usize>().ok())
        .unwrap_or(0);
    argv.iter().skip(at + 1).take(n).copied().collect()
}

/// The stream keys of XREAD / XREADGROUP (the first half after STREAMS).
pub fn stream_keys<'a>(argv: &[&'a [u8]]) -> Vec<&'a [u8]> {
    let Some(at) = argv.iter().position(|a| a.eq_ignore_ascii_case(b"streams")) else {
        return Vec::new();
    };
    let rest = &argv[at + 1..];
    rest[..rest.len() / 2].to_vec()
}

/// The keys `argv` names (lower-case `name`), by the table's first/last/step or, for commands
/// whose keys move, by their arguments.
pub fn keys<'a>(name: &str, argv: &[&'a [u8]]) -> Vec<&'a [u8]> {
    match name {
        "zunionstore" | "zinterstore" | "zdiffstore" => {
            let mut k = vec![argv[1]];
            k.extend(numkeys_at(argv, 2));
            return k;
        }
        "lmpop" | "zmpop" | "sintercard" | "zunion" | "zinter" | "zdiff" => {
            return numkeys_at(argv, 1)
        }
        "blmpop" | "bzmpop" | "eval" | "evalsha" | "eval_ro" | "evalsha_ro" | "fcall"
        | "fcall_ro" => return numkeys_at(argv, 2),
        "xread" | "xreadgroup" => return stream_keys(argv),
        _ => {}
    }
    let Some(c) = info(name) else {
        return Vec::new();
    };
    if c.first <= 0 {
        return Vec::new();
    }
    let argc = argv.len() as i64;
    let last = if c.last < 0 { argc + c.last } else { c.last };
    let mut out = Vec::new();
    let mut i = c.first;
    while i <= last && i < argc {
        out.push(argv[i as usize]);
        i += c.step.max(1);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_table_knows_the_served_commands_and_their_keys() {
        assert!(info("get").is_some_and(|c| c.arity == 2 && !c.is_write()));
        assert!(info("set").is_some_and(|c| c.is_write()));
        assert!(info("subscribe").is_none());
        let a: Vec<&[u8]> = vec![b"MSET", b"a", b"1", b"b", b"2"];
        assert_eq!(keys("mset", &a), vec![b"a" as &[u8], b"b"]);
        let a: Vec<&[u8]> = vec![b"BLPOP", b"a", b"b", b"0"];
        assert_eq!(keys("blpop", &a), vec![b"a" as &[u8], b"b"]);
        let a: Vec<&[u8]> = vec![b"XREAD", b"STREAMS", b"s1", b"s2", b"0", b"0"];
        assert_eq!(keys("xread", &a), vec![b"s1" as &[u8], b"s2"]);
        let a: Vec<&[u8]> = vec![b"ZUNIONSTORE", b"d", b"2", b"x", b"y"];
        assert_eq!(keys("zunionstore", &a), vec![b"d" as &[u8], b"x", b"y"]);
    }
}
