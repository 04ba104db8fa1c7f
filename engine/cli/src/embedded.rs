//! The conformance corpus built into the binary (see `build.rs`): written out to a private temp
//! directory when `conform` runs without `--corpus`, and removed when the run ends.
include!(concat!(env!("OUT_DIR"), "/corpus_files.rs"));

/// A written-out copy of the built-in corpus, deleted on drop.
pub struct Embedded {
    dir: std::path::PathBuf,
}

impl Embedded {
    /// Writes every file into a new temp directory (created exclusively, mode 0700).
    pub fn write_out() -> std::io::Result<Embedded> {
        use std::os::unix::fs::DirBuilderExt;
        let nanos = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.subsec_nanos());
        let dir = std::env::temp_dir().join(format!(
            "redis-persist-corpus-{}-{nanos:x}",
            std::process::id()
        ));
        std::fs::DirBuilder::new().mode(0o700).create(&dir)?;
        let e = Embedded { dir };
        for (rel, bytes) in FILES {
            let p = e.dir.join(rel);
            if let Some(parent) = p.parent() {
                std::fs::create_dir_all(parent)?;
            }
            std::fs::write(&p, bytes)?;
        }
        Ok(e)
    }

    /// The directory holding `index.json`.
    pub fn path(&self) -> &std::path::Path {
        &self.dir
    }
}

impl Drop for Embedded {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}
