//! The plugin's parameters and how they become the performer's settings.

use std::path::PathBuf;
use std::sync::Arc;

use nice_plug::prelude::*;
use pianola_core::duet::{self, Chords, DuetSettings, Range};
use pianola_core::key::{Key, KeyMode};
use pianola_core::perform::{
    AnswerLength, Division, Feel, Mode, Named, PerformerSettings, SEED_ENV, Velocity, range,
};
use pianola_core::sample::SamplerSettings;
use pianola_core::token::Token;
use pianola_core::{memory, texture};

use crate::editor::EditorState;
use crate::model_slot::ModelSlot;
use crate::session_state::SessionState;

/// A choice parameter's value: one of a core enum's values, listed by
/// their titles and saved by their names ([`Named`]). Mode, Division and
/// Feel are `Choice<Mode>`, `Choice<Division>`, `Choice<Feel>`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Choice<T>(pub T);

impl<T: Named> Enum for Choice<T> {
    fn variants() -> &'static [&'static str] {
        T::titles()
    }

    fn ids() -> Option<&'static [&'static str]> {
        Some(T::names())
    }

    fn to_index(self) -> usize {
        self.0.index()
    }

    fn from_index(index: usize) -> Self {
        Choice(T::all().get(index).copied().unwrap_or(T::all()[0]))
    }
}

/// The *key* parameter's value: play in any key, follow the player's key,
/// or keep to a fixed major or minor key; the performer's [`KeyMode`] by
/// [`KeyChoice::mode`] (the list names keys, where a mode's scale cannot
/// tell a major key from its relative minor).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum KeyChoice {
    /// Any key.
    Off,
    /// The key of what is played, estimated as it goes.
    Follow,
    /// This key.
    Fixed(Key),
}

/// The key parameter's titles: Off, Follow, then the 24 keys (majors first).
const KEY_TITLES: [&str; 26] = [
    "Off", "Follow", "C major", "C# major", "D major", "E- major", "E major", "F major",
    "F# major", "G major", "G# major", "A major", "B- major", "B major", "C minor", "C# minor",
    "D minor", "E- minor", "E minor", "F minor", "F# minor", "G minor", "G# minor", "A minor",
    "B- minor", "B minor",
];
/// The key parameter's saved ids.
const KEY_IDS: [&str; 26] = [
    "off", "follow", "c", "c#", "d", "e-", "e", "f", "f#", "g", "g#", "a", "b-", "b", "cm", "c#m",
    "dm", "e-m", "em", "fm", "f#m", "gm", "g#m", "am", "b-m", "bm",
];

impl KeyChoice {
    /// The performer's key mode for this choice.
    pub fn mode(self) -> KeyMode {
        match self {
            KeyChoice::Off => KeyMode::Free,
            KeyChoice::Follow => KeyMode::Follow,
            KeyChoice::Fixed(key) => KeyMode::Scale(key.scale()),
        }
    }
}

impl Enum for KeyChoice {
    fn variants() -> &'static [&'static str] {
        &KEY_TITLES
    }

    fn ids() -> Option<&'static [&'static str]> {
        Some(&KEY_IDS)
    }

    fn to_index(self) -> usize {
        match self {
            KeyChoice::Off => 0,
            KeyChoice::Follow => 1,
            KeyChoice::Fixed(key) => 2 + usize::from(key.index()),
        }
    }

    fn from_index(index: usize) -> Self {
        match index {
            1 => KeyChoice::Follow,
            _ => index
                .checked_sub(2)
                .and_then(|k| u8::try_from(k).ok())
                .and_then(Key::from_index)
                .map_or(KeyChoice::Off, KeyChoice::Fixed),
        }
    }
}

/// Every parameter, plus the persisted model choice. A user weights file
/// comes from the saved state, or at first from the `PIANOLA_MODEL`
/// environment variable; the seed at first from `PIANOLA_SEED`
/// ([`SEED_ENV`]).
#[derive(Params)]
pub struct PianolaParams {
    /// The weights file the user chose, and what became of it.
    #[persist = "model"]
    pub model: ModelSlot,
    /// The editor's size and Capture's settings.
    #[persist = "editor"]
    pub editor: EditorState,
    /// The session memory: what was played, so phrases come back.
    #[persist = "memory"]
    pub session: SessionState,

