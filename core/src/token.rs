//! The token language: one token per onset, a note or a chord.
//!
//! The text form is exactly what the seed project (Classical-Piano-Composer)
//! wrote with music21, so a vocabulary built by Pianola reads like the seed's:
//!
//! - a single note is music21's default spelling of its MIDI pitch plus the
//!   octave: `C4` is MIDI 60, `F#4`, `B-3`, `E-5` (sharps for C#, F#, G#,
//!   flats for E- and B-);
//! - two or more notes starting together are a chord: the pitch classes in
//!   music21's `normalOrder`, joined by dots (`4.9`, `9.0.4`). A chord whose
//!   notes all share one pitch class is a bare number (`4`).
//!
//! Octave -1 (MIDI 0–11) makes two spellings ambiguous, exactly as in
//! music21: `E-1` is both E in octave -1 (MIDI 4) and E-flat in octave 1
//! (MIDI 27), likewise `B-1`. Parsing reads them as the flats; no piano key
//! lies in octave -1.

use std::fmt;
use std::str::FromStr;

/// music21's default spelling of the twelve pitch classes.
const PITCH_NAMES: [&str; 12] = [
    "C", "C#", "D", "E-", "E", "F", "F#", "G", "G#", "A", "B-", "B",
];

/// The octave the seed voices chord tokens in (`note.Note(int(pc))` is octave 4).
pub const SEED_CHORD_OCTAVE: i8 = 4;

/// A non-empty set of pitch classes (0 = C … 11 = B).
#[derive(Clone, Copy, PartialEq, Eq, Hash, Debug)]
pub struct PitchClassSet(u16);

impl PitchClassSet {
    /// The set whose pitch class `pc` is present when bit `pc` of `mask` is
    /// set. `None` for an empty mask or bits above 11.
    pub fn from_mask(mask: u16) -> Option<Self> {
        (mask != 0 && mask < 1 << 12).then_some(Self(mask))
    }

    /// The pitch classes of some MIDI pitches; `None` when there are none.
    pub fn from_pitches(pitches: impl IntoIterator<Item = u8>) -> Option<Self> {
        let mask = pitches
            .into_iter()
            .fold(0u16, |mask, pitch| mask | 1 << (pitch % 12));
        Self::from_mask(mask)
    }

    /// The set as a 12-bit mask (bit `pc` set when `pc` is present).
    pub fn mask(self) -> u16 {
        self.0
    }

    /// How many pitch classes the set holds (1..=12).
    pub fn len(self) -> usize {
        self.0.count_ones() as usize
    }

    /// Always false: a `PitchClassSet` is never empty.
    pub fn is_empty(self) -> bool {
        false
    }

    /// Whether pitch class `pc` is in the set.
    pub fn contains(self, pc: u8) -> bool {
        pc < 12 && self.0 & (1 << pc) != 0
    }

    /// The pitch classes in ascending order.
    pub fn ascending(self) -> PitchClasses {
        let mut out = PitchClasses::default();
        for pc in 0..12 {
            if self.contains(pc) {
                out.push(pc);
            }
        }
        out
    }

    /// The pitch classes in music21's `normalOrder`.
    ///
    /// music21 looks the set class up in Forte's tables and transposes the
    /// stored form onto the set: the Forte prime form when the set is a
    /// transposition of it, otherwise the prime form's mirror (its intervals
    /// reversed). Of several matching transpositions (symmetric sets such as
    /// `0.4.8`) the one starting on the lowest pitch class wins.
    pub fn normal_order(self) -> PitchClasses {
        if self.len() == 1 {
            return self.ascending();
        }
        let prime = forte_prime_form(self);
        let mirror = reversed_intervals(&prime);
        for form in [prime, mirror] {
            for t in 0..12 {
                let moved = PitchClassSet::from_pitches(form.iter().map(|pc| pc + t));
                if moved == Some(self) {
                    return form.iter().map(|pc| (pc + t) % 12).collect();
                }
            }
        }
        unreachable!("a set is always a transposition of its prime form or of its mirror")
    }

    fn inverted(self) -> Self {
        PitchClassSet::from_pitches(self.ascending().iter().map(|pc| (12 - pc) % 12))
            .expect("inversion keeps the set non-empty")
    }
}

/// Up to twelve pitch classes (or MIDI pitches) in a fixed order, without
/// allocating.
#[derive(Clone, Copy, PartialEq, Eq, Default, Debug)]
pub struct PitchClasses {
    items: [u8; 12],
    len: u8,
}

impl PitchClasses {
    fn push(&mut self, value: u8) {
        self.items[self.len as usize] = value;
        self.len += 1;
    }

    /// The values in order.
    pub fn as_slice(&self) -> &[u8] {
        &self.items[..self.len as usize]
    }

