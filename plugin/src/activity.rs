//! What the plugin heard and played, and what it has prepared, for the
//! editor and for Capture.
//!
//! The audio thread writes ([`ActivityWriter`]): each note event into a
//! bounded lock-free ring (rtrb), and the block's position, tempo, meter
//! and prepared tokens into atomics. It never allocates, locks or waits: a
//! full ring drops the event and counts it. Another thread (the
//! performer's worker when idle, the editor before it draws) moves the ring
//! into a bounded history ([`Activity::collect`]) that readers copy from.

use std::collections::VecDeque;
use std::sync::atomic::{AtomicBool, AtomicU32, AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};

use pianola_core::Token;
use pianola_core::event::Event;
use pianola_core::midi_file::TimeSignature;
use pianola_core::perform::{BlockPosition, NextTokens, NoteEvent, Performer};
use rtrb::{Consumer, Producer, RingBuffer};

/// Note events the ring holds between two collections.
const RING: usize = 4096;
/// Note events the history keeps (the oldest go first).
pub const HISTORY: usize = 65_536;
/// Prepared tokens published per block.
pub const PREPARED: usize = 8;

/// Who played a note.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Source {
    /// The player (the plugin's note input).
    Player,
    /// Pianola (the performer's output, thru notes left out).
    Pianola,
}

/// One note event, at a beat of the host's timeline.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct NoteRecord {
    /// Quarter notes from the host's start (its own running count while the
    /// transport is stopped).
    pub beat: f64,
    /// Who played it.
    pub source: Source,
    /// MIDI channel 0..=15.
    pub channel: u8,
    /// MIDI key.
    pub key: u8,
    /// The note-on's velocity; 0 for a note-off.
    pub velocity: u8,
}

/// Where the host was at the end of the last block.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Position {
    /// The beat at the end of the last block.
    pub beat: f64,
    /// The tempo in beats per minute.
    pub bpm: f64,
    /// The host's time signature (4/4 if it gives none).
    pub meter: TimeSignature,
    /// Whether the transport plays.
    pub playing: bool,
}

impl Default for Position {
    fn default() -> Self {
        Self {
            beat: 0.0,
            bpm: pianola_core::tempo::host_bpm(None),
            meter: TimeSignature {
                numerator: 4,
                denominator: 4,
            },
            playing: false,
        }
    }
}

/// A prepared event and the beat it would start on.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Prepared {
    /// The beat it would start on.
    pub beat: f64,
    /// The event (its `when` is not kept: `beat` says where it starts).
    pub event: Event,
    /// Whether it stands if the player plays now (*Model* feel's commit).
    pub committed: bool,
}

impl Prepared {
    /// Packs all but the token and the beat: lowest key, hold, velocity,
    /// committed.
    fn shape(&self) -> u64 {
        u64::from(self.event.lowest)
            | u64::from(self.event.hold.min(0xFFFF)) << 8
            | u64::from(self.event.velocity) << 24
            | u64::from(self.committed) << 32
    }

    fn from_parts(what: Token, beat: f64, shape: u64) -> Self {
        Prepared {
            beat,
            event: Event {
                what,
                when: 0,
                hold: ((shape >> 8) & 0xFFFF) as u32,
                velocity: ((shape >> 24) & 0xFF) as u8,
                lowest: (shape & 0xFF) as u8,
                releases: false,
            },
            committed: shape >> 32 & 1 == 1,
        }
    }
}

/// The atomics both sides share.
struct Shared {
    beat: AtomicU64,
    bpm: AtomicU64,
    /// Numerator in the high byte, denominator in the low one.
    meter: AtomicU32,
    playing: AtomicBool,
    /// Token codes ([`Token::code`]); 0 ends the list.
    prepared: [AtomicU32; PREPARED],
    /// The beat each prepared token would play at (`f64` bits).
    prepared_beats: [AtomicU64; PREPARED],
    /// The rest of each prepared event ([`Prepared::shape`]).
    prepared_shapes: [AtomicU64; PREPARED],
    dropped: AtomicU64,
    /// Messages to the performer's worker lost to a full queue.
    lost_messages: AtomicU64,
}

