//! Takes: a continuation played several times over, and the take most in
//! the primer's character kept.
//!
//! One continuation of a piece is one draw: over 64 events its span of
//! keys, how many notes sound at once and which pitch classes it leans on
//! stray from the primer's by chance as much as by the model's choice (the
//! seeds of one primer differ by 3 to 4 semitones of span alone). Where
//! there is time to play it again, as in `pianola generate`, a musician
//! would keep the take that sounds like the music it continues. So
//! [`best_take`] plays `takes` continuations and keeps the one whose
//! [`Character`] is nearest the primer's (BENCHMARKS.md, "Takes").

use crate::event::Event;
use crate::key::{estimate, pitch_class_entropy, share_in_scale};
use crate::predictor::Predictor;
use crate::sample::{Rhythm, Sampler, continue_events};

/// How many takes `pianola generate` plays of a continuation, chosen on
/// the out-of-corpus training pieces and the second set (BENCHMARKS.md,
/// "Takes"): 8 kept nearly all of what 24 did.
pub const DEFAULT_TAKES: usize = 8;

/// Semitones of span beyond the primer's that count as one unit of
/// [`Character::distance`].
const SPAN_UNIT: f32 = 6.0;

/// Semitones of mean pitch that count as one unit.
const MEAN_PITCH_UNIT: f32 = 3.0;

/// Notes sounding at once that count as one unit.
const SOUNDING_UNIT: f32 = 0.3;

/// Notes struck per onset that count as one unit.
const NOTES_PER_ONSET_UNIT: f32 = 0.3;

/// Pitch-class shares (summed over the twelve, 0 to 2) that count as one
/// unit.
const PITCH_CLASS_UNIT: f32 = 0.3;

/// Bits of pitch-class entropy that count as one unit.
const ENTROPY_UNIT: f32 = 0.1;

/// The share of notes outside the primer's key, beyond the primer's own,
/// that counts as one unit.
const OFF_KEY_UNIT: f32 = 0.05;

/// What a stretch of events sounds like, as far as keeping to a primer's
/// character goes.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Character {
    /// The lowest key struck.
    pub lowest: u8,
    /// The highest key struck.
    pub highest: u8,
    /// The mean key of the notes struck.
    pub mean_pitch: f32,
    /// How many notes sound at once, on the mean over the twelfths of a
    /// beat when any sounds.
    pub sounding: f32,
    /// How many notes each onset strikes, on the mean.
    pub notes_per_onset: f32,
    /// Each pitch class' share of the notes struck.
    pub pitch_classes: [f32; 12],
    /// The entropy of those shares, in bits: how evenly the notes spread
    /// over the pitch classes (0: one pitch class; 12 equally: 3.58).
    pub pitch_class_entropy: f32,
}

impl Character {
    /// The character of `events` (each `when` after the one before);
    /// `None` when they strike no key.
    pub fn of(events: &[Event]) -> Option<Self> {
        let mut lowest = u8::MAX;
        let mut highest = 0;
        let (mut sum, mut notes, mut onsets) = (0.0, 0usize, 0usize);
        let mut pitch_classes = [0.0; 12];
        // Where each note starts and stops sounding, in twelfths.
        let mut spans: Vec<(u64, u64)> = Vec::new();
        let mut at = 0u64;
        for (i, event) in events.iter().enumerate() {
            if i > 0 {
                at += u64::from(event.when);
            }
            if i == 0 || event.when > 0 {
                onsets += 1;
            }
            for key in event.pitches().iter() {
                lowest = lowest.min(key);
                highest = highest.max(key);
                sum += f32::from(key);
                notes += 1;
                pitch_classes[usize::from(key % 12)] += 1.0;
                if event.hold > 0 {
                    spans.push((at, at + u64::from(event.hold)));
                }
            }
        }
        if notes == 0 {
            return None;
        }
        let pitch_classes = pitch_classes.map(|count| count / notes as f32);
        Some(Self {
            lowest,
            highest,
            mean_pitch: sum / notes as f32,
            sounding: sounding(&spans),
            notes_per_onset: notes as f32 / onsets as f32,
            pitch_classes,
            pitch_class_entropy: pitch_class_entropy(&pitch_classes),
        })
    }

    /// How far a take of this character strays from `primer`'s: its span
    /// beyond the primer's, its mean pitch, the notes sounding at once and
    /// struck per onset, its pitch-class shares and their entropy, and its
    /// notes outside the primer's key beyond the primer's own share, each
    /// in its own unit, summed. A take may keep inside the primer's span,
    /// and inside its key, at no cost: a stretch shorter than the primer
    /// reaches less far, and the key guide holds Pianola in the key.
    pub fn distance(&self, primer: &Self) -> f32 {
        let beyond =
            primer.lowest.saturating_sub(self.lowest) + self.highest.saturating_sub(primer.highest);
        let pitch_classes: f32 = self
            .pitch_classes
            .iter()
            .zip(&primer.pitch_classes)
            .map(|(a, b)| (a - b).abs())
            .sum();
        f32::from(beyond) / SPAN_UNIT
            + (self.mean_pitch - primer.mean_pitch).abs() / MEAN_PITCH_UNIT
            + (self.sounding - primer.sounding).abs() / SOUNDING_UNIT
            + (self.notes_per_onset - primer.notes_per_onset).abs() / NOTES_PER_ONSET_UNIT
            + pitch_classes / PITCH_CLASS_UNIT
            + (self.pitch_class_entropy - primer.pitch_class_entropy).abs() / ENTROPY_UNIT
            + self.off_key_beyond(primer) / OFF_KEY_UNIT
    }

