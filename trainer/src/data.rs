//! Songs → training and evaluation windows.

use pianola_core::event::{Event, EventClasses, classes};
use pianola_core::{Token, Vocab};
use rand::Rng;
use rand::seq::SliceRandom;

/// Vocabulary indices under transposition by up to ±`range` semitones: the
/// training data are transposed into every key a player might use.
#[derive(Clone, Debug)]
pub struct Transposer {
    range: i32,
    /// `table[(shift + range) * vocab + index]`, `u32::MAX` where the
    /// transposed token is not in the vocabulary.
    table: Vec<u32>,
    vocab_len: usize,
}

impl Transposer {
    /// The table for `vocab` and shifts `-range..=range`.
    pub fn new(vocab: &Vocab, range: i32) -> Self {
        let mut table = Vec::new();
        for shift in -range..=range {
            table.extend(vocab.tokens().iter().map(|t| {
                t.transposed(shift)
                    .and_then(|moved| vocab.index_of(moved))
                    .map_or(u32::MAX, |i| i as u32)
            }));
        }
        Self {
            range,
            table,
            vocab_len: vocab.len(),
        }
    }

    /// The largest shift.
    pub fn range(&self) -> i32 {
        self.range
    }

    /// `index` moved by `shift` semitones, if the vocabulary has it.
    pub fn map(&self, index: u32, shift: i32) -> Option<u32> {
        if shift.abs() > self.range {
            return None;
        }
        let row = (shift + self.range) as usize * self.vocab_len;
        Some(self.table[row + index as usize]).filter(|&i| i != u32::MAX)
    }
}

/// The vocabulary of `tokens` and of all their transpositions by up to
/// ±`range` semitones.
pub fn transposed_vocab(tokens: impl IntoIterator<Item = Token>, range: i32) -> Vocab {
    let base: Vec<Token> = tokens.into_iter().collect();
    Vocab::from_tokens(
        (-range..=range).flat_map(|shift| base.iter().filter_map(move |t| t.transposed(shift))),
    )
}

/// One event of a song as the trainer holds it: the token's vocabulary
/// index and the exact times, velocity and lowest key (so transposition
/// moves the register too).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Step {
    /// The token's vocabulary index.
    pub what: u32,
    /// Twelfths of a beat since the previous onset.
    pub when: u32,
    /// Twelfths of a beat it sounds.
    pub hold: u32,
    /// MIDI velocity.
    pub velocity: u8,
    /// Lowest MIDI key.
    pub lowest: u8,
}

impl Step {
    /// A bare token as a plain step: half a beat after the previous one,
    /// held as long, velocity 80, at middle C (token networks read `what`
    /// alone).
    pub fn token(what: u32) -> Self {
        Self {
            what,
            when: 6,
            hold: 6,
            velocity: 80,
            lowest: 60,
        }
    }

    /// The step's classes, as the networks read and predict them.
    pub fn classes(&self) -> EventClasses {
        EventClasses {
            what: self.what as usize,
            when: classes::time_class(self.when),
            hold: classes::time_class(self.hold),
            velocity: classes::velocity_class(self.velocity),
            register: classes::register_class(self.lowest),
        }
    }

    /// Moved by `shift` semitones; `None` where the token or the lowest key
    /// leaves the vocabulary or the keyboard.
    fn transposed(&self, transposer: &Transposer, shift: i32) -> Option<Self> {
        let lowest = u8::try_from(i32::from(self.lowest) + shift)
            .ok()
            .filter(|&k| k <= 127)?;
        Some(Self {
            what: transposer.map(self.what, shift)?,
            lowest,
            ..*self
        })
    }
}

/// A song's events as steps, and how many events were left out because the
/// vocabulary lacks their token (a resumed model on a changed corpus).
pub fn encode_song(events: &[Event], vocab: &Vocab) -> (Vec<Step>, usize) {
    let steps: Vec<Step> = events
        .iter()
        .filter_map(|e| {
            let what = vocab.index_of(e.what)? as u32;
            Some(Step {
                what,
                when: e.when,
                hold: e.hold,
                velocity: e.velocity,
                lowest: e.lowest,
            })
        })
        .collect();
    let missing = events.len() - steps.len();
    (steps, missing)
}

/// Which songs train and which are held out.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SongSplit {
    /// Indices of the training songs.
    pub train: Vec<usize>,
    /// Indices of the held-out songs.
    pub validation: Vec<usize>,
}

/// Splits `songs` songs by a seeded shuffle: `fraction` of them (rounded,
/// at least one when `fraction > 0` and there are two or more) are held out.
pub fn split_songs(songs: usize, fraction: f64, rng: &mut impl Rng) -> SongSplit {
    let mut order: Vec<usize> = (0..songs).collect();
    order.shuffle(rng);
    let mut held = (songs as f64 * fraction).round() as usize;
    if fraction > 0.0 && songs >= 2 {
        held = held.clamp(1, songs - 1);
    }
    let mut validation = order.split_off(songs - held.min(songs));
    validation.sort_unstable();
    order.sort_unstable();
    SongSplit {
        train: order,
        validation,
    }
}

