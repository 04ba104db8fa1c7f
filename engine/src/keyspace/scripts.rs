//! Scripts as an old AOF may hold them: SCRIPT LOAD/FLUSH/EXISTS over a SHA-1 keyed cache (not
//! data), and EVAL/EVALSHA for scripts made only of `redis.call`/`redis.pcall` statements.
//!
//! Redis 7+ propagates a script's effects (inside MULTI/EXEC), never the script; Redis 6.2 and
//! older could write the script itself (verbatim replication, SCRIPT LOAD). There is no Lua here:
//! a script is run when every statement is `[return] redis.call|pcall(arg, ...)` with string or
//! number literals, `KEYS[i]` and `ARGV[i]` as arguments; any other script is refused as an
//! unknown command, so that a load stops rather than silently skip its effects.
use super::args::parse_i64;
use super::reply::{err, msg, CmdResult, CommandError, Reply};
use super::{arity_ok, lookup, spec, Cx, Keyspace, Spec, Tx};

pub(crate) const COMMANDS: &[Spec] = &[
    spec("script", -2, script),
    spec("eval", -3, eval),
    spec("evalsha", -3, evalsha),
    spec("eval_ro", -3, eval),
    spec("evalsha_ro", -3, evalsha),
];

/// SCRIPT LOAD|FLUSH|EXISTS.
fn script(k: &mut Keyspace, _: &mut Cx, a: &[&[u8]]) -> CmdResult {
    let sub = a[1].to_ascii_lowercase();
    let arity = match sub.as_slice() {
        b"load" => 3,
        b"flush" => -2,
        b"exists" => -3,
        _ => {
            return err(format!(
                "ERR unknown subcommand '{}'. Try SCRIPT HELP.",
                String::from_utf8_lossy(a[1])
            ))
        }
    };
    if !arity_ok(arity, a.len()) {
        return Err(CommandError::WrongArity(format!(
            "script|{}",
            String::from_utf8_lossy(&sub)
        )));
    }
    Ok(match sub.as_slice() {
        b"load" => {
            let sha = sha1_hex(a[2]);
            k.scripts.insert(sha.clone(), a[2].to_vec());
            Reply::Bulk(sha.into_bytes())
        }
        b"flush" => {
            k.scripts.clear();
            Reply::Ok
        }
        _ => Reply::Array(
            a[2..]
                .iter()
                .map(|s| {
                    let known = k
                        .scripts
                        .contains_key(&String::from_utf8_lossy(s).to_ascii_lowercase());
                    Reply::Int(known as i64)
                })
                .collect(),
        ),
    })
}

/// One argument of a `redis.call`.
enum Arg {
    Lit(Vec<u8>),
    Key(usize),
    Argv(usize),
}

/// One statement.
struct Call {
    ret: bool,
    pcall: bool,
    args: Vec<Arg>,
}

/// A tiny reader over the script text.
struct Text<'a> {
    s: &'a [u8],
    i: usize,
}