fn load_f64(cell: &AtomicU64) -> f64 {
    f64::from_bits(cell.load(Ordering::Relaxed))
}

fn store_f64(cell: &AtomicU64, value: f64) {
    cell.store(value.to_bits(), Ordering::Relaxed);
}

/// The audio thread's end: real-time safe.
pub struct ActivityWriter {
    ring: Producer<NoteRecord>,
    shared: Arc<Shared>,
}

impl ActivityWriter {
    /// Records a note event; a full ring drops it (counted).
    pub fn note(&mut self, record: NoteRecord) {
        if self.ring.push(record).is_err() {
            self.shared.dropped.fetch_add(1, Ordering::Relaxed);
        }
    }

    /// Publishes where the host is at the end of a block.
    pub fn position(&mut self, position: Position) {
        let s = &self.shared;
        store_f64(&s.beat, position.beat);
        store_f64(&s.bpm, position.bpm);
        s.meter.store(
            u32::from(position.meter.numerator) << 8 | u32::from(position.meter.denominator),
            Ordering::Relaxed,
        );
        s.playing.store(position.playing, Ordering::Relaxed);
    }

    /// Publishes the prepared events with the beats they would start on.
    pub fn prepared(&mut self, events: impl Iterator<Item = Prepared>) {
        let s = &self.shared;
        let mut events = events.map(|p| (p.event.what.code(), p.beat, p.shape()));
        let cells = s
            .prepared
            .iter()
            .zip(&s.prepared_beats)
            .zip(&s.prepared_shapes);
        for ((cell, beat), shape) in cells {
            let (code, at, rest) = events.next().unwrap_or((0, 0.0, 0));
            store_f64(beat, at);
            shape.store(rest, Ordering::Relaxed);
            cell.store(code, Ordering::Relaxed);
        }
    }
}

/// What one block did, for [`ActivityWriter::block`].
pub struct BlockActivity<'a> {
    /// The player's notes of the block.
    pub input: &'a [NoteEvent],
    /// The notes the performer sent in the block.
    pub output: &'a [NoteEvent],
    /// Whether the player's notes were passed through (they are then in
    /// `output` too, and recorded once, as the player's).
    pub thru: bool,
    /// The block's length.
    pub frames: u32,
    /// The tempo.
    pub bpm: f64,
    /// The host's time signature.
    pub meter: TimeSignature,
    /// Whether the transport plays.
    pub playing: bool,
}

impl ActivityWriter {
    /// Records a block the performer has just processed: its notes, where
    /// it ends and what is planned next, all placed on the performer's own
    /// beat line ([`Performer::block_position`]), the one it played them
    /// by, so that the editor and Capture show them where they sounded
    /// whatever the host reports.
    pub fn block(&mut self, performer: &Performer, block: BlockActivity<'_>) {
        let position = performer.block_position();
        self.shared
            .lost_messages
            .store(performer.dropped_messages(), Ordering::Relaxed);
        // In time order (both lists are): readers take a beat that goes
        // back for a relocation.
        let mut input = block.input.iter().copied().peekable();
        let mut output = block
            .output
            .iter()
            .copied()
            .filter(|&event| !(block.thru && block.input.iter().any(|&i| same_note(i, event))))
            .peekable();
        loop {
            let next = match (input.peek(), output.peek()) {
                (Some(i), Some(o)) if i.offset() <= o.offset() => {
                    input.next().map(|e| (e, Source::Player))
                }
                (_, Some(_)) => output.next().map(|e| (e, Source::Pianola)),
                (Some(_), None) => input.next().map(|e| (e, Source::Player)),
                (None, None) => None,
            };
            let Some((event, source)) = next else { break };
            self.note(record(&position, event, source));
        }
        let end = position.beat_at(block.frames);
        self.prepared(performer.plan().map(|planned| Prepared {
            beat: end + planned.beats_ahead,
            event: planned.event,
            committed: planned.committed,
        }));
        self.position(Position {
            beat: end,
            bpm: block.bpm,
            meter: block.meter,
            playing: block.playing,
        });
    }
}

