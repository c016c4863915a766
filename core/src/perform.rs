//! The performer: listens to the player, predicts, and plays on the beat.
//!
//! The real-time side, [`Performer`], is driven block by block by a plugin or
//! a MIDI host: it takes the player's notes and the block's transport, and
//! emits notes at sample offsets inside the block. It never allocates,
//! locks, blocks, logs or runs the network. The [`Worker`] owns the network,
//! the sampler and the context window; the two talk only through bounded
//! lock-free queues (rtrb). The worker keeps the next few predictions ready
//! ahead of time, so a step finds its token waiting. A player's token voids
//! them (the window changed); if the step comes before the worker's fresh
//! prediction, the step plays the one that was ready for it, so the player
//! never silences a step by playing just before it. Only a step with no
//! prediction at all is a rest, counted by [`Performer::late_steps`].
//!
//! ## Timing
//!
//! *Feel* = Model (the default): each event starts its predicted `when`
//! after the one before, on the 1/12-beat grid, and sounds its predicted
//! hold. A player's note voids the plan except an event due within the
//! commit horizon, which stands; the worker predicts past it at once, and
//! the event after it, as planned before the note, stands in until the
//! fresh prediction is ready (or when that one comes after its time).
//!
//! *Feel* = Grid: output notes start exactly on grid steps (the division),
//! each sounding for `gate` of a step (counted in samples, so it ends
//! properly whatever the transport does).
//!
//! Either way the beats are the host's while the transport plays;
//! otherwise a free-running clock at the host tempo drives them. Notes the
//! player starts within `chord_tolerance_beats` of each other become one
//! token (a chord), committed when the tolerance has passed.
//!
//! ## Modes
//!
//! - *continue*: after the player's first token, a predicted token on every
//!   step, each fed back into the window; the player's notes steer it.
//! - *respond*: listen; after `silence_beats` without a player note-on,
//!   answer for `answer_length` steps, then listen again. A player note
//!   during an answer ends it at once.
//! - *echo*: each player token is answered by one predicted token on the
//!   next step.
//!
//! Every note-on the performer sends gets its note-off: at gate end, on
//! transport stop or jump, mode or channel change, model change, reset and
//! [`Performer::all_notes_off`].
//!
//! Rooms: here, the state and the block loop ([`Performer::process`]). Around it:
//! `settings`, `notes` (a host's input and output), `timeline` and
//! `schedule` (the beat line, when an event is due), `feed` (what enters the
//! window), `grid_feel`, `model_feel`, `modes`, `sounding` (every note-on's
//! note-off), `plan` and `view`, `link` (the queues, kept in step), `worker` and
//! `session` (its memory of the session).

mod chord;
mod feed;
mod grid_feel;
mod lengths;
mod link;
mod loudness;
mod model_feel;
mod modes;
mod next_tokens;
mod notes;
mod plan;
mod schedule;
mod session;
mod settings;
mod sounding;
mod timeline;
mod turns;
mod view;
mod worker;

pub use next_tokens::{NEXT_TOKENS, NextTokens};
pub use notes::{NoteEvent, Transport, midi_velocity};
pub use schedule::BlockPosition;
pub use session::{SavedEvent, SavedSession, SessionShare};
pub use settings::{
    AnswerLength, Division, Feel, Mode, Named, PerformerSettings, SEED_ENV, Velocity, range,
};

pub use timeline::{BlockStart, Continuity, DRIFT_BEATS, ROUNDING_BEATS, Timeline};
pub use view::Planned;
pub use worker::{SPECULATION, Worker, WorkerControl, WorkerThread};

use std::sync::Arc;

use chord::Chord;
use lengths::PlayerLengths;
use link::{FromWorker, ToWorker, WorkerLink};
use loudness::Loudness;
use plan::Plan;
pub(crate) use settings::named;
use settings::rhythm_of;
use sounding::Sounding;
use turns::Turns;

