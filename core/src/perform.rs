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

mod chord;
mod link;
mod next_tokens;
mod plan;
mod schedule;
mod sounding;
mod timeline;
mod turns;
mod view;
mod worker;

pub use next_tokens::{NEXT_TOKENS, NextTokens};
pub use schedule::BlockPosition;

pub use timeline::{BlockStart, Continuity, DRIFT_BEATS, ROUNDING_BEATS, Timeline};
pub use view::Planned;
pub use worker::{SPECULATION, Worker, WorkerControl, WorkerThread};

use std::sync::Arc;
use std::sync::atomic::AtomicU8;

use chord::{Chord, Gathered};
use link::{FromWorker, ToWorker, WorkerLink};
use plan::Plan;
use sounding::Sounding;
use turns::Turns;

use crate::event::{Event, GRID_PER_BEAT};
use crate::sample::{Rhythm, SamplerSettings};
use crate::token::Token;

/// The environment variable a host (the plugin, `pianola live`) reads a
/// seed from, for repeatable takes ([`PerformerSettings::seed`]).
pub const SEED_ENV: &str = "PIANOLA_SEED";

/// How the performer answers the player.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Mode {
    /// Keep playing from the window after the player's first token.
    Continue,
    /// Call and response: answer after a silence.
    Respond,
    /// Answer each player token with one token on the next step.
    Echo,
}

impl Mode {
    /// Every mode.
    pub const ALL: [Mode; 3] = [Mode::Continue, Mode::Respond, Mode::Echo];

    /// The mode's name: `continue`, `respond` or `echo` (the command line's
    /// spelling, and the plugin's saved id).
    pub const fn name(self) -> &'static str {
        match self {
            Mode::Continue => "continue",
            Mode::Respond => "respond",
            Mode::Echo => "echo",
        }
    }

    /// The mode's name as a title: `Continue`, `Respond`, `Echo`.
    pub const fn title(self) -> &'static str {
        match self {
            Mode::Continue => "Continue",
            Mode::Respond => "Respond",
            Mode::Echo => "Echo",
        }
    }

    /// The mode called `name` (its name or title, in any case).
    pub fn from_name(name: &str) -> Option<Mode> {
        let name = name.trim().to_lowercase();
        Mode::ALL.into_iter().find(|m| m.name() == name)
    }
}

/// The grid the performer plays on.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Division {
    /// Quarter notes.
    Quarter,
    /// Eighth notes.
    Eighth,
    /// Sixteenth notes.
    Sixteenth,
    /// Eighth-note triplets.
    EighthTriplet,
    /// Sixteenth-note triplets.
    SixteenthTriplet,
}

impl Division {
    /// Every division, coarsest first.
    pub const ALL: [Division; 5] = [
        Division::Quarter,
        Division::Eighth,
        Division::EighthTriplet,
        Division::Sixteenth,
        Division::SixteenthTriplet,
    ];

    /// The division's name: `1/4`, `1/8`, `1/8t`, `1/16`, `1/16t`.
    pub const fn name(self) -> &'static str {
        match self {
            Division::Quarter => "1/4",
            Division::Eighth => "1/8",
            Division::Sixteenth => "1/16",
            Division::EighthTriplet => "1/8t",
            Division::SixteenthTriplet => "1/16t",
        }
    }

    /// The division as a title, triplets with a capital `T`: `1/8T`.
    pub const fn title(self) -> &'static str {
        match self {
            Division::Quarter => "1/4",
            Division::Eighth => "1/8",
            Division::Sixteenth => "1/16",
            Division::EighthTriplet => "1/8T",
            Division::SixteenthTriplet => "1/16T",
        }
    }

    /// The division called `name` (as [`Division::name`] writes it; `T`
    /// for triplets in either case).
    pub fn from_name(name: &str) -> Option<Division> {
        let name = name.trim().to_lowercase();
        Division::ALL.into_iter().find(|d| d.name() == name)
    }

    /// The length of one step in twelfths of a beat (the event grid).
    pub fn twelfths(self) -> u32 {
        (self.beats() * f64::from(GRID_PER_BEAT)).round() as u32
    }

    /// The length of one step in beats (quarter notes).
    pub fn beats(self) -> f64 {
        match self {
            Division::Quarter => 1.0,
            Division::Eighth => 0.5,
            Division::Sixteenth => 0.25,
            Division::EighthTriplet => 1.0 / 3.0,
            Division::SixteenthTriplet => 1.0 / 6.0,
        }
    }
}

