//! The notes head's repeat prior: learned scores for each token by how
//! often it came in the context, and how often it came right after the
//! token just heard.
//!
//! Music repeats itself: three quarters of the notes of a piece came
//! somewhere in its last 100 events, and where a note comes back, what
//! followed it last time often follows again. A 256-unit LSTM trained on
//! 92 songs learns *which* tokens those songs repeat more readily than
//! *that* the music at hand repeats, and on music from elsewhere it
//! guesses from its own songs' habits. The repeat prior says it outright:
//! the notes head's score of a token is raised by a learned amount for how
//! many times it came in the context (the first row of [`TENSOR`]), and by
//! another for how many times it came right after the last token heard
//! (the second row), one amount per count bin ([`bin`]). Sixteen numbers,
//! the same for every token: what they learn on one corpus holds for any
//! music.
//!
//! The trainer and the [`crate::Predictor`] count the same way: over the
//! events since the LSTM state the prediction comes from started (in
//! training, the window up to the position; live, the staggered lane's
//! context).

/// How many count bins have a learned score (a count of 0 scores 0).
pub const BINS: usize = 8;

/// The tensor holding the scores, `[2, BINS]`: by times the token came in
/// the context, then by times it came right after the last token.
pub const TENSOR: &str = "repeat_bias";

/// The shape of [`TENSOR`].
pub const SHAPE: [usize; 2] = [2, BINS];

/// The fewest times for each bin with a score: 1, 2, 3, 4–5, 6–8, 9–13,
/// 14–20 and 21 or more times.
pub const FEWEST: [usize; BINS] = [1, 2, 3, 4, 6, 9, 14, 21];

/// The bin of `count` times: 0 for none (no score), else 1..=[`BINS`] by
/// [`FEWEST`].
pub fn bin(count: usize) -> usize {
    FEWEST.iter().take_while(|&&fewest| fewest <= count).count()
}

/// A fresh network's scores: 0.6 and 1.2 × ln(1 + the bin's fewest
/// times), the fit of a slope for each row to the built-in model's notes
/// on the corpus' held-out songs (BENCHMARKS.md, "The repeat prior"), so
/// training starts near where it ends rather than spending its first
/// minutes finding it.
pub fn initial_scores() -> [f32; 2 * BINS] {
    std::array::from_fn(|i| {
        let slope = if i < BINS { 0.6 } else { 1.2 };
        slope * (1.0 + FEWEST[i % BINS] as f32).ln()
    })
}

/// Calls `each(token, came, followed)` once for every token of `context`
/// (token indices, oldest first; the last is the token just heard) with
/// its bins: of the times it came in the context (1..=[`BINS`]) and of
/// the times it came right after the last token (0..=[`BINS`]). `came`
/// and `followed` are scratches of one zero per token (left zeroed). The
/// one rule the predictor and the trainer both count by.
///
/// # Panics
/// If a token index is outside the scratches.
pub fn for_each_bin(
    context: impl Iterator<Item = usize> + Clone,
    came: &mut [u16],
    followed: &mut [u16],
    mut each: impl FnMut(usize, usize, usize),
) {
    let Some(last) = context.clone().last() else {
        return;
    };
    let mut previous = None;
    for token in context.clone() {
        came[token] = came[token].saturating_add(1);
        if previous == Some(last) {
            followed[token] = followed[token].saturating_add(1);
        }
        previous = Some(token);
    }
    for token in context {
        let times = std::mem::take(&mut came[token]);
        if times > 0 {
            let after = std::mem::take(&mut followed[token]);
            each(token, bin(usize::from(times)), bin(usize::from(after)));
        }
    }
}

/// Adds the repeat prior to the notes head's `scores` for `context`
/// ([`for_each_bin`]); `bias` is [`TENSOR`] row after row.
///
/// # Panics
/// As [`for_each_bin`], or if `bias` holds fewer than `2 × BINS` scores.
pub fn add_prior(
    scores: &mut [f32],
    bias: &[f32],
    context: impl Iterator<Item = usize> + Clone,
    came: &mut [u16],
    followed: &mut [u16],
) {
    for_each_bin(context, came, followed, |token, times, after| {
        scores[token] += bias[times - 1];
        if after > 0 {
            scores[token] += bias[BINS + after - 1];
        }
    });
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bins_cover_every_count_in_order() {
        assert_eq!(bin(0), 0);
        let bins: Vec<usize> = (1..200).map(bin).collect();
        assert!(bins.windows(2).all(|w| w[0] <= w[1] && w[1] - w[0] <= 1));
        assert_eq!((bins[0], *bins.last().unwrap()), (1, BINS));
        assert_eq!((bin(5), bin(6), bin(20), bin(21)), (4, 5, 7, 8));
    }

    #[test]
    fn each_token_is_raised_by_its_counts_and_the_scratches_are_left_clear() {
        // Came: 1 to 8 for bins 1 to 8; followed: 10 to 80.
        let bias: Vec<f32> = (1..=2 * BINS)
            .map(|i| {
                if i <= BINS {
                    i as f32
                } else {
                    (10 * (i - BINS)) as f32
                }
            })
            .collect();
        let mut scores = [0.0f32; 5];
        let (mut came, mut followed) = ([0u16; 5], [0u16; 5]);
        // The last token heard is 3; 3 was followed by 1 once and by 4 once.
        let context = [1, 3, 1, 1, 3, 4, 3];
        add_prior(
            &mut scores,
            &bias,
            context.into_iter(),
            &mut came,
            &mut followed,
        );
        assert_eq!(scores, [0.0, 3.0 + 10.0, 0.0, 3.0, 1.0 + 10.0]);
        assert_eq!((came, followed), ([0; 5], [0; 5]));
    }
}
