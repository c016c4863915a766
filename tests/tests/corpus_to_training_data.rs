//! The reference corpus through core and trainer: events → training steps
//! (vocabulary indices and the events' times) → events.

use pianola_core::Corpus;
use pianola_tests::reference_corpus;
use pianola_trainer::data::encode_song;

#[test]
fn encoding_the_corpus_with_its_vocabulary_is_lossless() {
    let corpus = Corpus::read_dir(&reference_corpus()).expect("reference corpus");
    let vocab = corpus.vocab();
    let mut largest = 0;
    for song in &corpus.songs {
        let (steps, missing) = encode_song(&song.events, &vocab);
        assert_eq!(missing, 0, "{}", song.name);
        let decoded: Vec<_> = steps
            .iter()
            .map(|s| vocab.token(s.what as usize).unwrap())
            .collect();
        assert_eq!(decoded, song.tokens, "{}", song.name);
        for (step, event) in steps.iter().zip(&song.events) {
            assert_eq!(
                (step.when, step.hold, step.velocity, step.lowest),
                (event.when, event.hold, event.velocity, event.lowest)
            );
        }
        largest = largest.max(steps.iter().map(|s| s.what).max().unwrap_or(0));
    }
    assert_eq!(largest as usize, vocab.len() - 1, "every index is used");
}

#[test]
fn tokens_outside_the_vocabulary_are_counted_and_left_out() {
    let corpus = Corpus::read_dir(&reference_corpus()).expect("reference corpus");
    let first = &corpus.songs[0];
    let small = pianola_core::Vocab::from_tokens(first.tokens.iter().copied());
    let (_, missing) = encode_song(&first.events, &small);
    assert_eq!(missing, 0);
    let other = &corpus.songs[1].events;
    let (indices, missing) = encode_song(other, &small);
    let unknown = other
        .iter()
        .filter(|e| small.index_of(e.what).is_none())
        .count();
    assert!(unknown > 0);
    assert_eq!((indices.len(), missing), (other.len() - unknown, unknown));
}
