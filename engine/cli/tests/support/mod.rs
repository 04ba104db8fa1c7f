//! Plumbing for the hostile-environment tests: the binary, scratch directories, hand-built
//! inputs (RESP commands, Dataset JSON, an LZF bomb) and snapshots of a tree's bytes.
#![allow(dead_code)]
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// The binary under test: this build's, or `REDIS_PERSIST_BIN` (to show that an older build
/// fails these tests, as each was written to).
pub fn bin() -> Command {
    Command::new(bin_path())
}

pub fn bin_path() -> String {
    std::env::var("REDIS_PERSIST_BIN")
        .unwrap_or_else(|_| env!("CARGO_BIN_EXE_redis-persist").into())
}

pub fn corpus(rel: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../../corpus")
        .join(rel)
}

pub fn path(p: &Path) -> &str {
    p.to_str().expect("test paths are UTF-8")
}

/// What a run printed and how it ended (`code` -1 when killed by a signal).
#[derive(Debug)]
pub struct Ran {
    pub code: i32,
    pub stdout: String,
    pub stderr: String,
}

impl From<std::process::Output> for Ran {
    fn from(o: std::process::Output) -> Ran {
        Ran {
            code: o.status.code().unwrap_or(-1),
            stdout: String::from_utf8_lossy(&o.stdout).into_owned(),
            stderr: String::from_utf8_lossy(&o.stderr).into_owned(),
        }
    }
}

/// Runs the binary with `args`, optionally feeding `stdin`.
pub fn run_in(args: &[&str], stdin: Option<&[u8]>) -> Ran {
    let mut c = bin();
    c.args(args).stdout(Stdio::piped()).stderr(Stdio::piped());
    c.stdin(if stdin.is_some() {
        Stdio::piped()
    } else {
        Stdio::null()
    });
    let mut child = c.spawn().expect("redis-persist runs");
    if let Some(bytes) = stdin {
        use std::io::Write;
        let mut w = child.stdin.take().unwrap();
        let bytes = bytes.to_vec();
        std::thread::spawn(move || {
            let _ = w.write_all(&bytes);
        });
    }
    wait_for(child, Duration::from_secs(120))
}

/// The binary under an address-space cap of `bytes` (through util-linux `prlimit`), so a run that
/// would allocate past its budget dies instead of passing.
pub fn capped(args: &[&str], bytes: u64) -> Command {
    let mut c = Command::new("prlimit");
    c.arg(format!("--as={bytes}"))
        .arg("--")
        .arg(bin_path())
        .args(args);
    c
}

/// Runs `cmd` with an endless standard input: chunk `i` is `feed(i)`, for up to 60 s or until the
/// process stops reading; the run itself is given 90 s.
pub fn run_fed(mut cmd: Command, feed: impl Fn(u64) -> Vec<u8> + Send + 'static) -> Ran {
    use std::io::Write;
    let mut child = cmd
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut stdin = child.stdin.take().unwrap();
    let feeder = std::thread::spawn(move || {
        let started = Instant::now();
        let mut i = 0;
        while started.elapsed() < Duration::from_secs(60) {
            if stdin.write_all(&feed(i)).is_err() {
                return;
            }
            i += 1;
        }
    });
    let out = wait_for(child, Duration::from_secs(90));
    feeder.join().unwrap();
    out
}

/// Waits for `child`, killing it past `limit` (which then fails the caller's exit-code check).
pub fn wait_for(mut child: Child, limit: Duration) -> Ran {
    let started = Instant::now();
    loop {
        if child.try_wait().unwrap().is_some() || started.elapsed() > limit {
            let _ = child.kill();
            return child.wait_with_output().unwrap().into();
        }
        std::thread::sleep(Duration::from_millis(20));
    }
}

/// A temp directory removed when dropped.
pub struct Scratch(PathBuf);

impl Scratch {
    pub fn new(tag: &str) -> Scratch {
        let nanos = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap()
            .subsec_nanos();
        let p = std::env::temp_dir().join(format!(
            "redis-persist-hostile-{tag}-{}-{nanos}",
            std::process::id()
        ));
        std::fs::create_dir_all(&p).unwrap();
        Scratch(p)
    }

    pub fn path(&self) -> &Path {
        &self.0
    }