/// The velocity of the performer's notes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Velocity {
    /// Always this velocity (1..=127).
    Fixed(u8),
    /// The velocity of the player's last note.
    FollowPlayer,
}

/// Where the performer's timing, lengths, velocities and voicing come from.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Feel {
    /// The model's: each event starts its predicted `when` after the
    /// previous one (on the 1/12-beat grid, at the host's tempo) and sounds
    /// its predicted hold, chords voiced at the predicted register, at the
    /// predicted velocity scaled by `dynamics`.
    Model,
    /// One event per division step for `gate` of the step, chords in
    /// `chord_octave`: the seed's sound.
    Grid,
}

impl Feel {
    /// Every feel.
    pub const ALL: [Feel; 2] = [Feel::Model, Feel::Grid];

    /// The feel's name: `model` or `grid`.
    pub const fn name(self) -> &'static str {
        match self {
            Feel::Model => "model",
            Feel::Grid => "grid",
        }
    }

    /// The feel's name as a title: `Model`, `Grid`.
    pub const fn title(self) -> &'static str {
        match self {
            Feel::Model => "Model",
            Feel::Grid => "Grid",
        }
    }

    /// The feel called `name` (its name or title, in any case).
    pub fn from_name(name: &str) -> Option<Feel> {
        let name = name.trim().to_lowercase();
        Feel::ALL.into_iter().find(|f| f.name() == name)
    }
}

/// How long an answer in *respond* mode lasts.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum AnswerLength {
    /// This many steps.
    Steps(u32),
    /// As many steps as the call had tokens.
    AsLongAsCall,
}

/// The performer's settings (the plugin's parameters).
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct PerformerSettings {
    /// How to answer.
    pub mode: Mode,
    /// The model's rhythm, or the grid.
    pub feel: Feel,
    /// *Model* feel: the model's velocities are scaled by this (0.25..=2).
    pub dynamics: f64,
    /// *Model* feel: a planned event due within this many beats of a
    /// player's event stands (it plays); later ones are predicted again
    /// from the player's event.
    pub commit_beats: f64,
    /// The grid.
    pub division: Division,
    /// The share of a step a note sounds (0.05..=1).
    pub gate: f64,
    /// Output velocity.
    pub velocity: Velocity,
    /// Output MIDI channel (0..=15).
    pub channel: u8,
    /// Pass the player's notes through to the output.
    pub thru: bool,
    /// The octave chord tokens are voiced in.
    pub chord_octave: i8,
    /// Note-ons closer than this (in beats) form one chord token.
    pub chord_tolerance_beats: f64,
    /// *respond*: beats of silence before answering.
    pub silence_beats: f64,
    /// *respond*: how long to answer.
    pub answer_length: AnswerLength,
    /// How the next token is chosen.
    pub sampler: SamplerSettings,
    /// For repeatable takes: the sampler's random sequence starts again
    /// from this seed at every reset and whenever it changes (`None`: it
    /// runs on from the seed the performer was made with).
    pub seed: Option<u64>,
}

