//! Helpers shared by the benchmark binaries: pipelined loading of a live server, timing a child
//! process with its peak RSS, summary statistics, and the dataset shapes `big-bench` generates.
pub mod harness;
pub mod shapes;
