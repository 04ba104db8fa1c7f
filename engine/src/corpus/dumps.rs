//! The DUMP payloads a server case's build gives for each of its keys, recorded beside the case
//! as `<file>.dumps.json` (`rdb/<build>/<scenario>.dumps.json`):
//!
//! ```json
//! { "format": "dumps/1", "build": "redis-7.4.1", "rdb_version": 12,
//!   "dumps": [ { "db": 0, "key": "k", "payload": "<hex>" } ] }
//! ```
//!
//! `key` is a byte string as Dataset JSON spells it; `payload` is the exact reply of `DUMP`,
//! hex-encoded; entries are sorted by db, then key bytes.
use super::CorpusError;
use crate::dataset::{bytes_text, from_json_str};
use serde_json::{json, Value as J};
use std::path::{Path, PathBuf};

/// One key's payload.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RecordedDump {
    /// Database.
    pub db: u64,
    /// Key bytes.
    pub key: Vec<u8>,
    /// What `DUMP` replied.
    pub payload: Vec<u8>,
}

/// A case's recorded payloads.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Dumps {
    /// The build that gave them.
    pub build: String,
    /// Its RDB version (the payloads' footer, 80 for Valkey 9).
    pub rdb_version: u32,
    /// Per key, sorted by db then key.
    pub dumps: Vec<RecordedDump>,
}

/// Where a case file's payloads are recorded.
pub fn path_for(file: &Path) -> PathBuf {
    file.with_extension("dumps.json")
}

fn hex(b: &[u8]) -> String {
    b.iter().map(|x| format!("{x:02x}")).collect()
}

fn unhex(s: &str) -> Option<Vec<u8>> {
    s.len().is_multiple_of(2).then_some(())?;
    (0..s.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(s.get(i..i + 2)?, 16).ok())
        .collect()
}

impl Dumps {
    /// The JSON text (pretty, final newline).
    pub fn to_text(&self) -> String {
        let mut d = self.dumps.clone();
        d.sort_by(|a, b| (a.db, &a.key).cmp(&(b.db, &b.key)));
        let rows: Vec<J> = d
            .iter()
            .map(|r| {
                let key: J = serde_json::from_str(&bytes_text(&r.key)).unwrap_or(J::Null);
                json!({"db": r.db, "key": key, "payload": hex(&r.payload)})
            })
            .collect();
        let doc = json!({
            "format": "dumps/1",
            "build": self.build,
            "rdb_version": self.rdb_version,
            "dumps": rows,
        });
        format!("{doc:#}\n")
    }

    /// Reads a dumps file.
    pub fn read(path: &Path) -> Result<Dumps, CorpusError> {
        let err = |m: String| CorpusError {
            path: path.to_path_buf(),
            message: m,
        };
        let text = std::fs::read_to_string(path).map_err(|e| err(e.to_string()))?;
        let v: J = serde_json::from_str(&text).map_err(|e| err(format!("not JSON: {e}")))?;
        if v.get("format").and_then(J::as_str) != Some("dumps/1") {
            return Err(err("format must be \"dumps/1\"".into()));
        }
        let build = v
            .get("build")
            .and_then(J::as_str)
            .ok_or_else(|| err("missing build".into()))?
            .to_owned();
        let rdb_version = v
            .get("rdb_version")
            .and_then(J::as_u64)
            .ok_or_else(|| err("missing rdb_version".into()))? as u32;
        let mut dumps = Vec::new();
        for (i, r) in v
            .get("dumps")
            .and_then(J::as_array)
            .ok_or_else(|| err("missing dumps".into()))?
            .iter()
            .enumerate()
        {
            let bad = || err(format!("dumps[{i}] is not {{db, key, payload}}"));
            let db = r.get("db").and_then(J::as_u64).ok_or_else(bad)?;
            // A key is decoded as Dataset JSON decodes one: through a one-key document.
            let doc = json!({"format": "dataset/1", "functions": [], "keys": [
                {"db": 0, "key": r.get("key").ok_or_else(bad)?, "type": "string", "expire_ms": null, "value": ""}]});
            let key = from_json_str(&doc.to_string())
                .map_err(|e| err(format!("dumps[{i}].key: {e}")))?
                .keys
                .remove(0)
                .key;
            let payload = r
                .get("payload")
                .and_then(J::as_str)
                .and_then(unhex)
                .ok_or_else(bad)?;
            dumps.push(RecordedDump { db, key, payload });
        }
        Ok(Dumps {
            build,
            rdb_version,
            dumps,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dumps_files_round_trip() {
        let d = Dumps {
            build: "redis-7.0.15".into(),
            rdb_version: 10,
            dumps: vec![
                RecordedDump {
                    db: 1,
                    key: vec![0xff, 0],
                    payload: vec![0, 1, 2],
                },
                RecordedDump {
                    db: 0,
                    key: b"k".to_vec(),
                    payload: vec![],
                },
            ],
        };
        let dir = std::env::temp_dir().join(format!("dumps-test-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let p = dir.join("x.dumps.json");
        std::fs::write(&p, d.to_text()).unwrap();
        let back = Dumps::read(&p).unwrap();
        assert_eq!(back.dumps[0].key, b"k");
        assert_eq!(back.dumps[1].key, vec![0xff, 0]);
        assert_eq!(back.dumps[1].payload, vec![0, 1, 2]);
        std::fs::remove_dir_all(&dir).unwrap();
        assert_eq!(
            path_for(Path::new("rdb/b/s.rdb")),
            Path::new("rdb/b/s.dumps.json")
        );
    }
}
