//! Pianola's shared brain.
//!
//! - [`token`]: the token language the LSTM speaks (notes and chords, as the
//!   seed project wrote them with music21).
//! - [`vocab`]: a sorted vocabulary mapping tokens to indices and back.
//! - [`corpus`]: reading MIDI files into token sequences.

pub mod corpus;
pub mod token;
pub mod vocab;

pub use corpus::{Corpus, CorpusError, SkippedFile, Song};
pub use token::{PitchClassSet, Token, TokenParseError};
pub use vocab::{Vocab, VocabError};
