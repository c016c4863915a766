//! Pianola's trainer: corpus → training windows → a trained weights file.
//!
//! - [`data`]: songs as vocabulary indices, the train/validation split,
//!   windows and transposition.
//! - [`network`]: the batched forward and backward passes ([`linalg`] holds
//!   the matrix products, [`init`] the initial weights).
//! - [`optim`]: RMSprop, AdamW and gradient clipping.
//! - [`train`]: the training run and evaluation.

pub mod data;
pub mod init;
pub mod linalg;
pub mod network;
pub mod optim;
pub mod train;
