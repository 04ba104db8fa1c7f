//! The streaming RDB reader: header, then one record at a time pulled from any `Read`, handed to a
//! [`Visitor`]; the CRC-64 trailer is checked at EOF. Memory stays O(largest element).
use super::dups::Dups;
use super::length;
use super::opcode::{Header, Opcode, ValueType};
use super::string::{self, Scratch};
use super::visit::{KeyInfo, ModuleId, Note, Visitor};
use crate::format::error::{Error, ErrorKind, Result};
use crate::format::source::Source;
use crate::format::Limits;
use std::io::Read;

/// Whether this build verifies CRC-64 trailers at all: not in fuzzing builds, where a valid CRC
/// would gate all coverage. Checks that rely on the CRC noticing damage (the state machine's rot
/// step) must ask this first, or they judge the fuzzing build for what it deliberately skips.
pub const VERIFY_CHECKSUMS: bool = !cfg!(fuzzing);

/// How to read.
#[derive(Debug, Clone, Copy)]
pub struct ReadOptions {
    /// Allocation budget.
    pub limits: Limits,
    /// Verify the CRC-64 trailer (a stored zero always means "saved without checksum").
    pub verify_checksum: bool,
    /// Total input length, when known, so lying lengths fail before any read.
    pub total_len: Option<u64>,
    /// Refuse what the server accepts but a careful reader flags ([`super::Irregularity`])
    /// instead of reporting it to the visitor.
    pub strict: bool,
}

impl Default for ReadOptions {
    fn default() -> Self {
        ReadOptions {
            limits: Limits::DEFAULT,
            verify_checksum: true,
            total_len: None,
            strict: false,
        }
    }
}

/// What the CRC-64 trailer said.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Checksum {
    /// Version below 5: no trailer.
    Absent,
    /// Stored as zero: saved with `rdbchecksum no`.
    Disabled,
    /// Stored and equal to the computed value.
    Verified(u64),
    /// Stored and not compared (`verify_checksum` off).
    Unverified {
        /// The stored value.
        stored: u64,
        /// The computed value.
        computed: u64,
    },
}

/// What follows the EOF opcode.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Trailer {
    /// The checksum verdict.
    pub checksum: Checksum,
    /// Offset just after the EOF opcode.
    pub eof_offset: u64,
    /// Offset just after the trailer: where an AOF tail would start.
    pub end_offset: u64,
}

/// One step of reading.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Step {
    /// A non-key record was read.
    Record,
    /// A whole key was read.
    Key,
    /// The EOF opcode and trailer were read.
    Eof(Trailer),
}

/// A pull reader over one RDB stream.
pub struct RdbReader<R> {
    pub(super) src: Source<R>,
    pub(super) scratch: Scratch,
    pub(super) key: Vec<u8>,
    pub(super) field: Vec<u8>,
    pub(super) payload: Vec<u8>,
    pub(super) dups: Dups,
    pub(super) header: Header,
    /// Hash templates registered by opcode 242 records so far (id -> field names).
    pub(super) templates: std::collections::HashMap<u64, Vec<Vec<u8>>>,
    pub(super) opts: ReadOptions,
    db: u64,
    expire_ms: Option<i64>,
    idle_s: Option<u64>,
    freq: Option<u8>,
    finished: Option<Trailer>,
}

impl<R: Read> RdbReader<R> {
    /// Reads and checks the header.
    pub fn new(inner: R, opts: ReadOptions) -> Result<RdbReader<R>> {
        RdbReader::from_source(Source::new(inner, opts.total_len, opts.limits), opts)
    }

    /// Reads and checks the header from a cursor already set up (an AOF's preamble, whose RESP
    /// tail the same cursor reads next: see [`RdbReader::into_source`]).
    pub fn from_source(mut src: Source<R>, opts: ReadOptions) -> Result<RdbReader<R>> {
        let magic: [u8; 9] = src.array("file header")?;
        let header = Header::parse(&magic)?;
        Ok(RdbReader::with_header(src, header, opts))
    }

    /// A reader of a headerless body (a DUMP payload's object) in the dialect of `header`.
    pub fn headerless(inner: R, header: Header, opts: ReadOptions) -> RdbReader<R> {
        RdbReader::with_header(
            Source::new(inner, opts.total_len, opts.limits),
            header,
            opts,
        )
    }