    /// Iterates the values in order.
    pub fn iter(&self) -> impl Iterator<Item = u8> + '_ {
        self.as_slice().iter().copied()
    }
}

impl FromIterator<u8> for PitchClasses {
    fn from_iter<I: IntoIterator<Item = u8>>(iter: I) -> Self {
        let mut out = Self::default();
        for value in iter {
            out.push(value);
        }
        out
    }
}

/// The rotation of `set` that Forte's normal form picks: the smallest span
/// from first to last, then the smallest intervals from the first to the
/// second, third, … element; remaining ties go to the lowest first element.
fn forte_normal_form(set: PitchClassSet) -> PitchClasses {
    let pcs = set.ascending();
    let n = pcs.as_slice().len();
    let rotation = |start: usize| -> PitchClasses {
        (0..n).map(|k| pcs.as_slice()[(start + k) % n]).collect()
    };
    let key = |r: &PitchClasses| -> PitchClasses {
        let s = r.as_slice();
        let up = |k: usize| (s[k] + 12 - s[0]) % 12;
        std::iter::once(up(n - 1))
            .chain((1..n - 1).map(up))
            .collect()
    };
    let mut best = rotation(0);
    for start in 1..n {
        let candidate = rotation(start);
        if key(&candidate).as_slice() < key(&best).as_slice() {
            best = candidate;
        }
    }
    best
}

/// Forte's prime form: the more packed of the normal forms of the set and of
/// its inversion, transposed to start on 0.
fn forte_prime_form(set: PitchClassSet) -> PitchClasses {
    let from_zero = |r: PitchClasses| -> PitchClasses {
        let first = r.as_slice()[0];
        r.iter().map(|pc| (pc + 12 - first) % 12).collect()
    };
    let a = from_zero(forte_normal_form(set));
    let b = from_zero(forte_normal_form(set.inverted()));
    let packing = |r: &PitchClasses| {
        let s = r.as_slice();
        let n = s.len();
        std::iter::once(s[n - 1])
            .chain(s[1..n - 1].iter().copied())
            .collect::<PitchClasses>()
    };
    if packing(&b).as_slice() < packing(&a).as_slice() {
        b
    } else {
        a
    }
}

/// The form with the same intervals as `form` in reverse order, from 0.
fn reversed_intervals(form: &PitchClasses) -> PitchClasses {
    let s = form.as_slice();
    let mut out = PitchClasses::default();
    out.push(0);
    for k in (1..s.len()).rev() {
        let last = out.as_slice()[out.as_slice().len() - 1];
        out.push(last + s[k] - s[k - 1]);
    }
    out
}

/// One step of music: a single note or a chord.
#[derive(Clone, Copy, PartialEq, Eq, Hash, Debug)]
pub enum Token {
    /// A single note, by MIDI pitch (0..=127).
    Note(u8),
    /// Two or more notes that start together, kept as their pitch classes.
    Chord(PitchClassSet),
}

impl Token {
    /// The token for notes that start together: a `Note` for one pitch, a
    /// `Chord` for two or more (even when they share a pitch class, as
    /// music21 does). `None` when `pitches` is empty.
    pub fn from_onset(pitches: &[u8]) -> Option<Self> {
        match pitches {
            [] => None,
            [pitch] => Some(Token::Note(*pitch)),
            _ => PitchClassSet::from_pitches(pitches.iter().copied()).map(Token::Chord),
        }
    }

    /// The pitch classes the token strikes: a note's own, a chord's set.
    pub fn pitch_classes(self) -> PitchClassSet {
        match self {
            Token::Note(pitch) => PitchClassSet(1 << (pitch % 12)),
            Token::Chord(set) => set,
        }
    }

    /// The MIDI pitches this token plays. A note plays its pitch; a chord
    /// plays its pitch classes in normal order, voiced in `chord_octave`
    /// (the seed uses octave 4, [`SEED_CHORD_OCTAVE`]). A chord of one pitch
    /// class (it came from octave doublings) plays that pitch class in
    /// `chord_octave` and the octave above, so it still sounds, and reads
    /// back, as a chord. Pitches outside 0..=127 are left out.
    pub fn pitches(self, chord_octave: i8) -> PitchClasses {
        let base = (i16::from(chord_octave) + 1) * 12;
        let in_range = |pitch: &i16| (0..=127).contains(pitch);
        match self {
            Token::Note(pitch) => std::iter::once(pitch).collect(),
            Token::Chord(set) if set.len() == 1 => {
                let pc = i16::from(set.ascending().as_slice()[0]);
                [base + pc, base + pc + 12]
                    .into_iter()
                    .filter(in_range)
                    .map(|pitch| pitch as u8)
                    .collect()
            }
            Token::Chord(set) => set
                .normal_order()
                .iter()
                .map(|pc| base + i16::from(pc))
                .filter(in_range)
                .map(|pitch| pitch as u8)
                .collect(),
        }
    }
}

