//! The server's configuration from a `redis.conf`-style file and `redis-server`'s command line:
//! `[CONFIGFILE] [--name value ...]`, where each `--name v1 v2` becomes the line `name v1 v2`
//! appended after the file, as Redis does. Directives are case-insensitive; values follow
//! Redis's quoting (`"..."` with escapes, `'...'`).
//!
//! Every persistence directive Redis has is honoured (see [`PersistConfig::set`]) together with
//! the listening and process ones. A documented list of directives is accepted and ignored
//! ([`IGNORED`]: logging detail, memory and networking tuning that has no meaning here); any
//! other directive is refused with Redis's "Bad directive" error, naming the line.
use redis_persist_engine::persist::{PersistConfig, Sabotage};
use std::path::PathBuf;

/// Directives accepted and ignored: they tune what this server does not have (memory limits,
/// eviction, replication, TLS, threads, logging detail). Their values are still shown by
/// CONFIG GET.
pub const IGNORED: &[&str] = &[
    "loglevel",
    "protected-mode",
    "tcp-backlog",
    "tcp-keepalive",
    "timeout",
    "supervised",
    "always-show-logo",
    "set-proc-title",
    "proc-title-template",
    "syslog-enabled",
    "syslog-ident",
    "syslog-facility",
    "maxmemory",
    "maxmemory-policy",
    "maxmemory-samples",
    "maxclients",
    "lazyfree-lazy-eviction",
    "lazyfree-lazy-expire",
    "lazyfree-lazy-server-del",
    "lazyfree-lazy-user-del",
    "lazyfree-lazy-user-flush",
    "replica-lazy-flush",
    "io-threads",
    "io-threads-do-reads",
    "sanitize-dump-payload",
    "stop-writes-on-bgsave-error",
    "rdb-del-sync-files",
    "rdb-save-incremental-fsync",
    "aof-rewrite-incremental-fsync",
    "no-appendfsync-on-rewrite",
    "auto-aof-rewrite-percentage",
    "auto-aof-rewrite-min-size",
    "lua-time-limit",
    "busy-reply-threshold",
    "slowlog-log-slower-than",
    "slowlog-max-len",
    "latency-monitor-threshold",
    "notify-keyspace-events",
    "hash-max-listpack-entries",
    "hash-max-listpack-value",
    "hash-max-ziplist-entries",
    "hash-max-ziplist-value",
    "list-max-listpack-size",
    "list-max-ziplist-size",
    "list-compress-depth",
    "set-max-intset-entries",
    "set-max-listpack-entries",
    "set-max-listpack-value",
    "activerehashing",
    "client-output-buffer-limit",
    "hz",
    "dynamic-hz",
    "jemalloc-bg-thread",
    "activedefrag",
    "oom-score-adj",
    "disable-thp",
    "crash-log-enabled",
    "crash-memcheck-enabled",
    "unixsocketperm",
    "enable-protected-configs",
    "enable-module-command",
    "repl-diskless-sync",
    "repl-diskless-load",
    "lfu-log-factor",
    "lfu-decay-time",
    "locale-collate",
];

/// The server's settings.
#[derive(Debug, Clone)]
pub struct ServeConfig {
    /// `port` (0: no TCP listener).
    pub port: u16,
    /// `bind`: addresses to listen on.
    pub bind: Vec<String>,
    /// `unixsocket`.
    pub unixsocket: Option<PathBuf>,
    /// `dir`: where every file goes (the process changes into it, as Redis does).
    pub dir: PathBuf,
    /// `logfile` (`None`: standard output).
    pub logfile: Option<PathBuf>,
    /// `pidfile`.
    pub pidfile: Option<PathBuf>,
    /// `enable-debug-command`: `no`, `yes` or `local`.
    pub enable_debug_command: String,
    /// `databases`.
    pub databases: u64,
    /// The persistence settings.
    pub persist: PersistConfig,
    /// The config file, if one was given (CONFIG REWRITE refuses without one).
    pub config_file: Option<PathBuf>,
    /// Values of ignored directives, for CONFIG GET.
    pub ignored: Vec<(String, String)>,
    /// `--sabotage NAME` switches (only with `REDIS_PERSIST_TEST_MODE=1`).
    pub sabotage: Vec<String>,
    /// A `save` line was read (the first one replaces the default rules).
    save_seen: bool,
}

