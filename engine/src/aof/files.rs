//! The Redis 7 append-only directory as the server keeps it: a manifest naming one base and the
//! incremental files, appends to the last one, and atomic manifest switches (temp, fsync, rename).
use super::join;
use crate::format::aof::manifest::{self, FileEntry, FileType, Manifest};
use crate::format::resp::{write_command, write_timestamp};
use crate::storage::{write_atomic, Atomic, Storage};
use std::io;

/// The live AOF: where appends go and what is not yet durable.
#[derive(Debug, Clone)]
pub struct AofFiles {
    /// `appenddirname`.
    pub(crate) dir: String,
    /// `appendfilename`, the stem of every name.
    pub(crate) stem: String,
    /// The manifest as last persisted.
    pub(crate) manifest: Manifest,
    /// The database the last appended command ran in (a SELECT precedes a change).
    pub(crate) selected_db: Option<u64>,
    /// Length of the incremental file as written so far (to undo a short write).
    pub(crate) incr_len: u64,
    /// Bytes whose write failed, retried before anything else is written.
    pub(crate) pending: Vec<u8>,
    /// Whether written bytes await an fsync.
    pub(crate) unsynced: bool,
    /// When the last fsync happened.
    pub(crate) last_fsync_ms: i64,
    /// AOF fsyncs done (for the `skip_fsync_always` sabotage).
    pub(crate) fsyncs: u64,
    /// The manifest was switched but its directory entry not made durable: nothing more may be
    /// appended until it is (appends would follow a manifest a crash can take back).
    pub(crate) dir_unsynced: bool,
}

impl AofFiles {
    /// The AOF under `dir` with file names from `stem`, as `manifest` lists it (empty: none yet).
    pub fn new(dir: &str, stem: &str, manifest: Manifest, now: i64) -> AofFiles {
        AofFiles {
            dir: dir.to_owned(),
            stem: stem.to_owned(),
            manifest,
            selected_db: None,
            incr_len: 0,
            pending: Vec::new(),
            unsynced: false,
            last_fsync_ms: now,
            fsyncs: 0,
            dir_unsynced: false,
        }
    }

    /// The manifest's path.
    pub(crate) fn manifest_path(&self) -> String {
        join(&self.dir, &format!("{}.manifest", self.stem))
    }

    /// The incremental file appends go to.
    pub(crate) fn incr_path(&self) -> Option<String> {
        let e = self.manifest.incr.last()?;
        Some(join(&self.dir, &String::from_utf8_lossy(&e.name)))
    }

    /// The highest sequence number of a kind in the manifest.
    fn max_seq(&self, kind: FileType) -> u64 {
        let m = &self.manifest;
        match kind {
            FileType::Base => m.base.as_ref().map_or(0, |e| e.seq),
            _ => m.incr.iter().map(|e| e.seq).max().unwrap_or(0),
        }
    }

    /// Names a new file of a kind (Redis: `<stem>.<seq>.base.rdb|aof`, `<stem>.<seq>.incr.aof`).
    pub(crate) fn next(&self, kind: FileType, rdb: bool) -> FileEntry {
        let seq = self.max_seq(kind) + 1;
        let name = match kind {
            FileType::Base if rdb => format!("{}.{seq}.base.rdb", self.stem),
            FileType::Base => format!("{}.{seq}.base.aof", self.stem),
            _ => format!("{}.{seq}.incr.aof", self.stem),
        };
        FileEntry {
            name: name.into_bytes(),
            seq,
            kind,
        }
    }

    /// Persists `m` as the manifest, atomically, and adopts it.
    pub(crate) fn switch<S: Storage>(&mut self, st: &mut S, m: Manifest) -> Result<(), Atomic> {
        let bytes =
            manifest::write(&m).map_err(|e| Atomic::NotRenamed(io::Error::other(e.to_string())))?;
        let name = format!("{}.manifest", self.stem);
        match write_atomic(st, &self.dir, &name, &bytes) {
            Ok(()) => {
                self.manifest = m;
                Ok(())
            }
            Err(Atomic::Renamed(e)) => {
                // The directory now names the new manifest: follow it, and sync it before
                // anything else is appended.
                self.manifest = m;
                self.dir_unsynced = true;
                Err(Atomic::Renamed(e))
            }
            Err(e) => Err(e),
        }
    }

    /// Makes a switched manifest's directory entry durable, if that is still owed.
    fn settle<S: Storage>(&mut self, st: &mut S) -> io::Result<()> {
        if self.dir_unsynced {
            st.fsync_dir(&self.dir)?;
            self.dir_unsynced = false;
        }
        Ok(())
    }

