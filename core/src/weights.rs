//! The weights file: one `.safetensors` file that describes itself.
//!
//! Tensors are named as in [`ModelConfig::tensor_specs`] and stored as `F16`
//! (half the size; the default) or `F32`; the network computes in `f32`. The
//! safetensors header metadata holds:
//!
//! | key | value |
//! | --- | --- |
//! | `format` | `pianola-weights` |
//! | `version` | `1` |
//! | `config` | the sizes, JSON ([`ModelConfig`]) |
//! | `vocab` | the sorted token texts, JSON ([`Vocab`]) |
//! | `info` | corpus and training summary, JSON ([`ModelInfo`]) |
//! | `sha256` | digest of the three JSON values and every tensor's bytes |
//!
//! Loading checks all of it and refuses anything wrong with a typed error:
//! a bad file never panics and never half-loads.

use std::collections::HashMap;
use std::fs;
use std::path::{Path, PathBuf};

use half::f16;
use safetensors::tensor::{Dtype, SafeTensors, TensorView};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use crate::model::{ModelConfig, Params};
use crate::vocab::{Vocab, VocabError};

/// The value of the `format` metadata key.
pub const FORMAT: &str = "pianola-weights";
/// The file format version this build reads and writes.
pub const VERSION: u32 = 1;

/// How tensors are stored in the file.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum StoredDtype {
    /// IEEE half precision: half the size, about 3 decimal digits.
    F16,
    /// Single precision: exact.
    F32,
}

/// Where a model's data came from and how it was trained.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct ModelInfo {
    /// The training corpus.
    pub corpus: CorpusSummary,
    /// The training run.
    pub training: TrainingSummary,
}

/// The corpus a model was trained on.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct CorpusSummary {
    /// The folder's name (its last component, never a machine's path;
    /// files written before this rule hold the path given to the trainer
    /// under `path`).
    #[serde(alias = "path")]
    pub name: String,
    /// The songs' digest ([`crate::corpus_dir::songs_digest`]): which files
    /// these were, whatever the folder is called.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub digest: String,
    /// Songs read.
    pub songs: usize,
    /// Tokens over all songs.
    pub tokens: usize,
    /// The validation songs (file names): never trained on; they chose the
    /// checkpoint (and whatever else the run's figures chose).
    pub validation_songs: Vec<String>,
    /// The test songs (file names): never trained on and never used to
    /// choose anything; what `pianola eval` reports. Empty in files trained
    /// before the split had a test part.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub test_songs: Vec<String>,
    /// The seed of the train/validation split.
    pub split_seed: u64,
}

/// How a model was trained, and how well it predicts held-out songs.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct TrainingSummary {
    /// Passes over the training songs.
    pub epochs: f64,
    /// Optimiser steps.
    pub steps: u64,
    /// `rmsprop` or `adamw`.
    pub optimizer: String,
    /// The learning rate.
    pub learning_rate: f64,
    /// Windows per batch.
    pub batch: usize,
    /// Dropout between layers in training.
    pub dropout: f64,
    /// Training windows were transposed by up to ± this many semitones.
    #[serde(default)]
    pub transpose: i32,
    /// Wall-clock training time in seconds.
    pub wall_seconds: f64,
    /// Validation cross-entropy in nats per token.
    pub validation_loss: Option<f64>,
    /// Validation top-1 accuracy (0..1).
    pub validation_accuracy: Option<f64>,
    /// Validation top-5 accuracy (0..1).
    pub validation_top5: Option<f64>,
    /// Validation cross-entropy of each head of the event network (nats
    /// per event), by head name.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub validation_heads: Vec<(String, f64)>,
    /// When training finished (UTC, RFC 3339).
    pub date: String,
    /// The command line that trained it.
    pub command: String,
}

/// A loaded (or to be saved) weights file.
#[derive(Clone, Debug, PartialEq)]
pub struct ModelFile {
    /// The tokens, in output order.
    pub vocab: Vocab,
    /// Sizes and tensors.
    pub params: Params,
    /// Corpus and training summary.
    pub info: ModelInfo,
}

