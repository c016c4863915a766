//! Where a block lies on the performer's beat line, and when *Model*
//! feel's next event is due: the one rule the performer plays by and its
//! displays show.

use crate::event::GRID_PER_BEAT;

/// Where the block being (or last) processed lies. Real-time safe to copy.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct BlockPosition {
    /// The absolute sample (since the performer was made) of the block's
    /// first sample.
    pub clock: u64,
    /// The beat at the block's first sample: the host's while its
    /// transport plays and reports a position, else the free-running
    /// clock's ([`super::Timeline`]).
    pub beat: f64,
    /// Samples per beat at the block's tempo.
    pub samples_per_beat: f64,
    /// Whether `beat` is the host's.
    pub follows_host: bool,
}

impl Default for BlockPosition {
    /// Before the first block: beat 0 at 120 BPM and 48 kHz.
    fn default() -> Self {
        Self {
            clock: 0,
            beat: 0.0,
            samples_per_beat: crate::tempo::samples_per_beat(48_000.0, 120.0),
            follows_host: false,
        }
    }
}

impl BlockPosition {
    /// The beat of the sample at `offset` in the block.
    pub fn beat_at(&self, offset: u32) -> f64 {
        self.beat + f64::from(offset) / self.samples_per_beat
    }

    /// The beat of absolute sample `sample` (at the block's tempo).
    pub fn beat_of(&self, sample: f64) -> f64 {
        self.beat + (sample - self.clock as f64) / self.samples_per_beat
    }

    /// The absolute sample (exact) of `beat` (at the block's tempo).
    pub fn sample_of(&self, beat: f64) -> f64 {
        self.clock as f64 + (beat - self.beat) * self.samples_per_beat
    }

    /// The exact absolute sample at which an event is due that starts
    /// `when` twelfths of a beat after the onset at sample `last`, and not
    /// before sample `from`.
    ///
    /// While the host's beats are followed, the gap counts from the grid
    /// position nearest the last onset (a player's onset falls anywhere;
    /// Pianola's own fall on the grid), and an event held back by `from`
    /// waits for the next grid position: every event lands on the host's
    /// 1/12-beat grid, where a DAW quantises. On the free-running clock the
    /// gap counts from the onset itself.
    pub fn due(&self, last: f64, when: u32, from: f64) -> f64 {
        let grid = f64::from(GRID_PER_BEAT);
        if self.follows_host {
            let after = (self.beat_of(last) * grid).round() + f64::from(when);
            let not_before = (self.beat_of(from) * grid - 1e-6).ceil();
            self.sample_of(after.max(not_before) / grid)
        } else {
            let gap = f64::from(when) * self.samples_per_beat / grid;
            (last + gap).max(from)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn host(beat: f64) -> BlockPosition {
        BlockPosition {
            clock: 48_000,
            beat,
            samples_per_beat: 24_000.0,
            follows_host: true,
        }
    }

    #[test]
    fn on_the_host_grid_a_gap_counts_from_the_nearest_grid_position() {
        // The block starts at beat 8.01 (240 samples past beat 8); the
        // player struck 100 samples into it, 340 samples past the grid
        // position of beat 8.
        let block = host(8.01);
        let due = block.due(48_100.0, 6, 0.0);
        assert!((block.beat_of(due) - 8.5).abs() < 1e-9);
    }

    #[test]
    fn on_the_host_grid_a_late_start_waits_for_the_next_grid_position() {
        let block = host(0.0);
        let from = 48_000.0 + 1_000.0; // 1/24 beat in
        let due = block.due(48_000.0, 0, from);
        assert!((block.beat_of(due) - 1.0 / 12.0).abs() < 1e-9);
        // On a grid position already, it stays there.
        assert!((block.due(48_000.0, 0, 50_000.0) - 50_000.0).abs() < 1e-6);
    }

    #[test]
    fn on_the_free_clock_a_gap_counts_from_the_onset() {
        let block = BlockPosition {
            follows_host: false,
            ..host(0.3)
        };
        assert_eq!(block.due(48_100.0, 6, 0.0), 48_100.0 + 12_000.0);
        assert_eq!(block.due(48_100.0, 0, 50_000.0), 50_000.0);
    }
}
