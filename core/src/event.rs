//! Events: Pianola's unit of music. One event per onset group of the corpus
//! reader, carrying the seed's token as *what* is played, and *when*, *how
//! long*, *how loud* and *where* it is played.
//!
//! Times are counted on a grid of twelfths of a beat ([`GRID_PER_BEAT`]),
//! the corpus reader's quantization (every sixteenth and eighth-note
//! triplet is a whole number of twelfths). The event keeps exact grid
//! values; the network predicts classes of them ([`classes`]), chosen from
//! the reference corpus' histograms (`pianola stats`, 57,690 events):
//!
//! - `when`: 1/2 beat 37.5 %, together 29.5 %, 1/4 12.0 %, 1 beat 9.6 %,
//!   1/3 4.6 %; everything from 0 to 4 beats covers 99.7 %. Classes: every
//!   twelfth from 0 to 48 (4 beats); longer gaps are 4 beats.
//! - `hold`: 1/2 beat 41.4 %, 1/4 17.4 %, dotted 1/8 12.9 %, 1/3 6.7 %,
//!   1 beat 6.6 %; 0 (shorter than a 1/24 beat) 1.4 %; 4 beats or less
//!   covers 98 %. Classes: every twelfth from 0 to 48; longer is 4 beats.
//! - `velocity`: many files use one or two velocities (110: 44.5 %, 127:
//!   12.1 %). Eight bins of 16 keep the dynamics that are there without
//!   spreading a file's single velocity over many classes.
//! - chord register: the octave of the lowest key (middle C's octave is 4):
//!   4: 38.6 %, 3: 24.4 %, 2: 19.0 %, 1: 9.6 %, 5: 8.0 %, 6: 0.4 %. Classes:
//!   octaves -1 to 9 (every MIDI key). A note's key says where it is.

use crate::token::{PitchClasses, Token};
use crate::vocab::Vocab;

/// Grid steps per beat (quarter note) of an event's times.
pub const GRID_PER_BEAT: u32 = 12;

/// One onset group: what sounds, when, how long, how loud and where.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct Event {
    /// What is played: the seed's token.
    pub what: Token,
    /// Twelfths of a beat since the previous event's onset (0: together
    /// with it; the first event of a piece counts from the piece's start).
    pub when: u32,
    /// Twelfths of a beat it sounds (its first note's quantized length).
    pub hold: u32,
    /// The MIDI velocity of its first note (1..=127).
    pub velocity: u8,
    /// Its lowest MIDI key: where a chord sits (a note's own key).
    pub lowest: u8,
}

impl Event {
    /// The MIDI keys the event plays: a note its key; a chord its pitch
    /// classes stacked upwards from its lowest key (the lowest key's pitch
    /// class first, each further one at its next occurrence above), a chord
    /// of one pitch class as its lowest key and the octave above. Keys
    /// above 127 are left out.
    pub fn pitches(&self) -> PitchClasses {
        match self.what {
            Token::Note(key) => std::iter::once(key).collect(),
            Token::Chord(set) if set.len() == 1 => [self.lowest, self.lowest.saturating_add(12)]
                .into_iter()
                .filter(|&key| key <= 127)
                .collect(),
            Token::Chord(set) => {
                let bottom = u32::from(self.lowest);
                let bottom_pc = bottom % 12;
                let mut keys: Vec<u32> = set
                    .ascending()
                    .iter()
                    .map(|pc| bottom + (u32::from(pc) + 12 - bottom_pc) % 12)
                    .collect();
                keys.sort_unstable();
                keys.into_iter()
                    .filter(|&key| key <= 127)
                    .map(|key| key as u8)
                    .collect()
            }
        }
    }
}

/// An event as the network's classes: what it reads and predicts.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub struct EventClasses {
    /// The token's vocabulary index.
    pub what: usize,
    /// [`classes::time_class`] of `when`.
    pub when: usize,
    /// [`classes::time_class`] of `hold` (predicted, never read: a live
    /// player's hold is unknown at the onset).
    pub hold: usize,
    /// [`classes::velocity_class`].
    pub velocity: usize,
    /// [`classes::register_class`] of the lowest key.
    pub register: usize,
}

impl EventClasses {
    /// The classes of `event`; `None` if `vocab` lacks its token.
    pub fn of(event: &Event, vocab: &Vocab) -> Option<Self> {
        Some(Self {
            what: vocab.index_of(event.what)?,
            when: classes::time_class(event.when),
            hold: classes::time_class(event.hold),
            velocity: classes::velocity_class(event.velocity),
            register: classes::register_class(event.lowest),
        })
    }