/// Why a weights file was refused.
#[derive(Debug, thiserror::Error)]
pub enum WeightsError {
    /// The file could not be read or written.
    #[error("cannot read or write {path}")]
    Io {
        /// The file.
        path: PathBuf,
        /// The operating system's reason.
        source: std::io::Error,
    },
    /// Not a readable safetensors file.
    #[error("not a safetensors file: {0}")]
    Format(String),
    /// A metadata key is missing.
    #[error("metadata `{0}` is missing (not a Pianola weights file?)")]
    MissingMetadata(&'static str),
    /// The file is of another kind or version.
    #[error(
        "unsupported weights format `{format}` version `{version}` (this build reads {FORMAT} {VERSION})"
    )]
    UnsupportedVersion {
        /// The `format` found.
        format: String,
        /// The `version` found.
        version: String,
    },
    /// A metadata value does not parse or is out of range.
    #[error("metadata `{key}` is invalid: {reason}")]
    BadMetadata {
        /// The key.
        key: &'static str,
        /// What is wrong.
        reason: String,
    },
    /// The vocabulary is malformed.
    #[error("vocabulary: {0}")]
    Vocab(#[from] VocabError),
    /// The vocabulary does not match the output size.
    #[error("the vocabulary has {vocab} tokens but the network outputs {outputs}")]
    VocabMismatch {
        /// Tokens in the vocabulary.
        vocab: usize,
        /// `vocab_size` of the config.
        outputs: usize,
    },
    /// A tensor the network needs is not in the file.
    #[error("tensor `{0}` is missing")]
    MissingTensor(String),
    /// A tensor the network does not have is in the file.
    #[error("tensor `{0}` is not part of this network")]
    UnexpectedTensor(String),
    /// A tensor has another shape than the config implies.
    #[error("tensor `{name}` has shape {found:?}, expected {expected:?}")]
    WrongShape {
        /// The tensor.
        name: String,
        /// Its shape in the file.
        found: Vec<usize>,
        /// The shape the config implies.
        expected: Vec<usize>,
    },
    /// A tensor is stored in a type other than F16 or F32.
    #[error("tensor `{name}` is stored as {dtype}, expected F16 or F32")]
    WrongDtype {
        /// The tensor.
        name: String,
        /// Its stored type.
        dtype: String,
    },
    /// A tensor holds NaN or infinity.
    #[error("tensor `{0}` holds NaN or infinite values")]
    NonFinite(String),
    /// The content does not match its digest: the file was altered or damaged.
    #[error("the content does not match its sha256 digest: the file is damaged or was edited")]
    DigestMismatch,
}

impl ModelFile {
    /// Writes the file atomically (a temporary file renamed into place), so
    /// a failed save never leaves a half-written file at `path`.
    pub fn save(&self, path: &Path, dtype: StoredDtype) -> Result<(), WeightsError> {
        let bytes = self.to_bytes(dtype)?;
        let io_error = |source| WeightsError::Io {
            path: path.to_path_buf(),
            source,
        };
        crate::atomic_file::write(path, &bytes).map_err(io_error)
    }

    /// Reads and checks a weights file.
    pub fn load(path: &Path) -> Result<Self, WeightsError> {
        let bytes = fs::read(path).map_err(|source| WeightsError::Io {
            path: path.to_path_buf(),
            source,
        })?;
        Self::from_bytes(&bytes)
    }

    /// The file's bytes.
    pub fn to_bytes(&self, dtype: StoredDtype) -> Result<Vec<u8>, WeightsError> {
        let config = to_json(&self.params.config);
        let vocab = to_json(&self.vocab);
        let info = to_json(&self.info);
        let stored: Vec<Vec<u8>> = self
            .params
            .tensors
            .iter()
            .map(|values| encode(values, dtype))
            .collect();
        let safetensors_dtype = match dtype {
            StoredDtype::F16 => Dtype::F16,
            StoredDtype::F32 => Dtype::F32,
        };
        let mut digest = Sha256::new();
        for text in [&config, &vocab, &info] {
            digest.update(text.as_bytes());
        }
        let mut views = Vec::new();
        for (spec, bytes) in self.params.specs().iter().zip(&stored) {
            digest.update(spec.name.as_bytes());
            digest.update(bytes);
            let view = TensorView::new(safetensors_dtype, spec.shape.clone(), bytes)
                .map_err(|e| WeightsError::Format(e.to_string()))?;
            views.push((spec.name.clone(), view));
        }
        let metadata = HashMap::from([
            ("format".to_string(), FORMAT.to_string()),
            ("version".to_string(), VERSION.to_string()),
            ("config".to_string(), config),
            ("vocab".to_string(), vocab),
            ("info".to_string(), info),
            ("sha256".to_string(), hex(&digest.finalize())),
        ]);
        safetensors::tensor::serialize(views, Some(metadata))
            .map_err(|e| WeightsError::Format(e.to_string()))
    }

