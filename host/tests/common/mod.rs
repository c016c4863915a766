//! Helpers shared by the host's tests and benchmarks.

pub mod jack;
