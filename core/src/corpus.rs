//! Reading MIDI files into token sequences, as the seed project did.
//!
//! The seed (Classical-Piano-Composer) parsed each file with music21 5,
//! took the first instrument part (`instrument.partitionByInstrument(midi)
//! .parts[0]`, or all notes when the file names no instrument) and wrote one
//! token per note or chord. This module follows music21's MIDI import step
//! by step, so the token counts match the seed's:
//!
//! 1. Notes are read track by track. Channel 10 (drums) is ignored.
//! 2. A note-on is ended by the next event of its key and channel: a
//!    note-off, a zero-velocity note-on, or (music21 5's reading) another
//!    note-on, which then starts no note. A note never ended is dropped.
//! 3. Notes of a track and instrument form a chord when they start within 1/16 of a quarter
//!    of the chord's first note *and* end within 1/16 of a quarter of it
//!    (music21 puts notes that start together but end apart in separate
//!    voices, so they stay separate tokens).
//! 4. Onsets are quantized to the nearest sixteenth or eighth-note triplet
//!    (music21's default `quarterLengthDivisors` of 4 and 3).
//! 5. If any track with notes has a program change, only the notes played
//!    while the file's first program (first track first, then time) is active
//!    on their channel are kept; notes before their channel's first program
//!    change are dropped, as music21's partition does, and so is a token that
//!    starts where its track ends (its quantized length is zero and nothing
//!    sounds after it). Without program changes every note is kept.
//! 6. Tokens are sorted by onset; equal onsets keep track and channel order.
//!
//! Where Pianola differs from music21 on purpose: music21 attributes
//! instruments by time inside a whole track, ignoring channels, so a format-0
//! file with several program changes at the same time yields no notes for
//! the first instrument. Pianola attributes them per channel.

use std::fs;
use std::io;
use std::path::{Path, PathBuf};

use midly::{MidiMessage, Smf, Timing, TrackEventKind};

use crate::event::Event;
use crate::token::Token;
use crate::vocab::Vocab;

/// The MIDI channel of drums (channel 10, zero-based 9).
const DRUM_CHANNEL: u8 = 9;

pub use crate::corpus_dir::{CORPUS_ENV, CorpusNotFound, default_corpus_dir, reference_corpus_dir};

/// Why a MIDI file or folder could not be read.
#[derive(Debug, thiserror::Error)]
pub enum CorpusError {
    /// The file or folder could not be read from disk.
    #[error("cannot read {path}")]
    Io {
        /// The path that failed.
        path: PathBuf,
        /// The operating system's reason.
        source: io::Error,
    },
    /// The bytes are not a valid standard MIDI file.
    #[error("not a valid MIDI file")]
    Midi(#[from] midly::Error),
    /// The file counts time in SMPTE frames, not in beats.
    #[error("SMPTE (timecode) time division is not supported, only ticks per quarter note")]
    Timecode,
    /// The file declares zero ticks per quarter note.
    #[error("the file declares 0 ticks per quarter note")]
    ZeroTicksPerQuarter,
}

/// One MIDI file read into tokens and events.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Song {
    /// The file name (without folder).
    pub name: String,
    /// The tokens in time order: the seed's sequence, and the events'
    /// `what` column.
    pub tokens: Vec<Token>,
    /// The events in time order, one per token.
    pub events: Vec<Event>,
}

/// A file of a folder that could not be read, and why.
#[derive(Debug)]
pub struct SkippedFile {
    /// The file name (without folder).
    pub name: String,
    /// Why it was skipped.
    pub reason: CorpusError,
}

impl SkippedFile {
    /// The reason with its causes, `: `-separated.
    pub fn reason_text(&self) -> String {
        let mut text = self.reason.to_string();
        let mut cause = std::error::Error::source(&self.reason);
        while let Some(error) = cause {
            text.push_str(": ");
            text.push_str(&error.to_string());
            cause = error.source();
        }
        text
    }
}

/// Every MIDI file of a folder, read into tokens.
#[derive(Debug, Default)]
pub struct Corpus {
    /// Files read, sorted by name.
    pub songs: Vec<Song>,
    /// Files that failed to parse, sorted by name.
    pub skipped: Vec<SkippedFile>,
}

