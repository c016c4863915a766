//! Musical keys: naming them, their scales, and finding the key a passage
//! is in (the Krumhansl–Schmuckler method: the pitch-class distribution is
//! correlated with a major and a minor key profile in all twelve
//! transpositions, and the best fit wins).

use std::fmt;

use crate::token::{PitchClassSet, Token};

/// Why a scale name was not understood.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("`{0}` is not a scale: write a root and a mode, e.g. `C major`, `F# minor`, `B- dorian`")]
pub struct ScaleError(pub String);

/// The pitch classes of a scale named like `C major`, `A minor`, `F#
/// dorian` (modes: major, minor, dorian, phrygian, lydian, mixolydian,
/// locrian, harmonic-minor, pentatonic, blues, chromatic).
pub fn parse_scale(name: &str) -> Result<PitchClassSet, ScaleError> {
    let bad = || ScaleError(name.to_string());
    let mut words = name.split_whitespace();
    let root = words.next().ok_or_else(bad)?;
    let mode = words.next().unwrap_or("major").to_ascii_lowercase();
    if words.next().is_some() {
        return Err(bad());
    }
    let root = match format!("{root}4").parse::<Token>() {
        Ok(Token::Note(pitch)) => pitch % 12,
        _ => return Err(bad()),
    };
    let steps: &[u8] = match mode.as_str() {
        "major" | "ionian" => &[0, 2, 4, 5, 7, 9, 11],
        "minor" | "aeolian" => &[0, 2, 3, 5, 7, 8, 10],
        "dorian" => &[0, 2, 3, 5, 7, 9, 10],
        "phrygian" => &[0, 1, 3, 5, 7, 8, 10],
        "lydian" => &[0, 2, 4, 6, 7, 9, 11],
        "mixolydian" => &[0, 2, 4, 5, 7, 9, 10],
        "locrian" => &[0, 1, 3, 5, 6, 8, 10],
        "harmonic-minor" => &[0, 2, 3, 5, 7, 8, 11],
        "pentatonic" => &[0, 2, 4, 7, 9],
        "blues" => &[0, 3, 5, 6, 7, 10],
        "chromatic" => &[0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11],
        _ => return Err(bad()),
    };
    PitchClassSet::from_pitches(steps.iter().map(|s| root + s)).ok_or_else(bad)
}

/// Whether every note of `token` lies in `scale`.
pub fn in_scale(token: Token, scale: PitchClassSet) -> bool {
    token.pitch_classes().mask() & !scale.mask() == 0
}

/// Krumhansl and Kessler's probe-tone ratings of the twelve pitch classes
/// in C major, from the tonic up.
const MAJOR_PROFILE: [f32; 12] = [
    6.35, 2.23, 3.48, 2.33, 4.38, 4.09, 2.52, 5.19, 2.39, 3.66, 2.29, 2.88,
];
/// The same in C minor.
const MINOR_PROFILE: [f32; 12] = [
    6.33, 2.68, 3.52, 5.38, 2.60, 3.53, 2.54, 4.75, 3.98, 2.69, 3.34, 3.17,
];

/// How the sampler keeps to a key: the one three-way choice every
/// interface offers (the plugin's Key, `--key` of `generate` and `live`).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum KeyMode {
    /// Any key: the model's own, with the key guide's soft pull only.
    #[default]
    Free,
    /// The player's key, estimated as they play (the live performer's).
    Follow,
    /// Only tokens whose notes all lie in this scale.
    Scale(PitchClassSet),
}

impl KeyMode {
    /// The scale it keeps to now, if any.
    pub fn scale(self) -> Option<PitchClassSet> {
        match self {
            KeyMode::Scale(scale) => Some(scale),
            KeyMode::Free | KeyMode::Follow => None,
        }
    }
}

/// A key (or none) that one thread publishes and others read, lock-free:
/// the key the performer's worker follows, as the live status line and
/// the plugin see it.
#[derive(Debug)]
pub struct KeyCell(std::sync::atomic::AtomicU8);

impl Default for KeyCell {
    fn default() -> Self {
        Self(std::sync::atomic::AtomicU8::new(u8::MAX))
    }
}

