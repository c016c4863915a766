//! The performer under a simulated host clock, with a synchronous worker.

use std::sync::Arc;

use pianola_core::alloc_counter::{AllocCounter, allocations_in};
use pianola_core::model::{Arch, ModelConfig, Params};
use pianola_core::perform::{
    AnswerLength, Division, Feel, Mode, Named, NoteEvent, Performer, PerformerSettings, Transport,
    Velocity, Worker,
};
use pianola_core::voices::VoiceCheck;
use pianola_core::weights::{ModelFile, ModelInfo};
use pianola_core::{Network, PitchClassSet, Token, Vocab};
use proptest::prelude::*;

// The real-time calls must not allocate.
#[global_allocator]
static ALLOCATOR: AllocCounter = AllocCounter;

fn network(seed: usize) -> Arc<Network> {
    network_of(Arch::Pianola, seed)
}

/// A test network of `arch` (the token network, or the event network).
fn network_of(arch: Arch, seed: usize) -> Arc<Network> {
    let notes = (36..=96).map(Token::Note);
    let chords = [0b1001_0001u16, 0b0010_0010_0001, 0b1000_1001_0000]
        .into_iter()
        .map(|m| Token::Chord(PitchClassSet::from_mask(m).unwrap()));
    let vocab = Vocab::from_tokens(notes.chain(chords));
    let config = ModelConfig {
        arch,
        vocab_size: vocab.len(),
        embed: 8,
        hidden: 16,
        layers: 2,
        dense: 8,
        window: 16,
    };
    let mut params = Params::zeros(config);
    for (t, values) in params.tensors.iter_mut().enumerate() {
        for (i, v) in values.iter_mut().enumerate() {
            *v = (((t * 31 + i * 7919 + seed * 104_729) % 1999) as f32 / 999.5 - 1.0) * 0.8;
        }
    }
    let file = ModelFile {
        vocab,
        params,
        info: ModelInfo::default(),
    };
    Arc::new(Network::new(&file).unwrap())
}

/// An output note event at an absolute sample.
#[derive(Clone, Copy, Debug, PartialEq)]
struct Heard {
    at: u64,
    event: NoteEvent,
}

/// A host: a transport clock with a tempo map, blocks of given sizes.
struct Host {
    performer: Performer,
    worker: Worker,
    sample_rate: f64,
    tempo: f64,
    playing: bool,
    /// Beat position at `clock`.
    beat: f64,
    clock: u64,
    heard: Vec<Heard>,
    /// The worker is not polled (a busy machine).
    worker_paused: bool,
    /// How the host reports its position.
    report: Report,
}

/// How a [`Host`] reports its beat position.
#[derive(Clone, Copy, Debug, PartialEq)]
enum Report {
    /// The exact beat.
    Exact,
    /// Rounded to whole ticks of 1/1920 beat, as JACK does.
    Ticks,
    /// None, while the transport rolls.
    Nothing,
}

impl Host {
    fn new(settings: PerformerSettings, sample_rate: f64, tempo: f64) -> Self {
        Self::with_network(network(0), settings, sample_rate, tempo)
    }