impl Corpus {
    /// Reads every `.mid`/`.midi` file directly in `dir`, sorted by name. A
    /// file that fails is recorded in [`Corpus::skipped`] with its reason;
    /// only an unreadable folder is an error.
    pub fn read_dir(dir: &Path) -> Result<Self, CorpusError> {
        let io_error = |source| CorpusError::Io {
            path: dir.to_path_buf(),
            source,
        };
        let mut paths = Vec::new();
        for entry in fs::read_dir(dir).map_err(io_error)? {
            let path = entry.map_err(io_error)?.path();
            if is_midi_path(&path) && path.is_file() {
                paths.push(path);
            }
        }
        paths.sort();
        let mut corpus = Corpus::default();
        for path in paths {
            let name = path
                .file_name()
                .map(|n| n.to_string_lossy().into_owned())
                .unwrap_or_default();
            match read_events(&path) {
                Ok(events) => corpus.songs.push(Song {
                    name,
                    tokens: events.iter().map(|event| event.what).collect(),
                    events,
                }),
                Err(reason) => corpus.skipped.push(SkippedFile { name, reason }),
            }
        }
        Ok(corpus)
    }

    /// Total number of tokens over all songs.
    pub fn total_tokens(&self) -> usize {
        self.songs.iter().map(|song| song.tokens.len()).sum()
    }

    /// The vocabulary of every token in the corpus.
    pub fn vocab(&self) -> Vocab {
        Vocab::from_tokens(
            self.songs
                .iter()
                .flat_map(|song| song.tokens.iter().copied()),
        )
    }
}

/// Whether `path` names a MIDI file (`.mid` or `.midi`, in any case).
pub fn is_midi_path(path: &Path) -> bool {
    path.extension()
        .and_then(|ext| ext.to_str())
        .is_some_and(|ext| ext.eq_ignore_ascii_case("mid") || ext.eq_ignore_ascii_case("midi"))
}

/// Reads one MIDI file into tokens.
pub fn read_file(path: &Path) -> Result<Vec<Token>, CorpusError> {
    Ok(read_events(path)?.into_iter().map(|e| e.what).collect())
}

/// Reads one MIDI file into events.
pub fn read_events(path: &Path) -> Result<Vec<Event>, CorpusError> {
    let bytes = fs::read(path).map_err(|source| CorpusError::Io {
        path: path.to_path_buf(),
        source,
    })?;
    events_from_bytes(&bytes)
}

/// A note with its channel, start and end in ticks.
#[derive(Clone, Copy, Debug)]
struct TimedNote {
    channel: u8,
    key: u8,
    velocity: u8,
    start: u64,
    end: u64,
}

/// A program change at its quantized position.
#[derive(Clone, Copy, Debug)]
struct ProgramChange {
    channel: u8,
    position: Position,
    program: u8,
}

/// A token at its quantized position, with the quantized length and the
/// velocity of its first note and its lowest key.
#[derive(Clone, Copy, Debug)]
struct PlacedToken {
    position: Position,
    length: Position,
    token: Token,
    velocity: u8,
    lowest: u8,
}

impl PlacedToken {
    fn end(&self) -> Position {
        Position(self.position.0 + self.length.0)
    }
}

/// The notes (drums left out, in note-on order) and program changes of one
/// track.
#[derive(Debug, Default)]
struct Track {
    notes: Vec<TimedNote>,
    programs: Vec<ProgramChange>,
}

impl Track {
    /// The program active on `channel` at `position`: the last change at or
    /// before it; `None` before the first.
    fn program_at(&self, channel: u8, position: Position) -> Option<u8> {
        self.programs
            .iter()
            .filter(|change| change.channel == channel && change.position <= position)
            .max_by_key(|change| change.position)
            .map(|change| change.program)
    }

    /// The earliest program change of the track.
    fn first_program(&self) -> Option<u8> {
        self.programs
            .iter()
            .min_by_key(|change| change.position)
            .map(|change| change.program)
    }
}

