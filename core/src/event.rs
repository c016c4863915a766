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
    /// Twelfths of a beat it sounds (its first note's quantized length);
    /// 0 where it is not known (a live player's note is heard at its
    /// onset) or too short to count: see [`Event::known_hold`].
    pub hold: u32,
    /// The MIDI velocity of its first note (1..=127).
    pub velocity: u8,
    /// Its lowest MIDI key: where a chord sits (a note's own key).
    pub lowest: u8,
    /// Whether its onset ends the notes Pianola still sounds from before
    /// it, so that they do not ring over it ([`crate::texture`]); false for
    /// music read or heard.
    pub releases: bool,
}

impl Event {
    /// How long it sounds, where that is known: a hold of 0 is not.
    pub fn known_hold(&self) -> Option<u32> {
        (self.hold > 0).then_some(self.hold)
    }

    /// [`Event::pitches`] as bits (bit `k`: key `k`).
    pub fn key_mask(&self) -> u128 {
        self.pitches()
            .iter()
            .fold(0, |mask, key| mask | 1u128 << (key & 127))
    }

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
                // Without allocating: the audio thread voices chords.
                let bottom = u32::from(self.lowest);
                let bottom_pc = bottom % 12;
                let mut keys = [u32::MAX; 12];
                let pcs = set.ascending();
                for (slot, pc) in keys.iter_mut().zip(pcs.iter()) {
                    *slot = bottom + (u32::from(pc) + 12 - bottom_pc) % 12;
                }
                keys.sort_unstable();
                keys.into_iter()
                    .filter(|&key| key <= 127)
                    .map(|key| key as u8)
                    .collect()
            }
        }
    }
}

/// Why an event's text form was not understood.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error(
    "`{text}`: {reason} (an event is TOKEN[_OCTAVE][@WHEN][~HOLD][:VELOCITY], e.g. `C4@1/2~1:90` or `0.4.7_3@0~2`; times in beats on a 1/12-beat grid)"
)]
pub struct EventParseError {
    /// The text.
    pub text: String,
    /// What is wrong with it.
    pub reason: String,
}

impl Event {
    /// The velocity of an event typed without one.
    pub const DEFAULT_VELOCITY: u8 = 80;

    /// Parses the text form `TOKEN[_OCTAVE][@WHEN][~HOLD][:VELOCITY]`:
    /// the seed's token, the octave of a chord's lowest key (default 4),
    /// beats since the previous onset (default `step`, in twelfths), beats
    /// it sounds (default: its `when`, or `step` when that is 0) and its
    /// velocity (default 80). Times are whole numbers, decimals or
    /// fractions of beats on the 1/12-beat grid: `1`, `1/2`, `0.25`, `2/3`.
    /// A bare token is the seed's step.
    pub fn parse_with_step(text: &str, step: u32) -> Result<Self, EventParseError> {
        let fail = |reason: String| EventParseError {
            text: text.to_string(),
            reason,
        };
        let split = text.find(['_', '@', '~', ':']).unwrap_or(text.len());
        let what: Token = text[..split]
            .parse()
            .map_err(|e: crate::token::TokenParseError| fail(e.to_string()))?;
        let (mut octave, mut when, mut hold, mut velocity) = (None, None, None, None);
        let mut rest = &text[split..];
        while let Some(mark) = rest.chars().next() {
            let body = &rest[1..];
            let end = body.find(['_', '@', '~', ':']).unwrap_or(body.len());
            let value = &body[..end];
            rest = &body[end..];
            let slot_taken = || fail(format!("`{mark}` is given twice"));
            match mark {
                '_' => {
                    let o: i8 = value
                        .parse()
                        .ok()
                        .filter(|o| (-1..=9).contains(o))
                        .ok_or_else(|| fail(format!("octave `{value}` is not within -1..9")))?;
                    if octave.replace(o).is_some() {
                        return Err(slot_taken());
                    }
                }
                '@' | '~' => {
                    let twelfths = parse_beats(value).ok_or_else(|| {
                        fail(format!(
                            "`{value}` is not a time in beats on the 1/12-beat grid"
                        ))
                    })?;
                    let slot = if mark == '@' { &mut when } else { &mut hold };
                    if slot.replace(twelfths).is_some() {
                        return Err(slot_taken());
                    }
                }
                _ => {
                    let v: u8 = value
                        .parse()
                        .ok()
                        .filter(|v| (1..=127).contains(v))
                        .ok_or_else(|| fail(format!("velocity `{value}` is not within 1..127")))?;
                    if velocity.replace(v).is_some() {
                        return Err(slot_taken());
                    }
                }
            }
        }
        if octave.is_some() && matches!(what, Token::Note(_)) {
            return Err(fail(
                "a note's octave is in its name; `_` is for chords".into(),
            ));
        }
        let when = when.unwrap_or(step);
        let hold = hold.unwrap_or(if when > 0 { when } else { step });
        let lowest = match what {
            Token::Note(key) => key,
            Token::Chord(set) => {
                let first = set.normal_order().as_slice().first().copied().unwrap_or(0);
                classes::register_key(
                    usize::try_from(i16::from(octave.unwrap_or(4)) + 1).unwrap_or(0),
                    first,
                )
            }
        };
        Ok(Event {
            what,
            when,
            hold,
            velocity: velocity.unwrap_or(Self::DEFAULT_VELOCITY),
            lowest,
            releases: false,
        })
    }
}