impl Default for ServeConfig {
    fn default() -> ServeConfig {
        ServeConfig {
            port: 6379,
            bind: vec!["127.0.0.1".into()],
            unixsocket: None,
            dir: PathBuf::from("."),
            logfile: None,
            pidfile: None,
            enable_debug_command: "no".into(),
            databases: 16,
            persist: PersistConfig::default(),
            config_file: None,
            ignored: Vec::new(),
            sabotage: Vec::new(),
            save_seen: false,
        }
    }
}

/// What the command line asks for.
#[derive(Debug)]
pub enum Invocation {
    /// Run the server.
    Serve(Box<ServeConfig>),
    /// Print the version and exit.
    Version,
    /// Print usage and exit.
    Help,
}

/// Splits a config line into arguments as Redis's `sdssplitargs` does.
pub fn split_args(line: &str) -> Result<Vec<String>, String> {
    let b = line.as_bytes();
    let mut out = Vec::new();
    let mut i = 0;
    loop {
        while i < b.len() && b[i].is_ascii_whitespace() {
            i += 1;
        }
        if i >= b.len() {
            return Ok(out);
        }
        let mut cur = Vec::new();
        let (mut inq, mut insq) = (false, false);
        loop {
            if inq {
                if i >= b.len() {
                    return Err("unbalanced quotes".into());
                }
                if b[i] == b'\\' && i + 3 < b.len() && b[i + 1] == b'x' {
                    let hex = std::str::from_utf8(&b[i + 2..i + 4]).unwrap_or("");
                    if let Ok(v) = u8::from_str_radix(hex, 16) {
                        cur.push(v);
                        i += 4;
                        continue;
                    }
                }
                if b[i] == b'\\' && i + 1 < b.len() {
                    i += 1;
                    cur.push(match b[i] {
                        b'n' => b'\n',
                        b'r' => b'\r',
                        b't' => b'\t',
                        b'b' => 8,
                        b'a' => 7,
                        c => c,
                    });
                } else if b[i] == b'"' {
                    if i + 1 < b.len() && !b[i + 1].is_ascii_whitespace() {
                        return Err("closing quote must be followed by a space".into());
                    }
                    i += 1;
                    break;
                } else {
                    cur.push(b[i]);
                }
            } else if insq {
                if i >= b.len() {
                    return Err("unbalanced quotes".into());
                }
                if b[i] == b'\\' && i + 1 < b.len() && b[i + 1] == b'\'' {
                    i += 1;
                    cur.push(b'\'');
                } else if b[i] == b'\'' {
                    if i + 1 < b.len() && !b[i + 1].is_ascii_whitespace() {
                        return Err("closing quote must be followed by a space".into());
                    }
                    i += 1;
                    break;
                } else {
                    cur.push(b[i]);
                }
            } else {
                if i >= b.len() || b[i].is_ascii_whitespace() {
                    break;
                }
                match b[i] {
                    b'"' => inq = true,
                    b'\'' => insq = true,
                    c => cur.push(c),
                }
            }
            i += 1;
        }
        out.push(String::from_utf8_lossy(&cur).into_owned());
    }
}

/// Quotes a value for a config line (the inverse of [`split_args`]).
fn quote(v: &str) -> String {
    let mut s = String::from("\"");
    for c in v.chars() {
        match c {
            '"' => s.push_str("\\\""),
            '\\' => s.push_str("\\\\"),
            '\n' => s.push_str("\\n"),
            '\r' => s.push_str("\\r"),
            c => s.push(c),
        }
    }
    s.push('"');
    s
}

fn yes_no(v: &str) -> Result<bool, String> {
    match v.to_ascii_lowercase().as_str() {
        "yes" => Ok(true),
        "no" => Ok(false),
        _ => Err("argument must be 'yes' or 'no'".into()),
    }
}

/// The sabotage switch called `name`, set on `s`.
pub fn set_sabotage(s: &mut Sabotage, name: &str) -> Result<(), String> {
    match name {
        "skip-fsync-always" => s.skip_fsync_always = true,
        "rename-before-fsync" => s.rename_before_fsync = true,
        "drop-rewrite-writes" => s.drop_rewrite_writes = true,
        "ack-before-append" => s.ack_before_append = true,
        _ => {
            return Err(format!(
                "unknown sabotage {name:?} (known: skip-fsync-always, rename-before-fsync, \
                 drop-rewrite-writes, ack-before-append)"
            ))
        }
    }
    Ok(())
}

