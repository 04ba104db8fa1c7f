//! The RDB vocabulary: header magic and versions, record opcodes and object type bytes, named as
//! in Redis's `rdb.h` (`RDB_TYPE_ZSET_LISTPACK` is `ValueType::ZsetListpack`).
use crate::format::error::{Error, ErrorKind, Result};

/// Highest `REDIS` version read (13 to 15 only where they use known records).
pub const MAX_REDIS_VERSION: u32 = 15;
/// The only `VALKEY` version read.
pub const VALKEY_VERSION: u32 = 80;

/// Which project's magic the file carries; it decides what colliding type bytes mean.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Magic {
    /// `REDIS` + 4 digits.
    Redis,
    /// `VALKEY` + 3 digits (Valkey 9+).
    Valkey,
}

impl Magic {
    /// As written in the file.
    pub fn as_str(self) -> &'static str {
        match self {
            Magic::Redis => "REDIS",
            Magic::Valkey => "VALKEY",
        }
    }
}

/// The 9-byte file header.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Header {
    /// Dialect.
    pub magic: Magic,
    /// RDB version number.
    pub version: u32,
}

impl Header {
    /// Parses the 9 header bytes; unknown versions are refused, never guessed.
    pub fn parse(b: &[u8; 9]) -> Result<Header> {
        let (magic, digits) = if &b[..5] == b"REDIS" {
            (Magic::Redis, &b[5..])
        } else if &b[..6] == b"VALKEY" {
            (Magic::Valkey, &b[6..])
        } else {
            return Err(Error::new(
                ErrorKind::BadMagic,
                0,
                "file header",
                format!(
                    "expected REDIS or VALKEY, found {:?}",
                    String::from_utf8_lossy(&b[..6])
                ),
            ));
        };
        if !digits.iter().all(u8::is_ascii_digit) {
            return Err(Error::new(
                ErrorKind::BadMagic,
                digits.as_ptr() as u64 - b.as_ptr() as u64,
                "version digits",
                format!(
                    "{:?} is not a decimal version",
                    String::from_utf8_lossy(digits)
                ),
            ));
        }
        let version = digits.iter().fold(0u32, |v, d| v * 10 + (d - b'0') as u32);
        let ok = match magic {
            Magic::Redis => (1..=MAX_REDIS_VERSION).contains(&version),
            Magic::Valkey => version == VALKEY_VERSION,
        };
        if !ok {
            return Err(Error::new(
                ErrorKind::UnsupportedVersion,
                0,
                "file header",
                format!(
                    "{}{} is not a version this reader knows",
                    magic.as_str(),
                    version
                ),
            ));
        }
        Ok(Header { magic, version })
    }

    /// The header bytes.
    pub fn bytes(&self) -> [u8; 9] {
        let s = match self.magic {
            Magic::Redis => format!("REDIS{:04}", self.version),
            Magic::Valkey => format!("VALKEY{:03}", self.version),
        };
        let mut b = [0u8; 9];
        b.copy_from_slice(s.as_bytes());
        b
    }

    /// Whether the file ends with a CRC-64 trailer (version 5 and later).
    pub fn has_checksum(&self) -> bool {
        self.version >= 5
    }
}

/// Record opcodes (type bytes at and above 242; 242 and 243 depend on the dialect).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Opcode {
    /// `RDB_OPCODE_HASH_TEMPLATE` (242 under `REDIS`, Redis 8.10+): one hash template.
    HashTemplate,
    /// `RDB_OPCODE_KEY_META` (243 under `REDIS`, Redis 8.6+): the next key's metadata.
    KeyMeta,
    /// `RDB_OPCODE_SLOT_IMPORT` (243 under `VALKEY`, Valkey 9.0+): slot import state.
    SlotImport,
    /// `RDB_OPCODE_SLOT_INFO` (244): cluster slot sizing hint.
    SlotInfo,
    /// `RDB_OPCODE_FUNCTION2` (245): one function library's source.
    Function2,
    /// `RDB_OPCODE_FUNCTION_PRE_GA` (246): 7.0-rc function record.
    FunctionPreGa,
    /// `RDB_OPCODE_MODULE_AUX` (247).
    ModuleAux,
    /// `RDB_OPCODE_IDLE` (248): LRU idle seconds of the next key.
    Idle,
    /// `RDB_OPCODE_FREQ` (249): LFU counter of the next key.
    Freq,
    /// `RDB_OPCODE_AUX` (250).
    Aux,
    /// `RDB_OPCODE_RESIZEDB` (251).
    ResizeDb,
    /// `RDB_OPCODE_EXPIRETIME_MS` (252).
    ExpireTimeMs,
    /// `RDB_OPCODE_EXPIRETIME` (253): seconds.
    ExpireTime,
    /// `RDB_OPCODE_SELECTDB` (254).
    SelectDb,
    /// `RDB_OPCODE_EOF` (255).
    Eof,
}