    pub fn file(&self, name: &str, bytes: &[u8]) -> PathBuf {
        let p = self.0.join(name);
        std::fs::write(&p, bytes).unwrap();
        p
    }

    /// Copies a directory (one level, as appendonly directories are) into the scratch space.
    pub fn copy_tree(&self, from: &Path) -> PathBuf {
        let to = self.0.join(from.file_name().unwrap());
        std::fs::create_dir_all(&to).unwrap();
        for e in std::fs::read_dir(from).unwrap() {
            let e = e.unwrap();
            std::fs::copy(e.path(), to.join(e.file_name())).unwrap();
        }
        to
    }

    /// Names in the scratch directory that look like an abandoned temp file.
    pub fn leftovers(&self) -> Vec<String> {
        std::fs::read_dir(&self.0)
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .filter(|n| n.contains(".tmp-"))
            .collect()
    }
}

impl Drop for Scratch {
    fn drop(&mut self) {
        use std::os::unix::fs::PermissionsExt;
        // A test may have made part of the tree read-only.
        let _ = std::fs::set_permissions(&self.0, std::fs::Permissions::from_mode(0o755));
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// Every file under `dir` (one level) with its bytes.
pub fn snapshot(dir: &Path) -> BTreeMap<String, Vec<u8>> {
    std::fs::read_dir(dir)
        .unwrap()
        .map(|e| {
            let e = e.unwrap();
            (
                e.file_name().to_string_lossy().into_owned(),
                std::fs::read(e.path()).unwrap(),
            )
        })
        .collect()
}

/// One command as RESP, as an AOF holds it.
pub fn resp(args: &[&str]) -> Vec<u8> {
    let mut out = format!("*{}\r\n", args.len()).into_bytes();
    for a in args {
        out.extend_from_slice(format!("${}\r\n{a}\r\n", a.len()).as_bytes());
    }
    out
}

/// A Dataset JSON key record.
pub fn key_json(key: &str, ty: &str, value: serde_json::Value) -> serde_json::Value {
    serde_json::json!({"db": 0, "key": key, "type": ty, "expire_ms": null, "value": value})
}

/// A Dataset JSON document holding `keys` in the given order.
pub fn dataset(keys: &[serde_json::Value]) -> String {
    serde_json::json!({
        "format": "dataset/1",
        "source": {"kind": "rdb", "magic": "REDIS", "version": 10, "aux": []},
        "functions": [],
        "keys": keys,
    })
    .to_string()
}

fn rdb_len(out: &mut Vec<u8>, n: usize) {
    if n < 64 {
        out.push(n as u8);
    } else if n < 16384 {
        out.extend_from_slice(&[0x40 | (n >> 8) as u8, n as u8]);
    } else {
        out.push(0x80);
        out.extend_from_slice(&(n as u32).to_be_bytes());
    }
}

/// An LZF stream expanding to `n` zero bytes: one literal, then back-references of 264 bytes.
fn lzf_zeros(n: usize) -> Vec<u8> {
    let mut out = vec![0x00, 0x00];
    let mut left = n - 1;
    while left > 0 {
        let len = left.min(264);
        if len < 3 {
            out.push((len - 1) as u8);
            out.extend(std::iter::repeat_n(0u8, len));
        } else if len <= 8 {
            out.extend_from_slice(&[((len - 2) << 5) as u8, 0]);
        } else {
            out.extend_from_slice(&[7 << 5, (len - 9) as u8, 0]);
        }
        left -= len;
    }
    out
}

/// An RDB 9 file of `keys` strings, each an LZF string expanding to `each` bytes: every string
/// passes the ratio guard, the total does not fit a small budget. No checksum (zero trailer).
pub fn lzf_bomb_rdb(keys: usize, each: usize) -> Vec<u8> {
    let comp = lzf_zeros(each);
    let mut out = b"REDIS0009".to_vec();
    out.extend_from_slice(&[0xfe, 0x00]);
    for i in 0..keys {
        out.push(0x00);
        let k = format!("k{i}");
        rdb_len(&mut out, k.len());
        out.extend_from_slice(k.as_bytes());
        out.push(0xc3);
        rdb_len(&mut out, comp.len());
        rdb_len(&mut out, each);
        out.extend_from_slice(&comp);
    }
    out.push(0xff);
    out.extend_from_slice(&[0; 8]);
    out
}