impl Text<'_> {
    fn skip_space(&mut self) {
        loop {
            while self.i < self.s.len()
                && (self.s[self.i].is_ascii_whitespace() || self.s[self.i] == b';')
            {
                self.i += 1;
            }
            if self.s[self.i..].starts_with(b"--") {
                while self.i < self.s.len() && self.s[self.i] != b'\n' {
                    self.i += 1;
                }
            } else {
                return;
            }
        }
    }

    fn eat(&mut self, word: &[u8]) -> bool {
        self.skip_space();
        if self.s[self.i..].starts_with(word) {
            self.i += word.len();
            true
        } else {
            false
        }
    }

    fn number(&mut self) -> Option<usize> {
        let start = self.i;
        while self.i < self.s.len() && self.s[self.i].is_ascii_digit() {
            self.i += 1;
        }
        std::str::from_utf8(&self.s[start..self.i])
            .ok()?
            .parse()
            .ok()
    }

    fn string(&mut self) -> Option<Vec<u8>> {
        if self.eat(b"[[") {
            let end = self.s[self.i..].windows(2).position(|w| w == b"]]")? + self.i;
            let v = self.s[self.i..end].to_vec();
            self.i = end + 2;
            return Some(v);
        }
        let q = *self.s.get(self.i)?;
        if q != b'\'' && q != b'"' {
            return None;
        }
        self.i += 1;
        let mut out = Vec::new();
        loop {
            let c = *self.s.get(self.i)?;
            self.i += 1;
            match c {
                b'\\' => {
                    let e = *self.s.get(self.i)?;
                    self.i += 1;
                    out.push(match e {
                        b'n' => b'\n',
                        b't' => b'\t',
                        b'r' => b'\r',
                        b'a' => 7,
                        b'b' => 8,
                        b'f' => 12,
                        b'v' => 11,
                        b'0'..=b'9' => {
                            self.i -= 1;
                            let start = self.i;
                            while self.i < start + 3
                                && self.s.get(self.i).is_some_and(u8::is_ascii_digit)
                            {
                                self.i += 1;
                            }
                            std::str::from_utf8(&self.s[start..self.i])
                                .ok()?
                                .parse::<u8>()
                                .ok()?
                        }
                        other => other,
                    });
                }
                c if c == q => return Some(out),
                b'\n' => return None,
                c => out.push(c),
            }
        }
    }

    fn arg(&mut self) -> Option<Arg> {
        self.skip_space();
        for (word, key) in [(&b"KEYS["[..], true), (b"ARGV[", false)] {
            if self.eat(word) {
                let n = self.number()?;
                self.eat(b"]").then_some(())?;
                return Some(if key { Arg::Key(n) } else { Arg::Argv(n) });
            }
        }
        if let Some(s) = self.string() {
            return Some(Arg::Lit(s));
        }
        let start = self.i;
        while self.i < self.s.len()
            && (self.s[self.i].is_ascii_digit() || b"-.".contains(&self.s[self.i]))
        {
            self.i += 1;
        }
        let n: f64 = std::str::from_utf8(&self.s[start..self.i])
            .ok()?
            .parse()
            .ok()?;
        Some(Arg::Lit(lua_number(n)))
    }
}

/// A Lua 5.1 number as `tostring` (`%.14g`) gives it to `redis.call`.
fn lua_number(n: f64) -> Vec<u8> {
    if n.fract() == 0.0 && n.abs() < 1e14 {
        format!("{}", n as i64).into_bytes()
    } else {
        format!("{n}").into_bytes()
    }
}

/// The statements of a script in the supported subset.
fn parse(script: &[u8]) -> Option<Vec<Call>> {
    let mut t = Text { s: script, i: 0 };
    let mut calls = Vec::new();
    loop {
        t.skip_space();
        if t.i >= t.s.len() {
            return Some(calls);
        }
        if calls.last().is_some_and(|c: &Call| c.ret) {
            return None;
        }
        let ret = t.eat(b"return ") || t.eat(b"return\t") || t.eat(b"return\n");
        let pcall = if t.eat(b"redis.call") {
            false
        } else if t.eat(b"redis.pcall") {
            true
        } else {
            return None;
        };
        t.eat(b"(").then_some(())?;
        let mut args = vec![t.arg()?];
        while t.eat(b",") {
            args.push(t.arg()?);
        }
        t.eat(b")").then_some(())?;
        calls.push(Call { ret, pcall, args });
    }
}