    /// The host's bypass: the input passes through, the performer is silent.
    #[id = "bypass"]
    pub bypass: BoolParam,
    /// How the performer answers.
    #[id = "mode"]
    pub mode: EnumParam<Choice<Mode>>,
    /// The grid.
    #[id = "division"]
    pub division: EnumParam<Choice<Division>>,
    /// The model's rhythm, lengths, dynamics and voicing, or the grid.
    #[id = "feel"]
    pub feel: EnumParam<Choice<Feel>>,
    /// *Model* feel: the model's velocities scaled by this.
    #[id = "dynamics"]
    pub dynamics: FloatParam,
    /// *Model* feel: beats ahead within which a planned event stands when
    /// the player plays.
    #[id = "commit"]
    pub commit: FloatParam,

    /// Keep to a key: off, follow the player's, or a fixed one.
    #[id = "key"]
    pub key: EnumParam<KeyChoice>,
    /// The share of a step a note sounds.
    #[id = "gate"]
    pub gate: FloatParam,
    /// Softmax temperature (0: always the most likely token).
    #[id = "temperature"]
    pub temperature: FloatParam,
    /// Keep only the k most likely tokens (0: off).
    #[id = "top-k"]
    pub top_k: IntParam,
    /// *Respond*: steps per answer (0: as many as the call had).
    #[id = "response-length"]
    pub response_length: IntParam,
    /// *Respond*: beats of silence before answering.
    #[id = "silence"]
    pub silence: FloatParam,
    /// Output velocity (0: *Dynamics: Follow*, the player's loudness).
    #[id = "velocity"]
    pub velocity: IntParam,
    /// Output MIDI channel, 1..=16.
    #[id = "channel"]
    pub channel: IntParam,
    /// Pass the player's notes through.
    #[id = "thru"]
    pub thru: BoolParam,
    /// The octave chord tokens are voiced in.
    #[id = "chord-octave"]
    pub chord_octave: IntParam,
    /// Ends every sounding note when it turns on.
    #[id = "all-notes-off"]
    pub all_notes_off: BoolParam,
    /// For repeatable takes: the sampler's seed (0: a new take every time).
    #[id = "seed"]
    pub seed: IntParam,
    /// How much the session memory leads: phrases heard in the session
    /// come back (0 %: the network alone).
    #[id = "memory"]
    pub memory: FloatParam,
    /// How much room Pianola leaves while the player plays (0 %: none,
    /// 50 %: no more notes than the player, 100 %: silent while they play).
    #[id = "space"]
    pub space: FloatParam,
    /// Where Pianola plays: anywhere, below, above or around the player, or
    /// between two keys.
    #[id = "range"]
    pub range: EnumParam<Choice<Range>>,
    /// *Range* = Between keys: the lowest key.
    #[id = "range-low"]
    pub range_low: IntParam,
    /// *Range* = Between keys: the highest key.
    #[id = "range-high"]
    pub range_high: IntParam,
    /// Fit the chord the player holds.
    #[id = "chords"]
    pub chords: EnumParam<Choice<Chords>>,
    /// How far Pianola follows the texture of the player's playing: how
    /// many keys at once, how far apart and where in the beat and the bar,
    /// how long and how often resting, over which keys, and no pitch class
    /// more often than the player (0 %: the model's own).
    #[id = "texture"]
    pub texture: FloatParam,
}

/// The largest seed the Seed parameter takes.
const MAX_SEED: i32 = 9999;

/// Reads a parameter's value from text (nice-plug's formatter type).
type Parse<T> = Arc<dyn Fn(&str) -> Option<T> + Send + Sync>;

/// Text for an integer parameter whose 0 means something else.
fn zero_means(zero: &'static str) -> Arc<dyn Fn(i32) -> String + Send + Sync> {
    Arc::new(move |value| {
        if value == 0 {
            zero.to_string()
        } else {
            value.to_string()
        }
    })
}

/// Parses what [`zero_means`] writes.
fn zero_means_parse(zero: &'static str) -> Parse<i32> {
    Arc::new(move |text| {
        let text = text.trim();
        if text.eq_ignore_ascii_case(zero) {
            Some(0)
        } else {
            text.parse().ok()
        }
    })
}

/// A parameter's range from core's ([`range`]).
fn float_range(range: &std::ops::RangeInclusive<f64>) -> FloatRange {
    FloatRange::Linear {
        min: *range.start() as f32,
        max: *range.end() as f32,
    }
}

/// A MIDI key parameter's text: its note name (60 is C4).
fn key_name() -> Arc<dyn Fn(i32) -> String + Send + Sync> {
    Arc::new(|key| Token::Note(key.clamp(0, 127) as u8).to_string())
}

