//! Musical figures of a sequence of events, to hold what Pianola plays
//! against the music it learned from (`musical_sanity` and the live
//! rhythm examples):
//!
//! - rhythm: the histograms of the inter-onset gaps (`when`) and lengths
//!   (`hold`) over the network's time classes, compared by Jensen–Shannon
//!   divergence, and the share of events that start together with the
//!   previous one;
//! - voicing: how many chords, and octave tokens, have their lowest key
//!   below middle C;
//! - key: the share of notes in the best-fitting major or minor key
//!   (Krumhansl–Schmuckler), and the pitch-class entropy;
//! - repetition: the longest run of one token, the share of 8-token
//!   sequences found verbatim in a corpus, and the share of distinct ones.

use std::collections::HashSet;

use crate::event::{Event, classes};
use crate::key::{pitch_class_counts, pitch_class_entropy, share_in_key};
use crate::token::{PitchClassSet, Token};

/// The length of the sequences counted as copied or distinct.
pub const GRAM: usize = 8;

/// The figures of one piece, or of several pooled ([`pool`]).
#[derive(Default, Clone, Debug)]
pub struct Figures {
    /// Counts of each `when` class (every event but the first).
    pub when: Vec<f64>,
    /// Counts of each `hold` class.
    pub hold: Vec<f64>,
    /// Share of events with `when` = 0.
    pub together: f64,
    /// Chords (two or more pitch classes) with their lowest key below
    /// middle C, and all chords.
    pub chords_low: (usize, usize),
    /// Octave tokens (one pitch class) below middle C, and all of them.
    pub octaves_low: (usize, usize),
    /// Share of notes in the best-fitting key.
    pub in_key: f64,
    /// Entropy of the pitch classes, in bits.
    pub entropy_bits: f64,
    /// The longest run of one token.
    pub longest_run: usize,
    /// The longest stretch of tokens played before in the same piece (a
    /// loop shows as a long one).
    pub longest_copy: usize,
    /// Share of [`GRAM`]-token sequences found in the corpus given.
    pub copied: f64,
    /// Share of distinct [`GRAM`]-token sequences.
    pub distinct: f64,
}

/// Counts of `values` in the network's time classes.
pub fn time_histogram(values: impl Iterator<Item = u32>) -> Vec<f64> {
    let mut counts = vec![0.0; classes::TIME_CLASSES];
    for v in values {
        counts[classes::time_class(v)] += 1.0;
    }
    counts
}

fn normalised(counts: &[f64]) -> Vec<f64> {
    let total: f64 = counts.iter().sum::<f64>().max(1e-12);
    counts.iter().map(|c| c / total).collect()
}

/// The Jensen–Shannon divergence of two histograms, in bits (0: the same
/// shape; 1: nothing in common).
pub fn jensen_shannon(p: &[f64], q: &[f64]) -> f64 {
    let (p, q) = (normalised(p), normalised(q));
    let kl = |a: &[f64], m: &[f64]| -> f64 {
        a.iter()
            .zip(m)
            .filter(|(a, _)| **a > 0.0)
            .map(|(a, m)| a * (a / m).log2())
            .sum()
    };
    let m: Vec<f64> = p.iter().zip(&q).map(|(a, b)| (a + b) / 2.0).collect();
    (kl(&p, &m) + kl(&q, &m)) / 2.0
}

/// A count pair's share: `low` of `all`.
pub fn share((low, all): (usize, usize)) -> f64 {
    low as f64 / all.max(1) as f64
}