/// A window: `steps + 1` tokens of song `song` from `start`, transposed by
/// `shift` semitones.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Window {
    /// Index of the song.
    pub song: usize,
    /// First token.
    pub start: usize,
    /// Transposition in semitones (0 for evaluation).
    pub shift: i32,
    /// Added to every velocity (0 for evaluation).
    pub louder: i32,
    /// Times (`when`, `hold`) doubled (`2`), halved (`-2`, where every
    /// time of the window is even) or kept (`1`; evaluation).
    pub pace: i32,
}

impl Window {
    /// A window of song `song` from `start`, as it is.
    pub fn plain(song: usize, start: usize) -> Self {
        Self {
            song,
            start,
            shift: 0,
            louder: 0,
            pace: 1,
        }
    }
}

/// The largest velocity change of a training window: the rhythm and
/// dynamics are augmented as the notes are transposed, or the network
/// recognises a training song by its rhythm and velocity, which
/// transposition leaves as they are, and learns it by heart.
const MAX_LOUDER: i32 = 24;

/// One epoch's training windows of `steps + 1` tokens from `songs`, every
/// `stride` tokens from a random offset below `stride` in each song, each
/// with a random shift within ±`max_shift`, in random order; with a shift
/// allowed, also with a random velocity change and, in a `pace_change`
/// share of them, at half or double pace (each as often as the other).
/// Songs shorter than a window give none.
pub fn training_windows<T>(
    songs: &[&[T]],
    steps: usize,
    stride: usize,
    max_shift: i32,
    pace_change: f64,
    rng: &mut impl Rng,
) -> Vec<Window> {
    let mut windows = Vec::new();
    for (song, tokens) in songs.iter().enumerate() {
        if tokens.len() < steps + 1 {
            continue;
        }
        let last_start = tokens.len() - (steps + 1);
        let offset = rng.random_range(0..stride.max(1)).min(last_start);
        for start in (offset..=last_start).step_by(stride.max(1)) {
            let shift = rng.random_range(-max_shift..=max_shift);
            let augment = max_shift > 0;
            let (louder, pace) = if augment {
                let louder = rng.random_range(-MAX_LOUDER..=MAX_LOUDER);
                let pace = if rng.random_bool(pace_change.clamp(0.0, 1.0)) {
                    [-2, 2][rng.random_range(0..2)]
                } else {
                    1
                };
                (louder, pace)
            } else {
                (0, 1)
            };
            windows.push(Window {
                song,
                start,
                shift,
                louder,
                pace,
            });
        }
    }
    windows.shuffle(rng);
    windows
}

/// Evaluation windows: every `stride` tokens from the start of each song.
pub fn evaluation_windows<T>(songs: &[&[T]], steps: usize, stride: usize) -> Vec<Window> {
    let mut windows = Vec::new();
    for (song, tokens) in songs.iter().enumerate() {
        if tokens.len() > steps {
            let last_start = tokens.len() - (steps + 1);
            windows.extend(
                (0..=last_start)
                    .step_by(stride.max(1))
                    .map(|start| Window::plain(song, start)),
            );
        }
    }
    windows
}

