//! What enters the window: the player's note events (gathered into
//! chords) and Pianola's own, each fed to the worker with its real time
//! since the one before.

use super::chord::Gathered;
use super::lengths::Sounded;
use super::link::ToWorker;
use super::settings::Feel;
use super::{NoteEvent, Performer, twelfths_between};
use crate::event::Event;
use crate::token::Token;

impl Performer {
    pub(super) fn player_event(
        &mut self,
        event: NoteEvent,
        offset: u32,
        now_abs: u64,
        samples_per_beat: f64,
        out: &mut impl FnMut(NoteEvent),
    ) {
        match event {
            NoteEvent::On { key, velocity, .. } => {
                let key = key & 127;
                if self.settings.thru {
                    self.sounding.thru(event, out);
                }
                self.last_player_velocity = velocity.clamp(1, 127);
                self.player_lengths.pressed(key);
                self.loudness.hear(velocity, now_abs, samples_per_beat);
                self.chord.add(key, now_abs);
                if self.turns.player_note(self.settings.mode, now_abs) {
                    // The player interrupts the answer.
                    self.sounding.end_all_own(offset, out);
                }
            }
            NoteEvent::Off { key, .. } => {
                self.sounding.thru(event, out);
                let link = &mut self.link;
                self.player_lengths.released(key, now_abs, |sounded| {
                    link.offer(held(sounded, samples_per_beat));
                });
            }
        }
    }

    pub(super) fn commit_chord(&mut self, now_abs: u64, samples_per_beat: f64) {
        // *Model* feel: the planned event due within the commit horizon
        // stands; what lies beyond it is predicted again.
        if self.settings.feel == Feel::Model && self.plan.committed.is_none() {
            let horizon = (self.settings.commit_beats.max(0.0) * samples_per_beat).round() as u64;
            if let Some((_, event, due, exact)) = self.model_next()
                && due <= now_abs + horizon
            {
                self.plan.committed = Some((event, exact));
            }
        }
        let Some(Gathered {
            token,
            keys,
            lowest,
            onset,
        }) = self.chord.take()
        else {
            return;
        };
        // The player's token: the worker's speculation no longer holds, but
        // what was ready stands in until a fresh one is: *Grid*, the next
        // step's; *Model*, the event after the committed one (nothing else
        // made for the old window: the model's rhythm counts from the
        // player's onset).
        let after_committed = self
            .plan
            .committed
            .and_then(|_| self.plan.peek(self.link.sent + 1));
        let ready = self.take_prediction().or(self.plan.fallback);
        self.link.epoch += 1;
        self.plan.clear();
        self.plan.fallback = match self.settings.feel {
            Feel::Grid => ready,
            Feel::Model => after_committed,
        };
        let event = self.fed_event(
            token,
            onset as f64,
            self.last_player_velocity,
            lowest,
            samples_per_beat,
        );
        let fed = self.link.sent;
        // The committed event follows the player's: the worker predicts
        // what comes after it now, not when it plays.
        let then = self.plan.committed.map(|(committed, exact)| Event {
            when: twelfths_between(onset as f64, exact, samples_per_beat),
            hold: 0,
            ..committed
        });
        self.link.send(ToWorker::Feed {
            event,
            epoch: self.link.epoch,
            player: true,
            then,
        });
        if let Some(sounded) = self.player_lengths.fed(keys, onset, fed, now_abs) {
            self.link.offer(held(sounded, samples_per_beat));
        }
        self.turns.player_event(self.settings.mode);
    }

    /// The event that starts at absolute sample `onset`, counted as sent
    /// to the worker: its `when` counted from the last one fed (the first
    /// counts as a grid step); its hold is not known (0). `onset` is
    /// exact (a fraction of a sample where a predicted `when` put it), so
    /// that gaps do not gather rounding errors.
    pub(super) fn fed_event(
        &mut self,
        what: Token,
        onset: f64,
        velocity: u8,
        lowest: u8,
        samples_per_beat: f64,
    ) -> Event {
        let when = match self.last_onset {
            Some(last) => twelfths_between(last, onset, samples_per_beat),
            None => self.settings.division.twelfths(),
        };
        self.last_onset = Some(onset);
        self.link.sent += 1;
        Event {
            what,
            when,
            hold: 0,
            velocity,
            lowest,
            releases: false,
        }
    }

    /// Sounds `strike` from `offset` (the exact `onset`), ending the
    /// performer's notes still sounding first where it releases them,
    /// feeds its token to the worker and counts the step in the mode.
    pub(super) fn play(
        &mut self,
        strike: Strike,
        offset: u32,
        onset: f64,
        samples_per_beat: f64,
        out: &mut impl FnMut(NoteEvent),
    ) {
        let Strike {
            token,
            pitches,
            velocity,
            length,
            releases,
        } = strike;
        let now_abs = self.clock + u64::from(offset);
        let settings = self.settings;
        let channel = settings.channel & 15;
        if releases {
            self.sounding.end_all_own(offset, out);
        }
        for key in pitches.iter() {
            self.sounding.start_own(
                key,
                channel,
                velocity,
                offset,
                now_abs,
                now_abs + length,
                out,
            );
        }
        let lowest = pitches.iter().min().unwrap_or(60);
        let event = Event {
            // Pianola's own length is known as it starts.
            hold: known_hold(length, samples_per_beat),
            releases,
            ..self.fed_event(token, onset, velocity, lowest, samples_per_beat)
        };
        self.link.send(ToWorker::Feed {
            event,
            epoch: self.link.epoch,
            player: false,
            then: None,
        });
        self.turns.played(settings.mode);
    }
}

/// The message that the player's event `sounded` for as long as it did.
fn held(sounded: Sounded, samples_per_beat: f64) -> ToWorker {
    ToWorker::Held {
        fed: sounded.fed,
        hold: known_hold(sounded.samples, samples_per_beat),
    }
}

/// A length of `samples` as an event's hold: twelfths of a beat, at least
/// one (a hold of 0 is one not known).
fn known_hold(samples: u64, samples_per_beat: f64) -> u32 {
    twelfths_between(0.0, samples as f64, samples_per_beat).max(1)
}

/// One event of the performer's own, as it sounds: its token, the keys it
/// strikes, how hard and for how many samples.
pub(super) struct Strike {
    pub(super) token: Token,
    pub(super) pitches: crate::token::PitchClasses,
    pub(super) velocity: u8,
    pub(super) length: u64,
    /// Whether the performer's notes still sounding end as it starts
    /// ([`Event::releases`]).
    pub(super) releases: bool,
}