/// Beats in twelfths: `1`, `1/2`, `0.25`, `2/3`; `None` off the grid.
fn parse_beats(text: &str) -> Option<u32> {
    let twelfths = match text.split_once('/') {
        Some((n, d)) => {
            let (n, d): (u32, u32) = (n.parse().ok()?, d.parse().ok()?);
            let scaled = n.checked_mul(GRID_PER_BEAT)?;
            if d == 0 || !scaled.is_multiple_of(d) {
                return None;
            }
            scaled / d
        }
        None => {
            let beats: f64 = text.parse().ok()?;
            let twelfths = beats * f64::from(GRID_PER_BEAT);
            if !(0.0..=1e6).contains(&twelfths) || (twelfths - twelfths.round()).abs() > 1e-6 {
                return None;
            }
            twelfths.round() as u32
        }
    };
    Some(twelfths)
}

/// Twelfths of a beat as the shortest fraction of beats: `1/2`, `1`, `3/4`.
fn format_beats(twelfths: u32) -> String {
    let g = gcd(twelfths, GRID_PER_BEAT);
    let (n, d) = (twelfths / g, GRID_PER_BEAT / g);
    if d == 1 {
        n.to_string()
    } else {
        format!("{n}/{d}")
    }
}

fn gcd(a: u32, b: u32) -> u32 {
    if b == 0 { a.max(1) } else { gcd(b, a % b) }
}

impl std::str::FromStr for Event {
    type Err = EventParseError;

    /// [`Event::parse_with_step`] with the seed's step of half a beat.
    fn from_str(text: &str) -> Result<Self, Self::Err> {
        Self::parse_with_step(text, GRID_PER_BEAT / 2)
    }
}

impl std::fmt::Display for Event {
    /// The text form, every field written: `C4@1/2~1:90`,
    /// `0.4.7_3@0~2:80`.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}", self.what)?;
        if let Token::Chord(_) = self.what {
            write!(f, "_{}", i16::from(self.lowest / 12) - 1)?;
        }
        write!(
            f,
            "@{}~{}:{}",
            format_beats(self.when),
            format_beats(self.hold),
            self.velocity
        )
    }
}

/// At most this many events in a row start together with the one before
/// (`when` 0): nearly every run of events played together in the corpus is
/// as short (BENCHMARKS.md, "Figures behind constants"). A longer run is a loop of the
/// model's, and a live performer could not have it ready on time (it
/// predicts [`crate::perform::SPECULATION`] events ahead).
pub const MAX_TOGETHER: usize = 7;

/// How many events at the end of a sequence started together with the one
/// before them, given each event's `when` (oldest first; the first event's
/// counts from before the sequence, so it never counts).
pub fn trailing_together(whens: impl DoubleEndedIterator<Item = usize>) -> usize {
    let mut together = 0;
    for when in whens.rev() {
        if when != 0 {
            return together;
        }
        together += 1;
    }
    together.saturating_sub(1)
}

/// The keys struck at the last onset of `events` (oldest first): the
/// last event's and those of the events before it that started with it,
/// as bits (bit `k`: key `k`). An event that joins that onset does not
/// strike one of them again ([`crate::duet::Steer::struck`]).
pub fn keys_at_last_onset(events: impl DoubleEndedIterator<Item = Event>) -> u128 {
    let mut keys = 0;
    for event in events.rev() {
        keys |= event.key_mask();
        if event.when != 0 {
            break;
        }
    }
    keys
}

/// The smallest `when` class the next event may have after `together`
/// events in a row that started with the one before them.
pub fn min_when_after(together: usize) -> usize {
    usize::from(together >= MAX_TOGETHER)
}

/// An event as the network's classes: what it reads and predicts.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub struct EventClasses {
    /// The token's vocabulary index.
    pub what: usize,
    /// [`classes::time_class`] of `when`.
    pub when: usize,
    /// [`classes::time_class`] of `hold` (predicted, never read: a live
    /// player's hold is unknown at the onset; class 0 where it is not
    /// known, see [`EventClasses::hold_known`]).
    pub hold: usize,
    /// [`classes::velocity_class`].
    pub velocity: usize,
    /// [`classes::register_class`] of the lowest key.
    pub register: usize,
}

impl EventClasses {
    /// Whether its hold is known ([`Event::known_hold`]).
    pub fn hold_known(&self) -> bool {
        self.hold != classes::time_class(0)
    }

