//! The commands the server answers itself: HELLO, CLIENT, INFO, CONFIG, COMMAND, DEBUG,
//! SHUTDOWN, QUIT, RESET, the persistence commands (SAVE, BGSAVE, BGREWRITEAOF, LASTSAVE), and
//! the small ones clients send during a handshake (AUTH, TIME, ROLE, WAIT, MEMORY, LOLWUT).
use super::client::Client;
use super::event_loop::{ShutdownMode, State};
use super::table;
use redis_persist_engine::keyspace::{glob_match, Reply};
use redis_persist_engine::persist::RewriteStart;

fn text(a: &[u8]) -> String {
    String::from_utf8_lossy(a).into_owned()
}

fn bulk(s: impl Into<Vec<u8>>) -> Reply {
    Reply::Bulk(s.into())
}

fn err(s: impl Into<String>) -> Reply {
    Reply::Error(s.into())
}

fn unknown_sub(cmd: &str, sub: &[u8]) -> Reply {
    err(format!(
        "ERR unknown subcommand '{}'. Try {} HELP.",
        text(sub),
        cmd.to_ascii_uppercase()
    ))
}

fn help(lines: &[&str]) -> Reply {
    Reply::Array(lines.iter().map(|l| Reply::Status((*l).into())).collect())
}

/// Defaults CONFIG GET reports for directives this server accepts and ignores.
const LOOSE_DEFAULTS: &[(&str, &str)] = &[
    ("maxmemory", "0"),
    ("maxmemory-policy", "noeviction"),
    ("maxmemory-samples", "5"),
    ("maxclients", "10000"),
    ("timeout", "0"),
    ("tcp-keepalive", "300"),
    ("tcp-backlog", "511"),
    ("loglevel", "notice"),
    ("protected-mode", "no"),
    ("hz", "10"),
    ("io-threads", "1"),
    ("list-max-listpack-size", "-2"),
    ("list-max-ziplist-size", "-2"),
    ("list-compress-depth", "0"),
    ("hash-max-listpack-entries", "128"),
    ("hash-max-listpack-value", "64"),
    ("hash-max-ziplist-entries", "128"),
    ("hash-max-ziplist-value", "64"),
    ("set-max-intset-entries", "512"),
    ("set-max-listpack-entries", "128"),
    ("set-max-listpack-value", "64"),
    ("stop-writes-on-bgsave-error", "yes"),
    ("sanitize-dump-payload", "no"),
    ("lua-time-limit", "5000"),
    ("busy-reply-threshold", "5000"),
    ("slowlog-log-slower-than", "10000"),
    ("slowlog-max-len", "128"),
    ("notify-keyspace-events", ""),
    ("auto-aof-rewrite-percentage", "100"),
    ("auto-aof-rewrite-min-size", "67108864"),
    ("no-appendfsync-on-rewrite", "no"),
    ("rdb-del-sync-files", "no"),
    ("replica-read-only", "yes"),
    ("cluster-enabled", "no"),
    ("supervised", "no"),
    ("activerehashing", "yes"),
    ("lfu-log-factor", "10"),
    ("lfu-decay-time", "1"),
];

/// Directives whose value cannot change while the server runs.
const IMMUTABLE: &[&str] = &[
    "port",
    "bind",
    "unixsocket",
    "dir",
    "daemonize",
    "databases",
    "logfile",
    "pidfile",
    "dbfilename",
    "appendfilename",
    "appenddirname",
    "enable-debug-command",
];

const PERSIST_NAMES: &[&str] = &[
    "save",
    "appendonly",
    "appendfsync",
    "aof-use-rdb-preamble",
    "aof-load-truncated",
    "aof-timestamp-enabled",
    "rdbcompression",
    "rdbchecksum",
    "zset-max-listpack-entries",
    "zset-max-ziplist-entries",
    "zset-max-listpack-value",
    "zset-max-ziplist-value",
    "stream-node-max-entries",
    "stream-node-max-bytes",
    "hll-sparse-max-bytes",
];