impl ServeConfig {
    /// Applies one directive (`args[0]` is its name).
    pub fn apply(&mut self, args: &[String]) -> Result<(), String> {
        let name = args[0].to_ascii_lowercase();
        let vals = &args[1..];
        let one = || -> Result<&str, String> {
            match vals {
                [v] => Ok(v.as_str()),
                _ => Err("wrong number of arguments".into()),
            }
        };
        match name.as_str() {
            "port" => {
                self.port = one()?
                    .parse()
                    .map_err(|_| "argument couldn't be parsed into an integer".to_string())?
            }
            "bind" => {
                if vals.is_empty() {
                    return Err("wrong number of arguments".into());
                }
                // A `-` prefix marks an address that may be unavailable.
                self.bind = vals.to_vec();
            }
            "unixsocket" => {
                let v = one()?;
                self.unixsocket = (!v.is_empty()).then(|| PathBuf::from(v));
            }
            "dir" => self.dir = PathBuf::from(one()?),
            "logfile" => {
                let v = one()?;
                self.logfile = (!v.is_empty()).then(|| PathBuf::from(v));
            }
            "pidfile" => {
                let v = one()?;
                self.pidfile = (!v.is_empty()).then(|| PathBuf::from(v));
            }
            "daemonize" => {
                if yes_no(one()?)? {
                    return Err("daemonize yes is not supported: run it under a supervisor".into());
                }
            }
            "enable-debug-command" => {
                let v = one()?.to_ascii_lowercase();
                if !matches!(v.as_str(), "yes" | "no" | "local") {
                    return Err("argument(s) must be one of the following: no, yes, local".into());
                }
                self.enable_debug_command = v;
            }
            "databases" => {
                let n: u64 = one()?
                    .parse()
                    .map_err(|_| "argument couldn't be parsed into an integer".to_string())?;
                if n == 0 {
                    return Err("argument must be between 1 and 2147483647 inclusive".into());
                }
                self.databases = n;
                self.persist.keyspace.databases = n;
            }
            "dbfilename" => {
                let v = one()?;
                if v.contains('/') {
                    return Err("dbfilename can't be a path, just a filename".into());
                }
                self.persist.dbfilename = v.to_owned();
            }
            "appendfilename" => {
                let v = one()?;
                if v.contains('/') {
                    return Err("appendfilename can't be a path, just a filename".into());
                }
                self.persist.appendfilename = v.to_owned();
            }
            "appenddirname" => {
                let v = one()?;
                if v.contains('/') {
                    return Err("appenddirname can't be a path, just a dirname".into());
                }
                self.persist.appenddirname = v.to_owned();
            }
            "save" => {
                // As in a config file, each `save` line adds a rule; `save ""` clears them.
                let text = vals.join(" ");
                let rules = redis_persist_engine::persist::parse_save(&text)?;
                if text.trim().is_empty() {
                    self.persist.save.clear();
                } else {
                    if !self.save_seen {
                        self.persist.save.clear();
                    }
                    self.persist.save.extend(rules);
                }
                self.save_seen = true;
            }
            "appendonly"
            | "appendfsync"
            | "aof-use-rdb-preamble"
            | "aof-load-truncated"
            | "aof-timestamp-enabled"
            | "rdbcompression"
            | "rdbchecksum"
            | "zset-max-listpack-entries"
            | "zset-max-ziplist-entries"
            | "zset-max-listpack-value"
            | "zset-max-ziplist-value"
            | "stream-node-max-entries"
            | "stream-node-max-bytes"
            | "hll-sparse-max-bytes" => {
                self.persist.set(&name, one()?)?;
            }
            "sabotage" => {
                let v = one()?;
                set_sabotage(&mut self.persist.sabotage, v)?;
                self.sabotage.push(v.to_owned());
            }
            "include" => {
                let path = PathBuf::from(one()?);
                let text = std::fs::read_to_string(&path)
                    .map_err(|e| format!("can't open the include file {}: {e}", path.display()))?;
                self.apply_text(&text)
                    .map_err(|e| format!("in {}: {e}", path.display()))?;
            }
            n if IGNORED.contains(&n) => {
                self.ignored.retain(|(k, _)| k != n);
                self.ignored.push((n.to_owned(), vals.join(" ")));
            }
            _ => return Err("Bad directive or wrong number of arguments".into()),
        }
        Ok(())
    }

    /// Applies a whole config text, stopping at the first bad line with Redis's report.
    pub fn apply_text(&mut self, text: &str) -> Result<(), String> {
        for (n, line) in text.lines().enumerate() {
            let t = line.trim();
            if t.is_empty() || t.starts_with('#') {
                continue;
            }
            let args = split_args(t).map_err(|e| config_error(n + 1, t, &e))?;
            if args.is_empty() {
                continue;
            }
            self.apply(&args).map_err(|e| config_error(n + 1, t, &e))?;
        }
        Ok(())
    }