    /// Starts a new, empty incremental file and lists it last (kept by the manifest switch that
    /// follows); appends go there from now on.
    pub(crate) fn open_new_incr<S: Storage>(&mut self, st: &mut S) -> io::Result<FileEntry> {
        // Only the last file may end short: the one that stops being last is made durable first
        // (a torn tail there would make the whole AOF unloadable).
        if let Some(old) = self.incr_path() {
            st.fsync(&old)?;
        }
        let e = self.next(FileType::Incr, false);
        let path = join(&self.dir, &String::from_utf8_lossy(&e.name));
        st.create(&path)?;
        let mut m = self.manifest.clone();
        m.incr.push(e.clone());
        match self.switch(st, m) {
            Ok(()) => {}
            Err(Atomic::NotRenamed(err)) => {
                let _ = st.remove(&path);
                return Err(err);
            }
            Err(Atomic::Renamed(err)) => {
                self.selected_db = None;
                self.incr_len = 0;
                self.unsynced = false;
                return Err(err);
            }
        }
        self.selected_db = None;
        self.incr_len = 0;
        self.unsynced = false;
        Ok(e)
    }

    /// Appends `bytes` (after any pending ones) to the incremental file. On failure the file is
    /// cut back to where it was (a short write must not leave half a command) and the bytes stay
    /// pending.
    pub(crate) fn write<S: Storage>(&mut self, st: &mut S, bytes: &[u8]) -> io::Result<()> {
        self.pending.extend_from_slice(bytes);
        if self.pending.is_empty() {
            return Ok(());
        }
        self.settle(st)?;
        let path = self
            .incr_path()
            .ok_or_else(|| io::Error::other("the manifest lists no incremental file"))?;
        match st.append(&path, &self.pending) {
            Ok(()) => {
                self.incr_len += self.pending.len() as u64;
                self.pending.clear();
                self.unsynced = true;
                Ok(())
            }
            Err(e) => {
                let _ = st.truncate(&path, self.incr_len);
                Err(e)
            }
        }
    }

    /// Appends the AOF form of `forms` (commands with their database) to `out`: a `#TS`
    /// annotation first when `timestamps`, a SELECT before a command whose database differs
    /// from the last appended one.
    pub(crate) fn encode(
        &mut self,
        out: &mut Vec<u8>,
        forms: &[(u64, Vec<Vec<u8>>)],
        now: i64,
        timestamps: bool,
    ) {
        if timestamps {
            write_timestamp(out, now / 1000);
        }
        for (db, argv) in forms {
            if self.selected_db != Some(*db) {
                write_command(out, &[b"SELECT", db.to_string().as_bytes()]);
                self.selected_db = Some(*db);
            }
            let refs: Vec<&[u8]> = argv.iter().map(Vec::as_slice).collect();
            write_command(out, &refs);
        }
    }

    /// Lays out a fresh AOF in `dir` from a base's bytes (an RDB when `rdb`, else RESP): the
    /// directory (its parent fsynced), the base written atomically, an empty incremental file
    /// made durable, then the manifest switched atomically; files of an earlier AOF are removed
    /// only after that, so an interrupted start leaves the old AOF whole.
    pub fn create_fresh<S: Storage>(
        &mut self,
        st: &mut S,
        base_bytes: &[u8],
        rdb: bool,
        now: i64,
    ) -> io::Result<()> {
        st.mkdir(&self.dir)?;
        st.fsync_dir(crate::storage::parent(&self.dir))?;
        let base = self.next(FileType::Base, rdb);
        let incr = self.next(FileType::Incr, false);
        let old: Vec<_> = (self.manifest.base.iter())
            .chain(&self.manifest.incr)
            .cloned()
            .collect();
        write_atomic(
            st,
            &self.dir,
            &String::from_utf8_lossy(&base.name),
            base_bytes,
        )?;
        let incr_path = join(&self.dir, &String::from_utf8_lossy(&incr.name));
        st.create(&incr_path)?;
        st.fsync(&incr_path)?;
        let m = Manifest {
            base: Some(base),
            history: Vec::new(),
            incr: vec![incr],
        };
        self.switch(st, m)?;
        for e in old {
            let _ = st.remove(&join(&self.dir, &String::from_utf8_lossy(&e.name)));
        }
        self.selected_db = None;
        self.incr_len = 0;
        self.unsynced = false;
        self.last_fsync_ms = now;
        Ok(())
    }

    /// fsyncs the incremental file.
    pub(crate) fn fsync<S: Storage>(&mut self, st: &mut S, now: i64) -> io::Result<()> {
        let Some(path) = self.incr_path() else {
            return Ok(());
        };
        self.fsyncs += 1;
        self.settle(st)?;
        st.fsync(&path)?;
        self.unsynced = false;
        self.last_fsync_ms = now;
        Ok(())
    }
}
