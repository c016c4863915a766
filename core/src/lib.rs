//! Pianola's shared brain.
//!
//! - [`token`]: the token language the LSTM speaks (notes and chords, as the
//!   seed project wrote them with music21).
//! - [`event`]: the events the performer and network speak: the token
//!   plus when, how long, how loud and where.
//! - [`vocab`]: a sorted vocabulary mapping tokens to indices and back;
//!   [`nearest`]: the known token nearest one it lacks.
//! - [`corpus`]: reading MIDI files into token sequences ([`corpus_dir`]:
//!   where the corpus is); [`midi_file`]:
//!   writing them.
//! - [`model`]: the network's sizes and parameters.
//! - [`weights`]: the self-describing weights file.
//! - [`key`]: keys, their scales, and finding the key of a passage.
//! - [`sample`]: choosing the next token (temperature, top-k/top-p, guards);
//!   [`memory`]: the session memory it mixes in; [`texture`]: following
//!   the texture of the music so far; [`takes`]: keeping, of several
//!   takes of a continuation, the one most in the primer's character.
//! - [`voices`]: checking note streams for stuck and doubled notes.
//! - [`perform`]: the live performer (real-time side and worker);
//!   [`tempo`]: the tempo rule it and every host share.
//! - [`predictor`]: inference, one token at a time ([`kernel`] is its inner loop;
//!   [`repeats`]: the notes head's prior for what the context repeats).

pub mod alloc_counter;
pub mod atomic_file;
pub mod corpus;
pub mod corpus_dir;
pub mod default_model;
pub mod duet;
pub mod event;
pub mod figures;
pub mod kernel;
pub mod key;
pub mod memory;
pub mod midi_file;
pub mod model;
pub mod nearest;
pub mod perform;
pub mod predictor;
pub mod repeats;
pub mod sample;
pub mod takes;
pub mod tempo;
pub mod texture;
pub mod token;
pub mod vocab;
pub mod voices;
pub mod weights;

pub use corpus::{Corpus, CorpusError, SkippedFile, Song};
pub use predictor::{Network, Predictor, PredictorError};
pub use sample::{Sampler, SamplerSettings};
pub use token::{PitchClassSet, Token, TokenParseError};
pub use vocab::{Vocab, VocabError};
