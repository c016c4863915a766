//! The live host's transport: its own tempo, or an external MIDI clock
//! (24 ticks per quarter note, start/stop/continue) followed block by block.
//!
//! The beat position handed to the performer always advances by exactly
//! one block at the tempo handed with it, so the performer never sees a
//! jump it did not get; following a clock bends the tempo a little
//! (at most [`MAX_BEND`]) to pull the position onto the ticks, and only an
//! error of more than a quarter beat (a start, or a clock that jumped)
//! moves the position at once.

use pianola_core::perform::Transport;
use pianola_core::tempo::{BPM_RANGE, samples_per_beat};

/// MIDI clock ticks per quarter note.
pub const TICKS_PER_BEAT: u32 = 24;
/// The most the tempo is bent to catch up with the ticks (a share).
pub const MAX_BEND: f64 = 0.1;
/// Ticks averaged for the tempo estimate (one beat).
const TEMPO_WINDOW: usize = TICKS_PER_BEAT as usize;

/// Where the beat comes from.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum ClockSource {
    /// Pianola's own tempo, in BPM.
    Own(f64),
    /// An external MIDI clock; the tempo until it has ticked.
    Midi(f64),
}

/// The transport for each block.
pub struct Clock {
    source: ClockSource,
    sample_rate: f64,
    /// Samples processed so far.
    frame: u64,
    /// The beat at the next block's start, as the performer was told.
    beat: f64,
    /// Whether the external clock runs (always true on the own clock).
    running: bool,
    /// The tempo estimate from the ticks.
    estimate: f64,
    /// Ticks since the last start.
    ticks: u64,
    /// The frames of the last ticks (a ring).
    tick_frames: [u64; TEMPO_WINDOW + 1],
    tick_count: usize,
    /// The tempo handed to the performer in the last block.
    last_tempo: f64,
}

impl Clock {
    /// A clock at `sample_rate`.
    pub fn new(source: ClockSource, sample_rate: f64) -> Self {
        let (tempo, running) = match source {
            ClockSource::Own(bpm) => (bpm, true),
            ClockSource::Midi(bpm) => (bpm, false),
        };
        Self {
            source,
            sample_rate,
            frame: 0,
            beat: 0.0,
            running,
            estimate: tempo,
            ticks: 0,
            tick_frames: [0; TEMPO_WINDOW + 1],
            tick_count: 0,
            last_tempo: tempo,
        }
    }

    /// Whether an external clock drives the beat.
    pub fn follows_midi(&self) -> bool {
        matches!(self.source, ClockSource::Midi(_))
    }

    /// The tempo now, in BPM.
    pub fn tempo(&self) -> f64 {
        self.last_tempo
    }

    /// Whether the beat runs (the external clock was started).
    pub fn running(&self) -> bool {
        self.running
    }

    /// A MIDI clock tick at `offset` in the coming block.
    pub fn tick(&mut self, offset: u32) {
        if !self.follows_midi() {
            return;
        }
        let at = self.frame + u64::from(offset);
        self.ticks += 1;
        let slot = self.tick_count % self.tick_frames.len();
        self.tick_frames[slot] = at;
        self.tick_count += 1;
        let span = self.tick_count.min(self.tick_frames.len());
        if span >= 2 {
            let oldest = self.tick_frames[(self.tick_count - span) % self.tick_frames.len()];
            let per_tick = (at - oldest) as f64 / (span - 1) as f64;
            if per_tick > 0.0 {
                self.estimate = (60.0 * self.sample_rate / (per_tick * f64::from(TICKS_PER_BEAT)))
                    .clamp(*BPM_RANGE.start(), *BPM_RANGE.end());
            }
        }
    }

    /// MIDI start: the beat starts again from 0 at the next tick.
    pub fn start(&mut self) {
        if self.follows_midi() {
            self.running = true;
            self.ticks = 0;
            self.tick_count = 0;
        }
    }

    /// MIDI continue: the beat runs on from where it stopped.
    pub fn resume(&mut self) {
        if self.follows_midi() {
            self.running = true;
        }
    }

    /// MIDI stop.
    pub fn stop(&mut self) {
        if self.follows_midi() {
            self.running = false;
        }
    }

    /// Lets `frames` pass that no block processed (cycles the audio server
    /// skipped): the beat runs on at the last tempo.
    pub fn skip(&mut self, frames: u32) {
        if self.running && !(self.follows_midi() && self.tick_count == 0) {
            self.beat += f64::from(frames) / samples_per_beat(self.sample_rate, self.last_tempo);
        }
        self.frame += u64::from(frames);
    }