impl State {
    /// Runs a server command; `None` when nothing is to be replied (SHUTDOWN).
    pub fn server_command(&mut self, c: &mut Client, name: &str, argv: &[&[u8]]) -> Option<Reply> {
        let sub = argv
            .get(1)
            .map(|a| text(a).to_ascii_lowercase())
            .unwrap_or_default();
        Some(match name {
            "hello" => self.hello(c, argv),
            "client" => self.client_cmd(c, &sub, argv),
            "info" => {
                let n = self.clients.iter().flatten().count() + 1;
                bulk(self.info_text(&argv[1..], n))
            }
            "config" => self.config_cmd(&sub, argv),
            "command" => command_cmd(&sub, argv),
            "debug" => self.debug_cmd(c, &sub, argv),
            "shutdown" => {
                let mut mode = ShutdownMode::Default;
                for a in &argv[1..] {
                    match text(a).to_ascii_lowercase().as_str() {
                        "nosave" => mode = ShutdownMode::NoSave,
                        "save" => mode = ShutdownMode::Save,
                        "now" | "force" => {}
                        "abort" => return Some(err("ERR No shutdown in progress.")),
                        _ => return Some(err("ERR syntax error")),
                    }
                }
                self.shutdown = Some((mode, Some(c.slot)));
                return None;
            }
            "quit" => {
                c.close_after_reply = true;
                Reply::Ok
            }
            "reset" => {
                self.unblock(c);
                self.unwatch_all(c);
                c.multi = None;
                c.multi_error = false;
                c.session = redis_persist_engine::keyspace::Session::new();
                c.resp = 2;
                c.name.clear();
                Reply::Status("RESET".into())
            }
            "auth" => err(
                "ERR AUTH <password> called without any password configured for the default \
                 user. Are you sure your configuration is correct?",
            ),
            "time" => {
                let us = std::time::SystemTime::now()
                    .duration_since(std::time::UNIX_EPOCH)
                    .map_or(0, |d| d.as_micros());
                Reply::Array(vec![
                    bulk((us / 1_000_000).to_string()),
                    bulk((us % 1_000_000).to_string()),
                ])
            }
            "wait" => Reply::Int(0),
            "role" => Reply::Array(vec![bulk("master"), Reply::Int(0), Reply::Array(vec![])]),
            "lolwut" => bulk(format!("Redis ver. {}\n", super::REDIS_VERSION)),
            "memory" => match sub.as_str() {
                "usage" if argv.len() >= 3 => {
                    let now = self.srv.now_ms();
                    let db = c.session.db;
                    match self.srv.keyspace_mut().debug_object(db, argv[2], now) {
                        Some(line) => Reply::Int(
                            line.split("serializedlength:")
                                .nth(1)
                                .and_then(|t| t.split(' ').next()?.parse::<i64>().ok())
                                .unwrap_or(0)
                                + 56,
                        ),
                        None => Reply::Nil,
                    }
                }
                "doctor" => bulk("Sam, I have no memory problems"),
                "stats" => Reply::Array(vec![bulk("peak.allocated"), Reply::Int(0)]),
                "purge" => Reply::Ok,
                _ => unknown_sub(name, argv.get(1).copied().unwrap_or_default()),
            },
            "save" => match self.srv.save() {
                Ok(()) => {
                    self.counters.rdb_saves += 1;
                    self.log.notice("DB saved on disk");
                    Reply::Ok
                }
                Err(e) => {
                    self.log.warning(&e);
                    err(format!("ERR {e}"))
                }
            },
            "bgsave" => match self.srv.bgsave_start() {
                Ok(()) => {
                    self.log.notice("Background saving started");
                    Reply::Status("Background saving started".into())
                }
                Err(e) => err(format!("ERR {e}")),
            },
            "bgrewriteaof" => match self.srv.bgrewriteaof() {
                Ok(how) => {
                    if how == RewriteStart::Started {
                        self.log.notice(how.status());
                    }
                    Reply::Status(how.status().into())
                }
                Err(e) => err(format!("ERR {e}")),
            },
            "lastsave" => Reply::Int(self.srv.stats().lastsave_ms / 1000),
            _ => err(super::dispatch::unknown_command(argv)),
        })
    }

