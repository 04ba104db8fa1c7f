//! Running one command for a client: Redis's checks (unknown command, arity), MULTI queueing
//! and EXEC with WATCH, blocking commands, the keys a write touches (for WATCH and for blocked
//! clients), and the reply drawn in the client's protocol.
use super::client::{Block, Client};
use super::event_loop::State;
use super::proto::{encode, push_error, push_null, shape_of, Shape};
use super::table;
use redis_persist_engine::keyspace::Reply;
use std::time::{Duration, Instant};

/// The lower-case name of a command (names longer than 32 bytes are not commands).
fn lower(name: &[u8]) -> String {
    String::from_utf8_lossy(&name[..name.len().min(64)]).to_ascii_lowercase()
}

/// Redis's reply to an unknown command.
pub fn unknown_command(argv: &[&[u8]]) -> String {
    let mut args = String::new();
    for a in argv.iter().skip(1) {
        if args.len() >= 128 {
            break;
        }
        let t = String::from_utf8_lossy(a);
        let t: String = t.chars().take(128 - args.len().min(128)).collect();
        args.push_str(&format!("'{t}' "));
    }
    let name: String = String::from_utf8_lossy(argv[0]).chars().take(128).collect();
    format!("ERR unknown command '{name}', with args beginning with: {args}")
}

/// Commands that MULTI does not queue.
fn runs_in_multi(name: &str) -> bool {
    matches!(
        name,
        "exec" | "discard" | "multi" | "watch" | "quit" | "reset"
    )
}

/// Commands that block, and which nil their timeout answers with (array or bulk).
fn blocking(name: &str) -> bool {
    matches!(
        name,
        "blpop"
            | "brpop"
            | "blmove"
            | "brpoplpush"
            | "blmpop"
            | "bzpopmin"
            | "bzpopmax"
            | "bzmpop"
            | "xread"
            | "xreadgroup"
    )
}

/// The timeout of a blocking command: `Ok(None)` never, `Err` Redis's error reply; for XREAD
/// without BLOCK, `Ok(Some(None))`-like "does not block" is `Err("")`.
fn block_timeout(name: &str, argv: &[&[u8]]) -> Result<Option<Duration>, String> {
    let secs = |a: &[u8]| -> Result<Option<Duration>, String> {
        let t: f64 = std::str::from_utf8(a)
            .ok()
            .and_then(|s| s.parse().ok())
            .filter(|v: &f64| v.is_finite())
            .ok_or("ERR timeout is not a float or out of range")?;
        if t < 0.0 {
            return Err("ERR timeout is negative".into());
        }
        Ok((t > 0.0).then(|| Duration::from_secs_f64(t)))
    };
    match name {
        "blpop" | "brpop" | "bzpopmin" | "bzpopmax" => secs(argv[argv.len() - 1]),
        "blmove" => secs(argv[5]),
        "brpoplpush" => secs(argv[3]),
        "blmpop" | "bzmpop" => secs(argv[1]),
        _ => {
            let Some(i) = argv
                .iter()
                .position(|a| a.eq_ignore_ascii_case(b"block"))
                .filter(|&i| {
                    let s = argv.iter().position(|a| a.eq_ignore_ascii_case(b"streams"));
                    s.is_none_or(|s| i < s)
                })
            else {
                return Err(String::new());
            };
            let ms: i64 = argv
                .get(i + 1)
                .and_then(|a| std::str::from_utf8(a).ok())
                .and_then(|s| s.parse().ok())
                .ok_or("ERR timeout is not an integer or out of range")?;
            if ms < 0 {
                return Err("ERR timeout is negative".into());
            }
            Ok((ms > 0).then(|| Duration::from_millis(ms as u64)))
        }
    }
}

/// Whether a write's reply says it changed nothing, so that (as in Redis, which signals only
/// real modifications) watchers and blocked clients are not disturbed.
fn unchanged(name: &str, argv: &[&[u8]], r: &Reply) -> bool {
    match r {
        Reply::Int(0) => matches!(
            name,
            "del"
                | "unlink"
                | "expire"
                | "pexpire"
                | "expireat"
                | "pexpireat"
                | "persist"
                | "srem"
                | "hdel"
                | "zrem"
                | "lrem"
                | "smove"
                | "renamenx"
                | "msetnx"
                | "setnx"
                | "hsetnx"
                | "sadd"
                | "lpushx"
                | "rpushx"
                | "zremrangebyscore"
                | "zremrangebyrank"
                | "zremrangebylex"
                | "xdel"
                | "xack"
                | "pfadd"
                | "copy"
                | "move"
        ),
        Reply::Nil => {
            matches!(
                name,
                "lpop" | "rpop" | "spop" | "getdel" | "lmove" | "rpoplpush" | "lmpop" | "zmpop"
            ) || (name == "set" && !argv.iter().any(|a| a.eq_ignore_ascii_case(b"get")))
        }
        _ => false,
    }
}

