//! Sampling events from the built-in model.

use std::sync::Arc;

use pianola_core::event::Event;
use pianola_core::event::MAX_TOGETHER;
use pianola_core::sample::{Rhythm, continue_events};
use pianola_core::takes::{Character, best_take};
use pianola_core::{Network, Predictor, Sampler, SamplerSettings, Token, Vocab, default_model};

/// The events `group` writes (`"C3@12"`: a note and its `when`), `times`
/// over, each known to `vocab`.
fn repeated(group: &[&str], times: usize, vocab: &Vocab) -> Vec<Event> {
    let events = group.iter().cycle().take(times * group.len());
    events
        .map(|text| {
            let event: Event = text.parse().unwrap();
            assert!(vocab.index_of(event.what).is_some(), "{text}");
            event
        })
        .collect()
}

#[test]
fn after_max_together_events_on_one_onset_the_next_starts_later() {
    let file = default_model::load().unwrap();
    let network = Arc::new(Network::new(&file).unwrap());
    let mut predictor = Predictor::new(network);
    // Bars of one onset stacked MAX_TOGETHER + 1 events high.
    let group = [
        "C3@12", "0.4.7@0", "E4@0", "G4@0", "C5@0", "E5@0", "G5@0", "C6@0",
    ];
    assert_eq!(group.len(), MAX_TOGETHER + 1);
    let bars = repeated(&group, 6, &file.vocab);
    let settings = SamplerSettings {
        temperature: 0.0,
        rhythm_temperature: 0.0,
        ..SamplerSettings::default()
    };
    let next_when = |primer: &[Event], predictor: &mut Predictor| {
        let mut sampler = Sampler::new(settings, &file.vocab, 0);
        continue_events(predictor, &mut sampler, primer, 1, Rhythm::Model)[0].when
    };
    // One event short of the cap the model stacks another on the onset…
    let short = &bars[..bars.len() - 1];
    assert_eq!(
        next_when(short, &mut predictor),
        0,
        "the model's own choice"
    );
    // …at the cap, the next event starts later.
    assert!(next_when(&bars, &mut predictor) > 0, "the cap holds");
}

/// The built-in model continuing `primer` by `count` events from `seed` at
/// Memory `memory`: the tokens played.
fn continuation(primer: &[Event], count: usize, seed: u64, memory: f32) -> Vec<Token> {
    let file = default_model::load().unwrap();
    let network = Arc::new(Network::new(&file).unwrap());
    let mut predictor = Predictor::new(network);
    let settings = SamplerSettings {
        memory,
        ..SamplerSettings::default()
    };
    let mut sampler = Sampler::new(settings, &file.vocab, seed);
    continue_events(&mut predictor, &mut sampler, primer, count, Rhythm::Model)
        .iter()
        .map(|e| e.what)
        .collect()
}

#[test]
fn a_motif_heard_again_and_again_comes_back_with_memory() {
    let file = default_model::load().unwrap();
    let motif = ["C4", "E4", "G4", "C5", "G4", "E4", "D4", "F4"];
    let notes: Vec<String> = motif.iter().map(|t| format!("{t}@1/2")).collect();
    let notes: Vec<&str> = notes.iter().map(String::as_str).collect();
    let primer = repeated(&notes, 12, &file.vocab);
    let motif: Vec<Token> = motif.iter().map(|t| t.parse().unwrap()).collect();
    let times_played = |tokens: &[Token]| {
        // Eight events of the loop, from any of its places.
        tokens
            .windows(motif.len())
            .filter(|w| {
                (0..motif.len()).any(|shift| {
                    w.iter()
                        .eq(motif.iter().cycle().skip(shift).take(motif.len()))
                })
            })
            .count()
    };
    let (mut with, mut without) = (0, 0);
    for seed in 1..=5 {
        let remembered = times_played(&continuation(&primer, 32, seed, 1.0));
        assert!(remembered > 0, "seed {seed}: the motif never came back");
        with += remembered;
        without += times_played(&continuation(&primer, 32, seed, 0.0));
    }
    assert!(with > without, "{with} with memory, {without} without");
}

#[test]
fn no_key_is_struck_twice_at_one_onset() {
    // Bars of a C major chord stacked over four octaves, events struck
    // together: continuations that stack their own onsets as high.
    let file = default_model::load().unwrap();
    let network = Arc::new(Network::new(&file).unwrap());
    let mut predictor = Predictor::new(network);
    let group = ["C3@12", "E3@0", "G3@0", "C4@0", "E4@0", "G4@0", "C5@0"];
    let primer = repeated(&group, 8, &file.vocab);
    // The primer's last onset is the whole group.
    let last_onset = group.iter().fold(0u128, |keys, text| {
        let event: Event = text.parse().unwrap();
        keys | event.key_mask()
    });
    let mut onsets = 0;
    for seed in 1..=4 {
        let mut sampler = Sampler::new(SamplerSettings::default(), &file.vocab, seed);
        let played = continue_events(&mut predictor, &mut sampler, &primer, 150, Rhythm::Model);
        let mut struck = last_onset;
        for event in &played {
            if event.when > 0 {
                struck = 0;
                onsets += 1;
            }
            let keys = event.key_mask();
            assert_eq!(
                struck & keys,
                0,
                "seed {seed}: {event:?} again at one onset"
            );
            struck |= keys;
        }
    }
    assert!(onsets > 100, "{onsets} onsets");
}

