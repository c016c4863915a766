//! The tempo rule, written once for the plugin, the live host and
//! `generate`: the default tempo, the range of tempos Pianola plays at, the
//! sample-rate fallback and samples per beat.

use std::ops::RangeInclusive;

/// The tempo when nobody gives one, in beats (quarter notes) per minute.
pub const DEFAULT_BPM: f64 = 120.0;

/// The tempos Pianola plays at. A host's tempo outside it is clamped into
/// it; a tempo the user types outside it is refused.
pub const BPM_RANGE: RangeInclusive<f64> = 10.0..=1000.0;

/// The sample rate assumed when a host reports none (or nonsense).
pub const DEFAULT_SAMPLE_RATE: f64 = 48_000.0;

/// A tempo the user asked for is outside [`BPM_RANGE`] (or not a number).
#[derive(Debug, Clone, Copy, PartialEq, thiserror::Error)]
#[error("a tempo of {0} BPM is outside {min}..={max} BPM", min = BPM_RANGE.start(), max = BPM_RANGE.end())]
pub struct BpmOutOfRange(pub f64);

/// `bpm` if Pianola plays at it, else why not (for tempos users type).
pub fn checked_bpm(bpm: f64) -> Result<f64, BpmOutOfRange> {
    if BPM_RANGE.contains(&bpm) {
        Ok(bpm)
    } else {
        Err(BpmOutOfRange(bpm))
    }
}

/// The tempo to play at when a host reports `tempo`: the default when it
/// reports none or nonsense, clamped into [`BPM_RANGE`].
pub fn host_bpm(tempo: Option<f64>) -> f64 {
    tempo
        .filter(|t| t.is_finite() && *t > 0.0)
        .unwrap_or(DEFAULT_BPM)
        .clamp(*BPM_RANGE.start(), *BPM_RANGE.end())
}

/// The sample rate to count with when a host reports `sample_rate`.
pub fn host_sample_rate(sample_rate: f64) -> f64 {
    if sample_rate.is_finite() && sample_rate > 0.0 {
        sample_rate
    } else {
        DEFAULT_SAMPLE_RATE
    }
}

/// Samples per beat at `bpm` and `sample_rate`, both taken as a host's
/// ([`host_bpm`], [`host_sample_rate`]).
pub fn samples_per_beat(sample_rate: f64, bpm: f64) -> f64 {
    host_sample_rate(sample_rate) * 60.0 / host_bpm(Some(bpm))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_host_tempo_is_clamped_and_nonsense_falls_back() {
        assert_eq!(host_bpm(None), DEFAULT_BPM);
        assert_eq!(host_bpm(Some(f64::NAN)), DEFAULT_BPM);
        assert_eq!(host_bpm(Some(-3.0)), DEFAULT_BPM);
        assert_eq!(host_bpm(Some(1.0)), 10.0);
        assert_eq!(host_bpm(Some(5000.0)), 1000.0);
        assert_eq!(host_bpm(Some(97.5)), 97.5);
    }

    #[test]
    fn samples_per_beat_counts_a_beat_at_the_tempo() {
        assert_eq!(samples_per_beat(48_000.0, 120.0), 24_000.0);
        assert_eq!(samples_per_beat(44_100.0, 60.0), 44_100.0);
        assert_eq!(samples_per_beat(0.0, 120.0), 24_000.0);
    }

    #[test]
    fn typed_tempos_outside_the_range_are_refused_with_the_range() {
        assert_eq!(checked_bpm(140.0), Ok(140.0));
        let error = checked_bpm(2000.0).unwrap_err();
        assert_eq!(
            error.to_string(),
            "a tempo of 2000 BPM is outside 10..=1000 BPM"
        );
        assert!(checked_bpm(f64::NAN).is_err());
    }
}