/// Reads the bytes of a standard MIDI file into tokens (see the module doc
/// for the rules).
pub fn tokens_from_bytes(bytes: &[u8]) -> Result<Vec<Token>, CorpusError> {
    Ok(placed_tokens(bytes)?.into_iter().map(|p| p.token).collect())
}

/// Reads the bytes of a standard MIDI file into events: the tokens of
/// [`tokens_from_bytes`], each with its time since the previous one, its
/// first note's length and velocity, and its lowest key.
pub fn events_from_bytes(bytes: &[u8]) -> Result<Vec<Event>, CorpusError> {
    let mut previous = Position(0);
    Ok(placed_tokens(bytes)?
        .into_iter()
        .map(|placed| {
            let when = placed.position.0 - previous.0;
            previous = placed.position;
            Event {
                what: placed.token,
                when: u32::try_from(when).unwrap_or(u32::MAX),
                hold: u32::try_from(placed.length.0).unwrap_or(u32::MAX),
                velocity: placed.velocity,
                lowest: placed.lowest,
                releases: false,
            }
        })
        .collect())
}

/// The tokens of a file at their positions, in time order.
fn placed_tokens(bytes: &[u8]) -> Result<Vec<PlacedToken>, CorpusError> {
    let smf = Smf::parse(bytes)?;
    let ticks_per_quarter = match smf.header.timing {
        Timing::Metrical(tpq) => u64::from(tpq.as_int()),
        Timing::Timecode(..) => return Err(CorpusError::Timecode),
    };
    if ticks_per_quarter == 0 {
        return Err(CorpusError::ZeroTicksPerQuarter);
    }

    let tracks: Vec<Track> = smf
        .tracks
        .iter()
        .map(|track| read_track(track, ticks_per_quarter))
        .filter(|track| !track.notes.is_empty())
        .collect();
    let first_program = tracks.iter().find_map(Track::first_program);

    let mut placed: Vec<PlacedToken> = Vec::new();
    for track in &tracks {
        // Chords form among the notes of one instrument.
        let program_of = |note: &TimedNote| {
            let position = Position::quantized(note.start, ticks_per_quarter);
            track.program_at(note.channel, position)
        };
        let mut programs: Vec<Option<u8>> = track.notes.iter().map(program_of).collect();
        programs.dedup();
        programs.sort();
        programs.dedup();
        let groups: Vec<(Option<u8>, Vec<PlacedToken>)> = programs
            .into_iter()
            .map(|program| {
                let notes: Vec<TimedNote> = track
                    .notes
                    .iter()
                    .filter(|note| program_of(note) == program)
                    .copied()
                    .collect();
                (program, part_tokens(&notes, ticks_per_quarter))
            })
            .collect();
        let end = groups
            .iter()
            .flat_map(|(_, tokens)| tokens.iter().map(PlacedToken::end))
            .max()
            .unwrap_or(Position(0));
        for (program, tokens) in groups {
            match first_program {
                None => placed.extend(tokens),
                Some(first) if program == Some(first) => {
                    placed.extend(tokens.into_iter().filter(|token| token.position < end));
                }
                Some(_) => {}
            }
        }
    }
    placed.sort_by_key(|token| token.position);
    Ok(placed)
}

/// The notes and program changes of one track.
fn read_track(track: &[midly::TrackEvent], ticks_per_quarter: u64) -> Track {
    let mut out = Track::default();
    // The sounding note of each channel and key, waiting for its end.
    let mut open: Vec<Option<usize>> = vec![None; 16 * 128];
    let mut tick = 0u64;
    for event in track {
        tick += u64::from(event.delta.as_int());
        let TrackEventKind::Midi { channel, message } = event.kind else {
            continue;
        };
        let channel = channel.as_int();
        // music21's reading, not a live host's (`NoteEvent::struck`): any
        // note event of a sounding key ends it, below.
        let (key, velocity) = match message {
            MidiMessage::NoteOn { key, vel } => (key.as_int(), vel.as_int()),
            MidiMessage::NoteOff { key, .. } => (key.as_int(), 0),
            MidiMessage::ProgramChange { program } => {
                out.programs.push(ProgramChange {
                    channel,
                    position: Position::quantized(tick, ticks_per_quarter),
                    program: program.as_int(),
                });
                continue;
            }
            _ => continue,
        };
        if channel == DRUM_CHANNEL {
            continue;
        }
        // As in music21 5, the next note event of the same key ends a
        // sounding note, even a note-on (which then starts nothing).
        let slot = &mut open[usize::from(channel) * 128 + usize::from(key)];
        if let Some(index) = slot.take() {
            out.notes[index].end = tick;
        } else if velocity > 0 {
            *slot = Some(out.notes.len());
            out.notes.push(TimedNote {
                channel,
                key,
                velocity,
                start: tick,
                end: u64::MAX,
            });
        }
    }
    out.notes.retain(|note| note.end != u64::MAX);
    out
}

