//! The reference engine for Redis persistence: it reads RDB files (versions 1 to 15 and Valkey's
//! `VALKEY080`) and AOFs (single files, RDB preambles, Redis 7 appendonly directories) into one
//! logical dataset, writes RDBs (6 to 15, `VALKEY080`), AOFs and `DUMP` payloads, and runs Redis's
//! persistence policies.
//!
//! - [`format`](mod@format): the pure bytes-to-records layer (RDB reader and writer, `DUMP` payloads, RESP, the
//!   AOF manifest, CRC-64, LZF); no I/O beyond the readers it is given.
//! - [`dataset`]: the logical dataset and its lossless JSON form (`docs/dataset-json.md`).
//! - [`aof`]: AOF files and directories: layout, loading (a replay), the live directory.
//! - [`check`]: validation with `redis-check-rdb`'s and `redis-check-aof`'s verdicts.
//! - [`keyspace`], [`persist`], [`storage`]: Redis commands, persistence policies, the storage seam.
//! - [`corpus`], [`live`]: the conformance corpus and real servers, for tests and tools.
//!
//! Reading an RDB into a dataset and writing it back at another version:
//!
//! ```
//! use redis_persist_engine::format::rdb::{read_dataset, write_dataset, ReadOptions, Target, WriteOptions};
//!
//! let path = concat!(env!("CARGO_MANIFEST_DIR"), "/../corpus/rdb/redis-7.0.15/lists.rdb");
//! let bytes = std::fs::read(path)?;
//! let (ds, _trailer) = read_dataset(&bytes, ReadOptions::default())?;
//! assert_eq!(ds.keys.len(), 8);
//! println!("{}", redis_persist_engine::dataset::to_json_string(&ds));
//!
//! let mut rdb = Vec::new();
//! write_dataset(&ds, &WriteOptions::new(Target::redis(11).unwrap(), 0), &mut rdb)?;
//! assert!(rdb.starts_with(b"REDIS0011"));
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```
//!
//! An AOF (file, directory or manifest) loads with [`aof::load`] into the same [`dataset::Dataset`].
#![forbid(unsafe_code)]
#![deny(missing_docs)]

pub mod aof;
pub mod check;
pub mod corpus;
pub mod dataset;
pub mod format;
pub mod keyspace;
pub mod live;
pub mod persist;
pub mod rng;
pub mod spill;
pub mod stats;
pub mod storage;