/// Parses what [`key_name`] writes, or a key's number.
fn key_name_parse() -> Parse<i32> {
    Arc::new(|text| match text.trim().parse::<Token>() {
        Ok(Token::Note(key)) => Some(i32::from(key)),
        _ => text.trim().parse().ok(),
    })
}

/// A MIDI key parameter.
fn key_param(name: &str, key: u8) -> IntParam {
    IntParam::new(name, i32::from(key), IntRange::Linear { min: 0, max: 127 })
        .with_value_to_string(key_name())
        .with_string_to_value(key_name_parse())
}

/// A parameter's range from one of core's `f32` ranges.
fn range_f32(range: &std::ops::RangeInclusive<f32>) -> FloatRange {
    FloatRange::Linear {
        min: *range.start(),
        max: *range.end(),
    }
}

/// A parameter shown as a whole percentage, in steps of 1 %.
fn percent_param(name: &str, value: f32, range: FloatRange) -> FloatParam {
    FloatParam::new(name, value, range)
        .with_step_size(0.01)
        .with_value_to_string(formatters::v2s_f32_percentage(0))
        .with_string_to_value(formatters::s2v_f32_percentage())
}

/// Text for a float with `digits` decimals and a unit.
fn decimals(digits: usize, unit: &'static str) -> Arc<dyn Fn(f32) -> String + Send + Sync> {
    Arc::new(move |value| format!("{value:.digits$}{unit}"))
}

/// Parses what [`decimals`] writes (the unit may be left out).
fn decimals_parse(unit: &'static str) -> Parse<f32> {
    Arc::new(move |text| {
        let text = text.trim();
        let text = text.strip_suffix(unit.trim()).unwrap_or(text);
        text.trim().parse().ok()
    })
}

impl Default for PianolaParams {
    fn default() -> Self {
        let performer = PerformerSettings::default();
        let sampler = SamplerSettings::default();
        let duet = sampler.duet;
        let default_model = std::env::var_os("PIANOLA_MODEL").map(PathBuf::from);
        let default_seed = std::env::var(SEED_ENV)
            .ok()
            .and_then(|seed| seed.trim().parse::<i32>().ok())
            .map_or(0, |seed| seed.clamp(0, MAX_SEED));
        Self {
            model: ModelSlot::new(default_model),
            editor: EditorState::default(),
            session: SessionState::default(),
            bypass: BoolParam::new("Bypass", false).make_bypass(),
            mode: EnumParam::new("Mode", Choice(performer.mode)),
            division: EnumParam::new("Division", Choice(performer.division)),
            feel: EnumParam::new("Feel", Choice(performer.feel)),
            dynamics: percent_param(
                "Dynamics",
                performer.dynamics as f32,
                float_range(&range::DYNAMICS),
            ),
            commit: FloatParam::new(
                "Commit",
                performer.commit_beats as f32,
                float_range(&range::COMMIT_BEATS),
            )
            .with_step_size(1.0 / 48.0)
            .with_value_to_string(decimals(3, " beats"))
            .with_string_to_value(decimals_parse(" beats")),
            key: EnumParam::new("Key", KeyChoice::Off),
            gate: percent_param("Gate", performer.gate as f32, float_range(&range::GATE)),
            temperature: FloatParam::new(
                "Temperature",
                sampler.temperature,
                range_f32(&range::TEMPERATURE),
            )
            .with_step_size(0.01)
            .with_value_to_string(decimals(2, ""))
            .with_string_to_value(decimals_parse("")),
            top_k: IntParam::new(
                "Top-k",
                sampler.top_k as i32,
                IntRange::Linear { min: 0, max: 100 },
            )
            .with_value_to_string(zero_means("Off"))
            .with_string_to_value(zero_means_parse("Off")),
            response_length: IntParam::new(
                "Response length",
                8,
                IntRange::Linear { min: 0, max: 64 },
            )
            .with_value_to_string(zero_means("As call"))
            .with_string_to_value(zero_means_parse("As call")),
            silence: FloatParam::new(
                "Silence before answering",
                performer.silence_beats as f32,
                float_range(&range::SILENCE_BEATS),
            )
            .with_step_size(0.25)
            .with_value_to_string(decimals(2, " beats"))
            .with_string_to_value(decimals_parse(" beats")),
            velocity: IntParam::new("Velocity", 90, IntRange::Linear { min: 0, max: 127 })
                .with_value_to_string(zero_means("Follow"))
                .with_string_to_value(zero_means_parse("Follow")),
            channel: IntParam::new("Output channel", 1, IntRange::Linear { min: 1, max: 16 }),
            thru: BoolParam::new("MIDI thru", performer.thru),
            chord_octave: IntParam::new(
                "Chord octave",
                i32::from(performer.chord_octave),
                IntRange::Linear {
                    min: i32::from(*range::CHORD_OCTAVE.start()),
                    max: i32::from(*range::CHORD_OCTAVE.end()),
                },
            ),
            all_notes_off: BoolParam::new("All notes off", false),
            seed: IntParam::new(
                "Seed",
                default_seed,
                IntRange::Linear {
                    min: 0,
                    max: MAX_SEED,
                },
            )
            .non_automatable()
            .with_value_to_string(zero_means("Random"))
            .with_string_to_value(zero_means_parse("Random")),
            memory: percent_param("Memory", sampler.memory, range_f32(&memory::AMOUNT)),
            space: percent_param("Space", duet.space, range_f32(&duet::SPACE)),
            range: EnumParam::new("Range", Choice(duet.range)),
            range_low: key_param("Range low", duet.keys.0),
            range_high: key_param("Range high", duet.keys.1),
            chords: EnumParam::new("Chords", Choice(duet.chords)),
            texture: percent_param("Texture", sampler.texture, range_f32(&texture::AMOUNT)),
        }
    }
}

