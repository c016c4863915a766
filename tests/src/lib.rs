//! Shared helpers for Pianola's end-to-end tests.

use std::path::PathBuf;

/// The reference corpus: `$PIANOLA_CORPUS` if set, else `../shared/midi_songs`
/// beside the workspace.
pub fn reference_corpus() -> PathBuf {
    match std::env::var_os(pianola_core::corpus::CORPUS_ENV) {
        Some(dir) if !dir.is_empty() => PathBuf::from(dir),
        _ => PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../shared/midi_songs"),
    }
}

pub mod clap_host;
pub mod x11;
