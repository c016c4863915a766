//! Pianola's trainer: corpus → training windows → a trained weights file.
//!
//! This crate grows with the trainer issue; so far it holds the encoding of
//! a corpus into vocabulary indices that training windows are cut from.

pub mod data;
pub mod init;
pub mod linalg;
pub mod network;
pub mod optim;
pub mod train;

use pianola_core::{Corpus, Vocab};

/// Every song of `corpus` as indices into `vocab`. A token missing from the
/// vocabulary is an error naming the song and the token.
pub fn encode_songs(corpus: &Corpus, vocab: &Vocab) -> Result<Vec<Vec<u32>>, String> {
    corpus
        .songs
        .iter()
        .map(|song| {
            song.tokens
                .iter()
                .map(|token| {
                    vocab
                        .index_of(*token)
                        .map(|index| index as u32)
                        .ok_or_else(|| format!("{}: `{token}` is not in the vocabulary", song.name))
                })
                .collect()
        })
        .collect()
}