#[test]
fn over_a_clean_line_pianola_does_not_ring_over_its_own_next_notes() {
    // A scale up and down in quarters, each note ending as the next
    // starts: the player never strikes over a note still sounding.
    let file = default_model::load().unwrap();
    let network = Arc::new(Network::new(&file).unwrap());
    let mut predictor = Predictor::new(network);
    let line = [
        "C4@1~1", "D4@1~1", "E4@1~1", "F4@1~1", "G4@1~1", "A4@1~1", "B4@1~1", "C5@1~1", "B4@1~1",
        "A4@1~1", "G4@1~1", "F4@1~1", "E4@1~1", "D4@1~1",
    ];
    let primer = repeated(&line, 6, &file.vocab);
    // Pianola's own onsets, and those struck while a note of its own still
    // sounds (without the releases: 51 of 243).
    let (mut onsets, mut over) = (0, 0);
    for seed in 1..=4 {
        let mut sampler = Sampler::new(SamplerSettings::default(), &file.vocab, seed);
        let played = continue_events(&mut predictor, &mut sampler, &primer, 64, Rhythm::Model);
        let mut at = 0u64;
        let mut sounding_until = 0u64;
        for event in &played {
            at += u64::from(event.when);
            if event.when > 0 {
                onsets += 1;
                over += usize::from(at < sounding_until);
            }
            sounding_until = sounding_until.max(at + u64::from(event.hold));
        }
    }
    assert!(onsets > 150, "{onsets} onsets");
    assert!(
        over * 10 <= onsets,
        "{over} of {onsets} onsets struck over a note still sounding"
    );
}

#[test]
fn over_a_player_on_the_sixteenths_pianola_keeps_to_them() {
    // Sixteenths and eighths, every onset on a sixteenth of the beat: the
    // player's grid. A gap of the model's own that lands between (a
    // sixteenth, a triplet) would shift everything after it off the grid.
    let file = default_model::load().unwrap();
    let network = Arc::new(Network::new(&file).unwrap());
    let mut predictor = Predictor::new(network);
    let bars = [
        "C4@1/2~1/4",
        "E4@1/4~1/4",
        "G4@1/4~1/4",
        "C5@1/2~1/2",
        "G4@1/2~1/2",
        "A4@1/4~1/4",
        "F4@1/4~1/4",
        "D4@1/4~1/4",
        "B3@1/4~1/4",
        "C4@1/2~1",
    ];
    let primer = repeated(&bars, 10, &file.vocab);
    let sixteenth = u64::from(pianola_core::event::GRID_PER_BEAT / 4);
    // Pianola's onsets, and those off the player's sixteenths (without
    // the grid rule: 75 of 245).
    let (mut onsets, mut off) = (0, 0);
    for seed in 1..=4 {
        let mut sampler = Sampler::new(SamplerSettings::default(), &file.vocab, seed);
        let played = continue_events(&mut predictor, &mut sampler, &primer, 64, Rhythm::Model);
        let mut at = 0u64;
        for event in &played {
            at += u64::from(event.when);
            if event.when > 0 {
                onsets += 1;
                off += usize::from(!at.is_multiple_of(sixteenth));
            }
        }
    }
    assert!(onsets > 150, "{onsets} onsets");
    assert!(off * 20 <= onsets, "{off} of {onsets} off the sixteenths");
}

#[test]
fn of_several_takes_the_one_nearest_the_primers_character_is_kept() {
    let file = default_model::load().unwrap();
    let network = Arc::new(Network::new(&file).unwrap());
    let mut predictor = Predictor::new(network);
    let primer = repeated(
        &[
            "C4@6", "E4@6", "G4@6", "C5@6", "B3@6", "D4@6", "G4@6", "D5@6",
        ],
        6,
        &file.vocab,
    );
    let character = Character::of(&primer).unwrap();
    let takes = 4;
    // The takes, one after the other on one sampler's random sequence.
    let mut sampler = Sampler::new(SamplerSettings::default(), &file.vocab, 5);
    let played: Vec<Vec<Event>> = (0..takes)
        .map(|_| continue_events(&mut predictor, &mut sampler, &primer, 32, Rhythm::Model))
        .collect();
    let distance = |take: &[Event]| Character::of(take).unwrap().distance(&character);
    let nearest = played
        .iter()
        .min_by(|a, b| distance(a).total_cmp(&distance(b)))
        .unwrap();
    assert!(
        played
            .iter()
            .any(|take| distance(take) != distance(nearest)),
        "the takes differ"
    );
    let mut sampler = Sampler::new(SamplerSettings::default(), &file.vocab, 5);
    let kept = best_take(
        &mut predictor,
        &mut sampler,
        &primer,
        32,
        Rhythm::Model,
        takes,
    );
    assert_eq!(&kept, nearest);
    // One take is the continuation itself.
    let mut sampler = Sampler::new(SamplerSettings::default(), &file.vocab, 5);
    let first = best_take(&mut predictor, &mut sampler, &primer, 32, Rhythm::Model, 1);
    assert_eq!(first, played[0]);
}