impl KeyCell {
    /// Publishes `key`.
    pub fn store(&self, key: Option<Key>) {
        let index = key.map_or(u8::MAX, Key::index);
        self.0.store(index, std::sync::atomic::Ordering::Relaxed);
    }

    /// The key last published.
    pub fn load(&self) -> Option<Key> {
        Key::from_index(self.0.load(std::sync::atomic::Ordering::Relaxed))
    }
}

/// A major or minor key.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct Key {
    /// The tonic's pitch class, 0 = C.
    pub tonic: u8,
    /// Minor (natural minor scale) or major.
    pub minor: bool,
}

impl Key {
    /// Every key: the twelve major keys, then the twelve minor ones.
    pub fn all() -> impl Iterator<Item = Key> {
        (0..24).map(|i| Key {
            tonic: i % 12,
            minor: i >= 12,
        })
    }

    /// The key's scale: major, or natural minor.
    pub fn scale(self) -> PitchClassSet {
        let steps: [u8; 7] = if self.minor {
            [0, 2, 3, 5, 7, 8, 10]
        } else {
            [0, 2, 4, 5, 7, 9, 11]
        };
        PitchClassSet::from_pitches(steps.iter().map(|s| self.tonic + s))
            .expect("seven pitch classes")
    }

    /// The key named like `A minor`, `E- major` or `F#` (major), as
    /// [`parse_scale`] reads it; `None` for other modes.
    pub fn parse(name: &str) -> Option<Key> {
        let scale = parse_scale(name).ok()?;
        Key::all().find(|key| key.scale() == scale && name_mode_matches(name, key.minor))
    }

    /// A compact index 0..24 (majors first), for atomics.
    pub fn index(self) -> u8 {
        self.tonic + if self.minor { 12 } else { 0 }
    }

    /// The key of [`Key::index`].
    pub fn from_index(index: u8) -> Option<Key> {
        (index < 24).then_some(Key {
            tonic: index % 12,
            minor: index >= 12,
        })
    }
}

/// Whether `name` names a minor key (`minor`, `aeolian`) exactly when
/// `minor` is set: a major key and its relative minor share one scale.
fn name_mode_matches(name: &str, minor: bool) -> bool {
    let mode = name
        .split_whitespace()
        .nth(1)
        .unwrap_or("major")
        .to_ascii_lowercase();
    match mode.as_str() {
        "minor" | "aeolian" => minor,
        "major" | "ionian" => !minor,
        _ => false,
    }
}

impl fmt::Display for Key {
    /// `C major`, `F# minor`, `B- major` (music21's spellings).
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        const NAMES: [&str; 12] = [
            "C", "C#", "D", "E-", "E", "F", "F#", "G", "G#", "A", "B-", "B",
        ];
        let mode = if self.minor { "minor" } else { "major" };
        write!(f, "{} {mode}", NAMES[usize::from(self.tonic % 12)])
    }
}

/// How many times each pitch class sounds in `tokens` (a chord counts each
/// of its pitch classes once).
pub fn pitch_class_counts<'a>(tokens: impl IntoIterator<Item = &'a Token>) -> [f32; 12] {
    let mut counts = [0.0; 12];
    for token in tokens {
        match *token {
            Token::Note(key) => counts[usize::from(key % 12)] += 1.0,
            Token::Chord(set) => {
                for pc in set.ascending().iter() {
                    counts[usize::from(pc)] += 1.0;
                }
            }
        }
    }
    counts
}

/// The key whose profile correlates best with `counts`; `None` when there
/// is nothing to go by (no notes, or every pitch class equally often).
pub fn estimate(counts: &[f32; 12]) -> Option<Key> {
    let mut best: Option<(f32, Key)> = None;
    for key in Key::all() {
        let profile = if key.minor {
            &MINOR_PROFILE
        } else {
            &MAJOR_PROFILE
        };
        let rotated: [f32; 12] =
            std::array::from_fn(|pc| profile[(pc + 12 - usize::from(key.tonic)) % 12]);
        let Some(r) = correlation(counts, &rotated) else {
            continue;
        };
        if best.is_none_or(|(b, _)| r > b) {
            best = Some((r, key));
        }
    }
    best.map(|(_, key)| key)
}

