//! Pianola's trainer: corpus → training windows → a trained weights file.
//!
//! - [`data`]: songs as vocabulary indices, the train/validation split,
//!   windows and transposition.
//! - [`network`]: the network as a candle module ([`layers`] holds its
//!   parts, [`init`] the initial weights), trained with candle's autograd
//!   around [`fused_lstm`], each LSTM layer as one op.
//! - [`optim`]: RMSprop, AdamW and gradient clipping.
//! - [`session_eval`]: scoring with the session memory mixed in.
//! - [`device`]: which device trains (CPU, or CUDA with the `cuda` feature).
//! - [`train`]: the training run and evaluation.

pub mod allocator;
pub mod data;
pub mod device;
pub mod fused_lstm;
pub mod init;
pub mod layers;
pub mod network;
pub mod optim;
pub mod session_eval;
pub mod train;
