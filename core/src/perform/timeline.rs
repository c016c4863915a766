//! Where each block starts on the performer's beat timeline.
//!
//! While the transport plays and the host reports a beat position, the
//! performer follows the host's beats; otherwise a free-running clock at the
//! host tempo. Real hosts do not report exact positions, so the timeline
//! keeps its own running position and only trusts a reported one where it
//! says something the running position cannot know:
//!
//! - a position within [`ROUNDING_BEATS`] of the running one is rounding
//!   (hosts round to ticks, JACK to 1/1920 beat): the running position
//!   stands. Where the timeline started from a rounded position, the whole
//!   grid would sit off by that rounding; so the running position is
//!   corrected by the middle of the range the reported positions spread
//!   over around it (rounding errors spread evenly on both sides of the
//!   true position);
//! - a position equal to the previous block's, while the running position
//!   moved on, is a host that did not advance (a block split at incoming
//!   events, each piece handed the block's start; or a position stuck at 0
//!   while the transport rolls): the running position stands, which is the
//!   free-running clock at the host tempo;
//! - a position the host's sample position calls continuous (it advanced by
//!   exactly the previous block's length), or one within [`DRIFT_BEATS`],
//!   is drift (a tempo change inside a block, a rounded tempo): the host's
//!   position is taken, and the notes play on;
//! - anything else is a relocation (a loop, a seek): the notes end and the
//!   grid starts again from the host's position.

use super::Transport;

/// Differences from the running position up to this are the host's rounding.
pub const ROUNDING_BEATS: f64 = 1.0 / 480.0;

/// Differences up to this, with no sample position to tell, are drift.
pub const DRIFT_BEATS: f64 = 1.0 / 16.0;

/// How a block's start relates to the previous block's end.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Continuity {
    /// The same timeline goes on.
    Continues,
    /// The same timeline goes on from the host's position, which drifted a
    /// little from the running one.
    Drifted,
    /// A timeline starts with nothing before it to end (the transport
    /// started, or the host's positions came or went).
    Starts,
    /// The host relocated (loop, seek): what sounds ends, the grid restarts.
    Relocated,
}

/// Where a block starts.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct BlockStart {
    /// The beat at the block's first sample.
    pub beat: f64,
    /// How it follows the previous block.
    pub continuity: Continuity,
    /// Whether `beat` is the host's (its transport plays and reports a
    /// position), not the free-running clock's.
    pub follows_host: bool,
}

/// The performer's beat timeline.
#[derive(Clone, Debug, Default)]
pub struct Timeline {
    /// The running position at the next block's first sample, while the
    /// host's beats are followed.
    running: Option<f64>,
    /// The host's beat position at the previous block's start.
    last_host_beat: Option<f64>,
    /// The host's sample position at the previous block's start.
    last_host_sample: Option<i64>,
    /// The previous block's length.
    last_frames: u32,
    /// The free-running clock's beat at the next block's first sample.
    free_beat: f64,
    /// The least and greatest (reported − running) seen while the host's
    /// positions were rounding: their middle corrects the running position.
    rounding_spread: Option<(f64, f64)>,
}

impl Timeline {
    /// A timeline that has not started.
    pub fn new() -> Self {
        Self::default()
    }

    /// The transport stopped: the next block starts a new timeline, and the
    /// free-running clock starts again from beat 0.
    pub fn stop(&mut self) {
        *self = Self::default();
    }