use crate::event::{Event, GRID_PER_BEAT};
use crate::key::KeyCell;

/// The real-time side of the performer.
pub struct Performer {
    settings: PerformerSettings,
    /// The queues to the worker and the counts that keep them in step.
    link: WorkerLink,
    /// What the worker predicted, and what outlives a player's event.
    plan: Plan,
    /// Every note sounding, and its note-off.
    sounding: Sounding,
    /// The chord being gathered from the player.
    chord: Chord,
    /// The player's events whose keys are still down, until their lengths
    /// are known.
    player_lengths: PlayerLengths,
    /// Absolute samples since start.
    clock: u64,
    timeline: Timeline,
    /// Where the block being (or last) processed lies on the beat line.
    block: BlockPosition,
    /// The beat of the last grid step handled, in the current timeline.
    last_step_beat: Option<f64>,
    was_playing: bool,
    /// Whose turn it is (the mode's state).
    turns: Turns,
    last_player_velocity: u8,
    /// The player's loudness, for *Dynamics: Follow*.
    loudness: Loudness,
    /// The absolute sample of the last onset fed to the worker: the next
    /// event's `when` counts from it.
    last_onset: Option<f64>,
    late_steps: u64,
    /// The key the worker follows (see [`Performer::followed_key`]).
    key: Arc<KeyCell>,
}

impl Performer {
    /// A performer and its worker, which owns `network`'s predictor and a
    /// sampler seeded with the settings' seed, or else `seed` (a host's
    /// own, different for every instance). Run the worker on its own thread
    /// ([`Worker::spawn`]) or, for tests, call [`Worker::poll`] between blocks.
    pub fn new(
        network: std::sync::Arc<crate::predictor::Network>,
        settings: PerformerSettings,
        seed: u64,
    ) -> (Performer, Worker) {
        let settings = settings.clamped();
        let (link, worker_ends) = WorkerLink::new();
        let key = Arc::new(KeyCell::default());
        let rhythm = rhythm_of(&settings, Event::DEFAULT_VELOCITY);
        let worker = Worker::new(
            network,
            settings.sampler,
            rhythm,
            settings.seed.unwrap_or(seed),
            worker_ends,
            key.clone(),
        );
        let performer = Performer {
            settings,
            link,
            plan: Plan::new(),
            sounding: Sounding::new(),
            chord: Chord::new(),
            player_lengths: PlayerLengths::new(),
            clock: 0,
            timeline: Timeline::new(),
            block: BlockPosition::default(),
            last_step_beat: None,
            was_playing: false,
            turns: Turns::new(),
            last_player_velocity: 90,
            loudness: Loudness::new(),
            last_onset: None,
            late_steps: 0,
            key,
        };
        (performer, worker)
    }

    /// Where the last block processed lies on the performer's beat line
    /// (the host's beats while its transport plays): what a display or a
    /// recording of the block's notes places them by. Real-time safe.
    pub fn block_position(&self) -> BlockPosition {
        self.block
    }

    /// The current settings.
    pub fn settings(&self) -> &PerformerSettings {
        &self.settings
    }

    /// Steps that found no prediction ready (played as rests).
    pub fn late_steps(&self) -> u64 {
        self.late_steps
    }

    /// The key the worker keeps to while following the player's key
    /// ([`crate::key::KeyMode::Follow`]); `None` when not following, or
    /// before the window tells. Real-time safe.
    pub fn followed_key(&self) -> Option<crate::key::Key> {
        self.key.load()
    }

    /// Messages to the worker lost because its queue was full. Each loss
    /// is healed as soon as the queue has room: the worker is told how
    /// many events the window has had, and plays on in step (the lost
    /// events themselves are missing from its window). Real-time safe.
    pub fn dropped_messages(&self) -> u64 {
        self.link.dropped
    }