    fn with_header(src: Source<R>, header: Header, opts: ReadOptions) -> RdbReader<R> {
        RdbReader {
            src,
            scratch: Scratch::default(),
            key: Vec::new(),
            field: Vec::new(),
            payload: Vec::new(),
            dups: Dups::new(opts.limits.max_dataset_bytes),
            header,
            templates: Default::default(),
            opts,
            db: 0,
            expire_ms: None,
            idle_s: None,
            freq: None,
            finished: None,
        }
    }

    /// Reads one object as a DUMP payload holds it: key metadata if any (Redis 8.6+), its type
    /// byte and its value, handed to `v` as a key with an empty name at offset 0. Types 30 and 32
    /// name a file's template registry, which a payload does not have: refused.
    pub fn read_object<V: Visitor + ?Sized>(&mut self, v: &mut V) -> Result<ValueType> {
        let mut at = self.src.pos();
        let mut b = self.src.u8("object type")?;
        let mut meta = Vec::new();
        if Opcode::from_byte_in(b, self.header.magic) == Some(Opcode::KeyMeta) {
            meta = super::keymeta::read(&mut self.src)?;
            at = self.src.pos();
            b = self.src.u8("object type")?;
        }
        if matches!(
            ValueType::from_byte(b, self.header.magic),
            Some(ValueType::HashTmplLpRef | ValueType::HashTmplArrayRef)
        ) {
            return Err(Error::corrupt(
                at,
                "object type",
                format!(
                    "type {b} refers to a file's hash template and is not valid in a DUMP payload"
                ),
            ));
        }
        let Some(ty) = ValueType::from_byte(b, self.header.magic) else {
            return Err(Error::new(
                ErrorKind::UnknownType,
                at,
                "object type",
                format!(
                    "object type {b} is not one this reader knows in {}{}",
                    self.header.magic.as_str(),
                    self.header.version
                ),
            ));
        };
        self.key.clear();
        let info = KeyInfo {
            db: 0,
            key: &self.key,
            value_type: ty,
            expire_ms: None,
            idle_s: None,
            freq: None,
            offset: at,
        };
        v.begin_key(&info)?;
        self.key_meta(&meta, v)?;
        self.read_value(ty, v)?;
        v.value_end(self.src.pos());
        v.end_key()?;
        Ok(ty)
    }

    fn key_meta<V: Visitor + ?Sized>(
        &mut self,
        meta: &[crate::dataset::KeyMeta],
        v: &mut V,
    ) -> Result<()> {
        for m in meta {
            v.key_meta(m)?;
        }
        if !meta.is_empty() {
            v.note(Note::KeyMeta);
        }
        Ok(())
    }

    /// The file header.
    pub fn header(&self) -> Header {
        self.header
    }

    /// Offset of the next byte.
    pub fn pos(&self) -> u64 {
        self.src.pos()
    }

    /// Reads records until the EOF trailer, handing everything to `v`.
    pub fn read_all<V: Visitor + ?Sized>(&mut self, v: &mut V) -> Result<Trailer> {
        loop {
            if let Step::Eof(t) = self.step(v)? {
                return Ok(t);
            }
        }
    }

    /// Reads records until one key is complete (`true`) or the file ends (`false`).
    pub fn next_key<V: Visitor + ?Sized>(&mut self, v: &mut V) -> Result<bool> {
        loop {
            match self.step(v)? {
                Step::Record => {}
                Step::Key => return Ok(true),
                Step::Eof(_) => return Ok(false),
            }
        }
    }

    /// The trailer, once EOF was read.
    pub fn trailer(&self) -> Option<Trailer> {
        self.finished
    }

    /// Reads one record.
    pub fn step<V: Visitor + ?Sized>(&mut self, v: &mut V) -> Result<Step> {
        if let Some(t) = self.finished {
            return Ok(Step::Eof(t));
        }
        let at = self.src.pos();
        let b = self.src.u8("record type")?;
        if let Some(op) = Opcode::from_byte_in(b, self.header.magic) {
            return self.opcode(op, at, v);
        }
        let Some(ty) = ValueType::from_byte(b, self.header.magic) else {
            let kind = if b >= 242 {
                ErrorKind::UnknownOpcode
            } else {
                ErrorKind::UnknownType
            };
            let noun = if b >= 242 { "opcode" } else { "object type" };
            return Err(Error::new(
                kind,
                at,
                "record type",
                format!(
                    "{noun} {b} is not one this reader knows in {}{}",
                    self.header.magic.as_str(),
                    self.header.version
                ),
            ));
        };
        self.read_key(ty, at, &[], v)?;
        Ok(Step::Key)
    }

