//! Running an outside decoder or writer on one case, safely: its command line is split into
//! words as a shell would read them (quotes, backslashes) but no shell runs, so a case's path is
//! always one argument; it runs in its own process group, stopped at a time limit, its output capped.
use std::ffi::OsString;
use std::io::{self, Read};
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

/// What one run may take.
#[derive(Debug, Clone, Copy)]
pub struct RunLimits {
    /// Wall time before the process group is killed.
    pub timeout: Duration,
    /// Standard output bytes kept; past them the process group is killed.
    pub max_output: u64,
}

/// What a run gave.
#[derive(Debug)]
pub struct Ran {
    /// Exit status (`None`: killed by a signal, or by us).
    pub status: Option<i32>,
    /// Standard output (at most the cap).
    pub stdout: Vec<u8>,
    /// The last line of standard error.
    pub stderr_tail: String,
    /// Stopped at the time limit.
    pub timed_out: bool,
    /// Stopped at the output cap.
    pub overflowed: bool,
}

impl Ran {
    /// How the process ended, in words: `exit status 3`, or `killed by a signal`.
    pub fn ended(&self) -> String {
        match self.status {
            Some(n) => format!("exit status {n}"),
            None => "killed by a signal".to_owned(),
        }
    }
}

/// Splits a command template into words: white space separates, single quotes keep everything,
/// double quotes keep everything but `\"` and `\\`, a backslash outside quotes escapes the next
/// character. No expansion of any kind.
pub fn split_words(t: &str) -> Result<Vec<String>, String> {
    let mut words = Vec::new();
    let mut cur: Option<String> = None;
    let mut chars = t.chars();
    while let Some(c) = chars.next() {
        match c {
            c if c.is_whitespace() => {
                if let Some(w) = cur.take() {
                    words.push(w);
                }
            }
            '\'' => {
                let w = cur.get_or_insert_with(String::new);
                loop {
                    match chars.next() {
                        Some('\'') => break,
                        Some(c) => w.push(c),
                        None => return Err(format!("unbalanced ' in {t:?}")),
                    }
                }
            }
            '"' => {
                let w = cur.get_or_insert_with(String::new);
                loop {
                    match chars.next() {
                        Some('"') => break,
                        Some('\\') => match chars.next() {
                            Some(c @ ('"' | '\\')) => w.push(c),
                            Some(c) => {
                                w.push('\\');
                                w.push(c)
                            }
                            None => return Err(format!("unbalanced \" in {t:?}")),
                        },
                        Some(c) => w.push(c),
                        None => return Err(format!("unbalanced \" in {t:?}")),
                    }
                }
            }
            '\\' => match chars.next() {
                Some(c) => cur.get_or_insert_with(String::new).push(c),
                None => return Err(format!("a lone \\ at the end of {t:?}")),
            },
            c => cur.get_or_insert_with(String::new).push(c),
        }
    }
    words.extend(cur);
    if words.is_empty() {
        return Err("an empty command".into());
    }
    Ok(words)
}

/// The argument vector: each `{name}` placeholder inside a word replaced by its path (which
/// stays inside that one argument, whatever characters it holds).
pub fn argv(words: &[String], subs: &[(&str, &Path)]) -> Vec<OsString> {
    words
        .iter()
        .map(|w| {
            let mut out = OsString::new();
            let mut rest = w.as_str();
            'scan: while !rest.is_empty() {
                for (name, path) in subs {
                    let ph = format!("{{{name}}}");
                    if let Some(after) = rest.strip_prefix(ph.as_str()) {
                        out.push(path.as_os_str());
                        rest = after;
                        continue 'scan;
                    }
                }
                let c = rest.chars().next().unwrap_or(' ');
                out.push(c.to_string());
                rest = &rest[c.len_utf8()..];
            }
            out
        })
        .collect()
}

