//! The conformance corpus: `index.json` (one entry per case), the paths it names, the filter
//! grammar that selects cases, and each case's expectation. Every reader and writer of the corpus goes through here.
//!
//! An index entry is a JSON object; the fields this module knows are typed on [`Case`], and any
//! other field is kept in [`Case::extra`] so that a producer's additions survive a rewrite.
pub mod dumps;
mod filter;

pub use dumps::{Dumps, RecordedDump};
pub use filter::Filter;

use crate::dataset::{from_json, Dataset};
use serde_json::{Map, Value as J};
use std::fmt;
use std::path::{Component, Path, PathBuf};

/// A corpus that cannot be used: unreadable, not JSON, or an entry that breaks the contract.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CorpusError {
    /// The file at fault.
    pub path: PathBuf,
    /// What is wrong with it.
    pub message: String,
}

impl fmt::Display for CorpusError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.path.display(), self.message)
    }
}

impl std::error::Error for CorpusError {}

/// What a case's file is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    /// An RDB snapshot.
    Rdb,
    /// An AOF: a single file, or an appendonly directory (see [`Case::multi_part`]).
    Aof,
}

/// Where a case comes from.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Origin {
    /// `server` (written by a real build), `hand` (built byte by byte), or another producer's name.
    pub kind: String,
    /// The build that wrote it (`redis-7.0.15`), for server cases.
    pub build: Option<String>,
    /// That build's version (`7.0.15`).
    pub version: Option<String>,
    /// How the file was made, for hand-built cases.
    pub how: Option<String>,
    /// The command that regenerates it.
    pub command: Option<String>,
}

/// What the real `redis-check-aof` said of an AOF case.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CheckAof {
    /// Its exit status.
    pub status: i64,
    /// Its `ok_up_to` (the valid prefix of the last file), when it printed one.
    pub ok_up_to: Option<u64>,
    /// Its verdict lines, joined with `; `.
    pub verdict: String,
}

/// One entry of the index.
#[derive(Debug, Clone, PartialEq)]
pub struct Case {
    /// Unique name, `<build or hand>/<scenario>`.
    pub name: String,
    /// The file (or appendonly directory), relative to the corpus directory.
    pub file: PathBuf,
    /// The expectation file (Dataset JSON, or `{"error": ...}`), relative to the corpus.
    pub expect: Option<PathBuf>,
    /// RDB or AOF.
    pub format: Format,
    /// An AOF laid out as a Redis 7 manifest directory.
    pub multi_part: bool,
    /// Whether a conforming reader must accept the file (else refuse it).
    pub accept: bool,
    /// The error kind a refusal must carry (our kinds, see `format::ErrorKind`).
    pub error: Option<String>,
    /// The RDB version in the file's header, when it has one.
    pub rdb_version: Option<u32>,
    /// The header magic, `REDIS` or `VALKEY`.
    pub magic: Option<String>,
    /// Where it comes from.
    pub origin: Origin,
    /// Features the file exercises (`stream-pel`, `hash-listpack`, ...).
    pub features: Vec<String>,
    /// The real `redis-check-rdb`'s verdict, for RDB cases.
    pub check_rdb: Option<String>,
    /// The real `redis-check-aof`'s verdict, for AOF cases.
    pub check_aof: Option<CheckAof>,
    /// The length the real server cut a truncated AOF to.
    pub server_truncated_to: Option<u64>,
    /// Fields this module does not interpret, kept as they are.
    pub extra: Map<String, J>,
}

/// What a case must produce.
#[derive(Debug, Clone, PartialEq)]
pub enum Expectation {
    /// Exactly this dataset (canonical order).
    Dataset(Dataset),
    /// A refusal, with the kind, offset and message recorded when the case was made.
    Refusal {
        /// Error kind.
        kind: Option<String>,
        /// Byte offset, when recorded.
        offset: Option<u64>,
        /// The message recorded.
        message: String,
    },
}

/// The corpus: its directory and its cases, in index order (sorted by name).
#[derive(Debug, Clone)]
pub struct Index {
    /// The directory holding `index.json`.
    pub dir: PathBuf,
    /// The cases.
    pub cases: Vec<Case>,
}

fn str_of(e: &Map<String, J>, k: &str) -> Option<String> {
    e.get(k).and_then(J::as_str).map(str::to_owned)
}

/// A path from the index: relative, without `..`, so that no entry reaches outside the corpus.
fn contained(p: &str) -> Result<PathBuf, String> {
    let path = PathBuf::from(p);
    if p.is_empty() {
        return Err("an empty path".into());
    }
    for c in path.components() {
        match c {
            Component::Normal(_) | Component::CurDir => {}
            _ => return Err(format!("path {p:?} leaves the corpus directory")),
        }
    }
    Ok(path)
}