    /// The classes of `event`; `None` if `vocab` lacks its token.
    pub fn of(event: &Event, vocab: &Vocab) -> Option<Self> {
        Some(Self::with_what(event, vocab.index_of(event.what)?))
    }

    /// The classes of `event`, its token given as vocabulary index `what`
    /// (the nearest token a vocabulary knows, for one it lacks).
    pub fn with_what(event: &Event, what: usize) -> Self {
        Self {
            what,
            when: classes::time_class(event.when),
            hold: classes::time_class(event.hold),
            velocity: classes::velocity_class(event.velocity),
            register: classes::register_class(event.lowest),
        }
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

    /// The class these fields hold for `head`.
    pub fn class(&self, head: crate::model::Head) -> usize {
        use crate::model::Head;
        match head {
            Head::When => self.when,
            Head::What => self.what,
            Head::Hold => self.hold,
            Head::Velocity => self.velocity,
            Head::Register => self.register,
        }
    }

    /// The event these classes play; `None` if `what` is outside `vocab`.
    /// A chord is voiced upwards from its normal order's first pitch class
    /// in the predicted octave.
    pub fn to_event(&self, vocab: &Vocab) -> Option<Event> {
        let what = vocab.token(self.what)?;
        Some(Event {
            what,
            when: classes::time_of_class(self.when),
            hold: classes::time_of_class(self.hold),
            velocity: classes::velocity_of_class(self.velocity),
            lowest: classes::lowest_key(what, self.register),
            releases: false,
        })
    }
}

/// The classes the network predicts for an event's fields, and the value
/// each class plays.
pub mod classes {
    use crate::token::Token;

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

    /// The lowest key of `token` voiced in register class `register`: a
    /// note's own key; a chord's [`register_key`] from its normal order's
    /// first pitch class.
    pub fn lowest_key(token: Token, register: usize) -> u8 {
        match token {
            Token::Note(key) => key,
            Token::Chord(set) => {
                let first = set.normal_order().as_slice().first().copied().unwrap_or(0);
                register_key(register, first)
            }
        }
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

    #[test]
    fn trailing_together_counts_the_events_on_the_last_onset_after_its_first() {
        assert_eq!(trailing_together([6, 0, 0].into_iter()), 2);
        assert_eq!(trailing_together([0, 3, 0].into_iter()), 1);
        assert_eq!(
            trailing_together([0, 0, 0].into_iter()),
            2,
            "the first counts from before"
        );
        assert_eq!(trailing_together([4].into_iter()), 0);
        assert_eq!(trailing_together(std::iter::empty()), 0);
    }

    #[test]
    fn the_keys_at_the_last_onset_are_those_struck_since_a_gap() {
        let at = |what: &str, lowest: u8, when: u32| Event {
            when,
            ..event(what, lowest)
        };
        let bit = |key: u8| 1u128 << key;
        let events = [
            at("C4", 60, 6),
            at("D4", 62, 6),
            at("0.4.7", 48, 0),
            at("G4", 67, 0),
        ];
        assert_eq!(
            keys_at_last_onset(events.into_iter()),
            bit(62) | bit(48) | bit(52) | bit(55) | bit(67)
        );
        assert_eq!(keys_at_last_onset(events[..1].iter().copied()), bit(60));
        assert_eq!(keys_at_last_onset(std::iter::empty()), 0);
    }

    fn event(what: &str, lowest: u8) -> Event {
        Event {
            what: what.parse().unwrap(),
            when: 0,
            hold: 6,
            velocity: 80,
            lowest,
            releases: false,
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
    fn the_text_form_round_trips_and_bare_tokens_are_the_seeds_step() {
        let bare: Event = "E4".parse().unwrap();
        assert_eq!(
            (bare.when, bare.hold, bare.velocity, bare.lowest),
            (6, 6, 80, 64)
        );
        let full: Event = "C4@1/3~1.5:96".parse().unwrap();
        assert_eq!((full.when, full.hold, full.velocity), (4, 18, 96));
        let chord: Event = "0.4.7_2@0".parse().unwrap();
        assert_eq!((chord.when, chord.hold, chord.lowest), (0, 6, 36));
        assert_eq!(chord.pitches().as_slice(), &[36, 40, 43]);
        for event in [bare, full, chord] {
            assert_eq!(
                event.to_string().parse::<Event>().unwrap(),
                event,
                "{event}"
            );
        }
        assert_eq!(full.to_string(), "C4@1/3~3/2:96");
        for bad in [
            "C4@1/5", "C4:0", "C4_3", "0.4.7_12", "C4@1@2", "X9", "C4~-1",
        ] {
            assert!(bad.parse::<Event>().is_err(), "{bad}");
        }
        assert_eq!(Event::parse_with_step("G4", 3).unwrap().when, 3);
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