impl PianolaParams {
    /// The performer's settings for the current parameter values.
    /// Real-time safe.
    pub fn performer_settings(&self) -> PerformerSettings {
        let defaults = PerformerSettings::default();
        let velocity = match self.velocity.value() {
            0 => Velocity::FollowPlayer,
            v => Velocity::Fixed(v as u8),
        };
        let answer_length = match self.response_length.value() {
            0 => AnswerLength::AsLongAsCall,
            n => AnswerLength::Steps(n as u32),
        };
        PerformerSettings {
            mode: self.mode.value().0,
            feel: self.feel.value().0,
            dynamics: (f64::from(self.dynamics.value()) * 1e4).round() / 1e4,
            commit_beats: (f64::from(self.commit.value()) * 1e4).round() / 1e4,
            division: self.division.value().0,
            // f32 parameters read as the decimals a user typed.
            gate: (f64::from(self.gate.value()) * 1e4).round() / 1e4,
            velocity,
            channel: (self.channel.value() - 1).max(0) as u8,
            thru: self.thru.value(),
            chord_octave: self.chord_octave.value() as i8,
            chord_tolerance_beats: defaults.chord_tolerance_beats,
            silence_beats: (f64::from(self.silence.value()) * 1e4).round() / 1e4,
            answer_length,
            seed: u64::try_from(self.seed.value())
                .ok()
                .filter(|&seed| seed > 0),
            sampler: SamplerSettings {
                temperature: self.temperature.value(),
                top_k: self.top_k.value().max(0) as usize,
                key: self.key.value().mode(),
                memory: self.memory.value(),
                texture: self.texture.value(),
                duet: DuetSettings {
                    space: self.space.value(),
                    range: self.range.value().0,
                    keys: (
                        self.range_low.value().clamp(0, 127) as u8,
                        self.range_high.value().clamp(0, 127) as u8,
                    ),
                    chords: self.chords.value().0,
                },
                ..SamplerSettings::default()
            },
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_parameter_text_round_trips() {
        let params = PianolaParams::default();
        for (id, ptr, _) in params.param_map() {
            for step in 0..=20 {
                let normalized = step as f32 / 20.0;
                // SAFETY: the pointers come from `params`, which outlives them.
                unsafe {
                    let text = ptr.normalized_value_to_string(normalized, true);
                    let back = ptr
                        .string_to_normalized_value(&text)
                        .unwrap_or_else(|| panic!("{id}: {text:?} does not parse"));
                    let again = ptr.normalized_value_to_string(back, true);
                    assert_eq!(text, again, "{id}: {normalized} -> {text:?} -> {back}");
                }
            }
        }
    }

    #[test]
    fn the_key_parameter_names_every_key_as_core_does() {
        for key in Key::all() {
            let choice = KeyChoice::Fixed(key);
            assert_eq!(KeyChoice::variants()[choice.to_index()], key.to_string());
            assert_eq!(KeyChoice::from_index(choice.to_index()), choice);
        }
        assert_eq!(KeyChoice::from_index(0), KeyChoice::Off);
        assert_eq!(KeyChoice::from_index(1), KeyChoice::Follow);
        assert_eq!(KeyChoice::from_index(99), KeyChoice::Off);
    }

    #[test]
    fn defaults_are_the_performers_defaults() {
        let settings = PianolaParams::default().performer_settings();
        assert_eq!(settings, PerformerSettings::default());
    }
}