impl Case {
    /// Reads one entry; `Err` says which field breaks the contract.
    pub fn from_json(v: &J) -> Result<Case, String> {
        let e = v.as_object().ok_or("an entry that is not an object")?;
        let mut extra = e.clone();
        let name = str_of(e, "name").ok_or("an entry without a name")?;
        let at = |m: String| format!("{name}: {m}");
        let file =
            contained(&str_of(e, "file").ok_or_else(|| at("no file".into()))?).map_err(at)?;
        let expect = str_of(e, "expect")
            .map(|p| contained(&p))
            .transpose()
            .map_err(at)?;
        let format = match e.get("format").and_then(J::as_str) {
            None | Some("rdb") => Format::Rdb,
            Some("aof") => Format::Aof,
            Some(other) => return Err(at(format!("unknown format {other:?}"))),
        };
        let accept = match e.get("outcome").and_then(J::as_str) {
            None | Some("accept") => true,
            Some("refuse") => false,
            Some(other) => return Err(at(format!("unknown outcome {other:?}"))),
        };
        let o = e
            .get("origin")
            .and_then(J::as_object)
            .cloned()
            .unwrap_or_default();
        let origin = Origin {
            kind: str_of(&o, "kind").unwrap_or_default(),
            build: str_of(&o, "build"),
            version: str_of(&o, "version"),
            how: str_of(&o, "how"),
            command: str_of(&o, "command"),
        };
        let check_aof = e.get("check_aof").and_then(J::as_object).map(|c| CheckAof {
            status: c.get("status").and_then(J::as_i64).unwrap_or(-1),
            ok_up_to: c.get("ok_up_to").and_then(J::as_u64),
            verdict: str_of(c, "verdict").unwrap_or_default(),
        });
        let case = Case {
            file,
            expect,
            format,
            multi_part: e.get("layout").and_then(J::as_str) == Some("multi"),
            accept,
            error: str_of(e, "error"),
            rdb_version: e.get("rdb_version").and_then(J::as_u64).map(|v| v as u32),
            magic: str_of(e, "magic"),
            origin,
            features: e
                .get("features")
                .and_then(J::as_array)
                .map(|a| a.iter().filter_map(J::as_str).map(str::to_owned).collect())
                .unwrap_or_default(),
            check_rdb: str_of(e, "check_rdb"),
            check_aof,
            server_truncated_to: e.get("server_truncated_to").and_then(J::as_u64),
            name,
            extra: Map::new(),
        };
        for k in KNOWN {
            extra.remove(*k);
        }
        Ok(Case { extra, ..case })
    }

    /// The entry as the index stores it (field order as the generators always wrote it).
    pub fn to_json(&self) -> J {
        let mut e = Map::new();
        let path = |p: &Path| J::String(p.to_string_lossy().replace('\\', "/"));
        e.insert("name".into(), self.name.clone().into());
        if self.format == Format::Aof {
            e.insert("format".into(), "aof".into());
            let layout = if self.multi_part { "multi" } else { "single" };
            e.insert("layout".into(), layout.into());
        }
        e.insert("file".into(), path(&self.file));
        if let Some(x) = &self.expect {
            e.insert("expect".into(), path(x));
        }
        e.insert(
            "outcome".into(),
            if self.accept { "accept" } else { "refuse" }.into(),
        );
        let mut o = Map::new();
        o.insert("kind".into(), self.origin.kind.clone().into());
        for (k, v) in [
            ("build", &self.origin.build),
            ("version", &self.origin.version),
            ("how", &self.origin.how),
            ("command", &self.origin.command),
        ] {
            if let Some(v) = v {
                o.insert(k.into(), v.clone().into());
            }
        }
        e.insert("origin".into(), J::Object(o));
        if let Some(v) = self.rdb_version {
            e.insert("rdb_version".into(), v.into());
        }
        if let Some(m) = &self.magic {
            e.insert("magic".into(), m.clone().into());
        }
        e.insert("features".into(), self.features.clone().into());
        if let Some(c) = &self.check_rdb {
            e.insert("check_rdb".into(), c.clone().into());
        }
        if let Some(c) = &self.check_aof {
            let mut m = Map::new();
            m.insert("status".into(), c.status.into());
            if let Some(u) = c.ok_up_to {
                m.insert("ok_up_to".into(), u.into());
            }
            m.insert("verdict".into(), c.verdict.clone().into());
            e.insert("check_aof".into(), J::Object(m));
        }
        if let Some(k) = &self.error {
            e.insert("error".into(), k.clone().into());
        }
        if let Some(t) = self.server_truncated_to {
            e.insert("server_truncated_to".into(), t.into());
        }
        for (k, v) in &self.extra {
            e.insert(k.clone(), v.clone());
        }
        J::Object(e)
    }

    /// The build this case was written by, if a real server wrote it.
    pub fn build(&self) -> Option<&str> {
        self.origin.build.as_deref()
    }
}

const KNOWN: &[&str] = &[
    "name",
    "file",
    "expect",
    "format",
    "layout",
    "outcome",
    "origin",
    "error",
    "rdb_version",
    "magic",
    "features",
    "check_rdb",
    "check_aof",
    "server_truncated_to",
];

impl Index {
    /// Reads `<dir>/index.json`.
    pub fn load(dir: &Path) -> Result<Index, CorpusError> {
        let path = dir.join("index.json");
        let err = |m: String| CorpusError {
            path: path.clone(),
            message: m,
        };
        let text = std::fs::read_to_string(&path).map_err(|e| err(e.to_string()))?;
        Index::parse(dir, &text).map_err(err)
    }