impl Opcode {
    /// The opcode for byte `b` in a file of the given dialect.
    pub fn from_byte_in(b: u8, magic: Magic) -> Option<Opcode> {
        match (b, magic) {
            (242, Magic::Redis) => Some(Opcode::HashTemplate),
            (243, Magic::Redis) => Some(Opcode::KeyMeta),
            (243, Magic::Valkey) => Some(Opcode::SlotImport),
            _ => Opcode::from_byte(b),
        }
    }

    /// The opcode for byte `b` when it means the same in both dialects (244 and above).
    pub fn from_byte(b: u8) -> Option<Opcode> {
        Some(match b {
            244 => Opcode::SlotInfo,
            245 => Opcode::Function2,
            246 => Opcode::FunctionPreGa,
            247 => Opcode::ModuleAux,
            248 => Opcode::Idle,
            249 => Opcode::Freq,
            250 => Opcode::Aux,
            251 => Opcode::ResizeDb,
            252 => Opcode::ExpireTimeMs,
            253 => Opcode::ExpireTime,
            254 => Opcode::SelectDb,
            255 => Opcode::Eof,
            _ => return None,
        })
    }

    /// The byte.
    pub fn byte(self) -> u8 {
        match self {
            Opcode::HashTemplate => 242,
            Opcode::KeyMeta | Opcode::SlotImport => 243,
            Opcode::SlotInfo => 244,
            Opcode::Function2 => 245,
            Opcode::FunctionPreGa => 246,
            Opcode::ModuleAux => 247,
            Opcode::Idle => 248,
            Opcode::Freq => 249,
            Opcode::Aux => 250,
            Opcode::ResizeDb => 251,
            Opcode::ExpireTimeMs => 252,
            Opcode::ExpireTime => 253,
            Opcode::SelectDb => 254,
            Opcode::Eof => 255,
        }
    }
}

/// Object type bytes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum ValueType {
    /// `RDB_TYPE_STRING` (0).
    String,
    /// `RDB_TYPE_LIST` (1): linked list of strings.
    List,
    /// `RDB_TYPE_SET` (2): hashtable set.
    Set,
    /// `RDB_TYPE_ZSET` (3): scores as text.
    Zset,
    /// `RDB_TYPE_HASH` (4): hashtable hash.
    Hash,
    /// `RDB_TYPE_ZSET_2` (5): binary double scores.
    Zset2,
    /// `RDB_TYPE_MODULE_PRE_GA` (6): unskippable 4.0-RC module value.
    ModulePreGa,
    /// `RDB_TYPE_MODULE_2` (7).
    Module2,
    /// `RDB_TYPE_HASH_ZIPMAP` (9).
    HashZipmap,
    /// `RDB_TYPE_LIST_ZIPLIST` (10).
    ListZiplist,
    /// `RDB_TYPE_SET_INTSET` (11).
    SetIntset,
    /// `RDB_TYPE_ZSET_ZIPLIST` (12).
    ZsetZiplist,
    /// `RDB_TYPE_HASH_ZIPLIST` (13).
    HashZiplist,
    /// `RDB_TYPE_LIST_QUICKLIST` (14).
    ListQuicklist,
    /// `RDB_TYPE_STREAM_LISTPACKS` (15).
    StreamListpacks,
    /// `RDB_TYPE_HASH_LISTPACK` (16).
    HashListpack,
    /// `RDB_TYPE_ZSET_LISTPACK` (17).
    ZsetListpack,
    /// `RDB_TYPE_LIST_QUICKLIST_2` (18).
    ListQuicklist2,
    /// `RDB_TYPE_STREAM_LISTPACKS_2` (19).
    StreamListpacks2,
    /// `RDB_TYPE_SET_LISTPACK` (20).
    SetListpack,
    /// `RDB_TYPE_STREAM_LISTPACKS_3` (21).
    StreamListpacks3,
    /// `RDB_TYPE_HASH_METADATA_PRE_GA` (22 under `REDIS`): 7.4-RC hash with field TTLs.
    HashMetadataPreGa,
    /// `RDB_TYPE_HASH_LISTPACK_EX_PRE_GA` (23 under `REDIS`).
    HashListpackExPreGa,
    /// `RDB_TYPE_HASH_METADATA` (24): hashtable hash with field TTLs.
    HashMetadata,
    /// `RDB_TYPE_HASH_LISTPACK_EX` (25).
    HashListpackEx,
    /// Valkey's `RDB_TYPE_HASH_2` (22 under `VALKEY`).
    Hash2,
    /// `RDB_TYPE_STREAM_LISTPACKS_4` (26, Redis 8.6+): type 21 plus IDMP state.
    StreamListpacks4,
    /// `RDB_TYPE_STREAM_LISTPACKS_5` (27, Redis 8.8+): type 26 plus each group's NACK zone.
    StreamListpacks5,
    /// `RDB_TYPE_ARRAY` (28, Redis 8.8+).
    Array,
    /// `RDB_TYPE_HASH_TMPL_LP` (29, Redis 8.10+): self-contained template hash, values listpack.
    HashTmplLp,
    /// `RDB_TYPE_HASH_TMPL_LP_REF` (30): values listpack naming a registered template.
    HashTmplLpRef,
    /// `RDB_TYPE_HASH_TMPL_ARRAY` (31): self-contained template hash, values as strings.
    HashTmplArray,
    /// `RDB_TYPE_HASH_TMPL_ARRAY_REF` (32): values as strings after a template id.
    HashTmplArrayRef,
}