    /// The transport for the next block of `frames`; call once per block,
    /// after the block's clock messages.
    pub fn next_block(&mut self, frames: u32) -> Transport {
        let mut tempo = self.estimate;
        if self.follows_midi() && self.running {
            // Where the ticks say the beat is at this block's start.
            let since_tick = self.frame.saturating_sub(self.last_tick_frame()) as f64;
            let per_beat = samples_per_beat(self.sample_rate, self.estimate);
            let tick_beat = self.ticks.saturating_sub(1) as f64 / f64::from(TICKS_PER_BEAT)
                + (since_tick / per_beat).min(1.0 / f64::from(TICKS_PER_BEAT));
            let error = tick_beat - self.beat;
            if self.tick_count == 0 {
                // Started, waiting for the first tick: hold at beat 0.
                self.beat = 0.0;
            } else if error.abs() > 0.25 {
                self.beat = tick_beat;
            } else {
                tempo *= 1.0 + error.clamp(-MAX_BEND, MAX_BEND);
            }
        }
        let transport = Transport {
            sample_rate: self.sample_rate,
            tempo: Some(tempo),
            playing: self.running,
            position_beats: Some(self.beat),
            position_samples: None,
        };
        self.last_tempo = tempo;
        if self.running && !(self.follows_midi() && self.tick_count == 0) {
            self.beat += f64::from(frames) / samples_per_beat(self.sample_rate, tempo);
        }
        self.frame += u64::from(frames);
        transport
    }

    fn last_tick_frame(&self) -> u64 {
        if self.tick_count == 0 {
            return self.frame;
        }
        self.tick_frames[(self.tick_count - 1) % self.tick_frames.len()]
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_own_clock_advances_one_block_at_a_time() {
        let mut clock = Clock::new(ClockSource::Own(120.0), 48_000.0);
        let first = clock.next_block(24_000);
        let second = clock.next_block(24_000);
        assert_eq!(first.position_beats, Some(0.0));
        assert_eq!(second.position_beats, Some(1.0));
        assert_eq!(second.tempo, Some(120.0));
        assert!(second.playing);
    }

    /// Feeds ticks at `bpm` for `beats`, in blocks of 256, and returns the
    /// (beat the ticks say, beat the clock says) at the end.
    fn follow(clock: &mut Clock, bpm: f64, beats: f64, next_tick: &mut f64) -> (f64, f64) {
        let per_tick = samples_per_beat(48_000.0, bpm) / 24.0;
        let end = clock.frame as f64 + beats * samples_per_beat(48_000.0, bpm);
        let mut last = None;
        while (clock.frame as f64) < end {
            let block_end = clock.frame as f64 + 256.0;
            while *next_tick < block_end {
                clock.tick((*next_tick - clock.frame as f64) as u32);
                *next_tick += per_tick;
            }
            last = Some(clock.next_block(256));
        }
        let said = last.and_then(|t| t.position_beats).unwrap_or(0.0);
        (clock.ticks as f64 / 24.0, said)
    }

    #[test]
    fn skipped_frames_move_the_beat_on() {
        let mut clock = Clock::new(ClockSource::Own(120.0), 48_000.0);
        clock.next_block(256);
        clock.skip(512);
        let after = clock.next_block(256);
        // 256 + 512 frames at 24,000 frames per beat.
        assert_eq!(after.position_beats, Some(768.0 / 24_000.0));
    }

    #[test]
    fn a_midi_clock_is_followed_across_a_tempo_change() {
        let mut clock = Clock::new(ClockSource::Midi(120.0), 48_000.0);
        assert!(
            !clock.next_block(256).playing,
            "stopped until the clock starts"
        );
        clock.start();
        let mut next_tick = clock.frame as f64 + 100.0;
        let (ticks, beat) = follow(&mut clock, 100.0, 8.0, &mut next_tick);
        assert!(
            (clock.tempo() - 100.0).abs() < 0.5,
            "tempo {}",
            clock.tempo()
        );
        assert!((ticks - beat).abs() < 0.05, "ticks {ticks}, beat {beat}");
        let (ticks, beat) = follow(&mut clock, 140.0, 8.0, &mut next_tick);
        assert!(
            (clock.tempo() - 140.0).abs() < 0.7,
            "tempo {}",
            clock.tempo()
        );
        assert!((ticks - beat).abs() < 0.05, "ticks {ticks}, beat {beat}");
        clock.stop();
        assert!(!clock.next_block(256).playing);
    }
}