fn same_note(a: NoteEvent, b: NoteEvent) -> bool {
    let parts = |e: NoteEvent| match e {
        NoteEvent::On {
            offset,
            channel,
            key,
            ..
        } => (offset, channel, key, true),
        NoteEvent::Off {
            offset,
            channel,
            key,
            ..
        } => (offset, channel, key, false),
    };
    parts(a) == parts(b)
}

fn record(block: &BlockPosition, event: NoteEvent, source: Source) -> NoteRecord {
    let (offset, channel, key, velocity) = match event {
        NoteEvent::On {
            offset,
            channel,
            key,
            velocity,
        } => (offset, channel, key, velocity),
        NoteEvent::Off {
            offset,
            channel,
            key,
            ..
        } => (offset, channel, key, 0),
    };
    NoteRecord {
        beat: block.beat_at(offset),
        source,
        channel,
        key,
        velocity,
    }
}

/// The readers' end; clones share it.
#[derive(Clone)]
pub struct Activity {
    shared: Arc<Shared>,
    history: Arc<Mutex<History>>,
    /// The most likely next tokens, written by the performer's worker.
    next_tokens: Arc<NextTokens>,
}

struct History {
    ring: Consumer<NoteRecord>,
    notes: VecDeque<NoteRecord>,
}

impl Activity {
    /// A new, empty activity and the writer for the audio thread.
    pub fn new() -> (Activity, ActivityWriter) {
        let (producer, consumer) = RingBuffer::new(RING);
        let shared = Arc::new(Shared {
            beat: AtomicU64::new(0f64.to_bits()),
            bpm: AtomicU64::new(Position::default().bpm.to_bits()),
            meter: AtomicU32::new(4 << 8 | 4),
            playing: AtomicBool::new(false),
            prepared: Default::default(),
            prepared_beats: Default::default(),
            prepared_shapes: Default::default(),
            dropped: AtomicU64::new(0),
            lost_messages: AtomicU64::new(0),
        });
        let activity = Activity {
            next_tokens: Arc::new(NextTokens::default()),
            shared: shared.clone(),
            history: Arc::new(Mutex::new(History {
                ring: consumer,
                notes: VecDeque::with_capacity(1024),
            })),
        };
        (
            activity,
            ActivityWriter {
                ring: producer,
                shared,
            },
        )
    }

    fn history(&self) -> MutexGuard<'_, History> {
        self.history.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Where the performer's worker publishes the most likely next tokens.
    pub fn next_tokens_sink(&self) -> Arc<NextTokens> {
        self.next_tokens.clone()
    }

    /// The most likely next tokens and their probabilities, most likely
    /// first.
    pub fn next_tokens(&self) -> Vec<(Token, f32)> {
        self.next_tokens.read()
    }

    /// Moves what the audio thread wrote into the history.
    pub fn collect(&self) {
        let mut history = self.history();
        let History { ring, notes } = &mut *history;
        while let Ok(record) = ring.pop() {
            if notes.len() == HISTORY {
                notes.pop_front();
            }
            notes.push_back(record);
        }
    }

    /// The notes since `beat` in the current stretch of the timeline (a
    /// relocation — the beat jumping back — ends the stretch), oldest
    /// first. Collects first.
    pub fn notes_since(&self, beat: f64) -> Vec<NoteRecord> {
        self.collect();
        let history = self.history();
        let mut first = history.notes.len();
        let mut later = f64::INFINITY;
        for (i, note) in history.notes.iter().enumerate().rev() {
            // A little slack: hosts round their positions.
            if note.beat < beat || note.beat > later + 1e-3 {
                break;
            }
            later = note.beat;
            first = i;
        }
        history.notes.range(first..).copied().collect()
    }

