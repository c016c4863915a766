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
/// track per `track` number (0: the player, 1: Pianola), each named.
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
    let mut tracks = vec![tempo_track];
    for (track, name) in [(0u8, "player"), (1u8, "pianola")] {
        let mut events = vec![TrackEvent {
            delta: u28::new(0),
            kind: TrackEventKind::Meta(MetaMessage::TrackName(name.as_bytes())),
        }];
        let mut last_tick = 0u64;
        for note in notes.iter().filter(|n| n.track == track) {
            let tick = (note.frame as f64 / sample_rate * ticks_per_second).round() as u64;
            let [status, key, velocity] = note.message;
            let channel = u4::new(status & 0x0F);
            let key = u7::new(key & 0x7F);
            let message = if status & 0xF0 == 0x90 && velocity > 0 {
                MidiMessage::NoteOn {
                    key,
                    vel: u7::new(velocity & 0x7F),
                }
            } else {
                MidiMessage::NoteOff {
                    key,
                    vel: u7::new(0),
                }
            };
            events.push(TrackEvent {
                delta: u28::new((tick.saturating_sub(last_tick)).min(0x0FFF_FFFF) as u32),
                kind: TrackEventKind::Midi { channel, message },
            });
            last_tick = last_tick.max(tick);
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
}
