//! Power-loss testing of Redis-compatible servers: an LD_PRELOAD recorder of file-system calls,
//! its trace format and parser, and the crash images a power loss could leave under two models.
//!
//! Run an unmodified server with [`Recorder::attach`]; after killing it, read the trace with
//! [`parse_killed`] and enumerate [`crash_images`] under [`Model::Posix`] or [`Model::Ordered`];
//! [`Image::materialize`] writes one into a fresh directory for the server to restart on.
//!
//! On top of that, [`campaign::run`] drives seeded random histories ([`workload`]) against a
//! server over RESP ([`drive`]), kills it, restarts it on each image and judges the recovered
//! dataset against `redis_persist_model::durability` ([`judge`]), shrinking any violation.
#![forbid(unsafe_code)]
#![deny(missing_docs)]

pub mod campaign;
pub mod drive;
pub mod event;
pub mod image;
pub mod judge;
pub mod launch;
mod ordered;
pub mod parse;
mod posix;
pub mod recorder;
pub mod replay;
pub mod report;
pub mod run;
pub mod state;
pub mod trace;
pub mod tree;
pub mod workload;

pub use image::{crash_images, final_state, CrashImages, DirState, Image, Model, Options};
pub use parse::{parse, parse_killed, parse_prefix, ParseError, ParseErrorKind, Trace};
pub use recorder::{prepare_trace, Recorder};
pub use replay::BuildError;