/// Fills `inputs` and `targets` (window after window) for `windows`. A
/// window whose transposition leaves the vocabulary is used untransposed.
pub fn fill_batch(
    songs: &[&[Step]],
    windows: &[Window],
    steps: usize,
    transposer: Option<&Transposer>,
    inputs: &mut Vec<Step>,
    targets: &mut Vec<Step>,
) {
    inputs.clear();
    targets.clear();
    for window in windows {
        let tokens = &songs[window.song][window.start..window.start + steps + 1];
        let start = inputs.len();
        let moved = transposer.filter(|_| window.shift != 0).and_then(|t| {
            let mut moved = Vec::with_capacity(tokens.len());
            for step in tokens {
                moved.push(step.transposed(t, window.shift)?);
            }
            Some(moved)
        });
        let tokens = moved.as_deref().unwrap_or(tokens);
        let halve = window.pace == -2 && tokens.iter().all(|s| s.when % 2 == 0 && s.hold % 2 == 0);
        let paced = |step: &Step| Step {
            when: match window.pace {
                2 => step.when * 2,
                -2 if halve => step.when / 2,
                _ => step.when,
            },
            hold: match window.pace {
                2 => step.hold * 2,
                -2 if halve => step.hold / 2,
                _ => step.hold,
            },
            velocity: (i32::from(step.velocity) + window.louder).clamp(1, 127) as u8,
            ..*step
        };
        inputs.extend(tokens[..steps].iter().map(paced));
        targets.extend(tokens[1..].iter().map(paced));
        debug_assert_eq!(inputs.len(), start + steps);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::SeedableRng;
    use rand_chacha::ChaCha8Rng;

    #[test]
    fn the_split_is_seeded_and_disjoint() {
        let a = split_songs(92, 0.1, &mut ChaCha8Rng::seed_from_u64(3));
        let b = split_songs(92, 0.1, &mut ChaCha8Rng::seed_from_u64(3));
        let c = split_songs(92, 0.1, &mut ChaCha8Rng::seed_from_u64(4));
        assert_eq!(a, b);
        assert_ne!(a, c);
        assert_eq!(a.validation.len(), 9);
        assert_eq!(a.train.len(), 83);
        assert!(a.validation.iter().all(|v| !a.train.contains(v)));
        assert_eq!(
            split_songs(3, 0.1, &mut ChaCha8Rng::seed_from_u64(0))
                .validation
                .len(),
            1
        );
    }

    #[test]
    fn transposed_windows_stay_in_the_vocabulary() {
        let tokens: Vec<Token> = ["C4", "E4", "0.4.7", "G9"]
            .iter()
            .map(|t| t.parse().unwrap())
            .collect();
        let vocab = transposed_vocab(tokens.iter().copied(), 2);
        // C4 ±2 (5 notes), E4 ±2 (5, D4 and D#4 shared with C4's), chords rotate (5), G9 and below (3).
        assert!(vocab.index_of("D4".parse().unwrap()).is_some());
        assert!(
            vocab
                .index_of("G#9".parse::<Token>().unwrap_or(Token::Note(0)))
                .is_none()
        );
        let transposer = Transposer::new(&vocab, 2);
        let c4 = vocab.index_of("C4".parse().unwrap()).unwrap() as u32;
        let d4 = vocab.index_of("D4".parse().unwrap()).unwrap() as u32;
        assert_eq!(transposer.map(c4, 2), Some(d4));
        assert_eq!(transposer.map(c4, 3), None);
        let g9 = vocab.index_of("G9".parse().unwrap()).unwrap() as u32;
        assert_eq!(transposer.map(g9, 1), None);

        let song: Vec<Step> = [c4, g9, c4].map(Step::token).to_vec();
        let songs: Vec<&[Step]> = vec![&song];
        let windows = [
            Window {
                shift: 2,
                ..Window::plain(0, 0)
            },
            Window {
                shift: -1,
                louder: 100,
                pace: 2,
                ..Window::plain(0, 0)
            },
        ];
        let (mut inputs, mut targets) = (Vec::new(), Vec::new());
        fill_batch(
            &songs,
            &windows,
            2,
            Some(&transposer),
            &mut inputs,
            &mut targets,
        );
        // G9 cannot go up: the first window stays as it is; the second moves down.
        assert_eq!(inputs[..2], [Step::token(c4), Step::token(g9)]);
        let b3 = vocab.index_of("B3".parse().unwrap()).unwrap() as u32;
        assert_eq!(inputs[2].what, b3);
        assert_eq!(inputs[2].lowest, 59, "the register moves with the token");
        assert_eq!(
            (inputs[2].when, inputs[2].hold, inputs[2].velocity),
            (12, 12, 127),
            "double pace, louder up to the top velocity"
        );
    }

    #[test]
    fn windows_stay_inside_their_songs() {
        let long: Vec<Step> = (0..250).map(Step::token).collect();
        let short: Vec<Step> = (0..50).map(Step::token).collect();
        let songs: Vec<&[Step]> = vec![&long, &short];
        let windows = training_windows(
            &songs,
            100,
            100,
            0,
            2.0 / 3.0,
            &mut ChaCha8Rng::seed_from_u64(1),
        );
        assert!(!windows.is_empty());
        assert!(windows.iter().all(|w| w.song == 0 && w.start + 101 <= 250));
        let eval = evaluation_windows(&songs, 100, 10);
        assert_eq!(eval.len(), 15);
        let (mut inputs, mut targets) = (Vec::new(), Vec::new());
        fill_batch(&songs, &eval[1..3], 100, None, &mut inputs, &mut targets);
        assert_eq!(inputs[0].what, 10);
        assert_eq!(targets[0].what, 11);
        assert_eq!(inputs[100].what, 20);
        assert_eq!(targets[199].what, 120);
    }

    #[test]
    fn the_pace_change_share_is_how_many_windows_change_pace() {
        let long: Vec<Step> = (0..20_000).map(Step::token).collect();
        let songs: Vec<&[Step]> = vec![&long];
        let paces = |pace_change| {
            let mut rng = ChaCha8Rng::seed_from_u64(2);
            let windows = training_windows(&songs, 20, 5, 6, pace_change, &mut rng);
            let share = |pace| {
                windows.iter().filter(|w| w.pace == pace).count() as f64 / windows.len() as f64
            };
            [share(-2), share(1), share(2)]
        };
        assert_eq!(paces(0.0), [0.0, 1.0, 0.0]);
        let [half, own, double] = paces(2.0 / 3.0);
        assert!((own - 1.0 / 3.0).abs() < 0.05, "{own}");
        assert!((half - double).abs() < 0.05, "{half} {double}");
        let [_, own, _] = paces(0.25);
        assert!((own - 0.75).abs() < 0.05, "{own}");
    }
}
