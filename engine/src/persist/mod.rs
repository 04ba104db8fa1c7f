//! The seams persistence policies run over: a [`Storage`] (a real directory, or a simulated disk
//! that keeps written and durable state apart and injects faults) and a [`Clock`].
//!
//! Paths are relative and `/`-separated (`dump.rdb`, `appendonlydir/appendonly.aof.1.incr.aof`);
//! one level of subdirectory is all Redis uses. Nothing here knows a file format.
mod clock;
mod simdisk;
mod storage;

pub use clock::{Clock, SimClock, SystemClock};
pub use simdisk::{CrashImage, Op, SimDisk};
pub use storage::{RealDir, Storage};