/// The figures of `events`; `corpus_grams` are the corpus' [`GRAM`]-token
/// sequences (empty: nothing counts as copied).
pub fn figures(events: &[Event], corpus_grams: &HashSet<Vec<Token>>) -> Figures {
    let tokens: Vec<Token> = events.iter().map(|e| e.what).collect();
    let rest = &events[1.min(events.len())..];
    let mut f = Figures {
        when: time_histogram(rest.iter().map(|e| e.when)),
        hold: time_histogram(events.iter().map(|e| e.hold)),
        together: rest.iter().filter(|e| e.when == 0).count() as f64 / rest.len().max(1) as f64,
        ..Figures::default()
    };
    for e in events {
        if let Token::Chord(set) = e.what {
            let low = usize::from(e.lowest < 60);
            if set.len() == 1 {
                f.octaves_low.0 += low;
                f.octaves_low.1 += 1;
            } else {
                f.chords_low.0 += low;
                f.chords_low.1 += 1;
            }
        }
    }
    let counts = pitch_class_counts(&tokens);
    if let Some(share) = share_in_key(&counts) {
        f.in_key = f64::from(share);
    }
    f.entropy_bits = f64::from(pitch_class_entropy(&counts));
    let mut run = 1;
    f.longest_run = 1;
    for pair in tokens.windows(2) {
        run = if pair[0] == pair[1] { run + 1 } else { 1 };
        f.longest_run = f.longest_run.max(run);
    }
    f.longest_copy = longest_copy(&tokens);
    let grams: Vec<&[Token]> = tokens.windows(GRAM).collect();
    let n = grams.len().max(1) as f64;
    f.copied = grams
        .iter()
        .filter(|g| corpus_grams.contains(&g.to_vec()))
        .count() as f64
        / n;
    f.distinct = grams.iter().collect::<HashSet<_>>().len() as f64 / n;
    f
}

/// The longest stretch of `tokens` that also starts at an earlier place
/// (overlapping allowed, as a loop overlaps itself).
pub fn longest_copy(tokens: &[Token]) -> usize {
    let mut longest = 0;
    for later in 1..tokens.len() {
        for earlier in 0..later {
            let length = tokens[later..]
                .iter()
                .zip(&tokens[earlier..])
                .take_while(|(a, b)| a == b)
                .count();
            longest = longest.max(length);
        }
    }
    longest
}

/// `events` as one MIDI stream shows them: an event together with the one
/// before it (`when` = 0) sounds as part of it, one chord of both (its
/// lowest key the lower, its hold the first's). What a single note output
/// plays can only be held against music seen this way.
pub fn as_one_stream(events: &[Event]) -> Vec<Event> {
    let mut merged: Vec<Event> = Vec::with_capacity(events.len());
    for event in events {
        match merged.last_mut() {
            Some(last) if event.when == 0 => {
                let (first, second) = (last.pitches(), event.pitches());
                if let Some(set) = PitchClassSet::from_pitches(first.iter().chain(second.iter())) {
                    last.what = Token::Chord(set);
                }
                last.lowest = last.lowest.min(event.lowest);
            }
            _ => merged.push(*event),
        }
    }
    merged
}

/// The notes of `events` as a player plays them, from sample `start`:
/// (onset, end, key, velocity), onsets `when` apart, each note held for its
/// event's `hold` (at least a twelfth), in the events' order.
pub fn notes_of_events(
    events: &[Event],
    start: u64,
    samples_per_beat: f64,
) -> Vec<(u64, u64, u8, u8)> {
    let twelfth = samples_per_beat / f64::from(crate::event::GRID_PER_BEAT);
    let mut at = start as f64;
    let mut notes = Vec::new();
    for (i, event) in events.iter().enumerate() {
        if i > 0 {
            at += f64::from(event.when) * twelfth;
        }
        let on = at.round() as u64;
        let off = on + (f64::from(event.hold.max(1)) * twelfth).round() as u64;
        notes.extend(
            event
                .pitches()
                .iter()
                .map(|key| (on, off, key, event.velocity)),
        );
    }
    notes
}