/// Kills a process group (the child leads it); `kill(1)` is used since no signal API is at hand
/// without `unsafe`.
fn kill_group(pid: u32) {
    let _ = Command::new("kill")
        .args(["-KILL", "--", &format!("-{pid}")])
        .stderr(Stdio::null())
        .status();
}

/// Runs `argv` with no standard input, in its own process group, under `limits`.
pub fn run(argv: &[OsString], limits: &RunLimits) -> io::Result<Ran> {
    use std::os::unix::process::CommandExt;
    let (prog, args) = argv
        .split_first()
        .ok_or_else(|| io::Error::other("an empty command"))?;
    let mut child = Command::new(prog)
        .args(args)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .process_group(0)
        .spawn()?;
    let pid = child.id();
    let (mut out, mut err) = (child.stdout.take(), child.stderr.take());
    let cap = limits.max_output;
    let reader = std::thread::Builder::new().spawn(move || {
        let mut buf = Vec::new();
        let mut over = false;
        if let Some(o) = out.as_mut() {
            let _ = o.take(cap + 1).read_to_end(&mut buf);
            if buf.len() as u64 > cap {
                buf.truncate(cap as usize);
                over = true;
                kill_group(pid);
            }
        }
        (buf, over)
    })?;
    let err_reader = std::thread::Builder::new().spawn(move || {
        let mut tail = Vec::new();
        let mut chunk = [0u8; 8192];
        if let Some(e) = err.as_mut() {
            while let Ok(n) = e.read(&mut chunk) {
                if n == 0 {
                    break;
                }
                tail.extend_from_slice(&chunk[..n]);
                if tail.len() > 16384 {
                    tail.drain(..tail.len() - 8192);
                }
            }
        }
        let text = String::from_utf8_lossy(&tail).into_owned();
        text.lines().last().unwrap_or("").to_owned()
    })?;
    let deadline = Instant::now() + limits.timeout;
    let mut timed_out = false;
    let status = loop {
        if let Some(s) = child.try_wait()? {
            break s;
        }
        if Instant::now() >= deadline {
            timed_out = true;
            kill_group(pid);
            let _ = child.kill();
            break child.wait()?;
        }
        std::thread::sleep(Duration::from_millis(5));
    };
    // The group is gone or dying: whatever still holds the pipes closes them.
    kill_group(pid);
    let (stdout, overflowed) = reader.join().unwrap_or_default();
    let stderr_tail = err_reader.join().unwrap_or_default();
    Ok(Ran {
        status: status.code(),
        stdout,
        stderr_tail,
        timed_out,
        overflowed,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn words_split_like_a_shell_without_expanding() {
        let w = split_words(r#"tool --x 'a b' "c \"d\" $(e)" f\ g {file}"#).unwrap();
        assert_eq!(w, ["tool", "--x", "a b", r#"c "d" $(e)"#, "f g", "{file}"]);
        assert!(split_words("a 'b").is_err() && split_words("").is_err());
    }

    #[test]
    fn a_hostile_path_stays_one_argument() {
        let words = split_words(r#"tool "{file}" --in={file}"#).unwrap();
        let p = Path::new("/tmp/y$(touch PWNED).rdb");
        let a = argv(&words, &[("file", p)]);
        assert_eq!(a[1], OsString::from("/tmp/y$(touch PWNED).rdb"));
        assert_eq!(a[2], OsString::from("--in=/tmp/y$(touch PWNED).rdb"));
    }

    #[test]
    fn time_and_output_are_bounded() {
        let lim = RunLimits {
            timeout: Duration::from_millis(300),
            max_output: 1000,
        };
        let t = Instant::now();
        let r = run(&[OsString::from("sleep"), OsString::from("1000")], &lim).unwrap();
        assert!(r.timed_out && t.elapsed() < Duration::from_secs(5));
        let r = run(&[OsString::from("yes")], &lim).unwrap();
        assert!(r.overflowed && r.stdout.len() == 1000);
    }
}