    /// Where the host was at the end of the last block.
    pub fn position(&self) -> Position {
        let s = &self.shared;
        let meter = s.meter.load(Ordering::Relaxed);
        Position {
            beat: load_f64(&s.beat),
            bpm: load_f64(&s.bpm),
            meter: TimeSignature {
                numerator: (meter >> 8) as u8,
                denominator: (meter & 0xFF) as u8,
            },
            playing: s.playing.load(Ordering::Relaxed),
        }
    }

    /// The prepared events and their beats.
    pub fn prepared(&self) -> Vec<Prepared> {
        let s = &self.shared;
        s.prepared
            .iter()
            .zip(&s.prepared_beats)
            .zip(&s.prepared_shapes)
            .map_while(|((cell, beat), shape)| {
                Token::from_code(cell.load(Ordering::Relaxed)).map(|token| {
                    Prepared::from_parts(token, load_f64(beat), shape.load(Ordering::Relaxed))
                })
            })
            .collect()
    }

    /// Note events lost because the ring was full.
    pub fn dropped(&self) -> u64 {
        self.shared.dropped.load(Ordering::Relaxed)
    }

    /// Messages from the audio thread to the performer's worker lost to a
    /// full queue (each healed: the performer plays on in step).
    pub fn lost_messages(&self) -> u64 {
        self.shared.lost_messages.load(Ordering::Relaxed)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn on(beat: f64, key: u8) -> NoteRecord {
        NoteRecord {
            beat,
            source: Source::Player,
            channel: 0,
            key,
            velocity: 100,
        }
    }

    #[test]
    fn tokens_cross_as_numbers() {
        let chord = Token::Chord(pianola_core::PitchClassSet::from_mask(0b1001_0001).unwrap());
        for token in [Token::Note(0), Token::Note(127), chord] {
            assert_eq!(Token::from_code(token.code()), Some(token));
        }
        assert_eq!(Token::from_code(0), None);
    }

    #[test]
    fn notes_since_stops_at_a_relocation() {
        let (activity, mut writer) = Activity::new();
        for (beat, key) in [(10.0, 60), (11.0, 61), (2.0, 62), (3.0, 63), (4.0, 64)] {
            writer.note(on(beat, key));
        }
        let keys = |notes: Vec<NoteRecord>| notes.iter().map(|n| n.key).collect::<Vec<_>>();
        assert_eq!(keys(activity.notes_since(0.0)), [62, 63, 64]);
        assert_eq!(keys(activity.notes_since(3.0)), [63, 64]);
    }

    #[test]
    fn the_position_and_prepared_tokens_cross() {
        let (activity, mut writer) = Activity::new();
        let position = Position {
            beat: 17.25,
            bpm: 93.0,
            meter: TimeSignature {
                numerator: 7,
                denominator: 8,
            },
            playing: true,
        };
        writer.position(position);
        let chord: Token = "0.4.7".parse().unwrap();
        let planned = [
            Prepared {
                beat: 18.0,
                event: Event {
                    what: Token::Note(60),
                    when: 0,
                    hold: 6,
                    velocity: 100,
                    lowest: 60,
                    releases: false,
                },
                committed: true,
            },
            Prepared {
                beat: 18.5,
                event: Event {
                    what: chord,
                    when: 0,
                    hold: 300,
                    velocity: 42,
                    lowest: 36,
                    releases: false,
                },
                committed: false,
            },
        ];
        writer.prepared(planned.into_iter());
        assert_eq!(activity.position(), position);
        assert_eq!(activity.prepared(), planned);
        // Fewer events later: the list ends where they end.
        writer.prepared(planned[1..].iter().copied());
        assert_eq!(activity.prepared(), planned[1..]);
    }

    #[test]
    fn a_full_ring_drops_and_counts() {
        let (activity, mut writer) = Activity::new();
        for i in 0..RING + 3 {
            writer.note(on(i as f64, 60));
        }
        assert_eq!(activity.dropped(), 3);
        assert_eq!(activity.notes_since(0.0).len(), RING);
    }
}