    fn opcode<V: Visitor + ?Sized>(&mut self, op: Opcode, at: u64, v: &mut V) -> Result<Step> {
        match op {
            Opcode::Eof => return self.eof(v).map(Step::Eof),
            Opcode::SelectDb => {
                self.db = length::read(&mut self.src, "SELECTDB database number")?;
                v.select_db(self.db)?;
            }
            Opcode::ResizeDb => {
                let a = length::read(&mut self.src, "RESIZEDB size")?;
                let b = length::read(&mut self.src, "RESIZEDB expires size")?;
                v.resize_db(a, b)?;
            }
            Opcode::SlotInfo => {
                let s = length::read(&mut self.src, "SLOT_INFO slot")?;
                let n = length::read(&mut self.src, "SLOT_INFO size")?;
                let e = length::read(&mut self.src, "SLOT_INFO expires size")?;
                v.slot_info(s, n, e)?;
            }
            Opcode::ExpireTimeMs => {
                self.expire_ms = Some(i64::from_le_bytes(self.src.array("EXPIRETIME_MS value")?));
            }
            Opcode::ExpireTime => {
                let s = i32::from_le_bytes(self.src.array("EXPIRETIME value")?);
                self.expire_ms = Some(s as i64 * 1000);
                v.note(Note::ExpireSeconds);
            }
            Opcode::Idle => self.idle_s = Some(length::read(&mut self.src, "IDLE value")?),
            Opcode::Freq => self.freq = Some(self.src.u8("FREQ value")?),
            Opcode::Aux => {
                let k = string::read(&mut self.src, &mut self.scratch, "AUX key")?;
                self.key.clear();
                self.key.extend_from_slice(k.bytes);
                let val = string::read(&mut self.src, &mut self.scratch, "AUX value")?;
                v.aux(&self.key, val.bytes)?;
            }
            Opcode::Function2 => {
                let code =
                    string::read(&mut self.src, &mut self.scratch, "FUNCTION2 library code")?;
                v.function(code.bytes)?;
            }
            Opcode::FunctionPreGa => self.function_pre_ga(v)?,
            Opcode::ModuleAux => self.module_aux(at, v)?,
            Opcode::HashTemplate => self.hash_template_record(at, v)?,
            Opcode::KeyMeta => {
                // The metadata belongs to the key whose type byte must follow at once.
                let meta = super::keymeta::read(&mut self.src)?;
                let t_at = self.src.pos();
                let b = self.src.u8("object type after KEY_META")?;
                let Some(ty) = ValueType::from_byte(b, self.header.magic) else {
                    return Err(Error::corrupt(
                        t_at,
                        "object type after KEY_META",
                        format!("byte {b} is not an object type"),
                    ));
                };
                self.read_key(ty, t_at, &meta, v)?;
                return Ok(Step::Key);
            }
            Opcode::SlotImport => {
                return Err(Error::new(
                    ErrorKind::UnknownOpcode,
                    at,
                    "record type",
                    "opcode 243 in a VALKEY file is SLOT_IMPORT (Valkey 9.0+ slot migration state), whose layout is not verified here; refused rather than guessed",
                ))
            }
        }
        Ok(Step::Record)
    }

    /// Redis 7.0-rc's function record; 7.0 loads it as a library `#!<engine> name=<name>`.
    fn function_pre_ga<V: Visitor + ?Sized>(&mut self, v: &mut V) -> Result<()> {
        let name = string::read(&mut self.src, &mut self.scratch, "function name")?
            .bytes
            .to_vec();
        let engine = string::read(&mut self.src, &mut self.scratch, "function engine")?
            .bytes
            .to_vec();
        if length::read(&mut self.src, "function description flag")? != 0 {
            string::skip(&mut self.src, "function description")?;
        }
        let code = string::read(&mut self.src, &mut self.scratch, "function code")?;
        let mut lib = Vec::with_capacity(code.bytes.len() + name.len() + engine.len() + 10);
        lib.extend_from_slice(b"#!");
        lib.extend_from_slice(&engine);
        lib.extend_from_slice(b" name=");
        lib.extend_from_slice(&name);
        lib.push(b'\n');
        lib.extend_from_slice(code.bytes);
        v.function(&lib)
    }

