//! Songs → training and evaluation windows.

use rand::Rng;
use rand::seq::SliceRandom;

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

/// A window: `steps + 1` tokens of song `song` from `start`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Window {
    /// Index of the song.
    pub song: usize,
    /// First token.
    pub start: usize,
}

/// One epoch's training windows of `steps + 1` tokens from `songs`, every
/// `stride` tokens from a random offset below `stride` in each song, in
/// random order. Songs shorter than a window give none.
pub fn training_windows(
    songs: &[&[u32]],
    steps: usize,
    stride: usize,
    rng: &mut impl Rng,
) -> Vec<Window> {
    let mut windows = Vec::new();
    for (song, tokens) in songs.iter().enumerate() {
        if tokens.len() < steps + 1 {
            continue;
        }
        let last_start = tokens.len() - (steps + 1);
        let offset = rng.random_range(0..stride.max(1)).min(last_start);
        windows.extend(
            (offset..=last_start)
                .step_by(stride.max(1))
                .map(|start| Window { song, start }),
        );
    }
    windows.shuffle(rng);
    windows
}

/// Evaluation windows: every `stride` tokens from the start of each song.
pub fn evaluation_windows(songs: &[&[u32]], steps: usize, stride: usize) -> Vec<Window> {
    let mut windows = Vec::new();
    for (song, tokens) in songs.iter().enumerate() {
        if tokens.len() > steps {
            let last_start = tokens.len() - (steps + 1);
            windows.extend(
                (0..=last_start)
                    .step_by(stride.max(1))
                    .map(|start| Window { song, start }),
            );
        }
    }
    windows
}

/// Fills `inputs` and `targets` (window after window) for `windows`.
pub fn fill_batch(
    songs: &[&[u32]],
    windows: &[Window],
    steps: usize,
    inputs: &mut Vec<u32>,
    targets: &mut Vec<u32>,
) {
    inputs.clear();
    targets.clear();
    for window in windows {
        let tokens = &songs[window.song][window.start..window.start + steps + 1];
        inputs.extend_from_slice(&tokens[..steps]);
        targets.extend_from_slice(&tokens[1..]);
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
    fn windows_stay_inside_their_songs() {
        let long: Vec<u32> = (0..250).collect();
        let short: Vec<u32> = (0..50).collect();
        let songs: Vec<&[u32]> = vec![&long, &short];
        let windows = training_windows(&songs, 100, 100, &mut ChaCha8Rng::seed_from_u64(1));
        assert!(!windows.is_empty());
        assert!(windows.iter().all(|w| w.song == 0 && w.start + 101 <= 250));
        let eval = evaluation_windows(&songs, 100, 10);
        assert_eq!(eval.len(), 15);
        let (mut inputs, mut targets) = (Vec::new(), Vec::new());
        fill_batch(&songs, &eval[1..3], 100, &mut inputs, &mut targets);
        assert_eq!(inputs[0], 10);
        assert_eq!(targets[0], 11);
        assert_eq!(inputs[100], 20);
        assert_eq!(targets[199], 120);
    }
}
