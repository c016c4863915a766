//! Helpers shared by the host's tests and benchmarks.

pub mod cli;
pub mod jack;