impl Default for PerformerSettings {
    fn default() -> Self {
        Self {
            mode: Mode::Continue,
            feel: Feel::Model,
            dynamics: 1.0,
            commit_beats: 0.125,
            division: Division::Eighth,
            gate: 0.9,
            velocity: Velocity::Fixed(90),
            channel: 0,
            thru: false,
            chord_octave: crate::token::SEED_CHORD_OCTAVE,
            chord_tolerance_beats: 1.0 / 32.0,
            silence_beats: 2.0,
            answer_length: AnswerLength::Steps(8),
            sampler: SamplerSettings::default(),
            seed: None,
        }
    }
}

/// The host's transport at the start of a block.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Transport {
    /// Samples per second.
    pub sample_rate: f64,
    /// Beats per minute, if the host says (120 otherwise).
    pub tempo: Option<f64>,
    /// Whether the transport is playing.
    pub playing: bool,
    /// The beat position at the block's first sample, if known.
    pub position_beats: Option<f64>,
    /// The host's sample position at the block's first sample, if it gives
    /// one (it tells drift from a relocation; see [`Timeline`]).
    pub position_samples: Option<i64>,
}

/// A note event at a sample offset inside a block.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum NoteEvent {
    /// A key goes down.
    On {
        /// Sample offset in the block.
        offset: u32,
        /// MIDI channel 0..=15.
        channel: u8,
        /// MIDI key.
        key: u8,
        /// Velocity 1..=127.
        velocity: u8,
    },
    /// A key comes up.
    Off {
        /// Sample offset in the block.
        offset: u32,
        /// MIDI channel 0..=15.
        channel: u8,
        /// MIDI key.
        key: u8,
        /// Release velocity 0..=127 (0: none given). A thru note keeps the
        /// player's; the performer's own notes have none.
        velocity: u8,
    },
}

impl NoteEvent {
    /// The sample offset in the block.
    pub fn offset(&self) -> u32 {
        match *self {
            NoteEvent::On { offset, .. } | NoteEvent::Off { offset, .. } => offset,
        }
    }