impl Token {
    /// The token as one non-zero number (a note's pitch, or a chord's mask,
    /// each tagged), for atomics that hand tokens between threads.
    pub fn code(self) -> u32 {
        match self {
            Token::Note(pitch) => 0x1_0000 | u32::from(pitch),
            Token::Chord(set) => 0x2_0000 | u32::from(set.mask()),
        }
    }

    /// The token of [`Token::code`]; `None` for 0 or a number that is no
    /// token's.
    pub fn from_code(code: u32) -> Option<Token> {
        match code >> 16 {
            1 => Some(Token::Note((code & 0x7F) as u8)),
            2 => PitchClassSet::from_mask((code & 0xFFFF) as u16).map(Token::Chord),
            _ => None,
        }
    }

    /// The token moved by `semitones` (a chord's pitch classes rotate);
    /// `None` when a note would leave MIDI's 0..=127.
    pub fn transposed(self, semitones: i32) -> Option<Token> {
        match self {
            Token::Note(pitch) => u8::try_from(i32::from(pitch) + semitones)
                .ok()
                .filter(|p| *p <= 127)
                .map(Token::Note),
            Token::Chord(set) => {
                let shift = semitones.rem_euclid(12) as u8;
                PitchClassSet::from_pitches(set.ascending().iter().map(|pc| pc + shift))
                    .map(Token::Chord)
            }
        }
    }
}

impl fmt::Display for Token {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match *self {
            Token::Note(pitch) => {
                let octave = i32::from(pitch / 12) - 1;
                write!(f, "{}{}", PITCH_NAMES[usize::from(pitch % 12)], octave)
            }
            Token::Chord(set) => {
                for (i, pc) in set.normal_order().iter().enumerate() {
                    if i > 0 {
                        f.write_str(".")?;
                    }
                    write!(f, "{pc}")?;
                }
                Ok(())
            }
        }
    }
}

/// Why a text is not a token.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TokenParseError {
    /// The text is empty.
    #[error("empty token")]
    Empty,
    /// A note name that is not one of music21's default spellings.
    #[error("`{0}` is not a note: expected a name C C# D E- E F F# G G# A B- B and an octave")]
    BadNote(String),
    /// A note outside MIDI's 0..=127.
    #[error("`{0}` is outside the MIDI range C-1..G9")]
    OutOfRange(String),
    /// A chord part that is not a pitch class 0..=11, or repeats one.
    #[error("`{0}` is not a chord: expected distinct pitch classes 0..11 joined by dots")]
    BadChord(String),
}

impl FromStr for Token {
    type Err = TokenParseError;

    /// Parses the text form. Chords may list their pitch classes in any
    /// order; [`Token`]'s `Display` writes the normal order.
    fn from_str(text: &str) -> Result<Self, Self::Err> {
        let first = text.chars().next().ok_or(TokenParseError::Empty)?;
        if first.is_ascii_digit() {
            parse_chord(text)
        } else {
            parse_note(text)
        }
    }
}

fn parse_note(text: &str) -> Result<Token, TokenParseError> {
    let bad = || TokenParseError::BadNote(text.to_string());
    // The longest matching name wins, so `E-1` is E-flat in octave 1.
    let (pc, name) = PITCH_NAMES
        .iter()
        .enumerate()
        .filter(|(_, name)| text.starts_with(*name))
        .max_by_key(|(_, name)| name.len())
        .ok_or_else(bad)?;
    let octave_text = &text[name.len()..];
    let digits = octave_text.strip_prefix('-').unwrap_or(octave_text);
    if digits.is_empty() || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return Err(bad());
    }
    let octave: i32 = octave_text.parse().map_err(|_| bad())?;
    let pitch = (octave + 1) * 12 + pc as i32;
    u8::try_from(pitch)
        .ok()
        .filter(|pitch| *pitch <= 127)
        .map(Token::Note)
        .ok_or_else(|| TokenParseError::OutOfRange(text.to_string()))
}