    /// Where a block of `frames` with `transport` starts, and moves the
    /// timeline to its end.
    pub fn block(
        &mut self,
        transport: &Transport,
        frames: u32,
        samples_per_beat: f64,
    ) -> BlockStart {
        let block_beats = f64::from(frames) / samples_per_beat;
        let host_beat = transport
            .position_beats
            .filter(|b| transport.playing && b.is_finite());
        let Some(host_beat) = host_beat else {
            let continuity = if self.running.take().is_some() {
                Continuity::Starts
            } else {
                Continuity::Continues
            };
            self.last_host_beat = None;
            self.last_host_sample = None;
            let beat = self.free_beat;
            self.free_beat += block_beats;
            return BlockStart {
                beat,
                continuity,
                follows_host: false,
            };
        };
        let host_sample = transport.position_samples;
        // Where the host's sample position, counted at this tempo from the
        // song's start, agrees with its beat to within rounding (a tempo
        // that has not changed), it gives the exact beat the rounded one
        // stands for.
        let host_beat = match host_sample {
            Some(sample) => {
                let exact = sample as f64 / samples_per_beat;
                if (exact - host_beat).abs() <= ROUNDING_BEATS {
                    exact
                } else {
                    host_beat
                }
            }
            None => host_beat,
        };
        let (beat, continuity) = match self.running {
            None => (host_beat, Continuity::Starts),
            Some(running) => {
                let difference = (host_beat - running).abs();
                let host_stalled = self.last_host_beat == Some(host_beat);
                let samples_continue = match (self.last_host_sample, host_sample) {
                    (Some(last), Some(now)) => {
                        (now - last - i64::from(self.last_frames)).abs() <= 1
                    }
                    _ => false,
                };
                if host_stalled {
                    (running, Continuity::Continues)
                } else if difference <= ROUNDING_BEATS {
                    let offset = host_beat - running;
                    let (low, high) = self.rounding_spread.unwrap_or((offset, offset));
                    let (low, high) = (low.min(offset), high.max(offset));
                    // The correction moves the running position for good:
                    // the spread is kept around the corrected one.
                    let correction = (low + high) / 2.0;
                    self.rounding_spread = Some((low - correction, high - correction));
                    (running + correction, Continuity::Continues)
                } else if samples_continue || difference <= DRIFT_BEATS {
                    (host_beat, Continuity::Drifted)
                } else {
                    (host_beat, Continuity::Relocated)
                }
            }
        };
        if continuity != Continuity::Continues {
            self.rounding_spread = None;
        }
        self.running = Some(beat + block_beats);
        self.last_host_beat = Some(host_beat);
        self.last_host_sample = host_sample;
        self.last_frames = frames;
        BlockStart {
            beat,
            continuity,
            follows_host: true,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const SPB: f64 = 24_000.0;

    fn rolling(beat: f64) -> Transport {
        Transport {
            sample_rate: 48_000.0,
            tempo: Some(120.0),
            playing: true,
            position_beats: Some(beat),
            position_samples: None,
        }
    }

    /// Runs blocks of 256 with the host's beat passed through `report`;
    /// returns each block's start.
    fn run(blocks: usize, report: impl Fn(f64) -> f64) -> Vec<BlockStart> {
        let mut timeline = Timeline::new();
        (0..blocks)
            .map(|i| {
                let exact = i as f64 * 256.0 / SPB;
                timeline.block(&rolling(report(exact)), 256, SPB)
            })
            .collect()
    }

    #[test]
    fn tick_rounded_positions_are_one_timeline_at_the_exact_beat() {
        let starts = run(400, |beat| (beat * 1920.0).round() / 1920.0);
        assert_eq!(starts[0].continuity, Continuity::Starts);
        for (i, start) in starts.iter().enumerate().skip(1) {
            assert_eq!(start.continuity, Continuity::Continues, "block {i}");
            // Within half a tick at once, within half a sample once the
            // rounding has shown its spread.
            let off = (start.beat - i as f64 * 256.0 / SPB).abs() * SPB;
            assert!(
                off < if i < 40 { 6.25 } else { 0.5 },
                "block {i}: {off} samples off"
            );
        }
    }

    #[test]
    fn a_timeline_started_from_a_rounded_position_settles_on_the_exact_beat() {
        // The transport starts 528 samples before beat 0 (a host's latency
        // compensation): the first reported position is rounded to a tick.
        let start = -528.0 / SPB;
        let starts = run(400, |beat| ((start + beat) * 1920.0).round() / 1920.0);
        for (i, at) in starts.iter().enumerate().skip(40) {
            let exact = start + i as f64 * 256.0 / SPB;
            assert!(
                ((at.beat - exact) * SPB).abs() < 0.5,
                "block {i}: {} samples off",
                (at.beat - exact) * SPB
            );
        }
    }

    #[test]
    fn a_sample_position_that_agrees_gives_the_exact_beat_at_once() {
        let mut timeline = Timeline::new();
        let at = |sample: i64| Transport {
            position_samples: Some(sample),
            ..rolling((sample as f64 / SPB * 1920.0).round() / 1920.0)
        };
        let first = timeline.block(&at(-528), 256, SPB);
        assert_eq!(first.beat, -528.0 / SPB);
        let second = timeline.block(&at(-272), 256, SPB);
        assert_eq!(second.beat, -272.0 / SPB);
        // A tempo map that changed: the samples disagree, the beat counts.
        let mut timeline = Timeline::new();
        let moved = Transport {
            position_samples: Some(100_000),
            ..rolling(2.0)
        };
        assert_eq!(timeline.block(&moved, 256, SPB).beat, 2.0);
    }

    #[test]
    fn a_position_stuck_at_zero_runs_free_at_the_host_tempo() {
        let starts = run(100, |_| 0.0);
        assert!(
            starts[1..]
                .iter()
                .all(|s| s.continuity == Continuity::Continues)
        );
        assert!((starts[99].beat - 99.0 * 256.0 / SPB).abs() < 1e-9);
    }

    #[test]
    fn split_blocks_with_a_repeated_start_are_one_timeline() {
        let mut timeline = Timeline::new();
        let mut exact = 0.0;
        for block in 0..50 {
            let start = exact;
            for (piece, frames) in [100u32, 56, 100].into_iter().enumerate() {
                let at = timeline.block(&rolling(start), frames, SPB);
                assert!(
                    (at.beat - exact).abs() < 1e-9,
                    "block {block} piece {piece}"
                );
                assert_ne!(at.continuity, Continuity::Relocated);
                exact += f64::from(frames) / SPB;
            }
        }
    }

    #[test]
    fn a_loop_is_a_relocation_and_small_drift_is_not() {
        let mut timeline = Timeline::new();
        timeline.block(&rolling(3.9), 2400, SPB);
        let drift = timeline.block(&rolling(4.0 + 0.01), 2400, SPB);
        assert_eq!(drift.continuity, Continuity::Drifted);
        assert_eq!(drift.beat, 4.01);
        let looped = timeline.block(&rolling(0.0), 2400, SPB);
        assert_eq!(looped.continuity, Continuity::Relocated);
        assert_eq!(looped.beat, 0.0);
    }

    #[test]
    fn a_continuous_sample_position_makes_a_large_difference_drift() {
        let mut timeline = Timeline::new();
        let at = |beat, sample| Transport {
            position_samples: Some(sample),
            ..rolling(beat)
        };
        timeline.block(&at(0.0, 0), 2400, SPB);
        // The host's tempo changed inside the block: its beat is ahead.
        let after = timeline.block(&at(0.3, 2400), 2400, SPB);
        assert_eq!(after.continuity, Continuity::Drifted);
        assert_eq!(after.beat, 0.3);
        // A seek: the samples jump too.
        let seek = timeline.block(&at(8.0, 96_000), 2400, SPB);
        assert_eq!(seek.continuity, Continuity::Relocated);
    }

    #[test]
    fn the_free_clock_starts_again_after_a_stop() {
        let mut timeline = Timeline::new();
        let stopped = Transport {
            playing: false,
            ..rolling(0.0)
        };
        timeline.block(&stopped, 24_000, SPB);
        assert_eq!(timeline.block(&stopped, 256, SPB).beat, 1.0);
        timeline.stop();
        assert_eq!(timeline.block(&stopped, 256, SPB).beat, 0.0);
    }
}
