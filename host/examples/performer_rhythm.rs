//! The performer's rhythm against `pianola generate`'s, on the same
//! openings: each held-out song's first 100 events are played into a
//! [`Performer`] (*respond* while they are played, *continue* from the
//! last one, *Feel* = Model, 120 BPM, 48 kHz, blocks of 512), and the 500
//! events it plays after them are read back from its notes; the same
//! opening is continued by [`continue_events`] with the same seed and
//! the same sampling settings. Both are
//! measured as one note output shows them ([`as_one_stream`]) against the
//! held-out songs, with [`pianola_core::figures`].
//!
//! In process, without a plugin host or real time: the worker is polled
//! after every block, so an event comes late only if it was due before the
//! worker could know it (the live examples measure the rest). Each seed
//! prints one line for the performer and one for `generate`, then the
//! means over the seeds and the late events counted.
//!
//! `cargo run --release -p pianola-host --example performer_rhythm -- [--seeds 3] [--model FILE]`

use std::collections::HashSet;
use std::sync::Arc;

use pianola_core::corpus::{Corpus, default_corpus_dir};
use pianola_core::event::Event;
use pianola_core::figures::{
    self, as_one_stream, events_of_notes, jensen_shannon, notes_of_events, pool,
};
use pianola_core::perform::{Mode, NoteEvent, Performer, PerformerSettings, Transport};
use pianola_core::sample::{Rhythm, continue_events};
use pianola_core::{Network, Predictor, Sampler, SamplerSettings};
use pianola_host::generate::load_model;

const PRIMER: usize = 100;
const EVENTS: usize = 500;
const FRAMES: u32 = 512;
const RATE: f64 = 48_000.0;
const SAMPLES_PER_BEAT: f64 = 24_000.0;

/// The player's notes of `events` as (sample, note event), the first at
/// sample `FRAMES`.
fn player_notes(events: &[Event]) -> Vec<(u64, NoteEvent)> {
    let mut notes = Vec::new();
    for (on, off, key, velocity) in notes_of_events(events, u64::from(FRAMES), SAMPLES_PER_BEAT) {
        let (offset, channel) = (0, 0);
        notes.push((
            on,
            NoteEvent::On {
                offset,
                channel,
                key,
                velocity,
            },
        ));
        notes.push((
            off,
            NoteEvent::Off {
                offset,
                channel,
                key,
                velocity: 0,
            },
        ));
    }
    // Offs before ons at one sample: a key struck again sounds again.
    notes.sort_by_key(|(at, note)| (*at, matches!(note, NoteEvent::On { .. })));
    notes
}

