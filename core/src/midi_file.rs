//! Writing standard MIDI files: the one writer behind `generate`'s pieces
//! and `live`'s recordings. Tracks are lists of note messages at ticks;
//! every file it writes has each note closed.

use midly::num::{u4, u7, u15, u24, u28};
use midly::{Format, Header, MetaMessage, MidiMessage, Smf, Timing, TrackEvent, TrackEventKind};

use crate::event::{Event, GRID_PER_BEAT};
use crate::token::Token;

/// Ticks per quarter note of written files.
pub const TICKS_PER_QUARTER: u16 = 480;

/// The tick of a time `beats` (quarters) from a file's start, to the
/// nearest tick (none before the start): the one conversion every writer
/// uses.
pub fn ticks_of_beats(beats: f64) -> u64 {
    (beats * f64::from(TICKS_PER_QUARTER)).round().max(0.0) as u64
}

/// A note-on (velocity 1..=127) or note-off (velocity 0) at a tick.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct NoteMessage {
    /// Ticks ([`TICKS_PER_QUARTER`] a beat) from the file's start.
    pub tick: u64,
    /// MIDI channel 0..=15.
    pub channel: u8,
    /// MIDI key.
    pub key: u8,
    /// The note-on's velocity; 0 for a note-off.
    pub velocity: u8,
}

/// One track of a file.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct NoteTrack {
    /// The track's name, if it has one.
    pub name: Option<String>,
    /// A General MIDI program to select first on channel 1, if any.
    pub program: Option<u8>,
    /// The notes, in time order (equal ticks keep their order).
    pub notes: Vec<NoteMessage>,
}

/// A MIDI file at `bpm` holding `tracks`: format 0 for one track, format 1
/// (a tempo track first) for more. Every note is closed: a note-off with no
/// note-on before it is left out, and a note still sounding at the end ends
/// at the last tick of any track.
pub fn write_tracks(tracks: &[NoteTrack], bpm: f64) -> Vec<u8> {
    write_tracks_in_meter(tracks, bpm, None)
}

/// A time signature: `numerator` beats of `1/denominator` notes a bar.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct TimeSignature {
    /// Beats in a bar.
    pub numerator: u8,
    /// The beat's note value: 4 for quarter notes, 8 for eighths (a power
    /// of two).
    pub denominator: u8,
}

impl TimeSignature {
    /// The length of a bar in quarter notes.
    pub fn quarters_per_bar(self) -> f64 {
        f64::from(self.numerator) * 4.0 / f64::from(self.denominator.max(1))
    }
}

/// As [`write_tracks`], with `time_signature` (if any) beside the tempo.
pub fn write_tracks_in_meter(
    tracks: &[NoteTrack],
    bpm: f64,
    time_signature: Option<TimeSignature>,
) -> Vec<u8> {
    let tempo = (60_000_000.0 / bpm.max(1.0))
        .round()
        .clamp(1.0, 16_777_215.0) as u32;
    let mut meta = vec![TrackEvent {
        delta: u28::new(0),
        kind: TrackEventKind::Meta(MetaMessage::Tempo(u24::new(tempo))),
    }];
    if let Some(ts) = time_signature {
        // MIDI stores the denominator as a power of two; 24 clocks per
        // click and 8 thirty-seconds per quarter are the usual values.
        let power = ts.denominator.max(1).ilog2() as u8;
        meta.push(TrackEvent {
            delta: u28::new(0),
            kind: TrackEventKind::Meta(MetaMessage::TimeSignature(
                ts.numerator.max(1),
                power,
                24,
                8,
            )),
        });
    }
    let end_tick = tracks
        .iter()
        .flat_map(|t| t.notes.iter().map(|n| n.tick))
        .max()
        .unwrap_or(0);
    let single = tracks.len() == 1;
    let mut smf_tracks = Vec::new();
    if !single {
        let mut first = meta.clone();
        first.push(end_of_track(0));
        smf_tracks.push(first);
    }
    for track in tracks {
        let mut events = Vec::new();
        if single {
            events.extend(meta.iter().copied());
        }
        if let Some(name) = &track.name {
            events.push(TrackEvent {
                delta: u28::new(0),
                kind: TrackEventKind::Meta(MetaMessage::TrackName(name.as_bytes())),
            });
        }
        if let Some(program) = track.program {
            events.push(TrackEvent {
                delta: u28::new(0),
                kind: TrackEventKind::Midi {
                    channel: u4::new(0),
                    message: MidiMessage::ProgramChange {
                        program: u7::new(program.min(127)),
                    },
                },
            });
        }
        let mut last_tick = 0;
        for note in closed_notes(&track.notes, end_tick) {
            let key = u7::new(note.key & 0x7F);
            let message = match note.velocity {
                0 => MidiMessage::NoteOff {
                    key,
                    vel: u7::new(0),
                },
                velocity => MidiMessage::NoteOn {
                    key,
                    vel: u7::new(velocity.min(127)),
                },
            };
            events.push(TrackEvent {
                delta: u28::new(note.tick.saturating_sub(last_tick).min(0x0FFF_FFFF) as u32),
                kind: TrackEventKind::Midi {
                    channel: u4::new(note.channel & 0x0F),
                    message,
                },
            });
            last_tick = last_tick.max(note.tick);
        }
        events.push(end_of_track(end_tick.saturating_sub(last_tick)));
        smf_tracks.push(events);
    }
    let format = if single {
        Format::SingleTrack
    } else {
        Format::Parallel
    };
    let smf = Smf {
        header: Header::new(format, Timing::Metrical(u15::new(TICKS_PER_QUARTER))),
        tracks: smf_tracks,
    };
    let mut bytes = Vec::new();
    smf.write_std(&mut bytes)
        .expect("writing to memory cannot fail");
    bytes
}

