//! Events: the corpus reader's `when`, `hold`, `velocity` and `lowest`, and
//! the MIDI writer that plays them back, on hand-made pieces and on the
//! whole reference corpus.

use pianola_core::corpus::{Corpus, events_from_bytes, reference_corpus_dir, tokens_from_bytes};
use pianola_core::event::Event;
use pianola_core::midi_file::write_events;

fn event(what: &str, when: u32, hold: u32, velocity: u8, lowest: u8) -> Event {
    Event {
        what: what.parse().unwrap(),
        when,
        hold,
        velocity,
        lowest,
        releases: false,
    }
}

#[test]
fn hand_made_events_round_trip_through_a_midi_file() {
    let events = vec![
        // A bass octave and a chord above it, together; then a melody in
        // sixteenths and triplets, a rest, a long chord.
        event("9", 6, 24, 70, 33),
        event("0.4.9", 0, 12, 64, 57),
        event("E5", 0, 3, 90, 76),
        event("F5", 3, 3, 85, 77),
        event("G5", 3, 4, 80, 79),
        event("A5", 4, 4, 80, 81),
        event("B5", 4, 4, 75, 83),
        event("2.5.9", 28, 48, 50, 50),
        // Two events together with the same length stay two events.
        event("C3", 48, 6, 60, 48),
        event("C6", 0, 6, 60, 84),
    ];
    let bytes = write_events(&events, 100.0);
    assert_eq!(events_from_bytes(&bytes).unwrap(), events);
}

#[test]
fn the_corpus_reads_into_events_whose_what_is_the_seeds_tokens_and_which_round_trip() {
    let corpus = Corpus::read_dir(&reference_corpus_dir()).expect("the reference corpus");
    assert_eq!(corpus.songs.len(), 92);
    let mut events_total = 0;
    for song in &corpus.songs {
        let what: Vec<_> = song.events.iter().map(|e| e.what).collect();
        assert_eq!(
            what, song.tokens,
            "{}: what is the token sequence",
            song.name
        );
        events_total += song.events.len();
        for event in &song.events {
            assert!(event.hold > 0 || event.when > 0 || event.velocity > 0);
            assert!((1..=127).contains(&event.velocity), "{}", song.name);
            assert_eq!(
                event.pitches().as_slice().first(),
                Some(&event.lowest),
                "{}: a chord's lowest key is one of its keys",
                song.name
            );
        }
        let bytes = write_events(&song.events, 120.0);
        let back = events_from_bytes(&bytes).unwrap();
        assert_eq!(
            tokens_from_bytes(&bytes).unwrap(),
            song.tokens,
            "{}",
            song.name
        );
        let differing = back.iter().zip(&song.events).position(|(a, b)| a != b);
        assert_eq!(back.len(), song.events.len(), "{}", song.name);
        assert_eq!(
            differing,
            None,
            "{}: event {:?} reads back as {:?}",
            song.name,
            differing.map(|i| song.events[i]),
            differing.map(|i| back[i])
        );
    }
    assert_eq!(events_total, corpus.total_tokens());
}
