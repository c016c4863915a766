//! `--record`: the session as a two-track MIDI file (the player's notes,
//! then Pianola's), in real time.

use std::path::Path;

use midly::num::{u4, u7, u15, u24, u28};
use midly::{Format, Header, MetaMessage, MidiMessage, Smf, Timing, TrackEvent, TrackEventKind};

use super::engine::Recorded;

/// Ticks per quarter note in the file.
const TICKS_PER_BEAT: u16 = 480;
/// The file's tempo: 120 BPM, so that a second is 960 ticks.
const MICROSECONDS_PER_BEAT: u32 = 500_000;

/// The recorded notes as a format-1 MIDI file: a tempo track, then one
/// track per `track` number (0: the player, 1: Pianola), each named. Every
/// note is closed: a note-off without its note-on (a recording that began
/// mid-note) is left out, and a note still open at the end (the session
/// ended abruptly) ends with the session's last message.
pub fn to_smf_bytes(notes: &[Recorded], sample_rate: f64) -> std::io::Result<Vec<u8>> {
    let ticks_per_second = f64::from(TICKS_PER_BEAT) * 1e6 / f64::from(MICROSECONDS_PER_BEAT);
    let tempo_track = vec![
        TrackEvent {
            delta: u28::new(0),
            kind: TrackEventKind::Meta(MetaMessage::Tempo(u24::new(MICROSECONDS_PER_BEAT))),
        },
        TrackEvent {
            delta: u28::new(0),
            kind: TrackEventKind::Meta(MetaMessage::EndOfTrack),
        },
    ];
    let tick_of = |frame: u64| (frame as f64 / sample_rate * ticks_per_second).round() as u64;
    let end_tick = notes.iter().map(|n| tick_of(n.frame)).max().unwrap_or(0);
    let mut tracks = vec![tempo_track];
    for (track, name) in [(0u8, "player"), (1u8, "pianola")] {
        // Notes sounding per channel and key.
        let mut open = [[0u8; 128]; 16];
        let mut events = vec![TrackEvent {
            delta: u28::new(0),
            kind: TrackEventKind::Meta(MetaMessage::TrackName(name.as_bytes())),
        }];
        let mut last_tick = 0u64;
        let mut push = |tick: u64, channel: u8, message: MidiMessage| {
            events.push(TrackEvent {
                delta: u28::new((tick.saturating_sub(last_tick)).min(0x0FFF_FFFF) as u32),
                kind: TrackEventKind::Midi {
                    channel: u4::new(channel),
                    message,
                },
            });
            last_tick = last_tick.max(tick);
        };
        for note in notes.iter().filter(|n| n.track == track) {
            let [status, key, velocity] = note.message;
            let (channel, key) = (status & 0x0F, key & 0x7F);
            let sounding = &mut open[usize::from(channel)][usize::from(key)];
            let message = if status & 0xF0 == 0x90 && velocity > 0 {
                *sounding = sounding.saturating_add(1);
                MidiMessage::NoteOn {
                    key: u7::new(key),
                    vel: u7::new(velocity & 0x7F),
                }
            } else if *sounding > 0 {
                *sounding -= 1;
                MidiMessage::NoteOff {
                    key: u7::new(key),
                    vel: u7::new(0),
                }
            } else {
                continue;
            };
            push(tick_of(note.frame), channel, message);
        }
        for (channel, keys) in open.iter().enumerate() {
            for (key, &count) in keys.iter().enumerate() {
                for _ in 0..count {
                    let message = MidiMessage::NoteOff {
                        key: u7::new(key as u8),
                        vel: u7::new(0),
                    };
                    push(end_tick, channel as u8, message);
                }
            }
        }
        events.push(TrackEvent {
            delta: u28::new(0),
            kind: TrackEventKind::Meta(MetaMessage::EndOfTrack),
        });
        tracks.push(events);
    }
    let smf = Smf {
        header: Header::new(Format::Parallel, Timing::Metrical(u15::new(TICKS_PER_BEAT))),
        tracks,
    };
    let mut bytes = Vec::new();
    smf.write_std(&mut bytes)?;
    Ok(bytes)
}

/// Writes the recording to `path` (atomically).
pub fn write(path: &Path, notes: &[Recorded], sample_rate: f64) -> std::io::Result<()> {
    let bytes = to_smf_bytes(notes, sample_rate)?;
    pianola_core::atomic_file::write(path, &bytes)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_recording_reads_back_with_both_tracks() {
        let notes = [
            Recorded {
                frame: 0,
                track: 0,
                message: [0x90, 60, 100],
            },
            Recorded {
                frame: 24_000,
                track: 1,
                message: [0x91, 64, 90],
            },
            Recorded {
                frame: 48_000,
                track: 0,
                message: [0x80, 60, 0],
            },
            Recorded {
                frame: 48_000,
                track: 1,
                message: [0x81, 64, 0],
            },
        ];
        let bytes = to_smf_bytes(&notes, 48_000.0).unwrap();
        let smf = Smf::parse(&bytes).unwrap();
        assert_eq!(smf.tracks.len(), 3);
        let pianola_on = smf.tracks[2]
            .iter()
            .find(|e| {
                matches!(
                    e.kind,
                    TrackEventKind::Midi {
                        message: MidiMessage::NoteOn { .. },
                        ..
                    }
                )
            })
            .unwrap();
        // Half a second at 960 ticks a second.
        assert_eq!(pianola_on.delta.as_int(), 480);
        assert_eq!(smf.tracks[1].len(), 4, "name, on, off, end");
    }

    /// The (key, on) note messages of a track.
    fn notes_of(track: &[TrackEvent]) -> Vec<(u8, bool)> {
        track
            .iter()
            .filter_map(|e| match e.kind {
                TrackEventKind::Midi {
                    message: MidiMessage::NoteOn { key, .. },
                    ..
                } => Some((key.as_int(), true)),
                TrackEventKind::Midi {
                    message: MidiMessage::NoteOff { key, .. },
                    ..
                } => Some((key.as_int(), false)),
                _ => None,
            })
            .collect()
    }

    #[test]
    fn every_note_is_closed_and_no_note_off_comes_first() {
        let at = |frame, message| Recorded {
            frame,
            track: 1,
            message,
        };
        // A note-off from before the recording, then a note left open.
        let notes = [
            at(0, [0x80, 60, 0]),
            at(100, [0x90, 62, 80]),
            at(9_600, [0x90, 64, 80]),
        ];
        let bytes = to_smf_bytes(&notes, 48_000.0).unwrap();
        let smf = Smf::parse(&bytes).unwrap();
        assert_eq!(
            notes_of(&smf.tracks[2]),
            vec![(62, true), (64, true), (62, false), (64, false)]
        );
    }
}
