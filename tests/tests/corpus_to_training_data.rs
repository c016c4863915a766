//! The reference corpus through core and trainer: tokens → vocabulary
//! indices → tokens.

use pianola_core::Corpus;
use pianola_tests::reference_corpus;
use pianola_trainer::data::encode_song;

#[test]
fn encoding_the_corpus_with_its_vocabulary_is_lossless() {
    let corpus = Corpus::read_dir(&reference_corpus()).expect("reference corpus");
    let vocab = corpus.vocab();
    let mut largest = 0;
    for song in &corpus.songs {
        let (indices, missing) = encode_song(&song.tokens, &vocab);
        assert_eq!(missing, 0, "{}", song.name);
        let decoded: Vec<_> = indices
            .iter()
            .map(|&i| vocab.token(i as usize).unwrap())
            .collect();
        assert_eq!(decoded, song.tokens, "{}", song.name);
        largest = largest.max(indices.iter().copied().max().unwrap_or(0));
    }
    assert_eq!(largest as usize, vocab.len() - 1, "every index is used");
}

#[test]
fn tokens_outside_the_vocabulary_are_counted_and_left_out() {
    let corpus = Corpus::read_dir(&reference_corpus()).expect("reference corpus");
    let first = &corpus.songs[0].tokens;
    let small = pianola_core::Vocab::from_tokens(first.iter().copied());
    let (_, missing) = encode_song(first, &small);
    assert_eq!(missing, 0);
    let other = &corpus.songs[1].tokens;
    let (indices, missing) = encode_song(other, &small);
    let unknown = other
        .iter()
        .filter(|t| small.index_of(**t).is_none())
        .count();
    assert!(unknown > 0);
    assert_eq!((indices.len(), missing), (other.len() - unknown, unknown));
}