    fn with_network(
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

    fn samples_per_beat(&self) -> f64 {
        pianola_core::tempo::samples_per_beat(self.sample_rate, self.tempo)
    }

    /// One block, with player events at offsets; returns nothing, records
    /// what was heard. Checks that `process` allocates nothing.
    fn block(&mut self, frames: u32, input: &[NoteEvent]) {
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
    fn run(&mut self, samples: u64, size: u32) {
        let mut left = samples;
        while left > 0 {
            let frames = left.min(u64::from(size)) as u32;
            self.block(frames, &[]);
            left -= u64::from(frames);
        }
    }

    /// The player strikes `keys` together now (first sample of a block).
    fn strike(&mut self, keys: &[u8], size: u32) {
        let input: Vec<NoteEvent> = keys
            .iter()
            .map(|&key| NoteEvent::On {
                offset: 0,
                channel: 0,
                key,
                velocity: 100,
            })
            .collect();
        self.block(size.min(64), &input);
        let release: Vec<NoteEvent> = keys
            .iter()
            .map(|&key| NoteEvent::Off {
                offset: 0,
                channel: 0,
                key,
                velocity: 0,
            })
            .collect();
        self.block(size.min(64), &release);
    }

    fn note_ons(&self) -> Vec<u64> {
        self.heard
            .iter()
            .filter(|h| matches!(h.event, NoteEvent::On { .. }))
            .map(|h| h.at)
            .collect()
    }
}

/// Checks that every note-on has one note-off after it, none twice, and
/// that nothing is left sounding.
fn assert_paired(heard: &[Heard]) {
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
fn settings(mode: Mode, division: Division) -> PerformerSettings {
    PerformerSettings {
        mode,
        division,
        feel: Feel::Grid,
        gate: 0.5,
        velocity: Velocity::Fixed(90),
        ..PerformerSettings::default()
    }
}

#[test]
fn note_ons_land_on_the_grid_for_every_block_size_rate_and_tempo() {
    for size in [1u32, 7, 64, 512, 4096] {
        for sample_rate in [44_100.0, 48_000.0, 96_000.0] {
            for tempo in [60.0, 137.0, 240.0] {
                let division = Division::Sixteenth;
                let mut host = Host::new(settings(Mode::Continue, division), sample_rate, tempo);
                // Start mid-beat, so the grid must follow the host's position.
                host.beat = 3.3;
                host.strike(&[60, 64, 67], size);
                let beats = if size == 1 { 2.0 } else { 6.0 };
                // A tempo map: positions advance at the block's tempo.
                let mut expected = Vec::new();
                let mut left = (beats * host.samples_per_beat()) as u64;
                let mut changed = false;
                while left > 0 {
                    if !changed && left < (beats * host.samples_per_beat() / 2.0) as u64 {
                        host.tempo *= 1.25; // a tempo change mid-phrase
                        changed = true;
                    }
                    let frames = left.min(u64::from(size)) as u32;
                    // The grid steps inside this block, in absolute samples.
                    let step = division.beats();
                    let spb = host.samples_per_beat();
                    let mut k = (host.beat / step - 1e-12).ceil();
                    while k * step < host.beat + f64::from(frames) / spb {
                        expected.push(host.clock as f64 + (k * step - host.beat) * spb);
                        k += 1.0;
                    }
                    host.block(frames, &[]);
                    left -= u64::from(frames);
                }
                let ons = host.note_ons();
                assert!(
                    ons.len() >= 8,
                    "{size} {sample_rate} {tempo}: only {} notes: {ons:?}, late {}",
                    ons.len(),
                    host.performer.late_steps()
                );
                for on in ons {
                    let nearest = expected
                        .iter()
                        .map(|e| (e - on as f64).abs())
                        .fold(f64::INFINITY, f64::min);
                    assert!(
                        nearest <= 1.0,
                        "{size} {sample_rate} {tempo}: note-on at {on} is {nearest} samples off the grid"
                    );
                }
                // Note-offs at gate end: half a step after their note-on.
                // Note-offs at gate end: half a step (at the tempo of the
                // note-on, before or after the change) after their note-on.
                let gate_at =
                    |bpm: f64| 0.5 * 0.25 * pianola_core::tempo::samples_per_beat(sample_rate, bpm);
                for h in &host.heard {
                    if let NoteEvent::Off { key, .. } = h.event {
                        let on = host
                            .heard
                            .iter()
                            .rev()
                            .find(|o| {
                                o.at <= h.at
                                    && matches!(o.event, NoteEvent::On { key: k, .. } if k == key)
                            })
                            .unwrap();
                        let length = (h.at - on.at) as f64;
                        let fits = [tempo, tempo * 1.25]
                            .iter()
                            .any(|&bpm| (length - gate_at(bpm)).abs() <= 1.0);
                        assert!(
                            fits,
                            "{size} {sample_rate} {tempo}: a note of {length} samples"
                        );
                    }
                }
                host.performer.all_notes_off(0, &mut |_| {});
            }
        }
    }
}

#[test]
fn the_model_feel_plays_the_predicted_times_and_holds_sample_accurately() {
    for (rate, size) in [
        (48_000.0, 64),
        (44_100.0, 512),
        (96_000.0, 4096),
        (48_000.0, 1),
    ] {
        let mut s = settings(Mode::Continue, Division::Eighth);
        s.feel = Feel::Model;
        let mut host = Host::with_network(network_of(Arch::Events, 3), s, rate, 100.0);
        host.strike(&[60, 64], 64);
        let player_onset = 0u64;
        host.run((rate * 12.0) as u64, size);
        let twelfth = host.samples_per_beat() / 12.0;
        let on_grid = |samples: u64| {
            let twelfths = samples as f64 / twelfth;
            (twelfths - twelfths.round()).abs() * twelfth <= 1.0
        };
        // Lengths are rounded once each: within a sample of a whole number
        // of twelfths. Onsets too, counted from the player's: the gaps do
        // not gather rounding errors.
        // Every onset lies a whole number of twelfths of a beat from the
        // player's (each `when` counts from the onset before it), every note
        // lasts a whole number of twelfths.
        let mut onsets = Vec::new();
        let mut started = std::collections::HashMap::new();
        let mut lengths = Vec::new();
        for h in &host.heard {
            match h.event {
                NoteEvent::On { key, .. } => {
                    onsets.push(h.at);
                    started.insert(key, h.at);
                }
                NoteEvent::Off { key, .. } => {
                    if let Some(start) = started.remove(&key) {
                        lengths.push(h.at - start);
                    }
                }
            }
        }
        assert!(
            onsets.len() >= 4,
            "{rate} Hz, blocks of {size}: {} notes",
            onsets.len()
        );
        for &at in &onsets {
            assert!(on_grid(at - player_onset), "{rate} Hz, {size}: onset {at}");
        }
        for &length in &lengths {
            assert!(
                length > 0 && on_grid(length),
                "{rate} Hz, {size}: length {length}"
            );
        }
        assert_eq!(host.performer.late_steps(), 0, "{rate} Hz, {size}");
        // The holds and gaps vary: the model's rhythm, not a grid.
        let mut distinct: Vec<u64> = onsets.windows(2).map(|w| w[1] - w[0]).collect();
        distinct.sort_unstable();
        distinct.dedup();
        assert!(distinct.len() >= 2, "{rate} Hz, {size}: one gap only");
        host.performer
            .all_notes_off(0, &mut |e| host.heard.push(Heard { at: 0, event: e }));
        assert_paired(&host.heard);
    }
}

/// A host playing a test event network in *Model* feel, *continue*, at
/// 120 BPM: two beats after the player's first note.
fn playing_in_model_feel(seed: usize) -> Host {
    let mut s = settings(Mode::Continue, Division::Eighth);
    s.feel = Feel::Model;
    let mut host = Host::with_network(network_of(Arch::Events, seed), s, 48_000.0, 120.0);
    host.strike(&[60], 64);
    host.run(24_000 * 2, 64);
    host
}

/// The (sample, key) of every note-on heard since the first `before`.
fn note_ons_since(host: &Host, before: usize) -> Vec<(u64, u8)> {
    host.heard[before..]
        .iter()
        .filter_map(|h| match h.event {
            NoteEvent::On { key, .. } => Some((h.at, key)),
            _ => None,
        })
        .collect()
}

#[test]
fn a_player_note_inside_the_commit_horizon_never_cancels_the_committed_event() {
    let mut committed_checked = 0;
    for seed in 0..6 {
        let mut host = playing_in_model_feel(seed);
        // Find a planned event far enough ahead for a player's note to come
        // before it and inside the horizon: 1/16 beat before it.
        let spb = host.samples_per_beat();
        let mut found = None;
        for _ in 0..400 {
            host.block(64, &[]);
            if let Some(next) = host.performer.plan().next()
                && next.beats_ahead > 0.1
            {
                assert!(!next.committed, "beyond the horizon");
                let due = host.clock + (next.beats_ahead * spb).round() as u64;
                found = Some((next.event, due));
                break;
            }
        }
        let Some((event, due)) = found else { continue };
        let before = host.heard.len();
        strike_before(&mut host, due, false);
        // The plan shows it first and committed until it plays, before the
        // player's note is gathered (inside the horizon) and after (kept);
        // once the worker has heard the player's note, it shows what comes
        // after the committed event too.
        let mut then = None;
        while host.clock + 64 < due {
            host.block(64, &[]);
            let mut plan = host.performer.plan();
            let next = plan.next();
            assert!(
                next.is_some_and(|next| next.committed && next.event == event),
                "seed {seed}: at {} the plan shows {next:?}, not {event} committed",
                host.clock
            );
            then = plan
                .next()
                .map(|p| (p.event, host.clock + (p.beats_ahead * spb).round() as u64));
        }
        let (then, then_due) = then.expect("the plan reaches past the committed event");
        host.run(then_due + 64 - host.clock, 64);
        let keys = note_ons_since(&host, before);
        for key in event.pitches().iter() {
            assert!(
                keys.iter()
                    .any(|&(at, k)| k == key && at.abs_diff(due) <= 1),
                "seed {seed}: the committed {key} at {due} did not play: {keys:?}"
            );
        }
        // What the plan showed after it plays when the plan said, on time.
        for key in then.pitches().iter() {
            assert!(
                keys.iter()
                    .any(|&(at, k)| k == key && at.abs_diff(then_due) <= 1),
                "seed {seed}: {then} planned at {then_due} did not play: {keys:?}"
            );
        }
        assert_eq!(host.performer.late_steps(), 0, "seed {seed}");
        committed_checked += 1;
        host.performer
            .all_notes_off(0, &mut |e| host.heard.push(Heard { at: 0, event: e }));
        assert_paired(&host.heard);
    }
    assert!(committed_checked >= 3, "{committed_checked} cases checked");
}

/// Plays blocks until the plan shows an event at least 0.1 beat ahead and
/// one after it at least `gap` beats later; returns both and the samples
/// they are due at.
fn next_two_planned(
    host: &mut Host,
    gap: f64,
) -> Option<(
    pianola_core::event::Event,
    u64,
    pianola_core::event::Event,
    u64,
)> {
    let spb = host.samples_per_beat();
    for _ in 0..400 {
        host.block(64, &[]);
        let mut plan = host.performer.plan();
        if let (Some(first), Some(second)) = (plan.next(), plan.next())
            && first.beats_ahead > 0.1
            && second.beats_ahead >= first.beats_ahead + gap
        {
            let due = |beats: f64| host.clock + (beats * spb).round() as u64;
            return Some((
                first.event,
                due(first.beats_ahead),
                second.event,
                due(second.beats_ahead),
            ));
        }
    }
    None
}

/// Runs until 1/16 beat before `due`, then the player strikes a key; with
/// `pause_worker`, the worker is paused from then on.
fn strike_before(host: &mut Host, due: u64, pause_worker: bool) {
    let spb = host.samples_per_beat();
    host.run(due - (spb / 16.0) as u64 - host.clock, 64);
    host.worker_paused = pause_worker;
    host.block(
        64,
        &[NoteEvent::On {
            offset: 0,
            channel: 0,
            key: 50,
            velocity: 90,
        }],
    );
}

#[test]
fn the_event_after_the_committed_one_plays_on_time_when_the_worker_is_slow() {
    let mut checked = 0;
    for seed in 0..12 {
        let mut host = playing_in_model_feel(seed);
        let spb = host.samples_per_beat();
        // A planned event far enough ahead for a note 1/16 beat before it,
        // and the one after it.
        let Some((event, due, after, after_due)) = next_two_planned(&mut host, 0.0) else {
            continue;
        };
        let before = host.heard.len();
        // The worker hears nothing from the player's note until both are due.
        strike_before(&mut host, due, true);
        host.run(after_due + 64 - host.clock, 64);
        // Both played at their time (what came after them could not be
        // ready: the worker heard nothing).
        assert_eq!(host.performer.late_steps(), 0, "seed {seed}");
        host.worker_paused = false;
        host.run(spb as u64, 64);
        let keys = note_ons_since(&host, before);
        for (planned, at) in [(event, due), (after, after_due)] {
            for key in planned.pitches().iter() {
                assert!(
                    keys.iter().any(|&(t, k)| k == key && t.abs_diff(at) <= 1),
                    "seed {seed}: {planned} due at {at} did not play on time: {keys:?}"
                );
            }
        }
        checked += 1;
        host.performer
            .all_notes_off(0, &mut |e| host.heard.push(Heard { at: 0, event: e }));
        assert_paired(&host.heard);
    }
    assert!(checked >= 3, "{checked} cases checked");
}

#[test]
fn a_fresh_prediction_too_late_for_its_time_gives_way_to_the_stand_in() {
    let mut checked = 0;
    for seed in 0..24 {
        let mut host = playing_in_model_feel(seed);
        // A planned event, and one at least 1/12 beat after it.
        let Some((_, due, _, after_due)) = next_two_planned(&mut host, 1.0 / 12.0) else {
            continue;
        };
        // The worker hears the player's note only just before the event
        // after the committed one is due: what it then predicts after the
        // committed one may be due already.
        strike_before(&mut host, due, true);
        host.run(after_due - 128 - host.clock, 64);
        host.worker_paused = false;
        host.run(after_due + 64 - host.clock, 64);
        assert_eq!(host.performer.late_steps(), 0, "seed {seed}");
        checked += 1;
    }
    assert!(checked >= 6, "{checked} cases checked");
}

#[test]
fn continue_plays_every_step_after_the_first_token() {
    let mut host = Host::new(settings(Mode::Continue, Division::Eighth), 48_000.0, 120.0);
    host.run(48_000, 256);
    assert!(host.heard.is_empty(), "played before the player");
    host.strike(&[62], 256);
    host.run(48_000 * 2, 256); // 2 s = 4 beats = 8 eighths
    let ons = host.note_ons();
    let steps: std::collections::BTreeSet<u64> = ons.iter().copied().collect();
    assert!(
        (7..=9).contains(&steps.len()),
        "{} steps played",
        steps.len()
    );
    assert_eq!(host.performer.late_steps(), 0);
    // Stopping the transport ends the notes and the playing.
    host.playing = false;
    host.block(256, &[]);
    let before = host.note_ons().len();
    host.run(48_000, 256);
    assert_eq!(host.note_ons().len(), before, "kept playing after stop");
    assert_paired(&host.heard);
}

#[test]
fn echo_answers_each_token_once_on_the_next_step() {
    let mut host = Host::new(settings(Mode::Echo, Division::Quarter), 48_000.0, 120.0);
    host.strike(&[60], 128);
    host.run(24_000 * 3, 128); // 3 beats
    host.strike(&[64, 67], 128); // a chord: one token
    host.run(24_000 * 3, 128);
    let steps: std::collections::BTreeSet<u64> = host.note_ons().into_iter().collect();
    assert_eq!(steps.len(), 2, "answers at {steps:?}");
    // The first answer comes on the first beat after the note (beat 1).
    assert_eq!(*steps.iter().next().unwrap(), 24_000);
    assert_paired(&host.heard);
}

#[test]
fn respond_answers_after_the_silence_and_stops_when_interrupted() {
    let mut s = settings(Mode::Respond, Division::Eighth);
    s.silence_beats = 1.0;
    s.answer_length = AnswerLength::Steps(4);
    let mut host = Host::new(s, 48_000.0, 120.0);
    for key in [60, 62, 64] {
        host.strike(&[key], 128);
        host.run(6_000, 128); // a quarter of a beat apart
    }
    let call_end = host.clock;
    host.run(24_000 * 4, 128); // 4 beats: silence, answer, silence
    let ons = host.note_ons();
    let steps: std::collections::BTreeSet<u64> = ons.iter().copied().collect();
    assert_eq!(steps.len(), 4, "answer steps {steps:?}");
    assert!(
        *steps.iter().next().unwrap() >= call_end + 24_000 - 12_000,
        "answered too early"
    );
    assert_paired(&host.heard);

    // A new call, and a note during the answer ends it at once.
    host.heard.clear();
    host.strike(&[65], 128);
    host.run(24_000 + 12_000 + 6_000, 128); // into the answer
    let playing = host.note_ons().len();
    assert!(playing >= 1, "no answer started");
    host.strike(&[67], 64);
    assert!(!host.performer.is_sounding() || host.note_ons().len() == playing);
    host.run(6_000, 64);
    assert_eq!(
        host.note_ons().len(),
        playing,
        "answer went on after the interruption"
    );
    host.run(24_000 * 4, 128);
    host.performer
        .all_notes_off(0, &mut |e| host.heard.push(Heard { at: 0, event: e }));
    assert_paired(&host.heard);
}

#[test]
fn the_same_input_gives_the_same_output() {
    let play = || {
        let mut host = Host::new(
            settings(Mode::Continue, Division::Sixteenth),
            44_100.0,
            133.0,
        );
        host.strike(&[60, 63], 100);
        host.run(44_100 * 3, 100);
        host.strike(&[70], 100);
        host.run(44_100 * 3, 100);
        host.heard
    };
    let a = play();
    assert!(a.len() > 20);
    assert_eq!(a, play());
}

#[test]
fn a_model_swap_ends_notes_in_flight_and_keeps_playing() {
    let mut s = settings(Mode::Continue, Division::Quarter);
    s.gate = 1.0;
    let mut host = Host::new(s, 48_000.0, 120.0);
    host.strike(&[60], 64);
    host.run(24_000 * 2 + 1_000, 64); // a note is sounding
    assert!(host.performer.is_sounding());
    // To the event network: it reads the window's events (with the
    // player's and the performer's real timing) and plays on.
    assert!(
        host.worker
            .control()
            .swap_network(network_of(Arch::Events, 1))
    );
    host.worker.poll_all();
    host.block(64, &[]);
    assert!(
        !host.performer.is_sounding(),
        "notes in flight survived the swap"
    );
    let before = host.note_ons().len();
    host.run(24_000 * 3, 64);
    assert!(
        host.note_ons().len() >= before + 2,
        "stopped playing after the swap"
    );
    // A player's note in the event network's window, then on.
    host.strike(&[64, 67], 64);
    let before = host.note_ons().len();
    host.run(24_000 * 3, 64);
    assert!(
        host.note_ons().len() >= before + 2,
        "stopped after the player"
    );
    assert_eq!(host.performer.late_steps(), 0);
    host.performer
        .all_notes_off(0, &mut |e| host.heard.push(Heard { at: 0, event: e }));
    assert_paired(&host.heard);
}

#[test]
fn thru_passes_the_player_and_all_notes_off_ends_held_notes() {
    let mut s = settings(Mode::Echo, Division::Eighth);
    s.thru = true;
    let mut host = Host::new(s, 48_000.0, 120.0);
    let on = NoteEvent::On {
        offset: 5,
        channel: 3,
        key: 50,
        velocity: 70,
    };
    host.block(64, &[on]);
    assert_eq!(host.heard[0].event, on);
    host.run(30_000, 64);
    let mut out = Vec::new();
    host.performer.all_notes_off(0, &mut |e| out.push(e));
    assert!(out.contains(&NoteEvent::Off {
        offset: 0,
        channel: 3,
        key: 50,
        velocity: 0,
    }));
    assert!(!host.performer.is_sounding());
}

/// A random action of the player, the host or the user.
#[derive(Clone, Debug)]
enum Action {
    Play { keys: Vec<u8>, at: u32 },
    Release { key: u8, at: u32 },
    Run { samples: u32, size: u32 },
    Stop,
    Start,
    Jump { beat: f64 },
    Tempo { bpm: f64 },
    Mode(u8),
    Division(u8),
    Channel(u8),
    Feel(u8),
    Swap,
    Reset,
}

fn action() -> impl Strategy<Value = Action> {
    prop_oneof![
        (proptest::collection::vec(40u8..90, 1..4), 0u32..64)
            .prop_map(|(keys, at)| Action::Play { keys, at }),
        (40u8..90, 0u32..64).prop_map(|(key, at)| Action::Release { key, at }),
        (1u32..20_000, 1u32..4096).prop_map(|(samples, size)| Action::Run { samples, size }),
        Just(Action::Stop),
        Just(Action::Start),
        (0.0f64..64.0).prop_map(|beat| Action::Jump { beat }),
        (40.0f64..250.0).prop_map(|bpm| Action::Tempo { bpm }),
        (0u8..3).prop_map(Action::Mode),
        (0u8..5).prop_map(Action::Division),
        (0u8..3).prop_map(Action::Channel),
        (0u8..2).prop_map(Action::Feel),
        Just(Action::Swap),
        Just(Action::Reset),
    ]
}

/// Plays `actions` and checks that every note the performer sent is paired
/// and nothing sounds at the end.
fn no_note_left_hanging(actions: Vec<Action>, thru: bool) -> Result<(), TestCaseError> {
    let mut s = settings(Mode::Continue, Division::Sixteenth);
    s.thru = thru;
    let mut host = Host::new(s, 48_000.0, 120.0);
    for action in actions {
        match action {
            Action::Play { keys, at } => {
                let input: Vec<NoteEvent> = keys
                    .iter()
                    .map(|&key| NoteEvent::On {
                        offset: at,
                        channel: 0,
                        key,
                        velocity: 80,
                    })
                    .collect();
                host.block(64, &input);
            }
            Action::Release { key, at } => host.block(
                64,
                &[NoteEvent::Off {
                    offset: at,
                    channel: 0,
                    key,
                    velocity: 0,
                }],
            ),
            Action::Run { samples, size } => host.run(u64::from(samples), size),
            Action::Stop => {
                let was_playing = host.playing;
                host.playing = false;
                host.block(32, &[]);
                // After a stop, the performer's own notes are all ended.
                let mut own = std::collections::HashMap::new();
                for h in &host.heard {
                    if let NoteEvent::On { channel, key, .. } = h.event {
                        *own.entry((channel, key)).or_insert(0) += 1;
                    }
                    if let NoteEvent::Off { channel, key, .. } = h.event {
                        *own.entry((channel, key)).or_insert(0) -= 1;
                    }
                }
                if !thru && was_playing {
                    prop_assert!(
                        own.values().all(|&c| c == 0),
                        "sounding after stop: {:?}",
                        own
                    );
                }
            }
            Action::Start => {
                // The performer sees the transport play in the next block.
                host.playing = true;
                host.block(32, &[]);
            }
            Action::Jump { beat } => host.beat = beat,
            Action::Tempo { bpm } => host.tempo = bpm,
            Action::Mode(m) | Action::Division(m) | Action::Channel(m) | Action::Feel(m) => {
                let mut next = *host.performer.settings();
                match action {
                    Action::Mode(_) => {
                        next.mode = [Mode::Continue, Mode::Respond, Mode::Echo][usize::from(m)]
                    }
                    Action::Division(_) => next.division = Division::ALL[usize::from(m)],
                    Action::Feel(_) => next.feel = Feel::ALL[usize::from(m)],
                    _ => next.channel = m,
                }
                let clock = host.clock;
                let heard = &mut host.heard;
                host.performer
                    .set_settings(next, &mut |event| heard.push(Heard { at: clock, event }));
            }
            Action::Swap => {
                // Token and event networks by turns.
                let arch = [Arch::Pianola, Arch::Events][host.clock as usize % 2];
                host.worker
                    .control()
                    .swap_network(network_of(arch, host.clock as usize % 5));
                host.worker.poll_all();
            }
            Action::Reset => {
                let clock = host.clock;
                let heard = &mut host.heard;
                host.performer
                    .reset(&mut |event| heard.push(Heard { at: clock, event }));
            }
        }
    }
    // Release what the player still holds, then everything off.
    let clock = host.clock;
    let heard = &mut host.heard;
    host.performer
        .all_notes_off(0, &mut |event| heard.push(Heard { at: clock, event }));
    prop_assert!(!host.performer.is_sounding());
    assert_paired(&host.heard);
    Ok(())
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(512))]

    #[test]
    fn no_note_is_left_hanging_whatever_happens(actions in proptest::collection::vec(action(), 1..40), thru in any::<bool>()) {
        no_note_left_hanging(actions, thru)?;
    }
}

/// Found by the property above: with MIDI thru, the performer played a key
/// the player was holding on the same channel, and the voice was struck
/// twice without a release.
#[test]
fn a_thru_note_and_a_performer_note_on_one_key_never_overlap() {
    let actions = vec![
        Action::Play {
            keys: vec![40],
            at: 0,
        },
        Action::Play {
            keys: vec![40],
            at: 0,
        },
        Action::Stop,
        Action::Start,
        Action::Play {
            keys: vec![48],
            at: 0,
        },
        Action::Run {
            samples: 8259,
            size: 146,
        },
        Action::Stop,
        Action::Play {
            keys: vec![50, 49, 70],
            at: 49,
        },
        Action::Swap,
        Action::Division(4),
        Action::Run {
            samples: 14816,
            size: 3610,
        },
        Action::Run {
            samples: 10679,
            size: 581,
        },
    ];
    no_note_left_hanging(actions, true).unwrap();
}

#[test]
fn divisions_and_modes_have_names_that_parse_back() {
    use pianola_core::perform::{Division, Mode};
    for division in Division::ALL {
        assert_eq!(Division::from_name(division.name()), Some(division));
    }
    assert_eq!(
        Division::from_name("1/16T"),
        Some(Division::SixteenthTriplet)
    );
    assert_eq!(Division::from_name("1/3"), None);
    let names: Vec<_> = Mode::ALL.iter().map(|m| m.name()).collect();
    assert_eq!(names, ["continue", "respond", "echo"]);
}

#[test]
fn the_allocation_counter_sees_an_allocation() {
    let (v, allocations) = allocations_in(|| std::hint::black_box(vec![1u8; 16]));
    assert_eq!(v.len(), 16);
    assert!(
        allocations >= 1,
        "the check that process does not allocate can fail"
    );
    let ((), none) = allocations_in(|| ());
    assert_eq!(none, 0);
}

#[test]
fn a_player_note_just_before_a_step_does_not_silence_it() {
    // Sixteenths at 120 BPM: a step every 6,000 samples. The player's note
    // comes 900 samples before each step; its chord is committed 750
    // samples later (1/32 beat), in the same block as the step, so the
    // worker (polled between blocks) cannot have the fresh prediction ready.
    let mut host = Host::new(
        settings(Mode::Continue, Division::Sixteenth),
        48_000.0,
        120.0,
    );
    host.strike(&[60], 64);
    host.run(24_000 - host.clock, 256);
    let before = host.performer.late_steps();
    let steps = 16;
    for step in 0..steps {
        let at = 30_000 + step * 6_000;
        host.run(at - 900 - host.clock, 256);
        let key = 62 + (step % 5) as u8;
        let on = NoteEvent::On {
            offset: 0,
            channel: 0,
            key,
            velocity: 100,
        };
        host.block(1_000, &[on]);
        let off = NoteEvent::Off {
            offset: 0,
            channel: 0,
            key,
            velocity: 0,
        };
        host.block(100, &[off]);
    }
    host.run(1_000, 256);
    let played: Vec<u64> = host
        .note_ons()
        .into_iter()
        .filter(|&at| (30_000..30_000 + steps * 6_000).contains(&at))
        .collect();
    let expected: Vec<u64> = (0..steps).map(|step| 30_000 + step * 6_000).collect();
    let mut onsets = played.clone();
    onsets.dedup();
    assert_eq!(onsets, expected, "every step plays");
    assert_eq!(host.performer.late_steps(), before, "no step was late");
}

#[test]
fn a_thru_note_off_keeps_the_players_release_velocity() {
    let mut host = Host::new(
        PerformerSettings {
            thru: true,
            ..settings(Mode::Respond, Division::Eighth)
        },
        48_000.0,
        120.0,
    );
    let on = NoteEvent::On {
        offset: 3,
        channel: 2,
        key: 61,
        velocity: 100,
    };
    host.block(64, &[on]);
    let off = NoteEvent::Off {
        offset: 5,
        channel: 2,
        key: 61,
        velocity: 37,
    };
    host.block(64, &[off]);
    let offs: Vec<NoteEvent> = host
        .heard
        .iter()
        .map(|h| h.event)
        .filter(|e| matches!(e, NoteEvent::Off { .. }))
        .collect();
    assert_eq!(offs, vec![off], "the release passes through as played");
}

/// Echo at sixteenths, following the player's key, sampling widely (hot,
/// no top-k) so that only the key keeps the answers in it.
fn key_following_echo() -> Host {
    use pianola_core::sample::SamplerSettings;
    Host::new(
        PerformerSettings {
            sampler: SamplerSettings {
                key: pianola_core::key::KeyMode::Follow,
                temperature: 1.5,
                top_k: 0,
                ..SamplerSettings::default()
            },
            ..settings(Mode::Echo, Division::Sixteenth)
        },
        48_000.0,
        120.0,
    )
}

#[test]
fn following_the_key_keeps_to_the_players_key_and_tells_it() {
    use pianola_core::key::Key;
    use pianola_core::key::in_scale;
    let mut host = key_following_echo();
    assert_eq!(host.performer.followed_key(), None);
    // A phrase in D major, a note per beat; echo answers each.
    let phrase = [
        62u8, 66, 69, 74, 73, 71, 69, 67, 66, 64, 62, 69, 74, 66, 62, 57,
    ];
    for key in phrase {
        host.strike(&[key], 64);
        host.run(24_000 - 128, 256);
    }
    let d_major = Key::parse("D major").unwrap();
    assert_eq!(host.performer.followed_key(), Some(d_major));
    // From then on every answer is in D major.
    let start = host.heard.len();
    for key in phrase {
        host.strike(&[key], 64);
        host.run(24_000 - 128, 256);
    }
    let answers: Vec<u8> = host.heard[start..]
        .iter()
        .filter_map(|h| match h.event {
            NoteEvent::On { key, .. } => Some(key),
            NoteEvent::Off { .. } => None,
        })
        .collect();
    assert!(answers.len() >= 12, "{} answers", answers.len());
    for key in answers {
        assert!(
            in_scale(Token::Note(key), d_major.scale()),
            "{key} is in D major"
        );
    }
}

#[test]
fn following_the_key_follows_the_player_into_e_flat_minor_within_a_few_bars() {
    use pianola_core::key::Key;
    use pianola_core::key::in_scale;
    let mut host = key_following_echo();
    // Two bars' phrase in C major, played four times, a note per beat.
    let c_major_phrase = [60u8, 64, 67, 72, 71, 69, 67, 65];
    for _ in 0..4 {
        for key in c_major_phrase {
            host.strike(&[key], 64);
            host.run(24_000 - 128, 256);
        }
    }
    let c_major = Key::parse("C major").unwrap();
    assert_eq!(host.performer.followed_key(), Some(c_major));
    // Then E-flat minor (six flats): the key is followed by the phrase's
    // tenth note (its first F, the note that tells it from A-flat minor),
    // within three bars, and every answer from then on is in it.
    let e_flat_minor = Key::parse("E- minor").unwrap();
    let phrase = [63u8, 66, 70, 75, 73, 71, 70, 68, 66, 65, 63, 58];
    let mut followed_after = None;
    let mut answers = Vec::new();
    for (i, key) in phrase.iter().cycle().take(48).enumerate() {
        let start = host.heard.len();
        host.strike(&[*key], 64);
        host.run(24_000 - 128, 256);
        if followed_after.is_none()
            && host
                .performer
                .followed_key()
                .is_some_and(|k| k.scale() == e_flat_minor.scale())
        {
            followed_after = Some(i + 1);
        } else if followed_after.is_some() {
            answers.extend(host.heard[start..].iter().filter_map(|h| match h.event {
                NoteEvent::On { key, .. } => Some(key),
                _ => None,
            }));
        }
    }
    let followed_after = followed_after.expect("E-flat minor was never followed");
    assert!(
        followed_after <= 10,
        "followed after {followed_after} notes of E-flat minor"
    );
    assert!(answers.len() >= 24, "{} answers", answers.len());
    let outside: Vec<u8> = answers
        .into_iter()
        .filter(|&key| !in_scale(Token::Note(key), e_flat_minor.scale()))
        .collect();
    assert!(
        outside.is_empty(),
        "answers outside E-flat minor: {outside:?}"
    );
}

#[test]
fn the_worker_publishes_the_most_likely_next_tokens() {
    use pianola_core::perform::NextTokens;
    let (mut performer, mut worker) = Performer::new(network(0), PerformerSettings::default(), 3);
    let next = Arc::new(NextTokens::default());
    worker.publish_next_tokens(next.clone());
    assert!(
        next.read().is_empty(),
        "nothing before the window holds a token"
    );
    let transport = Transport {
        sample_rate: 48_000.0,
        tempo: Some(120.0),
        playing: true,
        position_beats: Some(0.0),
        position_samples: None,
    };
    let on = NoteEvent::On {
        offset: 0,
        channel: 0,
        key: 60,
        velocity: 100,
    };
    performer.process(&transport, 2_048, &[on], &mut |_| {});
    worker.poll_all();
    let read = next.read();
    assert_eq!(read.len(), pianola_core::perform::NEXT_TOKENS);
    let total: f32 = read.iter().map(|&(_, p)| p).sum();
    assert!(
        total > 0.0 && total <= 1.0 + 1e-5,
        "probabilities: {read:?}"
    );
    assert!(
        read.windows(2).all(|w| w[0].1 >= w[1].1),
        "most likely first"
    );
}

/// The (onset, key, length) of every note the performer played, in
/// samples (`None`: still sounding); panics on a note-off without its
/// note-on.
fn notes_played(heard: &[Heard]) -> Vec<(u64, u8, Option<u64>)> {
    let mut started = std::collections::HashMap::new();
    let mut notes = Vec::new();
    for h in heard {
        match h.event {
            NoteEvent::On { key, .. } => {
                started.insert(key, h.at);
            }
            NoteEvent::Off { key, .. } => {
                let start = started.remove(&key).expect("a note-off after its note-on");
                notes.push((start, key, Some(h.at - start)));
            }
        }
    }
    notes.extend(started.into_iter().map(|(key, start)| (start, key, None)));
    notes.sort_unstable();
    notes
}

/// Checks that every onset lies on a grid of twelfths of a beat (of
/// `twelfth` samples) counted from sample `zero`, within a sample, that no
/// ended note is shorter than a twelfth, and that no key is struck twice
/// at one instant.
fn assert_on_grid(notes: &[(u64, u8, Option<u64>)], zero: u64, twelfth: f64, what: &str) {
    for &(onset, key, length) in notes {
        let twelfths = (onset - zero) as f64 / twelfth;
        assert!(
            (twelfths - twelfths.round()).abs() * twelfth <= 1.0,
            "{what}: onset {onset} ({twelfths} twelfths, key {key}) off the grid"
        );
        if let Some(length) = length {
            assert!(
                length as f64 >= twelfth - 1.0,
                "{what}: a note of {length} samples at {onset}"
            );
        }
    }
    let mut onsets: Vec<(u64, u8)> = notes.iter().map(|&(at, key, _)| (at, key)).collect();
    let all = onsets.len();
    onsets.dedup();
    assert_eq!(onsets.len(), all, "{what}: a key struck twice at once");
}

#[test]
fn model_feel_plays_on_the_hosts_grid_after_an_off_grid_player_note() {
    for report in [Report::Exact, Report::Ticks] {
        for (rate, tempo, size) in [(48_000.0, 120.0, 64), (44_100.0, 100.0, 500)] {
            let mut s = settings(Mode::Continue, Division::Eighth);
            s.feel = Feel::Model;
            let mut host = Host::with_network(network_of(Arch::Events, 3), s, rate, tempo);
            host.report = report;
            // The player strikes 0.37 of a twelfth after a grid position
            // (the block starts there), and again later elsewhere.
            let twelfth = host.samples_per_beat() / 12.0;
            host.run((twelfth * 24.37) as u64, size);
            host.strike(&[60, 64], 64);
            host.run((twelfth * 100.81) as u64, size);
            host.strike(&[67], 64);
            host.run(host.samples_per_beat() as u64 * 24, size);
            let notes = notes_played(&host.heard);
            assert!(notes.len() >= 8, "{report:?} {rate}: {} notes", notes.len());
            assert_on_grid(&notes, 0, twelfth, &format!("{report:?} {rate} Hz"));
        }
    }
}

#[test]
fn without_a_host_position_model_feel_keeps_its_own_clock_from_the_players_note() {
    let mut s = settings(Mode::Continue, Division::Eighth);
    s.feel = Feel::Model;
    let mut host = Host::with_network(network_of(Arch::Events, 3), s, 48_000.0, 120.0);
    host.report = Report::Nothing;
    host.run(777, 64);
    host.strike(&[60, 64], 64);
    host.run(24_000 * 24, 64);
    let notes = notes_played(&host.heard);
    assert!(notes.len() >= 8, "{} notes", notes.len());
    // The player struck at sample 777 (the block's start): every onset a
    // whole number of twelfths after it.
    assert_on_grid(&notes, 777, 2_000.0, "no position");
}

#[test]
fn a_full_queue_to_the_worker_is_counted_and_healed() {
    let mut host = Host::new(settings(Mode::Continue, Division::Eighth), 48_000.0, 120.0);
    // A stalled worker: the player's events fill its queue and overflow.
    host.worker_paused = true;
    for i in 0..300 {
        host.strike(&[48 + (i % 24) as u8], 64);
        host.run(1_000, 64);
    }
    let dropped = host.performer.dropped_messages();
    assert!(dropped > 0, "the queue overflowed");
    // The worker runs again: the performer plays every step in step.
    host.worker_paused = false;
    host.worker.poll_all();
    host.run(24_000 * 2, 64);
    let before = host.note_ons().len();
    let late = host.performer.late_steps();
    host.run(24_000 * 4, 64);
    assert_eq!(host.note_ons().len() - before, 8, "an eighth on every step");
    assert_eq!(
        host.performer.late_steps(),
        late,
        "no step late once healed"
    );
    assert_eq!(host.performer.dropped_messages(), dropped);
}

#[test]
fn a_seed_replays_the_same_take_after_every_reset() {
    let mut s = settings(Mode::Continue, Division::Sixteenth);
    s.seed = Some(7);
    let mut host = Host::with_network(network_of(Arch::Events, 5), s, 48_000.0, 120.0);
    let take = |host: &mut Host| {
        let start = host.heard.len();
        let clock = host.clock;
        host.strike(&[60, 64, 67], 64);
        host.run(24_000 * 4, 64);
        host.performer.all_notes_off(0, &mut |e| {
            host.heard.push(Heard {
                at: host.clock,
                event: e,
            })
        });
        host.heard[start..]
            .iter()
            .map(|h| (h.at - clock, h.event))
            .collect::<Vec<_>>()
    };
    let first = take(&mut host);
    host.performer.reset(&mut |_| {});
    host.worker.poll_all();
    // The transport stops and starts: the beat line starts again too.
    host.beat = 0.0;
    host.playing = false;
    host.block(64, &[]);
    host.playing = true;
    let second = take(&mut host);
    assert!(first.len() > 20, "{} events", first.len());
    assert_eq!(first, second);
    // Another seed, another take.
    let mut other = Host::with_network(
        network_of(Arch::Events, 5),
        PerformerSettings { seed: Some(8), ..s },
        48_000.0,
        120.0,
    );
    other.performer.reset(&mut |_| {});
    other.worker.poll_all();
    assert_ne!(take(&mut other), first);
}