/// Notes as one note output plays them, back into events: `notes` are
/// (onset, end, key) in samples, sorted by onset; the notes starting on one
/// sample are one event, its `when` and `hold` (its lowest note's length)
/// in twelfths of a beat at `samples_per_beat`, at velocity 80.
pub fn events_of_notes(notes: &[(u64, u64, u8)], samples_per_beat: f64) -> Vec<Event> {
    let twelfths = |samples: u64| {
        (samples as f64 * f64::from(crate::event::GRID_PER_BEAT) / samples_per_beat).round() as u32
    };
    let mut events = Vec::new();
    let mut previous: Option<u64> = None;
    for group in notes.chunk_by(|a, b| a.0 == b.0) {
        // A key struck twice on one sample (the first note ended at once)
        // is one note, as long as the longer.
        let &(on, off, lowest) = group
            .iter()
            .min_by_key(|n| (n.2, std::cmp::Reverse(n.1)))
            .expect("a note");
        let distinct_keys = group.iter().any(|n| n.2 != lowest);
        let what = match PitchClassSet::from_pitches(group.iter().map(|n| n.2)) {
            Some(set) if distinct_keys => Token::Chord(set),
            _ => Token::Note(lowest),
        };
        events.push(Event {
            what,
            when: previous.map_or(0, |p| twelfths(on - p)),
            hold: twelfths(off - on),
            velocity: 80,
            lowest,
            releases: false,
        });
        previous = Some(on);
    }
    events
}

/// The songs of `corpus` that `model` held out from its training, with
/// more than `min_events` events.
pub fn held_out_songs<'a>(
    corpus: &'a crate::corpus::Corpus,
    model: &crate::weights::ModelFile,
    min_events: usize,
) -> Vec<&'a crate::corpus::Song> {
    corpus
        .songs
        .iter()
        .filter(|s| model.info.corpus.validation_songs.contains(&s.name))
        .filter(|s| s.events.len() > min_events)
        .collect()
}

/// The figures of `songs` pooled, each read as one note output plays it
/// ([`as_one_stream`]): the reference for what Pianola plays live.
pub fn one_stream_reference(songs: &[&crate::corpus::Song]) -> Figures {
    let pieces: Vec<Figures> = songs
        .iter()
        .map(|s| figures(&as_one_stream(&s.events), &HashSet::new()))
        .collect();
    pool(&pieces)
}

/// The columns of [`Figures::row`].
pub const TABLE_HEADER: &str = "JS when, JS hold (bits) | together | chords, octaves below C4 | in key | entropy | longest run | longest self-copy | copied 8-grams | distinct 8-grams";

impl Figures {
    /// One line of a table ([`TABLE_HEADER`]): these figures, the rhythm
    /// against `reference`'s.
    pub fn row(&self, reference: &Figures) -> String {
        format!(
            "{:.3} {:.3} | {:>5.1} % | {:>5.1} % {:>5.1} % | {:.3} | {:.2} | {:>2} | {:>3} | {:>4.1} % | {:.2}",
            jensen_shannon(&self.when, &reference.when),
            jensen_shannon(&self.hold, &reference.hold),
            100.0 * self.together,
            100.0 * share(self.chords_low),
            100.0 * share(self.octaves_low),
            self.in_key,
            self.entropy_bits,
            self.longest_run,
            self.longest_copy,
            100.0 * self.copied,
            self.distinct
        )
    }
}