    fn hello(&mut self, c: &mut Client, argv: &[&[u8]]) -> Reply {
        let mut proto = c.resp;
        if let Some(v) = argv.get(1) {
            match text(v).parse::<i64>() {
                Ok(2) => proto = 2,
                Ok(3) => proto = 3,
                Ok(_) => return err("NOPROTO unsupported protocol version"),
                Err(_) => return err("ERR Protocol version is not an integer or out of range"),
            }
        }
        let mut i = 2;
        let mut name = None;
        while i < argv.len() {
            let opt = text(argv[i]).to_ascii_lowercase();
            let more = argv.len() - 1 - i;
            if opt == "auth" && more >= 2 {
                i += 3;
            } else if opt == "setname" && more >= 1 {
                name = Some(argv[i + 1].to_vec());
                i += 2;
            } else {
                return err(format!(
                    "ERR Syntax error in HELLO option '{}'",
                    text(argv[i])
                ));
            }
        }
        if let Some(n) = name {
            if let Err(e) = valid_name(&n) {
                return e;
            }
            c.name = n;
        }
        c.resp = proto;
        Reply::Array(vec![
            bulk("server"),
            bulk("redis"),
            bulk("version"),
            bulk(super::REDIS_VERSION),
            bulk("proto"),
            Reply::Int(proto as i64),
            bulk("id"),
            Reply::Int(c.id as i64),
            bulk("mode"),
            bulk("standalone"),
            bulk("role"),
            bulk("master"),
            bulk("modules"),
            Reply::Array(Vec::new()),
        ])
    }

    fn client_cmd(&mut self, c: &mut Client, sub: &str, argv: &[&[u8]]) -> Reply {
        let n = argv.len();
        match (sub, n) {
            ("id", 2) => Reply::Int(c.id as i64),
            ("getname", 2) => {
                if c.name.is_empty() {
                    Reply::Nil
                } else {
                    Reply::Bulk(c.name.clone())
                }
            }
            ("setname", 3) => match valid_name(argv[2]) {
                Ok(()) => {
                    c.name = argv[2].to_vec();
                    Reply::Ok
                }
                Err(e) => e,
            },
            ("info", 2) => bulk(format!("{}\n", c.list_line(Some("client|info")))),
            ("list", _) => {
                let mut all: Vec<String> = self
                    .clients
                    .iter()
                    .flatten()
                    .map(|o| o.list_line(None))
                    .collect();
                all.push(c.list_line(Some("client|list")));
                all.sort_by_key(|l| {
                    l.strip_prefix("id=")
                        .and_then(|t| t.split(' ').next()?.parse::<u64>().ok())
                        .unwrap_or(0)
                });
                bulk(all.iter().map(|l| format!("{l}\n")).collect::<String>())
            }
            ("kill", 3..) => {
                let (mut by_id, mut by_addr) = (None, None);
                if n == 3 {
                    by_addr = Some(text(argv[2]));
                } else {
                    let mut i = 2;
                    while i + 1 < n {
                        match text(argv[i]).to_ascii_lowercase().as_str() {
                            "id" => by_id = text(argv[i + 1]).parse::<u64>().ok(),
                            "addr" => by_addr = Some(text(argv[i + 1])),
                            _ => {}
                        }
                        i += 2;
                    }
                }
                let mut killed = 0;
                let me = by_id == Some(c.id) || by_addr.as_deref() == Some(c.addr.as_str());
                if me {
                    c.close_after_reply = true;
                    killed += 1;
                }
                for o in self.clients.iter_mut().flatten() {
                    if by_id == Some(o.id) || by_addr.as_deref() == Some(o.addr.as_str()) {
                        o.dead = true;
                        self.to_write.push(o.slot);
                        killed += 1;
                    }
                }
                if n == 3 {
                    if killed == 0 {
                        err("ERR No such client")
                    } else {
                        Reply::Ok
                    }
                } else {
                    Reply::Int(killed)
                }
            }
            ("unblock", 3 | 4) => {
                let id = text(argv[2]).parse::<u64>().unwrap_or(0);
                let slot = self
                    .clients
                    .iter()
                    .flatten()
                    .find(|o| o.id == id && o.blocked.is_some())
                    .map(|o| o.slot);
                match slot {
                    Some(s) => {
                        if let Some(mut o) = self.clients[s].take() {
                            let array = o.blocked.as_ref().is_some_and(|b| {
                                !matches!(b.name.as_str(), "blmove" | "brpoplpush")
                            });
                            self.unblock(&mut o);
                            if argv.len() == 4 && text(argv[3]).eq_ignore_ascii_case("error") {
                                super::proto::push_error(
                                    &mut o.out,
                                    "UNBLOCKED client unblocked via CLIENT UNBLOCK",
                                );
                            } else {
                                super::proto::push_null(&mut o.out, o.resp, array);
                            }
                            self.to_write.push(s);
                            self.to_process.push(s);
                            self.clients[s] = Some(o);
                        }
                        Reply::Int(1)
                    }
                    None => Reply::Int(0),
                }
            }
            ("setinfo", 4) | ("no-evict", 3) | ("no-touch", 3) | ("reply", 3) | ("unpause", 2) => {
                Reply::Ok
            }
            ("pause", 3 | 4) => Reply::Ok,
            ("help", 2) => help(&[
                "CLIENT <subcommand> [<arg> [value] [opt] ...]. Subcommands are:",
                "GETNAME",
                "ID",
                "INFO",
                "KILL <ip:port> | ID <id> | ADDR <ip:port>",
                "LIST",
                "SETNAME <name>",
                "UNBLOCK <id> [TIMEOUT|ERROR]",
                "HELP",
            ]),
            _ => unknown_sub("client", argv.get(1).copied().unwrap_or_default()),
        }
    }