/// What the performer plays after `opening` (the events, and how many it
/// counted late).
fn perform(network: Arc<Network>, opening: &[Event], seed: u64) -> (Vec<Event>, u64) {
    let settings = PerformerSettings {
        mode: Mode::Respond,
        ..PerformerSettings::default()
    };
    let (mut performer, mut worker) = Performer::new(network, settings, seed);
    let player = player_notes(opening);
    let last_onset = player
        .iter()
        .filter(|(_, note)| matches!(note, NoteEvent::On { .. }))
        .map(|(at, _)| *at)
        .max()
        .expect("an opening");
    let opening_end = player.last().map_or(0, |(at, _)| *at);
    let end = opening_end + (4.0 * EVENTS as f64 * SAMPLES_PER_BEAT) as u64;
    let (mut clock, mut next) = (0u64, 0);
    let mut block = Vec::new();
    let mut heard: Vec<(u64, NoteEvent)> = Vec::new();
    while clock < end {
        let block_end = clock + u64::from(FRAMES);
        block.clear();
        while next < player.len() && player[next].0 < block_end {
            block.push(player[next].1.at((player[next].0 - clock) as u32));
            next += 1;
        }
        // *continue* from the block that holds the opening's last event.
        if performer.settings().mode == Mode::Respond && last_onset < block_end {
            let continuing = PerformerSettings {
                mode: Mode::Continue,
                ..*performer.settings()
            };
            performer.set_settings(continuing, &mut |_| {});
        }
        let transport = Transport {
            sample_rate: RATE,
            tempo: Some(120.0),
            playing: true,
            position_beats: Some(clock as f64 / SAMPLES_PER_BEAT),
            position_samples: Some(clock as i64),
        };
        performer.process(&transport, FRAMES, &block, &mut |note| {
            let offset = match note {
                NoteEvent::On { offset, .. } | NoteEvent::Off { offset, .. } => offset,
            };
            heard.push((clock + u64::from(offset), note));
        });
        worker.poll_all();
        clock = block_end;
    }
    // Note-ons paired with their note-offs, after the opening.
    let mut open: Vec<(u8, u64)> = Vec::new();
    let mut notes = Vec::new();
    for (at, note) in heard {
        match note {
            NoteEvent::On { key, .. } => open.push((key, at)),
            NoteEvent::Off { key, .. } => {
                if let Some(i) = open.iter().position(|&(k, _)| k == key) {
                    let (_, on) = open.remove(i);
                    notes.push((on, at, key));
                }
            }
        }
    }
    notes.retain(|&(on, _, _)| on > opening_end);
    notes.sort_unstable();
    let mut events = events_of_notes(&notes, SAMPLES_PER_BEAT);
    events.truncate(EVENTS);
    (events, performer.late_steps())
}

fn main() {
    let mut args = std::env::args().skip(1);
    let (mut seeds, mut model_path) = (3u64, None);
    while let Some(arg) = args.next() {
        match arg.as_str() {
            "--seeds" => seeds = args.next().and_then(|n| n.parse().ok()).expect("a number"),
            "--model" => model_path = Some(args.next().expect("--model FILE")),
            other => panic!("unknown argument {other}"),
        }
    }
    let model = load_model(model_path.as_deref().map(std::path::Path::new)).expect("a model");
    let corpus = Corpus::read_dir(&default_corpus_dir().expect("a corpus")).expect("the corpus");
    let held_out = figures::held_out_songs(&corpus, &model, PRIMER);
    let reference = figures::one_stream_reference(&held_out);
    let network = Arc::new(Network::new(&model).expect("the built-in network"));
    let mut predictor = Predictor::new(network.clone());

    println!("seed | {}", figures::TABLE_HEADER);
    let (mut live_js, mut offline_js, mut late) = ([0.0; 2], [0.0; 2], 0);
    for seed in 0..seeds {
        let late_before = late;
        let (mut live, mut offline) = (Vec::new(), Vec::new());
        for song in &held_out {
            let opening = &song.events[..PRIMER];
            let (events, counted) = perform(network.clone(), opening, seed);
            late += counted;
            live.push(figures::figures(&events, &HashSet::new()));

            let mut sampler = Sampler::new(SamplerSettings::default(), &model.vocab, seed);
            let generated = continue_events(
                &mut predictor,
                &mut sampler,
                opening,
                2 * EVENTS,
                Rhythm::Model,
            );
            let mut stream = as_one_stream(&generated);
            stream.truncate(EVENTS);
            offline.push(figures::figures(&stream, &HashSet::new()));
        }
        for (name, pieces, sums) in [
            ("performer", &live, &mut live_js),
            ("generate", &offline, &mut offline_js),
        ] {
            let pooled = pool(pieces);
            sums[0] += jensen_shannon(&pooled.when, &reference.when);
            sums[1] += jensen_shannon(&pooled.hold, &reference.hold);
            println!("{seed:>4} {name:>9} | {}", pooled.row(&reference));
        }
        println!("     late events: {}", late - late_before);
    }
    let n = seeds.max(1) as f64;
    println!(
        "mean over {seeds} seeds, JS when and hold (bits): performer {:.3} {:.3}, generate {:.3} {:.3}; late events {late}",
        live_js[0] / n,
        live_js[1] / n,
        offline_js[0] / n,
        offline_js[1] / n,
    );
}