    fn module_aux<V: Visitor + ?Sized>(&mut self, at: u64, v: &mut V) -> Result<()> {
        let id = ModuleId::from_id(length::read(&mut self.src, "MODULE_AUX module id")?);
        let when_op = length::read(&mut self.src, "MODULE_AUX when opcode")?;
        if when_op != super::module::OP_UINT {
            return Err(Error::corrupt(
                at,
                "MODULE_AUX when opcode",
                format!(
                    "expected {} (UINT), found {when_op}",
                    super::module::OP_UINT
                ),
            ));
        }
        let when = length::read(&mut self.src, "MODULE_AUX when")?;
        let mut payload = std::mem::take(&mut self.payload);
        payload.clear();
        let strict = self.opts.strict;
        let r = super::module::copy_opcodes_lenient(&mut self.src, &mut payload, 0);
        let r = r
            .and_then(|unknown| match unknown {
                Some((op_at, op)) => super::irregular::report(
                    v,
                    strict,
                    super::Irregularity::ModuleOpcode,
                    op_at,
                    format!("unknown module opcode {op}"),
                ),
                None => Ok(()),
            })
            .and_then(|_| v.module_aux(&id, when, &payload));
        self.payload = payload;
        r
    }

    fn read_key<V: Visitor + ?Sized>(
        &mut self,
        ty: ValueType,
        at: u64,
        meta: &[crate::dataset::KeyMeta],
        v: &mut V,
    ) -> Result<()> {
        let k = string::read(&mut self.src, &mut self.scratch, "key")?;
        self.key.clear();
        self.key.extend_from_slice(k.bytes);
        let info = KeyInfo {
            db: self.db,
            key: &self.key,
            value_type: ty,
            expire_ms: self.expire_ms.take(),
            idle_s: self.idle_s.take(),
            freq: self.freq.take(),
            offset: at,
        };
        v.begin_key(&info)?;
        self.key_meta(meta, v)?;
        self.read_value(ty, v)?;
        v.value_end(self.src.pos());
        v.end_key()
    }

    fn eof<V: Visitor + ?Sized>(&mut self, _v: &mut V) -> Result<Trailer> {
        let eof_offset = self.src.pos();
        let computed = self.src.finish_crc();
        let checksum = if self.header.has_checksum() {
            let stored = u64::from_le_bytes(self.src.array("CRC-64 trailer")?);
            if stored == 0 {
                Checksum::Disabled
            } else if !(VERIFY_CHECKSUMS && self.opts.verify_checksum) {
                Checksum::Unverified { stored, computed }
            } else if stored == computed {
                Checksum::Verified(stored)
            } else {
                return Err(Error::new(
                    ErrorKind::ChecksumMismatch,
                    eof_offset,
                    "CRC-64 trailer",
                    format!("stored {stored:#018x}, computed {computed:#018x}"),
                ));
            }
        } else {
            Checksum::Absent
        };
        let t = Trailer {
            checksum,
            eof_offset,
            end_offset: self.src.pos(),
        };
        self.finished = Some(t);
        Ok(t)
    }

    /// Consumes what follows the trailer (bytes Redis ignores), at most `max`: how many, and
    /// whether more remain unread.
    pub fn drain_trailing(&mut self, max: u64) -> Result<(u64, bool)> {
        self.src.drain_up_to(max)
    }

    /// Gives back the cursor, positioned just after the last record read, buffer and all.
    pub fn into_source(self) -> Source<R> {
        self.src
    }
}

/// The error reading the object `body` (type byte first) gives under a `REDIS` header of
/// `version`, for tests that pin where a refusal points.
#[cfg(test)]
pub(crate) fn object_error(body: &[u8], version: u32) -> crate::format::error::Error {
    let opts = ReadOptions {
        total_len: Some(body.len() as u64),
        ..ReadOptions::default()
    };
    let h = super::opcode::Header {
        magic: super::opcode::Magic::Redis,
        version,
    };
    RdbReader::headerless(body, h, opts)
        .read_object(&mut super::visit::Discard)
        .expect_err("the object is refused")
}
