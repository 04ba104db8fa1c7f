//! The pure format layer: bytes in, records out, and back. Nothing here touches the file system,
//! the clock or global state; input arrives through `std::io::Read` or slices.
pub mod aof;
pub mod bytes;
pub mod crc64;
pub mod error;
pub mod int;
pub mod limits;
pub mod lzf;
pub mod rdb;
pub mod resp;
pub mod source;

pub use error::{Error, ErrorKind, Result};
pub use limits::Limits;
