//! *Feel* = Grid: one event per division step, for `gate` of the step,
//! chords voiced in `chord_octave` (the seed's sound).

use super::feed::Strike;
use super::settings::grid_velocity;
use super::{NoteEvent, Performer};

impl Performer {
    /// *Grid* feel: the index (in steps of the division) of the first grid
    /// step a block starting at `start_beat` plays. A step belongs to the
    /// block holding its rounded sample: one less than half a sample before
    /// the block's start still plays at offset 0. Never twice: steps at or
    /// before the last one played are skipped. After a `drifted` start the
    /// step after the last one handled comes next, even if the drift moved
    /// the block's start past it (it then plays at offset 0).
    pub(super) fn next_step_index(
        &self,
        start_beat: f64,
        samples_per_beat: f64,
        drifted: bool,
    ) -> f64 {
        let step = self.settings.division.beats();
        let mut next_step = ((start_beat - 0.5 / samples_per_beat) / step - 1e-9).ceil();
        if let Some(last) = self.last_step_beat {
            if drifted {
                next_step = next_step.min((last / step).round() + 1.0);
            }
            while next_step * step <= last + 1e-9 {
                next_step += 1.0;
            }
        }
        next_step
    }

    pub(super) fn grid_step(
        &mut self,
        offset: u32,
        now_abs: u64,
        samples_per_beat: f64,
        out: &mut impl FnMut(NoteEvent),
    ) {
        let settings = self.settings;
        self.answer_after_silence(now_abs, samples_per_beat);
        // A voided prediction stands in for this step only.
        let fallback = self.plan.fallback.take();
        if !self.plays() {
            return;
        }
        let Some(token) = self.take_prediction().or(fallback).map(|e| e.what) else {
            self.late_steps += 1;
            return;
        };
        let velocity = self.own_velocity();
        let length = (settings.gate * settings.division.beats() * samples_per_beat)
            .round()
            .max(1.0) as u64;
        let strike = Strike {
            token,
            pitches: token.pitches(settings.chord_octave),
            velocity,
            length,
            releases: false,
        };
        self.play(strike, offset, now_abs as f64, samples_per_beat, out);
    }

    /// The velocity the performer's own notes play at.
    pub(super) fn own_velocity(&self) -> u8 {
        grid_velocity(
            &self.settings,
            self.loudness.player(self.last_player_velocity),
        )
    }
}