    /// The value of an ignored directive, if it was given.
    pub fn ignored_value(&self, name: &str) -> Option<&str> {
        self.ignored
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
    }
}

fn config_error(line: usize, text: &str, why: &str) -> String {
    format!(
        "\n*** FATAL CONFIG FILE ERROR (redis-persist-server {}) ***\nReading the configuration \
         file, at line {line}\n>>> '{text}'\n{why}",
        env!("CARGO_PKG_VERSION")
    )
}

/// Parses `redis-server`'s command line (without the program name).
pub fn parse_command_line(args: &[String]) -> Result<Invocation, String> {
    if let Some(first) = args.first() {
        match first.as_str() {
            "-v" | "--version" => return Ok(Invocation::Version),
            "-h" | "--help" => return Ok(Invocation::Help),
            _ => {}
        }
    }
    let mut cfg = ServeConfig::default();
    let mut rest = args;
    let mut text = String::new();
    if let Some(first) = rest.first().filter(|a| !a.starts_with("--")) {
        let path = PathBuf::from(first);
        let file = std::fs::read_to_string(&path)
            .map_err(|e| format!("Fatal error, can't open config file '{first}': {e}"))?;
        text.push_str(&file);
        text.push('\n');
        cfg.config_file = Some(std::fs::canonicalize(&path).unwrap_or(path));
        rest = &rest[1..];
    }
    // `--name a b --other c` becomes the lines `name "a" "b"` and `other "c"`.
    let mut line: Vec<String> = Vec::new();
    for a in rest {
        if let Some(name) = a.strip_prefix("--").filter(|n| !n.is_empty()) {
            if !line.is_empty() {
                text.push_str(&line.join(" "));
                text.push('\n');
            }
            line = vec![name.to_owned()];
        } else if line.is_empty() {
            return Err(format!("Invalid argument {a:?}: options start with --"));
        } else {
            line.push(quote(a));
        }
    }
    if !line.is_empty() {
        if line.len() == 1 {
            // A bare `--save` (and similar) means an empty value, as in Redis.
            line.push("\"\"".into());
        }
        text.push_str(&line.join(" "));
        text.push('\n');
    }
    cfg.apply_text(&text)?;
    Ok(Invocation::Serve(Box::new(cfg)))
}

#[cfg(test)]
mod tests {
    use super::*;
    use redis_persist_engine::persist::AppendFsync;

    fn parse(args: &[&str]) -> Result<ServeConfig, String> {
        let v: Vec<String> = args.iter().map(|s| s.to_string()).collect();
        match parse_command_line(&v)? {
            Invocation::Serve(c) => Ok(*c),
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn the_command_line_reads_like_redis_servers() {
        let c = parse(&[
            "--port",
            "7777",
            "--save",
            "",
            "--appendonly",
            "yes",
            "--appendfsync",
            "always",
            "--loglevel",
            "warning",
            "--bind",
            "127.0.0.1",
            "-::1",
        ])
        .unwrap();
        assert_eq!(c.port, 7777);
        assert!(c.persist.save.is_empty());
        assert!(c.persist.appendonly);
        assert_eq!(c.persist.appendfsync, AppendFsync::Always);
        assert_eq!(c.bind, vec!["127.0.0.1", "-::1"]);
        assert_eq!(c.ignored_value("loglevel"), Some("warning"));
        let c = parse(&["--save", "900 1", "--save", "60 5"]).unwrap();
        assert_eq!(c.persist.save.len(), 2);
    }

    #[test]
    fn unknown_directives_are_refused_with_the_line() {
        let e = parse(&["--no-such-thing", "1"]).unwrap_err();
        assert!(e.contains("Bad directive"), "{e}");
        assert!(e.contains("no-such-thing"), "{e}");
        assert!(parse(&["--daemonize", "yes"]).is_err());
        assert!(parse(&["--appendfsync", "sometimes"]).is_err());
        assert!(parse(&["stray"]).is_err());
    }

    #[test]
    fn quoting_follows_sdssplitargs() {
        assert_eq!(
            split_args(r#"save "" 'a b' "c\x41\n" d"#).unwrap(),
            vec!["save", "", "a b", "cA\n", "d"]
        );
        assert!(split_args(r#"a "b"#).is_err());
    }
}