    /// How many tokens have entered the window since the performer was
    /// made (the network sees the last `window` of them).
    pub fn tokens_in(&self) -> u64 {
        self.link.sent
    }

    /// Whether any note the performer started is still sounding.
    pub fn is_sounding(&self) -> bool {
        self.sounding.any()
    }

    /// Ends every sounding note (the performer's and the thru notes) at
    /// `offset`. Real-time safe.
    pub fn all_notes_off(&mut self, offset: u32, out: &mut impl FnMut(NoteEvent)) {
        self.sounding.end_all(offset, out);
    }

    /// Ends every note, forgets the window and restarts the mode (the
    /// plugin's reset and deactivate). Real-time safe.
    pub fn reset(&mut self, out: &mut impl FnMut(NoteEvent)) {
        self.all_notes_off(0, out);
        self.restart_mode();
        self.chord.clear();
        self.player_lengths.forget();
        self.last_onset = None;
        let (sent, seed) = (self.link.sent, self.settings.seed);
        self.link.void(&mut self.plan, |epoch| ToWorker::Reset {
            epoch,
            sent,
            seed,
        });
    }

    /// Lets `frames` samples pass unprocessed (cycles a host or audio server
    /// skipped): notes due in them end at the start of the next block, and
    /// events due in them play there, counted late. Real-time safe.
    pub fn skip(&mut self, frames: u32) {
        self.clock += u64::from(frames);
    }

    /// Processes one block of `frames` samples: the player's `input` (sorted
    /// by offset) and the `transport` at the block's start. Emits the
    /// performer's notes through `out`, in time order. Real-time safe.
    pub fn process(
        &mut self,
        transport: &Transport,
        frames: u32,
        input: &[NoteEvent],
        out: &mut impl FnMut(NoteEvent),
    ) {
        self.receive(out);
        if frames == 0 {
            return;
        }
        let samples_per_beat = crate::tempo::samples_per_beat(
            transport.sample_rate,
            crate::tempo::host_bpm(transport.tempo),
        );

        // Transport stop, or a relocation in the host's timeline: end everything.
        if self.was_playing && !transport.playing {
            self.all_notes_off(0, out);
            self.restart_mode();
            self.chord.clear();
            self.last_step_beat = None;
            self.timeline.stop();
        }
        self.was_playing = transport.playing;
        let BlockStart {
            beat: start_beat,
            continuity,
            follows_host,
        } = self.timeline.block(transport, frames, samples_per_beat);
        self.block = BlockPosition {
            clock: self.clock,
            beat: start_beat,
            samples_per_beat,
            follows_host,
        };
        match continuity {
            Continuity::Continues | Continuity::Drifted => {}
            Continuity::Starts => self.last_step_beat = None,
            Continuity::Relocated => {
                self.last_step_beat = None;
                self.drop_committed();
                self.sounding.end_all_own(0, out);
            }
        }

        let step = self.settings.division.beats();
        let mut next_step = self.next_step_index(
            start_beat,
            samples_per_beat,
            continuity == Continuity::Drifted,
        );
        let step_offset = |k: f64| {
            ((k * step - start_beat) * samples_per_beat)
                .round()
                .max(0.0)
        };
        let tolerance = (self.settings.chord_tolerance_beats * samples_per_beat).round() as u64;
        let mut events = input.iter().peekable();
        // Output goes out in time order even if the input is not sorted.
        let mut earliest = 0u32;
        loop {
            let event_at = events.peek().map(|e| e.offset().min(frames - 1));
            let grid = self.settings.feel == Feel::Grid;
            let step_at = Some(step_offset(next_step))
                .filter(|&o| grid && o < f64::from(frames))
                .map(|o| o as u32);
            // The model's rhythm: the next predicted event, and in respond
            // mode the end of the silence that starts an answer.
            let model_due = (!grid).then(|| self.model_due()).flatten();
            let model_at = model_due.and_then(|(due, _)| self.offset_in_block(due, frames));
            let silence_at = (!grid)
                .then(|| self.silence_end(samples_per_beat))
                .flatten()
                .and_then(|due| self.offset_in_block(due, frames));
            let off_at = self
                .sounding
                .next_end()
                .and_then(|end| self.offset_in_block(end, frames));
            let commit_at = self
                .chord
                .due(tolerance)
                .and_then(|due| self.offset_in_block(due, frames));
            let Some(now) = [event_at, step_at, off_at, commit_at, model_at, silence_at]
                .into_iter()
                .flatten()
                .min()
            else {
                break;
            };
            let now = now.max(earliest);
            earliest = now;
            let now_abs = self.clock + u64::from(now);
            // Note-offs due, a chord whose tolerance has passed, the
            // player's events, then the grid step.
            self.sounding.end_due(now_abs, now, out);
            if self.chord.due(tolerance).is_some_and(|due| due <= now_abs) {
                self.commit_chord(now_abs, samples_per_beat);
            }
            while let Some(event) = events.next_if(|e| e.offset().min(frames - 1) <= now) {
                self.player_event(*event, now, now_abs, samples_per_beat, out);
            }
            if step_at.is_some_and(|at| at <= now) {
                self.grid_step(now, now_abs, samples_per_beat, out);
                self.last_step_beat = Some(next_step * step);
                next_step += 1.0;
            }
            if !grid {
                self.answer_after_silence(now_abs, samples_per_beat);
                // The player's events may have voided the prediction, or
                // moved the onset it counts from: look again.
                if let Some((due, exact)) = self.model_due()
                    && due <= now_abs
                    && model_at.is_some_and(|at| at <= now)
                {
                    // On time, the onset is the exact due; late, it is now.
                    let onset = if due == now_abs {
                        exact
                    } else {
                        now_abs as f64
                    };
                    self.model_event(due, onset, now, samples_per_beat, out);
                }
            }
        }
        self.clock += u64::from(frames);
    }