    /// Every (name, value) CONFIG GET knows.
    fn config_values(&self) -> Vec<(String, String)> {
        let p = self.srv.config();
        let mut v: Vec<(String, String)> = PERSIST_NAMES
            .iter()
            .filter_map(|n| Some((n.to_string(), p.get(n)?)))
            .collect();
        let k = &p.keyspace;
        for (n, val) in [
            ("zset-max-listpack-entries", k.zset_max_listpack_entries),
            ("zset-max-ziplist-entries", k.zset_max_listpack_entries),
            ("zset-max-listpack-value", k.zset_max_listpack_value),
            ("zset-max-ziplist-value", k.zset_max_listpack_value),
            ("stream-node-max-entries", k.stream_node_max_entries),
            ("stream-node-max-bytes", k.stream_node_max_bytes),
            ("hll-sparse-max-bytes", k.hll_sparse_max_bytes),
        ] {
            v.push((n.into(), val.to_string()));
        }
        let dir = std::fs::canonicalize(&self.cfg.dir).unwrap_or(self.cfg.dir.clone());
        let path = |p: &Option<std::path::PathBuf>| {
            p.as_ref()
                .map(|p| p.display().to_string())
                .unwrap_or_default()
        };
        for (n, val) in [
            ("dbfilename", p.dbfilename.clone()),
            ("appendfilename", p.appendfilename.clone()),
            ("appenddirname", p.appenddirname.clone()),
            ("port", self.tcp_port.to_string()),
            ("bind", self.cfg.bind.join(" ")),
            ("unixsocket", path(&self.cfg.unixsocket)),
            ("dir", dir.display().to_string()),
            ("daemonize", "no".into()),
            ("databases", self.cfg.databases.to_string()),
            ("logfile", path(&self.cfg.logfile)),
            ("pidfile", path(&self.cfg.pidfile)),
            (
                "enable-debug-command",
                self.cfg.enable_debug_command.clone(),
            ),
        ] {
            v.push((n.into(), val));
        }
        for (n, d) in LOOSE_DEFAULTS {
            let val = self
                .loose_config
                .iter()
                .rev()
                .find(|(k, _)| k == n)
                .map(|(_, v)| v.as_str())
                .or(self.cfg.ignored_value(n))
                .unwrap_or(d);
            v.push((n.to_string(), val.to_owned()));
        }
        let mut seen = std::collections::HashSet::new();
        v.retain(|(n, _)| seen.insert(n.clone()));
        v
    }

    fn config_cmd(&mut self, sub: &str, argv: &[&[u8]]) -> Reply {
        match sub {
            "get" if argv.len() >= 3 => {
                let all = self.config_values();
                let mut out = Vec::new();
                for (n, v) in &all {
                    if argv[2..]
                        .iter()
                        .any(|p| glob_match(&p.to_ascii_lowercase(), n.as_bytes()))
                    {
                        out.push(bulk(n.as_bytes()));
                        out.push(bulk(v.as_bytes()));
                    }
                }
                Reply::Array(out)
            }
            "get" => err("ERR wrong number of arguments for 'config|get' command"),
            "set" if argv.len() >= 4 && argv.len().is_multiple_of(2) => {
                for pair in argv[2..].chunks_exact(2) {
                    let (n, v) = (text(pair[0]).to_ascii_lowercase(), text(pair[1]));
                    let r = if PERSIST_NAMES.contains(&n.as_str()) {
                        self.srv.config_set(&n, &v)
                    } else if IMMUTABLE.contains(&n.as_str()) {
                        Err("can't set immutable config".into())
                    } else if LOOSE_DEFAULTS.iter().any(|(k, _)| *k == n)
                        || super::config::IGNORED.contains(&n.as_str())
                    {
                        self.loose_config.push((n.clone(), v.clone()));
                        Ok(())
                    } else {
                        return err(format!(
                            "ERR Unknown option or number of arguments for CONFIG SET - '{n}'"
                        ));
                    };
                    if let Err(e) = r {
                        return err(format!(
                            "ERR CONFIG SET failed (possibly related to argument '{n}') - {e}"
                        ));
                    }
                }
                Reply::Ok
            }
            "set" => err("ERR wrong number of arguments for 'config|set' command"),
            "resetstat" if argv.len() == 2 => Reply::Ok,
            "rewrite" if argv.len() == 2 => match &self.cfg.config_file {
                None => err("ERR The server is running without a config file"),
                Some(_) => err("ERR Rewriting config file is not supported by this server"),
            },
            "help" => help(&[
                "CONFIG <subcommand> [<arg> [value] [opt] ...]. Subcommands are:",
                "GET <pattern>",
                "SET <directive> <value>",
                "RESETSTAT",
                "REWRITE",
                "HELP",
            ]),
            _ => unknown_sub("config", argv.get(1).copied().unwrap_or_default()),
        }
    }