    /// The same event at sample `offset` of a block.
    pub fn at(self, offset: u32) -> Self {
        match self {
            NoteEvent::On {
                channel,
                key,
                velocity,
                ..
            } => NoteEvent::On {
                offset,
                channel,
                key,
                velocity,
            },
            NoteEvent::Off {
                channel,
                key,
                velocity,
                ..
            } => NoteEvent::Off {
                offset,
                channel,
                key,
                velocity,
            },
        }
    }
}

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
    /// The absolute sample of the last onset fed to the worker: the next
    /// event's `when` counts from it.
    last_onset: Option<f64>,
    late_steps: u64,
    /// The key the worker follows (see [`Performer::followed_key`]).
    key: Arc<AtomicU8>,
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
        let (link, worker_ends) = WorkerLink::new();
        let key = Arc::new(AtomicU8::new(worker::NO_KEY));
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
            clock: 0,
            timeline: Timeline::new(),
            block: BlockPosition::default(),
            last_step_beat: None,
            was_playing: false,
            turns: Turns::new(),
            last_player_velocity: 90,
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
    /// ([`SamplerSettings::follow_key`]); `None` when not following, or
    /// before the window tells. Real-time safe.
    pub fn followed_key(&self) -> Option<crate::key::Key> {
        crate::key::Key::from_index(self.key.load(std::sync::atomic::Ordering::Relaxed))
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

    /// Changes the settings. A change of mode ends every note (at offset 0
    /// of the next events) and restarts the mode; a change of channel ends
    /// every note and plays on; new sampling settings, a new division or
    /// velocity reach the worker (the event network's notes depend on the
    /// step and velocity they are played at). Real-time safe.
    pub fn set_settings(&mut self, settings: PerformerSettings, out: &mut impl FnMut(NoteEvent)) {
        let old = self.settings;
        self.settings = settings;
        if old.mode != settings.mode {
            self.all_notes_off(0, out);
            self.restart_mode();
        } else if old.channel != settings.channel {
            self.all_notes_off(0, out);
        }
        if old.sampler != settings.sampler
            || old.seed != settings.seed
            || rhythm_of(&old, 0) != rhythm_of(&settings, 0)
        {
            let rhythm = rhythm_of(&settings, self.last_player_velocity);
            self.link.void(&mut self.plan, |epoch| ToWorker::Sampler {
                settings: settings.sampler,
                rhythm,
                seed: settings.seed,
                epoch,
            });
        }
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
                self.player_event(*event, now, now_abs, out);
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

    /// *Grid* feel: the index (in steps of the division) of the first grid
    /// step a block starting at `start_beat` plays. A step belongs to the
    /// block holding its rounded sample: one less than half a sample before
    /// the block's start still plays at offset 0. Never twice: steps at or
    /// before the last one played are skipped. After a `drifted` start the
    /// step after the last one handled comes next, even if the drift moved
    /// the block's start past it (it then plays at offset 0).
    fn next_step_index(&self, start_beat: f64, samples_per_beat: f64, drifted: bool) -> f64 {
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

    /// The offset in this block of absolute sample `at` (now if past).
    fn offset_in_block(&self, at: u64, frames: u32) -> Option<u32> {
        let offset = at.saturating_sub(self.clock);
        (offset < u64::from(frames)).then_some(offset as u32)
    }

    fn restart_mode(&mut self) {
        self.turns.restart();
        self.drop_committed();
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

    fn player_event(
        &mut self,
        event: NoteEvent,
        offset: u32,
        now_abs: u64,
        out: &mut impl FnMut(NoteEvent),
    ) {
        match event {
            NoteEvent::On {
                channel,
                key,
                velocity,
                ..
            } => {
                let (channel, key) = (channel & 15, key & 127);
                if self.settings.thru {
                    self.sounding.thru_on(key, channel, velocity, offset, out);
                }
                self.last_player_velocity = velocity.clamp(1, 127);
                self.chord.add(key, now_abs);
                if self.turns.player_note(self.settings.mode, now_abs) {
                    // The player interrupts the answer.
                    self.sounding.end_all_own(offset, out);
                }
            }
            NoteEvent::Off {
                channel,
                key,
                velocity,
                ..
            } => {
                let (channel, key) = (channel & 15, key & 127);
                self.sounding.end_thru(key, channel, velocity, offset, out);
            }
        }
    }

    fn commit_chord(&mut self, now_abs: u64, samples_per_beat: f64) {
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
        self.turns.player_event(self.settings.mode);
    }

    /// The event that starts at absolute sample `onset`, counted as sent
    /// to the worker: its `when` counted from the last one fed (the first
    /// counts as a grid step). `onset` is exact (a fraction of a sample
    /// where a predicted `when` put it), so that gaps do not gather
    /// rounding errors.
    fn fed_event(
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
        }
    }

    /// The velocity the performer's own notes play at.
    fn own_velocity(&self) -> u8 {
        grid_velocity(&self.settings, self.last_player_velocity)
    }

    /// *respond*: once the player has been silent for `silence_beats`
    /// after a call, the answer starts (at `now_abs`).
    fn answer_after_silence(&mut self, now_abs: u64, samples_per_beat: f64) {
        if let Some(due) = self.silence_end(samples_per_beat)
            && now_abs >= due
        {
            self.turns.answer(self.settings.answer_length, now_abs);
        }
    }

    /// *respond*: the absolute sample at which the silence after a call
    /// ends, while listening.
    fn silence_end(&self, samples_per_beat: f64) -> Option<u64> {
        let silence = (self.settings.silence_beats * samples_per_beat) as u64;
        self.turns
            .silence_end(self.settings.mode, silence, !self.chord.is_empty())
    }

    /// Whether the mode wants the performer to play now.
    fn plays(&self) -> bool {
        self.turns.plays(self.settings.mode)
    }

    fn grid_step(
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
        let length = (settings.gate.clamp(0.01, 1.0) * settings.division.beats() * samples_per_beat)
            .round()
            .max(1.0) as u64;
        let pitches = token.pitches(settings.chord_octave);
        let onset = now_abs as f64;
        self.play(
            token,
            pitches,
            velocity,
            length,
            offset,
            onset,
            samples_per_beat,
            out,
        );
    }

    /// *Model* feel: the next event, where it comes from, and the absolute
    /// sample at which it is due (rounded, and exact): the committed one,
    /// or, if the mode plays, the next predicted one, `when` after the last
    /// onset fed and not before an answer's start. A fresh prediction that
    /// came after its time gives way to a stand-in still on time.
    fn model_next(&self) -> Option<(Next, Event, u64, f64)> {
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
    fn model_due(&self) -> Option<(u64, f64)> {
        self.model_next().map(|(_, _, due, exact)| (due, exact))
    }

    /// *Model* feel: plays the predicted event due at `due`, with its hold,
    /// voicing and velocity (scaled by `dynamics`, or the player's).
    fn model_event(
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
            Velocity::FollowPlayer => self.last_player_velocity,
            Velocity::Fixed(_) => (f64::from(event.velocity) * settings.dynamics.clamp(0.25, 2.0))
                .round()
                .clamp(1.0, 127.0) as u8,
        };
        let hold = f64::from(event.hold.max(1)) * samples_per_beat / f64::from(GRID_PER_BEAT);
        let length = hold.round().max(1.0) as u64;
        self.play(
            event.what,
            event.pitches(),
            velocity,
            length,
            offset,
            onset,
            samples_per_beat,
            out,
        );
    }

    /// Sounds `pitches` for `length` samples from `offset` (the exact
    /// `onset`), feeds `token` to the worker and counts the step in the
    /// mode.
    #[allow(clippy::too_many_arguments)]
    fn play(
        &mut self,
        token: Token,
        pitches: crate::token::PitchClasses,
        velocity: u8,
        length: u64,
        offset: u32,
        onset: f64,
        samples_per_beat: f64,
        out: &mut impl FnMut(NoteEvent),
    ) {
        let now_abs = self.clock + u64::from(offset);
        let settings = self.settings;
        let channel = settings.channel & 15;
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
        let event = self.fed_event(token, onset, velocity, lowest, samples_per_beat);
        self.link.send(ToWorker::Feed {
            event,
            epoch: self.link.epoch,
            player: false,
            then: None,
        });
        self.turns.played(settings.mode);
    }
}

/// Where *Model* feel's next event comes from.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Next {
    /// The event that stood through the player's note.
    Committed,
    /// The prediction for the window as it is.
    Fresh,
    /// The prediction made before the player's note, standing in.
    StandIn,
}

/// Twelfths of a beat from sample `from` to sample `to` (0 if `to` is
/// earlier), rounded.
fn twelfths_between(from: f64, to: f64, samples_per_beat: f64) -> u32 {
    let beats = (to - from).max(0.0) / samples_per_beat;
    (beats * f64::from(GRID_PER_BEAT))
        .round()
        .min(f64::from(u16::MAX)) as u32
}

/// What the worker predicts for: the model's rhythm, or grid steps at the
/// performer's velocity (`player_velocity` when it follows the player).
fn rhythm_of(settings: &PerformerSettings, player_velocity: u8) -> Rhythm {
    match settings.feel {
        Feel::Model => Rhythm::Model,
        Feel::Grid => Rhythm::Grid {
            step: settings.division.twelfths(),
            velocity: grid_velocity(settings, player_velocity),
        },
    }
}

/// The velocity of the performer's grid notes: fixed, or the player's last.
fn grid_velocity(settings: &PerformerSettings, player_velocity: u8) -> u8 {
    match settings.velocity {
        Velocity::Fixed(v) => v,
        Velocity::FollowPlayer => player_velocity,
    }
    .clamp(1, 127)
}
