//! RDB snapshots: the vocabulary, primitives, blob encodings, the streaming reader and the
//! dataset collector, one module per record kind.
pub mod array;
pub mod collect;
pub mod dups;
pub mod elem;
pub mod encode;
pub mod intset;
pub mod irregular;
pub mod keymeta;
pub mod length;
pub mod listpack;
pub mod module;
pub mod opcode;
pub mod payload;
pub mod reader;
pub mod stream;
pub mod string;
pub mod target;
pub mod template;
pub mod validate;
pub mod value;
pub mod visit;
pub mod writer;
pub mod ziplist;
pub mod zipmap;

pub use collect::{collect_all, read_dataset, read_dataset_from, Collector};
pub use irregular::Irregularity;
pub use opcode::{Header, Kind, Magic, Opcode, ValueType};
pub use reader::{Checksum, RdbReader, ReadOptions, Step, Trailer, VERIFY_CHECKSUMS};
pub use target::{assess, Loss, Report, Target, Thresholds};
pub use visit::{KeyInfo, ModuleId, Note, StreamMeta, Visitor};
pub use writer::{write_dataset, write_to_vec, WriteError, WriteOptions, Written};