    /// Reads `<dir>/index.json`, or an empty index when there is none yet (for producers).
    pub fn load_or_empty(dir: &Path) -> Result<Index, CorpusError> {
        if dir.join("index.json").exists() {
            Index::load(dir)
        } else {
            Ok(Index {
                dir: dir.to_path_buf(),
                cases: Vec::new(),
            })
        }
    }

    /// Reads an index from its text; `dir` is where its paths point.
    pub fn parse(dir: &Path, text: &str) -> Result<Index, String> {
        let v: J = serde_json::from_str(text).map_err(|e| format!("not JSON: {e}"))?;
        let arr = v.as_array().ok_or("not a JSON array")?;
        let cases = arr
            .iter()
            .map(Case::from_json)
            .collect::<Result<Vec<_>, _>>()?;
        let mut names: Vec<&str> = cases.iter().map(|c| c.name.as_str()).collect();
        names.sort_unstable();
        if let Some(w) = names.windows(2).find(|w| w[0] == w[1]) {
            return Err(format!("two entries are named {:?}", w[0]));
        }
        Ok(Index {
            dir: dir.to_path_buf(),
            cases,
        })
    }

    /// The cases a filter selects, in index order.
    pub fn select<'a>(&'a self, filter: &'a Filter) -> impl Iterator<Item = &'a Case> + 'a {
        self.cases.iter().filter(move |c| filter.selects(&c.name))
    }

    /// Where a case's file is on disk.
    pub fn file(&self, case: &Case) -> PathBuf {
        self.dir.join(&case.file)
    }

    /// Reads a case's expectation.
    pub fn expectation(&self, case: &Case) -> Result<Expectation, CorpusError> {
        match &case.expect {
            Some(rel) => read_expectation_file(&self.dir.join(rel), case.error.as_deref()),
            None => Ok(Expectation::Refusal {
                kind: case.error.clone(),
                offset: None,
                message: String::new(),
            }),
        }
    }

    /// The expected dataset of an accepted case.
    pub fn expected_dataset(&self, case: &Case) -> Result<Dataset, CorpusError> {
        let path = self
            .dir
            .join(case.expect.as_deref().unwrap_or(Path::new("")));
        read_expectation(&path)
    }

    /// Replaces every case `retire` picks and every case named like one of `new` by `new`,
    /// keeping the rest; the index stays sorted by name. Returns the retired cases.
    pub fn replace(&mut self, retire: impl Fn(&Case) -> bool, new: Vec<Case>) -> Vec<Case> {
        let names: std::collections::BTreeSet<String> =
            new.iter().map(|c| c.name.clone()).collect();
        let (gone, kept): (Vec<Case>, Vec<Case>) = std::mem::take(&mut self.cases)
            .into_iter()
            .partition(|c| retire(c) || names.contains(&c.name));
        self.cases = kept;
        self.cases.extend(new);
        self.cases.sort_by(|a, b| a.name.cmp(&b.name));
        gone.into_iter()
            .filter(|c| !names.contains(&c.name))
            .collect()
    }

    /// The index as it is stored: a pretty JSON array and a final newline.
    pub fn to_text(&self) -> String {
        let arr = J::Array(self.cases.iter().map(Case::to_json).collect());
        let mut text = serde_json::to_string_pretty(&arr).unwrap_or_default();
        text.push('\n');
        text
    }

    /// Writes `index.json` (for the corpus producers).
    pub fn save(&self) -> std::io::Result<()> {
        std::fs::write(self.dir.join("index.json"), self.to_text())
    }
}

/// Reads an expectation file: a dataset, or `{"error": {"kind", "offset", "message"}}`.
pub fn read_expectation_file(path: &Path, kind: Option<&str>) -> Result<Expectation, CorpusError> {
    let err = |m: String| CorpusError {
        path: path.to_path_buf(),
        message: m,
    };
    let text = std::fs::read_to_string(path).map_err(|e| err(e.to_string()))?;
    let v: J = serde_json::from_str(&text).map_err(|e| err(format!("not JSON: {e}")))?;
    if let Some(e) = v.get("error") {
        return Ok(Expectation::Refusal {
            kind: (e.get("kind").and_then(J::as_str))
                .or(kind)
                .map(str::to_owned),
            offset: e.get("offset").and_then(J::as_u64),
            message: e
                .get("message")
                .and_then(J::as_str)
                .unwrap_or("")
                .to_owned(),
        });
    }
    let mut ds = from_json(&v).map_err(|e| err(e.to_string()))?;
    ds.canonicalize();
    Ok(Expectation::Dataset(ds))
}

/// Reads an expectation file that must hold a dataset (canonical order).
pub fn read_expectation(path: &Path) -> Result<Dataset, CorpusError> {
    match read_expectation_file(path, None)? {
        Expectation::Dataset(d) => Ok(d),
        Expectation::Refusal { .. } => Err(CorpusError {
            path: path.to_path_buf(),
            message: "a refusal, not a dataset".into(),
        }),
    }
}

#[cfg(test)]
mod tests;