fn end_of_track(delta: u64) -> TrackEvent<'static> {
    TrackEvent {
        delta: u28::new(delta.min(0x0FFF_FFFF) as u32),
        kind: TrackEventKind::Meta(MetaMessage::EndOfTrack),
    }
}

/// `notes` in tick order with every note closed by `end_tick` (see
/// [`write_tracks`]).
fn closed_notes(notes: &[NoteMessage], end_tick: u64) -> Vec<NoteMessage> {
    let mut sorted = notes.to_vec();
    sorted.sort_by_key(|n| n.tick);
    let mut sounding = [[0u8; 128]; 16];
    let mut closed = Vec::with_capacity(sorted.len());
    for note in sorted {
        let count = &mut sounding[usize::from(note.channel & 0x0F)][usize::from(note.key & 0x7F)];
        if note.velocity > 0 {
            *count = count.saturating_add(1);
        } else if *count > 0 {
            *count -= 1;
        } else {
            continue;
        }
        closed.push(note);
    }
    for (channel, keys) in sounding.iter().enumerate() {
        for (key, &count) in keys.iter().enumerate() {
            for _ in 0..count {
                closed.push(NoteMessage {
                    tick: end_tick,
                    channel: channel as u8,
                    key: key as u8,
                    velocity: 0,
                });
            }
        }
    }
    closed
}

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
            bpm: crate::tempo::DEFAULT_BPM,
            velocity: 80,
            chord_octave: crate::token::SEED_CHORD_OCTAVE,
            program: 0,
        }
    }
}

/// A format-0 MIDI file playing `tokens` on channel 1, one every
/// `step_beats`, each sounding until the next starts.
pub fn write_tokens(tokens: &[Token], settings: &MidiWriteSettings) -> Vec<u8> {
    let step_ticks = ticks_of_beats(settings.step_beats).max(1);
    let velocity = settings.velocity.clamp(1, 127);
    let mut notes = Vec::new();
    for (i, token) in tokens.iter().enumerate() {
        let on = i as u64 * step_ticks;
        // Offs first, so a repeated key is released before it is struck again.
        for key in token.pitches(settings.chord_octave).iter() {
            let message = |tick, velocity| NoteMessage {
                tick,
                channel: 0,
                key,
                velocity,
            };
            notes.push(message(on, velocity));
            notes.push(message(on + step_ticks, 0));
        }
    }
    // Equal ticks keep their order: each step's note-offs before its note-ons.
    notes.sort_by_key(|n| (n.tick, n.velocity > 0));
    let track = NoteTrack {
        name: None,
        program: Some(settings.program),
        notes,
    };
    write_tracks(&[track], settings.bpm)
}

