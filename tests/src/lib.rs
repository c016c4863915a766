//! Shared helpers for Pianola's end-to-end tests.

use std::path::PathBuf;

/// The reference corpus, found as the commands find it
/// ([`pianola_core::corpus_dir`]); a test without it fails saying how to
/// get it.
pub fn reference_corpus() -> PathBuf {
    pianola_core::corpus::reference_corpus_dir()
}

pub mod clap_host;
pub mod x11;
