//! The performer's settings: how it answers, its feel, its grid, and the
//! rules that derive what the worker predicts for from them.

use super::link::ToWorker;
use super::{NoteEvent, Performer};
use crate::duet::{DuetSettings, SPACE};
use crate::event::GRID_PER_BEAT;
use crate::sample::{Rhythm, SamplerSettings};

/// The environment variable a host (the plugin, `pianola live`) reads a
/// seed from, for repeatable takes ([`PerformerSettings::seed`]).
pub const SEED_ENV: &str = "PIANOLA_SEED";

/// A choice offered to users: its values, each with a name (the command
/// line's spelling and a saved state's id) and a title (how a window shows
/// it), written once per enum.
pub trait Named: Copy + PartialEq + Sized + 'static {
    /// Every value, in the order they are offered.
    fn all() -> &'static [Self];
    /// Their names, in that order.
    fn names() -> &'static [&'static str];
    /// Their titles, in that order.
    fn titles() -> &'static [&'static str];

    /// The value's place in [`Named::all`].
    fn index(self) -> usize {
        Self::all().iter().position(|&v| v == self).unwrap_or(0)
    }

    /// The value's name.
    fn name(self) -> &'static str {
        Self::names()[self.index()]
    }

    /// The value's title.
    fn title(self) -> &'static str {
        Self::titles()[self.index()]
    }

    /// The value called `name` (its name or title, in any case).
    fn from_name(name: &str) -> Option<Self> {
        let name = name.trim().to_lowercase();
        Self::all().iter().copied().find(|v| v.name() == name)
    }
}

/// Implements [`Named`] for an enum from a table of its variants, each
/// with its name and title, in the order they are offered:
/// `named!(Feel { Model: "model" "Model", Grid: "grid" "Grid" })`.
macro_rules! named {
    ($ty:ident { $($variant:ident: $name:literal $title:literal),+ $(,)? }) => {
        impl $crate::perform::Named for $ty {
            fn all() -> &'static [Self] {
                &[$($ty::$variant),+]
            }

            fn names() -> &'static [&'static str] {
                &[$($name),+]
            }

            fn titles() -> &'static [&'static str] {
                &[$($title),+]
            }
        }
    };
}
pub(crate) use named;

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

named!(Mode { Continue: "continue" "Continue", Respond: "respond" "Respond", Echo: "echo" "Echo" });

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

// `T` for triplets reads back in either case.
named!(Division {
    Quarter: "1/4" "1/4", Eighth: "1/8" "1/8", EighthTriplet: "1/8t" "1/8T",
    Sixteenth: "1/16" "1/16", SixteenthTriplet: "1/16t" "1/16T",
});

/// The velocity of the performer's notes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Velocity {
    /// Always this velocity (1..=127).
    Fixed(u8),
    /// *Dynamics: Follow*: the player's loudness, a running mean of their
    /// velocities over the last bar; in *Model* feel the model's contour
    /// around it (`dynamics` does not apply).
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

named!(Feel { Model: "model" "Model", Grid: "grid" "Grid" });

/// How long an answer in *respond* mode lasts.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum AnswerLength {
    /// This many steps.
    Steps(u32),
    /// As many steps as the call had tokens.
    AsLongAsCall,
}

/// The range of each setting every interface offers (the plugin's
/// parameters, `pianola live`'s options) and [`PerformerSettings::clamped`]
/// keeps to.
pub mod range {
    use std::ops::RangeInclusive;

    /// *Model* feel: the scale on the model's velocities.
    pub const DYNAMICS: RangeInclusive<f64> = 0.25..=2.0;
    /// *Model* feel: beats ahead within which a planned event stands.
    pub const COMMIT_BEATS: RangeInclusive<f64> = 0.0..=1.0;
    /// *Grid* feel: the share of a step a note sounds.
    pub const GATE: RangeInclusive<f64> = 0.05..=1.0;
    /// *Respond*: beats of silence before answering.
    pub const SILENCE_BEATS: RangeInclusive<f64> = 0.25..=8.0;
    /// Softmax temperature.
    pub const TEMPERATURE: RangeInclusive<f32> = 0.0..=2.0;
    /// The octave chord tokens are voiced in on the grid.
    pub const CHORD_OCTAVE: RangeInclusive<i8> = 1..=7;
    /// MIDI channels, counted from 0.
    pub const CHANNEL: RangeInclusive<u8> = 0..=15;
    /// A fixed output velocity.
    pub const VELOCITY: RangeInclusive<u8> = 1..=127;
}

