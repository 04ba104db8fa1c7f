//! Hand-written traces for the image-builder tests: a builder that appends records the way the
//! recorder writes them, and lookups into the images built from them.
use redis_persist_crash::trace::{FdKind, Op, Record, SyncKind};
use redis_persist_crash::{crash_images, Image, Model, Options, Trace};

/// Builds traces the way the recorder writes them, one call at a time.
#[derive(Default)]
pub struct T {
    pub records: Vec<Record>,
    token: u64,
}

pub const CREATE: u32 = 0o1101; // O_WRONLY|O_CREAT|O_TRUNC
pub const APPEND: u32 = 0o2101; // O_WRONLY|O_CREAT|O_APPEND

impl T {
    pub fn push(&mut self, ret: i64, op: Op) -> &mut T {
        self.records.push(Record { pid: 1, ret, op });
        self
    }
    pub fn init_file(&mut self, path: &str, data: &[u8]) -> &mut T {
        self.push(
            0,
            Op::InitFile {
                path: path.into(),
                data: data.to_vec(),
            },
        )
    }
    pub fn open(&mut self, path: &str, ino: u64, flags: u32, size: u64) -> &mut T {
        let kind = if ino >= 1000 {
            FdKind::Dir
        } else {
            FdKind::File
        };
        self.push(
            3,
            Op::Open {
                path: path.into(),
                ino,
                flags,
                mode: 0o644,
                size,
                kind,
                stdio: false,
            },
        )
    }
    pub fn write(&mut self, ino: u64, offset: u64, data: &[u8]) -> &mut T {
        self.push(
            data.len() as i64,
            Op::Write {
                ino,
                offset,
                data: data.to_vec(),
                from_stdio: false,
            },
        )
    }
    pub fn sync_as(&mut self, kind: SyncKind, ino: u64, size: u64, complete: bool) -> &mut T {
        self.token += 1;
        let token = self.token;
        self.push(
            0,
            Op::SyncBegin {
                kind,
                ino,
                token,
                size,
            },
        );
        if complete {
            self.push(0, Op::SyncEnd { kind, ino, token });
        }
        self
    }
    pub fn fsync(&mut self, ino: u64, size: u64) -> &mut T {
        self.sync_as(SyncKind::Fsync, ino, size, true)
    }
    pub fn rename(&mut self, from: &str, to: &str) -> &mut T {
        self.push(
            0,
            Op::Rename {
                from: from.into(),
                to: to.into(),
                flags: 0,
            },
        )
    }
    pub fn mkdir(&mut self, path: &str) -> &mut T {
        self.push(
            0,
            Op::Mkdir {
                path: path.into(),
                mode: 0o755,
            },
        )
    }
    pub fn unlink(&mut self, path: &str) -> &mut T {
        self.push(
            0,
            Op::Unlink {
                path: path.into(),
                flags: 0,
            },
        )
    }
    pub fn trace(&self) -> Trace {
        Trace {
            records: self.records.clone(),
        }
    }
}

pub fn images(t: &T, model: Model) -> Vec<Image> {
    let c = crash_images(&t.trace(), model, &Options::default()).expect("builds");
    assert_eq!(c.warnings, Vec::<String>::new());
    c.images
}

pub fn named<'a>(images: &'a [Image], name: &str) -> &'a Image {
    images
        .iter()
        .find(|i| i.name == name)
        .unwrap_or_else(|| panic!("no image {name}"))
}

pub fn file<'a>(im: &'a Image, path: &str) -> Option<&'a [u8]> {
    im.state.files.get(path).map(Vec::as_slice)
}

pub fn save_over(t: &mut T, dir_fsync: bool) {
    t.init_file("dump.rdb", b"old");
    t.open("temp-1.rdb", 2, CREATE, 0)
        .write(2, 0, b"new!")
        .fsync(2, 4)
        .rename("temp-1.rdb", "dump.rdb");
    if dir_fsync {
        t.open("", 1000, 0, 4096).fsync(1000, 4096);
    }
}
