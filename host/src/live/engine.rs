//! The live host's block: raw MIDI in, the performer, raw MIDI out.
//!
//! [`Engine::block`] runs on the timing thread (JACK's process callback, or
//! the ALSA timing thread); it never allocates, locks or blocks. It reads
//! the player's notes and the MIDI clock, runs the performer on the block,
//! writes its notes (and clock, when sending it) in time order, copies
//! everything to the recorder's queue and updates the status line's
//! figures.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};

use midly::MidiMessage;
use midly::live::{LiveEvent, SystemRealtime};
use midly::num::{u4, u7};
use pianola_core::key::KeyCell;
use pianola_core::perform::{NoteEvent, Performer};
use pianola_core::tempo::{host_bpm, samples_per_beat};
use rtrb::Producer;

use super::clock::{Clock, TICKS_PER_BEAT};

/// Player notes one block may carry; more are dropped.
const INPUT_CAPACITY: usize = 512;
/// Clock ticks one block may send.
const TICK_CAPACITY: usize = 256;

/// A note on its way to the recorder.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Recorded {
    /// Samples since the engine started.
    pub frame: u64,
    /// 0: the player's, 1: Pianola's.
    pub track: u8,
    /// The MIDI message.
    pub message: [u8; 3],
}

/// Figures the status line shows, written by the engine.
#[derive(Default)]
pub struct LiveStatus {
    /// Tempo in BPM (f64 bits).
    pub tempo_bits: AtomicU64,
    /// Tokens that have entered the window.
    pub tokens: AtomicU64,
    /// The last key the player pressed, plus one (0: none yet).
    pub last_in: AtomicU64,
    /// The last key Pianola played, plus one (0: none yet).
    pub last_out: AtomicU64,
    /// Grid steps that found no prediction ready.
    pub late_steps: AtomicU64,
    /// Messages to the performer's worker lost to a full queue (healed).
    pub lost_messages: AtomicU64,
    /// The key followed (`--key follow`; none yet before the music tells).
    pub followed_key: KeyCell,
    /// Whether the beat runs (an external clock may be stopped).
    pub running: AtomicBool,
    /// Asks the engine to end every note and go quiet.
    pub stop_requested: AtomicBool,
    /// Set by the engine once every note has ended after a stop request.
    pub stopped: AtomicBool,
    /// Recorder messages dropped because its queue was full.
    pub dropped_records: AtomicU64,
    /// The player's note-ons so far.
    pub notes_in: AtomicU64,
    /// Pianola's note-ons so far.
    pub notes_out: AtomicU64,
    /// Asks the engine to send MIDI Start (with `--send-clock`) before the
    /// next tick on a beat: set once the output is connected, and again
    /// whenever another port connects to it, since clock followers start
    /// on Start.
    pub start_wanted: AtomicBool,
}

impl LiveStatus {
    /// The tempo in BPM.
    pub fn tempo(&self) -> f64 {
        f64::from_bits(self.tempo_bits.load(Ordering::Relaxed))
    }
}

/// The player's MIDI message as the performer's note, if it is one.
pub fn note_event(offset: u32, bytes: &[u8]) -> Option<NoteEvent> {
    let LiveEvent::Midi { channel, message } = LiveEvent::parse(bytes).ok()? else {
        return None;
    };
    let channel = channel.as_int();
    match message {
        MidiMessage::NoteOn { key, vel } => Some(NoteEvent::struck(
            offset,
            channel,
            key.as_int(),
            vel.as_int(),
        )),
        MidiMessage::NoteOff { key, vel } => Some(NoteEvent::released(
            offset,
            channel,
            key.as_int(),
            vel.as_int(),
        )),
        _ => None,
    }
}

/// The performer's note as a MIDI message.
fn message(event: NoteEvent) -> [u8; 3] {
    let (channel, message) = match event {
        NoteEvent::On {
            channel,
            key,
            velocity,
            ..
        } => (
            channel,
            MidiMessage::NoteOn {
                key: u7::new(key),
                vel: u7::new(velocity),
            },
        ),
        NoteEvent::Off {
            channel,
            key,
            velocity,
            ..
        } => (
            channel,
            MidiMessage::NoteOff {
                key: u7::new(key),
                vel: u7::new(velocity),
            },
        ),
    };
    let mut bytes = [0; 3];
    LiveEvent::Midi {
        channel: u4::new(channel),
        message,
    }
    .write_std(&mut bytes[..])
    .expect("a note message is three bytes");
    bytes
}