/// The performer's settings (the plugin's parameters).
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct PerformerSettings {
    /// How to answer.
    pub mode: Mode,
    /// The model's rhythm, or the grid.
    pub feel: Feel,
    /// *Model* feel: the model's velocities are scaled by this
    /// ([`range::DYNAMICS`]).
    pub dynamics: f64,
    /// *Model* feel: a planned event due within this many beats of a
    /// player's event stands (it plays); later ones are predicted again
    /// from the player's event.
    pub commit_beats: f64,
    /// The grid.
    pub division: Division,
    /// The share of a step a note sounds ([`range::GATE`]).
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

impl PerformerSettings {
    /// These settings with every value inside its [`range`] (and the
    /// sampler's Memory inside [`crate::memory::AMOUNT`], Texture inside
    /// [`crate::texture::AMOUNT`], Space inside
    /// [`crate::duet::SPACE`]): the one place
    /// the values an interface offers become the performer's. The
    /// performer takes its settings through here.
    pub fn clamped(self) -> Self {
        Self {
            dynamics: within(self.dynamics, &range::DYNAMICS),
            commit_beats: within(self.commit_beats, &range::COMMIT_BEATS),
            gate: within(self.gate, &range::GATE),
            silence_beats: within(self.silence_beats, &range::SILENCE_BEATS),
            chord_octave: within(self.chord_octave, &range::CHORD_OCTAVE),
            channel: within(self.channel, &range::CHANNEL),
            velocity: match self.velocity {
                Velocity::Fixed(v) => Velocity::Fixed(within(v, &range::VELOCITY)),
                Velocity::FollowPlayer => Velocity::FollowPlayer,
            },
            sampler: SamplerSettings {
                temperature: within(self.sampler.temperature, &range::TEMPERATURE),
                memory: within(self.sampler.memory, &crate::memory::AMOUNT),
                texture: within(self.sampler.texture, &crate::texture::AMOUNT),
                duet: DuetSettings {
                    space: within(self.sampler.duet.space, &SPACE),
                    ..self.sampler.duet
                },
                ..self.sampler
            },
            ..self
        }
    }
}

/// `value` moved into `range` (a NaN stays NaN, as `f32::clamp` leaves it).
fn within<T: PartialOrd + Copy>(value: T, range: &std::ops::RangeInclusive<T>) -> T {
    if value < *range.start() {
        *range.start()
    } else if value > *range.end() {
        *range.end()
    } else {
        value
    }
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

impl Performer {
    /// Changes the settings. A change of mode ends every note (at offset 0
    /// of the next events) and restarts the mode; a change of channel ends
    /// every note and plays on; new sampling settings, a new division or
    /// velocity reach the worker (the event network's notes depend on the
    /// step and velocity they are played at). Every value is kept inside
    /// its range ([`PerformerSettings::clamped`]). Real-time safe.
    pub fn set_settings(&mut self, settings: PerformerSettings, out: &mut impl FnMut(NoteEvent)) {
        let settings = settings.clamped();
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
}

/// What the worker predicts for: the model's rhythm, or grid steps at the
/// performer's velocity (`player_velocity` when it follows the player).
pub(super) fn rhythm_of(settings: &PerformerSettings, player_velocity: u8) -> Rhythm {
    match settings.feel {
        Feel::Model => Rhythm::Model,
        Feel::Grid => Rhythm::Grid {
            step: settings.division.twelfths(),
            velocity: grid_velocity(settings, player_velocity),
        },
    }
}

/// The velocity of the performer's grid notes: fixed, or the player's last.
pub(super) fn grid_velocity(settings: &PerformerSettings, player_velocity: u8) -> u8 {
    match settings.velocity {
        Velocity::Fixed(v) => v,
        Velocity::FollowPlayer => player_velocity,
    }
    .clamp(1, 127)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn clamped_settings_keep_every_value_in_its_range() {
        let wild = PerformerSettings {
            dynamics: 9.0,
            commit_beats: -1.0,
            gate: 0.0,
            silence_beats: 100.0,
            chord_octave: 12,
            channel: 40,
            velocity: Velocity::Fixed(0),
            sampler: SamplerSettings {
                temperature: -3.0,
                memory: 5.0,
                texture: 7.0,
                duet: DuetSettings {
                    space: -1.0,
                    ..DuetSettings::default()
                },
                ..SamplerSettings::default()
            },
            ..PerformerSettings::default()
        }
        .clamped();
        assert_eq!(wild.dynamics, *range::DYNAMICS.end());
        assert_eq!(wild.commit_beats, *range::COMMIT_BEATS.start());
        assert_eq!(wild.gate, *range::GATE.start());
        assert_eq!(wild.silence_beats, *range::SILENCE_BEATS.end());
        assert_eq!(wild.chord_octave, *range::CHORD_OCTAVE.end());
        assert_eq!(wild.channel, *range::CHANNEL.end());
        assert_eq!(wild.velocity, Velocity::Fixed(1));
        assert_eq!(wild.sampler.temperature, 0.0);
        assert_eq!(wild.sampler.memory, 1.0);
        assert_eq!(wild.sampler.texture, 1.0);
        assert_eq!(wild.sampler.duet.space, 0.0);
        let defaults = PerformerSettings::default();
        assert_eq!(defaults.clamped(), defaults, "the defaults lie inside");
    }
}
