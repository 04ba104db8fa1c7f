//! Oracles shared by `cargo test`, the proptest suites and the fuzz targets: each `check::*`
//! function panics exactly when the property it names is broken.
#![forbid(unsafe_code)]
#![deny(missing_docs)]

pub mod check;
pub mod cmds;
pub mod disk;
pub mod gen;
pub mod machine;
pub mod neutral;
pub mod replies;
pub mod violation;