fn parse_chord(text: &str) -> Result<Token, TokenParseError> {
    let bad = || TokenParseError::BadChord(text.to_string());
    let mut mask = 0u16;
    for part in text.split('.') {
        if part.is_empty() || part.len() > 2 || !part.bytes().all(|b| b.is_ascii_digit()) {
            return Err(bad());
        }
        let pc: u16 = part.parse().map_err(|_| bad())?;
        if pc > 11 || mask & (1 << pc) != 0 {
            return Err(bad());
        }
        mask |= 1 << pc;
    }
    PitchClassSet::from_mask(mask)
        .map(Token::Chord)
        .ok_or_else(bad)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn chord(pcs: &[u8]) -> Token {
        Token::Chord(PitchClassSet::from_pitches(pcs.iter().copied()).unwrap())
    }

    #[test]
    fn notes_use_music21_spelling() {
        assert_eq!(Token::Note(60).to_string(), "C4");
        assert_eq!(Token::Note(66).to_string(), "F#4");
        assert_eq!(Token::Note(58).to_string(), "B-3");
        assert_eq!(Token::Note(75).to_string(), "E-5");
        assert_eq!(Token::Note(21).to_string(), "A0");
        assert_eq!(Token::Note(127).to_string(), "G9");
        assert_eq!(Token::Note(0).to_string(), "C-1");
    }

    #[test]
    fn every_note_round_trips_except_the_two_octave_minus_one_clashes() {
        for pitch in 0..=127u8 {
            let text = Token::Note(pitch).to_string();
            let back: Token = text.parse().unwrap();
            match pitch {
                4 => assert_eq!(back, Token::Note(27), "E-1 reads as E-flat 1"),
                11 => assert_eq!(back, Token::Note(34), "B-1 reads as B-flat 1"),
                _ => assert_eq!(back, Token::Note(pitch), "{text}"),
            }
        }
    }

    #[test]
    fn chords_use_normal_order() {
        assert_eq!(chord(&[0, 4, 9]).to_string(), "9.0.4");
        assert_eq!(chord(&[4, 9]).to_string(), "4.9");
        assert_eq!(chord(&[0, 4, 7]).to_string(), "0.4.7");
        assert_eq!(chord(&[10, 2, 5]).to_string(), "10.2.5");
        assert_eq!(chord(&[4]).to_string(), "4");
    }

    #[test]
    fn symmetric_chords_start_on_the_lowest_pitch_class() {
        assert_eq!(chord(&[0, 4, 8]).to_string(), "0.4.8");
        assert_eq!(chord(&[1, 5, 9]).to_string(), "1.5.9");
        assert_eq!(chord(&[0, 3, 6, 9]).to_string(), "0.3.6.9");
        assert_eq!(chord(&[2, 5, 8, 11]).to_string(), "2.5.8.11");
        assert_eq!(chord(&[0, 6]).to_string(), "0.6");
        assert_eq!(chord(&[3, 9]).to_string(), "3.9");
    }

    #[test]
    fn two_note_chords_take_the_smaller_interval() {
        assert_eq!(chord(&[0, 7]).to_string(), "7.0");
        assert_eq!(chord(&[0, 5]).to_string(), "0.5");
        assert_eq!(chord(&[0, 11]).to_string(), "11.0");
        assert_eq!(chord(&[0, 1]).to_string(), "0.1");
    }

    #[test]
    fn inverted_set_classes_use_the_mirrored_prime_form() {
        // Forte 4-19 is (0,1,4,8); its inversion is stored as (0,4,7,8).
        assert_eq!(chord(&[0, 3, 4, 8]).to_string(), "8.0.3.4");
    }

    #[test]
    fn chord_text_parses_in_any_order() {
        assert_eq!("0.4.9".parse::<Token>().unwrap(), chord(&[0, 4, 9]));
        assert_eq!("9.0.4".parse::<Token>().unwrap(), chord(&[0, 4, 9]));
    }

    #[test]
    fn bad_text_is_refused() {
        for text in [
            "", "H4", "C", "C#", "Db4", "C4x", "C-", "E--", "0..4", "12", "4.4", "1.", ".1",
            "C#99", "G#9", "-1", "001",
        ] {
            assert!(text.parse::<Token>().is_err(), "{text:?} should be refused");
        }
    }

    #[test]
    fn chords_play_in_octave_four_in_normal_order() {
        assert_eq!(chord(&[0, 4, 9]).pitches(4).as_slice(), &[69, 60, 64]);
        assert_eq!(Token::Note(50).pitches(4).as_slice(), &[50]);
        assert_eq!(chord(&[0, 4, 9]).pitches(2).as_slice(), &[45, 36, 40]);
        assert_eq!(chord(&[4]).pitches(4).as_slice(), &[64, 76]);
    }

    #[test]
    fn transposing_moves_notes_and_rotates_chords() {
        assert_eq!(Token::Note(60).transposed(-3), Some(Token::Note(57)));
        assert_eq!(Token::Note(126).transposed(2), None);
        assert_eq!(Token::Note(1).transposed(-2), None);
        assert_eq!(chord(&[0, 4, 7]).transposed(5), Some(chord(&[5, 9, 0])));
        assert_eq!(chord(&[11, 2]).transposed(-13), Some(chord(&[10, 1])));
    }

    #[test]
    fn onsets_become_notes_or_chords() {
        assert_eq!(Token::from_onset(&[]), None);
        assert_eq!(Token::from_onset(&[61]), Some(Token::Note(61)));
        assert_eq!(Token::from_onset(&[60, 72]), Some(chord(&[0])));
        assert_eq!(Token::from_onset(&[60, 72]).unwrap().to_string(), "0");
    }
}