    fn debug_cmd(&mut self, c: &mut Client, sub: &str, argv: &[&[u8]]) -> Reply {
        let allowed = match self.cfg.enable_debug_command.as_str() {
            "yes" => true,
            "local" => c.local,
            _ => false,
        };
        if !allowed {
            return err(
                "ERR DEBUG command not allowed. If the enable-debug-command option is set to \
                 \"local\", you can run it from a local connection, otherwise you need to set \
                 this option in the configuration file, and then restart the server.",
            );
        }
        match (sub, argv.len()) {
            ("reload", _) => match self.srv.debug_reload() {
                Ok(()) => {
                    self.log.notice("DB reloaded by DEBUG RELOAD");
                    Reply::Ok
                }
                Err(e) => err(format!("ERR Error trying to load the RDB dump: {e}")),
            },
            ("object", 3) => {
                let now = self.srv.now_ms();
                match self
                    .srv
                    .keyspace_mut()
                    .debug_object(c.session.db, argv[2], now)
                {
                    Some(line) => Reply::Status(line),
                    None => err("ERR no such key"),
                }
            }
            ("sleep", 3) => {
                let secs: f64 = text(argv[2]).parse().unwrap_or(0.0);
                std::thread::sleep(std::time::Duration::from_secs_f64(secs.clamp(0.0, 60.0)));
                Reply::Ok
            }
            ("set-active-expire", 3)
            | ("quicklist-packed-threshold", 3)
            | ("change-repl-id", 2)
            | ("set-skip-checksum-validation", 3)
            | ("replybuffer", _) => Reply::Ok,
            ("help", 2) => help(&[
                "DEBUG <subcommand> [<arg> [value] [opt] ...]. Subcommands are:",
                "OBJECT <key>",
                "RELOAD",
                "SLEEP <seconds>",
                "HELP",
            ]),
            _ => err(format!(
                "ERR unknown subcommand or wrong number of arguments for '{}'. Try DEBUG HELP.",
                text(argv.get(1).copied().unwrap_or_default())
            )),
        }
    }
}

/// The function names a Lua library registers (`redis.register_function('name', ...)` or
/// `redis.register_function{function_name='name', ...}`).
fn registered_functions(src: &str) -> Vec<String> {
    let mut out = Vec::new();
    for part in src.split("register_function").skip(1) {
        let t = part.trim_start();
        let t = if let Some(r) = t.strip_prefix('(') {
            r.trim_start()
        } else if let Some(r) = t.strip_prefix('{') {
            match r.find("function_name") {
                Some(i) => r[i + "function_name".len()..]
                    .trim_start()
                    .trim_start_matches('=')
                    .trim_start(),
                None => continue,
            }
        } else {
            continue;
        };
        let Some(q) = t.chars().next().filter(|c| *c == '\'' || *c == '"') else {
            continue;
        };
        if let Some(end) = t[1..].find(q) {
            out.push(t[1..1 + end].to_owned());
        }
    }
    out
}

