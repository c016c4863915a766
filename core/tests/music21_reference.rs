//! Pianola's token language and corpus reader against music21 5.7.2, the
//! library the seed project used. The reference files in `tests/data` were
//! written by `tools/music21_reference.py`.

use std::collections::HashMap;
use std::path::PathBuf;

use pianola_core::{Corpus, PitchClassSet, Token};

fn data(name: &str) -> String {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("tests/data")
        .join(name);
    std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

fn reference_corpus() -> PathBuf {
    pianola_core::corpus::reference_corpus_dir()
}

#[test]
fn normal_order_matches_music21_for_every_pitch_class_set() {
    let text = data("music21_normal_order.txt");
    let mut checked = 0;
    for line in text.lines() {
        let (mask, expected) = line.split_once(' ').unwrap();
        let set = PitchClassSet::from_mask(mask.parse().unwrap()).unwrap();
        assert_eq!(Token::Chord(set).to_string(), expected, "mask {mask}");
        checked += 1;
    }
    assert_eq!(checked, 4095);
}

/// The seed's tokens per file, as music21 extracted them.
fn seed_tokens() -> HashMap<String, Vec<String>> {
    data("music21_seed_tokens.txt")
        .lines()
        .map(|line| {
            let (name, tokens) = line.split_once(':').unwrap();
            let tokens = tokens.split_whitespace().map(str::to_string).collect();
            (name.to_string(), tokens)
        })
        .collect()
}

#[test]
fn the_corpus_reads_as_the_seed_read_it() {
    let corpus = Corpus::read_dir(&reference_corpus()).expect("reference corpus");
    let reference = seed_tokens();
    assert_eq!(reference.len(), 92);
    assert_eq!(reference.values().map(Vec::len).sum::<usize>(), 57_177);
    assert!(corpus.skipped.is_empty(), "skipped: {:?}", corpus.skipped);
    assert_eq!(corpus.songs.len(), 92);

    for song in &corpus.songs {
        let expected = &reference[&song.name];
        let ours: Vec<String> = song.tokens.iter().map(Token::to_string).collect();
        if song.name == "AT.mid" {
            // A format-0 file with 14 program changes at time 0: music21
            // attributes instruments by time within the track and so gives
            // its first instrument nothing. Pianola attributes them per
            // channel and reads the piano's notes.
            assert!(expected.is_empty());
            assert!(ours.len() > 400, "AT.mid gave {} tokens", ours.len());
        } else {
            assert_eq!(&ours, expected, "{}", song.name);
        }
    }
}

#[test]
fn every_corpus_token_round_trips_through_text() {
    let corpus = Corpus::read_dir(&reference_corpus()).expect("reference corpus");
    let mut count = 0;
    for token in corpus.songs.iter().flat_map(|song| &song.tokens) {
        let text = token.to_string();
        assert_eq!(text.parse::<Token>().as_ref(), Ok(token), "{text}");
        count += 1;
    }
    assert!(count > 57_000);
    let vocab = corpus.vocab();
    let texts = vocab.texts();
    assert_eq!(pianola_core::Vocab::from_texts(&texts).unwrap(), vocab);
}
