//! Writing tokens into a standard MIDI file, one token per step.

use midly::num::{u4, u7, u15, u24, u28};
use midly::{Format, Header, MetaMessage, MidiMessage, Smf, Timing, TrackEvent, TrackEventKind};

use crate::token::Token;

/// Ticks per quarter note of written files.
pub const TICKS_PER_QUARTER: u16 = 480;

/// How tokens become notes in a file.
#[derive(Clone, Debug, PartialEq)]
pub struct MidiWriteSettings {
    /// Beats from one token to the next (the seed: 0.5).
    pub step_beats: f64,
    /// Tempo in beats per minute.
    pub bpm: f64,
    /// Note-on velocity (1..=127).
    pub velocity: u8,
    /// The octave chords are voiced in (the seed: 4).
    pub chord_octave: i8,
    /// The General MIDI program (0: acoustic grand piano).
    pub program: u8,
}

impl Default for MidiWriteSettings {
    fn default() -> Self {
        Self {
            step_beats: 0.5,
            bpm: 120.0,
            velocity: 80,
            chord_octave: crate::token::SEED_CHORD_OCTAVE,
            program: 0,
        }
    }
}

/// A format-0 MIDI file playing `tokens` on channel 1, one every
/// `step_beats`, each sounding until the next starts.
pub fn write_tokens(tokens: &[Token], settings: &MidiWriteSettings) -> Vec<u8> {
    let step_ticks = (settings.step_beats * f64::from(TICKS_PER_QUARTER))
        .round()
        .max(1.0) as u32;
    let tempo = (60_000_000.0 / settings.bpm.max(1.0))
        .round()
        .clamp(1.0, 16_777_215.0) as u32;
    let channel = u4::new(0);
    let velocity = u7::new(settings.velocity.clamp(1, 127));
    let mut events = vec![
        TrackEvent {
            delta: u28::new(0),
            kind: TrackEventKind::Meta(MetaMessage::Tempo(u24::new(tempo))),
        },
        TrackEvent {
            delta: u28::new(0),
            kind: TrackEventKind::Midi {
                channel,
                message: MidiMessage::ProgramChange {
                    program: u7::new(settings.program.min(127)),
                },
            },
        },
    ];
    let mut delta = 0;
    let mut sounding: Vec<u8> = Vec::new();
    for token in tokens {
        // Offs first, so a repeated key is released before it is struck again.
        for key in sounding.drain(..) {
            events.push(note(delta, channel, key, None));
            delta = 0;
        }
        for key in token.pitches(settings.chord_octave).iter() {
            events.push(note(delta, channel, key, Some(velocity)));
            delta = 0;
            sounding.push(key);
        }
        delta = step_ticks;
    }
    for key in sounding.drain(..) {
        events.push(note(delta, channel, key, None));
        delta = 0;
    }
    events.push(TrackEvent {
        delta: u28::new(delta),
        kind: TrackEventKind::Meta(MetaMessage::EndOfTrack),
    });
    let smf = Smf {
        header: Header::new(
            Format::SingleTrack,
            Timing::Metrical(u15::new(TICKS_PER_QUARTER)),
        ),
        tracks: vec![events],
    };
    let mut bytes = Vec::new();
    smf.write_std(&mut bytes)
        .expect("writing to memory cannot fail");
    bytes
}

fn note(delta: u32, channel: u4, key: u8, velocity: Option<u7>) -> TrackEvent<'static> {
    let key = u7::new(key);
    let message = match velocity {
        Some(vel) => MidiMessage::NoteOn { key, vel },
        None => MidiMessage::NoteOff {
            key,
            vel: u7::new(0),
        },
    };
    TrackEvent {
        delta: u28::new(delta),
        kind: TrackEventKind::Midi { channel, message },
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::corpus::tokens_from_bytes;

    #[test]
    fn written_tokens_read_back_exactly() {
        let texts = [
            "C4", "C4", "9.0.4", "0", "E-5", "4.9", "4.9", "B-3", "11.2.6", "G9", "A0",
        ];
        let tokens: Vec<Token> = texts.iter().map(|t| t.parse().unwrap()).collect();
        for step in [0.25, 0.5, 1.0 / 3.0, 1.5] {
            let settings = MidiWriteSettings {
                step_beats: step,
                ..Default::default()
            };
            let bytes = write_tokens(&tokens, &settings);
            assert_eq!(tokens_from_bytes(&bytes).unwrap(), tokens, "step {step}");
        }
    }

    #[test]
    fn an_empty_piece_is_a_valid_file() {
        let bytes = write_tokens(&[], &MidiWriteSettings::default());
        assert_eq!(tokens_from_bytes(&bytes).unwrap(), Vec::<Token>::new());
    }
}