impl State {
    /// FUNCTION LIST [LIBRARYNAME pattern] [WITHCODE]: one map per library.
    pub fn function_list(&mut self, argv: &[&[u8]]) -> Reply {
        let (mut pattern, mut code) = (None, false);
        let mut i = 2;
        while i < argv.len() {
            let a = text(argv[i]).to_ascii_lowercase();
            if a == "withcode" {
                code = true;
            } else if a == "libraryname" && i + 1 < argv.len() {
                i += 1;
                pattern = Some(argv[i].to_vec());
            } else {
                return err(format!("ERR Unknown argument {}", text(argv[i])));
            }
            i += 1;
        }
        let mut out = Vec::new();
        for (name, src) in self.srv.keyspace().functions() {
            if pattern.as_ref().is_some_and(|p| !glob_match(p, name)) {
                continue;
            }
            let body = String::from_utf8_lossy(src);
            let engine = body
                .lines()
                .next()
                .and_then(|l| l.strip_prefix("#!"))
                .and_then(|l| l.split_whitespace().next())
                .unwrap_or("lua")
                .to_ascii_uppercase();
            let functions = registered_functions(&body)
                .into_iter()
                .map(|f| {
                    Reply::Array(vec![
                        bulk("name"),
                        bulk(f),
                        bulk("description"),
                        Reply::Nil,
                        bulk("flags"),
                        Reply::Array(vec![]),
                    ])
                })
                .collect();
            let mut lib = vec![
                bulk("library_name"),
                bulk(name),
                bulk("engine"),
                bulk(engine),
                bulk("functions"),
                Reply::Array(functions),
            ];
            if code {
                lib.push(bulk("library_code"));
                lib.push(bulk(src));
            }
            out.push(Reply::Array(lib));
        }
        Reply::Array(out)
    }
}

fn valid_name(n: &[u8]) -> Result<(), Reply> {
    if n.iter().any(|&b| b <= b' ' || b > b'~') {
        return Err(err(
            "ERR Client names cannot contain spaces, newlines or special characters.",
        ));
    }
    Ok(())
}

/// COMMAND INFO's entry for one command (Redis 7's ten fields; tips, key specs and
/// subcommands empty).
fn command_entry(c: &table::CmdInfo) -> Reply {
    let status = |v: &[&str]| Reply::Array(v.iter().map(|f| Reply::Status((*f).into())).collect());
    Reply::Array(vec![
        bulk(c.name),
        Reply::Int(c.arity),
        status(&c.flags),
        Reply::Int(c.first),
        Reply::Int(c.last),
        Reply::Int(c.step),
        status(&c.acl),
        Reply::Array(vec![]),
        Reply::Array(vec![]),
        Reply::Array(vec![]),
    ])
}

fn command_docs(c: &table::CmdInfo) -> Reply {
    Reply::Array(vec![
        bulk("summary"),
        bulk(c.summary),
        bulk("since"),
        bulk(c.since),
        bulk("group"),
        bulk(c.group),
    ])
}

fn command_cmd(sub: &str, argv: &[&[u8]]) -> Reply {
    let t = table::table();
    let mut all: Vec<&table::CmdInfo> = t.values().collect();
    all.sort_by_key(|c| c.name);
    let named = |argv: &[&[u8]]| -> Vec<Option<&table::CmdInfo>> {
        argv.iter()
            .map(|a| table::info(&text(a).to_ascii_lowercase()))
            .collect()
    };
    match sub {
        "" => Reply::Array(all.into_iter().map(command_entry).collect()),
        "count" => Reply::Int(t.len() as i64),
        "list" => Reply::Array(all.iter().map(|c| bulk(c.name)).collect()),
        "info" if argv.len() == 2 => Reply::Array(all.into_iter().map(command_entry).collect()),
        "info" => Reply::Array(
            named(&argv[2..])
                .into_iter()
                .map(|c| c.map_or(Reply::Nil, command_entry))
                .collect(),
        ),
        "docs" => {
            let list: Vec<&table::CmdInfo> = if argv.len() == 2 {
                all
            } else {
                named(&argv[2..]).into_iter().flatten().collect()
            };
            Reply::Array(
                list.into_iter()
                    .flat_map(|c| [bulk(c.name), command_docs(c)])
                    .collect(),
            )
        }
        "getkeys" if argv.len() >= 3 => {
            let name = text(argv[2]).to_ascii_lowercase();
            if table::info(&name).is_none() {
                return err("ERR Invalid command specified");
            }
            let keys = table::keys(&name, &argv[2..]);
            if keys.is_empty() {
                return err("ERR The command has no key arguments");
            }
            Reply::Array(keys.into_iter().map(bulk).collect())
        }
        "help" => help(&[
            "COMMAND <subcommand> [<arg> [value] [opt] ...]. Subcommands are:",
            "(no subcommand)",
            "COUNT",
            "DOCS [<command-name> ...]",
            "GETKEYS <full-command>",
            "INFO [<command-name> ...]",
            "LIST",
            "HELP",
        ]),
        _ => unknown_sub("command", argv.get(1).copied().unwrap_or_default()),
    }
}
