//! The performer under a simulated host clock, with a synchronous worker:
//! the harness of the performer's tests (`perform_*.rs`), each of which
//! uses a part of it.
#![allow(dead_code)]

pub mod model;

use std::sync::Arc;

use pianola_core::alloc_counter::{AllocCounter, allocations_in};
use pianola_core::model::Arch;
use pianola_core::perform::{
    Division, Feel, Mode, NoteEvent, Performer, PerformerSettings, Transport, Velocity, Worker,
};
use pianola_core::voices::VoiceCheck;
use pianola_core::{Network, PitchClassSet, Token, Vocab};

// The real-time calls must not allocate: the host checks every block (the
// counter counts only as the global allocator).
#[global_allocator]
static ALLOCATOR: AllocCounter = AllocCounter;

pub fn network(seed: usize) -> Arc<Network> {
    network_of(Arch::Pianola, seed)
}

/// A test network of `arch` (the token network, or the event network).
pub fn network_of(arch: Arch, seed: usize) -> Arc<Network> {
    let notes = (36..=96).map(Token::Note);
    let chords = [0b1001_0001u16, 0b0010_0010_0001, 0b1000_1001_0000]
        .into_iter()
        .map(|m| Token::Chord(PitchClassSet::from_mask(m).unwrap()));
    let vocab = Vocab::from_tokens(notes.chain(chords));
    let vocab_size = vocab.len();
    let file = model::made_up_file(vocab, arch, vocab_size, [8, 16, 2, 8, 16], |t, i| {
        (((t * 31 + i * 7919 + seed * 104_729) % 1999) as f32 / 999.5 - 1.0) * 0.8
    });
    Arc::new(Network::new(&file).unwrap())
}

/// An output note event at an absolute sample.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Heard {
    pub at: u64,
    pub event: NoteEvent,
}

/// A host: a transport clock with a tempo map, blocks of given sizes.
pub struct Host {
    pub performer: Performer,
    pub worker: Worker,
    pub sample_rate: f64,
    pub tempo: f64,
    pub playing: bool,
    /// Beat position at `clock`.
    pub beat: f64,
    pub clock: u64,
    pub heard: Vec<Heard>,
    /// The worker is not polled (a busy machine).
    pub worker_paused: bool,
    /// How the host reports its position.
    pub report: Report,
}

/// How a [`Host`] reports its beat position.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Report {
    /// The exact beat.
    Exact,
    /// Rounded to whole ticks of 1/1920 beat, as JACK does.
    Ticks,
    /// None, while the transport rolls.
    Nothing,
}

impl Host {
    pub fn new(settings: PerformerSettings, sample_rate: f64, tempo: f64) -> Self {
        Self::with_network(network(0), settings, sample_rate, tempo)
    }

    pub fn with_network(
        network: Arc<Network>,
        settings: PerformerSettings,
        sample_rate: f64,
        tempo: f64,
    ) -> Self {
        let (performer, worker) = Performer::new(network, settings, 42);
        Self {
            performer,
            worker,
            sample_rate,
            tempo,
            playing: true,
            beat: 0.0,
            clock: 0,
            heard: Vec::new(),
            worker_paused: false,
            report: Report::Exact,
        }
    }

    pub fn samples_per_beat(&self) -> f64 {
        pianola_core::tempo::samples_per_beat(self.sample_rate, self.tempo)
    }

    /// One block, with player events at offsets; returns nothing, records
    /// what was heard. Checks that `process` allocates nothing.
    pub fn block(&mut self, frames: u32, input: &[NoteEvent]) {
        let transport = Transport {
            sample_rate: self.sample_rate,
            tempo: Some(self.tempo),
            playing: self.playing,
            position_beats: match self.report {
                Report::Exact => Some(self.beat),
                Report::Ticks => Some((self.beat * 1920.0).round() / 1920.0),
                Report::Nothing => None,
            },
            position_samples: None,
        };
        let clock = self.clock;
        let heard = &mut self.heard;
        // Room for any block's output, so the pushes below never allocate.
        heard.reserve(4096);
        let performer = &mut self.performer;
        let ((), allocations) = allocations_in(|| {
            performer.process(&transport, frames, input, &mut |event| {
                heard.push(Heard {
                    at: clock + u64::from(event.offset()),
                    event,
                })
            })
        });
        assert_eq!(allocations, 0, "process allocated");
        self.clock += u64::from(frames);
        if self.playing {
            self.beat += f64::from(frames) / self.samples_per_beat();
        }
        if !self.worker_paused {
            self.worker.poll_all();
        }
    }