/// Groups the notes of one track and instrument (in note-on order) into tokens, the way
/// music21's `midiTrackToStream` builds chords.
fn part_tokens(notes: &[TimedNote], ticks_per_quarter: u64) -> Vec<PlacedToken> {
    // Within 1/16 of a quarter: |a - b| <= tpq / 16.
    let close = |a: u64, b: u64| 16 * a.abs_diff(b) <= ticks_per_quarter;
    let mut gathered = vec![false; notes.len()];
    let mut tokens = Vec::new();
    let mut pitches = Vec::new();
    for (i, leader) in notes.iter().enumerate() {
        if gathered[i] {
            continue;
        }
        pitches.clear();
        pitches.push(leader.key);
        for (j, other) in notes.iter().enumerate().skip(i + 1) {
            if !close(other.start, leader.start) {
                break;
            }
            if close(other.end, leader.end) {
                // As in music21, a note may join more than one chord.
                gathered[j] = true;
                pitches.push(other.key);
            }
        }
        let token = Token::from_onset(&pitches).expect("the leader is always there");
        tokens.push(PlacedToken {
            position: Position::quantized(leader.start, ticks_per_quarter),
            length: Position::quantized(leader.end - leader.start, ticks_per_quarter),
            token,
            velocity: leader.velocity,
            lowest: pitches.iter().copied().min().unwrap_or(leader.key),
        });
    }
    tokens
}

/// A quantized position in quarter notes, as a fraction with denominator 12
/// (every sixteenth and eighth-note triplet is a whole number of twelfths).
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
struct Position(u64);

impl Position {
    /// Quantizes `tick` to the nearest sixteenth or eighth-note triplet, as
    /// music21's `quantize` does: the grid with the smaller error wins, a tie
    /// goes to the earlier position, and a value halfway between two points
    /// of one grid rounds down.
    fn quantized(tick: u64, ticks_per_quarter: u64) -> Self {
        // On a grid of 1/div quarters: the nearest multiple m, and the error
        // |tick/tpq - m/div| scaled by 12 * tpq to stay in integers.
        let nearest = |div: u64| -> (u64, u64) {
            let scaled = tick * div;
            let low = scaled / ticks_per_quarter;
            let below = scaled - low * ticks_per_quarter;
            let above = ticks_per_quarter - below;
            let (m, err) = if 2 * below <= ticks_per_quarter {
                (low, below)
            } else {
                (low + 1, above)
            };
            (m * (12 / div), err * (12 / div))
        };
        let (at_sixteenth, sixteenth_error) = nearest(4);
        let (at_triplet, triplet_error) = nearest(3);
        let best = (sixteenth_error, at_sixteenth).min((triplet_error, at_triplet));
        Position(best.1)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn quantizing_picks_the_nearer_grid() {
        let q = |tick| Position::quantized(tick, 480).0;
        assert_eq!(q(0), 0);
        assert_eq!(q(480), 12);
        assert_eq!(q(120), 3); // a sixteenth
        assert_eq!(q(160), 4); // a triplet eighth
        assert_eq!(q(125), 3);
        assert_eq!(q(155), 4);
        // Exactly between a sixteenth (120) and a triplet (160): the earlier wins.
        assert_eq!(q(140), 3);
        // Halfway between two sixteenths (60) with the triplet grid further away.
        assert_eq!(q(60), 0);
    }
}
