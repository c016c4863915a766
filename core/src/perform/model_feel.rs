//! *Feel* = Model: each event starts its predicted `when` after the one
//! before (when is due: [`super::BlockPosition::due`]), sounds its predicted
//! hold, its chords voiced at the predicted register, at the predicted
//! velocity scaled by `dynamics`.

use super::feed::Strike;
use super::settings::Velocity;
use super::{NoteEvent, Performer};
use crate::event::{Event, GRID_PER_BEAT};

impl Performer {
    /// *Model* feel: the next event, where it comes from, and the absolute
    /// sample at which it is due (rounded, and exact): the committed one,
    /// or, if the mode plays, the next predicted one, `when` after the last
    /// onset fed and not before an answer's start. A fresh prediction that
    /// came after its time gives way to a stand-in still on time.
    pub(super) fn model_next(&self) -> Option<(Next, Event, u64, f64)> {
        let rounded = |exact: f64| exact.round().max(0.0) as u64;
        if let Some((event, exact)) = self.plan.committed {
            return Some((Next::Committed, event, rounded(exact), exact));
        }
        if !self.plays() {
            return None;
        }
        let last = self.last_onset?;
        let answer_from = self.turns.answer_from() as f64;
        let exact_due = |event: &Event| self.block.due(last, event.when, answer_from);
        let is_past = |event: &Event| rounded(exact_due(event)) < self.clock;
        let (next, event) = match (self.peek_prediction(), self.plan.fallback) {
            (Some(fresh), Some(stand_in)) if is_past(&fresh) && !is_past(&stand_in) => {
                (Next::StandIn, stand_in)
            }
            (Some(fresh), _) => (Next::Fresh, fresh),
            (None, stand_in) => (Next::StandIn, stand_in?),
        };
        let exact = exact_due(&event);
        Some((next, event, rounded(exact), exact))
    }

    /// *Model* feel: when the next event is due, as [`Performer::model_next`].
    pub(super) fn model_due(&self) -> Option<(u64, f64)> {
        self.model_next().map(|(_, _, due, exact)| (due, exact))
    }

    /// *Model* feel: plays the predicted event due at `due`, with its hold,
    /// voicing and velocity (scaled by `dynamics`, or the player's).
    pub(super) fn model_event(
        &mut self,
        due: u64,
        onset: f64,
        offset: u32,
        samples_per_beat: f64,
        out: &mut impl FnMut(NoteEvent),
    ) {
        let Some((next, event, _, _)) = self.model_next() else {
            return;
        };
        match next {
            Next::Committed => self.plan.committed = None,
            Next::Fresh => {
                self.take_prediction();
                self.plan.fallback = None;
            }
            Next::StandIn => self.plan.fallback = None,
        }
        if due < self.clock {
            // Its time passed before this block: the prediction came late.
            self.late_steps += 1;
        }
        let settings = self.settings;
        let velocity = match settings.velocity {
            Velocity::FollowPlayer => self.loudness.follow(event.velocity),
            Velocity::Fixed(_) => (f64::from(event.velocity) * settings.dynamics)
                .round()
                .clamp(1.0, 127.0) as u8,
        };
        let hold = f64::from(event.hold.max(1)) * samples_per_beat / f64::from(GRID_PER_BEAT);
        let strike = Strike {
            token: event.what,
            pitches: event.pitches(),
            velocity,
            length: hold.round().max(1.0) as u64,
            releases: event.releases,
        };
        self.play(strike, offset, onset, samples_per_beat, out);
    }
}

/// Where *Model* feel's next event comes from.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum Next {
    /// The event that stood through the player's note.
    Committed,
    /// The prediction for the window as it is.
    Fresh,
    /// The prediction made before the player's note, standing in.
    StandIn,
}