    /// Runs `samples` in blocks of `size`, with no input.
    pub fn run(&mut self, samples: u64, size: u32) {
        let mut left = samples;
        while left > 0 {
            let frames = left.min(u64::from(size)) as u32;
            self.block(frames, &[]);
            left -= u64::from(frames);
        }
    }

    /// Plays `input` (each event at its absolute sample, in order) in
    /// blocks of `size` until sample `end`, calling `before` ahead of each
    /// block (to pause the worker, say).
    pub fn play_until(
        &mut self,
        input: &[(u64, NoteEvent)],
        end: u64,
        size: u32,
        mut before: impl FnMut(&mut Self),
    ) {
        let mut next = 0;
        while self.clock < end {
            before(self);
            let from = self.clock;
            let mut block = Vec::new();
            while next < input.len() && input[next].0 < from + u64::from(size) {
                let (at, event) = input[next];
                block.push(event.at((at - from) as u32));
                next += 1;
            }
            self.block(size, &block);
        }
    }

    /// The player strikes `keys` together now (first sample of a block).
    pub fn strike(&mut self, keys: &[u8], size: u32) {
        let input: Vec<NoteEvent> = keys
            .iter()
            .map(|&key| NoteEvent::struck(0, 0, key, 100))
            .collect();
        self.block(size.min(64), &input);
        let release: Vec<NoteEvent> = keys
            .iter()
            .map(|&key| NoteEvent::released(0, 0, key, 0))
            .collect();
        self.block(size.min(64), &release);
    }

    pub fn note_ons(&self) -> Vec<u64> {
        self.heard
            .iter()
            .filter(|h| matches!(h.event, NoteEvent::On { .. }))
            .map(|h| h.at)
            .collect()
    }

    /// All notes off, its note-offs heard now.
    pub fn all_notes_off(&mut self) {
        self.performer
            .all_notes_off(0, &mut heard_at(&mut self.heard, self.clock));
    }

    /// All notes off, then checks that every note heard was paired.
    pub fn end_paired(&mut self) {
        self.all_notes_off();
        assert_paired(&self.heard);
    }
}

/// What hears the performer's note events outside a block: each at sample
/// `clock`, into `heard`.
pub fn heard_at(heard: &mut Vec<Heard>, clock: u64) -> impl FnMut(NoteEvent) + '_ {
    move |event| heard.push(Heard { at: clock, event })
}

/// Checks that every note-on has one note-off after it, none twice, and
/// that nothing is left sounding.
pub fn assert_paired(heard: &[Heard]) {
    let check = VoiceCheck::of(heard.iter().map(|h| match h.event {
        NoteEvent::On { channel, key, .. } => (channel, key, true),
        NoteEvent::Off { channel, key, .. } => (channel, key, false),
    }));
    let at = |faults: &[(usize, (u8, u8))]| -> Vec<(u64, (u8, u8))> {
        faults
            .iter()
            .map(|&(i, voice)| (heard[i].at, voice))
            .collect()
    };
    assert_eq!(
        at(&check.struck_twice),
        vec![],
        "struck twice without release"
    );
    assert_eq!(
        at(&check.released_silent),
        vec![],
        "note-off without note-on"
    );
    assert_eq!(check.sounding, vec![], "left sounding");
}

/// The grid's settings (tests of the model's rhythm set `feel` to Model).
pub fn settings(mode: Mode, division: Division) -> PerformerSettings {
    PerformerSettings {
        mode,
        division,
        feel: Feel::Grid,
        gate: 0.5,
        velocity: Velocity::Fixed(90),
        ..PerformerSettings::default()
    }
}