    /// The share of the notes outside the key of `primer`'s pitch classes,
    /// beyond the primer's own share outside it (0 where they tell no
    /// key).
    fn off_key_beyond(&self, primer: &Self) -> f32 {
        let Some(key) = estimate(&primer.pitch_classes) else {
            return 0.0;
        };
        let scale = key.scale();
        let in_key = |c: &Self| share_in_scale(&c.pitch_classes, scale);
        (in_key(primer) - in_key(self)).max(0.0)
    }
}

/// The mean number of notes sounding over the twelfths when any sounds,
/// for notes sounding over `spans` (start, stop); 0 when none does.
fn sounding(spans: &[(u64, u64)]) -> f32 {
    let mut edges: Vec<(u64, i32)> = spans
        .iter()
        .flat_map(|&(start, stop)| [(start, 1), (stop, -1)])
        .collect();
    edges.sort_unstable();
    let (mut notes, mut since) = (0i32, 0u64);
    let (mut note_time, mut sounding_time) = (0u64, 0u64);
    for (at, change) in edges {
        if notes > 0 {
            let length = at - since;
            note_time += length * notes as u64;
            sounding_time += length;
        }
        notes += change;
        since = at;
    }
    if sounding_time == 0 {
        0.0
    } else {
        note_time as f32 / sounding_time as f32
    }
}

/// Continues `primer` by `count` events `takes` times
/// ([`continue_events`], the sampler's random sequence running on from
/// one take to the next) and returns the take whose [`Character`] is
/// nearest the primer's: the first of the nearest, and the first take
/// alone where the primer strikes no key. One take is [`continue_events`]
/// itself.
pub fn best_take(
    predictor: &mut Predictor,
    sampler: &mut Sampler,
    primer: &[Event],
    count: usize,
    rhythm: Rhythm,
    takes: usize,
) -> Vec<Event> {
    let mut best = continue_events(predictor, sampler, primer, count, rhythm);
    let Some(character) = Character::of(primer) else {
        return best;
    };
    let distance =
        |take: &[Event]| Character::of(take).map_or(f32::INFINITY, |c| c.distance(&character));
    let mut nearest = distance(&best);
    for _ in 1..takes {
        let take = continue_events(predictor, sampler, primer, count, rhythm);
        let d = distance(&take);
        if d < nearest {
            (best, nearest) = (take, d);
        }
    }
    best
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::token::Token;

    fn note(key: u8, when: u32, hold: u32) -> Event {
        Event {
            what: Token::Note(key),
            when,
            hold,
            velocity: Event::DEFAULT_VELOCITY,
            lowest: key,
            releases: false,
        }
    }

    #[test]
    fn the_character_reads_span_pitch_classes_and_notes_sounding_at_once() {
        // C4 alone for 6 twelfths, then E4 and G4 together for 6 (C4 still
        // sounding for 6 of them), then a 6-twelfth silence, then C5.
        let events = [
            note(60, 0, 12),
            note(64, 6, 6),
            note(67, 0, 6),
            note(72, 12, 6),
        ];
        let c = Character::of(&events).unwrap();
        assert_eq!((c.lowest, c.highest), (60, 72));
        assert_eq!(c.mean_pitch, (60.0 + 64.0 + 67.0 + 72.0) / 4.0);
        // 6 twelfths of one note, 6 of three, 6 of one: 30 / 18.
        assert!((c.sounding - 30.0 / 18.0).abs() < 1e-6, "{}", c.sounding);
        // Four notes on three onsets.
        assert!((c.notes_per_onset - 4.0 / 3.0).abs() < 1e-6);
        assert_eq!(c.pitch_classes[0], 0.5);
        assert_eq!(c.pitch_classes[4], 0.25);
        assert_eq!(c.pitch_classes[1], 0.0);
        // Shares of a half and two quarters: 1.5 bits.
        assert!((c.pitch_class_entropy - 1.5).abs() < 1e-6);
    }

    /// The white keys from C4 to G4, over and over.
    fn c_major(count: usize, first: usize) -> Vec<Event> {
        const KEYS: [u8; 5] = [60, 62, 64, 65, 67];
        (first..first + count)
            .map(|i| note(KEYS[i % KEYS.len()], 6, 6))
            .collect()
    }

    #[test]
    fn a_take_in_the_primers_character_is_nearer_than_one_out_of_it() {
        let primer = Character::of(&c_major(20, 0)).unwrap();
        let like = c_major(10, 2);
        let near = Character::of(&like).unwrap().distance(&primer);
        let higher: Vec<Event> = like.iter().map(|e| note(e.lowest + 12, 6, 6)).collect();
        let sharper: Vec<Event> = like.iter().map(|e| note(e.lowest + 1, 6, 6)).collect();
        let chords: Vec<Event> = like
            .iter()
            .flat_map(|e| [note(e.lowest, 6, 12), note(e.lowest + 7, 0, 12)])
            .collect();
        for other in [higher, sharper, chords] {
            assert!(near < Character::of(&other).unwrap().distance(&primer));
        }
        assert_eq!(primer.distance(&primer), 0.0);
    }

    #[test]
    fn a_takes_notes_are_counted_in_the_primers_key() {
        let primer = Character::of(&c_major(20, 0)).unwrap();
        // One of eight notes on F sharp: 1/8 off C major, where the primer
        // has none.
        let mut take = c_major(7, 0);
        take.push(note(66, 6, 6));
        let take = Character::of(&take).unwrap();
        assert!((take.off_key_beyond(&primer) - 1.0 / 8.0).abs() < 1e-6);
        assert_eq!(primer.off_key_beyond(&primer), 0.0);
    }

    #[test]
    fn nothing_struck_has_no_character() {
        assert_eq!(Character::of(&[]), None);
    }
}
