//! What the performer has prepared, for displays (the plugin's editor, a
//! status line). Read on the real-time side without allocating; a display
//! gets it through the caller's own lock-free channel.

use super::{Feel, Performer};
use crate::event::Event;

impl Performer {
    /// The predicted events ready to play next, in the order they would
    /// play if the window changes only by playing them: the first is for
    /// the window as it is now, the next for the window after that event,
    /// and so on, stopping at the first one not ready. Real-time safe.
    pub fn prepared(&self) -> impl Iterator<Item = Event> + '_ {
        self.plan.ahead(self.link.sent)
    }
}

/// One event of the performer's plan.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Planned {
    /// The event.
    pub event: Event,
    /// Beats after the end of the last block processed at which it starts.
    pub beats_ahead: f64,
    /// Whether it stands if the player plays now (*Model* feel): the event
    /// kept through a player's note, or the next one while it lies inside
    /// the commit horizon.
    pub committed: bool,
}

impl Performer {
    /// What the performer will play next, as long as the window changes
    /// only by playing it, by the rules it plays by. *Model* feel: the
    /// committed event, if a player's note left one standing, then the
    /// prepared events (predicted past the committed one), each `when`
    /// after the one before (the first due as [`BlockPosition::due`] says).
    /// *Grid* feel: the prepared events on the coming steps. Real-time
    /// safe.
    ///
    /// [`BlockPosition::due`]: super::BlockPosition::due
    pub fn plan(&self) -> impl Iterator<Item = Planned> + '_ {
        let grid = f64::from(crate::event::GRID_PER_BEAT);
        let block = self.block;
        let samples_per_beat = block.samples_per_beat;
        let clock = self.clock as f64;
        let ahead = move |sample: f64| (sample - clock) / samples_per_beat;
        let on_grid = self.settings.feel == Feel::Grid;
        let horizon = self.settings.commit_beats.max(0.0);
        let standing = self
            .plan
            .committed
            .filter(|_| !on_grid)
            .map(|(event, exact)| Planned {
                event,
                beats_ahead: ahead(exact).max(0.0),
                committed: true,
            });
        // *Grid*: the next step after the block's end, and the step.
        let end_beat = block.beat_of(clock);
        let step = self.settings.division.beats();
        let first_step = self.next_step_index(end_beat, samples_per_beat, false) * step - end_beat;
        let last_onset = self.last_onset.unwrap_or(clock);
        let from = self.turns.answer_from() as f64;
        let mut at = standing.map_or(0.0, |planned| planned.beats_ahead);
        // Past a standing event, the predictions for the window after it.
        let after = self.link.sent + u64::from(standing.is_some());
        let prepared = self.plan.ahead(after).enumerate().map(move |(i, event)| {
            if on_grid {
                return Planned {
                    event,
                    beats_ahead: first_step + i as f64 * step,
                    committed: false,
                };
            }
            let first = i == 0 && standing.is_none();
            at = if first {
                ahead(block.due(last_onset, event.when, from)).max(0.0)
            } else {
                at + f64::from(event.when) / grid
            };
            Planned {
                event,
                beats_ahead: at,
                committed: first && at <= horizon,
            }
        });
        standing.into_iter().chain(prepared)
    }
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use super::*;
    use crate::perform::{NoteEvent, PerformerSettings, Transport};
    use crate::predictor::Network;

    #[test]
    fn the_first_prepared_token_is_the_one_the_next_step_plays() {
        let file = crate::default_model::load().unwrap();
        let network = Arc::new(Network::new(&file).unwrap());
        let settings = PerformerSettings {
            feel: crate::perform::Feel::Grid,
            ..PerformerSettings::default()
        };
        let (mut performer, mut worker) = Performer::new(network, settings, 7);
        let frames = 512u32;
        let samples_per_beat = 24_000.0;
        let mut steps_checked = 0;
        let mut deepest = 0;
        for block in 0..400u64 {
            let transport = Transport {
                sample_rate: 48_000.0,
                tempo: Some(120.0),
                playing: true,
                position_beats: Some((block * u64::from(frames)) as f64 / samples_per_beat),
                position_samples: Some((block * u64::from(frames)) as i64),
            };
            let player = [NoteEvent::On {
                offset: 0,
                channel: 0,
                key: 60,
                velocity: 100,
            }];
            let input: &[NoteEvent] = if block == 0 { &player } else { &[] };
            worker.poll_all();
            // A block of no frames only takes in what the worker sent.
            performer.process(&transport, 0, &[], &mut |_| {});
            let next = performer.prepared().next();
            deepest = deepest.max(performer.prepared().count());
            let mut keys = Vec::new();
            performer.process(&transport, frames, input, &mut |event| {
                if let NoteEvent::On { key, .. } = event {
                    keys.push(key);
                }
            });
            if !keys.is_empty() {
                let expected = next.expect("a step played a prepared token");
                let pitches = expected.what.pitches(settings.chord_octave);
                assert_eq!(keys, pitches.as_slice(), "block {block}");
                steps_checked += 1;
            }
        }
        assert!(steps_checked >= 10, "{steps_checked} steps played");
        assert!(deepest > 1, "the worker prepares more than one step ahead");
    }
}
