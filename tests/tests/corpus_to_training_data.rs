//! The reference corpus through core and trainer: tokens → vocabulary
//! indices → tokens.

use pianola_core::Corpus;
use pianola_tests::reference_corpus;

#[test]
fn encoding_the_corpus_with_its_vocabulary_is_lossless() {
    let corpus = Corpus::read_dir(&reference_corpus()).expect("reference corpus");
    let vocab = corpus.vocab();
    let encoded = pianola_trainer::encode_songs(&corpus, &vocab).unwrap();
    assert_eq!(encoded.len(), corpus.songs.len());
    for (song, indices) in corpus.songs.iter().zip(&encoded) {
        let decoded: Vec<_> = indices
            .iter()
            .map(|&i| vocab.token(i as usize).unwrap())
            .collect();
        assert_eq!(decoded, song.tokens, "{}", song.name);
    }
    let largest = encoded.iter().flatten().copied().max().unwrap();
    assert_eq!(largest as usize, vocab.len() - 1, "every index is used");
}

#[test]
fn a_token_outside_the_vocabulary_is_named() {
    let corpus = Corpus::read_dir(&reference_corpus()).expect("reference corpus");
    let small = pianola_core::Vocab::from_tokens(corpus.songs[0].tokens.iter().copied());
    let error = pianola_trainer::encode_songs(&corpus, &small).unwrap_err();
    assert!(error.contains("is not in the vocabulary"), "{error}");
}