/// The one byte of a real-time message.
fn realtime(message: SystemRealtime) -> [u8; 1] {
    [message.encode()]
}

/// Hands a note to the recorder, if there is one; counts it if its queue
/// is full. Real-time safe.
fn record(
    recorder: &mut Option<Producer<Recorded>>,
    status: &LiveStatus,
    frame: u64,
    track: u8,
    message: [u8; 3],
) {
    if let Some(recorder) = recorder
        && recorder
            .push(Recorded {
                frame,
                track,
                message,
            })
            .is_err()
    {
        status.dropped_records.fetch_add(1, Ordering::Relaxed);
    }
}

/// The performer, its clock and the figures around them.
pub struct Engine {
    performer: Performer,
    clock: Clock,
    status: Arc<LiveStatus>,
    record: Option<Producer<Recorded>>,
    send_clock: bool,
    /// Samples since the engine started.
    frame: u64,
    /// The own clock's next tick to send, in ticks since the start.
    next_tick: u64,
    input: Vec<NoteEvent>,
    ticks: Vec<u32>,
    stopped: bool,
}

impl Engine {
    /// An engine around `performer`; `record` receives every note in and
    /// out; `send_clock` sends MIDI clock at the own tempo.
    pub fn new(
        performer: Performer,
        clock: Clock,
        status: Arc<LiveStatus>,
        record: Option<Producer<Recorded>>,
        send_clock: bool,
    ) -> Self {
        status
            .tempo_bits
            .store(clock.tempo().to_bits(), Ordering::Relaxed);
        Self {
            performer,
            clock,
            status,
            record,
            send_clock,
            frame: 0,
            next_tick: 0,
            input: Vec::with_capacity(INPUT_CAPACITY),
            ticks: Vec::with_capacity(TICK_CAPACITY),
            stopped: false,
        }
    }

    /// Runs one block of `frames` samples: `input` is the block's MIDI
    /// messages with their offsets, in time order; `out` receives Pianola's
    /// messages with their offsets, in time order. Real-time safe.
    /// Lets `frames` pass that no block processed (cycles the audio server
    /// skipped, seen in its frame clock): the beat, the performer's clock
    /// and the recording run on, so what follows stays on the grid.
    /// Real-time safe.
    pub fn skip(&mut self, frames: u32) {
        self.clock.skip(frames);
        self.performer.skip(frames);
        self.frame += u64::from(frames);
    }

    pub fn block<'a>(
        &mut self,
        frames: u32,
        input: impl Iterator<Item = (u32, &'a [u8])>,
        out: &mut impl FnMut(u32, &[u8]),
    ) {
        self.input.clear();
        let mut last_in = None;
        for (offset, bytes) in input {
            let offset = offset.min(frames.saturating_sub(1));
            match LiveEvent::parse(bytes) {
                Ok(LiveEvent::Realtime(SystemRealtime::TimingClock)) => self.clock.tick(offset),
                Ok(LiveEvent::Realtime(SystemRealtime::Start)) => self.clock.start(),
                Ok(LiveEvent::Realtime(SystemRealtime::Continue)) => self.clock.resume(),
                Ok(LiveEvent::Realtime(SystemRealtime::Stop)) => self.clock.stop(),
                _ => {
                    if let Some(event) = note_event(offset, bytes) {
                        if let NoteEvent::On { key, .. } = event {
                            last_in = Some(key);
                            self.status.notes_in.fetch_add(1, Ordering::Relaxed);
                        }
                        if self.input.len() < self.input.capacity() {
                            self.input.push(event);
                            let frame = self.frame + u64::from(offset);
                            record(&mut self.record, &self.status, frame, 0, message(event));
                        }
                    }
                }
            }
        }
        if let Some(key) = last_in {
            self.status
                .last_in
                .store(u64::from(key) + 1, Ordering::Relaxed);
        }

        let transport = self.clock.next_block(frames);
        let start_at = self.plan_clock_ticks(frames, &transport);

        let Self {
            performer,
            record: recorder,
            status,
            ticks,
            frame,
            ..
        } = self;
        let mut pending_ticks = ticks.iter().copied().peekable();
        let mut last_out = None;
        let send_tick = |tick: u32, out: &mut dyn FnMut(u32, &[u8])| {
            if start_at == Some(tick) {
                out(tick, &realtime(SystemRealtime::Start));
            }
            out(tick, &realtime(SystemRealtime::TimingClock));
        };
        let mut emit = |event: NoteEvent| {
            let offset = event.offset();
            while let Some(tick) = pending_ticks.next_if(|&t| t <= offset) {
                send_tick(tick, out);
            }
            let bytes = message(event);
            if let NoteEvent::On { key, .. } = event {
                last_out = Some(key);
                status.notes_out.fetch_add(1, Ordering::Relaxed);
            }
            out(offset, &bytes);
            record(recorder, status, *frame + u64::from(offset), 1, bytes);
        };
        if status.stop_requested.load(Ordering::Relaxed) {
            if !self.stopped {
                performer.all_notes_off(0, &mut emit);
            }
        } else {
            performer.process(&transport, frames, &self.input, &mut emit);
        }
        for tick in pending_ticks {
            send_tick(tick, out);
        }
        if let Some(key) = last_out {
            status.last_out.store(u64::from(key) + 1, Ordering::Relaxed);
        }
        if status.stop_requested.load(Ordering::Relaxed) && !self.stopped {
            if self.send_clock {
                out(0, &realtime(SystemRealtime::Stop));
            }
            self.stopped = true;
            status.stopped.store(true, Ordering::Release);
        }
        status
            .tempo_bits
            .store(self.clock.tempo().to_bits(), Ordering::Relaxed);
        status
            .tokens
            .store(performer.tokens_in(), Ordering::Relaxed);
        status
            .late_steps
            .store(performer.late_steps(), Ordering::Relaxed);
        status
            .lost_messages
            .store(performer.dropped_messages(), Ordering::Relaxed);
        status.followed_key.store(performer.followed_key());
        status
            .running
            .store(self.clock.running(), Ordering::Relaxed);
        self.frame += u64::from(frames);
    }