impl ValueType {
    /// Every type, in declaration order (so `ty as usize` indexes it).
    pub const ALL: [ValueType; 33] = {
        use ValueType::*;
        [
            String,
            List,
            Set,
            Zset,
            Hash,
            Zset2,
            ModulePreGa,
            Module2,
            HashZipmap,
            ListZiplist,
            SetIntset,
            ZsetZiplist,
            HashZiplist,
            ListQuicklist,
            StreamListpacks,
            HashListpack,
            ZsetListpack,
            ListQuicklist2,
            StreamListpacks2,
            SetListpack,
            StreamListpacks3,
            HashMetadataPreGa,
            HashListpackExPreGa,
            HashMetadata,
            HashListpackEx,
            Hash2,
            StreamListpacks4,
            StreamListpacks5,
            Array,
            HashTmplLp,
            HashTmplLpRef,
            HashTmplArray,
            HashTmplArrayRef,
        ]
    };

    /// The type for byte `b` in a file of the given dialect; `None` if unknown.
    pub fn from_byte(b: u8, magic: Magic) -> Option<ValueType> {
        use ValueType::*;
        Some(match (b, magic) {
            (0, _) => String,
            (1, _) => List,
            (2, _) => Set,
            (3, _) => Zset,
            (4, _) => Hash,
            (5, _) => Zset2,
            (6, _) => ModulePreGa,
            (7, _) => Module2,
            (9, _) => HashZipmap,
            (10, _) => ListZiplist,
            (11, _) => SetIntset,
            (12, _) => ZsetZiplist,
            (13, _) => HashZiplist,
            (14, _) => ListQuicklist,
            (15, _) => StreamListpacks,
            (16, _) => HashListpack,
            (17, _) => ZsetListpack,
            (18, _) => ListQuicklist2,
            (19, _) => StreamListpacks2,
            (20, _) => SetListpack,
            (21, _) => StreamListpacks3,
            (22, Magic::Redis) => HashMetadataPreGa,
            (23, Magic::Redis) => HashListpackExPreGa,
            (24, Magic::Redis) => HashMetadata,
            (25, Magic::Redis) => HashListpackEx,
            (26, Magic::Redis) => StreamListpacks4,
            (27, Magic::Redis) => StreamListpacks5,
            (28, Magic::Redis) => Array,
            (29, Magic::Redis) => HashTmplLp,
            (30, Magic::Redis) => HashTmplLpRef,
            (31, Magic::Redis) => HashTmplArray,
            (32, Magic::Redis) => HashTmplArrayRef,
            (22, Magic::Valkey) => Hash2,
            _ => return None,
        })
    }