    /// The token `what` with the other fields of a plain step: `step`
    /// twelfths after the previous event, held as long, at `velocity`,
    /// where the token sits (a chord in octave 4).
    pub fn on_grid(what: usize, token: Token, step: u32, velocity: u8) -> Self {
        let lowest = match token {
            Token::Note(key) => key,
            Token::Chord(_) => 60,
        };
        Self {
            what,
            when: classes::time_class(step),
            hold: classes::time_class(step),
            velocity: classes::velocity_class(velocity),
            register: classes::register_class(lowest),
        }
    }

    /// The event these classes play; `None` if `what` is outside `vocab`.
    /// A chord is voiced upwards from its normal order's first pitch class
    /// in the predicted octave.
    pub fn to_event(&self, vocab: &Vocab) -> Option<Event> {
        let what = vocab.token(self.what)?;
        let lowest = match what {
            Token::Note(key) => key,
            Token::Chord(set) => {
                let first = set.normal_order().as_slice().first().copied().unwrap_or(0);
                classes::register_key(self.register, first)
            }
        };
        Some(Event {
            what,
            when: classes::time_of_class(self.when),
            hold: classes::time_of_class(self.hold),
            velocity: classes::velocity_of_class(self.velocity),
            lowest,
        })
    }
}

/// The classes the network predicts for an event's fields, and the value
/// each class plays.
pub mod classes {
    /// `when` and `hold` classes: twelfths of a beat 0..=48.
    pub const TIME_CLASSES: usize = 49;
    /// `velocity` classes: bins of 16.
    pub const VELOCITY_CLASSES: usize = 8;
    /// Register classes: MIDI octaves -1..=9.
    pub const REGISTER_CLASSES: usize = 11;

    /// The class of a `when` or `hold` of `twelfths` (4 beats and more are
    /// the last class).
    pub fn time_class(twelfths: u32) -> usize {
        (twelfths as usize).min(TIME_CLASSES - 1)
    }

    /// The twelfths a time class plays.
    pub fn time_of_class(class: usize) -> u32 {
        class.min(TIME_CLASSES - 1) as u32
    }

    /// The class of a MIDI velocity.
    pub fn velocity_class(velocity: u8) -> usize {
        usize::from(velocity.saturating_sub(1).min(126)) / 16
    }

    /// The velocity a class plays: the middle of its bin.
    pub fn velocity_of_class(class: usize) -> u8 {
        (class.min(VELOCITY_CLASSES - 1) * 16 + 8).min(127) as u8
    }

    /// The register class of a lowest key: its octave, -1 being class 0.
    pub fn register_class(lowest: u8) -> usize {
        usize::from(lowest.min(127)) / 12
    }

    /// The lowest key a register class voices a chord from: the octave's C,
    /// raised to the chord's first pitch class at or above it.
    pub fn register_key(class: usize, first_pitch_class: u8) -> u8 {
        let c = (class.min(REGISTER_CLASSES - 1) * 12) as u8;
        c.saturating_add(first_pitch_class % 12).min(127)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn event(what: &str, lowest: u8) -> Event {
        Event {
            what: what.parse().unwrap(),
            when: 0,
            hold: 6,
            velocity: 80,
            lowest,
        }
    }

    #[test]
    fn chords_are_voiced_upwards_from_their_lowest_key() {
        // C major (0.4.7) from G2: G2 C3 E3.
        assert_eq!(event("0.4.7", 43).pitches().as_slice(), &[43, 48, 52]);
        // From C4: C4 E4 G4.
        assert_eq!(event("0.4.7", 60).pitches().as_slice(), &[60, 64, 67]);
        // Octaves of A from A1.
        assert_eq!(event("9", 33).pitches().as_slice(), &[33, 45]);
        // A note is its key, wherever `lowest` says.
        assert_eq!(event("C5", 10).pitches().as_slice(), &[72]);
    }

    #[test]
    fn every_value_has_a_class_that_plays_a_value_in_it() {
        use super::classes::*;
        for twelfths in 0..100 {
            let class = time_class(twelfths);
            assert!(class < TIME_CLASSES);
            assert_eq!(time_of_class(class), twelfths.min(48));
        }
        for velocity in 1..=127u8 {
            let class = velocity_class(velocity);
            assert!(class < VELOCITY_CLASSES);
            assert_eq!(
                velocity_class(velocity_of_class(class)),
                class,
                "{velocity}"
            );
        }
        for key in 0..=127u8 {
            let class = register_class(key);
            assert!(class < REGISTER_CLASSES);
            assert_eq!(register_class(register_key(class, key % 12)), class);
        }
    }

    #[test]
    fn voiced_pitches_read_back_as_the_same_token() {
        for (what, lowest) in [("0.4.7", 43), ("11.2.6", 35), ("4.9", 64), ("9", 21)] {
            let event = event(what, lowest);
            let pitches = event.pitches();
            assert_eq!(Token::from_onset(pitches.as_slice()), Some(event.what));
            assert_eq!(pitches.as_slice()[0], lowest);
        }
    }
}