    /// Plans the offsets of the clock ticks to send in this block (own
    /// clock, `--send-clock`): one every 1/24 beat. Returns the offset of the
    /// tick that a wanted Start goes before: the first on a beat.
    fn plan_clock_ticks(
        &mut self,
        frames: u32,
        transport: &pianola_core::perform::Transport,
    ) -> Option<u32> {
        self.ticks.clear();
        if !self.send_clock || self.clock.follows_midi() || self.stopped {
            return None;
        }
        let mut start_at = None;
        let beat = transport.position_beats.unwrap_or(0.0);
        let per_beat = samples_per_beat(transport.sample_rate, host_bpm(transport.tempo));
        loop {
            let tick_beat = self.next_tick as f64 / f64::from(TICKS_PER_BEAT);
            let offset = ((tick_beat - beat) * per_beat).round().max(0.0);
            if offset >= f64::from(frames) || self.ticks.len() == self.ticks.capacity() {
                break;
            }
            if start_at.is_none()
                && self.next_tick.is_multiple_of(u64::from(TICKS_PER_BEAT))
                && self.status.start_wanted.swap(false, Ordering::Relaxed)
            {
                start_at = Some(offset as u32);
            }
            self.ticks.push(offset as u32);
            self.next_tick += 1;
        }
        start_at
    }

    /// Whether the engine sends MIDI clock (start, ticks, stop).
    pub fn sends_clock(&self) -> bool {
        self.send_clock && !self.clock.follows_midi()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn midi_bytes_become_notes_and_back() {
        assert_eq!(
            note_event(5, &[0x93, 60, 100]),
            Some(NoteEvent::On {
                offset: 5,
                channel: 3,
                key: 60,
                velocity: 100
            })
        );
        assert_eq!(
            note_event(1, &[0x90, 60, 0]),
            Some(NoteEvent::Off {
                offset: 1,
                channel: 0,
                key: 60,
                velocity: 0,
            })
        );
        assert_eq!(
            note_event(2, &[0x81, 62, 33]),
            Some(NoteEvent::Off {
                offset: 2,
                channel: 1,
                key: 62,
                velocity: 33
            }),
            "a release velocity is kept"
        );
        assert_eq!(note_event(0, &[0xB0, 64, 127]), None);
        assert_eq!(note_event(0, &[0x90]), None);
        assert_eq!(
            message(NoteEvent::On {
                offset: 0,
                channel: 2,
                key: 61,
                velocity: 90
            }),
            [0x92, 61, 90]
        );
    }
}