impl State {
    /// Runs one command for `c` and appends its reply.
    pub fn call(&mut self, c: &mut Client, argv: &[&[u8]]) {
        self.counters.commands += 1;
        let name = lower(argv[0]);
        c.last_cmd.clear();
        c.last_cmd.push_str(&name);
        let known = table::supported(&name);
        if c.multi.is_some() && !runs_in_multi(&name) {
            let refused = if !known {
                Some(unknown_command(argv))
            } else if table::info(&name).is_some_and(|i| !table::arity_ok(i.arity, argv.len())) {
                Some(format!(
                    "ERR wrong number of arguments for '{name}' command"
                ))
            } else {
                None
            };
            match refused {
                Some(e) => {
                    c.multi_error = true;
                    push_error(&mut c.out, &e);
                }
                None => {
                    if let Some(q) = &mut c.multi {
                        q.push(argv.iter().map(|a| a.to_vec()).collect());
                    }
                    c.out.extend_from_slice(b"+QUEUED\r\n");
                }
            }
            return;
        }
        if !known {
            return push_error(&mut c.out, &unknown_command(argv));
        }
        if let Some(i) = table::info(&name) {
            if !table::arity_ok(i.arity, argv.len()) {
                return push_error(
                    &mut c.out,
                    &format!("ERR wrong number of arguments for '{name}' command"),
                );
            }
        }
        match name.as_str() {
            "multi" => {
                if c.multi.is_some() {
                    push_error(&mut c.out, "ERR MULTI calls can not be nested");
                } else {
                    c.multi = Some(Vec::new());
                    c.multi_error = false;
                    c.out.extend_from_slice(b"+OK\r\n");
                }
            }
            "discard" => {
                if c.multi.take().is_none() {
                    push_error(&mut c.out, "ERR DISCARD without MULTI");
                } else {
                    self.unwatch_all(c);
                    c.out.extend_from_slice(b"+OK\r\n");
                }
            }
            "exec" => self.exec(c),
            "watch" => {
                if c.multi.is_some() {
                    return push_error(&mut c.out, "ERR WATCH inside MULTI is not allowed");
                }
                for k in &argv[1..] {
                    let key = (c.session.db, k.to_vec());
                    if !c.watched.contains(&key) {
                        self.watched.entry(key.clone()).or_default().push(c.slot);
                        c.watched.push(key);
                    }
                }
                c.out.extend_from_slice(b"+OK\r\n");
            }
            "unwatch" => {
                self.unwatch_all(c);
                c.out.extend_from_slice(b"+OK\r\n");
            }
            _ if table::SERVER_COMMANDS.contains(&name.as_str()) => {
                let r = self.server_command(c, &name, argv);
                if let Some(r) = r {
                    encode(&mut c.out, &r, c.resp, shape_of(&name, argv));
                }
            }
            "function" if argv.len() >= 2 && argv[1].eq_ignore_ascii_case(b"list") => {
                let r = self.function_list(argv);
                encode(&mut c.out, &r, c.resp, shape_of(&name, argv));
            }
            _ if blocking(&name) => self.blocking_command(c, &name, argv),
            _ => {
                let r = self.srv.execute(&mut c.session, argv);
                self.after_write(c, &name, argv, &r);
                encode(&mut c.out, &r, c.resp, shape_of(&name, argv));
            }
        }
    }

    /// After a command ran: the keys it wrote are touched for WATCH and blocked clients.
    pub fn after_write(&mut self, c: &mut Client, name: &str, argv: &[&[u8]], r: &Reply) {
        if matches!(r, Reply::Error(_)) || (self.watched.is_empty() && self.blocked_on.is_empty()) {
            return;
        }
        let Some(info) = table::info(name) else {
            return;
        };
        if !info.is_write() || unchanged(name, argv, r) {
            return;
        }
        let db = c.session.db;
        match name {
            "flushall" => return self.touch_all(c, None),
            "flushdb" => return self.touch_all(c, Some(db)),
            "swapdb" => {
                for a in &argv[1..3] {
                    if let Some(d) = std::str::from_utf8(a).ok().and_then(|t| t.parse().ok()) {
                        self.touch_all(c, Some(d));
                    }
                }
                return;
            }
            _ => {}
        }
        let keys = table::keys(name, argv);
        for k in &keys {
            self.touch(c, db, k);
        }
        let other_db = match name {
            "move" => argv.get(2),
            "copy" => argv
                .iter()
                .position(|a| a.eq_ignore_ascii_case(b"db"))
                .and_then(|i| argv.get(i + 1)),
            _ => None,
        };
        if let Some(d) = other_db.and_then(|a| std::str::from_utf8(a).ok()?.parse::<u64>().ok()) {
            let key = if name == "move" { argv[1] } else { argv[2] };
            self.touch(c, d, key);
        }
    }