/// Several pieces as one: histograms and counts summed, shares and
/// entropies averaged, the longest run the longest.
pub fn pool(pieces: &[Figures]) -> Figures {
    let n = pieces.len().max(1) as f64;
    let mut f = Figures {
        when: vec![0.0; classes::TIME_CLASSES],
        hold: vec![0.0; classes::TIME_CLASSES],
        ..Figures::default()
    };
    for p in pieces {
        for (a, b) in f.when.iter_mut().zip(&p.when) {
            *a += b;
        }
        for (a, b) in f.hold.iter_mut().zip(&p.hold) {
            *a += b;
        }
        f.together += p.together / n;
        f.chords_low.0 += p.chords_low.0;
        f.chords_low.1 += p.chords_low.1;
        f.octaves_low.0 += p.octaves_low.0;
        f.octaves_low.1 += p.octaves_low.1;
        f.in_key += p.in_key / n;
        f.entropy_bits += p.entropy_bits / n;
        f.longest_run = f.longest_run.max(p.longest_run);
        f.longest_copy = f.longest_copy.max(p.longest_copy);
        f.copied += p.copied / n;
        f.distinct += p.distinct / n;
    }
    f
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn jensen_shannon_is_zero_for_one_shape_and_one_bit_for_disjoint_ones() {
        assert!(jensen_shannon(&[1.0, 3.0, 0.0], &[2.0, 6.0, 0.0]).abs() < 1e-12);
        assert!((jensen_shannon(&[1.0, 0.0], &[0.0, 5.0]) - 1.0).abs() < 1e-12);
    }

    #[test]
    fn figures_count_together_voicing_runs_and_copies() {
        let e = |text: &str| -> Event { text.parse().unwrap() };
        let events = [
            e("C4@1/2~1/2"),
            e("C4@0~1/2"),
            e("0.4.7_3@1~1"),
            e("0_2@1/2~1/2"),
            e("0_5@1/2~1/2"),
        ];
        let grams: HashSet<Vec<Token>> = HashSet::new();
        let f = figures(&events, &grams);
        assert_eq!(f.together, 0.25);
        assert_eq!(f.chords_low, (1, 1));
        assert_eq!(f.octaves_low, (1, 2));
        assert_eq!(f.longest_run, 2);
        assert_eq!(f.when.iter().sum::<f64>(), 4.0);
        assert_eq!(f.hold.iter().sum::<f64>(), 5.0);
        assert_eq!(f.copied, 0.0);
    }

    #[test]
    fn one_stream_sounds_events_together_as_one_chord() {
        let e = |text: &str| -> Event { text.parse().unwrap() };
        let events = [e("C3@1/2~1"), e("E4@0~1/2"), e("G4@1/2~1/2"), e("G5@0~1/2")];
        let merged = as_one_stream(&events);
        assert_eq!(merged.len(), 2);
        assert_eq!(merged[0].what, "0.4".parse().unwrap());
        assert_eq!((merged[0].lowest, merged[0].hold), (48, 12));
        assert_eq!(merged[1].what, "7".parse().unwrap());
        assert_eq!(merged[1].when, 6);
    }

    #[test]
    fn notes_of_events_read_back_as_the_same_events() {
        let events: Vec<Event> = ["C4@0~6:80", "0.4@0~3:80", "G5@3~1:80"]
            .iter()
            .map(|t| t.parse().unwrap())
            .collect();
        let notes: Vec<(u64, u64, u8)> = notes_of_events(&events, 100, 24_000.0)
            .into_iter()
            .map(|(on, off, key, _)| (on, off, key))
            .collect();
        let mut sorted = notes.clone();
        sorted.sort_unstable();
        let back = events_of_notes(&sorted, 24_000.0);
        assert_eq!(back, as_one_stream(&events));
    }

    #[test]
    fn notes_on_one_sample_are_one_event_timed_in_twelfths() {
        // 24,000 samples a beat: a twelfth is 2,000.
        let notes = [
            (0, 4_000, 64),
            (0, 6_000, 60),
            (6_000, 6_000, 67),
            (6_000, 8_000, 67),
        ];
        let events = events_of_notes(&notes, 24_000.0);
        assert_eq!(events.len(), 2);
        assert_eq!(
            events[0].what,
            Token::Chord(PitchClassSet::from_pitches([60, 64]).unwrap())
        );
        assert_eq!(
            (events[0].when, events[0].hold, events[0].lowest),
            (0, 3, 60)
        );
        assert_eq!(events[1].what, Token::Note(67));
        assert_eq!((events[1].when, events[1].hold), (3, 1));
    }
}