fn run_script(k: &mut Keyspace, cx: &Cx, name: &str, body: &[u8], a: &[&[u8]]) -> CmdResult {
    let numkeys = match parse_i64(a[2]) {
        Some(n) if n < 0 => return err("ERR Number of keys can't be negative"),
        Some(n) if n as u64 > (a.len() - 3) as u64 => {
            return err("ERR Number of keys can't be greater than number of args")
        }
        Some(n) => n as usize,
        None => return err(msg::NOT_INT),
    };
    let (keys, argv) = a[3..].split_at(numkeys);
    let Some(calls) = parse(body) else {
        return Err(CommandError::UnknownCommand(name.into()));
    };
    k.scripts.insert(sha1_hex(body), body.to_vec());
    // The script has its own selected database (Redis 7); its effects are the caller's.
    let mut scx = Cx {
        db: cx.db,
        now: cx.now,
        clock: cx.clock,
        loading: cx.loading,
    };
    let mut result = Reply::Nil;
    for call in calls {
        let mut cmd: Vec<&[u8]> = Vec::with_capacity(call.args.len());
        for arg in &call.args {
            let v: Option<&[u8]> = match arg {
                Arg::Lit(l) => Some(l),
                Arg::Key(i) => i.checked_sub(1).and_then(|i| keys.get(i)).copied(),
                Arg::Argv(i) => i.checked_sub(1).and_then(|i| argv.get(i)).copied(),
            };
            match v {
                Some(v) => cmd.push(v),
                None => {
                    return err("ERR Lua redis lib command arguments must be strings or integers")
                }
            }
        }
        let reply = match lookup(cmd[0]) {
            Some(spec) if spec.tx != Tx::No => {
                Reply::Error("ERR This Redis command is not allowed from script".into())
            }
            Some(spec) if !arity_ok(spec.arity, cmd.len()) => {
                Reply::Error("ERR Wrong number of args calling Redis command from script".into())
            }
            Some(spec) => {
                (spec.run)(k, &mut scx, &cmd).unwrap_or_else(|e| Reply::Error(format!("ERR {e}")))
            }
            None => Reply::Error("ERR Unknown Redis command called from script".into()),
        };
        if let (Reply::Error(e), false) = (&reply, call.pcall) {
            return err(format!("{e} script: {}", sha1_hex(body)));
        }
        if call.ret {
            result = reply;
        }
    }
    Ok(result)
}

fn eval(k: &mut Keyspace, cx: &mut Cx, a: &[&[u8]]) -> CmdResult {
    run_script(k, cx, "eval", a[1], a)
}

fn evalsha(k: &mut Keyspace, cx: &mut Cx, a: &[&[u8]]) -> CmdResult {
    let sha = String::from_utf8_lossy(a[1]).to_ascii_lowercase();
    match k.scripts.get(&sha).cloned() {
        Some(body) => run_script(k, cx, "evalsha", &body, a),
        None => err("NOSCRIPT No matching script. Please use EVAL."),
    }
}

/// SHA-1 (FIPS 180-4) in lower-case hex.
pub(crate) fn sha1_hex(data: &[u8]) -> String {
    let mut h: [u32; 5] = [
        0x6745_2301,
        0xEFCD_AB89,
        0x98BA_DCFE,
        0x1032_5476,
        0xC3D2_E1F0,
    ];
    let mut msg = data.to_vec();
    msg.push(0x80);
    while msg.len() % 64 != 56 {
        msg.push(0);
    }
    msg.extend_from_slice(&((data.len() as u64).wrapping_mul(8)).to_be_bytes());
    for block in msg.chunks_exact(64) {
        let mut w = [0u32; 80];
        for (i, c) in block.chunks_exact(4).enumerate() {
            w[i] = u32::from_be_bytes([c[0], c[1], c[2], c[3]]);
        }
        for i in 16..80 {
            w[i] = (w[i - 3] ^ w[i - 8] ^ w[i - 14] ^ w[i - 16]).rotate_left(1);
        }
        let [mut a, mut b, mut c, mut d, mut e] = h;
        for (i, wi) in w.iter().enumerate() {
            let (f, k) = match i {
                0..=19 => ((b & c) | (!b & d), 0x5A82_7999),
                20..=39 => (b ^ c ^ d, 0x6ED9_EBA1),
                40..=59 => ((b & c) | (b & d) | (c & d), 0x8F1B_BCDC),
                _ => (b ^ c ^ d, 0xCA62_C1D6),
            };
            let t = a
                .rotate_left(5)
                .wrapping_add(f)
                .wrapping_add(e)
                .wrapping_add(k)
                .wrapping_add(*wi);
            e = d;
            d = c;
            c = b.rotate_left(30);
            b = a;
            a = t;
        }
        for (x, y) in h.iter_mut().zip([a, b, c, d, e]) {
            *x = x.wrapping_add(y);
        }
    }
    h.iter().map(|x| format!("{x:08x}")).collect()
}

#[cfg(test)]
mod tests {
    use super::sha1_hex;

    #[test]
    fn sha1_known_answers() {
        assert_eq!(sha1_hex(b""), "da39a3ee5e6b4b0d3255bfef95601890afd80709");
        assert_eq!(sha1_hex(b"abc"), "a9993e364706816aba3e25717850c26c9cd0d89d");
        assert_eq!(
            sha1_hex(b"abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq"),
            "84983e441c3bd26ebaae4aa1f95129e5e54670f1"
        );
    }
}