    /// The offset in this block of absolute sample `at` (now if past).
    fn offset_in_block(&self, at: u64, frames: u32) -> Option<u32> {
        let offset = at.saturating_sub(self.clock);
        (offset < u64::from(frames)).then_some(offset as u32)
    }

    /// Forgets the committed event; the worker, which predicted past it,
    /// predicts again for the window as it is.
    fn drop_committed(&mut self) {
        if self.plan.committed.take().is_some() {
            self.link
                .void(&mut self.plan, |epoch| ToWorker::Replan { epoch });
        }
    }

    fn receive(&mut self, out: &mut impl FnMut(NoteEvent)) {
        self.link.heal(&mut self.plan);
        while let Some(message) = self.link.receive() {
            match message {
                FromWorker::Prediction {
                    epoch,
                    generation,
                    after,
                    event,
                } => {
                    if self.link.current(epoch, generation, after) {
                        self.plan.keep(after, event, self.link.sent);
                    }
                }
                FromWorker::ModelChanged { generation } => {
                    self.link.generation = generation;
                    self.plan.committed = None;
                    self.plan.clear();
                    self.sounding.end_all_own(0, out);
                }
            }
        }
    }

    /// The prediction for the window as it is now, if one is ready.
    fn take_prediction(&mut self) -> Option<Event> {
        self.plan.take(self.link.sent)
    }

    /// The prediction for the window as it is now, left in place.
    fn peek_prediction(&self) -> Option<Event> {
        self.plan.peek(self.link.sent)
    }
}

/// Twelfths of a beat from sample `from` to sample `to` (0 if `to` is
/// earlier), rounded.
fn twelfths_between(from: f64, to: f64, samples_per_beat: f64) -> u32 {
    let beats = (to - from).max(0.0) / samples_per_beat;
    (beats * f64::from(GRID_PER_BEAT))
        .round()
        .min(f64::from(u16::MAX)) as u32
}