/// A MIDI file at `bpm` playing `events` on channel 1 with their timing,
/// lengths, velocities and voicing, that the corpus reader reads back as
/// the same events. Each event goes in the first track where none of its
/// keys still sounds (a key struck again would end the sounding note), after
/// the track of an event that starts with it (events that start together
/// stay separate tokens, in their order).
pub fn write_events(events: &[Event], bpm: f64) -> Vec<u8> {
    let ticks = |twelfths: u32| ticks_of_beats(f64::from(twelfths) / f64::from(GRID_PER_BEAT));
    let mut tracks: Vec<NoteTrack> = Vec::new();
    // Per track: the tick each key's note ends.
    let mut sounding_until: Vec<[u64; 128]> = Vec::new();
    let mut onset_twelfths = 0u32;
    let mut previous_track = None;
    for (i, event) in events.iter().enumerate() {
        onset_twelfths += event.when;
        let onset = ticks(onset_twelfths);
        let together = i > 0 && event.when == 0;
        let first_allowed = match previous_track {
            Some(track) if together => track + 1,
            _ => 0,
        };
        let keys = event.pitches();
        let track = (first_allowed..)
            .find(|&t| {
                sounding_until
                    .get(t)
                    .is_none_or(|until| keys.iter().all(|key| until[usize::from(key)] <= onset))
            })
            .expect("a free track exists");
        while tracks.len() <= track {
            tracks.push(NoteTrack::default());
            sounding_until.push([0; 128]);
        }
        let end = ticks(onset_twelfths + event.hold.max(1));
        for key in keys.iter() {
            let note = |tick, velocity| NoteMessage {
                tick,
                channel: 0,
                key,
                velocity,
            };
            tracks[track]
                .notes
                .extend([note(onset, event.velocity.clamp(1, 127)), note(end, 0)]);
            sounding_until[track][usize::from(key)] = end;
        }
        previous_track = Some(track);
    }
    for track in &mut tracks {
        // A note ending where the same key starts again ends first.
        track.notes.sort_by_key(|n| (n.tick, n.velocity > 0));
    }
    if tracks.is_empty() {
        tracks.push(NoteTrack::default());
    }
    write_tracks(&tracks, bpm)
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
    fn every_note_is_closed_and_a_lone_note_off_is_left_out() {
        let at = |tick, key, velocity| NoteMessage {
            tick,
            channel: 1,
            key,
            velocity,
        };
        let track = NoteTrack {
            name: Some("pianola".into()),
            program: None,
            notes: vec![at(0, 60, 0), at(10, 62, 80), at(480, 64, 80)],
        };
        let other = NoteTrack {
            notes: vec![at(960, 50, 70), at(1_000, 50, 0)],
            ..NoteTrack::default()
        };
        let bytes = write_tracks(&[track, other], 120.0);
        let smf = Smf::parse(&bytes).unwrap();
        assert_eq!(smf.tracks.len(), 3, "tempo track, then the two");
        let mut tick = 0;
        let notes: Vec<(u64, u8, bool)> = smf.tracks[1]
            .iter()
            .filter_map(|e| {
                tick += u64::from(e.delta.as_int());
                match e.kind {
                    TrackEventKind::Midi {
                        message: MidiMessage::NoteOn { key, .. },
                        ..
                    } => Some((tick, key.as_int(), true)),
                    TrackEventKind::Midi {
                        message: MidiMessage::NoteOff { key, .. },
                        ..
                    } => Some((tick, key.as_int(), false)),
                    _ => None,
                }
            })
            .collect();
        assert_eq!(
            notes,
            vec![
                (10, 62, true),
                (480, 64, true),
                (1_000, 62, false),
                (1_000, 64, false)
            ]
        );
    }

    #[test]
    fn the_time_signature_goes_beside_the_tempo() {
        let meter = TimeSignature {
            numerator: 6,
            denominator: 8,
        };
        assert_eq!(meter.quarters_per_bar(), 3.0);
        let tracks = [NoteTrack::default(), NoteTrack::default()];
        let bytes = write_tracks_in_meter(&tracks, 90.0, Some(meter));
        let smf = Smf::parse(&bytes).unwrap();
        let metas: Vec<_> = smf.tracks[0].iter().map(|e| e.kind).collect();
        assert!(
            metas.contains(&TrackEventKind::Meta(MetaMessage::TimeSignature(
                6, 3, 24, 8
            )))
        );
        assert!(metas.contains(&TrackEventKind::Meta(MetaMessage::Tempo(u24::new(666_667)))));
    }

    #[test]
    fn an_empty_piece_is_a_valid_file() {
        let bytes = write_tokens(&[], &MidiWriteSettings::default());
        assert_eq!(tokens_from_bytes(&bytes).unwrap(), Vec::<Token>::new());
    }
}
