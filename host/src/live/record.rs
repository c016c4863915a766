//! `--record`: the session as a two-track MIDI file (the player's notes,
//! then Pianola's), in real time, through `pianola_core::midi_file`.

use std::path::Path;

use pianola_core::midi_file::{NoteMessage, NoteTrack, ticks_of_beats, write_tracks};

use super::engine::{Recorded, note_event};
use pianola_core::perform::NoteEvent;

/// The recorded message as a note message at its tick, if it is a note.
fn note_message(recorded: &Recorded, beats_per_frame: f64) -> Option<NoteMessage> {
    let tick = ticks_of_beats(recorded.frame as f64 * beats_per_frame);
    Some(match note_event(0, &recorded.message)? {
        NoteEvent::On {
            channel,
            key,
            velocity,
            ..
        } => NoteMessage {
            tick,
            channel,
            key,
            velocity,
        },
        NoteEvent::Off { channel, key, .. } => NoteMessage {
            tick,
            channel,
            key,
            velocity: 0,
        },
    })
}

/// Pianola's note-ons among `notes`.
pub fn pianola_notes(notes: &[Recorded]) -> usize {
    notes
        .iter()
        .filter(|n| n.track == 1 && matches!(note_event(0, &n.message), Some(NoteEvent::On { .. })))
        .count()
}

/// The recorded notes as a format-1 MIDI file at the session's `bpm`, in
/// real time: a tempo track, then one track per `track` number (0: the
/// player, 1: Pianola), each named, every note closed (a recording that
/// began mid-note, or a session that ended abruptly, leaves none open).
pub fn to_smf_bytes(notes: &[Recorded], sample_rate: f64, bpm: f64) -> Vec<u8> {
    let beats_per_frame = bpm / 60.0 / sample_rate;
    let tracks: Vec<NoteTrack> = [(0u8, "player"), (1u8, "pianola")]
        .into_iter()
        .map(|(track, name)| NoteTrack {
            name: Some(name.to_string()),
            program: None,
            notes: notes
                .iter()
                .filter(|n| n.track == track)
                .filter_map(|n| note_message(n, beats_per_frame))
                .collect(),
        })
        .collect();
    write_tracks(&tracks, bpm)
}

/// Writes the recording at `bpm` to `path` (atomically).
pub fn write(path: &Path, notes: &[Recorded], sample_rate: f64, bpm: f64) -> std::io::Result<()> {
    pianola_core::atomic_file::write(path, &to_smf_bytes(notes, sample_rate, bpm))
}

#[cfg(test)]
mod tests {
    use super::*;
    use midly::{MetaMessage, MidiMessage, Smf, TrackEvent, TrackEventKind};
    use pianola_core::tempo::DEFAULT_BPM;

    /// A recorded message of `track` at `frame`.
    fn recorded(frame: u64, track: u8, message: [u8; 3]) -> Recorded {
        Recorded {
            frame,
            track,
            message,
        }
    }

    #[test]
    fn a_recording_keeps_the_sessions_tempo() {
        // One beat at 90 BPM, 48 kHz: 32,000 frames.
        let notes = [
            recorded(32_000, 0, [0x90, 60, 100]),
            recorded(64_000, 0, [0x80, 60, 0]),
        ];
        let bytes = to_smf_bytes(&notes, 48_000.0, 90.0);
        let smf = Smf::parse(&bytes).unwrap();
        let tempo = smf.tracks[0].iter().find_map(|e| match e.kind {
            TrackEventKind::Meta(MetaMessage::Tempo(t)) => Some(t.as_int()),
            _ => None,
        });
        assert_eq!(tempo, Some(666_667), "90 BPM");
        let first_on: u32 = smf.tracks[1]
            .iter()
            .scan(0u32, |tick, e| {
                *tick += e.delta.as_int();
                Some((*tick, e.kind))
            })
            .find_map(|(tick, kind)| match kind {
                TrackEventKind::Midi {
                    message: MidiMessage::NoteOn { .. },
                    ..
                } => Some(tick),
                _ => None,
            })
            .unwrap();
        assert_eq!(first_on, 480, "on the second beat");
    }

    #[test]
    fn a_recording_reads_back_with_both_tracks() {
        let notes = [
            recorded(0, 0, [0x90, 60, 100]),
            recorded(24_000, 1, [0x91, 64, 90]),
            recorded(48_000, 0, [0x80, 60, 0]),
            recorded(48_000, 1, [0x81, 64, 0]),
        ];
        let bytes = to_smf_bytes(&notes, 48_000.0, DEFAULT_BPM);
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
        let at = |frame, message| recorded(frame, 1, message);
        // A note-off from before the recording, then a note left open.
        let notes = [
            at(0, [0x80, 60, 0]),
            at(100, [0x90, 62, 80]),
            at(9_600, [0x90, 64, 80]),
        ];
        let bytes = to_smf_bytes(&notes, 48_000.0, DEFAULT_BPM);
        let smf = Smf::parse(&bytes).unwrap();
        assert_eq!(
            notes_of(&smf.tracks[2]),
            vec![(62, true), (64, true), (62, false), (64, false)]
        );
    }
}