    /// The byte written for this type.
    pub fn byte(self) -> u8 {
        use ValueType::*;
        match self {
            String => 0,
            List => 1,
            Set => 2,
            Zset => 3,
            Hash => 4,
            Zset2 => 5,
            ModulePreGa => 6,
            Module2 => 7,
            HashZipmap => 9,
            ListZiplist => 10,
            SetIntset => 11,
            ZsetZiplist => 12,
            HashZiplist => 13,
            ListQuicklist => 14,
            StreamListpacks => 15,
            HashListpack => 16,
            ZsetListpack => 17,
            ListQuicklist2 => 18,
            StreamListpacks2 => 19,
            SetListpack => 20,
            StreamListpacks3 => 21,
            HashMetadataPreGa => 22,
            HashListpackExPreGa => 23,
            HashMetadata => 24,
            HashListpackEx => 25,
            Hash2 => 22,
            StreamListpacks4 => 26,
            StreamListpacks5 => 27,
            Array => 28,
            HashTmplLp => 29,
            HashTmplLpRef => 30,
            HashTmplArray => 31,
            HashTmplArrayRef => 32,
        }
    }

    /// Redis's name for the encoding, as `check` reports it.
    pub fn name(self) -> &'static str {
        use ValueType::*;
        match self {
            String => "string",
            List => "list (linked)",
            Set => "set (hashtable)",
            Zset => "zset (text scores)",
            Hash => "hash (hashtable)",
            Zset2 => "zset (skiplist)",
            ModulePreGa => "module (pre-GA)",
            Module2 => "module",
            HashZipmap => "hash (zipmap)",
            ListZiplist => "list (ziplist)",
            SetIntset => "set (intset)",
            ZsetZiplist => "zset (ziplist)",
            HashZiplist => "hash (ziplist)",
            ListQuicklist => "list (quicklist)",
            StreamListpacks => "stream (listpacks v1)",
            HashListpack => "hash (listpack)",
            ZsetListpack => "zset (listpack)",
            ListQuicklist2 => "list (quicklist v2)",
            StreamListpacks2 => "stream (listpacks v2)",
            SetListpack => "set (listpack)",
            StreamListpacks3 => "stream (listpacks v3)",
            HashMetadataPreGa => "hash (field TTLs, 7.4-RC)",
            HashListpackExPreGa => "hash (listpack with TTLs, 7.4-RC)",
            HashMetadata => "hash (field TTLs)",
            HashListpackEx => "hash (listpack with TTLs)",
            Hash2 => "hash (Valkey field TTLs)",
            StreamListpacks4 => "stream (listpacks v4, IDMP)",
            StreamListpacks5 => "stream (listpacks v5, NACK zones)",
            Array => "array",
            HashTmplLp => "hash (template, self-contained listpack)",
            HashTmplLpRef => "hash (template listpack)",
            HashTmplArray => "hash (template, self-contained strings)",
            HashTmplArrayRef => "hash (template strings)",
        }
    }

    /// Whether the value is a hash stored by template (types 29-32).
    pub fn is_hash_template(self) -> bool {
        use ValueType::*;
        matches!(
            self,
            HashTmplLp | HashTmplLpRef | HashTmplArray | HashTmplArrayRef
        )
    }

    /// The logical type this encoding holds.
    pub fn kind(self) -> Kind {
        use ValueType::*;
        match self {
            String => Kind::String,
            List | ListZiplist | ListQuicklist | ListQuicklist2 => Kind::List,
            Set | SetIntset | SetListpack => Kind::Set,
            Zset | Zset2 | ZsetZiplist | ZsetListpack => Kind::Zset,
            Hash | HashZipmap | HashZiplist | HashListpack | HashMetadataPreGa
            | HashListpackExPreGa | HashMetadata | HashListpackEx | Hash2 | HashTmplLp
            | HashTmplLpRef | HashTmplArray | HashTmplArrayRef => Kind::Hash,
            StreamListpacks | StreamListpacks2 | StreamListpacks3 | StreamListpacks4
            | StreamListpacks5 => Kind::Stream,
            Array => Kind::Array,
            ModulePreGa | Module2 => Kind::Module,
        }
    }
}

/// The logical type of a key, as Dataset JSON names it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Kind {
    /// `string`
    String,
    /// `list`
    List,
    /// `set`
    Set,
    /// `zset`
    Zset,
    /// `hash`
    Hash,
    /// `stream`
    Stream,
    /// `array`
    Array,
    /// `module`
    Module,
}

impl Kind {
    /// The Dataset JSON name.
    pub fn as_str(self) -> &'static str {
        match self {
            Kind::String => "string",
            Kind::List => "list",
            Kind::Set => "set",
            Kind::Zset => "zset",
            Kind::Hash => "hash",
            Kind::Stream => "stream",
            Kind::Array => "array",
            Kind::Module => "module",
        }
    }
}