    /// A write to `key`: its watchers' transactions fail, its blocked clients get a chance.
    fn touch(&mut self, c: &mut Client, db: u64, key: &[u8]) {
        if !self.watched.is_empty() {
            if let Some(slots) = self.watched.get(&(db, key.to_vec())) {
                for &s in slots {
                    if s == c.slot {
                        c.dirty_cas = true;
                    } else if let Some(o) = self.clients.get_mut(s).and_then(Option::as_mut) {
                        o.dirty_cas = true;
                    }
                }
            }
        }
        self.signal_ready(db, key);
    }

    /// FLUSHDB / FLUSHALL / SWAPDB: every watched key of `db` (or of all) is touched.
    fn touch_all(&mut self, c: &mut Client, db: Option<u64>) {
        let keys: Vec<(u64, Vec<u8>)> = self
            .watched
            .keys()
            .chain(self.blocked_on.keys())
            .filter(|(d, _)| db.is_none_or(|x| x == *d))
            .cloned()
            .collect();
        for (d, k) in keys {
            self.touch(c, d, &k);
        }
    }

    /// Stops watching every key (EXEC, DISCARD, UNWATCH, disconnect).
    pub fn unwatch_all(&mut self, c: &mut Client) {
        for key in c.watched.drain(..) {
            if let Some(v) = self.watched.get_mut(&key) {
                v.retain(|&s| s != c.slot);
                if v.is_empty() {
                    self.watched.remove(&key);
                }
            }
        }
        c.dirty_cas = false;
    }

    /// EXEC: EXECABORT after a refused queued command, the null array when a watched key
    /// changed, else the queue run in order. Keyspace commands run inside one MULTI/EXEC of the
    /// persisting server (so the AOF gets them as a transaction); the server's own commands
    /// run between such groups.
    fn exec(&mut self, c: &mut Client) {
        let Some(queue) = c.multi.take() else {
            return push_error(&mut c.out, "ERR EXEC without MULTI");
        };
        if c.multi_error {
            c.multi_error = false;
            self.unwatch_all(c);
            return push_error(
                &mut c.out,
                "EXECABORT Transaction discarded because of previous errors.",
            );
        }
        if c.dirty_cas {
            self.unwatch_all(c);
            return push_null(&mut c.out, c.resp, true);
        }
        self.unwatch_all(c);
        let mut replies: Vec<(Reply, Shape)> = Vec::with_capacity(queue.len());
        let mut i = 0;
        while i < queue.len() {
            let argv: Vec<&[u8]> = queue[i].iter().map(Vec::as_slice).collect();
            let name = lower(argv[0]);
            if table::SERVER_COMMANDS.contains(&name.as_str()) {
                let r = self.server_command(c, &name, &argv).unwrap_or(Reply::Ok);
                replies.push((r, shape_of(&name, &argv)));
                i += 1;
                continue;
            }
            // A run of keyspace commands, as one transaction of the persisting server.
            let start = i;
            while i < queue.len() {
                let n = lower(&queue[i][0]);
                if table::SERVER_COMMANDS.contains(&n.as_str()) {
                    break;
                }
                i += 1;
            }
            let db_before = c.session.db;
            self.srv.execute(&mut c.session, &[b"MULTI"]);
            for cmd in &queue[start..i] {
                let argv: Vec<&[u8]> = cmd.iter().map(Vec::as_slice).collect();
                self.srv.execute(&mut c.session, &argv);
            }
            let r = self.srv.execute(&mut c.session, &[b"EXEC"]);
            let results = match r {
                Reply::Array(v) if v.len() == i - start => v,
                other => vec![other; i - start],
            };
            let mut db = db_before;
            for (cmd, r) in queue[start..i].iter().zip(results) {
                let argv: Vec<&[u8]> = cmd.iter().map(Vec::as_slice).collect();
                let name = lower(argv[0]);
                let saved = c.session.db;
                c.session.db = db;
                self.after_write(c, &name, &argv, &r);
                c.session.db = saved;
                if name == "select" && !matches!(r, Reply::Error(_)) {
                    db = std::str::from_utf8(argv[1])
                        .ok()
                        .and_then(|t| t.parse().ok())
                        .unwrap_or(db);
                }
                replies.push((r, shape_of(&name, &argv)));
            }
        }
        let out = &mut c.out;
        out.extend_from_slice(format!("*{}\r\n", replies.len()).as_bytes());
        for (r, shape) in &replies {
            encode(out, r, c.resp, *shape);
        }
    }