    /// Parses and checks a weights file's bytes.
    pub fn from_bytes(bytes: &[u8]) -> Result<Self, WeightsError> {
        let format_error = |e: safetensors::SafeTensorError| WeightsError::Format(e.to_string());
        let (_, header) = SafeTensors::read_metadata(bytes).map_err(format_error)?;
        let tensors = SafeTensors::deserialize(bytes).map_err(format_error)?;
        let empty = HashMap::new();
        let metadata = header.metadata().as_ref().unwrap_or(&empty);
        let get = |key: &'static str| {
            metadata
                .get(key)
                .map(String::as_str)
                .ok_or(WeightsError::MissingMetadata(key))
        };

        let (format, version) = (get("format")?, get("version")?);
        if format != FORMAT || version != VERSION.to_string() {
            return Err(WeightsError::UnsupportedVersion {
                format: format.to_string(),
                version: version.to_string(),
            });
        }
        let (config_text, vocab_text, info_text) = (get("config")?, get("vocab")?, get("info")?);
        let config: ModelConfig = parse_json("config", config_text)?;
        config
            .validate()
            .map_err(|reason| WeightsError::BadMetadata {
                key: "config",
                reason,
            })?;
        let vocab_texts: Vec<String> = parse_json("vocab", vocab_text)?;
        let vocab = Vocab::from_texts(&vocab_texts)?;
        if vocab.len() != config.vocab_size {
            return Err(WeightsError::VocabMismatch {
                vocab: vocab.len(),
                outputs: config.vocab_size,
            });
        }
        let info: ModelInfo = parse_json("info", info_text)?;

        let specs = config.tensor_specs();
        for (name, _) in tensors.tensors() {
            if !specs.iter().any(|spec| spec.name == name) {
                return Err(WeightsError::UnexpectedTensor(name));
            }
        }
        let mut digest = Sha256::new();
        for text in [config_text, vocab_text, info_text] {
            digest.update(text.as_bytes());
        }
        let mut values = Vec::with_capacity(specs.len());
        for spec in &specs {
            let view = tensors
                .tensor(&spec.name)
                .map_err(|_| WeightsError::MissingTensor(spec.name.clone()))?;
            if view.shape() != spec.shape.as_slice() {
                return Err(WeightsError::WrongShape {
                    name: spec.name.clone(),
                    found: view.shape().to_vec(),
                    expected: spec.shape.clone(),
                });
            }
            let decoded =
                decode(view.dtype(), view.data()).ok_or_else(|| WeightsError::WrongDtype {
                    name: spec.name.clone(),
                    dtype: format!("{:?}", view.dtype()),
                })?;
            if decoded.iter().any(|v| !v.is_finite()) {
                return Err(WeightsError::NonFinite(spec.name.clone()));
            }
            digest.update(spec.name.as_bytes());
            digest.update(view.data());
            values.push(decoded);
        }
        if hex(&digest.finalize()) != get("sha256")? {
            return Err(WeightsError::DigestMismatch);
        }
        let params = Params::from_tensors(config, values)
            .expect("every tensor was checked against its spec");
        Ok(Self {
            vocab,
            params,
            info,
        })
    }
}

fn parse_json<T: serde::de::DeserializeOwned>(
    key: &'static str,
    text: &str,
) -> Result<T, WeightsError> {
    serde_json::from_str(text).map_err(|e| WeightsError::BadMetadata {
        key,
        reason: e.to_string(),
    })
}

fn to_json<T: Serialize>(value: &T) -> String {
    serde_json::to_string(value).expect("metadata always serialises")
}

fn encode(values: &[f32], dtype: StoredDtype) -> Vec<u8> {
    match dtype {
        StoredDtype::F16 => values
            .iter()
            .flat_map(|v| f16::from_f32(*v).to_le_bytes())
            .collect(),
        StoredDtype::F32 => values.iter().flat_map(|v| v.to_le_bytes()).collect(),
    }
}

fn decode(dtype: Dtype, bytes: &[u8]) -> Option<Vec<f32>> {
    match dtype {
        Dtype::F16 => Some(
            bytes
                .chunks_exact(2)
                .map(|b| f16::from_le_bytes([b[0], b[1]]).to_f32())
                .collect(),
        ),
        Dtype::F32 => Some(
            bytes
                .chunks_exact(4)
                .map(|b| f32::from_le_bytes([b[0], b[1], b[2], b[3]]))
                .collect(),
        ),
        _ => None,
    }
}

/// `bytes` as lower-case hex.
pub(crate) fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}
