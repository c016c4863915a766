//! The model built into Pianola: `models/default.safetensors`, trained on
//! the reference corpus (its card is `models/README.md`).

use crate::weights::{ModelFile, WeightsError};

/// The weights file's bytes.
pub const BYTES: &[u8] = include_bytes!("../../models/default.safetensors");

/// Parses and checks the built-in weights file.
pub fn load() -> Result<ModelFile, WeightsError> {
    ModelFile::from_bytes(BYTES)
}