/// The share of the pitch-class `counts` that lies in the key they tell
/// ([`estimate`]); `None` when they tell none.
pub fn share_in_key(counts: &[f32; 12]) -> Option<f32> {
    let scale = estimate(counts)?.scale();
    Some(share_in_scale(counts, scale))
}

/// The share of the pitch-class `counts` that lies in `scale` (0 where
/// there are none).
pub fn share_in_scale(counts: &[f32; 12], scale: PitchClassSet) -> f32 {
    let total: f32 = counts.iter().sum();
    if total <= 0.0 {
        return 0.0;
    }
    let inside: f32 = (0..12u8)
        .filter(|&pc| scale.contains(pc))
        .map(|pc| counts[usize::from(pc)])
        .sum();
    inside / total
}

/// The entropy of the pitch-class `counts`' shares, in bits (0: one pitch
/// class; all twelve equally: 3.58).
pub fn pitch_class_entropy(counts: &[f32; 12]) -> f32 {
    let total: f32 = counts.iter().sum();
    counts
        .iter()
        .filter(|&&c| c > 0.0)
        .map(|&c| {
            let p = c / total;
            -p * p.log2()
        })
        .sum()
}

/// Pearson's correlation of `a` and `b`; `None` if either is constant.
fn correlation(a: &[f32; 12], b: &[f32; 12]) -> Option<f32> {
    let mean = |v: &[f32; 12]| v.iter().sum::<f32>() / 12.0;
    let (ma, mb) = (mean(a), mean(b));
    let (mut ab, mut aa, mut bb) = (0.0, 0.0, 0.0);
    for i in 0..12 {
        let (da, db) = (a[i] - ma, b[i] - mb);
        ab += da * db;
        aa += da * da;
        bb += db * db;
    }
    (aa > 0.0 && bb > 0.0).then(|| ab / (aa * bb).sqrt())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn scales_are_read_by_root_and_mode_and_hold_their_tokens() {
        let c_major = parse_scale("C major").unwrap();
        assert!(in_scale("E4".parse().unwrap(), c_major));
        assert!(in_scale("0.4.7".parse().unwrap(), c_major));
        assert!(!in_scale("F#4".parse().unwrap(), c_major));
        assert!(!in_scale("1.5".parse().unwrap(), c_major));
        assert_eq!(parse_scale("A minor").unwrap(), c_major);
        assert!(parse_scale("H major").is_err());
        assert!(parse_scale("C weird").is_err());
    }

    fn tokens(text: &str) -> Vec<Token> {
        text.split_whitespace()
            .map(|t| t.parse().unwrap())
            .collect()
    }

    #[test]
    fn scales_and_phrases_find_their_keys() {
        let cases = [
            ("C4 D4 E4 F4 G4 A4 B4 C5 G4 E4 C4", "C major"),
            ("A3 B3 C4 D4 E4 F4 G#4 A4 E4 C4 A3", "A minor"),
            ("D4 F#4 A4 D5 C#5 B4 A4 G4 F#4 E4 D4 0.2.6", "D major"),
            ("E-4 G4 B-4 E-5 B-4 G4 E-4 F4 D4 B-3 E-4", "E- major"),
            ("F#3 A3 C#4 F#4 E4 D4 C#4 B3 A3 F#3", "F# minor"),
        ];
        for (phrase, key) in cases {
            let found = estimate(&pitch_class_counts(&tokens(phrase))).unwrap();
            assert_eq!(found.to_string(), key, "{phrase}");
        }
    }

    #[test]
    fn nothing_to_go_by_is_no_key() {
        assert_eq!(estimate(&[0.0; 12]), None);
        assert_eq!(estimate(&[1.0; 12]), None);
    }

    #[test]
    fn keys_parse_print_and_index_round_trip() {
        for key in Key::all() {
            assert_eq!(Key::parse(&key.to_string()), Some(key));
            assert_eq!(Key::from_index(key.index()), Some(key));
        }
        assert_eq!(
            Key::parse("F#"),
            Some(Key {
                tonic: 6,
                minor: false
            })
        );
        assert_eq!(Key::parse("D dorian"), None);
        assert_eq!(Key::parse("H major"), None);
    }
}