    /// A blocking command: run at once; when it finds nothing, the client waits on its keys.
    fn blocking_command(&mut self, c: &mut Client, name: &str, argv: &[&[u8]]) {
        let timeout = match block_timeout(name, argv) {
            Ok(t) => Some(t),
            Err(e) if e.is_empty() => None,
            Err(e) => return push_error(&mut c.out, &e),
        };
        // XREAD's `$` means the last ID when the command is issued, not when it is retried.
        let mut concrete: Vec<Vec<u8>> = argv.iter().map(|a| a.to_vec()).collect();
        if name == "xread" && timeout.is_some() {
            if let Some(at) = argv.iter().position(|a| a.eq_ignore_ascii_case(b"streams")) {
                let n = (argv.len() - at - 1) / 2;
                let now = self.srv.now_ms();
                for j in 0..n {
                    if argv[at + 1 + n + j] == b"$" {
                        let last = self
                            .srv
                            .keyspace_mut()
                            .stream_last_id(c.session.db, argv[at + 1 + j], now)
                            .unwrap_or_default();
                        concrete[at + 1 + n + j] = last.to_string().into_bytes();
                    }
                }
            }
        }
        let refs: Vec<&[u8]> = concrete.iter().map(Vec::as_slice).collect();
        let r = self.srv.execute(&mut c.session, &refs);
        let shape = shape_of(name, argv);
        let Some(timeout) = timeout.filter(|_| matches!(r, Reply::Nil)) else {
            self.after_write(c, name, &refs, &r);
            return encode(&mut c.out, &r, c.resp, shape);
        };
        let keys: Vec<Vec<u8>> = match name {
            "blmove" | "brpoplpush" => vec![argv[1].to_vec()],
            _ => table::keys(name, argv).iter().map(|k| k.to_vec()).collect(),
        };
        let deadline = timeout.map(|t| Instant::now() + t);
        let db = c.session.db;
        for k in &keys {
            self.blocked_on
                .entry((db, k.clone()))
                .or_default()
                .push_back(c.slot);
        }
        if let Some(d) = deadline {
            self.deadlines.insert((d, c.id, c.slot));
        }
        c.blocked = Some(Block {
            argv: concrete,
            name: name.to_owned(),
            db,
            keys,
            deadline,
            shape,
        });
    }

    /// Takes a client out of every wait list.
    pub fn unblock(&mut self, c: &mut Client) {
        let Some(b) = c.blocked.take() else { return };
        for k in b.keys {
            let key = (b.db, k);
            if let Some(q) = self.blocked_on.get_mut(&key) {
                q.retain(|&s| s != c.slot);
                if q.is_empty() {
                    self.blocked_on.remove(&key);
                }
            }
        }
        if let Some(d) = b.deadline {
            self.deadlines.remove(&(d, c.id, c.slot));
        }
    }

    /// A key a blocked client waits on changed: its command runs again; if it gets something,
    /// the client is answered and goes on with its pipeline.
    pub fn retry_blocked(&mut self, slot: usize) {
        let Some(mut c) = self.clients.get_mut(slot).and_then(Option::take) else {
            return;
        };
        if let Some(b) = c.blocked.clone() {
            let refs: Vec<&[u8]> = b.argv.iter().map(Vec::as_slice).collect();
            let r = self.srv.execute(&mut c.session, &refs);
            if !matches!(r, Reply::Nil) {
                self.unblock(&mut c);
                self.after_write(&mut c, &b.name, &refs, &r);
                encode(&mut c.out, &r, c.resp, b.shape);
                self.to_write.push(slot);
                self.to_process.push(slot);
            }
        }
        self.clients[slot] = Some(c);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn unknown_commands_read_like_redis() {
        assert_eq!(
            unknown_command(&[b"foo", b"a", b"b"]),
            "ERR unknown command 'foo', with args beginning with: 'a' 'b' "
        );
        assert_eq!(
            unknown_command(&[b"foo"]),
            "ERR unknown command 'foo', with args beginning with: "
        );
    }
}
